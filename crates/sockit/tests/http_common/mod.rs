//! HTTP-specific helpers for the `http_*` integration tests, on top of the shared process
//! harness in `../common/mod.rs` (re-exported here, so a test file only needs
//! `mod http_common; use http_common::*;`): raw-socket HTTP clients ([`Conn`],
//! [`Response`], [`exchange`], [`request`]), clients nobody here wrote ([`curl`],
//! [`python`]), and [`Server`]/[`Site`] for `sockit http serve`. Processes are common's
//! [`Proc`]: killed by pid when dropped, so a failing test never leaves a server behind;
//! every socket read has a timeout, so a misbehaving server fails a test instead of
//! hanging it.

#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;

pub use common::*;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for a server to print its startup line.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Read timeout on test sockets: generous, only there so a bug fails instead of hanging.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// External tools
// ---------------------------------------------------------------------------

/// Runs `python3 -c SCRIPT ARGS...` and returns its output (no check of the status).
pub fn python(script: &str, args: &[&str]) -> std::process::Output {
    Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("python3 must be installed")
}

/// Runs a Python script that must succeed; returns its stdout.
pub fn python_ok(script: &str, args: &[&str]) -> String {
    let out = python(script, args);
    assert!(
        out.status.success(),
        "python failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `curl ARGS...` with a global time limit; returns its output.
pub fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["--max-time", "20"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run curl")
}

// ---------------------------------------------------------------------------
// HTTP over raw sockets
// ---------------------------------------------------------------------------

/// A parsed HTTP response as read off the wire.
#[derive(Clone, Debug, Default)]
pub struct Response {
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body after removing chunked framing.
    pub body: Vec<u8>,
    /// The head exactly as received (status line + fields + blank line).
    pub raw_head: String,
}

impl Response {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of header `name` (case-insensitive).
    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether a header exists.
    pub fn has(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the response was chunked.
    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .map(|v| v.to_ascii_lowercase().contains("chunked"))
            .unwrap_or(false)
    }

    /// Whether the `Connection` header contains `token` (e.g. `close`).
    pub fn connection_has(&self, token: &str) -> bool {
        self.headers_all("connection")
            .iter()
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

/// One client connection with its own read buffer, so several responses (pipelining,
/// `100 Continue`) can be read one after another.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to `addr` with [`IO_TIMEOUT`] on reads and writes.
    pub fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends bytes.
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> io::Result<()> {
        self.stream.write_all(bytes.as_ref())
    }

    /// Sends bytes, ignoring errors (for hostile requests the server may cut short).
    pub fn send_lossy(&mut self, bytes: impl AsRef<[u8]>) {
        let _ = self.stream.write_all(bytes.as_ref());
    }

    /// Closes our sending side (TCP FIN) while still reading.
    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Sets the read timeout.
    pub fn set_read_timeout(&self, t: Duration) {
        self.stream.set_read_timeout(Some(t)).unwrap();
    }

    /// Reads more bytes into the buffer; `Ok(0)` on EOF.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 65536];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                // A signal landed on this thread mid-read (EINTR): just read again.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        self.buf.drain(..n).collect()
    }

    /// Reads exactly `n` bytes (beyond what is buffered if needed).
    pub fn read_exact_bytes(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("EOF after {} of {n} bytes", self.buf.len()),
                ));
            }
        }
        Ok(self.take(n))
    }

    /// Reads up to and including the next CRLF.
    fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                return Ok(self.take(i + 2));
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "EOF inside a line",
                ));
            }
        }
    }

    /// Reads one response head (status line and fields), no body.
    pub fn read_head(&mut self) -> io::Result<Response> {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "EOF before a complete response head; got {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ),
                ));
            }
        };
        let raw = self.take(end);
        let raw_head = String::from_utf8_lossy(&raw).into_owned();
        let mut lines = raw_head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("").to_string();
        let status = parts.next().unwrap_or("").parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {status_line:?}"),
            )
        })?;
        let reason = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        for line in lines {
            if line.is_empty() {
                continue;
            }
            let (k, v) = line.split_once(':').ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad header line {line:?}"),
                )
            })?;
            headers.push((k.to_string(), v.trim().to_string()));
        }
        Ok(Response {
            version,
            status,
            reason,
            headers,
            body: Vec::new(),
            raw_head,
        })
    }

    /// Reads one complete response to a request that was not HEAD.
    pub fn read_response(&mut self) -> io::Result<Response> {
        self.read_response_for(false)
    }

    /// Reads one complete response; `head_request` says the request was HEAD (no body).
    pub fn read_response_for(&mut self, head_request: bool) -> io::Result<Response> {
        let mut resp = self.read_head()?;
        let bodyless =
            head_request || resp.status < 200 || resp.status == 204 || resp.status == 304;
        if bodyless {
            return Ok(resp);
        }
        if resp.is_chunked() {
            let mut body = Vec::new();
            loop {
                let line = self.read_line()?;
                let line = String::from_utf8_lossy(&line);
                let size_text = line
                    .trim()
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                let size = usize::from_str_radix(&size_text, 16).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("bad chunk size {line:?}"),
                    )
                })?;
                if size == 0 {
                    // Trailer fields, then the final CRLF.
                    loop {
                        if self.read_line()? == b"\r\n" {
                            break;
                        }
                    }
                    break;
                }
                body.extend(self.read_exact_bytes(size)?);
                let crlf = self.read_exact_bytes(2)?;
                if crlf != b"\r\n" {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "chunk without CRLF",
                    ));
                }
            }
            resp.body = body;
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad Content-Length {len:?}"),
                )
            })?;
            resp.body = self.read_exact_bytes(len)?;
        } else {
            resp.body = self.read_to_end();
        }
        Ok(resp)
    }

    /// Reads everything until EOF (or a reset or the read timeout).
    pub fn read_to_end(&mut self) -> Vec<u8> {
        while let Ok(n) = self.fill() {
            if n == 0 {
                break;
            }
        }
        std::mem::take(&mut self.buf)
    }

    /// Waits up to `timeout` for the server to close the connection (EOF or reset).
    /// Returns true if it did. Bytes that arrive meanwhile are buffered.
    pub fn wait_closed(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            self.stream.set_read_timeout(Some(deadline - now)).unwrap();
            match self.fill() {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return false
                }
                Err(_) => return true, // reset counts as closed
            }
        }
    }

    /// Bytes received but not consumed by a parsed response.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }
}

/// Opens a connection, sends `request` and reads one response (not HEAD).
pub fn exchange(addr: SocketAddr, request: impl AsRef<[u8]>) -> Response {
    let mut c = Conn::connect(addr);
    c.send_lossy(request);
    c.read_response()
        .unwrap_or_else(|e| panic!("no response: {e}"))
}

/// Builds a simple request with a Host header and the given extra header lines.
pub fn request(method: &str, target: &str, headers: &[&str]) -> String {
    let mut r = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r
}

// ---------------------------------------------------------------------------
// `sockit http serve`
// ---------------------------------------------------------------------------

/// A running `sockit http serve DIR --port 0 --bind 127.0.0.1 EXTRA...`, killed on drop.
pub struct Server {
    pub proc: Proc,
    pub addr: SocketAddr,
    pub port: u16,
    pub root: PathBuf,
}

impl Server {
    /// Starts the server on `dir` with extra flags and waits for its startup line
    /// `sockit: serving DIR on http://127.0.0.1:PORT/` to learn the port.
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        let dir_s = dir.to_str().expect("utf-8 temp path");
        let mut args = vec!["http", "serve", dir_s, "--port", "0", "--bind", "127.0.0.1"];
        args.extend_from_slice(extra);
        Self::start_args(&args, dir)
    }

    /// Like [`Server::start`], but when the tests run as root the server runs without the
    /// capabilities that let root ignore file permissions (`CAP_DAC_OVERRIDE`,
    /// `CAP_DAC_READ_SEARCH`, dropped from the bounding set before exec; root's
    /// capabilities after exec are that set): then a mode-000 file is unreadable to the
    /// server as it would be to any user, and permission answers can be tested as root.
    /// Not root: the same as [`Server::start`].
    pub fn start_without_dac_override(dir: &Path, extra: &[&str]) -> Server {
        let dir_s = dir.to_str().expect("utf-8 temp path");
        let mut args = vec!["http", "serve", dir_s, "--port", "0", "--bind", "127.0.0.1"];
        args.extend_from_slice(extra);
        let mut cmd = Command::new(sockit_bin());
        cmd.args(&args);
        if is_root() {
            use std::os::unix::process::CommandExt;
            const CAP_DAC_OVERRIDE: libc::c_ulong = 1;
            const CAP_DAC_READ_SEARCH: libc::c_ulong = 2;
            // SAFETY: prctl is async-signal-safe and touches only the child's own
            // capability bounding set; nothing is allocated between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    for cap in [CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH] {
                        if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
                            return Err(io::Error::last_os_error());
                        }
                    }
                    Ok(())
                });
            }
        }
        let proc = Proc::spawn_with_stdin(
            cmd,
            format!("sockit {} (no DAC override)", args.join(" ")),
            Stdio::null(),
        );
        Self::wait_started(proc, &args, dir)
    }

    /// Starts `sockit ARGS...` (a full `http serve` command line) and waits for the startup line.
    pub fn start_args(args: &[&str], root: &Path) -> Server {
        let proc = Proc::sockit_with_stdin(args, Stdio::null());
        Self::wait_started(proc, args, root)
    }

    /// Waits for the startup line of a server started as `sockit ARGS...`.
    fn wait_started(proc: Proc, args: &[&str], root: &Path) -> Server {
        let line = proc.stderr.wait_for_line_where(
            0,
            |l| l.contains("sockit: serving ") && l.contains("http://"),
            STARTUP_TIMEOUT,
        );
        let line = match line {
            Some(l) => l,
            None => panic!(
                "no startup line from `sockit {}` within {:?}; stderr:\n{}",
                args.join(" "),
                STARTUP_TIMEOUT,
                proc.stderr.text()
            ),
        };
        let port = parse_url_port(&line)
            .unwrap_or_else(|| panic!("cannot find the port in startup line {line:?}"));
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        Server {
            proc,
            addr,
            port,
            root: root.to_path_buf(),
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// A fresh raw connection.
    pub fn connect(&self) -> Conn {
        Conn::connect(self.addr)
    }

    /// Sends a raw request on a fresh connection and reads one response.
    pub fn exchange(&self, raw: impl AsRef<[u8]>) -> Response {
        exchange(self.addr, raw)
    }

    /// `GET path` on a fresh connection, with extra header lines.
    pub fn get(&self, path: &str, headers: &[&str]) -> Response {
        self.exchange(request("GET", path, headers))
    }

    /// Everything the server wrote to stderr so far (startup line, access log).
    pub fn stderr(&self) -> String {
        self.proc.stderr.text()
    }

    /// Waits for a stderr line containing `needle` (e.g. an access-log line).
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> Option<String> {
        self.proc.wait_for_stderr_line(needle, timeout)
    }
}

/// Extracts PORT from a line containing `http://HOST:PORT/`.
pub fn parse_url_port(line: &str) -> Option<u16> {
    let after = &line[line.find("http://")? + 7..];
    let hostport = after.split('/').next()?;
    hostport.rsplit(':').next()?.parse().ok()
}

/// A temporary site: `<tmp>/www` is the served folder, and `<tmp>/secret.txt` sits in its
/// parent so tests can check that nothing ever escapes `www`.
pub struct Site {
    pub tmp: tempfile::TempDir,
    pub www: PathBuf,
    pub secret: PathBuf,
}

/// Content of the secret file placed next to (outside) every served folder.
pub const SECRET: &str = "TOP-SECRET-4f1d9a: this must never be served";

impl Site {
    pub fn new() -> Site {
        let tmp = tempfile::tempdir().expect("tempdir");
        let www = tmp.path().join("www");
        std::fs::create_dir(&www).unwrap();
        let secret = tmp.path().join("secret.txt");
        std::fs::write(&secret, SECRET).unwrap();
        Site { tmp, www, secret }
    }

    /// Writes `www/REL` (creating parent folders).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.www.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Creates folder `www/REL`.
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.www.join(rel);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// Starts a server on `www`.
    pub fn serve(&self, extra: &[&str]) -> Server {
        Server::start(&self.www, extra)
    }

    /// Names in `www/REL` (including hidden ones), sorted.
    pub fn ls(&self, rel: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.www.join(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Names in the parent of `www` (the temp dir), sorted.
    pub fn ls_parent(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Default for Site {
    fn default() -> Self {
        Site::new()
    }
}

/// Deterministic pseudo-random bytes (so big-file tests need no RNG crate).
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        v.extend_from_slice(&r.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// Whether `hay` contains `needle`.
pub fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------
// A Python http.server peer for the client tests (`http_client_*.rs`)
// ---------------------------------------------------------------------------

/// Python's `http.server` with small handlers for the HTTP client tests: `/echo` answers
/// with the exact request bytes it received (head through a tee on `rfile`, then the
/// body); other paths misbehave on purpose (cut bodies, bad chunks, extra bytes, 103
/// Early Hints, redirects). Every response carries `X-Conn: N`, the connection's serial
/// number, so a test can see keep-alive reuse. Prints `PORT n` once listening.
pub const PY_HTTP_PEER: &str = r#"
import sys, gzip, zlib
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
class Tee:
    def __init__(s, f): s.f = f; s.buf = b''
    def readline(s, *a):
        l = s.f.readline(*a); s.buf += l; return l
    def read(s, n=-1):
        d = s.f.read(n); s.buf += d; return d
    def __getattr__(s, k): return getattr(s.f, k)
CONN = [0]
class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def setup(s):
        super().setup(); CONN[0] += 1; s.conn_id = CONN[0]; s.rfile = Tee(s.rfile)
    def log_message(s, *a): pass
    def handle_expect_100(s):
        if s.path == '/refuse':
            s.send_response(413); s.send_header('Content-Length', '0'); s.end_headers()
            s.close_connection = True
            return False
        return super().handle_expect_100()
    def raw(s, b, close=False):
        s.wfile.write(b); s.wfile.flush()
        if close: s.close_connection = True
    def reply(s, code, body, extra=()):
        s.send_response(code)
        s.send_header('Content-Type', 'text/plain')
        s.send_header('Content-Length', str(len(body)))
        s.send_header('X-Conn', str(s.conn_id))
        for k, v in extra: s.send_header(k, v)
        s.end_headers()
        if s.command != 'HEAD': s.wfile.write(body)
    def any(s):
        head = s.rfile.buf; s.rfile.buf = b''
        n = int(s.headers.get('Content-Length') or 0)
        body = s.rfile.read(n) if n else b''
        s.rfile.buf = b''
        p = s.path
        c = str(s.conn_id).encode()
        if p.startswith('/echo'): s.reply(200, head + body)
        elif p.startswith('/method'): s.reply(200, s.command.encode() + b' ' + p.encode() + b' ' + body)
        elif p == '/auth': s.reply(200, (s.headers.get('Authorization') or 'none').encode())
        elif p == '/chunked': s.raw(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Conn: ' + c + b'\r\n\r\n5;ext=1\r\nhello\r\n6 ; q="x"\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n')
        elif p == '/short': s.raw(b'HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789', True)
        elif p == '/midchunk': s.raw(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nhello', True)
        elif p == '/badchunk': s.raw(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n', True)
        elif p == '/extra': s.raw(b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA', True)
        elif p == '/badstatus': s.raw(b'HTTP/1.1 2x0 OK\r\n\r\n', True)
        elif p == '/badheader': s.raw(b'HTTP/1.1 200 OK\r\nGood: 1\r\nBad Header: 2\r\nContent-Length: 0\r\n\r\n', True)
        elif p == '/empty': s.raw(b'', True)
        elif p == '/early': s.raw(b'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Conn: ' + c + b'\r\n\r\nok')
        elif p == '/close': s.raw(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close', True)
        elif p == '/nocontent': s.raw(b'HTTP/1.1 204 No Content\r\nX-Conn: ' + c + b'\r\n\r\n')
        elif p == '/loop': s.reply(302, b'', [('Location', '/loop')])
        elif p.startswith('/redir/'):
            parts = p.split('/', 3)
            s.reply(int(parts[2]), b'moved', [('Location', '/' + parts[3])])
        elif p.startswith('/away'):
            s.reply(302, b'', [('Location', 'http://localhost:%d/auth' % s.server.server_address[1])])
        elif p.startswith('/status/'): s.reply(int(p[8:]), b'status ' + p[8:].encode())
        elif p == '/gzip': s.reply(200, gzip.compress(b'hello gzip ' * 20), [('Content-Encoding', 'gzip')])
        elif p == '/deflate': s.reply(200, zlib.compress(b'hello zlib ' * 20), [('Content-Encoding', 'deflate')])
        elif p == '/br': s.reply(200, b'\x40\x00\x10hello\x03', [('Content-Encoding', 'br')])
        elif p == '/rawdeflate':
            c = zlib.compressobj(wbits=-15)
            s.reply(200, c.compress(b'hello raw ' * 20) + c.flush(), [('Content-Encoding', 'deflate')])
        elif p.startswith('/slow'):
            import time
            s.send_response(200); s.send_header('Content-Length', '4'); s.end_headers(); s.wfile.flush()
            time.sleep(3); s.wfile.write(b'late')
        else: s.reply(404, b'not here')
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_PURGE = any
ThreadingHTTPServer.daemon_threads = True
srv = ThreadingHTTPServer(('127.0.0.1', 0), H)
if len(sys.argv) > 2:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print('PORT', srv.server_address[1], flush=True)
srv.serve_forever()
"#;

/// A running [`PY_HTTP_PEER`]; killed (by pid) when dropped.
pub struct PyPeer {
    /// The Python process.
    pub proc: Proc,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl PyPeer {
    /// Starts the peer and waits for its port.
    pub fn start() -> PyPeer {
        PyPeer::start_args(&[])
    }

    /// Starts the peer speaking TLS with this certificate chain and key (PEM files).
    pub fn start_tls(cert: &Path, key: &Path) -> PyPeer {
        PyPeer::start_args(&[cert.to_str().unwrap(), key.to_str().unwrap()])
    }

    fn start_args(args: &[&str]) -> PyPeer {
        let proc = Proc::python(PY_HTTP_PEER, args);
        assert!(
            proc.stdout.wait_for("\n", STARTUP_TIMEOUT),
            "python peer did not start\n{}",
            proc.diag()
        );
        let text = proc.stdout.text();
        let port = text
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("bad peer line {text:?}"));
        PyPeer { proc, port }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// Runs `sockit ARGS` in folder `dir` to completion.
pub fn run_sockit_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(sockit_bin());
    cmd.args(args).current_dir(dir);
    run_proc(
        Proc::spawn(cmd, format!("sockit {}", args.join(" "))),
        b"",
        TIMEOUT,
    )
}

/// A CA and a leaf for `localhost` and 127.0.0.1 signed by it, made with `openssl` in
/// `dir`: (ca.pem, leaf.pem, leaf.key). `None` (after [`skip`]) when openssl is missing.
pub fn openssl_ca_and_leaf(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    if !has_cmd("openssl") {
        return None;
    }
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=test CA",
        "-days",
        "2",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
    ]);
    Some((
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    ))
}
