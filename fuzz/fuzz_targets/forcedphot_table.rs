#![no_main]
use fallingstar_forcedphot::columns::ResultColumns;
use fallingstar_forcedphot::{Error, ResultTable};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The one-pass columnar parser and the reference rules (line by line) agree exactly: the
    // same columns bit for bit, or the same error at the same line.
    let fast = ResultColumns::parse(&text);
    match (&fast, ResultColumns::parse_reference(&text)) {
        (Ok(a), Ok(b)) => assert!(a.bitwise_eq(&b), "columns differ"),
        (Err(Error::Parse { line: la, message: ma }), Err(Error::Parse { line: lb, message: mb })) => {
            assert_eq!((la, ma), (&lb, &mb), "errors differ");
        }
        (a, b) => panic!("fast {a:?} vs reference {b:?}"),
    }
    // Typed rows come from the same columns: one row per columnar row, every column full.
    match (fast, ResultTable::parse(&text)) {
        (Ok(c), Ok(t)) => {
            assert_eq!(c.len(), t.len());
            assert!(c.iter().all(|(_, d)| d.len() == c.len()));
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("columns {a:?} vs rows {b:?}"),
    }
    let url = url::Url::parse("https://fallingstar-data.com/forcedphot/queue/1/").unwrap();
    let _ = broker_core::http::decode_json::<fallingstar_forcedphot::Task>(data, &url);
});
