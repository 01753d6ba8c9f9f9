//! UDP send, listen and broadcast.
//!
//! UDP keeps message boundaries (one `sendto` is one `recvfrom`: no sticky packets) but
//! nothing else: datagrams may be lost, duplicated or reordered, and a datagram longer
//! than the receiver's buffer is cut. The course's `recvfrom(1024)` silently drops the
//! rest; [`listen()`] detects it (`MSG_TRUNC` returns the real length) and says so.
//!
//! - [`mod@send`]: `sockit udp send`: one datagram per message or stdin line, optional wait
//!   for a reply, broadcast with `SO_BROADCAST`.
//! - [`mod@listen`]: `sockit udp listen`: print or echo every datagram with its sender.
//! - [`reply`]: answering senders from stdin (`udp listen --reply`).
//! - [`session`]: an interactive exchange with one peer (`udp send --interactive`).

pub mod batch;
pub mod listen;
pub mod reply;
pub mod send;
pub mod session;

pub use listen::{listen, recv_datagram, Datagram, ListenConfig};
pub use send::{send_messages, SendConfig, SendError};

/// The largest UDP payload over IPv4: 65535 (IP total length) - 20 (IP header) - 8 (UDP
/// header).
pub const MAX_DATAGRAM_V4: usize = 65507;

/// The largest UDP payload over IPv6 without jumbograms: 65535 (payload length, which
/// excludes the 40-byte IPv6 header) - 8 (UDP header).
pub const MAX_DATAGRAM_V6: usize = 65527;

/// The default receive buffer of `udp listen` and of replies: enough for any datagram.
pub const DEFAULT_BUFFER: usize = 65536;

/// The largest receive buffer worth having: a UDP datagram is at most 65,535 bytes (the
/// 16-bit length field), so a bigger buffer could never be filled; `udp listen` keeps one
/// per `recvmmsg` slot, so `--buffer 64G` must be refused, not allocated.
pub const MAX_BUFFER: usize = 65536;
