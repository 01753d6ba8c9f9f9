//! Demonstrations of networking concepts on loopback, one file each: each runs in
//! seconds, says what it does, shows what the kernel did, and ends with a one-line
//! conclusion.
//!
//! - [`sticky`]: TCP's "sticky packets" and their cure by framing.
//! - [`handshake`]: the three-way handshake, the four-way close, and TIME-WAIT left on
//!   the side that closed first.
//! - [`reuseaddr`]: why a restarted server gets `EADDRINUSE`, and what `SO_REUSEADDR`
//!   changes.
//! - [`close`]: an empty `recv` when the peer closes, `EPIPE`/`ECONNRESET` when writing
//!   to a closed peer, and what `SO_LINGER` 0 changes.
//! - [`udp`]: datagram boundaries kept, truncation, one socket serving many peers.
//! - [`buffers`]: how much `send` accepts before it blocks when the peer does not read.
//! - [`broadcast`]: one datagram to every receiver, and `EACCES` without `SO_BROADCAST`.

pub mod broadcast;
pub mod buffers;
pub mod close;
pub mod handshake;
pub mod reuseaddr;
pub mod sticky;
pub mod udp;

pub use sticky::{messages, sticky, StickyReport, RECV_SIZE};

use std::net::SocketAddr;
use std::time::Duration;

use crate::wire::sockets::{self, SocketEntry, SocketQuery};

/// The TCP sockets on `port` right now (both ends of a loopback connection), read with
/// netlink `sock_diag`; empty if they cannot be read.
pub(crate) fn tcp_sockets_on(port: u16) -> Vec<SocketEntry> {
    let q = SocketQuery {
        port: Some(port),
        tcp: true,
        ..Default::default()
    };
    sockets::list(&q).unwrap_or_default()
}

/// The state (as `ss` names it, with a TIME-WAIT's remaining time) of the socket whose
/// local address is `local`, or `gone`.
pub(crate) fn state_of(all: &[SocketEntry], local: SocketAddr, peer: Option<SocketAddr>) -> String {
    all.iter()
        .find(|e| e.local == local && peer.is_none_or(|p| e.peer == p))
        .map(|e| match e.timer {
            Some((_, left)) if e.state == crate::wire::sockets::TcpState::TimeWait => {
                format!("{} ({:.0} s left)", e.state.ss_name(), left.as_secs_f64())
            }
            _ => e.state.ss_name().to_string(),
        })
        .unwrap_or_else(|| "gone (closed)".to_string())
}

/// Lets the kernel finish a step (ACKs on loopback take microseconds) before reading
/// states.
pub(crate) fn settle() {
    std::thread::sleep(Duration::from_millis(50));
}
