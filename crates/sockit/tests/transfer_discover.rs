//! Finding a receiver by UDP broadcast: on loopback (127.255.255.255, never a real
//! interface's broadcast address) and across a veth pair between two network namespaces
//! the test creates. Answers are never bigger than the query and are rate-limited.

mod common;

use common::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

fn discoverable(dir: &std::path::Path, name: &str, dport: u16) -> Proc {
    let d = dir.to_str().unwrap();
    let dp = dport.to_string();
    let p = Proc::sockit_with_stdin(
        &[
            "recv",
            "--dir",
            d,
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--once",
            "--yes",
            "--discoverable",
            "--name",
            name,
            "--discovery-port",
            &dp,
        ],
        std::process::Stdio::null(),
    );
    p.listening_addr("tcp");
    wait_udp_bound(dport);
    p
}

#[test]
fn a_receiver_is_found_on_loopback_broadcast_by_name() {
    let src = tempfile::tempdir().unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let f = src.path().join("found.txt");
    std::fs::write(&f, b"found by broadcast").unwrap();
    let dport = free_udp_port();
    let mut alpha = discoverable(a.path(), "alpha", dport);
    let mut beta = discoverable(b.path(), "beta", dport);
    let dp = dport.to_string();
    let fs = f.to_str().unwrap();
    let base = [
        "send",
        fs,
        "--discover",
        "--broadcast",
        "127.255.255.255",
        "--discovery-port",
        &dp,
    ];

    // Two answer: without --name the sender will not guess.
    let out = run_sockit(&base, b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("several receivers answered"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("alpha") && out.stderr.contains("beta"),
        "{}",
        out.stderr
    );

    let mut args = base.to_vec();
    args.extend_from_slice(&["--name", "beta"]);
    let out = run_sockit(&args, b"");
    assert_eq!(out.code, 0, "{out:?}\n{}", beta.diag());
    assert_eq!(beta.expect_exit(), 0);
    assert_eq!(
        std::fs::read(b.path().join("found.txt")).unwrap(),
        b"found by broadcast"
    );
    assert!(!a.path().join("found.txt").exists());
    alpha.kill();
}

/// A Python client: sends `count` datagrams of `size` bytes (a query padded, or cut
/// short) to 127.255.255.255:PORT and prints the size of each answer.
const PROBE: &str = r#"
import os, socket, struct, sys, time
port, size, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(('127.0.0.1', 0))
q = (struct.pack('!4sBBH16s', b'SKDQ', 1, 0, 0, os.urandom(16)) + bytes(128))[:size]
for _ in range(count):
    s.sendto(q, ('127.255.255.255', port))
s.settimeout(1.0)
try:
    while True:
        d, a = s.recvfrom(4096)
        print('ANSWER', len(d), flush=True)
except socket.timeout:
    pass
print('DONE', flush=True)
"#;

#[test]
fn answers_are_no_bigger_than_queries_and_rate_limited() {
    if !has_cmd("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dport = free_udp_port();
    let long_name = "n".repeat(64);
    let mut r = discoverable(dir.path(), &long_name, dport);
    let dp = dport.to_string();
    // A short query gets nothing (an answer could be bigger than it).
    let out = run_python(PROBE, &[&dp, "60", "3"], b"");
    assert!(
        !out.stdout_text().contains("ANSWER"),
        "{}",
        out.stdout_text()
    );
    // A flood of full queries gets a few answers, each no bigger than the query.
    let out = run_python(PROBE, &[&dp, "128", "100"], b"");
    let sizes: Vec<usize> = out
        .stdout_text()
        .lines()
        .filter_map(|l| l.strip_prefix("ANSWER ").and_then(|n| n.parse().ok()))
        .collect();
    assert!(!sizes.is_empty(), "no answer at all: {}", r.diag());
    assert!(sizes.len() <= 6, "{} answers to 100 queries", sizes.len());
    assert!(sizes.iter().all(|&n| n <= 128), "{sizes:?}");
    r.kill();
}

static NEXT: AtomicU32 = AtomicU32::new(0);

#[test]
fn a_receiver_is_found_across_a_veth_link_between_namespaces() {
    let pid = std::process::id();
    let k = NEXT.fetch_add(1, Ordering::SeqCst);
    let subnet = (pid + 77) % 200 + 20;
    let pair = (|| -> Result<(NetNs, NetNs), String> {
        let a = NetNs::create(&format!("tx{k}a"))?;
        let b = NetNs::create(&format!("tx{k}b"))?;
        let (va, vb) = (
            format!("sxf{}{k}a", pid % 100_000),
            format!("sxf{}{k}b", pid % 100_000),
        );
        run_ip(&[
            "link", "add", &va, "netns", &a.name, "type", "veth", "peer", "name", &vb, "netns",
            &b.name,
        ])?;
        run_ip(&[
            "-n",
            &a.name,
            "addr",
            "add",
            &format!("10.201.{subnet}.1/24"),
            "brd",
            "+",
            "dev",
            &va,
        ])?;
        run_ip(&[
            "-n",
            &b.name,
            "addr",
            "add",
            &format!("10.201.{subnet}.2/24"),
            "brd",
            "+",
            "dev",
            &vb,
        ])?;
        run_ip(&["-n", &a.name, "link", "set", &va, "up"])?;
        run_ip(&["-n", &b.name, "link", "set", &vb, "up"])?;
        Ok((a, b))
    })();
    let (a, b) = match pair {
        Ok(p) => p,
        Err(why) => {
            skip(&format!("cannot build a network-namespace pair: {why}"));
            return;
        }
    };
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let f = src.path().join("across.txt");
    std::fs::write(&f, b"across the veth link").unwrap();
    // Inside namespace b, which the test created, listening on every address is fine.
    let mut r = b.exec(
        sockit_bin(),
        &[
            "recv",
            "--dir",
            out.path().to_str().unwrap(),
            "--bind",
            "0.0.0.0",
            "--port",
            "0",
            "--once",
            "--yes",
            "--discoverable",
            "--name",
            "far",
        ],
    );
    r.listening_addr("tcp");
    // No --broadcast: every interface's broadcast address (here only the veth's, and
    // loopback's 127.255.255.255). The fresh link may drop the first datagrams: retry.
    let mut sent = false;
    for _ in 0..5 {
        let s = run_proc(
            a.exec(
                sockit_bin(),
                &[
                    "send",
                    f.to_str().unwrap(),
                    "--discover",
                    "--name",
                    "far",
                    "--discover-wait",
                    "1",
                ],
            ),
            b"",
            TIMEOUT,
        );
        if s.code == 0 {
            assert!(
                s.stderr
                    .contains(&format!("found far at 10.201.{subnet}.2:")),
                "{}",
                s.stderr
            );
            sent = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(sent, "never found across the link\n{}", r.diag());
    assert_eq!(r.expect_exit(), 0, "{}", r.diag());
    assert_eq!(
        std::fs::read(out.path().join("across.txt")).unwrap(),
        b"across the veth link"
    );
}
