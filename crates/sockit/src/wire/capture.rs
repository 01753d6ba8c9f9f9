//! Capturing frames with a raw `AF_PACKET` socket: the course's `SOCK_RAW`, one layer down.
//!
//! A TCP or UDP socket gets only its own payload; the kernel has already stripped the
//! headers. A packet socket (`socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))`) gets whole
//! frames, every header included, of every protocol: which is why it needs root or
//! `CAP_NET_RAW`. A classic BPF program ([`super::filter`]) attached with
//! `SO_ATTACH_FILTER` keeps only the interface and packets asked for, in the kernel.

use std::future::Future;
use std::io::{self, Read as _};
use std::os::fd::AsRawFd as _;
use std::time::{Duration, Instant, SystemTime};

use socket2::{Domain, Protocol, Socket, Type};

use super::decode::{decode, Decoded};
use super::filter::{Filter, SNAPLEN};
use super::track::{Annotation, Tracker};
use crate::event::{Event, Events};

/// `ETH_P_ALL`: every protocol, as the packet socket's protocol (network byte order).
const ETH_P_ALL: u16 = 0x0003;
/// The largest count `--count` accepts.
pub const MAX_COUNT: u64 = 10_000_000;

/// Why a capture could not run.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The process may not open raw sockets.
    #[error("capturing packets needs root or CAP_NET_RAW (a raw AF_PACKET socket): run with sudo, or `sudo setcap cap_net_raw+ep $(which sockit)`")]
    NoPrivilege,
    /// The interface does not exist.
    #[error("no interface named '{0}' (see `sockit ifaces`)")]
    NoInterface(String),
    /// Another system error.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The per-packet consumer failed (stdout, the pcap file).
    #[error("{0}")]
    Output(io::Error),
}

/// What to capture.
#[derive(Debug, Clone)]
pub struct TraceConfig {
    /// The interface (`lo`).
    pub iface: String,
    /// Which packets.
    pub filter: Filter,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// Stop after this long.
    pub timeout: Option<Duration>,
    /// Where `capturing` and `summary` events go.
    pub events: Events,
}

/// One captured frame with its meaning.
#[derive(Debug)]
pub struct Traced<'a> {
    /// Wall-clock time of arrival (what a pcap file records).
    pub time: SystemTime,
    /// Time since the capture started.
    pub since_start: Duration,
    /// The frame's bytes, link header included.
    pub frame: &'a [u8],
    /// The decoded layers.
    pub decoded: Decoded,
    /// What the TCP tracker says about it.
    pub annotation: Annotation,
}

/// How a capture ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSummary {
    /// Packets handed to the consumer.
    pub packets: u64,
    /// Why it stopped: `count`, `timeout` or `interrupted`.
    pub reason: &'static str,
}

/// The interface's index and whether it is a loopback, from sysfs.
pub fn interface_index(name: &str) -> Result<(u32, bool), CaptureError> {
    if name.is_empty() || name.len() > 15 || name.contains('/') || name.starts_with('.') {
        return Err(CaptureError::NoInterface(name.to_string()));
    }
    let dir = std::path::Path::new("/sys/class/net").join(name);
    let read = |f: &str| std::fs::read_to_string(dir.join(f));
    let index = read("ifindex")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .ok_or_else(|| CaptureError::NoInterface(name.to_string()))?;
    let flags = read("flags")
        .ok()
        .and_then(|s| u32::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok())
        .unwrap_or(0);
    Ok((index, flags & libc::IFF_LOOPBACK as u32 != 0))
}

/// Opens a packet socket on `iface` with `filter` attached, drained of anything that
/// arrived before the filter was in place.
pub fn open(iface: &str, filter: &Filter) -> Result<Socket, CaptureError> {
    let (index, loopback) = interface_index(iface)?;
    let sock = Socket::new(
        Domain::PACKET,
        Type::RAW,
        Some(Protocol::from(i32::from(ETH_P_ALL.to_be()))),
    )
    .map_err(|e| match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => CaptureError::NoPrivilege,
        _ => CaptureError::Io(e),
    })?;
    let program = filter.compile(Some(index), loopback);
    sock.attach_filter(&program)?;
    sock.set_nonblocking(true)?;
    // Frames queued between socket() and SO_ATTACH_FILTER passed no filter: drop them.
    let mut scratch = vec![0u8; 2048];
    let mut drained = 0;
    while drained < 100_000 {
        match (&sock).read(&mut scratch) {
            Ok(len) => drained += 1 + usize::from(len > scratch.len()),
            Err(_) => break,
        }
    }
    Ok(sock)
}

/// Captures until `count` packets, `timeout`, or `shutdown`, handing each to `each`.
/// `each` returning an error (stdout closed, disk full) ends the capture with
/// [`CaptureError::Output`].
pub async fn trace<S, F>(
    cfg: &TraceConfig,
    shutdown: S,
    mut each: F,
) -> Result<TraceSummary, CaptureError>
where
    S: Future<Output = ()>,
    F: FnMut(&Traced<'_>) -> io::Result<()>,
{
    let sock = open(&cfg.iface, &cfg.filter)?;
    let fd = super::register(sock)?;
    cfg.events.emit(
        Event::info(
            "capturing",
            format!(
                "capturing on {} ({}), raw AF_PACKET socket fd {}",
                cfg.iface,
                cfg.filter,
                fd.get_ref().as_raw_fd()
            ),
        )
        .with("iface", cfg.iface.as_str())
        .with("filter", cfg.filter.to_string()),
    );
    let start = Instant::now();
    let mut tracker = Tracker::new();
    let mut buf = vec![0u8; SNAPLEN as usize];
    let mut packets = 0u64;
    let limit = cfg.count.map(|c| c.min(MAX_COUNT));
    let deadline = async {
        match cfg.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(shutdown);
    tokio::pin!(deadline);
    let reason = loop {
        if limit.is_some_and(|l| packets >= l) {
            break "count";
        }
        let n = tokio::select! {
            () = &mut shutdown => break "interrupted",
            () = &mut deadline => break "timeout",
            r = fd.readable() => {
                let mut guard = r?;
                match guard.try_io(|s| s.get_ref().read(&mut buf)) {
                    Ok(Ok(n)) => n,
                    Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Ok(Err(e)) => return Err(CaptureError::Io(e)),
                    Err(_would_block) => continue,
                }
            }
        };
        let frame = &buf[..n];
        let since_start = start.elapsed();
        let decoded = decode(frame);
        let annotation = match &decoded {
            Decoded::Ip(p) => tracker.observe(p, since_start),
            _ => Annotation::default(),
        };
        packets += 1;
        each(&Traced {
            time: SystemTime::now(),
            since_start,
            frame,
            decoded,
            annotation,
        })
        .map_err(CaptureError::Output)?;
    };
    let summary = TraceSummary { packets, reason };
    cfg.events.emit(
        Event::info(
            "summary",
            format!(
                "{packets} packet{} captured on {} ({})",
                if packets == 1 { "" } else { "s" },
                cfg.iface,
                match reason {
                    "count" => "count reached",
                    "timeout" => "timeout",
                    _ => "interrupted",
                }
            ),
        )
        .with("packets", packets)
        .with("reason", reason),
    );
    Ok(summary)
}

impl Traced<'_> {
    /// The one-line view: seconds since start, the packet, and the tracker's remarks.
    pub fn line(&self) -> String {
        let t = self.since_start.as_secs_f64();
        let body = match &self.decoded {
            Decoded::Ip(p) => p.line(self.annotation.relative),
            Decoded::NotIp(ty) => format!(
                "non-IP frame, EtherType 0x{ty:04x}, {} bytes",
                self.frame.len()
            ),
            Decoded::Undecodable(why) => {
                format!("undecodable frame ({why}), {} bytes", self.frame.len())
            }
        };
        if self.annotation.notes.is_empty() {
            format!("{t:10.6} {body}")
        } else {
            format!("{t:10.6} {body}  -- {}", self.annotation.notes.join("; "))
        }
    }
}
