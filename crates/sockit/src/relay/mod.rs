//! Relaying: every connection accepted on one endpoint is joined to a new connection to
//! another, bytes copied both ways (port forwarding, socat's `TCP-LISTEN:... TCP:...`).
//!
//! The two directions are independent, as TCP's are: when one side half-closes (a read
//! of 0 bytes), the relay half-closes the other side's writing direction
//! (`shutdown(SHUT_WR)`) and goes on copying the other way, so a client that sends a
//! request and then `shutdown`s still gets the whole answer through the relay. Each
//! connection ends with an event giving the bytes copied each way. Copies go through
//! large buffers (256 KiB by default: socat's default of 8 KiB costs a system call per
//! 8 KiB), and one relayed connection failing never stops the others.
//!
//! - [`endpoint`]: the `tcp-listen:`, `tcp:`, `unix-listen:`, `unix:` syntax.

pub mod endpoint;

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::task::JoinSet;

pub use endpoint::{parse_listen, parse_target, EndpointError, Listen, Target};

use crate::event::{Event, Events};
use crate::net::accept::{is_exhaustion, AcceptBackoff};
use crate::net::addr::resolve_listen;
use crate::net::error::describe;
use crate::net::socket::{tcp_connect, tcp_listener};
use crate::net::SocketOptions;

/// Default copy buffer per direction.
pub const DEFAULT_BUFFER: usize = 256 * 1024;

/// Largest copy buffer per direction.
pub const MAX_BUFFER: usize = 16 << 20;

/// How long relayed connections get to finish after a shutdown request.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What a relay does.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Where to accept connections.
    pub listen: Listen,
    /// Where to connect for each of them.
    pub target: Target,
    /// Connections relayed at once; more are closed on arrival, with an event.
    pub max_connections: usize,
    /// Copy buffer per direction, in bytes (1 to [`MAX_BUFFER`]).
    pub buffer: usize,
    /// Replace a stale Unix socket file left at the listening path by a dead server.
    pub unlink: bool,
    /// Give up connecting to the target after this long.
    pub connect_timeout: Option<Duration>,
    /// Where connections, their byte counts and failures are reported.
    pub events: Events,
}

/// Why a relay could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The listening address did not resolve.
    #[error(transparent)]
    Resolve(#[from] crate::net::addr::ResolveError),
    /// Binding the listening socket failed (in use, permission).
    #[error("listen on {endpoint}: {}", describe(.source))]
    Bind {
        /// The endpoint.
        endpoint: String,
        /// The error.
        source: io::Error,
    },
    /// The listening path exists and is not a socket: never removed.
    #[error("{}: exists and is not a socket; not replacing it", .0.display())]
    NotASocket(PathBuf),
    /// The listening path is a socket another server is serving.
    #[error("{}: another server is listening there", .0.display())]
    InUse(PathBuf),
    /// The listening path is a socket nobody serves any more.
    #[error("{}: a stale socket file (nobody listens); remove it or replace it (unlink)", .0.display())]
    Stale(PathBuf),
}

/// A bound relay, not yet running: bind first so the caller can announce the address.
#[derive(Debug)]
pub struct Relay {
    listener: Listener,
    config: RelayConfig,
}

#[derive(Debug)]
enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, UnixPath),
}

/// A Unix socket path this relay created, removed when the relay ends.
#[derive(Debug)]
struct UnixPath(PathBuf);

impl Drop for UnixPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A byte stream of either family, for copying between any two.
trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

impl Relay {
    /// Binds the listening endpoint.
    pub async fn bind(config: RelayConfig) -> Result<Relay, RelayError> {
        let listener = match &config.listen {
            Listen::Tcp(hp) => {
                let addr = resolve_listen(hp).await?;
                let listener = tcp_listener(addr, &SocketOptions::default()).map_err(|source| {
                    RelayError::Bind {
                        endpoint: config.listen.to_string(),
                        source,
                    }
                })?;
                Listener::Tcp(listener)
            }
            Listen::Unix(path) => {
                clear_stale(path, config.unlink).await?;
                let listener = UnixListener::bind(path).map_err(|source| RelayError::Bind {
                    endpoint: config.listen.to_string(),
                    source,
                })?;
                Listener::Unix(listener, UnixPath(path.clone()))
            }
        };
        Ok(Relay { listener, config })
    }

    /// The bound address as the startup line shows it (`127.0.0.1:40000`, a path).
    pub fn local(&self) -> String {
        match &self.listener {
            Listener::Tcp(l) => l
                .local_addr()
                .map_or_else(|_| "?".to_string(), |a| a.to_string()),
            Listener::Unix(_, path) => path.0.display().to_string(),
        }
    }

    /// Relays connections until `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), RelayError> {
        let config = Arc::new(self.config);
        let events = config.events.clone();
        let mut tasks = JoinSet::new();
        let mut backoff = AcceptBackoff::new();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
                a = accept(&self.listener) => a,
            };
            let (stream, from) = match accepted {
                Ok(conn) => {
                    backoff.reset();
                    conn
                }
                Err(err) if is_exhaustion(&err) => {
                    if backoff.is_first() {
                        events.emit(Event::warn(
                            "accept-backoff",
                            format!(
                                "accept: {}; retrying with backoff until descriptors free up",
                                describe(&err)
                            ),
                        ));
                    }
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(backoff.step()) => {}
                    }
                    continue;
                }
                Err(err) => {
                    tracing::debug!("accept: {}", describe(&err));
                    continue;
                }
            };
            if tasks.len() >= config.max_connections {
                events.emit(
                    Event::warn(
                        "refused",
                        format!(
                            "connection from {from} closed: already relaying {} connections, the limit",
                            tasks.len()
                        ),
                    )
                    .with("peer", from.as_str()),
                );
                continue;
            }
            events.emit(
                Event::info("connected", format!("connection from {from}"))
                    .with("peer", from.as_str()),
            );
            let config = config.clone();
            tasks.spawn(async move { relay_one(stream, from, &config).await });
        }
        events.emit(Event::info("shutting-down", "shutting down"));
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        tasks.abort_all();
        Ok(())
    }
}

/// Accepts one connection; the peer's name for events.
async fn accept(listener: &Listener) -> io::Result<(Box<dyn Duplex>, String)> {
    match listener {
        Listener::Tcp(l) => {
            let (stream, peer) = l.accept().await?;
            let _ = stream.set_nodelay(true);
            Ok((Box::new(stream), peer.to_string()))
        }
        Listener::Unix(l, path) => {
            let (stream, _) = l.accept().await?;
            Ok((Box::new(stream), format!("unix:{}", path.0.display())))
        }
    }
}

/// Connects the target for one accepted connection and copies both ways until both
/// directions are done; reports the byte counts.
async fn relay_one(mut client: Box<dyn Duplex>, from: String, config: &RelayConfig) {
    let events = &config.events;
    let mut target = match connect(&config.target, config.connect_timeout).await {
        Ok(t) => t,
        Err(reason) => {
            events.emit(
                Event::warn(
                    "target-failed",
                    format!("{from}: cannot reach {}: {reason}; closing", config.target),
                )
                .with("peer", from.as_str()),
            );
            return;
        }
    };
    let buffer = config.buffer.clamp(1, MAX_BUFFER);
    match tokio::io::copy_bidirectional_with_sizes(&mut client, &mut target, buffer, buffer).await {
        Ok((up, down)) => events.emit(
            Event::info(
                "closed",
                format!("{from} closed: {up} bytes to the target, {down} bytes back"),
            )
            .with("peer", from.as_str())
            .with("to_target", up)
            .with("from_target", down),
        ),
        Err(err) => events.emit(
            Event::warn("peer-error", format!("{from}: {}", describe(&err)))
                .with("peer", from.as_str()),
        ),
    }
}

/// Opens a connection to the target.
async fn connect(target: &Target, timeout: Option<Duration>) -> Result<Box<dyn Duplex>, String> {
    match target {
        Target::Tcp(hp) => {
            let addrs = hp.resolve(timeout).await.map_err(|e| e.to_string())?;
            let stream = tcp_connect(&hp.to_string(), &addrs, &SocketOptions::default(), timeout)
                .await
                .map_err(|e| e.to_string())?;
            let _ = stream.set_nodelay(true);
            Ok(Box::new(stream))
        }
        Target::Unix(path) => {
            let connecting = UnixStream::connect(path);
            let stream = match timeout {
                Some(limit) => tokio::time::timeout(limit, connecting)
                    .await
                    .map_err(|_| "timed out".to_string())?,
                None => connecting.await,
            }
            .map_err(|e| describe(&e))?;
            Ok(Box::new(stream))
        }
    }
}

/// Makes room for a Unix listening socket at `path`: nothing there is fine; a socket
/// nobody listens on is stale and replaced only with `unlink`; anything else stays.
async fn clear_stale(path: &Path, unlink: bool) -> Result<(), RelayError> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(RelayError::NotASocket(path.to_path_buf()));
    }
    if UnixStream::connect(path).await.is_ok() {
        return Err(RelayError::InUse(path.to_path_buf()));
    }
    if !unlink {
        return Err(RelayError::Stale(path.to_path_buf()));
    }
    std::fs::remove_file(path).map_err(|source| RelayError::Bind {
        endpoint: format!("unix-listen:{}", path.display()),
        source,
    })
}
