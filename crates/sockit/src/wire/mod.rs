//! What the kernel does below the socket API: packets, states, interfaces, names.
//!
//! A `send` on a TCP socket becomes segments with sequence numbers, flags and windows;
//! a `connect` is three packets (the handshake) and a `close` four (the close); a closed
//! connection lingers in TIME-WAIT. None of that shows through the socket API. This
//! module shows it:
//!
//! - [`capture`]: a raw `AF_PACKET` socket (the course's `SOCK_RAW`) with a classic BPF
//!   [`filter`], [`decode`]d layer by layer and annotated by a TCP [`track`]er
//!   (`sockit trace`); [`pcap`] files for tcpdump and Wireshark.
//! - [`sockets`]: every TCP/UDP socket and its state through netlink `sock_diag`
//!   (`sockit sockets`, like `ss`).
//! - [`ping`]: ICMP echo through an ICMP datagram socket or a raw one (`sockit ping`).
//! - [`ifaces`]: interfaces, addresses, prefixes, broadcast addresses, MTU, flags
//!   (`sockit ifaces`, like `ip addr`/`ifconfig`).
//! - [`resolve`]: what `getaddrinfo` returns for a name (`sockit resolve`).

pub mod capture;
pub mod decode;
pub mod filter;
pub mod ifaces;
pub(crate) mod netlink;
pub mod pcap;
pub mod ping;
pub mod resolve;
pub mod sockets;
pub mod track;

/// Registers a nonblocking socket with tokio's reactor, readable only (packet, ICMP and
/// capture sockets are read-driven; their rare sends are made directly).
pub(crate) fn register(
    sock: socket2::Socket,
) -> std::io::Result<tokio::io::unix::AsyncFd<socket2::Socket>> {
    // SAFETY: `Socket` owns its descriptor for as long as the AsyncFd lives, never
    // closes or replaces it while registered, and always reports the same raw fd.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(sock, tokio::io::Interest::READABLE) }
        .map_err(std::io::Error::from)
}
