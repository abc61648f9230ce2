#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = alerce_client::catshtm::parse_tables(&v, "GAIA/DR1");
        let _ = alerce_client::catshtm::parse_tables(&v, "all");
    }
});
