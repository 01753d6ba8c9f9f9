//! The client's upload and decoding paths: -T with Expect: 100-continue (and a server
//! that refuses before the body), --compressed (gzip, zlib and raw deflate), --urls FILE.

mod http_common;

use http_common::*;

#[test]
fn compressed_bodies_are_decoded_and_the_wire_keeps_them_encoded() {
    let peer = PyPeer::start();
    for (path, text) in [
        ("/gzip", "hello gzip "),
        ("/deflate", "hello zlib "),
        ("/rawdeflate", "hello raw "),
    ] {
        let out = run_sockit(&["http", "get", "--compressed", &peer.url(path)], b"");
        assert_eq!(out.code, 0, "{path}: {}", out.stderr);
        assert_eq!(out.stdout_text(), text.repeat(20), "{path}");
    }
    // br: a hand-made stream with one uncompressed meta-block (no encoder here).
    let out = run_sockit(&["http", "get", "--compressed", &peer.url("/br")], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout_text(), "hello");
    let out = run_sockit(&["http", "get", &peer.url("/gzip")], b"");
    assert_eq!(
        &out.stdout[..2],
        &[0x1f, 0x8b],
        "without --compressed the body is as sent"
    );
    let out = run_sockit(
        &["http", "get", "-v", "--compressed", &peer.url("/echo")],
        b"",
    );
    assert!(
        out.stdout_text()
            .contains("Accept-Encoding: gzip, deflate, br\r\n"),
        "{}",
        out.stdout_text()
    );
}

#[test]
fn upload_file_waits_for_100_continue() {
    let peer = PyPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("up.bin");
    let data = pseudo_random(300_000, 3);
    std::fs::write(&path, &data).unwrap();
    let out = run_sockit(
        &[
            "http",
            "get",
            "-v",
            "-T",
            path.to_str().unwrap(),
            &peer.url("/echo"),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("> Expect: 100-continue\\r\\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("< HTTP/1.0 100 Continue\\r\\n")
            || out.stderr.contains("< HTTP/1.1 100 Continue\\r\\n"),
        "{}",
        out.stderr
    );
    let head_end = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap()
        + 4;
    assert!(out.stdout.starts_with(b"PUT /echo HTTP/1.1\r\n"));
    assert_eq!(&out.stdout[head_end..], &data[..]);
}

#[test]
fn a_refusal_before_the_body_saves_the_upload() {
    let peer = PyPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    std::fs::write(&path, vec![b'x'; 4 << 20]).unwrap();
    let out = run_sockit(
        &[
            "http",
            "get",
            "-v",
            "--fail",
            "-T",
            path.to_str().unwrap(),
            &peer.url("/refuse"),
        ],
        b"",
    );
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("HTTP error 413"), "{}", out.stderr);
}

#[test]
fn urls_file_shares_one_connection() {
    let peer = PyPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    std::fs::write(
        &list,
        format!(
            "# two more\n{}\n\n{}\n",
            peer.url("/status/201"),
            peer.url("/status/202")
        ),
    )
    .unwrap();
    let out = run_sockit(
        &[
            "http",
            "get",
            "-v",
            &peer.url("/status/200"),
            "--urls",
            list.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout_text(), "status 200status 201status 202");
    assert_eq!(
        out.stderr.matches("* reusing connection").count(),
        2,
        "{}",
        out.stderr
    );
}

#[test]
fn options_star_and_custom_targets_go_verbatim() {
    let site = Site::new();
    let srv = site.serve(&[]);
    let out = run_sockit(
        &[
            "http",
            "request",
            "OPTIONS",
            "-i",
            "--request-target",
            "*",
            &srv.url("/"),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout_text().contains("Allow: "),
        "{}",
        out.stdout_text()
    );
    let peer = PyPeer::start();
    let out = run_sockit(
        &[
            "http",
            "get",
            "--request-target",
            "/echo?x=/../y",
            &peer.url("/ignored"),
        ],
        b"",
    );
    assert!(
        out.stdout_text()
            .starts_with("GET /echo?x=/../y HTTP/1.1\r\n"),
        "{}",
        out.stdout_text()
    );
    let out = run_sockit(&["http", "request", "OPTIONS", "*"], b"");
    assert_eq!(out.code, 2, "{}", out.stderr);
}

fn set_validator(part: &std::path::Path, v: &str) -> bool {
    rustix::fs::setxattr(
        part,
        "user.sockit.validator",
        v.as_bytes(),
        rustix::fs::XattrFlags::empty(),
    )
    .is_ok()
}

#[test]
fn continue_appends_only_a_matching_206() {
    let site = Site::new();
    let data = pseudo_random(1 << 20, 9);
    site.write("big.bin", &data);
    let srv = site.serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let head = run_sockit(&["http", "get", "-I", &srv.url("/big.bin")], b"");
    let etag = head
        .stdout_text()
        .lines()
        .find_map(|l| l.strip_prefix("ETag: ").map(str::to_string))
        .expect("ETag");
    let part = dir.path().join(".big.bin.part");
    std::fs::write(&part, &data[..300_000]).unwrap();
    if !set_validator(&part, &etag) {
        skip("no user xattrs on the temp folder's file system");
        return;
    }
    let out = run_sockit_in(
        dir.path(),
        &[
            "http",
            "get",
            "-v",
            "-C",
            "-o",
            "big.bin",
            &srv.url("/big.bin"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("> Range: bytes=300000-\\r\\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("< HTTP/1.1 206 Partial Content\\r\\n"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(dir.path().join("big.bin")).unwrap(), data);
    assert!(!part.exists());

    // A validator that no longer matches: the server sends 200 and the file restarts.
    std::fs::remove_file(dir.path().join("big.bin")).unwrap();
    std::fs::write(&part, b"stale prefix").unwrap();
    assert!(set_validator(&part, "\"changed\""));
    let out = run_sockit_in(
        dir.path(),
        &[
            "http",
            "get",
            "-v",
            "-C",
            "-o",
            "big.bin",
            &srv.url("/big.bin"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("< HTTP/1.1 200 OK\\r\\n"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(dir.path().join("big.bin")).unwrap(), data);
}

#[test]
fn continue_keeps_the_prefix_of_a_cut_download() {
    let peer = PyPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = run_sockit_in(
        dir.path(),
        &["http", "get", "-C", "-o", "cut.bin", &peer.url("/short")],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        !dir.path().join("cut.bin").exists(),
        "never a complete-looking file"
    );
    assert_eq!(
        std::fs::read(dir.path().join(".cut.bin.part")).unwrap(),
        b"0123456789"
    );
    let out = run_sockit(&["http", "get", "-C", &peer.url("/short")], b"");
    assert_eq!(out.code, 2, "-C needs -o or -O: {}", out.stderr);
}

#[test]
fn pipeline_sends_ahead_and_answers_stay_in_order() {
    let site = Site::new();
    for i in 0..50 {
        site.write(&format!("f{i}.txt"), format!("<{i}>"));
    }
    let srv = site.serve(&[]);
    let urls: Vec<String> = (0..50).map(|i| srv.url(&format!("/f{i}.txt"))).collect();
    let mut args = vec!["http", "get", "-v", "--pipeline", "8"];
    args.extend(urls.iter().map(String::as_str));
    let out = run_sockit(&args, b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let want: String = (0..50).map(|i| format!("<{i}>")).collect();
    assert_eq!(out.stdout_text(), want);
    assert_eq!(
        out.stderr.matches("(new connection)").count(),
        1,
        "{}",
        out.stderr
    );
    let out = run_sockit(
        &["http", "get", "--pipeline", "4", "-L", &srv.url("/")],
        b"",
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn pipeline_replays_what_a_closing_server_left_unanswered() {
    // Python's http.server answers /close with Connection: close: the requests sent
    // behind it are replayed on a new connection.
    let peer = PyPeer::start();
    let out = run_sockit(
        &[
            "http",
            "get",
            "--pipeline",
            "4",
            &peer.url("/status/200"),
            &peer.url("/close"),
            &peer.url("/status/201"),
            &peer.url("/status/202"),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout_text(),
        "status 200until closestatus 201status 202"
    );
}

#[test]
fn form_fields_and_files_go_as_multipart() {
    let peer = PyPeer::start();
    let out = run_sockit(
        &[
            "http",
            "get",
            "-F",
            "a=1",
            "-F",
            "q\"x=two",
            &peer.url("/echo"),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout_text();
    assert!(text.starts_with("POST /echo HTTP/1.1\r\n"), "{text}");
    let boundary = text
        .split("boundary=")
        .nth(1)
        .and_then(|r| r.split("\r\n").next())
        .expect("boundary")
        .to_string();
    let body = text
        .split("\r\n\r\n")
        .skip(1)
        .collect::<Vec<_>>()
        .join("\r\n\r\n");
    assert_eq!(
        body,
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"q%22x\"\r\n\r\ntwo\r\n--{boundary}--\r\n")
    );

    // A file through sockit http serve --write: stored byte for byte.
    let site = Site::new();
    let srv = site.serve(&["--write"]);
    let dir = tempfile::tempdir().unwrap();
    let data = pseudo_random(200_000, 5);
    let path = dir.path().join("up load.bin");
    std::fs::write(&path, &data).unwrap();
    let field = format!("file=@{}", path.display());
    let out = run_sockit(&["http", "get", "--fail", "-F", &field, &srv.url("/")], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read(site.www.join("up load.bin")).unwrap(), data);
}

#[test]
fn urls_alternating_between_servers_each_keep_their_connection() {
    let a = PyPeer::start();
    let b = PyPeer::start();
    let out = run_sockit(
        &[
            "http",
            "get",
            "-v",
            &a.url("/status/200"),
            &b.url("/status/201"),
            &a.url("/status/202"),
            &b.url("/status/203"),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout_text(),
        "status 200status 201status 202status 203"
    );
    assert_eq!(
        out.stderr.matches("(new connection)").count(),
        2,
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("* reusing connection").count(),
        2,
        "{}",
        out.stderr
    );
}

#[test]
fn nginx_answers_pass_check_and_share_a_connection() {
    if !has_cmd("nginx") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("a.txt"), "from nginx\n").unwrap();
    let port = free_tcp_port();
    let d = dir.path().display();
    let conf = format!(
        "daemon off; master_process off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{ access_log off; client_body_temp_path {d}/b; proxy_temp_path {d}/p; fastcgi_temp_path {d}/f;\n\
         uwsgi_temp_path {d}/u; scgi_temp_path {d}/s;\n\
         server {{ listen 127.0.0.1:{port}; root {d}/www; }} }}\n"
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let conf_path = dir.path().join("nginx.conf");
    let err_path = dir.path().join("error.log");
    let _nginx = Proc::program(
        "nginx",
        &[
            "-c",
            conf_path.to_str().unwrap(),
            "-p",
            dir.path().to_str().unwrap(),
            "-e",
            err_path.to_str().unwrap(),
        ],
    );
    wait_tcp_listening(port);
    let url = format!("http://127.0.0.1:{port}/a.txt");
    let missing = format!("http://127.0.0.1:{port}/missing");
    let out = run_sockit(&["http", "get", "-v", "--check", &url, &missing, &url], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout_text().starts_with("from nginx\n"),
        "{}",
        out.stdout_text()
    );
    assert!(
        out.stdout_text().ends_with("from nginx\n"),
        "{}",
        out.stdout_text()
    );
    assert!(!out.stderr.contains(" error RFC"), "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("* reusing connection").count(),
        2,
        "{}",
        out.stderr
    );
}
