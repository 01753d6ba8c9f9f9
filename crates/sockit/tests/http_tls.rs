//! TLS on both ends: the client verifies by default (system bundle), trusts a private
//! CA with --cacert, one certificate with --pin, anything with --insecure (warned);
//! `http serve --tls-cert/--tls-key` and `--tls-self-signed` (curl --cacert verifies
//! it); peers are Python's `ssl` with an openssl-made CA and leaf, and curl.

mod http_common;

use http_common::*;

/// `sockit http serve --tls-*` on `site`, returning the server and its https port.
fn serve_tls(site: &Site, extra: &[&str]) -> (Proc, u16) {
    let dir = site.www.to_str().unwrap();
    let mut args = vec!["http", "serve", dir, "--port", "0", "--bind", "127.0.0.1"];
    args.extend_from_slice(extra);
    let srv = Proc::sockit(&args);
    let line = srv
        .wait_for_stderr_line("on https://", STARTUP_TIMEOUT)
        .unwrap_or_else(|| panic!("no startup line\n{}", srv.diag()));
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("bad line {line}"));
    (srv, port)
}

#[test]
fn curl_and_sockit_trust_the_self_signed_ca_that_serve_prints() {
    if !has_cmd("curl") {
        return;
    }
    let site = Site::new();
    site.write("a.txt", "over tls\n");
    let ca = site.tmp.path().join("ca.pem");
    let (srv, port) = serve_tls(
        &site,
        &["--tls-self-signed", "--tls-ca-out", ca.to_str().unwrap()],
    );
    let line = srv.expect_stderr_line("clients trust the CA in");
    assert!(line.contains(ca.to_str().unwrap()), "{line}");
    let url = format!("https://localhost:{port}/a.txt");
    let out = curl(&["-sS", "--cacert", ca.to_str().unwrap(), &url]);
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "over tls\n");
    let out = run_sockit(
        &["http", "get", "--cacert", ca.to_str().unwrap(), &url],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout_text(), "over tls\n");
    // The printed fingerprint pins the leaf.
    let fp = line
        .split("SHA-256 ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let out = run_sockit(
        &[
            "http",
            "get",
            "--pin",
            fp,
            &format!("https://127.0.0.1:{port}/a.txt"),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn verification_is_on_by_default_and_insecure_warns() {
    let site = Site::new();
    site.write("a.txt", "x");
    let (_srv, port) = serve_tls(
        &site,
        &[
            "--tls-self-signed",
            "--tls-ca-out",
            site.tmp.path().join("c.pem").to_str().unwrap(),
        ],
    );
    let url = format!("https://127.0.0.1:{port}/a.txt");
    let out = run_sockit(&["http", "get", &url], b"");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("UnknownIssuer"), "{}", out.stderr);
    assert!(
        out.stderr.contains("--cacert"),
        "the error says what to do: {}",
        out.stderr
    );
    let out = run_sockit(&["http", "get", "--pin", &"ab".repeat(32), &url], b"");
    assert_eq!(out.code, 1, "a wrong pin fails: {}", out.stderr);
    let out = run_sockit(&["http", "get", "-k", &url], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("warning: --insecure"), "{}", out.stderr);
    assert_eq!(out.stdout_text(), "x");
}

#[test]
fn python_ssl_server_with_an_openssl_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let Some((ca, leaf, key)) = openssl_ca_and_leaf(dir.path()) else {
        return;
    };
    let peer = PyPeer::start_tls(&leaf, &key);
    let url = format!("https://localhost:{}/echo", peer.port);
    let out = run_sockit(
        &["http", "get", "-v", "--cacert", ca.to_str().unwrap(), &url],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout_text()
            .starts_with("GET /echo HTTP/1.1\r\nHost: localhost:"),
        "{}",
        out.stdout_text()
    );
    assert!(out.stderr.contains("* TLS TLSv1_3"), "{}", out.stderr);
    assert!(
        out.stderr.contains("* certificate subject: CN=localhost"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("* issuer: CN=test CA"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("* SHA-256 fingerprint "),
        "{}",
        out.stderr
    );
    // The name is checked: the certificate does not name 127.0.0.2.
    let out = run_sockit(
        &[
            "http",
            "get",
            "--cacert",
            ca.to_str().unwrap(),
            "--resolve",
            &format!("wrong.test:{}:127.0.0.1", peer.port),
            &format!("https://wrong.test:{}/echo", peer.port),
        ],
        b"",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("not valid for name \"wrong.test\""),
        "{}",
        out.stderr
    );
}

#[test]
fn serve_with_pem_files_keeps_alive_and_serves_ranges_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let Some((ca, leaf, key)) = openssl_ca_and_leaf(dir.path()) else {
        return;
    };
    let site = Site::new();
    site.write("a.txt", "0123456789");
    let (_srv, port) = serve_tls(
        &site,
        &[
            "--tls-cert",
            leaf.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let url = format!("https://localhost:{port}/a.txt");
    let out = run_sockit(
        &[
            "http",
            "get",
            "-v",
            "--cacert",
            ca.to_str().unwrap(),
            &url,
            &url,
            "-H",
            "Range: bytes=2-4",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout_text(), "234234");
    assert!(
        out.stderr.contains("< HTTP/1.1 206 Partial Content\\r\\n"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("* reusing connection").count(),
        1,
        "{}",
        out.stderr
    );
}

#[test]
fn raw_speaks_tls_too() {
    let site = Site::new();
    site.write("a.txt", "raw");
    let ca = site.tmp.path().join("ca.pem");
    let (_srv, port) = serve_tls(
        &site,
        &["--tls-self-signed", "--tls-ca-out", ca.to_str().unwrap()],
    );
    let target = format!("localhost:{port}");
    let out = run_sockit(
        &[
            "http",
            "raw",
            &target,
            "--tls",
            "--cacert",
            ca.to_str().unwrap(),
            "--check",
        ],
        b"GET /a.txt HTTP/1.1\nHost: localhost\n\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout_text().ends_with("\r\n\r\nraw"),
        "{}",
        out.stdout_text()
    );
    assert!(out.stderr.contains("sockit: TLS TLSv1_3"), "{}", out.stderr);
}
