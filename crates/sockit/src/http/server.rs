//! Listening sockets, worker threads, the connection limit and graceful shutdown.
//!
//! The server runs nginx's worker model: one thread per core, each with its own
//! single-threaded tokio runtime and its own listening socket bound to the same port
//! with `SO_REUSEPORT`, so the kernel spreads new connections over the workers and a
//! connection then lives on one thread with no cross-thread wake-ups or locks.
//!
//! The kernel picks the listener by the CPU the handshake arrived on
//! ([`crate::net::steer`]), so a client's packets and the worker serving it share a
//! CPU; [`crate::http::balance`] hands connections to another worker when that piles
//! them onto one.

use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::http::balance::{Balance, Handoff, Serving};
use crate::http::config::ServeConfig;
use crate::http::conn;
use crate::http::handler::Site;
use crate::http::response::{self as resp, Finish};
use crate::net::socket::std_tcp_listener;
use crate::net::SocketOptions;

/// How long in-flight responses may take to finish after Ctrl-C / SIGTERM.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Builds a listening TCP socket: `SO_REUSEADDR` so a restarted server can bind while
/// old connections sit in TIME_WAIT, optionally `SO_REUSEPORT` so several workers can
/// each have their own accept queue on the same port. Non-blocking, ready for tokio.
///
/// The socket itself is built by [`crate::net`], like every other listener.
pub fn listen(addr: SocketAddr, reuse_port: bool) -> io::Result<StdListener> {
    let opts = SocketOptions {
        reuse_port,
        ..SocketOptions::default()
    };
    std_tcp_listener(addr, &opts)
}

/// A bound server, not yet running: bind first so the caller can learn the port
/// (`--port 0`) before any request is served.
#[derive(Debug)]
pub struct Server {
    site: Arc<Site>,
    listeners: Vec<StdListener>,
    local: SocketAddr,
    shutdown: CancellationToken,
}

static SITE_IDS: AtomicUsize = AtomicUsize::new(1);

/// 503 answers being written (each holds its socket for up to a second).
static REJECTING: AtomicUsize = AtomicUsize::new(0);
/// Beyond this many at once, connections over the limit are closed without an answer.
const MAX_REJECTING: usize = 512;

impl Server {
    /// Opens the root folder and binds one listening socket per worker.
    pub fn bind(config: ServeConfig) -> io::Result<Server> {
        let workers = config.workers.max(1);
        let site = Arc::new(Site::new(config, SITE_IDS.fetch_add(1, Ordering::Relaxed))?);
        let reuse_port = workers > 1;
        if reuse_port && site.config.addr.port() != 0 {
            // SO_REUSEPORT would let us silently share a port with another server run by
            // the same user; a plain bind first makes "address in use" an error as usual.
            drop(listen(site.config.addr, false)?);
        }
        let first = listen(site.config.addr, reuse_port)?;
        let local = first.local_addr()?;
        let mut listeners = vec![first];
        for _ in 1..workers {
            // Same port as the first (which may have been picked by the kernel).
            listeners.push(listen(local, true)?);
        }
        if workers > 1 && site.config.spread == crate::http::config::Spread::Cpu {
            if let Err(e) = crate::net::steer::steer_by_cpu(&listeners[0], workers) {
                tracing::debug!("no CPU steering ({e}): the kernel's hash spreads connections");
            }
        }
        Ok(Server {
            site,
            listeners,
            local,
            shutdown: CancellationToken::new(),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Cancelling this token starts a graceful shutdown.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs the workers until shutdown and all of them finished (or the deadline passed).
    pub fn run(self) -> io::Result<()> {
        let active = Arc::new(AtomicUsize::new(0));
        let (balance, inboxes) = Balance::new(self.listeners.len());
        let mut threads = Vec::new();
        for (i, (listener, inbox)) in self.listeners.into_iter().zip(inboxes).enumerate() {
            let w = Worker {
                index: i,
                site: self.site.clone(),
                token: self.shutdown.child_token(),
                active: active.clone(),
                balance: balance.clone(),
            };
            let t = std::thread::Builder::new()
                .name(format!("sockit-http-{i}"))
                .spawn(move || worker(w, listener, inbox))?;
            threads.push(t);
        }
        let mut result = Ok(());
        for t in threads {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(e),
                Err(_) => result = Err(io::Error::other("worker thread panicked")),
            }
        }
        result
    }
}

/// Counts a connection against `--max-connections` for as long as it lives.
#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// Takes over one count already added to `active`.
    pub(crate) fn new(active: Arc<AtomicUsize>) -> Slot {
        Slot(active)
    }
}

/// What one worker thread shares with the others.
struct Worker {
    index: usize,
    site: Arc<Site>,
    token: CancellationToken,
    active: Arc<AtomicUsize>,
    balance: Arc<Balance>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn worker(
    w: Worker,
    listener: StdListener,
    mut inbox: tokio::sync::mpsc::UnboundedReceiver<Handoff>,
) -> io::Result<()> {
    // I/O and timers: all a worker needs. (tokio still stacks its signal and process
    // drivers under the I/O driver whenever those features are compiled in; they cost a
    // few instructions per park and never fire here: signals are the signal thread's job.)
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        accept_loop(&w, &listener, &mut inbox).await;
        drop(listener); // stop accepting: new clients get refused, not queued
        inbox.close(); // and connections handed over from now on are closed

        // Let connections in the middle of a request finish (they run on this thread, so
        // the thread's busy count is theirs); idle ones are simply dropped (closed) with
        // the runtime below.
        let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE;
        while conn::busy_here() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok::<(), io::Error>(())
    })?;
    // Dropping the runtime drops any connection still running past the deadline;
    // their upload temp files are removed by their destructors.
    drop(rt);
    Ok(())
}

async fn accept_loop(
    w: &Worker,
    listener: &TcpListener,
    inbox: &mut tokio::sync::mpsc::UnboundedReceiver<Handoff>,
) {
    let site = &w.site;
    let max = site.config.max_connections;
    loop {
        let accepted = tokio::select! {
            biased;
            _ = w.token.cancelled() => {
                site.closing.store(true, Ordering::Relaxed);
                return;
            }
            Some(h) = inbox.recv() => {
                // Accepted (and counted as ours) by a busier worker.
                if let Ok(stream) = TcpStream::from_std(h.stream) {
                    spawn_connection(w, stream, h.peer, h.slot, h.serving);
                }
                continue;
            }
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors or memory: back off instead of spinning or dying;
                // existing connections keep being served and will free some.
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                ) {
                    tracing::warn!("accept: {e}; pausing 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if w.active.fetch_add(1, Ordering::AcqRel) >= max {
            w.active.fetch_sub(1, Ordering::AcqRel);
            // Answer 503 politely, but not without bound: under a flood, extra
            // connections are just closed so refusals cannot exhaust descriptors.
            if REJECTING.fetch_add(1, Ordering::AcqRel) < MAX_REJECTING {
                let site = site.clone();
                tokio::spawn(async move {
                    reject_busy(&site, stream).await;
                    REJECTING.fetch_sub(1, Ordering::AcqRel);
                });
            } else {
                REJECTING.fetch_sub(1, Ordering::AcqRel);
            }
            continue;
        }
        let slot = Slot::new(w.active.clone());
        let to = w.balance.pick(w.index);
        if site.config.events.wants(crate::event::Level::Verbose) {
            log_socket(&site.config.events, &stream, peer, to);
        }
        if to != w.index {
            let Ok(stream) = stream.into_std() else {
                continue;
            };
            let serving = w.balance.serving(to);
            let handoff = Handoff {
                stream,
                peer,
                slot,
                serving,
            };
            if let Err(h) = w.balance.hand_off(to, handoff) {
                // That worker is shutting down: serve it here after all.
                if let Ok(stream) = TcpStream::from_std(h.stream) {
                    let serving = w.balance.serving(w.index);
                    spawn_connection(w, stream, h.peer, h.slot, serving);
                }
            }
            continue;
        }
        spawn_connection(w, stream, peer, slot, w.balance.serving(w.index));
    }
}

/// Serves a connection on this worker; `serving` counts it as this worker's load until
/// it ends.
fn spawn_connection(w: &Worker, stream: TcpStream, peer: SocketAddr, slot: Slot, serving: Serving) {
    let site = w.site.clone();
    tokio::spawn(async move {
        conn::serve(site, stream, peer).await;
        drop(serving);
        drop(slot);
    });
}

fn log_socket(events: &crate::event::Events, stream: &TcpStream, peer: SocketAddr, worker: usize) {
    use std::os::fd::AsRawFd;
    let sock = socket2::SockRef::from(stream);
    events.emit(crate::event::Event::verbose("connection", format!(
        "connection from {peer} to {} for worker {worker} (fd {}, TCP_NODELAY {}, SO_RCVBUF {}, SO_SNDBUF {})",
        stream
            .local_addr()
            .map_or_else(|_| "?".into(), |a| a.to_string()),
        stream.as_raw_fd(),
        sock.tcp_nodelay().unwrap_or(false),
        sock.recv_buffer_size().unwrap_or(0),
        sock.send_buffer_size().unwrap_or(0),
    )).with("peer", peer).with("worker", worker));
}

/// Over `--max-connections`: answer 503 with `Retry-After` right away and close, rather
/// than queueing the client where it would wait without knowing why.
async fn reject_busy(site: &Site, stream: TcpStream) {
    let mut w = Vec::with_capacity(256);
    let f = Finish {
        close: true,
        keep_alive_1_0: false,
        extra: &site.extra,
    };
    resp::error(&mut w, 503, false, b"Retry-After: 1\r\n", f);
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        crate::http::sendfile::write_all(&stream, &w, false, Duration::from_secs(1)),
    )
    .await;
    conn::linger_stream(&stream, Duration::from_secs(1)).await;
}

/// Binds, prints the startup line, serves until Ctrl-C or SIGTERM, then shuts down
/// gracefully. This is what `sockit http serve` runs.
pub fn serve(config: ServeConfig) -> io::Result<()> {
    let shown_dir = config.root.display().to_string();
    let server = Server::bind(config)?;
    let local = server.local_addr();
    let token = server.shutdown_token();
    // Install the handlers before announcing the port: a supervisor (or a test) that
    // sends SIGTERM as soon as it reads the startup line must get a graceful stop, not
    // the default action (death by signal).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (term, int) = {
        let _guard = rt.enter();
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
        )
    };
    let events = server.site.config.events.clone();
    events.emit(
        crate::event::Event::info(
            "listening",
            format!("serving {shown_dir} on http://{local}/"),
        )
        .with("addr", local),
    );
    let signals = std::thread::Builder::new()
        .name("sockit-signals".into())
        .spawn(move || wait_for_signal(rt, term, int, token, events))?;
    let result = server.run();
    drop(signals); // detached: exits with the process
    result
}

fn wait_for_signal(
    rt: tokio::runtime::Runtime,
    mut term: tokio::signal::unix::Signal,
    mut int: tokio::signal::unix::Signal,
    token: CancellationToken,
    events: crate::event::Events,
) {
    rt.block_on(async {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
            _ = token.cancelled() => return,
        }
        // Not `eprintln!`: with stderr gone (a closed pipe) it would panic this thread and
        // the server would never shut down.
        events.emit(crate::event::Event::info(
            "shutting-down",
            "shutting down (finishing in-flight requests; again to force)",
        ));
        token.cancel();
        // A second Ctrl-C / SIGTERM means "now": do not make the user wait 10 s.
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        events.emit(crate::event::Event::warn("forced-exit", "forced exit"));
        std::process::exit(130);
    });
}
