//! `sockit demo handshake`: a connect and a close on loopback, with the packets (when
//! capture is allowed) and both sockets' states after each step.
//!
//! `connect()` sends SYN, the server's kernel answers SYN-ACK, the client ACKs: three
//! packets, and both sockets are ESTABLISHED before `accept()` even returns. Closing
//! takes four: each side sends its FIN and the other acknowledges it. The side that
//! closes first ends in TIME-WAIT for 60 s on Linux (2 x MSL): it keeps the connection's
//! four addresses reserved so that a late packet of this connection cannot be taken for
//! part of a new one, and so that it can re-send the last ACK if it was lost.

use std::fmt::Write as _;
use std::io::{self, Read as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Instant;

use super::{settle, state_of, tcp_sockets_on};
use crate::wire::capture;
use crate::wire::decode::{decode, Decoded};
use crate::wire::filter::{Filter, Primitive};
use crate::wire::track::Tracker;

/// What the demonstration saw.
#[derive(Debug, Clone)]
pub struct HandshakeReport {
    /// The client's address (the side that closes first).
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// Each step: what was done, the packets it caused, client state, server state.
    pub steps: Vec<Step>,
    /// Whether packets could be captured (root or CAP_NET_RAW).
    pub captured: bool,
}

/// One step of the demonstration.
#[derive(Debug, Clone)]
pub struct Step {
    /// What the program did.
    pub action: String,
    /// The packets it caused, one line each.
    pub packets: Vec<String>,
    /// The client socket's state afterwards.
    pub client_state: String,
    /// The server (accepted) socket's state afterwards.
    pub server_state: String,
}

/// Runs the demonstration on 127.0.0.1.
pub fn handshake() -> io::Result<HandshakeReport> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let server = listener.local_addr()?;
    let filter = Filter {
        all: vec![Primitive::Tcp, Primitive::Port(server.port())],
    };
    let cap = capture::open("lo", &filter).ok();
    let start = Instant::now();
    let mut tracker = Tracker::new();
    let mut buf = vec![0u8; 65_600];
    let mut packets = |cap: &Option<socket2::Socket>| -> Vec<String> {
        settle();
        let mut lines = Vec::new();
        if let Some(sock) = cap {
            while lines.len() < 1000 {
                let Ok(n) = (&*sock).read(&mut buf) else {
                    break;
                };
                if let Decoded::Ip(p) = decode(&buf[..n]) {
                    let a = tracker.observe(&p, start.elapsed());
                    let mut l = p.line(a.relative);
                    if !a.notes.is_empty() {
                        let _ = write!(l, "  -- {}", a.notes.join("; "));
                    }
                    lines.push(l);
                }
            }
        }
        lines
    };
    let mut steps = Vec::new();
    let client_stream = TcpStream::connect(server)?;
    let client = client_stream.local_addr()?;
    let (accepted, _) = listener.accept()?;
    let mut record = |action: &str, pk: Vec<String>| {
        let all = tcp_sockets_on(server.port());
        steps.push(Step {
            action: action.to_string(),
            packets: pk,
            client_state: state_of(&all, client, None),
            server_state: state_of(&all, server, Some(client)),
        });
    };
    let pk = packets(&cap);
    record("client: connect(); server: accept()", pk);
    drop(client_stream);
    let pk = packets(&cap);
    record("client: close() first", pk);
    drop(accepted);
    let pk = packets(&cap);
    record("server: close()", pk);
    Ok(HandshakeReport {
        client,
        server,
        steps,
        captured: cap.is_some(),
    })
}

impl HandshakeReport {
    /// The account printed by `sockit demo handshake`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "server {} listening; client connects from {}",
            self.server, self.client
        );
        if !self.captured {
            let _ = writeln!(
                out,
                "(packets not shown: capturing needs root or CAP_NET_RAW)"
            );
        }
        for (i, s) in self.steps.iter().enumerate() {
            let _ = writeln!(out, "\n== step {}: {} ==", i + 1, s.action);
            for p in &s.packets {
                let _ = writeln!(out, "  packet: {p}");
            }
            let _ = writeln!(out, "  client {}: {}", self.client, s.client_state);
            let _ = writeln!(out, "  server {}: {}", self.server, s.server_state);
        }
        let last = self.steps.last();
        let tw = last.is_some_and(|s| s.client_state.starts_with("TIME-WAIT"));
        let _ = writeln!(
            out,
            "\nconclusion: {}",
            if tw {
                format!(
                    "the client {} closed first and is left in TIME-WAIT; the server's socket is {}",
                    self.client,
                    last.map_or("", |s| s.server_state.as_str())
                )
            } else {
                "TIME-WAIT was not observed on the side that closed first (unexpected)".to_string()
            }
        );
        out
    }
}
