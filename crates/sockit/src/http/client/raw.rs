//! `http raw`: a hand-written request sent as is, the answer kept whole for analysis.
//!
//! This is the course exercise (write `GET / HTTP/1.1` on a socket, read what comes
//! back) with the parts a learner trips over handled: line endings, knowing when the
//! answer is complete on a kept-alive connection, and reading it with a real parser.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::check::{analyze, Asked};
use super::{ClientError, Stream, TlsConnect, TlsInfo};
use crate::net::addr::HostPort;
use crate::net::socket::{tcp_connect, SocketOptions};

/// Most bytes kept from a raw answer; the rest is counted, not stored.
pub const MAX_RAW_REPLY: usize = 64 * 1024 * 1024;

/// Turns bare `\n` line endings into `\r\n` (a `\r\n` already there is kept), as
/// typing a request in an editor or a heredoc produces LF-only lines.
pub fn to_crlf(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 16);
    let mut prev = 0u8;
    for &b in input {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// The requests in `bytes`, by method and whether they ask for a range; bodies are
/// skipped by `Content-Length`. Unparsable input counts as one GET.
pub fn requests_in(bytes: &[u8]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() && out.len() < 1024 {
        let mut slots = [httparse::EMPTY_HEADER; 128];
        let mut req = httparse::Request::new(&mut slots);
        match req.parse(&bytes[pos..]) {
            Ok(httparse::Status::Complete(len)) => {
                let method = req.method.unwrap_or("GET").to_string();
                let mut range = false;
                let mut body = 0usize;
                for h in req.headers.iter() {
                    if h.name.eq_ignore_ascii_case("range") {
                        range = true;
                    }
                    if h.name.eq_ignore_ascii_case("content-length") {
                        body = std::str::from_utf8(h.value)
                            .ok()
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                    }
                }
                out.push((method, range));
                pos = pos.saturating_add(len).saturating_add(body);
            }
            _ => break,
        }
    }
    if out.is_empty() {
        out.push(("GET".to_string(), false));
    }
    out
}

/// What came back for a raw request.
#[derive(Debug, Clone)]
pub struct RawReply {
    /// Every byte received (up to [`MAX_RAW_REPLY`]).
    pub bytes: Vec<u8>,
    /// The server closed the connection (rather than us stopping after the answers).
    pub closed: bool,
    /// The time limit ran out before the answer was complete.
    pub timed_out: bool,
    /// Addresses: ours and the server's.
    pub local: Option<std::net::SocketAddr>,
    /// The server's address.
    pub peer: Option<std::net::SocketAddr>,
    /// TLS facts when `tls` was given.
    pub tls: Option<TlsInfo>,
}

/// Sends `request` to `target` and reads until the server closes, every expected
/// response is complete, or `timeout` passes.
pub async fn exchange(
    target: &HostPort,
    request: &[u8],
    timeout: Duration,
    tls: Option<(&dyn TlsConnect, &str)>,
) -> Result<RawReply, ClientError> {
    let deadline = Instant::now() + timeout;
    let addrs = target.resolve(Some(timeout)).await?;
    let tcp = tcp_connect(
        &target.to_string(),
        &addrs,
        &SocketOptions::default(),
        Some(timeout),
    )
    .await?;
    let local = tcp.local_addr().ok();
    let peer = tcp.peer_addr().ok();
    let (mut stream, info): (Box<dyn Stream>, Option<TlsInfo>) = match tls {
        Some((connector, name)) => {
            let (s, i) = tokio::time::timeout_at(deadline, connector.connect(name, tcp))
                .await
                .map_err(|_| ClientError::Timeout("TLS handshake: timed out".into()))??;
            (s, Some(i))
        }
        None => (Box::new(tcp), None),
    };
    let expected: Vec<(String, bool)> = requests_in(request);
    let io = |source| ClientError::Io {
        context: format!("talking to {target}"),
        source,
    };
    tokio::time::timeout_at(deadline, async {
        stream.write_all(request).await?;
        stream.flush().await
    })
    .await
    .map_err(|_| ClientError::Timeout(format!("sending to {target}: timed out")))?
    .map_err(io)?;
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut closed = false;
    let mut timed_out = false;
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => {
                timed_out = true;
                break;
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset && !bytes.is_empty() => {
                closed = true;
                break;
            }
            Ok(r) => r.map_err(io)?,
        };
        if n == 0 {
            closed = true;
            break;
        }
        let room = MAX_RAW_REPLY.saturating_sub(bytes.len());
        bytes.extend_from_slice(&buf[..n.min(room)]);
        if room <= n {
            break;
        }
        let asked: Vec<Asked<'_>> = expected
            .iter()
            .map(|(m, r)| Asked {
                method: m,
                range: *r,
            })
            .collect();
        let a = analyze(&bytes, &asked, false);
        let finals = a
            .messages
            .iter()
            .filter(|m| !m.head.is_interim() && m.complete)
            .count();
        // Done when every request has its final answer, or when the bytes already
        // break the grammar (more of them will not fix a bad status line).
        let broken = a.findings.iter().any(|f| {
            f.severity == super::check::Severity::Error
                && matches!(
                    f.section,
                    "RFC 9112 §2.2" | "RFC 9112 §4" | "RFC 9112 §5.2" | "RFC 9110 §5.1"
                )
                && !f.message.contains("incomplete")
                && !f.message.contains("cut short")
        });
        if finals >= expected.len() || broken {
            break;
        }
    }
    Ok(RawReply {
        bytes,
        closed,
        timed_out,
        local,
        peer,
        tls: info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lf_becomes_crlf_once() {
        assert_eq!(
            to_crlf(b"GET / HTTP/1.1\nHost: x\r\n\n"),
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        );
    }

    #[test]
    fn counts_pipelined_requests() {
        let r = requests_in(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcHEAD / HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n");
        assert_eq!(
            r,
            vec![
                ("GET".into(), false),
                ("POST".into(), false),
                ("HEAD".into(), true)
            ]
        );
    }
}
