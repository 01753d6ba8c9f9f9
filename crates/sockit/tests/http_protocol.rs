//! `sockit http serve`: the HTTP/1.x wire protocol — message framing, persistent
//! connections, pipelining, `Expect: 100-continue`, request bodies, malformed heads,
//! protocol versions. Driven by raw sockets, Python's `http.client` and curl.

mod http_common;

use http_common::*;
use std::time::Duration;

/// Asserts the headers every response must carry.
fn assert_standard_headers(r: &Response) {
    assert!(r.has("date"), "no Date in\n{}", r.raw_head);
    assert!(r.has("server"), "no Server in\n{}", r.raw_head);
    assert!(r.has("content-type"), "no Content-Type in\n{}", r.raw_head);
    assert!(
        r.has("content-length") || r.is_chunked(),
        "neither Content-Length nor chunked in\n{}",
        r.raw_head
    );
    if let Some(date) = r.header("date") {
        assert!(
            date.ends_with(" GMT"),
            "Date is not an IMF-fixdate: {date:?}"
        );
    }
}

#[test]
fn get_returns_file_with_length_date_server_type() {
    let site = Site::new();
    site.write("hello.txt", "hello, world\n");
    let srv = site.serve(&[]);
    let r = srv.get("/hello.txt", &[]);
    assert_eq!(r.status, 200, "{}", r.raw_head);
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.body, b"hello, world\n");
    assert_standard_headers(&r);
    assert_eq!(r.header("content-length"), Some("13"));
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
}

#[test]
fn error_responses_are_framed_too() {
    // 404, 405, 301, 501: each must be a complete message on a connection that stays usable.
    let site = Site::new();
    site.mkdir("dir");
    site.write("a.txt", "a");
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    for (req, want) in [
        (request("GET", "/missing", &[]), 404),
        (request("DELETE", "/a.txt", &[]), 405),
        (request("GET", "/dir", &[]), 301),
        (request("GET", "/a.txt", &[]), 200),
    ] {
        c.send(&req).unwrap();
        let r = c.read_response().unwrap();
        assert_eq!(r.status, want, "for {req:?}:\n{}", r.raw_head);
        assert_standard_headers(&r);
    }
    // 501 may close the connection (the method's body framing is unknown), so use a new one.
    let r = srv.exchange(request("BREW", "/a.txt", &[]));
    assert_eq!(r.status, 501);
    assert_standard_headers(&r);
}

#[test]
fn http11_connection_is_persistent_by_default() {
    let site = Site::new();
    site.write("a.txt", "AAA");
    site.write("b.txt", "BBBB");
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    for _ in 0..3 {
        c.send(request("GET", "/a.txt", &[])).unwrap();
        let r = c.read_response().unwrap();
        assert_eq!(r.body, b"AAA");
        assert!(!r.connection_has("close"), "{}", r.raw_head);
        c.send(request("GET", "/b.txt", &[])).unwrap();
        assert_eq!(c.read_response().unwrap().body, b"BBBB");
    }
}

#[test]
fn connection_close_is_honoured() {
    let site = Site::new();
    site.write("a.txt", "AAA");
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    c.send(request("GET", "/a.txt", &["Connection: close"]))
        .unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.body, b"AAA");
    assert!(r.connection_has("close"), "{}", r.raw_head);
    assert!(
        c.wait_closed(Duration::from_secs(5)),
        "server kept the connection open"
    );
    assert!(c.buffered().is_empty(), "extra bytes after the response");
}

#[test]
fn http10_closes_unless_keep_alive() {
    let site = Site::new();
    site.write("a.txt", "AAA");
    let srv = site.serve(&[]);

    // Plain HTTP/1.0: one request per connection.
    let mut c = srv.connect();
    c.send("GET /a.txt HTTP/1.0\r\n\r\n").unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"AAA");
    assert!(
        r.version == "HTTP/1.1" || r.version == "HTTP/1.0",
        "bad version {}",
        r.version
    );
    assert!(
        c.wait_closed(Duration::from_secs(5)),
        "HTTP/1.0 connection not closed"
    );

    // HTTP/1.0 with keep-alive: the connection survives and says so.
    let mut c = srv.connect();
    for _ in 0..2 {
        c.send("GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
        let r = c.read_response().unwrap();
        assert_eq!(r.body, b"AAA");
        assert!(r.connection_has("keep-alive"), "{}", r.raw_head);
        assert!(
            r.has("content-length"),
            "HTTP/1.0 keep-alive needs Content-Length"
        );
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let site = Site::new();
    site.write("1.txt", "one");
    site.write("2.txt", "two!");
    site.write("3.txt", "three");
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    // All five requests in one write, including a HEAD and a 404 in the middle.
    let mut burst = String::new();
    burst += &request("GET", "/1.txt", &[]);
    burst += &request("HEAD", "/2.txt", &[]);
    burst += &request("GET", "/nope", &[]);
    burst += &request("GET", "/2.txt", &[]);
    burst += &request("GET", "/3.txt", &[]);
    c.send(burst).unwrap();
    let r1 = c.read_response().unwrap();
    let r2 = c.read_response_for(true).unwrap();
    let r3 = c.read_response().unwrap();
    let r4 = c.read_response().unwrap();
    let r5 = c.read_response().unwrap();
    assert_eq!((r1.status, r1.body.as_slice()), (200, &b"one"[..]));
    assert_eq!(r2.status, 200);
    assert_eq!(r2.header("content-length"), Some("4"));
    assert_eq!(r3.status, 404);
    assert_eq!((r4.status, r4.body.as_slice()), (200, &b"two!"[..]));
    assert_eq!((r5.status, r5.body.as_slice()), (200, &b"three"[..]));
}

#[test]
fn many_pipelined_requests_in_one_write() {
    // 200 requests in one write: more than one read buffer's worth of heads.
    let site = Site::new();
    for i in 0..10 {
        site.write(&format!("f{i}.txt"), format!("file number {i}"));
    }
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    let mut burst = String::new();
    for i in 0..200 {
        burst += &request(
            "GET",
            &format!("/f{}.txt", i % 10),
            &["User-Agent: pipeline-test"],
        );
    }
    c.send(burst).unwrap();
    for i in 0..200 {
        let r = c.read_response().unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(
            r.text(),
            format!("file number {}", i % 10),
            "response {i} out of order"
        );
    }
}

#[test]
fn get_with_a_body_is_consumed_not_parsed_as_next_request() {
    let site = Site::new();
    site.write("a.txt", "AAA");
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    // The body looks like a request; it must be skipped, not answered.
    let body = "GET /nope HTTP/1.1\r\n\r\n";
    c.send(format!(
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
    .unwrap();
    c.send(request("GET", "/a.txt", &[])).unwrap();
    let r1 = c.read_response().unwrap();
    let r2 = c.read_response().unwrap();
    assert_eq!(r1.status, 200);
    assert_eq!(r2.status, 200, "the body was treated as a request");
    assert_eq!(r2.body, b"AAA");
}

#[test]
fn expect_100_continue_then_body() {
    let site = Site::new();
    let srv = site.serve(&["--write"]);
    let mut c = srv.connect();
    let body = "uploaded after 100 Continue";
    c.send(format!(
        "PUT /up.txt HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    ))
    .unwrap();
    // The interim response must come before we send the body.
    let interim = c.read_head().unwrap();
    assert_eq!(interim.status, 100, "{}", interim.raw_head);
    c.send(body).unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 201, "{}", r.raw_head);
    assert_eq!(
        std::fs::read_to_string(site.www.join("up.txt")).unwrap(),
        body
    );
}

#[test]
fn expect_100_continue_is_not_sent_when_request_is_refused() {
    // Without --write the PUT is refused with a final status; no 100 first.
    let site = Site::new();
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    c.send("PUT /up.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .unwrap();
    let r = c.read_head().unwrap();
    assert_eq!(r.status, 405, "{}", r.raw_head);
}

#[test]
fn chunked_request_body_is_decoded() {
    let site = Site::new();
    let srv = site.serve(&["--write"]);
    let mut c = srv.connect();
    c.send(
        "PUT /chunked.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\n\
         7;ext=1\r\n, world\r\n\
         A\r\n0123456789\r\n\
         0\r\nX-Trailer: yes\r\n\r\n",
    )
    .unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 201, "{}", r.raw_head);
    assert_eq!(
        std::fs::read_to_string(site.www.join("chunked.txt")).unwrap(),
        "hello, world0123456789"
    );
    // The connection is still in sync after the trailer.
    c.send(request("GET", "/chunked.txt", &[])).unwrap();
    assert_eq!(c.read_response().unwrap().text(), "hello, world0123456789");
}

#[test]
fn malformed_heads_get_400_and_close() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&[]);
    let cases: &[&[u8]] = &[
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /a.txt HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
        b"GET /a.txt HTTP/1.1\r\nHost : x\r\n\r\n", // space before colon (RFC 9112 §5.1)
        b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n", // obs-fold
        b"GET /a.txt HTTP/1.1\r\nHost: x\r\nBad\x01Name: v\r\n\r\n",
        b"GET /a\x7f.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /a.txt FOO/1.1\r\nHost: x\r\n\r\n",
        b"GET /a.txt HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    ];
    for raw in cases {
        let mut c = srv.connect();
        c.send_lossy(raw);
        let r = c
            .read_response()
            .unwrap_or_else(|e| panic!("no response to {:?}: {e}", String::from_utf8_lossy(raw)));
        assert_eq!(
            r.status,
            400,
            "for {:?}:\n{}",
            String::from_utf8_lossy(raw),
            r.raw_head
        );
        assert!(
            c.wait_closed(Duration::from_secs(5)),
            "connection left open after 400 for {:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn unsupported_versions_get_505() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&[]);
    for v in ["HTTP/2.0", "HTTP/3.0"] {
        let r = srv.exchange(format!("GET /a.txt {v}\r\nHost: x\r\n\r\n"));
        assert_eq!(r.status, 505, "for {v}:\n{}", r.raw_head);
    }
}

#[test]
fn python_http_client_reuses_one_connection() {
    let site = Site::new();
    site.write("a.txt", "AAA");
    site.write("b.bin", pseudo_random(100_000, 7));
    let srv = site.serve(&[]);
    let script = r#"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
socks = set()
for path in ["/a.txt", "/b.bin", "/missing", "/a.txt"]:
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    socks.add(id(c.sock))
    print(r.status, len(body), r.version)
print("sockets", len(socks))
"#;
    let out = python_ok(script, &[&srv.port.to_string()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "200 3 11");
    assert_eq!(lines[1], "200 100000 11");
    assert!(lines[2].starts_with("404 "), "{out}");
    assert_eq!(lines[3], "200 3 11");
    assert_eq!(
        lines[4], "sockets 1",
        "http.client had to reconnect:\n{out}"
    );
}

#[test]
fn curl_reuses_the_connection_for_two_urls() {
    if !has_cmd("curl") {
        return;
    }
    let site = Site::new();
    site.write("a.txt", "AAA");
    site.write("b.txt", "BBB");
    let srv = site.serve(&[]);
    let out = curl(&["-sv", &srv.url("/a.txt"), &srv.url("/b.txt")]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "AAABBB");
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        err.contains("re-using existing") || err.contains("reusing existing"),
        "curl did not reuse the connection:\n{err}"
    );
}

#[test]
fn curl_http10_and_chunked_upload() {
    if !has_cmd("curl") {
        return;
    }
    let site = Site::new();
    site.write("a.txt", "AAA");
    let srv = site.serve(&["--write"]);
    let out = curl(&["-s", "--http1.0", &srv.url("/a.txt")]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "AAA");

    // curl sends chunked when told to, and Expect: 100-continue for large bodies.
    let data = pseudo_random(300_000, 3);
    let src = site.tmp.path().join("upload.bin");
    std::fs::write(&src, &data).unwrap();
    let out = curl(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "Transfer-Encoding: chunked",
        "-T",
        src.to_str().unwrap(),
        &srv.url("/up.bin"),
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "201");
    assert_eq!(std::fs::read(site.www.join("up.bin")).unwrap(), data);
}
