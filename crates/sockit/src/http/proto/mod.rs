//! The HTTP/1.1 message model, shared by the server and the client.
//!
//! Everything here is sans-I/O: functions take bytes (or parsed heads) and return
//! values, so the same rules for where a message ends, what a field means and which
//! ranges or validators apply hold at both ends of a connection, and can be tested and
//! fuzzed without sockets.
//!
//! - [`request`]: request heads, tokenized by `httparse` and checked against the
//!   framing rules (smuggling, limits).
//! - [`response`]: response heads rendered straight into a write buffer.
//! - [`fields`]: field syntax (tokens, lists, whitespace) and field lines.
//! - [`body`]: bodies delimited by `Content-Length` or chunked coding.
//! - [`range`], [`conditional`]: `Range` and validators (RFC 9110 §13, §14).
//! - [`date`]: HTTP dates and the cheap clock they come from.
//! - [`response_head`], [`chunked`]: the client's side: response heads with byte
//!   offsets, where a response body ends, chunked bodies with extensions and trailers.

pub mod body;
pub mod chunked;
pub mod conditional;
pub mod date;
pub mod fields;
pub mod range;
pub mod request;
pub mod response;
pub mod response_head;

pub use body::{BodyDecoder, BodyError};
pub use request::{Framing, HeadError, Method, Request};
