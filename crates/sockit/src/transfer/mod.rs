//! File transfer over one TCP connection: `sockit send` and `sockit recv`.
//!
//! The course's last exercise sends a file from one program to another over a stream
//! socket. Done naively (`sendall(open(f).read())` on one side, `recv` until the peer
//! closes on the other) it has no boundaries between files, no verification, and leaves a
//! half-written file when the connection is cut. This module is that exercise done
//! properly; docs/protocol.md is the contract, written so a peer can be built from it.
//!
//! - [`proto`], [`records`]: the wire format (pystruct-packed fixed fields, bounded
//!   lengths).
//! - [`paths`]: the path rules an offer must pass, and escaping of peer-supplied names.
//! - [`fs`]: safe writes below a folder handle (`openat2`, `renameat2(RENAME_NOREPLACE)`),
//!   part files, syncing, free space.
//! - [`walk`]: turning local paths into an offer (the sender's manifest).
//! - [`send`], [`recv`]: the two ends of a session.
//! - [`discover`]: finding receivers by UDP broadcast.

pub mod discover;
pub mod fs;
pub mod paths;
pub mod plan;
pub mod proto;
#[cfg(test)]
mod proto_tests;
pub mod records;
pub mod recv;
pub mod report;
pub mod send;
mod sink;
pub mod walk;

/// The TCP port `sockit recv` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 47470;

/// The UDP port discovery queries go to.
pub const DISCOVERY_PORT: u16 = 47471;

/// 16 bytes that differ between sessions (session ids, discovery nonces). They name a
/// session in logs and match answers to queries; nothing relies on them being secret.
pub(crate) fn random16() -> [u8; 16] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = blake3::Hasher::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.update(&now.to_le_bytes());
    h.update(&std::process::id().to_le_bytes());
    h.update(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    if let Ok(boot) = std::fs::read("/proc/sys/kernel/random/uuid") {
        h.update(&boot);
    }
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize().as_bytes()[..16]);
    out
}
