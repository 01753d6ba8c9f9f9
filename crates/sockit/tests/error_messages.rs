//! Runtime errors read as one short line that names each cause once (issue 9, item 13):
//! `connection to 127.0.0.1:PORT: connection reset by peer`, not `...: connection reset by
//! peer: Connection reset by peer (os error 104)`. The peer is Python, resetting with
//! SO_LINGER 0.

mod common;

use common::*;

#[test]
fn a_reset_is_reported_once_without_the_os_error_number() {
    let peer = TcpPeer::listen("127.0.0.1", &[]);
    let mut client = Proc::sockit(&["tcp", "connect", &peer.local.to_string()]);
    peer.proc.expect_stderr_line("PEER: ACCEPTED");
    peer.reset();
    assert_eq!(client.expect_exit(), 1);
    let stderr = client.stderr.text();
    assert_no_panic(&stderr);
    let lines = nonempty_lines(&stderr);
    assert_eq!(lines.len(), 1, "one line expected:\n{stderr}");
    let line = lines[0];
    assert!(!line.contains("os error"), "{line}");
    assert_eq!(
        line.to_lowercase().matches("reset by peer").count(),
        1,
        "the cause is named once: {line}"
    );
    assert!(line.starts_with("sockit: "), "{line}");
}

#[test]
fn a_refused_udp_reply_wait_names_its_cause_once() {
    // A port with nothing behind it: the ICMP port-unreachable comes back as ECONNREFUSED.
    let port = free_udp_port();
    let target = format!("127.0.0.1:{port}");
    let out = run_sockit(&["udp", "send", &target, "x", "--wait-reply"], b"");
    assert_eq!(out.code, 1, "{out:?}");
    let lines = nonempty_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(!lines[0].contains("os error"), "{}", lines[0]);
    assert_eq!(
        lines[0].to_lowercase().matches("refused").count(),
        1,
        "{}",
        lines[0]
    );
}
