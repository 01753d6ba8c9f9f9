//! `sockit tcp listen` against real clients (Python's `socket` module): many clients at once,
//! stdin fan-out, `--echo`, `--chat`, `--once`, peers that leave, half-close or reset,
//! `SO_REUSEADDR` / `--reuse-port`, SIGTERM.

mod common;

use common::*;
use std::time::Duration;

/// Starts `sockit tcp listen 127.0.0.1:0 EXTRA...` and waits for its readiness line.
fn listen(extra: &[&str]) -> (Proc, std::net::SocketAddr) {
    let mut args = vec!["tcp", "listen"];
    args.extend_from_slice(extra);
    if !extra.iter().any(|a| a.contains(':')) {
        args.push("127.0.0.1:0");
    }
    let p = Proc::sockit(&args);
    let addr = p.listening_addr("tcp");
    (p, addr)
}

#[test]
fn listen_on_port_zero_reports_the_real_port() {
    let (server, addr) = listen(&[]);
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0, "readiness line must carry the real port");
    let client = TcpPeer::connect(addr, &[]);
    client.send(b"ping\n");
    server.expect_stdout("ping\n");
}

#[test]
fn single_client_bytes_go_raw_to_stdout() {
    let (server, addr) = listen(&[]);
    let client = TcpPeer::connect(addr, &[]);
    client.send(b"hello\nworld\n");
    server.expect_stdout("hello\nworld\n");
    client.send(b"no newline yet");
    server.expect_stdout("no newline yet");
    assert_eq!(
        server.stdout.text(),
        "hello\nworld\nno newline yet",
        "with one client, bytes must be written raw, without a peer prefix"
    );
}

#[test]
fn connection_and_close_events_go_to_stderr() {
    let (server, addr) = listen(&[]);
    let client = TcpPeer::connect(addr, &[]);
    let peer = client.local.to_string();
    let line = server.expect_stderr_line("connection from");
    assert!(
        line.contains(&format!("connection from {peer}")),
        "expected `connection from {peer}`, got {line:?}"
    );
    client.send(b"data\n");
    server.expect_stdout("data\n");
    client.close();
    let line = server.expect_stderr_line(&format!("{peer} closed"));
    assert!(line.starts_with("sockit: "), "{line:?}");
    assert!(
        !server.stdout.text().contains("closed"),
        "events must not go to stdout"
    );
}

#[test]
fn several_clients_are_prefixed_with_their_peer_address() {
    let (server, addr) = listen(&[]);
    let clients: Vec<TcpPeer> = (0..3).map(|_| TcpPeer::connect(addr, &[])).collect();
    // Wait until the server has seen all three, so "more than one client" holds.
    for c in &clients {
        server.expect_stderr_line(&format!("connection from {}", c.local));
    }
    for (i, c) in clients.iter().enumerate() {
        c.send(format!("line from client {i}\n").as_bytes());
    }
    for (i, c) in clients.iter().enumerate() {
        server.expect_stdout(&format!("[{}] line from client {i}\n", c.local));
    }
    // Every line of stdout starts with a prefix.
    for line in server.stdout.text().lines() {
        assert!(line.starts_with("[127.0.0.1:"), "unprefixed line {line:?}");
    }
}

#[test]
fn stdin_lines_go_to_every_connected_client() {
    let (server, addr) = listen(&[]);
    let clients: Vec<TcpPeer> = (0..3).map(|_| TcpPeer::connect(addr, &[])).collect();
    for c in &clients {
        server.expect_stderr_line(&format!("connection from {}", c.local));
    }
    server.write("to everyone\n");
    for c in &clients {
        c.expect_received("to everyone\n");
    }
    server.write("second line\n");
    for c in &clients {
        c.expect_received("second line\n");
        assert_eq!(c.received_text(), "to everyone\nsecond line\n");
    }
}

#[test]
fn keeps_listening_after_a_client_leaves() {
    let (mut server, addr) = listen(&[]);
    let first = TcpPeer::connect(addr, &[]);
    first.send(b"first\n");
    server.expect_stdout("first\n");
    first.close();
    server.expect_stderr_line(&format!("{} closed", first.local));
    assert!(server.is_running(), "server exited after its client left");

    let second = TcpPeer::connect(addr, &[]);
    second.send(b"second\n");
    server.expect_stdout("second\n");
    server.write("hello second\n");
    second.expect_received("hello second\n");
    assert!(server.is_running());
}

#[test]
fn echo_serves_concurrent_clients_their_own_data() {
    let (mut server, addr) = listen(&["--echo"]);
    let clients: Vec<TcpPeer> = (0..4).map(|_| TcpPeer::connect(addr, &[])).collect();
    // Distinct payloads, big enough to need many reads and writes each.
    let payloads: Vec<Vec<u8>> = (0..4)
        .map(|i| {
            (0..200_000u32)
                .map(|j| b'a' + ((i * 7 + j) % 26) as u8)
                .collect()
        })
        .collect();
    for (c, p) in clients.iter().zip(&payloads) {
        c.send(p);
    }
    for (c, p) in clients.iter().zip(&payloads) {
        assert!(
            c.wait_received_len(p.len(), Duration::from_secs(60)),
            "client {} got {} of {} bytes back\n{}",
            c.local,
            c.received().len(),
            p.len(),
            server.diag()
        );
        assert!(
            c.received() == *p,
            "client {} got someone else's bytes",
            c.local
        );
    }
    // One more round after the big one: still serving, still separate.
    for (i, c) in clients.iter().enumerate() {
        c.send(format!("|tail {i}|").as_bytes());
    }
    for (i, c) in clients.iter().enumerate() {
        c.expect_received(&format!("|tail {i}|"));
        assert!(c.received().ends_with(format!("|tail {i}|").as_bytes()));
    }
    assert!(server.is_running());
}

#[test]
fn echo_line_round_trip_for_three_clients_at_once() {
    let (mut server, addr) = listen(&["--echo"]);
    let clients: Vec<TcpPeer> = (0..3).map(|_| TcpPeer::connect(addr, &[])).collect();
    for round in 0..5 {
        for (i, c) in clients.iter().enumerate() {
            c.send(format!("client {i} round {round}\n").as_bytes());
        }
    }
    for (i, c) in clients.iter().enumerate() {
        let expected: String = (0..5).map(|r| format!("client {i} round {r}\n")).collect();
        c.expect_received(&format!("client {i} round 4\n"));
        assert_eq!(c.received_text(), expected);
    }
    assert!(server.is_running());
}

#[test]
fn echo_closes_after_client_half_close() {
    let (mut server, addr) = listen(&["--echo"]);
    let client = TcpPeer::connect(addr, &[]);
    client.send(b"last words\n");
    client.shutdown();
    client.expect_received("last words\n");
    assert!(
        client.wait_eof(TIMEOUT),
        "after the client's half-close and the echo, the server should close that connection\n{}",
        server.diag()
    );
    assert_eq!(client.received_text(), "last words\n");
    assert!(server.is_running());
}

#[test]
fn chat_relays_each_message_to_the_others_with_user_prefix() {
    let (mut server, addr) = listen(&["--chat"]);
    let a = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", a.local));
    let b = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", b.local));
    let c = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", c.local));

    let b_before = b.proc.stdout.len();
    a.send(b"hello from a\n");
    let at_b = b
        .proc
        .stdout
        .wait_for_line_from(b_before, "hello from a", TIMEOUT)
        .unwrap_or_else(|| panic!("b never got a's message\n{}", b.proc.diag()));
    let at_c = c
        .proc
        .stdout
        .wait_for_line("hello from a", TIMEOUT)
        .unwrap_or_else(|| panic!("c never got a's message\n{}", c.proc.diag()));
    for line in [&at_b, &at_c] {
        assert!(
            line.starts_with("<user ") && line.ends_with("> hello from a"),
            "chat lines look like `<user N> message`, got {line:?}"
        );
    }
    assert_eq!(at_b, at_c, "everyone sees the same sender id");

    c.send(b"hi from c\n");
    let c_at_a = a
        .proc
        .stdout
        .wait_for_line("hi from c", TIMEOUT)
        .unwrap_or_else(|| panic!("a never got c's message\n{}", a.proc.diag()));
    b.expect_received("hi from c\n");
    assert!(c_at_a.starts_with("<user "), "{c_at_a:?}");
    assert_ne!(
        c_at_a.split('>').next(),
        at_b.split('>').next(),
        "two clients must have different user numbers"
    );

    // A sender does not get its own message back.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !a.received_text().contains("hello from a"),
        "{}",
        a.received_text()
    );
    assert!(
        !c.received_text().contains("hi from c"),
        "{}",
        c.received_text()
    );
    assert!(server.is_running());
}

#[test]
fn chat_announces_joins_and_leaves() {
    let (mut server, addr) = listen(&["--chat"]);
    let a = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", a.local));

    let before_join = a.proc.stdout.len();
    let b = TcpPeer::connect(addr, &[]);
    let join = a
        .proc
        .stdout
        .wait_for_line_from(before_join, "user", TIMEOUT)
        .unwrap_or_else(|| panic!("a got no join notice for b\n{}", a.proc.diag()));

    let before_leave = a.proc.stdout.len();
    b.close();
    let leave = a
        .proc
        .stdout
        .wait_for_line_from(before_leave, "user", TIMEOUT)
        .unwrap_or_else(|| panic!("a got no leave notice for b\n{}", a.proc.diag()));
    assert_ne!(join, leave, "join and leave notices should differ");
    assert!(server.is_running());
}

#[test]
fn once_serves_a_single_client_and_exits_zero_when_it_leaves() {
    let (mut server, addr) = listen(&["--once"]);
    let client = TcpPeer::connect(addr, &[]);
    client.send(b"only me\n");
    server.expect_stdout("only me\n");
    server.write("reply\n");
    client.expect_received("reply\n");
    client.close();
    // The client's close may be a half-close: the server goes on with stdin, and is
    // done when stdin ends (nothing left to send).
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.is_running(), "{}", server.diag());
    server.close_stdin();
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());
    assert_eq!(server.stdout.text(), "only me\n");
}

#[test]
fn client_disconnecting_mid_stream_ends_only_that_client() {
    let (mut server, addr) = listen(&[]);
    let stayer = TcpPeer::connect(addr, &[]);
    let leaver = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", leaver.local));
    server.expect_stderr_line(&format!("connection from {}", stayer.local));
    // Half a line, then gone: with two clients the half line waits (so it cannot mix
    // with the other's bytes) and is written, prefixed, when its sender leaves.
    leaver.send(b"a line cut in the midd");
    leaver.close();
    server.expect_stderr_line(&format!("{} closed", leaver.local));
    assert!(
        server.stdout.wait_for(
            &format!("[{}] a line cut in the midd\n", leaver.local),
            TIMEOUT
        ),
        "partial line not written\n{}\n{}",
        server.diag(),
        leaver.proc.diag()
    );

    stayer.send(b"still here\n");
    server.expect_stdout("still here\n");
    server.write("to the stayer\n");
    stayer.expect_received("to the stayer\n");
    assert!(server.is_running());
}

#[test]
fn peer_reset_ends_only_that_client() {
    let (mut server, addr) = listen(&[]);
    // A client that never reads and has a tiny receive buffer: the server's writes to it
    // back up, then it resets the connection while the server is still writing.
    let slow = TcpPeer::connect(addr, &["--rcvbuf", "4096", "--no-read"]);
    server.expect_stderr_line(&format!("connection from {}", slow.local));
    let line = format!("{}\n", "z".repeat(1023));
    let burst = line.repeat(2048); // 2 MiB
    server.write(&burst);
    std::thread::sleep(Duration::from_millis(500));
    let stderr_before = server.stderr.len();
    slow.reset();
    // Writes after the reset hit a dead socket (EPIPE / ECONNRESET).
    server.write("after the reset\n");
    let msg = server
        .stderr
        .wait_for_line_from(stderr_before, &slow.local.to_string(), TIMEOUT)
        .unwrap_or_else(|| {
            panic!(
                "no one-line message about the reset client\n{}",
                server.diag()
            )
        });
    assert!(!msg.contains("connection from"), "{msg:?}");
    assert!(
        server.is_running(),
        "the server died of one client\n{}",
        server.diag()
    );

    let next = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", next.local));
    next.send(b"next client\n");
    server.expect_stdout("next client\n");
    server.write("welcome next\n");
    next.expect_received("welcome next\n");
    assert!(server.is_running());
    assert_no_panic(&server.stderr.text());
}

#[test]
fn echo_peer_reset_while_server_writes_back_ends_only_that_client() {
    let (mut server, addr) = listen(&["--echo"]);
    let other = TcpPeer::connect(addr, &[]);
    other.send(b"before\n");
    other.expect_received("before\n");

    // Sends far more than fits in both socket buffers and never reads the echo: the server
    // blocks writing back to it. Then it resets.
    let hog = TcpPeer::connect(addr, &["--rcvbuf", "4096", "--no-read"]);
    server.expect_stderr_line(&format!("connection from {}", hog.local));
    hog.bulk(16 << 20);
    std::thread::sleep(Duration::from_millis(800));
    hog.reset();

    other.send(b"after\n");
    other.expect_received("before\nafter\n");
    let late = TcpPeer::connect(addr, &[]);
    late.send(b"late client\n");
    late.expect_received("late client\n");
    assert!(server.is_running(), "{}", server.diag());
    assert_no_panic(&server.stderr.text());
}

#[test]
fn restart_binds_the_same_port_at_once() {
    let (mut server, addr) = listen(&[]);
    let client = TcpPeer::connect(addr, &[]);
    client.send(b"x\n");
    server.expect_stdout("x\n");
    // The server closes first, so its side of the connection lingers in TIME_WAIT on the
    // listening port: without SO_REUSEADDR the restart would fail with EADDRINUSE.
    server.signal(libc::SIGTERM);
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());
    assert!(
        client.wait_eof(TIMEOUT),
        "client never saw the server close"
    );
    client.close();

    let again = Proc::sockit(&["tcp", "listen", &addr.to_string()]);
    let addr2 = again.listening_addr("tcp");
    assert_eq!(addr2, addr);
    let c2 = TcpPeer::connect(addr2, &[]);
    c2.send(b"y\n");
    again.expect_stdout("y\n");
}

#[test]
fn reuse_port_lets_two_listeners_share_a_port() {
    let (mut first, addr) = listen(&["--reuse-port"]);
    let second = Proc::sockit(&["tcp", "listen", "--reuse-port", &addr.to_string()]);
    let addr2 = second.listening_addr("tcp");
    assert_eq!(addr2, addr);
    // Connections are spread between them by the kernel; each one lands somewhere.
    let clients: Vec<TcpPeer> = (0..6).map(|_| TcpPeer::connect(addr, &[])).collect();
    for (i, c) in clients.iter().enumerate() {
        c.send(format!("via shared port {i}\n").as_bytes());
    }
    for i in 0..6 {
        let pat = format!("via shared port {i}\n");
        let ok = wait_cond(TIMEOUT, || {
            first.stdout.text().contains(&pat) || second.stdout.text().contains(&pat)
        });
        assert!(
            ok,
            "{pat:?} reached neither listener\n{}\n{}",
            first.diag(),
            second.diag()
        );
    }
    assert!(first.is_running());
}

#[test]
fn sigterm_exits_gracefully_with_code_zero() {
    let (mut server, addr) = listen(&[]);
    let client = TcpPeer::connect(addr, &[]);
    client.send(b"hi\n");
    server.expect_stdout("hi\n");
    server.signal(libc::SIGTERM);
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());
    assert!(
        client.wait_eof(TIMEOUT),
        "client not disconnected on shutdown"
    );
    assert_no_panic(&server.stderr.text());
}

#[test]
fn listen_on_ipv6_loopback() {
    if !ipv6_available() {
        return;
    }
    let p = Proc::sockit(&["tcp", "listen", "[::1]:0"]);
    let addr = p.listening_addr("tcp");
    assert!(addr.is_ipv6(), "{addr}");
    assert_eq!(addr.ip().to_string(), "::1");
    let client = TcpPeer::connect(addr, &[]);
    let line = p.expect_stderr_line("connection from");
    assert!(
        line.contains(&format!("connection from {}", client.local)),
        "{line:?}"
    );
    assert!(line.contains("[::1]:"), "{line:?}");
    client.send(b"over ipv6\n");
    p.expect_stdout("over ipv6\n");
    p.write("back over ipv6\n");
    client.expect_received("back over ipv6\n");
}

#[test]
fn listen_on_host_name_localhost() {
    let p = Proc::sockit(&["tcp", "listen", "localhost:0"]);
    let addr = p.listening_addr("tcp");
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_ne!(addr.port(), 0);
    let client = TcpPeer::connect(addr, &[]);
    client.send(b"by name\n");
    p.expect_stdout("by name\n");
}

#[test]
fn prefix_stops_when_only_one_client_is_left() {
    let (server, addr) = listen(&[]);
    let a = TcpPeer::connect(addr, &[]);
    let b = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", a.local));
    server.expect_stderr_line(&format!("connection from {}", b.local));
    a.send(b"two here\n");
    server.expect_stdout(&format!("[{}] two here\n", a.local));
    b.close();
    server.expect_stderr_line(&format!("{} closed", b.local));
    let before = server.stdout.len();
    a.send(b"alone again\n");
    assert!(
        server.stdout.wait_for("alone again\n", TIMEOUT),
        "{}",
        server.diag()
    );
    assert_eq!(
        server.stdout.text_from(before),
        "alone again\n",
        "with one client left, output is raw again"
    );
}

/// Twenty clients in one Python process, each on its own thread: connect, send 50 numbered
/// lines, read its echo, compare. Prints `OK n` or the first mismatch.
const PY_MANY_ECHO_CLIENTS: &str = r#"
import socket, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
results = [None] * n
def client(i):
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=30)
        payload = b''.join(b'client %d line %d\n' % (i, k) for k in range(50))
        s.sendall(payload)
        got = b''
        while len(got) < len(payload):
            d = s.recv(65536)
            if not d:
                break
            got += d
        results[i] = 'ok' if got == payload else 'client %d got %r' % (i, got[:80])
        s.close()
    except Exception as e:
        results[i] = 'client %d: %r' % (i, e)
threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join(60)
bad = [r for r in results if r != 'ok']
print('OK %d' % n if not bad else 'FAIL %s' % bad[:3], flush=True)
"#;

#[test]
fn echo_serves_twenty_clients_at_once() {
    let (mut server, addr) = listen(&["--echo"]);
    let out = run_python(PY_MANY_ECHO_CLIENTS, &[&addr.port().to_string(), "20"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout_text().trim(), "OK 20", "{}", server.diag());
    assert!(server.is_running());
}
