//! TCP client and server.
//!
//! - [`client`]: `sockit tcp connect`: stdin to the socket and the socket to stdout,
//!   full-duplex, half-close on end of input.
//! - [`server`]: `sockit tcp listen`: many clients at once, one task each; print, echo
//!   or chat mode; graceful shutdown.
//!
//! What the course teaches about TCP shows up here as behaviour: a `recv` of 0 bytes
//! means the peer closed, and ends only that client; a `send` to a peer that is gone
//! fails with `EPIPE`/`ECONNRESET` (Python's `BrokenPipeError`) and also ends only that
//! client; a listening socket serves many connections, each with its own socket.

pub mod budget;
mod chat;
pub mod client;
pub mod delivery;
mod handler;
pub mod hub;
pub mod idle;
pub mod prefix;
pub mod server;

pub use client::{run_client, ClientConfig, ClientError};
pub use server::{serve, ConnError, Mode, ServeError, ServerConfig, SlowClient};
