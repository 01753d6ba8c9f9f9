//! `sockit udp` against OpenBSD `nc -u` and `socat` (skipped with a printed reason when
//! they are not installed).

mod common;

use common::*;

#[test]
fn socat_datagram_reaches_sockit_udp_listen() {
    if !has_cmd("socat") {
        return;
    }
    let server = Proc::sockit(&["udp", "listen", "127.0.0.1:0"]);
    let addr = server.listening_addr("udp");
    let out = run_proc(
        Proc::program(
            "socat",
            &["-u", "-", &format!("UDP-SENDTO:127.0.0.1:{}", addr.port())],
        ),
        b"from socat",
        TIMEOUT,
    );
    assert_eq!(out.code, 0, "{out:?}");
    server.expect_stdout("] from socat\n");
    let line = server.stdout.text();
    assert!(line.starts_with("[127.0.0.1:"), "{line:?}");
}

#[test]
fn nc_u_datagram_reaches_sockit_udp_listen() {
    if !has_cmd("nc") {
        return;
    }
    let server = Proc::sockit(&["udp", "listen", "--raw", "127.0.0.1:0"]);
    let addr = server.listening_addr("udp");
    let nc = Proc::program("nc", &["-u", "127.0.0.1", &addr.port().to_string()]);
    nc.write("from nc\n");
    server.expect_stdout("from nc");
}

#[test]
fn sockit_udp_send_reaches_socat_receiver() {
    if !has_cmd("socat") {
        return;
    }
    let port = free_udp_port();
    let socat = Proc::program(
        "socat",
        &["-u", &format!("UDP-RECV:{port},bind=127.0.0.1"), "-"],
    );
    wait_udp_bound(port);
    let out = run_sockit(
        &["udp", "send", &format!("127.0.0.1:{port}"), "to socat"],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    socat.expect_stdout("to socat");
}

#[test]
fn sockit_wait_reply_from_socat_echo() {
    if !has_cmd("socat") {
        return;
    }
    let port = free_udp_port();
    // socat answers each datagram with what `cat` gives back.
    let _socat = Proc::program(
        "socat",
        &[
            &format!("UDP-RECVFROM:{port},bind=127.0.0.1,fork"),
            "EXEC:cat",
        ],
    );
    wait_udp_bound(port);
    let out = run_sockit(
        &[
            "udp",
            "send",
            "--wait-reply",
            "--timeout",
            "10",
            &format!("127.0.0.1:{port}"),
            "echo via socat",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout_text().contains("echo via socat"), "{out:?}");
}

#[test]
fn nc_u_gets_an_answer_from_sockit_udp_echo() {
    if !has_cmd("nc") {
        return;
    }
    let server = Proc::sockit(&["udp", "listen", "--echo", "127.0.0.1:0"]);
    let addr = server.listening_addr("udp");
    let nc = Proc::program("nc", &["-u", "127.0.0.1", &addr.port().to_string()]);
    nc.write("bounce\n");
    nc.expect_stdout("bounce");
}
