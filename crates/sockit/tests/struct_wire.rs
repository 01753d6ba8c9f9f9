//! Python `struct` records on the wire: `--pack`, `--unpack` and `--frame struct:FMT`,
//! with Python's own `struct` module as the peer, so the bytes are CPython's.

mod common;

use common::*;

/// The bytes of a Python expression using `struct` (e.g. `struct.pack('!I', 5)`), as
/// CPython computes them.
fn py_bytes(expr: &str) -> Vec<u8> {
    let script = format!("import struct, sys\nsys.stdout.write(({expr}).hex())");
    let out = run_python(&script, &[], b"");
    assert_eq!(out.code, 0, "python failed: {out:?}");
    unhex(out.stdout_text().trim())
}

const ZHANG: &str = "struct.pack('i5sf', 1, b'zhang', 1.75)";
const LI: &str = "struct.pack('i5sf', -2, b'li', -0.5)";

#[test]
fn python_records_trickling_in_print_as_exact_tuples() {
    let server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0", "--unpack", "i5sf"]);
    let addr = server.listening_addr("tcp");
    let peer = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line("connection from");
    // Two records and 3 bytes of a third, one byte per send (TCP_NODELAY on).
    let wire = py_bytes(&format!("{ZHANG} + {LI} + b'abc'"));
    peer.send_slowly(&wire, 0.002);
    peer.proc.expect_stderr_line("PEER: SENT");
    server.expect_stdout("(1, b'zhang', 1.75)\n(-2, b'li\\x00\\x00\\x00', -0.5)\n");
    peer.close();
    let warning = server.expect_stderr_line("left over");
    assert!(warning.contains("3 bytes"), "{warning}");
    assert_eq!(
        server.stdout.text(),
        "(1, b'zhang', 1.75)\n(-2, b'li\\x00\\x00\\x00', -0.5)\n"
    );
}

#[test]
fn several_clients_get_prefixed_tuples() {
    let server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0", "--unpack", "!H"]);
    let addr = server.listening_addr("tcp");
    let a = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", a.local));
    let b = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", b.local));
    a.send(&py_bytes("struct.pack('!H', 7)"));
    server.expect_stdout(&format!("[{}] (7,)\n", a.local));
    b.send(&py_bytes("struct.pack('!H', 65535)"));
    server.expect_stdout(&format!("[{}] (65535,)\n", b.local));
}

#[test]
fn connect_pack_sends_exactly_what_python_packs() {
    let peer = TcpPeer::listen("127.0.0.1", &[]);
    let target = peer.local.to_string();
    let mut client = Proc::sockit(&["tcp", "connect", &target, "--pack", "i5sf"]);
    peer.accepted();
    client.write("1 b'zhang' 1.75\n\n-2 b'li' -0.5\n");
    client.close_stdin();
    let want = py_bytes(&format!("{ZHANG} + {LI}"));
    assert!(
        peer.wait_received_len(want.len(), TIMEOUT),
        "{}",
        peer.proc.diag()
    );
    assert!(
        peer.wait_eof(TIMEOUT),
        "no half-close\n{}",
        peer.proc.diag()
    );
    assert_eq!(peer.received(), want);
    peer.close();
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());
}

#[test]
fn bytes_values_may_contain_spaces() {
    let peer = TcpPeer::listen("127.0.0.1", &[]);
    let target = peer.local.to_string();
    let mut client = Proc::sockit(&["tcp", "connect", &target, "--pack", "!h11s"]);
    peer.accepted();
    client.write("-1 b'hello world'\n");
    client.close_stdin();
    let want = py_bytes("struct.pack('!h11s', -1, b'hello world')");
    assert!(peer.wait_received_len(want.len(), TIMEOUT));
    assert_eq!(peer.received(), want);
    peer.close();
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());
}

#[test]
fn bad_line_stops_the_sender_with_its_line_number() {
    let peer = TcpPeer::listen("127.0.0.1", &[]);
    let target = peer.local.to_string();
    let mut client = Proc::sockit(&["tcp", "connect", &target, "--pack", "i5sf"]);
    peer.accepted();
    client.write("1 b'zhang' 1.75\n2 b'li'\n3 b'wang' 1\n");
    client.close_stdin();
    assert_eq!(client.expect_exit(), 2, "{}", client.diag());
    let err = client.stderr.text();
    assert!(
        err.contains("stdin line 2: expected 3 values for format 'i5sf', got 2"),
        "{err}"
    );
    assert_eq!(nonempty_lines(&err).len(), 1, "{err}");
    // The good record before it went out; nothing after it did.
    assert!(peer.wait_eof(TIMEOUT));
    assert_eq!(peer.received(), py_bytes(ZHANG));

    for (line, want) in [
        ("99999999999 b'x' 1\n", "stdin line 1: cannot pack"),
        ("1 zhang 1.75\n", "stdin line 1: value 2"),
    ] {
        let peer = TcpPeer::listen("127.0.0.1", &[]);
        let out = run_sockit(
            &["tcp", "connect", &peer.local.to_string(), "--pack", "i5sf"],
            line.as_bytes(),
        );
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains(want), "{out:?}");
        assert_no_panic(&out.stderr);
    }
}

#[test]
fn udp_pack_and_unpack_both_ways() {
    // sockit -> Python: one datagram per line.
    let peer = UdpPeer::bind("127.0.0.1", &[]);
    let out = run_sockit(
        &["udp", "send", &peer.addr.to_string(), "--pack", "i5sf"],
        b"1 b'zhang' 1.75\n-2 b'li' -0.5\n",
    );
    assert_eq!(out.code, 0, "{out:?}");
    let got = peer.expect_datagrams(2);
    assert_eq!(got[0].data, py_bytes(ZHANG));
    assert_eq!(got[1].data, py_bytes(LI));
    // MESSAGE is packed like a line.
    let out = run_sockit(
        &[
            "udp",
            "send",
            &peer.addr.to_string(),
            "--pack",
            "!I",
            "1500",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        peer.expect_datagrams(3)[2].data,
        py_bytes("struct.pack('!I', 1500)")
    );

    // Python -> sockit: each datagram is one record; a wrong size is reported, not fatal.
    let server = Proc::sockit(&["udp", "listen", "127.0.0.1:0", "--unpack", "i5sf"]);
    let addr = server.listening_addr("udp");
    peer.send_to(addr, &py_bytes(ZHANG));
    server.expect_stdout(&format!("[{}] (1, b'zhang', 1.75)\n", peer.addr));
    peer.send_to(addr, b"short");
    let warning = server.expect_stderr_line("ignored");
    assert!(
        warning.contains("5 bytes") && warning.contains("16 bytes"),
        "{warning}"
    );
    peer.send_to(addr, &py_bytes(LI));
    server.expect_stdout("(-2, b'li\\x00\\x00\\x00', -0.5)\n");
}

#[test]
fn udp_send_bad_line_exits_2() {
    let peer = UdpPeer::bind("127.0.0.1", &[]);
    let out = run_sockit(
        &["udp", "send", &peer.addr.to_string(), "--pack", "<h"],
        b"1\n40000\n2\n",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("stdin line 2: cannot pack"), "{out:?}");
    assert_eq!(peer.expect_datagrams(1).len(), 1);
}

#[test]
fn struct_header_framing_from_python_one_byte_at_a_time() {
    let server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0", "--frame", "struct:!I"]);
    let addr = server.listening_addr("tcp");
    let peer = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line("connection from");
    let wire = py_bytes(
        "b''.join(struct.pack('!I', len(m)) + m for m in [b'hello', b'', b'sticky packets'])",
    );
    peer.send_slowly(&wire, 0.002);
    server.expect_stdout("hello\n\nsticky packets\n");
}

#[test]
fn struct_header_framing_to_python() {
    for (format, py_format) in [("struct:!I", "!I"), ("struct:<H", "<H")] {
        let peer = TcpPeer::listen("127.0.0.1", &[]);
        let target = peer.local.to_string();
        let mut client = Proc::sockit(&["tcp", "connect", &target, "--frame", format]);
        peer.accepted();
        client.write("hello\nworld wide\n");
        client.close_stdin();
        let want = py_bytes(&format!(
            "b''.join(struct.pack('{py_format}', len(m)) + m for m in [b'hello', b'world wide'])"
        ));
        assert!(peer.wait_eof(TIMEOUT), "{}", peer.proc.diag());
        assert_eq!(peer.received(), want, "{format}");
        peer.close();
        assert_eq!(client.expect_exit(), 0, "{}", client.diag());
    }
}

#[test]
fn packed_records_inside_struct_header_frames() {
    let peer = TcpPeer::listen("127.0.0.1", &[]);
    let target = peer.local.to_string();
    let mut client = Proc::sockit(&[
        "tcp",
        "connect",
        &target,
        "--frame",
        "struct:<H",
        "--pack",
        "i5sf",
    ]);
    peer.accepted();
    // A record with a newline byte inside must still be one message.
    client.write("10 b'a\\nb' 1.75\n");
    client.close_stdin();
    let want = py_bytes("struct.pack('<H', 16) + struct.pack('i5sf', 10, b'a\\nb', 1.75)");
    assert!(peer.wait_eof(TIMEOUT), "{}", peer.proc.diag());
    assert_eq!(peer.received(), want);
    peer.close();
    assert_eq!(client.expect_exit(), 0, "{}", client.diag());

    // And the listening side: one frame is one record.
    let server = Proc::sockit(&[
        "tcp",
        "listen",
        "127.0.0.1:0",
        "--frame",
        "struct:<H",
        "--unpack",
        "i5sf",
    ]);
    let addr = server.listening_addr("tcp");
    let peer = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line("connection from");
    peer.send_slowly(&want, 0.001);
    server.expect_stdout("(10, b'a\\nb\\x00\\x00', 1.75)\n");
    peer.send(&py_bytes("struct.pack('<H', 3) + b'abc'"));
    let warning = server.expect_stderr_line("message ignored");
    assert!(warning.contains("3 bytes"), "{warning}");
}

#[test]
fn echo_with_struct_header_returns_the_same_bytes() {
    let server = Proc::sockit(&[
        "tcp",
        "listen",
        "127.0.0.1:0",
        "--echo",
        "--frame",
        "struct:!I",
    ]);
    let addr = server.listening_addr("tcp");
    let peer = TcpPeer::connect(addr, &[]);
    let wire = py_bytes("struct.pack('!I', 5) + b'hello' + struct.pack('!I', 0)");
    peer.send_slowly(&wire, 0.001);
    assert!(
        peer.wait_received_len(wire.len(), TIMEOUT),
        "{}",
        peer.proc.diag()
    );
    assert_eq!(peer.received(), wire);
}

#[test]
fn bad_struct_header_formats_exit_2() {
    for bad in ["struct:5s", "struct:!f", "struct:!II", "struct:!Z"] {
        let out = run_sockit(&["tcp", "listen", "127.0.0.1:0", "--frame", bad], b"");
        assert_eq!(out.code, 2, "{bad}: {out:?}");
        assert!(out.stderr.contains(bad), "{bad}: {out:?}");
        assert_eq!(nonempty_lines(&out.stderr).len(), 1, "{out:?}");
    }
    let out = run_sockit(&["tcp", "listen", "127.0.0.1:0", "--unpack", "0s"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("size 0"), "{out:?}");
}

#[test]
fn huge_struct_header_ends_only_that_connection() {
    let server = Proc::sockit(&[
        "tcp",
        "listen",
        "127.0.0.1:0",
        "--frame",
        "struct:!I",
        "--max-frame",
        "100",
    ]);
    let addr = server.listening_addr("tcp");
    let bad = TcpPeer::connect(addr, &[]);
    bad.send(&py_bytes("struct.pack('!I', 4000000000)"));
    let err = server.expect_stderr_line("exceeds the maximum");
    assert!(err.contains("4000000000"), "{err}");
    assert!(bad.wait_eof(TIMEOUT), "{}", bad.proc.diag());

    let good = TcpPeer::connect(addr, &[]);
    good.send(&py_bytes("struct.pack('!I', 2) + b'ok'"));
    server.expect_stdout("ok\n");

    // A signed header announcing a negative length is refused the same way.
    let server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0", "--frame", "struct:!i"]);
    let addr = server.listening_addr("tcp");
    let bad = TcpPeer::connect(addr, &[]);
    bad.send(&py_bytes("struct.pack('!i', -1)"));
    server.expect_stderr_line("negative length");
}
