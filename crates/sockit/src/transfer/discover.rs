//! Finding receivers on the LAN by UDP broadcast (docs/protocol.md section 7).
//!
//! A sender does not know the receiver's address; a broadcast datagram reaches every
//! host of the subnet (`SO_BROADCAST`, sent to the subnet's broadcast address such as
//! 192.168.1.255, or 127.255.255.255 on loopback). Each discoverable receiver answers the
//! sender directly (unicast) with its name and TCP port. Two rules keep this from being
//! abused: an answer is never bigger than the query (a spoofed source cannot turn a
//! receiver into an amplifier), and answers are rate-limited per source and in total.
//! Answers are hints: the sender uses only the address, and escapes the name it prints.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use pystruct::{Struct, Typed};
use tokio::net::UdpSocket;

use super::paths::escape;
use super::report::TransferError;
use crate::event::{Event, Events};
use crate::net::socket::{udp_listener, udp_sender};
use crate::net::SocketOptions;

/// Every query is padded to this size; shorter datagrams are ignored.
pub const QUERY_LEN: usize = 128;
/// The longest answer: 26 fixed bytes and a 64-byte name.
pub const ANSWER_MAX: usize = 90;
const NAME_MAX: usize = 64;
const QUERY_MAGIC: [u8; 4] = *b"SKDQ";
const ANSWER_MAGIC: [u8; 4] = *b"SKDA";
/// Answers per second to one source address.
const PER_SOURCE: f64 = 5.0;
/// Answers per second in all.
const TOTAL: f64 = 20.0;

type QueryRec = ([u8; 4], u8, u8, u16, [u8; 16]);
type AnswerRec = ([u8; 4], u8, u8, u16, [u8; 16], u16);

static QUERY: LazyLock<Typed<QueryRec>> = LazyLock::new(|| {
    Struct::new("!4sBBH16s")
        .and_then(|s| s.typed())
        .expect("the query format matches its record")
});
static ANSWER: LazyLock<Typed<AnswerRec>> = LazyLock::new(|| {
    Struct::new("!4sBBH16sH")
        .and_then(|s| s.typed())
        .expect("the answer format matches its record")
});

fn clip(name: &str) -> &str {
    let mut end = name.len().min(NAME_MAX);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// A query for receivers (of `name`, when given), padded to [`QUERY_LEN`].
pub fn encode_query(nonce: [u8; 16], name: Option<&str>) -> Vec<u8> {
    let name = clip(name.unwrap_or(""));
    let mut out = vec![0u8; QUERY_LEN];
    let _ = QUERY.pack_into(&mut out, 0, &(QUERY_MAGIC, 1, 0, name.len() as u16, nonce));
    out[QUERY.size()..QUERY.size() + name.len()].copy_from_slice(name.as_bytes());
    out
}

/// Parses a query: its nonce and the name asked for (empty: anyone).
pub fn parse_query(data: &[u8]) -> Option<([u8; 16], String)> {
    if data.len() < QUERY_LEN {
        return None;
    }
    let (magic, version, _, len, nonce) = QUERY.unpack_from(data, 0).ok()?;
    if magic != QUERY_MAGIC || version != 1 || usize::from(len) > NAME_MAX {
        return None;
    }
    let name = data.get(QUERY.size()..QUERY.size() + usize::from(len))?;
    Some((nonce, String::from_utf8_lossy(name).into_owned()))
}

/// An answer: our TCP port and name, echoing the query's nonce.
pub fn encode_answer(nonce: [u8; 16], port: u16, name: &str) -> Vec<u8> {
    let name = clip(name);
    let mut out = vec![0u8; ANSWER.size() + name.len()];
    let _ = ANSWER.pack_into(
        &mut out,
        0,
        &(ANSWER_MAGIC, 1, 0, port, nonce, name.len() as u16),
    );
    out[ANSWER.size()..].copy_from_slice(name.as_bytes());
    out
}

fn parse_answer(data: &[u8], want: &[u8; 16]) -> Option<(u16, String)> {
    if data.len() > ANSWER_MAX {
        return None;
    }
    let (magic, version, _, port, nonce, len) = ANSWER.unpack_from(data, 0).ok()?;
    if magic != ANSWER_MAGIC || version != 1 || &nonce != want || port == 0 {
        return None;
    }
    let name = data.get(ANSWER.size()..ANSWER.size() + usize::from(len))?;
    Some((port, String::from_utf8_lossy(name).into_owned()))
}

/// A receiver that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its name, as it said (escape before printing).
    pub name: String,
    /// Where to connect: the answer's source address and the TCP port it gave.
    pub addr: SocketAddr,
}

/// IPv4 interfaces that can broadcast: (address, broadcast address), from getifaddrs.
pub fn broadcast_addresses() -> Vec<(Ipv4Addr, Ipv4Addr)> {
    let mut out = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return out;
    }
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, alive until freeifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null()
            || ifa.ifa_flags & libc::IFF_BROADCAST as u32 == 0
            || ifa.ifa_ifu.is_null()
        {
            continue;
        }
        // SAFETY: both pointers are non-null sockaddrs; the family is checked before the
        // cast to sockaddr_in.
        unsafe {
            if i32::from((*ifa.ifa_addr).sa_family) != libc::AF_INET
                || i32::from((*ifa.ifa_ifu).sa_family) != libc::AF_INET
            {
                continue;
            }
            let a = &*(ifa.ifa_addr as *const libc::sockaddr_in);
            let b = &*(ifa.ifa_ifu as *const libc::sockaddr_in);
            out.push((
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                Ipv4Addr::from(u32::from_be(b.sin_addr.s_addr)),
            ));
        }
    }
    // SAFETY: `list` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
    out
}

/// The socket a discoverable receiver listens on. Broadcasts are delivered to sockets
/// bound to the wildcard address or to the broadcast address itself, not to a unicast
/// address: so a receiver bound to 127.0.0.1 listens on 127.255.255.255, one bound to an
/// interface address on that interface's broadcast address.
pub fn responder_socket(bind: IpAddr, port: u16) -> io::Result<UdpSocket> {
    let local = match bind {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(ip),
        IpAddr::V4(ip) if ip.is_loopback() => IpAddr::V4(Ipv4Addr::new(127, 255, 255, 255)),
        IpAddr::V4(ip) => broadcast_addresses()
            .into_iter()
            .find(|(a, _)| *a == ip)
            .map_or(IpAddr::V4(ip), |(_, b)| IpAddr::V4(b)),
        IpAddr::V6(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "discovery is IPv4 broadcast: bind an IPv4 address",
            ))
        }
    };
    udp_listener(SocketAddr::new(local, port), &SocketOptions::default())
}

/// A token bucket per source and one for all: no flood of queries makes a flood of
/// answers.
struct Limiter {
    per: HashMap<IpAddr, (f64, Instant)>,
    all: (f64, Instant),
}

impl Limiter {
    fn take(bucket: &mut (f64, Instant), rate: f64) -> bool {
        let now = Instant::now();
        bucket.0 = (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * rate).min(rate);
        bucket.1 = now;
        if bucket.0 >= 1.0 {
            bucket.0 -= 1.0;
            true
        } else {
            false
        }
    }

    fn allow(&mut self, ip: IpAddr) -> bool {
        if self.per.len() > 4096 {
            self.per.clear();
        }
        let per = self.per.entry(ip).or_insert((PER_SOURCE, Instant::now()));
        Limiter::take(per, PER_SOURCE) && Limiter::take(&mut self.all, TOTAL)
    }
}

/// Answers discovery queries on `socket` until the task is dropped. Replies go out from
/// a socket bound to `bind` (the receiver's TCP address), so their source is where the
/// sender should connect.
pub async fn answer(socket: UdpSocket, bind: IpAddr, name: String, tcp_port: u16, events: Events) {
    let reply_from = if bind.is_loopback() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        bind
    };
    let replier =
        if socket.local_addr().is_ok_and(|a| a.ip() == reply_from) || bind.is_unspecified() {
            None
        } else {
            let opts = SocketOptions {
                bind: Some(SocketAddr::new(reply_from, 0)),
                ..SocketOptions::default()
            };
            udp_sender(SocketAddr::new(reply_from, 9), &opts).ok()
        };
    let mut limiter = Limiter {
        per: HashMap::new(),
        all: (TOTAL, Instant::now()),
    };
    let mut buf = [0u8; 2048];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Some((nonce, wanted)) = parse_query(&buf[..n]) else {
            continue;
        };
        if !wanted.is_empty() && wanted != name {
            continue;
        }
        if !limiter.allow(from.ip()) {
            continue;
        }
        let reply = encode_answer(nonce, tcp_port, &name);
        debug_assert!(reply.len() <= n);
        let sock = replier.as_ref().unwrap_or(&socket);
        if sock.send_to(&reply, from).await.is_ok() {
            events.emit(
                Event::verbose(
                    "discovery-answer",
                    format!("answered a discovery query from {from}"),
                )
                .with("peer", from),
            );
        }
    }
}

/// Broadcasts a query to each of `targets` (none: every interface's broadcast address and
/// 127.255.255.255) three times over `wait`, and collects the answers.
pub async fn find(
    targets: &[IpAddr],
    port: u16,
    name: Option<&str>,
    wait: Duration,
    events: &Events,
) -> Result<Vec<Found>, TransferError> {
    let mut dests: Vec<(IpAddr, IpAddr)> = targets
        .iter()
        .map(|t| {
            let from = match t {
                IpAddr::V4(v4) if v4.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            };
            (*t, from)
        })
        .collect();
    if dests.is_empty() {
        dests.push((
            IpAddr::V4(Ipv4Addr::new(127, 255, 255, 255)),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
        ));
        for (addr, bcast) in broadcast_addresses() {
            if !addr.is_loopback() {
                dests.push((IpAddr::V4(bcast), IpAddr::V4(addr)));
            }
        }
    }
    let nonce = super::random16();
    let query = encode_query(nonce, name);
    let mut sockets = Vec::new();
    for (dest, from) in &dests {
        let opts = SocketOptions {
            broadcast: true,
            bind: Some(SocketAddr::new(*from, 0)),
            ..SocketOptions::default()
        };
        match udp_sender(SocketAddr::new(*dest, port), &opts) {
            Ok(s) => match s.into_std() {
                Ok(s) => sockets.push((s, SocketAddr::new(*dest, port))),
                Err(e) => events.emit(Event::warn("discovery-error", format!("udp socket: {e}"))),
            },
            Err(e) => events.emit(Event::warn(
                "discovery-error",
                format!("udp socket for {dest}: {}", crate::net::error::describe(&e)),
            )),
        }
    }
    events.emit(Event::info(
        "discovering",
        format!("looking for receivers on udp port {port}"),
    ));
    let mut found: Vec<Found> = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    let mut next_send = tokio::time::Instant::now();
    let mut sends = 0;
    let mut buf = [0u8; 2048];
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        if sends < 3 && now >= next_send {
            for (s, to) in &sockets {
                if let Err(e) = s.send_to(&query, to) {
                    if sends == 0 {
                        events.emit(Event::warn(
                            "discovery-error",
                            format!("broadcast to {to}: {}", crate::net::error::describe(&e)),
                        ));
                    }
                }
            }
            sends += 1;
            next_send = now + wait / 3;
        }
        // A handful of sockets polled every 10 ms: simpler than a select over a list,
        // and discovery is not a hot path.
        let mut got = None;
        for (sock, _) in &sockets {
            if let Ok(x) = sock.recv_from(&mut buf) {
                got = Some(x);
                break;
            }
        }
        let Some((n, from)) = got else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if let Some((tcp_port, their_name)) = parse_answer(&buf[..n], &nonce) {
            let addr = SocketAddr::new(from.ip(), tcp_port);
            if name.is_some_and(|w| w != their_name) || found.iter().any(|f| f.addr == addr) {
                continue;
            }
            events.emit(
                Event::info("found", format!("found {} at {addr}", escape(&their_name)))
                    .with("name", escape(&their_name))
                    .with("addr", addr),
            );
            found.push(Found {
                name: their_name,
                addr,
            });
            if name.is_some() {
                // The one asked for answered: no need to wait for others.
                break;
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_never_bigger_than_queries() {
        let long = "n".repeat(300);
        let q = encode_query([1; 16], Some(&long));
        assert_eq!(q.len(), QUERY_LEN);
        let (nonce, name) = parse_query(&q).unwrap();
        assert_eq!((nonce, name.len()), ([1; 16], NAME_MAX));
        let a = encode_answer(nonce, 47470, &long);
        assert!(a.len() <= ANSWER_MAX && a.len() <= q.len());
        assert_eq!(
            parse_answer(&a, &[1; 16]),
            Some((47470, "n".repeat(NAME_MAX)))
        );
        assert_eq!(parse_answer(&a, &[2; 16]), None);
        assert!(parse_query(&q[..QUERY_LEN - 1]).is_none());
    }

    #[test]
    fn the_limiter_caps_a_flood() {
        let mut l = Limiter {
            per: HashMap::new(),
            all: (TOTAL, Instant::now()),
        };
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let allowed = (0..100).filter(|_| l.allow(ip)).count();
        assert_eq!(allowed, PER_SOURCE as usize);
    }
}
