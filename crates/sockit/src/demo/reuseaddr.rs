//! `sockit demo reuseaddr`: why restarting a server fails with "Address already in use",
//! and what `SO_REUSEADDR` changes.
//!
//! A server that closes while a client is connected closes *first*, so its end of the
//! connection goes to TIME-WAIT (after the client closes too) and keeps the server's
//! address and port for 60 s. A new server binding that port without `SO_REUSEADDR` is
//! refused with `EADDRINUSE`; with `SO_REUSEADDR` the kernel lets it bind, because the
//! only thing left on the port is a TIME-WAIT connection, not a listener. On Linux the
//! TIME-WAIT connection keeps the option of the socket it came from, and both must have
//! it: which is why servers (Python's `socketserver`, Rust's std, sockit) always set it
//! before `bind`. The first server here sets it too, as servers do.

use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, TcpStream};

use socket2::{Domain, Socket, Type};

use super::{settle, tcp_sockets_on};
use crate::wire::sockets::TcpState;

/// What the demonstration saw.
#[derive(Debug, Clone)]
pub struct ReuseReport {
    /// The port the first server had.
    pub addr: SocketAddr,
    /// How many TIME-WAIT sockets held the port after the close.
    pub time_wait: usize,
    /// The error of the bind without `SO_REUSEADDR` (None: it succeeded).
    pub without: Option<String>,
    /// Whether the errno was `EADDRINUSE`.
    pub without_in_use: bool,
    /// The error of the bind with `SO_REUSEADDR` (None: it succeeded).
    pub with: Option<String>,
}

fn bind(addr: SocketAddr, reuse: bool) -> io::Result<Socket> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    s.set_reuse_address(reuse)?;
    s.bind(&addr.into())?;
    s.listen(16)?;
    Ok(s)
}

/// Runs the demonstration on 127.0.0.1.
pub fn reuseaddr() -> io::Result<ReuseReport> {
    let first = bind(SocketAddr::from(([127, 0, 0, 1], 0)), true)?;
    let addr = first
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("not an inet socket"))?;
    let client = TcpStream::connect(addr)?;
    let (conn, _) = first.accept()?;
    // The server goes away first, with the client still connected...
    drop(conn);
    drop(first);
    settle();
    // ...then the client notices (empty read) and closes too.
    drop(client);
    settle();
    let time_wait = tcp_sockets_on(addr.port())
        .iter()
        .filter(|e| e.state == TcpState::TimeWait && e.local == addr)
        .count();
    let (without, without_in_use) = match bind(addr, false) {
        Ok(_) => (None, false),
        Err(e) => (
            Some(crate::net::error::describe(&e)),
            e.raw_os_error() == Some(libc::EADDRINUSE),
        ),
    };
    let with = bind(addr, true)
        .err()
        .map(|e| crate::net::error::describe(&e));
    Ok(ReuseReport {
        addr,
        time_wait,
        without,
        without_in_use,
        with,
    })
}

impl ReuseReport {
    /// The account printed by `sockit demo reuseaddr`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "server on {} accepts a client, then closes first (the client is still connected)",
            self.addr
        );
        let _ = writeln!(
            out,
            "the client closes too; TIME-WAIT sockets holding {}: {}",
            self.addr, self.time_wait
        );
        let _ = writeln!(
            out,
            "new server on {} without SO_REUSEADDR: {}",
            self.addr,
            match &self.without {
                Some(e) => format!(
                    "bind failed: {e}{}",
                    if self.without_in_use {
                        " (EADDRINUSE)"
                    } else {
                        ""
                    }
                ),
                None => "bind succeeded".into(),
            }
        );
        let _ = writeln!(
            out,
            "new server on {} with SO_REUSEADDR: {}",
            self.addr,
            match &self.with {
                Some(e) => format!("bind failed: {e}"),
                None => "bind succeeded".into(),
            }
        );
        let ok = self.without_in_use && self.with.is_none();
        let _ = writeln!(
            out,
            "conclusion: {}",
            if ok {
                format!(
                    "port {} held by TIME-WAIT: EADDRINUSE without SO_REUSEADDR, bind succeeded with it",
                    self.addr.port()
                )
            } else {
                "the expected EADDRINUSE / success pair was not observed".to_string()
            }
        );
        out
    }
}
