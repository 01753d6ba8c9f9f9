//! The formats and values both benchmarks use (and `bench/struct.sh` times in CPython):
//! `i5sf` (the course's record), `<IHHQ` (a typical header), `!I` (a length prefix) and
//! a 32-field record of every standard-size numeric type.

use pystruct::{Struct, Value};

/// The 32-field record: every standard-size numeric type.
pub const REC32: &str = "<4I4H4Q4d4B4b4h2f2e";

/// One benchmarked format with the values packed per call.
pub struct Case {
    /// Name used in benchmark ids (`pack_into/i5sf`).
    pub id: &'static str,
    /// The compiled format.
    pub st: Struct,
    /// One record's values.
    pub values: Vec<Value>,
}

/// The four cases, in the order the reports list them.
pub fn cases() -> Vec<Case> {
    let mut rec32 = Vec::new();
    rec32.extend((0..4).map(|i| Value::Int(4_000_000_000 - i)));
    rec32.extend((0..4).map(|i| Value::Int(60_000 + i)));
    rec32.extend((0..4).map(|i| Value::Int(1 << (40 + i))));
    rec32.extend((0..4).map(|i| Value::Float(1.5 + f64::from(i))));
    rec32.extend((0..4).map(|i| Value::Int(200 + i)));
    rec32.extend((0..4).map(|i| Value::Int(-100 - i)));
    rec32.extend((0..4).map(|i| Value::Int(-30_000 + i)));
    rec32.extend((0..2).map(|i| Value::Float(0.25 * f64::from(i))));
    rec32.extend((0..2).map(|i| Value::Float(2.5 + f64::from(i))));
    let case = |id, fmt: &str, values| Case {
        id,
        st: Struct::new(fmt).expect("valid format"),
        values,
    };
    vec![
        case(
            "i5sf",
            "i5sf",
            vec![Value::Int(1), Value::from(b"zhang"), Value::Float(1.75)],
        ),
        case(
            "<IHHQ",
            "<IHHQ",
            vec![
                Value::Int(0xdead_beef),
                Value::Int(1),
                Value::Int(2),
                Value::Int(1 << 40),
            ],
        ),
        case("!I", "!I", vec![Value::Int(1500)]),
        case("rec32", REC32, rec32),
    ]
}
