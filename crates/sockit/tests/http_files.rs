//! `sockit http serve`: static files — index.html, folder redirects, listings (HTML and
//! JSON, sorting, tricky names), MIME types, ranges, conditional requests, precompressed
//! siblings, on-the-fly gzip, CORS, extra headers, SPA fallback, big downloads.

mod http_common;

use http_common::*;
use std::fs::File;
use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

fn set_mtime(path: &std::path::Path, secs_since_epoch: u64) {
    let f = File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs_since_epoch))
        .unwrap();
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("body is not valid gzip");
    out
}

// ---------------------------------------------------------------------------
// Folders
// ---------------------------------------------------------------------------

#[test]
fn folder_serves_its_index_html() {
    let site = Site::new();
    site.write("index.html", "<title>home</title>");
    site.write("docs/index.html", "<title>docs</title>");
    let srv = site.serve(&[]);
    let r = srv.get("/", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"<title>home</title>");
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(srv.get("/docs/", &[]).body, b"<title>docs</title>");
}

#[test]
fn folder_without_trailing_slash_redirects_301() {
    let site = Site::new();
    site.mkdir("sub");
    site.write("with space/x.txt", "x");
    let srv = site.serve(&[]);
    let r = srv.get("/sub", &[]);
    assert_eq!(r.status, 301, "{}", r.raw_head);
    let loc = r.header("location").expect("301 without Location");
    assert!(loc.ends_with("/sub/"), "Location {loc:?}");
    let r = srv.get("/with%20space", &[]);
    assert_eq!(r.status, 301);
    assert!(
        r.header("location").unwrap().ends_with("/with%20space/"),
        "{}",
        r.raw_head
    );
}

#[test]
fn curl_follows_the_folder_redirect() {
    if !has_cmd("curl") {
        return;
    }
    let site = Site::new();
    site.write("sub/index.html", "sub index");
    let srv = site.serve(&[]);
    let out = curl(&["-sL", &srv.url("/sub")]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sub index");
}

/// A folder with three files of distinct name/size/mtime orders and a subfolder.
fn listing_site() -> Site {
    let site = Site::new();
    let small = site.write("list/small.txt", "s"); // name: 3rd, size: 1st, mtime: 3rd
    let big = site.write("list/big.bin", vec![b'b'; 5000]); // name: 1st, size: 3rd, mtime: 2nd
    let mid = site.write("list/mid.txt", vec![b'm'; 300]); // name: 2nd, size: 2nd, mtime: 1st
    site.mkdir("list/zdir");
    set_mtime(&mid, 1_500_000_000);
    set_mtime(&big, 1_600_000_000);
    set_mtime(&small, 1_700_000_000);
    site
}

fn json_listing(srv: &Server, path: &str, headers: &[&str]) -> Vec<serde_json::Value> {
    let r = srv.get(path, headers);
    assert_eq!(r.status, 200, "{}", r.raw_head);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json"),
        "{}",
        r.raw_head
    );
    let v: serde_json::Value = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("listing is not JSON ({e}): {}", r.text()));
    v.as_array().expect("listing is a JSON array").clone()
}

fn entry_name(e: &serde_json::Value) -> String {
    e["name"]
        .as_str()
        .unwrap()
        .trim_end_matches('/')
        .to_string()
}

fn file_names(entries: &[serde_json::Value]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["type"] == "file")
        .map(entry_name)
        .collect()
}

#[test]
fn listing_as_json_by_accept_and_by_query() {
    let site = listing_site();
    let srv = site.serve(&[]);
    for (path, headers) in [
        ("/list/", &["Accept: application/json"][..]),
        ("/list/?format=json", &[][..]),
    ] {
        let entries = json_listing(&srv, path, headers);
        assert_eq!(entries.len(), 4, "{entries:?}");
        for e in &entries {
            for key in ["name", "size", "modified", "type"] {
                assert!(!e[key].is_null(), "entry without {key}: {e}");
            }
        }
        let find = |n: &str| entries.iter().find(|e| entry_name(e) == n).unwrap().clone();
        assert_eq!(find("big.bin")["size"], 5000);
        assert_eq!(find("big.bin")["type"], "file");
        assert_eq!(find("small.txt")["size"], 1);
        assert_eq!(find("zdir")["type"], "dir");
    }
}

#[test]
fn listing_sorts_by_name_size_and_mtime() {
    let site = listing_site();
    let srv = site.serve(&[]);
    let order = |q: &str| file_names(&json_listing(&srv, &format!("/list/?format=json&{q}"), &[]));
    assert_eq!(
        order("sort=name&order=asc"),
        ["big.bin", "mid.txt", "small.txt"]
    );
    assert_eq!(
        order("sort=name&order=desc"),
        ["small.txt", "mid.txt", "big.bin"]
    );
    assert_eq!(
        order("sort=size&order=asc"),
        ["small.txt", "mid.txt", "big.bin"]
    );
    assert_eq!(
        order("sort=size&order=desc"),
        ["big.bin", "mid.txt", "small.txt"]
    );
    assert_eq!(
        order("sort=mtime&order=asc"),
        ["mid.txt", "big.bin", "small.txt"]
    );
    assert_eq!(
        order("sort=mtime&order=desc"),
        ["small.txt", "big.bin", "mid.txt"]
    );

    // The HTML listing honours the same parameters.
    let html_order = |q: &str| {
        let text = srv.get(&format!("/list/?{q}"), &[]).text();
        let mut names = vec!["big.bin", "mid.txt", "small.txt"];
        names.sort_by_key(|n| text.find(n).unwrap_or_else(|| panic!("{n} not listed")));
        names
    };
    assert_eq!(
        html_order("sort=size&order=desc"),
        ["big.bin", "mid.txt", "small.txt"]
    );
    assert_eq!(
        html_order("sort=mtime&order=asc"),
        ["mid.txt", "big.bin", "small.txt"]
    );
    assert_eq!(
        html_order("sort=name&order=desc"),
        ["small.txt", "mid.txt", "big.bin"]
    );
}

#[test]
fn html_listing_has_names_sizes_times_and_parent_link() {
    let site = listing_site();
    let srv = site.serve(&[]);
    let r = srv.get("/list/", &[]);
    assert_eq!(r.status, 200);
    let ct = r.header("content-type").unwrap().to_ascii_lowercase();
    assert!(ct.starts_with("text/html"), "{ct}");
    let html = r.text();
    for name in ["big.bin", "mid.txt", "small.txt", "zdir"] {
        assert!(html.contains(name), "{name} missing from listing");
    }
    assert!(
        html.contains("href=\"../\"")
            || html.contains("href=\"..\"")
            || html.contains("href=\"/\""),
        "no parent link in\n{html}"
    );
    // mtime 1700000000 is 2023-11-14 22:13:20 UTC: some rendering of the year must appear.
    assert!(html.contains("2023"), "no modification time in listing");
    // No upload form without --write.
    assert!(
        !html.contains("multipart/form-data"),
        "upload form without --write"
    );
    assert!(!html.to_ascii_lowercase().contains("type=\"file\""));
}

#[test]
fn upload_form_only_with_write() {
    let site = listing_site();
    let srv = site.serve(&["--write"]);
    let html = srv.get("/list/", &[]).text();
    let lower = html.to_ascii_lowercase();
    assert!(lower.contains("method=\"post\""), "no POST form:\n{html}");
    assert!(lower.contains("enctype=\"multipart/form-data\""), "{html}");
    assert!(lower.contains("type=\"file\""), "{html}");
    assert!(lower.contains("name=\"file\""), "{html}");
    assert!(lower.contains("multiple"), "{html}");
}

/// Extracts every `href="..."` value of an HTML page, with `&amp;` unescaped.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| {
            s.replace("&#39;", "'")
                .replace("&#x27;", "'")
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
        })
        .collect()
}

#[test]
fn listing_links_work_for_tricky_names() {
    let site = Site::new();
    let names = [
        "with space.txt",
        "ünïcødé 中文.txt",
        "100%.txt",
        "a#b.txt",
        "q?x=1.txt",
        "a&b.txt",
        "semi;colon.txt",
        "plus+sign.txt",
        "quote'single.txt",
    ];
    for (i, n) in names.iter().enumerate() {
        site.write(&format!("t/{n}"), format!("content {i}"));
    }
    site.mkdir("t/sub dir");
    let srv = site.serve(&[]);
    let html = srv.get("/t/", &[]).text();
    let mut fetched = std::collections::BTreeMap::new();
    for href in hrefs(&html) {
        if href.starts_with('?') || href.starts_with("..") || href == "/" || href.contains("://") {
            continue;
        }
        let path = if href.starts_with('/') {
            href.clone()
        } else {
            format!("/t/{href}")
        };
        let r = srv.get(&path, &[]);
        if r.status == 200 && !path.ends_with('/') {
            fetched.insert(r.text(), path);
        } else if path.ends_with('/') {
            assert_eq!(r.status, 200, "folder link {path} broken");
        }
    }
    for (i, name) in names.iter().enumerate() {
        assert!(
            fetched.contains_key(&format!("content {i}")),
            "link to {name:?} missing or broken; got {fetched:?}\n{html}"
        );
    }
}

#[test]
fn percent_encoded_paths_reach_files() {
    let site = Site::new();
    site.write("with space.txt", "space");
    site.write("中文.txt", "chinese");
    let srv = site.serve(&[]);
    assert_eq!(srv.get("/with%20space.txt", &[]).body, b"space");
    assert_eq!(srv.get("/%E4%B8%AD%E6%96%87.txt", &[]).body, b"chinese");
    assert_eq!(srv.get("/with%20space.txt?cache=bust", &[]).status, 200);
}

// ---------------------------------------------------------------------------
// MIME types
// ---------------------------------------------------------------------------

#[test]
fn mime_types_by_extension() {
    let site = Site::new();
    for name in [
        "a.html", "a.png", "a.json", "a.css", "a.txt", "a.js", "a.svg",
    ] {
        site.write(name, "x");
    }
    let srv = site.serve(&[]);
    let ct = |p: &str| {
        srv.get(p, &[])
            .header("content-type")
            .unwrap()
            .to_ascii_lowercase()
            .replace(' ', "")
    };
    assert_eq!(ct("/a.html"), "text/html;charset=utf-8");
    assert_eq!(ct("/a.png"), "image/png");
    assert!(ct("/a.json").starts_with("application/json"));
    assert!(ct("/a.css").starts_with("text/css"));
    assert!(ct("/a.txt").starts_with("text/plain"));
    let js = ct("/a.js");
    assert!(
        js.starts_with("text/javascript") || js.starts_with("application/javascript"),
        "{js}"
    );
    assert!(ct("/a.svg").starts_with("image/svg+xml"));
}

// ---------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------

const DIGITS: &str = "0123456789abcdefghij"; // 20 bytes

#[test]
fn single_ranges_get_206() {
    let site = Site::new();
    site.write("d.txt", DIGITS);
    let srv = site.serve(&[]);
    let full = srv.get("/d.txt", &[]);
    assert_eq!(full.header("accept-ranges"), Some("bytes"));
    for (range, body, cr) in [
        ("bytes=2-5", "2345", "bytes 2-5/20"),
        ("bytes=15-", "fghij", "bytes 15-19/20"),
        ("bytes=-3", "hij", "bytes 17-19/20"),
        ("bytes=10-1000", "abcdefghij", "bytes 10-19/20"),
        ("bytes=0-0", "0", "bytes 0-0/20"),
    ] {
        let r = srv.get("/d.txt", &[&format!("Range: {range}")]);
        assert_eq!(r.status, 206, "{range}:\n{}", r.raw_head);
        assert_eq!(r.text(), body, "{range}");
        assert_eq!(r.header("content-range"), Some(cr), "{range}");
        assert_eq!(
            r.header("content-length"),
            Some(body.len().to_string().as_str())
        );
    }
}

#[test]
fn multiple_ranges_are_multipart_byteranges() {
    let site = Site::new();
    site.write("d.txt", DIGITS);
    let srv = site.serve(&[]);
    let r = srv.get("/d.txt", &["Range: bytes=0-1,5-6,-2"]);
    assert_eq!(r.status, 206, "{}", r.raw_head);
    let ct = r.header("content-type").unwrap();
    assert!(ct.starts_with("multipart/byteranges"), "{ct}");
    let boundary = ct
        .split("boundary=")
        .nth(1)
        .expect("no boundary")
        .trim_matches('"')
        .to_string();
    let text = r.text();
    let delim = format!("--{boundary}");
    assert!(
        text.contains(&format!("{delim}--")),
        "no closing delimiter:\n{text}"
    );
    let parts: Vec<&str> = text
        .split(&delim)
        .skip(1)
        .filter(|p| !p.starts_with("--"))
        .collect();
    assert_eq!(parts.len(), 3, "{text}");
    let expect = [
        ("bytes 0-1/20", "01"),
        ("bytes 5-6/20", "56"),
        ("bytes 18-19/20", "ij"),
    ];
    for (part, (cr, data)) in parts.iter().zip(expect) {
        let (head, body) = part.split_once("\r\n\r\n").expect("part without head");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("content-range: {cr}")),
            "{part:?}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: text/plain"),
            "{part:?}"
        );
        assert_eq!(body.strip_suffix("\r\n").unwrap_or(body), data, "{part:?}");
    }
}

#[test]
fn python_parses_multipart_byteranges() {
    // A client nobody here wrote: Python's email parser splits the multipart body.
    let site = Site::new();
    site.write("d.txt", DIGITS);
    let srv = site.serve(&[]);
    let script = r#"
import sys, urllib.request, email
req = urllib.request.Request(sys.argv[1], headers={"Range": "bytes=1-3,10-12"})
with urllib.request.urlopen(req, timeout=10) as r:
    msg = email.message_from_bytes(b"Content-Type: " + r.getheader("Content-Type").encode() + b"\r\n\r\n" + r.read())
    print(r.status)
    for p in msg.get_payload():
        print(p["Content-Range"], p.get_payload())
"#;
    let out = python_ok(script, &[&srv.url("/d.txt")]);
    assert_eq!(out, "206\nbytes 1-3/20 123\nbytes 10-12/20 abc\n");
}

#[test]
fn unsatisfiable_range_is_416() {
    let site = Site::new();
    site.write("d.txt", DIGITS);
    let srv = site.serve(&[]);
    let r = srv.get("/d.txt", &["Range: bytes=100-200"]);
    assert_eq!(r.status, 416, "{}", r.raw_head);
    assert_eq!(r.header("content-range"), Some("bytes */20"));
}

#[test]
fn if_range_decides_between_range_and_full() {
    let site = Site::new();
    site.write("d.txt", DIGITS);
    let srv = site.serve(&[]);
    let full = srv.get("/d.txt", &[]);
    let etag = full.header("etag").expect("no ETag").to_string();
    let lm = full
        .header("last-modified")
        .expect("no Last-Modified")
        .to_string();
    let r = srv.get(
        "/d.txt",
        &["Range: bytes=0-3", &format!("If-Range: {etag}")],
    );
    assert_eq!((r.status, r.text().as_str()), (206, "0123"));
    let r = srv.get("/d.txt", &["Range: bytes=0-3", &format!("If-Range: {lm}")]);
    assert_eq!((r.status, r.text().as_str()), (206, "0123"));
    let r = srv.get("/d.txt", &["Range: bytes=0-3", "If-Range: \"stale-etag\""]);
    assert_eq!((r.status, r.text().as_str()), (200, DIGITS));
    let r = srv.get(
        "/d.txt",
        &[
            "Range: bytes=0-3",
            "If-Range: Sat, 01 Jan 2000 00:00:00 GMT",
        ],
    );
    assert_eq!((r.status, r.text().as_str()), (200, DIGITS));
}

#[test]
fn curl_ranges_and_resume() {
    if !has_cmd("curl") {
        return;
    }
    let site = Site::new();
    let data = pseudo_random(1_000_000, 5);
    site.write("big.bin", &data);
    let srv = site.serve(&[]);
    let out = curl(&["-s", "-r", "0-4", &srv.url("/big.bin")]);
    assert_eq!(out.stdout, &data[..5]);
    // `curl -C -` resumes a partial download with a Range request.
    let dest = site.tmp.path().join("partial.bin");
    std::fs::write(&dest, &data[..123_456]).unwrap();
    let out = curl(&[
        "-s",
        "-C",
        "-",
        "-o",
        dest.to_str().unwrap(),
        &srv.url("/big.bin"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(&dest).unwrap() == data,
        "resumed file differs"
    );
}

// ---------------------------------------------------------------------------
// Conditional requests
// ---------------------------------------------------------------------------

#[test]
fn if_none_match_and_if_modified_since_give_304() {
    let site = Site::new();
    site.write("c.txt", "cached");
    let srv = site.serve(&[]);
    let full = srv.get("/c.txt", &[]);
    let etag = full.header("etag").expect("no ETag").to_string();
    let lm = full
        .header("last-modified")
        .expect("no Last-Modified")
        .to_string();
    assert!(etag.ends_with('"'), "ETag must be quoted: {etag}");

    let not_modified = |h: &str| {
        let mut c = srv.connect();
        c.send(request("GET", "/c.txt", &[h])).unwrap();
        let r = c.read_response().unwrap();
        assert_eq!(r.status, 304, "{h}:\n{}", r.raw_head);
        assert_eq!(
            r.header("etag"),
            Some(etag.as_str()),
            "304 must repeat the ETag"
        );
        // No body: the connection is ready for the next response right away.
        c.send(request("GET", "/c.txt", &[])).unwrap();
        assert_eq!(c.read_response().unwrap().body, b"cached");
    };
    not_modified(&format!("If-None-Match: {etag}"));
    not_modified(&format!("If-None-Match: \"other\", {etag}"));
    not_modified("If-None-Match: *");
    not_modified(&format!("If-Modified-Since: {lm}"));
    not_modified("If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT");

    let full_again = |h: &str| {
        let r = srv.get("/c.txt", &[h]);
        assert_eq!((r.status, r.body.as_slice()), (200, &b"cached"[..]), "{h}");
    };
    full_again("If-None-Match: \"other\"");
    full_again("If-Modified-Since: Mon, 01 Jan 1990 00:00:00 GMT");
    full_again("If-Modified-Since: not a date");
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    let r = srv.get(
        "/c.txt",
        &[
            "If-None-Match: \"other\"",
            &format!("If-Modified-Since: {lm}"),
        ],
    );
    assert_eq!(r.status, 200);
}

#[test]
fn if_match_and_if_unmodified_since_failing_give_412() {
    let site = Site::new();
    site.write("c.txt", "cached");
    let srv = site.serve(&[]);
    let etag = srv.get("/c.txt", &[]).header("etag").unwrap().to_string();
    assert_eq!(srv.get("/c.txt", &["If-Match: \"nope\""]).status, 412);
    assert_eq!(
        srv.get(
            "/c.txt",
            &["If-Unmodified-Since: Mon, 01 Jan 1990 00:00:00 GMT"]
        )
        .status,
        412
    );
    assert_eq!(
        srv.get("/c.txt", &[&format!("If-Match: {etag}")]).status,
        200
    );
    assert_eq!(srv.get("/c.txt", &["If-Match: *"]).status, 200);
    assert_eq!(
        srv.get(
            "/c.txt",
            &["If-Unmodified-Since: Fri, 01 Jan 2100 00:00:00 GMT"]
        )
        .status,
        200
    );
}

#[test]
fn put_with_stale_if_match_is_412_and_changes_nothing() {
    let site = Site::new();
    site.write("doc.txt", "v1");
    let srv = site.serve(&["--write"]);
    let r = srv.exchange(
        "PUT /doc.txt HTTP/1.1\r\nHost: x\r\nIf-Match: \"stale\"\r\nContent-Length: 2\r\n\r\nv2",
    );
    assert_eq!(r.status, 412, "{}", r.raw_head);
    assert_eq!(
        std::fs::read_to_string(site.www.join("doc.txt")).unwrap(),
        "v1"
    );
}

#[test]
fn etag_changes_when_the_file_changes() {
    // One connection, so the second request meets whatever the first one left cached.
    let site = Site::new();
    let p = site.write("c.txt", "one");
    set_mtime(&p, 1_600_000_000);
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    c.send(request("GET", "/c.txt", &[])).unwrap();
    let e1 = c
        .read_response()
        .unwrap()
        .header("etag")
        .unwrap()
        .to_string();
    std::fs::write(&p, "two!").unwrap();
    set_mtime(&p, 1_600_000_100);
    c.send(request("GET", "/c.txt", &[&format!("If-None-Match: {e1}")]))
        .unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, &b"two!"[..]),
        "stale cache entry"
    );
    assert_ne!(r.header("etag").unwrap(), e1);
}

#[test]
fn edited_files_are_served_fresh_on_the_next_request() {
    // Editors and build tools rewrite files while a browser keeps reloading: the very next
    // request must see the new bytes, and a size change must never produce a response
    // whose Content-Length does not match its body.
    let site = Site::new();
    let small = site.write("small.txt", "one");
    let big = site.write("big.bin", vec![b'A'; 100_000]);
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    for path in ["/small.txt", "/big.bin"] {
        c.send(request("GET", path, &[])).unwrap();
        assert_eq!(c.read_response().unwrap().status, 200);
    }
    std::fs::write(&small, "two!").unwrap();
    std::fs::write(&big, vec![b'B'; 50_000]).unwrap();
    c.send(request("GET", "/small.txt", &[])).unwrap();
    assert_eq!(
        c.read_response().unwrap().text(),
        "two!",
        "stale small file"
    );
    c.send(request("GET", "/big.bin", &[])).unwrap();
    let r = c
        .read_response()
        .unwrap_or_else(|e| panic!("broken response after the file shrank: {e}"));
    assert_eq!(r.header("content-length"), Some("50000"));
    assert!(r.body.iter().all(|&b| b == b'B'), "stale big file");
}

// ---------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------

#[test]
fn precompressed_siblings_follow_accept_encoding() {
    let site = Site::new();
    let plain = b"console.log('plain');\n".repeat(20);
    let gz = gzip(&plain);
    let br = b"pretend-brotli-bytes".to_vec();
    site.write("app.js", &plain);
    site.write("app.js.gz", &gz);
    site.write("app.js.br", &br);
    let srv = site.serve(&[]);

    let r = srv.get("/app.js", &[]);
    assert_eq!(r.body, plain);
    assert!(r.header("content-encoding").is_none());

    let r = srv.get("/app.js", &["Accept-Encoding: gzip"]);
    assert_eq!(r.header("content-encoding"), Some("gzip"), "{}", r.raw_head);
    assert_eq!(r.body, gz);
    assert!(
        r.header("content-type").unwrap().contains("javascript"),
        "{}",
        r.raw_head
    );
    assert!(
        r.header("vary")
            .map(|v| v.to_ascii_lowercase().contains("accept-encoding"))
            == Some(true),
        "no Vary: Accept-Encoding:\n{}",
        r.raw_head
    );
    assert_eq!(gunzip(&r.body), plain);

    let r = srv.get("/app.js", &["Accept-Encoding: br"]);
    assert_eq!(r.header("content-encoding"), Some("br"), "{}", r.raw_head);
    assert_eq!(r.body, br);

    let r = srv.get("/app.js", &["Accept-Encoding: gzip, deflate, br"]);
    match r.header("content-encoding") {
        Some("br") => assert_eq!(r.body, br),
        Some("gzip") => assert_eq!(r.body, gz),
        other => panic!("unexpected Content-Encoding {other:?}"),
    }

    let r = srv.get("/app.js", &["Accept-Encoding: gzip;q=0, identity"]);
    assert!(
        r.header("content-encoding").is_none(),
        "gzip;q=0 refuses gzip:\n{}",
        r.raw_head
    );
    assert_eq!(r.body, plain);

    // A sibling only exists for app.js: other files are untouched.
    site.write("other.js", "other");
    let r = srv.get("/other.js", &["Accept-Encoding: gzip, br"]);
    assert_eq!(r.body, b"other");
}

#[test]
fn curl_compressed_gets_the_original_from_a_gz_sibling() {
    if !has_cmd("curl") {
        return;
    }
    let site = Site::new();
    let plain = b"<p>hello</p>\n".repeat(100);
    site.write("page.html", &plain);
    site.write("page.html.gz", gzip(&plain));
    let srv = site.serve(&[]);
    let out = curl(&[
        "-s",
        "-H",
        "Accept-Encoding: gzip",
        "--compressed",
        &srv.url("/page.html"),
    ]);
    assert_eq!(out.stdout, plain);
}

#[test]
fn compress_flag_gzips_text_on_the_fly() {
    let site = Site::new();
    let text: Vec<u8> = (0..2000)
        .flat_map(|i| format!("<li>item {i}</li>\n").into_bytes())
        .collect();
    site.write("list.html", &text);
    site.write("pic.png", pseudo_random(5000, 1));
    let srv = site.serve(&["--compress"]);

    let r = srv.get("/list.html", &["Accept-Encoding: gzip"]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("gzip"), "{}", r.raw_head);
    assert!(r.body.len() < text.len() / 2, "not really compressed");
    assert_eq!(gunzip(&r.body), text);

    let r = srv.get("/list.html", &[]);
    assert!(r.header("content-encoding").is_none());
    assert_eq!(r.body, text);

    let r = srv.get("/pic.png", &["Accept-Encoding: gzip"]);
    assert!(
        r.header("content-encoding").is_none(),
        "PNG should not be gzipped again"
    );

    // Python's urllib + gzip module agree.
    let script = r#"
import sys, urllib.request, gzip, hashlib
req = urllib.request.Request(sys.argv[1], headers={"Accept-Encoding": "gzip"})
with urllib.request.urlopen(req, timeout=10) as r:
    print(r.getheader("Content-Encoding"), hashlib.sha256(gzip.decompress(r.read())).hexdigest())
"#;
    let out = python_ok(script, &[&srv.url("/list.html")]);
    let check = python_ok(
        "import sys,hashlib;print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
        &[site.www.join("list.html").to_str().unwrap()],
    );
    assert_eq!(out.trim(), format!("gzip {}", check.trim()));
}

// ---------------------------------------------------------------------------
// Extra headers, CORS, SPA
// ---------------------------------------------------------------------------

#[test]
fn cors_flag_adds_allow_origin() {
    let site = Site::new();
    site.write("a.json", "{}");
    let plain = site.serve(&[]);
    assert!(plain
        .get("/a.json", &["Origin: http://example.com"])
        .header("access-control-allow-origin")
        .is_none());
    let srv = site.serve(&["--cors"]);
    let r = srv.get("/a.json", &["Origin: http://example.com"]);
    let acao = r
        .header("access-control-allow-origin")
        .expect("no ACAO with --cors");
    assert!(acao == "*" || acao == "http://example.com", "{acao}");
}

#[test]
fn header_flag_adds_headers() {
    let site = Site::new();
    site.write("a.txt", "a");
    let srv = site.serve(&[
        "--header",
        "X-Frame-Options: DENY",
        "--header",
        "Cache-Control: max-age=60",
    ]);
    for path in ["/a.txt", "/"] {
        let r = srv.get(path, &[]);
        assert_eq!(
            r.header("x-frame-options"),
            Some("DENY"),
            "{path}:\n{}",
            r.raw_head
        );
        assert_eq!(
            r.header("cache-control"),
            Some("max-age=60"),
            "{path}:\n{}",
            r.raw_head
        );
    }
}

#[test]
fn spa_serves_index_for_unknown_routes() {
    let site = Site::new();
    site.write("index.html", "<div id=app></div>");
    site.write("real.txt", "real");
    let plain = site.serve(&[]);
    assert_eq!(plain.get("/app/settings", &[]).status, 404);
    let srv = site.serve(&["--spa"]);
    for route in ["/app/settings", "/users/42", "/deep/nested/route"] {
        let r = srv.get(route, &[]);
        assert_eq!(r.status, 200, "{route}");
        assert_eq!(r.body, b"<div id=app></div>", "{route}");
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
    }
    assert_eq!(srv.get("/real.txt", &[]).body, b"real");
}

// ---------------------------------------------------------------------------
// Big downloads with real clients
// ---------------------------------------------------------------------------

#[test]
fn big_file_is_byte_exact_over_raw_curl_and_python() {
    let site = Site::new();
    let data = pseudo_random(8 * 1024 * 1024 + 3, 42);
    site.write("big.bin", &data);
    let srv = site.serve(&[]);

    let r = srv.get("/big.bin", &[]);
    assert_eq!(
        r.header("content-length"),
        Some(data.len().to_string().as_str())
    );
    assert!(r.body == data, "raw download differs");

    let script = r#"
import sys, urllib.request, hashlib
with urllib.request.urlopen(sys.argv[1], timeout=20) as r:
    print(hashlib.sha256(r.read()).hexdigest())
"#;
    let got = python_ok(script, &[&srv.url("/big.bin")]);
    let want = python_ok(
        "import sys,hashlib;print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
        &[site.www.join("big.bin").to_str().unwrap()],
    );
    assert_eq!(got, want);

    if find_cmd("curl") {
        let dest = site.tmp.path().join("dl.bin");
        let out = curl(&["-s", "-o", dest.to_str().unwrap(), &srv.url("/big.bin")]);
        assert!(out.status.success());
        assert!(
            std::fs::read(&dest).unwrap() == data,
            "curl download differs"
        );
    } else {
        skip("curl not installed: curl part of big_file test");
    }
}

#[test]
fn empty_file_has_content_length_zero() {
    let site = Site::new();
    site.write("empty.txt", "");
    let srv = site.serve(&[]);
    let mut c = srv.connect();
    c.send(request("GET", "/empty.txt", &[]) + &request("GET", "/empty.txt", &[]))
        .unwrap();
    for _ in 0..2 {
        let r = c.read_response().unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-length"), Some("0"));
    }
}
