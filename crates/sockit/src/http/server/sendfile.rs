//! Writing to the client: whole buffers, and file ranges with `sendfile(2)`.
//!
//! `sendfile` moves file pages to the socket inside the kernel: no copy to user space,
//! no read buffer per connection. The socket is non-blocking, so each call sends what
//! fits in the socket buffer and we wait for tokio's writability readiness before the
//! next, the same shape as nginx's event loop. Rust's `std::io::copy` does not use
//! `sendfile` for sockets, hence this module.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use tokio::io::Interest;
use tokio::net::TcpStream;

/// After this many bytes without the socket blocking, yield to other connections on
/// this worker so one fast download cannot starve them.
const YIELD_EVERY: u64 = 4 << 20;

/// Bodies at least this long are sent corked (`TCP_CORK`).
const CORK_AT: u64 = 256 << 10;

async fn wait_writable(stream: &TcpStream, timeout: Duration) -> io::Result<()> {
    match tokio::time::timeout(timeout, stream.writable()).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "write stalled")),
    }
}

/// Writes all of `buf`. With `more`, tells the kernel more data follows right away
/// (`MSG_MORE`), so a response head and the `sendfile` body share packets.
pub async fn write_all(
    stream: &TcpStream,
    mut buf: &[u8],
    more: bool,
    timeout: Duration,
) -> io::Result<()> {
    let flags = if more {
        rustix::net::SendFlags::MORE | rustix::net::SendFlags::NOSIGNAL
    } else {
        rustix::net::SendFlags::NOSIGNAL
    };
    while !buf.is_empty() {
        let r = stream.try_io(Interest::WRITABLE, || {
            rustix::net::send(stream.as_fd(), buf, flags).map_err(io::Error::from)
        });
        match r {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait_writable(stream, timeout).await?
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sends as much of `buf` as the socket takes right now, without waiting.
pub fn try_send(stream: &TcpStream, buf: &[u8], more: bool) -> io::Result<usize> {
    let flags = if more {
        rustix::net::SendFlags::MORE | rustix::net::SendFlags::NOSIGNAL
    } else {
        rustix::net::SendFlags::NOSIGNAL
    };
    let mut sent = 0;
    while sent < buf.len() {
        match stream.try_io(Interest::WRITABLE, || {
            rustix::net::send(stream.as_fd(), &buf[sent..], flags).map_err(io::Error::from)
        }) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// Sends `len` bytes of `file` starting at `offset`; returns the bytes sent.
///
/// Falls back to read + write when the file system cannot `sendfile` (EINVAL/ENOSYS).
pub async fn send_file(
    stream: &TcpStream,
    file: &File,
    offset: u64,
    len: u64,
    timeout: Duration,
) -> io::Result<u64> {
    // Like nginx's `tcp_nopush`: while a big body streams, hold partial segments back so
    // every packet is full (TCP_NODELAY is on for the small responses); uncorking at the
    // end pushes the tail at once.
    let cork = len >= CORK_AT && socket2::SockRef::from(stream).set_tcp_cork(true).is_ok();
    let result = send_file_range(stream, file, offset, len, timeout).await;
    if cork {
        let _ = socket2::SockRef::from(stream).set_tcp_cork(false);
    }
    result
}

async fn send_file_range(
    stream: &TcpStream,
    file: &File,
    offset: u64,
    len: u64,
    timeout: Duration,
) -> io::Result<u64> {
    let mut off = offset;
    let end = offset + len;
    let mut since_yield = 0u64;
    while off < end {
        let chunk = (end - off).min(1 << 30) as usize;
        let r = stream.try_io(Interest::WRITABLE, || {
            rustix::fs::sendfile(stream.as_fd(), file.as_fd(), Some(&mut off), chunk)
                .map_err(io::Error::from)
        });
        match r {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file shrank while sending",
                ))
            }
            Ok(n) => {
                since_yield += n as u64;
                if since_yield >= YIELD_EVERY {
                    since_yield = 0;
                    tokio::task::yield_now().await;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                since_yield = 0;
                wait_writable(stream, timeout).await?
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                return copy_fallback(stream, file, off, end - off, timeout)
                    .await
                    .map(|n| off - offset + n);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

async fn copy_fallback(
    stream: &TcpStream,
    file: &File,
    mut off: u64,
    len: u64,
    timeout: Duration,
) -> io::Result<u64> {
    use std::os::unix::fs::FileExt;
    let end = off + len;
    let mut buf = vec![0u8; 64 * 1024];
    while off < end {
        let want = ((end - off) as usize).min(buf.len());
        let n = file.read_at(&mut buf[..want], off)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        write_all(stream, &buf[..n], false, timeout).await?;
        off += n as u64;
    }
    Ok(len)
}
