//! Property tests: SkyPortal's envelope and page decoding never panic on hostile replies and
//! fail with a typed error (decode, HTTP-with-message, auth), whatever the status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use broker_core::{Error, RetryPolicy};
use httpmock::prelude::*;
use proptest::prelude::*;

const SOURCE: &str = r#"{"status": "success", "version": "1.4.0", "data": {"id": "ZTF1", "ra": 1.0, "dec": 2.0}}"#;
const PAGE: &str = r#"{"status": "success", "data": {"sources": [{"id": "ZTF1", "ra": 1.0, "dec": 2.0}], "totalMatches": 1, "pageNumber": 1, "numPerPage": 10, "queryID": "f00d"}}"#;

fn hostile(sample: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let s = sample.as_bytes();
    let n = s.len();
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        (0..=n).prop_map(move |cut| s[..cut].to_vec()),
        proptest::collection::vec((0..n, any::<u8>()), 1..6).prop_map(move |edits| {
            let mut v = s.to_vec();
            for (i, b) in edits {
                v[i] = b;
            }
            v
        }),
        Just(br#"{"status": "error", "message": "boom", "data": {}}"#.to_vec()),
        Just(br#"{"status": "success"}"#.to_vec()),
        Just(b"<html><body>502 Bad Gateway</body></html>".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn hostile_replies_give_typed_errors(
        one in hostile(SOURCE),
        page in hostile(PAGE),
        status in prop_oneof![Just(200u16), Just(400u16), Just(401u16), Just(404u16), Just(500u16)],
    ) {
        let server = MockServer::start();
        let mut m1 = server.mock(|w, t| { w.path("/api/sources/ZTF1"); t.status(status).body(one.clone()); });
        let mut m2 = server.mock(|w, t| { w.path("/api/sources"); t.status(status).body(page.clone()); });
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = skyportal_client::ClientBuilder::new()
            .base_url(server.base_url())
            .token("t0k3n".to_string())
            .retry(RetryPolicy::none())
            .no_rate_limit()
            .build()
            .unwrap();
        let (a, b) = rt.block_on(async {
            let a = client.sources().get("ZTF1").send().await;
            let b = client.sources().list().page_size(10).max_pages(1).collect_all().await;
            (a, b)
        });
        for e in [a.err(), b.err()].into_iter().flatten() {
            prop_assert!(
                matches!(e, Error::Decode { .. } | Error::Http(_) | Error::Auth { .. }),
                "{e:?}"
            );
            prop_assert!(!e.to_string().contains("t0k3n"));
        }
        m1.delete();
        m2.delete();
    }
}
