//! UDP broadcast on the loopback broadcast address 127.255.255.255 (never 255.255.255.255,
//! never a LAN address): `sockit udp send --broadcast` sets `SO_BROADCAST`, and a listener
//! bound to the broadcast address receives it. Python on the other end of each direction.

mod common;

use common::*;

const BCAST: &str = "127.255.255.255";

#[test]
fn broadcast_send_reaches_a_python_receiver() {
    let rx = UdpPeer::bind(BCAST, &[]);
    let target = format!("{BCAST}:{}", rx.addr.port());
    let out = run_sockit(&["udp", "send", "--broadcast", &target, "hello all"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let got = rx.expect_datagrams(1);
    assert_eq!(got[0].data, b"hello all");
    assert!(got[0].from.starts_with("127."), "{got:?}");
}

#[test]
fn listen_on_the_broadcast_address_receives_a_python_broadcast() {
    let server = Proc::sockit(&["udp", "listen", &format!("{BCAST}:0")]);
    let addr = server.listening_addr("udp");
    assert_eq!(addr.ip().to_string(), BCAST);
    let tx = UdpPeer::bind("127.0.0.1", &["--broadcast"]);
    tx.send_to(addr, b"python broadcast");
    server.expect_stdout(&format!("[{}] python broadcast\n", tx.addr));
}

#[test]
fn sockit_broadcast_reaches_sockit_listen() {
    let server = Proc::sockit(&["udp", "listen", &format!("{BCAST}:0")]);
    let addr = server.listening_addr("udp");
    let out = run_sockit(
        &[
            "udp",
            "send",
            "--broadcast",
            &addr.to_string(),
            "from sockit",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    server.expect_stdout("] from sockit\n");
}

#[test]
fn broadcast_stdin_lines_are_separate_datagrams() {
    let rx = UdpPeer::bind(BCAST, &[]);
    let target = format!("{BCAST}:{}", rx.addr.port());
    let out = run_sockit(&["udp", "send", "--broadcast", &target], b"first\nsecond\n");
    assert_eq!(out.code, 0, "{out:?}");
    let got = rx.expect_datagrams(2);
    let texts: Vec<String> = got
        .iter()
        .map(|d| String::from_utf8_lossy(&d.data).trim_end().to_string())
        .collect();
    assert_eq!(texts, vec!["first", "second"]);
}

#[test]
fn broadcast_without_the_flag_is_explained() {
    // Without SO_BROADCAST the kernel refuses with EACCES ("permission denied"): sockit
    // must say that --broadcast is needed instead of printing the raw error.
    let rx = UdpPeer::bind(BCAST, &[]);
    let target = format!("{BCAST}:{}", rx.addr.port());
    let out = run_sockit(&["udp", "send", &target, "no flag"], b"");
    // Exit 1 (the kernel refused) or 2 (the user forgot a flag): both are fair.
    assert!(out.code == 1 || out.code == 2, "{out:?}");
    assert_no_panic(&out.stderr);
    let lines = nonempty_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "{:?}", out.stderr);
    assert!(
        lines[0].contains("--broadcast"),
        "should point to --broadcast: {:?}",
        lines[0]
    );
}
