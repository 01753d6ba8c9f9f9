//! One client connection: read request heads, answer them in order, keep the connection
//! alive between requests, and enforce the timeouts.
//!
//! The loop parses every complete request already in the read buffer (pipelining),
//! renders the answers back to back into the write buffer and flushes them with one
//! `write`. Idle connections give their buffers back to a per-thread pool, so ten
//! thousand idle keep-alive clients cost little more than their sockets. Timeouts use a
//! single timer per connection that is only re-armed when its deadline moves by more
//! than a second, not once per request.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::http::body::BodyDecoder;
use crate::http::handler::{self, ConnCtx, Decision, Plan, Site};
use crate::http::log;
use crate::http::message::{self, Framing};
use crate::http::response::{self as resp, Finish};
use crate::http::sendfile;
use crate::http::stream::{give_buf, linger, take_buf, Kind as BufKind, OpenConn};
pub use crate::http::stream::{linger_stream, BodyReadError, Io};

/// Result of waiting for the next bytes.
enum Wait {
    Ready,
    Timeout,
}

thread_local! {
    /// Connections of this worker that are in the middle of a request (not idle).
    static BUSY: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many connections of the calling worker thread are serving a request right now.
///
/// Graceful shutdown waits for this to reach zero and then drops the idle ones: no
/// per-connection shutdown signal (and its cost on every wait) is needed.
pub fn busy_here() -> usize {
    BUSY.with(|b| b.get())
}

/// Marks a connection busy (counted in [`busy_here`]) until it goes idle or ends.
struct Busy(bool);

impl Busy {
    fn set(&mut self, busy: bool) {
        if self.0 != busy {
            self.0 = busy;
            BUSY.with(|b| {
                b.set(if busy {
                    b.get() + 1
                } else {
                    b.get().saturating_sub(1)
                })
            });
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.set(false);
    }
}

/// Per-connection timer, re-armed only when its deadline moves by more than a second.
struct Waiter {
    timer: Pin<Box<Sleep>>,
}

impl Waiter {
    async fn readable(&mut self, stream: &TcpStream, deadline: Instant) -> io::Result<Wait> {
        let cur = self.timer.deadline();
        if cur > deadline || deadline.duration_since(cur) > Duration::from_secs(1) {
            self.timer.as_mut().reset(deadline);
        }
        loop {
            tokio::select! {
                biased;
                r = stream.readable() => { r?; return Ok(Wait::Ready) }
                _ = self.timer.as_mut() => {
                    if Instant::now() >= deadline {
                        return Ok(Wait::Timeout);
                    }
                    self.timer.as_mut().reset(deadline);
                }
            }
        }
    }
}

/// Serves one connection until it closes; errors end only this connection.
///
/// Meant to run on a worker's current-thread runtime (see [`busy_here`]).
pub async fn serve(site: Arc<Site>, stream: TcpStream, peer: SocketAddr) {
    let _open = OpenConn::new();
    let cfg = &site.config;
    let mut io = Io {
        stream,
        rbuf: Vec::new(),
        start: 0,
        end: 0,
        wbuf: Vec::new(),
        stall: cfg.idle_timeout,
    };
    let mut waiter = Waiter {
        timer: Box::pin(tokio::time::sleep(cfg.idle_timeout)),
    };
    let close = run(&site, &mut io, &mut waiter, peer).await;
    if close {
        linger(&mut io).await;
    }
    give_buf(BufKind::Read, &mut io.rbuf);
    give_buf(BufKind::Write, &mut io.wbuf);
}

/// What the synchronous part decided for one buffered request.
// A short-lived stack value: boxing the big variant would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
enum Step {
    NeedMore,
    Handled(Decision, Framing),
    /// A bad head: the error response is in the write buffer; close.
    Fatal,
}

fn process_one(site: &Site, io: &mut Io, ctx: ConnCtx, scratch: &mut Vec<u8>) -> Step {
    let mut slots = message::header_slots();
    let buf = &io.rbuf[io.start..io.end];
    match message::parse(buf, &mut slots) {
        Ok(None) => Step::NeedMore,
        Ok(Some(req)) => {
            let d = handler::handle(site, &req, ctx, &mut io.wbuf, scratch);
            io.start += req.head_len;
            Step::Handled(d, req.framing)
        }
        Err(e) => {
            bad_head(site, &mut io.wbuf, e.status, ctx.peer, buf);
            Step::Fatal
        }
    }
}

fn bad_head(site: &Site, w: &mut Vec<u8>, status: u16, peer: SocketAddr, buf: &[u8]) {
    let f = Finish {
        close: true,
        keep_alive_1_0: false,
        extra: &site.extra,
    };
    let bytes = resp::error(w, status, false, b"", f);
    log_refusal(site, peer, status, bytes, buf);
}

/// Logs a refusal that has no parsed request (a bad head, a head that took too long)
/// with the request line as far as it was sent (bounded), so the log shows what was
/// refused; `-` when nothing was sent.
fn log_refusal(site: &Site, peer: SocketAddr, status: u16, bytes: u64, buf: &[u8]) {
    if site.config.log == crate::http::config::LogFormat::Off {
        return;
    }
    let line_end = buf
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(buf.len())
        .min(1024);
    let line = &buf[..line_end];
    let mut parts = line.splitn(2, |&b| b == b' ');
    let method = match parts.next() {
        Some(m) if !m.is_empty() => std::str::from_utf8(m).unwrap_or("-"),
        _ => "-",
    };
    let target = parts.next().unwrap_or(b"");
    log::write(
        site.config.log,
        &log::Record {
            peer: peer.ip(),
            user: None,
            method,
            target,
            minor: None,
            status,
            bytes,
        },
    );
}

/// The request loop; returns whether the connection should be closed gracefully
/// (lingering), as opposed to dropped because the client is gone.
async fn run(site: &Arc<Site>, io: &mut Io, waiter: &mut Waiter, peer: SocketAddr) -> bool {
    let cfg = &site.config;
    let mut scratch = Vec::new();
    let mut head_started: Option<Instant> = None;
    // A client that connects and never sends a request gets the header timeout, not
    // the (longer) keep-alive idle timeout: it has not earned a kept-alive connection.
    let connected = Instant::now();
    let mut served_any = false;
    let mut busy = Busy(false);
    busy.set(true);
    loop {
        if io.wbuf.capacity() == 0 {
            io.wbuf = take_buf(BufKind::Write);
        }
        // Answer every complete request already buffered.
        while io.start < io.end {
            let ctx = ConnCtx {
                peer,
                closing: site.closing.load(std::sync::atomic::Ordering::Relaxed),
            };
            match process_one(site, io, ctx, &mut scratch) {
                Step::NeedMore => {
                    if head_started.is_none() {
                        head_started = Some(Instant::now());
                    }
                    break;
                }
                Step::Fatal => {
                    return io.flush(false).await.is_ok();
                }
                Step::Handled(d, framing) => {
                    head_started = None;
                    served_any = true;
                    // The common case (answer already rendered, no body to skip) needs no
                    // await; everything else runs in a boxed future so its state does not
                    // enlarge every connection's task.
                    let no_body = matches!(framing, Framing::None | Framing::Length(0));
                    let simple = matches!(d.plan, Plan::Done) && (no_body || d.close);
                    let next = if simple {
                        Ok(!d.close)
                    } else {
                        Box::pin(finish_request(site, io, d, framing, peer)).await
                    };
                    match next {
                        Ok(true) => {
                            // Long pipelines of cached files: do not let the buffer balloon.
                            if io.wbuf.len() > 256 * 1024 && io.flush(false).await.is_err() {
                                return false;
                            }
                        }
                        Ok(false) => return io.flush(false).await.is_ok(),
                        Err(()) => return false,
                    }
                }
            }
        }
        if io.flush(false).await.is_err() {
            return false;
        }
        let idle = io.start == io.end;
        if idle && site.closing.load(std::sync::atomic::Ordering::Relaxed) {
            return false;
        }
        // Read more: idle connections wait for the idle timeout, a started head for the
        // header timeout measured from its first byte (slowloris gets 408), however
        // steadily its bytes trickle in.
        if let Some(t) = head_started {
            if !idle && Instant::now() >= t + cfg.header_timeout {
                return request_timeout(site, io, peer).await;
            }
        }
        match io.read_some() {
            Ok(0) => return false,
            Ok(n) => {
                io.end += n;
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
        let deadline = match head_started {
            Some(t) if !idle => t + cfg.header_timeout,
            _ if !served_any => connected + cfg.header_timeout,
            // Once per request: the coarse clock is cheap and whole seconds are all the
            // idle timeout needs.
            _ => crate::http::clock::coarse_now() + cfg.idle_timeout,
        };
        if idle {
            io.release();
        }
        busy.set(!idle);
        let waited = waiter.readable(&io.stream, deadline).await;
        busy.set(true);
        match waited {
            Ok(Wait::Ready) => {}
            Ok(Wait::Timeout) if idle => return false,
            Ok(Wait::Timeout) => return request_timeout(site, io, peer).await,
            Err(_) => return false,
        }
    }
}

/// 408 for a request head that took too long; the connection closes.
async fn request_timeout(site: &Site, io: &mut Io, peer: SocketAddr) -> bool {
    let f = Finish {
        close: true,
        keep_alive_1_0: false,
        extra: &site.extra,
    };
    let bytes = resp::error(&mut io.wbuf, 408, false, b"", f);
    let partial = io.rbuf.get(io.start..io.end).unwrap_or(&[]);
    log_refusal(site, peer, 408, bytes, partial);
    io.flush(false).await.is_ok()
}

/// Carries out the plan of one request and deals with its body. `Ok(true)`: keep going;
/// `Ok(false)`: close after flushing; `Err(())`: drop the connection now.
async fn finish_request(
    site: &Arc<Site>,
    io: &mut Io,
    d: Decision,
    framing: Framing,
    peer: SocketAddr,
) -> Result<bool, ()> {
    let close = d.close;
    let cfg = &site.config;
    if !d.consumes_body && framing != Framing::None && !close {
        // A small body nobody wants (the handler closes for big ones): skip it so the
        // next request starts at the right byte.
        let mut dec = BodyDecoder::new(framing);
        let mut total = 0u64;
        loop {
            match io.body_chunk(&mut dec).await {
                Ok(Some(c)) => {
                    total += c.len() as u64;
                    if total > handler::DISCARD_MAX {
                        return Err(());
                    }
                }
                Ok(None) => break,
                Err(_) => return Err(()),
            }
        }
    }
    let outcome: Result<(u16, u64, bool), ()> = match d.plan {
        Plan::Done => Ok((d.status, d.bytes, close)),
        Plan::File { file, offset, len } => {
            if io.flush(true).await.is_err() {
                return Err(());
            }
            match sendfile::send_file(&io.stream, &file, offset, len, io.stall).await {
                Ok(n) => Ok((d.status, n, close)),
                Err(_) => Err(()),
            }
        }
        Plan::Ranges { file, parts, tail } => {
            let mut sent = 0u64;
            for (h, off, len) in &parts {
                io.wbuf.extend_from_slice(h);
                if io.flush(true).await.is_err() {
                    return Err(());
                }
                match sendfile::send_file(&io.stream, &file, *off, *len, io.stall).await {
                    Ok(n) => sent += n + h.len() as u64,
                    Err(_) => return Err(()),
                }
            }
            io.wbuf.extend_from_slice(&tail);
            Ok((d.status, sent + tail.len() as u64, close))
        }
        // Rare, large futures are boxed so they do not bloat every connection's task.
        Plan::Gzip { file } => Box::pin(crate::http::compress::stream(io, file))
            .await
            .map(|n| (200, n, close))
            .map_err(|_| ()),
        Plan::Listing {
            rel,
            url_path,
            query,
            json,
            head_only,
        } => Ok(Box::pin(crate::http::listing::respond(
            site, io, rel, url_path, query, json, head_only, close, d.http10,
        ))
        .await),
        Plan::Put(p) => Box::pin(crate::http::upload::run_put(site, io, p, close, d.http10)).await,
        Plan::Post(p) => Box::pin(crate::http::form::run_post(site, io, p, close, d.http10)).await,
    };
    let (status, bytes, close) = outcome?;
    if let Some(l) = &d.log {
        log::write(cfg.log, &l.record(peer.ip(), status, bytes));
    }
    Ok(!close)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten thousand idle keep-alive connections must fit in well under 100 MiB: the
    /// per-connection task (this future) is most of what an idle connection costs.
    #[test]
    fn connection_future_is_small() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::http::ServeConfig {
            root: dir.path().to_path_buf(),
            ..Default::default()
        };
        let site = Arc::new(Site::new(config, 999).unwrap());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
            let peer = c.local_addr().unwrap();
            let fut = serve(site, c, peer);
            let size = std::mem::size_of_val(&fut);
            eprintln!("connection future: {size} bytes");
            assert!(size <= 1280, "connection future is {size} bytes");
        });
    }
}
