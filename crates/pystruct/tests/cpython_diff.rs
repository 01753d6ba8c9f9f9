//! Differential test against CPython's own `struct` module.
//!
//! Thousands of cases (edge cases first, then seeded random ones) go to ONE `python3`
//! process as lines on its stdin; it answers one line per case. Both sides must agree on
//! which inputs are errors (and the exception class; our message must start with
//! CPython's), on packed bytes, and on unpacked values down to the bits of every float.
//! The same process checks `repr()` of tuples and `ast.literal_eval` of literals.
//!
//! Skips with a printed reason when `python3` is missing.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use pystruct::{literal, repr, Error, Struct, Value};

/// The CPython side: decodes each case, runs it, encodes the outcome.
const PYTHON: &str = r#"
import sys, struct, ast
def dec(tok):
    t, r = tok[0], tok[1:]
    if t == 'i': return int(r)
    if t == 'b': return r == '1'
    if t == 'f': return struct.unpack('<d', bytes.fromhex(r))[0]
    if t == 'y': return bytes.fromhex(r)
    raise ValueError('bad token ' + tok)
def enc(v):
    if type(v) is bool: return 'b1' if v else 'b0'
    if type(v) is int: return 'i%d' % v
    if type(v) is float: return 'f' + struct.pack('<d', v).hex()
    if type(v) is bytes: return 'y' + v.hex()
    return '?' + type(v).__name__
def h(tok): return bytes.fromhex(tok[1:])
out = sys.stdout
for line in sys.stdin:
    p = line.split()
    op = p[0]
    try:
        if op == 'C': res = str(struct.calcsize(h(p[1])))
        elif op == 'P': res = 'h' + struct.pack(h(p[1]), *map(dec, p[2:])).hex()
        elif op == 'U': res = ' '.join(map(enc, struct.unpack(h(p[1]), h(p[2]))))
        elif op == 'I':
            buf = bytearray(h(p[2]))
            struct.pack_into(h(p[1]), buf, int(p[3]), *map(dec, p[4:]))
            res = 'h' + buf.hex()
        elif op == 'F': res = ' '.join(map(enc, struct.unpack_from(h(p[1]), h(p[2]), int(p[3]))))
        elif op == 'T': res = '|'.join(' '.join(map(enc, r)) for r in struct.iter_unpack(h(p[1]), h(p[2])))
        elif op == 'R': res = repr(tuple(map(dec, p[1:])))
        elif op == 'L':
            v = ast.literal_eval(h(p[1]).decode('utf-8'))
            if type(v) not in (int, float, bool, bytes):
                raise ValueError('not a struct value: ' + type(v).__name__)
            res = enc(v)
        else: raise RuntimeError('unknown op ' + op)
        out.write('ok ' + res + '\n')
    except Exception as e:
        name = 'struct.error' if isinstance(e, struct.error) else type(e).__name__
        out.write('err ' + name + ' ' + str(e).replace('\n', ' ') + '\n')
out.flush()
"#;

/// splitmix64: a tiny deterministic PRNG, so every run checks the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// One case, as sent to Python and run here.
#[derive(Debug)]
enum Case {
    Calc(Vec<u8>),
    Pack(Vec<u8>, Vec<Value>),
    Unpack(Vec<u8>, Vec<u8>),
    PackInto(Vec<u8>, Vec<u8>, usize, Vec<Value>),
    UnpackFrom(Vec<u8>, Vec<u8>, usize),
    Iter(Vec<u8>, Vec<u8>),
    Repr(Vec<Value>),
    Literal(String),
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 * b.len() + 1);
    s.push('h');
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn enc(v: &Value) -> String {
    match v {
        Value::Int(i) => format!("i{i}"),
        Value::Bool(b) => format!("b{}", u8::from(*b)),
        Value::Float(f) => {
            let mut s = String::from("f");
            for x in f.to_bits().to_le_bytes() {
                let _ = write!(s, "{x:02x}");
            }
            s
        }
        Value::Bytes(b) => {
            let mut s = hex(b);
            s.replace_range(0..1, "y");
            s
        }
        Value::BigInt(n) => format!("i{n}"),
    }
}

fn enc_all(vs: &[Value]) -> String {
    vs.iter().map(enc).collect::<Vec<_>>().join(" ")
}

impl Case {
    fn line(&self) -> String {
        match self {
            Case::Calc(f) => format!("C {}", hex(f)),
            Case::Pack(f, vs) => format!("P {} {}", hex(f), enc_all(vs)),
            Case::Unpack(f, d) => format!("U {} {}", hex(f), hex(d)),
            Case::PackInto(f, b, o, vs) => format!("I {} {} {o} {}", hex(f), hex(b), enc_all(vs)),
            Case::UnpackFrom(f, d, o) => format!("F {} {} {o}", hex(f), hex(d)),
            Case::Iter(f, d) => format!("T {} {}", hex(f), hex(d)),
            Case::Repr(vs) => format!("R {}", enc_all(vs)),
            Case::Literal(t) => format!("L {}", hex(t.as_bytes())),
        }
    }

    /// Runs the case here: `Ok(text)` in Python's encoding, or the error.
    fn run(&self) -> Result<String, Error> {
        Ok(match self {
            Case::Calc(f) => pystruct::calcsize(f)?.to_string(),
            Case::Pack(f, vs) => hex(&pystruct::pack(f, vs)?),
            Case::Unpack(f, d) => enc_all(&pystruct::unpack(f, d)?),
            Case::PackInto(f, b, o, vs) => {
                let mut buf = b.clone();
                pystruct::pack_into(f, &mut buf, *o, vs)?;
                hex(&buf)
            }
            Case::UnpackFrom(f, d, o) => enc_all(&pystruct::unpack_from(f, d, *o)?),
            Case::Iter(f, d) => pystruct::iter_unpack(f, d)?
                .map(|r| enc_all(&r))
                .collect::<Vec<_>>()
                .join("|"),
            Case::Repr(vs) => repr::tuple(vs),
            Case::Literal(_) => unreachable!("literal cases are compared separately"),
        })
    }
}

const CHARS: &[u8] = b"xcbB?hHiIlLqQnNPefdsp";
const PREFIXES: &[&str] = &["", "@", "=", "<", ">", "!"];

fn interesting_ints() -> Vec<i128> {
    let mut v = vec![0, 1, -1, 2, 100, -100];
    for bits in [7u32, 8, 15, 16, 31, 32, 63, 64] {
        let p = 1i128 << bits;
        v.extend([p - 1, p, p + 1, -p, -p - 1, -p + 1]);
    }
    v.extend([1i128 << 100, -(1i128 << 100), i128::MAX, i128::MIN]);
    v
}

fn interesting_floats() -> Vec<f64> {
    let h = |e: i32| 2f64.powi(e);
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        1.75,
        -2.5,
        0.1,
        1e16,
        1e-5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001),
        f64::from_bits(0xfff0_0000_0000_0001),
        f64::from_bits(0x7ff8_0000_0000_0123),
        f64::from_bits(0x7ff4_0000_2000_0000),
        f64::from_bits(0x7fff_ffff_ffff_ffff),
        5e-324,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f32::MAX as f64,
        -(f32::MAX as f64),
        3.4028235677973366e38,
        3.4028235677973362e38,
        3.4028236e38,
        1.401298464324817e-45,
        7.006492321624085e-46,
        7.006492321624087e-46,
        f32::MIN_POSITIVE as f64,
        65504.0,
        65505.0,
        65519.99999999999,
        65520.0,
        -65520.0,
        65536.0,
        h(-24),
        h(-25),
        h(-25) * 1.0000001,
        h(-26),
        h(-24) * 1.5,
        h(-24) * 2.5,
        h(-14),
        h(-14) * (1.0 - h(-11)),
        h(-15),
        1.0 + h(-11),
        1.0 + 3.0 * h(-11),
        1.0 + h(-11) + h(-40),
        2048.0 + 1.0,
        2048.0 + 3.0,
        1e300,
        -1e300,
        1e-300,
    ];
    for k in 0..20 {
        v.push(h(k - 10) * (1.0 + h(-11))); // half ties at many exponents
        v.push(h(k - 10) * (1.0 + 3.0 * h(-11)));
    }
    v
}

fn interesting_bytes(rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"a".to_vec(),
        b"zhang".to_vec(),
        b"\x00".to_vec(),
        b"it's".to_vec(),
        b"'\"".to_vec(),
        b"\\".to_vec(),
    ];
    for n in [2, 4, 6, 10, 254, 255, 256, 257, 300] {
        v.push(rng.bytes(n));
    }
    v
}

/// A value of the right type for `ch` (mostly), biased towards edges.
fn value_for(rng: &mut Rng, ch: u8, ints: &[i128], floats: &[f64]) -> Value {
    let wrong = rng.chance(3);
    let kind = if wrong {
        rng.pick(b"ibfy")
    } else {
        match ch {
            b'c' | b's' | b'p' => b'y',
            b'e' | b'f' | b'd' => b'f',
            b'?' => rng.pick(b"ibfy"),
            _ => {
                if rng.chance(3) {
                    b'b'
                } else {
                    b'i'
                }
            }
        }
    };
    match kind {
        b'i' => Value::Int(if rng.chance(50) {
            rng.pick(ints)
        } else {
            let bits = rng.below(66) as u32;
            let mag = (rng.next() as i128) & ((1i128 << bits) - 1);
            if rng.chance(40) {
                -mag
            } else {
                mag
            }
        }),
        b'b' => Value::Bool(rng.chance(50)),
        b'f' => Value::Float(match rng.below(4) {
            0 => rng.pick(floats),
            1 => f64::from_bits(rng.next()),
            2 => (rng.next() as i64 as f64) / 2f64.powi(rng.below(80) as i32),
            _ => f32::from_bits(rng.next() as u32) as f64,
        }),
        _ => {
            let n = if ch == b'c' && !rng.chance(10) {
                1
            } else {
                rng.pick(&[0usize, 1, 2, 3, 5, 8, 20, 255, 256, 300])
            };
            Value::Bytes(rng.bytes(n))
        }
    }
}

/// Values for a format given as items `(count, char)`; mostly the right number.
fn values_for(rng: &mut Rng, items: &[(usize, u8)], ints: &[i128], floats: &[f64]) -> Vec<Value> {
    let mut out = Vec::new();
    for &(count, ch) in items {
        match ch {
            b'x' => {}
            b's' | b'p' => out.push(value_for(rng, ch, ints, floats)),
            _ => {
                for _ in 0..count {
                    out.push(value_for(rng, ch, ints, floats));
                }
            }
        }
    }
    if rng.chance(3) {
        if out.is_empty() || rng.chance(50) {
            out.push(Value::Int(1));
        } else {
            out.pop();
        }
    }
    out
}

fn render(prefix: &str, items: &[(usize, u8)], rng: &mut Rng, explicit: bool) -> Vec<u8> {
    let mut f = prefix.as_bytes().to_vec();
    for &(count, ch) in items {
        if rng.chance(10) {
            f.push(rng.pick(b"  \t\n\r\x0b\x0c"));
        }
        if count != 1 || explicit || rng.chance(20) {
            f.extend(count.to_string().bytes());
        }
        f.push(ch);
    }
    if rng.chance(5) {
        f.push(b' ');
    }
    f
}

/// All the cases that exercise one format: size, pack, unpack, pack_into, unpack_from,
/// iter_unpack.
fn cases_for_format(
    rng: &mut Rng,
    fmt: Vec<u8>,
    items: &[(usize, u8)],
    ints: &[i128],
    floats: &[f64],
    out: &mut Vec<Case>,
) {
    out.push(Case::Calc(fmt.clone()));
    let size = Struct::new(&fmt).map(|s| s.size()).unwrap_or(3);
    let values = items.iter().map(|&(n, _)| n).sum::<usize>();
    if size > 4096 || values > 600 {
        return;
    }
    out.push(Case::Pack(
        fmt.clone(),
        values_for(rng, items, ints, floats),
    ));
    out.push(Case::Pack(
        fmt.clone(),
        values_for(rng, items, ints, floats),
    ));
    let len = if rng.chance(90) {
        size
    } else {
        (size + rng.below(3)).saturating_sub(1)
    };
    out.push(Case::Unpack(fmt.clone(), rng.bytes(len)));
    let offset = rng.below(4);
    let buf_len = (size + offset + rng.below(3)).saturating_sub(usize::from(rng.chance(10)));
    out.push(Case::PackInto(
        fmt.clone(),
        rng.bytes(buf_len),
        offset,
        values_for(rng, items, ints, floats),
    ));
    let offset = rng.below(4);
    let data_len = (size + offset + rng.below(3)).saturating_sub(usize::from(rng.chance(10)));
    out.push(Case::UnpackFrom(fmt.clone(), rng.bytes(data_len), offset));
    let records = rng.below(4);
    let extra = usize::from(rng.chance(10));
    out.push(Case::Iter(fmt, rng.bytes(size * records + extra)));
}

fn random_items(rng: &mut Rng, native: bool) -> Vec<(usize, u8)> {
    let n = 1 + rng.below(6);
    (0..n)
        .map(|_| {
            let mut ch = rng.pick(CHARS);
            if !native && b"nNP".contains(&ch) && !rng.chance(5) {
                ch = b'i';
            }
            let count = match ch {
                b's' | b'p' => rng.pick(&[0usize, 1, 2, 3, 5, 10, 255, 256, 257]),
                _ => rng.pick(&[1usize, 1, 1, 1, 0, 2, 3, 4]),
            };
            (count, ch)
        })
        .collect()
}

fn edge_cases(rng: &mut Rng, ints: &[i128], floats: &[f64], out: &mut Vec<Case>) {
    // Every character under every prefix, with counts 1, 0 and 3, and edge values.
    for prefix in PREFIXES {
        for &ch in CHARS {
            for count in [1usize, 0, 3] {
                let items = [(count, ch)];
                let fmt = render(prefix, &items, rng, count != 1);
                cases_for_format(rng, fmt, &items, ints, floats, out);
            }
            let fmt = format!("{prefix}{}", ch as char).into_bytes();
            match ch {
                b'x' => {}
                b'c' | b's' | b'p' => {
                    for b in interesting_bytes(rng) {
                        out.push(Case::Pack(fmt.clone(), vec![Value::Bytes(b)]));
                    }
                }
                _ => {
                    for &i in ints {
                        out.push(Case::Pack(fmt.clone(), vec![Value::Int(i)]));
                    }
                    for &f in floats {
                        out.push(Case::Pack(fmt.clone(), vec![Value::Float(f)]));
                    }
                    for v in [
                        Value::Bool(true),
                        Value::Bool(false),
                        Value::from(b"a"),
                        Value::from(b""),
                    ] {
                        out.push(Case::Pack(fmt.clone(), vec![v]));
                    }
                }
            }
            // Unpack every interesting bit pattern.
            let size = Struct::new(&fmt).map(|s| s.size()).unwrap_or(0);
            if size > 0 {
                for _ in 0..8 {
                    out.push(Case::Unpack(fmt.clone(), rng.bytes(size)));
                }
                for f in floats {
                    let b = f.to_bits().to_le_bytes();
                    out.push(Case::Unpack(fmt.clone(), b[8 - size.min(8)..].to_vec()));
                    out.push(Case::Unpack(fmt.clone(), b[..size.min(8)].to_vec()));
                }
            }
        }
    }
    // Every half-float bit pattern, both byte orders.
    for h in (0..=u16::MAX).step_by(7).chain([
        0x7c00, 0xfc00, 0x7c01, 0x7e00, 0xfe00, 0x7bff, 0x0001, 0x8001,
    ]) {
        out.push(Case::Unpack(b"<e".to_vec(), h.to_le_bytes().to_vec()));
        out.push(Case::Unpack(b">e".to_vec(), h.to_le_bytes().to_vec()));
    }
    // Alignment of every pair, with and without a zero count in between.
    for prefix in ["@", "<"] {
        for &a in CHARS {
            for &b in CHARS {
                for zero in [false, true] {
                    let items = [(1, a), (if zero { 0 } else { 1 }, b)];
                    let fmt = render(prefix, &items, rng, true);
                    if zero || rng.chance(30) {
                        cases_for_format(rng, fmt, &items, ints, floats, out);
                    } else {
                        out.push(Case::Calc(fmt));
                    }
                }
            }
        }
    }
    // Formats from the issue and the anchors, whitespace and count rules.
    for f in [
        "@qc",
        "@c0q",
        "0q",
        "c0q",
        "<c0q",
        "@c3q",
        "i5sf",
        "@5sf",
        "<IHHQ",
        "!I",
        "@bd",
        "@be",
        "@b?",
        "@bP",
        "bQ",
        "@3sq",
        " 4h",
        "4 h",
        "4h ",
        "< i",
        " <i",
        "i\ti\nq\x0bd\x0cf\rx",
        "3",
        "i3",
        "",
        "   ",
        "@",
        "<",
        "<<",
        "i<",
        "i@",
        "99999999999999999999q",
        "9223372036854775807x",
        "9223372036854775808x",
        "9223372036854775807s",
        "4611686018427387904q",
        "1152921504606846975q",
        "1152921504606846976q",
        "@c1152921504606846975q",
        "@9223372036854775807xz",
        "92233720368547758070z",
        "i\0",
        "0p",
        "0px",
        "0pB",
        "x0p",
        "@b0pi",
        "@0p0i",
        "0p2x0p",
        "1p",
        "2p",
        "255p",
        "256p",
        "257p",
        "300p",
        "0s",
        "10s",
        "0x",
        "2x",
        "@x0q",
        "=n",
        "<N",
        ">P",
        "!n",
        "@n",
        "@N",
        "@P",
        "nNP",
        "q 3 h",
        "1 0s",
        "01h",
        "00h",
        "0000000000000000000000001h",
    ] {
        out.push(Case::Calc(f.as_bytes().to_vec()));
    }
    // Bad characters: every byte alone, after an item, after a count.
    for b in 0..=255u8 {
        out.push(Case::Calc(vec![b]));
        out.push(Case::Calc(vec![b'i', b]));
        out.push(Case::Calc(vec![b'<', b'2', b]));
    }
    // Pascal strings: every interesting length against every interesting field size.
    for n in [0usize, 1, 2, 3, 254, 255, 256, 257, 300] {
        for len in [0usize, 1, 2, 3, 253, 254, 255, 256, 257, 299, 300, 301] {
            let fmt = format!("{n}p").into_bytes();
            out.push(Case::Pack(fmt.clone(), vec![Value::Bytes(rng.bytes(len))]));
            if n > 0 {
                let mut data = rng.bytes(n);
                data[0] = rng.pick(&[0u8, 1, 2, 3, 254, 255]);
                out.push(Case::Unpack(fmt, data));
            }
        }
        let fmt = format!("@b{n}pi").into_bytes();
        out.push(Case::Pack(
            fmt,
            vec![Value::Int(1), Value::from(b"abc"), Value::Int(2)],
        ));
    }
    for f in [
        "0p2s", "0p0s", "0p0p", "0p3p", "0p1p", "0p0s2s", "@b0p2s", "0p 0x 2s", "2s0p",
    ] {
        for (a, b) in [
            (&b""[..], &b""[..]),
            (b"", b"a"),
            (b"a", b""),
            (b"ab", b"abc"),
        ] {
            out.push(Case::Pack(
                f.as_bytes().to_vec(),
                vec![Value::from(a), Value::from(b)],
            ));
            let mut buf = rng.bytes(6);
            buf[0] = 0x55;
            out.push(Case::PackInto(
                f.as_bytes().to_vec(),
                buf,
                0,
                vec![Value::from(a), Value::from(b)],
            ));
        }
    }
    for f in ["0p", "0px", "x0p", "0pB", "@b0pi", "0p0p"] {
        out.push(Case::Unpack(
            f.as_bytes().to_vec(),
            vec![0; Struct::new(f).map(|s| s.size()).unwrap_or(0)],
        ));
        out.push(Case::Iter(f.as_bytes().to_vec(), vec![]));
    }
    // Argument counts and buffer sizes.
    for (f, n) in [
        ("i", 0usize),
        ("i", 2),
        ("ii", 1),
        ("", 1),
        ("3x", 1),
        ("4s", 4),
        ("2h", 1),
    ] {
        out.push(Case::Pack(f.as_bytes().to_vec(), vec![Value::Int(0); n]));
        out.push(Case::PackInto(
            f.as_bytes().to_vec(),
            vec![0; 8],
            0,
            vec![Value::Int(0); n],
        ));
    }
    for (f, len) in [
        ("i", 3usize),
        ("i", 5),
        ("", 0),
        ("", 1),
        ("i5sf", 15),
        ("i5sf", 17),
    ] {
        out.push(Case::Unpack(f.as_bytes().to_vec(), vec![7; len]));
        out.push(Case::Iter(f.as_bytes().to_vec(), vec![7; len]));
        out.push(Case::UnpackFrom(f.as_bytes().to_vec(), vec![7; len], 1));
    }
}

fn literal_cases(rng: &mut Rng, ints: &[i128], floats: &[f64], out: &mut Vec<Case>) {
    for &i in ints {
        out.push(Case::Literal(i.to_string()));
        let (sign, mag) = if i < 0 {
            ("-", i.unsigned_abs())
        } else {
            ("", i as u128)
        };
        out.push(Case::Literal(format!("{sign}0x{mag:x}")));
        out.push(Case::Literal(format!("{sign}0o{mag:o}")));
        out.push(Case::Literal(format!("{sign}0b{mag:b}")));
        out.push(Case::Literal(format!("{sign}0X_{mag:X}")));
    }
    for &f in floats {
        if f.is_finite() {
            out.push(Case::Literal(repr::float(f)));
            out.push(Case::Literal(format!("{f:e}")));
            out.push(Case::Literal(format!("{f:.3}")));
        }
    }
    for b in interesting_bytes(rng) {
        out.push(Case::Literal(repr::bytes(&b)));
    }
    for s in [
        "True",
        "False",
        "b'zhang'",
        "b'\\x00\\xff'",
        "b\"it's\"",
        "b'\\777'",
        "b'\\8'",
        "b'\\q'",
        "0x_ff",
        "1_000",
        "-0x10",
        "+5",
        "- 5",
        "00",
        "007",
        "1e5",
        ".5",
        "5.",
        "1_0.5e1_0",
        "0b101",
        "0o17",
        "1j",
        "b'a' b'b'",
        "b'a'b'b'",
        "rb'\\x00'",
        "Rb'x'",
        "bR'\\n'",
        "BR'\\''",
        "b'''x'''",
        "b\"\"\"a'b\"\"\"",
        "-0.0",
        "--5",
        "-True",
        "1__0",
        "0_0",
        "0e0",
        "1.e5",
        "B'x'",
        "0X1F",
        "b'\\\nx'",
        "b'a\nb'",
        "u'x'",
        "'x'",
        "\"x\"",
        "b'\\x4'",
        "b'\\x'",
        "b'abc",
        "rb'\\'",
        "1e",
        ".",
        "",
        " 1",
        "1 ",
        "1 2",
        "0x",
        "0x_",
        "0_b1",
        "1_e5",
        "1._5",
        "1_.5",
        "0x1.5",
        "1.5.5",
        "1e5e5",
        "00.5",
        "00e1",
        "1e+5",
        "1e-5",
        "1E5",
        "0_7",
        "08",
        "0.0e-0",
        "b'\\a\\b\\f\\n\\r\\t\\v'",
        "b'\\0\\01\\001\\0011'",
        "b'\\N{DIGIT ONE}'",
        "b'\\u0041'",
        "b'é'",
        "bb'x'",
        "b 'x'",
        "9999999999999999999999999999999999999999",
        "1e400",
        "-1e400",
        "4.9e-324",
        "2.5e-324",
    ] {
        out.push(Case::Literal(s.to_string()));
    }
    let alphabet: &[u8] = b"0123456789abcdefxobBOX_.eE+- jJ'\"\\";
    for _ in 0..3000 {
        let n = 1 + rng.below(8);
        let mut s: String = (0..n).map(|_| rng.pick(alphabet) as char).collect();
        if rng.chance(30) {
            s = format!("b'{s}'");
        }
        out.push(Case::Literal(s));
    }
}

/// `m << k` plus `delta` (-1, 0 or 1), as a Python hex literal with an optional minus.
fn shifted(negative: bool, m: u128, k: usize, delta: i8) -> String {
    let (top, low) = (m << (k % 4), k / 4);
    let sign = if negative { "-" } else { "" };
    match delta {
        0 => format!("{sign}0x{top:x}{}", "0".repeat(low)),
        1 => format!("{sign}0x{top:x}{}1", "0".repeat(low.saturating_sub(1))),
        _ => format!("{sign}0x{:x}{}", top - 1, "f".repeat(low)),
    }
}

/// Integers beyond `i128` as literals: around the largest `f`, the `f` rounding tie that
/// overflows, the largest double and its overflow tie, double rounding ties far above
/// 2**64, and the ends of `i128`.
fn big_int_literals() -> Vec<String> {
    let mut v = Vec::new();
    let around: &[(u128, usize)] = &[
        ((1 << 24) - 1, 104), // f32::MAX
        ((1 << 25) - 1, 103), // the f32 overflow tie: 2**128 - 2**103
        ((1 << 25) - 3, 103), // a tie below it, to even
        (1, 128),
        (1, 127),             // i128::MAX + 1
        ((1 << 53) - 1, 971), // f64::MAX
        ((1 << 54) - 1, 970), // the f64 overflow tie: 2**1024 - 2**970
        (1, 1024),
        ((1 << 53) + 1, 80), // double ties (to even: down), their neighbours
        ((1 << 53) + 3, 80), // (to even: up)
        ((1 << 53) + 1, 500),
        ((1 << 53) + 3, 777),
        ((1 << 64) - 1, 200),
        (0x1234_5678_9abc_def0_1234, 300),
    ];
    for &(m, k) in around {
        for negative in [false, true] {
            for delta in [-1, 0, 1] {
                v.push(shifted(negative, m, k, delta));
            }
        }
    }
    v.push(format!("1{}", "0".repeat(40)));
    v.push(format!("-1{}", "0".repeat(40)));
    v.push(format!("1{}", "0".repeat(308)));
    v.push(format!("1{}", "0".repeat(309)));
    v.push(format!("-1{}", "0".repeat(400)));
    v.push("340282356779733661637539395458142568448".to_string());
    v.push("340282356779733661637539395458142568447".to_string());
    v.push("-170141183460469231731687303715884105729".to_string()); // i128::MIN - 1
    v.push(format!("0x{}", "f".repeat(1000)));
    v.push(format!("0b1{}", "01".repeat(300)));
    v.push(format!("-0o7{}", "0".repeat(60)));
    v.push("1_000_000_000_000_000_000_000_000_000_000_000_000_000".to_string());
    v
}

/// Big integers packed into every kind of field (floats round them, CPython's way; the
/// rest refuse them with CPython's message), shown by `repr`, and read as literals.
fn big_int_cases(out: &mut Vec<Case>) {
    let formats = [
        "e", "<e", ">e", "f", "@f", "=f", "<f", ">f", "!f", "d", "<d", ">d", "b", "B", "<h", ">h",
        "<H", ">H", "i", "<I", ">i", "l", "<L", "q", "Q", "<q", ">q", "<Q", ">Q", "n", "N", "P",
        "?", "c", "s", "p", "2s",
    ];
    for text in big_int_literals() {
        out.push(Case::Literal(text.clone()));
        let Ok(v) = literal::parse(&text) else {
            // The literal case reports it.
            continue;
        };
        for f in formats {
            out.push(Case::Pack(f.as_bytes().to_vec(), vec![v.clone()]));
        }
        out.push(Case::Pack(
            b"<ifd".to_vec(),
            vec![Value::Int(1), v.clone(), v.clone()],
        ));
        out.push(Case::Repr(vec![v.clone(), Value::Int(1)]));
    }
}

fn repr_cases(rng: &mut Rng, ints: &[i128], floats: &[f64], out: &mut Vec<Case>) {
    out.push(Case::Repr(vec![]));
    for &f in floats {
        out.push(Case::Repr(vec![Value::Float(f)]));
    }
    for b in 0..=255u8 {
        out.push(Case::Repr(vec![
            Value::Bytes(vec![b]),
            Value::Bytes(vec![b'\'', b]),
        ]));
    }
    for _ in 0..20000 {
        let f = match rng.below(4) {
            0 => f64::from_bits(rng.next()),
            1 => (rng.next() as i64 as f64) / 10f64.powi(rng.below(30) as i32),
            2 => (rng.below(100_000) as f64) * 10f64.powi(rng.below(40) as i32 - 20),
            _ => f32::from_bits(rng.next() as u32) as f64,
        };
        let n = rng.below(4);
        let mut vs = vec![Value::Float(f)];
        for _ in 0..n {
            vs.push(value_for(rng, b'?', ints, floats));
        }
        out.push(Case::Repr(vs));
    }
}

/// Does our error mean what CPython's does?
fn errors_agree(py_exc: &str, py_msg: &str, ours: &Error) -> bool {
    if ours.python_exception() != py_exc {
        // CPython's "byte string is too large" (OverflowError) for an s field beyond memory.
        return matches!(ours, Error::OutOfMemory { .. }) && py_exc == "MemoryError";
    }
    match ours {
        Error::ZeroPascal | Error::OutOfMemory { .. } => true,
        _ => ours.to_string().starts_with(py_msg),
    }
}

/// CPython writes a stray 0xff just past the record for a trailing `0p` in `pack_into`;
/// we do not (documented). Accept that one byte of difference.
fn stray_pascal_byte(case: &Case, ours: &str, theirs: &str) -> bool {
    let Case::PackInto(f, _, offset, _) = case else {
        return false;
    };
    let Ok(st) = Struct::new(f) else { return false };
    if !f.windows(2).any(|w| w == b"0p") || ours.len() != theirs.len() {
        return false;
    }
    let at = 1 + 2 * (offset + st.size());
    ours[..at] == theirs[..at]
        && ours.get(at + 2..) == theirs.get(at + 2..)
        && theirs.get(at..at + 2) == Some("ff")
}

#[test]
fn agrees_with_cpython_struct() {
    let python = match Command::new("python3")
        .args(["-W", "ignore", "-c", PYTHON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(p) => p,
        Err(e) => {
            // Under CI a missing peer is a failure, not a quiet pass (as sockit's tests/common::skip).
            let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
            assert!(
                !ci,
                "CI=true, so this test may not skip: cannot run python3 ({e})"
            );
            println!("SKIP: cannot run python3 ({e}): no CPython differential test");
            return;
        }
    };
    let mut rng = Rng(0x5eed_5eed_2024);
    let ints = interesting_ints();
    let floats = interesting_floats();
    let mut cases = Vec::new();
    edge_cases(&mut rng, &ints, &floats, &mut cases);
    let edge = cases.len();
    for _ in 0..6000 {
        let prefix = rng.pick(PREFIXES);
        let native = matches!(prefix, "" | "@");
        let items = random_items(&mut rng, native);
        let fmt = render(prefix, &items, &mut rng, false);
        if rng.chance(2) {
            let mut bad = fmt.clone();
            let at = rng.below(bad.len() + 1);
            bad.insert(at, rng.next() as u8);
            cases.push(Case::Calc(bad));
        }
        cases_for_format(&mut rng, fmt, &items, &ints, &floats, &mut cases);
    }
    repr_cases(&mut rng, &ints, &floats, &mut cases);
    literal_cases(&mut rng, &ints, &floats, &mut cases);
    big_int_cases(&mut cases);

    let mut child = python;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input: String = cases.iter().map(|c| c.line() + "\n").collect();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let answers: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .collect();
    let _ = writer.join();
    let status = child.wait().expect("python3 ran");
    assert!(status.success(), "python3 failed: {status}");
    assert_eq!(
        answers.len(),
        cases.len(),
        "python3 answered {} of {} cases",
        answers.len(),
        cases.len()
    );

    let mut failures = Vec::new();
    let mut counts = [0usize; 2];
    for (case, answer) in cases.iter().zip(&answers) {
        let theirs: Result<&str, (&str, &str)> = match answer.strip_prefix("ok ") {
            Some(r) => Ok(r),
            None => {
                let rest = answer.strip_prefix("err ").unwrap_or(answer);
                let (exc, msg) = rest.split_once(' ').unwrap_or((rest, ""));
                Err((exc, msg))
            }
        };
        counts[usize::from(theirs.is_err())] += 1;
        let agree = if let Case::Literal(text) = case {
            let ours = literal::parse(text);
            match (&ours, theirs) {
                (Ok(v), Ok(t)) => enc(v) == t,
                (Err(_), Ok(_)) | (Ok(_), Err(_)) => false,
                (Err(_), Err(_)) => true,
            }
        } else {
            match (case.run(), theirs) {
                (Ok(o), Ok(t)) => o == t || stray_pascal_byte(case, &o, t),
                (Err(e), Err((exc, msg))) => errors_agree(exc, msg, &e),
                _ => false,
            }
        };
        if !agree {
            failures.push(format!(
                "case {}\n  python: {answer}\n  ours:   {}",
                case.line(),
                match case {
                    Case::Literal(t) => format!("{:?}", literal::parse(t).map(|v| enc(&v))),
                    _ => format!(
                        "{:?}",
                        case.run()
                            .map_err(|e| format!("{} {e}", e.python_exception()))
                    ),
                }
            ));
        }
    }
    println!(
        "{} cases ({} edge cases first, then seeded random): {} ok in CPython, {} errors; {} disagreements",
        cases.len(),
        edge,
        counts[0],
        counts[1],
        failures.len()
    );
    for f in failures.iter().take(25) {
        println!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} cases disagree with CPython",
        failures.len()
    );
}
