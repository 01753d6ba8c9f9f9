//! Helpers shared by the HTTP targets (`mod common;` in each): reading parameters off the
//! front of the fuzz input, cutting the rest into the pieces a socket might deliver, and
//! inflating an input past libFuzzer's default 4 KiB `max_len` so the parsers' 4–16 KiB
//! limits are reachable too.
#![allow(dead_code)]

/// Reads parameters off the front of the fuzz input; missing bytes read as zero.
pub struct Input<'a>(pub &'a [u8]);

impl<'a> Input<'a> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }

    pub fn rest(self) -> &'a [u8] {
        self.0
    }

    /// The rest of the input as the payload; with `inflated`, first reads an offset, a
    /// raw count (see [`inflation_count`], at most `limit`) and a fill byte and inserts
    /// that run of bytes, so the parsers' multi-KiB limits are in reach.
    pub fn payload(&mut self, inflated: bool, limit: u16) -> Vec<u8> {
        if inflated {
            let (at, raw, fill) = (self.u16(), self.u16(), self.byte());
            inflate(self.take(usize::MAX), at, inflation_count(raw, limit), fill)
        } else {
            self.take(usize::MAX).to_vec()
        }
    }
}

/// `payload` with `count` copies of `fill` inserted at offset `at` (clamped).
pub fn inflate(payload: &[u8], at: u16, count: u16, fill: u8) -> Vec<u8> {
    let at = usize::from(at).min(payload.len());
    let mut out = Vec::with_capacity(payload.len() + usize::from(count));
    out.extend_from_slice(&payload[..at]);
    out.resize(at + usize::from(count), fill);
    out.extend_from_slice(&payload[at..]);
    out
}

/// How many bytes an inflation inserts, from a raw u16: below 0x8000, `raw % limit`;
/// above, within ±128 of one of the sizes the parsers draw lines at (256 B, 1, 4, 8 and
/// 16 KiB), where off-by-one mistakes live and where a uniform count rarely lands.
pub fn inflation_count(raw: u16, limit: u16) -> u16 {
    if raw & 0x8000 == 0 {
        return raw % limit;
    }
    const BASES: [i32; 8] = [256, 1024, 4096, 8192, 16384, 4096, 8192, 16384];
    let base = BASES[usize::from(raw >> 8 & 7)];
    let delta = i32::from(raw as u8 as i8);
    (base + delta).clamp(0, i32::from(limit)) as u16
}

/// End offsets of the pieces `0..len` is cut into: piece lengths are taken from `sizes` in
/// turn (0 = an empty piece, kept: a reader may wake up with nothing new), the last offset is
/// always `len`. With no sizes (or all zero) the whole input is one piece.
pub fn cuts(sizes: &[u8], len: usize) -> Vec<usize> {
    if sizes.iter().all(|&s| s == 0) {
        return vec![len];
    }
    let mut out = Vec::new();
    let mut at = 0usize;
    for &s in sizes.iter().cycle() {
        at = (at + usize::from(s)).min(len);
        out.push(at);
        if at == len {
            break;
        }
    }
    out
}

/// One byte at a time.
pub fn bytewise(len: usize) -> Vec<usize> {
    if len == 0 {
        vec![0]
    } else {
        (1..=len).collect()
    }
}
