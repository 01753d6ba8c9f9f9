//! `sockit http serve` against absurd flags and hostile or unlucky clients (issue 9 item 3,
//! issue 10 item 4): every case here failed on the code before its fix. The real binary
//! against raw sockets, curl and Python.

mod http_common;
use http_common::*;

use std::process::Stdio;
use std::time::Duration;

/// Runs `sockit ARGS`, which must exit 2 quickly with a one-line error containing every
/// needle.
fn refused(args: &[&str], needles: &[&str]) {
    let mut p = Proc::sockit_with_stdin(args, Stdio::null());
    let status = p
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("`sockit {}` did not exit", args.join(" ")));
    let err = p.stderr.text();
    assert_eq!(status.code(), Some(2), "`sockit {}`: {err}", args.join(" "));
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "not one line: {err}");
    for n in needles {
        assert!(lines[0].contains(n), "{n:?} missing from {err:?}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn duration_and_count_flags_are_bounded_with_exit_2() {
    let site = Site::new();
    let dir = site.www.to_str().unwrap();
    let serve = |extra: &[&str]| {
        let mut a = vec!["http", "serve", dir, "--port", "0"];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--header-timeout", "18446744073709551615"],
            &["--header-timeout", "31536000"],
        ),
        (
            &["--idle-timeout", "31536001"],
            &["--idle-timeout", "31536000"],
        ),
        (&["--header-timeout", "0"], &["--header-timeout"]),
        (&["--workers", "0"], &["--workers", "1024"]),
        (&["--workers", "100000"], &["--workers", "1024"]),
        (&["--max-connections", "0"], &["--max-connections"]),
        (&["--max-upload", "99999999999999999999"], &["--max-upload"]),
    ];
    for (extra, needles) in cases {
        let args = serve(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, needles);
    }
    // One year is accepted, and the first connection does not panic a worker (it did:
    // "overflow when adding duration to instant").
    let srv = site.serve(&["--header-timeout", "31536000", "--idle-timeout", "31536000"]);
    site.write("a.txt", "a");
    for _ in 0..3 {
        assert_eq!(srv.get("/a.txt", &[]).status, 200);
    }
    assert!(!srv.stderr().contains("panicked"), "{}", srv.stderr());
}

#[test]
fn framing_headers_are_refused_and_others_replace_the_default() {
    let site = Site::new();
    let dir = site.www.to_str().unwrap();
    for h in [
        "Content-Length: 5",
        "transfer-encoding: chunked",
        "Connection: close",
        "Date: x",
    ] {
        let name = h.split(':').next().unwrap();
        refused(
            &["http", "serve", dir, "--port", "0", "--header", h],
            &["--header", name],
        );
    }
    site.write("hello.txt", "Hello, sockit!\n");
    let srv = site.serve(&[
        "--header",
        "Server: mine",
        "--header",
        "Content-Type: text/x-custom",
        "--header",
        "X-Extra: 1",
    ]);
    let r = srv.get("/hello.txt", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.headers_all("server"), ["mine"], "{}", r.raw_head);
    assert_eq!(r.headers_all("content-type"), ["text/x-custom"]);
    assert_eq!(r.headers_all("x-extra"), ["1"]);
    assert_eq!(r.text(), "Hello, sockit!\n");
    // The engine's own refusals carry them too, once.
    let r = srv.exchange("GET / HTTP/1.1\r\n\r\n");
    assert_eq!(r.status, 400);
    assert_eq!(r.headers_all("server"), ["mine"]);
    // curl reads the whole body (duplicated framing headers made it read 5 of 21 bytes).
    let out = curl(&["-s", "-D", "-", &srv.url("/hello.txt")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("Hello, sockit!\n"), "{text}");
    assert_eq!(text.matches("erver:").count(), 1, "{text}");
}

/// Sends `head` + `body` and expects a 400 answer followed by the connection closing.
fn expect_400_then_close(srv: &Server, head: &str, body: &[u8]) {
    let mut c = srv.connect();
    c.send(head).unwrap();
    c.send_lossy(body);
    let r = c
        .read_response()
        .unwrap_or_else(|e| panic!("no answer to {head:?} + {body:?}: {e}"));
    assert_eq!(r.status, 400, "{head:?} + {body:?}");
    assert!(r.connection_has("close"));
    assert!(c.wait_closed(Duration::from_secs(5)));
}

#[test]
fn broken_chunked_bodies_get_400_before_the_connection_closes() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&[]);
    let bodies: [&[u8]; 4] = [
        b"10000000000000000\r\nx\r\n0\r\n\r\n",
        b"00000000000000000001\r\nx\r\n0\r\n\r\n",
        b"5\r\nhelloXX\r\n0\r\n\r\n",
        b"5\r\nhello",
    ];
    for (i, body) in bodies.iter().enumerate() {
        let body: &[u8] = if i == 3 { b"5\r\nhelloX" } else { body };
        for method in ["GET /a.txt", "PUT /up.txt", "POST /"] {
            let head =
                format!("{method} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            expect_400_then_close(&srv, &head, body);
        }
    }
    // With --write the upload itself answers 400 and leaves nothing behind.
    let w = site.serve(&["--write"]);
    expect_400_then_close(
        &w,
        "PUT /up.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"10000000000000000\r\n",
    );
    assert_eq!(site.ls(""), ["a.txt"]);
}

#[test]
fn a_symlink_to_a_dot_file_is_as_hidden_as_the_dot_file() {
    let site = Site::new();
    site.write(".env", "SECRET=1");
    site.write("plain.txt", "plain");
    std::os::unix::fs::symlink(".env", site.www.join("config.txt")).unwrap();
    site.mkdir(".git");
    site.write(".git/config", "core");
    std::os::unix::fs::symlink(".git/config", site.www.join("gitconfig")).unwrap();
    std::os::unix::fs::symlink("plain.txt", site.www.join("alias.txt")).unwrap();
    let srv = site.serve(&[]);
    assert_eq!(srv.get("/.env", &[]).status, 404);
    assert_eq!(srv.get("/config.txt", &[]).status, 404);
    assert_eq!(srv.get("/gitconfig", &[]).status, 404);
    assert_eq!(srv.get("/alias.txt", &[]).text(), "plain");
    let listing = srv.get("/?format=json", &[]).text();
    assert!(!listing.contains("config.txt"), "{listing}");
    assert!(listing.contains("alias.txt"), "{listing}");
    let open = site.serve(&["--hidden"]);
    assert_eq!(open.get("/config.txt", &[]).text(), "SECRET=1");
}

#[test]
fn an_encoded_slash_is_400_for_get_and_put() {
    let site = Site::new();
    site.write("sub/f.txt", "f");
    let srv = site.serve(&["--write"]);
    assert_eq!(srv.get("/sub/f.txt", &[]).status, 200);
    assert_eq!(srv.get("/sub%2ff.txt", &[]).status, 400);
    assert_eq!(srv.get("/sub%2Ff.txt", &[]).status, 400);
    let put = "PUT /sub%2fput.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    assert_eq!(srv.exchange(put).status, 400);
    assert_eq!(site.ls("sub"), ["f.txt"]);
}

#[test]
fn writes_never_go_through_a_folder_symlink_inside_the_root() {
    let site = Site::new();
    site.write("real/keep.txt", "keep");
    std::os::unix::fs::symlink("real", site.www.join("sublink")).unwrap();
    let srv = site.serve(&["--write"]);
    // Reading through it works, as documented.
    assert_eq!(srv.get("/sublink/keep.txt", &[]).text(), "keep");
    let put = "PUT /sublink/x.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    assert_eq!(srv.exchange(put).status, 403);
    let del = "DELETE /sublink/keep.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(srv.exchange(del).status, 403);
    let put_deep = "PUT /sublink/new/x.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    assert_eq!(srv.exchange(put_deep).status, 403);
    assert_eq!(site.ls("real"), ["keep.txt"]);
    // A form upload into it is refused the same way.
    let out = curl(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-F",
        "file=@/dev/null;filename=f.txt",
        &srv.url("/sublink/"),
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403");
    assert_eq!(site.ls("real"), ["keep.txt"]);
}

#[test]
fn an_upload_cut_mid_body_is_logged_with_the_bytes_received() {
    let site = Site::new();
    let srv = site.serve(&["--write"]);
    let mut c = srv.connect();
    c.send("PUT /cut.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        .unwrap();
    c.send(vec![b'x'; 300]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(c);
    let line = srv
        .wait_log("\"PUT /cut.bin HTTP/1.1\"", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no log line for the cut upload:\n{}", srv.stderr()));
    assert!(line.ends_with("\" 499 0 received=300"), "{line}");
    assert_eq!(site.ls(""), Vec::<String>::new());
}

#[test]
fn a_name_with_a_backslash_is_listed_with_a_link_that_works() {
    let site = Site::new();
    site.write("a\\b.txt", "backslash");
    let srv = site.serve(&[]);
    let page = srv.get("/", &[]).text();
    assert!(page.contains("href=\"a%5Cb.txt\""), "{page}");
    assert_eq!(srv.get("/a%5Cb.txt", &[]).text(), "backslash");
    // A raw backslash is still not a URI character.
    assert_eq!(srv.get("/a\\b.txt", &[]).status, 400);
}

#[test]
fn a_multipart_parameter_without_equals_does_not_hide_the_boundary() {
    let site = Site::new();
    let srv = site.serve(&["--write"]);
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.txt\"\r\n\r\nmulti\r\n--XyZ--\r\n";
    let req = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; charset; boundary=XyZ\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let r = srv.exchange(req);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        std::fs::read_to_string(site.www.join("m.txt")).unwrap(),
        "multi"
    );
    // A boundary with characters RFC 2046 does not allow is refused.
    let req = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=a[b]\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(srv.exchange(req).status, 415);
}

#[test]
fn every_range_counts_toward_the_limit() {
    let site = Site::new();
    site.write("r.txt", "0123456789");
    let srv = site.serve(&[]);
    let mut specs: Vec<String> = (0..64).map(|i| format!("{}-", 100 + i)).collect();
    specs.push("0-0".into());
    let r = srv.get("/r.txt", &[&format!("Range: bytes={}", specs.join(","))]);
    assert_eq!(r.status, 200, "65 ranges: the header is ignored");
    let r = srv.get(
        "/r.txt",
        &[&format!("Range: bytes={}", specs[1..].join(","))],
    );
    assert_eq!(r.status, 206, "64 ranges are honoured");
}

/// Waits until a `.part` file shows up in `dir`.
fn wait_part(dir: &std::path::Path) -> bool {
    wait_cond(Duration::from_secs(5), || {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".part"))
            })
            .unwrap_or(false)
    })
}

#[test]
fn a_second_signal_exits_130_and_removes_unfinished_uploads() {
    let site = Site::new();
    let mut srv = site.serve(&["--write"]);
    let mut c = srv.connect();
    c.send("PUT /big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        .unwrap();
    c.send(vec![b'x'; 100_000]).unwrap();
    assert!(wait_part(&site.www), "no part file: {:?}", site.ls(""));
    srv.proc.signal(libc::SIGINT);
    assert!(srv
        .wait_log(
            "shutting down (finishing in-flight requests; again to force)",
            Duration::from_secs(5)
        )
        .is_some());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        srv.proc.try_exit().is_none(),
        "the upload in flight was not waited for"
    );
    srv.proc.signal(libc::SIGINT);
    let status = srv
        .proc
        .wait_exit(Duration::from_secs(5))
        .expect("a second Ctrl-C did not stop the server");
    assert_eq!(status.code(), Some(130));
    assert!(
        srv.stderr().contains("sockit: forced exit"),
        "{}",
        srv.stderr()
    );
    assert_eq!(site.ls(""), Vec::<String>::new(), "part file left behind");
    drop(c);
}

#[test]
fn stale_part_files_are_swept_when_a_writable_server_starts() {
    let site = Site::new();
    site.write("sub/.f.txt.sockit-0000abcd.part", "stale");
    site.write(".g.sockit-12345678.part", "stale");
    site.write("keep.part", "not ours");
    // Without --write the folder is not touched.
    let ro = site.serve(&[]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(site.ls("sub"), [".f.txt.sockit-0000abcd.part"]);
    drop(ro);
    let srv = site.serve(&["--write"]);
    assert!(
        wait_cond(Duration::from_secs(5), || site.ls("sub").is_empty()),
        "{:?}",
        site.ls("sub")
    );
    assert_eq!(site.ls(""), ["keep.part", "sub"]);
    assert!(srv
        .wait_log("unfinished upload", Duration::from_secs(5))
        .is_some());
}
