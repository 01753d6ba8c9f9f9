//! `sockit http serve`: the request methods — GET, HEAD, OPTIONS, TRACE, PUT, DELETE,
//! POST (multipart upload), CONNECT and unknown methods, with and without `--write`.

mod http_common;

use http_common::*;

/// Headers whose value may legitimately differ between two responses a moment apart.
const VOLATILE: &[&str] = &["date", "connection", "keep-alive"];

#[test]
fn head_has_the_same_headers_as_get_and_no_body() {
    let site = Site::new();
    site.write("page.html", "<h1>hi</h1>");
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    // HEAD then GET pipelined: if HEAD sent a body, the GET response would be garbled.
    c.send(request("HEAD", "/page.html", &[]) + &request("GET", "/page.html", &[]))
        .unwrap();
    let head = c.read_response_for(true).unwrap();
    let get = c.read_response().unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(get.status, 200, "HEAD leaked a body:\n{}", get.raw_head);
    assert_eq!(get.body, b"<h1>hi</h1>");
    let strip = |r: &Response| {
        let mut v: Vec<(String, String)> = r
            .headers
            .iter()
            .filter(|(k, _)| !VOLATILE.contains(&k.to_ascii_lowercase().as_str()))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(strip(&head), strip(&get));
    assert_eq!(head.header("content-length"), Some("11"));
}

#[test]
fn head_of_listing_and_404_have_no_body() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    c.send(
        request("HEAD", "/", &[]) + &request("HEAD", "/nope", &[]) + &request("GET", "/a.txt", &[]),
    )
    .unwrap();
    assert_eq!(c.read_response_for(true).unwrap().status, 200);
    assert_eq!(c.read_response_for(true).unwrap().status, 404);
    let r = c.read_response().unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"a"[..]));
}

fn allow_set(r: &Response) -> Vec<String> {
    r.header("allow")
        .unwrap_or_else(|| panic!("no Allow header:\n{}", r.raw_head))
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .collect()
}

#[test]
fn options_lists_allowed_methods() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&[]);
    let r = srv.exchange(request("OPTIONS", "/a.txt", &[]));
    assert!(r.status == 200 || r.status == 204, "{}", r.raw_head);
    let allow = allow_set(&r);
    for m in ["GET", "HEAD", "OPTIONS"] {
        assert!(allow.contains(&m.to_string()), "{m} missing from {allow:?}");
    }
    for m in ["PUT", "DELETE"] {
        assert!(
            !allow.contains(&m.to_string()),
            "{m} allowed without --write: {allow:?}"
        );
    }

    let srv = site.serve(&["--write"]);
    let allow = allow_set(&srv.exchange(request("OPTIONS", "/a.txt", &[])));
    for m in ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"] {
        assert!(
            allow.contains(&m.to_string()),
            "{m} missing from {allow:?} with --write"
        );
    }
}

#[test]
fn options_star_asks_about_the_server() {
    let site = Site::new();
    let srv = site.serve(&[]);
    let r = srv.exchange("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.status == 200 || r.status == 204, "{}", r.raw_head);
    assert!(allow_set(&r).contains(&"GET".to_string()));
}

#[test]
fn python_http_client_options_and_head() {
    let site = Site::new();
    site.write("a.txt", "abc");
    let srv = site.serve(&[]);
    let script = r#"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("OPTIONS", "*")
r = c.getresponse(); r.read()
print(r.status, "GET" in r.getheader("Allow", ""))
c.request("HEAD", "/a.txt")
r = c.getresponse()
print(r.status, r.getheader("Content-Length"), repr(r.read()))
"#;
    let out = python_ok(script, &[&srv.port.to_string()]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0] == "200 True" || lines[0] == "204 True", "{out}");
    assert_eq!(lines[1], "200 3 b''");
}

#[test]
fn trace_is_405_by_default() {
    let site = Site::new();
    let srv = site.serve(&[]);
    let r = srv.exchange(request("TRACE", "/", &["X-Probe: 1"]));
    assert_eq!(r.status, 405, "{}", r.raw_head);
    assert!(r.has("allow"), "405 without Allow:\n{}", r.raw_head);
    assert!(
        !r.text().contains("X-Probe"),
        "TRACE echoed without --allow-trace"
    );
}

#[test]
fn trace_echoes_the_request_with_allow_trace() {
    let site = Site::new();
    let srv = site.serve(&["--allow-trace"]);
    let r = srv.exchange(request("TRACE", "/some/path?q=1", &["X-Probe: 12345"]));
    assert_eq!(r.status, 200, "{}", r.raw_head);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("message/http"));
    let text = r.text();
    assert!(
        text.starts_with("TRACE /some/path?q=1 HTTP/1.1\r\n"),
        "{text:?}"
    );
    assert!(text.contains("X-Probe: 12345"), "{text:?}");
}

#[test]
fn put_creates_201_then_replaces_204() {
    let site = Site::new();
    let srv = site.serve(&["--write"]);
    let put = |body: &str| {
        srv.exchange(format!(
            "PUT /doc.txt HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
    };
    let r = put("first version");
    assert_eq!(r.status, 201, "{}", r.raw_head);
    assert_eq!(
        std::fs::read_to_string(site.www.join("doc.txt")).unwrap(),
        "first version"
    );
    let r = put("second");
    assert_eq!(r.status, 204, "{}", r.raw_head);
    assert!(r.body.is_empty());
    assert_eq!(
        std::fs::read_to_string(site.www.join("doc.txt")).unwrap(),
        "second"
    );
    // And it is served back.
    assert_eq!(srv.get("/doc.txt", &[]).body, b"second");
    // No temporary file left behind.
    assert_eq!(site.ls(""), vec!["doc.txt"]);
}

#[test]
fn put_with_python_http_client_and_empty_body() {
    let site = Site::new();
    site.mkdir("sub");
    let srv = site.serve(&["--write"]);
    let script = r#"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("PUT", "/sub/data.bin", body=bytes(range(256)) * 1000)
r = c.getresponse(); r.read(); print(r.status)
c.request("PUT", "/empty.txt", body=b"")
r = c.getresponse(); r.read(); print(r.status)
"#;
    let out = python_ok(script, &[&srv.port.to_string()]);
    assert_eq!(out, "201\n201\n");
    let want: Vec<u8> = (0..=255u8).cycle().take(256_000).collect();
    assert_eq!(std::fs::read(site.www.join("sub/data.bin")).unwrap(), want);
    assert_eq!(std::fs::read(site.www.join("empty.txt")).unwrap(), b"");
}

#[test]
fn put_delete_post_are_405_without_write() {
    let site = Site::new();
    site.write("keep.txt", "keep");
    let srv = site.serve(&[]);
    let r = srv.exchange("PUT /new.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(r.status, 405, "{}", r.raw_head);
    assert!(r.has("allow"));
    let r = srv.exchange(request("DELETE", "/keep.txt", &[]));
    assert_eq!(r.status, 405, "{}", r.raw_head);
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.txt\"\r\n\
                \r\nhi\r\n--XyZ--\r\n";
    let r = srv.exchange(format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    assert_eq!(r.status, 405, "{}", r.raw_head);
    assert_eq!(site.ls(""), vec!["keep.txt"]);
}

#[test]
fn delete_204_then_404() {
    let site = Site::new();
    site.write("gone.txt", "bye");
    let srv = site.serve(&["--write"]);
    let r = srv.exchange(request("DELETE", "/gone.txt", &[]));
    assert_eq!(r.status, 204, "{}", r.raw_head);
    assert!(!site.www.join("gone.txt").exists());
    let r = srv.exchange(request("DELETE", "/gone.txt", &[]));
    assert_eq!(r.status, 404, "{}", r.raw_head);
}

#[test]
fn post_multipart_upload_with_curl() {
    if !has_cmd("curl") {
        return;
    }
    let site = Site::new();
    site.mkdir("inbox");
    let srv = site.serve(&["--write"]);
    let a = site.tmp.path().join("alpha.txt");
    let b = site.tmp.path().join("beta.bin");
    std::fs::write(&a, "alpha contents\r\n--not-a-boundary\r\n").unwrap();
    let beta = pseudo_random(200_000, 11);
    std::fs::write(&b, &beta).unwrap();
    let out = curl(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-F",
        &format!("file=@{}", a.display()),
        "-F",
        &format!("file=@{}", b.display()),
        &srv.url("/inbox/"),
    ]);
    let code: u16 = String::from_utf8_lossy(&out.stdout).parse().unwrap_or(0);
    assert!((200..300).contains(&code) || code == 303, "status {code}");
    assert_eq!(
        std::fs::read_to_string(site.www.join("inbox/alpha.txt")).unwrap(),
        "alpha contents\r\n--not-a-boundary\r\n"
    );
    assert_eq!(
        std::fs::read(site.www.join("inbox/beta.bin")).unwrap(),
        beta
    );
    assert_eq!(site.ls("inbox"), vec!["alpha.txt", "beta.bin"]);
}

#[test]
fn post_multipart_upload_with_python_urllib() {
    let site = Site::new();
    let srv = site.serve(&["--write"]);
    // urllib follows a 303 with a GET of the listing; either way we print the final status.
    let script = r#"
import sys, urllib.request
boundary = "----sockitTestBoundary7MA4YWxk"
parts = []
for name, data in [("one.txt", b"first file\n"), ("two.txt", b"second\r\n\r\nfile")]:
    parts.append(b"--" + boundary.encode() + b"\r\n")
    parts.append(b'Content-Disposition: form-data; name="file"; filename="' + name.encode() + b'"\r\n')
    parts.append(b"Content-Type: text/plain\r\n\r\n" + data + b"\r\n")
parts.append(b"--" + boundary.encode() + b"--\r\n")
body = b"".join(parts)
req = urllib.request.Request(sys.argv[1], data=body, method="POST",
    headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
with urllib.request.urlopen(req, timeout=10) as r:
    print(r.status)
"#;
    let out = python_ok(script, &[&srv.url("/")]);
    let code: u16 = out.trim().parse().unwrap();
    assert!((200..300).contains(&code), "final status {code}");
    assert_eq!(
        std::fs::read(site.www.join("one.txt")).unwrap(),
        b"first file\n"
    );
    assert_eq!(
        std::fs::read(site.www.join("two.txt")).unwrap(),
        b"second\r\n\r\nfile"
    );
}

#[test]
fn post_upload_never_replaces_a_file_it_numbers_the_new_one() {
    let site = Site::new();
    site.write("same.txt", "the original");
    let srv = site.serve(&["--write"]);
    // Three uploads of `same.txt` in one form, then one more request: none may replace
    // another, and the JSON answer names where each one went.
    let script = r#"
import sys, urllib.request
def post(files):
    boundary = "b0undary"
    parts = []
    for name, data in files:
        parts.append(b"--" + boundary.encode() + b"\r\n")
        parts.append(b'Content-Disposition: form-data; name="file"; filename="' + name.encode() + b'"\r\n')
        parts.append(b"Content-Type: text/plain\r\n\r\n" + data + b"\r\n")
    parts.append(b"--" + boundary.encode() + b"--\r\n")
    req = urllib.request.Request(sys.argv[1], data=b"".join(parts), method="POST",
        headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    with urllib.request.urlopen(req, timeout=10) as r:
        print(r.status, r.read().decode().strip())
post([("same.txt", b"upload one"), ("same.txt", b"upload two")])
post([("same.txt", b"upload three")])
"#;
    let out = python_ok(script, &[&srv.url("/")]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            r#"201 ["same (1).txt","same (2).txt"]"#,
            r#"201 ["same (3).txt"]"#
        ],
        "{out}"
    );
    let read = |n: &str| std::fs::read_to_string(site.www.join(n)).unwrap();
    assert_eq!(read("same.txt"), "the original");
    assert_eq!(read("same (1).txt"), "upload one");
    assert_eq!(read("same (2).txt"), "upload two");
    assert_eq!(read("same (3).txt"), "upload three");
    assert_eq!(
        site.ls(""),
        ["same (1).txt", "same (2).txt", "same (3).txt", "same.txt"]
    );
}

#[test]
fn connect_is_405() {
    let site = Site::new();
    let srv = site.serve(&[]);
    let r = srv.exchange("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    assert_eq!(r.status, 405, "{}", r.raw_head);
}

#[test]
fn unknown_method_is_501() {
    let site = Site::new();
    site.write("pot", "coffee");
    let srv = site.serve(&[]);
    for m in ["BREW", "PROPFIND"] {
        let r = srv.exchange(request(m, "/pot", &[]));
        assert_eq!(r.status, 501, "{m}:\n{}", r.raw_head);
    }
}
