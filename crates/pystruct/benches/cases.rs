//! The formats and values both benchmarks use (and `bench/struct.sh` times in CPython):
//! `i5sf` (the course's record), `<IHHQ` (a typical header), `!I` (a length prefix) and
//! a 32-field record of every standard-size numeric type.

use pystruct::{Struct, Value, F16};

/// The 32-field record: every standard-size numeric type.
pub const REC32: &str = "<4I4H4Q4d4B4b4h2f2e";

/// The 32-field record as a Rust type, for `Struct::typed`.
pub type Rec32 = (
    [u32; 4],
    [u16; 4],
    [u64; 4],
    [f64; 4],
    [u8; 4],
    [i8; 4],
    [i16; 4],
    [f32; 2],
    [F16; 2],
);

/// The typed records of the four cases: the same values as [`cases`].
pub fn i5sf() -> (i32, [u8; 5], f32) {
    (1, *b"zhang", 1.75)
}

/// `<IHHQ`.
pub fn ihhq() -> (u32, u16, u16, u64) {
    (0xdead_beef, 1, 2, 1 << 40)
}

/// `!I`.
pub fn net_u32() -> (u32,) {
    (1500,)
}

/// The 32-field record.
pub fn rec32() -> Rec32 {
    let h = |x| F16::from_f64(x).expect("fits a half");
    (
        std::array::from_fn(|i| 4_000_000_000 - i as u32),
        std::array::from_fn(|i| 60_000 + i as u16),
        std::array::from_fn(|i| 1 << (40 + i)),
        std::array::from_fn(|i| 1.5 + i as f64),
        std::array::from_fn(|i| 200 + i as u8),
        std::array::from_fn(|i| -100 - i as i8),
        std::array::from_fn(|i| -30_000 + i as i16),
        std::array::from_fn(|i| 0.25 * i as f32),
        [h(2.5), h(3.5)],
    )
}

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
