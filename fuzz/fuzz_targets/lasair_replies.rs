#![no_main]
use libfuzzer_sys::fuzz_target;

// Lasair's replies (NaN allowed, ids as text or integers, either server's cone shape) into
// the typed models and on to the unified light curve.
fuzz_target!(|data: &[u8]| {
    let url = url::Url::parse("https://api.lasair.lsst.ac.uk/api/object/").unwrap();
    if let Ok(v) = broker_core::http::decode_json_lenient::<serde_json::Value>(data, &url) {
        let _ = lasair_client::cone::ConeResult::from_value(v);
    }
    if let Ok(o) = broker_core::http::decode_json_lenient::<lasair_client::objects::ZtfObject>(data, &url) {
        let _ = o.to_lightcurve(true);
    }
    if let Ok(o) = broker_core::http::decode_json_lenient::<lasair_client::objects::LsstObject>(data, &url) {
        let _ = o.to_lightcurve(true);
    }
    let _ = lasair_client::ids::ObjectId::parse(&String::from_utf8_lossy(data));
});
