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

pub mod paths;
pub mod proto;
pub mod records;

/// The TCP port `sockit recv` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 47470;

/// The UDP port discovery queries go to.
pub const DISCOVERY_PORT: u16 = 47471;
