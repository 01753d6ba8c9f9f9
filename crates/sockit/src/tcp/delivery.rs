//! Knowing that what was sent arrived.
//!
//! A successful `send` only means the kernel copied the bytes into the socket's send
//! buffer. If the peer has already closed its socket, the bytes still in flight meet a
//! reset (RST) on arrival and are lost, yet every `send` said yes. A program that exits
//! right after its last `send` cannot tell a delivered upload from a lost one.
//!
//! TCP does tell, though: the peer's kernel acknowledges every byte it accepts. The
//! `SIOCOUTQ` ioctl reports how many bytes (plus our FIN, after a half-close) are not yet
//! acknowledged. [`wait_delivered`] waits until that count reaches zero, or until the
//! socket reports an error (`ECONNRESET` when the peer's kernel refused the data). This
//! is how `tcp connect` and `tcp listen --once` exit 0 only when the peer really got
//! everything.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use tokio::net::TcpStream;

/// First pause between two looks at the send queue; doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(1);

/// Longest pause between two looks at the send queue.
const MAX_POLL: Duration = Duration::from_millis(50);

/// Bytes sent (and a FIN, after `shutdown`) that the peer has not acknowledged yet.
pub fn unacknowledged(stream: &TcpStream) -> io::Result<usize> {
    let mut pending: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ for sockets) writes one c_int through the pointer, which
    // points at a live local; the descriptor is owned by `stream` for the whole call.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut pending) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(pending).unwrap_or(0))
}

/// Waits until the peer has acknowledged everything sent on `stream`, or returns the
/// error that ended the connection (`ECONNRESET`: the peer closed and dropped the data).
///
/// Waits as long as the peer takes: a caller that must not wait forever wraps this in a
/// timeout.
pub async fn wait_delivered(stream: &TcpStream) -> io::Result<()> {
    let sock = socket2::SockRef::from(stream);
    let mut pause = FIRST_POLL;
    loop {
        if let Some(err) = sock.take_error()? {
            return Err(err);
        }
        let pending = match unacknowledged(stream) {
            Ok(n) => n,
            // A socket the kernel has already closed (after a reset) has no queue left.
            Err(err) if err.raw_os_error() == Some(libc::EINVAL) => 0,
            Err(err) => return Err(err),
        };
        if pending == 0 {
            // The reset that emptied the queue may have come with an error.
            return match sock.take_error()? {
                Some(err) => Err(err),
                None => Ok(()),
            };
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn data_read_by_the_peer_counts_as_delivered() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            s.read_to_end(&mut all).await.unwrap();
            all.len()
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&vec![1u8; 1 << 20]).await.unwrap();
        client.shutdown().await.unwrap();
        wait_delivered(&client).await.unwrap();
        assert_eq!(unacknowledged(&client).unwrap(), 0);
        assert_eq!(reader.await.unwrap(), 1 << 20);
    }

    #[tokio::test]
    async fn data_sent_to_a_closed_peer_is_reported_lost() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        drop(server); // a full close: data arriving later is answered with a reset
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The kernel accepts the write; the peer's answer is a reset.
        let _ = client.write_all(b"lost in transit").await;
        let err = tokio::time::timeout(Duration::from_secs(5), wait_delivered(&client))
            .await
            .expect("a reset must end the wait")
            .unwrap_err();
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "{err}"
        );
    }
}
