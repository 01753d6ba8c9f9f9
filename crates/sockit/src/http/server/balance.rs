//! Even loads across the workers: a worker that accepted far more connections than the
//! least busy one hands new ones over.
//!
//! The listeners steer each new connection to the worker matching the CPU its handshake
//! arrived on ([`crate::net::steer`]), which keeps a client's packets and the thread
//! serving them on one CPU. When all handshakes arrive on one CPU (a single client
//! thread, a NIC with one queue), steering alone would leave the other workers idle; so
//! a worker that already serves clearly more connections than the least busy one passes
//! the new connection to that worker, through its inbox, instead of serving it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Counts a connection against the connection limit for as long as it lives.
#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// Takes over one count already added to `active`.
    pub(crate) fn new(active: Arc<AtomicUsize>) -> Slot {
        Slot(active)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A connection accepted by one worker and passed to another.
#[derive(Debug)]
pub struct Handoff {
    /// The accepted socket (non-blocking), off the accepting worker's event loop.
    pub stream: std::net::TcpStream,
    /// The client's address.
    pub peer: SocketAddr,
    /// Its place under `--max-connections`, taken by the accepting worker.
    pub slot: Slot,
    /// Already counted as the receiving worker's load, so that the next connections
    /// accepted meanwhile see it and go elsewhere.
    pub serving: Serving,
}

/// Per-worker connection counts and inboxes, shared by all workers of one server.
#[derive(Debug)]
pub struct Balance {
    open: Box<[AtomicUsize]>,
    inboxes: Box<[UnboundedSender<Handoff>]>,
}

/// How far a worker may run ahead of the least busy one before it hands connections
/// over: 16 connections plus half the smaller load.
///
/// The 16 leave steering alone while clients open their connections in bursts (a client
/// thread opening 16 connections at once lands them all on its CPU's worker before the
/// other workers see theirs); the half bounds the split when everything arrives on one
/// CPU: a single client thread with 1,000 connections gets them spread about 600/400
/// over two workers instead of 1,000/0. A tighter margin was measured to give back most
/// of what steering gains (see docs/benchmarks.md).
pub fn overloaded(mine: usize, least: usize) -> bool {
    mine > least + 16 + least / 2
}

impl Balance {
    /// One count and one inbox per worker; worker `i` receives on the `i`-th receiver.
    pub fn new(workers: usize) -> (Arc<Balance>, Vec<UnboundedReceiver<Handoff>>) {
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..workers.max(1)).map(|_| unbounded_channel()).unzip();
        let balance = Balance {
            open: (0..workers.max(1)).map(|_| AtomicUsize::new(0)).collect(),
            inboxes: senders.into_boxed_slice(),
        };
        (Arc::new(balance), receivers)
    }

    /// The worker that should serve a connection just accepted by worker `me`: `me`
    /// itself unless it is [`overloaded`] compared with the least busy worker.
    pub fn pick(&self, me: usize) -> usize {
        let mine = self.load(me);
        let (least_at, least) = (0..self.open.len())
            .map(|i| (i, self.load(i)))
            .min_by_key(|&(_, n)| n)
            .unwrap_or((me, mine));
        if overloaded(mine, least) {
            least_at
        } else {
            me
        }
    }

    /// Connections worker `i` is serving now.
    pub fn load(&self, i: usize) -> usize {
        self.open.get(i).map_or(0, |n| n.load(Ordering::Relaxed))
    }

    /// Counts a connection on worker `i` until the returned guard is dropped.
    pub fn serving(self: &Arc<Self>, i: usize) -> Serving {
        if let Some(n) = self.open.get(i) {
            n.fetch_add(1, Ordering::Relaxed);
        }
        Serving {
            balance: self.clone(),
            worker: i,
        }
    }

    /// Passes a connection to worker `to`; gives it back if that worker has stopped.
    pub fn hand_off(&self, to: usize, h: Handoff) -> Result<(), Handoff> {
        match self.inboxes.get(to) {
            Some(inbox) => inbox.send(h).map_err(|e| e.0),
            None => Err(h),
        }
    }
}

/// One connection counted on one worker (see [`Balance::serving`]).
#[derive(Debug)]
pub struct Serving {
    balance: Arc<Balance>,
    worker: usize,
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(n) = self.balance.open.get(self.worker) {
            n.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_keeps_its_connections_until_it_runs_clearly_ahead() {
        let (b, _rx) = Balance::new(3);
        let mut held = Vec::new();
        for _ in 0..16 {
            assert_eq!(b.pick(0), 0);
            held.push(b.serving(0));
        }
        // 16 ahead of idle workers is still fine; the next one goes to the least busy.
        assert_eq!(b.pick(0), 0);
        held.push(b.serving(0));
        assert_eq!(b.pick(0), 1);
        held.push(b.serving(1));
        assert_eq!(b.pick(0), 2, "worker 2 is now the least busy");
        // Connections that end lower the count again.
        held.retain(|s| s.worker != 0);
        assert_eq!(b.load(0), 0);
        assert_eq!(b.pick(0), 0);
    }

    #[test]
    fn large_loads_are_split_to_within_a_half() {
        assert!(!overloaded(1_500, 1_000));
        assert!(!overloaded(1_516, 1_000));
        assert!(overloaded(1_517, 1_000));
        assert!(!overloaded(0, 0));
        assert!(!overloaded(16, 0));
        assert!(overloaded(17, 0));
    }

    #[test]
    fn a_stopped_worker_gives_the_connection_back() {
        let (b, rx) = Balance::new(2);
        drop(rx);
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let h = Handoff {
            peer: c.local_addr().unwrap(),
            stream: c,
            slot: Slot::new(Arc::new(AtomicUsize::new(1))),
            serving: b.serving(1),
        };
        let h = b.hand_off(1, h).expect_err("worker 1 has stopped");
        assert!(b.hand_off(7, h).is_err(), "there is no worker 7");
    }
}
