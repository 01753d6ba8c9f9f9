//! Never lose a byte: `tcp listen` and `tcp connect` under unlucky and hostile conditions.
//! A full disk (`/dev/full`), a closed pipe, a client that half-closes at once, a server
//! that reads once and closes, a client that never reads, clients that interleave half
//! lines, and more clients or bigger unfinished lines than the server should hold.
//! Each test failed on the code before the "never lose a byte" work.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs `bash -c SCRIPT` with `$SOCKIT` set, to completion within `timeout`.
fn bash(script: &str, timeout: Duration) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(script).env("SOCKIT", sockit_bin());
    run_proc(Proc::spawn(cmd, "bash"), &[], timeout)
}

/// Spawns the binary with stdout to `/dev/full` (a full disk) and stdin from /dev/null.
fn sockit_to_full(args: &[&str]) -> Proc {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg("exec \"$SOCKIT\" \"$@\" > /dev/full")
        .arg("bash")
        .args(args)
        .env("SOCKIT", sockit_bin());
    Proc::spawn_with_stdin(
        cmd,
        format!("sockit {} > /dev/full", args.join(" ")),
        Stdio::null(),
    )
}

/// A one-connection Python server: binds 127.0.0.1:0, says its port, accepts, then runs
/// `on_accept` with the connection as `c`. Returns the process and `127.0.0.1:PORT`.
fn python_server(on_accept: &str) -> (Proc, String) {
    let script = format!(
        "import socket,sys,time\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen()\n\
         print('PORT',s.getsockname()[1],file=sys.stderr,flush=True)\n\
         c,_=s.accept()\n{on_accept}"
    );
    let server = Proc::python(&script, &[]);
    let port = server
        .expect_stderr_line("PORT")
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    (server, format!("127.0.0.1:{port}"))
}

/// A file of `len` pseudo-random bytes in a fresh temporary folder.
fn data_file(len: usize) -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    let mut x: u32 = 0x1234_5678;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(&path, &data).unwrap();
    (dir, path, data)
}

#[test]
fn listen_with_stdout_on_a_full_disk_stops_and_exits_1() {
    // Before: the server marked stdout closed, discarded the upload, and both ends exited 0.
    let mut server = sockit_to_full(&["tcp", "listen", "127.0.0.1:0", "--once"]);
    let addr = server.listening_addr("tcp");
    let (_dir, path, _) = data_file(10 << 20);
    let client = bash(
        &format!("$SOCKIT tcp connect {addr} < {}", path.display()),
        TIMEOUT,
    );
    assert_eq!(server.expect_exit(), 1, "{}", server.diag());
    let err = server.stderr.text().to_lowercase();
    assert!(
        err.contains("write stdout: no space left on device"),
        "{}",
        server.diag()
    );
    assert_eq!(
        err.matches("write stdout").count(),
        1,
        "reported once: {err}"
    );
    assert_ne!(
        client.code, 0,
        "the client must not report success: {client:?}"
    );
}

#[test]
fn a_multi_client_server_stops_accepting_when_stdout_fails() {
    let mut server = sockit_to_full(&["tcp", "listen", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let first = TcpPeer::connect(addr, &[]);
    first.send(b"this cannot be written\n");
    assert_eq!(server.expect_exit(), 1, "{}", server.diag());
    // Nobody listens any more: later uploads are refused, not swallowed.
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn connect_with_stdout_on_a_full_disk_exits_1() {
    let (_server, target) = python_server("c.sendall(b'x'*1000000);c.close()");
    let mut client = sockit_to_full(&["tcp", "connect", &target]);
    assert_eq!(client.expect_exit(), 1, "{}", client.diag());
    assert!(
        client
            .stderr
            .text()
            .to_lowercase()
            .contains("write stdout: no space left on device"),
        "{}",
        client.diag()
    );
}

#[test]
fn connect_with_stdout_a_closed_pipe_exits_1() {
    // `| head -c 10`: the reader goes away after 10 bytes; the rest cannot be delivered.
    let (_server, target) =
        python_server("try:\n  c.sendall(b'y'*20000000)\nexcept OSError: pass\nc.close()");
    let out = bash(
        &format!(
            "set -o pipefail; err=$(mktemp); $SOCKIT tcp connect {target} < /dev/null 2>$err | head -c 10 >/dev/null; \
             echo \"exit ${{PIPESTATUS[0]}}\"; cat $err; rm -f $err"
        ),
        TIMEOUT,
    );
    let text = out.stdout_text();
    assert!(text.contains("exit 1"), "{text}");
    assert!(
        text.to_lowercase().contains("write stdout: broken pipe"),
        "{text}"
    );
}

#[test]
fn once_serves_a_whole_file_to_a_client_that_half_closes_at_once() {
    // The most common netcat job. Before: 0, 0 and 12.5 MB of 200 MiB arrived in three
    // runs, both sides exiting 0. Three runs here too.
    let (dir, path, data) = data_file(30 << 20);
    for run in 0..3 {
        let mut server = Proc::sockit_with_stdin(
            &["tcp", "listen", "127.0.0.1:0", "--once"],
            Stdio::from(std::fs::File::open(&path).unwrap()),
        );
        let addr = server.listening_addr("tcp");
        let out_path = dir.path().join(format!("out{run}"));
        let client = bash(
            &format!(
                "$SOCKIT tcp connect {addr} < /dev/null > {}",
                out_path.display()
            ),
            TIMEOUT,
        );
        assert_eq!(client.code, 0, "run {run}: {client:?}");
        assert_eq!(server.expect_exit(), 0, "run {run}: {}", server.diag());
        let got = std::fs::read(&out_path).unwrap();
        assert!(
            got == data,
            "run {run}: {} of {} bytes arrived",
            got.len(),
            data.len()
        );
    }
}

#[test]
fn once_with_a_client_that_does_not_half_close_ends_when_stdin_ends() {
    // Before: with --no-shutdown all data arrived but both sides hung forever.
    let (dir, path, data) = data_file(5 << 20);
    let mut server = Proc::sockit_with_stdin(
        &["tcp", "listen", "127.0.0.1:0", "--once"],
        Stdio::from(std::fs::File::open(&path).unwrap()),
    );
    let addr = server.listening_addr("tcp");
    let out_path = dir.path().join("out");
    let client = bash(
        &format!(
            "$SOCKIT tcp connect {addr} --no-shutdown < /dev/null > {}",
            out_path.display()
        ),
        Duration::from_secs(20),
    );
    assert_eq!(client.code, 0, "{client:?}");
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());
    assert!(std::fs::read(&out_path).unwrap() == data);
}

#[test]
fn quit_after_stdin_eof_ends_a_session_the_peer_keeps_open() {
    // A server that never closes; -q 0.3 ends the client 0.3 s after its stdin ends.
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let started = std::time::Instant::now();
    let out = run_sockit(
        &[
            "tcp",
            "connect",
            &server.local.to_string(),
            "-q",
            "0.3",
            "-N",
        ],
        b"hello\n",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(8));
    server.expect_received("hello\n");

    // And on the listening side: -q 0 quits once stdin is sent.
    let mut listener = Proc::sockit(&["tcp", "listen", "127.0.0.1:0", "-q", "0"]);
    let addr = listener.listening_addr("tcp");
    let client = TcpPeer::connect(addr, &[]);
    listener.expect_stderr_line("connection from");
    listener.write("bye\n");
    listener.close_stdin();
    client.expect_received("bye\n");
    assert_eq!(listener.expect_exit(), 0, "{}", listener.diag());
}

const PY_READ_ONCE: &str =
    "print('GOT',c.recv(100),file=sys.stderr,flush=True);c.close()\ntime.sleep(5)";

/// Starts a server that reads once and closes, runs `tcp connect EXTRA` against it, sends
/// a first line, then 50 lines after the server has closed, and returns the client.
fn client_of_a_server_that_reads_once(extra: &[&str]) -> (Proc, String) {
    let (server, target) = python_server(PY_READ_ONCE);
    let mut args = vec!["tcp", "connect", target.as_str()];
    args.extend_from_slice(extra);
    let mut client = Proc::sockit(&args);
    client.write("first\n");
    server.expect_stderr_line("GOT b'first\\n'");
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..50 {
        client.write("a later line that cannot arrive\n");
        std::thread::sleep(Duration::from_millis(5));
    }
    client.close_stdin();
    (client, target)
}

#[test]
fn connect_says_what_was_not_sent_when_the_server_closes_early() {
    // Before: later stdin lines were silently never sent, exit 0.
    let (mut client, target) = client_of_a_server_that_reads_once(&[]);
    assert_eq!(client.expect_exit(), 1, "{}", client.diag());
    let err = client.stderr.text();
    assert!(
        err.contains(&format!("{target} closed the connection;"))
            && err.contains("bytes of stdin not sent"),
        "{}",
        client.diag()
    );
    // --ignore-close: the early close was expected.
    let (mut client, _) = client_of_a_server_that_reads_once(&["--ignore-close"]);
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());
}

#[test]
fn a_client_that_never_reads_does_not_stall_the_others() {
    // Before: send_to_all awaited the full queue of the non-reader, so the reader starved.
    let mut server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let sleeper = TcpPeer::connect(addr, &["--no-read"]);
    let reader = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", reader.local));
    let line = format!("{}\n", "z".repeat(64 * 1024 - 1));
    let total = 64 << 20; // far more than the sleeper's socket buffers and queue
                          // Queued for the server's stdin at once (the test harness writes it from a thread).
    for _ in 0..total / line.len() {
        server.write(&line);
    }
    assert!(
        reader.wait_received_len(total, Duration::from_secs(60)),
        "the reading client got {} of {total} bytes\n{}",
        reader.received().len(),
        server.diag()
    );
    server.expect_stderr_line(&format!(
        "{}: not reading its stdin lines; disconnected",
        sleeper.local
    ));
    server.close_stdin();
}

#[test]
fn half_lines_of_two_clients_never_interleave() {
    // Before: `[A] AAAA[B] BBBB` then `aaaa`, so A's bytes looked like B's.
    let (server, addr) = {
        let p = Proc::sockit(&["tcp", "listen", "127.0.0.1:0"]);
        let a = p.listening_addr("tcp");
        (p, a)
    };
    let a = TcpPeer::connect(addr, &[]);
    let b = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", b.local));
    a.send(b"AAAA");
    std::thread::sleep(Duration::from_millis(200));
    b.send(b"BBBB\n");
    server.expect_stdout(&format!("[{}] BBBB\n", b.local));
    a.send(b"aaaa\n");
    server.expect_stdout(&format!("[{}] AAAAaaaa\n", a.local));
    assert_eq!(
        server.stdout.text(),
        format!("[{}] BBBB\n[{}] AAAAaaaa\n", b.local, a.local)
    );
}

#[test]
fn framed_messages_are_one_escaped_line_each_and_raw_is_byte_exact() {
    let (mut server, addr) = {
        let p = Proc::sockit_with_stdin(
            &["tcp", "listen", "127.0.0.1:0", "--frame", "len32", "--once"],
            Stdio::null(),
        );
        let a = p.listening_addr("tcp");
        (p, a)
    };
    let c = TcpPeer::connect(addr, &[]);
    c.send(b"\x00\x00\x00\x0cline1\nline2\x00");
    server.expect_stdout("line1\\nline2\\x00\n");
    c.close();
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());

    let (mut server, addr) = {
        let p = Proc::sockit_with_stdin(
            &[
                "tcp",
                "listen",
                "127.0.0.1:0",
                "--frame",
                "len32",
                "--once",
                "--raw",
            ],
            Stdio::null(),
        );
        let a = p.listening_addr("tcp");
        (p, a)
    };
    let c = TcpPeer::connect(addr, &[]);
    c.send(b"\x00\x00\x00\x0cline1\nline2\x00\x00\x00\x00\x01\xff");
    c.close();
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());
    assert_eq!(server.stdout.bytes(), b"line1\nline2\x00\xff");
}

#[test]
fn max_connections_closes_the_extra_client_with_a_message() {
    let mut server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0", "--max-connections", "2"]);
    let addr = server.listening_addr("tcp");
    let _a = TcpPeer::connect(addr, &[]);
    let _b = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line("connection from");
    let c = TcpPeer::connect(addr, &[]);
    assert!(c.wait_eof(TIMEOUT), "the third client must be closed");
    server.expect_stderr_line(&format!(
        "connection from {} closed: already serving 2 clients",
        c.local
    ));
    server.close_stdin();
    server.signal(libc::SIGTERM);
    assert_eq!(server.expect_exit(), 0);
}

#[test]
fn unfinished_lines_of_all_clients_share_one_budget() {
    // Before: 80 clients with 16 MiB unterminated lines pushed --chat to 1.3 GiB.
    let mut server = Proc::sockit(&[
        "tcp",
        "listen",
        "127.0.0.1:0",
        "--chat",
        "--max-buffered",
        "2M",
    ]);
    let addr = server.listening_addr("tcp");
    let a = TcpPeer::connect(addr, &[]);
    let b = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", b.local));
    a.send(&vec![b'a'; 900 * 1024]);
    std::thread::sleep(Duration::from_millis(300));
    b.send(&vec![b'b'; 900 * 1024]);
    std::thread::sleep(Duration::from_millis(300));
    let c = TcpPeer::connect(addr, &[]);
    c.send(&vec![b'c'; 900 * 1024]);
    server.expect_stderr_line("exceed the server's buffer budget of 2097152 bytes");
    assert!(
        c.wait_eof(TIMEOUT),
        "the client over the budget is disconnected"
    );
    // The others are still served.
    a.send(b"\n");
    server.expect_stdout("<user 1> aaaa");
    server.signal(libc::SIGTERM);
    assert_eq!(server.expect_exit(), 0);
}

#[test]
fn absurd_tcp_option_values_are_usage_errors() {
    for args in [
        &["tcp", "listen", "127.0.0.1:0", "--max-connections", "0"][..],
        &["tcp", "listen", "127.0.0.1:0", "--max-buffered", "99999G"],
        &["tcp", "listen", "127.0.0.1:0", "-q", "-1"],
        &["tcp", "connect", "127.0.0.1:9", "-q", "1e300"],
        &["tcp", "listen", "127.0.0.1:0", "--max-buffered", "-5"],
        &["tcp", "listen", "127.0.0.1:0", "--max-connections", "-1"],
    ] {
        let out = run_sockit(args, b"");
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_eq!(
            nonempty_lines(&out.stderr).len(),
            1,
            "{args:?}: {}",
            out.stderr
        );
        assert_no_panic(&out.stderr);
    }
}

#[test]
fn an_overlong_stdin_line_is_reported_once_and_never_sent_in_part() {
    // Before: the error was printed up to 150 times and every client got a 16 MiB
    // fragment of the line as if it were a message (6, 16777216 and 5 bytes).
    let mut server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0", "--frame", "len32", "--once"]);
    let addr = server.listening_addr("tcp");
    let mut client = Proc::sockit_with_stdin(
        &["tcp", "connect", &addr.to_string(), "--frame", "len32"],
        Stdio::null(),
    );
    server.expect_stderr_line("connection from");
    server.write("before\n");
    let long = vec![b'a'; 20 << 20];
    for piece in long.chunks(1 << 20) {
        server.write(piece);
    }
    server.write("\nafter\n");
    server.close_stdin();
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());
    assert_eq!(client.stdout.text(), "before\nafter\n");
    let err = server.stderr.text();
    assert_eq!(err.matches("line skipped").count(), 1, "{err}");
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());
}

#[test]
fn an_idle_connection_is_closed_and_the_server_goes_on() {
    let mut server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0", "--idle-timeout", "300ms"]);
    let addr = server.listening_addr("tcp");
    let quiet = TcpPeer::connect(addr, &[]);
    assert!(
        quiet.wait_eof(TIMEOUT),
        "the idle client is closed\n{}",
        server.diag()
    );
    server.expect_stderr_line(&format!("{}: no traffic for 0.3 s; closed", quiet.local));
    // A client that keeps talking stays; the server still accepts.
    let busy = TcpPeer::connect(addr, &[]);
    for i in 0..5 {
        busy.send(format!("tick {i}\n").as_bytes());
        std::thread::sleep(Duration::from_millis(100));
    }
    server.expect_stdout("tick 4\n");
    assert!(!busy.saw_eof(), "an active client is not closed");
    server.signal(libc::SIGTERM);
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());

    // tcp connect -i: exit 1 after the silence.
    let silent = TcpPeer::listen("127.0.0.1", &[]);
    let started = std::time::Instant::now();
    let mut client = Proc::sockit(&["tcp", "connect", &silent.local.to_string(), "-i", "300ms"]);
    assert_eq!(client.expect_exit(), 1, "{}", client.diag());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        client.stderr.text().contains("idle timeout"),
        "{}",
        client.diag()
    );
}

#[test]
fn crlf_and_address_families() {
    // -C: each \n goes out as \r\n, as an SMTP or HTTP server wants.
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let out = run_sockit(
        &[
            "tcp",
            "connect",
            &server.local.to_string(),
            "-C",
            "-q",
            "0.2",
        ],
        b"HELO sockit\nQUIT\r\n",
    );
    assert_eq!(out.code, 0, "{out:?}");
    server.expect_received("HELO sockit\r\nQUIT\r\n");
    assert_eq!(server.received(), b"HELO sockit\r\nQUIT\r\n");

    // -6 on an IPv4 literal: nothing of that family, a clear error.
    let out = run_sockit(&["tcp", "connect", "127.0.0.1:9", "-6"], b"");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("no IPv6 address"), "{}", out.stderr);
    // -4 with localhost keeps 127.0.0.1.
    let mut l = Proc::sockit(&["tcp", "listen", "localhost:0", "-4"]);
    let addr = l.listening_addr("tcp");
    assert!(addr.is_ipv4(), "{addr}");
    l.signal(libc::SIGTERM);
    assert_eq!(l.expect_exit(), 0);
    let out = run_sockit(&["tcp", "connect", "127.0.0.1:9", "-4", "-6"], b"");
    assert_eq!(out.code, 2, "{out:?}");
}
