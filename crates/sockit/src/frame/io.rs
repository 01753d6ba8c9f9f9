//! Reading whole frames from a stream, and cutting input text into line messages.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::codec::Decoder;

use super::{BufferPool, FrameCodec, FrameError, Framing};

/// How much to ask the kernel for per read: big reads mean few system calls on bulk data.
pub const READ_CHUNK: usize = 256 * 1024;

/// Raw reads already available are gathered up to this size before being handed out.
const COALESCE: usize = 512 * 1024;

/// Reads a stream and hands out whole frames, in batches.
///
/// Like mini-redis's `Connection::read_frame`: the reader owns the buffer, decodes
/// every complete frame it holds, keeps a partial one for the next read, and tells a
/// clean close (no bytes left) from a close mid-frame ([`FrameError::Truncated`]).
/// Batching lets the caller write all frames that arrived in one read with one write.
#[derive(Debug)]
pub struct FrameReader<R> {
    reader: R,
    codec: FrameCodec,
    buf: BytesMut,
    eof: bool,
    /// An error found after some good frames of the same batch: those are handed out
    /// first, the error on the next call.
    deferred: Option<FrameError>,
    /// Raw framing hands out each read whole, so reads go straight into pooled buffers.
    pool: Option<BufferPool>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Wraps a reader with a codec.
    pub fn new(reader: R, codec: FrameCodec) -> Self {
        let raw = !codec.framing().is_framed();
        FrameReader {
            reader,
            codec,
            buf: if raw {
                BytesMut::new()
            } else {
                BytesMut::with_capacity(READ_CHUNK)
            },
            eof: false,
            deferred: None,
            pool: raw.then(|| BufferPool::new(4, 4 * READ_CHUNK, READ_CHUNK / 4)),
        }
    }

    /// Raw framing: one read, handed out whole (`None` at the end of the stream).
    async fn read_raw(&mut self) -> Result<Option<Bytes>, FrameError> {
        let Some(pool) = &mut self.pool else {
            return Ok(None);
        };
        if self.eof {
            return Ok(None);
        }
        let buf = pool.buffer();
        if self.reader.read_buf(buf).await? == 0 {
            self.eof = true;
            return Ok(None);
        }
        // Take whatever else has already arrived, without waiting: one larger chunk per
        // hand-off to the writer instead of many small ones (each hand-off wakes a thread).
        while buf.len() < COALESCE && buf.capacity() - buf.len() >= READ_CHUNK / 4 {
            match ready_now(self.reader.read_buf(buf)).await {
                Some(Ok(0)) => {
                    self.eof = true;
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => {
                    self.deferred = Some(err.into());
                    break;
                }
                None => break,
            }
        }
        Ok(Some(buf.split().freeze()))
    }

    /// Appends the next frames to `frames`: at least one, or none at a clean end of the
    /// stream.
    ///
    /// With [`Framing::Raw`] each "frame" is the data of one read.
    ///
    /// When the data holds good frames followed by a bad one, the good frames come first
    /// and the error with the next call: a peer's last valid messages are not lost.
    pub async fn read_batch(&mut self, frames: &mut Vec<Bytes>) -> Result<(), FrameError> {
        if let Some(err) = self.deferred.take() {
            return Err(err);
        }
        if self.pool.is_some() {
            if let Some(chunk) = self.read_raw().await? {
                frames.push(chunk);
            }
            return Ok(());
        }
        let start = frames.len();
        loop {
            loop {
                match self.codec.decode(&mut self.buf) {
                    Ok(Some(frame)) => frames.push(frame),
                    Ok(None) => break,
                    Err(err) => return self.fail(frames.len() > start, err),
                }
                if matches!(self.codec.framing(), Framing::Raw) {
                    break;
                }
            }
            if frames.len() > start {
                return Ok(());
            }
            if self.eof {
                loop {
                    match self.codec.decode_eof(&mut self.buf) {
                        Ok(Some(frame)) => frames.push(frame),
                        Ok(None) => return Ok(()),
                        Err(err) => return self.fail(frames.len() > start, err),
                    }
                }
            }
            // `reserve` reuses the allocation once the previous batch's `Bytes` are
            // dropped, so a steady stream does not allocate per read.
            self.buf.reserve(READ_CHUNK);
            if self.reader.read_buf(&mut self.buf).await? == 0 {
                self.eof = true;
            }
        }
    }

    /// Like [`FrameReader::read_batch`], but reads from the socket at most once, so the
    /// caller regains control while a long frame is still arriving (to count what it
    /// holds, see [`FrameReader::buffered`], against a budget). Appends the frames that
    /// are complete, possibly none; returns `false` once the stream has ended and every
    /// frame was handed out.
    pub async fn read_step(&mut self, frames: &mut Vec<Bytes>) -> Result<bool, FrameError> {
        if let Some(err) = self.deferred.take() {
            return Err(err);
        }
        if self.pool.is_some() {
            return Ok(match self.read_raw().await? {
                Some(chunk) => {
                    frames.push(chunk);
                    true
                }
                None => false,
            });
        }
        let start = frames.len();
        let mut read = false;
        loop {
            loop {
                match self.codec.decode(&mut self.buf) {
                    Ok(Some(frame)) => frames.push(frame),
                    Ok(None) => break,
                    Err(err) => return self.fail(frames.len() > start, err).map(|()| true),
                }
            }
            if frames.len() > start {
                return Ok(true);
            }
            if self.eof {
                loop {
                    match self.codec.decode_eof(&mut self.buf) {
                        Ok(Some(frame)) => frames.push(frame),
                        Ok(None) => return Ok(frames.len() > start),
                        Err(err) => return self.fail(frames.len() > start, err).map(|()| true),
                    }
                }
            }
            if read {
                return Ok(true);
            }
            self.buf.reserve(READ_CHUNK);
            if self.reader.read_buf(&mut self.buf).await? == 0 {
                self.eof = true;
            }
            read = true;
        }
    }

    fn fail(&mut self, have_frames: bool, err: FrameError) -> Result<(), FrameError> {
        if have_frames {
            self.deferred = Some(err);
            Ok(())
        } else {
            Err(err)
        }
    }

    /// Returns the next frame, or `None` at a clean end of the stream.
    pub async fn read_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        if let Some(err) = self.deferred.take() {
            return Err(err);
        }
        if self.pool.is_some() {
            return self.read_raw().await;
        }
        loop {
            if let Some(frame) = self.codec.decode(&mut self.buf)? {
                return Ok(Some(frame));
            }
            if self.eof {
                return self.codec.decode_eof(&mut self.buf);
            }
            self.buf.reserve(READ_CHUNK);
            if self.reader.read_buf(&mut self.buf).await? == 0 {
                self.eof = true;
            }
        }
    }

    /// Bytes received but not yet handed out: the start of an unfinished frame (a line
    /// without its newline, a message whose length header promised more). A server
    /// counts these against its memory budget.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The codec, e.g. to encode replies with the same framing.
    pub fn codec_mut(&mut self) -> &mut FrameCodec {
        &mut self.codec
    }

    /// The wrapped reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }
}

/// `fut`'s output if it is ready at once, `None` if it would have to wait: polled once,
/// with this task's own waker (a wake-up it leaves registered is harmless). Lets a read
/// loop take what has already arrived without waiting for more.
async fn ready_now<F: std::future::Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match fut.as_mut().poll(cx) {
            std::task::Poll::Ready(out) => Some(out),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

/// Cuts a byte stream (typically stdin) into lines: each line, without its `\n`, is one
/// message to send with a framing.
///
/// Complete lines are handed out straight from the input chunk; only an unfinished last
/// line is copied and kept for the next chunk, up to `max` bytes. A line longer than
/// `max` is **skipped whole**: it is reported once ([`Piece::TooLong`], as soon as it
/// passes the limit), none of its bytes are ever handed out as a line, its buffered part
/// is freed, and splitting resumes after its `\n`. So input without newlines cannot grow
/// the buffer without bound, and a receiver never gets a fragment that looks like a whole
/// message. Where the input was cut into chunks never changes what comes out.
#[derive(Debug)]
pub struct LineSplitter {
    pending: BytesMut,
    max: usize,
    framing: Framing,
    /// Inside an over-long line: drop everything up to the next `\n`.
    skipping: bool,
    /// Over-long lines met so far.
    skipped: u64,
}

/// What [`LineSplitter::feed`] finds in its input, in input order.
#[derive(Debug)]
pub enum Piece<'a> {
    /// A whole line, without its `\n`, at most the limit long.
    Line(&'a [u8]),
    /// A line passed the limit ([`FrameError::LineTooLong`]): it is skipped up to and
    /// including its `\n`. Reported once per line, however many chunks it spans.
    TooLong(FrameError),
}

impl LineSplitter {
    /// A splitter refusing lines longer than `max` bytes; `framing` (the framing the
    /// lines will be sent with) names the limit in the error.
    pub fn new(max: usize, framing: Framing) -> Self {
        LineSplitter {
            pending: BytesMut::new(),
            max,
            framing,
            skipping: false,
            skipped: 0,
        }
    }

    /// Feeds a chunk and calls `on` for every line it completes and every over-long line
    /// it starts skipping, in order. An error from `on` stops at once (the rest of the
    /// chunk is not looked at).
    pub fn feed<E>(
        &mut self,
        chunk: &[u8],
        mut on: impl FnMut(Piece<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut rest = chunk;
        while let Some(at) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = (&rest[..at], &rest[at + 1..]);
            rest = tail;
            if self.skipping {
                // The newline ending a line already reported: resume after it.
                self.skipping = false;
            } else if self.pending.is_empty() {
                if line.len() > self.max {
                    on(Piece::TooLong(self.too_long()))?;
                } else {
                    on(Piece::Line(line))?;
                }
            } else if self.pending.len() + line.len() > self.max {
                self.pending.clear();
                on(Piece::TooLong(self.too_long()))?;
            } else {
                self.pending.extend_from_slice(line);
                let whole = self.pending.split();
                on(Piece::Line(&whole))?;
            }
        }
        if !rest.is_empty() && !self.skipping {
            if self.pending.len() + rest.len() > self.max {
                // Free what was kept of it: none of this line will ever be sent.
                self.pending = BytesMut::new();
                self.skipping = true;
                on(Piece::TooLong(self.too_long()))?;
            } else {
                self.pending.extend_from_slice(rest);
            }
        }
        Ok(())
    }

    /// At the end of input: a last line without a newline is still a line (unless it was
    /// over-long, which has been reported already).
    pub fn feed_end<E>(&mut self, mut on: impl FnMut(Piece<'_>) -> Result<(), E>) -> Result<(), E> {
        self.skipping = false;
        if self.pending.is_empty() {
            return Ok(());
        }
        let whole = self.pending.split();
        on(Piece::Line(&whole))
    }

    /// How many over-long lines have been skipped so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// [`LineSplitter::feed`] for callers that only want lines: `on_line` gets every
    /// line of the chunk, including those after an over-long one, and the first over-long
    /// line of the chunk is returned as the error afterwards (once per line, never once
    /// per chunk).
    pub fn push<E: From<FrameError>>(
        &mut self,
        chunk: &[u8],
        mut on_line: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut first = None;
        self.feed(chunk, |piece| match piece {
            Piece::Line(line) => on_line(line),
            Piece::TooLong(err) => {
                first.get_or_insert(err);
                Ok(())
            }
        })?;
        match first {
            Some(err) => Err(err.into()),
            None => Ok(()),
        }
    }

    /// At the end of input: a last line without a newline is still a message.
    pub fn finish<E: From<FrameError>>(
        &mut self,
        mut on_line: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        self.feed_end(|piece| match piece {
            Piece::Line(line) => on_line(line),
            Piece::TooLong(err) => Err(err.into()),
        })
    }

    fn too_long(&mut self) -> FrameError {
        self.skipped += 1;
        tracing::debug!(
            "line over {} bytes: skipping it to its newline ({} skipped so far)",
            self.max,
            self.skipped
        );
        FrameError::LineTooLong {
            max: self.max,
            framing: self.framing.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn split(chunks: &[&[u8]], max: usize) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut splitter = LineSplitter::new(max, Framing::Line);
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.push::<FrameError>(chunk, |l| {
                lines.push(l.to_vec());
                Ok(())
            })?;
        }
        splitter.finish::<FrameError>(|l| {
            lines.push(l.to_vec());
            Ok(())
        })?;
        Ok(lines)
    }

    #[test]
    fn lines_across_chunks() {
        let got = split(&[b"he", b"llo\nwor", b"ld\n\nlast"], 100).unwrap();
        assert_eq!(
            got,
            vec![
                b"hello".to_vec(),
                b"world".to_vec(),
                b"".to_vec(),
                b"last".to_vec()
            ]
        );
    }

    #[test]
    fn overlong_line_is_an_error() {
        assert!(split(&[b"0123456789\n"], 5).is_err());
        assert!(split(&[b"012", b"345", b"678"], 5).is_err());
    }

    /// Feeds `chunks`, returning the lines and how many over-long lines were reported.
    fn pieces(chunks: &[&[u8]], max: usize) -> (Vec<Vec<u8>>, usize) {
        let mut splitter = LineSplitter::new(max, Framing::Len32);
        let (mut lines, mut errors) = (Vec::new(), 0);
        let mut on = |piece: Piece<'_>| {
            match piece {
                Piece::Line(l) => lines.push(l.to_vec()),
                Piece::TooLong(_) => errors += 1,
            }
            Ok::<(), ()>(())
        };
        for chunk in chunks {
            splitter.feed(chunk, &mut on).unwrap();
        }
        splitter.feed_end(&mut on).unwrap();
        assert_eq!(splitter.skipped(), errors as u64);
        (lines, errors)
    }

    #[test]
    fn an_overlong_line_is_reported_once_and_never_sent_in_part() {
        // The repro in miniature: "before", a line of 20 'a's cut into 150-ish
        // chunks, "after"; the limit is 8.
        let mut chunks: Vec<&[u8]> = vec![b"before\n"];
        chunks.extend([&b"aa"[..]; 10]);
        chunks.push(b"\nafter\n");
        assert_eq!(
            pieces(&chunks, 8),
            (vec![b"before".to_vec(), b"after".to_vec()], 1)
        );
        // In one chunk, between two lines, and as the unterminated last line.
        assert_eq!(
            pieces(&[b"ok\n0123456789\nfine\n0123456789"], 8),
            (vec![b"ok".to_vec(), b"fine".to_vec()], 2)
        );
    }

    #[test]
    fn push_reports_each_overlong_line_once_and_keeps_the_lines_after_it() {
        let mut splitter = LineSplitter::new(4, Framing::Line);
        let mut lines = Vec::new();
        let mut errors = 0;
        for chunk in [&b"a\n0123"[..], b"4567", b"89", b"\nb\n"] {
            if splitter
                .push::<FrameError>(chunk, |l| {
                    lines.push(l.to_vec());
                    Ok(())
                })
                .is_err()
            {
                errors += 1;
            }
        }
        assert_eq!((lines, errors), (vec![b"a".to_vec(), b"b".to_vec()], 1));
    }

    #[test]
    fn a_skipped_line_frees_its_buffer() {
        let mut splitter = LineSplitter::new(1000, Framing::Line);
        splitter.feed(&[b'x'; 900], |_| Ok::<(), ()>(())).unwrap();
        splitter.feed(&[b'x'; 900], |_| Ok::<(), ()>(())).unwrap();
        assert_eq!(splitter.pending.capacity(), 0);
    }

    #[tokio::test]
    async fn reader_yields_whole_frames_from_a_trickle() {
        let (mut tx, rx) = tokio::io::duplex(3);
        let mut codec = FrameCodec::new(&Framing::Len32, 1000);
        let mut wire = BytesMut::new();
        for m in [&b"one"[..], b"two", b"three"] {
            tokio_util::codec::Encoder::encode(&mut codec, m, &mut wire).unwrap();
        }
        tokio::spawn(async move {
            for b in wire.iter() {
                tx.write_all(&[*b]).await.unwrap();
            }
        });
        let mut reader = FrameReader::new(rx, FrameCodec::new(&Framing::Len32, 1000));
        let mut got = Vec::new();
        while let Some(f) = reader.read_frame().await.unwrap() {
            got.push(f);
        }
        assert_eq!(got, vec![&b"one"[..], b"two", b"three"]);
    }

    #[tokio::test]
    async fn good_frames_before_a_bad_one_are_delivered_first() {
        let (mut tx, rx) = tokio::io::duplex(64);
        tx.write_all(b"\x00\x00\x00\x02ok\xff\xff\xff\xff")
            .await
            .unwrap();
        let mut reader = FrameReader::new(rx, FrameCodec::new(&Framing::Len32, 1000));
        let mut frames = Vec::new();
        reader.read_batch(&mut frames).await.unwrap();
        assert_eq!(frames, vec![&b"ok"[..]]);
        assert!(matches!(
            reader.read_batch(&mut frames).await,
            Err(FrameError::TooLong { .. })
        ));
    }

    #[tokio::test]
    async fn reader_reports_a_close_mid_frame() {
        let (mut tx, rx) = tokio::io::duplex(64);
        tx.write_all(b"\x00\x00\x00\x09abc").await.unwrap();
        drop(tx);
        let mut reader = FrameReader::new(rx, FrameCodec::new(&Framing::Len32, 1000));
        let mut frames = Vec::new();
        assert!(matches!(
            reader.read_batch(&mut frames).await,
            Err(FrameError::Truncated(3))
        ));
    }
}
