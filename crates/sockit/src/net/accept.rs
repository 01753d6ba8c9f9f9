//! What a server does when `accept` fails.
//!
//! Most `accept` errors concern one client that gave up while it waited in the queue
//! (`ECONNABORTED`): skip it and accept the next. Running out of file descriptors or
//! memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) is different: the pending connection
//! stays in the queue, so the next `accept` fails at once again, and a loop that retries
//! immediately spins at 100% CPU while making no progress. The cure (as in tokio's
//! mini-redis) is to pause, longer each time, while the connections being served finish
//! and free descriptors, and never to exit: the server recovers by itself.

use std::io;
use std::time::Duration;

/// First pause after `accept` fails for lack of resources.
pub const FIRST_PAUSE: Duration = Duration::from_millis(50);

/// Longest pause between two attempts.
pub const MAX_PAUSE: Duration = Duration::from_secs(1);

/// Errors after which `accept` can succeed again once resources free up.
pub fn is_exhaustion(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Pauses between failing `accept` calls: 50 ms, doubling up to 1 s, back to the start
/// after a success.
#[derive(Debug, Clone)]
pub struct AcceptBackoff {
    next: Duration,
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        AcceptBackoff::new()
    }
}

impl AcceptBackoff {
    /// A backoff at its first step.
    pub fn new() -> AcceptBackoff {
        AcceptBackoff { next: FIRST_PAUSE }
    }

    /// `accept` succeeded: the next failure starts a new episode.
    pub fn reset(&mut self) {
        self.next = FIRST_PAUSE;
    }

    /// Whether the next pause starts an episode (the moment to tell the user, once).
    pub fn is_first(&self) -> bool {
        self.next == FIRST_PAUSE
    }

    /// How long to pause now; the pause after it is twice as long, up to [`MAX_PAUSE`].
    pub fn step(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(MAX_PAUSE);
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_second_and_reset() {
        let mut b = AcceptBackoff::new();
        assert!(b.is_first());
        let steps: Vec<u64> = (0..7).map(|_| b.step().as_millis() as u64).collect();
        assert_eq!(steps, [50, 100, 200, 400, 800, 1000, 1000]);
        assert!(!b.is_first());
        b.reset();
        assert!(b.is_first());
    }

    #[test]
    fn only_resource_errors_are_exhaustion() {
        assert!(is_exhaustion(&io::Error::from_raw_os_error(libc::EMFILE)));
        assert!(!is_exhaustion(&io::Error::from_raw_os_error(
            libc::ECONNABORTED
        )));
    }
}
