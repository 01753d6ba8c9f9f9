//! A response being read: its head, then the body pulled chunk by chunk until its framing says it is complete.

use super::*;

/// How the rest of a response body is read.
#[derive(Debug)]
pub(super) enum BodyState {
    Length { left: u64, total: u64 },
    Chunked(Box<ChunkedDecoder>),
    UntilClose,
    Done,
}

/// A response whose head has been read; the body is pulled with [`Response::chunk`].
pub struct Response<'c> {
    /// The final response head.
    pub head: ResponseHead,
    /// 1xx responses received before it, in order.
    pub interim: Vec<ResponseHead>,
    /// The final head exactly as read (status line to blank line).
    pub raw_head: Bytes,
    /// How the body is delimited.
    pub length: BodyLength,
    pub(super) conn: &'c mut Conn,
    pub(super) state: BodyState,
    /// Offset, in the connection's received stream, of this exchange's first byte.
    pub(super) base: u64,
    /// Offset of the body's first byte in the received stream.
    pub(super) body_start: u64,
    pub(super) started: Instant,
    pub(super) timing: Timing,
    pub(super) deadline: Option<Instant>,
    pub(super) keep_alive: bool,
    pub(super) body_bytes: u64,
}

impl std::fmt::Debug for Response<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("head", &self.head)
            .field("length", &self.length)
            .finish()
    }
}

pub(super) fn malformed(conn: &Conn, error: ResponseError) -> ClientError {
    ClientError::Malformed {
        peer: conn.peer_text(),
        error,
    }
}

impl<'c> Response<'c> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start(
        conn: &'c mut Conn,
        req: &Request,
        (head, raw_head): (ResponseHead, Bytes),
        interim: Vec<ResponseHead>,
        base: u64,
        started: Instant,
        timing: Timing,
        deadline: Option<Instant>,
    ) -> Result<Response<'c>, ClientError> {
        let head_at = conn.consumed - base - head.len as u64;
        let length = response_head::body_length(&head, &req.method)
            .map_err(|e| malformed(conn, e.shifted(head_at)))?;
        let state = match length {
            BodyLength::None | BodyLength::Length(0) => BodyState::Done,
            BodyLength::Length(n) => BodyState::Length { left: n, total: n },
            BodyLength::Chunked => BodyState::Chunked(Box::default()),
            BodyLength::UntilClose => BodyState::UntilClose,
        };
        let keep_alive = head.keep_alive();
        let body_start = conn.consumed;
        let mut resp = Response {
            head,
            interim,
            raw_head,
            length,
            conn,
            state,
            base,
            body_start,
            started,
            timing,
            deadline,
            keep_alive,
            body_bytes: 0,
        };
        if matches!(resp.state, BodyState::Done) {
            resp.finish_checks()?;
        }
        Ok(resp)
    }

    /// The next run of body bytes (transfer coding removed, content coding kept), or
    /// `None` once the body is complete. A body cut short is an error, never `None`.
    pub async fn chunk(&mut self, obs: &mut dyn Observer) -> Result<Option<Bytes>, ClientError> {
        loop {
            match &mut self.state {
                BodyState::Done => {
                    if self.timing.body.is_none() {
                        self.timing.body = Some(self.started.elapsed());
                        obs.finished(&self.timing);
                    }
                    return Ok(None);
                }
                BodyState::Length { left, total } => {
                    if self.conn.buf.is_empty() {
                        let n = self.conn.fill(self.deadline, obs).await?;
                        if n == 0 {
                            let what = format!(
                                "body cut short: {} of {} bytes (Content-Length)",
                                *total - *left,
                                total
                            );
                            let at = self.conn.received - self.base;
                            return Err(malformed(self.conn, ResponseError::truncated(what, at)));
                        }
                    }
                    let take = (*left).min(self.conn.buf.len() as u64) as usize;
                    *left -= take as u64;
                    if *left == 0 {
                        self.state = BodyState::Done;
                    }
                    let data = self.conn.advance(take);
                    self.body_bytes += take as u64;
                    if matches!(self.state, BodyState::Done) {
                        self.finish_checks()?;
                    }
                    return Ok(Some(data));
                }
                BodyState::UntilClose => {
                    if self.conn.buf.is_empty() {
                        let n = self.conn.fill(self.deadline, obs).await?;
                        if n == 0 {
                            self.state = BodyState::Done;
                            self.keep_alive = false;
                            continue;
                        }
                    }
                    let n = self.conn.buf.len();
                    self.body_bytes += n as u64;
                    return Ok(Some(self.conn.advance(n)));
                }
                BodyState::Chunked(dec) => {
                    if self.conn.buf.is_empty() {
                        let n = self.conn.fill(self.deadline, obs).await?;
                        if n == 0 {
                            let err = dec.truncation().shifted(self.body_start - self.base);
                            return Err(malformed(self.conn, err));
                        }
                    }
                    let step = match dec.decode(&self.conn.buf) {
                        Ok(step) => step,
                        Err(e) => {
                            let err = e.shifted(self.body_start - self.base);
                            return Err(malformed(self.conn, err));
                        }
                    };
                    let consumed = self.conn.advance(step.consumed);
                    if step.done {
                        if !dec.trailers().is_empty() {
                            obs.trailers(dec.trailers());
                        }
                        self.state = BodyState::Done;
                        self.finish_checks()?;
                    }
                    if let Some(r) = step.data {
                        if !r.is_empty() {
                            self.body_bytes += r.len() as u64;
                            return Ok(Some(consumed.slice(r)));
                        }
                    }
                }
            }
        }
    }

    /// Called when the body is complete: bytes already buffered beyond the response
    /// would be read as the start of the next one (response splitting or a server
    /// bug), so they are an error and the connection is not reused.
    fn finish_checks(&mut self) -> Result<(), ClientError> {
        if !self.conn.buf.is_empty() && self.conn.in_flight == 0 {
            let at = self.conn.consumed - self.base;
            let n = self.conn.buf.len();
            let preview = crate::text::escape_bytes(&self.conn.buf[..n.min(32)]);
            return Err(malformed(
                self.conn,
                ResponseError::malformed(
                    format!("{n} extra bytes after a complete response (\"{preview}\")"),
                    at,
                ),
            ));
        }
        self.conn.reusable = self.keep_alive;
        self.conn.used = true;
        Ok(())
    }

    /// Reads the whole body into memory, bounded by `limit` bytes.
    pub async fn bytes(
        &mut self,
        limit: usize,
        obs: &mut dyn Observer,
    ) -> Result<Vec<u8>, ClientError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.chunk(obs).await? {
            if out.len() + chunk.len() > limit {
                return Err(ClientError::Request(format!(
                    "response body larger than {limit} bytes"
                )));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Timestamps of this exchange so far (complete once the body is).
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Body bytes delivered so far (after transfer decoding).
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes
    }

    /// The server's address.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.conn.peer
    }

    /// Where the chunked decoder stands, for `--check`: extensions seen.
    pub fn chunk_extensions(&self) -> Vec<String> {
        match &self.state {
            BodyState::Chunked(d) => d.extensions().to_vec(),
            _ => Vec::new(),
        }
    }
}
