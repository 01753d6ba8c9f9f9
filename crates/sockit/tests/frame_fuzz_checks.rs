//! The checks of the `frame_*` cargo-fuzz targets (fuzz/fuzz_targets/frame_common.rs),
//! run here on random inputs so they stay compiled and true without a nightly toolchain.

#[path = "../../../fuzz/fuzz_targets/frame_common.rs"]
mod frame_common;

use proptest::prelude::*;
use sockit::frame::Framing;

fn framings() -> Vec<Framing> {
    let mut all = vec![
        Framing::Line,
        Framing::Null,
        Framing::Len16,
        Framing::Len32,
        Framing::Varint,
        Framing::Fixed(1),
        Framing::Fixed(5),
        Framing::Fixed(300),
    ];
    for fmt in ["!I", "<H", ">Q", "!i", "<b", "B", "!xH", "=q"] {
        all.push(format!("struct:{fmt}").parse().expect("valid header"));
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn fuzz_checks_hold_for_every_framing(data in prop::collection::vec(any::<u8>(), 0..600)) {
        for framing in framings() {
            frame_common::check(&framing, &data);
        }
    }

    #[test]
    fn fuzz_check_of_the_line_splitter_holds(
        head in prop::collection::vec(any::<u8>(), 5),
        body in prop::collection::vec(prop::sample::select(b"ab\n\r\0".to_vec()), 0..400),
    ) {
        let mut data = head;
        data[0] %= 40;
        data.extend(body);
        frame_common::check_lines(&data);
    }
}
