//! Address parsing and name resolution.
//!
//! Three shapes are accepted, as in netcat and socat:
//!
//! - `PORT` or `:PORT` alone (listeners only): every IPv4 interface, `0.0.0.0:PORT`, like
//!   `nc -l PORT`. This is sockit's one rule for `tcp listen` and `udp listen`: a server
//!   you start by port alone is reachable from the network, as netcat's is. Because that
//!   is easy to do by accident, the ready line says so in words ([`listen_display`]:
//!   `listening on udp 0.0.0.0:9000 (all interfaces)`); write `127.0.0.1:PORT` for this
//!   host only. (`http serve` is a different tool with its own default, 127.0.0.1.)
//! - `HOST:PORT` where HOST is an IPv4 literal or a host name (`localhost:8000`);
//! - `[V6]:PORT` for IPv6 literals (`[::1]:8000`, `[::]:8000`): the brackets are required
//!   because an IPv6 address is itself full of colons, so `::1:80` is ambiguous.
//!
//! Parsing only checks the syntax (so a typo is a usage error, exit code 2, before any
//! socket exists); turning a host name into addresses is [`HostPort::resolve`], a runtime
//! step that can fail like any other network operation (exit code 1).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Why an address given by the user could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    /// The text was empty.
    #[error("empty address")]
    Empty,
    /// The port is not a number.
    #[error("invalid port '{0}': not a number")]
    PortNotNumber(String),
    /// The port is a number outside 0..=65535.
    #[error("invalid port '{0}': out of range (0-65535)")]
    PortRange(String),
    /// Port 0 means "any port" when binding, but nothing can be sent to it.
    #[error("port 0 is not a valid destination port")]
    PortZero,
    /// `HOST` was given where `HOST:PORT` is needed.
    #[error("missing port in '{0}' (expected HOST:PORT)")]
    MissingPort(String),
    /// The host part is empty (`:80`) where a destination is needed.
    #[error("missing host in '{0}' (expected HOST:PORT)")]
    MissingHost(String),
    /// An IPv6 literal with a port but without brackets.
    #[error("'{0}' is ambiguous: write IPv6 addresses in brackets, e.g. [::1]:8000")]
    Ipv6NeedsBrackets(String),
    /// `[` without `]`, or text inside brackets that is not an IPv6 address.
    #[error("invalid IPv6 address in '{0}' (expected [V6]:PORT, e.g. [::1]:8000)")]
    BadIpv6(String),
    /// Digits and dots that do not form an IPv4 address (`300.1.1.1`, `1.2.3`).
    #[error("invalid IPv4 address '{0}'")]
    BadIpv4(String),
    /// Characters that cannot appear in a host name.
    #[error("invalid host name '{0}'")]
    BadHost(String),
}

/// The host part of an address: an IP literal (no lookup needed) or a name to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A host name such as `localhost`, resolved with the system resolver.
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// A host and a port as the user wrote them, before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// The host: an IP literal or a name.
    pub host: Host,
    /// The port number (0 means "let the kernel choose" when binding).
    pub port: u16,
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl From<SocketAddr> for HostPort {
    fn from(addr: SocketAddr) -> Self {
        HostPort {
            host: Host::Ip(addr.ip()),
            port: addr.port(),
        }
    }
}

/// Parses a port number, telling "not a number" from "out of range".
pub fn parse_port(text: &str) -> Result<u16, AddrError> {
    let text = text.trim();
    // `-1` is a number, just not a port: say "out of range", not "not a number".
    if let Some(digits) = text.strip_prefix('-') {
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AddrError::PortRange(text.to_string()));
        }
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddrError::PortNotNumber(text.to_string()));
    }
    text.parse::<u16>()
        .map_err(|_| AddrError::PortRange(text.to_string()))
}

/// Parses a host without a port: an IPv4 literal, an IPv6 literal (with or without
/// brackets) or a host name.
pub fn parse_host(text: &str) -> Result<Host, AddrError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AddrError::Empty);
    }
    if let Some(inner) = text.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| AddrError::BadIpv6(text.to_string()))?;
        return inner
            .parse::<Ipv6Addr>()
            .map(|ip| Host::Ip(IpAddr::V6(ip)))
            .map_err(|_| AddrError::BadIpv6(text.to_string()));
    }
    if text.contains(':') {
        return text
            .parse::<Ipv6Addr>()
            .map(|ip| Host::Ip(IpAddr::V6(ip)))
            .map_err(|_| AddrError::BadIpv6(text.to_string()));
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        // Only digits and dots: this was meant as an IPv4 address (no top-level domain is
        // all digits), so "300.1.1.1" is a typo, not a name to look up.
        return text
            .parse::<Ipv4Addr>()
            .map(|ip| Host::Ip(IpAddr::V4(ip)))
            .map_err(|_| AddrError::BadIpv4(text.to_string()));
    }
    let valid_name = text.len() <= 253
        && text
            .split('.')
            .all(|label| !label.is_empty() && label.len() <= 63)
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if !valid_name || text.starts_with('-') {
        return Err(AddrError::BadHost(text.to_string()));
    }
    Ok(Host::Name(text.to_string()))
}

/// Splits `HOST:PORT` / `[V6]:PORT` into its host text and port text.
/// Returns `None` for the port when the text has no port at all.
fn split_host_port(text: &str) -> Result<(&str, Option<&str>), AddrError> {
    if text.starts_with('[') {
        let close = text
            .find(']')
            .ok_or_else(|| AddrError::BadIpv6(text.to_string()))?;
        let host = &text[..=close];
        let rest = &text[close + 1..];
        if rest.is_empty() {
            return Ok((host, None));
        }
        let port = rest
            .strip_prefix(':')
            .ok_or_else(|| AddrError::BadIpv6(text.to_string()))?;
        return Ok((host, Some(port)));
    }
    match text.matches(':').count() {
        0 => Ok((text, None)),
        1 => {
            let (host, port) = text.split_once(':').unwrap_or((text, ""));
            Ok((host, Some(port)))
        }
        _ => {
            if text.parse::<Ipv6Addr>().is_ok() {
                Ok((text, None))
            } else {
                Err(AddrError::Ipv6NeedsBrackets(text.to_string()))
            }
        }
    }
}

/// Parses a destination, `HOST:PORT` or `[V6]:PORT`, for `connect` and `send`.
/// Port 0 is refused: nothing listens there.
pub fn parse_host_port(text: &str) -> Result<HostPort, AddrError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AddrError::Empty);
    }
    let (host, port) = split_host_port(text)?;
    let port = match port {
        Some(port) => parse_port(port)?,
        None => {
            // `::1:80` is itself a valid IPv6 address: the port must be outside brackets.
            if host.contains(':') {
                return Err(AddrError::Ipv6NeedsBrackets(text.to_string()));
            }
            // A lone number is almost certainly a port with the host forgotten.
            if host.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AddrError::MissingHost(text.to_string()));
            }
            return Err(AddrError::MissingPort(text.to_string()));
        }
    };
    if host.is_empty() {
        return Err(AddrError::MissingHost(text.to_string()));
    }
    if port == 0 {
        return Err(AddrError::PortZero);
    }
    Ok(HostPort {
        host: parse_host(host)?,
        port,
    })
}

/// Parses a listening address, `[ADDR:]PORT`.
///
/// A bare `PORT` (or `:PORT`) binds every IPv4 interface, `0.0.0.0`, like `nc -l PORT`;
/// write `127.0.0.1:PORT` to accept only local clients, `[::]:PORT` for IPv6 (and IPv4,
/// on systems where IPv6 sockets are dual-stack). Port 0 asks the kernel for a free port.
pub fn parse_listen_addr(text: &str) -> Result<HostPort, AddrError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AddrError::Empty);
    }
    let bare = text.strip_prefix(':').unwrap_or(text);
    let number = bare.strip_prefix('-').unwrap_or(bare);
    if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(HostPort {
            host: Host::Ip(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            port: parse_port(bare)?,
        });
    }
    let (host, port) = split_host_port(text)?;
    let Some(port) = port else {
        // `sockit tcp listen abc`: a port was meant.
        return Err(AddrError::PortNotNumber(text.to_string()));
    };
    Ok(HostPort {
        host: parse_host(host)?,
        port: parse_port(port)?,
    })
}

/// True for the wildcard addresses `0.0.0.0` and `[::]`: a socket bound there receives
/// on every interface of the host, not only loopback.
pub fn is_all_interfaces(addr: &SocketAddr) -> bool {
    addr.ip().is_unspecified()
}

/// A listening address as the ready line shows it: `127.0.0.1:9000`, or
/// `0.0.0.0:9000 (all interfaces)` for a wildcard bind, so a server started with a bare
/// port says plainly that it is reachable from other hosts.
pub fn listen_display(addr: SocketAddr) -> String {
    if is_all_interfaces(&addr) {
        format!("{addr} (all interfaces)")
    } else {
        addr.to_string()
    }
}

/// Parses a local source address for `--bind`: `ADDR` or `ADDR:PORT` (`[V6]` or
/// `[V6]:PORT` for IPv6). Without a port the kernel picks one, as usual for clients.
pub fn parse_bind_addr(text: &str) -> Result<HostPort, AddrError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AddrError::Empty);
    }
    let (host, port) = split_host_port(text)?;
    let port = match port {
        Some(port) => parse_port(port)?,
        None => 0,
    };
    if host.is_empty() {
        return Ok(HostPort {
            host: Host::Ip(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            port,
        });
    }
    Ok(HostPort {
        host: parse_host(host)?,
        port,
    })
}

/// A failed name lookup, naming what was looked up.
#[derive(Debug, thiserror::Error)]
#[error("resolve {target}: {reason}")]
pub struct ResolveError {
    /// The address as the user wrote it.
    pub target: String,
    /// What went wrong, in words.
    pub reason: String,
}

impl HostPort {
    /// The socket address when the host is an IP literal (no lookup needed).
    pub fn literal(&self) -> Option<SocketAddr> {
        match self.host {
            Host::Ip(ip) => Some(SocketAddr::new(ip, self.port)),
            Host::Name(_) => None,
        }
    }

    /// Resolves to every address of the host, in the resolver's order (getaddrinfo
    /// sorts them by RFC 6724 preference), so a client can try each one in turn:
    /// `localhost` is often both `::1` and `127.0.0.1`, and only one may be listening.
    ///
    /// The lookup runs on a blocking thread (getaddrinfo cannot be cancelled), bounded by
    /// `timeout` so a dead DNS server cannot hang the command.
    pub async fn resolve(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Vec<SocketAddr>, ResolveError> {
        if let Some(addr) = self.literal() {
            return Ok(vec![addr]);
        }
        let target = self.to_string();
        let Host::Name(name) = &self.host else {
            return Ok(Vec::new());
        };
        let lookup = tokio::net::lookup_host((name.clone(), self.port));
        let result = match timeout {
            Some(limit) => match tokio::time::timeout(limit, lookup).await {
                Ok(result) => result,
                Err(_) => {
                    return Err(ResolveError {
                        target,
                        reason: format!("timed out after {}", crate::net::error::secs(limit)),
                    })
                }
            },
            None => lookup.await,
        };
        let addrs: Vec<SocketAddr> = result
            .map_err(|err| ResolveError {
                target: target.clone(),
                reason: resolve_reason(&err),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(ResolveError {
                target,
                reason: "no addresses found".to_string(),
            });
        }
        let mut unique = Vec::with_capacity(addrs.len());
        for addr in addrs {
            if !unique.contains(&addr) {
                unique.push(addr);
            }
        }
        tracing::debug!("resolved {target}: {unique:?}");
        Ok(unique)
    }
}

/// getaddrinfo's errors come back as "failed to lookup address information: Name or
/// service not known"; keep only the useful part.
fn resolve_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    crate::net::error::lower_first(text)
}

/// Why no local address could be chosen for a connection.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The name did not resolve.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The source address has no address of the destination's family: an IPv4 socket
    /// cannot send from an IPv6 address, nor the other way round.
    #[error("{source_addr}: no address of the same family as the destination ({})", join_addrs(.dests))]
    FamilyMismatch {
        /// The source address as written.
        source_addr: String,
        /// The destination addresses.
        dests: Vec<SocketAddr>,
    },
}

fn join_addrs(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Resolves where to listen: an IP literal as is, a name to its first address, IPv4
/// first (`localhost:0` then listens on `127.0.0.1`, which every client can reach,
/// where `::1` would miss IPv4-only clients).
pub async fn resolve_listen(addr: &HostPort) -> Result<SocketAddr, ResolveError> {
    let mut addrs = addr.resolve(None).await?;
    prefer_ipv4(&mut addrs);
    addrs.first().copied().ok_or_else(|| ResolveError {
        target: addr.to_string(),
        reason: "no addresses found".to_string(),
    })
}

/// Chooses the local address to send from (a client's bind address) among what `source`
/// resolves to: the first, IPv4 first, whose family matches one of `dests`. The caller
/// then tries only the destinations of that family.
pub async fn select_source(
    source: &HostPort,
    dests: &[SocketAddr],
) -> Result<SocketAddr, SelectError> {
    let mut local = source.resolve(None).await?;
    prefer_ipv4(&mut local);
    local
        .into_iter()
        .find(|candidate| dests.iter().any(|d| d.is_ipv4() == candidate.is_ipv4()))
        .ok_or_else(|| SelectError::FamilyMismatch {
            source_addr: source.to_string(),
            dests: dests.to_vec(),
        })
}

/// Which address family a command may use (`-4`, `-6`, or either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Whatever the name resolves to.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// Whether `addr` is of this family.
    pub fn allows(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }

    /// Keeps the addresses of this family; an error naming `target` when none is left
    /// (a name with only IPv6 addresses under `-4`, an IPv4 literal under `-6`).
    pub fn keep(self, target: &str, addrs: &mut Vec<SocketAddr>) -> Result<(), ResolveError> {
        addrs.retain(|a| self.allows(a));
        if addrs.is_empty() {
            let wanted = if self == Family::V4 { "IPv4" } else { "IPv6" };
            return Err(ResolveError {
                target: target.to_string(),
                reason: format!("no {wanted} address"),
            });
        }
        Ok(())
    }
}

/// Orders addresses IPv4 first, keeping the resolver's order within each family.
///
/// Used for UDP, where there is no handshake to tell which address is served: the course
/// examples and most servers are IPv4, while `localhost` often resolves to `::1` first.
pub fn prefer_ipv4(addrs: &mut [SocketAddr]) {
    addrs.sort_by_key(|addr| addr.is_ipv6());
}

#[cfg(test)]
mod select_tests {
    use super::*;

    #[tokio::test]
    async fn the_source_matches_the_destination_family() {
        let v4: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let src = parse_bind_addr("127.0.0.2").unwrap();
        assert_eq!(
            select_source(&src, &[v6, v4])
                .await
                .unwrap()
                .ip()
                .to_string(),
            "127.0.0.2"
        );
        let err = select_source(&src, &[v6]).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "127.0.0.2:0: no address of the same family as the destination ([::1]:9)"
        );
    }

    #[tokio::test]
    async fn listening_on_a_literal_needs_no_lookup() {
        let hp = parse_listen_addr("127.0.0.1:0").unwrap();
        assert_eq!(
            resolve_listen(&hp).await.unwrap().to_string(),
            "127.0.0.1:0"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: u8, b: u8, c: u8, d: u8) -> Host {
        Host::Ip(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
    }

    #[test]
    fn bare_port_listens_on_all_ipv4_interfaces() {
        let hp = parse_listen_addr("5000").unwrap();
        assert_eq!(hp.host, v4(0, 0, 0, 0));
        assert_eq!(hp.port, 5000);
        assert_eq!(parse_listen_addr(":5000").unwrap(), hp);
        assert_eq!(parse_listen_addr("0").unwrap().port, 0);
    }

    #[test]
    fn the_ready_line_says_when_every_interface_listens() {
        // The rule: a bare PORT or :PORT binds 0.0.0.0, and the ready line says so.
        for text in ["9000", ":9000"] {
            let addr = parse_listen_addr(text).unwrap().literal().unwrap();
            assert_eq!(listen_display(addr), "0.0.0.0:9000 (all interfaces)");
        }
        let v6 = parse_listen_addr("[::]:9000").unwrap().literal().unwrap();
        assert_eq!(listen_display(v6), "[::]:9000 (all interfaces)");
        let local = parse_listen_addr("127.0.0.1:9000")
            .unwrap()
            .literal()
            .unwrap();
        assert_eq!(listen_display(local), "127.0.0.1:9000");
        assert!(!is_all_interfaces(&local));
    }

    #[test]
    fn listen_accepts_ipv4_ipv6_and_names() {
        assert_eq!(
            parse_listen_addr("127.0.0.1:80").unwrap().literal(),
            Some("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(
            parse_listen_addr("[::1]:80").unwrap().literal(),
            Some("[::1]:80".parse().unwrap())
        );
        assert_eq!(
            parse_listen_addr("[::]:0").unwrap().literal(),
            Some("[::]:0".parse().unwrap())
        );
        assert_eq!(
            parse_listen_addr("localhost:80").unwrap().host,
            Host::Name("localhost".into())
        );
    }

    #[test]
    fn bad_ports_are_rejected_with_the_reason() {
        assert_eq!(
            parse_listen_addr("99999"),
            Err(AddrError::PortRange("99999".into()))
        );
        assert_eq!(
            parse_listen_addr("abc"),
            Err(AddrError::PortNotNumber("abc".into()))
        );
        assert_eq!(
            parse_host_port("127.0.0.1:abc"),
            Err(AddrError::PortNotNumber("abc".into()))
        );
        assert_eq!(
            parse_host_port("127.0.0.1:65536"),
            Err(AddrError::PortRange("65536".into()))
        );
        assert_eq!(
            parse_host_port("127.0.0.1:-1"),
            Err(AddrError::PortRange("-1".into()))
        );
        assert_eq!(
            parse_listen_addr("-1"),
            Err(AddrError::PortRange("-1".into()))
        );
        assert_eq!(
            parse_listen_addr("-1").unwrap_err().to_string(),
            "invalid port '-1': out of range (0-65535)"
        );
        assert_eq!(parse_host_port("127.0.0.1:0"), Err(AddrError::PortZero));
        assert!(parse_host_port("127.0.0.1:").is_err());
    }

    #[test]
    fn destinations_need_host_and_port() {
        assert_eq!(
            parse_host_port("5000"),
            Err(AddrError::MissingHost("5000".into()))
        );
        assert_eq!(
            parse_host_port("localhost"),
            Err(AddrError::MissingPort("localhost".into()))
        );
        assert_eq!(
            parse_host_port(":80"),
            Err(AddrError::MissingHost(":80".into()))
        );
        let hp = parse_host_port("localhost:8000").unwrap();
        assert_eq!(hp.host, Host::Name("localhost".into()));
        assert_eq!(hp.to_string(), "localhost:8000");
    }

    #[test]
    fn ipv6_needs_brackets_with_a_port() {
        assert_eq!(
            parse_host_port("::1:80"),
            Err(AddrError::Ipv6NeedsBrackets("::1:80".into()))
        );
        assert_eq!(parse_host_port("[::1]:80").unwrap().to_string(), "[::1]:80");
        assert!(matches!(
            parse_host_port("[::1:80"),
            Err(AddrError::BadIpv6(_))
        ));
        assert!(matches!(
            parse_host_port("[zz::1]:80"),
            Err(AddrError::BadIpv6(_))
        ));
        assert!(matches!(
            parse_host_port("[::1]80"),
            Err(AddrError::BadIpv6(_))
        ));
    }

    #[test]
    fn dotted_digits_must_be_a_real_ipv4_address() {
        assert_eq!(
            parse_host_port("300.1.1.1:80"),
            Err(AddrError::BadIpv4("300.1.1.1".into()))
        );
        assert_eq!(
            parse_host_port("1.2.3:80"),
            Err(AddrError::BadIpv4("1.2.3".into()))
        );
        assert_eq!(
            parse_host_port("10.0.0.1:80").unwrap().host,
            v4(10, 0, 0, 1)
        );
    }

    #[test]
    fn host_names_are_checked() {
        assert!(matches!(
            parse_host_port("bad host:80"),
            Err(AddrError::BadHost(_))
        ));
        assert!(matches!(
            parse_host_port("a..b:80"),
            Err(AddrError::BadHost(_))
        ));
        assert!(matches!(
            parse_host_port("-x:80"),
            Err(AddrError::BadHost(_))
        ));
        assert!(parse_host_port("my-host.example_1.org:80").is_ok());
    }

    #[test]
    fn bind_addresses_may_omit_the_port() {
        let hp = parse_bind_addr("127.0.0.1").unwrap();
        assert_eq!((hp.host, hp.port), (v4(127, 0, 0, 1), 0));
        let hp = parse_bind_addr("127.0.0.1:4000").unwrap();
        assert_eq!(hp.port, 4000);
        let hp = parse_bind_addr("::1").unwrap();
        assert_eq!(hp.literal(), Some("[::1]:0".parse().unwrap()));
        let hp = parse_bind_addr("[::1]:7").unwrap();
        assert_eq!(hp.literal(), Some("[::1]:7".parse().unwrap()));
        assert!(parse_bind_addr("1.2.3.4:99999").is_err());
    }

    #[test]
    fn ipv4_is_preferred_for_udp() {
        let mut addrs: Vec<SocketAddr> =
            vec!["[::1]:5".parse().unwrap(), "127.0.0.1:5".parse().unwrap()];
        prefer_ipv4(&mut addrs);
        assert!(addrs[0].is_ipv4());
    }

    #[tokio::test]
    async fn literals_resolve_without_lookup() {
        let hp = parse_host_port("127.0.0.1:9").unwrap();
        assert_eq!(
            hp.resolve(None).await.unwrap(),
            vec!["127.0.0.1:9".parse::<SocketAddr>().unwrap()]
        );
    }
}
