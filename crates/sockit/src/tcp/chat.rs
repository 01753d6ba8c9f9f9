//! Chat mode, like `ncat --chat`: every message a client sends is relayed to all the
//! other clients as `<user N> message`, with join and leave announcements.
//!
//! Messages are lines (or frames, with `--frame`). Control characters are escaped
//! before relaying, so one client cannot send terminal escape sequences that clear or
//! rewrite the other users' screens. A client that does not read its messages loses
//! them (its queue is bounded) instead of slowing the room down.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::Encoder;

use super::server::{ConnError, Context};
use crate::event::Event;
use crate::frame::{FrameCodec, FrameReader, Framing};
use crate::text::escape_control;

/// Serves one chat client.
pub(crate) async fn chat_client(
    ctx: &Context,
    mut stream: TcpStream,
    peer: SocketAddr,
    (id, mut queue): (u64, tokio::sync::mpsc::Receiver<Bytes>),
) -> Result<(), ConnError> {
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
    );
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
        loop {
            frames.read_batch(&mut batch).await?;
            if batch.is_empty() {
                return Ok::<(), ConnError>(());
            }
            for msg in batch.drain(..) {
                relay(ctx, Some(id), &format!("{name} {}", escape_control(&msg))).await;
            }
        }
    };
    let sending = async {
        while let Some(data) = queue.recv().await {
            writer.write_all(&data).await?;
        }
        Ok::<(), ConnError>(())
    };
    let result = tokio::select! {
        r = reading => r,
        s = sending => s,
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
            queue(ctx, member.peer, &member.tx, wire.clone());
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
fn relay_to(ctx: &Context, to: Option<u64>, text: &str) {
    let Some(wire) = encode(ctx, text) else {
        return;
    };
    if let Some(member) = ctx.hub.members().into_iter().find(|m| Some(m.id) == to) {
        queue(ctx, member.peer, &member.tx, wire);
    }
}

fn queue(ctx: &Context, peer: SocketAddr, tx: &tokio::sync::mpsc::Sender<Bytes>, wire: Bytes) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if let Err(tokio::sync::mpsc::error::TrySendError::Full(_)) = tx.try_send(wire) {
        if !WARNED.swap(true, Ordering::Relaxed) {
            ctx.config.events.emit(
                Event::warn(
                    "slow-client",
                    format!("{peer}: not reading; dropping chat messages for it"),
                )
                .with("peer", peer),
            );
        }
    }
}
