//! `sockit demo close` and `sockit demo udp`: each runs, reports what the kernel
//! answered, and ends with its conclusion. The figures are checked against what Python's
//! `socket` module answers to the same steps on this machine.

mod common;

use common::*;

/// The same three steps as `demo close`, done by Python: what recv and send return.
const PY_CLOSE: &str = "import socket,time,struct\n\
def pair():\n  l=socket.socket(); l.bind(('127.0.0.1',0)); l.listen(1)\n  c=socket.create_connection(l.getsockname()); s,_=l.accept(); l.close(); return c,s\n\
c,s=pair(); s.close(); time.sleep(0.05)\n\
print('recv', len(c.recv(64)))\n\
print('first', c.send(b'hello?')); time.sleep(0.05)\n\
try:\n  c.send(b'anyone?'); print('second ok')\nexcept BrokenPipeError: print('second EPIPE')\nexcept ConnectionResetError: print('second ECONNRESET')\n\
c,s=pair(); s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii',1,0)); s.close(); time.sleep(0.05)\n\
try:\n  c.recv(64); print('reset none')\nexcept ConnectionResetError: print('reset ECONNRESET')";

#[test]
fn demo_close_reports_what_the_kernel_answers() {
    let out = run_sockit(&["demo", "close"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    let py = run_python(PY_CLOSE, &[], b"").stdout_text();
    assert!(
        py.contains("recv 0") && text.contains("recv -> 0 bytes: b''"),
        "{text}\n{py}"
    );
    assert!(
        py.contains("first 6") && text.contains("first send -> 6 bytes"),
        "{text}\n{py}"
    );
    let second = if py.contains("second EPIPE") {
        "EPIPE"
    } else {
        "ECONNRESET"
    };
    assert!(
        text.contains(&format!("second send -> error {second}")),
        "{text}\n{py}"
    );
    assert!(py.contains("reset ECONNRESET") && text.contains("client recv -> error ECONNRESET"));
    assert!(
        text.contains("TIME-WAIT sockets left on the port: 0"),
        "{text}"
    );
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("conclusion: an empty recv means the peer closed"),
        "{last}"
    );
}

#[test]
fn demo_udp_keeps_boundaries_cuts_long_datagrams_and_serves_every_peer() {
    let out = run_sockit(&["demo", "udp"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    for (i, n) in [5, 50, 500, 1, 120].iter().enumerate() {
        assert!(
            text.contains(&format!("recvfrom #{} -> {n} bytes", i + 1)),
            "{text}"
        );
    }
    assert!(text.contains("recvfrom(10) -> 10 bytes; MSG_TRUNC says it was 100 bytes: 90 lost"));
    // Three distinct senders, each a real loopback address.
    let senders: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("from "))
        .map(|l| l.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(senders.len(), 3, "{text}");
    for s in &senders {
        let addr: std::net::SocketAddr = s.parse().unwrap();
        assert!(addr.ip().is_loopback());
    }
    assert!(text.contains("each client got its own answer: yes"));
    assert!(text
        .lines()
        .last()
        .unwrap_or_default()
        .starts_with("conclusion: each sendto is one recvfrom (no sticky packets)"));
}

#[test]
fn demo_buffers_accepts_more_with_bigger_buffers() {
    let out = run_sockit(&["demo", "buffers"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    // What the kernel reports for a 16 KiB request, as Python sees it on this machine.
    let py = run_python(
        "import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)\nprint(s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)//1024)",
        &[],
        b"",
    );
    let granted = py.stdout_text().trim().to_string();
    assert!(
        text.contains(&format!(
            "set to 16 KiB: getsockopt says SO_SNDBUF {granted} KiB"
        )),
        "{text}\npython: {granted}"
    );
    let accepted: Vec<usize> = text
        .lines()
        .filter_map(|l| l.rsplit_once('(')?.1.strip_suffix(" bytes)")?.parse().ok())
        .collect();
    assert_eq!(accepted.len(), 3, "{text}");
    assert!(
        accepted[0] >= 16 * 1024 && accepted[0] < 512 * 1024,
        "{accepted:?}"
    );
    assert!(accepted[2] > accepted[0], "{accepted:?}");
    assert!(text
        .lines()
        .last()
        .unwrap_or_default()
        .starts_with("conclusion: send accepts about"));
}

#[test]
fn demo_broadcast_needs_so_broadcast_and_reaches_every_receiver() {
    let out = run_sockit(&["demo", "broadcast"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    // Python gets the same refusal without the option.
    let py = run_python(
        "import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ntry:\n  s.sendto(b'x', ('127.255.255.255', 9)); print('sent')\nexcept PermissionError: print('EACCES')",
        &[],
        b"",
    );
    assert_eq!(py.stdout_text().trim(), "EACCES");
    assert!(
        text.contains("without SO_BROADCAST: refused: permission denied (EACCES)"),
        "{text}"
    );
    assert!(
        text.contains("with SO_BROADCAST: received by 3 of 3 receivers"),
        "{text}"
    );
    assert!(text
        .lines()
        .last()
        .unwrap_or_default()
        .starts_with("conclusion: a broadcast needs SO_BROADCAST"));
}
