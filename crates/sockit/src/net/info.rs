//! Socket attributes (the Python `s.family`, `s.type`, `s.fileno()`, `s.getsockname()`,
//! `s.getpeername()` of the course) and socket option tables.
//!
//! [`SocketInfo`] is what `-v` prints for every socket; [`default_options`] is what
//! `sockit info` prints: the options a fresh TCP and UDP socket start with, read back with
//! `getsockopt`.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// The attributes of one socket, read from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketInfo {
    /// The file descriptor number (`fileno()`).
    pub fd: i32,
    /// `AF_INET`, `AF_INET6`, or `AF_?(N)`.
    pub family: String,
    /// `SOCK_STREAM`, `SOCK_DGRAM`, or `SOCK_?(N)`.
    pub kind: String,
    /// `getsockname()`: the local address the socket is bound to.
    pub local: Option<SocketAddr>,
    /// `getpeername()`: the connected peer, `None` for listeners and unconnected UDP.
    pub peer: Option<SocketAddr>,
    /// `SO_SNDBUF` as the kernel reports it.
    pub send_buffer: Option<usize>,
    /// `SO_RCVBUF` as the kernel reports it.
    pub recv_buffer: Option<usize>,
}

impl SocketInfo {
    /// Reads the attributes of any socket (tokio, std or socket2).
    pub fn of<S: AsFd>(socket: &S) -> SocketInfo {
        let fd = socket.as_fd().as_raw_fd();
        let sock = SockRef::from(socket);
        SocketInfo {
            fd,
            family: sock
                .domain()
                .map(family_name)
                .unwrap_or_else(|_| "-".to_string()),
            kind: sock
                .r#type()
                .map(type_name)
                .unwrap_or_else(|_| "-".to_string()),
            local: sock.local_addr().ok().and_then(|a| a.as_socket()),
            peer: sock.peer_addr().ok().and_then(|a| a.as_socket()),
            send_buffer: sock.send_buffer_size().ok(),
            recv_buffer: sock.recv_buffer_size().ok(),
        }
    }
}

impl fmt::Display for SocketInfo {
    /// One line, `key=value` pairs so tests and scripts can grep it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr = |a: &Option<SocketAddr>| a.map_or_else(|| "-".to_string(), |a| a.to_string());
        let size = |s: &Option<usize>| s.map_or_else(|| "-".to_string(), |s| s.to_string());
        write!(
            f,
            "fd={} family={} type={} local={} peer={} sndbuf={} rcvbuf={}",
            self.fd,
            self.family,
            self.kind,
            addr(&self.local),
            addr(&self.peer),
            size(&self.send_buffer),
            size(&self.recv_buffer),
        )
    }
}

/// The C name of an address family.
pub fn family_name(domain: Domain) -> String {
    if domain == Domain::IPV4 {
        "AF_INET".into()
    } else if domain == Domain::IPV6 {
        "AF_INET6".into()
    } else if domain == Domain::UNIX {
        "AF_UNIX".into()
    } else {
        format!("AF_?({})", i32::from(domain))
    }
}

/// The C name of a socket type.
pub fn type_name(ty: Type) -> String {
    if ty == Type::STREAM {
        "SOCK_STREAM".into()
    } else if ty == Type::DGRAM {
        "SOCK_DGRAM".into()
    } else if ty == Type::RAW {
        "SOCK_RAW".into()
    } else {
        format!("SOCK_?({})", i32::from(ty))
    }
}

/// The value of one socket option, typed so JSON output keeps numbers and booleans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// An on/off option.
    Bool(bool),
    /// A size, count or time.
    Int(i64),
    /// A symbolic value (`SOCK_STREAM`, `off`, `cubic`).
    Text(String),
    /// The option does not apply to this kind of socket (TCP options on UDP).
    NotApplicable,
    /// Reading the option failed; the phrase says why.
    Error(String),
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Bool(true) => f.write_str("on"),
            OptionValue::Bool(false) => f.write_str("off"),
            OptionValue::Int(n) => write!(f, "{n}"),
            OptionValue::Text(t) => f.write_str(t),
            OptionValue::NotApplicable => f.write_str("-"),
            OptionValue::Error(e) => write!(f, "({e})"),
        }
    }
}

impl OptionValue {
    /// The value as JSON: booleans and numbers stay typed, "not applicable" is `null`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            OptionValue::Bool(b) => serde_json::Value::Bool(*b),
            OptionValue::Int(n) => serde_json::Value::from(*n),
            OptionValue::Text(t) => serde_json::Value::String(t.clone()),
            OptionValue::NotApplicable => serde_json::Value::Null,
            OptionValue::Error(e) => serde_json::json!({ "error": e }),
        }
    }
}

/// One row of the `sockit info` table: an option, its value on a TCP and a UDP socket,
/// and what it is for.
#[derive(Debug, Clone)]
pub struct OptionRow {
    /// The C name, e.g. `SO_REUSEADDR`.
    pub name: &'static str,
    /// Value on a fresh TCP socket.
    pub tcp: OptionValue,
    /// Value on a fresh UDP socket.
    pub udp: OptionValue,
    /// One-line explanation.
    pub meaning: &'static str,
}

fn from<T>(result: io::Result<T>, map: impl FnOnce(T) -> OptionValue) -> OptionValue {
    match result {
        Ok(v) => map(v),
        Err(err) => OptionValue::Error(crate::net::error::describe(&err)),
    }
}

fn int(n: usize) -> OptionValue {
    OptionValue::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Reads an integer option socket2 has no accessor for.
fn getsockopt_int(sock: &Socket, level: libc::c_int, name: libc::c_int) -> io::Result<i64> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes of a c_int and a socklen_t, and the
    // kernel writes at most `len` bytes.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(i64::from(value))
    } else {
        Err(io::Error::last_os_error())
    }
}

type Reader = fn(&Socket, bool) -> OptionValue;

/// The option rows: name, meaning, and how to read it (the bool says "this is TCP").
const OPTIONS: &[(&str, &str, Reader)] = &[
    ("SO_TYPE", "socket type", |s, _| {
        from(s.r#type(), |t| OptionValue::Text(type_name(t)))
    }),
    ("SO_DOMAIN", "address family", |s, _| {
        from(s.domain(), |d| OptionValue::Text(family_name(d)))
    }),
    ("SO_PROTOCOL", "transport protocol", |s, _| {
        from(s.protocol(), |p| {
            OptionValue::Text(match p {
                Some(p) if p == Protocol::TCP => "IPPROTO_TCP".into(),
                Some(p) if p == Protocol::UDP => "IPPROTO_UDP".into(),
                Some(p) => format!("{}", i32::from(p)),
                None => "-".into(),
            })
        })
    }),
    (
        "SO_REUSEADDR",
        "bind a port still in TIME_WAIT (sockit sets it on listeners)",
        |s, _| from(s.reuse_address(), OptionValue::Bool),
    ),
    (
        "SO_REUSEPORT",
        "several sockets share one port, kernel balances (--reuse-port)",
        |s, _| from(s.reuse_port(), OptionValue::Bool),
    ),
    (
        "SO_SNDBUF",
        "send buffer bytes (kernel doubles what you set) (--sndbuf)",
        |s, _| from(s.send_buffer_size(), int),
    ),
    (
        "SO_RCVBUF",
        "receive buffer bytes (kernel doubles what you set) (--rcvbuf)",
        |s, _| from(s.recv_buffer_size(), int),
    ),
    (
        "SO_SNDLOWAT",
        "bytes of free space before the socket counts as writable",
        |s, _| {
            from(
                getsockopt_int(s, libc::SOL_SOCKET, libc::SO_SNDLOWAT),
                OptionValue::Int,
            )
        },
    ),
    (
        "SO_RCVLOWAT",
        "bytes queued before the socket counts as readable",
        |s, _| {
            from(
                getsockopt_int(s, libc::SOL_SOCKET, libc::SO_RCVLOWAT),
                OptionValue::Int,
            )
        },
    ),
    (
        "SO_SNDTIMEO",
        "blocking send timeout in ms (0 = none)",
        |s, _| {
            from(s.write_timeout(), |t| {
                int(t.map_or(0, |d| d.as_millis() as usize))
            })
        },
    ),
    (
        "SO_RCVTIMEO",
        "blocking receive timeout in ms (0 = none)",
        |s, _| {
            from(s.read_timeout(), |t| {
                int(t.map_or(0, |d| d.as_millis() as usize))
            })
        },
    ),
    (
        "SO_KEEPALIVE",
        "probe idle TCP connections (--keepalive)",
        |s, _| from(s.keepalive(), OptionValue::Bool),
    ),
    (
        "SO_BROADCAST",
        "allowed to send to broadcast addresses (--broadcast)",
        |s, _| from(s.broadcast(), OptionValue::Bool),
    ),
    (
        "SO_LINGER",
        "close() waits this many seconds to send queued data",
        |s, _| {
            from(s.linger(), |l| match l {
                Some(d) => OptionValue::Int(d.as_secs() as i64),
                None => OptionValue::Text("off".into()),
            })
        },
    ),
    (
        "SO_OOBINLINE",
        "urgent data delivered in the normal stream",
        |s, _| from(s.out_of_band_inline(), OptionValue::Bool),
    ),
    (
        "SO_PRIORITY",
        "queueing priority of outgoing packets",
        |s, _| {
            from(
                getsockopt_int(s, libc::SOL_SOCKET, libc::SO_PRIORITY),
                OptionValue::Int,
            )
        },
    ),
    ("IP_TTL", "hops an outgoing packet may take", |s, _| {
        from(s.ttl_v4(), |t| OptionValue::Int(t.into()))
    }),
    ("IP_TOS", "type-of-service / DSCP byte", |s, _| {
        from(s.tos_v4(), |t| OptionValue::Int(t.into()))
    }),
    (
        "IP_MULTICAST_TTL",
        "hops a multicast packet may take",
        |s, _| from(s.multicast_ttl_v4(), |t| OptionValue::Int(t.into())),
    ),
    (
        "IP_MULTICAST_LOOP",
        "multicast sent is also delivered locally",
        |s, _| from(s.multicast_loop_v4(), OptionValue::Bool),
    ),
    (
        "TCP_NODELAY",
        "send small writes at once, no Nagle merging (--nodelay)",
        |s, tcp| {
            if tcp {
                from(s.tcp_nodelay(), OptionValue::Bool)
            } else {
                OptionValue::NotApplicable
            }
        },
    ),
    (
        "TCP_MAXSEG",
        "largest TCP segment payload (MSS)",
        |s, tcp| {
            if tcp {
                from(s.tcp_mss(), |m| OptionValue::Int(m.into()))
            } else {
                OptionValue::NotApplicable
            }
        },
    ),
    (
        "TCP_KEEPIDLE",
        "idle seconds before the first keepalive probe",
        |s, tcp| {
            if tcp {
                from(s.tcp_keepalive_time(), |d| {
                    OptionValue::Int(d.as_secs() as i64)
                })
            } else {
                OptionValue::NotApplicable
            }
        },
    ),
    (
        "TCP_KEEPINTVL",
        "seconds between keepalive probes",
        |s, tcp| {
            if tcp {
                from(s.tcp_keepalive_interval(), |d| {
                    OptionValue::Int(d.as_secs() as i64)
                })
            } else {
                OptionValue::NotApplicable
            }
        },
    ),
    (
        "TCP_KEEPCNT",
        "unanswered probes before the connection is dropped",
        |s, tcp| {
            if tcp {
                from(s.tcp_keepalive_retries(), |n| OptionValue::Int(n.into()))
            } else {
                OptionValue::NotApplicable
            }
        },
    ),
    (
        "TCP_CONGESTION",
        "congestion control algorithm",
        |s, tcp| {
            if tcp {
                from(s.tcp_congestion(), |name| {
                    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
                    OptionValue::Text(String::from_utf8_lossy(&name[..end]).into_owned())
                })
            } else {
                OptionValue::NotApplicable
            }
        },
    ),
];

/// The default options of fresh sockets, with the sockets' own attributes.
#[derive(Debug, Clone)]
pub struct OptionTable {
    /// One row per option.
    pub rows: Vec<OptionRow>,
    /// The fresh TCP socket the values were read from.
    pub tcp: SocketInfo,
    /// The fresh UDP socket the values were read from.
    pub udp: SocketInfo,
}

/// The options of a fresh IPv4 TCP socket and a fresh IPv4 UDP socket, as the kernel
/// reports them before any `bind` or `connect`.
pub fn default_options() -> io::Result<OptionTable> {
    let tcp = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    let udp = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    let rows = OPTIONS
        .iter()
        .map(|(name, meaning, read)| OptionRow {
            name,
            tcp: read(&tcp, true),
            udp: read(&udp, false),
            meaning,
        })
        .collect();
    Ok(OptionTable {
        rows,
        tcp: SocketInfo::of(&tcp),
        udp: SocketInfo::of(&udp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_sockets_report_their_type() {
        let table = default_options().unwrap();
        assert_eq!(table.tcp.kind, "SOCK_STREAM");
        let rows = table.rows;
        let row = rows.iter().find(|r| r.name == "SO_TYPE").unwrap();
        assert_eq!(row.tcp, OptionValue::Text("SOCK_STREAM".into()));
        assert_eq!(row.udp, OptionValue::Text("SOCK_DGRAM".into()));
        let nodelay = rows.iter().find(|r| r.name == "TCP_NODELAY").unwrap();
        assert_eq!(nodelay.tcp, OptionValue::Bool(false));
        assert_eq!(nodelay.udp, OptionValue::NotApplicable);
        assert_eq!(nodelay.udp.to_json(), serde_json::Value::Null);
    }

    #[test]
    fn info_of_a_bound_udp_socket() {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let info = SocketInfo::of(&sock);
        assert_eq!(info.family, "AF_INET");
        assert_eq!(info.kind, "SOCK_DGRAM");
        assert_eq!(info.local, Some(sock.local_addr().unwrap()));
        assert_eq!(info.peer, None);
        let line = info.to_string();
        assert!(line.contains("peer=-"), "{line}");
        assert!(line.contains(&format!("fd={}", sock.as_raw_fd())), "{line}");
    }
}
