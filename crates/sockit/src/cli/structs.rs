//! `sockit pack`, `sockit unpack` and `sockit calcsize` command-line definitions.
//!
//! These mirror Python's `struct.pack`, `struct.unpack`/`iter_unpack` and
//! `struct.calcsize`, byte for byte: a record packed here unpacks in Python and back.

use std::path::PathBuf;

use clap::Args;

/// Text shared by the three commands: what a format is.
const FORMAT_HELP: &str = "\
FORMAT is a Python struct format, such as 'i5sf' (int, 5-byte string, float) or '!I' (a \
4-byte length prefix in network order). The first character may choose byte order, sizes \
and alignment: '@' native with C alignment (the default), '=' native order with standard \
sizes, '<' little-endian, '>' big-endian, '!' network order (big-endian). Characters: \
x pad byte, c char, b/B signed/unsigned char, ? bool, h/H short, i/I int, l/L long, \
q/Q long long, n/N ssize_t/size_t and P pointer (native mode only), e half float, \
f float, d double, s bytes, p Pascal string. A count repeats a character ('4h') or gives \
a string length ('10s'). Quote the format in the shell: '!' and '<' are special there.";

/// Options of `sockit pack`.
#[derive(Debug, Args)]
#[command(
    about = "Pack values into bytes with a Python struct format (like struct.pack)",
    after_help = "Packs values into bytes with a Python struct format, exactly as Python's \
struct.pack does, and prints them as hex (or writes them raw with --raw).\n\n\
Values are Python literals: ints (1, -5, 0xff, 1_000), floats (1.75, -0.0, 1e-5, inf, nan), \
True/False, and bytes (b'zhang', b'\\x00\\xff', b\"it's\"). Plain words are not bytes: \
write b'zhang', not zhang.\n\n\
Examples:\n  \
sockit pack 'i5sf' 1 \"b'zhang'\" 1.75     # 010000007a68616e670000000000e03f\n  \
sockit pack '!I' 1500                     # 000005dc: a length prefix\n  \
sockit pack --raw '<hh' -1 2 | xxd         # raw bytes to a pipe or file\n\n\
Integers may be of any size: float fields round them as Python does \
(sockit pack '@f' 340282356779733661637539395458142568448 is 0000807f).\n\n\
Output is written as it is produced: a record of any size (1000000000x is a 1 GB record) \
is streamed as hex, raw or repr, never held twice in memory.\n\n\
Exit codes: 0 success; 1 stdout could not be written (a full disk, a closed pipe); \
2 bad format, bad value, wrong number of values, or a record too large for memory."
)]
pub struct PackArgs {
    /// The struct format, e.g. 'i5sf'.
    #[arg(value_name = "FORMAT", long_help = FORMAT_HELP)]
    pub format: String,

    /// The values to pack, as Python literals: 1, -0x10, 1.75, True, b'zhang'.
    #[arg(value_name = "VALUE", allow_hyphen_values = true)]
    pub values: Vec<String>,

    /// Write the packed bytes to stdout as they are, instead of as hex.
    #[arg(long, conflicts_with = "repr")]
    pub raw: bool,

    /// Print the packed bytes as a Python bytes literal (b'\x01\x00...') instead of hex.
    #[arg(long)]
    pub repr: bool,
}

/// Options of `sockit unpack`.
#[derive(Debug, Args)]
#[command(
    about = "Unpack bytes into values with a Python struct format (like struct.unpack)",
    after_help = "Unpacks bytes into values with a Python struct format, exactly as Python's \
struct.unpack does, and prints them as a Python tuple: (1, b'zhang', 1.75).\n\n\
The bytes come from the HEX argument (whitespace and a 0x prefix are fine), or from \
--file PATH, or from stdin; files and stdin are raw bytes unless --hex is given. Input \
holding several records back to back (a multiple of the record size) prints one tuple \
per record, like struct.iter_unpack; any other length is an error. Records are read \
and printed one at a time, so the input may be larger than memory; when it is bad \
(a partial last record, bad hex), nothing is printed if the error shows within the first \
1 MiB of output, otherwise the records before it have been printed.\n\n\
Examples:\n  \
sockit unpack 'i5sf' 010000007a68616e67000000 0000e03f   # (1, b'zhang', 1.75)\n  \
sockit pack --raw '!I' 1500 | sockit unpack '!I'            # (1500,)\n  \
sockit unpack --json '<hh' --file records.bin             # [-1, 2] per line\n\n\
Exit codes: 0 success; 1 stdout could not be written (a full disk, a closed pipe); \
2 bad format, bad hex, an unreadable file, a length that is not a whole number of records, \
or a record too large for memory."
)]
pub struct UnpackArgs {
    /// The struct format, e.g. 'i5sf'.
    #[arg(value_name = "FORMAT", long_help = FORMAT_HELP)]
    pub format: String,

    /// The bytes as hex; whitespace between digits and a leading 0x are ignored.
    #[arg(value_name = "HEX", conflicts_with = "file")]
    pub hex: Vec<String>,

    /// Read the bytes from this file instead of stdin.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,

    /// The file or stdin holds hex text, not raw bytes.
    #[arg(long = "hex")]
    pub hex_input: bool,

    /// Print each record as a JSON array: ints and floats as numbers (inf/nan as the
    /// strings "inf", "-inf", "nan"), booleans, and bytes as strings with one character
    /// per byte (b'\xff' is "\u00ff").
    #[arg(long)]
    pub json: bool,
}

/// Options of `sockit calcsize`.
#[derive(Debug, Args)]
#[command(
    about = "Print the size in bytes of a Python struct format (like struct.calcsize)",
    after_help = "Examples:\n  \
sockit calcsize 'i5sf'    # 16: 4 + 5, then 3 pad bytes to align the float\n  \
sockit calcsize '=i5sf'   # 13: standard sizes, no alignment\n  \
sockit calcsize '@qc'     # 9: no padding after the last field"
)]
pub struct CalcsizeArgs {
    /// The struct format, e.g. 'i5sf'.
    #[arg(value_name = "FORMAT", long_help = FORMAT_HELP)]
    pub format: String,
}

/// Parses the FMT of `--pack` / `--unpack`: a format whose records are at least one byte
/// (a record of size 0 could neither be sent nor cut from a stream).
pub fn parse_record_format(text: &str) -> Result<pystruct::Struct, String> {
    let st = pystruct::Struct::new(text).map_err(|e| format!("bad struct format '{text}': {e}"))?;
    if st.size() == 0 {
        return Err(format!(
            "struct format '{text}' has size 0: a record must be at least one byte"
        ));
    }
    Ok(st)
}
