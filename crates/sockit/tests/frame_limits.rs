//! Frame sizes under hostile peers and absurd flags: memory follows the bytes that
//! arrive, never a length a peer (or a flag) merely announces; `--max-frame` and the
//! line framings' smaller default bound what one connection can make the server hold;
//! an over-long stdin line is skipped whole and reported once, never sent in part.
//!
//! Where allocation is the point the server runs under `ulimit -v` (200 MB of address
//! space): an up-front `reserve` of a 1 GiB announced frame aborts the whole process
//! there (`memory allocation of 1073741823 bytes failed`), while buffering the bytes
//! that really came costs nothing.

mod common;

use common::*;
use std::net::SocketAddr;

/// Address-space limit for the server, in KiB: ample for sockit's threads and buffers,
/// far below one announced 1 GiB frame.
const VMEM_KIB: &str = "200000";

/// `sockit ARGS` started by bash under `ulimit -v VMEM_KIB`.
fn sockit_limited(args: &[&str]) -> Proc {
    let script = format!("ulimit -v {VMEM_KIB} && exec \"$0\" \"$@\"");
    let mut all = vec!["-c", script.as_str(), sockit_bin()];
    all.extend_from_slice(args);
    Proc::program("bash", &all)
}

/// Python's struct.pack('!I', n).
fn len32(n: u32) -> String {
    hex(&n.to_be_bytes())
}

/// A server that is still up serves a second client's whole frame.
fn still_serves(server: &Proc, addr: SocketAddr, framing_hex: &str, shown: &str) {
    let good = TcpPeer::connect(addr, &[]);
    good.send_hex(framing_hex);
    server.expect_stdout(shown);
    drop(good);
}

trait SendHex {
    fn send_hex(&self, data: &str);
}

impl SendHex for TcpPeer {
    fn send_hex(&self, data: &str) {
        self.proc.write(format!("send {data}\n"));
        self.proc.expect_stderr_line("PEER: SENT");
    }
}

#[test]
fn an_announced_1_gib_frame_costs_only_the_bytes_that_arrive() {
    let mut server = sockit_limited(&[
        "tcp",
        "listen",
        "127.0.0.1:0",
        "--frame",
        "len32",
        "--max-frame",
        "1G",
    ]);
    let addr = server.listening_addr("tcp");
    let liar = TcpPeer::connect(addr, &[]);
    liar.send_hex(&format!("{}{}", len32((1 << 30) - 1), hex(b"0123456789")));
    still_serves(
        &server,
        addr,
        &format!("{}{}", len32(5), hex(b"hello")),
        "hello",
    );
    assert!(server.is_running(), "{}", server.diag());
    liar.close();
    server.expect_stderr_line("in the middle of a frame");
    assert!(server.is_running(), "{}", server.diag());
    assert_no_panic(&server.stderr.text());
}

#[test]
fn a_fixed_record_of_1_gib_is_buffered_as_it_arrives() {
    let mut server = sockit_limited(&[
        "tcp",
        "listen",
        "127.0.0.1:0",
        "--frame",
        "fixed:1073741824",
        "--max-frame",
        "1G",
    ]);
    let addr = server.listening_addr("tcp");
    let first = TcpPeer::connect(addr, &[]);
    first.send_hex(&hex(b"just a few bytes of a huge record"));
    let second = TcpPeer::connect(addr, &[]);
    second.send_hex(&hex(b"more"));
    second.close();
    server.expect_stderr_line("not a whole 1073741824-byte record");
    assert!(server.is_running(), "{}", server.diag());
    assert_no_panic(&server.stderr.text());
    drop(first);
}

#[test]
fn varint_and_struct_headers_reserve_nothing_either() {
    for (framing, header) in [
        // 2^30 - 1 as LEB128.
        ("varint", "ffffffff03".to_string()),
        ("struct:!Q", hex(&((1u64 << 30) - 1).to_be_bytes())),
    ] {
        let mut server = sockit_limited(&[
            "tcp",
            "listen",
            "127.0.0.1:0",
            "--frame",
            framing,
            "--max-frame",
            "1G",
        ]);
        let addr = server.listening_addr("tcp");
        let liar = TcpPeer::connect(addr, &[]);
        liar.send_hex(&format!("{header}{}", hex(b"0123456789")));
        liar.close();
        server.expect_stderr_line("in the middle of a frame");
        assert!(server.is_running(), "{framing}: {}", server.diag());
        assert_no_panic(&server.stderr.text());
    }
}

#[test]
fn line_framing_defaults_to_a_1_mib_limit() {
    let mut server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0", "--frame", "line"]);
    let addr = server.listening_addr("tcp");
    let client = TcpPeer::connect(addr, &[]);
    // 1 MiB + 1 bytes without a newline: more than a line may hold by default.
    client.send_hex(&"61".repeat((1 << 20) + 1));
    server.expect_stderr_line("no newline delimiter within 1048576 bytes");
    assert!(server.is_running(), "{}", server.diag());
    // The help says so (a binary framing keeps 16 MiB).
    let out = run_sockit(&["tcp", "listen", "--help"], b"");
    let help = out
        .stdout_text()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(help.contains("1M for line and null"), "{help}");
    assert!(help.contains("16M for the other framings"), "{help}");
}

#[test]
fn an_overlong_stdin_line_is_reported_once_and_never_sent_in_part() {
    let server = Proc::sockit(&[
        "tcp",
        "listen",
        "127.0.0.1:0",
        "--frame",
        "len32",
        "--max-frame",
        "1K",
    ]);
    let addr = server.listening_addr("tcp");
    let client = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line("connection from");
    // The line of 5000 bytes arrives in several writes (and so several stdin chunks).
    server.write("before\n");
    for _ in 0..5 {
        server.write("a".repeat(1000));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    server.write("\nafter\n");
    let want = [&len32(6)[..], &hex(b"before"), &len32(5), &hex(b"after")].concat();
    let want = unhex(&want);
    assert!(
        client.proc.stdout.wait_for_len(want.len(), TIMEOUT),
        "{}",
        client.proc.diag()
    );
    std::thread::sleep(QUIET);
    assert_eq!(client.received(), want, "only whole lines are sent");
    let stderr = server.stderr.text();
    let reports: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("longer than"))
        .collect();
    assert_eq!(reports.len(), 1, "one report per line:\n{stderr}");
    assert!(reports[0].contains("1024"), "{}", reports[0]);
}

#[test]
fn an_unpack_record_over_max_frame_never_aborts_the_server() {
    // `--unpack 100000000000s` used to abort at the first byte (a 100 GB reserve). The
    // record must either be refused when the options are parsed (exit 2, naming --unpack)
    // or refused at the first byte of each connection, the server staying up.
    let mut server = sockit_limited(&["tcp", "listen", "127.0.0.1:0", "--unpack", "100000000000s"]);
    if server
        .stderr
        .wait_until(TIMEOUT, |d| String::from_utf8_lossy(d).contains("sockit: "))
        && server.stderr.text().contains("--unpack")
    {
        assert_eq!(server.expect_exit(), 2, "{}", server.diag());
        assert!(
            server.stderr.text().contains("100000000000"),
            "{}",
            server.diag()
        );
        return;
    }
    let addr = server.listening_addr("tcp");
    let client = TcpPeer::connect(addr, &[]);
    client.send_hex(&hex(b"x"));
    server.expect_stderr_line("exceeds the maximum of 16777216 bytes");
    assert!(server.is_running(), "{}", server.diag());
    assert_no_panic(&server.stderr.text());
}
