//! HTTP/1.1: a static file server built on sockit's own connection loop.
//!
//! Requests are tokenized by `httparse`; everything after that is ours: framing rules
//! (keep-alive, pipelining, `Expect: 100-continue`, chunked bodies), limits and timeouts,
//! safe path resolution, conditional and range requests, and zero-copy file bodies with
//! `sendfile(2)`. The modules follow the life of a request:
//!
//! - [`server`]: listening sockets, one worker per core, connection limit, shutdown.
//! - [`conn`]: one connection: read heads, answer in order, keep-alive, timeouts.
//! - [`stream`]: the socket with its pooled read/write buffers.
//! - [`message`]: request head parsing and validation (smuggling rules, limits).
//! - [`body`]: request bodies (`Content-Length`, chunked), `100 Continue`.
//! - [`handler`]: turns a request into a response plan (methods, auth, CORS).
//! - [`get`]: GET/HEAD of files: representation, validators, ranges.
//! - [`path`], [`files`], [`cache`]: safe path resolution and cached file metadata.
//! - [`range`], [`conditional`]: `Range` and validator logic (RFC 9110).
//! - [`listing`], [`upload`], [`form`]: directory pages, PUT/DELETE, form uploads.
//! - [`response`], [`sendfile`], [`log`]: head rendering, zero-copy bodies, access log.

pub mod balance;
pub mod body;
pub mod cache;
pub mod clock;
pub mod compress;
pub mod conditional;
pub mod config;
pub mod conn;
pub mod files;
pub mod form;
pub mod get;
pub mod handler;
pub mod listing;
pub mod log;
pub mod message;
pub mod multipart;
pub mod path;
pub mod range;
pub mod response;
pub mod sendfile;
pub mod server;
pub mod stream;
pub mod upload;
pub mod watch;

pub use config::{parse_size, LogFormat, ServeConfig};
pub use server::{serve, Server};
