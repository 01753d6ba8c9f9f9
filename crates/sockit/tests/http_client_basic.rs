//! `sockit http get|request` against Python's http.server: bodies by length, chunked and
//! close; headers sent as typed; keep-alive reuse; redirects; --fail; downloads; and
//! exit 3 naming the byte offset for every kind of malformed or truncated response.

mod http_common;

use http_common::*;

fn ok(out: &Output) -> String {
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_no_panic(&out.stderr);
    out.stdout_text()
}

#[test]
fn get_writes_the_body_to_stdout() {
    let peer = PyPeer::start();
    let out = run_sockit(&["http", "get", &peer.url("/status/200")], b"");
    assert_eq!(ok(&out), "status 200");
}

#[test]
fn headers_are_sent_as_typed_and_replace_defaults() {
    let peer = PyPeer::start();
    let out = run_sockit(
        &[
            "http",
            "get",
            &peer.url("/echo"),
            "-H",
            "x-Lower:  two  spaces",
            "-H",
            "USER-AGENT: me",
            "-H",
            "X-Dup: 1",
            "-H",
            "X-Dup: 2",
            "-H",
            "Accept:",
        ],
        b"",
    );
    let got = ok(&out);
    let want = format!(
        "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nx-Lower:  two  spaces\r\nUSER-AGENT: me\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n",
        peer.port
    );
    assert_eq!(got, want);
}

#[test]
fn path_is_normalised_unless_path_as_is() {
    let peer = PyPeer::start();
    let out = run_sockit(&["http", "get", &peer.url("/x/../echo/./a")], b"");
    assert!(ok(&out).starts_with("GET /echo/a HTTP/1.1\r\n"));
    let out = run_sockit(
        &["http", "get", "--path-as-is", &peer.url("/echo/../echo")],
        b"",
    );
    assert!(ok(&out).starts_with("GET /echo/../echo HTTP/1.1\r\n"));
}

#[test]
fn verbose_request_view_is_the_bytes_the_server_received() {
    let peer = PyPeer::start();
    let out = run_sockit(
        &["http", "get", "-v", &peer.url("/echo"), "-H", "X-A: b"],
        b"",
    );
    let received = ok(&out);
    // Rebuild the request from the "> " lines: each shows its \r\n visibly.
    let shown: String = out
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("> "))
        .map(|l| l.replace("\\r", "\r").replace("\\n", "\n"))
        .collect();
    assert_eq!(shown, received, "stderr:\n{}", out.stderr);
    assert!(
        out.stderr.contains("< HTTP/1.1 200 OK\\r\\n"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("(new connection)"), "{}", out.stderr);
}

#[test]
fn several_urls_reuse_one_kept_alive_connection() {
    let peer = PyPeer::start();
    let out = run_sockit(
        &[
            "http",
            "get",
            "-i",
            "-v",
            &peer.url("/status/200"),
            &peer.url("/chunked"),
            &peer.url("/status/201"),
        ],
        b"",
    );
    let text = ok(&out);
    let conns: Vec<&str> = text.lines().filter(|l| l.starts_with("X-Conn")).collect();
    assert_eq!(conns.len(), 3, "{text}");
    assert!(conns.iter().all(|c| *c == conns[0]), "{conns:?}");
    assert_eq!(
        out.stderr.matches("* reusing connection").count(),
        2,
        "{}",
        out.stderr
    );
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let peer = PyPeer::start();
    let out = run_sockit(&["http", "get", "-v", &peer.url("/chunked")], b"");
    assert_eq!(ok(&out), "hello world");
    assert!(out.stderr.contains("* trailers:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("< X-Trailer: yes\\r\\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn body_until_close_and_no_body_statuses() {
    let peer = PyPeer::start();
    assert_eq!(
        ok(&run_sockit(&["http", "get", &peer.url("/close")], b"")),
        "until close"
    );
    assert_eq!(
        ok(&run_sockit(&["http", "get", &peer.url("/nocontent")], b"")),
        ""
    );
    let out = run_sockit(&["http", "get", "-I", &peer.url("/status/200")], b"");
    let text = ok(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "{text}");
}

#[test]
fn early_hints_are_shown_and_not_taken_for_the_answer() {
    let peer = PyPeer::start();
    let out = run_sockit(&["http", "get", "-v", "-i", &peer.url("/early")], b"");
    let text = ok(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("ok"), "{text}");
    assert!(
        out.stderr.contains("< HTTP/1.1 103 Early Hints\\r\\n"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("interim response"), "{}", out.stderr);
}

fn expect_malformed(path: &str, what: &str, offset: Option<u64>) {
    let peer = PyPeer::start();
    let out = run_sockit(&["http", "get", &peer.url(path)], b"");
    assert_eq!(out.code, 3, "{path}: stderr {}", out.stderr);
    assert_no_panic(&out.stderr);
    assert!(out.stderr.contains(what), "{path}: {}", out.stderr);
    if let Some(at) = offset {
        let needle = format!("at byte {at} of the response");
        assert!(
            out.stderr.contains(&needle),
            "{path}: want {needle}: {}",
            out.stderr
        );
    }
}

#[test]
fn body_shorter_than_content_length_exits_3() {
    // Head is 39 bytes, then 10 of 20 body bytes: the body stops at byte 49.
    expect_malformed("/short", "body cut short: 10 of 20 bytes", Some(49));
}

#[test]
fn chunked_body_cut_mid_chunk_exits_3() {
    expect_malformed("/midchunk", "5 bytes of it missing", None);
}

#[test]
fn bad_chunk_size_exits_3_with_offset() {
    // Head 47 bytes; "5\r\nhello\r\n" is 10 more: the bad line starts at 57.
    expect_malformed("/badchunk", "bad chunk size", Some(57));
}

#[test]
fn extra_bytes_after_a_response_exit_3() {
    expect_malformed(
        "/extra",
        "5 extra bytes after a complete response",
        Some(43),
    );
}

#[test]
fn bad_status_line_and_bad_header_exit_3() {
    expect_malformed("/badstatus", "bad status line", Some(0));
    expect_malformed("/badheader", "invalid character in header name", Some(26));
}

#[test]
fn empty_reply_exits_3() {
    expect_malformed("/empty", "empty reply", Some(0));
}

#[test]
fn fail_turns_an_error_status_into_exit_4() {
    let peer = PyPeer::start();
    let out = run_sockit(&["http", "get", "--fail", &peer.url("/status/500")], b"");
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("HTTP error 500"), "{}", out.stderr);
    let out = run_sockit(
        &["http", "get", "--fail-with-body", &peer.url("/status/404")],
        b"",
    );
    assert_eq!(out.code, 4);
    assert_eq!(out.stdout_text(), "status 404");
    let out = run_sockit(&["http", "get", &peer.url("/status/404")], b"");
    assert_eq!(out.code, 0, "no --fail: an error status is still an answer");
}

#[test]
fn request_sends_any_method_and_bodies() {
    let peer = PyPeer::start();
    let out = run_sockit(&["http", "request", "PURGE", &peer.url("/method")], b"");
    assert_eq!(ok(&out), "PURGE /method ");
    let out = run_sockit(&["http", "get", "-d", "a=1", &peer.url("/method")], b"");
    assert_eq!(ok(&out), "POST /method a=1");
    let out = run_sockit(
        &["http", "get", "--json", "{\"k\":1}", &peer.url("/echo")],
        b"",
    );
    let text = ok(&out);
    assert!(
        text.contains("Content-Type: application/json\r\n"),
        "{text}"
    );
    assert!(text.contains("Accept: application/json\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n{\"k\":1}"), "{text}");
}

#[test]
fn data_file_is_streamed_with_its_length() {
    let peer = PyPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = pseudo_random(1 << 20, 7);
    let path = dir.path().join("up.bin");
    std::fs::write(&path, &data).unwrap();
    let out = run_sockit(
        &[
            "http",
            "request",
            "PUT",
            "--data-file",
            path.to_str().unwrap(),
            &peer.url("/echo"),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let head_end = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap()
        + 4;
    let head = String::from_utf8_lossy(&out.stdout[..head_end]);
    assert!(head.starts_with("PUT /echo HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("Content-Length: 1048576\r\n"), "{head}");
    assert_eq!(&out.stdout[head_end..], &data[..]);
}

#[test]
fn redirects_follow_the_method_rules() {
    let peer = PyPeer::start();
    let out = run_sockit(
        &[
            "http",
            "get",
            "-L",
            "-d",
            "x",
            &peer.url("/redir/303/method"),
        ],
        b"",
    );
    assert_eq!(ok(&out), "GET /method ");
    let out = run_sockit(
        &[
            "http",
            "get",
            "-L",
            "-d",
            "x",
            &peer.url("/redir/307/method"),
        ],
        b"",
    );
    assert_eq!(ok(&out), "POST /method x");
    let out = run_sockit(
        &[
            "http",
            "get",
            "-L",
            "-d",
            "x",
            &peer.url("/redir/308/method"),
        ],
        b"",
    );
    assert_eq!(ok(&out), "POST /method x");
    let out = run_sockit(&["http", "get", &peer.url("/redir/301/method")], b"");
    assert_eq!(ok(&out), "moved", "without -L the redirect is the answer");
}

#[test]
fn redirect_loops_and_limits_fail() {
    let peer = PyPeer::start();
    let out = run_sockit(&["http", "get", "-L", &peer.url("/loop")], b"");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("redirect loop"), "{}", out.stderr);
    let out = run_sockit(
        &[
            "http",
            "get",
            "-L",
            "--max-redirs",
            "1",
            &peer.url("/redir/302/redir/302/status/200"),
        ],
        b"",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("more than 1 redirects"),
        "{}",
        out.stderr
    );
}

#[test]
fn credentials_are_dropped_when_a_redirect_changes_host() {
    let peer = PyPeer::start();
    let out = run_sockit(&["http", "get", "-u", "al:pw", &peer.url("/auth")], b"");
    assert_eq!(ok(&out), "Basic YWw6cHc=");
    let out = run_sockit(
        &["http", "get", "-L", "-u", "al:pw", &peer.url("/away")],
        b"",
    );
    assert_eq!(ok(&out), "none");
}

#[test]
fn download_goes_through_a_temp_file_and_never_clobbers() {
    let peer = PyPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = run_sockit_in(dir.path(), &["http", "get", "-O", &peer.url("/status/200")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("200")).unwrap(),
        "status 200"
    );
    let out = run_sockit_in(dir.path(), &["http", "get", "-O", &peer.url("/status/200")]);
    assert_eq!(
        out.code, 2,
        "an existing file is not replaced: {}",
        out.stderr
    );
    let out = run_sockit_in(
        dir.path(),
        &["http", "get", "-O", "--clobber", &peer.url("/status/200")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run_sockit_in(
        dir.path(),
        &["http", "get", "-o", "cut.bin", &peer.url("/short")],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("200")],
        "no file, not even a temp one, after a cut body"
    );
}

#[test]
fn remote_names_are_sanitised() {
    let peer = PyPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = run_sockit_in(
        dir.path(),
        &["http", "get", "-O", &peer.url("/echo/..%2F..%2Fevil%0a")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["evil".to_string()]);
}

#[test]
fn usage_and_network_errors_have_their_codes() {
    let out = run_sockit(&["http", "get", "ftp://x/"], b"");
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = run_sockit(
        &["http", "get", "-H", "bad header", "http://127.0.0.1:1/"],
        b"",
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    let port = free_tcp_port();
    let out = run_sockit(&["http", "get", &format!("http://127.0.0.1:{port}/")], b"");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("refused"), "{}", out.stderr);
}

#[test]
fn timeout_bounds_a_slow_body() {
    let peer = PyPeer::start();
    let out = run_sockit(
        &["http", "get", "--timeout", "0.5", &peer.url("/slow")],
        b"",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
}

#[test]
fn resolve_and_http10() {
    let peer = PyPeer::start();
    let url = format!("http://example.invalid:{}/echo", peer.port);
    let pin = format!("example.invalid:{}:127.0.0.1", peer.port);
    let out = run_sockit(&["http", "get", "--resolve", &pin, "--http1.0", &url], b"");
    let text = ok(&out);
    assert!(text.starts_with("GET /echo HTTP/1.0\r\n"), "{text}");
    assert!(
        text.contains(&format!("Host: example.invalid:{}\r\n", peer.port)),
        "{text}"
    );
}

#[test]
fn trace_and_timing_report_the_exchange() {
    let peer = PyPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.txt");
    let out = run_sockit(
        &[
            "http",
            "get",
            "--timing",
            "--trace",
            trace.to_str().unwrap(),
            &peer.url("/status/200"),
        ],
        b"",
    );
    assert_eq!(ok(&out), "status 200");
    assert!(out.stderr.contains("sockit: timing "), "{}", out.stderr);
    assert!(out.stderr.contains("first byte"), "{}", out.stderr);
    let t = std::fs::read_to_string(&trace).unwrap();
    assert!(t.contains("=> sent"), "{t}");
    assert!(t.contains("<= received"), "{t}");
    assert!(t.contains("00000000  47 45 54 20 2f 73"), "{t}");
}
