//! Bad input never panics: a one-line error on stderr and exit code 2, for bad ports, bad
//! addresses, bad option values and unknown framings, on every command that takes them.

mod common;

use common::*;

/// Runs sockit and checks: exit 2, exactly one non-empty stderr line, no panic, nothing on
/// stdout, and the line mentions `mention` (the offending input).
fn expect_usage_error(args: &[&str], mention: &str) {
    let out = run_sockit(args, b"");
    let cmd = format!("sockit {}", args.join(" "));
    assert_eq!(out.code, 2, "{cmd}: expected exit 2, got {out:?}");
    assert_no_panic(&out.stderr);
    let lines = nonempty_lines(&out.stderr);
    assert_eq!(
        lines.len(),
        1,
        "{cmd}: expected a one-line error, got:\n{}",
        out.stderr
    );
    assert!(
        lines[0].contains(mention),
        "{cmd}: the error should mention {mention:?}: {:?}",
        lines[0]
    );
    assert!(
        out.stdout.is_empty(),
        "{cmd}: stdout not empty: {:?}",
        out.stdout_text()
    );
}

/// Every command that takes an address, with `ADDR` substituted.
fn with_addr(addr: &str) -> Vec<Vec<String>> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        v(&["tcp", "listen", addr]),
        v(&["tcp", "connect", addr]),
        v(&["udp", "listen", addr]),
        v(&["udp", "send", addr, "msg"]),
    ]
}

fn each_command_rejects_address(addr: &str, mention: &str) {
    for args in with_addr(addr) {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        expect_usage_error(&a, mention);
    }
}

#[test]
fn port_99999_is_rejected() {
    each_command_rejects_address("127.0.0.1:99999", "99999");
    expect_usage_error(&["tcp", "listen", "99999"], "99999");
    expect_usage_error(&["udp", "listen", "99999"], "99999");
}

#[test]
fn port_abc_is_rejected() {
    each_command_rejects_address("127.0.0.1:abc", "abc");
    expect_usage_error(&["tcp", "listen", "abc"], "abc");
}

#[test]
fn negative_port_is_rejected() {
    each_command_rejects_address("127.0.0.1:-1", "-1");
}

#[test]
fn missing_port_is_rejected() {
    for args in [
        vec!["tcp", "connect", "127.0.0.1"],
        vec!["udp", "send", "127.0.0.1", "msg"],
    ] {
        expect_usage_error(&args, "127.0.0.1");
    }
}

#[test]
fn address_999_1_1_1_is_rejected() {
    // Looks like an IPv4 literal, so it is bad input, not a name to resolve (exit 2, not 1).
    each_command_rejects_address("999.1.1.1:80", "999.1.1.1");
}

#[test]
fn unclosed_ipv6_bracket_is_rejected() {
    each_command_rejects_address("[::1:80", "[::1:80");
}

#[test]
fn sndbuf_minus_one_is_rejected() {
    expect_usage_error(&["tcp", "listen", "--sndbuf", "-1", "127.0.0.1:0"], "-1");
    expect_usage_error(&["tcp", "connect", "--sndbuf", "-1", "127.0.0.1:9"], "-1");
    expect_usage_error(&["tcp", "listen", "--sndbuf=-1", "127.0.0.1:0"], "-1");
}

#[test]
fn sndbuf_abc_is_rejected() {
    expect_usage_error(&["tcp", "listen", "--sndbuf", "abc", "127.0.0.1:0"], "abc");
    expect_usage_error(&["tcp", "connect", "--sndbuf", "abc", "127.0.0.1:9"], "abc");
    expect_usage_error(&["udp", "listen", "--sndbuf", "abc", "127.0.0.1:0"], "abc");
}

#[test]
fn rcvbuf_abc_is_rejected() {
    expect_usage_error(&["tcp", "connect", "--rcvbuf", "abc", "127.0.0.1:9"], "abc");
}

#[test]
fn max_frame_zero_is_rejected() {
    expect_usage_error(&["tcp", "listen", "--max-frame", "0", "127.0.0.1:0"], "0");
    expect_usage_error(
        &[
            "tcp",
            "connect",
            "--frame",
            "len32",
            "--max-frame",
            "0",
            "127.0.0.1:9",
        ],
        "0",
    );
}

#[test]
fn unknown_framing_is_rejected() {
    expect_usage_error(&["tcp", "listen", "--frame", "foo", "127.0.0.1:0"], "foo");
    expect_usage_error(&["tcp", "connect", "--frame", "foo", "127.0.0.1:9"], "foo");
}

#[test]
fn bad_timeout_is_rejected() {
    expect_usage_error(
        &["tcp", "connect", "--timeout", "soon", "127.0.0.1:9"],
        "soon",
    );
    expect_usage_error(
        &["udp", "send", "--timeout", "-3", "127.0.0.1:9", "m"],
        "-3",
    );
}

#[test]
fn bad_udp_buffer_is_rejected() {
    expect_usage_error(
        &["udp", "listen", "--buffer", "lots", "127.0.0.1:0"],
        "lots",
    );
    expect_usage_error(&["udp", "listen", "--buffer", "0", "127.0.0.1:0"], "0");
}

#[test]
fn bad_bind_address_is_rejected() {
    expect_usage_error(
        &["tcp", "connect", "--bind", "300.0.0.1", "127.0.0.1:9"],
        "300.0.0.1",
    );
}

#[test]
fn unknown_subcommand_and_option_exit_2_without_panic() {
    for args in [
        vec!["tcp", "dance"],
        vec!["tcp", "listen", "--no-such-option", "127.0.0.1:0"],
    ] {
        let out = run_sockit(&args, b"");
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_no_panic(&out.stderr);
    }
}
