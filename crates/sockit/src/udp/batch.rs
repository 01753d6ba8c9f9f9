//! Receiving many datagrams per system call with `recvmmsg(2)`.
//!
//! A flood of small datagrams costs one `recvfrom` each; when the listener falls behind,
//! the kernel drops what does not fit in the socket buffer. `recvmmsg` fetches up to
//! [`MAX_BATCH`] queued datagrams at once, each with its sender and (with `MSG_TRUNC`) its
//! real length, so truncation is still detected.

use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Most datagrams fetched per call.
pub const MAX_BATCH: usize = 64;

/// Memory for the datagrams of one batch, at most.
const BATCH_MEMORY: usize = 4 << 20;

/// Reusable buffers and headers for `recvmmsg`.
pub struct RecvBatch {
    buffer: usize,
    data: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
}

/// One datagram of a batch, borrowed from the batch's buffers.
#[derive(Debug)]
pub struct Received<'a> {
    /// The bytes that fitted in the buffer.
    pub data: &'a [u8],
    /// The datagram's real length (more than `data.len()` when truncated).
    pub len: usize,
    /// The sender, if it is an IP address.
    pub from: Option<SocketAddr>,
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("buffer", &self.buffer)
            .field("slots", &self.headers.len())
            .finish()
    }
}

impl RecvBatch {
    /// Buffers for datagrams of up to `buffer` bytes each; as many slots (up to
    /// [`MAX_BATCH`]) as fit in a few MiB.
    pub fn new(buffer: usize) -> RecvBatch {
        let buffer = buffer.max(1);
        let slots = (BATCH_MEMORY / buffer).clamp(1, MAX_BATCH);
        // SAFETY: sockaddr_storage and mmsghdr are plain C structs for which all-zero
        // bytes are a valid value.
        let zero_addr: libc::sockaddr_storage = unsafe { MaybeUninit::zeroed().assume_init() };
        RecvBatch {
            buffer,
            data: vec![0u8; slots * buffer],
            addrs: vec![zero_addr; slots],
            iovecs: Vec::with_capacity(slots),
            headers: Vec::with_capacity(slots),
        }
    }

    /// Fetches every queued datagram (up to the batch size) without waiting: `Ok(0)` when
    /// none is queued. Read the results with [`RecvBatch::get`].
    pub fn try_recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        let slots = self.addrs.len();
        self.iovecs.clear();
        self.headers.clear();
        for i in 0..slots {
            self.iovecs.push(libc::iovec {
                // SAFETY: slot `i` lies within `data` (slots * buffer bytes).
                iov_base: unsafe { self.data.as_mut_ptr().add(i * self.buffer) }.cast(),
                iov_len: self.buffer,
            });
        }
        for i in 0..slots {
            // SAFETY: all-zero is a valid mmsghdr; the pointers set below stay valid for
            // the call because `addrs` and `iovecs` are not resized until the next call.
            let mut header: libc::mmsghdr = unsafe { MaybeUninit::zeroed().assume_init() };
            header.msg_hdr.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            header.msg_hdr.msg_namelen =
                std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            header.msg_hdr.msg_iov = &mut self.iovecs[i];
            header.msg_hdr.msg_iovlen = 1;
            self.headers.push(header);
        }
        let fd = socket.as_raw_fd();
        let headers = self.headers.as_mut_ptr();
        let result = socket.try_io(Interest::READABLE, || {
            // SAFETY: `headers` points to `slots` initialised mmsghdr whose buffers and
            // address storage are valid for writes; a null timeout means none.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    headers,
                    slots as libc::c_uint,
                    libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                    std::ptr::null_mut(),
                )
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match result {
            Ok(n) => {
                self.headers.truncate(n);
                Ok(n)
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.headers.clear();
                Ok(0)
            }
            Err(err) => {
                self.headers.clear();
                Err(err)
            }
        }
    }

    /// The `i`th datagram of the last [`RecvBatch::try_recv`].
    pub fn get(&self, i: usize) -> Option<Received<'_>> {
        let header = self.headers.get(i)?;
        let len = header.msg_len as usize;
        let got = len.min(self.buffer);
        let start = i * self.buffer;
        let addr_len = header.msg_hdr.msg_namelen;
        let mut storage = socket2::SockAddrStorage::zeroed();
        // SAFETY: sockaddr_storage is a sockaddr type of this platform (view_as); the kernel
        // wrote a socket address of `addr_len` bytes into slot `i`.
        let from = unsafe {
            *storage.view_as::<libc::sockaddr_storage>() = self.addrs[i];
            socket2::SockAddr::new(storage, addr_len)
        }
        .as_socket();
        Some(Received {
            data: &self.data[start..start + got],
            len,
            from,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_arrives_in_one_call_with_real_lengths() {
        let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = rx.local_addr().unwrap();
        for i in 0..10u8 {
            tx.send_to(&[i; 100], to).await.unwrap();
        }
        tx.send_to(&[9u8; 3000], to).await.unwrap();
        rx.readable().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut batch = RecvBatch::new(1024);
        let n = batch.try_recv(&rx).unwrap();
        assert_eq!(n, 11);
        let first = batch.get(0).unwrap();
        assert_eq!(first.data, &[0u8; 100][..]);
        assert_eq!(first.from, Some(tx.local_addr().unwrap()));
        let big = batch.get(10).unwrap();
        assert_eq!((big.len, big.data.len()), (3000, 1024));
        assert!(batch.get(11).is_none());
        assert_eq!(batch.try_recv(&rx).unwrap(), 0);
    }
}
