//! Access log on stderr: Common Log Format or JSON lines.
//!
//! Callers check [`LogFormat::Off`] before building anything, so a `--quiet` server does
//! no formatting at all per request. When on, a line is built in a reused per-thread
//! buffer and written with one `write`, so lines from several workers never interleave.

use std::cell::RefCell;
use std::io::Write;
use std::net::IpAddr;

use crate::http::config::LogFormat;

/// One finished request, as the access log sees it.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Client address.
    pub peer: IpAddr,
    /// Authenticated user, if `--auth` is on and the client passed it.
    pub user: Option<&'a str>,
    /// Method as sent.
    pub method: &'a str,
    /// Request target as sent.
    pub target: &'a [u8],
    /// HTTP minor version (0 or 1); `None` when the head was refused before it could be
    /// read: then `target` holds the rest of the request line as sent (version included).
    pub minor: Option<u8>,
    /// Status sent.
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
}

/// An owned copy of what a log line needs from a request head, for responses that
/// finish after the read buffer moved on (uploads, big files).
#[derive(Debug, Clone, Default)]
pub struct Owned {
    /// Method.
    pub method: String,
    /// Target.
    pub target: Vec<u8>,
    /// Minor version.
    pub minor: Option<u8>,
    /// User.
    pub user: Option<String>,
}

impl Owned {
    /// Borrows it back as a record.
    pub fn record(&self, peer: IpAddr, status: u16, bytes: u64) -> Record<'_> {
        Record {
            peer,
            user: self.user.as_deref(),
            method: &self.method,
            target: &self.target,
            minor: self.minor,
            status,
            bytes,
        }
    }
}

thread_local! {
    static LINE: RefCell<(u64, String, String)> = const { RefCell::new((u64::MAX, String::new(), String::new())) };
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `22/Nov/2026:01:53:07 +0000` for Unix seconds.
pub fn clf_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil(days);
    format!(
        "{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000",
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// `2026-11-22T01:53:07Z` for Unix seconds.
pub fn iso_time(secs: u64) -> String {
    let (y, m, d) = civil((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Appends bytes for a quoted CLF field: printable ASCII as is, `"` `\` and anything
/// else as `\xHH`, so a hostile request line cannot forge log lines.
fn push_escaped(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
}

/// Formats one record into `out` (no trailing newline).
pub fn format(format: LogFormat, time_clf: &str, time_iso: &str, r: &Record<'_>, out: &mut String) {
    use std::fmt::Write as _;
    let version = match r.minor {
        Some(0) => "HTTP/1.0",
        Some(_) => "HTTP/1.1",
        None => "",
    };
    match format {
        LogFormat::Off => {}
        LogFormat::Common => {
            let user = r.user.unwrap_or("-");
            let _ = write!(out, "{} - ", r.peer);
            push_escaped(out, user.as_bytes());
            let _ = write!(out, " [{time_clf}] \"");
            push_escaped(out, r.method.as_bytes());
            if !r.target.is_empty() {
                out.push(' ');
                push_escaped(out, r.target);
            }
            if !version.is_empty() {
                out.push(' ');
                out.push_str(version);
            }
            let _ = write!(out, "\" {} {}", r.status, r.bytes);
        }
        LogFormat::Json => {
            let obj = serde_json::json!({
                "time": time_iso,
                "remote": r.peer.to_string(),
                "user": r.user,
                "method": r.method,
                "path": String::from_utf8_lossy(r.target),
                "version": version,
                "status": r.status,
                "bytes": r.bytes,
            });
            out.push_str(&obj.to_string());
        }
    }
}

/// Writes one record to stderr (no-op when logging is off).
pub fn write(fmt: LogFormat, r: &Record<'_>) {
    if fmt == LogFormat::Off {
        return;
    }
    let now = crate::http::response::now_secs();
    LINE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let (secs, times, line) = &mut *cell;
        if *secs != now {
            *secs = now;
            *times = format!("{}|{}", clf_time(now), iso_time(now));
        }
        let (clf, iso) = times.split_once('|').unwrap_or(("", ""));
        let mut out = std::mem::take(line);
        out.clear();
        format(fmt, clf, iso, r, &mut out);
        out.push('\n');
        let _ = std::io::stderr().lock().write_all(out.as_bytes());
        *line = out;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_time_matches_example() {
        // 2026-11-22T01:53:07Z
        let secs = 1_795_312_387;
        assert_eq!(clf_time(secs), "22/Nov/2026:01:53:07 +0000");
        assert_eq!(iso_time(secs), "2026-11-22T01:53:07Z");
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
    }

    #[test]
    fn common_format_line() {
        let r = Record {
            peer: "127.0.0.1".parse().unwrap(),
            user: None,
            method: "GET",
            target: b"/x\"y",
            minor: Some(1),
            status: 200,
            bytes: 1234,
        };
        let mut s = String::new();
        format(
            LogFormat::Common,
            "22/Nov/2026:01:53:07 +0000",
            "",
            &r,
            &mut s,
        );
        assert_eq!(
            s,
            "127.0.0.1 - - [22/Nov/2026:01:53:07 +0000] \"GET /x\\x22y HTTP/1.1\" 200 1234"
        );
    }

    #[test]
    fn json_format_line() {
        let r = Record {
            peer: "::1".parse().unwrap(),
            user: Some("bob"),
            method: "PUT",
            target: b"/f",
            minor: Some(0),
            status: 201,
            bytes: 0,
        };
        let mut s = String::new();
        format(LogFormat::Json, "", "2026-11-22T01:53:07Z", &r, &mut s);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["status"], 201);
        assert_eq!(v["method"], "PUT");
        assert_eq!(v["remote"], "::1");
        assert_eq!(v["version"], "HTTP/1.0");
    }
}
