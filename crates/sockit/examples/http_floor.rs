//! The floor for `bench/http.sh`: the least a tokio HTTP server can do per request.
//!
//! It has sockit's shape (one current-thread runtime per core, each with its own
//! `SO_REUSEPORT` listener, `TCP_NODELAY`, one `write` per response) but no parsing
//! beyond finding `\r\n\r\n`, no files, no timers, no logging: every request gets the
//! same 1 KiB response, with a head as long as sockit's. Whatever sockit spends per
//! request above this is the price of being a real server; this is not one.
//!
//! With `epoll` as third argument the workers skip tokio too: each thread runs its own
//! edge-triggered `epoll_wait` loop with `recv` and `send` (what lighttpd and nginx do),
//! which shows how much of the floor is tokio's and how much is the kernel's.
//!
//! Usage: `cargo run --release --example http_floor -- PORT [WORKERS] [tokio|epoll]`

use std::io;
use std::net::SocketAddr;

use sockit::net::socket::std_tcp_listener;
use sockit::net::SocketOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A 1 KiB body behind a head shaped like sockit's answer for a cached file.
fn response() -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\nServer: sockit\r\nDate: Sun, 22 Nov 2026 04:00:00 GMT\r\n\
Content-Type: application/octet-stream\r\nLast-Modified: Sun, 22 Nov 2026 04:00:00 GMT\r\n\
ETag: \"69212c40-400\"\r\nAccept-Ranges: bytes\r\nContent-Length: 1024\r\n\r\n"
        .to_vec();
    r.resize(r.len() + 1024, b'x');
    r
}

async fn serve(mut conn: TcpStream, resp: &'static [u8]) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut have = 0;
    let mut out = Vec::with_capacity(resp.len());
    loop {
        if have == buf.len() {
            return; // a head over 16 KiB: not what this floor is for
        }
        match conn.read(&mut buf[have..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => have += n,
        }
        let mut start = 0;
        while let Some(p) = buf[start..have].windows(4).position(|w| w == b"\r\n\r\n") {
            out.extend_from_slice(resp);
            start += p + 4;
        }
        buf.copy_within(start..have, 0);
        have -= start;
        if !out.is_empty() {
            if conn.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
    }
}

fn worker(listener: std::net::TcpListener, resp: &'static [u8]) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                continue;
            };
            let _ = conn.set_nodelay(true);
            tokio::spawn(serve(conn, resp));
        }
    })
}

/// The same server without tokio: one edge-triggered epoll loop per thread.
mod raw {
    use std::io;
    use std::net::TcpListener;
    use std::os::fd::{AsRawFd, RawFd};

    /// One client: its descriptor and the bytes of a head not yet complete.
    struct Conn {
        fd: RawFd,
        have: usize,
        buf: Box<[u8; 16 * 1024]>,
    }

    fn check(r: libc::c_int) -> io::Result<libc::c_int> {
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }

    /// Serves `listener` until an epoll call fails.
    pub fn worker(listener: TcpListener, resp: &'static [u8]) -> io::Result<()> {
        listener.set_nonblocking(true)?;
        let lfd = listener.as_raw_fd();
        // SAFETY: plain system calls on descriptors this thread owns; `Conn`s are boxed and
        // their pointers live in epoll's user data until the connection is closed here.
        unsafe {
            let ep = check(libc::epoll_create1(libc::EPOLL_CLOEXEC))?;
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: 0,
            };
            check(libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, lfd, &mut ev))?;
            let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
            let mut out = Vec::with_capacity(resp.len() * 4);
            loop {
                let n = libc::epoll_wait(ep, events.as_mut_ptr(), events.len() as i32, -1);
                if n < 0 {
                    let e = io::Error::last_os_error();
                    if e.kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(e);
                }
                for ev in &events[..n as usize] {
                    if ev.u64 == 0 {
                        accept_all(ep, lfd);
                    } else {
                        let conn = ev.u64 as *mut Conn;
                        if !serve(&mut *conn, resp, &mut out) {
                            libc::close((*conn).fd);
                            drop(Box::from_raw(conn));
                        }
                    }
                }
            }
        }
    }

    unsafe fn accept_all(ep: RawFd, lfd: RawFd) {
        loop {
            let fd = libc::accept4(
                lfd,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            );
            if fd < 0 {
                return;
            }
            let one: libc::c_int = 1;
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const libc::c_int).cast(),
                4,
            );
            let conn = Box::into_raw(Box::new(Conn {
                fd,
                have: 0,
                buf: Box::new([0; 16 * 1024]),
            }));
            let mut ev = libc::epoll_event {
                events: (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
                u64: conn as u64,
            };
            if libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) < 0 {
                libc::close(fd);
                drop(Box::from_raw(conn));
            }
        }
    }

    /// Reads until the socket is drained and answers every complete head; false: close.
    unsafe fn serve(c: &mut Conn, resp: &[u8], out: &mut Vec<u8>) -> bool {
        loop {
            let room = c.buf.len() - c.have;
            if room == 0 {
                return false;
            }
            let r = libc::recv(c.fd, c.buf[c.have..].as_mut_ptr().cast(), room, 0);
            if r == 0 {
                return false;
            }
            if r < 0 {
                return io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock;
            }
            c.have += r as usize;
            let mut start = 0;
            while let Some(p) = c.buf[start..c.have]
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
            {
                out.extend_from_slice(resp);
                start += p + 4;
            }
            c.buf.copy_within(start..c.have, 0);
            c.have -= start;
            if !out.is_empty() {
                let sent = libc::send(c.fd, out.as_ptr().cast(), out.len(), 0);
                let whole = sent == out.len() as isize;
                out.clear();
                if !whole {
                    return false; // a full send buffer: not what this floor is for
                }
            }
            if (r as usize) < room {
                return true; // a short read drained the socket (edge-triggered)
            }
        }
    }
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || io::Error::other("usage: http_floor PORT [WORKERS] [tokio|epoll]");
    let port: u16 = args
        .next()
        .ok_or_else(usage)?
        .parse()
        .map_err(|_| usage())?;
    let workers = match args.next() {
        Some(w) => w.parse().map_err(|_| usage())?,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let opts = SocketOptions {
        reuse_port: true,
        ..SocketOptions::default()
    };
    let epoll = match args.next().as_deref() {
        None | Some("tokio") => false,
        Some("epoll") => true,
        Some(_) => return Err(usage()),
    };
    let resp: &'static [u8] = Box::leak(response().into_boxed_slice());
    let mut threads = Vec::new();
    for _ in 0..workers.max(1) {
        let listener = std_tcp_listener(addr, &opts)?;
        threads.push(std::thread::spawn(move || {
            if epoll {
                raw::worker(listener, resp)
            } else {
                worker(listener, resp)
            }
        }));
    }
    for t in threads {
        t.join()
            .map_err(|_| io::Error::other("worker panicked"))??;
    }
    Ok(())
}
