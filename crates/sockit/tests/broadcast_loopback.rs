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

/// Two Python "hosts" answer a broadcast from two loopback addresses; `--wait-reply`
/// after a broadcast prints every answer with its sender, then exits 0.
#[test]
fn broadcast_wait_reply_prints_every_answer() {
    const RESPONDERS: &str = r#"
import socket, sys
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
rx.bind(("127.255.255.255", 0))
rx2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
rx2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
rx2.bind(("127.255.255.255", rx.getsockname()[1]))
print("port", rx.getsockname()[1], flush=True)
for sock, me in ((rx, "127.0.0.2"), (rx2, "127.0.0.3")):
    data, peer = sock.recvfrom(2048)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.bind((me, 0))
    tx.sendto(b"here " + me.encode(), peer)
    print("answered", me, flush=True)
"#;
    let hosts = Proc::python(RESPONDERS, &[]);
    let line = hosts
        .stdout
        .wait_for_line("port ", std::time::Duration::from_secs(10))
        .expect("responders ready");
    let port = line.trim().trim_start_matches("port ").to_string();
    let target = format!("{BCAST}:{port}");
    let out = run_sockit(
        &[
            "udp",
            "send",
            "-b",
            &target,
            "who",
            "--wait-reply",
            "-w",
            "1",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("[127.0.0.2:") && lines[0].ends_with("] here 127.0.0.2"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("[127.0.0.3:") && lines[1].ends_with("] here 127.0.0.3"),
        "{stdout}"
    );
}

/// Nobody answers a broadcast: one line naming the destination, exit 1.
#[test]
fn broadcast_wait_reply_without_answers_fails() {
    let rx = UdpPeer::bind(BCAST, &[]);
    let target = format!("{BCAST}:{}", rx.addr.port());
    let out = run_sockit(
        &[
            "udp",
            "send",
            "-b",
            &target,
            "anyone",
            "--wait-reply",
            "-w",
            "0.3",
        ],
        b"",
    );
    assert_eq!(out.code, 1, "{out:?}");
    let stderr = out.stderr.clone();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&target), "{stderr}");
}
