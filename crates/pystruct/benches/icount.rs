//! Instructions per call, for comparing versions on a loaded machine where wall-clock
//! timings are noise. Run under callgrind:
//!
//! ```sh
//! cargo bench -p pystruct --bench icount --no-run
//! valgrind --tool=callgrind --callgrind-out-file=cg.out target/release/deps/icount-* 100000 i5sf
//! callgrind_annotate --inclusive=yes cg.out | grep 'icount::op_'
//! ```
//!
//! Each `op_*` function below runs one operation `n` times; its inclusive instruction
//! count divided by `n` is the cost per call (plus two or three instructions of loop).
//! Without an argument it runs each operation once, as a quick check that it works.

use std::hint::black_box;

use pystruct::{Record, Struct, Typed, Value};

#[path = "cases.rs"]
mod cases;

macro_rules! op {
    ($name:ident, |$st:ident, $values:ident, $data:ident, $buf:ident, $vec:ident, $out:ident| $body:expr) => {
        #[inline(never)]
        fn $name(
            n: usize,
            $st: &Struct,
            $values: &[Value],
            $data: &[u8],
            $buf: &mut [u8],
            $vec: &mut Vec<u8>,
            $out: &mut Vec<Value>,
        ) {
            for _ in 0..n {
                black_box($body);
            }
        }
    };
}

op!(op_pack_vec, |st, values, _d, _b, _v, _o| st
    .pack(black_box(values))
    .expect("packs"));
op!(op_pack_to_vec, |st, values, _d, _b, vec, _o| {
    vec.clear();
    st.pack_to_vec(black_box(values), black_box(&mut *vec))
        .expect("packs")
});
op!(op_pack_into, |st, values, _d, buf, _v, _o| st
    .pack_into(black_box(&mut *buf), 0, black_box(values))
    .expect("packs"));
op!(op_unpack_vec, |st, _vs, data, _b, _v, _o| st
    .unpack(black_box(data))
    .expect("unpacks"));
op!(op_unpack_into, |st, _vs, data, _b, _v, out| st
    .unpack_into(black_box(data), black_box(&mut *out))
    .expect("unpacks"));
op!(op_unpack_with, |st, _vs, data, _b, _v, _o| st
    .unpack_with(black_box(data), |v| {
        black_box(v);
    })
    .expect("unpacks"));
op!(op_unpack_refs, |st, _vs, data, _b, _v, _o| for v in
    st.unpack_refs(black_box(data)).expect("unpacks")
{
    black_box(v);
});

/// One case's `Typed` binding, record and packed bytes.
struct TypedCase<T> {
    st: Struct,
    typed: Typed<T>,
    record: T,
    data: Vec<u8>,
}

impl<T: for<'a> Record<'a>> TypedCase<T> {
    fn new(fmt: &str, record: T) -> TypedCase<T> {
        let st = Struct::new(fmt).expect("valid format");
        let typed = st.typed::<T>().expect("the record type fits the format");
        let data = typed.pack(&record).expect("packs");
        TypedCase {
            st,
            typed,
            record,
            data,
        }
    }

    #[inline(always)]
    fn pack_loop(&self, n: usize, buf: &mut [u8]) {
        for _ in 0..n {
            self.typed
                .pack_into(black_box(&mut *buf), 0, black_box(&self.record))
                .expect("packs");
        }
    }

    /// The converting path on the same record type (`pack_into_as`).
    #[inline(always)]
    fn as_pack_loop(&self, n: usize, buf: &mut [u8]) {
        for _ in 0..n {
            self.st
                .pack_into_as(black_box(&mut *buf), 0, black_box(&self.record))
                .expect("packs");
        }
    }

    /// The converting path on the same record type (`unpack_as`).
    #[inline(always)]
    fn as_unpack_loop(&self, n: usize) {
        for _ in 0..n {
            black_box(
                self.st
                    .unpack_as::<T>(black_box(&self.data))
                    .expect("unpacks"),
            );
        }
    }

    #[inline(always)]
    fn unpack_loop(&self, n: usize) {
        for _ in 0..n {
            black_box(self.typed.unpack(black_box(&self.data)).expect("unpacks"));
        }
    }
}

/// The typed records of the four cases (`Struct::typed`).
struct TypedCases {
    i5sf: TypedCase<(i32, [u8; 5], f32)>,
    ihhq: TypedCase<(u32, u16, u16, u64)>,
    net_u32: TypedCase<(u32,)>,
    rec32: TypedCase<cases::Rec32>,
}

impl TypedCases {
    fn new() -> TypedCases {
        TypedCases {
            i5sf: TypedCase::new("i5sf", cases::i5sf()),
            ihhq: TypedCase::new("<IHHQ", cases::ihhq()),
            net_u32: TypedCase::new("!I", cases::net_u32()),
            rec32: TypedCase::new(cases::REC32, cases::rec32()),
        }
    }
}

// One function per operation (as for the dynamic paths, so callgrind reports it by
// name); the case is picked once per call, outside the loop.
#[inline(never)]
fn op_typed_pack(n: usize, id: &str, t: &TypedCases, buf: &mut [u8]) {
    match id {
        "i5sf" => t.i5sf.pack_loop(n, buf),
        "<IHHQ" => t.ihhq.pack_loop(n, buf),
        "!I" => t.net_u32.pack_loop(n, buf),
        _ => t.rec32.pack_loop(n, buf),
    }
}

#[inline(never)]
fn op_typed_unpack(n: usize, id: &str, t: &TypedCases) {
    match id {
        "i5sf" => t.i5sf.unpack_loop(n),
        "<IHHQ" => t.ihhq.unpack_loop(n),
        "!I" => t.net_u32.unpack_loop(n),
        _ => t.rec32.unpack_loop(n),
    }
}

// The converting path (`pack_into_as`/`unpack_as`), for the three small formats (the
// 32-field record's arrays span several values each, which only `typed` binds).
#[inline(never)]
fn op_as_pack(n: usize, id: &str, t: &TypedCases, buf: &mut [u8]) {
    match id {
        "i5sf" => t.i5sf.as_pack_loop(n, buf),
        "<IHHQ" => t.ihhq.as_pack_loop(n, buf),
        "!I" => t.net_u32.as_pack_loop(n, buf),
        _ => {}
    }
}

#[inline(never)]
fn op_as_unpack(n: usize, id: &str, t: &TypedCases) {
    match id {
        "i5sf" => t.i5sf.as_unpack_loop(n),
        "<IHHQ" => t.ihhq.as_unpack_loop(n),
        "!I" => t.net_u32.as_unpack_loop(n),
        _ => {}
    }
}

type Op = fn(usize, &Struct, &[Value], &[u8], &mut [u8], &mut Vec<u8>, &mut Vec<Value>);

const OPS: [Op; 7] = [
    op_pack_vec,
    op_pack_to_vec,
    op_pack_into,
    op_unpack_vec,
    op_unpack_into,
    op_unpack_with,
    op_unpack_refs,
];

/// `--time`: nanoseconds per call of every op on every case, as the minimum over
/// `REPEAT` batches of `n` calls (what Python's `timeit.repeat` reports, and as robust
/// to a busy machine: a batch that was interrupted is simply not the minimum).
fn time(n: usize) {
    const REPEAT: usize = 15;
    let names = [
        "pack_vec",
        "pack_to_vec",
        "pack_into",
        "unpack_vec",
        "unpack_into",
        "unpack_with",
        "unpack_refs",
    ];
    for case in cases::cases() {
        let st = &case.st;
        let data = st.pack(&case.values).expect("packs");
        let mut buf = vec![0u8; st.size()];
        let mut vec = Vec::new();
        let mut out = Vec::new();
        for (name, op) in names.iter().zip(OPS) {
            let best = (0..REPEAT)
                .map(|_| {
                    let t = std::time::Instant::now();
                    op(n, st, &case.values, &data, &mut buf, &mut vec, &mut out);
                    t.elapsed().as_secs_f64() * 1e9 / n as f64
                })
                .fold(f64::INFINITY, f64::min);
            println!("{:<6} {:<14} {:7.2} ns", case.id, name, best);
        }
        let typed = TypedCases::new();
        let best = |f: &mut dyn FnMut()| {
            (0..REPEAT)
                .map(|_| {
                    let t = std::time::Instant::now();
                    f();
                    t.elapsed().as_secs_f64() * 1e9 / n as f64
                })
                .fold(f64::INFINITY, f64::min)
        };
        let ns = best(&mut || op_typed_pack(n, case.id, &typed, &mut buf));
        println!("{:<6} {:<14} {:7.2} ns", case.id, "typed_pack", ns);
        let ns = best(&mut || op_typed_unpack(n, case.id, &typed));
        println!("{:<6} {:<14} {:7.2} ns", case.id, "typed_unpack", ns);
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--time") {
        let n = std::env::args()
            .nth(2)
            .and_then(|a| a.parse().ok())
            .unwrap_or(200_000);
        return time(n);
    }
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let typed = TypedCases::new();
    for case in cases::cases() {
        let st = &case.st;
        let data = st.pack(&case.values).expect("packs");
        let mut buf = vec![0u8; st.size()];
        let mut vec = Vec::new();
        let mut out = Vec::new();
        // The op functions are shared by the cases, so callgrind adds their counts
        // up: pick one case with the second argument to read its figures.
        if std::env::args().nth(2).is_some_and(|c| c != case.id) {
            continue;
        }
        for op in OPS {
            op(n, st, &case.values, &data, &mut buf, &mut vec, &mut out);
        }
        op_typed_pack(n, case.id, &typed, &mut buf);
        op_typed_unpack(n, case.id, &typed);
        op_as_pack(n, case.id, &typed, &mut buf);
        op_as_unpack(n, case.id, &typed);
    }
}
