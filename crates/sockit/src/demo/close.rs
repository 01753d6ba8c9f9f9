//! `sockit demo close`: what `recv` and `send` say when the other end closes.
//!
//! The course's two rules, shown happening on loopback:
//!
//! 1. When the peer closes, `recv` returns **empty bytes** (`b''`): the end of the stream,
//!    not an error. That is how a server learns its client left.
//! 2. Writing to a peer that has closed its socket: the first `send` still succeeds (it
//!    only copies bytes into the kernel), the peer's kernel answers those bytes with a
//!    reset (RST), and the next `send` fails with `EPIPE` (Python's `BrokenPipeError`)
//!    or `ECONNRESET`. The bytes of the first `send` are lost although it said yes.
//!
//! And what `SO_LINGER` with a zero timeout changes: `close` then sends a reset instead of
//! a FIN, the peer's `recv` fails with `ECONNRESET` instead of returning empty bytes, and
//! no side is left in TIME-WAIT.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use super::{settle, tcp_sockets_on};
use crate::net::error::describe;
use crate::wire::sockets::TcpState;

/// What one call returned: bytes, or an error with its errno name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The call moved this many bytes (0 for `recv`: the end of the stream).
    Bytes(usize),
    /// The call failed.
    Error {
        /// The errno's name (`EPIPE`, `ECONNRESET`) or the error's kind.
        name: String,
        /// The error in words.
        text: String,
    },
}

impl Outcome {
    fn of(result: io::Result<usize>) -> Outcome {
        match result {
            Ok(n) => Outcome::Bytes(n),
            Err(err) => Outcome::Error {
                name: errno_name(&err),
                text: describe(&err),
            },
        }
    }

    /// Whether the call failed with this errno name.
    pub fn is(&self, name: &str) -> bool {
        matches!(self, Outcome::Error { name: n, .. } if n == name)
    }
}

fn errno_name(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(libc::EPIPE) => "EPIPE".into(),
        Some(libc::ECONNRESET) => "ECONNRESET".into(),
        Some(n) => format!("errno {n}"),
        None => format!("{:?}", err.kind()),
    }
}

/// What the demonstration saw.
#[derive(Debug, Clone)]
pub struct CloseReport {
    /// `recv` after the peer closed normally.
    pub recv_after_close: Outcome,
    /// The first `send` to the closed peer.
    pub first_send: Outcome,
    /// The `send` after the peer's reset arrived.
    pub second_send: Outcome,
    /// `recv` after the peer closed with `SO_LINGER` 0.
    pub recv_after_reset: Outcome,
    /// TIME-WAIT sockets on the port after the lingering close (expected: none).
    pub time_wait_after_reset: usize,
}

/// A connected pair on 127.0.0.1: (client, server side), and the listening port.
fn pair() -> io::Result<(TcpStream, TcpStream, SocketAddr)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let client = TcpStream::connect(addr)?;
    let (server, _) = listener.accept()?;
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    Ok((client, server, addr))
}

/// Runs the demonstration.
pub fn close() -> io::Result<CloseReport> {
    // 1. The server closes; the client's recv returns empty bytes.
    let (mut client, server, _) = pair()?;
    drop(server);
    settle();
    let mut buf = [0u8; 64];
    let recv_after_close = Outcome::of(client.read(&mut buf));
    // 2. The client writes anyway: the kernel takes the bytes, the peer answers RST.
    let first_send = Outcome::of(client.write(b"hello?"));
    settle();
    let second_send = Outcome::of(client.write(b"anyone?"));
    drop(client);

    // 3. SO_LINGER 0: close sends a reset.
    let (mut client, server, addr) = pair()?;
    socket2::SockRef::from(&server).set_linger(Some(Duration::ZERO))?;
    drop(server);
    settle();
    let recv_after_reset = Outcome::of(client.read(&mut buf));
    drop(client);
    settle();
    let time_wait_after_reset = tcp_sockets_on(addr.port())
        .iter()
        .filter(|e| e.state == TcpState::TimeWait)
        .count();
    Ok(CloseReport {
        recv_after_close,
        first_send,
        second_send,
        recv_after_reset,
        time_wait_after_reset,
    })
}

fn show(o: &Outcome, what: &str) -> String {
    match o {
        Outcome::Bytes(0) if what == "recv" => "0 bytes: b'' (the end of the stream)".into(),
        Outcome::Bytes(n) => format!("{n} bytes"),
        Outcome::Error { name, text } => format!("error {name}: {text}"),
    }
}

impl CloseReport {
    /// Whether every step went as the course says.
    pub fn as_expected(&self) -> bool {
        self.recv_after_close == Outcome::Bytes(0)
            && matches!(self.first_send, Outcome::Bytes(n) if n > 0)
            && (self.second_send.is("EPIPE") || self.second_send.is("ECONNRESET"))
            && self.recv_after_reset.is("ECONNRESET")
            && self.time_wait_after_reset == 0
    }

    /// The account printed by `sockit demo close`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "1. the server closes its connection (FIN); the client calls recv(64)"
        );
        let _ = writeln!(out, "   recv -> {}", show(&self.recv_after_close, "recv"));
        let _ = writeln!(out, "2. the client sends to the closed server anyway");
        let _ = writeln!(
            out,
            "   first send -> {} (copied into the kernel; the server's kernel answers with RST)",
            show(&self.first_send, "send")
        );
        let _ = writeln!(out, "   second send -> {}", show(&self.second_send, "send"));
        let _ = writeln!(out, "3. a server closes with SO_LINGER 0 (a reset, no FIN)");
        let _ = writeln!(
            out,
            "   client recv -> {}",
            show(&self.recv_after_reset, "recv")
        );
        let _ = writeln!(
            out,
            "   TIME-WAIT sockets left on the port: {}",
            self.time_wait_after_reset
        );
        let conclusion = if self.as_expected() {
            "an empty recv means the peer closed; a send to a closed peer is accepted once, then \
             fails (EPIPE/ECONNRESET) and the first bytes are lost; SO_LINGER 0 resets: recv gets \
             ECONNRESET and no TIME-WAIT is left"
        } else {
            "the outcomes above differ from the usual ones (see each step)"
        };
        let _ = writeln!(out, "conclusion: {conclusion}");
        out
    }
}
