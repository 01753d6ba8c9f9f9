//! Writing a request (head, body, Expect: 100-continue) and reading up to its final response head.

use super::*;

/// The body's length (taken now for files) and the request head bytes.
pub(super) async fn prepare(req: &Request) -> Result<(Option<u64>, Vec<u8>), ClientError> {
    let body_len = match &req.body {
        Body::Empty => None,
        Body::Bytes(b) => Some(b.len() as u64),
        Body::File(path) => Some(file_len(path).await?),
        Body::Pieces(pieces) => {
            let mut total = 0u64;
            for p in pieces {
                total = total.saturating_add(match p {
                    Piece::Bytes(b) => b.len() as u64,
                    Piece::File(path) => file_len(path).await?,
                });
            }
            Some(total)
        }
    };
    let head = req.head(body_len).map_err(ClientError::Request)?;
    Ok((body_len, head))
}

/// The request line that asks for `100 Continue` (compared lowercased).
pub(super) const EXPECT_LINE: &[u8] = b"\r\nexpect: 100-continue\r\n";

/// How long to wait for `100 Continue` before sending the body anyway (curl's default).
pub const EXPECT_WAIT: Duration = Duration::from_secs(1);

pub(super) async fn file_len(path: &std::path::Path) -> Result<u64, ClientError> {
    Ok(tokio::fs::metadata(path)
        .await
        .map_err(|source| ClientError::Io {
            context: format!("cannot read {}", path.display()),
            source,
        })?
        .len())
}

/// Writes the head and the body; returns false when the body was not sent because
/// the server gave its final answer to `Expect: 100-continue` first.
pub(super) async fn exchange_head(
    conn: &mut Conn,
    req: &Request,
    head: &[u8],
    body_len: Option<u64>,
    deadline: Option<Instant>,
    obs: &mut dyn Observer,
) -> Result<bool, ClientError> {
    obs.request_head(head);
    let expect = body_len.is_some_and(|n| n > 0)
        && head
            .to_ascii_lowercase()
            .windows(EXPECT_LINE.len())
            .any(|w| w == EXPECT_LINE);
    if expect {
        conn.write(head, deadline, obs).await?;
        conn.flush(deadline).await?;
        // Wait for 100 Continue (or a final refusal such as 413/417) before the body:
        // a server that will refuse a large upload can say so before it is sent.
        let waited = tokio::time::timeout(EXPECT_WAIT, async {
            loop {
                if let Some(h) = response_head::parse(&conn.buf).ok().flatten() {
                    return Ok::<_, ClientError>(Some(h));
                }
                if conn.fill(deadline, obs).await? == 0 {
                    return Ok(None);
                }
            }
        })
        .await;
        match waited {
            Ok(Ok(Some(h))) if h.status == 100 => {
                let raw = conn.advance(h.len);
                obs.response_head(&h, &raw, true);
            }
            Ok(Ok(Some(_))) | Ok(Ok(None)) => return Ok(false),
            Ok(Err(e)) => return Err(e),
            Err(_) => {} // no answer within the wait: send the body anyway
        }
        send_body(conn, req, body_len, deadline, obs).await?;
        conn.flush(deadline).await?;
        return Ok(true);
    }
    match &req.body {
        Body::Empty => conn.write(head, deadline, obs).await?,
        Body::Bytes(b) if b.len() <= 64 * 1024 => {
            // One write for head and a small body: one segment, one syscall.
            let mut all = Vec::with_capacity(head.len() + b.len());
            all.extend_from_slice(head);
            all.extend_from_slice(b);
            conn.write(&all, deadline, obs).await?;
        }
        _ => {
            conn.write(head, deadline, obs).await?;
            send_body(conn, req, body_len, deadline, obs).await?;
        }
    }
    conn.flush(deadline).await?;
    Ok(true)
}

/// Writes the request body (a file is streamed in 256 KiB reads, never loaded whole).
pub(super) async fn send_body(
    conn: &mut Conn,
    req: &Request,
    body_len: Option<u64>,
    deadline: Option<Instant>,
    obs: &mut dyn Observer,
) -> Result<(), ClientError> {
    match &req.body {
        Body::Empty => Ok(()),
        Body::Bytes(b) => conn.write(b, deadline, obs).await,
        Body::File(path) => send_file(conn, path, body_len.unwrap_or(0), deadline, obs).await,
        Body::Pieces(pieces) => {
            for p in pieces {
                match p {
                    Piece::Bytes(b) => conn.write(b, deadline, obs).await?,
                    Piece::File(path) => {
                        let len = file_len(path).await?;
                        send_file(conn, path, len, deadline, obs).await?;
                    }
                }
            }
            Ok(())
        }
    }
}

/// Streams `expected` bytes of a file in 256 KiB reads; a file that shrank is an error.
pub(super) async fn send_file(
    conn: &mut Conn,
    path: &std::path::Path,
    expected: u64,
    deadline: Option<Instant>,
    obs: &mut dyn Observer,
) -> Result<(), ClientError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|source| ClientError::Io {
            context: format!("cannot open {}", path.display()),
            source,
        })?;
    let mut buf = vec![0u8; conn::READ_SIZE];
    let mut sent = 0u64;
    while sent < expected {
        let want = (expected - sent).min(buf.len() as u64) as usize;
        let n = file
            .read(&mut buf[..want])
            .await
            .map_err(|source| ClientError::Io {
                context: format!("reading {}", path.display()),
                source,
            })?;
        if n == 0 {
            return Err(ClientError::Io {
                context: format!(
                    "{} shrank while it was being sent ({sent} of {expected} bytes)",
                    path.display()
                ),
                source: std::io::ErrorKind::UnexpectedEof.into(),
            });
        }
        conn.write(&buf[..n], deadline, obs).await?;
        sent += n as u64;
    }
    Ok(())
}

/// Reads heads until a final (non-1xx) one; interim heads go to the observer.
pub(super) async fn read_final_head(
    conn: &mut Conn,
    base: u64,
    deadline: Option<Instant>,
    started: Instant,
    timing: &mut Timing,
    obs: &mut dyn Observer,
) -> Result<(ResponseHead, Bytes, Vec<ResponseHead>), ClientError> {
    let mut interim = Vec::new();
    loop {
        let head = loop {
            match response_head::parse(&conn.buf) {
                Ok(Some(head)) => break head,
                Ok(None) => {}
                Err(e) => {
                    return Err(malformed(conn, e.shifted(conn.consumed - base)));
                }
            }
            let n = conn.fill(deadline, obs).await?;
            if timing.first_byte.is_none() && n > 0 {
                timing.first_byte = Some(started.elapsed());
            }
            if n == 0 {
                let at = conn.received - base;
                let what = if at == 0 {
                    "empty reply: the server closed the connection without answering".to_string()
                } else {
                    format!("response head cut short after {} bytes", conn.buf.len())
                };
                return Err(malformed(conn, ResponseError::truncated(what, at)));
            }
        };
        let raw = conn.advance(head.len);
        if head.is_interim() {
            obs.response_head(&head, &raw, true);
            interim.push(head);
            if interim.len() > MAX_INTERIM {
                return Err(malformed(
                    conn,
                    ResponseError::malformed(
                        format!("more than {MAX_INTERIM} interim (1xx) responses"),
                        conn.consumed - base,
                    ),
                ));
            }
            continue;
        }
        timing.head = Some(started.elapsed());
        obs.response_head(&head, &raw, false);
        return Ok((head, raw, interim));
    }
}
