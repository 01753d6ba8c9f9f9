//! Port scanning: which ports of one host answer, and how.
//!
//! A TCP connect scan asks the kernel to do the three-way handshake with each port:
//!
//! - the handshake completes: something `listen`s there, the port is **open**;
//! - the host answers the SYN with a reset (`ECONNREFUSED`): nothing listens, the port
//!   is **closed**;
//! - nothing comes back before the timeout (or an ICMP error says the host or network
//!   cannot be reached): a firewall drops the packets, the port is **filtered**.
//!
//! UDP has no handshake, so a UDP scan sends an empty datagram on a connected socket and
//! waits: an answer means **open**; an ICMP port-unreachable (reported by the kernel as
//! `ECONNREFUSED` on the next `recv` of a connected UDP socket) means **closed**; silence
//! means **open|filtered**, as the same silence comes from a service that ignores empty
//! datagrams and from a firewall.
//!
//! Only the one address given is contacted, at most `concurrency` ports at once, each
//! for at most `timeout`: no host discovery, no ranges of hosts.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// The most ports one scan may name (every TCP or UDP port).
pub const MAX_PORTS: usize = 65_535;

/// The most connection attempts in flight at once (each holds a file descriptor).
pub const MAX_CONCURRENCY: usize = 4_096;

/// What a port's answer says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortState {
    /// A TCP handshake completed, or a UDP datagram was answered.
    Open,
    /// Refused: a TCP reset, or an ICMP port-unreachable for UDP.
    Closed,
    /// No answer to a TCP SYN in time, or the host or network was unreachable.
    Filtered,
    /// No answer to a UDP datagram: open and silent, or dropped by a firewall.
    OpenFiltered,
}

impl PortState {
    /// The name as nmap and the output spell it: `open`, `closed`, `filtered`,
    /// `open|filtered`.
    pub fn name(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::OpenFiltered => "open|filtered",
        }
    }
}

impl fmt::Display for PortState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The transport being scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP connect scan.
    Tcp,
    /// UDP datagram scan.
    Udp,
}

impl Transport {
    /// `tcp` or `udp`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// How a scan runs.
#[derive(Debug, Clone, Copy)]
pub struct ScanConfig {
    /// TCP or UDP.
    pub transport: Transport,
    /// How long one port may take to answer.
    pub timeout: Duration,
    /// Ports probed at once.
    pub concurrency: usize,
}

/// One port's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortResult {
    /// The port.
    pub port: u16,
    /// What it answered.
    pub state: PortState,
}

/// A `PORTS` argument that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortsError {
    /// A piece is not a port number or a range of them.
    #[error("'{0}' is not a port or a range (expected N or N-M, 1 to 65535)")]
    Bad(String),
    /// A range runs backwards.
    #[error("'{0}': the range starts after it ends")]
    Backwards(String),
    /// Nothing was given.
    #[error("no ports given")]
    Empty,
}

/// Parses `22,80,8000-8100` into a sorted list without repeats (at most every port once,
/// so never more than [`MAX_PORTS`] entries whatever the text says).
pub fn parse_ports(text: &str) -> Result<Vec<u16>, PortsError> {
    let mut wanted = vec![false; MAX_PORTS + 1];
    let mut any = false;
    for piece in text.split(',').map(str::trim) {
        if piece.is_empty() {
            continue;
        }
        let port = |s: &str| -> Result<u16, PortsError> {
            match s.trim().parse::<u16>() {
                Ok(0) | Err(_) => Err(PortsError::Bad(piece.to_string())),
                Ok(p) => Ok(p),
            }
        };
        let (first, last) = match piece.split_once('-') {
            Some((a, b)) => (port(a)?, port(b)?),
            None => {
                let p = port(piece)?;
                (p, p)
            }
        };
        if first > last {
            return Err(PortsError::Backwards(piece.to_string()));
        }
        for p in first..=last {
            wanted[usize::from(p)] = true;
        }
        any = true;
    }
    if !any {
        return Err(PortsError::Empty);
    }
    Ok((1..=u16::MAX).filter(|&p| wanted[usize::from(p)]).collect())
}

/// Scans `ports` of `host`, at most `config.concurrency` at once, calling `on_result` as
/// each port's answer comes in (in completion order), and returns every result sorted by
/// port.
pub async fn scan(
    host: std::net::IpAddr,
    ports: &[u16],
    config: ScanConfig,
    mut on_result: impl FnMut(PortResult),
) -> Vec<PortResult> {
    let limit = Arc::new(Semaphore::new(config.concurrency.clamp(1, MAX_CONCURRENCY)));
    let mut tasks = JoinSet::new();
    let mut results = Vec::with_capacity(ports.len());
    for &port in ports {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            break;
        };
        let addr = SocketAddr::new(host, port);
        tasks.spawn(async move {
            let state = match config.transport {
                Transport::Tcp => probe_tcp(addr, config.timeout).await,
                Transport::Udp => probe_udp(addr, config.timeout).await,
            };
            drop(permit);
            PortResult { port, state }
        });
        // Report what has finished while later ports are still being started.
        while let Some(Ok(result)) = tasks.try_join_next() {
            on_result(result);
            results.push(result);
        }
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok(result) = joined {
            on_result(result);
            results.push(result);
        }
    }
    results.sort_by_key(|r| r.port);
    results
}

/// One TCP connect probe.
pub async fn probe_tcp(addr: SocketAddr, timeout: Duration) -> PortState {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(_stream)) => PortState::Open,
        Ok(Err(err)) => tcp_error_state(&err),
        Err(_) => PortState::Filtered,
    }
}

fn tcp_error_state(err: &io::Error) -> PortState {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => PortState::Closed,
        _ => PortState::Filtered,
    }
}

/// One UDP probe: an empty datagram on a connected socket, then one `recv`.
pub async fn probe_udp(addr: SocketAddr, timeout: Duration) -> PortState {
    // A loopback target gets a loopback source; otherwise any local address of the
    // family, as every client socket has, and the kernel picks the one that routes there.
    let source_ip = match addr.ip() {
        ip if ip.is_loopback() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
    };
    let bind = SocketAddr::new(source_ip, 0);
    let probe = async {
        // Connecting makes the kernel report ICMP errors for this peer on `recv`.
        let socket = UdpSocket::bind(bind).await?;
        socket.connect(addr).await?;
        socket.send(&[]).await?;
        let mut buf = [0u8; 512];
        socket.recv(&mut buf).await
    };
    match tokio::time::timeout(timeout, probe).await {
        Ok(Ok(_)) => PortState::Open,
        Ok(Err(err)) if err.kind() == io::ErrorKind::ConnectionRefused => PortState::Closed,
        Ok(Err(_)) => PortState::Filtered,
        Err(_) => PortState::OpenFiltered,
    }
}

/// Counts of each state, for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Open ports.
    pub open: usize,
    /// Closed ports.
    pub closed: usize,
    /// Filtered ports.
    pub filtered: usize,
    /// Open or filtered (UDP silence).
    pub open_filtered: usize,
}

impl Summary {
    /// Counts the states of `results`.
    pub fn of(results: &[PortResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.state {
                PortState::Open => s.open += 1,
                PortState::Closed => s.closed += 1,
                PortState::Filtered => s.filtered += 1,
                PortState::OpenFiltered => s.open_filtered += 1,
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_ranges_parse_sorted_without_repeats() {
        assert_eq!(
            parse_ports("80,22,8000-8002,22"),
            Ok(vec![22, 80, 8000, 8001, 8002])
        );
        assert_eq!(parse_ports("1-65535").map(|p| p.len()), Ok(65_535));
        assert_eq!(parse_ports(" 7 , "), Ok(vec![7]));
    }

    #[test]
    fn bad_ports_are_refused() {
        assert_eq!(parse_ports("0"), Err(PortsError::Bad("0".into())));
        assert_eq!(parse_ports("65536"), Err(PortsError::Bad("65536".into())));
        assert_eq!(
            parse_ports("10-5"),
            Err(PortsError::Backwards("10-5".into()))
        );
        assert_eq!(parse_ports("a-b"), Err(PortsError::Bad("a-b".into())));
        assert_eq!(parse_ports(","), Err(PortsError::Empty));
        assert_eq!(parse_ports("-5"), Err(PortsError::Bad("-5".into())));
    }

    #[tokio::test]
    async fn a_listening_port_is_open_and_a_free_one_closed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap().port();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let config = ScanConfig {
            transport: Transport::Tcp,
            timeout: Duration::from_secs(2),
            concurrency: 8,
        };
        let mut seen = 0;
        let results = scan([127, 0, 0, 1].into(), &[open, closed], config, |_| {
            seen += 1
        })
        .await;
        assert_eq!(seen, 2);
        let state = |p| results.iter().find(|r| r.port == p).map(|r| r.state);
        assert_eq!(state(open), Some(PortState::Open));
        assert_eq!(state(closed), Some(PortState::Closed));
    }

    #[tokio::test]
    async fn a_udp_port_without_a_socket_is_closed() {
        let closed = {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.local_addr().unwrap()
        };
        assert_eq!(
            probe_udp(closed, Duration::from_secs(2)).await,
            PortState::Closed
        );
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = silent.local_addr().unwrap();
        assert_eq!(
            probe_udp(addr, Duration::from_millis(200)).await,
            PortState::OpenFiltered
        );
    }
}
