//! The stdin line splitter: exactly the lines within the limit, one report per longer
//! line, never a part of one, wherever the chunks end (see frame_common.rs).
#![no_main]

mod frame_common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| frame_common::check_lines(data));
