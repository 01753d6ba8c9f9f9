//! The TCP server: a `Listener` accepting connections and one task per client.
//!
//! Modelled on tokio's mini-redis: the accept loop never dies of one client (an error
//! ends only its own connection), accept errors caused by resource exhaustion (`EMFILE`:
//! out of file descriptors) back off and retry instead of spinning or exiting, and a
//! cancellation token tells every connection task to finish on Ctrl-C / SIGTERM.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::codec::Encoder;
use tokio_util::sync::CancellationToken;

use super::hub::Hub;
use super::{chat, handler};
use crate::event::{Event, Events, Level};
use crate::frame::{FrameCodec, FrameError, Framing, LineSplitter};
use crate::net::error::describe;
use crate::net::SocketInfo;
use crate::stdio::{InputChunks, Output};

/// First pause after `accept` fails for lack of resources; doubles up to 1 s.
const INITIAL_BACKOFF: Duration = Duration::from_millis(50);

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
}

/// Why the server stopped before it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Writing to stdout failed (a full disk, a closed pipe): clients' data could no
    /// longer be delivered, so the server stopped accepting and closed every client.
    #[error("write stdout: {}", describe(.0))]
    Output(io::Error),
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
/// first client leaves).
///
/// `input` (stdin) is sent to every client in [`Mode::Print`]; client data and chat
/// transcripts go to `output`. Events go to stderr.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    input: InputChunks,
    output: Output,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let ctx = Arc::new(Context {
        config,
        hub: Hub::new(),
        output,
        cancel: CancellationToken::new(),
    });
    let fan_out =
        (ctx.config.mode == Mode::Print).then(|| tokio::spawn(fan_out(ctx.clone(), input)));
    let mut clients = JoinSet::new();
    tokio::pin!(shutdown);
    let mut listener = Some(listener);
    let mut backoff = INITIAL_BACKOFF;

    loop {
        let accept = async {
            match &listener {
                Some(l) => l.accept().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = ctx.cancel.cancelled() => break,
            () = &mut shutdown => {
                ctx.config.events.emit(Event::info("shutting-down", "shutting down"));
                break;
            }
            accepted = accept => match accepted {
                Ok((stream, peer)) => {
                    backoff = INITIAL_BACKOFF;
                    clients.spawn(connection(ctx.clone(), stream, peer));
                    if ctx.config.once {
                        // Like plain netcat: stop listening, so later clients are refused.
                        listener = None;
                    }
                }
                Err(err) => {
                    if is_exhaustion(&err) {
                        // Once per episode, not once per retry.
                        if backoff == INITIAL_BACKOFF {
                            ctx.config.events.emit(Event::warn("accept-backoff", format!("accept: {}; retrying with backoff until descriptors free up", describe(&err))));
                        }
                        tokio::select! {
                            () = &mut shutdown => break,
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                    } else {
                        // ECONNABORTED and friends: that client gave up in the queue.
                        tracing::debug!("accept: {}", describe(&err));
                    }
                }
            },
            Some(_) = clients.join_next(), if !clients.is_empty() => {
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
    ctx.output.flush().await.map_err(ServeError::Output)
}

/// Errors after which `accept` can succeed again once resources free up.
fn is_exhaustion(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Serves one connection and reports how it ended.
///
/// The client joins the hub before "connection from" is printed, so whoever reacts to
/// that event (a test, a script) can count on stdin lines and chat messages reaching it.
async fn connection(ctx: Arc<Context>, stream: TcpStream, peer: SocketAddr) {
    let announce = |stream: &TcpStream| {
        let events = &ctx.config.events;
        events.emit(Event::info("connected", format!("connection from {peer}")).with("peer", peer));
        if events.wants(Level::Verbose) {
            let info = SocketInfo::of(stream);
            events.emit(Event::verbose("socket", format!("socket {info}")).with("peer", peer));
        }
    };
    let result = match ctx.config.mode {
        Mode::Print => {
            let member = ctx.hub.join(peer);
            announce(&stream);
            handler::print_client(&ctx, stream, peer, member).await
        }
        Mode::Echo => {
            announce(&stream);
            handler::echo_client(&ctx, stream).await
        }
        Mode::Chat => {
            let member = ctx.hub.join(peer);
            announce(&stream);
            chat::chat_client(&ctx, stream, peer, member).await
        }
    };
    let events = &ctx.config.events;
    if let Err(err) = result {
        events.emit(Event::warn("peer-error", format!("{peer}: {err}")).with("peer", peer));
    }
    events.emit(Event::info("closed", format!("{peer} closed")).with("peer", peer));
}

/// Sends stdin to every connected client: whole lines in raw mode (a client joining
/// mid-stream never gets half a line), one framed message per line otherwise.
///
/// Stdin is only consumed while at least one client is connected, so
/// `echo hello | sockit tcp listen PORT` delivers `hello` to the first client.
async fn fan_out(ctx: Arc<Context>, mut input: InputChunks) {
    let framed = ctx.config.framing.is_framed();
    let mut codec = ctx.codec();
    let mut lines = LineSplitter::new(codec.max_frame(), codec.framing().clone());
    let mut pending = BytesMut::new();
    loop {
        ctx.hub.wait_for_clients().await;
        let chunk = match input.recv().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(err)) => {
                ctx.config.events.emit(Event::error(
                    "stdin-error",
                    format!("read stdin: {}", describe(&err)),
                ));
                break;
            }
            None => break,
        };
        let data = if framed {
            if let Err(err) =
                lines.push::<FrameError>(&chunk, |line| codec.encode(line, &mut pending))
            {
                ctx.config
                    .events
                    .emit(Event::warn("stdin-line", format!("stdin: {err}")));
                continue;
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
        send_to_all(&ctx, data).await;
    }
    if framed {
        let _ = lines.finish::<FrameError>(|line| codec.encode(line, &mut pending));
    }
    if !pending.is_empty() {
        send_to_all(&ctx, pending.split().freeze()).await;
    }
}

async fn send_to_all(ctx: &Context, data: bytes::Bytes) {
    if data.is_empty() {
        return;
    }
    for member in ctx.hub.members() {
        // A closed queue means that client just left: nothing to do.
        let _ = member.tx.send(data.clone()).await;
    }
}
