//! The static-file server as a library user sees it: the site behind the engine.
//!
//! This is the one place that knows both rooms: it builds the [`Site`] from the
//! configuration, hands it to the engine, and offers a [`Handle`] to stop it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use super::config::ServeConfig;
use super::server::{self, Engine, Settings};
use super::site::store::parts;
use super::site::Site;
use crate::event::Event;

/// A bound static-file server, not yet running: binding first lets the caller learn
/// the port (port 0) before any request is served.
pub struct Server {
    engine: Engine<Site>,
    site: Arc<Site>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local", &self.engine.local_addr())
            .field("root", &self.site.config.root)
            .finish()
    }
}

/// Stops a running [`Server`] from another thread (a signal handler, a test).
#[derive(Debug, Clone)]
pub struct Handle {
    engine: server::Handle,
    parts: Arc<parts::Registry>,
}

impl Handle {
    /// Graceful shutdown: stop accepting, let requests in flight finish (up to
    /// 10 s), close idle connections.
    pub fn shutdown(&self) {
        self.engine.shutdown();
    }

    /// Prepares for the process to end now, without waiting (a second Ctrl-C): removes
    /// the temporary files of uploads that will never complete and writes out buffered
    /// access-log lines. Returns how many temporary files were removed. The caller then
    /// exits.
    pub fn abandon(&self) -> usize {
        self.engine.flush_log();
        self.parts.remove_all()
    }
}

impl Server {
    /// Checks the configuration, opens the root folder and binds one listening socket
    /// per worker. A bad setting is an [`io::ErrorKind::InvalidInput`] error carrying a
    /// [`super::ConfigError`].
    pub fn bind(config: ServeConfig) -> io::Result<Server> {
        config
            .check()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let settings = Settings {
            addr: config.addr,
            workers: config.workers,
            spread: config.spread,
            max_connections: config.max_connections,
            header_timeout: config.header_timeout,
            idle_timeout: config.idle_timeout,
            log: config.log,
            log_to: config.log_to.clone(),
            events: config.events.clone(),
        };
        let site = Arc::new(Site::new(config)?);
        let engine = Engine::bind(site.clone(), settings)?;
        Ok(Server { engine, site })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.engine.local_addr()
    }

    /// A handle to stop the server once it runs.
    pub fn handle(&self) -> Handle {
        Handle {
            engine: self.engine.handle(),
            parts: self.site.parts.clone(),
        }
    }

    /// Serves until [`Handle::shutdown`], then finishes gracefully.
    ///
    /// Reports `listening` when it starts; with `write` on, first removes (in the
    /// background) upload temporary files left by a server that was killed.
    pub fn run(self) -> io::Result<()> {
        let config = &self.site.config;
        let events = config.events.clone();
        if config.write {
            let root = self.site.root.path.clone();
            let events = events.clone();
            std::thread::Builder::new()
                .name("sockit-sweep".into())
                .spawn(move || {
                    let n = parts::sweep(&root);
                    if n > 0 {
                        events.emit(
                            Event::info(
                                "swept",
                                format!(
                                    "removed {n} unfinished upload file(s) left by an earlier run"
                                ),
                            )
                            .with("files", n),
                        );
                    }
                })?;
        }
        let local = self.local_addr();
        events.emit(
            Event::info(
                "listening",
                format!("serving {} on http://{local}/", config.root.display()),
            )
            .with("addr", local),
        );
        self.engine.run()
    }

    /// Serves until `shutdown` completes (a signal, a test's trigger), then finishes
    /// gracefully. `shutdown` is polled on a small runtime of its own, so it may use
    /// tokio signals or timers.
    pub fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        let handle = self.engine.handle();
        let watcher = handle.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("sockit-shutdown".into())
            .spawn(move || {
                rt.block_on(async {
                    tokio::select! {
                        () = shutdown => {}
                        () = watcher.stopping() => {}
                    }
                });
                watcher.shutdown();
            })?;
        let result = self.run();
        handle.shutdown(); // lets the watcher thread end if `shutdown` never completed
        result
    }
}

/// Binds and serves `config.root` until `shutdown` completes, then shuts down
/// gracefully: what `sockit http serve` does, minus signals and exit codes.
pub fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    Server::bind(config)?.run_until(shutdown)
}
