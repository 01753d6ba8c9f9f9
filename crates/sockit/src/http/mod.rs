//! HTTP/1.1: a static file server built on sockit's own connection engine, and the
//! message model the server and the client share.
//!
//! Requests are tokenized by `httparse`; everything after that is ours. The module has
//! three rooms:
//!
//! - [`proto`]: the message model, sans-I/O: request and response heads, field syntax,
//!   bodies by length and chunked, ranges, validators, dates.
//! - `server`: the engine: listeners, workers, the connection loop, keep-alive,
//!   limits, timeouts, `sendfile(2)`, the access log, graceful shutdown. It serves any
//!   application through one small trait.
//! - `site`: the static-file application: safe paths, cached files, listings,
//!   uploads, compression.
//!
//! - [`client`]: the HTTP/1.1 client: connections kept alive per server, bodies, the
//!   wire view handed to an [`client::Observer`], `--check` and `http raw`.
//!
//! A Rust program serves a folder with [`ServeConfig`] and [`Server`] (or [`serve`]),
//! and fetches with [`client::Client`].

pub mod client;
mod config;
pub mod proto;
mod serve;
pub(crate) mod server;
pub(crate) mod site;

pub use config::{check_header, ConfigError, ServeConfig, MAX_DURATION, MAX_WORKERS};
pub use serve::{serve, Handle, Server};
pub use server::{LogFormat, LogSink, Spread};

/// What the fuzz targets reach into; not part of the supported API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::site::multipart;
    pub use super::site::path;
}
