//! Server settings, checked once at startup so the hot path never re-validates them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::error::UsageError;

/// How each finished request is written to the access log on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// No access log at all: nothing is formatted per request (benchmarks run like this).
    Off,
    /// Common Log Format, the line every log analyser understands.
    Common,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Everything `sockit http serve` needs to know; built from the command line or by a library user.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The folder that is served; no request may reach outside it.
    pub root: PathBuf,
    /// Address and port to listen on (port 0 lets the kernel pick a free one).
    pub addr: SocketAddr,
    /// Allow PUT, DELETE and POST (uploads); without it they answer 405.
    pub write: bool,
    /// Answer TRACE by echoing the request head (off: 405), as it can leak headers.
    pub allow_trace: bool,
    /// Send `Access-Control-Allow-Origin: *` and answer CORS preflight requests.
    pub cors: bool,
    /// Serve the root `index.html` for unknown paths (single-page applications).
    pub spa: bool,
    /// Serve and list dot-files; hidden (404) by default.
    pub hidden: bool,
    /// Follow symlinks that point outside the folder (refused with 403 by default).
    pub follow_symlinks: bool,
    /// Gzip text responses on the fly when the client accepts it.
    pub compress: bool,
    /// Extra `Name: value` headers added to every response.
    pub headers: Vec<(String, String)>,
    /// Required Basic credentials `(user, password)`.
    pub auth: Option<(String, String)>,
    /// Largest request body accepted for uploads, in bytes (413 beyond).
    pub max_upload: u64,
    /// Time a client has to send a complete request head once it started one (408 after).
    pub header_timeout: Duration,
    /// Time an idle keep-alive connection is kept open, and the longest a body read or a
    /// response write may stall.
    pub idle_timeout: Duration,
    /// Open connections beyond this are answered 503 and closed.
    pub max_connections: usize,
    /// Access log format.
    pub log: LogFormat,
    /// Number of worker threads (each with its own event loop and listening socket).
    pub workers: usize,
    /// How the kernel spreads new connections over the workers' listening sockets.
    pub spread: Spread,
    /// Where the server reports what happens; per-connection socket details are
    /// [`Level::Verbose`](crate::event::Level::Verbose) events.
    pub events: crate::event::Events,
}

/// How new connections are spread over the workers (see [`crate::net::steer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// To the worker matching the CPU the handshake arrived on (the default).
    Cpu,
    /// By the kernel's hash of addresses and ports (`SO_REUSEPORT` without a program).
    Hash,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            root: PathBuf::from("."),
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8000),
            write: false,
            allow_trace: false,
            cors: false,
            spa: false,
            hidden: false,
            follow_symlinks: false,
            compress: false,
            headers: Vec::new(),
            auth: None,
            max_upload: 1 << 30,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            log: LogFormat::Common,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            spread: Spread::Cpu,
            events: crate::event::Events::discard(),
        }
    }
}

/// Parses a byte size such as `1048576`, `512K`, `10M`, `1G`, `2GiB` or `10MB`.
///
/// Suffixes are binary (K = 1024). Used for `--max-upload`, so a typo must be an error,
/// not a silently huge or zero limit.
pub fn parse_size(text: &str) -> Result<u64, UsageError> {
    crate::net::values::parse_byte_count(text)
        .map_err(|why| UsageError::new(format!("--max-upload: {why}")))
}

/// Checks a `--header 'Name: value'` argument and splits it.
///
/// The name must be an HTTP token and the value free of CR/LF, or a user could inject
/// whole header lines (response splitting) from the command line by accident.
pub fn parse_header_arg(text: &str) -> Result<(String, String), UsageError> {
    let bad = |why: &str| UsageError::new(format!("invalid --header {text:?}: {why}"));
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| bad("expected 'Name: value'"))?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(crate::http::message::is_token_byte) {
        return Err(bad("the name must be a token (letters, digits, -)"));
    }
    let value = value.trim();
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(bad("the value may not contain control characters"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// Checks a `--auth user:pass` argument and splits it at the first colon.
pub fn parse_auth_arg(text: &str) -> Result<(String, String), UsageError> {
    match text.split_once(':') {
        Some((user, pass)) if !user.is_empty() => Ok((user.to_string(), pass.to_string())),
        _ => Err(UsageError::new(format!(
            "invalid --auth {text:?}: expected user:password"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_bytes_and_binary_suffixes() {
        assert_eq!(parse_size("100").unwrap(), 100);
        assert_eq!(parse_size("10M").unwrap(), 10 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("10MB").unwrap(), 10 << 20);
        assert_eq!(parse_size("0").unwrap(), 0);
    }

    #[test]
    fn sizes_reject_garbage_and_overflow() {
        for bad in [
            "",
            "M",
            "-1",
            "1.5G",
            "10X",
            "99999999999999999999",
            "16777216T",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn header_args_are_validated() {
        assert_eq!(
            parse_header_arg("X-Test: a b").unwrap(),
            ("X-Test".to_string(), "a b".to_string())
        );
        assert!(parse_header_arg("no colon").is_err());
        assert!(parse_header_arg("Bad Name: x").is_err());
        assert!(parse_header_arg("X: a\r\nInjected: 1").is_err());
    }

    #[test]
    fn auth_args_split_at_first_colon() {
        assert_eq!(
            parse_auth_arg("u:p:q").unwrap(),
            ("u".to_string(), "p:q".to_string())
        );
        assert!(parse_auth_arg("nopass").is_err());
        assert!(parse_auth_arg(":x").is_err());
    }
}
