//! `--check`: what a response does against RFC 9110/9112, finding by finding.
//!
//! A learner who writes an HTTP server needs more than "curl printed something": which
//! line ended in a bare LF, which field had a space before its colon, whether the body
//! matched its `Content-Length`. [`analyze`] reads the bytes received for one or more
//! requests with the same parser the client uses ([`crate::http::proto::response_head`],
//! [`crate::http::proto::chunked`]) and lists every finding with its severity, the RFC
//! section and the byte offset, plus how each body's length was determined.

use crate::http::proto::chunked::ChunkedDecoder;
use crate::http::proto::response_head::{self, BodyLength, Lines, ResponseHead};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Breaks a MUST of the RFCs, or makes the message unreadable or ambiguous.
    Error,
    /// Breaks a SHOULD, or only lenient recipients accept it.
    Warning,
    /// Worth knowing; allowed.
    Note,
}

impl Severity {
    /// `error`, `warning`, `note`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One thing `--check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// The rule's section, `RFC 9112 §2.2`.
    pub section: &'static str,
    /// Byte offset in the bytes analyzed.
    pub offset: u64,
    /// What was found, in words.
    pub message: String,
}

/// One response found in the bytes, and how its body was delimited.
#[derive(Debug, Clone)]
pub struct Message {
    /// Offset of its status line.
    pub offset: u64,
    /// The parsed head.
    pub head: ResponseHead,
    /// How the body length was determined, in words.
    pub framing: String,
    /// Offset of the body's first byte.
    pub body_offset: u64,
    /// Body bytes after transfer decoding.
    pub body_len: u64,
    /// The body arrived whole, as its framing announced.
    pub complete: bool,
}

/// Everything [`analyze`] found.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Responses in order, interim ones included.
    pub messages: Vec<Message>,
    /// Findings in order of offset.
    pub findings: Vec<Finding>,
}

impl Analysis {
    /// True when any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// True when the bytes cannot be read as a complete answer at all: no complete
    /// final response, or an error in the grammar or framing (what the client itself
    /// refuses with exit 3, `--check` or not).
    pub fn unreadable(&self) -> bool {
        let answered = self
            .messages
            .iter()
            .any(|m| m.complete && !m.head.is_interim());
        !answered
            || self.findings.iter().any(|f| {
                f.severity == Severity::Error
                    && matches!(
                        f.section,
                        "RFC 9112 §2.1"
                            | "RFC 9112 §2.2"
                            | "RFC 9112 §4"
                            | "RFC 9112 §6.3"
                            | "RFC 9112 §7.1"
                            | "RFC 9112 §9.3"
                    )
            })
    }
}

/// What the client asked, which decides what a correct answer looks like.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    /// The request's method (HEAD answers have no body).
    pub method: &'a str,
    /// A `Range` was sent (otherwise a 206 is a surprise).
    pub range: bool,
}

/// Most messages analyzed in one run: a peer cannot make the report grow unbounded.
const MAX_MESSAGES: usize = 256;

/// Reads `raw` (everything received for the requests in `asked`, in order) and reports
/// every finding. `closed` says the server closed the connection after the bytes (so a
/// body delimited by close is complete).
pub fn analyze(raw: &[u8], asked: &[Asked<'_>], closed: bool) -> Analysis {
    let mut out = Analysis::default();
    let mut pos = 0usize;
    let mut request = 0usize;
    while pos < raw.len() && out.messages.len() < MAX_MESSAGES {
        let ask = asked
            .get(request)
            .or(asked.last())
            .copied()
            .unwrap_or(Asked {
                method: "GET",
                range: false,
            });
        if request >= asked.len().max(1) {
            out.findings.push(finding(
                Severity::Error,
                "RFC 9112 §9.3",
                pos,
                format!(
                    "{} bytes after the last expected response (\"{}\")",
                    raw.len() - pos,
                    crate::text::escape_bytes(&raw[pos..raw.len().min(pos + 32)])
                ),
            ));
            break;
        }
        let rest = &raw[pos..];
        lexical(rest, pos, &mut out.findings);
        let head = match response_head::parse(rest) {
            Ok(Some(head)) => head,
            Ok(None) => {
                out.findings.push(finding(
                    Severity::Error,
                    "RFC 9112 §2.1",
                    raw.len(),
                    "response head incomplete: the bytes end before the blank line".into(),
                ));
                break;
            }
            Err(e) => {
                out.findings.push(finding(
                    Severity::Error,
                    "RFC 9112 §2.2",
                    pos + e.offset as usize,
                    e.what,
                ));
                break;
            }
        };
        semantic(&head, pos, ask, &mut out.findings);
        let body_offset = pos + head.len;
        let length = match response_head::body_length(&head, ask.method) {
            Ok(l) => l,
            Err(e) => {
                out.findings.push(finding(
                    Severity::Error,
                    "RFC 9112 §6.3",
                    pos + e.offset as usize,
                    e.what,
                ));
                break;
            }
        };
        let body = &raw[body_offset..];
        let (framing, used, decoded, complete) =
            measure(&head, length, body, body_offset, closed, &mut out.findings);
        if complete {
            content_range(&head, decoded, pos, &mut out.findings);
        }
        let interim = head.is_interim();
        out.messages.push(Message {
            offset: pos as u64,
            head,
            framing,
            body_offset: body_offset as u64,
            body_len: decoded,
            complete,
        });
        pos = body_offset + used;
        if !complete {
            break;
        }
        if !interim {
            request += 1;
        }
    }
    out.findings.sort_by_key(|f| f.offset);
    out
}

fn finding(severity: Severity, section: &'static str, offset: usize, message: String) -> Finding {
    Finding {
        severity,
        section,
        offset: offset as u64,
        message,
    }
}

/// Line-level findings in the head that starts at `rest[0]` (absolute offset `base`).
fn lexical(rest: &[u8], base: usize, findings: &mut Vec<Finding>) {
    let mut first = true;
    for (start, line) in Lines::new(rest) {
        let at = base + start;
        let end = start + line.len();
        let crlf = rest.get(end) == Some(&b'\r') && rest.get(end + 1) == Some(&b'\n');
        let lf = rest.get(end) == Some(&b'\n');
        if lf && !crlf {
            findings.push(finding(
                Severity::Warning,
                "RFC 9112 §2.2",
                base + end,
                "line ends in a bare LF (CRLF expected)".into(),
            ));
        }
        if let Some(cr) = line.iter().position(|&b| b == b'\r') {
            findings.push(finding(
                Severity::Error,
                "RFC 9112 §2.2",
                at + cr,
                "bare CR inside a line".into(),
            ));
        }
        if line.is_empty() {
            break;
        }
        if first {
            first = false;
            if let Err(what) = response_head::check_status_line(line) {
                findings.push(finding(Severity::Error, "RFC 9112 §4", at, what));
            }
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            findings.push(finding(
                Severity::Error,
                "RFC 9112 §5.2",
                at,
                "obsolete line folding (a line starting with whitespace)".into(),
            ));
            continue;
        }
        if let Err(what) = response_head::check_field_line(line) {
            let section = if what.contains("colon") && what.contains("whitespace") {
                "RFC 9112 §5.1"
            } else if what.contains("value") {
                "RFC 9110 §5.5"
            } else {
                "RFC 9110 §5.1"
            };
            findings.push(finding(Severity::Error, section, at, what));
        }
    }
}

/// Field-level findings about the head's meaning.
fn semantic(head: &ResponseHead, base: usize, ask: Asked<'_>, findings: &mut Vec<Finding>) {
    let at = |f: &response_head::Field| base + f.offset;
    if !(100..=599).contains(&head.status) {
        findings.push(finding(
            Severity::Error,
            "RFC 9110 §15",
            base + 9,
            format!("status {} is outside 100-599 (no known class)", head.status),
        ));
    }
    let cl: Vec<_> = head.get_all("content-length").collect();
    let te: Vec<_> = head.get_all("transfer-encoding").collect();
    if let (Some(c), false) = (cl.first(), te.is_empty()) {
        findings.push(finding(
            Severity::Error,
            "RFC 9112 §6.2",
            at(c),
            "Content-Length and Transfer-Encoding together (Transfer-Encoding wins; a smuggling risk)".into(),
        ));
    }
    if cl.len() > 1 {
        let same = cl.iter().all(|f| f.value == cl[0].value);
        findings.push(finding(
            if same {
                Severity::Warning
            } else {
                Severity::Error
            },
            "RFC 9110 §8.6",
            at(cl[1]),
            if same {
                "duplicate Content-Length fields (same value)".into()
            } else {
                "conflicting Content-Length fields".into()
            },
        ));
    }
    if let Some(t) = te.first() {
        if head.minor == 0 {
            findings.push(finding(
                Severity::Warning,
                "RFC 9112 §6.1",
                at(t),
                "Transfer-Encoding in an HTTP/1.0 response".into(),
            ));
        }
    }
    if (head.status == 204 || (100..200).contains(&head.status)) && !cl.is_empty() {
        findings.push(finding(
            Severity::Error,
            "RFC 9110 §8.6",
            at(cl[0]),
            format!("Content-Length in a {} response", head.status),
        ));
    }
    if (200..500).contains(&head.status) && head.get("date").is_none() {
        findings.push(finding(
            Severity::Warning,
            "RFC 9110 §6.6.1",
            base,
            "no Date field (an origin server with a clock must send one)".into(),
        ));
    }
    if let Some(d) = head.get_all("date").next() {
        if crate::http::proto::conditional::parse_date(&d.value).is_none() {
            findings.push(finding(
                Severity::Warning,
                "RFC 9110 §5.6.7",
                at(d),
                "Date is not in IMF-fixdate form".into(),
            ));
        }
    }
    if head.status == 206 && !ask.range {
        findings.push(finding(
            Severity::Error,
            "RFC 9110 §15.3.7",
            base + 9,
            "206 Partial Content to a request without Range".into(),
        ));
    }
    if (300..400).contains(&head.status)
        && head.status != 304
        && head.status != 300
        && head.get("location").is_none()
    {
        findings.push(finding(
            Severity::Warning,
            "RFC 9110 §15.4",
            base + 9,
            format!("{} redirect without Location", head.status),
        ));
    }
}

/// Measures the body: (framing in words, wire bytes used, decoded bytes, complete).
fn measure(
    head: &ResponseHead,
    length: BodyLength,
    body: &[u8],
    body_offset: usize,
    closed: bool,
    findings: &mut Vec<Finding>,
) -> (String, usize, u64, bool) {
    match length {
        BodyLength::None => {
            let why = if head.is_interim() {
                format!("none: {} is an interim response", head.status)
            } else if head.status == 204 || head.status == 304 {
                format!("none: status {} never has a body", head.status)
            } else {
                "none: the request was HEAD".to_string()
            };
            (why, 0, 0, true)
        }
        BodyLength::Length(n) => {
            let have = body.len() as u64;
            if have < n {
                findings.push(finding(
                    Severity::Error,
                    "RFC 9112 §6.3",
                    body_offset + body.len(),
                    format!("body cut short: {have} of {n} bytes (Content-Length)"),
                ));
                (format!("Content-Length: {n}"), body.len(), have, false)
            } else {
                (format!("Content-Length: {n}"), n as usize, n, true)
            }
        }
        BodyLength::Chunked => {
            let mut dec = ChunkedDecoder::new();
            let mut pos = 0usize;
            let mut decoded = 0u64;
            loop {
                match dec.decode(&body[pos..]) {
                    Ok(step) => {
                        if let Some(r) = &step.data {
                            decoded += r.len() as u64;
                        }
                        pos += step.consumed;
                        if step.done {
                            let mut words =
                                format!("chunked: {} chunks, {decoded} bytes", dec.chunks());
                            if !dec.extensions().is_empty() {
                                words.push_str(&format!(", extensions {:?}", dec.extensions()));
                            }
                            if !dec.trailers().is_empty() {
                                words.push_str(", with trailers");
                            }
                            return (words, pos, decoded, true);
                        }
                        if step.consumed == 0 || pos >= body.len() {
                            let e = dec.truncation();
                            findings.push(finding(
                                Severity::Error,
                                "RFC 9112 §7.1",
                                body_offset + e.offset as usize,
                                e.what,
                            ));
                            return ("chunked".into(), pos, decoded, false);
                        }
                    }
                    Err(e) => {
                        findings.push(finding(
                            Severity::Error,
                            "RFC 9112 §7.1",
                            body_offset + e.offset as usize,
                            e.what,
                        ));
                        return ("chunked".into(), pos, decoded, false);
                    }
                }
            }
        }
        BodyLength::UntilClose => {
            let te = head.get("transfer-encoding").is_some();
            findings.push(finding(
                Severity::Note,
                "RFC 9112 §6.3",
                body_offset,
                if te {
                    "chunked is not the final transfer coding: body read until close".into()
                } else {
                    "no Content-Length or chunked: the body ends when the server closes (the connection cannot be reused)".into()
                },
            ));
            (
                format!("until close: {} bytes", body.len()),
                body.len(),
                body.len() as u64,
                closed,
            )
        }
    }
}

/// A 206's `Content-Range: bytes a-b/len` must describe exactly the body sent.
fn content_range(head: &ResponseHead, body_len: u64, base: usize, findings: &mut Vec<Finding>) {
    let Some(field) = head.get_all("content-range").next() else {
        if head.status == 206
            && !head
                .get_str("content-type")
                .is_some_and(|t| t.starts_with("multipart/byteranges"))
        {
            findings.push(finding(
                Severity::Error,
                "RFC 9110 §15.3.7",
                base + 9,
                "206 without Content-Range".into(),
            ));
        }
        return;
    };
    if head.status != 206 {
        return;
    }
    let text = String::from_utf8_lossy(&field.value);
    let parsed = text
        .strip_prefix("bytes ")
        .and_then(|r| r.split_once('/'))
        .and_then(|(range, _)| range.split_once('-'))
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((a, b)) if b >= a && b - a + 1 == body_len => {}
        Some((a, b)) => findings.push(finding(
            Severity::Error,
            "RFC 9110 §14.4",
            base + field.offset,
            format!(
                "Content-Range {a}-{b} announces {} bytes, the body has {body_len}",
                (b + 1).saturating_sub(a)
            ),
        )),
        None => findings.push(finding(
            Severity::Error,
            "RFC 9110 §14.4",
            base + field.offset,
            format!("unreadable Content-Range \"{text}\""),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: [Asked<'static>; 1] = [Asked {
        method: "GET",
        range: false,
    }];

    fn has(a: &Analysis, sev: Severity, text: &str) -> bool {
        a.findings
            .iter()
            .any(|f| f.severity == sev && f.message.contains(text))
    }

    #[test]
    fn clean_response_has_no_errors() {
        let raw = b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 2\r\n\r\nok";
        let a = analyze(raw, &GET, false);
        assert!(a.findings.is_empty(), "{:?}", a.findings);
        assert_eq!(a.messages[0].framing, "Content-Length: 2");
    }

    #[test]
    fn lexical_findings_with_offsets() {
        let raw = b"HTTP/1.1 200 OK\nBad : 1\r\n folded\r\nContent-Length: 0\r\n\r\n";
        let a = analyze(raw, &GET, false);
        assert!(has(&a, Severity::Warning, "bare LF"));
        let ws = a
            .findings
            .iter()
            .find(|f| f.message.contains("before the colon"))
            .unwrap();
        assert_eq!(ws.offset, 16);
        assert!(has(&a, Severity::Error, "obsolete line folding"));
        assert!(a.unreadable());
        let raw =
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        let a = analyze(raw, &GET, false);
        assert!(has(&a, Severity::Error, "Transfer-Encoding together"));
        assert!(has(&a, Severity::Warning, "no Date"));
        assert!(!a.unreadable());
    }

    #[test]
    fn body_findings() {
        let a = analyze(
            b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc",
            &GET,
            false,
        );
        assert!(has(&a, Severity::Error, "Content-Length in a 204"));
        assert!(has(&a, Severity::Error, "after the last expected response"));
        let head = [Asked {
            method: "HEAD",
            range: false,
        }];
        let a = analyze(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            &head,
            false,
        );
        assert!(has(&a, Severity::Error, "after the last expected response"));
        let a = analyze(
            b"HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-9/100\r\nContent-Length: 3\r\n\r\nabc",
            &GET,
            false,
        );
        assert!(has(&a, Severity::Error, "without Range"));
        assert!(has(&a, Severity::Error, "announces 10 bytes"));
        let a = analyze(
            b"HTTP/1.1 999 What\r\nContent-Length: 0\r\n\r\n",
            &GET,
            false,
        );
        assert!(has(&a, Severity::Error, "outside 100-599"));
    }

    #[test]
    fn interim_then_final() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n";
        let a = analyze(raw, &GET, false);
        assert_eq!(a.messages.len(), 2);
        assert!(
            a.messages[1].framing.contains("chunked: 2 chunks, 3 bytes"),
            "{}",
            a.messages[1].framing
        );
        assert!(!a.has_errors(), "{:?}", a.findings);
    }
}
