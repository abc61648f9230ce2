#![no_main]
use libfuzzer_sys::fuzz_target;

// The `objects/` reply's element type is private; the full path (per-element decoding, not
// found placeholders) is property-tested in crates/atlas-client/tests/prop_sources.rs. Here:
// the public row models the reply is made of.
fuzz_target!(|data: &[u8]| {
    let url = url::Url::parse("https://psweb.mp.qub.ac.uk/sne/atlas4/api/objects/").unwrap();
    let _ = broker_core::http::decode_json::<atlas_client::AtlasObject>(data, &url);
    let _ = broker_core::http::decode_json::<Vec<atlas_client::LcPoint>>(data, &url);
    let _ = broker_core::http::decode_json::<Vec<atlas_client::NonDetection>>(data, &url);
    let _ = broker_core::http::decode_json::<Vec<atlas_client::ForcedPhotometry>>(data, &url);
});
