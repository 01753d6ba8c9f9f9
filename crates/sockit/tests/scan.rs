//! `sockit scan` against Python servers with known open and closed ports on 127.0.0.1.

mod common;

use common::*;

/// A Python process listening on `n` TCP ports and bound to `n` UDP ports (one of them
/// echoing), printing them; free ports for "closed" are found and released by the test.
const PY_PORTS: &str = "import socket,sys,threading\n\
tcp=[socket.socket() for _ in range(2)]\n\
for s in tcp: s.bind(('127.0.0.1',0)); s.listen(64)\n\
echo=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); echo.bind(('127.0.0.1',0))\n\
silent=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); silent.bind(('127.0.0.1',0))\n\
def serve():\n  while True:\n    d,a=echo.recvfrom(100); echo.sendto(b'pong',a)\n\
threading.Thread(target=serve,daemon=True).start()\n\
print('PORTS',tcp[0].getsockname()[1],tcp[1].getsockname()[1],echo.getsockname()[1],silent.getsockname()[1],file=sys.stderr,flush=True)\n\
sys.stdin.read()";

fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    held.iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

fn ports_of(peer: &Proc) -> Vec<u16> {
    peer.expect_stderr_line("PORTS")
        .split_whitespace()
        .skip(1)
        .map(|p| p.parse().unwrap())
        .collect()
}

#[test]
fn tcp_scan_finds_exactly_the_listening_ports() {
    let peer = Proc::python(PY_PORTS, &[]);
    let p = ports_of(&peer);
    let closed = free_ports(3);
    let list = format!(
        "{},{},{},{}-{}",
        p[0], p[1], closed[0], closed[1], closed[1]
    );
    let out = run_sockit(&["scan", "127.0.0.1", &list, "--all"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    assert!(text.contains(&format!("{}/tcp open\n", p[0])), "{text}");
    assert!(text.contains(&format!("{}/tcp open\n", p[1])), "{text}");
    assert!(
        text.contains(&format!("{}/tcp closed\n", closed[0])),
        "{text}"
    );
    assert!(
        out.stderr.contains("2 open, 2 closed, 0 filtered"),
        "{}",
        out.stderr
    );

    // Without --all only open ports are listed; none open is exit 1.
    let out = run_sockit(&["scan", "127.0.0.1", &closed[0].to_string()], b"");
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.stdout_text(), "");
}

#[test]
fn udp_scan_tells_open_closed_and_silent_ports() {
    let peer = Proc::python(PY_PORTS, &[]);
    let p = ports_of(&peer);
    let closed = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let list = format!("{},{},{}", p[2], p[3], closed);
    let out = run_sockit(
        &[
            "scan",
            "127.0.0.1",
            &list,
            "-u",
            "--all",
            "--timeout",
            "300ms",
            "--json",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    let states = run_python(
        "import json,sys\nfor l in sys.stdin: e=json.loads(l); print(e['port'], e['proto'], e['state'])",
        &[],
        &out.stdout,
    );
    let text = states.stdout_text();
    assert!(text.contains(&format!("{} udp open\n", p[2])), "{text}");
    assert!(
        text.contains(&format!("{} udp open|filtered\n", p[3])),
        "{text}"
    );
    assert!(text.contains(&format!("{closed} udp closed\n")), "{text}");
}

#[test]
fn bad_port_lists_are_usage_errors() {
    for ports in ["0", "65536", "10-5", "x", "-1"] {
        let out = run_sockit(&["scan", "127.0.0.1", ports], b"");
        assert_eq!(out.code, 2, "{ports}: {out:?}");
        assert_eq!(nonempty_lines(&out.stderr).len(), 1, "{}", out.stderr);
    }
    let out = run_sockit(&["scan", "127.0.0.1", "80", "--concurrency", "0"], b"");
    assert_eq!(out.code, 2, "{out:?}");
}
