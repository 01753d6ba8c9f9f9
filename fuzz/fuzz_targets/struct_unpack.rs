//! A format (length-prefixed by the first byte) and arbitrary record bytes: unpacking in
//! every way must give values or an error, never panic, and repacking must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pystruct::{Struct, Value};

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (format, bytes) = rest.split_at(usize::from(n).min(rest.len()));
    let Ok(st) = Struct::new(format) else { return };
    if let Ok(values) = st.unpack(bytes) {
        let _ = st.pack(&values);
    }
    for offset in 0..4 {
        let _ = st.unpack_from(bytes, offset);
    }
    if let Ok(records) = st.iter_unpack(bytes) {
        records.for_each(drop);
    }
    if let Ok(values) = st.unpack_refs(bytes) {
        let owned: Vec<Value> = values.map(Value::from).collect();
        let _ = pystruct::repr::tuple(&owned);
    }
    let _ = st.unpack_as::<(i64, &[u8], f64)>(bytes);
});
