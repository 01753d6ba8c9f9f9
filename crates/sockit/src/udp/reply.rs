//! Answering UDP senders from stdin (`udp listen --reply`), as `nc -ul` does.
//!
//! UDP has no connection to answer on: a listener only knows who sent what. So replies
//! go to the senders it has seen: the last one (netcat's rule), or every sender heard
//! from recently (`--to-all`). Each stdin line is one datagram. The set of recent
//! senders is bounded in size and age, so a flood of spoofed sources cannot grow it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Senders remembered at most (the oldest is forgotten first).
pub const MAX_PEERS: usize = 1024;

/// A sender silent for this long is no longer answered by `--to-all`.
pub const PEER_TTL: Duration = Duration::from_secs(300);

/// Whom stdin lines go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyTo {
    /// The sender of the last datagram received.
    Last,
    /// Every sender heard from in the last [`PEER_TTL`], up to [`MAX_PEERS`].
    All,
}

/// The senders a listener has heard from, most recent last.
#[derive(Debug, Default)]
pub struct Peers {
    seen: VecDeque<(SocketAddr, Instant)>,
}

impl Peers {
    /// Records a datagram from `from` now.
    pub fn heard(&mut self, from: SocketAddr, now: Instant) {
        if let Some(at) = self.seen.iter().position(|(a, _)| *a == from) {
            self.seen.remove(at);
        }
        if self.seen.len() >= MAX_PEERS {
            self.seen.pop_front();
        }
        self.seen.push_back((from, now));
    }

    /// The addresses to send a reply to.
    pub fn targets(&self, to: ReplyTo, now: Instant) -> Vec<SocketAddr> {
        match to {
            ReplyTo::Last => self.seen.back().map(|(a, _)| *a).into_iter().collect(),
            ReplyTo::All => self
                .seen
                .iter()
                .filter(|(_, at)| now.saturating_duration_since(*at) <= PEER_TTL)
                .map(|(a, _)| *a)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_and_all_recent_senders() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let t0 = Instant::now();
        let mut peers = Peers::default();
        assert!(peers.targets(ReplyTo::Last, t0).is_empty());
        peers.heard(a, t0);
        peers.heard(b, t0);
        peers.heard(a, t0 + Duration::from_secs(1));
        assert_eq!(peers.targets(ReplyTo::Last, t0), [a]);
        assert_eq!(peers.targets(ReplyTo::All, t0), [b, a]);
        let later = t0 + PEER_TTL + Duration::from_millis(500);
        assert_eq!(peers.targets(ReplyTo::All, later), [a]);
    }

    #[test]
    fn the_set_is_bounded() {
        let mut peers = Peers::default();
        let now = Instant::now();
        for port in 1..=(MAX_PEERS as u16 + 10) {
            peers.heard(SocketAddr::from(([127, 0, 0, 1], port)), now);
        }
        assert_eq!(peers.targets(ReplyTo::All, now).len(), MAX_PEERS);
    }
}
