//! The HTTP/1.1 client: connections, keep-alive reuse, bodies, and the wire view.
//!
//! Built on the same message model as the server ([`crate::http::proto`]): response
//! heads are tokenized by `httparse`, framing follows RFC 9112 §6.3, chunked bodies are
//! decoded by a sans-I/O decoder. The client is made for seeing and checking what a
//! server does, so it
//!
//! - sends the request head exactly as described ([`Request::head`]) and tells its
//!   [`Observer`] the bytes it wrote and read, with connection offsets;
//! - never mistakes a 1xx interim response for the final one;
//! - treats a body shorter than announced, a bad chunk, or bytes after a complete
//!   response as an error naming the byte offset ([`ClientError::Malformed`]);
//! - keeps one connection per server alive across requests, and retries once on a
//!   fresh connection when a kept-alive one turns out to have been closed by the server
//!   before it answered (a race every keep-alive client must handle).
//!
//! ```no_run
//! # async fn demo() -> Result<(), sockit::http::client::ClientError> {
//! use sockit::http::client::{Client, ClientOptions, Quiet, Request, Url};
//! let mut client = Client::new(ClientOptions::default());
//! let url = Url::parse("http://127.0.0.1:8000/").map_err(sockit::http::client::ClientError::Request)?;
//! let mut resp = client.send(&Request::new("GET", url), &mut Quiet).await?;
//! while let Some(chunk) = resp.chunk(&mut Quiet).await? {
//!     let _ = chunk; // write it somewhere
//! }
//! # Ok(()) }
//! ```

pub mod check;
mod conn;
pub mod decode;
mod error;
pub mod raw;
mod request;
mod response;
mod send;
mod url;
mod wire;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use crate::http::proto::chunked::ChunkedDecoder;
use crate::http::proto::response_head::{self, BodyLength, ResponseError, ResponseHead};
use crate::net::socket::{tcp_connect, SocketOptions};

pub use conn::Stream;
use conn::{deadline, Conn, Key};
pub use error::ClientError;
pub use request::{Body, HeaderLine, Piece, Request, MAX_REQUEST_HEAD};
pub use response::Response;
use response::*;
pub use send::EXPECT_WAIT;
use send::*;
pub use url::{Scheme, Url};
pub use wire::{ConnectionInfo, Observer, Quiet, Timing, TlsInfo};

/// Most interim (1xx) responses accepted before the final one.
pub const MAX_INTERIM: usize = 16;

/// The handshake future a [`TlsConnect`] returns: the TLS stream and what it agreed on.
pub type TlsHandshake<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<(Box<dyn Stream>, TlsInfo), ClientError>>
            + Send
            + 'a,
    >,
>;

/// Turns a connected TCP stream into a TLS stream for `https://` (see
/// [`crate::tls`]); boxed so the client does not depend on one TLS library's types.
pub trait TlsConnect: Send + Sync {
    /// Runs the handshake for `server_name` over `tcp`.
    fn connect<'a>(&'a self, server_name: &'a str, tcp: tokio::net::TcpStream) -> TlsHandshake<'a>;
}

/// How the client connects and how long it waits.
#[derive(Default)]
pub struct ClientOptions {
    /// Bounds resolution plus the TCP (and TLS) handshake of each new connection.
    pub connect_timeout: Option<Duration>,
    /// Bounds each whole exchange, from connecting to the last body byte.
    pub timeout: Option<Duration>,
    /// `--resolve host:port:addr`: these names skip DNS.
    pub resolve: Vec<(String, u16, IpAddr)>,
    /// Socket options for new connections.
    pub socket: SocketOptions,
    /// TLS for `https://`; without it https URLs are refused.
    pub tls: Option<Box<dyn TlsConnect>>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("resolve", &self.resolve)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// An HTTP/1.1 client keeping one kept-alive connection per server (up to
/// [`MAX_IDLE`] servers besides the current one), which is what a command line of URLs
/// needs.
pub struct Client {
    opts: ClientOptions,
    conn: Option<Conn>,
    /// Pipelined requests sent and not yet answered, oldest first.
    pending: std::collections::VecDeque<Request>,
    /// Kept-alive connections to other servers than the current one's.
    idle: Vec<Conn>,
}

/// Most idle kept-alive connections held (one per server, oldest dropped first).
pub const MAX_IDLE: usize = 8;

/// Most requests in flight at once with [`Client::send_ahead`].
pub const MAX_PIPELINE: usize = 1024;

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("opts", &self.opts)
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl Client {
    /// A client with these options and no connection yet.
    pub fn new(opts: ClientOptions) -> Client {
        Client {
            opts,
            conn: None,
            pending: std::collections::VecDeque::new(),
            idle: Vec::new(),
        }
    }

    /// Sends `req` and reads up to the final response head; the body follows through
    /// [`Response::chunk`]. A kept-alive connection to the same server is reused.
    pub async fn send<'c>(
        &'c mut self,
        req: &Request,
        obs: &mut dyn Observer,
    ) -> Result<Response<'c>, ClientError> {
        let started = Instant::now();
        let deadline = deadline(self.opts.timeout);
        let key = Key {
            scheme: req.url.scheme,
            host: req.url.host.to_ascii_lowercase(),
            port: req.url.port,
        };
        let reuse = self
            .conn
            .as_ref()
            .is_some_and(|c| c.reusable && c.key == key);
        if !reuse {
            // Park a reusable connection to another server, and take one kept for this
            // server if there is one: URLs alternating between hosts each keep theirs.
            if let Some(c) = self.conn.take().filter(|c| c.reusable) {
                if self.idle.len() >= MAX_IDLE {
                    self.idle.remove(0);
                }
                self.idle.push(c);
            }
            if let Some(pos) = self.idle.iter().position(|c| c.key == key) {
                self.conn = Some(self.idle.swap_remove(pos));
            }
        }
        let mut timing = Timing::default();
        let (body_len, head) = prepare(req).await?;
        // A server may close a kept-alive connection just as we reuse it; then nothing at
        // all comes back, and the request is sent again on a new connection (once).
        for attempt in 0..2 {
            let reused = self.conn.is_some();
            if !reused {
                let conn = self
                    .connect(&req.url, key.clone(), &mut timing, started)
                    .await?;
                self.conn = Some(conn);
            }
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            obs.connected(&ConnectionInfo {
                target: format!("{}:{}", req.url.host, req.url.port),
                addresses: conn.addresses.clone(),
                failed: conn.failed.clone(),
                local: conn.local,
                peer: conn.peer,
                reused,
                tls: conn.tls.clone(),
            });
            conn.reusable = false;
            let base = conn.consumed;
            let body_sent = match exchange_head(conn, req, &head, body_len, deadline, obs).await {
                Ok(sent) => sent,
                Err(e) if reused && attempt == 0 && is_stale(&e) => {
                    self.conn = None;
                    continue;
                }
                Err(e) => return Err(e),
            };
            timing.written = Some(started.elapsed());
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            match read_final_head(conn, base, deadline, started, &mut timing, obs).await {
                Ok((head, raw, interim)) => {
                    let conn = match self.conn.as_mut() {
                        Some(c) => c,
                        None => unreachable_conn()?,
                    };
                    let mut resp = Response::start(
                        conn,
                        req,
                        (head, raw),
                        interim,
                        base,
                        started,
                        timing,
                        deadline,
                    )?;
                    if !body_sent {
                        // The server answered before the body was sent: the connection
                        // is out of step (it may still expect the body), so not reused.
                        resp.keep_alive = false;
                        resp.conn.reusable = false;
                    }
                    return Ok(resp);
                }
                Err(e)
                    if reused
                        && attempt == 0
                        && is_stale(&e)
                        && conn_received_nothing(self.conn.as_ref(), base) =>
                {
                    self.conn = None;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Err(ClientError::Malformed {
            peer: format!("{}:{}", req.url.host, req.url.port),
            error: ResponseError::truncated(
                "empty reply: the server closed the connection twice before answering",
                0,
            ),
        })
    }

    /// Opens a new connection (resolution, TCP, TLS for https).
    async fn connect(
        &mut self,
        url: &Url,
        key: Key,
        timing: &mut Timing,
        started: Instant,
    ) -> Result<Conn, ClientError> {
        let connect_deadline = deadline(self.opts.connect_timeout);
        let overridden = self
            .opts
            .resolve
            .iter()
            .find(|(h, p, _)| h.eq_ignore_ascii_case(&url.host) && *p == url.port);
        let addrs: Vec<SocketAddr> = match overridden {
            Some((_, port, ip)) => vec![SocketAddr::new(*ip, *port)],
            None => {
                let hp = url.host_port().map_err(ClientError::Request)?;
                let addrs = hp.resolve(self.opts.connect_timeout).await?;
                if hp.literal().is_none() {
                    timing.resolve = Some(started.elapsed());
                }
                addrs
            }
        };
        let target = format!("{}:{}", url.host_header(), url.port);
        // One address at a time, so the wire view can say which ones failed before one
        // accepted (`localhost` is often ::1 then 127.0.0.1).
        let mut failed = Vec::new();
        let mut attempts = Vec::new();
        let mut connected = None;
        for &addr in &addrs {
            let remaining = connect_deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match tcp_connect(&target, &[addr], &self.opts.socket, remaining).await {
                Ok(tcp) => {
                    connected = Some(tcp);
                    break;
                }
                Err(mut e) => {
                    for (a, err) in e.attempts.drain(..) {
                        failed.push((a, crate::net::error::describe(&err)));
                        attempts.push((a, err));
                    }
                }
            }
        }
        let Some(tcp) = connected else {
            return Err(crate::net::socket::ConnectError { target, attempts }.into());
        };
        timing.connect = Some(started.elapsed());
        let local = tcp.local_addr().ok();
        let peer = tcp.peer_addr().ok();
        let (stream, tls): (Box<dyn Stream>, Option<TlsInfo>) = match url.scheme {
            Scheme::Http => (Box::new(tcp), None),
            Scheme::Https => {
                let Some(tls) = self.opts.tls.as_ref() else {
                    return Err(ClientError::Tls(
                        "https:// needs TLS, which this client was built without".into(),
                    ));
                };
                let handshake = tls.connect(&url.host, tcp);
                let (stream, info) = match connect_deadline {
                    Some(at) => tokio::time::timeout_at(at, handshake).await.map_err(|_| {
                        ClientError::Timeout(format!("TLS handshake with {target}: timed out"))
                    })??,
                    None => handshake.await?,
                };
                timing.tls = Some(started.elapsed());
                (stream, Some(info))
            }
        };
        Ok(Conn {
            key,
            stream,
            buf: BytesMut::with_capacity(conn::READ_SIZE),
            consumed: 0,
            received: 0,
            sent: 0,
            local,
            peer,
            tls,
            reusable: false,
            used: false,
            in_flight: 0,
            addresses: addrs,
            failed,
        })
    }

    /// Pipelining: writes a bodiless request without waiting for earlier answers
    /// (RFC 9112 §9.3.2); [`Client::receive`] then reads the answers in order. Only
    /// requests to the server of the requests already in flight, and at most
    /// [`MAX_PIPELINE`] of them; a body is refused (a non-idempotent request must not be
    /// replayed if the connection closes under it).
    pub async fn send_ahead(
        &mut self,
        req: &Request,
        obs: &mut dyn Observer,
    ) -> Result<(), ClientError> {
        if !matches!(req.body, Body::Empty) {
            return Err(ClientError::Request(
                "only requests without a body can be pipelined".into(),
            ));
        }
        if self.pending.len() >= MAX_PIPELINE {
            return Err(ClientError::Request(format!(
                "more than {MAX_PIPELINE} requests in flight"
            )));
        }
        let key = key_of(&req.url);
        if let Some(first) = self.pending.front() {
            if key_of(&first.url) != key {
                return Err(ClientError::Request(
                    "pipelined requests must go to one server; receive the answers first".into(),
                ));
            }
        }
        let deadline = deadline(self.opts.timeout);
        let ready = self
            .conn
            .as_ref()
            .is_some_and(|c| c.key == key && (c.reusable || !self.pending.is_empty()));
        if !ready {
            self.conn = None;
            let mut timing = Timing::default();
            let conn = self
                .connect(&req.url, key, &mut timing, Instant::now())
                .await?;
            self.conn = Some(conn);
        }
        let Some(conn) = self.conn.as_mut() else {
            return unreachable_conn();
        };
        if self.pending.is_empty() {
            obs.connected(&ConnectionInfo {
                target: format!("{}:{}", req.url.host, req.url.port),
                addresses: conn.addresses.clone(),
                failed: conn.failed.clone(),
                local: conn.local,
                peer: conn.peer,
                reused: ready,
                tls: conn.tls.clone(),
            });
        }
        let head = req.head(None).map_err(ClientError::Request)?;
        obs.request_head(&head);
        conn.reusable = false;
        conn.write(&head, deadline, obs).await?;
        conn.flush(deadline).await?;
        conn.in_flight += 1;
        self.pending.push_back(req.clone());
        Ok(())
    }

    /// Reads the answer to the oldest pipelined request. When the server closed the
    /// connection after an answer (a keep-alive limit), the unanswered requests are sent
    /// again on a new connection (they are bodiless, so replaying them is safe).
    pub async fn receive(&mut self, obs: &mut dyn Observer) -> Result<Response<'_>, ClientError> {
        let started = Instant::now();
        let deadline = deadline(self.opts.timeout);
        for attempt in 0..2 {
            let Some(req) = self.pending.front().cloned() else {
                return Err(ClientError::Request("no request in flight".into()));
            };
            let Some(conn) = self.conn.as_mut() else {
                return unreachable_conn();
            };
            let base = conn.consumed;
            let mut timing = Timing::default();
            match read_final_head(conn, base, deadline, started, &mut timing, obs).await {
                Ok((head, raw, interim)) => {
                    self.pending.pop_front();
                    let Some(conn) = self.conn.as_mut() else {
                        return unreachable_conn();
                    };
                    conn.in_flight = conn.in_flight.saturating_sub(1);
                    let resp = Response::start(
                        conn,
                        &req,
                        (head, raw),
                        interim,
                        base,
                        started,
                        timing,
                        deadline,
                    )?;
                    return Ok(resp);
                }
                Err(e)
                    if attempt == 0
                        && is_stale(&e)
                        && conn_received_nothing(self.conn.as_ref(), base) =>
                {
                    // Closed under us: replay what is unanswered on a new connection.
                    let replay: Vec<Request> = self.pending.drain(..).collect();
                    self.conn = None;
                    for r in &replay {
                        self.send_ahead(r, obs).await?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(ClientError::Malformed {
            peer: "server".into(),
            error: ResponseError::truncated(
                "the server closed the connection twice before answering",
                0,
            ),
        })
    }

    /// Closes the kept-alive connections, if any.
    pub fn close(&mut self) {
        self.conn = None;
        self.idle.clear();
    }
}

fn key_of(url: &Url) -> Key {
    Key {
        scheme: url.scheme,
        host: url.host.to_ascii_lowercase(),
        port: url.port,
    }
}

fn unreachable_conn<T>() -> Result<T, ClientError> {
    Err(ClientError::Io {
        context: "connection lost".into(),
        source: std::io::ErrorKind::NotConnected.into(),
    })
}

fn conn_received_nothing(conn: Option<&Conn>, base: u64) -> bool {
    conn.is_none_or(|c| c.received == base)
}

/// A failure that, on a reused connection, means the server had already closed it.
fn is_stale(e: &ClientError) -> bool {
    match e {
        ClientError::Io { source, .. } => matches!(
            source.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
        ),
        ClientError::Malformed { error, .. } => error.truncated && error.offset == 0,
        _ => false,
    }
}
