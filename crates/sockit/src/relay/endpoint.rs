//! Relay endpoints in one small syntax, socat's idea with fewer spellings:
//! `tcp:HOST:PORT`, `tcp-listen:[HOST:]PORT` (host 127.0.0.1 when left out),
//! `unix:PATH`, `unix-listen:PATH`.

use std::fmt;
use std::path::PathBuf;

use crate::net::addr::{parse_host_port, HostPort};

/// Where a relay accepts connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// `tcp-listen:[HOST:]PORT`.
    Tcp(HostPort),
    /// `unix-listen:PATH`: a Unix-domain stream socket at a path in the file system.
    Unix(PathBuf),
}

/// Where a relay connects for each accepted connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `tcp:HOST:PORT`.
    Tcp(HostPort),
    /// `unix:PATH`.
    Unix(PathBuf),
}

/// An endpoint that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not one of the known kinds.
    #[error("'{0}': expected tcp-listen:[HOST:]PORT or unix-listen:PATH")]
    NotListen(String),
    /// Not one of the known kinds.
    #[error("'{0}': expected tcp:HOST:PORT or unix:PATH")]
    NotTarget(String),
    /// The address part is wrong.
    #[error("'{text}': {reason}")]
    Address {
        /// The endpoint as written.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
}

fn address(text: &str, reason: impl fmt::Display) -> EndpointError {
    EndpointError::Address {
        text: text.to_string(),
        reason: reason.to_string(),
    }
}

fn path(text: &str, rest: &str) -> Result<PathBuf, EndpointError> {
    if rest.is_empty() || rest.contains('\0') {
        return Err(address(text, "expected a socket path"));
    }
    Ok(PathBuf::from(rest))
}

/// Parses a listening endpoint.
pub fn parse_listen(text: &str) -> Result<Listen, EndpointError> {
    if let Some(rest) = text.strip_prefix("tcp-listen:") {
        // A bare port listens on loopback only: a relay exposes whatever it forwards to.
        let with_host = if rest.contains(':') {
            rest.to_string()
        } else {
            format!("127.0.0.1:{rest}")
        };
        return crate::net::addr::parse_listen_addr(&with_host)
            .map(Listen::Tcp)
            .map_err(|err| address(text, err));
    }
    if let Some(rest) = text.strip_prefix("unix-listen:") {
        return path(text, rest).map(Listen::Unix);
    }
    Err(EndpointError::NotListen(text.to_string()))
}

/// Parses a target endpoint.
pub fn parse_target(text: &str) -> Result<Target, EndpointError> {
    if let Some(rest) = text.strip_prefix("tcp:") {
        return parse_host_port(rest)
            .map(Target::Tcp)
            .map_err(|err| address(text, err));
    }
    if let Some(rest) = text.strip_prefix("unix:") {
        return path(text, rest).map(Target::Unix);
    }
    Err(EndpointError::NotTarget(text.to_string()))
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(hp) => write!(f, "tcp-listen:{hp}"),
            Listen::Unix(p) => write!(f, "unix-listen:{}", p.display()),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp(hp) => write!(f, "tcp:{hp}"),
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_and_print_back() {
        let l = parse_listen("tcp-listen:9000").unwrap();
        assert_eq!(l.to_string(), "tcp-listen:127.0.0.1:9000");
        assert_eq!(
            parse_listen("unix-listen:/tmp/s").unwrap(),
            Listen::Unix("/tmp/s".into())
        );
        assert_eq!(
            parse_target("tcp:localhost:80").unwrap().to_string(),
            "tcp:localhost:80"
        );
        assert_eq!(
            parse_target("unix:/run/x.sock").unwrap(),
            Target::Unix("/run/x.sock".into())
        );
    }

    #[test]
    fn bad_endpoints_are_refused() {
        assert!(matches!(
            parse_listen("tcp:80"),
            Err(EndpointError::NotListen(_))
        ));
        assert!(matches!(
            parse_target("udp:1.2.3.4:5"),
            Err(EndpointError::NotTarget(_))
        ));
        assert!(matches!(
            parse_target("tcp:nohost"),
            Err(EndpointError::Address { .. })
        ));
        assert!(matches!(
            parse_listen("unix-listen:"),
            Err(EndpointError::Address { .. })
        ));
        assert!(matches!(
            parse_listen("tcp-listen:99999"),
            Err(EndpointError::Address { .. })
        ));
    }
}
