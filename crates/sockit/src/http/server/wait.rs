//! Waiting on a connection: one timer per connection, and the per-worker count of
//! connections in the middle of a request (what graceful shutdown waits for).

use std::io;
use std::pin::Pin;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// Result of waiting for the next bytes.
pub(super) enum Wait {
    Ready,
    Timeout,
}

thread_local! {
    /// Connections of this worker that are in the middle of a request (not idle).
    static BUSY: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many connections of the calling worker thread are serving a request right now.
///
/// Graceful shutdown waits for this to reach zero and then drops the idle ones: no
/// per-connection shutdown signal (and its cost on every wait) is needed.
pub fn busy_here() -> usize {
    BUSY.with(|b| b.get())
}

/// Marks a connection busy (counted in [`busy_here`]) until it goes idle or ends.
pub(super) struct Busy(pub(super) bool);

impl Busy {
    pub(super) fn set(&mut self, busy: bool) {
        if self.0 != busy {
            self.0 = busy;
            BUSY.with(|b| {
                b.set(if busy {
                    b.get() + 1
                } else {
                    b.get().saturating_sub(1)
                })
            });
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.set(false);
    }
}

/// Per-connection timer, re-armed only when its deadline moves by more than a second.
pub(super) struct Waiter {
    pub(super) timer: Pin<Box<Sleep>>,
}

impl Waiter {
    pub(super) async fn readable(
        &mut self,
        stream: &TcpStream,
        deadline: Instant,
    ) -> io::Result<Wait> {
        let cur = self.timer.deadline();
        if cur > deadline || deadline.duration_since(cur) > Duration::from_secs(1) {
            self.timer.as_mut().reset(deadline);
        }
        loop {
            tokio::select! {
                biased;
                r = stream.readable() => { r?; return Ok(Wait::Ready) }
                _ = self.timer.as_mut() => {
                    if Instant::now() >= deadline {
                        return Ok(Wait::Timeout);
                    }
                    self.timer.as_mut().reset(deadline);
                }
            }
        }
    }
}

/// `t + d`, saturating far in the future instead of overflowing: a timeout of
/// `u64::MAX` seconds given by a library user must not panic a worker.
pub(super) fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .unwrap_or_else(|| t + Duration::from_secs(100 * 365 * 86_400))
}
