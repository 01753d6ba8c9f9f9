//! Any text as a Python literal: parsing must give a value or an error, never panic, and
//! a parsed value's repr must parse back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pystruct::{literal, repr, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = literal::parse(text) else {
        return;
    };
    let again = literal::parse(&repr::value(&value)).expect("a repr parses back");
    match (&value, &again) {
        (Value::Float(a), Value::Float(b)) => {
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
        }
        _ => assert_eq!(value, again),
    }
});
