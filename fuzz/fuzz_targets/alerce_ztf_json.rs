#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let url = url::Url::parse("https://api.alerce.online/ztf/v1/objects/x").unwrap();
    let _ = broker_core::http::decode_json_lenient::<alerce_client::ztf::ZtfLightcurve>(data, &url);
    let _ = broker_core::http::decode_json_lenient::<alerce_client::ztf::ZtfObjectPage>(data, &url);
});
