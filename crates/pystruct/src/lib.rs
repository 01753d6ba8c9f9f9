//! Python's `struct` format language, byte-exact with CPython 3.11 on x86-64 Linux.
//!
//! No dependencies and no I/O: formats are compiled once into a [`Struct`], then records are
//! packed and unpacked without allocating beyond the output.
