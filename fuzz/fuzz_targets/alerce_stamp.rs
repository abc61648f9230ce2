#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = alerce_client::stamps::Stamp::from_body(alerce_client::stamps::StampKind::Science, data);
    let _ = alerce_client::fits::read_images(data);
});
