//! `sockit pack`, `unpack` and `calcsize`, run as the real binary and compared with
//! CPython's `struct` module (tests that need `python3` skip with a printed reason when
//! it is missing).

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

const SOCKIT: &str = env!("CARGO_BIN_EXE_sockit");

/// Runs sockit with `args` and `stdin`.
fn sockit(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(SOCKIT)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sockit runs");
    let mut input = child.stdin.take().expect("piped stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("sockit finishes");
    let _ = writer.join();
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a Python snippet and returns its stdout, or `None` (with a printed reason) when
/// python3 is not installed.
fn python(code: &str) -> Option<Vec<u8>> {
    match Command::new("python3").args(["-c", code]).output() {
        Ok(out) => {
            assert!(out.status.success(), "python3 failed: {}", stderr(&out));
            Some(out.stdout)
        }
        Err(e) => {
            common::skip(&format!(
                "cannot run python3 ({e}): no comparison with CPython"
            ));
            None
        }
    }
}

fn python_text(code: &str) -> Option<String> {
    python(code).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Asserts a usage error: exit code 2, nothing on stdout, one line on stderr.
fn assert_usage_error(out: &Output, mentions: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(out));
    assert_eq!(err.lines().count(), 1, "one line expected: {err:?}");
    assert!(err.starts_with("sockit: "), "{err:?}");
    assert!(
        err.contains(mentions),
        "{err:?} should mention {mentions:?}"
    );
}

#[test]
fn course_example_i5sf_packs_like_python() {
    let out = sockit(&["pack", "i5sf", "1", "b'zhang'", "1.75"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "010000007a68616e670000000000e03f\n");
    if let Some(py) =
        python_text("import struct; print(struct.Struct('i5sf').pack(1, b'zhang', 1.75).hex())")
    {
        assert_eq!(stdout(&out), py);
    }
}

#[test]
fn course_example_i5sf_unpacks_like_python() {
    let out = sockit(&["unpack", "i5sf", "010000007a68616e670000000000e03f"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "(1, b'zhang', 1.75)\n");
    if let Some(py) = python_text(
        "import struct; print(struct.Struct('i5sf').unpack(bytes.fromhex('010000007a68616e670000000000e03f')))",
    ) {
        assert_eq!(stdout(&out), py);
    }
}

#[test]
fn raw_output_is_exactly_the_packed_bytes() {
    let out = sockit(
        &[
            "pack",
            "--raw",
            "<IHHQ",
            "0xdeadbeef",
            "1",
            "2",
            "1_099_511_627_776",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout.len(), 16);
    if let Some(py) = python("import struct, sys; sys.stdout.buffer.write(struct.pack('<IHHQ', 0xdeadbeef, 1, 2, 1<<40))") {
        assert_eq!(out.stdout, py);
    }
    // Flags may also follow the values, which may be negative.
    let out = sockit(&["pack", "!h", "-2", "--raw"], b"");
    assert_eq!(out.stdout, [0xff, 0xfe]);
}

#[test]
fn json_output_maps_every_type() {
    let out = sockit(
        &[
            "unpack",
            "--json",
            "<i5s?dd",
            "ffffffff 7a68616e67 01 000000000000f83f 000000000000f07f",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "[-1, \"zhang\", true, 1.5, \"inf\"]\n");
}

#[test]
fn stdin_with_several_records_prints_one_tuple_each_like_iter_unpack() {
    let data: Vec<u8> = (0u8..24).collect();
    let out = sockit(&["unpack", "<hbB"], &data);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 6);
    if let Some(py) = python_text(
        "import struct; [print(t) for t in struct.iter_unpack('<hbB', bytes(range(24)))]",
    ) {
        assert_eq!(stdout(&out), py);
    }
}

#[test]
fn stdin_pipe_from_pack_raw_round_trips() {
    let packed = sockit(&["pack", "--raw", "!I", "1500"], b"");
    let out = sockit(&["unpack", "!I"], &packed.stdout);
    assert_eq!(stdout(&out), "(1500,)\n");
    // Hex text on stdin with --hex, as `sockit pack` prints it.
    let hex = sockit(&["pack", "i5sf", "1", "b'zhang'", "1.75"], b"");
    let out = sockit(&["unpack", "--hex", "i5sf"], &hex.stdout);
    assert_eq!(stdout(&out), "(1, b'zhang', 1.75)\n");
}

#[test]
fn file_input_is_read_raw() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("records.bin");
    let Some(py) = python(&format!(
        "import struct; open({:?}, 'wb').write(struct.pack('<hd', -7, -0.0) + struct.pack('<hd', 300, 1e16))",
        path.display().to_string()
    )) else {
        return;
    };
    assert!(py.is_empty());
    let out = sockit(
        &[
            "unpack",
            "<hd",
            "--file",
            path.to_str().expect("utf-8 path"),
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "(-7, -0.0)\n(300, 1e+16)\n");
}

#[test]
fn partial_records_are_a_usage_error() {
    let out = sockit(&["unpack", "<i"], &[1, 2, 3, 4, 5]);
    assert_usage_error(&out, "not a whole number of 4-byte records");
    let out = sockit(&["unpack", "<i", "0x010203"], b"");
    assert_usage_error(&out, "not a whole number");
    let out = sockit(&["unpack", "<i"], b"");
    assert_usage_error(&out, "no bytes to unpack");
}

#[test]
fn bad_format_exits_2_with_one_line() {
    let out = sockit(&["pack", "i5z", "1"], b"");
    assert_usage_error(&out, "bad char in struct format");
    let out = sockit(&["unpack", "<n", "0011223344556677"], b"");
    assert_usage_error(&out, "native mode");
    let out = sockit(&["calcsize", "4 h"], b"");
    assert_usage_error(&out, "bad char");
    let out = sockit(&["calcsize", "3"], b"");
    assert_usage_error(&out, "repeat count given without format specifier");
}

#[test]
fn bad_value_exits_2() {
    let out = sockit(&["pack", "5s", "zhang"], b"");
    assert_usage_error(&out, "b'zhang'");
    let out = sockit(&["pack", "5s", "'zhang'"], b"");
    assert_usage_error(&out, "write b'zhang'");
    let out = sockit(&["pack", "B", "256"], b"");
    assert_usage_error(&out, "ubyte format requires 0 <= number <= 255");
    let out = sockit(&["pack", "i", "1.5"], b"");
    assert_usage_error(&out, "required argument is not an integer");
    let out = sockit(&["pack", "<e", "1e6"], b"");
    assert_usage_error(&out, "float too large to pack with e format");
    let out = sockit(&["unpack", "i", "zz"], b"");
    assert_usage_error(&out, "bad hex");
}

#[test]
fn wrong_number_of_values_exits_2() {
    let out = sockit(&["pack", "i5sf", "1", "b'zhang'"], b"");
    assert_usage_error(&out, "pack expected 3 items for packing (got 2)");
    let out = sockit(&["pack", "i", "1", "2"], b"");
    assert_usage_error(&out, "pack expected 1 items for packing (got 2)");
}

#[test]
fn calcsize_matches_python() {
    let formats = [
        "i5sf", "=i5sf", "@qc", "@c0q", "<c0q", "!I", "<IHHQ", "P", "3x2p", " 4h ",
    ];
    let mut ours = String::new();
    for f in formats {
        let out = sockit(&["calcsize", f], b"");
        assert!(out.status.success(), "{f}: {}", stderr(&out));
        ours.push_str(&stdout(&out));
    }
    assert_eq!(ours.lines().next(), Some("16"));
    if let Some(py) = python_text(&format!(
        "import struct\nfor f in {formats:?}: print(struct.calcsize(f))"
    )) {
        assert_eq!(ours, py);
    }
}

#[test]
fn many_formats_pack_and_unpack_like_python() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "<IHHQ",
            &["4294967295", "0", "65535", "18446744073709551615"],
            "4294967295, 0, 65535, 18446744073709551615",
        ),
        ("!I", &["1500"], "1500"),
        (">q", &["-9223372036854775808"], "-9223372036854775808"),
        ("<e", &["0.1"], "0.1"),
        ("<f", &["-0.0"], "-0.0"),
        ("<d", &["1e-5"], "1e-05"),
        ("<d", &["nan"], "float('nan')"),
        ("<d", &["-inf"], "float('-inf')"),
        ("?", &["True"], "True"),
        ("3?", &["0", "b''", "2.5"], "0, b'', 2.5"),
        ("c", &["b'\\xff'"], "b'\\xff'"),
        ("4s", &["b\"it's long\""], "b\"it's long\""),
        ("5p", &["b'ab'"], "b'ab'"),
        (
            "@bq",
            &["-1", "0x7fff_ffff_ffff_ffff"],
            "-1, 0x7fff_ffff_ffff_ffff",
        ),
        ("2x h x", &["-0o17"], "-0o17"),
    ];
    let mut script = String::from("import struct\n");
    let mut ours = String::new();
    for (fmt, values, py_values) in cases {
        let mut args = vec!["pack", fmt];
        args.extend_from_slice(values);
        let packed = sockit(&args, b"");
        assert!(
            packed.status.success(),
            "{fmt} {values:?}: {}",
            stderr(&packed)
        );
        let hex = stdout(&packed);
        ours.push_str(&hex);
        let unpacked = sockit(&["unpack", fmt, hex.trim()], b"");
        assert!(unpacked.status.success(), "{fmt}: {}", stderr(&unpacked));
        ours.push_str(&stdout(&unpacked));
        script.push_str(&format!(
            "b = struct.pack({fmt:?}, {py_values})\nprint(b.hex())\nprint(struct.unpack({fmt:?}, b))\n"
        ));
    }
    if let Some(py) = python_text(&script) {
        assert_eq!(ours, py);
    }
}

/// Integers of any size pack into `e`, `f` and `d` as CPython converts them (correctly
/// rounded to a double, then the field's own rules), and are refused by integer fields
/// with CPython's message, never with "integer too large".
#[test]
fn big_integers_pack_into_float_fields_like_python() {
    let out = sockit(
        &["pack", "@f", "340282356779733661637539395458142568448"],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "0000807f\n");
    let big = [
        "340282356779733661637539395458142568448",  // 2**128 - 2**103: the f tie
        "340282356779733661637539395458142568447",  // just below it
        "340282346638528859811704183484516925440",  // f32::MAX
        "-340282366920938463463374607431768211456", // -2**128
        "170141183460469231731687303715884105728",  // i128::MAX + 1
        "0x20000000000001000000000000000000001",     // a double tie, plus 1: rounds up
        "0x20000000000001000000000000000000000",     // the tie: to even
        "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368", // f64::MAX
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792", // 2**1024 - 2**970: overflows a double
    ];
    let formats = ["@f", "<f", ">e", "e", "d", "!d", "=f", "<h", "Q", "P", "?"];
    let cases: Vec<(&str, &str)> = formats
        .iter()
        .flat_map(|f| big.iter().map(move |v| (*f, *v)))
        .collect();
    // One Python process answers every case, one line each.
    let script: String = cases
        .iter()
        .map(|(f, v)| {
            format!(
                "try: print(struct.pack({f:?}, {v}).hex())\n\
                 except struct.error as e: print('error', e)\n"
            )
        })
        .collect();
    let Some(py) = python_text(&format!("import struct\n{script}")) else {
        return;
    };
    assert_eq!(py.lines().count(), cases.len());
    for ((format, value), py) in cases.iter().zip(py.lines()) {
        let out = sockit(&["pack", format, value], b"");
        if let Some(msg) = py.strip_prefix("error ") {
            assert_usage_error(&out, msg);
        } else {
            assert!(out.status.success(), "{format} {value}: {}", stderr(&out));
            assert_eq!(stdout(&out), format!("{py}\n"), "{format} {value}");
        }
    }
}

/// Runs a bash script with `$SOCKIT` set to the binary (for `ulimit -v` and pipes).
fn sh(script: &str) -> Output {
    Command::new("bash")
        .args(["-c", script])
        .env("SOCKIT", SOCKIT)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("bash runs")
}

/// A 100 MB record under a 250 MB address-space limit: its 200 MB of hex text is
/// streamed, never built in memory (it used to abort in `String::with_capacity`).
#[test]
fn pack_streams_the_hex_of_a_huge_record_under_a_memory_limit() {
    let out = sh("ulimit -v 250000; \"$SOCKIT\" pack 100000000x | wc -c");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "200000001");
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    // --repr streams too.
    let out = sh("ulimit -v 100000; \"$SOCKIT\" pack --repr 5000000x | tail -c 6");
    assert_eq!(stdout(&out), "\\x00'\n", "{}", stderr(&out));
}

/// A record that cannot be held at all is one clean line and exit 2, never an abort.
#[test]
fn pack_of_a_record_larger_than_memory_exits_2() {
    for args in ["1000000000x", "99999999999s \"b''\""] {
        let out = sh(&format!("ulimit -v 400000; \"$SOCKIT\" pack {args}"));
        assert_usage_error(&out, "cannot allocate a record of");
    }
}

/// `unpack` holds one record at a time: 40 MB of records through a 40 MB limit (reading
/// the input whole used to fail), and a claimed 100 GB record costs only what arrives.
#[test]
fn unpack_streams_records_under_a_memory_limit() {
    let out =
        sh("ulimit -v 40000; head -c 40000000 /dev/zero | \"$SOCKIT\" unpack 1000000x | uniq -c");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "40 ()");
    let out = sh("ulimit -v 100000; head -c 150000000 /dev/zero | \"$SOCKIT\" unpack 99999999999s");
    assert_usage_error(&out, "more than fits in memory");
    let out = sh("ulimit -v 100000; head -c 3000000 /dev/zero | \"$SOCKIT\" unpack 99999999999s");
    assert_usage_error(&out, "got 3000000 bytes, which is not a whole number");
    // Hex text on stdin is decoded as it is read.
    let out = sh("ulimit -v 40000; head -c 2000000 /dev/zero | tr '\\0' 'a' | \"$SOCKIT\" unpack --hex 100000x | wc -l");
    assert_eq!(stdout(&out).trim(), "10", "{}", stderr(&out));
}

/// A full disk or a closed pipe on stdout is reported once, with exit 1.
#[test]
fn output_errors_are_reported_once_with_exit_1() {
    for cmd in [
        "pack '<I' 1",
        "pack --raw '<I' 1",
        "pack --repr '<I' 1",
        "unpack B 0102",
        "unpack --json B 0102",
        "calcsize i",
    ] {
        let out = sh(&format!("\"$SOCKIT\" {cmd} > /dev/full"));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
        assert!(
            err.to_lowercase()
                .contains("write stdout: no space left on device"),
            "{cmd}: {err}"
        );
    }
    for cmd in ["pack --raw 10000000x", "pack 10000000x"] {
        let mut child = Command::new(SOCKIT)
            .args(cmd.split(' '))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sockit runs");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("sockit finishes");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
        assert!(
            err.to_lowercase().contains("write stdout: broken pipe"),
            "{cmd}: {err}"
        );
    }
    let out = sh("head -c 10000000 /dev/zero | \"$SOCKIT\" unpack '<I' 2>err | head -1 >/dev/null; cat err; rm -f err");
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert!(stdout(&out)
        .to_lowercase()
        .contains("write stdout: broken pipe"));
}
