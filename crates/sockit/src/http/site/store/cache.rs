//! A per-thread cache of what a request path resolves to, with pre-rendered headers and,
//! for small files, the bytes themselves.
//!
//! This is nginx's `open_file_cache` and lighttpd's stat cache: a hit costs one hash
//! lookup and one `stat` (so edits are seen at once), no `open`/`read`/`close`. Each
//! worker thread owns its cache, so there are no locks; writes through this server (PUT,
//! DELETE, uploads) bump a global generation so every worker drops stale entries.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::files::{self, FileInfo, OpenError, Root};
pub use super::resolve::{render_headers, resolve, Resolved};

/// Files up to this size are kept in memory and sent with the head in one `write`.
pub const SMALL_FILE: u64 = 64 * 1024;
/// Per-thread budget for cached bytes; past it the cache starts over.
const MAX_BYTES: usize = 32 << 20;
/// Per-thread entry budget.
const MAX_ENTRIES: usize = 8192;
/// With inotify watching its folder, an entry younger than this (ms) is trusted without
/// a `stat`: edits are seen at once through [`super::watch`], and this bound only
/// matters for what inotify cannot see (e.g. a symlink's target in an unwatched folder).
const TRUST_MS: u64 = 1000;

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Tells every worker's cache that files changed (called after PUT, DELETE, uploads).
pub fn invalidate_all() {
    GENERATION.fetch_add(1, Ordering::Release);
}

/// One servable representation of a file (the file itself or a precompressed sibling).
#[derive(Debug)]
pub struct Repr {
    /// Path relative to the root, to open it for `sendfile`.
    pub rel: Box<[u8]>,
    /// Metadata at the time it was cached.
    pub info: FileInfo,
    /// Strong ETag with quotes.
    pub etag: Box<[u8]>,
    /// Pre-rendered `Content-Type`, `Last-Modified`, `ETag`, `Accept-Ranges`, and where
    /// relevant `Content-Encoding` and `Vary` lines.
    pub headers: Box<[u8]>,
    /// Whole content for small files.
    pub body: Option<Bytes>,
}

/// What a path resolved to.
#[derive(Debug)]
pub enum Kind {
    /// A regular file (possibly a folder's `index.html`).
    File,
    /// A folder requested without a trailing slash: redirect.
    DirRedirect,
    /// A folder without `index.html`: list it (`rel` is the folder).
    DirListing,
}

/// A cached resolution.
#[derive(Debug)]
pub struct Entry {
    /// What the path is.
    pub kind: Kind,
    /// The identity representation (for folders: the folder itself).
    pub main: Repr,
    /// Precompressed `.br` sibling.
    pub br: Option<Rc<Repr>>,
    /// Precompressed `.gz` sibling.
    pub gz: Option<Rc<Repr>>,
    /// Text type: a candidate for on-the-fly gzip.
    pub text: bool,
    /// The `Content-Type` value.
    pub content_type: Box<str>,
    /// On-the-fly gzip of a small text file, computed on first demand.
    pub gzipped: RefCell<Option<Rc<Repr>>>,
    /// inotify watches the folders this entry depends on.
    pub(super) watched: Cell<bool>,
    /// When it was last found fresh (coarse monotonic ms).
    pub(super) checked_ms: Cell<u64>,
    /// The write generation it was resolved in.
    pub(super) generation: Cell<u64>,
}

/// Options that shape what gets cached.
#[derive(Debug, Clone, Copy)]
pub struct Opts {
    /// Follow symlinks out of the root.
    pub follow_symlinks: bool,
    /// `--compress` is on (responses for text files vary by Accept-Encoding).
    pub compress: bool,
    /// `--hidden` is on: dot-files may be served, also as the target of a symlink.
    pub hidden: bool,
}

/// FNV-1a: a few ns for a short path, versus SipHash's ~20. Flooding is not a concern:
/// only paths that exist in the served folder are ever inserted, and the map is bounded.
#[derive(Default, Clone, Copy)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

#[derive(Default)]
struct Cache {
    site: usize,
    map: FnvMap<Box<[u8]>, Rc<Entry>>,
    bytes: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// Resolution failures, mapped to statuses by the caller.
pub type Error = OpenError;

/// What a lookup found.
pub enum Found {
    /// A fresh cache entry.
    Entry(Rc<Entry>),
    /// Not cached: resolve `key` off the event loop ([`resolve`], then [`prepared`]) and
    /// look it up again.
    Miss,
}

thread_local! {
    /// A resolution made on the blocking pool for this worker, waiting to be taken by
    /// the lookup of the request that asked for it: (site, key, result).
    static PREPARED: RefCell<Vec<Prepared>> = const { RefCell::new(Vec::new()) };
}

/// A resolution for (site, key), waiting for its lookup.
type Prepared = (usize, Box<[u8]>, Result<Resolved, Error>);

/// Resolutions kept waiting per thread (connections missing at once); the oldest goes.
const MAX_PREPARED: usize = 32;

/// Hands a resolution made off the event loop to the next lookup of `key` on this
/// worker thread.
pub fn prepared(site: usize, key: &[u8], result: Result<Resolved, Error>) {
    PREPARED.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() >= MAX_PREPARED {
            drop(p.remove(0));
        }
        p.push((site, key.into(), result));
    });
}

/// Watches the folder `key` lives in (before it is read, so a change racing with the
/// read is not missed). Cheap when already watched.
pub fn watch_for(root: &Root, key: &[u8]) -> bool {
    let dir = match key.strip_suffix(b"/") {
        Some(d) => d,
        None if key.is_empty() => key,
        None => &key[..key.iter().rposition(|&b| b == b'/').unwrap_or(0)],
    };
    super::watch::watch(&root.path, dir)
}

/// Looks up `key` (normalized path, plus a trailing `/` if the request had one).
///
/// `site` identifies the server so two servers on one thread never share entries. A
/// miss is resolved here only when `inline` (a retry, a rare fallback); otherwise the
/// caller gets [`Found::Miss`] and resolves on the blocking pool, so opening and
/// reading files never stalls the event loop's other connections.
pub fn lookup(
    site: usize,
    root: &Root,
    opts: Opts,
    key: &[u8],
    inline: bool,
) -> Result<Found, Error> {
    let now = crate::http::server::clock::coarse_monotonic_ms();
    // Must come before loading the generation: it bumps it when files changed.
    let inotify = super::watch::changed();
    let generation = GENERATION.load(Ordering::Acquire);
    let cached = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.site != site {
            c.site = site;
            c.map.clear();
            c.bytes = 0;
        }
        c.map.get(key).cloned()
    });
    if let Some(e) = cached {
        let trusted = inotify.is_some()
            && e.watched.get()
            && now.saturating_sub(e.checked_ms.get()) < TRUST_MS;
        if e.generation.get() == generation && trusted {
            return Ok(Found::Entry(e));
        }
        if e.generation.get() == generation
            && matches!(e.kind, Kind::File)
            && files::stat(root, &e.main.rel).is_some_and(|i| i == e.main.info)
        {
            e.checked_ms.set(now);
            return Ok(Found::Entry(e));
        }
    }
    let ready = PREPARED.with(|p| {
        let mut p = p.borrow_mut();
        let at = p.iter().position(|(s, k, _)| *s == site && **k == *key)?;
        Some(p.remove(at).2)
    });
    let resolved = match ready {
        Some(r) => r?,
        None if inline => {
            if inotify.is_some() {
                watch_for(root, key);
            }
            resolve(root, opts, key)?
        }
        None => return Ok(Found::Miss),
    };
    let entry = Rc::new(Entry::from(resolved));
    // Already watched before the read (by the caller of `resolve`, or just above).
    let watched = inotify.is_some()
        && watch_for(root, key)
        && (!matches!(entry.kind, Kind::File) || watch_target(root, &entry.main.rel));
    entry.watched.set(watched && !opts.follow_symlinks);
    entry.checked_ms.set(now);
    entry.generation.set(generation);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let size = entry_bytes(&entry);
        if c.map.len() >= MAX_ENTRIES || c.bytes + size > MAX_BYTES {
            c.map.clear();
            c.bytes = 0;
        }
        c.bytes += size;
        if let Some(old) = c.map.insert(key.into(), entry.clone()) {
            c.bytes = c.bytes.saturating_sub(entry_bytes(&old));
        }
    });
    Ok(Found::Entry(entry))
}

/// A file reached through a symlink lives in another folder: watch that one too, so
/// edits to the target are seen at once (misses cost a `canonicalize`, hits nothing).
fn watch_target(root: &Root, rel: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let full = root.path.join(std::ffi::OsStr::from_bytes(rel));
    let Ok(real) = std::fs::canonicalize(&full) else {
        return false;
    };
    if real == full {
        return true; // no symlink involved: the folder is already watched
    }
    match real.parent().and_then(|p| p.strip_prefix(&root.path).ok()) {
        Some(dir) => super::watch::watch(&root.path, dir.as_os_str().as_bytes()),
        None => false, // outside the root (--follow-symlinks): revalidate with stat
    }
}

/// Forgets `key` on this thread (e.g. a big file changed between lookup and open).
pub fn forget(key: &[u8]) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(old) = c.map.remove(key) {
            c.bytes = c.bytes.saturating_sub(entry_bytes(&old));
        }
    });
}

fn entry_bytes(e: &Entry) -> usize {
    let body = |r: &Repr| r.body.as_ref().map_or(0, |b| b.len()) + r.headers.len();
    body(&e.main) + e.br.as_deref().map_or(0, body) + e.gz.as_deref().map_or(0, body) + 256
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(f: Result<Found, Error>) -> Rc<Entry> {
        match f {
            Ok(Found::Entry(e)) => e,
            _ => panic!("not an entry"),
        }
    }

    #[test]
    fn misses_are_left_to_the_caller_unless_inline() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), b"one").unwrap();
        let root = Root::open(dir.path()).unwrap();
        let opts = Opts {
            follow_symlinks: false,
            compress: false,
            hidden: false,
        };
        assert!(matches!(
            lookup(4244, &root, opts, b"f.txt", false),
            Ok(Found::Miss)
        ));
        prepared(4244, b"f.txt", resolve(&root, opts, b"f.txt"));
        assert_eq!(
            body(&entry(lookup(4244, &root, opts, b"f.txt", false))),
            b"one"
        );
        prepared(4244, b"nope", resolve(&root, opts, b"nope"));
        assert!(matches!(
            lookup(4244, &root, opts, b"nope", false),
            Err(OpenError::NotFound)
        ));
    }

    fn body(e: &Entry) -> Vec<u8> {
        e.main.body.as_deref().unwrap_or_default().to_vec()
    }

    /// Edits on disk must be served on the next request even though hits do not `stat`.
    #[test]
    fn edits_are_seen_through_inotify() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), b"one").unwrap();
        let root = Root::open(dir.path()).unwrap();
        let opts = Opts {
            follow_symlinks: false,
            compress: false,
            hidden: false,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let e = entry(lookup(4242, &root, opts, b"f.txt", true));
            assert_eq!(body(&e), b"one");
            let again = entry(lookup(4242, &root, opts, b"f.txt", true));
            assert!(Rc::ptr_eq(&e, &again), "a second lookup is a cache hit");
            assert!(e.watched.get(), "inotify watches the folder");
            std::fs::write(dir.path().join("f.txt"), b"two!").unwrap();
            // Let the event loop see the inotify event, as it would before reading the
            // next request from a socket.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let e = entry(lookup(4242, &root, opts, b"f.txt", true));
            assert_eq!(body(&e), b"two!");
        });
    }

    #[test]
    fn folders_resolve_to_index_redirect_or_listing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("b/index.html"), b"<h1>b</h1>").unwrap();
        let root = Root::open(dir.path()).unwrap();
        let opts = Opts {
            follow_symlinks: false,
            compress: false,
            hidden: false,
        };
        assert!(matches!(
            entry(lookup(4243, &root, opts, b"a", true)).kind,
            Kind::DirRedirect
        ));
        assert!(matches!(
            entry(lookup(4243, &root, opts, b"a/", true)).kind,
            Kind::DirListing
        ));
        let b = entry(lookup(4243, &root, opts, b"b/", true));
        assert!(matches!(b.kind, Kind::File));
        assert_eq!(&*b.main.rel, b"b/index.html");
        assert!(matches!(
            entry(lookup(4243, &root, opts, b"", true)).kind,
            Kind::DirListing
        ));
        assert!(matches!(
            lookup(4243, &root, opts, b"missing", true),
            Err(OpenError::NotFound)
        ));
    }
}
