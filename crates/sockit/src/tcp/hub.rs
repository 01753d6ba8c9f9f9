//! The hub: who is connected, and a queue towards each of them.
//!
//! Fan-out (stdin to every client) and chat relays go through per-client bounded queues
//! rather than writing to sockets directly, so one slow or dead client never stalls the
//! task serving the others: each client's own task drains its queue into its socket.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

/// Messages that may wait in one client's queue.
pub const CLIENT_QUEUE: usize = 256;

/// A connected client as the hub sees it.
#[derive(Debug, Clone)]
pub struct Member {
    /// Connection number, from 1, used as the chat user number.
    pub id: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// The queue towards the client's socket.
    pub tx: mpsc::Sender<Bytes>,
}

/// The set of connected clients.
#[derive(Debug)]
pub struct Hub {
    members: Mutex<BTreeMap<u64, Member>>,
    next_id: Mutex<u64>,
    count: AtomicUsize,
    count_tx: watch::Sender<usize>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Hub {
        Hub {
            members: Mutex::new(BTreeMap::new()),
            next_id: Mutex::new(1),
            count: AtomicUsize::new(0),
            count_tx: watch::channel(0).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Member>> {
        // A panic while holding the lock cannot leave the map half-updated (every
        // critical section is one insert/remove/clone), so poisoning is ignored.
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new client and returns its id and the receiving end of its queue.
    pub fn join(&self, peer: SocketAddr) -> (u64, mpsc::Receiver<Bytes>) {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            let id = *next;
            *next += 1;
            id
        };
        let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
        let mut members = self.lock();
        members.insert(id, Member { id, peer, tx });
        self.set_count(members.len());
        (id, rx)
    }

    /// Removes a client; its queue closes once queued messages are drained.
    pub fn leave(&self, id: u64) {
        let mut members = self.lock();
        if members.remove(&id).is_some() {
            self.set_count(members.len());
        }
    }

    fn set_count(&self, n: usize) {
        self.count.store(n, Ordering::Relaxed);
        self.count_tx.send_replace(n);
    }

    /// How many clients are connected (cheap: read on every chunk of data).
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// A snapshot of the members, for sending without holding the lock.
    pub fn members(&self) -> Vec<Member> {
        self.lock().values().cloned().collect()
    }

    /// Waits until at least one client is connected.
    pub async fn wait_for_clients(&self) {
        let mut rx = self.count_tx.subscribe();
        let _ = rx.wait_for(|n| *n > 0).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn join_and_leave_track_the_count() {
        let hub = Hub::new();
        let (a, _ra) = hub.join("127.0.0.1:1".parse().unwrap());
        let (b, _rb) = hub.join("127.0.0.1:2".parse().unwrap());
        assert_eq!((a, b), (1, 2));
        assert_eq!(hub.count(), 2);
        hub.wait_for_clients().await;
        hub.leave(a);
        hub.leave(a);
        assert_eq!(hub.count(), 1);
        assert_eq!(hub.members()[0].id, 2);
    }
}
