//! One client connection: the socket, its read buffer, and byte counts per direction.
//!
//! The stream is boxed behind [`Stream`] so plain TCP and TLS look the same to the
//! exchange logic; the counts give the wire view and `--trace` their offsets ("byte N
//! of what this connection received"), which stay meaningful across reused requests.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::error::ClientError;
use super::wire::{Observer, TlsInfo};

/// Read size: large reads keep syscalls per GiB low (curl reads 100 KiB, xh measured
/// 128 KiB as the sweet spot against a local nginx).
pub(crate) const READ_SIZE: usize = 256 * 1024;

/// Anything a connection can run over: a `TcpStream`, a TLS stream.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Which server a connection is for: only a request to the same one may reuse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub scheme: super::url::Scheme,
    pub host: String,
    pub port: u16,
}

/// A connection with its buffered, not yet consumed, received bytes.
pub(crate) struct Conn {
    pub key: Key,
    pub stream: Box<dyn Stream>,
    pub buf: BytesMut,
    /// Offset (in the received stream) of `buf[0]`.
    pub consumed: u64,
    /// Bytes read so far (= consumed + buf.len()).
    pub received: u64,
    /// Bytes written so far.
    pub sent: u64,
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
    pub tls: Option<TlsInfo>,
    /// The last exchange ended cleanly and both sides allow another.
    pub reusable: bool,
    /// Whether any exchange completed on this connection.
    pub used: bool,
    /// Pipelined requests written whose responses have not been read yet: bytes after
    /// a response then belong to the next one instead of being an error.
    pub in_flight: usize,
    /// Every address the name resolved to.
    pub addresses: Vec<SocketAddr>,
    /// Addresses that failed before one accepted.
    pub failed: Vec<(SocketAddr, String)>,
}

/// Runs an I/O future against an optional deadline.
pub(crate) async fn by<T>(
    deadline: Option<Instant>,
    what: impl FnOnce() -> String,
    fut: impl std::future::Future<Output = std::io::Result<T>>,
) -> Result<T, ClientError> {
    let result = match deadline {
        Some(at) => match tokio::time::timeout_at(at, fut).await {
            Ok(r) => r,
            Err(_) => return Err(ClientError::Timeout(format!("{}: timed out", what()))),
        },
        None => fut.await,
    };
    result.map_err(|source| ClientError::Io {
        context: what(),
        source,
    })
}

impl Conn {
    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    pub async fn fill(
        &mut self,
        deadline: Option<Instant>,
        obs: &mut dyn Observer,
    ) -> Result<usize, ClientError> {
        if self.buf.capacity() - self.buf.len() < READ_SIZE / 4 {
            self.buf.reserve(READ_SIZE);
        }
        let start = self.buf.len();
        let peer = self.peer_text();
        let n = by(
            deadline,
            || format!("reading the response from {peer}"),
            self.stream.read_buf(&mut self.buf),
        )
        .await?;
        if n > 0 {
            obs.received(self.received, &self.buf[start..start + n]);
            self.received += n as u64;
        }
        Ok(n)
    }

    /// Drops `n` buffered bytes that were dealt with.
    pub fn advance(&mut self, n: usize) -> bytes::Bytes {
        self.consumed += n as u64;
        self.buf.split_to(n).freeze()
    }

    /// Writes all of `data`, reporting it to the observer.
    pub async fn write(
        &mut self,
        data: &[u8],
        deadline: Option<Instant>,
        obs: &mut dyn Observer,
    ) -> Result<(), ClientError> {
        let peer = self.peer_text();
        by(
            deadline,
            || format!("sending the request to {peer}"),
            self.stream.write_all(data),
        )
        .await?;
        obs.sent(self.sent, data);
        self.sent += data.len() as u64;
        Ok(())
    }

    /// Flushes buffered writes (TLS keeps records until flushed).
    pub async fn flush(&mut self, deadline: Option<Instant>) -> Result<(), ClientError> {
        let peer = self.peer_text();
        by(
            deadline,
            || format!("sending the request to {peer}"),
            self.stream.flush(),
        )
        .await
    }

    pub fn peer_text(&self) -> String {
        match self.peer {
            Some(p) => p.to_string(),
            None => format!("{}:{}", self.key.host, self.key.port),
        }
    }
}

/// A deadline `limit` from now, if any.
pub(crate) fn deadline(limit: Option<Duration>) -> Option<Instant> {
    limit.map(|d| Instant::now() + d)
}
