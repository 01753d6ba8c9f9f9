//! Per-connection handlers for the print (default) and echo modes.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::Encoder;

use super::prefix::LinePrefixer;
use super::server::{ConnError, Context};
use crate::frame::{FrameReader, READ_CHUNK};

/// After a client half-closes, how long its already-queued messages may take to drain.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

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

/// Print mode: the client's data goes to stdout (prefixed with its address while several
/// clients are connected), and stdin fan-out messages go to the client.
///
/// A read of 0 bytes (the client closed or half-closed) ends the connection cleanly,
/// after the messages already queued for it are sent.
pub(crate) async fn print_client(
    ctx: &Context,
    mut stream: TcpStream,
    peer: SocketAddr,
    (id, mut queue): (u64, mpsc::Receiver<Bytes>),
) -> Result<(), ConnError> {
    let membership = Membership { ctx, id };
    let (reader, mut writer) = stream.split();
    let framed = ctx.config.framing.is_framed();

    let reading = async {
        let mut frames = FrameReader::new(reader, ctx.codec());
        let mut prefixer = LinePrefixer::new(format!("[{peer}] "));
        let mut batch: Vec<Bytes> = Vec::new();
        loop {
            let read = frames.read_batch(&mut batch).await;
            if let Err(err) = read {
                let mut out = BytesMut::new();
                prefixer.finish(&mut out);
                ctx.write_output(out.freeze()).await?;
                return Err(ConnError::from(err));
            }
            if batch.is_empty() {
                let mut out = BytesMut::new();
                prefixer.finish(&mut out);
                ctx.write_output(out.freeze()).await?;
                return Ok(());
            }
            let multi = ctx.hub.count() > 1;
            if !framed && !multi {
                // The hot path for bulk data: the read buffer goes to stdout as is.
                for chunk in batch.drain(..) {
                    prefixer.note_passthrough(&chunk);
                    ctx.write_output(chunk).await?;
                }
                continue;
            }
            let mut out = BytesMut::new();
            for chunk in batch.drain(..) {
                if let Some(st) = &ctx.config.unpack {
                    render_record(
                        st,
                        &chunk,
                        peer,
                        multi,
                        &mut prefixer,
                        &mut out,
                        &ctx.config.events,
                    );
                } else if framed {
                    prefixer.render_message(&chunk, multi, &mut out);
                } else {
                    prefixer.render(&chunk, multi, &mut out);
                }
            }
            ctx.write_output(out.freeze()).await?;
        }
    };

    let sending = async {
        while let Some(data) = queue.recv().await {
            writer.write_all(&data).await?;
        }
        Ok::<(), std::io::Error>(())
    };

    tokio::pin!(reading, sending);
    enum End {
        Read(Result<(), ConnError>),
        Send(std::io::Result<()>),
        Cancelled,
    }
    let end = tokio::select! {
        r = &mut reading => End::Read(r),
        s = &mut sending => End::Send(s),
        () = ctx.cancel.cancelled() => End::Cancelled,
    };
    match end {
        End::Read(result) => {
            // No new messages for this client; deliver what is already queued.
            drop(membership);
            let _ = tokio::time::timeout(DRAIN_LIMIT, &mut sending).await;
            result
        }
        End::Send(result) => result.map_err(ConnError::Io),
        End::Cancelled => Ok(()),
    }
}

/// `--unpack`: one record as a tuple line; a message of the wrong size (possible with
/// `--frame`) is reported on stderr and the connection goes on.
fn render_record(
    st: &pystruct::Struct,
    msg: &[u8],
    peer: SocketAddr,
    multi: bool,
    prefixer: &mut LinePrefixer,
    out: &mut BytesMut,
    events: &crate::event::Events,
) {
    let mut line = String::new();
    match crate::records::render_tuple(st, msg, &mut line) {
        Ok(()) => prefixer.render_message(line.as_bytes(), multi, out),
        Err(err) => events.emit(
            crate::event::Event::warn("message-ignored", format!("{peer}: message ignored: {err}"))
                .with("peer", peer),
        ),
    }
}

/// Echo mode: every byte (raw) or every message (framed) goes back to its sender.
pub(crate) async fn echo_client(ctx: &Context, stream: TcpStream) -> Result<(), ConnError> {
    tokio::select! {
        result = echo(ctx, stream) => result,
        () = ctx.cancel.cancelled() => Ok(()),
    }
}

async fn echo(ctx: &Context, mut stream: TcpStream) -> Result<(), ConnError> {
    let (mut reader, mut writer) = stream.split();
    if !ctx.config.framing.is_framed() {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = reader.read(&mut buf).await?;
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
