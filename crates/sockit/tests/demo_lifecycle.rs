//! `sockit demo handshake` and `sockit demo reuseaddr`: their conclusion lines, checked
//! against what `ss` shows afterwards (TIME-WAIT lasts 60 s, so it is still there).

mod common;

use common::*;

/// The TIME-WAIT sockets `ss` lists whose local address is `local`.
fn ss_time_wait(local: &str) -> usize {
    let out = std::process::Command::new("ss")
        .args(["-tanH", "state", "time-wait"])
        .output()
        .expect("run ss");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.split_whitespace().any(|f| f == local))
        .count()
}

#[test]
fn demo_handshake_leaves_time_wait_on_the_client() {
    if !has_cmd("ss") {
        return;
    }
    let out = run_sockit(&["demo", "handshake"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    let line = text
        .lines()
        .find(|l| l.starts_with("conclusion: the client "))
        .unwrap_or_else(|| panic!("no conclusion:\n{text}"));
    assert!(line.contains("left in TIME-WAIT"), "{line}");
    let client = line.split_whitespace().nth(3).expect("client address");
    assert!(
        ss_time_wait(client) >= 1,
        "ss shows no TIME-WAIT for {client}\n{text}"
    );
    assert!(
        text.contains("ESTAB") && text.contains("CLOSE-WAIT") && text.contains("FIN-WAIT-2"),
        "{text}"
    );
    if is_root() {
        assert!(
            text.contains("handshake 1/3") && text.contains("close 4/4"),
            "{text}"
        );
    }
}

#[test]
fn demo_reuseaddr_fails_without_and_binds_with() {
    if !has_cmd("ss") {
        return;
    }
    let out = run_sockit(&["demo", "reuseaddr"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    let line = text
        .lines()
        .find(|l| l.starts_with("conclusion: port "))
        .unwrap_or_else(|| panic!("no conclusion:\n{text}"));
    assert!(
        line.contains("EADDRINUSE without SO_REUSEADDR, bind succeeded with it"),
        "{line}"
    );
    let port = line.split_whitespace().nth(2).expect("port");
    assert!(ss_time_wait(&format!("127.0.0.1:{port}")) >= 1, "{text}");
}
