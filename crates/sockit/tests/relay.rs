//! `sockit relay`: bytes through intact (checked with sha256 on both ends), half-close
//! passed through both ways, Unix-domain endpoints, stale socket files, a dead target.

mod common;

use common::*;
use std::time::Duration;

/// Starts `sockit relay LISTEN TARGET` and returns it with the address it announced.
fn relay(listen: &str, target: &str, extra: &[&str]) -> (Proc, String) {
    let mut args = vec!["relay", listen, target];
    args.extend_from_slice(extra);
    let p = Proc::sockit(&args);
    let line = p.expect_stderr_line("relaying ");
    let local = line
        .split("relaying ")
        .nth(1)
        .and_then(|rest| rest.split(" to ").next())
        .unwrap()
        .to_string();
    (p, local)
}

/// A Python TCP server that reads until the client half-closes, then answers with the
/// sha256 of what it read and the byte count, and closes.
const PY_SHA_SERVER: &str = "import socket,sys,hashlib\n\
fam=socket.AF_UNIX if sys.argv[1]=='unix' else socket.AF_INET\n\
s=socket.socket(fam); s.bind(sys.argv[2] if fam==socket.AF_UNIX else ('127.0.0.1',0)); s.listen(8)\n\
print('READY', s.getsockname() if fam==socket.AF_UNIX else s.getsockname()[1], file=sys.stderr, flush=True)\n\
while True:\n  c,_=s.accept(); h=hashlib.sha256(); n=0\n  while True:\n    d=c.recv(1<<20)\n    if not d: break\n    h.update(d); n+=len(d)\n  c.sendall(f'{h.hexdigest()} {n}\\n'.encode()); c.close()";

/// A Python client: connects, sends N pseudo-random bytes, half-closes, prints what it
/// sent (sha256, count) and what came back.
const PY_CLIENT: &str = "import socket,sys,hashlib,os\n\
fam=socket.AF_UNIX if sys.argv[1]=='unix' else socket.AF_INET\n\
c=socket.socket(fam)\n\
c.connect(sys.argv[2] if fam==socket.AF_UNIX else ('127.0.0.1',int(sys.argv[2])))\n\
n=int(sys.argv[3]); h=hashlib.sha256(); left=n; block=os.urandom(1<<20)\n\
while left>0:\n  b=block[:min(left,len(block))]; c.sendall(b); h.update(b); left-=len(b)\n\
c.shutdown(socket.SHUT_WR)\n\
back=b''\n\
while True:\n  d=c.recv(65536)\n  if not d: break\n  back+=d\n\
print('SENT', h.hexdigest(), n); print('BACK', back.decode().strip())";

fn port_of(line: &str) -> String {
    line.split_whitespace().nth(1).unwrap().to_string()
}

#[test]
fn bytes_cross_intact_and_half_close_goes_both_ways() {
    let server = Proc::python(PY_SHA_SERVER, &["tcp", "-"]);
    let port = port_of(&server.expect_stderr_line("READY"));
    let (mut r, local) = relay("tcp-listen:0", &format!("tcp:127.0.0.1:{port}"), &[]);
    let relay_port = local.rsplit(':').next().unwrap().to_string();
    // 64 MiB: far beyond every buffer on the way. The server answers only after the
    // client's half-close reached it through the relay, and the answer comes back after
    // that: both directions of the half-close are exercised.
    let out = run_python(
        PY_CLIENT,
        &["tcp", &relay_port, &(64u32 << 20).to_string()],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    let sent = text.lines().find(|l| l.starts_with("SENT")).unwrap();
    let back = text.lines().find(|l| l.starts_with("BACK")).unwrap();
    assert_eq!(
        sent.trim_start_matches("SENT "),
        back.trim_start_matches("BACK "),
        "{text}"
    );
    let closed = r.expect_stderr_line(" closed: ");
    assert!(
        closed.contains(&format!("{} bytes to the target", 64u32 << 20)),
        "{closed}"
    );
    r.signal(libc::SIGTERM);
    assert_eq!(r.expect_exit(), 0, "{}", r.diag());
}

#[test]
fn unix_endpoints_both_ways_and_the_socket_file_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let server_path = dir.path().join("server.sock");
    let relay_path = dir.path().join("relay.sock");
    let server = Proc::python(PY_SHA_SERVER, &["unix", server_path.to_str().unwrap()]);
    server.expect_stderr_line("READY");
    let (mut r, _) = relay(
        &format!("unix-listen:{}", relay_path.display()),
        &format!("unix:{}", server_path.display()),
        &[],
    );
    let out = run_python(
        PY_CLIENT,
        &["unix", relay_path.to_str().unwrap(), "100000"],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout_text().contains(" 100000\nBACK "), "{out:?}");
    r.signal(libc::SIGTERM);
    assert_eq!(r.expect_exit(), 0, "{}", r.diag());
    assert!(
        !relay_path.exists(),
        "the relay removes the socket file it created"
    );
}

#[test]
fn a_stale_socket_file_needs_unlink_and_other_files_are_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap()); // leaves the file
    let out = run_sockit(
        &[
            "relay",
            &format!("unix-listen:{}", stale.display()),
            "tcp:127.0.0.1:9",
        ],
        b"",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("stale socket file") && out.stderr.contains("--unlink"),
        "{}",
        out.stderr
    );
    let (mut r, _) = relay(
        &format!("unix-listen:{}", stale.display()),
        "tcp:127.0.0.1:9",
        &["--unlink"],
    );
    r.signal(libc::SIGTERM);
    assert_eq!(r.expect_exit(), 0, "{}", r.diag());

    let file = dir.path().join("notes.txt");
    std::fs::write(&file, b"keep me").unwrap();
    let out = run_sockit(
        &[
            "relay",
            &format!("unix-listen:{}", file.display()),
            "tcp:127.0.0.1:9",
            "--unlink",
        ],
        b"",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
}

#[test]
fn a_dead_target_closes_only_that_client_with_a_message() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (mut r, local) = relay("tcp-listen:0", &format!("tcp:127.0.0.1:{dead}"), &[]);
    let addr: std::net::SocketAddr = local.parse().unwrap();
    let c = TcpPeer::connect(addr, &[]);
    assert!(c.wait_eof(Duration::from_secs(10)), "{}", r.diag());
    r.expect_stderr_line("cannot reach tcp:127.0.0.1:");
    // Still relaying: a second client is accepted too.
    let _c2 = TcpPeer::connect(addr, &[]);
    r.signal(libc::SIGTERM);
    assert_eq!(r.expect_exit(), 0, "{}", r.diag());
}

#[test]
fn bad_endpoints_are_usage_errors() {
    for args in [
        &["relay", "tcp:80", "tcp:127.0.0.1:80"][..],
        &["relay", "tcp-listen:0", "udp:127.0.0.1:9"],
        &["relay", "tcp-listen:99999", "tcp:127.0.0.1:9"],
        &[
            "relay",
            "tcp-listen:0",
            "tcp:127.0.0.1:9",
            "--buffer",
            "99G",
        ],
    ] {
        let out = run_sockit(args, b"");
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_eq!(nonempty_lines(&out.stderr).len(), 1, "{}", out.stderr);
    }
}
