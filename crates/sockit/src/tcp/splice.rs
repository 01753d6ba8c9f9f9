//! Zero-copy upload from a stdin pipe with `splice(2)`.
//!
//! `head -c 4G /dev/zero | sockit tcp connect HOST:PORT`: reading the pipe into a buffer
//! and writing the buffer to the socket copies every byte twice through user space, and
//! those two copies were most of the client's CPU time. `splice` moves the pipe's pages
//! into the socket inside the kernel instead.
//!
//! Both descriptors are driven by readiness on the async runtime: the pipe is watched with
//! `AsyncFd` (no thread, and the pipe itself stays in blocking mode: `SPLICE_F_NONBLOCK`
//! makes each call non-blocking), the socket through tokio's own readiness. To know which
//! side an `EAGAIN` came from, a splice is only attempted while the pipe holds data
//! (`FIONREAD`), so `EAGAIN` always means "socket full".

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Bytes moved per `splice` call at most.
const SPLICE_CHUNK: usize = 1 << 20;

/// A pipe on stdin, ready to be spliced into a socket.
#[derive(Debug)]
pub struct PipeSource {
    fd: RawFd,
    /// A duplicate of the pipe descriptor, owned, registered with the reactor.
    watch: AsyncFd<OwnedFd>,
}

impl PipeSource {
    /// Watches stdin if it is a pipe (FIFO); `None` for terminals, files and sockets, or if
    /// the pipe cannot be watched. Must be called inside a tokio runtime.
    pub fn stdin() -> Option<PipeSource> {
        Self::from_fd(libc::STDIN_FILENO)
    }

    fn from_fd(fd: RawFd) -> Option<PipeSource> {
        // SAFETY: fstat only writes into the zeroed stat buffer we pass.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 || st.st_mode & libc::S_IFMT != libc::S_IFIFO {
            return None;
        }
        // SAFETY: `fd` is open (fstat succeeded); `dup` gives a descriptor we own.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if dup < 0 {
            return None;
        }
        // SAFETY: `dup` is a fresh descriptor owned by nobody else.
        let owned = unsafe { OwnedFd::from_raw_fd(dup) };
        // SAFETY: the AsyncFd owns `owned`, so the descriptor stays open and refers to the
        // same pipe until the AsyncFd is dropped.
        let watch = unsafe { AsyncFd::register_with_interest(owned, Interest::READABLE) }.ok()?;
        let fd = watch.get_ref().as_raw_fd();
        // A 1 MiB pipe lets the writer run ahead and each splice move more (best effort).
        // SAFETY: F_SETPIPE_SZ only reads its integer argument.
        unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, SPLICE_CHUNK as libc::c_int) };
        Some(PipeSource { fd, watch })
    }

    /// Moves everything from the pipe into `socket` until the pipe's writer closes it;
    /// `progress` is called with each amount moved. Returns the total.
    pub async fn splice_to(
        &self,
        socket: &TcpStream,
        mut progress: impl FnMut(usize),
    ) -> io::Result<u64> {
        let sock_fd = socket.as_raw_fd();
        let mut total = 0u64;
        loop {
            let available = bytes_available(self.fd)?;
            if available == 0 {
                if hung_up(self.fd) && bytes_available(self.fd)? == 0 {
                    return Ok(total);
                }
                let mut guard = self.watch.readable().await?;
                if bytes_available(self.fd)? == 0 && !hung_up(self.fd) {
                    guard.clear_ready();
                }
                continue;
            }
            socket.writable().await?;
            let moved = socket.try_io(Interest::WRITABLE, || {
                splice(self.fd, sock_fd, available.min(SPLICE_CHUNK))
            });
            match moved {
                Ok(0) => return Ok(total),
                Ok(n) => {
                    total += n as u64;
                    progress(n);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
    }
}

fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: null offsets are required for pipes and sockets; both fds are open.
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK | libc::SPLICE_F_MORE,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Bytes waiting in the pipe (`FIONREAD`).
fn bytes_available(fd: RawFd) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int.
    if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n.max(0) as usize)
}

/// True once every writer has closed the pipe.
fn hung_up(fd: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let rc = unsafe { libc::poll(&mut pfd, 1, 0) };
    rc > 0 && pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::IntoRawFd;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_pipe_is_spliced_whole_into_a_socket() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let fd = reader.into_raw_fd();
        let source = PipeSource::from_fd(fd).expect("a pipe");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let feeder = std::thread::spawn(move || {
            let block = vec![0xabu8; 100_000];
            for _ in 0..50 {
                writer.write_all(&block).unwrap();
            }
        });
        let reading = tokio::spawn(async move {
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut client = client;
        let total = source.splice_to(&client, |_| {}).await.unwrap();
        tokio::io::AsyncWriteExt::shutdown(&mut client)
            .await
            .unwrap();
        feeder.join().unwrap();
        let got = reading.await.unwrap();
        assert_eq!(total, 5_000_000);
        assert_eq!(got.len(), 5_000_000);
        assert!(got.iter().all(|&b| b == 0xab));
        drop(source);
        // SAFETY: `fd` came from into_raw_fd above and is closed once.
        unsafe { libc::close(fd) };
    }

    #[test]
    fn regular_files_are_not_pipes() {
        let file = std::fs::File::open("/dev/null").unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        assert!(PipeSource::from_fd(file.as_raw_fd()).is_none());
    }
}
