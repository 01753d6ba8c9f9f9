//! The TCP client: stdin to the socket, the socket to stdout, both at once.
//!
//! On end of input the client half-closes (`shutdown(SHUT_WR)`): the peer reads 0 bytes,
//! knows the request is complete, and can still answer; the client exits when the peer
//! closes its side. This is netcat's `-N` behaviour, on by default here because without
//! it a server waiting for the end of the request never answers.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::Encoder;

use crate::frame::{FrameCodec, FrameError, FrameReader, Framing, LineSplitter};
use crate::net::error::{describe, secs};
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
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            framing: Framing::Raw,
            max_frame: crate::frame::DEFAULT_MAX_FRAME,
            shutdown_on_eof: true,
            idle_timeout: None,
            input_messages: false,
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

/// Runs a client session on a connected stream until the peer closes.
///
/// Data from `input` goes to the socket (framed per `config`); data from the socket goes
/// to `output`. Returns `Ok` when the peer closes cleanly; a failed stdout is
/// [`ClientError::Output`].
pub async fn run_client(
    mut stream: TcpStream,
    mut input: InputChunks,
    output: Output,
    config: &ClientConfig,
) -> Result<(), ClientError> {
    let peer = stream.peer_addr().map_err(|source| ClientError::Io {
        peer: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    let (reader, mut writer) = stream.split();
    let start = Instant::now();
    let last_activity = AtomicU64::new(0);
    let touch = || last_activity.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);

    let upload = async {
        let mut codec = FrameCodec::new(&config.framing, config.max_frame);
        let mut lines = LineSplitter::new(codec.max_frame(), codec.framing().clone());
        let mut wire = BytesMut::new();
        let framed = config.framing.is_framed();
        while let Some(chunk) = input.recv().await {
            let chunk = chunk.map_err(ClientError::Stdin)?;
            touch();
            if framed {
                if config.input_messages {
                    codec.encode(&chunk[..], &mut wire)
                } else {
                    lines.push::<FrameError>(&chunk, |line| codec.encode(line, &mut wire))
                }
                .map_err(|e| ClientError::frame(peer, e))?;
                if wire.is_empty() {
                    continue;
                }
                writer.write_all(&wire).await
            } else {
                writer.write_all(&chunk).await
            }
            .map_err(|source| ClientError::Io { peer, source })?;
            wire.clear();
        }
        if framed {
            lines
                .finish::<FrameError>(|line| codec.encode(line, &mut wire))
                .map_err(|e| ClientError::frame(peer, e))?;
            writer
                .write_all(&wire)
                .await
                .map_err(|source| ClientError::Io { peer, source })?;
        }
        if config.shutdown_on_eof {
            // ENOTCONN here means the peer already closed: nothing left to tell it.
            if let Err(err) = writer.shutdown().await {
                if err.kind() != io::ErrorKind::NotConnected {
                    return Err(ClientError::Io { peer, source: err });
                }
            }
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
        let Some(limit) = config.idle_timeout else {
            return std::future::pending().await;
        };
        loop {
            let last = Duration::from_millis(last_activity.load(Ordering::Relaxed));
            let quiet = start.elapsed().saturating_sub(last);
            if quiet >= limit {
                return Err(ClientError::Idle { peer, idle: limit });
            }
            tokio::time::sleep(limit - quiet).await;
        }
    };

    tokio::pin!(upload, download, idle);
    let mut uploading = true;
    let result = loop {
        tokio::select! {
            done = &mut upload, if uploading => {
                if let Err(err) = done {
                    break Err(err);
                }
                uploading = false;
            }
            done = &mut download => break done,
            done = &mut idle => break done,
        }
    };
    let flushed = output.flush().await.map_err(ClientError::Output);
    result.and(flushed)
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
