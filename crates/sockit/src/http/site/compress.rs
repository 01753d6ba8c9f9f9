//! `--compress`: gzip text responses on the fly.
//!
//! Small files (the ones cached in memory) are compressed once and the result cached
//! next to the original, so repeat requests cost nothing. Bigger files are compressed
//! on the blocking pool and streamed with chunked coding, since their compressed length
//! is not known before the end.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::store::cache::{render_headers, Entry, Repr};
use crate::http::server::Io;

/// Gzips a small cached file; `None` when that would not make it smaller.
pub fn gzip_repr(entry: &Entry) -> Option<Repr> {
    let body = entry.main.body.as_ref()?;
    let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 2), Compression::default());
    enc.write_all(body).ok()?;
    let out = enc.finish().ok()?;
    if out.len() >= body.len() {
        return None;
    }
    let e = &entry.main.etag;
    let mut etag = e[..e.len().saturating_sub(1)].to_vec();
    etag.extend_from_slice(b"-gz\"");
    let etag_str = String::from_utf8(etag).ok()?;
    let headers = render_headers(
        &entry.content_type,
        entry.main.info.modified_secs(),
        &etag_str,
        "gzip",
        true,
        false,
    );
    let mut info = entry.main.info;
    info.size = out.len() as u64;
    Some(Repr {
        rel: entry.main.rel.clone(),
        info,
        etag: etag_str.into_bytes().into(),
        headers,
        body: Some(Bytes::from(out)),
    })
}

/// Streams `file` gzipped as a chunked body after the head already in the write buffer.
/// Returns the body bytes sent (compressed payload).
pub async fn stream(io: &mut Io, file: std::fs::File) -> std::io::Result<u64> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    tokio::task::spawn_blocking(move || {
        let mut file = file;
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            };
            if let Err(e) = enc.write_all(&buf[..n]) {
                let _ = tx.blocking_send(Err(e));
                return;
            }
            let out = std::mem::take(enc.get_mut());
            if !out.is_empty() && tx.blocking_send(Ok(out)).is_err() {
                return; // client went away
            }
        }
        let _ = tx.blocking_send(enc.finish());
    });
    let mut total = 0u64;
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        if chunk.is_empty() {
            continue;
        }
        total += chunk.len() as u64;
        let w = io.out();
        w.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        w.extend_from_slice(&chunk);
        w.extend_from_slice(b"\r\n");
        io.flush(false).await?;
    }
    io.out().extend_from_slice(b"0\r\n\r\n");
    Ok(total)
}
