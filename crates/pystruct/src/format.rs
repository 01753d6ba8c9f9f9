//! The format-string parser: turns `"<i5sf"` into a [`Layout`], the list of fields with
//! their offsets, exactly as CPython's `prepare_s` does (same sizes, same native alignment,
//! same errors in the same order).

use crate::error::{Error, Result};

/// The byte order, size and alignment mode chosen by a format's first character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `@` or no prefix: native byte order, native sizes, C alignment (x86-64 Linux).
    Native,
    /// `=`: native byte order (little-endian here), standard sizes, no alignment.
    NativeOrder,
    /// `<`: little-endian, standard sizes, no alignment.
    Little,
    /// `>`: big-endian, standard sizes, no alignment.
    Big,
    /// `!`: network order (big-endian), standard sizes, no alignment.
    Network,
}

impl Mode {
    /// The mode a prefix character selects, if it is one.
    pub fn from_prefix(c: u8) -> Option<Mode> {
        match c {
            b'@' => Some(Mode::Native),
            b'=' => Some(Mode::NativeOrder),
            b'<' => Some(Mode::Little),
            b'>' => Some(Mode::Big),
            b'!' => Some(Mode::Network),
            _ => None,
        }
    }

    /// The prefix character of this mode (`@` for native).
    pub fn prefix(self) -> char {
        match self {
            Mode::Native => '@',
            Mode::NativeOrder => '=',
            Mode::Little => '<',
            Mode::Big => '>',
            Mode::Network => '!',
        }
    }

    /// Whether native sizes and alignment apply (only `@`).
    pub fn is_native(self) -> bool {
        self == Mode::Native
    }

    /// Whether multi-byte fields are written most significant byte first.
    pub fn is_big_endian(self) -> bool {
        matches!(self, Mode::Big | Mode::Network)
    }
}

/// What one format character stores, with its size fixed by the mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `c`: one byte, as a bytes object of length 1.
    Char,
    /// `b`.
    I8,
    /// `B`.
    U8,
    /// `?`.
    Bool,
    /// `h`.
    I16,
    /// `H`.
    U16,
    /// `i`, standard `l`.
    I32,
    /// `I`, standard `L`.
    U32,
    /// `q`, native `l`, `n`.
    I64,
    /// `Q`, native `L`, `N`.
    U64,
    /// `P`: a pointer, accepting any value from `i64::MIN` to `u64::MAX`.
    Ptr,
    /// `e`: IEEE 754 half precision.
    F16,
    /// `f`.
    F32,
    /// `d`.
    F64,
    /// `s`: a fixed-size byte string.
    Str,
    /// `p`: a Pascal string (length byte, then the bytes).
    Pascal,
}

impl Kind {
    /// Size in bytes of one item (for `s` and `p`, of one byte: the count is the length).
    pub(crate) const fn size(self) -> usize {
        match self {
            Kind::Char | Kind::I8 | Kind::U8 | Kind::Bool | Kind::Str | Kind::Pascal => 1,
            Kind::I16 | Kind::U16 | Kind::F16 => 2,
            Kind::I32 | Kind::U32 | Kind::F32 => 4,
            Kind::I64 | Kind::U64 | Kind::Ptr | Kind::F64 => 8,
        }
    }
}

/// One run of a format character: `4h` is one code with `count` 4; `10s` is one code with
/// `count` 10 holding one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Code {
    /// What is stored.
    pub kind: Kind,
    /// The format character, for messages.
    pub format: u8,
    /// Offset of the first item in the record.
    pub offset: usize,
    /// Repeat count, or the byte length for `s` and `p`.
    pub count: usize,
    /// Offset just past the code's last byte (`offset + count * kind.size()`).
    pub end: usize,
    /// Number of values this code takes or gives (`count`, or 1 for `s` and `p`).
    pub values: usize,
}

impl Code {
    /// A code with its derived fields filled in.
    fn new(kind: Kind, format: u8, offset: usize, count: usize) -> Code {
        Code {
            kind,
            format,
            offset,
            count,
            end: offset + count * kind.size(),
            values: match kind {
                Kind::Str | Kind::Pascal => 1,
                _ => count,
            },
        }
    }
}

/// A compiled format: fields, offsets and total size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Byte order, sizes and alignment.
    pub mode: Mode,
    /// The fields in order; pad bytes (`x`) and zero counts have no code. Consecutive
    /// runs of one numeric format character are merged into one code (`<IHHQ` is `I`,
    /// `2H`, `Q`), so packing and unpacking dispatch once per run, not once per value.
    pub codes: Vec<Code>,
    /// Size of a packed record in bytes.
    pub size: usize,
    /// Number of values a record holds.
    pub len: usize,
    /// Whether a `0p` field is present (it cannot be unpacked).
    pub zero_pascal: bool,
    /// Byte ranges no field writes (pad bytes and alignment), zeroed when packing.
    pub gaps: Vec<(usize, usize)>,
    /// What packing and unpacking run: zeroing ops, then one op per code.
    pub ops: Vec<crate::ops::Op>,
    /// Index in `ops` of the first field op (after the zeroing ones).
    pub first_field: usize,
}

/// What a format character means in a mode: its kind (or `None` for a pad byte `x`), its
/// size and its alignment.
fn entry(c: u8, native: bool) -> Option<(Option<Kind>, usize, usize)> {
    let k = |kind: Kind| {
        Some((
            Some(kind),
            kind.size(),
            if native { kind.size() } else { 1 },
        ))
    };
    match c {
        b'x' => Some((None, 1, 1)),
        b'c' => k(Kind::Char),
        b'b' => k(Kind::I8),
        b'B' => k(Kind::U8),
        b'?' => k(Kind::Bool),
        b'h' => k(Kind::I16),
        b'H' => k(Kind::U16),
        b'i' => k(Kind::I32),
        b'I' => k(Kind::U32),
        b'l' if native => k(Kind::I64),
        b'L' if native => k(Kind::U64),
        b'l' => k(Kind::I32),
        b'L' => k(Kind::U32),
        b'q' => k(Kind::I64),
        b'Q' => k(Kind::U64),
        b'n' if native => k(Kind::I64),
        b'N' if native => k(Kind::U64),
        b'P' if native => k(Kind::Ptr),
        b'e' => k(Kind::F16),
        b'f' => k(Kind::F32),
        b'd' => k(Kind::F64),
        b's' => Some((Some(Kind::Str), 1, 1)),
        b'p' => Some((Some(Kind::Pascal), 1, 1)),
        _ => None,
    }
}

/// CPython's `Py_ISSPACE`: the characters skipped between items.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The largest size CPython accepts (`PY_SSIZE_T_MAX`).
const MAX_SIZE: usize = isize::MAX as usize;

/// Parses a format into its layout, with CPython's rules and error order.
pub(crate) fn parse(fmt: &[u8]) -> Result<Layout> {
    if fmt.contains(&0) {
        return Err(Error::EmbeddedNull);
    }
    let (mode, start) = match fmt.first().copied().and_then(Mode::from_prefix) {
        Some(mode) => (mode, 1),
        None => (Mode::Native, 0),
    };
    let native = mode.is_native();
    let mut codes = Vec::new();
    let mut size: usize = 0;
    let mut len: usize = 0;
    let mut zero_pascal = false;
    let mut i = start;
    while i < fmt.len() {
        let mut c = fmt[i];
        let mut pos = i;
        i += 1;
        if is_space(c) {
            continue;
        }
        let num = if c.is_ascii_digit() {
            let mut num = usize::from(c - b'0');
            loop {
                match fmt.get(i) {
                    Some(&d) if d.is_ascii_digit() => {
                        num = num
                            .checked_mul(10)
                            .and_then(|n| n.checked_add(usize::from(d - b'0')))
                            .filter(|&n| n <= MAX_SIZE)
                            .ok_or(Error::TooLong)?;
                        i += 1;
                    }
                    Some(&d) => {
                        c = d;
                        pos = i;
                        i += 1;
                        break;
                    }
                    None => return Err(Error::RepeatWithoutFormat),
                }
            }
            num
        } else {
            1
        };
        let Some((kind, item_size, align)) = entry(c, native) else {
            return Err(Error::BadChar {
                byte: c,
                position: pos,
                native_only: matches!(c, b'n' | b'N' | b'P'),
            });
        };
        if size > 0 && align > 1 {
            let extra = (align - 1) - (size - 1) % align;
            size = size
                .checked_add(extra)
                .filter(|&s| s <= MAX_SIZE)
                .ok_or(Error::TooLong)?;
        }
        if num > (MAX_SIZE - size) / item_size {
            return Err(Error::TooLong);
        }
        match kind {
            None => {}
            Some(kind @ (Kind::Str | Kind::Pascal)) => {
                zero_pascal |= kind == Kind::Pascal && num == 0;
                codes.push(Code::new(kind, c, size, num));
                len += 1;
            }
            Some(kind) if num > 0 => {
                codes.push(Code::new(kind, c, size, num));
                len += num;
            }
            Some(_) => {}
        }
        size += num * item_size;
    }
    let gaps = gaps(&codes, size);
    let codes = merge(codes);
    let (ops, first_field) = crate::ops::compile(mode, &codes, size, &gaps);
    let layout = Layout {
        mode,
        codes,
        size,
        len,
        zero_pascal,
        gaps,
        ops,
        first_field,
    };
    // Packing stores without bounds checks on the strength of this (a bug here would
    // otherwise be memory corruption): checked once per format, never per record.
    assert!(
        layout.check_ops(),
        "pystruct: inconsistent layout for {fmt:?}"
    );
    Ok(layout)
}

/// Merges each numeric code into the one before it when both are the same format
/// character and the second starts where the first ends (`HH` is `2H`; `HxH` stays two).
/// `s` and `p` codes are one value each and are never merged.
fn merge(codes: Vec<Code>) -> Vec<Code> {
    let mut out: Vec<Code> = Vec::with_capacity(codes.len());
    for code in codes {
        if let Some(last) = out.last_mut() {
            if !matches!(code.kind, Kind::Str | Kind::Pascal)
                && last.kind == code.kind
                && last.format == code.format
                && last.end == code.offset
            {
                *last = Code::new(last.kind, last.format, last.offset, last.count + code.count);
                continue;
            }
        }
        out.push(code);
    }
    out
}

/// The byte ranges of a record that no code writes: pad bytes `x` and native alignment.
/// (`s` and `p` fields zero their own unused tails.)
fn gaps(codes: &[Code], size: usize) -> Vec<(usize, usize)> {
    let mut gaps = Vec::new();
    let mut covered = 0;
    for code in codes {
        if code.offset > covered {
            gaps.push((covered, code.offset));
        }
        covered = covered.max(code.end);
    }
    if size > covered {
        gaps.push((covered, size));
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(f: &str) -> Result<usize> {
        parse(f.as_bytes()).map(|l| l.size)
    }

    #[test]
    fn native_alignment_has_no_trailing_padding() {
        assert_eq!(size("@qc"), Ok(9));
        assert_eq!(size("@c0q"), Ok(8));
        assert_eq!(size("<c0q"), Ok(1));
        assert_eq!(size("i5sf"), Ok(16));
        assert_eq!(size("@bd"), Ok(16));
        assert_eq!(size("@be"), Ok(4));
    }

    #[test]
    fn runs_of_one_character_merge() {
        let l = parse(b"<IHHQ").unwrap();
        let runs: Vec<_> = l
            .codes
            .iter()
            .map(|c| (c.format, c.offset, c.count))
            .collect();
        assert_eq!(runs, [(b'I', 0, 1), (b'H', 4, 2), (b'Q', 8, 1)]);
        let l = parse(b"<HxH2h3h5s5sll").unwrap();
        let runs: Vec<_> = l
            .codes
            .iter()
            .map(|c| (c.format, c.offset, c.count))
            .collect();
        assert_eq!(
            runs,
            [
                (b'H', 0, 1),
                (b'H', 3, 1),
                (b'h', 5, 5),
                (b's', 15, 5),
                (b's', 20, 5),
                (b'l', 25, 2)
            ]
        );
        // `i` and standard `l` store the same, but their messages differ: not merged.
        assert_eq!(parse(b"<il").unwrap().codes.len(), 2);
        assert_eq!(parse(b"@ii").unwrap().codes.len(), 1);
        use crate::ops::OpCode;
        let zeroing = |f: &[u8]| {
            let l = parse(f).unwrap();
            l.ops[..l.first_field]
                .iter()
                .map(|op| op.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(zeroing(b"@bi"), [OpCode::ZeroSmall]);
        assert_eq!(zeroing(b"<bi"), []);
        assert_eq!(zeroing(b"@b7qbh"), [OpCode::ZeroGap, OpCode::ZeroGap]);
    }

    #[test]
    fn whitespace_between_items_only() {
        assert_eq!(size(" 4h "), Ok(8));
        assert_eq!(size("< i"), Ok(4));
        assert!(matches!(
            size("4 h"),
            Err(Error::BadChar { byte: b' ', .. })
        ));
        assert!(matches!(
            size(" <i"),
            Err(Error::BadChar { byte: b'<', .. })
        ));
    }

    #[test]
    fn errors_in_cpython_order() {
        assert_eq!(size("3"), Err(Error::RepeatWithoutFormat));
        assert_eq!(size("i\0"), Err(Error::EmbeddedNull));
        assert_eq!(size("99999999999999999999z"), Err(Error::TooLong));
        assert!(matches!(
            size("@9223372036854775807xz"),
            Err(Error::BadChar { .. })
        ));
        assert_eq!(size("9223372036854775807xi"), Err(Error::TooLong));
        assert_eq!(size("9223372036854775807s"), Ok(isize::MAX as usize));
        assert!(matches!(
            size("<n"),
            Err(Error::BadChar {
                native_only: true,
                ..
            })
        ));
    }
}
