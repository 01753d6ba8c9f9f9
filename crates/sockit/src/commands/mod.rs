//! Wiring from parsed command lines to library calls: one file per command group.
//!
//! These functions connect stdin/stdout to the library and choose the runtime; the
//! networking itself lives in the library modules.

pub mod completions;
pub mod http;
pub mod misc;
pub mod structs;
pub mod tcp;
pub mod transfer;
pub mod udp;
