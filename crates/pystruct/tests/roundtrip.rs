//! Property tests: for every valid format, packing then unpacking gives the values back,
//! and for formats where every byte pattern is canonical, unpacking then packing gives the
//! bytes back.

use proptest::prelude::*;
use pystruct::{Struct, Value, F16};

/// One format item with values that survive a round trip through it.
#[derive(Clone, Debug)]
struct Item {
    count: usize,
    ch: char,
    values: Vec<Value>,
}

fn int_in(min: i128, max: i128) -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Int(min)),
        Just(Value::Int(max)),
        Just(Value::Int(0)),
        (min..=max).prop_map(Value::Int),
    ]
    .boxed()
}

/// Values of `ch` that unpack to themselves.
fn value(ch: char, native: bool, count: usize) -> BoxedStrategy<Value> {
    let long = if native { 64 } else { 32 };
    match ch {
        'c' => any::<u8>().prop_map(|b| Value::Bytes(vec![b])).boxed(),
        'b' => int_in(i8::MIN.into(), i8::MAX.into()),
        'B' => int_in(0, u8::MAX.into()),
        '?' => any::<bool>().prop_map(Value::Bool).boxed(),
        'h' => int_in(i16::MIN.into(), i16::MAX.into()),
        'H' => int_in(0, u16::MAX.into()),
        'i' => int_in(i32::MIN.into(), i32::MAX.into()),
        'I' => int_in(0, u32::MAX.into()),
        'l' => int_in(-(1i128 << (long - 1)), (1i128 << (long - 1)) - 1),
        'L' => int_in(0, (1i128 << long) - 1),
        'q' | 'n' => int_in(i64::MIN.into(), i64::MAX.into()),
        'Q' | 'N' | 'P' => int_in(0, u64::MAX.into()),
        // Every non-NaN half, as a double.
        'e' => any::<u16>()
            .prop_filter("not NaN", |h| h & 0x7c00 != 0x7c00 || h & 0x3ff == 0)
            .prop_map(|h| {
                let v = pystruct::unpack("<e", &h.to_le_bytes()).unwrap();
                v[0].clone()
            })
            .boxed(),
        // Every float: f32 values (NaNs included) widen exactly and narrow back exactly.
        'f' => any::<u32>()
            .prop_map(|b| {
                let v = pystruct::unpack("<f", &b.to_le_bytes()).unwrap();
                v[0].clone()
            })
            .boxed(),
        'd' => any::<u64>()
            .prop_map(|b| Value::Float(f64::from_bits(b)))
            .boxed(),
        // Exactly `count` bytes: shorter strings come back zero-padded.
        's' => proptest::collection::vec(any::<u8>(), count..=count)
            .prop_map(Value::Bytes)
            .boxed(),
        'p' => {
            let max = count.saturating_sub(1).min(255);
            proptest::collection::vec(any::<u8>(), 0..=max)
                .prop_map(Value::Bytes)
                .boxed()
        }
        _ => Just(Value::Int(0)).boxed(),
    }
}

fn item(native: bool) -> impl Strategy<Value = Item> {
    let chars: Vec<char> = if native {
        "xcbB?hHiIlLqQnNPefdsp".chars().collect()
    } else {
        "xcbB?hHiIlLqQefdsp".chars().collect()
    };
    (proptest::sample::select(chars), 0usize..4).prop_flat_map(move |(ch, count)| {
        let count = if ch == 'p' { count + 1 } else { count };
        let n = match ch {
            'x' => 0,
            's' | 'p' => 1,
            _ => count,
        };
        proptest::collection::vec(value(ch, native, count), n..=n).prop_map(move |values| Item {
            count,
            ch,
            values,
        })
    })
}

fn format_and_values() -> impl Strategy<Value = (String, Vec<Value>)> {
    proptest::sample::select(vec!["", "@", "=", "<", ">", "!"]).prop_flat_map(|prefix| {
        let native = matches!(prefix, "" | "@");
        proptest::collection::vec(item(native), 0..8).prop_map(move |items| {
            let mut fmt = prefix.to_string();
            let mut values = Vec::new();
            for it in items {
                fmt.push_str(&format!("{}{} ", it.count, it.ch));
                values.extend(it.values);
            }
            (fmt, values)
        })
    })
}

/// Values equal, with floats compared by bits (so NaN == NaN and -0.0 != 0.0).
fn same(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            _ => x == y,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn pack_then_unpack_gives_the_values_back((fmt, values) in format_and_values()) {
        let st = Struct::new(&fmt).unwrap();
        let data = st.pack(&values).unwrap();
        prop_assert_eq!(data.len(), st.size());
        let back = st.unpack(&data).unwrap();
        prop_assert!(same(&back, &values), "{fmt:?}: {values:?} -> {back:?}");
        let refs: Vec<Value> = st.unpack_refs(&data).unwrap().map(Value::from).collect();
        prop_assert!(same(&refs, &values));
        let mut with = Vec::new();
        st.unpack_with(&data, |v| with.push(Value::from(v))).unwrap();
        prop_assert!(same(&with, &values));
        // unpack_into over a Vec of the wrong length and kinds of values.
        let mut into = vec![Value::from(b"old"), Value::Int(5), Value::from(b"")];
        into.resize(values.len() % 5, Value::Float(0.5));
        st.unpack_into(&data, &mut into).unwrap();
        prop_assert!(same(&into, &values));
        // pack_to_vec appends the same bytes.
        let mut appended = vec![1, 2];
        st.pack_to_vec(&values, &mut appended).unwrap();
        prop_assert_eq!(&appended[2..], &data[..]);
        // pack_into at an offset writes the same bytes and leaves the rest alone.
        let mut buf = vec![0xa5u8; st.size() + 7];
        st.pack_into(&mut buf, 3, &values).unwrap();
        prop_assert_eq!(&buf[3..3 + st.size()], &data[..]);
        prop_assert!(buf[..3].iter().chain(&buf[3 + st.size()..]).all(|&b| b == 0xa5));
        prop_assert!(same(&st.unpack_from(&buf, 3).unwrap(), &values));
    }

    #[test]
    fn unpack_then_pack_gives_the_bytes_back(
        prefix in proptest::sample::select(vec!["=", "<", ">", "!"]),
        chars in proptest::collection::vec(proptest::sample::select("cbBhHiIlLqQds".chars().collect::<Vec<_>>()), 0..10),
        seed in any::<u64>(),
    ) {
        let fmt: String = std::iter::once(prefix.to_string())
            .chain(chars.iter().map(|c| format!("{}{c}", if *c == 's' { "3" } else { "" })))
            .collect();
        let st = Struct::new(&fmt).unwrap();
        let mut x = seed;
        let data: Vec<u8> = (0..st.size())
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 56) as u8
            })
            .collect();
        let values = st.unpack(&data).unwrap();
        prop_assert_eq!(st.pack(&values).unwrap(), data);
    }

    #[test]
    fn typed_round_trip(a in any::<i32>(), name in any::<[u8; 5]>(), h in any::<f32>(), q in any::<u64>(), flag in any::<bool>()) {
        let st = Struct::new("i5sfQ?").unwrap();
        let data = st.pack_as(&(a, name, h, q, flag)).unwrap();
        let (a2, name2, h2, q2, flag2): (i32, [u8; 5], f32, u64, bool) = st.unpack_as(&data).unwrap();
        prop_assert_eq!((a2, name2, h2.to_bits(), q2, flag2), (a, name, h.to_bits(), q, flag));
    }
}

/// The 32-field benchmark record as a typed record: arrays of every numeric type.
type Rec32 = (
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

/// The values of a typed 32-field record, in format order, as the dynamic path takes them.
fn rec32_values(r: &Rec32) -> Vec<Value> {
    let mut v: Vec<Value> = Vec::new();
    v.extend(r.0.iter().map(|&x| Value::from(x)));
    v.extend(r.1.iter().map(|&x| Value::from(x)));
    v.extend(r.2.iter().map(|&x| Value::from(x)));
    v.extend(r.3.iter().map(|&x| Value::from(x)));
    v.extend(r.4.iter().map(|&x| Value::from(x)));
    v.extend(r.5.iter().map(|&x| Value::from(x)));
    v.extend(r.6.iter().map(|&x| Value::from(x)));
    v.extend(r.7.iter().map(|&x| Value::from(x)));
    v.extend(r.8.iter().map(|&x| Value::from(x)));
    v
}

/// A NaN made quiet (payload kept): going through a Python float quiets a signalling NaN,
/// which the typed path (exact bits) does not; and every half NaN packs as the default one.
fn quiet32(x: f32) -> f32 {
    if x.is_nan() {
        f32::from_bits(x.to_bits() | 0x0040_0000)
    } else {
        x
    }
}

fn quiet64(x: f64) -> f64 {
    if x.is_nan() {
        f64::from_bits(x.to_bits() | 0x0008_0000_0000_0000)
    } else {
        x
    }
}

fn half(bits: u16) -> F16 {
    let h = F16::from_bits(bits);
    if h.to_f64().is_nan() {
        F16::from_bits((bits & 0x8000) | 0x7e00)
    } else {
        h
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn typed_wide_record_matches_the_dynamic_path(
        a in any::<[u32; 4]>(), b in any::<[u16; 4]>(), c in any::<[u64; 4]>(),
        d in any::<[f64; 4]>(), e in any::<[u8; 4]>(), f in any::<[i8; 4]>(),
        g in any::<[i16; 4]>(), h in any::<[f32; 2]>(), k in any::<[u16; 2]>(),
        prefix in prop::sample::select(vec!["<", ">", "!", "=", "@"]),
    ) {
        let rec: Rec32 = (a, b, c, d.map(quiet64), e, f, g, h.map(quiet32), k.map(half));
        let st = Struct::new(format!("{prefix}4I4H4Q4d4B4b4h2f2e")).unwrap();
        let typed = st.typed::<Rec32>().unwrap();
        let values = rec32_values(&rec);
        let data = typed.pack(&rec).unwrap();
        prop_assert_eq!(&data, &st.pack(&values).unwrap());
        let mut buf = vec![0xaa; st.size() + 3];
        typed.pack_into(&mut buf, 3, &rec).unwrap();
        prop_assert_eq!(&buf[3..], &data[..]);
        // Unpacking any bytes: the same values both ways (floats by bits).
        let back = typed.unpack(&data).unwrap();
        prop_assert!(same(&rec32_values(&back), &st.unpack(&data).unwrap()));
        prop_assert_eq!(typed.pack(&back).unwrap(), data);
    }

    #[test]
    fn typed_wide_record_unpacks_any_bytes_like_the_dynamic_path(
        bytes in prop::collection::vec(any::<u8>(), 116),
        big in any::<bool>(),
    ) {
        let st = Struct::new(if big { ">4I4H4Q4d4B4b4h2f2e" } else { "<4I4H4Q4d4B4b4h2f2e" }).unwrap();
        let typed = st.typed::<Rec32>().unwrap();
        let rec = typed.unpack(&bytes).unwrap();
        prop_assert!(same(&rec32_values(&rec), &st.unpack(&bytes).unwrap()));
        // The typed path keeps every bit, NaN payloads included.
        prop_assert_eq!(typed.pack(&rec).unwrap(), bytes);
    }

    #[test]
    fn byte_arrays_fit_s_b_and_c(x in any::<[u8; 3]>(), n in any::<i8>()) {
        for fmt in ["<3sb", "<3Bb", "<3cb", "<BcBb"] {
            let st = Struct::new(fmt).unwrap();
            let typed = st.typed::<([u8; 3], i8)>().unwrap();
            let data = typed.pack(&(x, n)).unwrap();
            prop_assert_eq!(&data[..3], &x[..]);
            prop_assert_eq!(typed.unpack(&data).unwrap(), (x, n));
        }
    }

    #[test]
    fn half_conversions_are_cpythons(bits in any::<u16>(), x in any::<f64>()) {
        // Exact both ways for every non-NaN half.
        let h = F16::from_bits(bits);
        if !h.to_f64().is_nan() {
            prop_assert_eq!(F16::from_f64(h.to_f64()).unwrap(), h);
            prop_assert_eq!(F16::from_f32(h.to_f32()).unwrap(), h);
            prop_assert_eq!(f64::from(h.to_f32()).to_bits(), h.to_f64().to_bits());
        }
        // Rounding and overflow as `struct.pack('e', x)`.
        let st = Struct::new("<e").unwrap();
        match (F16::from_f64(x), st.pack(&[Value::Float(x)])) {
            (Ok(h), Ok(data)) => prop_assert_eq!(h.to_bits().to_le_bytes().to_vec(), data),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
        }
    }
}
