//! Building sockets with socket2, options set before `bind`/`connect`.
//!
//! Order matters: `SO_RCVBUF` must be set before `connect`/`listen` to influence the TCP
//! window scale negotiated in the handshake; `SO_REUSEADDR` must be set before `bind` so a
//! restarted server can bind while old connections sit in `TIME_WAIT`; a source address
//! (`--bind`) is a `bind` before `connect`. The standard library cannot do any of this
//! (its constructors bind and connect at once), so every socket is built here.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, TcpKeepalive, Type};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};

use crate::net::error::{describe, secs};

/// Backlog for listening sockets: the kernel caps it at `net.core.somaxconn` anyway.
const LISTEN_BACKLOG: i32 = 1024;

/// Socket options chosen on the command line (`--sndbuf`, `--nodelay`, ...).
///
/// `None`/`false` leaves the kernel default untouched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocketOptions {
    /// `SO_SNDBUF` in bytes (Linux doubles the value for bookkeeping and reports the double).
    pub send_buffer: Option<usize>,
    /// `SO_RCVBUF` in bytes (also doubled by Linux).
    pub recv_buffer: Option<usize>,
    /// `TCP_NODELAY`: send small writes at once instead of waiting to merge them (Nagle).
    pub nodelay: bool,
    /// `SO_KEEPALIVE`: probe idle connections so a vanished peer is noticed.
    pub keepalive: bool,
    /// `TCP_KEEPIDLE`: idle time before the first keepalive probe (kernel default if unset).
    pub keepalive_idle: Option<Duration>,
    /// `SO_REUSEPORT`: let several processes bind the same port; the kernel balances
    /// new connections (TCP) or datagrams (UDP) between them.
    pub reuse_port: bool,
    /// `SO_BROADCAST`: permission to send to a broadcast address.
    pub broadcast: bool,
    /// Local source address to bind before connecting or sending (`--bind`).
    pub bind: Option<SocketAddr>,
}

/// A failed attempt to reach a destination: every address tried and why each failed.
#[derive(Debug)]
pub struct ConnectError {
    /// The destination as the user wrote it (`localhost:9`).
    pub target: String,
    /// Each resolved address with the error it gave.
    pub attempts: Vec<(SocketAddr, io::Error)>,
}

impl ConnectError {
    /// True when the last failure was a timeout.
    pub fn timed_out(&self) -> bool {
        self.attempts
            .last()
            .is_some_and(|(_, err)| err.kind() == io::ErrorKind::TimedOut)
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.attempts.as_slice() {
            [] => write!(f, "connect to {}: no address to try", self.target),
            [(addr, err)] if addr.to_string() == self.target => {
                write!(f, "connect to {}: {}", self.target, describe(err))
            }
            attempts => {
                write!(f, "connect to {}: ", self.target)?;
                for (i, (addr, err)) in attempts.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{addr}: {}", describe(err))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConnectError {}

fn domain_of(addr: &SocketAddr) -> Domain {
    if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    }
}

/// Creates a socket of the address's family and applies the options that must precede
/// `bind`/`connect`.
fn new_socket(addr: &SocketAddr, ty: Type, opts: &SocketOptions) -> io::Result<Socket> {
    let protocol = if ty == Type::STREAM {
        Protocol::TCP
    } else {
        Protocol::UDP
    };
    let socket = Socket::new(domain_of(addr), ty, Some(protocol))?;
    // -vv shows what the kernel made of each request: Linux doubles buffer sizes and caps
    // them at net.core.[rw]mem_max, so the value asked for is rarely the value in effect.
    if let Some(size) = opts.send_buffer {
        socket.set_send_buffer_size(size)?;
        tracing::debug!(
            "SO_SNDBUF: asked {size}, kernel reports {}",
            socket.send_buffer_size().unwrap_or(0)
        );
    }
    if let Some(size) = opts.recv_buffer {
        socket.set_recv_buffer_size(size)?;
        tracing::debug!(
            "SO_RCVBUF: asked {size}, kernel reports {}",
            socket.recv_buffer_size().unwrap_or(0)
        );
    }
    if opts.reuse_port {
        socket.set_reuse_port(true)?;
    }
    if ty == Type::STREAM {
        if opts.nodelay {
            socket.set_tcp_nodelay(true)?;
        }
        if opts.keepalive {
            socket.set_keepalive(true)?;
            if let Some(idle) = opts.keepalive_idle {
                socket.set_tcp_keepalive(&TcpKeepalive::new().with_time(idle))?;
            }
        }
    } else if opts.broadcast {
        socket.set_broadcast(true)?;
    }
    tracing::debug!(
        "new {} socket for {addr}: reuse_port={} nodelay={} keepalive={} keepidle={:?} broadcast={}",
        if ty == Type::STREAM { "TCP" } else { "UDP" },
        opts.reuse_port,
        opts.nodelay,
        opts.keepalive,
        opts.keepalive_idle,
        opts.broadcast
    );
    Ok(socket)
}

/// Binds a listening TCP socket with `SO_REUSEADDR` on (a restarted server binds at once
/// even while the previous run's connections are in `TIME_WAIT`) and the given options.
///
/// Must be called inside a tokio runtime.
pub fn tcp_listener(addr: SocketAddr, opts: &SocketOptions) -> io::Result<TcpListener> {
    TcpListener::from_std(std_tcp_listener(addr, opts)?)
}

/// Like [`tcp_listener`], but returns a non-blocking std listener that is not yet tied to
/// a runtime, for servers that hand each listener to a runtime of its own (one per core).
pub fn std_tcp_listener(
    addr: SocketAddr,
    opts: &SocketOptions,
) -> io::Result<std::net::TcpListener> {
    let socket = new_socket(&addr, Type::STREAM, opts)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SockAddr::from(addr))?;
    socket.listen(LISTEN_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Connects to the first address in `addrs` that accepts, trying each in turn
/// (`localhost` may be `::1` and `127.0.0.1`, and only one may be served).
///
/// `timeout` bounds each attempt. `target` names the destination in the error.
pub async fn tcp_connect(
    target: &str,
    addrs: &[SocketAddr],
    opts: &SocketOptions,
    timeout: Option<Duration>,
) -> Result<TcpStream, ConnectError> {
    let mut attempts = Vec::new();
    for &addr in addrs {
        tracing::debug!("connecting to {addr} ({target})");
        match connect_one(addr, opts, timeout).await {
            Ok(stream) => return Ok(stream),
            Err(err) => {
                tracing::debug!("connect to {addr}: {}", describe(&err));
                attempts.push((addr, err));
            }
        }
    }
    Err(ConnectError {
        target: target.to_string(),
        attempts,
    })
}

async fn connect_one(
    addr: SocketAddr,
    opts: &SocketOptions,
    timeout: Option<Duration>,
) -> io::Result<TcpStream> {
    let socket = new_socket(&addr, Type::STREAM, opts)?;
    if let Some(local) = opts.bind {
        bind_source(&socket, local, addr)?;
    }
    socket.set_nonblocking(true)?;
    let socket = TcpSocket::from_std_stream(socket.into());
    let connecting = socket.connect(addr);
    match timeout {
        Some(limit) => match tokio::time::timeout(limit, connecting).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out after {}", secs(limit)),
            )),
        },
        None => connecting.await,
    }
}

/// Binds a client socket to a source address; a family mismatch is explained instead of
/// surfacing as the kernel's "invalid argument".
fn bind_source(socket: &Socket, local: SocketAddr, dest: SocketAddr) -> io::Result<()> {
    if local.is_ipv4() != dest.is_ipv4() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("source address {local} and destination {dest} are of different families"),
        ));
    }
    if local.port() != 0 {
        // A fixed source port is reused by consecutive runs: allow it while TIME_WAIT lasts.
        socket.set_reuse_address(true)?;
    }
    socket
        .bind(&SockAddr::from(local))
        .map_err(|err| io::Error::new(err.kind(), format!("bind {local}: {}", describe(&err))))
}

/// A UDP socket bound to `local` for receiving (`udp listen`), `SO_REUSEADDR` on so
/// several listeners can share a port for broadcasts and a restart binds at once.
///
/// Must be called inside a tokio runtime.
pub fn udp_listener(local: SocketAddr, opts: &SocketOptions) -> io::Result<UdpSocket> {
    let socket = new_socket(&local, Type::DGRAM, opts)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SockAddr::from(local))?;
    tracing::debug!("UDP socket bound to {local} (SO_REUSEADDR on)");
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

/// A UDP socket for sending to `dest`: bound to `opts.bind` or to an ephemeral port of
/// the destination's family (so replies have somewhere to come back to).
///
/// Must be called inside a tokio runtime.
pub fn udp_sender(dest: SocketAddr, opts: &SocketOptions) -> io::Result<UdpSocket> {
    let socket = new_socket(&dest, Type::DGRAM, opts)?;
    match opts.bind {
        Some(local) => bind_source(&socket, local, dest)?,
        None => {
            let any: SocketAddr = if dest.is_ipv4() {
                (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
            } else {
                (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
            };
            socket.bind(&SockAddr::from(any))?;
        }
    }
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listener_reports_chosen_port_and_reuseaddr() {
        let listener =
            tcp_listener("127.0.0.1:0".parse().unwrap(), &SocketOptions::default()).unwrap();
        let addr = listener.local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        let sock = socket2::SockRef::from(&listener);
        assert!(sock.reuse_address().unwrap());
    }

    #[tokio::test]
    async fn options_are_applied_before_connect() {
        let listener =
            tcp_listener("127.0.0.1:0".parse().unwrap(), &SocketOptions::default()).unwrap();
        let addr = listener.local_addr().unwrap();
        let opts = SocketOptions {
            nodelay: true,
            keepalive: true,
            keepalive_idle: Some(Duration::from_secs(30)),
            send_buffer: Some(65536),
            ..SocketOptions::default()
        };
        let stream = tcp_connect("test", &[addr], &opts, Some(Duration::from_secs(5)))
            .await
            .unwrap();
        let sock = socket2::SockRef::from(&stream);
        assert!(sock.tcp_nodelay().unwrap());
        assert!(sock.keepalive().unwrap());
        assert_eq!(sock.tcp_keepalive_time().unwrap(), Duration::from_secs(30));
        assert!(sock.send_buffer_size().unwrap() >= 65536);
    }

    #[tokio::test]
    async fn refused_connection_names_the_address() {
        // Bind then drop to find a port with nothing listening.
        let listener =
            tcp_listener("127.0.0.1:0".parse().unwrap(), &SocketOptions::default()).unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = tcp_connect(&addr.to_string(), &[addr], &SocketOptions::default(), None)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("connect to {addr}: connection refused")
        );
    }

    #[tokio::test]
    async fn each_address_is_tried_in_turn() {
        let listener =
            tcp_listener("127.0.0.1:0".parse().unwrap(), &SocketOptions::default()).unwrap();
        let good = listener.local_addr().unwrap();
        let dead = tcp_listener("127.0.0.1:0".parse().unwrap(), &SocketOptions::default()).unwrap();
        let bad = dead.local_addr().unwrap();
        drop(dead);
        let stream = tcp_connect("x", &[bad, good], &SocketOptions::default(), None)
            .await
            .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good);
    }

    #[tokio::test]
    async fn bind_family_mismatch_is_explained() {
        let opts = SocketOptions {
            bind: Some("[::1]:0".parse().unwrap()),
            ..SocketOptions::default()
        };
        let err = tcp_connect("x", &["127.0.0.1:9".parse().unwrap()], &opts, None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("different families"), "{err}");
    }
}
