//! Shared helpers for sockit's integration tests: run the real `sockit` binary (and real
//! peers: Python's `socket` module, nc, socat) as child processes, watch what they print,
//! and make sure every process ends, by pid, even when a test fails.
//!
//! Every test file does `mod common;` and uses what it needs (hence `allow(dead_code)`).
//!
//! - [`Proc`]: a child with piped stdin/stdout/stderr; one reader thread per output stream
//!   collects everything, so a test can wait for a line with a timeout and never blocks on a
//!   full pipe; stdin is written by a writer thread, so a child that stops reading can never
//!   hang the test. Dropping a `Proc` kills it (SIGKILL by pid) and reaps it.
//! - [`Proc::sockit`], [`run_sockit`]: the binary under test (`CARGO_BIN_EXE_sockit`).
//! - [`TcpPeer`], [`UdpPeer`]: scriptable Python peers (client or server) driven by commands.
//! - [`skip`]: the one place a test gives up for want of a peer or privilege: a printed
//!   `SKIP:` line outside CI, a failure under `CI=true`. [`has_cmd`], [`ipv6_available`]
//!   and [`NetNs::create`]'s callers go through it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A generous timeout for anything that should happen "soon" (a readiness line, a reply).
/// Only an upper bound against hangs: no test asserts on speed.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A short pause, for "this must NOT happen" checks (a half-close that must not arrive).
pub const QUIET: Duration = Duration::from_millis(1500);

/// Path of the binary under test.
pub fn sockit_bin() -> &'static str {
    env!("CARGO_BIN_EXE_sockit")
}

/// Whether this run is CI: the environment variable `CI` is `true` (or `1`), as `.ci/run`
/// and every CI service set it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The one way a test gives up because this machine lacks something it needs (a peer
/// program, root, a network namespace, IPv6, two CPUs): every such early return goes
/// through here.
///
/// Outside CI it prints `SKIP: <reason>` (on stdout and stderr; `--nocapture` shows it)
/// and returns, and the caller returns. Under `CI=true` it panics with the reason
/// instead: `.ci/run` installs every peer the tests use, so a skip there would be a
/// test that quietly passes without having checked anything.
#[track_caller]
pub fn skip(reason: &str) {
    if in_ci() {
        panic!(
            "CI=true, so this test may not skip: {reason} \
             (.ci/run installs every peer the tests use; without CI=true it would print SKIP)"
        );
    }
    println!("SKIP: {reason}");
    eprintln!("SKIP: {reason}");
}

/// Whether an executable is on PATH; prints `SKIP: <name> not installed` when it is not.
pub fn has_cmd(name: &str) -> bool {
    if find_cmd(name) {
        true
    } else {
        skip(&format!(
            "{name} not installed (not found on PATH; .ci/run installs it)"
        ));
        false
    }
}

/// Whether an executable is on PATH, silently.
pub fn find_cmd(name: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| {
        let p = dir.join(name);
        p.is_file()
            && std::fs::metadata(&p)
                .map(|m| {
                    use std::os::unix::fs::PermissionsExt;
                    m.permissions().mode() & 0o111 != 0
                })
                .unwrap_or(false)
    })
}

/// Whether `::1` can be bound here; prints a skip line when it cannot.
pub fn ipv6_available() -> bool {
    match TcpListener::bind("[::1]:0") {
        Ok(_) => true,
        Err(e) => {
            skip(&format!("IPv6 loopback ::1 not available: {e}"));
            false
        }
    }
}

/// Whether we run as root (needed for network namespaces).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Whether this process holds capability number `cap` (see capabilities(7)) in its
/// effective set, read from `/proc/self/status`.
pub fn has_capability(cap: u32) -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let hex = s
                .lines()
                .find_map(|l| l.strip_prefix("CapEff:"))?
                .trim()
                .to_string();
            u64::from_str_radix(&hex, 16).ok()
        })
        .is_some_and(|eff| cap < 64 && eff & (1u64 << cap) != 0)
}

/// A network namespace of our own (`sockit-test-<pid>-<tag>`, only `lo`, up), deleted on
/// Drop. Needs root and iproute2; `create` says why when it cannot.
pub struct NetNs {
    /// The namespace's name.
    pub name: String,
}

impl NetNs {
    /// Creates the namespace and brings `lo` up.
    pub fn create(tag: &str) -> Result<NetNs, String> {
        if !is_root() {
            return Err("not running as root".into());
        }
        if !find_cmd("ip") {
            return Err("`ip` (iproute2) not installed".into());
        }
        let ns = NetNs {
            name: format!("sockit-test-{}-{tag}", std::process::id()),
        };
        run_ip(&["netns", "add", &ns.name])?;
        run_ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Starts `prog args` inside the namespace (`ip netns exec` execs it: same pid).
    pub fn exec(&self, prog: &str, args: &[&str]) -> Proc {
        let mut v = vec!["netns", "exec", self.name.as_str(), prog];
        v.extend_from_slice(args);
        Proc::program("ip", &v)
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = run_ip(&["netns", "del", &self.name]);
    }
}

/// Runs `ip ARGS`; the error text on failure.
pub fn run_ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A port on 127.0.0.1 that was free a moment ago (for peers that cannot report port 0).
pub fn free_tcp_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind udp 127.0.0.1:0");
    s.local_addr().unwrap().port()
}

/// Polls `cond` every 20 ms until it holds (true) or `timeout` passes (false).
pub fn wait_cond(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether something listens on TCP `port` (any address), from /proc/net/tcp{,6}.
pub fn tcp_port_listening(port: u16) -> bool {
    let needle = format!(":{port:04X} ");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() > 3 && format!("{} ", cols[1]).ends_with(&needle) && cols[3] == "0A"
            })
    })
}

/// Waits until something listens on TCP `port` (for peers like nc that print no
/// readiness line); panics after [`TIMEOUT`].
pub fn wait_tcp_listening(port: u16) {
    assert!(
        wait_cond(TIMEOUT, || tcp_port_listening(port)),
        "nothing started listening on TCP port {port}"
    );
}

/// Whether a UDP socket is bound to `port` (any address), from /proc/net/udp{,6}.
pub fn udp_port_bound(port: u16) -> bool {
    let needle = format!(":{port:04X}");
    ["/proc/net/udp", "/proc/net/udp6"].iter().any(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|local| local.ends_with(&needle))
            })
    })
}

/// Waits until a UDP socket is bound to `port`; panics after [`TIMEOUT`].
pub fn wait_udp_bound(port: u16) {
    assert!(
        wait_cond(TIMEOUT, || udp_port_bound(port)),
        "nothing bound UDP port {port}"
    );
}

/// Removes ANSI escape sequences (colored log output) from a string.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c2 in chars.by_ref() {
                    if c2.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Everything one output stream of a child has printed so far, filled by a reader thread.
#[derive(Clone)]
pub struct Captured {
    inner: Arc<(Mutex<CapturedState>, Condvar)>,
}

#[derive(Default)]
struct CapturedState {
    data: Vec<u8>,
    eof: bool,
}

impl Captured {
    /// Starts a thread that reads `r` to its end into a new `Captured`.
    pub fn spawn_reader(mut r: impl Read + Send + 'static) -> Captured {
        let cap = Captured {
            inner: Arc::new((Mutex::new(CapturedState::default()), Condvar::new())),
        };
        let c2 = cap.clone();
        thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let (m, cv) = &*c2.inner;
                        m.lock().unwrap().data.extend_from_slice(&buf[..n]);
                        cv.notify_all();
                    }
                }
            }
            let (m, cv) = &*c2.inner;
            m.lock().unwrap().eof = true;
            cv.notify_all();
        });
        cap
    }

    /// A copy of all bytes so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.inner.0.lock().unwrap().data.clone()
    }

    /// Number of bytes so far.
    pub fn len(&self) -> usize {
        self.inner.0.lock().unwrap().data.len()
    }

    /// All output so far as text (lossy UTF-8, ANSI escapes removed).
    pub fn text(&self) -> String {
        strip_ansi(&String::from_utf8_lossy(&self.bytes()))
    }

    /// Text printed after byte offset `from` (see [`Captured::len`]).
    pub fn text_from(&self, from: usize) -> String {
        let b = self.bytes();
        strip_ansi(&String::from_utf8_lossy(&b[from.min(b.len())..]))
    }

    /// Whether the stream has ended (the child closed it or exited).
    pub fn is_eof(&self) -> bool {
        self.inner.0.lock().unwrap().eof
    }

    /// Waits until `pred(all bytes so far)` holds; false on timeout or if the stream ended
    /// without it holding.
    pub fn wait_until(&self, timeout: Duration, mut pred: impl FnMut(&[u8]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.inner;
        let mut st = m.lock().unwrap();
        loop {
            if pred(&st.data) {
                return true;
            }
            if st.eof {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// Waits until the output contains `pattern` anywhere.
    pub fn wait_for(&self, pattern: &str, timeout: Duration) -> bool {
        self.wait_until(timeout, |d| {
            strip_ansi(&String::from_utf8_lossy(d)).contains(pattern)
        })
    }

    /// Waits for a complete line (ended by `\n`) containing `pattern` and returns it
    /// (without the newline, ANSI escapes removed).
    pub fn wait_for_line(&self, pattern: &str, timeout: Duration) -> Option<String> {
        self.wait_for_line_from(0, pattern, timeout)
    }

    /// Like [`Captured::wait_for_line`], only looking at output after byte offset `from`.
    pub fn wait_for_line_from(
        &self,
        from: usize,
        pattern: &str,
        timeout: Duration,
    ) -> Option<String> {
        self.wait_for_line_where(from, |l| l.contains(pattern), timeout)
    }

    /// Waits for a complete line after byte offset `from` for which `pred` holds (given the
    /// line without its newline, ANSI escapes removed) and returns it.
    pub fn wait_for_line_where(
        &self,
        from: usize,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Option<String> {
        let mut found = None;
        self.wait_until(timeout, |d| {
            let d = &d[from.min(d.len())..];
            let text = String::from_utf8_lossy(d);
            let complete = match text.rfind('\n') {
                Some(i) => &text[..i],
                None => return false,
            };
            for line in complete.split('\n') {
                let line = strip_ansi(line.trim_end_matches('\r'));
                if pred(&line) {
                    found = Some(line);
                    return true;
                }
            }
            false
        });
        found
    }

    /// Waits until at least `n` bytes have arrived.
    pub fn wait_for_len(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |d| d.len() >= n)
    }

    /// Waits until the stream ends.
    pub fn wait_eof(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.inner;
        let mut st = m.lock().unwrap();
        while !st.eof {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
        true
    }
}

/// Exit status of a finished process, in a printable, comparable form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exited normally with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl Exit {
    /// The exit code, or None if the process was killed by a signal (like
    /// [`ExitStatus::code`]).
    pub fn code(&self) -> Option<i32> {
        match *self {
            Exit::Code(c) => Some(c),
            Exit::Signal(_) => None,
        }
    }
}

impl From<ExitStatus> for Exit {
    fn from(s: ExitStatus) -> Exit {
        use std::os::unix::process::ExitStatusExt;
        match s.code() {
            Some(c) => Exit::Code(c),
            None => Exit::Signal(s.signal().unwrap_or(-1)),
        }
    }
}

/// A running child process with all three standard streams piped.
pub struct Proc {
    /// A short name for diagnostics (`sockit tcp listen ...`, `python peer`, ...).
    pub name: String,
    child: Child,
    pid: u32,
    /// What the child printed on stdout.
    pub stdout: Captured,
    /// What the child printed on stderr.
    pub stderr: Captured,
    stdin: Option<mpsc::Sender<Vec<u8>>>,
    exit: Option<Exit>,
}

impl Proc {
    /// Spawns `cmd` with piped stdin/stdout/stderr. Panics if it cannot start.
    pub fn spawn(mut cmd: Command, name: impl Into<String>) -> Proc {
        let name = name.into();
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let pid = child.id();
        let stdout = Captured::spawn_reader(child.stdout.take().unwrap());
        let stderr = Captured::spawn_reader(child.stderr.take().unwrap());
        let mut child_stdin = child.stdin.take().unwrap();
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        thread::spawn(move || {
            // Ends (closing the child's stdin) when the sender is dropped.
            for chunk in rx {
                if child_stdin.write_all(&chunk).is_err() {
                    break;
                }
                let _ = child_stdin.flush();
            }
        });
        Proc {
            name,
            child,
            pid,
            stdout,
            stderr,
            stdin: Some(tx),
            exit: None,
        }
    }

    /// Like [`Proc::spawn`], but stdin is `stdin` (a file, /dev/null) instead of a pipe.
    pub fn spawn_with_stdin(mut cmd: Command, name: impl Into<String>, stdin: Stdio) -> Proc {
        let name = name.into();
        cmd.stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let pid = child.id();
        let stdout = Captured::spawn_reader(child.stdout.take().unwrap());
        let stderr = Captured::spawn_reader(child.stderr.take().unwrap());
        Proc {
            name,
            child,
            pid,
            stdout,
            stderr,
            stdin: None,
            exit: None,
        }
    }

    /// Starts the binary under test with `args` and stdin from `stdin`.
    pub fn sockit_with_stdin(args: &[&str], stdin: Stdio) -> Proc {
        let mut cmd = Command::new(sockit_bin());
        cmd.args(args);
        Proc::spawn_with_stdin(cmd, format!("sockit {}", args.join(" ")), stdin)
    }

    /// Starts the binary under test with `args`.
    pub fn sockit(args: &[&str]) -> Proc {
        let mut cmd = Command::new(sockit_bin());
        cmd.args(args);
        Proc::spawn(cmd, format!("sockit {}", args.join(" ")))
    }

    /// Starts `python3 -c SCRIPT ARGS...`.
    pub fn python(script: &str, args: &[&str]) -> Proc {
        let mut cmd = Command::new("python3");
        cmd.arg("-u").arg("-c").arg(script).args(args);
        Proc::spawn(cmd, format!("python3 peer {}", args.join(" ")))
    }

    /// Starts any program with `args`.
    pub fn program(prog: &str, args: &[&str]) -> Proc {
        let mut cmd = Command::new(prog);
        cmd.args(args);
        Proc::spawn(cmd, format!("{prog} {}", args.join(" ")))
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Queues bytes for the child's stdin (never blocks the test).
    pub fn write(&self, data: impl AsRef<[u8]>) {
        if let Some(tx) = &self.stdin {
            let _ = tx.send(data.as_ref().to_vec());
        }
    }

    /// Closes the child's stdin (after everything queued has been written).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for a complete stderr line containing `pattern`.
    pub fn wait_for_stderr_line(&self, pattern: &str, timeout: Duration) -> Option<String> {
        self.stderr.wait_for_line(pattern, timeout)
    }

    /// Like [`Proc::wait_for_stderr_line`] but panics with diagnostics when it does not come.
    pub fn expect_stderr_line(&self, pattern: &str) -> String {
        self.wait_for_stderr_line(pattern, TIMEOUT)
            .unwrap_or_else(|| {
                panic!(
                    "no stderr line containing {pattern:?} within {TIMEOUT:?}\n{}",
                    self.diag()
                )
            })
    }

    /// Waits until stdout contains `pattern`; panics with diagnostics otherwise.
    pub fn expect_stdout(&self, pattern: &str) {
        if !self.stdout.wait_for(pattern, TIMEOUT) {
            panic!(
                "stdout never contained {pattern:?} within {TIMEOUT:?}\n{}",
                self.diag()
            );
        }
    }

    /// Waits for the readiness line `sockit: listening on PROTO ADDR:PORT` and returns the
    /// address. Panics with diagnostics if it does not come.
    pub fn listening_addr(&self, proto: &str) -> SocketAddr {
        let pat = format!("listening on {proto} ");
        let line = self.wait_for_stderr_line(&pat, TIMEOUT).unwrap_or_else(|| {
            panic!(
                "no readiness line containing {pat:?} within {TIMEOUT:?}\n{}",
                self.diag()
            )
        });
        parse_listening_line(&line, proto)
            .unwrap_or_else(|| panic!("cannot parse address in readiness line {line:?}"))
    }

    /// Whether the child is still running.
    pub fn is_running(&mut self) -> bool {
        self.poll_exit().is_none()
    }

    /// The exit status if the child has ended, without waiting (beyond letting the reader
    /// threads collect the last output, so `stdout`/`stderr` are complete once this is Some).
    pub fn try_exit(&mut self) -> Option<Exit> {
        let e = self.poll_exit()?;
        self.stdout.wait_eof(Duration::from_secs(2));
        self.stderr.wait_eof(Duration::from_secs(2));
        Some(e)
    }

    fn poll_exit(&mut self) -> Option<Exit> {
        if self.exit.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.exit = Some(st.into());
            }
        }
        self.exit
    }

    /// Waits up to `timeout` for the child to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<Exit> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.poll_exit() {
                // Let the reader threads collect the last output.
                self.stdout.wait_eof(Duration::from_secs(2));
                self.stderr.wait_eof(Duration::from_secs(2));
                return Some(e);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the child to exit (up to [`TIMEOUT`]) and returns its exit code; panics with
    /// diagnostics if it is still running or was killed by a signal.
    pub fn expect_exit(&mut self) -> i32 {
        self.expect_exit_within(TIMEOUT)
    }

    /// [`Proc::expect_exit`] with an explicit timeout.
    pub fn expect_exit_within(&mut self, timeout: Duration) -> i32 {
        match self.wait_exit(timeout) {
            Some(Exit::Code(c)) => c,
            Some(Exit::Signal(s)) => {
                panic!("{} was killed by signal {s}\n{}", self.name, self.diag())
            }
            None => {
                let d = self.diag();
                self.kill();
                panic!("{} did not exit within {timeout:?}\n{d}", self.name)
            }
        }
    }

    /// Sends a signal to the child by pid (no-op if it already exited).
    pub fn signal(&mut self, sig: i32) {
        if self.poll_exit().is_none() {
            // SAFETY: kill(2) on the pid of our own unreaped child; it cannot have been reused.
            unsafe {
                libc::kill(self.pid as libc::pid_t, sig);
            }
        }
    }

    /// Kills the child (SIGKILL by pid) and reaps it.
    pub fn kill(&mut self) {
        if self.poll_exit().is_none() {
            self.signal(libc::SIGKILL);
            if let Ok(st) = self.child.wait() {
                self.exit = Some(st.into());
            }
        }
        self.stdin = None;
    }

    /// Name, state, stdout and stderr (truncated), for assertion messages.
    pub fn diag(&self) -> String {
        fn clip(s: String) -> String {
            if s.len() > 4000 {
                let mut cut = s.len() - 4000;
                while !s.is_char_boundary(cut) {
                    cut += 1;
                }
                format!("...{}", &s[cut..])
            } else {
                s
            }
        }
        format!(
            "--- {} (pid {}, exit {:?})\n--- stdout:\n{}\n--- stderr:\n{}\n---",
            self.name,
            self.pid,
            self.exit,
            clip(self.stdout.text()),
            clip(self.stderr.text())
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Parses the address out of `sockit: listening on PROTO ADDR:PORT`.
pub fn parse_listening_line(line: &str, proto: &str) -> Option<SocketAddr> {
    let pat = format!("listening on {proto} ");
    let rest = &line[line.find(&pat)? + pat.len()..];
    let token = rest.split_whitespace().next()?;
    let token = token.trim_end_matches([',', '.', ';', ')']);
    token.parse().ok()
}

/// Result of a finished one-shot command.
#[derive(Debug)]
pub struct Output {
    /// Exit code (panics earlier if killed by a signal or timed out).
    pub code: i32,
    /// Raw stdout.
    pub stdout: Vec<u8>,
    /// stderr text (ANSI escapes removed).
    pub stderr: String,
}

impl Output {
    /// stdout as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs a command to completion with `stdin` as input, killing it after `timeout`.
pub fn run_proc(mut p: Proc, stdin: &[u8], timeout: Duration) -> Output {
    if !stdin.is_empty() {
        p.write(stdin);
    }
    p.close_stdin();
    let code = p.expect_exit_within(timeout);
    Output {
        code,
        stdout: p.stdout.bytes(),
        stderr: p.stderr.text(),
    }
}

/// Runs `sockit ARGS` to completion (with [`TIMEOUT`]).
pub fn run_sockit(args: &[&str], stdin: &[u8]) -> Output {
    run_proc(Proc::sockit(args), stdin, TIMEOUT)
}

/// Runs `python3 -c SCRIPT ARGS` to completion (with [`TIMEOUT`]).
pub fn run_python(script: &str, args: &[&str], stdin: &[u8]) -> Output {
    run_proc(Proc::python(script, args), stdin, TIMEOUT)
}

/// Asserts that nothing panicked (Rust panics print "panicked" on stderr).
pub fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "the process panicked:\n{stderr}"
    );
}

/// The non-empty lines of a text.
pub fn nonempty_lines(s: &str) -> Vec<&str> {
    s.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// Formats an address the way sockit prints it: `127.0.0.1:5555`, `[::1]:5555`.
pub fn addr_text(a: SocketAddr) -> String {
    a.to_string()
}

/// Lower-case hex of bytes (how the Python peers take data on their command line).
pub fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Inverse of [`hex`].
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// Resident memory of a process in KiB (from /proc), if readable.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

// ---------------------------------------------------------------------------------------
// Python TCP peer
// ---------------------------------------------------------------------------------------

/// A scriptable TCP peer in Python: `connect HOST PORT [opts]` or `listen HOST PORT [opts]`.
///
/// Received bytes go raw to stdout. Events go to stderr as `PEER: ...` lines (`CONNECTED
/// local TO peer`, `LISTENING addr`, `ACCEPTED addr`, `EOF`, `RECV_ERR errno`, `SENT`,
/// `BULK_DONE n`, `BULK_ERR errno n`, `CLOSED`, `RESET`, `ERR cmd errno msg`).
/// Commands come on stdin, one per line: `send HEX`, `slow HEX DELAY` (one byte per send,
/// TCP_NODELAY on), `bulk N` (send N bytes in a background thread), `read` (start reading
/// when started with --no-read), `shutdown` (SHUT_WR), `close`, `reset` (SO_LINGER 0 then
/// close: the kernel sends RST), `exit`. Options: `--rcvbuf N`, `--sndbuf N` (set before
/// connect/listen), `--no-read`, `--bind IP`.
///
/// Every blocking call polls with a short socket timeout so `close`/`reset` take effect
/// at once even while a reader or bulk thread is busy (on Linux, closing a descriptor
/// another thread is blocked on does not release the socket).
pub const PY_TCP_PEER: &str = r#"
import os, signal, socket, struct, sys, threading, time
signal.alarm(int(os.environ.get('PEER_MAX_SECS', '300')))
ev_lock = threading.Lock()
def ev(*a):
    # One write per event line, under a lock: print() writes its pieces separately, so
    # two threads (the reader's EOF, the main thread's SENT) could interleave them into
    # `PEER: PEER: EOFSENT` and the event would be lost to whoever waits for it.
    line = ' '.join(['PEER:'] + [str(x) for x in a]) + '\n'
    with ev_lock:
        sys.stderr.write(line)
        sys.stderr.flush()
def fmt(a):
    return ('[%s]:%d' % (a[0], a[1])) if ':' in a[0] else ('%s:%d' % (a[0], a[1]))
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
opts = sys.argv[4:]
def opt(name):
    return opts[opts.index(name) + 1] if name in opts else None
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
def setup(s):
    if opt('--rcvbuf'): s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(opt('--rcvbuf')))
    if opt('--sndbuf'): s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(opt('--sndbuf')))
try:
    if mode == 'connect':
        s = socket.socket(fam, socket.SOCK_STREAM)
        setup(s)
        if opt('--bind'): s.bind((opt('--bind'), 0))
        s.settimeout(30)
        s.connect((host, port))
        ev('CONNECTED', fmt(s.getsockname()), 'TO', fmt(s.getpeername()))
    else:
        l = socket.socket(fam, socket.SOCK_STREAM)
        l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        setup(l)
        l.bind((host, port))
        l.listen(16)
        ev('LISTENING', fmt(l.getsockname()))
        l.settimeout(120)
        s, a = l.accept()
        ev('ACCEPTED', fmt(a), 'ON', fmt(s.getsockname()))
except OSError as e:
    ev('FAILED', e.errno, e.strerror)
    sys.exit(3)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(0.05)
stop = threading.Event()
threads = []
out = sys.stdout.buffer
def reader():
    while not stop.is_set():
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except OSError as e:
            if not stop.is_set(): ev('RECV_ERR', e.errno, e.strerror)
            return
        if not d:
            ev('EOF')
            return
        out.write(d)
        out.flush()
def send_all(data):
    view = memoryview(data)
    while len(view) and not stop.is_set():
        try:
            n = s.send(view)
        except socket.timeout:
            continue
        view = view[n:]
    return len(data) - len(view)
def bulk(n):
    sent = 0
    chunk = b'x' * 65536
    try:
        while sent < n and not stop.is_set():
            sent += send_all(chunk[:min(len(chunk), n - sent)])
        ev('BULK_DONE', sent)
    except OSError as e:
        ev('BULK_ERR', e.errno, sent)
def start(f, *a):
    t = threading.Thread(target=f, args=a, daemon=True)
    t.start()
    threads.append(t)
def halt():
    stop.set()
    for t in threads: t.join(2)
if '--no-read' not in opts: start(reader)
for line in sys.stdin:
    cmd = line.split()
    if not cmd: continue
    c = cmd[0]
    try:
        if c == 'send':
            send_all(bytes.fromhex(cmd[1]) if len(cmd) > 1 else b''); ev('SENT')
        elif c == 'slow':
            data, delay = bytes.fromhex(cmd[1]), float(cmd[2])
            for i in range(len(data)):
                send_all(data[i:i + 1]); time.sleep(delay)
            ev('SENT')
        elif c == 'bulk': start(bulk, int(cmd[1]))
        elif c == 'read': start(reader)
        elif c == 'shutdown': s.shutdown(socket.SHUT_WR); ev('SHUTDOWN')
        elif c == 'close': halt(); s.close(); ev('CLOSED')
        elif c == 'reset':
            halt()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            s.close(); ev('RESET')
        elif c == 'exit': break
        else: ev('ERR', c, 0, 'unknown command')
    except OSError as e:
        ev('ERR', c, e.errno, e.strerror)
halt()
os._exit(0)
"#;

/// A running [`PY_TCP_PEER`].
pub struct TcpPeer {
    /// The Python process.
    pub proc: Proc,
    /// Our local address (connect mode) or the listening address (listen mode).
    pub local: SocketAddr,
}

impl TcpPeer {
    /// Connects a Python client to `addr`; panics with diagnostics if it cannot.
    pub fn connect(addr: SocketAddr, opts: &[&str]) -> TcpPeer {
        let host = addr.ip().to_string();
        let port = addr.port().to_string();
        let mut args = vec!["connect", host.as_str(), port.as_str()];
        args.extend_from_slice(opts);
        let proc = Proc::python(PY_TCP_PEER, &args);
        let line = proc.expect_stderr_line("PEER: CONNECTED");
        let local = line.split_whitespace().nth(2).unwrap().parse().unwrap();
        TcpPeer { proc, local }
    }

    /// Starts a Python server on `host` port 0 that accepts one connection.
    pub fn listen(host: &str, opts: &[&str]) -> TcpPeer {
        let mut args = vec!["listen", host, "0"];
        args.extend_from_slice(opts);
        let proc = Proc::python(PY_TCP_PEER, &args);
        let line = proc.expect_stderr_line("PEER: LISTENING");
        let local = line.split_whitespace().nth(2).unwrap().parse().unwrap();
        TcpPeer { proc, local }
    }

    /// Waits for the server peer to accept; returns the client's address.
    pub fn accepted(&self) -> SocketAddr {
        let line = self.proc.expect_stderr_line("PEER: ACCEPTED");
        line.split_whitespace().nth(2).unwrap().parse().unwrap()
    }

    fn cmd(&self, c: &str) {
        self.proc.write(format!("{c}\n"));
    }

    /// Sends bytes (queued; `wait_sent` waits for completion).
    pub fn send(&self, data: &[u8]) {
        self.cmd(&format!("send {}", hex(data)));
    }

    /// Sends bytes one at a time with `delay_s` seconds between them.
    pub fn send_slowly(&self, data: &[u8], delay_s: f64) {
        self.cmd(&format!("slow {} {delay_s}", hex(data)));
    }

    /// Sends `n` bytes of `x` from a background thread.
    pub fn bulk(&self, n: usize) {
        self.cmd(&format!("bulk {n}"));
    }

    /// Half-closes (SHUT_WR).
    pub fn shutdown(&self) {
        self.cmd("shutdown");
    }

    /// Closes normally.
    pub fn close(&self) {
        self.cmd("close");
        self.proc.expect_stderr_line("PEER: CLOSED");
    }

    /// Closes with SO_LINGER (1, 0): the kernel sends RST.
    pub fn reset(&self) {
        self.cmd("reset");
        self.proc.expect_stderr_line("PEER: RESET");
    }

    /// Starts reading (for peers started with `--no-read`).
    pub fn start_reading(&self) {
        self.cmd("read");
    }

    /// All bytes received so far.
    pub fn received(&self) -> Vec<u8> {
        self.proc.stdout.bytes()
    }

    /// Received bytes as text.
    pub fn received_text(&self) -> String {
        self.proc.stdout.text()
    }

    /// Waits until the received bytes contain `pattern`; panics with diagnostics otherwise.
    pub fn expect_received(&self, pattern: &str) {
        if !self.proc.stdout.wait_for(pattern, TIMEOUT) {
            panic!(
                "peer {} never received {pattern:?}\n{}",
                self.local,
                self.proc.diag()
            );
        }
    }

    /// Waits until at least `n` bytes have been received.
    pub fn wait_received_len(&self, n: usize, timeout: Duration) -> bool {
        self.proc.stdout.wait_for_len(n, timeout)
    }

    /// Waits for the peer to see end-of-stream (FIN) or a receive error.
    pub fn wait_eof(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let t = self.proc.stderr.text();
            if t.contains("PEER: EOF") || t.contains("PEER: RECV_ERR") {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the peer has seen EOF so far.
    pub fn saw_eof(&self) -> bool {
        self.proc.stderr.text().contains("PEER: EOF")
    }
}

// ---------------------------------------------------------------------------------------
// Python UDP peer
// ---------------------------------------------------------------------------------------

/// A scriptable UDP peer in Python: `HOST PORT [--echo] [--reply-prefix HEX] [--broadcast]
/// [--also HOST]`. Binds HOST:PORT (and the same port on the `--also` host), prints `PEER:
/// LISTENING addr` on stderr, and one stdout line per datagram received:
/// `FROM addr LEN n HEX payload`. `--echo` sends every datagram back to its sender (with an
/// optional prefix). Commands on stdin: `sendto HOST PORT HEX`, `exit`.
pub const PY_UDP_PEER: &str = r#"
import os, signal, socket, sys, threading
signal.alarm(int(os.environ.get('PEER_MAX_SECS', '300')))
ev_lock = threading.Lock()
def ev(*a):
    # One write per line, under a lock (see PY_TCP_PEER: print() is not atomic).
    line = ' '.join(['PEER:'] + [str(x) for x in a]) + '\n'
    with ev_lock:
        sys.stderr.write(line)
        sys.stderr.flush()
def fmt(a):
    return ('[%s]:%d' % (a[0], a[1])) if ':' in a[0] else ('%s:%d' % (a[0], a[1]))
host, port = sys.argv[1], int(sys.argv[2])
opts = sys.argv[3:]
def opt(name):
    return opts[opts.index(name) + 1] if name in opts else None
def mk(h, p):
    s = socket.socket(socket.AF_INET6 if ':' in h else socket.AF_INET, socket.SOCK_DGRAM)
    if '--broadcast' in opts: s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind((h, p))
    return s
try:
    socks = [mk(host, port)]
    real_port = socks[0].getsockname()[1]
    if opt('--also'):
        try:
            socks.append(mk(opt('--also'), real_port))
        except OSError as e:
            ev('ALSO_FAILED', e.errno)
except OSError as e:
    ev('FAILED', e.errno, e.strerror)
    sys.exit(3)
ev('LISTENING', fmt(socks[0].getsockname()))
prefix = bytes.fromhex(opt('--reply-prefix')) if opt('--reply-prefix') else b''
lock = threading.Lock()
def reader(s):
    while True:
        d, a = s.recvfrom(70000)
        with lock:
            print('FROM %s LEN %d HEX %s' % (fmt(a), len(d), d.hex()), flush=True)
        if '--echo' in opts:
            s.sendto(prefix + d, a)
for s in socks:
    threading.Thread(target=reader, args=(s,), daemon=True).start()
for line in sys.stdin:
    cmd = line.split()
    if not cmd: continue
    try:
        if cmd[0] == 'sendto':
            fam = socket.AF_INET6 if ':' in cmd[1] else socket.AF_INET
            s = next((x for x in socks if x.family == fam), socks[0])
            s.sendto(bytes.fromhex(cmd[3]) if len(cmd) > 3 else b'', (cmd[1], int(cmd[2])))
            ev('SENT')
        elif cmd[0] == 'exit': break
    except OSError as e:
        ev('ERR', cmd[0], e.errno, e.strerror)
os._exit(0)
"#;

/// One datagram as seen by a [`UdpPeer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// Sender address as printed by Python (`127.0.0.1:4000`, `[::1]:4000`).
    pub from: String,
    /// The payload.
    pub data: Vec<u8>,
}

/// A running [`PY_UDP_PEER`].
pub struct UdpPeer {
    /// The Python process.
    pub proc: Proc,
    /// The bound address.
    pub addr: SocketAddr,
}

impl UdpPeer {
    /// Binds a Python UDP socket on `host` (port 0) with extra options.
    pub fn bind(host: &str, opts: &[&str]) -> UdpPeer {
        let mut args = vec![host, "0"];
        args.extend_from_slice(opts);
        let proc = Proc::python(PY_UDP_PEER, &args);
        let line = proc.expect_stderr_line("PEER: LISTENING");
        let addr = line.split_whitespace().nth(2).unwrap().parse().unwrap();
        UdpPeer { proc, addr }
    }

    /// Sends one datagram to `to`.
    pub fn send_to(&self, to: SocketAddr, data: &[u8]) {
        self.proc
            .write(format!("sendto {} {} {}\n", to.ip(), to.port(), hex(data)));
    }

    /// Datagrams received so far.
    pub fn datagrams(&self) -> Vec<Datagram> {
        parse_datagram_lines(&self.proc.stdout.text())
    }

    /// Waits until at least `n` datagrams have arrived (false on timeout).
    pub fn wait_datagrams(&self, n: usize, timeout: Duration) -> bool {
        self.proc.stdout.wait_until(timeout, |d| {
            parse_datagram_lines(&String::from_utf8_lossy(d)).len() >= n
        })
    }

    /// Like [`UdpPeer::wait_datagrams`] but panics with diagnostics and returns them.
    pub fn expect_datagrams(&self, n: usize) -> Vec<Datagram> {
        if !self.wait_datagrams(n, TIMEOUT) {
            panic!(
                "python UDP peer {} got fewer than {n} datagrams\n{}",
                self.addr,
                self.proc.diag()
            );
        }
        self.datagrams()
    }
}

/// Parses [`PY_UDP_PEER`] stdout lines.
/// Only complete lines count (a big datagram's line may still be arriving).
pub fn parse_datagram_lines(text: &str) -> Vec<Datagram> {
    let complete = match text.rfind('\n') {
        Some(i) => &text[..i],
        None => return Vec::new(),
    };
    complete
        .split('\n')
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            if f.len() >= 5 && f[0] == "FROM" && f[2] == "LEN" && f[4] == "HEX" {
                let data = unhex(f.get(5).copied().unwrap_or(""));
                assert_eq!(
                    f[3].parse::<usize>().ok(),
                    Some(data.len()),
                    "garbled line {l:?}"
                );
                Some(Datagram {
                    from: f[1].to_string(),
                    data,
                })
            } else {
                None
            }
        })
        .collect()
}
