//! The wire view: what the client hands its caller about each exchange.
//!
//! Debugging HTTP means seeing the bytes that really crossed the socket, not a request
//! rebuilt afterwards. The client calls an [`Observer`] with the exact bytes it wrote
//! and read, the heads as they were on the wire, the connection it used and when each
//! step finished; the caller decides how to show them (the `sockit` binary renders
//! `-v`, `--timing` and `--trace`). The library itself never prints.

use std::net::SocketAddr;
use std::time::Duration;

use crate::http::proto::response_head::ResponseHead;

/// Which connection an exchange used and how it was reached.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// `host:port` as the URL named it.
    pub target: String,
    /// Every address the name resolved to, in the order tried.
    pub addresses: Vec<SocketAddr>,
    /// Addresses that refused or timed out before one accepted, with the reason.
    pub failed: Vec<(SocketAddr, String)>,
    /// Our end of the connection.
    pub local: Option<SocketAddr>,
    /// The server's end.
    pub peer: Option<SocketAddr>,
    /// True when a kept-alive connection from an earlier request was reused.
    pub reused: bool,
    /// TLS session facts, for `https://`.
    pub tls: Option<TlsInfo>,
}

/// What the TLS handshake settled on, and who the server proved to be.
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    /// `TLSv1_3`, `TLSv1_2`.
    pub version: String,
    /// The negotiated cipher suite.
    pub cipher: String,
    /// The ALPN protocol agreed (`http/1.1`), if any.
    pub alpn: Option<String>,
    /// The leaf certificate's subject.
    pub subject: String,
    /// Its issuer.
    pub issuer: String,
    /// Validity, `not before` and `not after`.
    pub validity: (String, String),
    /// SHA-256 of the leaf certificate (DER), hex with colons.
    pub fingerprint: String,
}

/// When each step of one exchange finished, measured from the exchange's start.
///
/// A step that did not happen (no resolution for an IP literal, no connect on a
/// reused connection, no TLS on `http://`) is `None`.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    /// Name resolution done.
    pub resolve: Option<Duration>,
    /// TCP handshake done.
    pub connect: Option<Duration>,
    /// TLS handshake done.
    pub tls: Option<Duration>,
    /// Request head and body written.
    pub written: Option<Duration>,
    /// First byte of the response arrived.
    pub first_byte: Option<Duration>,
    /// Final response head complete.
    pub head: Option<Duration>,
    /// Body complete.
    pub body: Option<Duration>,
}

/// Receives what happens on the wire during an exchange. Every method has an empty
/// default, so an observer implements only what it shows.
pub trait Observer: Send {
    /// A connection is ready (new or reused).
    fn connected(&mut self, _info: &ConnectionInfo) {}
    /// Bytes written to the connection; `offset` counts from the connection's first
    /// byte sent.
    fn sent(&mut self, _offset: u64, _data: &[u8]) {}
    /// Bytes read from the connection; `offset` counts from its first byte received.
    fn received(&mut self, _offset: u64, _data: &[u8]) {}
    /// The request head, exactly as written.
    fn request_head(&mut self, _raw: &[u8]) {}
    /// A response head exactly as read; `interim` for 1xx responses before the final.
    fn response_head(&mut self, _head: &ResponseHead, _raw: &[u8], _interim: bool) {}
    /// The trailer section of a chunked body, as read.
    fn trailers(&mut self, _raw: &[u8]) {}
    /// The exchange finished (body complete).
    fn finished(&mut self, _timing: &Timing) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Quiet;

impl Observer for Quiet {}
