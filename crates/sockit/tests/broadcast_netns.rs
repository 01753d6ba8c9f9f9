//! UDP broadcast across a real link: two network namespaces joined by a veth pair, created
//! by the test itself (root and `ip netns` required, else skipped with a printed reason).
//! Addresses 10.200.X.1/24 and 10.200.X.2/24 exist only inside the namespaces; the sender
//! broadcasts to 10.200.X.255 from one namespace, the receiver listens in the other. The
//! namespaces are always deleted (Drop guard), even when the test fails.

mod common;

use common::*;
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A pair of namespaces `a`/`b` (common's [`NetNs`], deleted on Drop) linked by veth, with
/// 10.200.X.1 in `a` and .2 in `b`. Deleting a namespace deletes the veth end inside it
/// (and so its peer).
struct NsPair {
    a: NetNs,
    b: NetNs,
    subnet: u32,
}

impl NsPair {
    /// Creates the pair, or returns why it cannot (then the test skips).
    fn create() -> Result<NsPair, String> {
        let pid = std::process::id();
        let k = NEXT.fetch_add(1, Ordering::SeqCst);
        let subnet = (pid + k * 37) % 200 + 20;
        // From here on, Drop cleans up whatever exists.
        let pair = NsPair {
            a: NetNs::create(&format!("{k}-a"))?,
            b: NetNs::create(&format!("{k}-b"))?,
            subnet,
        };
        let (a, b) = (pair.a.name.as_str(), pair.b.name.as_str());
        let va = format!("skt{}{k}a", pid % 100_000);
        let vb = format!("skt{}{k}b", pid % 100_000);
        run_ip(&[
            "link", "add", &va, "netns", a, "type", "veth", "peer", "name", &vb, "netns", b,
        ])?;
        let ca = format!("10.200.{subnet}.1/24");
        let cb = format!("10.200.{subnet}.2/24");
        run_ip(&["-n", a, "addr", "add", &ca, "brd", "+", "dev", &va])?;
        run_ip(&["-n", b, "addr", "add", &cb, "brd", "+", "dev", &vb])?;
        for (ns, dev) in [(a, &va), (b, &vb)] {
            run_ip(&["-n", ns, "link", "set", dev, "up"])?;
        }
        Ok(pair)
    }

    fn addr_a(&self) -> String {
        format!("10.200.{}.1", self.subnet)
    }

    fn broadcast(&self) -> String {
        format!("10.200.{}.255", self.subnet)
    }
}

/// Runs `sockit udp send --broadcast TARGET MSG` in namespace `ns` until `arrived()` holds
/// (up to 10 tries, one second apart); each send must exit 0.
fn send_until(ns: &NetNs, target: &str, msg: &str, arrived: impl Fn() -> bool) {
    for _ in 0..10 {
        let out = run_proc(
            ns.exec(sockit_bin(), &["udp", "send", "--broadcast", target, msg]),
            b"",
            TIMEOUT,
        );
        assert_eq!(out.code, 0, "{out:?}");
        if wait_cond(std::time::Duration::from_secs(1), &arrived) {
            return;
        }
    }
    panic!("the broadcast {msg:?} to {target} never arrived");
}

fn setup() -> Option<NsPair> {
    match NsPair::create() {
        Ok(p) => Some(p),
        Err(why) => {
            skip(&format!("cannot build a network-namespace pair: {why}"));
            None
        }
    }
}

#[test]
fn broadcast_crosses_a_veth_link_between_namespaces() {
    let Some(ns) = setup() else { return };
    let bin = sockit_bin();
    let server = ns.b.exec(bin, &["udp", "listen", "0.0.0.0:0"]);
    let port = server.listening_addr("udp").port();
    let target = format!("{}:{port}", ns.broadcast());
    // UDP may lose the first datagram while the fresh veth link comes up: retry a few times.
    send_until(&ns.a, &target, "across the link", || {
        server.stdout.text().contains("] across the link\n")
    });
    assert!(
        server
            .stdout
            .text()
            .starts_with(&format!("[{}:", ns.addr_a())),
        "{}",
        server.diag()
    );
}

#[test]
fn broadcast_from_namespace_reaches_a_python_receiver_in_the_other() {
    let Some(ns) = setup() else { return };
    let mut args = vec!["-u", "-c", PY_UDP_PEER, "0.0.0.0", "0"];
    args.push("--broadcast");
    let rx = ns.b.exec("python3", &args);
    let line = rx.expect_stderr_line("PEER: LISTENING");
    let port = line.rsplit(':').next().unwrap().trim().to_string();
    let target = format!("{}:{port}", ns.broadcast());
    send_until(&ns.a, &target, "to python", || {
        rx.stdout.text().contains(&hex(b"to python"))
    });
    assert!(
        rx.stdout.text().contains(&format!("FROM {}:", ns.addr_a())),
        "{}",
        rx.diag()
    );
}

#[test]
fn python_broadcast_from_namespace_reaches_sockit_listen_in_the_other() {
    let Some(ns) = setup() else { return };
    let server = ns.b.exec(sockit_bin(), &["udp", "listen", "0.0.0.0:0"]);
    let port = server.listening_addr("udp").port();
    let tx = ns.a.exec(
        "python3",
        &["-u", "-c", PY_UDP_PEER, "0.0.0.0", "0", "--broadcast"],
    );
    tx.expect_stderr_line("PEER: LISTENING");
    let got = (0..10).any(|_| {
        tx.write(format!(
            "sendto {} {port} {}\n",
            ns.broadcast(),
            hex(b"from python")
        ));
        server
            .stdout
            .wait_for("] from python\n", std::time::Duration::from_secs(1))
    });
    assert!(
        got,
        "sockit never received the broadcast\n{}\n{}",
        server.diag(),
        tx.diag()
    );
    assert!(
        server
            .stdout
            .text()
            .starts_with(&format!("[{}:", ns.addr_a())),
        "{}",
        server.diag()
    );
}
