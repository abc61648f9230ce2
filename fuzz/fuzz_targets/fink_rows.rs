#![no_main]
use libfuzzer_sys::fuzz_target;

// Fink's JSON rows (prefixed columns, text-valued upper limits, 64-bit ids) into the typed
// rows and on to the unified light curve.
fuzz_target!(|data: &[u8]| {
    let url = url::Url::parse("https://api.ztf.fink-portal.org/api/v1/objects").unwrap();
    if let Ok(rows) = broker_core::http::decode_json::<Vec<fink_client::ztf::ZtfAlert>>(data, &url) {
        let _ = fink_client::ztf::to_lightcurve(&rows, true);
        let rows = fink_client::common::Rows::Ztf(rows);
        let _ = rows.hits();
        let _ = rows.to_json();
    }
    if let Ok(rows) = broker_core::http::decode_json::<Vec<fink_client::lsst::LsstSource>>(data, &url) {
        let _ = fink_client::lsst::to_lightcurve(&rows);
        let rows = fink_client::common::Rows::Lsst(rows);
        let _ = rows.hits();
        let _ = rows.to_json();
    }
    let _ = fink_client::columns::parse_columns(&String::from_utf8_lossy(data));
});
