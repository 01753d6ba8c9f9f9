//! What `udp listen` and `udp send --wait-reply` do with their output: when stdout fails
//! (a full disk, a reader that went away) they stop with one `write stdout: ...` line and
//! exit 1 instead of discarding datagrams; and in the `[sender] payload` lines every
//! datagram stays on one line with its control bytes escaped, while `--raw` stays
//! byte-exact. Real senders: Python sockets.

mod common;

use common::*;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `sockit ARGS` with stdout going where the test says (/dev/full, a closed pipe) and
/// stderr captured; killed by pid when dropped.
struct Sockit {
    child: Child,
    stderr: Captured,
}

impl Sockit {
    fn spawn(args: &[&str], stdout: Stdio) -> Sockit {
        let mut child = Command::new(sockit_bin())
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sockit");
        let stderr = Captured::spawn_reader(child.stderr.take().expect("piped stderr"));
        Sockit { child, stderr }
    }

    /// With stdout a pipe whose reading end is already closed: every write is EPIPE.
    fn spawn_closed_pipe(args: &[&str]) -> Sockit {
        let mut s = Sockit::spawn(args, Stdio::piped());
        drop(s.child.stdout.take());
        s
    }

    fn listening_addr(&self) -> SocketAddr {
        let line = self
            .stderr
            .wait_for_line("listening on udp", TIMEOUT)
            .unwrap_or_else(|| panic!("no listening line: {}", self.stderr.text()));
        parse_listening_line(&line, "udp").expect("address in the listening line")
    }

    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status
                    .code()
                    .unwrap_or_else(|| panic!("killed by a signal: {status:?}"));
            }
            assert!(
                Instant::now() < deadline,
                "sockit did not exit; stderr:\n{}",
                self.stderr.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The stderr lines once the process has ended (its stderr reaches EOF).
    fn stderr_lines(&self) -> Vec<String> {
        self.stderr.wait_eof(TIMEOUT);
        let text = self.stderr.text();
        assert_no_panic(&text);
        text.lines().map(str::to_string).collect()
    }
}

impl Drop for Sockit {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dev_full() -> Option<Stdio> {
    match std::fs::OpenOptions::new().write(true).open("/dev/full") {
        Ok(f) => Some(Stdio::from(f)),
        Err(e) => {
            skip(&format!("/dev/full not available: {e}"));
            None
        }
    }
}

/// Sends datagrams until the listener exits (the first one may race its readiness).
fn send_until_exit(server: &mut Sockit, to: SocketAddr) -> i32 {
    let sender = UdpPeer::bind("127.0.0.1", &[]);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        sender.send_to(to, b"data that cannot be delivered\n");
        if let Some(status) = server.child.try_wait().expect("wait") {
            return status.code().expect("exit code, not a signal");
        }
        assert!(Instant::now() < deadline, "udp listen never stopped");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_one_write_error(lines: &[String], want: &str) {
    let errors: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("write stdout"))
        .collect();
    assert_eq!(errors.len(), 1, "one write error expected: {lines:#?}");
    assert!(
        errors[0].ends_with(want),
        "expected {want:?}, got {:?}",
        errors[0]
    );
}

#[test]
fn listen_to_a_full_disk_exits_1_at_the_first_datagram() {
    let Some(full) = dev_full() else { return };
    let mut server = Sockit::spawn(&["udp", "listen", "127.0.0.1:0"], full);
    let addr = server.listening_addr();
    assert_eq!(send_until_exit(&mut server, addr), 1);
    assert_one_write_error(
        &server.stderr_lines(),
        "sockit: write stdout: no space left on device",
    );
}

#[test]
fn listen_to_a_closed_pipe_exits_1() {
    let mut server = Sockit::spawn_closed_pipe(&["udp", "listen", "127.0.0.1:0"]);
    let addr = server.listening_addr();
    assert_eq!(send_until_exit(&mut server, addr), 1);
    assert_one_write_error(&server.stderr_lines(), "sockit: write stdout: broken pipe");
}

#[test]
fn raw_listen_to_a_full_disk_exits_1_too() {
    let Some(full) = dev_full() else { return };
    let mut server = Sockit::spawn(&["udp", "listen", "--raw", "127.0.0.1:0"], full);
    let addr = server.listening_addr();
    assert_eq!(send_until_exit(&mut server, addr), 1);
    assert_one_write_error(
        &server.stderr_lines(),
        "sockit: write stdout: no space left on device",
    );
}

#[test]
fn send_wait_reply_to_a_full_disk_exits_1() {
    let Some(full) = dev_full() else { return };
    let echo = UdpPeer::bind("127.0.0.1", &["--echo"]);
    let target = echo.addr.to_string();
    let mut client = Sockit::spawn(
        &[
            "udp",
            "send",
            &target,
            "ping",
            "--wait-reply",
            "--timeout",
            "10",
        ],
        full,
    );
    assert_eq!(client.wait_exit(), 1);
    assert_eq!(echo.expect_datagrams(1)[0].data, b"ping");
    assert_one_write_error(
        &client.stderr_lines(),
        "sockit: write stdout: no space left on device",
    );
}

#[test]
fn send_wait_reply_to_a_closed_pipe_exits_1() {
    let echo = UdpPeer::bind("127.0.0.1", &["--echo"]);
    let target = echo.addr.to_string();
    let mut client = Sockit::spawn_closed_pipe(&[
        "udp",
        "send",
        &target,
        "ping",
        "--wait-reply",
        "--timeout",
        "10",
    ]);
    assert_eq!(client.wait_exit(), 1);
    assert_one_write_error(&client.stderr_lines(), "sockit: write stdout: broken pipe");
}

#[test]
fn a_datagram_stays_on_its_senders_line_with_control_bytes_escaped() {
    let server = Proc::sockit(&["udp", "listen", "127.0.0.1:0"]);
    let addr = server.listening_addr("udp");
    let sender = UdpPeer::bind("127.0.0.1", &[]);
    // A forged second line, NUL, 0xff, a terminal escape, a backslash, UTF-8 text.
    sender.send_to(
        addr,
        "line1\n[10.0.0.9:53] forged\0\u{1b}[2J\\ é\n".as_bytes(),
    );
    sender.send_to(addr, b"\xff\xfe\r\n");
    sender.send_to(addr, b"last");
    let prefix = format!("[{}] ", sender.addr);
    server.expect_stdout(&format!("{prefix}last\n"));
    let out = server.stdout.bytes();
    let text = String::from_utf8(out).expect("escaped output is valid UTF-8");
    assert_eq!(
        text,
        format!(
            "{prefix}line1\\n[10.0.0.9:53] forged\\x00\\x1b[2J\\\\ é\n\
             {prefix}\\xff\\xfe\\r\n\
             {prefix}last\n"
        )
    );
    assert!(!text.bytes().any(|b| b < 0x20 && b != b'\n'));
}

#[test]
fn raw_output_stays_byte_exact() {
    let server = Proc::sockit(&["udp", "listen", "--raw", "127.0.0.1:0"]);
    let addr = server.listening_addr("udp");
    let sender = UdpPeer::bind("127.0.0.1", &[]);
    let payload: Vec<u8> = (0..=255u8).collect();
    sender.send_to(addr, &payload);
    assert!(
        server.stdout.wait_for_len(256, TIMEOUT),
        "{}",
        server.diag()
    );
    assert_eq!(server.stdout.bytes(), payload);
}

#[test]
fn a_unicast_reply_is_printed_raw_like_nc() {
    // `udp send --wait-reply` to one peer prints the reply's bytes as they are (like nc);
    // only the "[sender] payload" lines of broadcast discovery are escaped.
    let echo = UdpPeer::bind("127.0.0.1", &["--echo"]);
    let target = echo.addr.to_string();
    let out = run_sockit(
        &[
            "udp",
            "send",
            &target,
            "a\tb",
            "--wait-reply",
            "--timeout",
            "10",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, b"a\tb\n");
}
