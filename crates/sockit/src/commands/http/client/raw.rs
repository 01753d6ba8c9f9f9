//! `sockit http raw`: a hand-written request, the raw answer, the parser's reading.

use super::*;

/// Largest request `http raw` sends (it is read whole to convert line endings).
pub(super) const MAX_RAW_REQUEST: u64 = 64 * 1024 * 1024;

/// `sockit http raw HOST:PORT`: send stdin (or --file) as the request, print the answer
/// as received, then the parser's reading of it.
pub fn raw(a: RawArgs, _verbose: u8) -> anyhow::Result<()> {
    use sockit::http::client::check::analyze;
    use sockit::http::client::raw::{exchange, requests_in, to_crlf};
    use std::io::Read;
    let target = sockit::net::addr::parse_host_port(&a.target)
        .map_err(|e| UsageError::new(format!("{}: {e}", a.target)))?;
    let timeout = seconds("--timeout", a.timeout)?;
    let mut input = Vec::new();
    let read = match &a.file {
        Some(path) => File::open(path)
            .and_then(|f| f.take(MAX_RAW_REQUEST + 1).read_to_end(&mut input))
            .map_err(|e| UsageError::new(format!("{}: {e}", path.display()))),
        None => std::io::stdin()
            .take(MAX_RAW_REQUEST + 1)
            .read_to_end(&mut input)
            .map_err(|e| UsageError::new(format!("reading stdin: {e}"))),
    };
    read?;
    if input.len() as u64 > MAX_RAW_REQUEST {
        return Err(UsageError::new(format!(
            "the request is larger than {MAX_RAW_REQUEST} bytes"
        ))
        .into());
    }
    if input.is_empty() {
        return Err(UsageError::new("nothing to send: the request is empty").into());
    }
    let request = if a.binary { input } else { to_crlf(&input) };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let connector = a.tls.then(|| tls_connector(&a.trust)).transpose()?;
    let host = target.host.to_string();
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let tls = connector
        .as_ref()
        .map(|c| (c as &dyn sockit::http::client::TlsConnect, host.as_str()));
    let reply = rt.block_on(exchange(&target, &request, timeout, tls))?;
    if let Some(t) = &reply.tls {
        stderr_lines(&format!(
            "sockit: TLS {} {} ALPN {}; certificate {} issued by {}, valid {} to {}, SHA-256 {}\n",
            t.version,
            t.cipher,
            t.alpn.as_deref().unwrap_or("none"),
            t.subject,
            t.issuer,
            t.validity.0,
            t.validity.1,
            t.fingerprint
        ));
    }
    let mut stdout = std::io::stdout().lock();
    let written = if a.hex {
        let mut text = Vec::new();
        hexdump_into(&mut text, &reply.bytes, 0);
        stdout.write_all(&text)
    } else {
        stdout.write_all(&reply.bytes)
    };
    written
        .and_then(|()| stdout.flush())
        .context("writing to stdout")?;
    drop(stdout);
    let asked_owned = requests_in(&request);
    let asked: Vec<_> = asked_owned
        .iter()
        .map(|(m, r)| sockit::http::client::check::Asked {
            method: m,
            range: *r,
        })
        .collect();
    let analysis = analyze(&reply.bytes, &asked, reply.closed);
    let mut text = format!(
        "sockit: sent {} bytes to {} from {}; received {} bytes{}\n",
        request.len(),
        opt_addr(reply.peer),
        opt_addr(reply.local),
        reply.bytes.len(),
        if reply.closed {
            ", then the server closed the connection"
        } else if reply.timed_out {
            ", then nothing more before --timeout"
        } else {
            ""
        }
    );
    for (i, m) in analysis.messages.iter().enumerate() {
        text.push_str(&format!(
            "sockit: response {} at byte {}: HTTP/1.{} {} {}{}\n",
            i + 1,
            m.offset,
            m.head.minor,
            m.head.status,
            m.head.reason,
            if m.head.is_interim() {
                " (interim)"
            } else {
                ""
            }
        ));
        for f in &m.head.fields {
            text.push_str(&format!(
                "sockit:   field at byte {}: {}: {}\n",
                m.offset + f.offset as u64,
                sockit::text::escape_bytes(f.name.as_bytes()),
                sockit::text::escape_bytes(&f.value)
            ));
        }
        text.push_str(&format!(
            "sockit:   body at byte {}: {}; {} bytes, {}\n",
            m.body_offset,
            m.framing,
            m.body_len,
            if m.complete { "complete" } else { "incomplete" }
        ));
    }
    for f in &analysis.findings {
        if a.check || f.severity == sockit::http::client::check::Severity::Error {
            text.push_str(&format!(
                "sockit: {} {} at byte {}: {}\n",
                f.severity.name(),
                f.section,
                f.offset,
                f.message
            ));
        }
    }
    if a.check && analysis.findings.is_empty() {
        text.push_str("sockit: check: no findings\n");
    }
    stderr_lines(&text);
    let failed = if a.check {
        analysis.has_errors()
    } else {
        analysis.unreadable()
    };
    if failed {
        let first = analysis
            .findings
            .iter()
            .find(|f| f.severity == sockit::http::client::check::Severity::Error);
        let (what, at) = match first {
            Some(f) => (f.message.clone(), f.offset),
            None => ("no complete response".to_string(), reply.bytes.len() as u64),
        };
        return Err(ClientError::Malformed {
            peer: a.target.clone(),
            error: sockit::http::proto::response_head::ResponseError::malformed(what, at),
        }
        .into());
    }
    Ok(())
}
