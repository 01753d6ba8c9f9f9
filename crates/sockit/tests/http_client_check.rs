//! `sockit http raw` (a hand-written request, the raw answer, the parser's reading) and
//! `--check` (RFC 9110/9112 findings with severity, section and byte offset; exit 3 on
//! an error), against Python's http.server and against `sockit http serve`.

mod http_common;

use http_common::*;

fn raw(port: u16, request: &[u8], extra: &[&str]) -> Output {
    let target = format!("127.0.0.1:{port}");
    let mut args = vec!["http", "raw", target.as_str()];
    args.extend_from_slice(extra);
    run_sockit(&args, request)
}

#[test]
fn raw_turns_lf_into_crlf_and_reads_the_answer() {
    let peer = PyPeer::start();
    let out = raw(peer.port, b"GET /echo HTTP/1.1\nHost: x\n\n", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout_text();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.ends_with("\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\n\r\n"),
        "{text}"
    );
    assert!(
        out.stderr.contains("response 1 at byte 0: HTTP/1.1 200 OK"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Content-Length: 31; 31 bytes, complete"),
        "{}",
        out.stderr
    );
}

#[test]
fn raw_binary_sends_bytes_unchanged() {
    let peer = PyPeer::start();
    let out = raw(peer.port, b"GET /echo HTTP/1.1\nHost: x\n\n", &["--binary"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout_text()
            .ends_with("\r\n\r\nGET /echo HTTP/1.1\nHost: x\n\n"),
        "{}",
        out.stdout_text()
    );
}

#[test]
fn raw_pipelined_requests_get_each_response_split() {
    let peer = PyPeer::start();
    let out = raw(
        peer.port,
        b"GET /status/200 HTTP/1.1\nHost: x\n\nGET /chunked HTTP/1.1\nHost: x\n\n",
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("response 2 at byte"), "{}", out.stderr);
    assert!(
        out.stderr.contains("chunked: 3 chunks, 11 bytes"),
        "{}",
        out.stderr
    );
}

#[test]
fn raw_hex_dumps_with_offsets() {
    let peer = PyPeer::start();
    let out = raw(
        peer.port,
        b"GET /status/200 HTTP/1.1\nHost: x\n\n",
        &["--hex"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout_text()
            .starts_with("00000000  48 54 54 50 2f 31 2e 31"),
        "{}",
        out.stdout_text()
    );
}

#[test]
fn raw_reports_malformed_answers_with_exit_3() {
    let peer = PyPeer::start();
    let out = raw(peer.port, b"GET /badheader HTTP/1.1\nHost: x\n\n", &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("at byte 26"), "{}", out.stderr);
    let out = raw(peer.port, b"GET /extra HTTP/1.1\nHost: x\n\n", &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("after the last expected response"),
        "{}",
        out.stderr
    );
    let out = raw(peer.port, b"GET /short HTTP/1.1\nHost: x\n\n", &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("body cut short: 10 of 20 bytes"),
        "{}",
        out.stderr
    );
}

#[test]
fn check_lists_findings_with_section_and_offset() {
    let peer = PyPeer::start();
    // The raw handlers send no Date: a warning, not an error.
    let out = run_sockit(&["http", "get", "--check", &peer.url("/chunked")], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("warning RFC 9110 §6.6.1 at byte 0: no Date"),
        "{}",
        out.stderr
    );
    let out = raw(
        peer.port,
        b"GET /badheader HTTP/1.1\nHost: x\n\n",
        &["--check"],
    );
    assert_eq!(out.code, 3);
    assert!(
        out.stderr.contains("error RFC 9110 §5.1 at byte 26"),
        "{}",
        out.stderr
    );
}

#[test]
fn check_finds_a_206_nobody_asked_for() {
    let peer = PyPeer::start();
    let out = run_sockit(&["http", "get", "--check", &peer.url("/status/206")], b"");
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("206 Partial Content to a request without Range"),
        "{}",
        out.stderr
    );
}

#[test]
fn sockit_serve_passes_its_own_check() {
    let site = Site::new();
    site.write("a.txt", "hello\n");
    let srv = site.serve(&[]);
    let out = run_sockit(
        &[
            "http",
            "get",
            "--check",
            &srv.url("/a.txt"),
            &srv.url("/missing"),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
    assert_eq!(out.stdout_text().lines().next(), Some("hello"));
    let port = srv.port;
    let out = raw(port, b"HEAD /a.txt HTTP/1.1\nHost: x\n\n", &["--check"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("none: the request was HEAD"),
        "{}",
        out.stderr
    );
}

#[test]
fn check_of_a_body_beyond_what_it_keeps_is_not_a_false_truncation() {
    let site = Site::new();
    site.write("big.bin", pseudo_random(20 << 20, 4));
    let srv = site.serve(&[]);
    let out = run_sockit(&["http", "get", "--check", &srv.url("/big.bin")], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.len(), 20 << 20);
    assert!(
        out.stderr
            .contains("only the first 16777216 bytes were checked"),
        "{}",
        out.stderr
    );
}
