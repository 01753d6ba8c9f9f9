//! `struct:FMT` framing, the header format chosen by the first byte: round trip and
//! segmentation independence (see frame_common.rs).
#![no_main]

mod frame_common;

use libfuzzer_sys::fuzz_target;
use sockit::frame::Framing;

const FORMATS: &[&str] = &["!I", "<H", ">Q", "!i", "<b", "B", "!xH", "=q"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = FORMATS[usize::from(pick) % FORMATS.len()];
    let Ok(framing) = format!("struct:{format}").parse::<Framing>() else {
        return;
    };
    frame_common::check(&framing, rest);
});
