//! Per-connection handlers for the print (default) and echo modes.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::Encoder;

use super::hub::{Joined, Outgoing};
use super::idle::Activity;
use super::prefix::{LinePrefixer, OpenLine, Style};
use super::server::{ConnError, Context};
use crate::frame::{FrameReader, READ_CHUNK};

/// Removes a client from the hub however its task ends.
struct Membership<'a> {
    ctx: &'a Context,
    id: u64,
}

impl Drop for Membership<'_> {
    fn drop(&mut self) {
        self.ctx.hub.leave(self.id);
    }
}

/// Releases a client's share of the buffer budget however its task ends.
struct Charge<'a> {
    ctx: &'a Context,
    held: usize,
}

impl Charge<'_> {
    /// Updates this client's share to `now` bytes; `false` when the server's budget for
    /// unfinished messages is exceeded.
    fn set(&mut self, now: usize) -> bool {
        let within = self.ctx.budget.adjust(self.held, now);
        self.held = now;
        within
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.ctx.budget.adjust(self.held, 0);
    }
}

/// Print mode: the client's data goes to stdout (prefixed with its address while several
/// clients are connected), and stdin goes to the client.
///
/// The two directions end on their own, as TCP allows. The client half-closing (a read
/// of 0 bytes) ends only what it sends: stdin keeps flowing to it until stdin ends, and
/// then the server half-closes too. The connection is over when both directions are
/// done, or at once when the client's close ends it for a person at the terminal
/// (`end_with_peer`) or when the server does not read stdin at all.
pub(crate) async fn print_client(
    ctx: &Context,
    mut stream: TcpStream,
    peer: SocketAddr,
    joined: Joined,
    activity: &Activity,
) -> Result<(), ConnError> {
    let Joined {
        id,
        mut queue,
        kick,
        queued,
    } = joined;
    let membership = Membership { ctx, id };
    let (reader, mut writer) = stream.split();
    let framed = ctx.config.framing.is_framed();
    let style = if ctx.config.raw {
        Style::Raw
    } else {
        Style::Lines
    };

    let reading = async {
        let mut frames = FrameReader::new(reader, ctx.codec());
        let mut prefixer = LinePrefixer::new(id, format!("[{peer}] "), ctx.config.max_frame);
        let mut charge = Charge { ctx, held: 0 };
        let mut batch: Vec<Bytes> = Vec::new();
        loop {
            let read = frames.read_step(&mut batch).await;
            activity.touch();
            let end = match read {
                Err(err) => Some(Err(ConnError::from(err))),
                Ok(false) => Some(Ok(())),
                Ok(true) => None,
            };
            if let Some(result) = end {
                let mut out = BytesMut::new();
                prefixer.finish(&mut *ctx.open_line.lock().await, &mut out);
                ctx.write_output(out.freeze()).await?;
                return result;
            }
            if batch.is_empty() {
                // Part of a long frame arrived: it counts toward the shared budget.
                if !charge.set(frames.buffered() + prefixer.held()) {
                    return Err(ConnError::OverBudget {
                        held: charge.held,
                        budget: ctx.budget.limit(),
                    });
                }
                continue;
            }
            let multi = ctx.hub.count() > 1;
            if style == Style::Raw || (!framed && !multi && prefixer.held() == 0) {
                // The hot path for bulk data: the read buffer goes to stdout as is.
                let mut open = ctx.open_line.lock().await;
                for chunk in batch.drain(..) {
                    if style == Style::Lines && prefixer.pass(&chunk, &mut open) {
                        ctx.write_output(Bytes::from_static(b"\n")).await?;
                    }
                    ctx.write_output(chunk).await?;
                }
                drop(open);
                if framed && !charge.set(frames.buffered()) {
                    return Err(ConnError::OverBudget {
                        held: charge.held,
                        budget: ctx.budget.limit(),
                    });
                }
                continue;
            }
            let mut out = BytesMut::new();
            let mut open = ctx.open_line.lock().await;
            for chunk in batch.drain(..) {
                if let Some(st) = &ctx.config.unpack {
                    render_record(
                        ctx,
                        st,
                        &chunk,
                        peer,
                        multi,
                        &mut prefixer,
                        &mut open,
                        &mut out,
                    );
                } else if framed {
                    prefixer.render_message(&chunk, multi, &mut open, &mut out);
                } else {
                    prefixer.render(&chunk, multi, &mut open, &mut out);
                }
            }
            let written = ctx.write_output(out.freeze()).await;
            drop(open);
            written?;
            if !charge.set(frames.buffered() + prefixer.held()) {
                return Err(ConnError::OverBudget {
                    held: charge.held,
                    budget: ctx.budget.limit(),
                });
            }
        }
    };

    let sending = async {
        while let Some(item) = queue.recv().await {
            match item {
                Outgoing::Data(data) => {
                    writer.write_all(&data).await?;
                    activity.touch();
                    queued.fetch_sub(data.len(), std::sync::atomic::Ordering::Relaxed);
                }
                Outgoing::End => {
                    if ctx.config.shutdown_on_eof {
                        writer.shutdown().await?;
                        // Done only once the client has acknowledged every byte: a
                        // client that closed without reading gets them back as a reset.
                        super::delivery::wait_delivered(writer.as_ref()).await?;
                    }
                    return Ok(());
                }
            }
        }
        // The hub let go of this client: nothing more will come.
        Ok::<(), std::io::Error>(())
    };

    enum Failed {
        Conn(ConnError),
        Send(std::io::Error),
    }
    let outcome: Result<(), Failed> = async {
        tokio::pin!(reading, sending);
        // With --once the one client is the whole point: its half-close must not cut the
        // transfer of stdin short. A multi-client server cannot wait for stdin on behalf
        // of a client that may have closed for good, so there the client's close ends the
        // connection once what is queued for it is sent.
        let two_way = ctx.config.once && !ctx.config.end_with_peer;
        let mut read_done = false;
        let mut send_done = !ctx.reads_input;
        let result = loop {
            tokio::select! {
                r = &mut reading, if !read_done => {
                    if let Err(err) = r {
                        break Err(Failed::Conn(err));
                    }
                    read_done = true;
                    if send_done || ctx.config.end_with_peer {
                        break Ok(());
                    }
                    if !two_way {
                        // No new messages for this client; deliver what is queued.
                        ctx.hub.leave(id);
                        break match tokio::time::timeout(DRAIN_LIMIT, &mut sending).await {
                            Ok(Ok(())) => Ok(()),
                            Ok(Err(err)) => Err(Failed::Send(err)),
                            Err(_) => Err(Failed::Send(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "the client closed its side and did not take its queued stdin",
                            ))),
                        };
                    }
                }
                s = &mut sending, if !send_done => {
                    if let Err(err) = s {
                        break Err(Failed::Send(err));
                    }
                    send_done = true;
                    if read_done {
                        break Ok(());
                    }
                }
                () = kick.cancelled() => break Ok(()),
                () = ctx.cancel.cancelled() => {
                    // Deliver what is already queued for it, within the shutdown grace.
                    if !send_done {
                        let _ = tokio::time::timeout(DRAIN_LIMIT, &mut sending).await;
                    }
                    break Ok(());
                }
            }
        };
        result
    }
    .await;
    drop(membership);
    match outcome {
        Ok(()) => Ok(()),
        Err(Failed::Conn(err)) => Err(err),
        Err(Failed::Send(source)) => Err(ConnError::Unsent {
            source,
            queued: queued_bytes(&mut queue),
        }),
    }
}

/// After Ctrl-C, SIGTERM or `-q`, how long a client's queued stdin may take to drain.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// Bytes still queued for a client whose connection failed (they will never be sent).
fn queued_bytes(queue: &mut mpsc::Receiver<Outgoing>) -> u64 {
    let mut total = 0u64;
    while let Ok(item) = queue.try_recv() {
        if let Outgoing::Data(data) = item {
            total += data.len() as u64;
        }
    }
    total
}

/// `--unpack`: one record as a tuple line; a message of the wrong size (possible with
/// `--frame`) is reported as an event and the connection goes on.
#[allow(clippy::too_many_arguments)]
fn render_record(
    ctx: &Context,
    st: &pystruct::Struct,
    msg: &[u8],
    peer: SocketAddr,
    multi: bool,
    prefixer: &mut LinePrefixer,
    open: &mut OpenLine,
    out: &mut BytesMut,
) {
    let events = &ctx.config.events;
    let mut line = String::new();
    match crate::records::render_tuple(st, msg, &mut line) {
        Ok(()) => prefixer.render_text(&line, multi, open, out),
        Err(err) => events.emit(
            crate::event::Event::warn("message-ignored", format!("{peer}: message ignored: {err}"))
                .with("peer", peer),
        ),
    }
}

/// Echo mode: every byte (raw) or every message (framed) goes back to its sender.
pub(crate) async fn echo_client(
    ctx: &Context,
    stream: TcpStream,
    activity: &Activity,
) -> Result<(), ConnError> {
    tokio::select! {
        result = echo(ctx, stream, activity) => result,
        () = ctx.cancel.cancelled() => Ok(()),
    }
}

async fn echo(ctx: &Context, mut stream: TcpStream, activity: &Activity) -> Result<(), ConnError> {
    let (mut reader, mut writer) = stream.split();
    if !ctx.config.framing.is_framed() {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = reader.read(&mut buf).await?;
            activity.touch();
            if n == 0 {
                return Ok(());
            }
            writer.write_all(&buf[..n]).await?;
        }
    }
    let mut frames = FrameReader::new(reader, ctx.codec());
    let mut encoder = ctx.codec();
    let mut batch = Vec::new();
    let mut wire = BytesMut::new();
    loop {
        frames.read_batch(&mut batch).await?;
        activity.touch();
        if batch.is_empty() {
            return Ok(());
        }
        for msg in batch.drain(..) {
            encoder.encode(&msg, &mut wire)?;
        }
        writer.write_all(&wire).await?;
        wire.clear();
    }
}
