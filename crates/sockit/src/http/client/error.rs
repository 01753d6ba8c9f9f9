//! What can go wrong with an HTTP exchange, in classes a caller can act on.

use crate::http::proto::response_head::ResponseError;
use crate::net::addr::ResolveError;
use crate::net::socket::ConnectError;

/// An HTTP client failure. The classes matter to scripts: a network failure may be
/// worth retrying, a malformed response is the server's bug, an error status is an
/// answer (`sockit` maps them to exit codes 1, 3 and 4).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL or a request option cannot be used (bad scheme, bad header line).
    #[error("{0}")]
    Request(String),
    /// The host name did not resolve.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No address of the host accepted the connection.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// Reading or writing the connection failed (reset, broken pipe).
    #[error("{context}: {source}")]
    Io {
        /// What was being done (`sending the request to 127.0.0.1:80`).
        context: String,
        /// The system error.
        #[source]
        source: std::io::Error,
    },
    /// `--timeout` or `--connect-timeout` ran out.
    #[error("{0}")]
    Timeout(String),
    /// TLS setup or handshake failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The response broke HTTP/1.1 syntax or framing, or ended too early.
    #[error("malformed response from {peer}: {error}")]
    Malformed {
        /// Who sent it.
        peer: String,
        /// What and where (offset in the bytes received on that connection).
        error: ResponseError,
    },
    /// Redirects went round in a loop or past the limit.
    #[error("{0}")]
    Redirects(String),
    /// The final status was an error (4xx/5xx) and the caller asked to fail on it.
    #[error("HTTP error {status} {reason} from {url}")]
    Status {
        /// The status code.
        status: u16,
        /// The reason phrase as sent.
        reason: String,
        /// The URL that answered.
        url: String,
    },
    /// Writing the body to its destination failed (stdout closed, disk full).
    #[error("{context}: {source}")]
    Output {
        /// Where the body was going.
        context: String,
        /// The system error.
        #[source]
        source: std::io::Error,
    },
}

impl ClientError {
    /// True for a malformed or truncated response (the server's fault).
    pub fn is_malformed(&self) -> bool {
        matches!(self, ClientError::Malformed { .. })
    }

    /// True for an HTTP error status refused under `--fail`.
    pub fn is_status(&self) -> bool {
        matches!(self, ClientError::Status { .. })
    }

    /// True for a request the caller described wrongly (bad URL, bad header).
    pub fn is_request(&self) -> bool {
        matches!(self, ClientError::Request(_))
    }
}
