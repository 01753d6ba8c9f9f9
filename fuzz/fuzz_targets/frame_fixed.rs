//! `fixed:N` framing, N from the first byte (1 to 256): round trip and segmentation
//! independence (see frame_common.rs); N above the limit must refuse, never buffer.
#![no_main]

mod frame_common;

use libfuzzer_sys::fuzz_target;
use sockit::frame::Framing;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    frame_common::check(&Framing::Fixed(usize::from(n) + 1), rest);
});
