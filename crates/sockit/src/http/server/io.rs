//! The client socket with its read and write buffers.
//!
//! Buffers come from a per-thread pool and go back to it whenever a connection sits
//! idle, so ten thousand idle keep-alive clients cost little more than their sockets.
//! Reads clear tokio's readiness on a short read (see `Io::read_some`); writes try the
//! socket synchronously first and only await when it is full.

use std::cell::RefCell;
use std::io;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

use super::sendfile;
use crate::http::proto::body::{BodyDecoder, BodyError};

/// Read buffer size while reading request bodies.
const BODY_BUF: usize = 64 * 1024;
/// Read buffer size; heads up to 16 KiB grow it temporarily.
const READ_BUF: usize = 8 * 1024;
/// Buffers of each kind kept per thread for reuse.
const POOL_MAX: usize = 64;
/// Buffers bigger than this are freed instead of pooled ("shrunk back").
const POOL_BUF_MAX: usize = 80 * 1024;

/// Which pool a buffer belongs to. Read buffers keep their full (initialized) length so
/// reuse needs no memset; write buffers are kept empty with their capacity.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Read,
    Write,
}

/// Up to this many connections on a worker, idle ones keep their buffers (at most about
/// 3 MiB per worker); past it they hand them back to the pool while they wait.
const KEEP_BUFFERS_UP_TO: usize = 256;

thread_local! {
    static POOLS: RefCell<[Vec<Vec<u8>>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
    /// Connections open on this worker thread.
    static OPEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts a connection in its worker's [`OPEN`] for as long as it lives.
pub(crate) struct OpenConn(());

impl OpenConn {
    pub(crate) fn new() -> OpenConn {
        OPEN.with(|o| o.set(o.get() + 1));
        OpenConn(())
    }
}

impl Drop for OpenConn {
    fn drop(&mut self) {
        OPEN.with(|o| o.set(o.get().saturating_sub(1)));
    }
}

/// A buffer from this thread's pool (or a new one).
pub(crate) fn take_buf(kind: Kind) -> Vec<u8> {
    let mut b = POOLS
        .with(|p| p.borrow_mut()[kind as usize].pop())
        .unwrap_or_default();
    match kind {
        Kind::Read if b.len() < READ_BUF => b.resize(READ_BUF, 0),
        Kind::Read => {}
        Kind::Write => b.clear(),
    }
    b
}

/// Returns a buffer to this thread's pool (big or surplus ones are freed).
pub(crate) fn give_buf(kind: Kind, buf: &mut Vec<u8>) {
    let b = std::mem::take(buf);
    if b.capacity() == 0 || b.capacity() > POOL_BUF_MAX {
        return;
    }
    POOLS.with(|p| {
        let mut p = p.borrow_mut();
        let pool = &mut p[kind as usize];
        if pool.len() < POOL_MAX {
            pool.push(b);
        }
    });
}

/// Why reading a body stopped.
#[derive(Debug)]
pub enum BodyReadError {
    /// The body broke its framing (400).
    Malformed,
    /// The client went away, reset the connection or stalled past the timeout.
    Gone,
}

impl From<BodyError> for BodyReadError {
    fn from(_: BodyError) -> Self {
        BodyReadError::Malformed
    }
}

/// The socket with its buffers: what request bodies and responses are read and written
/// through.
///
/// Only the engine sees the fields; an application writes its answer with [`Io::out`]
/// and reads a request body with [`Io::body_chunk`], so it cannot desynchronise the
/// read position the next pipelined request starts at.
pub struct Io {
    /// The client socket.
    pub(super) stream: TcpStream,
    /// Read buffer; valid bytes are `rbuf[start..end]`.
    pub(super) rbuf: Vec<u8>,
    /// First unconsumed byte.
    pub(super) start: usize,
    /// End of valid bytes.
    pub(super) end: usize,
    /// Response bytes waiting to be written.
    pub(super) wbuf: Vec<u8>,
    /// Longest a read or write may stall.
    pub(super) stall: Duration,
}

impl Io {
    /// A connection with no buffers yet (they come from the pool on first use).
    pub(super) fn new(stream: TcpStream, stall: Duration) -> Io {
        Io {
            stream,
            rbuf: Vec::new(),
            start: 0,
            end: 0,
            wbuf: Vec::new(),
            stall,
        }
    }

    /// The write buffer: response bytes appended here go out with the next flush, in
    /// order after any earlier pipelined answers.
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.wbuf
    }

    /// One non-blocking read into the free part of the buffer.
    ///
    /// A short read means the socket's receive queue is now empty, so we clear tokio's
    /// readiness flag right away (by answering `WouldBlock` from inside `try_io`, which
    /// only clears it if no newer event arrived). The next wait then goes straight to
    /// the event loop instead of first paying for a `recv` that fails with `EAGAIN`:
    /// one system call less per keep-alive request.
    pub(crate) fn read_some(&mut self) -> io::Result<usize> {
        use std::os::fd::AsFd;
        self.make_room();
        let Io {
            stream, rbuf, end, ..
        } = self;
        let buf = &mut rbuf[*end..];
        let want = buf.len();
        let mut got = 0usize;
        let r = stream.try_io(tokio::io::Interest::READABLE, || {
            let (n, _) =
                rustix::net::recv(stream.as_fd(), &mut *buf, rustix::net::RecvFlags::empty())?;
            got = n;
            if n > 0 && n < want {
                Err(io::ErrorKind::WouldBlock.into())
            } else {
                Ok(n)
            }
        });
        match r {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && got > 0 => Ok(got),
            Err(e) => Err(e),
        }
    }

    /// Reads more bytes into the buffer (waiting up to `stall`); `Ok(0)` at end of stream.
    pub(super) async fn fill(&mut self) -> io::Result<usize> {
        loop {
            match self.read_some() {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match tokio::time::timeout(self.stall, self.stream.readable()).await {
                        Ok(r) => r?,
                        Err(_) => return Err(io::ErrorKind::TimedOut.into()),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Ensures free space after `end`: compacts, or grows up to one head's worth.
    pub(crate) fn make_room(&mut self) {
        if self.rbuf.is_empty() {
            self.rbuf = take_buf(Kind::Read);
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.rbuf.len() {
            if self.start > 0 {
                self.rbuf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let n = self.rbuf.len() * 2;
                self.rbuf.resize(n, 0);
            }
        }
    }

    /// The next run of body bytes (`None` when the body is complete).
    pub async fn body_chunk(
        &mut self,
        dec: &mut BodyDecoder,
    ) -> Result<Option<&[u8]>, BodyReadError> {
        loop {
            if self.start < self.end {
                let step = dec.decode(&self.rbuf[self.start..self.end])?;
                let base = self.start;
                self.start += step.consumed;
                if let Some(r) = step.data {
                    return Ok(Some(&self.rbuf[base + r.start..base + r.end]));
                }
                if step.done {
                    return Ok(None);
                }
            } else if dec.is_done() {
                return Ok(None);
            }
            // Bodies are read in bigger gulps than heads: fewer reads and fewer trips
            // to the blocking pool per uploaded megabyte. The buffer shrinks back to the
            // pool's size when the connection goes idle.
            if self.rbuf.len() < BODY_BUF && self.start == self.end {
                self.rbuf.resize(BODY_BUF, 0);
            }
            match self.fill().await {
                Ok(0) => return Err(BodyReadError::Gone),
                Ok(_) => {}
                Err(_) => return Err(BodyReadError::Gone),
            }
        }
    }

    /// Writes out the write buffer.
    ///
    /// Almost always the socket takes the whole response at once; only when it does not
    /// do we await (in a boxed future, keeping every connection's task small).
    pub async fn flush(&mut self, more: bool) -> io::Result<()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let sent = sendfile::try_send(&self.stream, &self.wbuf, more)?;
        if sent < self.wbuf.len() {
            Box::pin(sendfile::write_all(
                &self.stream,
                &self.wbuf[sent..],
                more,
                self.stall,
            ))
            .await?;
        }
        self.wbuf.clear();
        Ok(())
    }

    /// Tells a client waiting on `Expect: 100-continue` to go ahead.
    pub async fn send_continue(&mut self) -> io::Result<()> {
        sendfile::write_all(
            &self.stream,
            crate::http::proto::body::CONTINUE,
            false,
            self.stall,
        )
        .await
    }

    /// Gives the buffers back to the pool while the connection sits idle, when this
    /// worker has more than [`KEEP_BUFFERS_UP_TO`] connections.
    pub(crate) fn release(&mut self) {
        if self.start == self.end && self.wbuf.is_empty() {
            self.start = 0;
            self.end = 0;
            // A busy client on a worker with few connections is back in microseconds:
            // keeping its (ordinary-sized) buffers saves a pool round trip per request.
            let few = OPEN.with(|o| o.get()) <= KEEP_BUFFERS_UP_TO;
            if few && self.rbuf.len() <= READ_BUF && self.wbuf.capacity() <= POOL_BUF_MAX {
                return;
            }
            give_buf(Kind::Read, &mut self.rbuf);
            give_buf(Kind::Write, &mut self.wbuf);
        }
    }
}

/// After the last response on a closing connection, how long we keep reading (and
/// discarding) so the client's unread request bytes do not turn our FIN into a RST
/// that could destroy the response in flight.
const LINGER: Duration = Duration::from_secs(2);

/// Half-closes and drains briefly; see [`LINGER`].
pub(crate) async fn linger(io: &mut Io) {
    linger_stream(&io.stream, LINGER).await;
}

/// Sends our FIN (`shutdown(SHUT_WR)`) and then reads and discards what the client still
/// sends, until it closes or `dur` passes. Closing with unread input would make the
/// kernel send a RST, which can destroy the response before the client reads it.
pub(super) async fn linger_stream(stream: &TcpStream, dur: Duration) {
    use std::os::fd::AsFd;
    let _ = rustix::net::shutdown(stream.as_fd(), rustix::net::Shutdown::Write);
    let deadline = Instant::now() + dur;
    let mut drained = 0usize;
    // On the heap: an array here would make every connection's task 4 KiB bigger.
    let mut buf = vec![0u8; 4096];
    while drained < (1 << 20) {
        match tokio::time::timeout_at(deadline, stream.readable()).await {
            Ok(Ok(())) => match stream.try_read(&mut buf) {
                Ok(0) => return,
                Ok(n) => drained += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            },
            _ => return,
        }
    }
}
