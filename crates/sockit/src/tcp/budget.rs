//! One memory budget for what all clients make the server hold.
//!
//! A line-oriented server must hold each client's unfinished line until its newline
//! arrives. Bounding each line (`--max-frame`) is not enough: eighty clients each sending
//! a 16 MiB line without a newline made one server hold 1.3 GiB. The budget caps the sum
//! over all clients; the client whose bytes would push the total over it is
//! disconnected, and the others carry on.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Default budget for unfinished messages across all clients.
pub const DEFAULT_BUDGET: usize = 64 << 20;

/// Bytes held for all clients, against a limit.
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    limit: usize,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Budget {
        Budget {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes held now, over all clients.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// A client's holding changes from `before` to `now` bytes. Returns `false` when
    /// the total is now over the limit and this client grew: it is the one to cut.
    pub fn adjust(&self, before: usize, now: usize) -> bool {
        let total = if now >= before {
            self.used.fetch_add(now - before, Ordering::Relaxed) + (now - before)
        } else {
            self.used.fetch_sub(before - now, Ordering::Relaxed) - (before - now)
        };
        now <= before || total <= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_that_crosses_the_limit_is_refused() {
        let budget = Budget::new(100);
        assert!(budget.adjust(0, 60));
        assert!(!budget.adjust(0, 50));
        // Shrinking is always fine, and gives room back.
        assert!(budget.adjust(50, 0));
        assert!(budget.adjust(0, 40));
        assert_eq!(budget.used(), 100);
        assert!(budget.adjust(60, 0));
        assert!(budget.adjust(40, 0));
        assert_eq!(budget.used(), 0);
    }
}
