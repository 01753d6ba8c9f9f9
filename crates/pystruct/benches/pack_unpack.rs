//! Pack and unpack per call, on the formats `bench/struct.sh` also times in CPython:
//! `i5sf` (the course's record), `<IHHQ` (a typical header), `!I` (a length prefix) and
//! a 32-field record.
//!
//! Each format is measured the dynamic way, as CPython's `Struct` is used (`&[Value]` in,
//! a new `Vec` out), with a reused buffer (`pack_to_vec` into a cleared `Vec`,
//! `unpack_into` a `Vec<Value>`: the receive and send loops), without allocating
//! (`pack_into` a caller buffer, borrowed `unpack_with`/`unpack_refs`) and through the
//! two ways of a [`pystruct::Record`]: bound once (`Typed`) and converting per call
//! (`unpack_as`/`pack_into_as`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use pystruct::Struct;

#[path = "cases.rs"]
mod cases;

fn bench(c: &mut Criterion) {
    let cases = cases::cases();
    for case in &cases {
        let st = &case.st;
        let data = st.pack(&case.values).expect("packs");
        let mut buf = vec![0u8; st.size()];

        c.bench_function(&format!("pack_vec/{}", case.id), |b| {
            b.iter(|| st.pack(black_box(&case.values)).expect("packs"))
        });
        // The send loop: one buffer, cleared and refilled per record.
        let mut out = Vec::with_capacity(st.size());
        c.bench_function(&format!("pack_to_vec/{}", case.id), |b| {
            b.iter(|| {
                out.clear();
                st.pack_to_vec(black_box(&case.values), black_box(&mut out))
                    .expect("packs")
            })
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
    typed(c, "i5sf", "i5sf", cases::i5sf());
    typed(c, "<IHHQ", "<IHHQ", cases::ihhq());
    typed(c, "!I", "!I", cases::net_u32());
    typed(c, "rec32", cases::REC32, cases::rec32());
    converting(c, "i5sf", cases::i5sf());
    converting(c, "<IHHQ", cases::ihhq());
    converting(c, "!I", cases::net_u32());
}

/// Benchmarks `Typed` (checked once, then plain loads and stores) for one format.
fn typed<T: for<'a> pystruct::Record<'a>>(c: &mut Criterion, id: &str, fmt: &str, record: T) {
    let st = Struct::new(fmt).expect("valid");
    let typed = st.typed::<T>().expect("the record type fits the format");
    let data = typed.pack(&record).expect("packs");
    let mut buf = vec![0u8; st.size()];
    c.bench_function(&format!("typed_pack_into/{id}"), |b| {
        b.iter(|| {
            typed
                .pack_into(black_box(&mut buf), 0, black_box(&record))
                .expect("packs")
        })
    });
    c.bench_function(&format!("typed_unpack/{id}"), |b| {
        b.iter(|| typed.unpack(black_box(&data)).expect("unpacks"))
    });
}

/// Benchmarks the converting typed path (`unpack_as`/`pack_into_as`, checked per value).
fn converting<T>(c: &mut Criterion, fmt: &str, record: T)
where
    T: for<'a> pystruct::Record<'a>,
{
    let st = Struct::new(fmt).expect("valid");
    let data = st.pack_as(&record).expect("packs");
    let mut buf = vec![0u8; st.size()];
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
