//! The access log: one line per request, Common Log Format or JSON, written in blocks.
//!
//! Lines are formatted into a buffer owned by the worker thread (no allocation, no
//! lock shared with other workers) and handed to the caller's writer when the buffer
//! passes [`FLUSH_AT`] bytes or [`FLUSH_AFTER`] after its first line, like nginx's
//! `access_log ... buffer=32k flush=...`: one `write(2)` carries many lines, and a line
//! never waits long before someone tailing the log sees it. Lines of several workers
//! never interleave mid-line, since every block ends with a whole line.
//!
//! Callers check [`LogFormat::Off`] first, so a `--quiet` server formats nothing.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::http::proto::date::{civil, iso_time, now_secs};

/// How each finished request is written to the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// No access log at all: nothing is formatted per request.
    Off,
    /// Common Log Format, the line every log analyser understands.
    Common,
    /// One JSON object per line, for log shippers.
    Json,
}

/// A buffer is handed to the writer once it holds this many bytes.
pub const FLUSH_AT: usize = 32 * 1024;
/// ... or this long after its first line, whichever comes first.
pub const FLUSH_AFTER: Duration = Duration::from_millis(200);

/// Where access-log lines go: any writer (a file, stderr, a pipe), shared by all
/// workers and written in whole blocks of lines.
#[derive(Clone)]
pub struct LogSink(Arc<Mutex<Box<dyn Write + Send>>>);

impl LogSink {
    /// Lines go to `writer`; a failing writer drops them (a server must not stop
    /// because nobody reads its log).
    pub fn new(writer: impl Write + Send + 'static) -> LogSink {
        LogSink(Arc::new(Mutex::new(Box::new(writer))))
    }

    /// Lines go nowhere.
    pub fn discard() -> LogSink {
        LogSink::new(std::io::sink())
    }

    fn write_block(&self, block: &[u8]) {
        let mut w = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = w.write_all(block);
        let _ = w.flush();
    }
}

impl Default for LogSink {
    fn default() -> LogSink {
        LogSink::discard()
    }
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogSink")
    }
}

/// One finished request, as the access log sees it.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Client address, as text (rendered once per connection, not per line).
    pub peer: &'a str,
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
    /// For a request whose client went away mid-body: the body bytes received.
    pub received: Option<u64>,
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
    pub fn record<'a>(&'a self, peer: &'a str, status: u16, bytes: u64) -> Record<'a> {
        Record {
            peer,
            user: self.user.as_deref(),
            method: &self.method,
            target: &self.target,
            minor: self.minor,
            status,
            bytes,
            received: None,
        }
    }
}

/// One worker's pending lines and its per-second timestamp cache.
#[derive(Default)]
struct Buf {
    bytes: Vec<u8>,
    secs: u64,
    clf: String,
    iso: String,
}

/// A server's access log: format, writer, one buffer (and flush timer) per worker.
pub(crate) struct AccessLog {
    format: LogFormat,
    sink: LogSink,
    buffers: Box<[Mutex<Buf>]>,
    wake: Box<[tokio::sync::Notify]>,
}

impl AccessLog {
    pub(crate) fn new(format: LogFormat, sink: LogSink, workers: usize) -> AccessLog {
        AccessLog {
            format,
            sink,
            buffers: (0..workers.max(1)).map(|_| Mutex::default()).collect(),
            wake: (0..workers.max(1))
                .map(|_| tokio::sync::Notify::new())
                .collect(),
        }
    }

    /// Whether lines are written at all (check before building a record).
    pub(crate) fn on(&self) -> bool {
        self.format != LogFormat::Off
    }

    fn buf(&self, worker: usize) -> Option<MutexGuard<'_, Buf>> {
        let m = self.buffers.get(worker)?;
        Some(m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Formats one record into worker `worker`'s buffer; hands the buffer to the
    /// writer when it is full, else makes sure the worker's timer will.
    pub(crate) fn write(&self, worker: usize, r: &Record<'_>) {
        if !self.on() {
            return;
        }
        let Some(mut b) = self.buf(worker) else {
            return;
        };
        let was_empty = b.bytes.is_empty();
        let now = now_secs();
        if b.secs != now || b.clf.is_empty() {
            b.secs = now;
            b.clf = clf_time(now);
            b.iso = iso_time(now);
        }
        let Buf {
            bytes, clf, iso, ..
        } = &mut *b;
        format(self.format, clf, iso, r, bytes);
        bytes.push(b'\n');
        if bytes.len() >= FLUSH_AT {
            self.sink.write_block(bytes);
            bytes.clear();
        } else if was_empty {
            if let Some(w) = self.wake.get(worker) {
                w.notify_one();
            }
        }
    }

    /// Hands worker `worker`'s pending lines to the writer.
    pub(crate) fn flush(&self, worker: usize) {
        if let Some(mut b) = self.buf(worker) {
            if !b.bytes.is_empty() {
                self.sink.write_block(&b.bytes);
                b.bytes.clear();
            }
        }
    }

    /// Hands every worker's pending lines to the writer (shutdown, forced exit).
    pub(crate) fn flush_all(&self) {
        for i in 0..self.buffers.len() {
            self.flush(i);
        }
    }

    /// The worker's flush timer: [`FLUSH_AFTER`] after a first line lands in an empty
    /// buffer, the buffer goes out. Runs on the worker's event loop for its lifetime.
    pub(crate) async fn flusher(self: Arc<Self>, worker: usize) {
        let Some(wake) = self.wake.get(worker) else {
            return;
        };
        loop {
            wake.notified().await;
            tokio::time::sleep(FLUSH_AFTER).await;
            self.flush(worker);
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

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

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends bytes for a quoted CLF field: printable ASCII as is, `"` `\` and anything
/// else as `\xHH`, so a hostile request line cannot forge log lines. Runs of plain
/// bytes are copied at once; nothing is allocated.
fn push_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let plain = |b: u8| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\';
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = rest.iter().position(|&b| !plain(b)).unwrap_or(rest.len());
        out.extend_from_slice(&rest[..n]);
        if let Some(&b) = rest.get(n) {
            out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
            rest = &rest[n + 1..];
        } else {
            rest = &[];
        }
    }
}

/// Formats one record into `out` (no trailing newline).
pub fn format(
    format: LogFormat,
    time_clf: &str,
    time_iso: &str,
    r: &Record<'_>,
    out: &mut Vec<u8>,
) {
    let version = match r.minor {
        Some(0) => "HTTP/1.0",
        Some(_) => "HTTP/1.1",
        None => "",
    };
    match format {
        LogFormat::Off => {}
        LogFormat::Common => {
            out.extend_from_slice(r.peer.as_bytes());
            out.extend_from_slice(b" - ");
            push_escaped(out, r.user.unwrap_or("-").as_bytes());
            out.extend_from_slice(b" [");
            out.extend_from_slice(time_clf.as_bytes());
            out.extend_from_slice(b"] \"");
            push_escaped(out, r.method.as_bytes());
            if !r.target.is_empty() {
                out.push(b' ');
                push_escaped(out, r.target);
            }
            if !version.is_empty() {
                out.push(b' ');
                out.extend_from_slice(version.as_bytes());
            }
            out.extend_from_slice(b"\" ");
            crate::http::proto::fields::push_u64(out, u64::from(r.status));
            out.push(b' ');
            crate::http::proto::fields::push_u64(out, r.bytes);
            if let Some(n) = r.received {
                out.extend_from_slice(b" received=");
                crate::http::proto::fields::push_u64(out, n);
            }
        }
        LogFormat::Json => {
            let mut obj = serde_json::json!({
                "time": time_iso,
                "remote": r.peer,
                "user": r.user,
                "method": r.method,
                "path": String::from_utf8_lossy(r.target),
                "version": version,
                "status": r.status,
                "bytes": r.bytes,
            });
            if let (Some(n), Some(map)) = (r.received, obj.as_object_mut()) {
                map.insert("received".into(), n.into());
            }
            let _ = serde_json::to_writer(&mut *out, &obj);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(target: &'static [u8]) -> Record<'static> {
        Record {
            peer: "127.0.0.1",
            user: None,
            method: "GET",
            target,
            minor: Some(1),
            status: 200,
            bytes: 1234,
            received: None,
        }
    }

    #[test]
    fn clf_time_matches_example() {
        let secs = 1_795_312_387; // 2026-11-22T01:53:07Z
        assert_eq!(clf_time(secs), "22/Nov/2026:01:53:07 +0000");
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
    }

    #[test]
    fn common_format_line() {
        let mut s = Vec::new();
        let r = record(b"/x\"y\\\x01");
        format(
            LogFormat::Common,
            "22/Nov/2026:01:53:07 +0000",
            "",
            &r,
            &mut s,
        );
        assert_eq!(
            String::from_utf8(s).unwrap(),
            "127.0.0.1 - - [22/Nov/2026:01:53:07 +0000] \"GET /x\\x22y\\x5C\\x01 HTTP/1.1\" 200 1234"
        );
    }

    #[test]
    fn cut_uploads_say_what_was_received() {
        let mut s = Vec::new();
        let r = Record {
            status: 499,
            bytes: 0,
            received: Some(77),
            ..record(b"/up")
        };
        format(LogFormat::Common, "t", "", &r, &mut s);
        assert!(String::from_utf8(s)
            .unwrap()
            .ends_with("\" 499 0 received=77"));
    }

    #[test]
    fn json_format_line() {
        let r = Record {
            peer: "::1",
            user: Some("bob"),
            method: "PUT",
            target: b"/f",
            minor: Some(0),
            status: 201,
            bytes: 0,
            received: None,
        };
        let mut s = Vec::new();
        format(LogFormat::Json, "", "2026-11-22T01:53:07Z", &r, &mut s);
        let v: serde_json::Value = serde_json::from_slice(&s).unwrap();
        assert_eq!(v["status"], 201);
        assert_eq!(v["method"], "PUT");
        assert_eq!(v["remote"], "::1");
        assert_eq!(v["version"], "HTTP/1.0");
    }

    #[test]
    fn lines_are_buffered_until_full_or_flushed() {
        #[derive(Clone, Default)]
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let out = Shared::default();
        let log = AccessLog::new(LogFormat::Common, LogSink::new(out.clone()), 2);
        log.write(1, &record(b"/a"));
        assert!(
            out.0.lock().unwrap().is_empty(),
            "one line waits in the buffer"
        );
        log.flush_all();
        assert_eq!(
            out.0
                .lock()
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
            1
        );
        for _ in 0..FLUSH_AT / 40 {
            log.write(0, &record(b"/b"));
        }
        assert!(
            out.0.lock().unwrap().len() > FLUSH_AT / 2,
            "a full buffer goes out"
        );
    }
}
