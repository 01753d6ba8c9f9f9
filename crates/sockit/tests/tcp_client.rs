//! `sockit tcp connect` against real servers (Python's `socket` module): full duplex,
//! half-close on stdin EOF, `--no-shutdown`, `--timeout`, and one-line errors (exit 1) for
//! refused connections, timeouts and names that do not resolve.

mod common;

use common::*;
use std::time::{Duration, Instant};

/// A Python echo server for one connection that echoes with its own reader/writer pace and
/// half-closes back when the client half-closes.
const PY_ECHO_SERVER: &str = r#"
import socket, sys, signal
signal.alarm(300)
l = socket.socket()
l.bind(('127.0.0.1', 0)); l.listen(1)
print('PORT', l.getsockname()[1], file=sys.stderr, flush=True)
l.settimeout(60)
c, _ = l.accept()
c.settimeout(60)
total = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
    total += len(d)
c.shutdown(socket.SHUT_WR)
print('ECHOED', total, file=sys.stderr, flush=True)
c.close()
"#;

fn connect(addr: std::net::SocketAddr, extra: &[&str]) -> Proc {
    let a = addr.to_string();
    let mut args = vec!["tcp", "connect"];
    args.extend_from_slice(extra);
    args.push(&a);
    Proc::sockit(&args)
}

#[test]
fn connect_sends_stdin_and_prints_what_the_server_sends() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let client = connect(server.local, &[]);
    server.accepted();
    client.write("hello server\n");
    server.expect_received("hello server\n");
    server.send(b"hello client\n");
    client.expect_stdout("hello client\n");
    client.write("second\n");
    server.expect_received("hello server\nsecond\n");
}

#[test]
fn stdin_eof_half_closes_and_waits_for_the_peer_to_close() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let mut client = connect(server.local, &[]);
    server.accepted();
    client.write("request\n");
    server.expect_received("request\n");
    client.close_stdin();
    assert!(
        server.wait_eof(TIMEOUT),
        "stdin EOF must half-close the connection (shutdown write)\n{}",
        client.diag()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        client.is_running(),
        "the client must keep reading until the peer closes\n{}",
        client.diag()
    );
    server.send(b"response after your EOF\n");
    client.expect_stdout("response after your EOF\n");
    server.close();
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());
    assert_eq!(client.stdout.text(), "response after your EOF\n");
}

#[test]
fn no_shutdown_keeps_the_write_side_open_after_stdin_eof() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let mut client = connect(server.local, &["--no-shutdown"]);
    server.accepted();
    client.write("data\n");
    server.expect_received("data\n");
    client.close_stdin();
    std::thread::sleep(QUIET);
    assert!(
        !server.saw_eof(),
        "--no-shutdown must not half-close on stdin EOF\n{}",
        server.proc.diag()
    );
    server.send(b"still open\n");
    client.expect_stdout("still open\n");
    server.close();
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());
}

#[test]
fn the_peers_close_ends_only_what_it_sends() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let mut client = connect(server.local, &[]);
    server.accepted();
    server.send(b"bye\n");
    client.expect_stdout("bye\n");
    server.close();
    // The peer's close may be a half-close (it still reads): the client goes on with its
    // stdin, and ends cleanly when stdin ends with nothing left to send.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(client.is_running(), "{}", client.diag());
    client.close_stdin();
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());
}

#[test]
fn full_duplex_large_transfer_through_an_echo_server() {
    let server = Proc::python(PY_ECHO_SERVER, &[]);
    let line = server.expect_stderr_line("PORT");
    let port = line.split_whitespace().nth(1).unwrap();
    // 8 MiB: far more than the socket buffers, so a client that writes everything before
    // reading would deadlock against an echo server.
    let data: Vec<u8> = (0..8u32 << 20)
        .map(|i| {
            if i % 100 == 99 {
                b'\n'
            } else {
                b'a' + (i % 23) as u8
            }
        })
        .collect();
    let mut client = Proc::sockit(&["tcp", "connect", &format!("127.0.0.1:{port}")]);
    client.write(&data);
    client.close_stdin();
    assert!(
        client
            .stdout
            .wait_for_len(data.len(), Duration::from_secs(120)),
        "only {} of {} bytes came back\n{}\n{}",
        client.stdout.len(),
        data.len(),
        client.diag(),
        server.diag()
    );
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());
    assert!(client.stdout.bytes() == data, "echoed bytes differ");
    server.expect_stderr_line(&format!("ECHOED {}", data.len()));
}

#[test]
fn refused_connection_is_a_one_line_error_naming_the_address_exit_1() {
    let port = free_tcp_port();
    let target = format!("127.0.0.1:{port}");
    let out = run_sockit(&["tcp", "connect", &target], b"");
    assert_eq!(out.code, 1, "{out:?}");
    assert_no_panic(&out.stderr);
    let lines = nonempty_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "expected one line, got {:?}", out.stderr);
    assert!(
        lines[0].contains(&target),
        "error must name {target}: {:?}",
        lines[0]
    );
    assert!(
        lines[0].to_lowercase().contains("refused"),
        "error should say refused: {:?}",
        lines[0]
    );
}

/// A Python listener with a backlog of 0 whose queue is already full: the kernel drops new
/// SYNs, so a connect to it can only time out.
const PY_FULL_BACKLOG: &str = r#"
import socket, sys, signal, time
signal.alarm(300)
l = socket.socket()
l.bind(('127.0.0.1', 0)); l.listen(0)
port = l.getsockname()[1]
held = []
for i in range(4):
    c = socket.socket(); c.settimeout(0.5)
    try:
        c.connect(('127.0.0.1', port))
    except OSError:
        pass
    held.append(c)
print('PORT', port, file=sys.stderr, flush=True)
time.sleep(300)
"#;

#[test]
fn connect_timeout_is_a_one_line_error_exit_1() {
    let holder = Proc::python(PY_FULL_BACKLOG, &[]);
    let line = holder.expect_stderr_line("PORT");
    let target = format!("127.0.0.1:{}", line.split_whitespace().nth(1).unwrap());
    let started = Instant::now();
    let out = run_proc(
        Proc::sockit(&["tcp", "connect", "--timeout", "1", &target]),
        b"",
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_no_panic(&out.stderr);
    let lines = nonempty_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "expected one line, got {:?}", out.stderr);
    assert!(
        lines[0].contains(&target),
        "error must name {target}: {:?}",
        lines[0]
    );
    assert!(
        lines[0].to_lowercase().contains("time"),
        "error should mention the timeout: {:?}",
        lines[0]
    );
    assert!(started.elapsed() < Duration::from_secs(25));
}

#[test]
fn idle_timeout_ends_a_silent_connection_with_exit_1() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let mut client = connect(server.local, &["--timeout", "1"]);
    server.accepted();
    // Neither side sends anything; stdin stays open.
    let code = client.expect_exit_within(Duration::from_secs(30));
    assert_eq!(code, 1, "{}", client.diag());
    let err = client.stderr.text();
    assert_no_panic(&err);
    let lines = nonempty_lines(&err);
    assert_eq!(lines.len(), 1, "{err:?}");
    assert!(lines[0].contains(&server.local.to_string()), "{err:?}");
}

#[test]
fn unresolvable_host_name_is_a_one_line_error_exit_1() {
    let out = run_proc(
        Proc::sockit(&["tcp", "connect", "no-such-host.invalid:80"]),
        b"",
        Duration::from_secs(60),
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_no_panic(&out.stderr);
    let lines = nonempty_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "expected one line, got {:?}", out.stderr);
    assert!(lines[0].contains("no-such-host.invalid"), "{:?}", lines[0]);
}

#[test]
fn connect_to_ipv6_loopback() {
    if !ipv6_available() {
        return;
    }
    let server = TcpPeer::listen("::1", &[]);
    let client = connect(server.local, &[]);
    let peer = server.accepted();
    assert!(peer.is_ipv6(), "{peer}");
    client.write("v6 hello\n");
    server.expect_received("v6 hello\n");
    server.send(b"v6 reply\n");
    client.expect_stdout("v6 reply\n");
}

#[test]
fn connect_by_host_name_localhost() {
    // Listening on 127.0.0.1 only: if `localhost` also resolves to ::1, the client must
    // try the next address after ::1 refuses.
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let client = Proc::sockit(&[
        "tcp",
        "connect",
        &format!("localhost:{}", server.local.port()),
    ]);
    server.accepted();
    client.write("by name\n");
    server.expect_received("by name\n");
    server.send(b"hi name\n");
    client.expect_stdout("hi name\n");
}

#[test]
fn binary_data_passes_through_unchanged() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let mut client = connect(server.local, &[]);
    server.accepted();
    let all: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    client.write(&all);
    client.close_stdin();
    assert!(server.wait_eof(TIMEOUT));
    assert!(server.wait_received_len(all.len(), TIMEOUT));
    assert_eq!(server.received(), all);
    server.send(&all);
    server.close();
    assert_eq!(client.expect_exit(), 0);
    assert_eq!(client.stdout.bytes(), all);
}

#[test]
fn unreachable_network_is_a_one_line_error_exit_1() {
    // In a fresh network namespace with only `lo` there is no route to 10.0.0.1: connect
    // fails at once with ENETUNREACH and no packet leaves the machine.
    let ns = match NetNs::create("unreach") {
        Ok(ns) => ns,
        Err(why) => {
            skip(&format!("cannot create a network namespace: {why}"));
            return;
        }
    };
    let out = run_proc(
        ns.exec(
            sockit_bin(),
            &["tcp", "connect", "--timeout", "5", "10.0.0.1:80"],
        ),
        b"",
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_no_panic(&out.stderr);
    let lines = nonempty_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "{:?}", out.stderr);
    assert!(lines[0].contains("10.0.0.1:80"), "{:?}", lines[0]);
    assert!(
        lines[0].to_lowercase().contains("unreachable"),
        "{:?}",
        lines[0]
    );
}

#[test]
fn upload_from_a_regular_file_on_stdin() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, &data).unwrap();
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).unwrap();
    let mut client = Proc::sockit_with_stdin(
        &["tcp", "connect", &server.local.to_string()],
        std::process::Stdio::from(file),
    );
    server.accepted();
    assert!(
        server.wait_eof(Duration::from_secs(60)),
        "{}",
        client.diag()
    );
    assert!(server.wait_received_len(data.len(), TIMEOUT));
    assert!(server.received() == data, "uploaded bytes differ");
    server.close();
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());
}

#[test]
fn stdin_from_dev_null_half_closes_at_once() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let mut client = Proc::sockit_with_stdin(
        &["tcp", "connect", &server.local.to_string()],
        std::process::Stdio::null(),
    );
    server.accepted();
    assert!(server.wait_eof(TIMEOUT), "{}", client.diag());
    server.send(b"answer to nothing\n");
    client.expect_stdout("answer to nothing\n");
    server.close();
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());
}
