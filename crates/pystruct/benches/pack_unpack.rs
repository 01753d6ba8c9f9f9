//! Pack and unpack per call, on the formats `bench/struct.sh` also times in CPython:
//! `i5sf` (the course's record), `<IHHQ` (a typical header), `!I` (a length prefix) and
//! a 32-field record.
//!
//! Each format is measured the dynamic way (`&[Value]` in, `Vec<Value>` out, what a
//! Python-like caller does) and the allocation-free ways (`pack_into` a caller buffer,
//! borrowed `unpack_refs`, typed `unpack_as`/`pack_into_as`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use pystruct::{Struct, Value};

/// The 32-field record: every standard-size numeric type.
const REC32: &str = "<4I4H4Q4d4B4b4h2f2e";

struct Case {
    id: &'static str,
    st: Struct,
    values: Vec<Value>,
}

fn cases() -> Vec<Case> {
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

fn bench(c: &mut Criterion) {
    let cases = cases();
    for case in &cases {
        let st = &case.st;
        let data = st.pack(&case.values).expect("packs");
        let mut buf = vec![0u8; st.size()];

        c.bench_function(&format!("pack_vec/{}", case.id), |b| {
            b.iter(|| st.pack(black_box(&case.values)).expect("packs"))
        });
        c.bench_function(&format!("pack_into/{}", case.id), |b| {
            b.iter(|| {
                st.pack_into(black_box(&mut buf), 0, black_box(&case.values))
                    .expect("packs")
            })
        });
        c.bench_function(&format!("unpack_vec/{}", case.id), |b| {
            b.iter(|| st.unpack(black_box(&data)).expect("unpacks"))
        });
        c.bench_function(&format!("unpack_refs/{}", case.id), |b| {
            b.iter(|| {
                for v in st.unpack_refs(black_box(&data)).expect("unpacks") {
                    black_box(v);
                }
            })
        });
        let mut reused = Vec::new();
        c.bench_function(&format!("unpack_into/{}", case.id), |b| {
            b.iter(|| {
                st.unpack_into(black_box(&data), &mut reused)
                    .expect("unpacks")
            })
        });
        c.bench_function(&format!("unpack_with/{}", case.id), |b| {
            b.iter(|| {
                st.unpack_with(black_box(&data), |v| {
                    black_box(v);
                })
                .expect("unpacks")
            })
        });
    }

    // The typed paths, where the record has a natural Rust type: `Typed` (checked once,
    // then plain loads and stores) and `unpack_as`/`pack_into_as` (checked per value).
    typed(c, "i5sf", (1i32, *b"zhang", 1.75f32));
    typed(c, "<IHHQ", (0xdead_beefu32, 1u16, 2u16, 1u64 << 40));
    typed(c, "!I", (1500u32,));
}

/// Benchmarks `Typed` and the converting typed path for one format and record.
fn typed<T>(c: &mut Criterion, fmt: &str, record: T)
where
    T: pystruct::Record + pystruct::IntoRecord + for<'a> pystruct::FromRecord<'a> + Clone,
{
    let st = Struct::new(fmt).expect("valid");
    let typed = st.typed::<T>().expect("the tuple fits the format");
    let data = typed.pack(&record).expect("packs");
    let mut buf = vec![0u8; st.size()];
    c.bench_function(&format!("typed_pack_into/{fmt}"), |b| {
        b.iter(|| {
            typed
                .pack_into(black_box(&mut buf), 0, black_box(&record))
                .expect("packs")
        })
    });
    c.bench_function(&format!("typed_unpack/{fmt}"), |b| {
        b.iter(|| typed.unpack(black_box(&data)).expect("unpacks"))
    });
    c.bench_function(&format!("pack_into_as/{fmt}"), |b| {
        b.iter(|| {
            st.pack_into_as(black_box(&mut buf), 0, black_box(&record))
                .expect("packs")
        })
    });
    c.bench_function(&format!("unpack_as/{fmt}"), |b| {
        b.iter(|| st.unpack_as::<T>(black_box(&data)).expect("unpacks"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
