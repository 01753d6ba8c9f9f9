//! `sockit http get|request|raw`: flags -> [`sockit::http::client`] calls; the wire view,
//! timings and traces the library hands back -> stderr (or a trace file); bodies ->
//! stdout or a file renamed into place when complete.

use std::fs::File;
use std::io::Write;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::UsageError;
use anyhow::Context;
use bytes::Bytes;
use sockit::http::client::{
    Body, Client, ClientError, ClientOptions, ConnectionInfo, HeaderLine, Observer, Request,
    Timing, Url,
};
use sockit::http::proto::response_head::ResponseHead;
use sockit::http::MAX_DURATION;
use sockit::stdio::Output;

use crate::cli::http::{ClientArgs, RawArgs, TlsClientArgs};

mod download;
mod raw;
mod wire;

use download::*;
pub use raw::raw;
use wire::*;

/// Largest in-memory request body (`-d`, `--json`, `-d @FILE`); bigger files go through
/// `--data-file`, which streams.
const MAX_INLINE_BODY: u64 = 64 * 1024 * 1024;

/// Runs `get` (`explicit_method == false`: GET, or POST with a body, HEAD with -I) or
/// `request METHOD`.
pub fn run(method: &str, explicit_method: bool, a: ClientArgs, verbose: u8) -> anyhow::Result<()> {
    let plan = Plan::from_args(method, explicit_method, &a)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    rt.block_on(fetch_all(plan, a, verbose))
}

/// Everything decided from the flags before any connection is made.
struct Plan {
    method: String,
    headers: Vec<HeaderLine>,
    defaults: Vec<(String, String)>,
    body: Body,
    urls: Vec<Url>,
    options: ClientOptions,
}

fn seconds(flag: &str, value: f64) -> Result<Duration, UsageError> {
    if !(value > 0.0 && value <= MAX_DURATION.as_secs_f64()) {
        return Err(UsageError::new(format!(
            "{flag}: must be more than 0 and at most one year, not {value}"
        )));
    }
    Ok(Duration::from_secs_f64(value))
}

/// `-d @FILE` / `--json @FILE`: the file's bytes (bounded); otherwise the text itself.
fn inline_body(flag: &str, text: &str) -> Result<Bytes, UsageError> {
    match text.strip_prefix('@') {
        Some(path) => {
            let meta = std::fs::metadata(path)
                .map_err(|e| UsageError::new(format!("{flag} @{path}: {e}")))?;
            if meta.len() > MAX_INLINE_BODY {
                return Err(UsageError::new(format!(
                    "{flag} @{path}: larger than {MAX_INLINE_BODY} bytes; use --data-file to stream it"
                )));
            }
            let data =
                std::fs::read(path).map_err(|e| UsageError::new(format!("{flag} @{path}: {e}")))?;
            Ok(Bytes::from(data))
        }
        None => Ok(Bytes::from(text.to_string())),
    }
}

/// `-F` fields as a multipart/form-data body (RFC 7578): part heads in memory, files
/// streamed. Names and file names have `"`, CR and LF percent-encoded, as browsers do.
fn multipart(fields: &[String]) -> Result<(Vec<sockit::http::client::Piece>, String), UsageError> {
    use sockit::http::client::Piece;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        ^ u128::from(std::process::id()) << 64;
    let boundary = format!(
        "------------------------sockit{:024x}",
        seed & ((1u128 << 96) - 1)
    );
    let quote = |s: &str| {
        s.replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut pieces = Vec::new();
    for field in fields {
        let (name, value) = field.split_once('=').ok_or_else(|| {
            UsageError::new(format!("-F {field:?}: expected name=value or name=@file"))
        })?;
        if name.is_empty() {
            return Err(UsageError::new(format!("-F {field:?}: empty name")));
        }
        let mut head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"",
            quote(name)
        );
        match value.strip_prefix('@') {
            Some(path) => {
                let p = PathBuf::from(path);
                if !p.is_file() {
                    return Err(UsageError::new(format!(
                        "-F {name}=@{path}: not a readable file"
                    )));
                }
                let file_name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "file".into());
                let mime = mime_guess::from_path(&p).first_or_octet_stream();
                head.push_str(&format!(
                    "; filename=\"{}\"\r\nContent-Type: {mime}\r\n\r\n",
                    quote(&file_name)
                ));
                pieces.push(Piece::Bytes(Bytes::from(head)));
                pieces.push(Piece::File(p));
            }
            None => {
                head.push_str("\r\n\r\n");
                head.push_str(value);
                pieces.push(Piece::Bytes(Bytes::from(head)));
            }
        }
        pieces.push(Piece::Bytes(Bytes::from_static(b"\r\n")));
    }
    pieces.push(Piece::Bytes(Bytes::from(format!("--{boundary}--\r\n"))));
    Ok((pieces, boundary))
}

fn parse_resolve(text: &str) -> Result<(String, u16, IpAddr), UsageError> {
    let bad = || UsageError::new(format!("--resolve {text:?}: expected HOST:PORT:ADDR"));
    let (host, rest) = text.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    Ok((host.to_string(), port, ip))
}

impl Plan {
    fn from_args(method: &str, explicit: bool, a: &ClientArgs) -> Result<Plan, UsageError> {
        let mut headers = Vec::new();
        for h in &a.headers {
            headers.push(HeaderLine::parse(h).map_err(|e| UsageError::new(format!("-H: {e}")))?);
        }
        let mut defaults = Vec::new();
        if let Some(user) = &a.user {
            use base64::Engine;
            if !user.contains(':') {
                return Err(UsageError::new("-u: expected USER:PASS"));
            }
            let token = base64::engine::general_purpose::STANDARD.encode(user.as_bytes());
            defaults.push(("Authorization".to_string(), format!("Basic {token}")));
        }
        let body = if let Some(d) = &a.data {
            defaults.push((
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ));
            Body::Bytes(inline_body("-d", d)?)
        } else if let Some(j) = &a.json {
            defaults.push(("Content-Type".to_string(), "application/json".to_string()));
            defaults.push(("Accept".to_string(), "application/json".to_string()));
            Body::Bytes(inline_body("--json", j)?)
        } else if !a.form.is_empty() {
            let (pieces, boundary) = multipart(&a.form)?;
            defaults.push((
                "Content-Type".to_string(),
                format!("multipart/form-data; boundary={boundary}"),
            ));
            Body::Pieces(pieces)
        } else if let Some(path) = &a.upload_file {
            if !path.is_file() {
                return Err(UsageError::new(format!(
                    "-T {}: not a readable file",
                    path.display()
                )));
            }
            Body::File(path.clone())
        } else if let Some(path) = &a.data_file {
            if !path.is_file() {
                return Err(UsageError::new(format!(
                    "--data-file {}: not a readable file",
                    path.display()
                )));
            }
            Body::File(path.clone())
        } else {
            Body::Empty
        };
        let method = if explicit {
            method.to_string()
        } else if a.head {
            "HEAD".to_string()
        } else if a.upload_file.is_some() {
            "PUT".to_string()
        } else if !matches!(body, Body::Empty) {
            "POST".to_string()
        } else {
            method.to_string()
        };
        if method.is_empty()
            || !method
                .bytes()
                .all(sockit::http::proto::fields::is_token_byte)
        {
            return Err(UsageError::new(format!("invalid method {method:?}")));
        }
        let mut texts: Vec<String> = a.urls.clone();
        if let Some(path) = &a.urls_file {
            let meta = std::fs::metadata(path)
                .map_err(|e| UsageError::new(format!("--urls {}: {e}", path.display())))?;
            if meta.len() > MAX_INLINE_BODY {
                return Err(UsageError::new(format!(
                    "--urls {}: too large",
                    path.display()
                )));
            }
            let text = std::fs::read_to_string(path)
                .map_err(|e| UsageError::new(format!("--urls {}: {e}", path.display())))?;
            texts.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string),
            );
        }
        if texts.is_empty() {
            return Err(UsageError::new("no URL given"));
        }
        if a.compressed {
            defaults.push((
                "Accept-Encoding".to_string(),
                "gzip, deflate, br".to_string(),
            ));
        }
        let urls = texts
            .iter()
            .map(|u| {
                if u == "*" {
                    return Err(UsageError::new(
                        "'*' is a request target, not a URL: give the server's URL and --request-target '*'",
                    ));
                }
                Url::parse(u).map_err(UsageError::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if a.output.is_some() && urls.len() > 1 {
            return Err(UsageError::new(
                "-o names one file: give one URL, or use -O to name each file after its URL",
            ));
        }
        if let Some(t) = &a.request_target {
            if t.is_empty()
                || t.bytes()
                    .any(|b| b == b'\r' || b == b'\n' || b == 0 || b == b' ')
            {
                return Err(UsageError::new(
                    "--request-target: must be non-empty, without spaces, CR, LF or NUL",
                ));
            }
        }
        if a.resume && a.output.is_none() && !a.remote_name {
            return Err(UsageError::new("-C resumes a file: give -o FILE or -O"));
        }
        if a.pipeline == 0 || a.pipeline > sockit::http::client::MAX_PIPELINE {
            return Err(UsageError::new(format!(
                "--pipeline: 1 to {}",
                sockit::http::client::MAX_PIPELINE
            )));
        }
        if a.pipeline > 1
            && (a.location
                || a.output.is_some()
                || a.remote_name
                || a.resume
                || a.check
                || a.data.is_some()
                || a.json.is_some()
                || a.data_file.is_some()
                || a.upload_file.is_some()
                || !a.form.is_empty())
        {
            return Err(UsageError::new(
                "--pipeline sends bodiless requests to stdout: not with -L, -o, -O, -C, --check or a body",
            ));
        }
        if a.max_redirs > 100 {
            return Err(UsageError::new("--max-redirs: at most 100"));
        }
        let mut options = ClientOptions {
            connect_timeout: Some(Duration::from_secs(30)),
            ..ClientOptions::default()
        };
        if let Some(t) = a.connect_timeout {
            options.connect_timeout = Some(seconds("--connect-timeout", t)?);
        }
        if let Some(t) = a.timeout {
            options.timeout = Some(seconds("--timeout", t)?);
        }
        for r in &a.resolve {
            options.resolve.push(parse_resolve(r)?);
        }
        options.socket.nodelay = true;
        if urls
            .iter()
            .any(|u| u.scheme == sockit::http::client::Scheme::Https)
        {
            options.tls = Some(Box::new(tls_connector(&a.tls)?));
        }
        Ok(Plan {
            method,
            headers,
            defaults,
            body,
            urls,
            options,
        })
    }
}

/// The TLS connector for `--cacert`, `--pin`, `--insecure` (the last with a warning).
fn tls_connector(t: &TlsClientArgs) -> Result<sockit::tls::client::Connector, UsageError> {
    use sockit::tls::client::{ClientTls, Connector, Trust};
    let trust = if let Some(path) = &t.cacert {
        Trust::CaFile(path.clone())
    } else if let Some(pin) = &t.pin {
        Trust::Pin(sockit::tls::parse_pin(pin).map_err(|e| UsageError::new(format!("--pin: {e}")))?)
    } else if t.insecure {
        crate::ui::event("warning: --insecure: the server's certificate is not checked; anyone in the middle can read and change this connection");
        Trust::Insecure
    } else {
        Trust::System
    };
    let opts = ClientTls {
        trust,
        alpn: vec![b"http/1.1".to_vec()],
    };
    Connector::new(&opts).map_err(|e| UsageError::new(e.to_string()))
}

/// Where a body goes.
enum Sink {
    Stdout(Output),
    File(Download),
    Discard,
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

async fn fetch_all(mut plan: Plan, a: ClientArgs, verbose: u8) -> anyhow::Result<()> {
    let trace: Option<Box<dyn Write + Send>> = match &a.trace {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(std::io::stdout())),
        Some(p) => Some(Box::new(std::io::BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ))),
    };
    let mut wire = Wire {
        verbose: verbose > 0,
        timing: a.timing,
        trace,
        trace_error: None,
        url: String::new(),
        check: a.check.then(Vec::new),
        check_seen: 0,
    };
    // One connection at a time: blocking on stdout is the right backpressure, and writing
    // in this thread saves a hand-off (two context switches) per body chunk, which is most
    // of a small request's cost.
    let stdout = Output::direct();
    let mut client = Client::new(std::mem::take(&mut plan.options));
    let mut failure: Option<anyhow::Error> = None;
    if a.pipeline > 1 {
        failure = pipelined(&mut client, &plan, &a, &mut wire, &stdout)
            .await
            .err();
    }
    for url in plan.urls.iter().filter(|_| a.pipeline <= 1) {
        let result = fetch_one(&mut client, url, &plan, &a, &mut wire, &stdout).await;
        if let Err(e) = result {
            // Keep going for the other URLs only on an HTTP status under --fail-with-body;
            // a broken exchange ends the command.
            let stop = !e
                .downcast_ref::<ClientError>()
                .is_some_and(|c| c.is_status());
            failure = Some(e);
            if stop {
                break;
            }
        }
    }
    stdout.flush().await.context("writing to stdout")?;
    if let Some(t) = wire.trace.as_mut() {
        t.flush().context("writing the trace")?;
    }
    if let Some(e) = wire.trace_error {
        return Err(e).context("writing the trace");
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `--pipeline N`: keep up to N requests in flight on the connection, then print the
/// answers in order as they complete; a request to another server waits until the ones
/// in flight are answered.
async fn pipelined(
    client: &mut Client,
    plan: &Plan,
    a: &ClientArgs,
    wire: &mut Wire,
    stdout: &Output,
) -> anyhow::Result<()> {
    let reqs: Vec<Request> = plan
        .urls
        .iter()
        .map(|url| {
            let mut req = Request::new(plan.method.clone(), url.clone());
            req.headers = plan.headers.clone();
            req.defaults = plan.defaults.clone();
            req.path_as_is = a.path_as_is;
            req.http10 = a.http10;
            req.target = a.request_target.clone();
            req
        })
        .collect();
    let mut next = 0;
    let mut in_flight: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let mut failure = None;
    while next < reqs.len() || !in_flight.is_empty() {
        while next < reqs.len()
            && in_flight.len() < a.pipeline
            && in_flight
                .front()
                .is_none_or(|&i| same_server(&reqs[i].url, &reqs[next].url))
        {
            wire.url = reqs[next].url.to_string();
            client.send_ahead(&reqs[next], wire).await?;
            in_flight.push_back(next);
            next += 1;
        }
        let Some(i) = in_flight.pop_front() else {
            break;
        };
        wire.url = reqs[i].url.to_string();
        let mut resp = client.receive(wire).await?;
        let status = resp.head.status;
        let error_status = status >= 400 && (a.fail || a.fail_with_body);
        if a.include || a.head {
            stdout
                .write(resp.raw_head.clone())
                .await
                .context("writing to stdout")?;
        }
        let mut sink = if a.head || error_status && a.fail {
            Sink::Discard
        } else {
            Sink::Stdout(stdout.clone())
        };
        let decoder = body_decoder(&resp, a.compressed);
        copy_body(&mut resp, &mut sink, wire, decoder, None).await?;
        if error_status {
            failure = Some(ClientError::Status {
                status,
                reason: resp.head.reason.clone(),
                url: reqs[i].url.to_string(),
            });
        }
    }
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn same_server(a: &Url, b: &Url) -> bool {
    a.scheme == b.scheme && a.port == b.port && a.host.eq_ignore_ascii_case(&b.host)
}

async fn fetch_one(
    client: &mut Client,
    start: &Url,
    plan: &Plan,
    a: &ClientArgs,
    wire: &mut Wire,
    stdout: &Output,
) -> anyhow::Result<()> {
    let mut req = Request::new(plan.method.clone(), start.clone());
    req.headers = plan.headers.clone();
    req.defaults = plan.defaults.clone();
    req.body = plan.body.clone();
    req.path_as_is = a.path_as_is;
    req.http10 = a.http10;
    req.target = a.request_target.clone();
    // Like curl: large bodies ask first, so a refusal (401, 413) costs no upload.
    req.expect_continue = match &req.body {
        Body::File(_) | Body::Pieces(_) => true,
        Body::Bytes(b) => b.len() > 1024 * 1024,
        Body::Empty => false,
    };
    let dest: Option<PathBuf> = match (&a.output, a.remote_name) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => Some(PathBuf::from(remote_name(&req.url))),
        _ => None,
    };
    let resume_from = match (&dest, a.resume) {
        (Some(d), true) => resume_point(d),
        _ => None,
    };
    if let Some((n, validator)) = &resume_from {
        for line in [
            format!("Range: bytes={n}-"),
            format!("If-Range: {validator}"),
        ] {
            req.headers
                .push(HeaderLine::parse(&line).map_err(UsageError::new)?);
        }
    }
    let mut seen = vec![(req.method.clone(), req.url.to_string())];
    let mut hops = 0u32;
    loop {
        wire.url = req.url.to_string();
        let asked_range = req
            .headers
            .iter()
            .any(|h| h.name().eq_ignore_ascii_case("range"));
        let mut resp = match client.send(&req, wire).await {
            Ok(r) => r,
            Err(e) => {
                let _ = report_check(wire, &req.method, asked_range, false);
                return Err(e.into());
            }
        };
        let status = resp.head.status;
        let location = resp.head.get_str("location").map(str::to_string);
        if a.location && is_redirect(status) {
            if let Some(loc) = location {
                // Drain this body so the connection can carry the next request.
                let drained = drain(&mut resp, wire).await;
                drop(resp);
                let checked = report_check(wire, &req.method, asked_range, drained.is_ok());
                drained?;
                checked?;
                hops += 1;
                if hops > a.max_redirs {
                    return Err(ClientError::Redirects(format!(
                        "more than {} redirects (--max-redirs)",
                        a.max_redirs
                    ))
                    .into());
                }
                let next = req
                    .url
                    .join(&loc)
                    .map_err(|e| ClientError::Request(format!("bad Location {loc:?}: {e}")))?;
                if next.host != req.url.host
                    || next.port != req.url.port
                    || next.scheme != req.url.scheme
                {
                    // Credentials were meant for the first server only.
                    req.defaults
                        .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
                    req.headers
                        .retain(|h| !h.name().eq_ignore_ascii_case("authorization"));
                }
                if matches!(status, 301..=303) && req.method != "HEAD" {
                    req.method = "GET".into();
                    req.body = Body::Empty;
                    req.defaults
                        .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
                }
                req.url = next;
                req.target = None;
                let key = (req.method.clone(), req.url.to_string());
                if seen.contains(&key) {
                    return Err(ClientError::Redirects(format!(
                        "redirect loop: {} {} was already requested",
                        key.0, key.1
                    ))
                    .into());
                }
                seen.push(key);
                continue;
            }
        }
        let error_status = status >= 400 && (a.fail || a.fail_with_body);
        let show_body = !(a.head || error_status && a.fail);
        if a.include || a.head {
            stdout
                .write(resp.raw_head.clone())
                .await
                .context("writing to stdout")?;
        }
        let append = match (&resume_from, status) {
            (Some((n, _)), 206) => {
                let start = content_range_start(&resp.head);
                if start != Some(*n) {
                    return Err(ClientError::Malformed {
                        peer: opt_addr(resp.peer()),
                        error: sockit::http::proto::response_head::ResponseError::malformed(
                            format!(
                                "206 to a resume from byte {n} starts at {start:?}: not appended"
                            ),
                            0,
                        ),
                    }
                    .into());
                }
                true
            }
            (Some((n, _)), 416) if content_range_total(&resp.head) == Some(*n) => {
                // The part file already holds the whole resource.
                drain(&mut resp, wire).await?;
                if let Some(d) = &dest {
                    let part = Download::open(d, a.clobber, true, true, &resp.head)?;
                    part.finish().await?;
                }
                return Ok(());
            }
            _ => false,
        };
        let mut sink = if !show_body {
            Sink::Discard
        } else if let Some(d) = &dest {
            Sink::File(Download::open(d, a.clobber, a.resume, append, &resp.head)?)
        } else {
            Sink::Stdout(stdout.clone())
        };
        let decoder = body_decoder(&resp, a.compressed);
        let bar = progress_bar(&resp, &sink);
        let copied = copy_body(&mut resp, &mut sink, wire, decoder, bar.as_ref()).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let checked = report_check(wire, &req.method, asked_range, copied.is_ok());
        let copied = copied.and(checked);
        match (copied, sink) {
            (Ok(()), Sink::File(d)) => d.finish().await?,
            (Err(e), Sink::File(d)) => {
                d.abandon().await;
                return Err(e);
            }
            (Err(e), _) => return Err(e),
            (Ok(()), _) => {}
        }
        if error_status {
            return Err(ClientError::Status {
                status,
                reason: resp.head.reason.clone(),
                url: req.url.to_string(),
            }
            .into());
        }
        return Ok(());
    }
}

async fn drain(
    resp: &mut sockit::http::client::Response<'_>,
    wire: &mut Wire,
) -> Result<(), ClientError> {
    while resp.chunk(wire).await?.is_some() {}
    Ok(())
}

/// Prints the --check findings for the exchange just finished; an error finding makes
/// the command exit 3.
fn report_check(wire: &mut Wire, method: &str, range: bool, complete: bool) -> anyhow::Result<()> {
    use sockit::http::client::check::{analyze, Asked};
    let Some(bytes) = wire.check.as_ref() else {
        return Ok(());
    };
    let mut analysis = analyze(bytes, &[Asked { method, range }], complete);
    if wire.check_seen > bytes.len() as u64 {
        // Only the first MAX_CHECKED bytes were kept: the body's end was not seen here
        // (the client itself checked its framing while reading it).
        analysis.findings.retain(|f| {
            !(f.message.contains("cut short")
                || f.message.contains("incomplete")
                || f.message.contains("missing"))
        });
        analysis
            .findings
            .push(sockit::http::client::check::Finding {
                severity: sockit::http::client::check::Severity::Note,
                section: "-",
                offset: bytes.len() as u64,
                message: format!("only the first {MAX_CHECKED} bytes were checked"),
            });
    }
    let mut text = String::new();
    for f in &analysis.findings {
        text.push_str(&format!(
            "sockit: check {}: {} {} at byte {}: {}\n",
            wire.url,
            f.severity.name(),
            f.section,
            f.offset,
            f.message
        ));
    }
    if analysis.findings.is_empty() {
        text.push_str(&format!("sockit: check {}: no findings\n", wire.url));
    }
    stderr_lines(&text);
    let errors: Vec<_> = analysis
        .findings
        .iter()
        .filter(|f| f.severity == sockit::http::client::check::Severity::Error)
        .collect();
    match errors.first() {
        Some(first) if complete => Err(ClientError::Malformed {
            peer: wire.url.clone(),
            error: sockit::http::proto::response_head::ResponseError::malformed(
                format!(
                    "--check found {} error(s), the first: {}",
                    errors.len(),
                    first.message
                ),
                first.offset,
            ),
        }
        .into()),
        _ => Ok(()),
    }
}

async fn copy_body(
    resp: &mut sockit::http::client::Response<'_>,
    sink: &mut Sink,
    wire: &mut Wire,
    mut decoder: Option<sockit::http::client::decode::ContentDecoder>,
    bar: Option<&indicatif::ProgressBar>,
) -> anyhow::Result<()> {
    let peer = wire_peer(resp);
    let malformed = |e: std::io::Error, at: u64| ClientError::Malformed {
        peer: peer.clone(),
        error: sockit::http::proto::response_head::ResponseError::malformed(
            format!("bad content coding: {e}"),
            at,
        ),
    };
    loop {
        let chunk = resp.chunk(wire).await?;
        if let (Some(bar), Some(c)) = (bar, &chunk) {
            bar.inc(c.len() as u64);
        }
        let data = match (&mut decoder, chunk) {
            (None, Some(c)) => c,
            (None, None) => return Ok(()),
            (Some(d), Some(c)) => d.push(c).map_err(|e| malformed(e, resp.body_bytes()))?,
            (Some(_), None) => {
                let Some(d) = decoder.take() else {
                    return Ok(());
                };
                let tail = d.finish().map_err(|e| malformed(e, resp.body_bytes()))?;
                write_sink(sink, tail).await?;
                return Ok(());
            }
        };
        write_sink(sink, data).await?;
    }
}

/// A progress bar (bytes, rate, ETA) for a download to a file when stderr is a
/// terminal; redrawn at most 10 times a second so it never costs the transfer.
fn progress_bar(
    resp: &sockit::http::client::Response<'_>,
    sink: &Sink,
) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !matches!(sink, Sink::File(_)) || !std::io::stderr().is_terminal() {
        return None;
    }
    let target = indicatif::ProgressDrawTarget::stderr_with_hz(10);
    let (bar, template) = match resp.length {
        sockit::http::proto::response_head::BodyLength::Length(n) => (
            indicatif::ProgressBar::with_draw_target(Some(n), target),
            "{bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {wide_bar}",
        ),
        _ => (
            indicatif::ProgressBar::with_draw_target(None, target),
            "{bytes} {binary_bytes_per_sec} {spinner}",
        ),
    };
    bar.set_style(indicatif::ProgressStyle::with_template(template).ok()?);
    Some(bar)
}

fn wire_peer(resp: &sockit::http::client::Response<'_>) -> String {
    opt_addr(resp.peer())
}

async fn write_sink(sink: &mut Sink, data: Bytes) -> anyhow::Result<()> {
    match sink {
        Sink::Stdout(out) => out.write(data).await.context("writing to stdout"),
        Sink::File(d) => d
            .out
            .write(data)
            .await
            .with_context(|| format!("writing {}", d.temp.display())),
        Sink::Discard => Ok(()),
    }
}

/// The decoder for the body's `Content-Encoding` with `--compressed`; none otherwise (the
/// bytes are written as they came).
fn body_decoder(
    resp: &sockit::http::client::Response,
    compressed: bool,
) -> Option<sockit::http::client::decode::ContentDecoder> {
    if !compressed {
        return None;
    }
    sockit::http::client::decode::ContentDecoder::for_encoding(resp.head.get("content-encoding"))
}
