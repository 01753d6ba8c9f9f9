//! `sockit demo sticky`: TCP's "sticky packets" (粘包), shown and cured on loopback.
//!
//! A sender writes N small messages back to back, one `send` each. The receiver is a
//! little slow (it waits before reading, like a busy server), so the messages pile up in
//! its receive buffer and one `recv(1024)` returns several of them glued together: the
//! stream kept the bytes and their order, not the boundaries. Then the same messages go
//! out with `len32` framing (a 4-byte length before each) and come out whole and
//! separate, however the reads cut them. The course's two other cures follow: an end
//! marker (`\n` after each message, the receiver splits on it), which also works
//! whatever the reads, and pacing the sender (a pause between sends, the receiver reading
//! at once), which only makes merging unlikely, and costs the pause for every message.

use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Encoder;

use crate::event::{Event, Events, Level};
use crate::frame::{FrameCodec, FrameReader, Framing};
use crate::net::socket::{tcp_connect, tcp_listener};
use crate::net::SocketOptions;
use crate::text::escape_bytes;

/// The receive size of the naive receiver, as in the course's `recv(1024)`.
pub const RECV_SIZE: usize = 1024;

/// How long the receiver waits before reading, so the writes pile up.
const RECEIVER_DELAY: Duration = Duration::from_millis(100);

/// The pause between two sends of the paced sender.
pub const PACE: Duration = Duration::from_millis(20);

/// What the demonstration observed.
#[derive(Debug, Clone)]
pub struct StickyReport {
    /// The messages sent.
    pub sent: Vec<Bytes>,
    /// Each `recv` of the unframed receiver, as it arrived.
    pub raw_reads: Vec<Bytes>,
    /// The messages the `len32` receiver decoded.
    pub framed: Vec<Bytes>,
    /// How many reads carried the framed messages.
    pub framed_reads: usize,
    /// The messages the end-marker (`\n`) receiver split out.
    pub marked: Vec<Bytes>,
    /// How many reads carried them.
    pub marked_reads: usize,
    /// Each `recv` of the receiver of the paced sender.
    pub paced_reads: Vec<Bytes>,
    /// How long the paced sender took.
    pub paced_time: Duration,
}

/// The messages of the demonstration: `message 1`, `message 2`, ...
pub fn messages(count: usize) -> Vec<Bytes> {
    (1..=count)
        .map(|i| Bytes::from(format!("message {i}")))
        .collect()
}

/// Runs both halves of the demonstration on loopback. At [`Level::Verbose`], each receiving
/// socket's attributes are printed on stderr.
pub async fn sticky(count: usize, events: &Events) -> io::Result<StickyReport> {
    let sent = messages(count);

    let raw_wire: Vec<Bytes> = sent.clone();
    let (raw_reads, _) = exchange(raw_wire, events, None, read_raw).await?;

    let mut codec = FrameCodec::new(&Framing::Len32, RECV_SIZE);
    let mut framed_wire = Vec::with_capacity(count);
    for msg in &sent {
        let mut wire = BytesMut::new();
        codec.encode(msg, &mut wire).map_err(io::Error::other)?;
        framed_wire.push(wire.freeze());
    }
    let (framed, framed_reads) = exchange(framed_wire, events, None, |stream| {
        decode_all(stream, Framing::Len32)
    })
    .await?;

    // An end marker: the course's other framing. Messages must not contain it.
    let marked_wire: Vec<Bytes> = sent
        .iter()
        .map(|m| {
            let mut w = BytesMut::from(&m[..]);
            w.extend_from_slice(b"\n");
            w.freeze()
        })
        .collect();
    let (marked, marked_reads) = exchange(marked_wire, events, None, |stream| {
        decode_all(stream, Framing::Line)
    })
    .await?;

    // Pacing: no framing, a pause between sends, a receiver that reads at once.
    let started = std::time::Instant::now();
    let (paced_reads, _) = exchange(sent.clone(), events, Some(PACE), read_raw).await?;
    let paced_time = started.elapsed();

    Ok(StickyReport {
        sent,
        raw_reads,
        framed,
        framed_reads,
        marked,
        marked_reads,
        paced_reads,
        paced_time,
    })
}

/// Reads with `recv(1024)` until the end of the stream, keeping each read as it came.
async fn read_raw(mut stream: TcpStream) -> io::Result<(Vec<Bytes>, usize)> {
    let mut reads = Vec::new();
    let mut buf = vec![0u8; RECV_SIZE];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok((reads, 0));
        }
        reads.push(Bytes::copy_from_slice(&buf[..n]));
    }
}

/// Decodes every message of `framing` from the stream, counting the reads it took.
async fn decode_all(stream: TcpStream, framing: Framing) -> io::Result<(Vec<Bytes>, usize)> {
    let counter = CountingReader {
        inner: stream,
        reads: 0,
    };
    let mut frames = FrameReader::new(counter, FrameCodec::new(&framing, RECV_SIZE));
    let mut out = Vec::new();
    while let Some(frame) = frames.read_frame().await.map_err(io::Error::other)? {
        out.push(frame);
    }
    Ok((out, frames.get_mut().reads))
}

/// Sends each buffer with its own `write`, and runs `receive` on the accepted stream
/// after [`RECEIVER_DELAY`]; with `pace`, the sender pauses that long between writes and
/// the receiver starts at once.
async fn exchange<F, Fut>(
    writes: Vec<Bytes>,
    events: &Events,
    pace: Option<Duration>,
    receive: F,
) -> io::Result<(Vec<Bytes>, usize)>
where
    F: FnOnce(TcpStream) -> Fut,
    Fut: std::future::Future<Output = io::Result<(Vec<Bytes>, usize)>>,
{
    let listener = tcp_listener(([127, 0, 0, 1], 0).into(), &SocketOptions::default())?;
    let addr = listener.local_addr()?;
    let sender = tokio::spawn(async move {
        let mut stream = tcp_connect(&addr.to_string(), &[addr], &SocketOptions::default(), None)
            .await
            .map_err(io::Error::other)?;
        for (i, write) in writes.iter().enumerate() {
            if let (Some(pause), true) = (pace, i > 0) {
                tokio::time::sleep(pause).await;
            }
            stream.write_all(write).await?;
        }
        stream.shutdown().await?;
        Ok::<(), io::Error>(())
    });
    let (stream, _) = listener.accept().await?;
    if events.wants(Level::Verbose) {
        let info = crate::net::SocketInfo::of(&stream);
        events.emit(Event::verbose("socket", format!("socket {info}")));
    }
    if pace.is_none() {
        tokio::time::sleep(RECEIVER_DELAY).await;
    }
    let received = receive(stream).await?;
    sender.await.map_err(io::Error::other)??;
    Ok(received)
}

/// Counts the reads a `FrameReader` makes, to show that frames survive merged reads.
struct CountingReader {
    inner: TcpStream,
    reads: usize,
}

impl tokio::io::AsyncRead for CountingReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if poll.is_ready() && buf.filled().len() > before {
            self.reads += 1;
        }
        poll
    }
}

impl StickyReport {
    /// The human-readable account printed by `sockit demo sticky`.
    pub fn render(&self) -> String {
        let count = self.sent.len();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "== raw: {count} messages sent with {count} send() calls, received with recv({RECV_SIZE}) =="
        );
        for (i, read) in self.raw_reads.iter().enumerate() {
            let _ = writeln!(
                out,
                "read {}: {} bytes: \"{}\"",
                i + 1,
                read.len(),
                escape_bytes(read)
            );
        }
        let merged = self.raw_reads.len() < count;
        let _ = writeln!(
            out,
            "raw: {count} messages sent, {} read(s) received: {}",
            self.raw_reads.len(),
            if merged {
                "messages stuck together, boundaries lost (sticky packets)"
            } else {
                "one message per read this time, but nothing guarantees it"
            }
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "== len32: the same {count} messages, each after a 4-byte big-endian length =="
        );
        for (i, msg) in self.framed.iter().enumerate() {
            let _ = writeln!(
                out,
                "message {}: {} bytes: \"{}\"",
                i + 1,
                msg.len(),
                escape_bytes(msg)
            );
        }
        let whole = self.framed == self.sent;
        let _ = writeln!(
            out,
            "len32: {count} messages sent, {} received whole in {} read(s): {}",
            self.framed.len(),
            self.framed_reads,
            if whole {
                "every boundary kept"
            } else {
                "MISMATCH (this is a bug)"
            }
        );
        let _ = writeln!(out);
        let marked_whole = self.marked == self.sent;
        let _ = writeln!(
            out,
            "== end marker: the same {count} messages, each followed by \\n; the receiver splits on it =="
        );
        let _ = writeln!(
            out,
            "end marker: {count} messages sent, {} received whole in {} read(s): {}",
            self.marked.len(),
            self.marked_reads,
            if marked_whole {
                "every boundary kept (a message must not contain the marker)"
            } else {
                "MISMATCH (this is a bug)"
            }
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "== pacing: no framing, {} ms between sends, the receiver reads at once ==",
            PACE.as_millis()
        );
        let paced_one_each = self.paced_reads.len() == count;
        let _ = writeln!(
            out,
            "pacing: {count} messages sent, {} read(s) received in {:.0} ms: {}",
            self.paced_reads.len(),
            self.paced_time.as_secs_f64() * 1000.0,
            if paced_one_each {
                "one message per read, this time: a slower receiver would merge them again"
            } else {
                "some still merged: pacing only makes it unlikely"
            }
        );
        let _ = writeln!(
            out,
            "conclusion: TCP keeps bytes, not boundaries: a length prefix or an end marker restores every message whatever the reads; pacing only makes merging unlikely and costs {} ms for {count} messages",
            PACE.as_millis() as usize * count.saturating_sub(1)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn framing_recovers_every_message() {
        let report = sticky(20, &Events::discard()).await.unwrap();
        assert_eq!(report.framed, report.sent);
        let joined: Vec<u8> = report.raw_reads.iter().flat_map(|r| r.to_vec()).collect();
        let expected: Vec<u8> = report.sent.iter().flat_map(|m| m.to_vec()).collect();
        assert_eq!(joined, expected);
        // The delayed receiver sees the writes merged.
        assert!(
            report.raw_reads.len() < 20,
            "{} reads",
            report.raw_reads.len()
        );
        let text = report.render();
        assert!(text.contains("raw: 20 messages sent"), "{text}");
        assert!(
            text.contains("len32: 20 messages sent, 20 received whole"),
            "{text}"
        );
        assert_eq!(report.marked, report.sent);
        let paced: Vec<u8> = report.paced_reads.iter().flat_map(|r| r.to_vec()).collect();
        assert_eq!(paced, expected);
        assert!(report.paced_time >= PACE * 19, "{:?}", report.paced_time);
        assert!(
            text.contains("end marker: 20 messages sent, 20 received whole"),
            "{text}"
        );
        assert!(text
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("conclusion: TCP keeps bytes"));
    }
}
