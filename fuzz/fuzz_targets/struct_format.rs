//! Any bytes as a struct format: compiling must return a layout or an error, never panic,
//! and a compiled format must pack and unpack a record of its size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pystruct::Struct;

fuzz_target!(|data: &[u8]| {
    let Ok(st) = Struct::new(data) else { return };
    assert_eq!(pystruct::calcsize(data).ok(), Some(st.size()));
    if st.size() > 1 << 16 {
        return;
    }
    let zeros = vec![0u8; st.size()];
    let Ok(values) = st.unpack(&zeros) else {
        return;
    };
    assert_eq!(values.len(), st.value_count());
    let packed = st.pack(&values).expect("unpacked values pack again");
    assert_eq!(packed.len(), st.size());
    let _ = st.unpack(&packed);
});
