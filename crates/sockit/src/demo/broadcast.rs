//! `sockit demo broadcast`: one datagram to every host of a network, and the option that
//! guards it.
//!
//! A broadcast address (the network's last address: 127.255.255.255 for loopback's
//! 127.0.0.0/8) means "every host here". Sending to it without `SO_BROADCAST` is refused
//! by the kernel with `EACCES` (Python: `PermissionError`), so that a program cannot flood
//! a network by a typo; with the option set, one `sendto` reaches every socket bound to
//! that port. Here three receivers share the port (`SO_REUSEADDR`), as three hosts
//! would, and everything stays on loopback.

use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

/// Loopback's broadcast address: the only one this demonstration ever sends to.
pub const LOOPBACK_BROADCAST: [u8; 4] = [127, 255, 255, 255];

/// What the demonstration saw.
#[derive(Debug, Clone)]
pub struct BroadcastReport {
    /// Where the datagram went.
    pub to: SocketAddr,
    /// The error of the send without `SO_BROADCAST` (None: it was sent).
    pub without: Option<String>,
    /// Whether that error was `EACCES`.
    pub without_eacces: bool,
    /// How many receivers got the datagram sent with `SO_BROADCAST`.
    pub reached: usize,
    /// How many receivers listened.
    pub receivers: usize,
}

fn receiver(port: u16) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, None)?;
    s.set_reuse_address(true)?;
    s.bind(&SocketAddr::from((LOOPBACK_BROADCAST, port)).into())?;
    let s: UdpSocket = s.into();
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    Ok(s)
}

/// Runs the demonstration on loopback.
pub fn broadcast() -> io::Result<BroadcastReport> {
    let first = receiver(0)?;
    let port = first.local_addr()?.port();
    let receivers = vec![first, receiver(port)?, receiver(port)?];
    let to = SocketAddr::from((LOOPBACK_BROADCAST, port));
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    let (without, without_eacces) = match sender.send_to(b"hello, everyone?", to) {
        Ok(_) => (None, false),
        Err(e) => (
            Some(crate::net::error::describe(&e)),
            e.raw_os_error() == Some(libc::EACCES),
        ),
    };
    sender.set_broadcast(true)?;
    sender.send_to(b"hello, everyone!", to)?;
    let mut reached = 0;
    let mut buf = [0u8; 64];
    for r in &receivers {
        if matches!(r.recv_from(&mut buf), Ok((n, _)) if &buf[..n] == b"hello, everyone!") {
            reached += 1;
        }
    }
    Ok(BroadcastReport {
        to,
        without,
        without_eacces,
        reached,
        receivers: receivers.len(),
    })
}

impl BroadcastReport {
    /// Whether the kernel refused without the option and every receiver got it with.
    pub fn as_expected(&self) -> bool {
        self.without_eacces && self.reached == self.receivers
    }

    /// The account printed by `sockit demo broadcast`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} receivers bound to {} (SO_REUSEADDR, as {} hosts would listen)",
            self.receivers, self.to, self.receivers
        );
        let _ = writeln!(
            out,
            "sendto {} without SO_BROADCAST: {}",
            self.to,
            match &self.without {
                Some(e) if self.without_eacces => format!("refused: {e} (EACCES)"),
                Some(e) => format!("refused: {e}"),
                None => "sent".to_string(),
            }
        );
        let _ = writeln!(
            out,
            "sendto {} with SO_BROADCAST: received by {} of {} receivers",
            self.to, self.reached, self.receivers
        );
        let conclusion = if self.as_expected() {
            format!(
                "a broadcast needs SO_BROADCAST (EACCES without it); with it one sendto reached all {} receivers",
                self.receivers
            )
        } else {
            "the outcomes above differ from the usual ones (see each line)".to_string()
        };
        let _ = writeln!(out, "conclusion: {conclusion}");
        out
    }
}
