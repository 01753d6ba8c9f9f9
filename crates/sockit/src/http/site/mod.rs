//! The static-file application: what `sockit http serve` answers, behind the engine's
//! [`App`] trait.
//!
//! Requests follow this path: [`route`] applies the method rules, authentication and
//! CORS; [`path`] turns the target into a safe relative path; [`get`] answers from
//! the cache in [`store`], or plans a listing ([`listing`]), an on-the-fly gzip stream
//! ([`compress`]), or an upload ([`upload`], [`form`] with [`multipart`]).

pub mod compress;
pub mod form;
pub mod get;
pub mod listing;
pub mod multipart;
pub mod path;
pub mod route;
pub mod store;
pub mod upload;

use std::fs::File;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::http::config::ServeConfig;
use crate::http::proto::request::{Method, Request};
use crate::http::proto::response::{self as resp, Extra, Finish};
use crate::http::server::{App, Ctx, Gone, Io, Reply, Sent};
use store::files::Root;
use store::{cache, files, parts};

/// Below this size on-the-fly gzip is not worth its CPU (and may even grow the body).
pub const COMPRESS_MIN: u64 = 1024;

/// The site's verdict on one request.
pub type Decision<'s> = crate::http::server::Decision<'s, Work>;

/// Work that waits on I/O after the head was answered; the engine runs it through
/// [`App::run`].
#[derive(Debug)]
pub enum Work {
    /// The head is in the write buffer; send `file` gzipped with chunked coding.
    Gzip(File),
    /// Read and render a folder listing off the event loop.
    Listing(listing::ListingPlan),
    /// Store a PUT body.
    Put(upload::PutPlan),
    /// Store the files of a multipart POST.
    Post(form::PostPlan),
    /// Resolve this cache key on the blocking pool (a cache miss).
    Resolve(Vec<u8>),
}

static SITE_IDS: AtomicUsize = AtomicUsize::new(1);

/// The site's shared, read-only state: the config plus everything pre-computed from it.
#[derive(Debug)]
pub struct Site {
    /// The settings.
    pub config: ServeConfig,
    /// Distinguishes sites in per-thread caches.
    pub id: usize,
    /// The served folder.
    pub root: Root,
    /// Pre-rendered `--header` and CORS lines added to every response.
    pub extra: Extra,
    /// `Allow: ...\r\n` for 405 and OPTIONS.
    pub allow: Box<[u8]>,
    /// The methods in `allow`, for CORS preflight answers.
    pub allow_list: Box<str>,
    /// `user:password` expected in Basic credentials.
    pub credentials: Option<Box<[u8]>>,
    /// What the cache needs from the config.
    pub cache_opts: cache::Opts,
    /// Upload temporary files being written, removed on a forced stop.
    pub parts: Arc<parts::Registry>,
}

impl Site {
    /// Pre-computes per-site constants and opens the root folder.
    pub fn new(config: ServeConfig) -> std::io::Result<Site> {
        let root = Root::open(&config.root)?;
        let mut headers = Vec::new();
        if config.cors {
            headers.push(("Access-Control-Allow-Origin".to_string(), "*".to_string()));
        }
        headers.extend(config.headers.iter().cloned());
        let mut methods = vec!["GET", "HEAD", "OPTIONS"];
        if config.allow_trace {
            methods.push("TRACE");
        }
        if config.write {
            methods.extend(["PUT", "DELETE", "POST"]);
        }
        let allow_list = methods.join(", ");
        let credentials = config
            .auth
            .as_ref()
            .map(|(u, p)| format!("{u}:{p}").into_bytes().into_boxed_slice());
        let cache_opts = cache::Opts {
            follow_symlinks: config.follow_symlinks,
            compress: config.compress,
            hidden: config.hidden,
        };
        Ok(Site {
            root,
            id: SITE_IDS.fetch_add(1, Ordering::Relaxed),
            extra: Extra::new(&headers),
            allow: format!("Allow: {allow_list}\r\n").into_bytes().into(),
            allow_list: allow_list.into(),
            credentials,
            cache_opts,
            config,
            parts: Arc::new(parts::Registry::default()),
        })
    }

    /// The end of a head for answers rendered after the request head is gone.
    pub fn finish_late(&self, reply: Reply, close: bool) -> Finish<'_> {
        Finish {
            close,
            keep_alive_1_0: reply.http10 && !close,
            extra: &self.extra,
        }
    }

    /// The end of a head for an answer to `req`.
    pub fn finish(&self, req: &Request<'_>, close: bool) -> Finish<'_> {
        Finish {
            close,
            keep_alive_1_0: req.minor == 0 && !close,
            extra: &self.extra,
        }
    }

    /// Renders an error page into `w`.
    pub fn error(
        &self,
        req: &Request<'_>,
        w: &mut Vec<u8>,
        status: u16,
        headers: &[u8],
        close: bool,
    ) -> Decision<'static> {
        let head_only = req.method == Method::Head;
        let bytes = resp::error(w, status, head_only, headers, self.finish(req, close));
        Decision::done(status, bytes, close)
    }
}

impl App for Site {
    type Work = Work;

    fn respond<'s>(
        &'s self,
        req: &Request<'_>,
        cx: Ctx,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Decision<'s> {
        route::handle(self, req, cx, out, scratch)
    }

    fn run(
        self: &Arc<Self>,
        work: Work,
        io: &mut Io,
        reply: Reply,
    ) -> impl Future<Output = Result<Sent, Gone>> + Send {
        let site = self.clone();
        async move {
            // Rare, large futures are boxed so they do not bloat every connection's task.
            match work {
                Work::Gzip(file) => Box::pin(compress::stream(io, file))
                    .await
                    .map(|bytes| Sent {
                        status: 200,
                        bytes,
                        close: reply.close,
                    })
                    .map_err(|_| Gone::default()),
                Work::Listing(p) => Ok(Box::pin(listing::respond(&site, io, p, reply)).await),
                Work::Put(p) => Box::pin(upload::run_put(&site, io, p, reply)).await,
                Work::Post(p) => Box::pin(form::run_post(&site, io, p, reply)).await,
                Work::Resolve(_) => Err(Gone::default()),
            }
        }
    }

    fn prepare(self: &Arc<Self>, work: Work) -> impl Future<Output = ()> + Send {
        let site = self.clone();
        async move {
            let Work::Resolve(key) = work else {
                return;
            };
            // Watch before reading, so a change racing with the read is not missed.
            cache::watch_for(&site.root, &key);
            let s = site.clone();
            let k = key.clone();
            let resolved =
                tokio::task::spawn_blocking(move || cache::resolve(&s.root, s.cache_opts, &k))
                    .await
                    .unwrap_or_else(|e| Err(files::OpenError::Io(std::io::Error::other(e))));
            cache::prepared(site.id, &key, resolved);
        }
    }

    fn extra(&self) -> &Extra {
        &self.extra
    }
}
