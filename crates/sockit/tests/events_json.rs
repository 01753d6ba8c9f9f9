//! `--json` on long-running commands: every event is one JSON object per line on stderr,
//! with `event`, `level`, `message` and its details, readable by Python's `json`.

mod common;

use common::*;
use std::time::Duration;

/// Parses each stderr line with Python's json module and returns `event` names in order.
fn events_of(stderr: &str) -> Vec<String> {
    let out = run_python(
        "import json,sys\nfor line in sys.stdin:\n  e=json.loads(line)\n  assert set(e)>={'event','level','message'}, e\n  print(e['event'], e.get('addr') or e.get('peer') or '')",
        &[],
        stderr.as_bytes(),
    );
    assert_eq!(out.code, 0, "not JSON lines: {stderr}\n{out:?}");
    out.stdout_text().lines().map(str::to_string).collect()
}

#[test]
fn tcp_listen_json_events_are_json_lines() {
    let mut server = Proc::sockit(&["tcp", "listen", "127.0.0.1:0", "--json"]);
    let line = server.expect_stderr_line("\"listening\"");
    let v = events_of(&line);
    let addr: std::net::SocketAddr = v[0].split_whitespace().nth(1).unwrap().parse().unwrap();
    let client = TcpPeer::connect(addr, &[]);
    client.send(b"hi\n");
    server.expect_stdout("hi\n");
    client.close();
    server.expect_stderr_line("\"closed\"");
    server.signal(libc::SIGTERM);
    assert_eq!(server.expect_exit(), 0);
    let names = events_of(&server.stderr.text());
    let peer = client.local.to_string();
    assert_eq!(
        names,
        [
            format!("listening {addr}"),
            format!("connected {peer}"),
            format!("closed {peer}"),
            "shutting-down ".to_string()
        ]
    );
}

#[test]
fn udp_listen_json_reports_truncation_with_its_details() {
    let mut server = Proc::sockit(&["udp", "listen", "127.0.0.1:0", "--json", "--buffer", "4"]);
    let line = server.expect_stderr_line("\"listening\"");
    let addr: std::net::SocketAddr = events_of(&line)[0]
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let peer = UdpPeer::bind("127.0.0.1", &[]);
    peer.send_to(addr, b"too long for four");
    let warn = server
        .wait_for_stderr_line("\"truncated\"", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{}", server.diag()));
    let out = run_python(
        "import json,sys\ne=json.loads(sys.stdin.read())\nprint(e['level'], e['len'], e['buffer'])",
        &[],
        warn.as_bytes(),
    );
    assert_eq!(out.stdout_text().trim(), "warn 17 4", "{warn}");
    server.signal(libc::SIGTERM);
    assert_eq!(server.expect_exit(), 0);
}
