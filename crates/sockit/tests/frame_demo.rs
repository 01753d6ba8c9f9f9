//! `sockit demo sticky`: shows raw reads merging several messages (TCP is a byte stream,
//! "sticky packets"), then `len32` framing recovering every message whole.

mod common;

use common::*;

/// The part of the demo's output about len32 framing (from its first mention on).
fn len32_part(text: &str) -> &str {
    let i = text
        .to_lowercase()
        .find("len32")
        .unwrap_or_else(|| panic!("demo output never mentions len32:\n{text}"));
    &text[i..]
}

#[test]
fn demo_sticky_len32_recovers_all_20_messages() {
    let out = run_sockit(&["demo", "sticky"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    assert_no_panic(&out.stderr);
    let text = format!("{}\n{}", out.stdout_text(), out.stderr);
    let part = len32_part(&text);
    assert!(
        part.split(|c: char| !c.is_ascii_digit()).any(|n| n == "20"),
        "the len32 part should report all 20 messages:\n{part}"
    );
}

#[test]
fn demo_sticky_raw_part_comes_before_len32() {
    let out = run_sockit(&["demo", "sticky"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = format!("{}\n{}", out.stdout_text(), out.stderr).to_lowercase();
    let raw = text
        .find("raw")
        .unwrap_or_else(|| panic!("no raw part:\n{text}"));
    let len32 = text
        .find("len32")
        .unwrap_or_else(|| panic!("no len32 part:\n{text}"));
    assert!(
        raw < len32,
        "raw reads should be shown before len32:\n{text}"
    );
}
