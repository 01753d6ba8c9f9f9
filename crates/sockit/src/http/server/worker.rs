//! Worker threads: each accepts on its own listening socket, takes connections handed
//! over by the others, and serves them on its own single-threaded event loop.

use crate::net::accept::{is_exhaustion, AcceptBackoff};
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::balance::{Balance, Handoff, Serving, Slot};
use super::{conn, App, Shared, SHUTDOWN_DEADLINE};
use crate::http::proto::response::{self as resp, Finish};

/// 503 answers being written (each holds its socket for up to a second).
static REJECTING: AtomicUsize = AtomicUsize::new(0);
/// Beyond this many at once, connections over the limit are closed without an answer.
const MAX_REJECTING: usize = 512;

/// What one worker thread shares with the others.
struct Worker<A> {
    index: usize,
    shared: Arc<Shared<A>>,
    token: CancellationToken,
    active: Arc<AtomicUsize>,
    balance: Arc<Balance>,
}

/// Starts one thread per listener and waits for all of them.
pub(super) fn run_all<A: App>(
    shared: Arc<Shared<A>>,
    listeners: Vec<StdListener>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let active = Arc::new(AtomicUsize::new(0));
    let (balance, inboxes) = Balance::new(listeners.len());
    let mut threads = Vec::new();
    for (i, (listener, inbox)) in listeners.into_iter().zip(inboxes).enumerate() {
        let w = Worker {
            index: i,
            shared: shared.clone(),
            token: shutdown.child_token(),
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
    shared.log.flush_all();
    result
}

fn worker<A: App>(
    w: Worker<A>,
    listener: StdListener,
    mut inbox: UnboundedReceiver<Handoff>,
) -> io::Result<()> {
    // I/O and timers: all a worker needs. (tokio still stacks its signal and process
    // drivers under the I/O driver whenever those features are compiled in; they cost a
    // few instructions per park and never fire here.)
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        if w.shared.log.on() {
            tokio::spawn(w.shared.log.clone().flusher(w.index));
        }
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
        w.shared.log.flush(w.index);
        Ok::<(), io::Error>(())
    })?;
    // Dropping the runtime drops any connection still running past the deadline;
    // their upload temp files are removed by their destructors.
    drop(rt);
    Ok(())
}

async fn accept_loop<A: App>(
    w: &Worker<A>,
    listener: &TcpListener,
    inbox: &mut UnboundedReceiver<Handoff>,
) {
    let shared = &w.shared;
    let max = shared.settings.max_connections;
    let mut backoff = AcceptBackoff::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = w.token.cancelled() => {
                shared.closing.store(true, Ordering::Relaxed);
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
                if is_exhaustion(&e) {
                    if backoff.is_first() {
                        shared.settings.events.emit(crate::event::Event::warn(
                            "accept-backoff",
                            format!(
                                "accept: {}; retrying with backoff until descriptors free up",
                                crate::net::error::describe(&e)
                            ),
                        ));
                    }
                    tokio::time::sleep(backoff.step()).await;
                }
                continue;
            }
        };
        backoff.reset();
        let _ = stream.set_nodelay(true);
        if w.active.fetch_add(1, Ordering::AcqRel) >= max {
            w.active.fetch_sub(1, Ordering::AcqRel);
            // Answer 503 politely, but not without bound: under a flood, extra
            // connections are just closed so refusals cannot exhaust descriptors.
            if REJECTING.fetch_add(1, Ordering::AcqRel) < MAX_REJECTING {
                let shared = shared.clone();
                tokio::spawn(async move {
                    reject_busy(&*shared.app, stream).await;
                    REJECTING.fetch_sub(1, Ordering::AcqRel);
                });
            } else {
                REJECTING.fetch_sub(1, Ordering::AcqRel);
            }
            continue;
        }
        let slot = Slot::new(w.active.clone());
        let to = w.balance.pick(w.index);
        let events = &shared.settings.events;
        if events.wants(crate::event::Level::Verbose) {
            log_socket(events, &stream, peer, to);
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
fn spawn_connection<A: App>(
    w: &Worker<A>,
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    serving: Serving,
) {
    let shared = w.shared.clone();
    let index = w.index;
    tokio::spawn(async move {
        conn::serve(shared, index, stream, peer).await;
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

/// Over the connection limit: answer 503 with `Retry-After` right away and close,
/// rather than queueing the client where it would wait without knowing why.
async fn reject_busy<A: App>(app: &A, stream: TcpStream) {
    let mut w = Vec::with_capacity(256);
    let f = Finish {
        close: true,
        keep_alive_1_0: false,
        extra: app.extra(),
    };
    resp::error(&mut w, 503, false, b"Retry-After: 1\r\n", f);
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        super::sendfile::write_all(&stream, &w, false, Duration::from_secs(1)),
    )
    .await;
    super::io::linger_stream(&stream, Duration::from_secs(1)).await;
}
