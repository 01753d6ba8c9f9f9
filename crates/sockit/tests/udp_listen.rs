//! `sockit udp listen` against real senders (Python's `socket` module): sender-prefixed
//! output, `--raw`, `--echo` to many senders, and truncation that is reported, never silent.

mod common;

use common::*;
use std::net::SocketAddr;
use std::time::Duration;

fn udp_listen(extra: &[&str]) -> (Proc, SocketAddr) {
    let mut args = vec!["udp", "listen"];
    args.extend_from_slice(extra);
    if !extra.iter().any(|a| a.contains(':')) {
        args.push("127.0.0.1:0");
    }
    let p = Proc::sockit(&args);
    let addr = p.listening_addr("udp");
    (p, addr)
}

#[test]
fn listen_on_port_zero_reports_the_real_port() {
    let (server, addr) = udp_listen(&[]);
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0, "readiness line must carry the real port");
    // The printed port is the one the socket is bound to: a datagram sent there by a
    // sender nobody here wrote (Python's socket module) comes out on stdout.
    let out = run_python(
        "import socket, sys\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.sendto(b'to the printed port', ('127.0.0.1', int(sys.argv[1])))\n\
         print(s.getsockname()[1])",
        &[&addr.port().to_string()],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    let sender_port = out.stdout_text().trim().to_string();
    server.expect_stdout(&format!("[127.0.0.1:{sender_port}] to the printed port\n"));
}

#[test]
fn prints_each_datagram_with_its_sender() {
    let (server, addr) = udp_listen(&[]);
    let sender = UdpPeer::bind("127.0.0.1", &[]);
    sender.send_to(addr, b"hello");
    server.expect_stdout(&format!("[{}] hello\n", sender.addr));
    sender.send_to(addr, b"second datagram");
    server.expect_stdout(&format!("[{}] second datagram\n", sender.addr));
}

#[test]
fn serves_many_senders_not_only_the_first() {
    let (server, addr) = udp_listen(&[]);
    let senders: Vec<UdpPeer> = (0..3).map(|_| UdpPeer::bind("127.0.0.1", &[])).collect();
    for round in 0..2 {
        for (i, s) in senders.iter().enumerate() {
            s.send_to(addr, format!("sender {i} round {round}").as_bytes());
        }
        for (i, s) in senders.iter().enumerate() {
            server.expect_stdout(&format!("[{}] sender {i} round {round}\n", s.addr));
        }
    }
}

#[test]
fn raw_prints_the_payload_only() {
    let (server, addr) = udp_listen(&["--raw"]);
    let sender = UdpPeer::bind("127.0.0.1", &[]);
    sender.send_to(addr, b"just the payload\n");
    server.expect_stdout("just the payload");
    std::thread::sleep(Duration::from_millis(200));
    let out = server.stdout.text();
    assert!(
        !out.contains("127.0.0.1"),
        "--raw must not print the sender: {out:?}"
    );
    assert!(out.starts_with("just the payload"), "{out:?}");
}

#[test]
fn echo_answers_each_sender_with_its_own_datagram() {
    let (mut server, addr) = udp_listen(&["--echo"]);
    let senders: Vec<UdpPeer> = (0..4).map(|_| UdpPeer::bind("127.0.0.1", &[])).collect();
    for (i, s) in senders.iter().enumerate() {
        s.send_to(addr, format!("ping {i}").as_bytes());
    }
    for (i, s) in senders.iter().enumerate() {
        let got = s.expect_datagrams(1);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].data, format!("ping {i}").as_bytes());
        assert_eq!(
            got[0].from,
            addr.to_string(),
            "the echo comes from the listening address"
        );
    }
    assert!(server.is_running());
}

#[test]
fn echo_keeps_serving_after_a_sender_vanishes() {
    let (mut server, addr) = udp_listen(&["--echo"]);
    {
        let gone = UdpPeer::bind("127.0.0.1", &[]);
        gone.send_to(addr, b"hello then gone");
        gone.expect_datagrams(1);
    } // dropped: its port is closed; later traffic to it would draw ICMP port unreachable
    let stay = UdpPeer::bind("127.0.0.1", &[]);
    stay.send_to(addr, b"still there?");
    let got = stay.expect_datagrams(1);
    assert_eq!(got[0].data, b"still there?");
    assert!(server.is_running());
}

#[test]
fn datagram_longer_than_the_buffer_is_reported_as_truncated_with_its_real_size() {
    let (mut server, addr) = udp_listen(&["--buffer", "1024"]);
    let sender = UdpPeer::bind("127.0.0.1", &[]);
    sender.send_to(addr, &vec![b'q'; 3000]);
    let line = server.expect_stderr_line("truncated");
    assert!(
        line.contains("3000"),
        "the real size must be reported: {line:?}"
    );
    // A datagram that fits is not reported.
    let before = server.stderr.len();
    sender.send_to(addr, b"small one");
    server.expect_stdout("small one");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !server.stderr.text_from(before).contains("truncated"),
        "{}",
        server.diag()
    );
    assert!(server.is_running());
}

#[test]
fn default_buffer_holds_the_largest_ipv4_datagram() {
    let (server, addr) = udp_listen(&["--raw"]);
    let sender = UdpPeer::bind("127.0.0.1", &[]);
    sender.send_to(addr, &vec![b'm'; 65507]);
    assert!(
        server
            .stdout
            .wait_until(TIMEOUT, |d| d.iter().filter(|&&b| b == b'm').count()
                >= 65507),
        "{}",
        server.diag()
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !server.stderr.text().contains("truncated"),
        "{}",
        server.diag()
    );
}

#[test]
fn listen_on_ipv6_loopback() {
    if !ipv6_available() {
        return;
    }
    let (server, addr) = udp_listen(&["[::1]:0"]);
    assert!(addr.is_ipv6(), "{addr}");
    let sender = UdpPeer::bind("::1", &[]);
    sender.send_to(addr, b"v6 datagram");
    server.expect_stdout(&format!("[{}] v6 datagram\n", sender.addr));
}

#[test]
fn empty_datagram_does_not_stop_the_listener() {
    let (mut server, addr) = udp_listen(&[]);
    let sender = UdpPeer::bind("127.0.0.1", &[]);
    sender.send_to(addr, b"");
    sender.send_to(addr, b"after empty");
    server.expect_stdout("after empty");
    assert!(server.is_running());
}

#[test]
fn vv_shows_debug_events_that_v_does_not() {
    // -v: the socket line; -vv adds what the kernel made of the options and each
    // recvmmsg batch (issue 9, item 14: -vv used to print nothing more than -v).
    let mut runs = Vec::new();
    for flag in ["-v", "-vv"] {
        let (server, addr) = udp_listen(&[flag, "--rcvbuf", "64K"]);
        let sender = UdpPeer::bind("127.0.0.1", &[]);
        sender.send_to(addr, b"hello");
        server.expect_stdout("hello");
        std::thread::sleep(Duration::from_millis(200));
        runs.push(server.stderr.text());
    }
    let (v, vv) = (&runs[0], &runs[1]);
    assert!(v.contains("socket "), "{v}");
    for debug in [
        "SO_RCVBUF: asked 65536, kernel reports",
        "recvmmsg: 1 datagrams",
    ] {
        assert!(vv.contains(debug), "-vv should show {debug:?}:\n{vv}");
        assert!(!v.contains(debug), "-v should not show {debug:?}:\n{v}");
    }
}

#[test]
fn the_ready_line_names_the_address_bound() {
    // Loopback only here (tests never bind 0.0.0.0); the wildcard wording
    // "(all interfaces)" is checked where the address is resolved (net::addr unit tests).
    let (server, addr) = udp_listen(&[]);
    let line = server.expect_stderr_line("listening on udp");
    assert_eq!(line, format!("sockit: listening on udp {addr}"));
}
