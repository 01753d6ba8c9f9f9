//! The TCP server: a `Listener` accepting connections and one task per client.
//!
//! Modelled on tokio's mini-redis: the accept loop never dies of one client (an error
//! ends only its own connection), accept errors caused by resource exhaustion (`EMFILE`:
//! out of file descriptors) back off and retry instead of spinning or exiting, and a
//! cancellation token tells every connection task to finish on Ctrl-C / SIGTERM.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::codec::Encoder;
use tokio_util::sync::CancellationToken;

use super::budget::Budget;
use super::hub::{Hub, Member, Outgoing};
use super::idle::Activity;
use super::prefix::OpenLine;
use super::{chat, handler};
use crate::event::{Event, Events, Level};
use crate::frame::{FrameCodec, FrameError, Framing, LineSplitter, Piece};
use crate::net::accept::{is_exhaustion, AcceptBackoff};
use crate::net::error::{describe, secs};
use crate::net::SocketInfo;
use crate::stdio::{InputChunks, Output};
use tokio::sync::mpsc::error::TrySendError;

/// How long connection tasks get to finish after a shutdown request.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What the server does with each client's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Print what clients send on stdout; send stdin lines to every client.
    #[default]
    Print,
    /// Send each client back what it sent.
    Echo,
    /// Relay each client's messages to all the others, like `ncat --chat`.
    Chat,
}

/// What to do with a client whose queue of stdin messages is full because it does not
/// read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlowClient {
    /// Disconnect it, so it cannot hold stdin back from the others; a lone client is
    /// still waited for (there is nobody to hold back).
    #[default]
    Drop,
    /// Hold stdin back for every client until it reads.
    Wait,
}

/// Server behaviour chosen on the command line.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// What to do with client data.
    pub mode: Mode,
    /// Framing of every connection.
    pub framing: Framing,
    /// Largest frame accepted or sent.
    pub max_frame: usize,
    /// Serve one client, then exit (plain netcat).
    pub once: bool,
    /// Where the server reports what happens: listening, connections, errors of one
    /// client, and (at [`Level::Verbose`]) each connection's socket details.
    pub events: Events,
    /// `--unpack FMT`: print each received message (a record) as a Python tuple. With
    /// raw framing the caller chooses [`Framing::Fixed`] of the record size.
    pub unpack: Option<pystruct::Struct>,
    /// Half-close each client's connection once stdin has ended and been sent to it.
    pub shutdown_on_eof: bool,
    /// Stop the server this long after stdin ends (`-q`).
    pub quit_after_eof: Option<Duration>,
    /// A client closing its side ends its connection at once, even while stdin is still
    /// open: for a person typing at the server's terminal.
    pub end_with_peer: bool,
    /// Policy for clients that do not read their stdin messages.
    pub slow_client: SlowClient,
    /// Clients served at once; more are closed on arrival.
    pub max_connections: usize,
    /// Bytes of unfinished messages held for all clients together.
    pub buffer_budget: usize,
    /// Write client data exactly as received: no prefixes, no escaping, no newlines.
    pub raw: bool,
    /// Close a connection with no traffic in either direction for this long.
    pub idle_timeout: Option<Duration>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            mode: Mode::Print,
            framing: Framing::Raw,
            max_frame: crate::frame::DEFAULT_MAX_FRAME,
            once: false,
            events: Events::discard(),
            unpack: None,
            shutdown_on_eof: true,
            quit_after_eof: None,
            end_with_peer: false,
            slow_client: SlowClient::Drop,
            max_connections: 1024,
            buffer_budget: super::budget::DEFAULT_BUDGET,
            raw: false,
            idle_timeout: None,
        }
    }
}

/// Why one connection ended abnormally. It ends only that connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// A read or write failed (the peer reset the connection, a broken pipe, ...).
    #[error("{}", describe(.0))]
    Io(#[from] io::Error),
    /// The peer broke the framing (e.g. a frame over `--max-frame`).
    #[error("{0}")]
    Frame(FrameError),
    /// Stdout failed, so this client's data could not be delivered (the server stops).
    #[error("write stdout: {}", describe(.0))]
    Output(io::Error),
    /// Sending stdin to the client failed (it closed or reset the connection).
    #[error("{}; {queued} bytes of stdin still queued for it not sent", describe(.source))]
    Unsent {
        /// The error.
        source: io::Error,
        /// Bytes that were queued for the client and are dropped.
        queued: u64,
    },
    /// The client's unfinished message would push what the server holds for all clients
    /// over its budget.
    #[error("unfinished messages of all clients exceed the server's buffer budget of {budget} bytes (this client holds {held}); disconnected")]
    OverBudget {
        /// Bytes this client made the server hold.
        held: usize,
        /// The budget for all clients.
        budget: usize,
    },
}

/// Why the server stopped before it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Writing to stdout failed (a full disk, a closed pipe): clients' data could no
    /// longer be delivered, so the server stopped accepting and closed every client.
    #[error("write stdout: {}", describe(.0))]
    Output(io::Error),
    /// With `once`: the one connection ended badly (stdin not delivered, a reset).
    #[error("{peer}: {source}")]
    Client {
        /// The client.
        peer: SocketAddr,
        /// What went wrong.
        source: ConnError,
    },
}

impl From<FrameError> for ConnError {
    fn from(err: FrameError) -> Self {
        match err {
            FrameError::Io(err) => ConnError::Io(err),
            other => ConnError::Frame(other),
        }
    }
}

/// State shared by the accept loop and every connection task.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) config: ServerConfig,
    pub(crate) hub: Hub,
    pub(crate) output: Output,
    pub(crate) cancel: CancellationToken,
    /// Which client left stdout mid-line (shared by every print-mode client).
    pub(crate) open_line: tokio::sync::Mutex<OpenLine>,
    /// What all clients' unfinished messages hold.
    pub(crate) budget: Budget,
    /// Stdin is read and sent to clients (print mode, stdin not a background terminal).
    pub(crate) reads_input: bool,
}

impl Context {
    /// Stdout failed: what clients send from now on could not be delivered, so the
    /// whole server stops (it stops accepting and ends every connection) rather than
    /// read on and discard. [`serve`] then returns the error.
    pub(crate) fn output_failed(&self) {
        self.cancel.cancel();
    }

    /// Writes to stdout; on failure stops the server and returns the error, which ends
    /// the calling connection.
    pub(crate) async fn write_output(&self, data: bytes::Bytes) -> Result<(), ConnError> {
        match self.output.write(data).await {
            Ok(()) => Ok(()),
            Err(err) => {
                self.output_failed();
                Err(ConnError::Output(err))
            }
        }
    }

    /// A codec for one connection.
    pub(crate) fn codec(&self) -> FrameCodec {
        FrameCodec::new(&self.config.framing, self.config.max_frame)
    }
}

/// Serves clients on `listener` until `shutdown` completes (or, with `once`, until the
/// first client's connection is done).
///
/// `input` (stdin; `None` when stdin is not to be read) is sent to every client in
/// [`Mode::Print`]; client data and chat transcripts go to `output`; what happens is
/// reported through the config's events. Returns an error when stdout fails, and with
/// `once` when the one connection ends badly.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    input: Option<InputChunks>,
    output: Output,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let reads_input = config.mode == Mode::Print && input.is_some();
    let ctx = Arc::new(Context {
        budget: Budget::new(config.buffer_budget),
        config,
        hub: Hub::new(),
        output,
        cancel: CancellationToken::new(),
        open_line: tokio::sync::Mutex::new(OpenLine::default()),
        reads_input,
    });
    let fan_out = match input {
        Some(input) if reads_input => Some(tokio::spawn(fan_out(ctx.clone(), input))),
        _ => None,
    };
    let events = ctx.config.events.clone();
    let mut clients: JoinSet<(SocketAddr, Result<(), ConnError>)> = JoinSet::new();
    tokio::pin!(shutdown);
    let mut listener = Some(listener);
    let mut backoff = AcceptBackoff::new();
    let mut failure: Option<ServeError> = None;

    loop {
        let accept = async {
            match &listener {
                Some(l) => l.accept().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = ctx.cancel.cancelled() => break,
            () = ctx.output.failed() => break,
            () = &mut shutdown => {
                events.emit(Event::info("shutting-down", "shutting down"));
                break;
            }
            accepted = accept => match accepted {
                Ok((stream, peer)) => {
                    backoff.reset();
                    if clients.len() >= ctx.config.max_connections {
                        events.emit(
                            Event::warn("refused", format!(
                                "connection from {peer} closed: already serving {} clients, the limit",
                                clients.len()
                            ))
                            .with("peer", peer),
                        );
                        drop(stream);
                        continue;
                    }
                    let task_ctx = ctx.clone();
                    clients.spawn(async move { (peer, connection(task_ctx, stream, peer).await) });
                    if ctx.config.once {
                        // Like plain netcat: stop listening, so later clients are refused.
                        listener = None;
                    }
                }
                Err(err) => {
                    if is_exhaustion(&err) {
                        // Once per episode, not once per retry.
                        if backoff.is_first() {
                            events.emit(Event::warn("accept-backoff", format!("accept: {}; retrying with backoff until descriptors free up", describe(&err))));
                        }
                        tokio::select! {
                            () = &mut shutdown => break,
                            () = tokio::time::sleep(backoff.step()) => {}
                        }
                    } else {
                        // ECONNABORTED and friends: that client gave up in the queue.
                        tracing::debug!("accept: {}", describe(&err));
                    }
                }
            },
            Some(joined) = clients.join_next(), if !clients.is_empty() => {
                if let Ok((peer, Err(source))) = joined {
                    if ctx.config.once {
                        failure = Some(ServeError::Client { peer, source });
                    }
                }
                if ctx.config.once && listener.is_none() && clients.is_empty() {
                    break;
                }
            }
        }
    }

    ctx.cancel.cancel();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while clients.join_next().await.is_some() {}
    })
    .await;
    clients.abort_all();
    if let Some(task) = fan_out {
        task.abort();
    }
    let flushed = ctx.output.flush().await.map_err(ServeError::Output);
    // A failed stdout explains everything after it; report it first.
    flushed?;
    match failure {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// Serves one connection and reports how it ended; the result goes back to the accept
/// loop (with `once`, it is the server's result).
///
/// The client joins the hub before "connection from" is printed, so whoever reacts to
/// that event (a test, a script) can count on stdin lines and chat messages reaching it.
async fn connection(
    ctx: Arc<Context>,
    stream: TcpStream,
    peer: SocketAddr,
) -> Result<(), ConnError> {
    let events = &ctx.config.events;
    let announce = |stream: &TcpStream| {
        events.emit(Event::info("connected", format!("connection from {peer}")).with("peer", peer));
        if events.wants(Level::Verbose) {
            let info = SocketInfo::of(stream);
            events.emit(Event::verbose("socket", format!("socket {info}")).with("peer", peer));
        }
    };
    let activity = Activity::new();
    let serving = async {
        match ctx.config.mode {
            Mode::Print => {
                let joined = ctx.hub.join(peer);
                announce(&stream);
                handler::print_client(&ctx, stream, peer, joined, &activity).await
            }
            Mode::Echo => {
                announce(&stream);
                handler::echo_client(&ctx, stream, &activity).await
            }
            Mode::Chat => {
                let joined = ctx.hub.join(peer);
                announce(&stream);
                chat::chat_client(&ctx, stream, peer, joined, &activity).await
            }
        }
    };
    let result = tokio::select! {
        r = serving => r,
        () = activity.expired(ctx.config.idle_timeout) => {
            let after = ctx.config.idle_timeout.unwrap_or_default();
            events.emit(
                Event::info("idle", format!("{peer}: no traffic for {}; closed", secs(after)))
                    .with("peer", peer),
            );
            Ok(())
        }
    };
    match &result {
        // Stdout failing is the server's error, reported once when it stops.
        Err(ConnError::Output(_)) | Ok(()) => {}
        Err(err) => {
            events.emit(Event::warn("peer-error", format!("{peer}: {err}")).with("peer", peer));
        }
    }
    events.emit(Event::info("closed", format!("{peer} closed")).with("peer", peer));
    result
}

/// Sends stdin to every connected client: whole lines in raw mode (a client joining
/// mid-stream never gets half a line), one framed message per line otherwise. At the end
/// of stdin every client is told ([`Outgoing::End`]: its connection is half-closed once
/// its queue is sent), and with `-q` the server stops that long after.
///
/// Stdin is only consumed while at least one client is connected, so
/// `echo hello | sockit tcp listen PORT` delivers `hello` to the first client.
async fn fan_out(ctx: Arc<Context>, mut input: InputChunks) {
    let events = &ctx.config.events;
    let framed = ctx.config.framing.is_framed();
    let mut codec = ctx.codec();
    let mut lines = LineSplitter::new(codec.max_frame(), codec.framing().clone());
    let mut pending = BytesMut::new();
    loop {
        ctx.hub.wait_for_clients().await;
        let chunk = match input.recv().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(err)) => {
                events.emit(Event::error(
                    "stdin-error",
                    format!("read stdin: {}", describe(&err)),
                ));
                break;
            }
            None => break,
        };
        let data = if framed {
            // An over-long line is skipped whole and reported once; the lines around it
            // still go out.
            let fed = lines.feed::<FrameError>(&chunk, |piece| match piece {
                Piece::Line(line) => codec.encode(line, &mut pending),
                Piece::TooLong(err) => {
                    events.emit(Event::warn(
                        "stdin-line",
                        format!("stdin: {err}; line skipped"),
                    ));
                    Ok(())
                }
            });
            if let Err(err) = fed {
                events.emit(Event::warn("stdin-line", format!("stdin: {err}")));
            }
            pending.split().freeze()
        } else if pending.is_empty() && chunk.last() == Some(&b'\n') {
            chunk
        } else {
            pending.extend_from_slice(&chunk);
            match pending.iter().rposition(|&b| b == b'\n') {
                Some(at) => pending.split_to(at + 1).freeze(),
                None if pending.len() > 64 * 1024 => pending.split().freeze(),
                None => continue,
            }
        };
        send_to_all(&ctx, Outgoing::Data(data)).await;
    }
    if framed {
        let fed = lines.feed_end::<FrameError>(|piece| match piece {
            Piece::Line(line) => codec.encode(line, &mut pending),
            Piece::TooLong(err) => Err(err),
        });
        if let Err(err) = fed {
            events.emit(Event::warn(
                "stdin-line",
                format!("stdin: {err}; line skipped"),
            ));
        }
    }
    if !pending.is_empty() {
        send_to_all(&ctx, Outgoing::Data(pending.split().freeze())).await;
    }
    for member in ctx.hub.end_input() {
        deliver(&ctx, &member, Outgoing::End).await;
    }
    if let Some(after) = ctx.config.quit_after_eof {
        tokio::time::sleep(after).await;
        events.emit(Event::info("quit", "stdin ended; quitting (-q)"));
        ctx.cancel.cancel();
    }
}

async fn send_to_all(ctx: &Context, item: Outgoing) {
    if matches!(&item, Outgoing::Data(data) if data.is_empty()) {
        return;
    }
    for member in ctx.hub.members() {
        deliver(ctx, &member, item.clone()).await;
    }
}

/// Queues `item` for one client, applying the slow-client policy when its queue is full
/// (in messages or in bytes).
pub(crate) async fn deliver(ctx: &Context, member: &Member, item: Outgoing) {
    let len = match &item {
        Outgoing::Data(data) => data.len(),
        Outgoing::End => 0,
    };
    let item = if member.has_room(len) {
        // Counted before it is queued: the client's task may write it and take it off
        // before this task runs again.
        member.queued.fetch_add(len, Ordering::Relaxed);
        match member.tx.try_send(item) {
            Ok(()) => return,
            // A closed queue means that client just left: nothing to do.
            Err(TrySendError::Closed(_)) => return,
            Err(TrySendError::Full(item)) => {
                member.queued.fetch_sub(len, Ordering::Relaxed);
                item
            }
        }
    } else {
        item
    };
    let alone = ctx.hub.count() <= 1;
    if ctx.config.slow_client == SlowClient::Wait || alone {
        // Wait for room; the client's task takes bytes off as it writes them.
        tokio::select! {
            () = wait_for_room(member, len) => {}
            () = member.kick.cancelled() => return,
        }
        member.queued.fetch_add(len, Ordering::Relaxed);
        tokio::select! {
            _ = member.tx.send(item) => {}
            () = member.kick.cancelled() => {}
        }
        return;
    }
    ctx.config.events.emit(
        Event::warn(
            "slow-client",
            format!(
                "{}: not reading its stdin lines; disconnected so it cannot hold back the others",
                member.peer
            ),
        )
        .with("peer", member.peer),
    );
    member.kick.cancel();
    ctx.hub.leave(member.id);
}

/// Waits until `len` more bytes fit the member's allowance (polling: only a client that
/// does not read gets here, and it is waited for on purpose).
async fn wait_for_room(member: &Member, len: usize) {
    let mut pause = Duration::from_millis(1);
    while !member.has_room(len) {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
