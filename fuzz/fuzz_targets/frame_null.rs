//! `null` framing: round trip and segmentation independence (see frame_common.rs).
#![no_main]

mod frame_common;

use libfuzzer_sys::fuzz_target;
use sockit::frame::Framing;

fuzz_target!(|data: &[u8]| frame_common::check(&Framing::Null, data));
