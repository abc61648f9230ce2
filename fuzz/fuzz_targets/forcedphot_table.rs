#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fallingstar_forcedphot::ResultTable::parse(&String::from_utf8_lossy(data));
    let url = url::Url::parse("https://fallingstar-data.com/forcedphot/queue/1/").unwrap();
    let _ = broker_core::http::decode_json::<fallingstar_forcedphot::Task>(data, &url);
});
