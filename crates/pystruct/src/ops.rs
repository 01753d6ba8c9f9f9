//! The compiled form of a layout that packing and unpacking run: a flat list of ops,
//! each a run of one format character with its absolute byte range and value count, and
//! an op code that folds in the byte order (and, for `f`, whether overflow is refused).
//!
//! Packing dispatches once per op on a one-byte code: no per-call branches on the mode,
//! no per-value offset arithmetic. The pad-byte zeroing a record needs is itself an op
//! at the front of the list, so a record without pad bytes pays nothing for it.

use crate::format::{Code, Kind, Layout, Mode};

/// What one op does. `Le`/`Be` is the byte order; native (`@`) and `=` are `Le` (x86-64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum OpCode {
    /// Zero the whole record (at most 16 bytes: two stores) before the fields are written.
    ZeroSmall,
    /// Zero the bytes `offset..end` (a pad or alignment gap).
    ZeroGap,
    /// `b`.
    I8,
    /// `B`.
    U8,
    /// `?`.
    Bool,
    /// `c`.
    Char,
    I16Le,
    I16Be,
    U16Le,
    U16Be,
    I32Le,
    I32Be,
    U32Le,
    U32Be,
    I64Le,
    I64Be,
    U64Le,
    U64Be,
    /// `P` (native only, so little-endian): `i64::MIN..=u64::MAX`.
    Ptr,
    F16Le,
    F16Be,
    F32Le,
    F32Be,
    /// Native `f`: a C cast, a finite double too large becomes infinity.
    F32Native,
    F64Le,
    F64Be,
    /// `s`: one value filling `offset..end`.
    Str,
    /// `p`: one value, a length byte then the bytes.
    Pascal,
}

/// One run of a format character, or one zeroing step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Op {
    /// What to do.
    pub code: OpCode,
    /// First byte of the run in the record.
    pub offset: usize,
    /// Just past its last byte.
    pub end: usize,
    /// Values the run takes or gives (0 for zeroing).
    pub values: usize,
}

/// The op list of a layout: zeroing ops first (if any), then one op per code, in order.
/// Returns the ops and the index of the first field op.
pub(crate) fn compile(
    mode: Mode,
    codes: &[Code],
    size: usize,
    gaps: &[(usize, usize)],
) -> (Vec<Op>, usize) {
    let mut ops = Vec::with_capacity(codes.len() + gaps.len().min(1));
    if !gaps.is_empty() {
        if size <= 16 {
            ops.push(Op {
                code: OpCode::ZeroSmall,
                offset: 0,
                end: size,
                values: 0,
            });
        } else {
            ops.extend(gaps.iter().map(|&(offset, end)| Op {
                code: OpCode::ZeroGap,
                offset,
                end,
                values: 0,
            }));
        }
    }
    let first_field = ops.len();
    let big = mode.is_big_endian();
    let order = |le: OpCode, be: OpCode| if big { be } else { le };
    ops.extend(codes.iter().map(|c| Op {
        code: match c.kind {
            Kind::I8 => OpCode::I8,
            Kind::U8 => OpCode::U8,
            Kind::Bool => OpCode::Bool,
            Kind::Char => OpCode::Char,
            Kind::I16 => order(OpCode::I16Le, OpCode::I16Be),
            Kind::U16 => order(OpCode::U16Le, OpCode::U16Be),
            Kind::I32 => order(OpCode::I32Le, OpCode::I32Be),
            Kind::U32 => order(OpCode::U32Le, OpCode::U32Be),
            Kind::I64 => order(OpCode::I64Le, OpCode::I64Be),
            Kind::U64 => order(OpCode::U64Le, OpCode::U64Be),
            Kind::Ptr => OpCode::Ptr,
            Kind::F16 => order(OpCode::F16Le, OpCode::F16Be),
            Kind::F32 if mode.is_native() => OpCode::F32Native,
            Kind::F32 => order(OpCode::F32Le, OpCode::F32Be),
            Kind::F64 => order(OpCode::F64Le, OpCode::F64Be),
            Kind::Str => OpCode::Str,
            Kind::Pascal => OpCode::Pascal,
        },
        offset: c.offset,
        end: c.end,
        values: c.values,
    }));
    (ops, first_field)
}

impl OpCode {
    /// Bytes per value of a run of this op, or `None` for ops that are not runs of
    /// fixed-size items (zeroing, `s`, `p`).
    const fn item_size(self) -> Option<usize> {
        use OpCode::*;
        match self {
            ZeroSmall | ZeroGap | Str | Pascal => None,
            I8 | U8 | Bool | Char => Some(1),
            I16Le | I16Be | U16Le | U16Be | F16Le | F16Be => Some(2),
            I32Le | I32Be | U32Le | U32Be | F32Le | F32Be | F32Native => Some(4),
            I64Le | I64Be | U64Le | U64Be | Ptr | F64Le | F64Be => Some(8),
        }
    }
}

impl Layout {
    /// Whether the ops keep the invariant the packing loop's unchecked stores rely on:
    /// every op's bytes `offset..end` are inside the record, a run of items spans exactly
    /// its values' bytes, zeroing takes no value and `s`/`p` one, and the value counts
    /// add up to the record's. [`format::parse`](crate::format) asserts it for every
    /// layout it builds.
    pub(crate) fn check_ops(&self) -> bool {
        let mut values: usize = 0;
        let each_ok = self.ops.iter().all(|op| {
            values = values.saturating_add(op.values);
            let inside = op.offset <= op.end && op.end <= self.size;
            let shape = match op.code.item_size() {
                Some(n) => op.values.checked_mul(n) == Some(op.end - op.offset.min(op.end)),
                None if matches!(op.code, OpCode::Str | OpCode::Pascal) => op.values == 1,
                None => op.values == 0,
            };
            inside && shape
        });
        each_ok && values == self.len
    }

    /// The ops that write fields (and read them back when unpacking): all but zeroing.
    #[inline(always)]
    pub(crate) fn field_ops(&self) -> &[Op] {
        self.ops.get(self.first_field..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::parse;

    #[test]
    fn check_ops_refuses_layouts_the_unchecked_loops_could_overrun() {
        let good = parse(b"@b5sxi2Hd3p?").unwrap();
        assert!(good.check_ops());
        let broken: [fn(&mut Layout); 6] = [
            |l| l.ops.last_mut().unwrap().end += 1,
            |l| l.ops.last_mut().unwrap().offset = l.size + 1,
            |l| l.ops[l.first_field].values += 1,
            |l| l.len += 1,
            |l| l.size -= 1,
            |l| {
                let op = l
                    .ops
                    .iter_mut()
                    .find(|op| op.code == OpCode::U16Le)
                    .unwrap();
                op.end += 2;
            },
        ];
        for (i, breakage) in broken.iter().enumerate() {
            let mut l = good.clone();
            breakage(&mut l);
            assert!(!l.check_ops(), "breakage {i} went unnoticed");
        }
    }

    #[test]
    fn packing_and_unpacking_refuse_buffers_of_the_wrong_size() {
        // The callers check sizes first; the loops check again so that the unchecked
        // accesses stay sound whatever a caller does.
        let l = parse(b"<IHHQ").unwrap();
        let values = [1u32, 2, 3, 4];
        let mut short = [0u8; 15];
        assert!(crate::pack::pack_record(&l, &mut short, &values).is_err());
        let mut record = [0u8; 16];
        assert!(crate::pack::pack_record(&l, &mut record, &values[..3]).is_err());
        let mut seen = 0;
        crate::unpack::for_each(&l, &short, |_| seen += 1);
        assert_eq!(seen, 0);
    }
}
