//! Chat mode, like `ncat --chat`: every message a client sends is relayed to all the
//! other clients as `<user N> message`, with join and leave announcements.
//!
//! Messages are lines (or frames, with `--frame`). Control characters are escaped
//! before relaying, so one client cannot send terminal escape sequences that clear or
//! rewrite the other users' screens. A client that does not read its messages is
//! disconnected once its bounded queue is full (`--slow-client drop`, the default)
//! instead of slowing the room down; `--slow-client wait` makes the sender wait.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::Encoder;

use super::hub::{Joined, Outgoing};
use super::idle::Activity;
use super::server::{deliver, ConnError, Context};
use crate::event::Event;
use crate::frame::{FrameCodec, FrameReader, Framing};
use crate::text::escape_control;

/// Serves one chat client.
pub(crate) async fn chat_client(
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
    let name = format!("<user {id}>");

    let others: Vec<String> = ctx
        .hub
        .members()
        .iter()
        .filter(|m| m.id != id)
        .map(|m| format!("<user {}> ({})", m.id, m.peer))
        .collect();
    let already = if others.is_empty() {
        "nobody".to_string()
    } else {
        others.join(", ")
    };
    relay_to(
        ctx,
        Some(id),
        &format!("<announce> already connected: {already}."),
    )
    .await;
    relay(
        ctx,
        Some(id),
        &format!("<announce> {peer} is connected as {name}."),
    )
    .await;

    let (reader, mut writer) = stream.split();
    let reading = async {
        let mut frames = FrameReader::new(reader, message_codec(ctx));
        let mut batch = Vec::new();
        let mut held = 0usize;
        let result = loop {
            let step = frames.read_step(&mut batch).await;
            activity.touch();
            match step {
                Err(err) => break Err(ConnError::from(err)),
                Ok(false) => break Ok::<(), ConnError>(()),
                Ok(true) => {}
            }
            for msg in batch.drain(..) {
                relay(ctx, Some(id), &format!("{name} {}", escape_control(&msg))).await;
            }
            // An unfinished line waits in the reader's buffer: it counts toward the
            // budget all clients share.
            let now = frames.buffered();
            let within = ctx.budget.adjust(held, now);
            held = now;
            if !within {
                break Err(ConnError::OverBudget {
                    held,
                    budget: ctx.budget.limit(),
                });
            }
        };
        ctx.budget.adjust(held, 0);
        result
    };
    let sending = async {
        while let Some(item) = queue.recv().await {
            if let Outgoing::Data(data) = item {
                writer.write_all(&data).await?;
                activity.touch();
                queued.fetch_sub(data.len(), std::sync::atomic::Ordering::Relaxed);
            }
        }
        Ok::<(), ConnError>(())
    };
    let result = tokio::select! {
        r = reading => r,
        s = sending => s,
        () = kick.cancelled() => Ok(()),
        () = ctx.cancel.cancelled() => Ok(()),
    };
    ctx.hub.leave(id);
    if !ctx.cancel.is_cancelled() {
        relay(ctx, None, &format!("<announce> {name} is disconnected.")).await;
    }
    result
}

/// Chat messages are lines unless a framing was chosen.
fn message_codec(ctx: &Context) -> FrameCodec {
    match ctx.config.framing {
        Framing::Raw => FrameCodec::new(&Framing::Line, ctx.config.max_frame),
        ref framing => FrameCodec::new(framing, ctx.config.max_frame),
    }
}

/// Encodes one chat line for the wire with the connection framing.
fn encode(ctx: &Context, text: &str) -> Option<Bytes> {
    let mut codec = message_codec(ctx);
    let mut wire = BytesMut::with_capacity(text.len() + 8);
    match codec.encode(text.as_bytes(), &mut wire) {
        Ok(()) => Some(wire.freeze()),
        Err(err) => {
            ctx.config
                .events
                .emit(Event::warn("chat-encode", format!("chat: {err}")));
            None
        }
    }
}

/// Sends `text` to every client except `except`, and to stdout (the room transcript).
async fn relay(ctx: &Context, except: Option<u64>, text: &str) {
    let Some(wire) = encode(ctx, text) else {
        return;
    };
    for member in ctx.hub.members() {
        if Some(member.id) != except {
            deliver(ctx, &member, Outgoing::Data(wire.clone())).await;
        }
    }
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    if ctx.output.write(Bytes::from(line)).await.is_err() {
        ctx.output_failed();
    }
}

/// Sends `text` to one client only.
async fn relay_to(ctx: &Context, to: Option<u64>, text: &str) {
    let Some(wire) = encode(ctx, text) else {
        return;
    };
    if let Some(member) = ctx.hub.members().into_iter().find(|m| Some(m.id) == to) {
        deliver(ctx, &member, Outgoing::Data(wire)).await;
    }
}
