//! Unit tests of the wire format: round trips, and every bound refused before allocation.

use super::proto::*;
use crate::transfer::records::{Ack, FileResult, Record, Status};

fn sample() -> Offer {
    let e = |kind, path: &[&str], size| Entry {
        kind,
        mode: 0o755,
        size,
        mtime: -5,
        mtime_nanos: 999_999_999,
        path: path.iter().map(|s| s.to_string()).collect(),
        link: None,
    };
    let mut link = e(Kind::Symlink, &["d", "l"], 0);
    link.link = Some("f".into());
    Offer {
        name: "host".into(),
        total: 10,
        entries: vec![
            e(Kind::Folder, &["d"], 0),
            e(Kind::File, &["d", "f"], 10),
            link,
        ],
    }
}

#[test]
fn hello_round_trip_and_wrong_magic() {
    let h = Hello {
        version: VERSION,
        caps: CAP_RESUME,
        session: [7; 16],
    };
    let bytes = h.encode();
    assert_eq!(bytes.len(), HELLO_LEN);
    assert_eq!(&bytes[..4], b"SKXF");
    assert_eq!(Hello::read(&mut &bytes[..]).unwrap(), h);
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert!(matches!(
        Hello::read(&mut &bad[..]),
        Err(ProtoError::BadMagic(_))
    ));
}

#[test]
fn offer_round_trip() {
    let o = sample();
    let bytes = encode_offer(&o).unwrap();
    assert_eq!(read_offer(&mut &bytes[..]).unwrap(), o);
}

/// Patches the header of an encoded offer.
fn with_header(len: u32, count: u32, total: u64, name: u16) -> Vec<u8> {
    let mut out = Vec::new();
    pack(&OFFER, &(OFFER_MAGIC, len, count, total, name), &mut out);
    out
}

#[test]
fn bounds_are_refused_before_allocation() {
    // None of these headers is followed by a body: refusal must come from the
    // header alone (a body read would fail with UnexpectedEof instead).
    for (h, what) in [
        (with_header(limits::MANIFEST_BYTES + 1, 1, 0, 0), "manifest"),
        (with_header(100, limits::ENTRIES + 1, 0, 0), "entries"),
        (with_header(100, 1, 0, limits::NAME + 1), "name"),
    ] {
        let err = read_offer(&mut &h[..]).unwrap_err();
        assert!(
            matches!(&err, ProtoError::Invalid(m) if m.contains(what)),
            "{err}"
        );
    }
    // More entries than the body could hold is refused before the entry vector is sized.
    let mut h = with_header(30, 900_000, 0, 0);
    h.extend_from_slice(&[0; 30]);
    let err = read_offer(&mut &h[..]).unwrap_err();
    assert!(err.to_string().contains("cannot fit"), "{err}");
}

/// Builds a one-entry manifest body by hand.
fn one_entry(kind: u8, mode: u16, size: u64, nanos: u32, comps: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    pack(
        &ENTRY,
        &(kind, mode, size, 0, nanos, comps.len() as u8),
        &mut body,
    );
    for c in comps {
        pack(&LEN16, &(c.len() as u16,), &mut body);
        body.extend_from_slice(c);
    }
    let mut out = with_header(body.len() as u32, 1, size, 0);
    out.extend_from_slice(&body);
    out
}

#[test]
fn bad_fields_are_refused() {
    let long = vec![b'a'; 256];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (one_entry(9, 0, 0, 0, &[b"a"]), "kind"),
        (one_entry(1, 0o10000, 0, 0, &[b"a"]), "mode"),
        (one_entry(1, 0, 0, 1_000_000_000, &[b"a"]), "nanoseconds"),
        (one_entry(0, 0, 5, 0, &[b"a"]), "not a file"),
        (
            one_entry(1, 0, limits::FILE_SIZE + 1, 0, &[b"a"]),
            "declares",
        ),
        (one_entry(1, 0, 0, 0, &[]), "path components"),
        (one_entry(1, 0, 0, 0, &[&long]), "256 bytes"),
        (one_entry(1, 0, 0, 0, &[b""]), "empty"),
        (one_entry(1, 0, 0, 0, &[b"\xff\xfe"]), "UTF-8"),
    ];
    for (bytes, what) in cases {
        let err = read_offer(&mut &bytes[..]).unwrap_err();
        assert!(err.to_string().contains(what), "{what}: {err}");
    }
    let comps: Vec<&[u8]> = vec![b"a"; 65];
    let err = read_offer(&mut &one_entry(1, 0, 0, 0, &comps)[..]).unwrap_err();
    assert!(err.to_string().contains("path components"), "{err}");
}

#[test]
fn totals_and_trailing_bytes_must_match() {
    let mut bytes = one_entry(1, 0o644, 3, 0, &[b"a"]);
    // Header total 3 is right; change it to 4.
    bytes[17] = 4;
    assert!(read_offer(&mut &bytes[..])
        .unwrap_err()
        .to_string()
        .contains("add up"));
}

#[test]
fn answers_records_and_acks_round_trip() {
    let answers = [
        Answer::Send,
        Answer::Skip,
        Answer::Refuse,
        Answer::Resume {
            offset: 1 << 40,
            hash: [3; 32],
        },
        Answer::Same {
            hash: [4; 32],
            send: true,
        },
        Answer::Same {
            hash: [5; 32],
            send: false,
        },
    ];
    for a in answers {
        let mut out = Vec::new();
        a.encode(&mut out);
        assert_eq!(out.len(), ANSWER_LEN);
        assert_eq!(Answer::read(&mut &out[..]).unwrap(), a);
    }
    let records = [
        Record::FileStart { index: 4, start: 9 },
        Record::Data { len: 7 },
        Record::Trailer([1; 32]),
        Record::Abort("gone".into()),
        Record::End,
    ];
    for r in records {
        let mut out = Vec::new();
        r.encode(&mut out);
        assert_eq!(Record::read(&mut &out[..]).unwrap(), r);
    }
    let acks = [
        Ack::Progress(5),
        Ack::Verdict {
            index: 2,
            result: FileResult::Mismatch,
            bytes: 8,
        },
        Ack::Status(Status {
            verified: 1,
            failed: 2,
            skipped: 3,
            bytes: 4,
        }),
        Ack::Error("bad".into()),
    ];
    for a in acks {
        let mut out = Vec::new();
        a.encode(&mut out);
        assert_eq!(Ack::read(&mut &out[..]).unwrap(), a);
    }
    let (v, why) = read_decision(&mut &encode_decision(Verdict::TooLarge, "big")[..]).unwrap();
    assert_eq!((v, why.as_str()), (Verdict::TooLarge, "big"));
}

#[test]
fn oversized_frames_and_unknown_tags_are_violations() {
    let mut out = Vec::new();
    pack(&DATA, &(b'D', limits::FRAME + 1), &mut out);
    assert!(matches!(
        Record::read(&mut &out[..]),
        Err(ProtoError::Violation(_))
    ));
    let mut zero = Vec::new();
    pack(&DATA, &(b'D', 0), &mut zero);
    assert!(matches!(
        Record::read(&mut &zero[..]),
        Err(ProtoError::Violation(_))
    ));
    assert!(matches!(
        Record::read(&mut &b"Q"[..]),
        Err(ProtoError::Violation(_))
    ));
}
