//! `sockit demo udp`: what UDP keeps and what it does not.
//!
//! 1. **Boundaries are kept.** Five `sendto` calls of different sizes, back to back, and
//!    a receiver that starts reading late: five `recvfrom` calls return the five
//!    datagrams, one each. No sticky packets, unlike TCP (`sockit demo sticky`).
//! 2. **A datagram longer than the buffer is cut.** `recvfrom(10)` of a 100-byte
//!    datagram returns 10 bytes and the other 90 are gone: the next `recvfrom` returns
//!    the next datagram. `MSG_TRUNC` tells the real length.
//! 3. **One socket, many peers, no `accept`.** Three clients send to the same port; the
//!    server's `recvfrom` returns each sender's address, and `sendto` answers each one.

use std::fmt::Write as _;
use std::io;
use std::mem::MaybeUninit;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use socket2::SockRef;

/// The sizes of the datagrams of the first step.
pub const SIZES: [usize; 5] = [5, 50, 500, 1, 120];

/// What the demonstration saw.
#[derive(Debug, Clone)]
pub struct UdpReport {
    /// The size each `recvfrom` returned in step 1, in order.
    pub reads: Vec<usize>,
    /// Step 2: bytes sent, bytes `recvfrom(10)` returned, the real length (`MSG_TRUNC`).
    pub sent: usize,
    /// Bytes the small receive returned.
    pub got: usize,
    /// The datagram's real length, as `MSG_TRUNC` reports it.
    pub real: usize,
    /// Step 3: the senders the server saw, and whether each got its own answer.
    pub senders: Vec<SocketAddr>,
    /// Each client received the answer addressed to it.
    pub answered: bool,
}

fn socket() -> io::Result<UdpSocket> {
    let s = UdpSocket::bind("127.0.0.1:0")?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    Ok(s)
}

/// Runs the demonstration on 127.0.0.1.
pub fn udp() -> io::Result<UdpReport> {
    // 1. Boundaries.
    let server = socket()?;
    let addr = server.local_addr()?;
    let client = socket()?;
    for &size in &SIZES {
        client.send_to(&vec![b'x'; size], addr)?;
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut buf = [0u8; 1024];
    let mut reads = Vec::new();
    for _ in &SIZES {
        let (n, _) = server.recv_from(&mut buf)?;
        reads.push(n);
    }

    // 2. Truncation: the kernel copies what fits; MSG_TRUNC returns the real length.
    let sent = 100;
    client.send_to(&[b'y'; 100], addr)?;
    let mut small = [MaybeUninit::<u8>::uninit(); 10];
    let (real, _) = SockRef::from(&server).recv_from_with_flags(&mut small, libc::MSG_TRUNC)?;
    let got = real.min(small.len());

    // 3. Many peers on one socket.
    let clients = [socket()?, socket()?, socket()?];
    for (i, c) in clients.iter().enumerate() {
        c.send_to(format!("hello from {i}").as_bytes(), addr)?;
    }
    let mut senders = Vec::new();
    for _ in &clients {
        let (n, from) = server.recv_from(&mut buf)?;
        let mut answer = b"answer to ".to_vec();
        answer.extend_from_slice(&buf[..n]);
        server.send_to(&answer, from)?;
        senders.push(from);
    }
    let mut answered = true;
    for (i, c) in clients.iter().enumerate() {
        let (n, _) = c.recv_from(&mut buf)?;
        answered &= buf[..n] == *format!("answer to hello from {i}").as_bytes();
    }
    Ok(UdpReport {
        reads,
        sent,
        got,
        real,
        senders,
        answered,
    })
}

impl UdpReport {
    /// Whether every step went as UDP promises.
    pub fn as_expected(&self) -> bool {
        self.reads == SIZES
            && self.got == 10
            && self.real == self.sent
            && self.senders.len() == 3
            && self.answered
    }

    /// The account printed by `sockit demo udp`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "1. {} datagrams sent back to back ({} bytes); the receiver reads late, recvfrom(1024) each:",
            SIZES.len(),
            SIZES.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        );
        for (i, n) in self.reads.iter().enumerate() {
            let _ = writeln!(out, "   recvfrom #{} -> {n} bytes", i + 1);
        }
        let _ = writeln!(
            out,
            "2. one datagram of {} bytes, recvfrom(10) -> {} bytes; MSG_TRUNC says it was {} bytes: {} lost",
            self.sent,
            self.got,
            self.real,
            self.real.saturating_sub(self.got)
        );
        let _ = writeln!(
            out,
            "3. three clients send to the same port; the server's recvfrom sees:"
        );
        for s in &self.senders {
            let _ = writeln!(out, "   from {s} -> sendto answers it");
        }
        let _ = writeln!(
            out,
            "   each client got its own answer: {}",
            if self.answered { "yes" } else { "no" }
        );
        let conclusion = if self.as_expected() {
            format!(
                "each sendto is one recvfrom (no sticky packets); a datagram longer than the buffer is cut ({} of {} bytes lost); one socket serves every sender without accept",
                self.real - self.got,
                self.real
            )
        } else {
            "the outcomes above differ from what UDP promises (see each step)".to_string()
        };
        let _ = writeln!(out, "conclusion: {conclusion}");
        out
    }
}
