//! `sockit http serve`: safety — path traversal in every spelling, symlinks, dot-files,
//! Basic auth, size limits (431, 414, 413, 411), slowloris and idle timeouts, the
//! connection cap, request smuggling, interrupted uploads, HTML escaping, default bind.
//!
//! Hostile requests go over raw sockets so nothing "helpfully" normalizes them first.
//! Every site has a secret file in the PARENT of the served folder: it must never come back.

mod http_common;

use base64::Engine as _;
use http_common::*;
use std::time::{Duration, Instant};

/// Asserts a hostile request was refused and leaked nothing.
fn assert_refused(srv: &Server, raw: &[u8]) {
    check_hostile(srv, raw, true)
}

/// Asserts a hostile request leaked nothing; with `strict`, also that it got a 4xx.
fn check_hostile(srv: &Server, raw: &[u8], strict: bool) {
    let mut c = srv.connect();
    c.send_lossy(raw);
    let shown = String::from_utf8_lossy(raw).into_owned();
    match c.read_response() {
        Ok(r) => {
            if strict {
                assert!(
                    (400..500).contains(&r.status),
                    "{shown:?} got {}:\n{}",
                    r.status,
                    r.raw_head
                );
            }
            assert!(
                !r.text().contains("TOP-SECRET"),
                "{shown:?} leaked the secret"
            );
            assert!(
                !r.text().contains("root:x:0:0"),
                "{shown:?} leaked /etc/passwd"
            );
        }
        // Closing without an answer is acceptable for garbage; leaking is not.
        Err(_) => assert!(!contains_bytes(c.buffered(), b"TOP-SECRET")),
    }
}

fn traversal_targets(site: &Site) -> Vec<String> {
    let abs = site.secret.to_str().unwrap().to_string(); // /tmp/.tmpXXXX/secret.txt
    let abs_enc = abs.replace('/', "%2F");
    let mut v: Vec<String> = [
        "/../secret.txt",
        "/../../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/%2e%2e%5csecret.txt",
        "/..\\secret.txt",
        "/sub\\..\\..\\secret.txt",
        "/%252e%252e/secret.txt",
        "/..%00/secret.txt",
        "/secret.txt%00",
        "/%00../secret.txt",
        "/..;/secret.txt",
        "/../www/../secret.txt",
        "/./../secret.txt",
        "/...//secret.txt",
        "../secret.txt",
        "secret.txt",
        "http://127.0.0.1/../secret.txt",
        "http://127.0.0.1/%2e%2e/secret.txt",
        "http://localhost/..%2fsecret.txt",
        "file:///etc/passwd",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("/{abs}")); // //tmp/...: Path::join with an absolute path replaces the root
    v.push(abs.clone());
    v.push(format!("/{abs_enc}"));
    v.push(format!("/%2F{}", abs.trim_start_matches('/')));
    v.push(format!("http://127.0.0.1/{abs}"));
    v.push("/%2Fetc%2Fpasswd".to_string());
    v.push("//etc/passwd".to_string());
    v
}

#[test]
fn no_path_leaves_the_served_folder() {
    let site = Site::new();
    site.write("index.html", "home");
    site.write("sub/inner.txt", "inner");
    // The permissive flags must not open a way out either. With --spa an unknown path
    // may legitimately get index.html (200), so only "nothing leaked" is checked there.
    let configs: [(&[&str], bool); 3] = [
        (&[], true),
        (&["--hidden", "--follow-symlinks", "--write"], true),
        (&["--spa", "--hidden"], false),
    ];
    for (flags, strict) in configs {
        let srv = site.serve(flags);
        for target in traversal_targets(&site) {
            let raw = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            check_hostile(&srv, raw.as_bytes(), strict);
            let raw = format!("HEAD {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            let mut c = srv.connect();
            c.send_lossy(&raw);
            if let Ok(r) = c.read_response_for(true) {
                if strict {
                    assert!(
                        r.status >= 400,
                        "HEAD {target} with {flags:?}: {}",
                        r.status
                    );
                }
                assert_ne!(
                    r.header("content-length"),
                    Some(SECRET.len().to_string().as_str()),
                    "HEAD {target} with {flags:?} reveals the secret's size"
                );
            }
        }
        // The folder itself still works.
        assert_eq!(srv.get("/sub/inner.txt", &[]).body, b"inner");
    }
}

#[test]
fn raw_nul_and_control_bytes_are_refused() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&[]);
    assert_refused(&srv, b"GET /a.txt\x00 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_refused(&srv, b"GET /../secret.txt\x00 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_refused(&srv, b"GET /a.txt%00.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_refused(&srv, b"GET /a.txt HTTP/1.1\r\nHost: x\x00y\r\n\r\n");
}

#[test]
fn curl_path_as_is_cannot_escape() {
    if !has_cmd("curl") {
        return;
    }
    let site = Site::new();
    let srv = site.serve(&[]);
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"] {
        let out = curl(&["-s", "--path-as-is", "-w", "\n%{http_code}", &srv.url(path)]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("TOP-SECRET"), "{path} leaked");
        let code = text.lines().last().unwrap_or("");
        assert!(code.starts_with('4'), "{path} -> {code}");
    }
}

#[test]
fn writes_cannot_escape_the_served_folder() {
    let site = Site::new();
    site.mkdir("sub");
    let srv = site.serve(&["--write"]);
    let abs = site.tmp.path().join("escape-abs.txt");
    let targets = [
        "/../escape.txt".to_string(),
        "/%2e%2e/escape.txt".to_string(),
        "/sub/..%2f..%2fescape.txt".to_string(),
        format!("/{}", abs.display()),
        format!("/{}", abs.display().to_string().replace('/', "%2F")),
    ];
    for t in &targets {
        let _ = srv.exchange(format!(
            "PUT {t} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\npwned"
        ));
        let r = srv.exchange(format!(
            "DELETE {} HTTP/1.1\r\nHost: x\r\n\r\n",
            t.replace("escape", "secret")
        ));
        assert!(r.status >= 400, "DELETE {t} -> {}", r.status);
    }
    assert_eq!(
        site.ls_parent(),
        vec!["secret.txt", "www"],
        "a write escaped"
    );
    assert_eq!(std::fs::read_to_string(&site.secret).unwrap(), SECRET);

    // Multipart filenames are names, not paths.
    let mut body = String::new();
    for f in [
        "../up-escape.txt",
        "..\\up-escape2.txt",
        "/tmp/up-escape3.txt",
        "sub/../../up-escape4.txt",
    ] {
        body += &format!(
            "--B0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{f}\"\r\n\r\nx\r\n"
        );
    }
    body += "--B0undary--\r\n";
    let _ = srv.exchange(format!(
        "POST /sub/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B0undary\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    assert_eq!(
        site.ls_parent(),
        vec!["secret.txt", "www"],
        "an upload escaped"
    );
    assert!(!std::path::Path::new("/tmp/up-escape3.txt").exists());
    let stray: Vec<String> = site
        .ls("")
        .into_iter()
        .filter(|n| n.contains("up-escape"))
        .collect();
    assert!(
        stray.is_empty(),
        "upload landed outside its folder: {stray:?}"
    );
}

// ---------------------------------------------------------------------------
// Symlinks
// ---------------------------------------------------------------------------

fn symlink_site() -> Site {
    let site = Site::new();
    site.write("index.html", "home");
    let outside = site.tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("s2.txt"), SECRET).unwrap();
    std::os::unix::fs::symlink("../secret.txt", site.www.join("rel-link.txt")).unwrap();
    std::os::unix::fs::symlink(&site.secret, site.www.join("abs-link.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, site.www.join("outdir")).unwrap();
    site
}

#[test]
fn symlinks_pointing_outside_are_refused() {
    let site = symlink_site();
    let srv = site.serve(&[]);
    for path in [
        "/rel-link.txt",
        "/abs-link.txt",
        "/outdir/s2.txt",
        "/outdir/",
        "/outdir",
    ] {
        let r = srv.get(path, &[]);
        assert!(
            r.status == 403 || r.status == 404,
            "{path} -> {}:\n{}",
            r.status,
            r.raw_head
        );
        assert!(!r.text().contains("TOP-SECRET"), "{path} leaked");
    }
}

#[test]
fn follow_symlinks_serves_them() {
    let site = symlink_site();
    let srv = site.serve(&["--follow-symlinks"]);
    assert_eq!(srv.get("/rel-link.txt", &[]).text(), SECRET);
    assert_eq!(srv.get("/abs-link.txt", &[]).text(), SECRET);
    assert_eq!(srv.get("/outdir/s2.txt", &[]).text(), SECRET);
    assert!(srv.get("/outdir/", &[]).text().contains("s2.txt"));
}

#[test]
fn writes_never_go_through_outside_symlinks() {
    let site = symlink_site();
    let srv = site.serve(&["--write"]);
    let _ = srv.exchange("PUT /rel-link.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\npwned");
    let _ =
        srv.exchange("PUT /outdir/new.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\npwned");
    let _ = srv.exchange(request("DELETE", "/abs-link.txt", &[]));
    let _ = srv.exchange(request("DELETE", "/outdir/s2.txt", &[]));
    assert_eq!(
        std::fs::read_to_string(&site.secret).unwrap(),
        SECRET,
        "secret overwritten via symlink"
    );
    let outside = site.tmp.path().join("outside");
    assert!(
        outside.join("s2.txt").exists(),
        "file deleted through a symlinked folder"
    );
    assert!(
        !outside.join("new.txt").exists(),
        "file created through a symlinked folder"
    );
}

// ---------------------------------------------------------------------------
// Dot-files
// ---------------------------------------------------------------------------

#[test]
fn dotfiles_are_hidden_unless_hidden_flag() {
    let site = Site::new();
    site.write(".env", "DB_PASSWORD=hunter2");
    site.write(".git/config", "[core]");
    site.write("sub/.secret", "dot in sub");
    site.write("visible.txt", "v");
    let srv = site.serve(&[]);
    for path in [
        "/.env",
        "/.git/config",
        "/.git/",
        "/.git",
        "/sub/.secret",
        "/%2eenv",
        "/sub/%2Esecret",
    ] {
        let r = srv.get(path, &[]);
        assert_eq!(r.status, 404, "{path}:\n{}", r.raw_head);
        assert!(!r.text().contains("hunter2"));
    }
    let html = srv.get("/", &[]).text();
    assert!(html.contains("visible.txt"));
    assert!(
        !html.contains(".env") && !html.contains(".git"),
        "dot-files listed:\n{html}"
    );
    let json = srv.get("/?format=json", &[]).text();
    assert!(
        !json.contains(".env") && !json.contains(".git"),
        "dot-files in JSON: {json}"
    );
    assert!(!srv.get("/sub/", &[]).text().contains(".secret"));

    let srv = site.serve(&["--hidden"]);
    assert_eq!(srv.get("/.env", &[]).text(), "DB_PASSWORD=hunter2");
    assert_eq!(srv.get("/.git/config", &[]).text(), "[core]");
    assert!(srv.get("/", &[]).text().contains(".env"));
}

// ---------------------------------------------------------------------------
// Basic auth
// ---------------------------------------------------------------------------

fn basic(userpass: &str) -> String {
    format!(
        "Authorization: Basic {}",
        base64::engine::general_purpose::STANDARD.encode(userpass)
    )
}

#[test]
fn auth_requires_basic_credentials() {
    let site = Site::new();
    site.write("private.txt", "private data");
    let srv = site.serve(&["--auth", "alice:s3cr:et"]);
    let r = srv.get("/private.txt", &[]);
    assert_eq!(r.status, 401, "{}", r.raw_head);
    let www = r
        .header("www-authenticate")
        .expect("401 without WWW-Authenticate");
    assert!(www.starts_with("Basic") && www.contains("realm="), "{www}");
    assert!(!r.text().contains("private data"));

    assert_eq!(
        srv.get("/private.txt", &[&basic("alice:s3cr:et")]).body,
        b"private data"
    );
    for bad in [
        basic("alice:wrong"),
        basic("bob:s3cr:et"),
        basic("alice:s3cr"),
        basic("alice"),
        basic(""),
        "Authorization: Basic !!!not-base64!!!".to_string(),
        "Authorization: Bearer s3cr:et".to_string(),
        "Authorization: Basic".to_string(),
    ] {
        let r = srv.get("/private.txt", &[&bad]);
        assert_eq!(r.status, 401, "{bad}:\n{}", r.raw_head);
    }
    // Listings and HEAD are protected too.
    assert_eq!(srv.get("/", &[]).status, 401);
    let mut c = srv.connect();
    c.send(request("HEAD", "/private.txt", &[])).unwrap();
    assert_eq!(c.read_response_for(true).unwrap().status, 401);
}

#[test]
fn auth_protects_writes() {
    let site = Site::new();
    let srv = site.serve(&["--write", "--auth", "u:p"]);
    let r = srv.exchange("PUT /x.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx");
    assert_eq!(r.status, 401);
    assert!(!site.www.join("x.txt").exists());
    let r = srv.exchange(format!(
        "PUT /x.txt HTTP/1.1\r\nHost: h\r\n{}\r\nContent-Length: 1\r\n\r\nx",
        basic("u:p")
    ));
    assert_eq!(r.status, 201);
}

#[test]
fn auth_with_curl_and_python_urllib() {
    let site = Site::new();
    site.write("private.txt", "private data");
    let srv = site.serve(&["--auth", "alice:pw"]);
    // urllib answers the 401 challenge itself.
    let script = r#"
import sys, urllib.request, urllib.error
url = sys.argv[1]
try:
    urllib.request.urlopen(url, timeout=10)
except urllib.error.HTTPError as e:
    print("without", e.code)
mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
mgr.add_password(None, url, "alice", "pw")
opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr))
with opener.open(url, timeout=10) as r:
    print("with", r.status, r.read().decode())
"#;
    let out = python_ok(script, &[&srv.url("/private.txt")]);
    assert_eq!(out, "without 401\nwith 200 private data\n");
    if has_cmd("curl") {
        let out = curl(&["-s", "-u", "alice:pw", &srv.url("/private.txt")]);
        assert_eq!(out.stdout, b"private data");
        let out = curl(&[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-u",
            "alice:nope",
            &srv.url("/private.txt"),
        ]);
        assert_eq!(out.stdout, b"401");
    }
}

// ---------------------------------------------------------------------------
// Size limits
// ---------------------------------------------------------------------------

#[test]
fn head_over_16k_is_431() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&[]);
    let many: Vec<String> = (0..40)
        .map(|i| format!("X-Filler-{i}: {}", "f".repeat(480)))
        .collect();
    let refs: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
    let raw = request("GET", "/a.txt", &refs);
    assert!(raw.len() > 17 * 1024);
    let r = srv.exchange(&raw);
    assert_eq!(r.status, 431, "{}", r.raw_head);

    // One single huge header line, too.
    let raw = request(
        "GET",
        "/a.txt",
        &[&format!("Cookie: {}", "c".repeat(17 * 1024))],
    );
    assert_eq!(srv.exchange(&raw).status, 431);

    // Just under the limit is fine.
    let some: Vec<String> = (0..20)
        .map(|i| format!("X-Filler-{i}: {}", "f".repeat(480)))
        .collect();
    let refs: Vec<&str> = some.iter().map(|s| s.as_str()).collect();
    assert_eq!(srv.exchange(request("GET", "/a.txt", &refs)).status, 200);
}

#[test]
fn uri_over_8k_is_414() {
    let site = Site::new();
    let srv = site.serve(&[]);
    let long = format!("/{}", "a".repeat(9000));
    let r = srv.exchange(request("GET", &long, &[]));
    assert_eq!(r.status, 414, "{}", r.raw_head);
    let long_query = format!("/?q={}", "b".repeat(9000));
    assert_eq!(srv.exchange(request("GET", &long_query, &[])).status, 414);
}

#[test]
fn upload_over_max_upload_is_413() {
    let site = Site::new();
    let srv = site.serve(&["--write", "--max-upload", "1K"]);

    let ok = "x".repeat(1000);
    let r = srv.exchange(format!(
        "PUT /ok.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n{ok}"
    ));
    assert_eq!(r.status, 201, "{}", r.raw_head);

    // Announced too big, with Expect: refused before the body is sent.
    let mut c = srv.connect();
    c.send(
        "PUT /big1.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    assert_eq!(c.read_head().unwrap().status, 413);

    // Announced too big, body sent along.
    let r = srv.exchange(format!(
        "PUT /big2.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n\r\n{}",
        "y".repeat(2000)
    ));
    assert_eq!(r.status, 413, "{}", r.raw_head);

    // Chunked: the size is only known while reading.
    let mut raw =
        "PUT /big3.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".to_string();
    for _ in 0..6 {
        raw += &format!("200\r\n{}\r\n", "z".repeat(512));
    }
    raw += "0\r\n\r\n";
    assert_eq!(srv.exchange(&raw).status, 413);

    // Multipart POST with a file over the limit.
    let body = format!(
        "--Bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big4.txt\"\r\n\r\n{}\r\n--Bnd--\r\n",
        "w".repeat(3000)
    );
    let r = srv.exchange(format!(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=Bnd\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    assert_eq!(r.status, 413, "{}", r.raw_head);

    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        site.ls(""),
        vec!["ok.txt"],
        "oversized uploads left files behind"
    );
}

#[test]
fn put_without_length_is_411() {
    let site = Site::new();
    let srv = site.serve(&["--write"]);
    let r = srv.exchange("PUT /x.txt HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.status, 411, "{}", r.raw_head);
    assert!(!site.www.join("x.txt").exists());
}

// ---------------------------------------------------------------------------
// Timeouts and the connection cap
// ---------------------------------------------------------------------------

#[test]
fn partial_head_gets_408_after_header_timeout() {
    let site = Site::new();
    let srv = site.serve(&["--header-timeout", "1"]);
    let mut c = srv.connect();
    let start = Instant::now();
    c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
    let r = c.read_response().expect("no 408 before close");
    assert_eq!(r.status, 408, "{}", r.raw_head);
    assert!(
        c.wait_closed(Duration::from_secs(5)),
        "not closed after 408"
    );
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn slowloris_trickle_is_cut_at_header_timeout() {
    // One byte every 200 ms: each read succeeds, but the head as a whole is late.
    let site = Site::new();
    let srv = site.serve(&["--header-timeout", "1"]);
    let mut c = srv.connect();
    let start = Instant::now();
    let trickle = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut closed = false;
    for b in trickle.iter().cycle().take(100) {
        if c.send([*b]).is_err() {
            closed = true;
            break;
        }
        if c.wait_closed(Duration::from_millis(200)) {
            closed = true;
            break;
        }
    }
    assert!(
        closed,
        "slowloris kept its connection for {:?}",
        start.elapsed()
    );
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "closed only after {:?}",
        start.elapsed()
    );
}

#[test]
fn silent_connection_is_closed_at_header_timeout() {
    let site = Site::new();
    let srv = site.serve(&["--header-timeout", "1"]);
    let mut c = srv.connect();
    let start = Instant::now();
    assert!(
        c.wait_closed(Duration::from_secs(8)),
        "silent connection kept open"
    );
    assert!(start.elapsed() < Duration::from_secs(8));
}

#[test]
fn idle_keep_alive_connection_is_closed() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&["--idle-timeout", "1"]);
    let mut c = srv.connect();
    c.send(request("GET", "/a.txt", &[])).unwrap();
    assert_eq!(c.read_response().unwrap().status, 200);
    let start = Instant::now();
    assert!(
        c.wait_closed(Duration::from_secs(8)),
        "idle connection kept open"
    );
    assert!(start.elapsed() < Duration::from_secs(8));
    // An active client on another connection is unaffected meanwhile.
    let mut d = srv.connect();
    for _ in 0..3 {
        d.send(request("GET", "/a.txt", &[])).unwrap();
        assert_eq!(d.read_response().unwrap().status, 200);
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn connections_past_max_connections_get_503() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&["--max-connections", "2"]);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = srv.connect();
        c.send(request("GET", "/a.txt", &[])).unwrap();
        assert_eq!(c.read_response().unwrap().status, 200);
        held.push(c);
    }
    let mut c = srv.connect();
    c.send_lossy(request("GET", "/a.txt", &[]));
    let r = c.read_response().expect("no 503 for the third connection");
    assert_eq!(r.status, 503, "{}", r.raw_head);
    assert!(
        r.has("retry-after"),
        "503 without Retry-After:\n{}",
        r.raw_head
    );
    assert!(c.wait_closed(Duration::from_secs(5)));

    // Freeing a slot lets the next client in.
    drop(held.pop());
    let ok = wait_cond(Duration::from_secs(5), || {
        let mut c = srv.connect();
        c.send_lossy(request("GET", "/a.txt", &[]));
        matches!(c.read_response(), Ok(r) if r.status == 200)
    });
    assert!(ok, "slot never freed after a client left");
}

// ---------------------------------------------------------------------------
// Smuggling
// ---------------------------------------------------------------------------

#[test]
fn ambiguous_framing_is_400_and_closes() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&["--write"]);
    let smuggled = "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    let cases = [
        format!("PUT /s1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"),
        format!("PUT /s2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n{smuggled}"),
        format!("GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"),
        format!("PUT /s3 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!{smuggled}"),
        format!("PUT /s4 HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!{smuggled}"),
        format!("PUT /s5 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nhello{smuggled}"),
        format!("PUT /s6 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n{smuggled}"),
        format!("PUT /s7 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n{smuggled}"),
        format!("PUT /s8 HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{smuggled}"),
        format!("PUT /s9 HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n{smuggled}"),
        format!("PUT /s10 HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello{smuggled}"),
        format!("PUT /s11 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n{smuggled}"),
        format!("PUT /s12 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n{smuggled}"),
    ];
    for raw in &cases {
        let mut c = srv.connect();
        c.send_lossy(raw);
        let r = c
            .read_response()
            .unwrap_or_else(|e| panic!("no response to {raw:?}: {e}"));
        assert_eq!(r.status, 400, "for {raw:?}:\n{}", r.raw_head);
        assert!(
            c.wait_closed(Duration::from_secs(5)),
            "left open after {raw:?}"
        );
        assert!(
            !String::from_utf8_lossy(c.buffered()).contains("HTTP/1."),
            "the smuggled request was answered after {raw:?}"
        );
    }
    let mut left = site.ls("");
    left.retain(|n| n != "a.txt");
    assert!(left.is_empty(), "ambiguous requests wrote files: {left:?}");
}

// ---------------------------------------------------------------------------
// Interrupted uploads
// ---------------------------------------------------------------------------

/// Sends a request head and part of its body, checks the target is not visible meanwhile,
/// then cuts the connection.
fn cut_upload(srv: &Server, head: &str, partial: &[u8], target_path: &str) {
    let mut c = srv.connect();
    c.send(head).unwrap();
    c.send(partial).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // Mid-upload, nobody sees the partial file.
    let r = srv.get(target_path, &[]);
    assert_eq!(r.status, 404, "partial upload visible at {target_path}");
    let listing = srv.get("/?format=json", &[]).text();
    assert!(!listing.contains(".part"), "temp file listed: {listing}");
    drop(c);
    std::thread::sleep(Duration::from_millis(700));
}

#[test]
fn cut_put_leaves_no_file_and_no_part() {
    let site = Site::new();
    site.write("keep.txt", "keep");
    let srv = site.serve(&["--write"]);
    let data = pseudo_random(200_000, 9);
    cut_upload(
        &srv,
        "PUT /up.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n",
        &data,
        "/up.bin",
    );
    cut_upload(
        &srv,
        "PUT /up2.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n",
        &data[..40_000],
        "/up2.bin",
    );
    assert!(
        wait_cond(Duration::from_secs(3), || site.ls("") == vec!["keep.txt"]),
        "leftovers after cut uploads: {:?}",
        site.ls("")
    );
    // The server is still fine.
    assert_eq!(srv.get("/keep.txt", &[]).body, b"keep");
}

#[test]
fn cut_put_keeps_the_old_version() {
    let site = Site::new();
    site.write("doc.txt", "old version");
    let srv = site.serve(&["--write"]);
    cut_upload(
        &srv,
        "PUT /doc.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
        &[b'n'; 5000],
        "/nonexistent-probe",
    );
    assert_eq!(
        std::fs::read_to_string(site.www.join("doc.txt")).unwrap(),
        "old version"
    );
    assert!(
        wait_cond(Duration::from_secs(3), || site.ls("") == vec!["doc.txt"]),
        "leftovers: {:?}",
        site.ls("")
    );
}

#[test]
fn cut_multipart_post_leaves_nothing() {
    let site = Site::new();
    let srv = site.serve(&["--write"]);
    let part_head =
        "--Bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.bin\"\r\n\r\n";
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=Bnd\r\n\
         Content-Length: 1000000\r\n\r\n{part_head}"
    );
    cut_upload(&srv, &head, &pseudo_random(100_000, 4), "/cut.bin");
    assert!(
        wait_cond(Duration::from_secs(3), || site.ls("").is_empty()),
        "leftovers: {:?}",
        site.ls("")
    );
}

// ---------------------------------------------------------------------------
// Listing escaping, default bind
// ---------------------------------------------------------------------------

#[test]
fn listing_escapes_html_in_names() {
    let site = Site::new();
    site.write("<img src=x onerror=alert(1)>.txt", "x");
    site.write("\"quoted\" & 'single'.txt", "y");
    let srv = site.serve(&[]);
    let html = srv.get("/", &[]).text();
    assert!(
        !html.contains("<img src=x"),
        "unescaped name in listing:\n{html}"
    );
    assert!(
        html.contains("&lt;img"),
        "name missing or oddly escaped:\n{html}"
    );
    assert!(
        !html.contains("\"quoted\""),
        "unescaped quote in listing:\n{html}"
    );
}

#[test]
fn default_bind_is_loopback() {
    let site = Site::new();
    let dir = site.www.to_str().unwrap();
    let srv = Server::start_args(&["http", "serve", dir, "--port", "0"], &site.www);
    let line = srv
        .wait_log("sockit: serving", Duration::from_secs(1))
        .unwrap();
    assert!(line.contains("http://127.0.0.1:"), "{line}");
    // The kernel agrees: the listening socket is bound to 127.0.0.1 (0100007F).
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let want = format!("0100007F:{:04X}", srv.port);
    let listening: Vec<&str> = tcp
        .lines()
        .filter(|l| l.split_whitespace().nth(3) == Some("0A"))
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&format!(":{:04X}", srv.port)))
        })
        .collect();
    assert!(
        !listening.is_empty(),
        "port {} not found listening",
        srv.port
    );
    for l in listening {
        assert!(
            l.contains(&want),
            "listening on a non-loopback address: {l}"
        );
    }
    let v6 = std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    let any6 = format!("00000000000000000000000000000000:{:04X}", srv.port);
    assert!(!v6.contains(&any6), "also listening on [::]");
}
