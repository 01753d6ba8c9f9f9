//! The binary's error classes and the exit codes they map to.
//!
//! Only the binary knows flags and exit codes: library errors describe the problem, and
//! a command that knows the problem came from a flag or its input wraps it in a
//! [`UsageError`] (exit 2).

/// Exit code for success.
pub const EXIT_OK: i32 = 0;
/// Exit code for a runtime or network failure (refused, reset, timeout, I/O error).
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for bad usage or bad input (bad port, bad address, bad option value, bad format).
pub const EXIT_USAGE: i32 = 2;

/// An error caused by what the user gave us (an argument, an option value, input data),
/// as opposed to a failure of the network or the system.
///
/// The binary maps any error whose chain contains a `UsageError` to exit code
/// [`EXIT_USAGE`]; everything else exits with [`EXIT_FAILURE`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    /// Builds a usage error from anything printable.
    pub fn new(msg: impl Into<String>) -> Self {
        UsageError(msg.into())
    }
}
