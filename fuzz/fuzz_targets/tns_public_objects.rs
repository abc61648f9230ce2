#![no_main]
use libfuzzer_sys::fuzz_target;

// The TNS public-objects CSV (first line a timestamp, then a header and rows), names, and the
// internal-names list: arbitrary text must parse or fail with an error, never panic.
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = tns_client::bulk::parse_public_objects(&text);
    let _ = tns_client::bulk::parse_csv_records(&text);
    let _ = tns_client::names::TnsName::parse(&text);
    let _ = tns_client::names::InternalNames::parse(&text);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = tns_client::report::parse_reply("1", 200, &v);
    }
});
