//! Python `struct` records on the wire: `--pack FMT` and `--unpack FMT`.
//!
//! A network program cannot send `1, b'zhang', 1.75`, only bytes; the course packs such a
//! record with `struct.pack('i5sf', ...)` and unpacks it on the other side. Here:
//!
//! - [`pack_input`] turns stdin lines of Python literals (`1 b'zhang' 1.75`) into packed
//!   records, one per line, stopping at the first line that cannot be packed (its number
//!   and the problem are in the [`PackLineError`]);
//! - [`render_tuple`] and [`render_datagram`] print received records as Python tuples,
//!   `(1, b'zhang', 1.75)`, exactly as Python's `repr` would; [`json::write_array`] as
//!   JSON arrays;
//! - [`for_each_record`] reads records back to back from any byte stream (a file, a
//!   pipe, a socket read to its end), holding one record at a time;
//! - [`hex`] reads and writes records as hex text, streaming.
//!
//! Over TCP a record has no boundary of its own, but it has a fixed size: the receiver
//! cuts the stream every `calcsize(FMT)` bytes ([`Framing::Fixed`](crate::frame::Framing)),
//! so sticky packets cannot merge or split records. Over UDP each datagram is one record.

pub mod hex;
pub mod json;
mod pack;
mod read;
mod tokenize;
mod udp;
mod unpack;

pub use pack::{pack_error, pack_input, LinePacker, PackLineError, MAX_LINE};
pub use read::{for_each_record, ReadRecordsError, RecordReader};
pub use tokenize::split_values;
pub use udp::send_records;
pub use unpack::{render_datagram, render_tuple};
