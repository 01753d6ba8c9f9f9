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

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::time::Instant;

use super::app::{App, Ctx, Decision, Gone, Plan, Reply, Sent};
use super::io::{give_buf, linger, take_buf, BodyReadError, Io, Kind as BufKind, OpenConn};
use super::log::{Owned, Record};
pub use super::wait::busy_here;
use super::wait::{later, Busy, Wait, Waiter};
use super::{sendfile, Shared, DISCARD_MAX};
use crate::http::proto::request::{self as message, Framing, Request};
use crate::http::proto::response::{self as resp, Finish};
use crate::http::proto::BodyDecoder;

/// Serves one connection until it closes; errors end only this connection.
///
/// Meant to run on worker `worker`'s current-thread runtime (see [`busy_here`]).
pub(crate) async fn serve<A: App>(
    shared: Arc<Shared<A>>,
    worker: usize,
    stream: TcpStream,
    peer: SocketAddr,
) {
    let _open = OpenConn::new();
    let cfg = &shared.settings;
    let mut io = Io::new(stream, cfg.idle_timeout);
    let mut waiter = Waiter {
        timer: Box::pin(tokio::time::sleep(cfg.idle_timeout)),
    };
    let mut c = Conn {
        shared: &shared,
        worker,
        peer_text: if shared.log.on() {
            peer.ip().to_string().into()
        } else {
            Box::default()
        },
    };
    let close = c.run(&mut io, &mut waiter).await;
    if close {
        linger(&mut io).await;
    }
    give_buf(BufKind::Read, &mut io.rbuf);
    give_buf(BufKind::Write, &mut io.wbuf);
}

/// What the synchronous part decided for one buffered request.
enum Step<W> {
    NeedMore,
    /// Answered, with work left for the async part.
    Handled(Box<Pending<W>>),
    /// Not answered: prepare, then process the same head again.
    Again(W),
    /// Answered completely, nothing left; `close` says whether to stop after it.
    Simple {
        close: bool,
    },
    /// A bad head: the error response is in the write buffer; close.
    Fatal,
}

/// A request whose answer needs awaiting (a file body, deferred application work, a
/// body to skip): owned, as the read buffer moves on.
struct Pending<W> {
    plan: Plan<W>,
    status: u16,
    bytes: u64,
    close: bool,
    consumes_body: bool,
    framing: Framing,
    http10: bool,
    log: Option<Owned>,
    /// Where this answer starts in the write buffer (it may be replaced by a 400).
    out_start: usize,
}

/// One connection's view of the server: shared state, its worker, its peer.
struct Conn<'a, A> {
    shared: &'a Arc<Shared<A>>,
    worker: usize,
    /// The client's address as the access log writes it (empty when the log is off).
    peer_text: Box<str>,
}

impl<A: App> Conn<'_, A> {
    fn extra(&self) -> &crate::http::proto::response::Extra {
        self.shared.app.extra()
    }

    fn log(&self, r: &Record<'_>) {
        self.shared.log.write(self.worker, r);
    }

    fn process_one(&self, io: &mut Io, ctx: Ctx, scratch: &mut Vec<u8>) -> Step<A::Work> {
        let mut slots = message::header_slots();
        let buf = &io.rbuf[io.start..io.end];
        match message::parse(buf, &mut slots) {
            Ok(None) => Step::NeedMore,
            Ok(Some(req)) => {
                let out_start = io.wbuf.len();
                let d = self.shared.app.respond(&req, ctx, &mut io.wbuf, scratch);
                if let Plan::Again(w) = d.plan {
                    if !ctx.again {
                        return Step::Again(w); // the head stays: it is asked again
                    }
                    // Deferred twice: an application bug; do not loop.
                    io.wbuf.truncate(out_start);
                    self.bad_head(&mut io.wbuf, 500, b"");
                    io.start += req.head_len;
                    return Step::Fatal;
                }
                let head_len = req.head_len;
                let r = self.after_respond(&req, d, out_start);
                io.start += head_len;
                r
            }
            Err(e) => {
                self.bad_head(&mut io.wbuf, e.status, buf);
                Step::Fatal
            }
        }
    }

    /// Logs a finished answer, or packs what is left into a [`Pending`].
    fn after_respond(
        &self,
        req: &Request<'_>,
        d: Decision<'_, A::Work>,
        out_start: usize,
    ) -> Step<A::Work> {
        let no_body = matches!(req.framing, Framing::None | Framing::Length(0));
        let logging = self.shared.log.on();
        if matches!(d.plan, Plan::Done) && (no_body || d.close) {
            // The common case: answer already rendered, no body to skip, no await.
            if logging {
                self.log(&Record {
                    peer: &self.peer_text,
                    user: d.user,
                    method: req.method_str,
                    target: req.target,
                    minor: Some(req.minor),
                    status: d.status,
                    bytes: d.bytes,
                    received: None,
                });
            }
            return Step::Simple { close: d.close };
        }
        let log = logging.then(|| Owned {
            method: req.method_str.to_string(),
            target: req.target.to_vec(),
            minor: Some(req.minor),
            user: d.user.map(str::to_string),
        });
        let p = Pending {
            plan: d.plan,
            status: d.status,
            bytes: d.bytes,
            close: d.close,
            consumes_body: d.consumes_body,
            framing: req.framing,
            http10: req.minor == 0,
            log,
            out_start,
        };
        Step::Handled(Box::new(p))
    }

    fn bad_head(&self, w: &mut Vec<u8>, status: u16, buf: &[u8]) {
        let f = Finish {
            close: true,
            keep_alive_1_0: false,
            extra: self.extra(),
        };
        let bytes = resp::error(w, status, false, b"", f);
        self.log_refusal(status, bytes, buf);
    }

    /// Logs a refusal that has no parsed request (a bad head, a head that took too long)
    /// with the request line as far as it was sent (bounded), so the log shows what was
    /// refused; `-` when nothing was sent.
    fn log_refusal(&self, status: u16, bytes: u64, buf: &[u8]) {
        if !self.shared.log.on() {
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
        self.log(&Record {
            peer: &self.peer_text,
            user: None,
            method,
            target,
            minor: None,
            status,
            bytes,
            received: None,
        });
    }

    /// The request loop; returns whether the connection should be closed gracefully
    /// (lingering), as opposed to dropped because the client is gone.
    async fn run(&mut self, io: &mut Io, waiter: &mut Waiter) -> bool {
        let shared = self.shared;
        let cfg = &shared.settings;
        let mut scratch = Vec::new();
        let mut head_started: Option<Instant> = None;
        // A client that connects and never sends a request gets the header timeout, not
        // the (longer) keep-alive idle timeout: it has not earned a kept-alive connection.
        let connected = Instant::now();
        let mut served_any = false;
        let mut busy = Busy(false);
        busy.set(true);
        let mut again = false;
        loop {
            if io.wbuf.capacity() == 0 {
                io.wbuf = take_buf(BufKind::Write);
            }
            // Answer every complete request already buffered.
            while io.start < io.end {
                let ctx = Ctx {
                    closing: shared.closing.load(Ordering::Relaxed),
                    again,
                };
                let next = match self.process_one(io, ctx, &mut scratch) {
                    Step::NeedMore => {
                        if head_started.is_none() {
                            head_started = Some(Instant::now());
                        }
                        break;
                    }
                    Step::Fatal => return io.flush(false).await.is_ok(),
                    Step::Again(w) => {
                        again = true;
                        Box::pin(shared.app.prepare(w)).await;
                        continue;
                    }
                    Step::Simple { close } => Ok(!close),
                    // Everything else runs in a boxed future so its state does not
                    // enlarge every connection's task.
                    Step::Handled(p) => Box::pin(self.finish_request(io, *p)).await,
                };
                again = false;
                head_started = None;
                served_any = true;
                match next {
                    Ok(true) => {
                        // Long pipelines of cached files: do not let the buffer balloon.
                        if io.wbuf.len() > 256 * 1024 && io.flush(false).await.is_err() {
                            return false;
                        }
                    }
                    Ok(false) => return io.flush(false).await.is_ok(),
                    Err(Gone { .. }) => return false,
                }
            }
            if io.flush(false).await.is_err() {
                return false;
            }
            let idle = io.start == io.end;
            if idle && shared.closing.load(Ordering::Relaxed) {
                return false;
            }
            // Read more: idle connections wait for the idle timeout, a started head for
            // the header timeout measured from its first byte (slowloris gets 408),
            // however steadily its bytes trickle in.
            let head_deadline = head_started.map(|t| later(t, cfg.header_timeout));
            if let Some(t) = head_deadline {
                if !idle && Instant::now() >= t {
                    return self.request_timeout(io).await;
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
            let deadline = match head_deadline {
                Some(t) if !idle => t,
                _ if !served_any => later(connected, cfg.header_timeout),
                // Once per request: the coarse clock is cheap and whole seconds are all
                // the idle timeout needs.
                _ => later(super::clock::coarse_now(), cfg.idle_timeout),
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
                Ok(Wait::Timeout) => return self.request_timeout(io).await,
                Err(_) => return false,
            }
        }
    }

    /// 408 for a request head that took too long; the connection closes.
    async fn request_timeout(&self, io: &mut Io) -> bool {
        let f = Finish {
            close: true,
            keep_alive_1_0: false,
            extra: self.extra(),
        };
        let bytes = resp::error(&mut io.wbuf, 408, false, b"", f);
        let partial = io.rbuf.get(io.start..io.end).unwrap_or(&[]);
        self.log_refusal(408, bytes, partial);
        io.flush(false).await.is_ok()
    }

    /// Carries out what is left of one request and deals with its body. `Ok(true)`:
    /// keep going; `Ok(false)`: close after flushing; `Err`: drop the connection now.
    async fn finish_request(&self, io: &mut Io, p: Pending<A::Work>) -> Result<bool, Gone> {
        let close = p.close;
        if !p.consumes_body && p.framing != Framing::None && !close {
            // A small body nobody wants (the app closes for big ones): skip it so the
            // next request starts at the right byte.
            let mut dec = BodyDecoder::new(p.framing);
            let mut total = 0u64;
            loop {
                match io.body_chunk(&mut dec).await {
                    Ok(Some(c)) => {
                        total += c.len() as u64;
                        if total > DISCARD_MAX {
                            return Err(Gone { received: total });
                        }
                    }
                    Ok(None) => break,
                    Err(BodyReadError::Malformed) => {
                        // The framing is broken, so nothing after it can be trusted: the
                        // answer not sent yet becomes a 400 and the connection closes
                        // (as nginx does), rather than closing without a word.
                        io.wbuf.truncate(p.out_start);
                        let f = Finish {
                            close: true,
                            keep_alive_1_0: false,
                            extra: self.extra(),
                        };
                        let bytes = resp::error(&mut io.wbuf, 400, false, b"", f);
                        if let Some(l) = &p.log {
                            self.log(&l.record(&self.peer_text, 400, bytes));
                        }
                        return Ok(false);
                    }
                    Err(BodyReadError::Gone) => return Err(Gone { received: total }),
                }
            }
        }
        let sent = |status, bytes| Sent {
            status,
            bytes,
            close,
        };
        let outcome: Result<Sent, Gone> = match p.plan {
            Plan::Done => Ok(sent(p.status, p.bytes)),
            Plan::File { file, offset, len } => {
                if io.flush(true).await.is_err() {
                    return Err(Gone::default());
                }
                match sendfile::send_file(&io.stream, &file, offset, len, io.stall).await {
                    Ok(n) => Ok(sent(p.status, n)),
                    Err(_) => Err(Gone::default()),
                }
            }
            Plan::Ranges { file, parts, tail } => {
                let mut total = 0u64;
                for part in &parts {
                    io.wbuf.extend_from_slice(&part.head);
                    if io.flush(true).await.is_err() {
                        return Err(Gone::default());
                    }
                    match sendfile::send_file(&io.stream, &file, part.offset, part.len, io.stall)
                        .await
                    {
                        Ok(n) => total += n + part.head.len() as u64,
                        Err(_) => return Err(Gone::default()),
                    }
                }
                io.wbuf.extend_from_slice(&tail);
                Ok(sent(p.status, total + tail.len() as u64))
            }
            // Not produced by `after_respond` (handled before the head is consumed).
            Plan::Again(_) => Err(Gone::default()),
            Plan::App(w) => {
                let reply = Reply {
                    close,
                    http10: p.http10,
                };
                self.shared.app.run(w, io, reply).await
            }
        };
        match outcome {
            Ok(s) => {
                if let Some(l) = &p.log {
                    self.log(&l.record(&self.peer_text, s.status, s.bytes));
                }
                Ok(!s.close)
            }
            Err(gone) => {
                // A client that left mid-upload still gets its line, with what arrived
                // (499: nginx's "client closed request").
                if let (Some(l), true) = (&p.log, p.consumes_body) {
                    let mut r = l.record(&self.peer_text, 499, 0);
                    r.received = Some(gone.received);
                    self.log(&r);
                }
                Err(gone)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::site::Site;

    /// Ten thousand idle keep-alive connections must fit in well under 100 MiB: the
    /// per-connection task (this future) is most of what an idle connection costs.
    #[test]
    fn connection_future_is_small() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::http::ServeConfig {
            root: dir.path().to_path_buf(),
            ..Default::default()
        };
        let settings = super::super::Settings {
            addr: config.addr,
            workers: 1,
            spread: super::super::Spread::Hash,
            max_connections: 1,
            header_timeout: config.header_timeout,
            idle_timeout: config.idle_timeout,
            log: super::super::LogFormat::Common,
            log_to: super::super::LogSink::discard(),
            events: crate::event::Events::discard(),
        };
        let log = Arc::new(super::super::log::AccessLog::new(
            settings.log,
            settings.log_to.clone(),
            1,
        ));
        let shared = Arc::new(Shared {
            app: Arc::new(Site::new(config).unwrap()),
            settings,
            closing: std::sync::atomic::AtomicBool::new(false),
            log,
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
            let peer = c.local_addr().unwrap();
            let fut = serve(shared, 0, c, peer);
            let size = std::mem::size_of_val(&fut);
            eprintln!("connection future: {size} bytes");
            assert!(size <= 1280, "connection future is {size} bytes");
        });
    }
}
