//! Server settings, checked once at startup so the hot path never re-validates them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::proto::fields::is_token_byte;
use super::proto::response::RESERVED;
use super::server::{LogFormat, LogSink, Spread};

/// The longest timeout accepted: one year. Longer ones are surely typos, and deadlines
/// computed from them must stay far from the clock's overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// The most worker threads accepted (each has its own thread, event loop and socket).
pub const MAX_WORKERS: usize = 1024;

/// A setting that cannot work; the message names the setting, not a command-line flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A timeout of zero or over [`MAX_DURATION`].
    #[error("the {0} must be between 1 second and one year (31536000 seconds)")]
    Timeout(&'static str),
    /// No workers, or more than [`MAX_WORKERS`].
    #[error("the number of workers must be between 1 and {MAX_WORKERS}")]
    Workers,
    /// A connection limit of zero.
    #[error("the connection limit must be at least 1")]
    Connections,
    /// An extra header that is malformed or would frame responses wrongly.
    #[error("{0}")]
    Header(String),
}

/// Everything needed to serve a folder; built from the command line or by a library user.
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
    /// Extra `Name: value` headers on every response; each replaces the server's
    /// default header of the same name (see [`check_header`]).
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
    /// Access log format ([`LogFormat::Off`] by default: a library does not write
    /// anywhere unless told where).
    pub log: LogFormat,
    /// Where access-log lines go.
    pub log_to: LogSink,
    /// Number of worker threads (each with its own event loop and listening socket).
    pub workers: usize,
    /// How the kernel spreads new connections over the workers' listening sockets.
    pub spread: Spread,
    /// Where the server reports what happens; per-connection socket details are
    /// [`Level::Verbose`](crate::event::Level::Verbose) events.
    pub events: crate::event::Events,
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
            log: LogFormat::Off,
            log_to: LogSink::discard(),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            spread: Spread::Cpu,
            events: crate::event::Events::discard(),
        }
    }
}

impl ServeConfig {
    /// Checks every setting that could make the server fail later (a timeout whose
    /// deadline overflows the clock, a thread per worker beyond reason, a header that
    /// breaks message framing).
    pub fn check(&self) -> Result<(), ConfigError> {
        for (what, d) in [
            ("header timeout", self.header_timeout),
            ("idle timeout", self.idle_timeout),
        ] {
            if d < Duration::from_secs(1) || d > MAX_DURATION {
                return Err(ConfigError::Timeout(what));
            }
        }
        if self.workers == 0 || self.workers > MAX_WORKERS {
            return Err(ConfigError::Workers);
        }
        if self.max_connections == 0 {
            return Err(ConfigError::Connections);
        }
        for (name, value) in &self.headers {
            check_header(name, value)?;
        }
        Ok(())
    }
}

/// Checks an extra response header.
///
/// The name must be an HTTP token and the value free of control characters, or whole
/// header lines could be injected (response splitting); `Content-Length`,
/// `Transfer-Encoding`, `Connection` and `Date` are refused, since the server sets them
/// per response and a second value makes clients misread where a body ends.
pub fn check_header(name: &str, value: &str) -> Result<(), ConfigError> {
    let bad = |why: &str| Err(ConfigError::Header(why.to_string()));
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return bad("the name must be a token (letters, digits, -)");
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return bad("the value may not contain control characters");
    }
    if let Some(r) = RESERVED.iter().find(|r| r.eq_ignore_ascii_case(name)) {
        return Err(ConfigError::Header(format!(
            "{r} is set by the server for each response and cannot be configured"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_checked() {
        assert!(check_header("X-Test", "a b").is_ok());
        assert!(check_header("Bad Name", "x").is_err());
        assert!(check_header("X", "a\r\nInjected: 1").is_err());
        for name in ["content-length", "Transfer-Encoding", "CONNECTION", "Date"] {
            assert!(check_header(name, "1").is_err(), "{name}");
        }
        assert!(check_header("Server", "mine").is_ok());
    }

    #[test]
    fn timeouts_are_bounded() {
        let mut c = ServeConfig::default();
        assert!(c.check().is_ok());
        c.header_timeout = Duration::from_secs(u64::MAX);
        assert_eq!(c.check(), Err(ConfigError::Timeout("header timeout")));
        c.header_timeout = MAX_DURATION;
        c.idle_timeout = Duration::ZERO;
        assert_eq!(c.check(), Err(ConfigError::Timeout("idle timeout")));
        c.idle_timeout = MAX_DURATION;
        c.workers = MAX_WORKERS + 1;
        assert_eq!(c.check(), Err(ConfigError::Workers));
    }
}
