#![no_main]
use libfuzzer_sys::fuzz_target;

// The envelope check is private to the client; its public models are decoded the same way
// (serde on the `data` member), so fuzz those.
fuzz_target!(|data: &[u8]| {
    let url = url::Url::parse("https://fritz.science/api/sources/x").unwrap();
    let _ = broker_core::http::decode_json::<serde_json::Value>(data, &url);
    let _ = broker_core::http::decode_json::<skyportal_client::Source>(data, &url);
    let _ = broker_core::http::decode_json::<Vec<skyportal_client::PhotometryRecord>>(data, &url);
});
