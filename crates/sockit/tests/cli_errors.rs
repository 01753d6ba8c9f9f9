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

// ---------------------------------------------------------------------------------------
// Absurd sizes and durations (issue 9, items 1, 2 and 14): refused while parsing, with
// the flag, the value and the limit in one line, instead of an aborted allocation, an
// overflowing timer or a network error later.
// ---------------------------------------------------------------------------------------

#[test]
fn udp_buffers_beyond_a_datagram_are_refused() {
    expect_usage_error(
        &["udp", "listen", "--buffer", "64G", "127.0.0.1:0"],
        "invalid value '64G' for '--buffer <BYTES>': more than the maximum of 65536 bytes",
    );
    expect_usage_error(
        &[
            "udp",
            "send",
            "--wait-reply",
            "--buffer",
            "999999999G",
            "127.0.0.1:9",
            "m",
        ],
        "'999999999G' for '--buffer <BYTES>'",
    );
    expect_usage_error(
        &["udp", "listen", "--buffer", "65537", "127.0.0.1:0"],
        "65536",
    );
}

#[test]
fn datagram_records_must_fit_a_datagram() {
    expect_usage_error(
        &["udp", "listen", "--unpack", "100000s", "127.0.0.1:0"],
        "cannot fit in one UDP datagram",
    );
    expect_usage_error(
        &["udp", "send", "--pack", "100000000000s", "127.0.0.1:9"],
        "100000000000s",
    );
}

#[test]
fn fixed_records_above_max_frame_are_refused() {
    for size in ["100000000000", "18446744073709551615"] {
        let value = format!("fixed:{size}");
        for cmd in [
            ["tcp", "listen", "127.0.0.1:0"],
            ["tcp", "connect", "127.0.0.1:9"],
        ] {
            let mut args = cmd.to_vec();
            args.extend(["--frame", &value]);
            expect_usage_error(
                &args,
                &format!(
                    "invalid value '{value}' for '--frame <FRAMING>': a record of {size} bytes is \
                     larger than --max-frame (16777216 bytes"
                ),
            );
        }
    }
    expect_usage_error(
        &["tcp", "listen", "127.0.0.1:0", "--frame", "fixed:2M"],
        "fixed:2M",
    );
    expect_usage_error(
        &[
            "tcp",
            "listen",
            "127.0.0.1:0",
            "--frame",
            "fixed:2000000",
            "--max-frame",
            "1M",
        ],
        "larger than --max-frame (1048576 bytes",
    );
}

#[test]
fn max_frame_itself_is_bounded() {
    expect_usage_error(
        &["tcp", "listen", "--max-frame", "2G", "127.0.0.1:0"],
        "invalid value '2G' for '--max-frame <BYTES>': more than the maximum of 1073741824 bytes",
    );
    expect_usage_error(
        &["tcp", "listen", "--max-frame", "-1", "127.0.0.1:0"],
        "must not be negative",
    );
}

#[test]
fn struct_headers_cannot_size_a_buffer() {
    expect_usage_error(
        &[
            "tcp",
            "listen",
            "--frame",
            "struct:1000000000xI",
            "127.0.0.1:0",
        ],
        "too long",
    );
}

#[test]
fn durations_are_bounded_and_above_the_timer_resolution() {
    for (value, says) in [
        ("1e-9", "below 1 ms"),
        ("0", "must be more than 0"),
        ("-1", "must not be negative"),
        ("nan", "not a"),
        ("inf", "not a duration"),
        ("18446744073709551615", "more than one year"),
        ("366d", "more than one year"),
    ] {
        expect_usage_error(
            &["udp", "send", "--timeout", value, "127.0.0.1:9", "m"],
            &format!("invalid value '{value}' for '--timeout <SECS>': {says}"),
        );
        expect_usage_error(
            &["tcp", "connect", "--timeout", value, "127.0.0.1:9"],
            &format!("invalid value '{value}' for '--timeout <SECS>': {says}"),
        );
    }
}

#[test]
fn keepalive_below_a_second_is_a_usage_error() {
    for value in ["1e-9", "0.5", "0", "32768"] {
        let flag = format!("--keepalive={value}");
        expect_usage_error(&["tcp", "connect", &flag, "127.0.0.1:9"], "TCP_KEEPIDLE");
        expect_usage_error(&["tcp", "listen", &flag, "127.0.0.1:0"], "TCP_KEEPIDLE");
    }
}

#[test]
fn negative_numbers_get_a_range_message() {
    expect_usage_error(
        &["demo", "sticky", "--count", "-1"],
        "invalid value '-1' for '--count <COUNT>': -1 is not in 1..=10000",
    );
    expect_usage_error(&["demo", "sticky", "-n", "-1"], "1..=10000");
    expect_usage_error(&["udp", "listen", "-1"], "invalid port '-1': out of range");
    expect_usage_error(
        &["udp", "send", "127.0.0.1:9", "m", "--buffer", "-1"],
        "must not be negative",
    );
}

#[test]
fn help_works_as_a_command_and_with_help() {
    let out = run_sockit(&["help", "--help"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout_text().contains("Usage: sockit help"), "{out:?}");
    let out = run_sockit(&["help", "tcp", "listen"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout_text().contains("--slow-client"), "{out:?}");
    assert!(!out.stdout_text().contains('\x1b'), "plain text, no styles");
    let out = run_sockit(&["help", "nope"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(nonempty_lines(&out.stderr).len(), 1, "{}", out.stderr);
}

#[test]
fn keepalive_takes_its_seconds_with_equals_or_as_keepalive_idle() {
    for args in [
        &["tcp", "connect", "127.0.0.1:1", "--keepalive-idle", "30"][..],
        &["tcp", "connect", "127.0.0.1:1", "--keepalive=30"],
        &["tcp", "connect", "127.0.0.1:1", "--keepalive"],
    ] {
        let out = run_sockit(args, b"");
        // Port 1 refuses: a network error (1), never a usage error (2).
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
    }
    let out = run_sockit(
        &["tcp", "connect", "127.0.0.1:1", "--keepalive", "1e-9"],
        b"",
    );
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn a_negative_http_port_gets_a_range_message() {
    let out = run_sockit(&["http", "serve", ".", "-p", "-1"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("invalid value '-1' for '--port <PORT>'"),
        "{}",
        out.stderr
    );
}
