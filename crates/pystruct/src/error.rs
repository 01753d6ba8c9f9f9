//! Errors of the format language, with CPython's `struct.error` messages.
//!
//! Every message starts with the exact text CPython 3.11 uses for the same mistake, so a
//! learner can search for it; some add detail after it (which character, which position,
//! how many bytes were given) where CPython's text alone leaves the reader guessing.

use std::fmt;

/// Result of every fallible operation in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The broad class of an [`Error`], for callers that branch on what went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The format string itself is invalid (bad character, dangling count, too large).
    Format,
    /// The number of values does not match the number of items in the format.
    ArgCount,
    /// A value has the wrong type for its format character (bytes for `i`, int for `s`).
    Type,
    /// A value is out of the range its format character can hold.
    Range,
    /// The buffer is too small, too large, or not a multiple of the record size.
    Buffer,
    /// The record is too large to allocate.
    Memory,
    /// A typed unpack or pack (Rust tuple) does not fit the format.
    Typed,
}

/// How a range message names the type: CPython's wording differs between its native pack
/// functions (`short format requires ...`) and its standard-size ones (`'h' format requires ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeName {
    /// Names the C type: `byte format requires ...`.
    CType(&'static str),
    /// Names the format character: `'i' format requires ...`.
    Char(u8),
}

/// Everything that can go wrong when compiling a format, packing or unpacking.
///
/// The [`Display`](fmt::Display) text begins with CPython's own message for the same case;
/// [`Error::kind`] gives the class and [`Error::python_exception`] the exception CPython
/// raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A character that is not a format character (or a byte order prefix not in first
    /// position, or `n`/`N`/`P` with a standard-size prefix).
    BadChar {
        /// The offending byte of the format.
        byte: u8,
        /// Its position in the format, counting from 0.
        position: usize,
        /// Whether the byte is `n`, `N` or `P` used outside native mode.
        native_only: bool,
    },
    /// A repeat count at the very end of the format, with no character after it.
    RepeatWithoutFormat,
    /// The total size (or a repeat count) does not fit in `isize`.
    TooLong,
    /// A NUL byte inside the format.
    EmbeddedNull,
    /// Wrong number of values for `pack` or `pack_into`.
    ArgCount {
        /// `"pack"` or `"pack_into"`.
        op: &'static str,
        /// Values the format needs.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A non-integer value for an integer format character.
    NotInteger {
        /// The format character.
        format: u8,
    },
    /// A non-number value for `e`, `f` or `d`.
    NotFloat {
        /// The format character.
        format: u8,
    },
    /// `c` was given something other than exactly one byte.
    CharLength,
    /// `s` or `p` was given something other than bytes.
    NotBytes {
        /// The format character (`s` or `p`).
        format: u8,
    },
    /// An integer outside the range of its format character.
    Range {
        /// The format character.
        format: u8,
        /// How CPython names the type in the message.
        name: RangeName,
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: u64,
    },
    /// An integer outside the range of a C `long` (CPython's `argument out of range`).
    ArgumentOutOfRange {
        /// The format character.
        format: u8,
    },
    /// An integer that does not fit in the bytes of the field (CPython's
    /// `int too large to convert`).
    IntTooLarge {
        /// The format character.
        format: u8,
    },
    /// A float too large for `e` or standard-size `f` (CPython raises `OverflowError`).
    FloatTooLarge {
        /// The format character.
        format: u8,
    },
    /// `unpack` was given a buffer of the wrong size.
    UnpackSize {
        /// The record size.
        expected: usize,
        /// The buffer size.
        got: usize,
    },
    /// `unpack_from` or `pack_into` was given a buffer too short for the record at `offset`.
    BufferTooSmall {
        /// `"unpack_from"` or `"pack_into"`.
        op: &'static str,
        /// The record size.
        size: usize,
        /// Where the record starts.
        offset: usize,
        /// The buffer size.
        len: usize,
    },
    /// `iter_unpack` with a format of size 0.
    IterZeroSize,
    /// `iter_unpack` with a buffer that is not a whole number of records.
    IterNotMultiple {
        /// The record size.
        size: usize,
        /// The buffer size.
        len: usize,
    },
    /// The packed record would not fit in memory.
    OutOfMemory {
        /// Bytes requested.
        size: usize,
    },
    /// Unpacking a `0p` field, which CPython cannot do either (it raises `SystemError`).
    ZeroPascal,
    /// A typed unpack/pack tuple has a different number of fields than the format has values.
    TypedArity {
        /// Values in the format.
        expected: usize,
        /// Fields in the Rust type.
        got: usize,
    },
    /// A Rust field type does not store its format character exactly
    /// ([`Struct::typed`](crate::Struct::typed)).
    TypedField {
        /// Index of the field.
        index: usize,
        /// The Rust type.
        rust: &'static str,
        /// The format character.
        format: u8,
    },
    /// A value does not convert to the Rust type asked for.
    TypedMismatch {
        /// Index of the value in the record.
        index: usize,
        /// The Rust type asked for.
        expected: &'static str,
        /// Python type of the value found (`int`, `bool`, `float`, `bytes`), or `missing`.
        found: &'static str,
    },
}

impl Error {
    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::BadChar { .. }
            | Error::RepeatWithoutFormat
            | Error::TooLong
            | Error::EmbeddedNull
            | Error::ZeroPascal => ErrorKind::Format,
            Error::ArgCount { .. } => ErrorKind::ArgCount,
            Error::NotInteger { .. }
            | Error::NotFloat { .. }
            | Error::CharLength
            | Error::NotBytes { .. } => ErrorKind::Type,
            Error::Range { .. }
            | Error::ArgumentOutOfRange { .. }
            | Error::IntTooLarge { .. }
            | Error::FloatTooLarge { .. } => ErrorKind::Range,
            Error::UnpackSize { .. }
            | Error::BufferTooSmall { .. }
            | Error::IterZeroSize
            | Error::IterNotMultiple { .. } => ErrorKind::Buffer,
            Error::OutOfMemory { .. } => ErrorKind::Memory,
            Error::TypedArity { .. } | Error::TypedMismatch { .. } | Error::TypedField { .. } => {
                ErrorKind::Typed
            }
        }
    }

    /// The exception CPython 3.11 raises for the same input: `"struct.error"` for almost
    /// everything, `"OverflowError"` for a float too large for `e`/`f` (and for a `s`
    /// field too large to allocate), `"SystemError"` for unpacking `0p`.
    pub fn python_exception(&self) -> &'static str {
        match self {
            Error::FloatTooLarge { .. } | Error::OutOfMemory { .. } => "OverflowError",
            Error::ZeroPascal => "SystemError",
            Error::TypedArity { .. } | Error::TypedMismatch { .. } | Error::TypedField { .. } => {
                "TypeError"
            }
            _ => "struct.error",
        }
    }

    /// The error for an out-of-range integer, worded as CPython words it for this
    /// format character under this byte order table.
    pub(crate) fn range(format: u8, name: RangeName, min: i64, max: u64) -> Error {
        Error::Range {
            format,
            name,
            min,
            max,
        }
    }
}

/// A byte of a format as a readable character for messages.
fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadChar {
                byte,
                position,
                native_only,
            } => {
                write!(
                    f,
                    "bad char in struct format: {} at position {position}",
                    show_byte(*byte)
                )?;
                if *native_only {
                    write!(
                        f,
                        " ('{}' exists only in native mode: no prefix or '@')",
                        *byte as char
                    )?;
                } else if matches!(byte, b'@' | b'=' | b'<' | b'>' | b'!') {
                    f.write_str(" (a byte order prefix must be the first character)")?;
                } else if byte.is_ascii_whitespace() {
                    f.write_str(" (no whitespace between a count and its character)")?;
                }
                Ok(())
            }
            Error::RepeatWithoutFormat => {
                f.write_str("repeat count given without format specifier")
            }
            Error::TooLong => f.write_str("total struct size too long"),
            Error::EmbeddedNull => f.write_str("embedded null character"),
            Error::ArgCount { op, expected, got } => {
                write!(f, "{op} expected {expected} items for packing (got {got})")
            }
            Error::NotInteger { format } => write!(
                f,
                "required argument is not an integer (for '{}')",
                *format as char
            ),
            Error::NotFloat { format } => write!(
                f,
                "required argument is not a float (for '{}')",
                *format as char
            ),
            Error::CharLength => f.write_str("char format requires a bytes object of length 1"),
            Error::NotBytes { format } => write!(
                f,
                "argument for '{}' must be a bytes object",
                *format as char
            ),
            Error::Range { name, min, max, .. } => match name {
                RangeName::CType(ctype) => {
                    write!(f, "{ctype} format requires {min} <= number <= {max}")
                }
                RangeName::Char(c) => {
                    write!(
                        f,
                        "'{}' format requires {min} <= number <= {max}",
                        *c as char
                    )
                }
            },
            Error::ArgumentOutOfRange { format } => {
                write!(f, "argument out of range (for '{}')", *format as char)
            }
            Error::IntTooLarge { format } => {
                write!(f, "int too large to convert (for '{}')", *format as char)
            }
            Error::FloatTooLarge { format } => {
                write!(f, "float too large to pack with {} format", *format as char)
            }
            Error::UnpackSize { expected, got } => {
                write!(
                    f,
                    "unpack requires a buffer of {expected} bytes (got {got})"
                )
            }
            Error::BufferTooSmall {
                op,
                size,
                offset,
                len,
            } => {
                let verb = if *op == "pack_into" {
                    "packing"
                } else {
                    "unpacking"
                };
                write!(
                    f,
                    "{op} requires a buffer of at least {} bytes for {verb} {size} bytes at offset {offset} (actual buffer size is {len})",
                    (*size as u128) + (*offset as u128)
                )
            }
            Error::IterZeroSize => {
                f.write_str("cannot iteratively unpack with a struct of length 0")
            }
            Error::IterNotMultiple { size, len } => write!(
                f,
                "iterative unpacking requires a buffer of a multiple of {size} bytes (got {len})"
            ),
            Error::OutOfMemory { size } => write!(f, "cannot allocate a record of {size} bytes"),
            Error::ZeroPascal => f.write_str(
                "cannot unpack a '0p' field (a Pascal string needs at least its length byte)",
            ),
            Error::TypedArity { expected, got } => write!(
                f,
                "the format has {expected} values but the Rust type has {got} fields"
            ),
            Error::TypedField {
                index,
                rust,
                format,
            } => write!(
                f,
                "field {index}: the Rust type {rust} does not store format character '{}' byte for byte",
                *format as char
            ),
            Error::TypedMismatch {
                index,
                expected,
                found,
            } => write!(
                f,
                "value {index} is {found}, which does not fit a {expected}"
            ),
        }
    }
}

impl std::error::Error for Error {}
