//! TLS in front of a plain-TCP server: accept, handshake, relay to the backend.
//!
//! sockit's HTTP engine writes file bodies with `sendfile(2)` straight from the page
//! cache to a `TcpStream`; TLS needs the bytes in user space to encrypt them (kTLS is
//! not available on these kernels). Rather than thread a second stream type through
//! the engine, `http serve --tls-*` runs the engine unchanged on a private loopback
//! port and terminates TLS here: every engine feature (keep-alive, ranges, uploads,
//! limits, timeouts) works over TLS as it does in plain, and bodies go through 256 KiB
//! buffered relays instead of `sendfile`. The cost: the engine sees every client as
//! 127.0.0.1 (the front reports real peers in its own events).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};

use crate::event::{Event, Events};

/// How long a client has to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Relay buffer per direction.
const RELAY_BUF: usize = 256 * 1024;
/// Most handshakes in progress at once; beyond, new connections wait in the backlog.
const MAX_HANDSHAKES: usize = 1024;

/// Serves TLS on `listener`, relaying each connection's plaintext to `backend`, on a
/// runtime of its own (one thread per core, at most 4). Runs until the process ends.
pub fn spawn(
    listener: std::net::TcpListener,
    config: Arc<ServerConfig>,
    backend: SocketAddr,
    events: Events,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("sockit-tls")
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("sockit-tls-accept".into())
        .spawn(move || {
            rt.block_on(async move {
                let listener = match TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        events.emit(Event::error("tls-error", format!("TLS listener: {e}")));
                        return;
                    }
                };
                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                let slots = Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES));
                loop {
                    let (tcp, peer) = match listener.accept().await {
                        Ok(c) => c,
                        Err(e) => {
                            events.emit(Event::verbose("accept-error", format!("accept: {e}")));
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let Ok(permit) = slots.clone().acquire_owned().await else {
                        return;
                    };
                    let acceptor = acceptor.clone();
                    let events = events.clone();
                    tokio::spawn(async move {
                        relay(acceptor, tcp, peer, backend, &events, permit).await;
                    });
                }
            })
        })
}

async fn relay(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    backend: SocketAddr,
    events: &Events,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let _ = tcp.set_nodelay(true);
    let mut tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            events.emit(
                Event::warn(
                    "tls-handshake",
                    format!("TLS handshake with {peer} failed: {e}"),
                )
                .with("peer", peer),
            );
            return;
        }
        Err(_) => {
            events.emit(
                Event::warn(
                    "tls-handshake",
                    format!("TLS handshake with {peer} timed out"),
                )
                .with("peer", peer),
            );
            return;
        }
    };
    drop(permit);
    {
        let (_, conn) = tls.get_ref();
        if events.wants(crate::event::Level::Verbose) {
            events.emit(
                Event::verbose(
                    "tls",
                    format!(
                        "TLS from {peer}: {:?} {:?}, ALPN {}, SNI {}",
                        conn.protocol_version(),
                        conn.negotiated_cipher_suite().map(|c| c.suite()),
                        conn.alpn_protocol()
                            .map_or("none".into(), |p| String::from_utf8_lossy(p).into_owned()),
                        conn.server_name().unwrap_or("none"),
                    ),
                )
                .with("peer", peer),
            );
        }
    }
    let mut plain = match TcpStream::connect(backend).await {
        Ok(s) => s,
        Err(e) => {
            events.emit(Event::error(
                "tls-backend",
                format!("backend {backend}: {e}"),
            ));
            return;
        }
    };
    let _ = plain.set_nodelay(true);
    let _ =
        tokio::io::copy_bidirectional_with_sizes(&mut tls, &mut plain, RELAY_BUF, RELAY_BUF).await;
}
