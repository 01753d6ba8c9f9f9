//! The TCP client: stdin to the socket, the socket to stdout, both at once.
//!
//! On end of input the client half-closes (`shutdown(SHUT_WR)`): the peer reads 0 bytes,
//! knows the request is complete, and can still answer; the client exits when the peer
//! closes its side. This is netcat's `-N` behaviour, on by default here because without
//! it a server waiting for the end of the request never answers.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::Encoder;

use crate::frame::{FrameCodec, FrameError, FrameReader, Framing, LineSplitter};
use crate::net::error::{describe, is_peer_gone, secs};
use crate::stdio::{InputChunks, Output};

/// How the client frames data and when it stops.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Framing of both directions; with anything but raw, each input line is one message
    /// and each received message is printed as one line.
    pub framing: Framing,
    /// Largest frame accepted or sent.
    pub max_frame: usize,
    /// Half-close the connection at the end of input (default); `false` keeps the writing
    /// side open until the peer closes (`--no-shutdown`).
    pub shutdown_on_eof: bool,
    /// Give up when nothing is sent or received for this long.
    pub idle_timeout: Option<Duration>,
    /// Each input chunk is one whole message (such as a `--pack` record), to be framed
    /// as it is instead of being cut into lines.
    pub input_messages: bool,
    /// After the end of input, end the session this long later even if the peer has not
    /// closed (`-q SECS`, like netcat's).
    pub quit_after_eof: Option<Duration>,
    /// The peer closing before all input was sent is not an error (`--ignore-close`).
    pub ignore_close: bool,
    /// The peer's close ends the session even while input is still open: for a person
    /// typing at a terminal, who would otherwise wait for nothing.
    pub end_with_peer: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            framing: Framing::Raw,
            max_frame: crate::frame::DEFAULT_MAX_FRAME,
            shutdown_on_eof: true,
            idle_timeout: None,
            input_messages: false,
            quit_after_eof: None,
            ignore_close: false,
            end_with_peer: false,
        }
    }
}

/// Why a client session failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection failed (reset, broken pipe, ...).
    #[error("connection to {peer}: {}", describe(.source))]
    Io {
        /// The server.
        peer: SocketAddr,
        /// The error.
        source: io::Error,
    },
    /// The peer sent something the framing refuses (e.g. over `--max-frame`), or a line of
    /// input could not be framed.
    #[error("connection to {peer}: {source}")]
    Frame {
        /// The server.
        peer: SocketAddr,
        /// The error.
        source: FrameError,
    },
    /// The peer closed the connection while input was still being sent: what was not
    /// yet sent, and what was in flight, never reached it.
    #[error("{peer} closed the connection; {unsent} bytes of stdin not sent{}", if *.more { " (and the rest of stdin was not read)" } else { "" })]
    PeerClosed {
        /// The server.
        peer: SocketAddr,
        /// Bytes of input read but not accepted by the connection.
        unsent: u64,
        /// Input had not ended yet: more bytes may have followed.
        more: bool,
    },
    /// Reading stdin failed.
    #[error("read stdin: {}", describe(.0))]
    Stdin(io::Error),
    /// Writing what the peer sent to stdout failed (a full disk, a closed pipe): the
    /// rest could not be delivered, so the session ends.
    #[error("write stdout: {}", describe(.0))]
    Output(io::Error),
    /// Nothing happened for the idle timeout.
    #[error("connection to {peer}: idle timeout: no data for {}", secs(*.idle))]
    Idle {
        /// The server.
        peer: SocketAddr,
        /// The timeout.
        idle: Duration,
    },
}

impl ClientError {
    fn frame(peer: SocketAddr, err: FrameError) -> ClientError {
        match err {
            FrameError::Io(source) => ClientError::Io { peer, source },
            source => ClientError::Frame { peer, source },
        }
    }
}

/// How the sending direction ended.
enum Sent {
    /// All input went out, and (after a half-close) the peer acknowledged it.
    Complete,
    /// The peer closed first and `--ignore-close` says that is fine.
    PeerClosed,
}

/// Runs a client session on a connected stream until both directions are done.
///
/// Data from `input` goes to the socket (framed per `config`); data from the socket goes
/// to `output`. Each direction ends on its own, as TCP allows: the peer's half-close
/// ends only what it sends (the client goes on sending its input), and the end of input
/// half-closes the connection (unless `shutdown_on_eof` is off) without cutting off what
/// the peer still sends. The session succeeds when the peer has closed its side and has
/// acknowledged every byte of input; the peer closing before that is
/// [`ClientError::PeerClosed`] (unless `ignore_close`), and a failed stdout is
/// [`ClientError::Output`].
pub async fn run_client(
    stream: TcpStream,
    mut input: InputChunks,
    output: Output,
    config: &ClientConfig,
) -> Result<(), ClientError> {
    let peer = stream.peer_addr().map_err(|source| ClientError::Io {
        peer: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    let activity = super::idle::Activity::new();
    let touch = || activity.touch();
    let input_ended = tokio::sync::Notify::new();
    let (reader, mut writer) = stream.into_split();

    let upload = async {
        let mut codec = FrameCodec::new(&config.framing, config.max_frame);
        let mut lines = LineSplitter::new(codec.max_frame(), codec.framing().clone());
        let mut wire = BytesMut::new();
        let framed = config.framing.is_framed();
        let peer_closed = |source: io::Error, unsent: u64, more: bool| {
            if !is_peer_gone(&source) {
                ClientError::Io { peer, source }
            } else {
                ClientError::PeerClosed { peer, unsent, more }
            }
        };
        while let Some(chunk) = input.recv().await {
            let chunk = chunk.map_err(ClientError::Stdin)?;
            touch();
            let data = if framed {
                let encoded = if config.input_messages {
                    codec.encode(&chunk[..], &mut wire)
                } else {
                    lines.push::<FrameError>(&chunk, |line| codec.encode(line, &mut wire))
                };
                if let Err(err) = encoded {
                    // The lines before the bad one are whole messages: they go out first.
                    if !wire.is_empty() {
                        if let Err((source, unsent)) = send_counted(&mut writer, &wire).await {
                            return Err(peer_closed(source, unsent, true));
                        }
                    }
                    return Err(ClientError::frame(peer, err));
                }
                if wire.is_empty() {
                    continue;
                }
                wire.split().freeze()
            } else {
                chunk
            };
            if let Err((source, unsent)) = send_counted(&mut writer, &data).await {
                return Err(peer_closed(source, unsent, true));
            }
        }
        if framed {
            lines
                .finish::<FrameError>(|line| codec.encode(line, &mut wire))
                .map_err(|e| ClientError::frame(peer, e))?;
            if !wire.is_empty() {
                if let Err((source, unsent)) = send_counted(&mut writer, &wire).await {
                    return Err(peer_closed(source, unsent, false));
                }
            }
        }
        input_ended.notify_one();
        if config.shutdown_on_eof {
            if let Err(err) = writer.shutdown().await {
                return Err(peer_closed(err, 0, false));
            }
        }
        // Exit 0 only once the peer's kernel has acknowledged every byte: a peer that
        // closed before reading gets the data and answers with a reset.
        if let Err(err) = super::delivery::wait_delivered(writer.as_ref()).await {
            return Err(peer_closed(err, 0, false));
        }
        Ok(())
    };

    let download = async {
        let mut frames =
            FrameReader::new(reader, FrameCodec::new(&config.framing, config.max_frame));
        let mut batch: Vec<Bytes> = Vec::new();
        loop {
            frames
                .read_batch(&mut batch)
                .await
                .map_err(|e| ClientError::frame(peer, e))?;
            if batch.is_empty() {
                return Ok(());
            }
            touch();
            write_batch(&output, &mut batch, config.framing.is_framed())
                .await
                .map_err(ClientError::Output)?;
        }
    };

    let idle = async {
        activity.expired(config.idle_timeout).await;
        let idle = config.idle_timeout.unwrap_or_default();
        Err::<(), _>(ClientError::Idle { peer, idle })
    };

    let quit = async {
        let Some(after) = config.quit_after_eof else {
            return std::future::pending().await;
        };
        input_ended.notified().await;
        tokio::time::sleep(after).await;
    };

    tokio::pin!(upload, download, idle, quit);
    let mut sent: Option<Sent> = None;
    let mut received = false;
    let result = loop {
        tokio::select! {
            done = &mut upload, if sent.is_none() => {
                match done {
                    Ok(()) => sent = Some(Sent::Complete),
                    Err(ClientError::PeerClosed { .. }) if config.ignore_close => {
                        sent = Some(Sent::PeerClosed);
                    }
                    Err(err) => break Err(err),
                }
                // Without a half-close the peer cannot know the input ended: the session
                // ends when it closes (or -q / the idle timeout says so).
                if received {
                    break Ok(());
                }
            }
            done = &mut download, if !received => {
                if let Err(err) = done {
                    if config.ignore_close && is_reset(&err) {
                        break Ok(());
                    }
                    break Err(err);
                }
                received = true;
                if sent.is_some() || config.end_with_peer || !config.shutdown_on_eof {
                    break Ok(());
                }
            }
            done = &mut idle => break done,
            () = &mut quit => break Ok(()),
            () = output.failed() => break output.status().map_err(ClientError::Output),
        }
    };
    if let (Ok(()), Some(Sent::PeerClosed)) = (&result, &sent) {
        tracing::debug!("{peer} closed before all input was sent (--ignore-close)");
    }
    let flushed = output.flush().await.map_err(ClientError::Output);
    result.and(flushed)
}

/// Writes all of `data`; on failure returns the error and how many bytes were not
/// written.
async fn send_counted(
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
    data: &[u8],
) -> Result<(), (io::Error, u64)> {
    let mut rest = data;
    while !rest.is_empty() {
        match writer.write(rest).await {
            Ok(0) => {
                return Err((io::ErrorKind::WriteZero.into(), rest.len() as u64));
            }
            Ok(n) => rest = &rest[n..],
            Err(err) => return Err((err, rest.len() as u64)),
        }
    }
    Ok(())
}

/// The peer reset the connection (its close met data we had sent).
fn is_reset(err: &ClientError) -> bool {
    matches!(err, ClientError::Io { source, .. } if is_peer_gone(source))
}

/// Writes received frames to stdout: raw chunks as they are, messages one per line,
/// gathered into one write.
pub(crate) async fn write_batch(
    output: &Output,
    batch: &mut Vec<Bytes>,
    framed: bool,
) -> io::Result<()> {
    if !framed {
        for chunk in batch.drain(..) {
            output.write(chunk).await?;
        }
        return Ok(());
    }
    let total: usize = batch.iter().map(|m| m.len() + 1).sum();
    let mut out = BytesMut::with_capacity(total);
    for msg in batch.drain(..) {
        out.extend_from_slice(&msg);
        out.extend_from_slice(b"\n");
    }
    output.write(out.freeze()).await
}
