//! Instant cache invalidation with inotify, so cache hits need no `stat`.
//!
//! One inotify instance watches every folder that holds a cached file (and that
//! folder's ancestors, so renaming a parent is seen too). Each worker registers a
//! duplicate of its descriptor with its own event loop; checking for changes is then a
//! look at the readiness flags the event loop already keeps — no system call — and only
//! when something changed do we read the events and invalidate the caches.
//!
//! Ordering is what makes this exact: a file written before a request is sent queues its
//! inotify event before the request's bytes arrive, and the worker only reads a socket
//! after its event loop reported it, by which time it has also seen the inotify event.
//! Where inotify is unavailable the cache falls back to a `stat` per request.

use std::cell::RefCell;
use std::collections::HashSet;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use tokio::io::unix::AsyncFd;

struct Shared {
    fd: OwnedFd,
    watched: Mutex<HashSet<std::path::PathBuf>>,
}

static SHARED: OnceLock<Option<Shared>> = OnceLock::new();

fn shared() -> Option<&'static Shared> {
    SHARED
        .get_or_init(|| {
            let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok()?;
            Some(Shared {
                fd,
                watched: Mutex::new(HashSet::new()),
            })
        })
        .as_ref()
}

thread_local! {
    /// This worker's registration of the inotify descriptor (`None`: unavailable).
    static LOCAL: RefCell<Option<Option<AsyncFd<OwnedFd>>>> = const { RefCell::new(None) };
}

fn mask() -> WatchFlags {
    WatchFlags::MODIFY
        | WatchFlags::ATTRIB
        | WatchFlags::CLOSE_WRITE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::CREATE
        | WatchFlags::DELETE
        | WatchFlags::DELETE_SELF
        | WatchFlags::MOVE_SELF
}

/// Watches folder `root/dir_rel` and its ancestors up to the root. Returns false when
/// inotify is unavailable or a watch could not be added (the entry must then be
/// revalidated with `stat`).
pub fn watch(root: &Path, dir_rel: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Some(s) = shared() else {
        return false;
    };
    if !registered() {
        return false;
    }
    let Ok(mut watched) = s.watched.lock() else {
        return false;
    };
    let mut rel = dir_rel;
    loop {
        let path = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(std::ffi::OsStr::from_bytes(rel))
        };
        if !watched.contains(&path) {
            if inotify::add_watch(&s.fd, &path, mask()).is_err() {
                return false;
            }
            watched.insert(path);
        }
        if rel.is_empty() {
            return true;
        }
        rel = match rel.iter().rposition(|&b| b == b'/') {
            Some(i) => &rel[..i],
            None => b"",
        };
    }
}

/// Makes sure this worker has registered the descriptor; false if it cannot.
fn registered() -> bool {
    LOCAL.with(|l| l.borrow_mut().get_or_insert_with(register).is_some())
}

/// This worker's registration of the shared descriptor, made on first use: `None` if it
/// cannot be made (outside a tokio runtime, or inotify is unavailable).
fn register() -> Option<AsyncFd<OwnedFd>> {
    let fd = shared().and_then(|s| rustix::io::fcntl_dupfd_cloexec(&s.fd, 0).ok())?;
    // Only inside a tokio runtime (the workers); elsewhere stay unavailable.
    tokio::runtime::Handle::try_current().ok()?;
    // SAFETY: the OwnedFd owns this descriptor for as long as the AsyncFd lives and
    // always reports the same raw fd.
    unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }.ok()
}

/// Checks for file changes without a system call in the common case.
///
/// `None`: inotify is not working on this thread (revalidate with `stat`);
/// `Some(true)`: something changed (caches invalidated, events drained);
/// `Some(false)`: nothing changed since the last check.
pub fn changed() -> Option<bool> {
    LOCAL.with(|l| {
        // One thread-local access per request: registration and the readiness check.
        let mut l = l.borrow_mut();
        let afd = l.get_or_insert_with(register).as_ref()?;
        let mut cx = Context::from_waker(Waker::noop());
        match afd.poll_read_ready(&mut cx) {
            Poll::Pending => Some(false),
            Poll::Ready(Err(_)) => None,
            Poll::Ready(Ok(mut guard)) => {
                // Invalidate before draining: another worker whose own registration
                // misses the (already drained) event still sees the new generation.
                super::cache::invalidate_all();
                let mut buf = [0u8; 4096];
                loop {
                    match guard.try_io(|fd| {
                        rustix::io::read(fd.get_ref(), &mut buf).map_err(std::io::Error::from)
                    }) {
                        Ok(Ok(n)) if n > 0 => continue,
                        Ok(_) => break,
                        Err(_would_block) => break,
                    }
                }
                Some(true)
            }
        }
    })
}
