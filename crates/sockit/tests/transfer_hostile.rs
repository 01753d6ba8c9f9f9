//! Hostile offers from a sender written in Python from docs/protocol.md alone
//! (`transfer_hostile.py`): every unsafe path and every oversized field is refused before
//! anything is written, data beyond the accepted manifest ends the session with nothing
//! kept, and peer-supplied names are printed escaped. That the script works at all shows
//! the protocol document is enough to write a peer.

mod common;

use common::*;
use std::path::Path;

const HOSTILE: &str = include_str!("transfer_hostile.py");

/// Runs one hostile case against a fresh `sockit recv --once --yes`; returns the script's
/// stdout, the receiver's stderr and exit code.
fn attack(case: &str, dir: &Path) -> (String, String, i32) {
    if !has_cmd("python3") {
        return (String::new(), String::new(), -1);
    }
    let d = dir.to_str().unwrap();
    let mut r = Proc::sockit_with_stdin(
        &[
            "recv",
            "--dir",
            d,
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--once",
            "--yes",
        ],
        std::process::Stdio::null(),
    );
    let port = r.listening_addr("tcp").port().to_string();
    let out = run_python(HOSTILE, &["127.0.0.1", &port, case], b"");
    let code = r.expect_exit();
    (out.stdout_text(), r.stderr.text(), code)
}

fn empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn every_unsafe_path_and_oversized_field_is_refused_with_nothing_written() {
    let cases = [
        ("absolute", "/"),
        ("dotdot", "\"..\""),
        ("dot", "\".\""),
        ("empty", "empty name"),
        ("nul", "\\x00"),
        ("control", "\\x1b"),
        ("backslash", "\\\\"),
        ("long", "256 bytes"),
        ("notutf8", "UTF-8"),
        ("deep", "65 path components"),
        ("case", "same name"),
        ("nfc", "same name"),
        ("clash", "not a folder"),
        ("orphan", "before its folder"),
        ("partname", "part files"),
        ("linkout", "leaves the offer"),
        ("linkabs", "absolute link target"),
        ("entries", "1000001 entries"),
        ("manifest", "manifest of 16777217 bytes"),
        ("total", "add up"),
    ];
    for (case, why) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (out, err, code) = attack(case, dir.path());
        if code == -1 {
            return;
        }
        assert!(
            out.starts_with("VERDICT 1 "),
            "{case}: the offer was not refused as invalid: {out}\n{err}"
        );
        assert!(
            out.contains(why),
            "{case}: reason {out:?} does not say {why:?}"
        );
        assert!(err.contains("refused the offer"), "{case}: {err}");
        assert!(
            !err.contains('\x1b') && !err.contains('\0'),
            "{case}: raw control bytes printed: {err:?}"
        );
        assert_eq!(code, 1, "{case}: {err}");
        assert!(empty(dir.path()), "{case}: something was written");
    }
}

#[test]
fn data_beyond_the_manifest_ends_the_session_with_nothing_kept() {
    for (case, why) in [
        ("beyond", "past the declared size"),
        ("unasked", "not a file"),
        ("wrongstart", "not accepted"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (out, err, code) = attack(case, dir.path());
        if code == -1 {
            return;
        }
        assert!(out.contains("VERDICT 0"), "{case}: {out}\n{err}");
        assert!(
            out.contains("ACK Z") && out.contains(why),
            "{case}: {out}\n{err}"
        );
        assert_eq!(code, 1, "{case}: {err}");
        // The accepted folder entry was created; no file, no part file.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["f"], "{case}: {names:?}");
    }
}

#[test]
fn names_with_bidi_overrides_are_printed_escaped_and_bad_digests_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (out, err, code) = attack("bidi", dir.path());
    if code == -1 {
        return;
    }
    assert!(
        out.contains("ACK V 0 1"),
        "digest mismatch expected: {out}\n{err}"
    );
    assert!(err.contains("evil\\u{202e}txt.exe"), "{err}");
    assert!(
        !err.contains('\u{202e}'),
        "raw bidi override printed: {err:?}"
    );
    assert!(
        err.contains("digest mismatch: the part file was deleted"),
        "{err}"
    );
    assert!(
        err.contains("(hostile)"),
        "the sender's name is shown: {err}"
    );
    assert_eq!(code, 1);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "only the folder entry: {names:?}");
}
