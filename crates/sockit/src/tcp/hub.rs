//! The hub: who is connected, and a queue towards each of them.
//!
//! Fan-out (stdin to every client) and chat relays go through per-client bounded queues
//! rather than writing to sockets directly, so one slow or dead client never stalls the
//! task serving the others: each client's own task drains its queue into its socket.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Messages that may wait in one client's queue. Queued chunks of stdin are shared by
/// every client (`Bytes` is reference-counted), so a deep queue costs memory only for
/// what the slowest client has not taken yet: at most this many stdin chunks.
pub const CLIENT_QUEUE: usize = 64;

/// Bytes that may wait for one client: beyond this it counts as not reading, whatever
/// the size of the messages (stdin chunks are up to 1 MiB, chat lines a few bytes).
pub const CLIENT_QUEUE_BYTES: usize = 8 << 20;

/// What goes into a client's queue.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// Bytes for the client's socket.
    Data(Bytes),
    /// Stdin ended: after what is queued, half-close the connection.
    End,
}

/// A connected client as the hub sees it.
#[derive(Debug, Clone)]
pub struct Member {
    /// Connection number, from 1, used as the chat user number.
    pub id: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// The queue towards the client's socket.
    pub tx: mpsc::Sender<Outgoing>,
    /// Cancelled to disconnect the client (it does not read: `--slow-client drop`).
    pub kick: CancellationToken,
    /// Bytes queued for the client and not yet written to its socket.
    pub queued: Arc<AtomicUsize>,
}

impl Member {
    /// Whether `len` more bytes fit the client's byte allowance (a lone message of any
    /// size fits an empty queue).
    pub fn has_room(&self, len: usize) -> bool {
        let queued = self.queued.load(Ordering::Relaxed);
        queued == 0 || queued + len <= CLIENT_QUEUE_BYTES
    }
}

/// What a client gets when it joins: its number, its queue, and the token that
/// disconnects it.
#[derive(Debug)]
pub struct Joined {
    /// Connection number, from 1.
    pub id: u64,
    /// The receiving end of the client's queue.
    pub queue: mpsc::Receiver<Outgoing>,
    /// Cancelled when the server disconnects this client.
    pub kick: CancellationToken,
    /// Bytes queued and not yet written; the client's task takes off what it writes.
    pub queued: Arc<AtomicUsize>,
}

/// The set of connected clients.
#[derive(Debug)]
pub struct Hub {
    members: Mutex<BTreeMap<u64, Member>>,
    next_id: Mutex<u64>,
    count: AtomicUsize,
    count_tx: watch::Sender<usize>,
    /// Stdin has ended: clients joining from now on are told so at once.
    input_ended: AtomicBool,
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
            input_ended: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Member>> {
        // A panic while holding the lock cannot leave the map half-updated (every
        // critical section is one insert/remove/clone), so poisoning is ignored.
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new client. If stdin has already ended, its queue starts with
    /// [`Outgoing::End`].
    pub fn join(&self, peer: SocketAddr) -> Joined {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            let id = *next;
            *next += 1;
            id
        };
        let (tx, queue) = mpsc::channel(CLIENT_QUEUE);
        let kick = CancellationToken::new();
        let queued = Arc::new(AtomicUsize::new(0));
        let mut members = self.lock();
        // Checked under the lock: `end_input` marks and then walks the members under
        // the same lock, so a client either is walked or sees the mark.
        if self.input_ended.load(Ordering::Acquire) {
            let _ = tx.try_send(Outgoing::End);
        }
        members.insert(
            id,
            Member {
                id,
                peer,
                tx,
                kick: kick.clone(),
                queued: queued.clone(),
            },
        );
        self.set_count(members.len());
        Joined {
            id,
            queue,
            kick,
            queued,
        }
    }

    /// Removes a client; its queue closes once queued messages are drained.
    pub fn leave(&self, id: u64) {
        let mut members = self.lock();
        if members.remove(&id).is_some() {
            self.set_count(members.len());
        }
    }

    /// Marks stdin as ended and returns the members to tell (each gets
    /// [`Outgoing::End`] after what is already queued for it).
    pub fn end_input(&self) -> Vec<Member> {
        let members = self.lock();
        self.input_ended.store(true, Ordering::Release);
        members.values().cloned().collect()
    }

    /// Whether stdin has ended.
    pub fn input_ended(&self) -> bool {
        self.input_ended.load(Ordering::Acquire)
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
        let a = hub.join("127.0.0.1:1".parse().unwrap()).id;
        let b = hub.join("127.0.0.1:2".parse().unwrap()).id;
        assert_eq!((a, b), (1, 2));
        assert_eq!(hub.count(), 2);
        hub.wait_for_clients().await;
        hub.leave(a);
        hub.leave(a);
        assert_eq!(hub.count(), 1);
        assert_eq!(hub.members()[0].id, 2);
    }

    #[tokio::test]
    async fn clients_joining_after_stdin_ended_are_told_at_once() {
        let hub = Hub::new();
        let mut early = hub.join("127.0.0.1:1".parse().unwrap());
        for member in hub.end_input() {
            member.tx.try_send(Outgoing::End).unwrap();
        }
        let mut late = hub.join("127.0.0.1:2".parse().unwrap());
        assert!(matches!(early.queue.recv().await, Some(Outgoing::End)));
        assert!(matches!(late.queue.recv().await, Some(Outgoing::End)));
    }
}
