//! `sockit demo buffers`: how much `send` accepts when the peer does not read.
//!
//! `send` only copies bytes into the sender's kernel buffer (`SO_SNDBUF`); TCP moves them
//! into the receiver's buffer (`SO_RCVBUF`) as fast as the receiver's advertised window
//! allows. A receiver that never calls `recv` lets its buffer fill, its window closes,
//! the sender's buffer fills in turn, and then `send` blocks (or, on a non-blocking
//! socket, fails with `EAGAIN`). So the bytes a sender can "send" to a peer that does not
//! read are about both buffers together. The demonstration measures it with the kernel's
//! default buffers and with small and large ones set before the connection.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use socket2::{Domain, SockRef, Socket, Type};

/// The buffer size asked for in one run (`None`: the kernel's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked(pub Option<usize>);

/// One run: what was asked, what the kernel granted, what `send` accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferRun {
    /// `SO_SNDBUF` and `SO_RCVBUF` asked for.
    pub asked: Asked,
    /// The sender's `SO_SNDBUF` as `getsockopt` reports it (Linux doubles the request).
    pub sndbuf: usize,
    /// The receiver's `SO_RCVBUF` as `getsockopt` reports it.
    pub rcvbuf: usize,
    /// Bytes `send` accepted before it would have blocked.
    pub accepted: usize,
}

/// What the demonstration saw, from the smallest buffers to the largest.
#[derive(Debug, Clone)]
pub struct BuffersReport {
    /// One run per buffer size.
    pub runs: Vec<BufferRun>,
}

/// The sizes tried: small, the default, large.
pub const SIZES: [Option<usize>; 3] = [Some(16 * 1024), None, Some(1024 * 1024)];

fn run(asked: Option<usize>) -> io::Result<BufferRun> {
    let server = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    if let Some(size) = asked {
        // Before listen: the window scale is fixed in the handshake.
        server.set_recv_buffer_size(size)?;
    }
    server.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    server.listen(1)?;
    let listener: TcpListener = server.into();
    let addr = listener.local_addr()?;
    let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    if let Some(size) = asked {
        client.set_send_buffer_size(size)?;
    }
    client.connect_timeout(&addr.into(), Duration::from_secs(5))?;
    let mut client: TcpStream = client.into();
    let (peer, _) = listener.accept()?; // accepted, and never read
    let sndbuf = SockRef::from(&client).send_buffer_size()?;
    let rcvbuf = SockRef::from(&peer).recv_buffer_size()?;
    client.set_nonblocking(true)?;
    let chunk = vec![0u8; 4096];
    let mut accepted = 0usize;
    let mut idle_rounds = 0;
    // Stop when send would block several times in a row (the window is really shut,
    // not just waiting for an ACK on loopback), or at a bound far above any buffer.
    while idle_rounds < 5 && accepted < 256 << 20 {
        match client.write(&chunk) {
            Ok(n) => {
                accepted += n;
                idle_rounds = 0;
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                idle_rounds += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(err) => return Err(err),
        }
    }
    drop(peer);
    Ok(BufferRun {
        asked: Asked(asked),
        sndbuf,
        rcvbuf,
        accepted,
    })
}

/// Runs the demonstration on 127.0.0.1.
pub fn buffers() -> io::Result<BuffersReport> {
    let runs = SIZES
        .iter()
        .map(|&s| run(s))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(BuffersReport { runs })
}

fn kib(n: usize) -> String {
    format!("{:.0} KiB", n as f64 / 1024.0)
}

impl BuffersReport {
    /// Whether bigger buffers let `send` accept more, as they should.
    pub fn as_expected(&self) -> bool {
        self.runs.len() == 3
            && self.runs[0].accepted < self.runs[2].accepted
            && self.runs.iter().all(|r| r.accepted > 0)
    }

    /// The account printed by `sockit demo buffers`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "a client sends 4 KiB at a time to a server that never reads, until send would block:"
        );
        for r in &self.runs {
            let asked = match r.asked.0 {
                Some(n) => format!("SO_SNDBUF/SO_RCVBUF set to {}", kib(n)),
                None => "the kernel's default buffers".to_string(),
            };
            let _ = writeln!(
                out,
                "  {asked}: getsockopt says SO_SNDBUF {}, SO_RCVBUF {}; send accepted {} ({} bytes)",
                kib(r.sndbuf),
                kib(r.rcvbuf),
                kib(r.accepted),
                r.accepted
            );
        }
        let conclusion = if self.as_expected() {
            format!(
                "send accepts about the sender's and the receiver's buffers together before it blocks: {} with 16 KiB buffers, {} with 1 MiB ones; send returning says nothing about the peer having read",
                kib(self.runs[0].accepted),
                kib(self.runs[2].accepted)
            )
        } else {
            "the sizes above do not grow with the buffers as expected".to_string()
        };
        let _ = writeln!(out, "conclusion: {conclusion}");
        out
    }
}
