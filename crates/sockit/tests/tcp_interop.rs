//! `sockit tcp` against OpenBSD `nc` and `socat` as clients and servers (skipped with a
//! printed reason when they are not installed).

mod common;

use common::*;

#[test]
fn nc_client_talks_to_sockit_listen() {
    if !has_cmd("nc") {
        return;
    }
    let server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let nc = Proc::program("nc", &["127.0.0.1", &addr.port().to_string()]);
    server.expect_stderr_line("connection from");
    nc.write("from nc\n");
    server.expect_stdout("from nc\n");
    server.write("to nc\n");
    nc.expect_stdout("to nc\n");
}

#[test]
fn nc_n_half_close_is_answered_by_sockit_echo() {
    if !has_cmd("nc") {
        return;
    }
    let server = Proc::sockit(&["tcp", "listen", "--echo", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    // nc -N: shutdown(SHUT_WR) after stdin EOF, then wait for the server to close.
    let out = run_proc(
        Proc::program("nc", &["-N", "127.0.0.1", &addr.port().to_string()]),
        b"echo me\nand me\n",
        TIMEOUT,
    );
    assert_eq!(out.code, 0, "{out:?}\n{}", server.diag());
    assert_eq!(out.stdout_text(), "echo me\nand me\n");
}

#[test]
fn sockit_connect_talks_to_nc_listen() {
    if !has_cmd("nc") {
        return;
    }
    let port = free_tcp_port();
    let nc = Proc::program("nc", &["-l", "127.0.0.1", &port.to_string()]);
    wait_tcp_listening(port);
    let mut client = Proc::sockit(&["tcp", "connect", &format!("127.0.0.1:{port}")]);
    client.write("from sockit\n");
    nc.expect_stdout("from sockit\n");
    nc.write("from nc\n");
    client.expect_stdout("from nc\n");
    // stdin EOF -> half-close -> nc -l sees EOF and exits -> sockit sees the close.
    client.close_stdin();
    assert_eq!(client.expect_exit(), 0, "{}\n{}", client.diag(), nc.diag());
}

#[test]
fn socat_client_gets_its_data_back_from_sockit_echo() {
    if !has_cmd("socat") {
        return;
    }
    let server = Proc::sockit(&["tcp", "listen", "--echo", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let socat = Proc::program("socat", &["-", &format!("TCP:127.0.0.1:{}", addr.port())]);
    socat.write("socat line 1\n");
    socat.expect_stdout("socat line 1\n");
    socat.write("socat line 2\n");
    socat.expect_stdout("socat line 1\nsocat line 2\n");
}

#[test]
fn sockit_connect_talks_to_socat_listen() {
    if !has_cmd("socat") {
        return;
    }
    let port = free_tcp_port();
    let socat = Proc::program(
        "socat",
        &[&format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"), "-"],
    );
    wait_tcp_listening(port);
    let mut client = Proc::sockit(&["tcp", "connect", &format!("127.0.0.1:{port}")]);
    client.write("hi socat\n");
    socat.expect_stdout("hi socat\n");
    socat.write("hi sockit\n");
    client.expect_stdout("hi sockit\n");
    client.close_stdin();
    // socat ends its session after the EOF (plus its 0.5 s linger) and closes.
    assert_eq!(
        client.expect_exit(),
        0,
        "{}\n{}",
        client.diag(),
        socat.diag()
    );
}

#[test]
fn bulk_data_from_socat_reaches_sockit_listen_intact() {
    if !has_cmd("socat") {
        return;
    }
    // Nothing to send back (stdin at its end): the server half-closes at once and exits
    // when socat's upload is complete.
    let mut server = Proc::sockit_with_stdin(
        &["tcp", "listen", "--once", "127.0.0.1:0"],
        std::process::Stdio::null(),
    );
    let addr = server.listening_addr("tcp");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let out = run_proc(
        Proc::program(
            "socat",
            &["-u", "-", &format!("TCP:127.0.0.1:{}", addr.port())],
        ),
        &data,
        TIMEOUT,
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(server.expect_exit(), 0, "{}", server.diag());
    assert!(
        server.stdout.bytes() == data,
        "bytes differ ({} received)",
        server.stdout.len()
    );
}
