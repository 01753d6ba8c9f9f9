//! A format and arbitrary values: every packing call must give bytes or an error, never
//! panic or touch memory outside the record (the packing loops store unchecked, so this
//! target is where a wrong layout invariant would show, under the address sanitizer).
//! Bytes that pack must unpack to values that pack to the same bytes; the typed path must
//! agree with the dynamic one wherever a Rust type binds the format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pystruct::{Struct, Value};

/// Values decoded from the fuzzer's bytes: a tag byte picks the kind.
fn values(mut data: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some((&tag, rest)) = data.split_first() {
        data = rest;
        let take = |data: &mut &[u8], n: usize| {
            let (a, b) = data.split_at(n.min(data.len()));
            *data = b;
            a.to_vec()
        };
        let v = match tag % 4 {
            0 => {
                let mut b = [0u8; 16];
                let raw = take(&mut data, 16);
                b[..raw.len()].copy_from_slice(&raw);
                // Mostly small ints, sometimes the extremes of each width.
                let i = i128::from_le_bytes(b);
                Value::Int(match tag / 4 % 4 {
                    0 => i % 300,
                    1 => i >> 64,
                    2 => i >> 100,
                    _ => i,
                })
            }
            1 => Value::Bool(tag & 0x80 != 0),
            2 => {
                let mut b = [0u8; 8];
                let raw = take(&mut data, 8);
                b[..raw.len()].copy_from_slice(&raw);
                Value::Float(f64::from_le_bytes(b))
            }
            _ => {
                let n = usize::from(tag >> 2) % 20;
                Value::Bytes(take(&mut data, n))
            }
        };
        out.push(v);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (format, rest) = rest.split_at(usize::from(n % 32).min(rest.len()));
    let Ok(st) = Struct::new(format) else { return };
    if st.size() > 1 << 16 {
        return;
    }
    let vals = values(rest);
    let packed = st.pack(&vals);
    let mut buf = vec![0xA5u8; st.size() + 3];
    let into = st.pack_into(&mut buf, 3, &vals);
    assert_eq!(packed.is_ok(), into.is_ok());
    let mut reused = vec![1, 2, 3];
    let to_vec = st.pack_to_vec(&vals, &mut reused);
    assert_eq!(packed.is_ok(), to_vec.is_ok());
    if let Ok(bytes) = packed {
        assert_eq!(bytes.len(), st.size());
        assert_eq!(&buf[3..], &bytes[..]);
        assert_eq!(&reused[3..], &bytes[..]);
        let back = match st.unpack(&bytes) {
            Ok(back) => back,
            // CPython cannot unpack a `0p` field either (SystemError): packing it is
            // fine, reading it back is not.
            Err(pystruct::Error::ZeroPascal) => return,
            Err(e) => panic!("packed bytes do not unpack: {e}"),
        };
        assert_eq!(st.pack(&back).expect("unpacked values pack"), bytes);
        if let Ok(typed) = st.typed::<(u32, u16, u16, u64)>() {
            let rec = typed.unpack(&bytes).expect("typed unpack");
            let mut again = vec![0u8; st.size()];
            typed.pack_into(&mut again, 0, &rec).expect("typed pack");
            assert_eq!(again, bytes);
        }
        if let Ok(typed) = st.typed::<([u8; 4], [i16; 2], f64)>() {
            let rec = typed.unpack(&bytes).expect("typed unpack");
            let mut again = vec![0u8; st.size()];
            typed.pack_into(&mut again, 0, &rec).expect("typed pack");
            assert_eq!(again, bytes);
        }
    }
});
