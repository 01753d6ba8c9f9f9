//! Turning system errors into short, lowercase phrases for one-line messages.
//!
//! `io::Error`'s Display is "Connection refused (os error 111)"; users want
//! `sockit: connect to 127.0.0.1:9: connection refused`.

use std::io;
use std::time::Duration;

/// Describes an I/O error as a short lowercase phrase without the "(os error N)" suffix.
pub fn describe(err: &io::Error) -> String {
    if err.raw_os_error().is_none() {
        if err.kind() == io::ErrorKind::TimedOut {
            return "timed out".to_string();
        }
        return lower_first(&err.to_string());
    }
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    lower_first(text)
}

/// Lowercases the first character ("Connection refused" -> "connection refused").
pub fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if !text.starts_with("IP") && !text.starts_with("TCP") => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.to_string(),
    }
}

/// True for errors that mean the peer went away while we were writing or reading:
/// the expected end of a connection from the other side, not our failure.
pub fn is_peer_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::UnexpectedEof
    )
}

/// Formats a duration as seconds for messages: "5 s", "0.5 s".
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_lose_their_number_and_capital() {
        let err = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(describe(&err), "connection refused");
        let err = io::Error::from_raw_os_error(libc::EPIPE);
        assert_eq!(describe(&err), "broken pipe");
    }

    #[test]
    fn custom_errors_are_kept() {
        let err = io::Error::other("Something odd");
        assert_eq!(describe(&err), "something odd");
        let err = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(describe(&err), "timed out");
    }

    #[test]
    fn durations_print_as_seconds() {
        assert_eq!(secs(Duration::from_secs(5)), "5 s");
        assert_eq!(secs(Duration::from_millis(500)), "0.5 s");
    }
}
