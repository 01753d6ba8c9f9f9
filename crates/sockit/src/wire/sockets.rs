//! The machine's TCP and UDP sockets and their states, read like `ss` does: netlink
//! `sock_diag` (`SOCK_DIAG_BY_FAMILY` with an `inet_diag_req_v2`).
//!
//! Each answer (`inet_diag_msg`) carries the socket's state in the TCP state machine
//! (LISTEN, ESTABLISHED, FIN-WAIT-1, TIME-WAIT, ...), its addresses, its queues (bytes
//! received but not yet read; bytes sent but not yet acknowledged, or for a listener the
//! accept queue and its limit), its timer (a TIME-WAIT socket's remaining time) and the
//! inode that links it to the process holding it (found in `/proc/PID/fd`).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::netlink::{dump, u32_at};

const NETLINK_SOCK_DIAG: i32 = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;

/// A TCP state, as the kernel numbers them (`include/net/tcp_states.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// Data flows both ways.
    Established,
    /// SYN sent, waiting for SYN-ACK (client side of the handshake).
    SynSent,
    /// SYN received, SYN-ACK sent (server side of the handshake).
    SynRecv,
    /// We closed first and sent FIN; waiting for its ACK.
    FinWait1,
    /// Our FIN is acknowledged; waiting for the peer's FIN.
    FinWait2,
    /// Both FINs done; we closed first, so we wait 2*MSL before forgetting the connection.
    TimeWait,
    /// Closed (for UDP: not connected, `UNCONN`).
    Close,
    /// The peer closed first; we have not closed yet.
    CloseWait,
    /// The peer closed first, then we did; waiting for the ACK of our FIN.
    LastAck,
    /// A listening socket.
    Listen,
    /// Both sides closed at the same time.
    Closing,
}

impl TcpState {
    fn from_kernel(n: u8) -> Option<TcpState> {
        Some(match n {
            1 => TcpState::Established,
            2 => TcpState::SynSent,
            3 => TcpState::SynRecv,
            4 => TcpState::FinWait1,
            5 => TcpState::FinWait2,
            6 => TcpState::TimeWait,
            7 => TcpState::Close,
            8 => TcpState::CloseWait,
            9 => TcpState::LastAck,
            10 => TcpState::Listen,
            11 => TcpState::Closing,
            _ => return None,
        })
    }

    /// The name `ss` prints: `ESTAB`, `LISTEN`, `TIME-WAIT`, `UNCONN`, ...
    pub fn ss_name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTAB",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynRecv => "SYN-RECV",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Close => "UNCONN",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::LastAck => "LAST-ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
        }
    }

    /// Parses a state as `ss state ...` spells it: `listen`/`listening`, `established`,
    /// `syn-sent`, `syn-recv`, `fin-wait-1`, `fin-wait-2`, `time-wait`, `closed`/`unconn`,
    /// `close-wait`, `last-ack`, `closing`.
    pub fn parse(s: &str) -> Option<TcpState> {
        Some(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "established" | "estab" => TcpState::Established,
            "syn-sent" => TcpState::SynSent,
            "syn-recv" => TcpState::SynRecv,
            "fin-wait-1" | "fin-wait1" => TcpState::FinWait1,
            "fin-wait-2" | "fin-wait2" => TcpState::FinWait2,
            "time-wait" => TcpState::TimeWait,
            "closed" | "close" | "unconn" => TcpState::Close,
            "close-wait" => TcpState::CloseWait,
            "last-ack" => TcpState::LastAck,
            "listen" | "listening" => TcpState::Listen,
            "closing" => TcpState::Closing,
            _ => return None,
        })
    }

    fn bit(self) -> u32 {
        1 << (self as u32 + 1)
    }
}

/// `tcp` or `udp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// IP protocol 6.
    Tcp,
    /// IP protocol 17.
    Udp,
}

/// One socket as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketEntry {
    /// TCP or UDP.
    pub proto: Proto,
    /// Its state.
    pub state: TcpState,
    /// Receive queue: bytes not yet read by the application (listener: connections
    /// waiting in the accept queue).
    pub recv_q: u32,
    /// Send queue: bytes not yet acknowledged (listener: the accept queue's limit).
    pub send_q: u32,
    /// Local address.
    pub local: SocketAddr,
    /// Peer address (`0.0.0.0:0` when none).
    pub peer: SocketAddr,
    /// Time left on the socket's timer (TIME-WAIT: before it disappears), if running.
    pub timer: Option<(&'static str, Duration)>,
    /// The socket's inode (0 for TIME-WAIT sockets, which no process holds any more).
    pub inode: u32,
    /// The owning process, `(pid, name)`, when this process may see it.
    pub process: Option<(u32, String)>,
}

/// Which sockets to list.
#[derive(Debug, Clone, Default)]
pub struct SocketQuery {
    /// Only sockets in this state.
    pub state: Option<TcpState>,
    /// Only sockets with this local or peer port.
    pub port: Option<u16>,
    /// Include TCP sockets.
    pub tcp: bool,
    /// Include UDP sockets.
    pub udp: bool,
}

fn addr(family: u8, raw: &[u8], port: u16) -> SocketAddr {
    let ip = if family == libc::AF_INET6 as u8 && raw.len() >= 16 {
        let mut o = [0u8; 16];
        o.copy_from_slice(&raw[..16]);
        IpAddr::V6(Ipv6Addr::from(o))
    } else if raw.len() >= 4 {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    };
    SocketAddr::new(ip, port)
}

/// Parses one `inet_diag_msg` (72 bytes then attributes); None if too short.
fn parse_msg(proto: Proto, b: &[u8]) -> Option<SocketEntry> {
    if b.len() < 72 {
        return None;
    }
    let family = b[0];
    let state = TcpState::from_kernel(b[1])?;
    let timer = b[2];
    let sport = u16::from_be_bytes([b[4], b[5]]);
    let dport = u16::from_be_bytes([b[6], b[7]]);
    let local = addr(family, &b[8..24], sport);
    let peer = addr(family, &b[24..40], dport);
    let expires = u32_at(b, 52);
    let timer = match timer {
        1 => Some(("on", Duration::from_millis(expires.into()))),
        2 => Some(("keepalive", Duration::from_millis(expires.into()))),
        3 => Some(("timewait", Duration::from_millis(expires.into()))),
        4 => Some(("persist", Duration::from_millis(expires.into()))),
        _ => None,
    };
    Some(SocketEntry {
        proto,
        state,
        recv_q: u32_at(b, 56),
        send_q: u32_at(b, 60),
        local,
        peer,
        timer,
        inode: u32_at(b, 68),
        process: None,
    })
}

/// Lists the sockets `q` asks for, IPv4 and IPv6, with their owning processes.
pub fn list(q: &SocketQuery) -> io::Result<Vec<SocketEntry>> {
    let mut out = Vec::new();
    let states = q.state.map_or(u32::MAX, TcpState::bit);
    for (proto, number, on) in [(Proto::Tcp, 6u8, q.tcp), (Proto::Udp, 17u8, q.udp)] {
        if !on {
            continue;
        }
        for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
            // inet_diag_req_v2: family, protocol, ext, pad, states, then a zeroed sockid.
            let mut req = vec![family, number, 0, 0];
            req.extend_from_slice(&states.to_ne_bytes());
            req.extend_from_slice(&[0u8; 48]);
            dump(NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, &req, |_, body| {
                if let Some(e) = parse_msg(proto, body) {
                    out.push(e);
                }
            })?;
        }
    }
    if let Some(p) = q.port {
        out.retain(|e| e.local.port() == p || e.peer.port() == p);
    }
    let owners = socket_owners();
    for e in &mut out {
        if e.inode != 0 {
            e.process = owners.get(&e.inode).cloned();
        }
    }
    Ok(out)
}

/// Maps socket inodes to `(pid, command name)` by reading `/proc/*/fd` links
/// (`socket:[INODE]`), as `ss -p` does. Processes we may not inspect are skipped.
fn socket_owners() -> HashMap<u32, (u32, String)> {
    let mut map = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return map;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let mut name: Option<String> = None;
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = link
                .to_str()
                .and_then(|s| s.strip_prefix("socket:["))
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let n = name.get_or_insert_with(|| {
                std::fs::read_to_string(entry.path().join("comm"))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default()
            });
            map.entry(inode).or_insert_with(|| (pid, n.clone()));
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_as_ss_spells_them() {
        assert_eq!(TcpState::parse("time-wait"), Some(TcpState::TimeWait));
        assert_eq!(TcpState::parse("LISTENING"), Some(TcpState::Listen));
        assert_eq!(TcpState::parse("fin-wait-1"), Some(TcpState::FinWait1));
        assert_eq!(TcpState::parse("nope"), None);
        // sock_diag's state mask has bit N for kernel state N (TCP_LISTEN is 10).
        assert_eq!(TcpState::Listen.bit(), 1 << 10);
        assert_eq!(TcpState::Established.bit(), 1 << 1);
    }

    #[test]
    fn short_or_bad_messages_are_skipped() {
        assert!(parse_msg(Proto::Tcp, &[0u8; 10]).is_none());
        let mut b = [0u8; 72];
        b[1] = 99;
        assert!(parse_msg(Proto::Tcp, &b).is_none());
    }

    #[test]
    fn finds_its_own_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = l.local_addr().expect("addr").port();
        let q = SocketQuery {
            port: Some(port),
            tcp: true,
            ..Default::default()
        };
        let all = list(&q).expect("sock_diag");
        assert!(
            all.iter()
                .any(|e| e.state == TcpState::Listen && e.local.port() == port),
            "{all:?}"
        );
    }
}
