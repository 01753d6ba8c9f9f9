//! The one line between the engine and the application behind it.
//!
//! The engine owns sockets, buffers, timeouts and the order of answers on a connection;
//! it knows nothing about files or folders. An application answers a parsed request
//! head synchronously, while the head is still borrowed from the read buffer, and hands
//! back a [`Decision`]: either the answer is complete in the write buffer, or the engine
//! sends a file range with `sendfile(2)`, or the application still has work that waits
//! on I/O ([`App::run`], given the connection's [`Io`]).

use std::fs::File;
use std::future::Future;
use std::sync::Arc;

use super::io::Io;
use crate::http::proto::response::Extra;
use crate::http::proto::Request;

/// What the engine knows about the connection that the application may need.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// The server is shutting down: answer, then close.
    pub closing: bool,
    /// This head is asked again after [`Plan::Again`]'s work ran: do not defer twice.
    pub again: bool,
}

/// What an application served by the engine must provide.
pub trait App: Send + Sync + 'static {
    /// Work that must wait on I/O after the synchronous answer (reading an upload body,
    /// reading a folder off the event loop): owned data, as the head is gone by then.
    type Work: Send + 'static;

    /// Answers one request head: renders what it can into `out` and says what is left.
    /// `scratch` is a per-connection buffer to reuse (no allocation per request).
    fn respond<'s>(
        &'s self,
        req: &Request<'_>,
        cx: Ctx,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Decision<'s, Self::Work>;

    /// Carries out deferred work; the answer goes into the connection's write buffer.
    fn run(
        self: &Arc<Self>,
        work: Self::Work,
        io: &mut Io,
        reply: Reply,
    ) -> impl Future<Output = Result<Sent, Gone>> + Send;

    /// Does work the answer waits for (opening and reading a file on the blocking
    /// pool), after which the engine asks [`App::respond`] again with the same head.
    fn prepare(self: &Arc<Self>, work: Self::Work) -> impl Future<Output = ()> + Send;

    /// Header lines added to every response, including the engine's own refusals
    /// (400 for a bad head, 408, 503).
    fn extra(&self) -> &Extra;
}

/// One part of a `multipart/byteranges` body: its part head, then a file range.
#[derive(Debug)]
pub struct RangePart {
    /// Boundary line and part headers (`Content-Type`, `Content-Range`).
    pub head: Vec<u8>,
    /// Start offset in the file.
    pub offset: u64,
    /// Byte count.
    pub len: u64,
}

/// Work left for the engine after the synchronous answer.
#[derive(Debug)]
pub enum Plan<W> {
    /// The whole response is in the write buffer.
    Done,
    /// The head is in the write buffer; send `len` bytes of `file` from `offset`.
    File {
        /// Open file.
        file: File,
        /// Start offset.
        offset: u64,
        /// Byte count.
        len: u64,
    },
    /// The head is in the write buffer; send a `multipart/byteranges` body.
    Ranges {
        /// Open file.
        file: File,
        /// The parts, in order.
        parts: Vec<RangePart>,
        /// Closing boundary.
        tail: Vec<u8>,
    },
    /// The application's own deferred work ([`App::run`]).
    App(W),
    /// Nothing is answered yet: run [`App::prepare`], then ask again with the same head
    /// (which stays in the read buffer meanwhile).
    Again(W),
}

/// The application's verdict on one request.
#[derive(Debug)]
pub struct Decision<'s, W> {
    /// What is left to do.
    pub plan: Plan<W>,
    /// Status (for the log; deferred work may still change it).
    pub status: u16,
    /// Body bytes already rendered or planned (for the log).
    pub bytes: u64,
    /// Close the connection after this response.
    pub close: bool,
    /// The plan reads the request body itself (uploads); otherwise the engine skips it.
    pub consumes_body: bool,
    /// The authenticated user, for the access log.
    pub user: Option<&'s str>,
}

impl<W> Decision<'_, W> {
    /// A decision whose response is complete in the write buffer.
    pub fn done(status: u16, bytes: u64, close: bool) -> Self {
        Decision {
            plan: Plan::Done,
            status,
            bytes,
            close,
            consumes_body: false,
            user: None,
        }
    }
}

/// How a late answer (rendered by [`App::run`]) must end its head.
#[derive(Debug, Clone, Copy)]
pub struct Reply {
    /// The connection closes after this response (the decision said so).
    pub close: bool,
    /// The client speaks HTTP/1.0 (keep-alive must be confirmed explicitly).
    pub http10: bool,
}

/// A response that was sent (or is in the write buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Status code sent.
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// Close the connection after it.
    pub close: bool,
}

/// The client went away (or stalled past the timeout) in the middle of a request: the
/// connection is dropped without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gone {
    /// Request body bytes received before it went (logged, so a cut upload shows).
    pub received: u64,
}
