//! Random formats, bytes, values and literals must give errors, never panics (the stable
//! stand-in for the cargo-fuzz targets in `fuzz/`).

use pystruct::{literal, Struct, Value};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Mostly format characters, so random formats are often valid and get exercised.
const ALPHABET: &[u8] = b"@=<>! \t0123456789xcbB?hHiIlLqQnNPefdsp";

fn random_format(rng: &mut Rng) -> Vec<u8> {
    let n = rng.below(12);
    (0..n)
        .map(|_| {
            if rng.below(20) == 0 {
                rng.next() as u8
            } else {
                ALPHABET[rng.below(ALPHABET.len())]
            }
        })
        .collect()
}

fn random_value(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => Value::Int((rng.next() as i128) << rng.below(70)),
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::Float(f64::from_bits(rng.next())),
        _ => Value::Bytes((0..rng.below(300)).map(|_| rng.next() as u8).collect()),
    }
}

#[test]
fn random_formats_and_bytes_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..100_000 {
        let fmt = random_format(&mut rng);
        let Ok(st) = Struct::new(&fmt) else { continue };
        let len = if st.size() < 1 << 12 && rng.below(2) == 0 {
            st.size() * rng.below(3)
        } else {
            rng.below(64)
        };
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = st.unpack(&data);
        let _ = st.unpack_from(&data, rng.below(8));
        if let Ok(it) = st.iter_unpack(&data) {
            it.for_each(drop);
        }
        let _ = st.unpack_refs(&data).map(|v| v.count());
        let n = st.value_count().min(64) + rng.below(2);
        let values: Vec<Value> = (0..n).map(|_| random_value(&mut rng)).collect();
        if st.size() < 1 << 20 {
            let _ = st.pack(&values);
        }
        let mut buf = vec![0u8; rng.below(64)];
        let _ = st.pack_into(&mut buf, rng.below(8), &values);
        let _ = st.unpack_as::<(i32, &[u8], f64)>(&data);
    }
}

#[test]
fn random_literals_never_panic() {
    let mut rng = Rng(0x0bad_cafe_f00d_beef);
    let alphabet: Vec<char> = "0123456789abefxoBOXjJ_.eE+- '\"\\\nrRTrueFalsinf\u{e9}"
        .chars()
        .collect();
    for _ in 0..100_000 {
        let n = rng.below(14);
        let s: String = (0..n)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        let _ = literal::parse(&s);
        let _ = literal::parse(&format!("b'{s}"));
        let _ = literal::parse(&format!("b'{s}'"));
    }
}
