//! Property tests: the result table parser and the task JSON decoder take arbitrary bytes
//! (not only text) without panicking and fail with a typed error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fallingstar_forcedphot::{ResultTable, Task};
use proptest::prelude::*;

const TABLE: &str = "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs\n\
59103.552116 16.499 0.011 912 10 o 0 613.69 29.86137 30.72672 6239.87 2027.06 1.95 1.88 39.8 -0.438 19.59 20.81 02a59103o0723o\n";
const TASK: &str = r#"{"url": "https://fallingstar-data.com/forcedphot/queue/1088/", "id": 1088, "ra": 29.86137, "dec": 30.72672, "mjd_min": 59100.0, "mjd_max": null, "use_reduced": false, "finished": true, "result_url": "https://fallingstar-data.com/forcedphot/static/results/job01088.txt", "error_msg": null, "queuepos": null}"#;

fn hostile(sample: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let s = sample.as_bytes();
    let n = s.len();
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..1024),
        (0..=n).prop_map(move |cut| s[..cut].to_vec()),
        proptest::collection::vec((0..n, any::<u8>()), 1..8).prop_map(move |edits| {
            let mut v = s.to_vec();
            for (i, b) in edits {
                v[i] = b;
            }
            v
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn result_tables_from_bytes(body in hostile(TABLE)) {
        match ResultTable::parse(&String::from_utf8_lossy(&body)) {
            Ok(t) => prop_assert!(t.len() <= body.iter().filter(|&&b| b == b'\n').count() + 1),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn task_json_from_bytes(body in hostile(TASK)) {
        let url = url::Url::parse("https://fallingstar-data.com/forcedphot/queue/1088/").unwrap();
        if let Err(e) = broker_core::http::decode_json::<Task>(&body, &url) {
            prop_assert!(matches!(e, broker_core::Error::Decode { .. }), "{e:?}");
        }
    }
}
