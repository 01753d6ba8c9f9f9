//! A small ring of large buffers, reused once the data handed out of them is dropped.
//!
//! Bulk data is read into a buffer, split off as `Bytes` and sent through a channel to a
//! writer; the next read cannot reuse memory still in flight. Allocating a fresh 256 KiB
//! buffer per read costs page faults and page zeroing in the kernel (it showed up as the
//! largest non-copy cost in profiles of `head -c 4G /dev/zero | sockit tcp connect`). A
//! ring of a few buffers, each carved into several reads, is always one step ahead of the
//! writer, so a steady stream allocates nothing.

use bytes::BytesMut;

/// A ring of reusable read buffers.
#[derive(Debug)]
pub struct BufferPool {
    buffers: Vec<BytesMut>,
    current: usize,
    size: usize,
    min_spare: usize,
}

impl BufferPool {
    /// `count` buffers of `size` bytes; a buffer is used until less than `min_spare`
    /// bytes of it are left, then the ring moves on to one whose data has been dropped.
    pub fn new(count: usize, size: usize, min_spare: usize) -> Self {
        let count = count.max(1);
        BufferPool {
            buffers: (0..count).map(|_| BytesMut::new()).collect(),
            current: 0,
            size,
            min_spare: min_spare.min(size).max(1),
        }
    }

    /// An empty buffer with at least `min_spare` bytes of spare capacity. Split the data
    /// off it after each read (`split().freeze()`), leaving it empty for the next call.
    pub fn buffer(&mut self) -> &mut BytesMut {
        let spare = {
            let cur = &self.buffers[self.current];
            cur.capacity() - cur.len()
        };
        if spare < self.min_spare {
            let n = self.buffers.len();
            let free = (1..=n)
                .map(|step| (self.current + step) % n)
                .find(|&i| self.buffers[i].is_empty() && self.buffers[i].try_reclaim(self.size));
            match free {
                Some(i) => self.current = i,
                // Everything is still in flight (a slow consumer): grow instead of waiting.
                None => self.buffers[self.current] = BytesMut::with_capacity(self.size),
            }
        }
        &mut self.buffers[self.current]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_once_their_data_is_dropped() {
        let mut pool = BufferPool::new(2, 1024, 512);
        let first = {
            let b = pool.buffer();
            b.extend_from_slice(&[1u8; 600]);
            b.split().freeze()
        };
        let ptr = first.as_ptr();
        // 424 bytes left < 512: the ring moves to the second buffer.
        let second = {
            let b = pool.buffer();
            b.extend_from_slice(&[2u8; 600]);
            b.split().freeze()
        };
        assert_ne!(second.as_ptr(), ptr);
        drop(first);
        // The first buffer is free again and is reused from its start.
        let b = pool.buffer();
        b.extend_from_slice(&[3u8; 10]);
        assert_eq!(b.as_ptr(), ptr);
        drop(second);
    }

    #[test]
    fn a_slow_consumer_gets_fresh_memory() {
        let mut pool = BufferPool::new(1, 1024, 1024);
        let held = {
            let b = pool.buffer();
            b.extend_from_slice(&[1u8; 1024]);
            b.split().freeze()
        };
        let b = pool.buffer();
        assert!(b.capacity() >= 1024);
        assert_ne!(b.as_ptr(), held.as_ptr());
    }
}
