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

/// Whether `text` has `message {i}` as a whole token for every i in 1..=n.
fn names_every_message(text: &str, n: usize) -> Result<(), usize> {
    for i in 1..=n {
        let needle = format!("message {i}");
        let whole = text.match_indices(&needle).any(|(at, _)| {
            !text[at + needle.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        });
        if !whole {
            return Err(i);
        }
    }
    Ok(())
}

#[test]
fn demo_sticky_len32_part_shows_every_message_whole() {
    let out = run_sockit(&["demo", "sticky"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = format!("{}\n{}", out.stdout_text(), out.stderr);
    let part = len32_part(&text);
    if let Err(i) = names_every_message(part, 20) {
        panic!("message {i} missing from the len32 part:\n{part}");
    }
}

#[test]
fn demo_sticky_count_option_changes_the_number_of_messages() {
    let out = run_sockit(&["demo", "sticky", "--count", "7"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = format!("{}\n{}", out.stdout_text(), out.stderr);
    let part = len32_part(&text);
    assert!(
        part.split(|c: char| !c.is_ascii_digit()).any(|n| n == "7"),
        "the len32 part should report 7 messages:\n{part}"
    );
    if let Err(i) = names_every_message(part, 7) {
        panic!("message {i} missing from the len32 part:\n{part}");
    }
    assert!(
        names_every_message(part, 8).is_err(),
        "more than 7 messages:\n{part}"
    );
}

#[test]
fn demo_sticky_shows_the_end_marker_and_pacing_cures_with_their_cost() {
    let out = run_sockit(&["demo", "sticky", "-n", "10"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    assert!(
        text.contains("end marker: 10 messages sent, 10 received whole"),
        "{text}"
    );
    let paced = text
        .lines()
        .find(|l| l.starts_with("pacing: 10 messages sent"))
        .unwrap();
    // The pacing costs at least 9 pauses of 20 ms.
    let ms: f64 = paced
        .split(" received in ")
        .nth(1)
        .and_then(|r| r.split(" ms").next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(ms >= 180.0, "{paced}");
    assert!(
        text.lines()
            .last()
            .unwrap_or_default()
            .contains("costs 180 ms for 10 messages"),
        "{text}"
    );
}
