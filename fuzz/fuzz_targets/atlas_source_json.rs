#![no_main]
use libfuzzer_sys::fuzz_target;

// The `objects/` reply's element type is private; the full path (per-element decoding, not
// found placeholders) is property-tested in crates/atlas-client/tests/prop_sources.rs. Here:
// the public row models the reply is made of, and one element decoded the client's way
// (`Source::from_json`: rows' unknown fields kept as raw text).
fuzz_target!(|data: &[u8]| {
    let url = url::Url::parse("https://psweb.mp.qub.ac.uk/sne/atlas4/api/objects/").unwrap();
    let _ = broker_core::http::decode_json::<atlas_client::AtlasObject>(data, &url);
    let _ = broker_core::http::decode_json::<Vec<atlas_client::LcPoint>>(data, &url);
    let _ = broker_core::http::decode_json::<Vec<atlas_client::NonDetection>>(data, &url);
    let _ = broker_core::http::decode_json::<Vec<atlas_client::ForcedPhotometry>>(data, &url);
    if let Ok(source) = atlas_client::models::Source::from_json(data) {
        // Unknown fields kept as text always parse back.
        for p in &source.lc {
            assert!(p.extra.is_empty() || !p.extra.to_map().is_empty());
        }
    }
});
