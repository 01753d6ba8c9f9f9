//! Cheap clocks for the per-request path.
//!
//! `CLOCK_MONOTONIC_COARSE` is read from the vDSO without touching the time-stamp
//! counter, several times cheaper than `Instant::now()` on virtual machines, and exact
//! to a scheduler tick (a few milliseconds): plenty for timeouts counted in seconds and
//! for cache ages.

use std::time::Duration;

use tokio::time::Instant;

/// Nanoseconds on the coarse monotonic clock.
pub fn coarse_monotonic_ns() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Milliseconds on the coarse monotonic clock.
pub fn coarse_monotonic_ms() -> u64 {
    coarse_monotonic_ns() / 1_000_000
}

thread_local! {
    /// An `Instant` and the coarse clock read at the same moment, to convert the latter.
    static BASE: (Instant, u64) = (Instant::now(), coarse_monotonic_ns());
}

/// `Instant::now()` to within a scheduler tick, from the coarse clock.
pub fn coarse_now() -> Instant {
    BASE.with(|&(at, ns)| at + Duration::from_nanos(coarse_monotonic_ns().saturating_sub(ns)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_now_tracks_the_fine_clock() {
        let fine = Instant::now();
        let coarse = coarse_now();
        let gap = if coarse > fine {
            coarse - fine
        } else {
            fine - coarse
        };
        assert!(
            gap < Duration::from_millis(50),
            "coarse clock off by {gap:?}"
        );
        std::thread::sleep(Duration::from_millis(30));
        assert!(coarse_now() >= coarse + Duration::from_millis(20));
    }
}
