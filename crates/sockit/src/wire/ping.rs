//! `ping`: ICMP echo request and reply.
//!
//! ICMP sits beside TCP and UDP on top of IP; it has no ports. An echo request (type 8,
//! ICMPv6 128) carries an identifier, a sequence number and some data; the target's
//! kernel answers with an echo reply (0, ICMPv6 129) carrying them back, and the time
//! between the two is the round trip. Linux lets ordinary users send echoes through an
//! ICMP *datagram* socket (`socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`, allowed by
//! `net.ipv4.ping_group_range`): the kernel picks the identifier and delivers only our
//! replies. Where that is refused, a raw socket (`SOCK_RAW`, root or `CAP_NET_RAW`) does
//! the same by hand: it sees every ICMP packet, IP header included, and must pick out
//! its own replies.

use std::future::Future;
use std::io::{self, Read as _};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// The largest `-c` accepted.
pub const MAX_COUNT: u32 = 100_000;
/// The echo data size (as `ping`'s default 56 bytes).
pub const PAYLOAD: usize = 56;

/// Why ping could not run.
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    /// Neither an ICMP datagram socket nor a raw socket was allowed.
    #[error("sending ICMP needs an ICMP datagram socket (net.ipv4.ping_group_range) or a raw socket (root or CAP_NET_RAW); neither is allowed here")]
    NoPrivilege,
    /// Another system error.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The per-reply consumer failed.
    #[error("{0}")]
    Output(io::Error),
}

/// How to ping.
#[derive(Debug, Clone)]
pub struct PingConfig {
    /// The target.
    pub target: IpAddr,
    /// How many requests.
    pub count: u32,
    /// Time between requests.
    pub interval: Duration,
    /// How long to wait for each reply.
    pub wait: Duration,
}

/// One reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Who answered.
    pub from: IpAddr,
    /// Its sequence number.
    pub seq: u16,
    /// ICMP message size (header plus data).
    pub bytes: usize,
    /// Round-trip time.
    pub rtt: Duration,
}

/// Totals, as ping's last lines.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PingSummary {
    /// Requests sent.
    pub sent: u32,
    /// Replies received.
    pub received: u32,
    /// Fastest, mean and slowest round trip.
    pub rtt: Option<(Duration, Duration, Duration)>,
    /// `dgram` or `raw`: which kind of socket was used.
    pub socket_kind: &'static str,
}

impl PingSummary {
    /// Lost requests, in percent.
    pub fn loss_percent(&self) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            100.0 * f64::from(self.sent - self.received.min(self.sent)) / f64::from(self.sent)
        }
    }
}

/// The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit words.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in data.chunks(2) {
        let w = u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]);
        sum = sum.wrapping_add(u32::from(w));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn open(target: IpAddr) -> Result<(Socket, &'static str), PingError> {
    let (domain, proto) = match target {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
    };
    match Socket::new(domain, Type::DGRAM, Some(proto)) {
        Ok(s) => return Ok((s, "dgram")),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM)) => {}
        Err(e) => return Err(e.into()),
    }
    match Socket::new(domain, Type::RAW, Some(proto)) {
        Ok(s) => Ok((s, "raw")),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM)) => {
            Err(PingError::NoPrivilege)
        }
        Err(e) => Err(e.into()),
    }
}

/// The echo request: type, code, checksum, identifier, sequence, data.
fn request(v6: bool, id: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend((0..PAYLOAD).map(|i| (i % 256) as u8));
    if !v6 {
        // ICMPv6's checksum covers a pseudo-header: the kernel fills it in.
        let c = checksum(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
    }
    m
}

/// Picks an echo reply out of what a socket returned: `(seq, icmp bytes)` if it is one
/// of ours. A raw IPv4 socket returns the IP header first; a datagram socket and IPv6
/// return the ICMP message alone. Malformed input is ignored.
pub fn parse_reply(buf: &[u8], v6: bool, raw: bool, id: u16) -> Option<(u16, usize)> {
    let icmp = if raw && !v6 {
        let ihl = usize::from(buf.first()? & 0x0f) * 4;
        buf.get(ihl..)?
    } else {
        buf
    };
    if icmp.len() < 8 || icmp[0] != if v6 { 129 } else { 0 } {
        return None;
    }
    let rid = u16::from_be_bytes([icmp[4], icmp[5]]);
    // A datagram socket's identifier is chosen by the kernel, which already matched it.
    if raw && rid != id {
        return None;
    }
    Some((u16::from_be_bytes([icmp[6], icmp[7]]), icmp.len()))
}

/// Sends `count` echo requests, calling `each` for every reply, until done or `shutdown`.
pub async fn ping<S, F>(
    cfg: &PingConfig,
    shutdown: S,
    mut each: F,
) -> Result<PingSummary, PingError>
where
    S: Future<Output = ()>,
    F: FnMut(&Reply) -> io::Result<()>,
{
    let (sock, kind) = open(cfg.target)?;
    sock.set_nonblocking(true)?;
    let v6 = cfg.target.is_ipv6();
    let raw = kind == "raw";
    let id = (std::process::id() & 0xffff) as u16;
    let dest = SockAddr::from(SocketAddr::new(cfg.target, 0));
    let fd = super::register(sock)?;
    let mut summary = PingSummary {
        socket_kind: kind,
        ..PingSummary::default()
    };
    let mut rtts: Vec<Duration> = Vec::new();
    let mut buf = vec![0u8; 65_536];
    tokio::pin!(shutdown);
    let count = cfg.count.clamp(1, MAX_COUNT);
    'outer: for i in 0..count {
        let seq = (i % 65_536) as u16;
        let sent_at = Instant::now();
        fd.get_ref().send_to(&request(v6, id, seq), &dest)?;
        summary.sent += 1;
        let deadline = tokio::time::Instant::from_std(sent_at + cfg.wait);
        loop {
            let n = tokio::select! {
                () = &mut shutdown => break 'outer,
                () = tokio::time::sleep_until(deadline) => break,
                r = fd.readable() => {
                    let mut g = r?;
                    match g.try_io(|s| s.get_ref().read(&mut buf)) {
                        Ok(Ok(n)) => n,
                        Ok(Err(e)) => return Err(e.into()),
                        Err(_) => continue,
                    }
                }
            };
            if let Some((rseq, bytes)) = parse_reply(&buf[..n], v6, raw, id) {
                if rseq == seq {
                    let rtt = sent_at.elapsed();
                    summary.received += 1;
                    rtts.push(rtt);
                    each(&Reply {
                        from: cfg.target,
                        seq,
                        bytes,
                        rtt,
                    })
                    .map_err(PingError::Output)?;
                    break;
                }
            }
        }
        if i + 1 < count {
            let next = tokio::time::Instant::from_std(sent_at + cfg.interval);
            tokio::select! {
                () = &mut shutdown => break 'outer,
                () = tokio::time::sleep_until(next) => {}
            }
        }
    }
    if let (Some(min), Some(max)) = (rtts.iter().min(), rtts.iter().max()) {
        let total: Duration = rtts.iter().sum();
        let avg = total / u32::try_from(rtts.len()).unwrap_or(u32::MAX).max(1);
        summary.rtt = Some((*min, avg, *max));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_a_request_verifies() {
        let m = request(false, 7, 1);
        assert_eq!(checksum(&m), 0);
    }

    #[test]
    fn replies_are_picked_safely() {
        let mut reply = request(false, 7, 3);
        reply[0] = 0;
        assert_eq!(parse_reply(&reply, false, false, 7), Some((3, 64)));
        assert_eq!(parse_reply(&reply[..5], false, false, 7), None);
        assert_eq!(parse_reply(&[], false, true, 7), None);
        assert_eq!(parse_reply(&[0x4f, 1, 2], false, true, 7), None);
        let mut with_ip = vec![0x45; 20];
        with_ip.extend_from_slice(&reply);
        assert_eq!(parse_reply(&with_ip, false, true, 7), Some((3, 64)));
        assert_eq!(parse_reply(&with_ip, false, true, 8), None);
    }
}
