//! sockit: the library behind the `sockit` binary.
//!
//! Each module is usable on its own from Rust; the binary is a thin layer that turns
//! command-line flags into calls to these modules.
//!
//! - [`net`]: address parsing and resolution, socket building (socket2), socket info.
//! - [`frame`]: message framing codecs, the cure for TCP's "sticky packets".
//! - [`tcp`]: TCP client and server (echo, chat, stdin fan-out).
//! - [`udp`]: UDP send, listen, broadcast.
//! - [`records`]: Python `struct` records on the wire (`--pack`, `--unpack`).
//! - [`http`]: HTTP/1.1 message parsing, server, static files, client.
//! - [`tls`]: rustls configurations for clients and servers, certificates.
//! - [`stdio`]: stdin and stdout on dedicated threads, for bulk data through pipes.
//! - [`event`]: what long-running calls report (the library never prints).
//! - [`text`]: making peer bytes safe to show on a terminal.
//! - [`demo`]: demonstrations of networking concepts (sticky packets).

#![warn(missing_docs)]

pub mod demo;
pub mod error;
pub mod event;
pub mod frame;
pub mod http;
pub mod net;
pub mod records;
pub mod stdio;
pub mod tcp;
pub mod text;
pub mod tls;
pub mod udp;

pub use error::UsageError;
