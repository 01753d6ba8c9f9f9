//! The wire view (-v), --timing and --trace, rendered on stderr (or the trace file).

use super::*;

/// Renders the wire view (-v), timings (--timing) and the hexdump trace (--trace).
pub(super) struct Wire {
    pub(super) verbose: bool,
    pub(super) timing: bool,
    pub(super) trace: Option<Box<dyn Write + Send>>,
    pub(super) trace_error: Option<std::io::Error>,
    pub(super) url: String,
    /// With --check: the bytes received for the current exchange (bounded).
    pub(super) check: Option<Vec<u8>>,
    /// Bytes received for the current exchange, including those --check did not keep.
    pub(super) check_seen: u64,
}

/// Most bytes of one exchange kept for --check; beyond it the body is not checked.
pub(super) const MAX_CHECKED: usize = 16 * 1024 * 1024;

pub(super) fn stderr_lines(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Each line of a head with its terminator shown: `GET / HTTP/1.1\r\n`.
pub(super) fn visible_lines(prefix: &str, raw: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |p| p + 1);
        out.push_str(prefix);
        out.push_str(&sockit::text::escape_bytes(&rest[..end]));
        out.push('\n');
        rest = &rest[end..];
    }
    out
}

pub(super) fn ms(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!("{:.3} ms", d.as_secs_f64() * 1000.0),
        None => "-".to_string(),
    }
}

impl Wire {
    pub(super) fn hexdump(&mut self, label: &str, offset: u64, data: &[u8]) {
        let Some(out) = self.trace.as_mut() else {
            return;
        };
        let mut text = format!("{label} {} bytes at offset {offset}\n", data.len()).into_bytes();
        hexdump_into(&mut text, data, offset);
        if let Err(e) = out.write_all(&text) {
            self.trace_error.get_or_insert(e);
            self.trace = None;
        }
    }
}

impl Observer for Wire {
    fn connected(&mut self, info: &ConnectionInfo) {
        if !self.verbose {
            return;
        }
        let mut text = String::new();
        if info.reused {
            text.push_str(&format!(
                "* reusing connection to {} (local {}, peer {})\n",
                info.target,
                opt_addr(info.local),
                opt_addr(info.peer)
            ));
        } else {
            let list: Vec<String> = info.addresses.iter().map(|a| a.to_string()).collect();
            text.push_str(&format!(
                "* {} resolved to {}\n",
                info.target,
                list.join(", ")
            ));
            for (addr, why) in &info.failed {
                text.push_str(&format!("* {addr}: {why}\n"));
            }
            text.push_str(&format!(
                "* connected to {} from {} (new connection)\n",
                opt_addr(info.peer),
                opt_addr(info.local)
            ));
        }
        if let Some(tls) = &info.tls {
            text.push_str(&format!(
                "* TLS {} {} ALPN {}\n* certificate subject: {}\n* issuer: {}\n* valid from {} to {}\n* SHA-256 fingerprint {}\n",
                tls.version,
                tls.cipher,
                tls.alpn.as_deref().unwrap_or("none"),
                tls.subject,
                tls.issuer,
                tls.validity.0,
                tls.validity.1,
                tls.fingerprint
            ));
        }
        stderr_lines(&text);
    }

    fn sent(&mut self, offset: u64, data: &[u8]) {
        self.hexdump("=> sent", offset, data);
    }

    fn received(&mut self, offset: u64, data: &[u8]) {
        self.hexdump("<= received", offset, data);
        self.check_seen += data.len() as u64;
        if let Some(buf) = self.check.as_mut() {
            let room = MAX_CHECKED.saturating_sub(buf.len());
            buf.extend_from_slice(&data[..data.len().min(room)]);
        }
    }

    fn request_head(&mut self, raw: &[u8]) {
        if let Some(buf) = self.check.as_mut() {
            buf.clear();
            self.check_seen = 0;
        }
        if self.verbose {
            stderr_lines(&visible_lines("> ", raw));
        }
    }

    fn response_head(&mut self, _head: &ResponseHead, raw: &[u8], interim: bool) {
        if self.verbose {
            let mut text = visible_lines("< ", raw);
            if interim {
                text.push_str("* (interim response; the final one follows)\n");
            }
            stderr_lines(&text);
        }
    }

    fn trailers(&mut self, raw: &[u8]) {
        if self.verbose {
            stderr_lines(&format!("* trailers:\n{}", visible_lines("< ", raw)));
        }
    }

    fn finished(&mut self, t: &Timing) {
        if self.timing {
            stderr_lines(&format!(
                "sockit: timing {}: resolve {}, connect {}, tls {}, written {}, first byte {}, head {}, body {}, total {}\n",
                self.url,
                ms(t.resolve),
                ms(t.connect),
                ms(t.tls),
                ms(t.written),
                ms(t.first_byte),
                ms(t.head),
                ms(t.body),
                ms(t.body)
            ));
        }
    }
}

pub(super) fn opt_addr(a: Option<std::net::SocketAddr>) -> String {
    a.map_or_else(|| "?".to_string(), |a| a.to_string())
}

/// An offset hexdump with ASCII, 16 bytes a row.
pub(super) fn hexdump_into(out: &mut Vec<u8>, data: &[u8], offset: u64) {
    for (i, row) in data.chunks(16).enumerate() {
        let mut line = format!("{:08x}  ", offset + (i * 16) as u64);
        for j in 0..16 {
            match row.get(j) {
                Some(b) => line.push_str(&format!("{b:02x} ")),
                None => line.push_str("   "),
            }
            if j == 7 {
                line.push(' ');
            }
        }
        line.push_str(" |");
        for &b in row {
            line.push(if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            });
        }
        line.push_str("|\n");
        out.extend_from_slice(line.as_bytes());
    }
}
