//! What both ends share: progress reports, session outcomes, the error type.

use std::sync::Arc;
use std::time::Duration;

use super::proto::ProtoError;

/// Which stage a session is in, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the peer (to connect, or to accept the offer).
    Waiting,
    /// Hashing a prefix already on disk, to resume after it.
    Hashing,
    /// File bytes are flowing.
    Transfer,
}

/// A progress report. Transfer progress counts what the receiver acknowledged, so the
/// sender and the receiver show the same number.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The stage.
    pub phase: Phase,
    /// Bytes done in this phase.
    pub done: u64,
    /// Bytes this phase will take (0 when unknown).
    pub total: u64,
    /// The file being worked on (escaped for display), if any.
    pub file: Option<String>,
}

/// Where progress reports go (the binary draws bars with them). Called from the session's
/// thread at most every few milliseconds; it must return quickly.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How one session ended, from either side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Files offered.
    pub files: u64,
    /// Files now on the receiver's disk as offered (verified, or identical already).
    pub verified: u64,
    /// Files skipped on purpose (`--skip-existing`, `--skip-identical`).
    pub skipped: u64,
    /// Files that did not arrive (the messages said which).
    pub failed: u64,
    /// File bytes that went over the wire in this session.
    pub bytes: u64,
    /// Bytes not sent again thanks to resumed prefixes.
    pub resumed: u64,
    /// Wall time of the session.
    pub elapsed: Duration,
}

impl Outcome {
    /// Every file arrived and verified (or was skipped on purpose).
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.verified + self.skipped == self.files
    }
}

/// Why a transfer could not be done.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The peer broke the protocol, or does not speak it.
    #[error(transparent)]
    Protocol(#[from] ProtoError),
    /// The receiver refused the offer.
    #[error("the receiver refused the offer: {0}")]
    Refused(String),
    /// A local file-system or socket failure.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// No connection could be made.
    #[error(transparent)]
    Connect(#[from] crate::net::ConnectError),
    /// Nothing was offered, or the command line named something that cannot be sent.
    #[error("{0}")]
    Usage(String),
    /// The peer went away mid-session.
    #[error("the connection ended early: {0}")]
    Cut(String),
    /// Shut down by the caller.
    #[error("interrupted")]
    Interrupted,
}

impl TransferError {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> TransferError {
        TransferError::Io {
            context: context.into(),
            source,
        }
    }

    /// Whether this is the user's mistake (exit code 2), not a failure of the transfer.
    pub fn is_usage(&self) -> bool {
        matches!(self, TransferError::Usage(_))
    }
}

/// Formats a byte count for people: `1.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Turns an I/O error from the connection into the right kind of transfer error: an
/// early end or reset is a cut, anything else a protocol or I/O failure.
pub(crate) fn from_proto(err: ProtoError) -> TransferError {
    match err {
        ProtoError::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
            ) =>
        {
            TransferError::Cut(crate::net::error::describe(&e))
        }
        ProtoError::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            TransferError::Cut("the peer went silent (timeout)".into())
        }
        other => TransferError::Protocol(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(5), "5 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
