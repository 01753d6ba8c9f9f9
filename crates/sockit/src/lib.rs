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
//! - [`relay`]: port forwarding between TCP and Unix-domain endpoints.
//! - [`scan`]: which ports of one host are open (TCP connect and UDP scans).
//! - [`http`]: HTTP/1.1 message parsing, server, static files, client.
//! - [`tls`]: rustls configurations for clients and servers, certificates.
//! - [`stdio`]: stdin and stdout on dedicated threads, for bulk data through pipes.
//! - [`event`]: what long-running calls report (the library never prints).
//! - [`text`]: making peer bytes safe to show on a terminal.
//! - [`transfer`]: verified, resumable file transfer (`sockit send` / `sockit recv`).
//! - [`demo`]: demonstrations of networking concepts (sticky packets, handshake, SO_REUSEADDR).
//! - [`wire`]: packets (capture, decode, pcap), socket states, ping, interfaces, names.

#![warn(missing_docs)]

pub mod demo;
pub mod event;
pub mod frame;
pub mod http;
pub mod net;
pub mod records;
pub mod relay;
pub mod scan;
pub mod stdio;
pub mod tcp;
pub mod text;
pub mod tls;
pub mod transfer;
pub mod udp;
pub mod wire;
