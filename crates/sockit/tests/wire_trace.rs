//! `sockit trace`: the same loopback connection traced by sockit and by tcpdump shows the
//! same packets with the same flags; a pcap file written by sockit is read back by
//! `tcpdump -r`; a bad filter is a usage error.

mod common;

use common::*;
use std::time::Duration;

/// Connects to a Python listener on `port`, sends `hello`, closes both ends.
const CONNECT: &str = r#"
import socket, sys, time
port = int(sys.argv[1])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', port)); l.listen()
c = socket.create_connection(('127.0.0.1', port)); s, _ = l.accept()
c.sendall(b'hello'); s.recv(10)
c.close(); time.sleep(0.2); s.close(); time.sleep(0.3)
"#;

fn interrupt(p: &Proc) {
    // SAFETY: kill has no memory preconditions; the pid is our own child's.
    unsafe {
        libc::kill(p.pid() as i32, libc::SIGINT);
    }
}

fn can_capture() -> bool {
    if !is_root() && !has_capability(13) {
        skip("capturing needs root or CAP_NET_RAW");
        return false;
    }
    has_cmd("tcpdump") && has_cmd("python3")
}

/// tcpdump's flag letters for sockit's flag names.
fn tcpdump_flags(ours: &str) -> String {
    let mut s = String::new();
    for (name, letter) in [("SYN", 'S'), ("FIN", 'F'), ("RST", 'R'), ("PSH", 'P')] {
        if ours.split('-').any(|p| p == name) {
            s.push(letter);
        }
    }
    if ours.split('-').any(|p| p == "ACK") {
        s.push('.');
    }
    s
}

#[test]
fn trace_matches_tcpdump_on_the_same_connection() {
    if !can_capture() {
        return;
    }
    let port = free_tcp_port().to_string();
    let pcap = tempfile::tempdir().expect("tempdir");
    let file = pcap.path().join("conn.pcap");
    let file_s = file.to_str().expect("utf-8 path");
    let mut ours = Proc::sockit(&["trace", "-w", file_s, "tcp", "and", "port", &port]);
    ours.expect_stderr_line("capturing on lo");
    let mut theirs = Proc::program(
        "tcpdump",
        &["-i", "lo", "-nn", "-l", "-S", "tcp", "port", &port],
    );
    if theirs
        .wait_for_stderr_line("listening on", TIMEOUT)
        .is_none()
    {
        panic!("tcpdump did not start\n{}", theirs.diag());
    }
    let out = run_python(CONNECT, &[&port], b"");
    assert_eq!(out.code, 0, "{out:?}");
    std::thread::sleep(Duration::from_millis(500));
    interrupt(&ours);
    interrupt(&theirs);
    assert_eq!(ours.expect_exit(), 0, "{}", ours.diag());
    theirs.wait_exit(TIMEOUT);
    let our_text = ours.stdout.text();
    let their_text = theirs.stdout.text();
    let our_flags: Vec<String> = our_text
        .lines()
        .filter_map(|l| {
            let a = l.find('[')?;
            let b = l[a..].find(']')? + a;
            Some(tcpdump_flags(&l[a + 1..b]))
        })
        .collect();
    let their_flags: Vec<String> = their_text
        .lines()
        .filter_map(|l| {
            let a = l.find("Flags [")? + 7;
            let b = l[a..].find(']')? + a;
            Some(l[a..b].replace(['E', 'W'], ""))
        })
        .collect();
    assert!(our_flags.len() >= 7, "too few packets:\n{our_text}");
    assert_eq!(
        our_flags, their_flags,
        "sockit:\n{our_text}\ntcpdump:\n{their_text}"
    );
    assert!(
        our_text.contains("handshake 1/3") && our_text.contains("handshake 3/3"),
        "{our_text}"
    );
    assert!(
        our_text.contains("close 1/4") && our_text.contains("4/4"),
        "{our_text}"
    );
    assert!(our_text.contains("\"hello\""), "{our_text}");
    assert!(
        ours.stderr
            .text()
            .contains(&format!("{} packets captured", our_flags.len())),
        "{}",
        ours.diag()
    );

    // The pcap file is complete: tcpdump reads the same packets back.
    let read = std::process::Command::new("tcpdump")
        .args(["-r", file_s, "-nn"])
        .output()
        .expect("run tcpdump -r");
    assert!(read.status.success(), "{read:?}");
    let lines = String::from_utf8_lossy(&read.stdout);
    assert_eq!(lines.lines().count(), our_flags.len(), "{lines}");
    assert!(lines.contains(&format!(".{port}: Flags [S]")), "{lines}");
}

#[test]
fn trace_layers_prints_every_layer_and_stops_at_count() {
    if !can_capture() {
        return;
    }
    let port = free_tcp_port().to_string();
    let mut ours = Proc::sockit(&["trace", "--layers", "--count", "3", "port", &port]);
    ours.expect_stderr_line("capturing on lo");
    let out = run_python(CONNECT, &[&port], b"");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(ours.expect_exit(), 0, "{}", ours.diag());
    let text = ours.stdout.text();
    for layer in [
        "link       Ethernet II",
        "network    IPv4",
        "transport  TCP",
        "payload    0 bytes",
    ] {
        assert!(text.contains(layer), "{layer} missing:\n{text}");
    }
    assert_eq!(
        text.lines().filter(|l| l.contains("TCP 127.0.0.1")).count(),
        3,
        "{text}"
    );
}

#[test]
fn a_bad_filter_is_a_usage_error() {
    let out = run_sockit(&["trace", "tcp", "or", "udp"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("joined by 'and'"), "{out:?}");
    let out = run_sockit(&["trace", "--iface", "no-such-if0", "tcp"], b"");
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.lines().count() == 1, "{out:?}");
}
