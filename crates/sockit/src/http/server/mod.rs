//! The engine: listening sockets, worker threads, connections, limits, timeouts,
//! zero-copy bodies and graceful shutdown, for any [`App`].
//!
//! The server runs nginx's worker model: one thread per core, each with its own
//! single-threaded tokio runtime and its own listening socket bound to the same port
//! with `SO_REUSEPORT`, so the kernel spreads new connections over the workers and a
//! connection then lives on one thread with no cross-thread wake-ups or locks.
//!
//! The kernel picks the listener by the CPU the handshake arrived on
//! ([`crate::net::steer`]), so a client's packets and the worker serving it share a
//! CPU; [`balance`] hands connections to another worker when that piles them onto one.
//!
//! - [`app`]: the trait an application implements, and what it answers with.
//! - [`conn`]: one connection: read heads, answer in order, keep-alive, timeouts.
//! - [`io`]: the socket with its pooled read and write buffers.
//! - [`sendfile`]: whole buffers and file ranges to the socket.
//! - [`log`]: the access log, buffered per worker.

pub mod app;
pub mod balance;
pub mod clock;
pub mod conn;
pub mod io;
pub mod log;
pub mod sendfile;
mod wait;
mod worker;

use std::io as stdio;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use app::{App, Ctx, Decision, Gone, Plan, RangePart, Reply, Sent};
pub use io::{BodyReadError, Io};
pub use log::{LogFormat, LogSink};

use crate::net::socket::std_tcp_listener;
use crate::net::SocketOptions;

/// How long in-flight responses may take to finish after a graceful shutdown began.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Request bodies the engine reads and drops to keep a connection usable (a GET with a
/// body, a refused upload); bigger ones close the connection instead.
pub const DISCARD_MAX: u64 = 1 << 20;

/// How new connections are spread over the workers (see [`crate::net::steer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// To the worker matching the CPU the handshake arrived on (the default).
    Cpu,
    /// By the kernel's hash of addresses and ports (`SO_REUSEPORT` without a program).
    Hash,
}

/// What the engine needs to know: where to listen, how many workers, the limits and
/// timeouts, and where the access log and events go.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address and port to listen on (port 0 lets the kernel pick a free one).
    pub addr: SocketAddr,
    /// Worker threads, each with its own event loop and listening socket.
    pub workers: usize,
    /// How the kernel spreads new connections over the workers' listening sockets.
    pub spread: Spread,
    /// Open connections beyond this are answered 503 and closed.
    pub max_connections: usize,
    /// Time a client has to send a complete request head (408 after).
    pub header_timeout: Duration,
    /// Time an idle keep-alive connection is kept, and the longest a read or write of a
    /// body may stall.
    pub idle_timeout: Duration,
    /// Access log format.
    pub log: LogFormat,
    /// Where access-log lines go.
    pub log_to: LogSink,
    /// Where the server reports what happens.
    pub events: crate::event::Events,
}

/// The engine's state shared by every worker and connection.
pub(crate) struct Shared<A> {
    pub(crate) app: Arc<A>,
    pub(crate) settings: Settings,
    /// Set once shutdown began: answers then carry `Connection: close`.
    pub(crate) closing: AtomicBool,
    pub(crate) log: Arc<log::AccessLog>,
}

/// Builds a listening TCP socket: `SO_REUSEADDR` so a restarted server can bind while
/// old connections sit in TIME_WAIT, optionally `SO_REUSEPORT` so several workers can
/// each have their own accept queue on the same port. Non-blocking, ready for tokio.
pub fn listen(addr: SocketAddr, reuse_port: bool) -> stdio::Result<StdListener> {
    let opts = SocketOptions {
        reuse_port,
        ..SocketOptions::default()
    };
    std_tcp_listener(addr, &opts)
}

/// A bound engine, not yet running: binding first lets the caller learn the port
/// (port 0) before any request is served.
pub struct Engine<A: App> {
    shared: Arc<Shared<A>>,
    listeners: Vec<StdListener>,
    local: SocketAddr,
    shutdown: CancellationToken,
}

/// Controls a running engine from another thread.
#[derive(Clone)]
pub struct Handle {
    shutdown: CancellationToken,
    log: Arc<log::AccessLog>,
}

impl Handle {
    /// Starts a graceful shutdown: stop accepting, finish requests in flight (up to
    /// [`SHUTDOWN_DEADLINE`]), close idle connections.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Writes out access-log lines still buffered in the workers (before a forced exit).
    pub fn flush_log(&self) {
        self.log.flush_all();
    }

    /// Completes once a shutdown began.
    pub async fn stopping(&self) {
        self.shutdown.cancelled().await;
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("stopping", &self.shutdown.is_cancelled())
            .finish()
    }
}

impl<A: App> Engine<A> {
    /// Binds one listening socket per worker.
    pub fn bind(app: Arc<A>, settings: Settings) -> stdio::Result<Engine<A>> {
        let workers = settings.workers.max(1);
        let reuse_port = workers > 1;
        if reuse_port && settings.addr.port() != 0 {
            // SO_REUSEPORT would let us silently share a port with another server run by
            // the same user; a plain bind first makes "address in use" an error as usual.
            drop(listen(settings.addr, false)?);
        }
        let first = listen(settings.addr, reuse_port)?;
        let local = first.local_addr()?;
        let mut listeners = vec![first];
        for _ in 1..workers {
            // Same port as the first (which may have been picked by the kernel).
            listeners.push(listen(local, true)?);
        }
        if workers > 1 && settings.spread == Spread::Cpu {
            if let Err(e) = crate::net::steer::steer_by_cpu(&listeners[0], workers) {
                tracing::debug!("no CPU steering ({e}): the kernel's hash spreads connections");
            }
        }
        let log = Arc::new(log::AccessLog::new(
            settings.log,
            settings.log_to.clone(),
            workers,
        ));
        Ok(Engine {
            shared: Arc::new(Shared {
                app,
                settings,
                closing: AtomicBool::new(false),
                log,
            }),
            listeners,
            local,
            shutdown: CancellationToken::new(),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// A handle to stop the engine once it runs.
    pub fn handle(&self) -> Handle {
        Handle {
            shutdown: self.shutdown.clone(),
            log: self.shared.log.clone(),
        }
    }

    /// Runs the workers until a shutdown was asked for and all of them finished (or
    /// the deadline passed).
    pub fn run(self) -> stdio::Result<()> {
        worker::run_all(self.shared, self.listeners, self.shutdown)
    }
}
