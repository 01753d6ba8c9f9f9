//! `sockit udp send` against real receivers (Python's `socket` module): one datagram per
//! message or stdin line, `--wait-reply`, `--timeout`, and the 65507-byte IPv4 limit.

mod common;

use common::*;
use std::time::Duration;

/// Strips one trailing newline (whether a stdin line's datagram keeps its `\n` is the
/// implementation's choice; what matters is one datagram per line).
fn chomp(d: &[u8]) -> &[u8] {
    d.strip_suffix(b"\n").unwrap_or(d)
}

#[test]
fn message_argument_is_sent_as_one_datagram() {
    let rx = UdpPeer::bind("127.0.0.1", &[]);
    let out = run_sockit(&["udp", "send", &rx.addr.to_string(), "hello"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let got = rx.expect_datagrams(1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, b"hello");
    assert!(got[0].from.starts_with("127.0.0.1:"), "{got:?}");
}

#[test]
fn each_stdin_line_is_one_datagram() {
    let rx = UdpPeer::bind("127.0.0.1", &[]);
    let out = run_sockit(&["udp", "send", &rx.addr.to_string()], b"one\ntwo\nthree\n");
    assert_eq!(out.code, 0, "{out:?}");
    let got = rx.expect_datagrams(3);
    std::thread::sleep(Duration::from_millis(300));
    let got2 = rx.datagrams();
    assert_eq!(got2.len(), 3, "exactly one datagram per line: {got2:?}");
    let payloads: Vec<&[u8]> = got.iter().map(|d| chomp(&d.data)).collect();
    assert_eq!(payloads, vec![&b"one"[..], b"two", b"three"]);
    // All from the same socket.
    assert!(got.iter().all(|d| d.from == got[0].from), "{got:?}");
}

#[test]
fn wait_reply_prints_the_answer() {
    let rx = UdpPeer::bind("127.0.0.1", &["--echo", "--reply-prefix", &hex(b"pong: ")]);
    let out = run_sockit(
        &[
            "udp",
            "send",
            "--wait-reply",
            "--timeout",
            "10",
            &rx.addr.to_string(),
            "ping",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout_text().contains("pong: ping"), "{out:?}");
}

#[test]
fn wait_reply_without_an_answer_times_out_with_exit_1() {
    let rx = UdpPeer::bind("127.0.0.1", &[]);
    let out = run_proc(
        Proc::sockit(&[
            "udp",
            "send",
            "--wait-reply",
            "--timeout",
            "1",
            &rx.addr.to_string(),
            "anyone?",
        ]),
        b"",
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_no_panic(&out.stderr);
    assert_eq!(nonempty_lines(&out.stderr).len(), 1, "{:?}", out.stderr);
    assert!(
        out.stderr.contains(&rx.addr.to_string()),
        "{:?}",
        out.stderr
    );
    rx.expect_datagrams(1);
}

#[test]
fn largest_ipv4_datagram_is_sent_whole() {
    let rx = UdpPeer::bind("127.0.0.1", &[]);
    let msg = "L".repeat(65507);
    let out = run_sockit(&["udp", "send", &rx.addr.to_string(), &msg], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let got = rx.expect_datagrams(1);
    assert_eq!(got[0].data.len(), 65507);
}

#[test]
fn over_max_datagram_is_a_clear_error() {
    let rx = UdpPeer::bind("127.0.0.1", &[]);
    let msg = "O".repeat(65508);
    let out = run_sockit(&["udp", "send", &rx.addr.to_string(), &msg], b"");
    assert_ne!(out.code, 0, "{out:?}");
    assert_no_panic(&out.stderr);
    let lines = nonempty_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "{:?}", out.stderr);
    let l = lines[0].to_lowercase();
    assert!(
        l.contains("65507")
            || l.contains("65508")
            || l.contains("too large")
            || l.contains("too long"),
        "the error should say the datagram is too big: {:?}",
        lines[0]
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(rx.datagrams().is_empty());
}

#[test]
fn over_max_stdin_line_is_a_clear_error() {
    let rx = UdpPeer::bind("127.0.0.1", &[]);
    let mut input = "O".repeat(70000).into_bytes();
    input.push(b'\n');
    let out = run_sockit(&["udp", "send", &rx.addr.to_string()], &input);
    assert_ne!(out.code, 0, "{out:?}");
    assert_no_panic(&out.stderr);
    assert!(!out.stderr.trim().is_empty());
}

#[test]
fn send_to_ipv6_loopback() {
    if !ipv6_available() {
        return;
    }
    let rx = UdpPeer::bind("::1", &[]);
    let out = run_sockit(&["udp", "send", &rx.addr.to_string(), "over v6"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let got = rx.expect_datagrams(1);
    assert_eq!(got[0].data, b"over v6");
    assert!(got[0].from.starts_with("[::1]:"), "{got:?}");
}

#[test]
fn send_by_host_name_localhost() {
    // `localhost` may resolve to 127.0.0.1 or ::1: listen on both, same port.
    let rx = UdpPeer::bind("127.0.0.1", &["--also", "::1"]);
    let out = run_sockit(
        &[
            "udp",
            "send",
            &format!("localhost:{}", rx.addr.port()),
            "by name",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    let got = rx.expect_datagrams(1);
    assert_eq!(got[0].data, b"by name");
}

#[test]
fn sockit_send_to_sockit_listen() {
    let server = Proc::sockit(&["udp", "listen", "127.0.0.1:0"]);
    let addr = server.listening_addr("udp");
    let out = run_sockit(&["udp", "send", &addr.to_string(), "sockit to sockit"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    server.expect_stdout("] sockit to sockit\n");
}

#[test]
fn wait_reply_from_sockit_udp_echo() {
    let server = Proc::sockit(&["udp", "listen", "--echo", "127.0.0.1:0"]);
    let addr = server.listening_addr("udp");
    let out = run_sockit(
        &[
            "udp",
            "send",
            "--wait-reply",
            "--timeout",
            "10",
            &addr.to_string(),
            "marco",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout_text().contains("marco"), "{out:?}");
}
