//! `sockit sockets` against `ss -tan`, `ping 127.0.0.1`, `ifaces` against `ip -j addr`,
//! `resolve` against Python's `socket.getaddrinfo`.

mod common;

use common::*;
use std::collections::BTreeSet;

/// A listener, an established pair and a TIME-WAIT socket on one port, held for a while.
const SOCKETS: &str = r#"
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', 0)); l.listen()
port = l.getsockname()[1]
a = socket.create_connection(('127.0.0.1', port)); b, _ = l.accept()
c = socket.create_connection(('127.0.0.1', port)); d, _ = l.accept()
c.close(); time.sleep(0.1); d.close()
print(port, flush=True)
sys.stdin.read()
"#;

#[test]
fn sockets_agree_with_ss() {
    if !has_cmd("ss") || !has_cmd("python3") {
        return;
    }
    let mut py = Proc::python(SOCKETS, &[]);
    assert!(py.stdout.wait_for("\n", TIMEOUT), "{}", py.diag());
    let port = py.stdout.text().trim().to_string();
    let ss = std::process::Command::new("ss")
        .args(["-tanH", &format!("( sport = :{port} or dport = :{port} )")])
        .output()
        .expect("run ss");
    let ss_rows: BTreeSet<(String, String, String)> = String::from_utf8_lossy(&ss.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 5).then(|| (f[0].to_string(), f[3].to_string(), f[4].replace('*', "0")))
        })
        .map(|(s, l, p)| {
            (
                s,
                l,
                if p == "0.0.0.0:0" || p == "0:0" {
                    "0.0.0.0:0".into()
                } else {
                    p
                },
            )
        })
        .collect();
    let out = run_sockit(&["sockets", "--tcp", "--port", &port], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    let ours: BTreeSet<(String, String, String)> = text
        .lines()
        .skip(2)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 6).then(|| (f[1].to_string(), f[4].to_string(), f[5].to_string()))
        })
        .collect();
    assert_eq!(
        ours,
        ss_rows,
        "sockit:\n{text}\nss:\n{}",
        String::from_utf8_lossy(&ss.stdout)
    );
    let states: BTreeSet<&str> = ours.iter().map(|r| r.0.as_str()).collect();
    assert!(
        states.contains("LISTEN") && states.contains("ESTAB") && states.contains("TIME-WAIT"),
        "{text}"
    );
    // TIME-WAIT shows its remaining time, at most 60 s.
    let tw = text
        .lines()
        .find(|l| l.contains("TIME-WAIT"))
        .expect("a TIME-WAIT row");
    assert!(tw.contains("timewait"), "{tw}");
    // The filter by state keeps only that state.
    let out = run_sockit(&["sockets", "--state", "time-wait", "--port", &port], b"");
    assert!(
        out.stdout_text()
            .lines()
            .skip(2)
            .all(|l| l.contains("TIME-WAIT")),
        "{out:?}"
    );
    let out = run_sockit(&["sockets", "--state", "nope"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    py.close_stdin();
}

#[test]
fn ping_loopback_gets_replies() {
    let out = run_sockit(&["ping", "-c", "2", "-i", "0.1", "127.0.0.1"], b"");
    if out.code == 1 && out.stderr.contains("needs an ICMP") {
        skip("no ICMP socket allowed here");
        return;
    }
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("bytes from 127.0.0.1"))
            .count(),
        2,
        "{text}"
    );
    assert!(
        text.contains("2 packets transmitted, 2 received, 0.0% packet loss"),
        "{text}"
    );
    assert!(text.contains("rtt min/avg/max"), "{text}");
}

#[test]
fn ifaces_agree_with_ip_addr() {
    if !has_cmd("ip") {
        return;
    }
    let ip = std::process::Command::new("ip")
        .args(["-j", "addr"])
        .output()
        .expect("ip -j addr");
    let theirs: serde_json::Value = serde_json::from_slice(&ip.stdout).expect("ip JSON");
    let out = run_sockit(&["ifaces", "--json"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let ours: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sockit JSON");
    let summary = |v: &serde_json::Value,
                   addrs_key: &str,
                   name_key: &str,
                   addr_key: &str,
                   prefix_key: &str| {
        let mut set = BTreeSet::new();
        for i in v.as_array().expect("array") {
            let name = i[name_key].as_str().unwrap_or_default().to_string();
            set.insert((name.clone(), "mtu".to_string(), i["mtu"].to_string()));
            for a in i[addrs_key].as_array().into_iter().flatten() {
                set.insert((
                    name.clone(),
                    a[addr_key].as_str().unwrap_or_default().to_string(),
                    format!(
                        "{}/{}",
                        a[prefix_key],
                        a["broadcast"].as_str().unwrap_or("-")
                    ),
                ));
            }
        }
        set
    };
    let a = summary(&ours, "addrs", "name", "addr", "prefix");
    let b = summary(&theirs, "addr_info", "ifname", "local", "prefixlen");
    assert_eq!(a, b);
}

const GAI: &str = r#"
import socket, sys
for fam, ty, proto, canon, sa in socket.getaddrinfo(sys.argv[1], None):
    print({socket.AF_INET: 'inet', socket.AF_INET6: 'inet6'}[fam],
          {socket.SOCK_STREAM: 'stream', socket.SOCK_DGRAM: 'dgram', socket.SOCK_RAW: 'raw'}[ty], sa[0])
"#;

#[test]
fn resolve_agrees_with_getaddrinfo() {
    if !has_cmd("python3") {
        return;
    }
    for name in ["localhost", "127.0.0.1", "::1"] {
        let py = run_python(GAI, &[name], b"");
        assert_eq!(py.code, 0, "{py:?}");
        let theirs: Vec<String> = py.stdout_text().lines().map(str::to_string).collect();
        let out = run_sockit(&["resolve", name], b"");
        assert_eq!(out.code, 0, "{out:?}");
        let ours: Vec<String> = out
            .stdout_text()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                format!("{} {} {}", f[0], f[1], f[3])
            })
            .collect();
        assert_eq!(ours, theirs, "{name}");
    }
    let out = run_sockit(&["resolve", "no-such-host.invalid"], b"");
    assert_eq!(out.code, 1, "{out:?}");
}
