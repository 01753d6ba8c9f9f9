//! Name resolution as the C library does it: `getaddrinfo(3)`.
//!
//! A name (`localhost`, a host name, a domain name) becomes a list of addresses, each
//! with the family (IPv4 or IPv6), the socket type and the protocol it is meant for.
//! `/etc/hosts`, DNS and the order between them are the system's choice
//! (`/etc/nsswitch.conf`, `/etc/gai.conf`); this shows exactly what Python's
//! `socket.getaddrinfo` and every other program on the machine would get.

use std::net::IpAddr;

/// One answer of `getaddrinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// `inet` or `inet6`.
    pub family: &'static str,
    /// `stream`, `dgram` or `raw`.
    pub socktype: &'static str,
    /// `tcp`, `udp` or the protocol number.
    pub protocol: String,
    /// The address.
    pub addr: IpAddr,
    /// The canonical name, on the first answer, when asked for.
    pub canonical: Option<String>,
}

/// Why a name did not resolve.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve '{name}': {reason}")]
pub struct ResolveError {
    /// The name asked for.
    pub name: String,
    /// What getaddrinfo said.
    pub reason: String,
}

/// Resolves `name` with no hints (every family and socket type), like
/// `socket.getaddrinfo(name, None)`; with `canonical`, asks for the canonical name too.
pub fn resolve(name: &str, canonical: bool) -> Result<Vec<Resolved>, ResolveError> {
    let hints = dns_lookup::AddrInfoHints {
        flags: if canonical { libc::AI_CANONNAME } else { 0 },
        ..Default::default()
    };
    let err = |reason: String| ResolveError {
        name: name.to_string(),
        reason,
    };
    let iter =
        dns_lookup::getaddrinfo(Some(name), None, Some(hints)).map_err(|e| err(io_text(e)))?;
    let mut out = Vec::new();
    for ai in iter {
        let ai = ai.map_err(|e| err(e.to_string()))?;
        out.push(Resolved {
            family: if ai.address == libc::AF_INET6 {
                "inet6"
            } else {
                "inet"
            },
            socktype: match ai.socktype {
                libc::SOCK_STREAM => "stream",
                libc::SOCK_DGRAM => "dgram",
                libc::SOCK_RAW => "raw",
                _ => "other",
            },
            protocol: match ai.protocol {
                libc::IPPROTO_TCP => "tcp".into(),
                libc::IPPROTO_UDP => "udp".into(),
                n => n.to_string(),
            },
            addr: ai.sockaddr.ip(),
            canonical: ai.canonname,
        });
    }
    Ok(out)
}

fn io_text(e: dns_lookup::LookupError) -> String {
    let io: std::io::Error = e.into();
    io.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_and_literals_resolve() {
        let r = resolve("127.0.0.1", false).expect("a literal always resolves");
        assert!(r.iter().all(|a| a.addr == IpAddr::from([127, 0, 0, 1])));
        assert!(r
            .iter()
            .any(|a| a.socktype == "stream" && a.protocol == "tcp"));
        assert!(resolve("no-such-host.invalid", false).is_err());
    }
}
