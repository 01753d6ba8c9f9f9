//! Multipart form uploads (POST from the listing page's upload form, `--write`).
//!
//! Each file part is streamed through [`crate::http::multipart`] into its own temporary
//! file in the target folder and renamed into place when the part is complete.

use std::sync::Arc;

use tokio::io::AsyncWriteExt;

use super::multipart::{self, Event};
use super::route::wants_html;
use super::store::parts::Temp;
use super::store::{cache, files};
use super::upload::{check_body, io_status, open_dir, plan_decision, split, status_of, Stop};
use super::{Decision, Site, Work};
use crate::http::proto::request::{Framing, Request};
use crate::http::proto::response as resp;
use crate::http::proto::BodyDecoder;
use crate::http::server::{Gone, Io, Reply, Sent};

/// A multipart POST that passed every check and now needs its body.
#[derive(Debug)]
pub struct PostPlan {
    dir: Vec<u8>,
    boundary: Vec<u8>,
    framing: Framing,
    expect_continue: bool,
    location: Vec<u8>,
    html: bool,
}

/// Validates a multipart POST to a folder (the body is read later by [`run_post`]).
#[allow(clippy::too_many_arguments)]
pub fn plan_post(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    rel: &[u8],
    url_path: &[u8],
    keep_close: bool,
    close: bool,
) -> Decision<'static> {
    let Some(boundary) = req.content_type.and_then(multipart::boundary) else {
        return site.error(req, w, 415, b"", close);
    };
    if let Some(status) = check_body(site, req) {
        return site.error(req, w, status, b"", true);
    }
    // Into the folder the path names, or the folder containing the file it names.
    let (dir, mut location) = match files::open(&site.root, rel, site.config.follow_symlinks) {
        Ok((_, info)) if info.is_dir => {
            let mut l = url_path.to_vec();
            if !l.ends_with(b"/") {
                l.push(b'/');
            }
            (rel.to_vec(), l)
        }
        Ok(_) => {
            let l = url_path[..url_path
                .iter()
                .rposition(|&b| b == b'/')
                .map_or(0, |i| i + 1)]
                .to_vec();
            (split(rel).0.to_vec(), l)
        }
        Err(e) => return site.error(req, w, status_of(&e), b"", close),
    };
    if location.is_empty() {
        location.push(b'/');
    }
    plan_decision(
        Work::Post(PostPlan {
            dir,
            boundary,
            framing: req.framing,
            expect_continue: req.expect_continue,
            location,
            html: wants_html(req),
        }),
        keep_close,
    )
}

/// Checks an uploaded file name: the last path component only, not empty, not a dot
/// name (unless `--hidden`), no control characters.
pub fn sanitize_filename(name: &str, hidden: bool) -> Option<Vec<u8>> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty() || base == "." || base == ".." || base.len() > 255 {
        return None;
    }
    if base.starts_with('.') && !hidden {
        return None;
    }
    if base.chars().any(|c| c.is_control()) {
        return None;
    }
    Some(base.as_bytes().to_vec())
}

/// Reads a multipart body, storing every file part; answers 303 to browsers (back to
/// the listing) and 201 with a JSON list of stored names to other clients.
pub async fn run_post(
    site: &Arc<Site>,
    io: &mut Io,
    p: PostPlan,
    reply: Reply,
) -> Result<Sent, Gone> {
    let mut saved = Vec::new();
    let result = post_body(site, io, &p, &mut saved).await;
    cache::invalidate_all();
    let close = reply.close;
    let fin = |close| site.finish_late(reply, close);
    let sent = |status, bytes, close| Sent {
        status,
        bytes,
        close,
    };
    match result {
        Err(Stop::Gone(received)) => Err(Gone { received }),
        Err(Stop::Status(s)) => Ok(sent(
            s,
            resp::error(io.out(), s, false, b"", fin(true)),
            true,
        )),
        Ok(()) if p.html => {
            let mut h = Vec::new();
            resp::header(&mut h, b"Location", &p.location);
            Ok(sent(
                303,
                resp::error(io.out(), 303, false, &h, fin(close)),
                close,
            ))
        }
        Ok(()) => {
            let names: Vec<String> = saved
                .iter()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect();
            let mut body = serde_json::to_vec(&names).unwrap_or_default();
            body.push(b'\n');
            let w = io.out();
            resp::start(w, 201);
            resp::header(w, b"Location", &p.location);
            w.extend_from_slice(b"Content-Type: application/json\r\n");
            resp::content_length(w, body.len() as u64);
            resp::finish(w, fin(close));
            w.extend_from_slice(&body);
            Ok(sent(201, body.len() as u64, close))
        }
    }
}

async fn post_body(
    site: &Arc<Site>,
    io: &mut Io,
    p: &PostPlan,
    saved: &mut Vec<Vec<u8>>,
) -> Result<(), Stop> {
    let dir = Arc::new(open_dir(site, &p.dir).map_err(Stop::Status)?);
    if p.expect_continue {
        io.send_continue().await.map_err(|_| Stop::Gone(0))?;
    }
    let mut parser = multipart::Parser::new(&p.boundary);
    let mut dec = BodyDecoder::new(p.framing);
    let mut total = 0u64;
    let mut current: Option<(Temp, tokio::fs::File, Vec<u8>)> = None;
    loop {
        let more = match io
            .body_chunk(&mut dec)
            .await
            .map_err(|e| Stop::reading(e, total))?
        {
            Some(chunk) => {
                total += chunk.len() as u64;
                if total > site.config.max_upload {
                    return Err(Stop::Status(413));
                }
                parser.push(chunk);
                true
            }
            None => {
                parser.finish();
                false
            }
        };
        loop {
            let ev = match parser.next_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(_) => return Err(Stop::Status(400)),
            };
            match ev {
                Event::Part { filename, .. } => {
                    current = None;
                    let Some(filename) = filename.filter(|f| !f.is_empty()) else {
                        continue; // a plain form field, or no file chosen
                    };
                    let name = sanitize_filename(&filename, site.config.hidden)
                        .ok_or(Stop::Status(400))?;
                    let (temp, file) = Temp::create(&site.parts, &dir, &name).map_err(io_status)?;
                    current = Some((temp, tokio::fs::File::from_std(file), name));
                }
                Event::Data(d) => {
                    if let Some((_, file, _)) = current.as_mut() {
                        file.write_all(d).await.map_err(io_status)?;
                    }
                }
                Event::PartEnd => {
                    if let Some((temp, file, name)) = current.take() {
                        file.sync_all().await.map_err(io_status)?;
                        drop(file);
                        // A form upload never replaces a file: a taken name becomes
                        // `name (1).ext` (PUT is the way to replace).
                        saved.push(temp.commit_new(&name).map_err(io_status)?);
                    }
                }
                Event::End => {}
            }
        }
        if !more {
            break;
        }
    }
    if !parser.is_done() {
        return Err(Stop::Status(400));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_reduced_to_a_safe_base_name() {
        assert_eq!(sanitize_filename("a.txt", false).unwrap(), b"a.txt");
        assert_eq!(
            sanitize_filename("../../etc/passwd", false).unwrap(),
            b"passwd"
        );
        assert_eq!(
            sanitize_filename("C:\\Users\\x\\f.doc", false).unwrap(),
            b"f.doc"
        );
        assert!(sanitize_filename("..", false).is_none());
        assert!(sanitize_filename("dir/", false).is_none());
        assert!(sanitize_filename(".env", false).is_none());
        assert!(sanitize_filename(".env", true).is_some());
        assert!(sanitize_filename("a\nb", false).is_none());
        assert!(sanitize_filename("", false).is_none());
    }
}
