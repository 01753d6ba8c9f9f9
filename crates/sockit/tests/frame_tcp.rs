//! `--frame raw|line|null|len16|len32|varint` on `sockit tcp listen` and `sockit tcp
//! connect`, against Python peers: framed messages written ONE BYTE AT A TIME (TCP_NODELAY,
//! tiny sleeps) must come out whole, one per line; messages sockit encodes must decode in
//! Python (`struct.unpack('!I')` etc.) to exactly what was sent; a header claiming 4 GiB is
//! an error for that connection, not an allocation.

mod common;

use common::*;
use std::time::Duration;

/// Messages used by most tests: short, with spaces and tabs, one longer than 255 bytes
/// (two-byte varint, non-zero high byte in len16).
fn messages() -> Vec<String> {
    vec![
        "hello".to_string(),
        "second message".to_string(),
        "with\ttab and spaces".to_string(),
        "x".repeat(300),
        "last".to_string(),
    ]
}

/// Encodes one message with a framing, as the spec defines it.
fn encode(codec: &str, msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match codec {
        "len16" => out.extend_from_slice(&(msg.len() as u16).to_be_bytes()),
        "len32" => out.extend_from_slice(&(msg.len() as u32).to_be_bytes()),
        "varint" => {
            let mut n = msg.len() as u64;
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(b);
                    break;
                }
                out.push(b | 0x80);
            }
        }
        "line" | "null" | "raw" => {}
        other => panic!("unknown codec {other}"),
    }
    out.extend_from_slice(msg);
    match codec {
        "line" => out.push(b'\n'),
        "null" => out.push(0),
        _ => {}
    }
    out
}

fn encode_all(codec: &str, msgs: &[String]) -> Vec<u8> {
    msgs.iter()
        .flat_map(|m| encode(codec, m.as_bytes()))
        .collect()
}

fn expected_lines(msgs: &[String]) -> String {
    msgs.iter().map(|m| format!("{m}\n")).collect()
}

/// The messages as `tcp listen` prints them: one per line, control bytes (the tab here)
/// escaped so that no message can look like two or forge another client's prefix.
fn escaped_lines(msgs: &[String]) -> String {
    msgs.iter()
        .map(|m| format!("{}\n", m.replace('\t', "\\t")))
        .collect()
}

/// Python client writes the framed messages one byte at a time to `sockit tcp listen
/// --frame CODEC`; stdout must hold each message whole on its own line.
fn listen_decodes_one_byte_writes(codec: &str) {
    let server = Proc::sockit(&["tcp", "listen", "--frame", codec, "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let client = TcpPeer::connect(addr, &[]);
    let msgs = messages();
    client.send_slowly(&encode_all(codec, &msgs), 0.001);
    let want = escaped_lines(&msgs);
    assert!(
        server
            .stdout
            .wait_for_len(want.len(), Duration::from_secs(60)),
        "{codec}: incomplete output\n{}",
        server.diag()
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.stdout.text(),
        want,
        "{codec}: messages not whole, one per line"
    );
}

#[test]
fn listen_len32_one_byte_writes_arrive_as_whole_messages() {
    listen_decodes_one_byte_writes("len32");
}

#[test]
fn listen_len16_one_byte_writes_arrive_as_whole_messages() {
    listen_decodes_one_byte_writes("len16");
}

#[test]
fn listen_varint_one_byte_writes_arrive_as_whole_messages() {
    listen_decodes_one_byte_writes("varint");
}

#[test]
fn listen_null_one_byte_writes_arrive_as_whole_messages() {
    listen_decodes_one_byte_writes("null");
}

#[test]
fn listen_line_one_byte_writes_arrive_as_whole_messages() {
    listen_decodes_one_byte_writes("line");
}

#[test]
fn listen_raw_frame_passes_bytes_through() {
    let server = Proc::sockit(&["tcp", "listen", "--frame", "raw", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let client = TcpPeer::connect(addr, &[]);
    client.send(b"raw bytes\nmore");
    server.expect_stdout("raw bytes\nmore");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.stdout.text(), "raw bytes\nmore");
}

/// Python server that reads everything until EOF and decodes it with `struct`, printing
/// `{"messages": [...], "leftover": N}` (messages as latin-1 strings).
const PY_DECODING_SERVER: &str = r#"
import json, signal, socket, struct, sys
signal.alarm(120)
codec = sys.argv[1]
host = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'
l = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
l.bind((host, 0)); l.listen(1)
print('PORT', l.getsockname()[1], file=sys.stderr, flush=True)
l.settimeout(60)
c, _ = l.accept()
c.settimeout(60)
buf = b''
while True:
    d = c.recv(65536)
    if not d:
        break
    buf += d
msgs, i = [], 0
try:
    while i < len(buf):
        if codec in ('null', 'line'):
            j = buf.index(b'\0' if codec == 'null' else b'\n', i)
            msgs.append(buf[i:j]); i = j + 1
            continue
        start = i
        if codec == 'len32':
            (n,) = struct.unpack('!I', buf[i:i + 4]); i += 4
        elif codec == 'len16':
            (n,) = struct.unpack('!H', buf[i:i + 2]); i += 2
        elif codec == 'varint':
            n, shift = 0, 0
            while True:
                b = buf[i]; i += 1
                n |= (b & 0x7f) << shift; shift += 7
                if not b & 0x80:
                    break
        if len(buf) - i < n:
            i = start
            break
        msgs.append(buf[i:i + n]); i += n
except (ValueError, IndexError, struct.error):
    pass
print(json.dumps({'messages': [m.decode('latin-1') for m in msgs], 'leftover': len(buf) - i}), flush=True)
"#;

/// `sockit tcp connect --frame CODEC` encodes each stdin line; Python decodes them.
fn connect_encodes_stdin_lines(codec: &str) {
    let server = Proc::python(PY_DECODING_SERVER, &[codec]);
    let port = server.expect_stderr_line("PORT");
    let port = port.split_whitespace().nth(1).unwrap();
    let msgs = messages();
    let out = run_sockit(
        &[
            "tcp",
            "connect",
            "--frame",
            codec,
            &format!("127.0.0.1:{port}"),
        ],
        expected_lines(&msgs).as_bytes(),
    );
    assert_eq!(out.code, 0, "{out:?}");
    let mut server = server;
    server.expect_exit();
    let json: serde_json::Value = serde_json::from_str(server.stdout.text().trim())
        .unwrap_or_else(|e| panic!("bad JSON from the python decoder: {e}\n{}", server.diag()));
    let got: Vec<&str> = json["messages"]
        .as_array()
        .expect("messages array")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(got, msgs, "{codec}: python decoded other messages");
    assert_eq!(
        json["leftover"], 0,
        "{codec}: trailing bytes that are not a whole frame"
    );
}

#[test]
fn connect_len32_messages_decode_with_struct_unpack() {
    connect_encodes_stdin_lines("len32");
}

#[test]
fn connect_len16_messages_decode_with_struct_unpack() {
    connect_encodes_stdin_lines("len16");
}

#[test]
fn connect_varint_messages_decode_in_python() {
    connect_encodes_stdin_lines("varint");
}

#[test]
fn connect_null_messages_decode_in_python() {
    connect_encodes_stdin_lines("null");
}

#[test]
fn connect_line_messages_decode_in_python() {
    connect_encodes_stdin_lines("line");
}

#[test]
fn connect_decodes_frames_a_python_server_sends_one_byte_at_a_time() {
    for codec in ["len32", "varint"] {
        let server = TcpPeer::listen("127.0.0.1", &[]);
        let client = Proc::sockit(&[
            "tcp",
            "connect",
            "--frame",
            codec,
            &server.local.to_string(),
        ]);
        server.accepted();
        let msgs = messages();
        server.send_slowly(&encode_all(codec, &msgs), 0.001);
        let want = expected_lines(&msgs);
        assert!(
            client
                .stdout
                .wait_for_len(want.len(), Duration::from_secs(60)),
            "{codec}\n{}",
            client.diag()
        );
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(client.stdout.text(), want, "{codec}");
    }
}

#[test]
fn listen_encodes_stdin_lines_for_its_client() {
    for codec in ["len16", "len32", "varint", "null"] {
        let server = Proc::sockit(&["tcp", "listen", "--frame", codec, "127.0.0.1:0"]);
        let addr = server.listening_addr("tcp");
        let client = TcpPeer::connect(addr, &[]);
        server.expect_stderr_line("connection from");
        let msgs = messages();
        server.write(expected_lines(&msgs));
        let want = encode_all(codec, &msgs);
        assert!(
            client.wait_received_len(want.len(), TIMEOUT),
            "{codec}: got {} of {} bytes\n{}",
            client.received().len(),
            want.len(),
            server.diag()
        );
        assert_eq!(client.received(), want, "{codec}: wrong encoding");
    }
}

#[test]
fn len32_large_message_split_across_many_reads() {
    let server = Proc::sockit(&["tcp", "listen", "--frame", "len32", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let client = TcpPeer::connect(addr, &[]);
    let big = "B".repeat(3 << 20);
    let msgs = vec!["before".to_string(), big, "after".to_string()];
    client.send(&encode_all("len32", &msgs));
    let want = expected_lines(&msgs);
    assert!(
        server
            .stdout
            .wait_for_len(want.len(), Duration::from_secs(60)),
        "{}",
        server.diag()
    );
    assert!(
        server.stdout.text() == want,
        "large message not reassembled"
    );
}

#[test]
fn header_claiming_4_gib_is_an_error_for_that_connection_not_an_allocation() {
    let mut server = Proc::sockit(&["tcp", "listen", "--frame", "len32", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let rss_before = rss_kib(server.pid());
    let evil = TcpPeer::connect(addr, &[]);
    server.expect_stderr_line(&format!("connection from {}", evil.local));
    let before = server.stderr.len();
    let mut frame = vec![0xff, 0xff, 0xff, 0xff];
    frame.extend_from_slice(b"and a few bytes of the 4 GiB");
    evil.send(&frame);
    assert!(
        evil.wait_eof(TIMEOUT),
        "the connection must be ended after an oversized frame header\n{}\n{}",
        server.diag(),
        evil.proc.diag()
    );
    let msg = server
        .stderr
        .wait_for_line_from(before, "", TIMEOUT)
        .unwrap_or_else(|| panic!("no message for the oversized frame\n{}", server.diag()));
    let all = server.stderr.text_from(before).to_lowercase();
    assert!(
        all.contains("frame")
            || all.contains("max")
            || all.contains("large")
            || all.contains("long"),
        "the message should say the frame is too big: {msg:?}\n{all}"
    );
    if let (Some(b), Some(a)) = (rss_before, rss_kib(server.pid())) {
        assert!(
            a < b + 256 * 1024,
            "resident memory grew from {b} KiB to {a} KiB: the length was allocated"
        );
    }
    assert!(server.is_running(), "{}", server.diag());
    // The next client is served normally.
    let good = TcpPeer::connect(addr, &[]);
    good.send(&encode("len32", b"fine message"));
    server.expect_stdout("fine message\n");
    assert_no_panic(&server.stderr.text());
}

#[test]
fn max_frame_option_limits_the_frame_size() {
    let mut server = Proc::sockit(&[
        "tcp",
        "listen",
        "--frame",
        "len32",
        "--max-frame",
        "10",
        "127.0.0.1:0",
    ]);
    let addr = server.listening_addr("tcp");
    let ok = TcpPeer::connect(addr, &[]);
    ok.send(&encode("len32", b"0123456789"));
    server.expect_stdout("0123456789\n");
    ok.close();
    let too_big = TcpPeer::connect(addr, &[]);
    too_big.send(&encode("len32", b"0123456789A"));
    assert!(
        too_big.wait_eof(TIMEOUT),
        "{}\n{}",
        server.diag(),
        too_big.proc.diag()
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !server.stdout.text().contains("0123456789A"),
        "{}",
        server.diag()
    );
    assert!(server.is_running());
}

#[test]
fn varint_header_claiming_huge_length_is_rejected() {
    let mut server = Proc::sockit(&["tcp", "listen", "--frame", "varint", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let evil = TcpPeer::connect(addr, &[]);
    // 10-byte varint (beyond u64 range once more continuation bytes follow).
    evil.send(&[
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ]);
    assert!(
        evil.wait_eof(TIMEOUT),
        "{}\n{}",
        server.diag(),
        evil.proc.diag()
    );
    assert!(server.is_running());
    assert_no_panic(&server.stderr.text());
}

#[test]
fn framing_over_ipv6() {
    if !ipv6_available() {
        return;
    }
    let server = Proc::sockit(&["tcp", "listen", "--frame", "len32", "[::1]:0"]);
    let addr = server.listening_addr("tcp");
    let client = TcpPeer::connect(addr, &[]);
    client.send_slowly(
        &encode_all("len32", &["v6 one".into(), "v6 two".into()]),
        0.001,
    );
    server.expect_stdout("v6 one\nv6 two\n");
}

#[test]
fn connect_rejects_an_oversized_frame_from_the_server_with_exit_1() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let mut client = Proc::sockit(&[
        "tcp",
        "connect",
        "--frame",
        "len32",
        &server.local.to_string(),
    ]);
    server.accepted();
    server.send(&encode("len32", b"fine first"));
    client.expect_stdout("fine first\n");
    server.send(&[0xff, 0xff, 0xff, 0xff, b'x', b'y']);
    let code = client.expect_exit();
    assert_eq!(code, 1, "{}", client.diag());
    let err = client.stderr.text();
    assert_no_panic(&err);
    assert_eq!(
        nonempty_lines(&err).len(),
        1,
        "one-line message expected: {err:?}"
    );
    assert_eq!(client.stdout.text(), "fine first\n");
}

#[test]
fn close_mid_frame_does_not_print_a_partial_message() {
    let mut server = Proc::sockit(&["tcp", "listen", "--frame", "len32", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let client = TcpPeer::connect(addr, &[]);
    let mut partial = encode("len32", b"complete");
    partial.extend_from_slice(&20u32.to_be_bytes());
    partial.extend_from_slice(b"only half");
    client.send(&partial);
    server.expect_stdout("complete\n");
    client.close();
    server.expect_stderr_line(&format!("{} closed", client.local));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.stdout.text(),
        "complete\n",
        "a partial frame is not a message"
    );
    assert!(server.is_running());
}

#[test]
fn frames_from_several_clients_stay_whole_and_prefixed() {
    let server = Proc::sockit(&["tcp", "listen", "--frame", "len16", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let clients: Vec<TcpPeer> = (0..3).map(|_| TcpPeer::connect(addr, &[])).collect();
    for c in &clients {
        server.expect_stderr_line(&format!("connection from {}", c.local));
    }
    // Interleave one-byte writes from all three clients.
    for (i, c) in clients.iter().enumerate() {
        let msgs = vec![format!("client {i} first"), format!("client {i} second")];
        c.send_slowly(&encode_all("len16", &msgs), 0.002);
    }
    for (i, c) in clients.iter().enumerate() {
        server.expect_stdout(&format!("[{}] client {i} first\n", c.local));
        server.expect_stdout(&format!("[{}] client {i} second\n", c.local));
    }
}

#[test]
fn default_max_frame_is_16_mib() {
    let mut server = Proc::sockit(&["tcp", "listen", "--frame", "len32", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    // Exactly 16 MiB is allowed...
    let ok = TcpPeer::connect(addr, &[]);
    let mut frame = (16u32 << 20).to_be_bytes().to_vec();
    frame.resize(4 + (16 << 20), b'k');
    ok.send(&frame);
    assert!(
        server
            .stdout
            .wait_for_len((16 << 20) + 1, Duration::from_secs(120)),
        "a 16 MiB frame must pass\n{}",
        server.diag()
    );
    ok.close();
    // ...one byte more is not.
    let big = TcpPeer::connect(addr, &[]);
    big.send(&((16u32 << 20) + 1).to_be_bytes());
    assert!(
        big.wait_eof(TIMEOUT),
        "16 MiB + 1 must be refused\n{}\n{}",
        server.diag(),
        big.proc.diag()
    );
    assert!(server.is_running());
}

#[test]
fn echo_with_framing_returns_each_message_encoded() {
    for codec in ["len32", "varint", "null"] {
        let server = Proc::sockit(&["tcp", "listen", "--echo", "--frame", codec, "127.0.0.1:0"]);
        let addr = server.listening_addr("tcp");
        let client = TcpPeer::connect(addr, &[]);
        let msgs = messages();
        let wire = encode_all(codec, &msgs);
        client.send_slowly(&wire, 0.0005);
        assert!(
            client.wait_received_len(wire.len(), Duration::from_secs(60)),
            "{codec}: got {} of {} bytes back\n{}",
            client.received().len(),
            wire.len(),
            server.diag()
        );
        assert_eq!(
            client.received(),
            wire,
            "{codec}: echo must re-encode each message"
        );
    }
}
