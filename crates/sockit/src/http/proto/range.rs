//! `Range: bytes=...` requests (RFC 9110 §14): resume downloads, seek in media.

/// Most ranges honoured in one request; beyond that the header is ignored and the whole
/// file is sent, so a request like `bytes=0-0,0-0,...` cannot multiply our work.
pub const MAX_RANGES: usize = 64;

/// A satisfiable byte range, `start..=end` within the representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte offset.
    pub start: u64,
    /// Last byte offset (inclusive).
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// A range always has at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The outcome of evaluating a `Range` header against a representation of `len` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeResult {
    /// Ignore the header and send everything (200): unknown unit, bad syntax, too many.
    Full,
    /// Send these ranges (206), in order, already coalesced when they overlapped.
    Ranges(Vec<ByteRange>),
    /// Nothing requested lies within the representation (416).
    Unsatisfiable,
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |a, &d| a * 10 + u64::from(d - b'0')))
}

/// Evaluates `Range` (the header value) for a representation of `len` bytes.
///
/// Syntax errors make the server ignore the header (RFC 9110 §14.2), which is why they
/// give [`RangeResult::Full`] and not 400.
pub fn evaluate(value: &[u8], len: u64) -> RangeResult {
    let value = super::fields::trim(value);
    let Some(eq) = value.iter().position(|&b| b == b'=') else {
        return RangeResult::Full;
    };
    if !super::fields::trim(&value[..eq]).eq_ignore_ascii_case(b"bytes") {
        return RangeResult::Full;
    }
    let mut ranges = Vec::new();
    let mut specs = 0usize;
    for spec in value[eq + 1..].split(|&b| b == b',') {
        let spec = super::fields::trim(spec);
        if spec.is_empty() {
            continue; // "bytes=0-1, ,2-3": empty list elements are allowed
        }
        // Every range counts toward the limit, satisfiable or not: otherwise a list of
        // thousands of out-of-bounds ranges would still be parsed in full.
        specs += 1;
        if specs > MAX_RANGES {
            return RangeResult::Full;
        }
        let Some(dash) = spec.iter().position(|&b| b == b'-') else {
            return RangeResult::Full;
        };
        let (first, last) = (&spec[..dash], &spec[dash + 1..]);
        let range = if first.is_empty() {
            // Suffix range: the last N bytes.
            let Some(n) = parse_u64(last) else {
                return RangeResult::Full;
            };
            if n == 0 || len == 0 {
                None
            } else {
                Some(ByteRange {
                    start: len.saturating_sub(n),
                    end: len - 1,
                })
            }
        } else {
            let Some(start) = parse_u64(first) else {
                return RangeResult::Full;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                match parse_u64(last) {
                    Some(e) if e >= start => e,
                    _ => return RangeResult::Full,
                }
            };
            (start < len).then(|| ByteRange {
                start,
                end: end.min(len - 1),
            })
        };
        if let Some(r) = range {
            ranges.push(r);
        }
    }
    if specs == 0 {
        return RangeResult::Full;
    }
    if ranges.is_empty() {
        return RangeResult::Unsatisfiable;
    }
    RangeResult::Ranges(coalesce(ranges))
}

/// Merges overlapping or adjacent ranges (RFC 9110 §14.2 lets a server do so), keeping
/// the client's order when nothing overlaps.
fn coalesce(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    let mut sorted = ranges.clone();
    sorted.sort_by_key(|r| r.start);
    let overlaps = sorted
        .windows(2)
        .any(|w| w[1].start <= w[0].end.saturating_add(1));
    if !overlaps {
        return ranges;
    }
    ranges.clear();
    for r in sorted {
        match ranges.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(1) => last.end = last.end.max(r.end),
            _ => ranges.push(r),
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    #[test]
    fn single_ranges() {
        assert_eq!(
            evaluate(b"bytes=0-9", 100),
            RangeResult::Ranges(vec![r(0, 9)])
        );
        assert_eq!(
            evaluate(b"bytes=90-", 100),
            RangeResult::Ranges(vec![r(90, 99)])
        );
        assert_eq!(
            evaluate(b"bytes=-10", 100),
            RangeResult::Ranges(vec![r(90, 99)])
        );
        assert_eq!(
            evaluate(b"bytes=-500", 100),
            RangeResult::Ranges(vec![r(0, 99)])
        );
        assert_eq!(
            evaluate(b"bytes=50-500", 100),
            RangeResult::Ranges(vec![r(50, 99)])
        );
        assert_eq!(
            evaluate(b"Bytes = 0-0", 100),
            RangeResult::Ranges(vec![r(0, 0)])
        );
    }

    #[test]
    fn multiple_ranges_keep_order_or_merge() {
        assert_eq!(
            evaluate(b"bytes=50-59, 0-9", 100),
            RangeResult::Ranges(vec![r(50, 59), r(0, 9)])
        );
        assert_eq!(
            evaluate(b"bytes=0-9,5-20,21-30", 100),
            RangeResult::Ranges(vec![r(0, 30)])
        );
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(evaluate(b"bytes=100-", 100), RangeResult::Unsatisfiable);
        assert_eq!(evaluate(b"bytes=200-300", 100), RangeResult::Unsatisfiable);
        assert_eq!(evaluate(b"bytes=-0", 100), RangeResult::Unsatisfiable);
        assert_eq!(evaluate(b"bytes=0-", 0), RangeResult::Unsatisfiable);
        // One satisfiable range is enough.
        assert_eq!(
            evaluate(b"bytes=200-300,0-0", 100),
            RangeResult::Ranges(vec![r(0, 0)])
        );
    }

    #[test]
    fn bad_syntax_is_ignored() {
        for v in [
            &b"bytes=5-1"[..],
            b"bytes=a-b",
            b"items=0-1",
            b"bytes",
            b"bytes=",
            b"bytes=1",
            b"bytes=--1",
            b"bytes=0-1-2",
        ] {
            assert_eq!(evaluate(v, 100), RangeResult::Full, "{v:?}");
        }
        let many: Vec<String> = (0..MAX_RANGES + 1).map(|i| format!("{i}-{i}")).collect();
        assert_eq!(
            evaluate(format!("bytes={}", many.join(",")).as_bytes(), 1000),
            RangeResult::Full
        );
        // Unsatisfiable ranges count too.
        let mut many: Vec<String> = (0..MAX_RANGES).map(|i| format!("{}-", 5000 + i)).collect();
        many.push("0-0".into());
        assert_eq!(
            evaluate(format!("bytes={}", many.join(",")).as_bytes(), 1000),
            RangeResult::Full
        );
    }
}
