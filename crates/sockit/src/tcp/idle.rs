//! Idle timeouts: closing a connection with no traffic in either direction.
//!
//! A peer that connects and then sends nothing, and reads nothing, holds a descriptor and
//! a task forever; TCP itself never times out an idle connection (keepalive only checks
//! the peer is alive). An [`Activity`] records when bytes last moved, either way, and
//! [`Activity::expired`] completes once nothing has moved for the limit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// When bytes last moved on a connection.
#[derive(Debug)]
pub struct Activity {
    start: Instant,
    /// Milliseconds after `start` of the last activity.
    last_ms: AtomicU64,
}

impl Default for Activity {
    fn default() -> Self {
        Activity::new()
    }
}

impl Activity {
    /// A connection active now.
    pub fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    /// Bytes moved just now.
    pub fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Completes once nothing has moved for `limit` (never, with `None`).
    pub async fn expired(&self, limit: Option<Duration>) {
        let Some(limit) = limit else {
            return std::future::pending().await;
        };
        loop {
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let quiet = self.start.elapsed().saturating_sub(last);
            if quiet >= limit {
                return;
            }
            tokio::time::sleep(limit - quiet).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn activity_postpones_the_timeout() {
        let a = Activity::new();
        let limit = Some(Duration::from_millis(150));
        let started = Instant::now();
        let toucher = async {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(80)).await;
                a.touch();
            }
        };
        tokio::join!(toucher, a.expired(limit));
        assert!(
            started.elapsed() >= Duration::from_millis(390),
            "{:?}",
            started.elapsed()
        );
    }
}
