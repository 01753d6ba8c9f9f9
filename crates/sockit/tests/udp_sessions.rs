//! UDP for scripts and conversations: `udp listen --count/--once`, `udp listen --reply`
//! (answering the last sender, or every recent one, from stdin, like `nc -ul`), and
//! `udp send --interactive` (like `nc -u HOST PORT`), against Python's `socket`.

mod common;

use common::*;
use std::time::Duration;

fn listen(extra: &[&str]) -> (Proc, std::net::SocketAddr) {
    let mut args = vec!["udp", "listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let p = Proc::sockit(&args);
    let addr = p.listening_addr("udp");
    (p, addr)
}

#[test]
fn once_and_count_exit_after_that_many_datagrams() {
    let (mut server, addr) = listen(&["--once"]);
    let peer = UdpPeer::bind("127.0.0.1", &[]);
    peer.send_to(addr, b"first");
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());
    assert_eq!(server.stdout.text(), format!("[{}] first\n", peer.addr));

    let (mut server, addr) = listen(&["--count", "3"]);
    for i in 0..3 {
        peer.send_to(addr, format!("d{i}").as_bytes());
    }
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());
    assert_eq!(nonempty_lines(&server.stdout.text()).len(), 3);
}

#[test]
fn reply_answers_the_last_sender_and_to_all_every_recent_one() {
    let (server, addr) = listen(&["--reply"]);
    let a = UdpPeer::bind("127.0.0.1", &[]);
    let b = UdpPeer::bind("127.0.0.1", &[]);
    a.send_to(addr, b"from a");
    server.expect_stdout("from a");
    server.write("to a\n");
    assert_eq!(a.expect_datagrams(1)[0].data, b"to a");
    b.send_to(addr, b"from b");
    server.expect_stdout("from b");
    server.write("to b\n");
    assert_eq!(b.expect_datagrams(1)[0].data, b"to b");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(a.datagrams().len(), 1, "a is no longer the last sender");

    let (server, addr) = listen(&["--reply", "--to-all"]);
    a.send_to(addr, b"a again");
    b.send_to(addr, b"b again");
    server.expect_stdout("b again");
    server.expect_stdout("a again");
    server.write("everyone\n");
    assert!(a.wait_datagrams(2, TIMEOUT) && b.wait_datagrams(2, TIMEOUT));
    assert_eq!(a.datagrams()[1].data, b"everyone");
    assert_eq!(b.datagrams()[1].data, b"everyone");
}

#[test]
fn interactive_send_prints_replies_as_they_come() {
    let echo = UdpPeer::bind("127.0.0.1", &["--echo", "--reply-prefix", &hex(b"re: ")]);
    let out = run_sockit(
        &[
            "udp",
            "send",
            &echo.addr.to_string(),
            "--interactive",
            "--timeout",
            "500ms",
        ],
        b"one\ntwo\nthree",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout_text(), "re: one\nre: two\nre: three\n");
    let sent: Vec<Vec<u8>> = echo
        .expect_datagrams(3)
        .into_iter()
        .map(|d| d.data)
        .collect();
    assert_eq!(sent, [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
}

#[test]
fn interactive_send_to_a_closed_port_says_so_once_and_ends() {
    let closed = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    let out = run_sockit(
        &[
            "udp",
            "send",
            &closed.to_string(),
            "-i",
            "--timeout",
            "300ms",
        ],
        b"a\nb\nc\n",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.matches("port unreachable").count() == 1,
        "{}",
        out.stderr
    );
}

#[test]
fn absurd_counts_are_usage_errors() {
    for args in [
        &["udp", "listen", "127.0.0.1:0", "--count", "0"][..],
        &["udp", "listen", "127.0.0.1:0", "--count", "-1"],
        &["udp", "listen", "127.0.0.1:0", "--to-all"],
        &["udp", "send", "127.0.0.1:9", "-i", "--wait-reply"],
    ] {
        let out = run_sockit(args, b"");
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
    }
}
