//! Socket attributes and options: `-v` prints family, type, fd, local and peer address;
//! `--sndbuf`, `--rcvbuf`, `--nodelay`, `--keepalive`, `--bind` really reach the kernel
//! (checked from outside: Python takes a duplicate of sockit's socket with
//! `pidfd_getfd(2)` and reads the options back with `getsockopt`); `sockit info [--json]`.

mod common;

use common::*;
use std::net::SocketAddr;

/// Finds `fd=N` / `fd N` / `fd: N` in a line.
fn parse_fd(line: &str) -> Option<i32> {
    let i = line.find("fd")?;
    let rest = line[i + 2..].trim_start_matches(['=', ':', ' ']);
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// Waits for a stderr line that describes a socket (has `SOCK_`) and contains `needle`.
fn socket_line(p: &Proc, needle: &str) -> String {
    let ok = wait_cond(TIMEOUT, || {
        p.stderr
            .text()
            .lines()
            .any(|l| l.contains("SOCK_") && l.contains(needle))
    });
    assert!(ok, "no -v line with SOCK_ and {needle:?}\n{}", p.diag());
    p.stderr
        .text()
        .lines()
        .find(|l| l.contains("SOCK_") && l.contains(needle))
        .unwrap()
        .to_string()
}

/// Reads socket options of fd `fd` in process `pid` through `pidfd_getfd(2)`.
const PY_GETSOCKOPT: &str = r#"
import ctypes, json, os, socket, sys
pid, fd = int(sys.argv[1]), int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
try:
    pfd = os.pidfd_open(pid)
except OSError as e:
    print(json.dumps({'error': 'pidfd_open: ' + e.strerror})); sys.exit(0)
libc.syscall.restype = ctypes.c_long
n = libc.syscall(438, pfd, fd, 0)  # SYS_pidfd_getfd (x86_64, aarch64, generic)
if n < 0:
    print(json.dumps({'error': 'pidfd_getfd: ' + os.strerror(ctypes.get_errno())})); sys.exit(0)
s = socket.socket(fileno=n)
S, T = socket.SOL_SOCKET, socket.IPPROTO_TCP
r = {
    'type': s.getsockopt(S, socket.SO_TYPE),
    'sndbuf': s.getsockopt(S, socket.SO_SNDBUF),
    'rcvbuf': s.getsockopt(S, socket.SO_RCVBUF),
    'keepalive': s.getsockopt(S, socket.SO_KEEPALIVE),
    'reuseaddr': s.getsockopt(S, socket.SO_REUSEADDR),
    'broadcast': s.getsockopt(S, socket.SO_BROADCAST),
    'local': list(s.getsockname()[:2]),
}
if r['type'] == socket.SOCK_STREAM:
    r['nodelay'] = s.getsockopt(T, socket.TCP_NODELAY)
print(json.dumps(r))
"#;

/// Options of another process's socket, or `None` (after printing a skip line) when this
/// kernel or sandbox does not allow `pidfd_getfd`.
fn sockopts(pid: u32, fd: i32) -> Option<serde_json::Value> {
    let out = run_python(PY_GETSOCKOPT, &[&pid.to_string(), &fd.to_string()], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    if let Some(e) = v.get("error") {
        skip(&format!("cannot inspect another process's socket: {e}"));
        return None;
    }
    Some(v)
}

#[test]
fn verbose_connect_prints_family_type_fd_and_both_addresses() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let client = Proc::sockit(&["-v", "tcp", "connect", &server.local.to_string()]);
    let client_addr = server.accepted();
    let line = socket_line(&client, &server.local.to_string());
    assert!(line.contains("AF_INET"), "{line:?}");
    assert!(!line.contains("AF_INET6"), "{line:?}");
    assert!(line.contains("SOCK_STREAM"), "{line:?}");
    assert!(
        line.contains(&client_addr.to_string()),
        "local address missing: {line:?}"
    );
    let fd = parse_fd(&line).unwrap_or_else(|| panic!("no fd in {line:?}"));
    let link = std::fs::read_link(format!("/proc/{}/fd/{fd}", client.pid()))
        .unwrap_or_else(|e| panic!("fd {fd} is not open in sockit: {e}"));
    assert!(
        link.to_string_lossy().starts_with("socket:"),
        "fd {fd} is {link:?}, not a socket"
    );
}

#[test]
fn verbose_listen_prints_the_listener_and_each_accepted_socket() {
    let server = Proc::sockit(&["-v", "tcp", "listen", "127.0.0.1:0"]);
    let addr = server.listening_addr("tcp");
    let line = socket_line(&server, &addr.to_string());
    assert!(
        line.contains("AF_INET") && line.contains("SOCK_STREAM"),
        "{line:?}"
    );
    assert!(parse_fd(&line).is_some(), "no fd in {line:?}");
    let client = TcpPeer::connect(addr, &[]);
    let line = socket_line(&server, &client.local.to_string());
    assert!(line.contains("SOCK_STREAM"), "{line:?}");
    assert!(
        line.contains(&addr.to_string()),
        "local address missing: {line:?}"
    );
    assert!(parse_fd(&line).is_some(), "no fd in {line:?}");
}

#[test]
fn verbose_udp_listen_prints_sock_dgram() {
    let server = Proc::sockit(&["-v", "udp", "listen", "127.0.0.1:0"]);
    let addr = server.listening_addr("udp");
    let line = socket_line(&server, &addr.to_string());
    assert!(
        line.contains("AF_INET") && line.contains("SOCK_DGRAM"),
        "{line:?}"
    );
    assert!(parse_fd(&line).is_some(), "no fd in {line:?}");
}

#[test]
fn verbose_udp_send_prints_sock_dgram() {
    let rx = UdpPeer::bind("127.0.0.1", &[]);
    let out = run_sockit(&["-v", "udp", "send", &rx.addr.to_string(), "x"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("SOCK_DGRAM"))
        .unwrap_or_else(|| panic!("no SOCK_DGRAM line: {:?}", out.stderr));
    assert!(line.contains("AF_INET"), "{line:?}");
    assert!(parse_fd(line).is_some(), "no fd in {line:?}");
    let sender = &rx.expect_datagrams(1)[0].from;
    assert!(
        line.contains(sender.as_str()),
        "local address {sender} missing: {line:?}"
    );
}

#[test]
fn verbose_ipv6_prints_af_inet6() {
    if !ipv6_available() {
        return;
    }
    let server = Proc::sockit(&["-v", "tcp", "listen", "[::1]:0"]);
    let addr = server.listening_addr("tcp");
    let line = socket_line(&server, &addr.to_string());
    assert!(line.contains("AF_INET6"), "{line:?}");
}

#[test]
fn buffer_nodelay_and_keepalive_options_reach_the_kernel() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let client = Proc::sockit(&[
        "-v",
        "tcp",
        "connect",
        "--sndbuf",
        "100000",
        "--rcvbuf",
        "120000",
        "--keepalive",
        "--nodelay",
        &server.local.to_string(),
    ]);
    server.accepted();
    let line = socket_line(&client, &server.local.to_string());
    let fd = parse_fd(&line).unwrap_or_else(|| panic!("no fd in {line:?}"));
    let Some(o) = sockopts(client.pid(), fd) else {
        return;
    };
    // Linux doubles SO_SNDBUF/SO_RCVBUF for bookkeeping and reports the double.
    let snd = o["sndbuf"].as_i64().unwrap();
    let rcv = o["rcvbuf"].as_i64().unwrap();
    assert!(snd == 200000 || snd == 100000, "SO_SNDBUF {snd} {o}");
    assert!(rcv == 240000 || rcv == 120000, "SO_RCVBUF {rcv} {o}");
    assert_eq!(o["nodelay"], 1, "TCP_NODELAY {o}");
    assert_eq!(o["keepalive"], 1, "SO_KEEPALIVE {o}");
}

#[test]
fn keepalive_flag_right_before_the_address_is_just_a_flag() {
    // `--keepalive` is an on/off option in the spec: it must not swallow the address.
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let client = Proc::sockit(&[
        "-v",
        "tcp",
        "connect",
        "--keepalive",
        &server.local.to_string(),
    ]);
    server.accepted();
    let line = socket_line(&client, &server.local.to_string());
    let fd = parse_fd(&line).unwrap_or_else(|| panic!("no fd in {line:?}"));
    let Some(o) = sockopts(client.pid(), fd) else {
        return;
    };
    assert_eq!(o["keepalive"], 1, "SO_KEEPALIVE {o}");
}

#[test]
fn listener_options_apply_to_accepted_connections() {
    let server = Proc::sockit(&[
        "-v",
        "tcp",
        "listen",
        "--keepalive",
        "--nodelay",
        "--rcvbuf",
        "120000",
        "127.0.0.1:0",
    ]);
    let addr = server.listening_addr("tcp");
    let line = socket_line(&server, &addr.to_string());
    let lfd = parse_fd(&line).unwrap_or_else(|| panic!("no fd in {line:?}"));
    let Some(o) = sockopts(server.pid(), lfd) else {
        return;
    };
    assert_eq!(o["reuseaddr"], 1, "listeners have SO_REUSEADDR on: {o}");
    let client = TcpPeer::connect(addr, &[]);
    let line = socket_line(&server, &client.local.to_string());
    let cfd = parse_fd(&line).unwrap_or_else(|| panic!("no fd in {line:?}"));
    let Some(o) = sockopts(server.pid(), cfd) else {
        return;
    };
    assert_eq!(o["nodelay"], 1, "TCP_NODELAY on the accepted socket: {o}");
    assert_eq!(
        o["keepalive"], 1,
        "SO_KEEPALIVE on the accepted socket: {o}"
    );
    let rcv = o["rcvbuf"].as_i64().unwrap();
    assert!(rcv == 240000 || rcv == 120000, "SO_RCVBUF {rcv} {o}");
}

#[test]
fn udp_listen_rcvbuf_reaches_the_kernel() {
    let server = Proc::sockit(&["-v", "udp", "listen", "--rcvbuf", "300000", "127.0.0.1:0"]);
    let addr = server.listening_addr("udp");
    let line = socket_line(&server, &addr.to_string());
    let fd = parse_fd(&line).unwrap_or_else(|| panic!("no fd in {line:?}"));
    let Some(o) = sockopts(server.pid(), fd) else {
        return;
    };
    let rcv = o["rcvbuf"].as_i64().unwrap();
    // Linux doubles the request, capped at twice net.core.rmem_max (default 212992).
    assert!(rcv >= 300000, "SO_RCVBUF {rcv} {o}");
}

#[test]
fn bind_sets_the_tcp_source_address() {
    let server = TcpPeer::listen("127.0.0.1", &[]);
    let client = Proc::sockit(&[
        "tcp",
        "connect",
        "--bind",
        "127.0.0.2",
        &server.local.to_string(),
    ]);
    let peer: SocketAddr = server.accepted();
    assert_eq!(peer.ip().to_string(), "127.0.0.2", "{}", client.diag());
    client.write("from 127.0.0.2\n");
    server.expect_received("from 127.0.0.2\n");
}

#[test]
fn bind_sets_the_udp_source_address() {
    let rx = UdpPeer::bind("127.0.0.1", &[]);
    let out = run_sockit(
        &[
            "udp",
            "send",
            "--bind",
            "127.0.0.2",
            &rx.addr.to_string(),
            "src",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    let got = rx.expect_datagrams(1);
    assert!(got[0].from.starts_with("127.0.0.2:"), "{got:?}");
}

#[test]
fn broadcast_flag_sets_so_broadcast() {
    let rx = UdpPeer::bind("127.0.0.1", &[]);
    // Keep the sender alive (stdin open) to inspect its socket.
    let sender = Proc::sockit(&["-v", "udp", "send", "--broadcast", &rx.addr.to_string()]);
    sender.write("one\n");
    rx.expect_datagrams(1);
    let line = socket_line(&sender, "SOCK_DGRAM");
    let fd = parse_fd(&line).unwrap_or_else(|| panic!("no fd in {line:?}"));
    let Some(o) = sockopts(sender.pid(), fd) else {
        return;
    };
    assert_eq!(o["broadcast"], 1, "SO_BROADCAST {o}");
}

#[test]
fn info_lists_the_options_of_fresh_tcp_and_udp_sockets() {
    let out = run_sockit(&["info"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    for name in ["SO_REUSEADDR", "SO_SNDBUF", "SO_RCVBUF", "TCP_NODELAY"] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    let lower = text.to_lowercase();
    assert!(lower.contains("tcp") && lower.contains("udp"), "{text}");
}

#[test]
fn info_json_parses_in_python_and_has_the_options() {
    let out = run_sockit(&["info", "--json"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let check = r#"
import json, sys
doc = json.load(sys.stdin)
flat = json.dumps(doc)
missing = [n for n in ('SO_REUSEADDR', 'SO_SNDBUF', 'SO_RCVBUF', 'TCP_NODELAY') if n not in flat]
print('MISSING' if missing else 'OK', missing)
"#;
    let py = run_python(check, &[], &out.stdout);
    assert_eq!(
        py.code,
        0,
        "python could not parse the JSON: {py:?}\n{}",
        out.stdout_text()
    );
    assert!(
        py.stdout_text().starts_with("OK"),
        "{}\n{}",
        py.stdout_text(),
        out.stdout_text()
    );
}

#[test]
fn info_json_reports_typed_buffer_sizes() {
    let out = run_sockit(&["info", "--json"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    // Some number somewhere in the document must be a plausible SO_SNDBUF (> 1 KiB).
    fn any_big_number(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => n.as_i64().is_some_and(|n| n > 1024),
            serde_json::Value::Array(a) => a.iter().any(any_big_number),
            serde_json::Value::Object(o) => o.values().any(any_big_number),
            _ => false,
        }
    }
    assert!(any_big_number(&v), "{v}");
}
