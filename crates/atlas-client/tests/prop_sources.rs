//! Property tests: the ATLAS `objects/` reply decoder never panics on hostile bytes, accounts
//! for every requested id exactly once, and gives typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use atlas_client::{AtlasClient, AtlasId, SourceOutcome};
use broker_core::{Quota, RateLimiter, RetryPolicy};
use httpmock::prelude::*;
use proptest::prelude::*;
use std::sync::Arc;

const REPLY: &str = r#"[{"object": {"id": 1000005291314656200, "atlas_designation": "ATLAS18pvq", "ra": 244.0, "dec": 22.27}, "lc": [{"id": 1000005291314656200, "mjd": 58286.5, "mag": 14.1, "magerr": 0.01, "filter": "o"}], "lcnondets": [{"id": 7, "mjd": 58280.5, "filter": "o", "mag5sig": 19.4}], "fp": [], "sherlock_crossmatches": [], "sherlock_classifications": [], "tns_crossmatches": [], "external_crossmatches": []}, {"object": "AtlasDiffObjects matching query does not exist.", "lc": null, "lcnondets": null, "fp": null, "sherlock_crossmatches": null, "sherlock_classifications": null, "tns_crossmatches": null, "external_crossmatches": null}]"#;

fn hostile() -> impl Strategy<Value = Vec<u8>> {
    let s = REPLY.as_bytes();
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
        Just(b"[]".to_vec()),
        Just(b"[1, 2, 3, 4]".to_vec()),
        Just(br#"{"detail": "Invalid token."}"#.to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn every_id_accounted_for_whatever_the_reply(body in hostile()) {
        let server = MockServer::start();
        let mut m = server.mock(|w, t| { w.method(POST).path("/api/objects/"); t.status(200).body(body.clone()); });
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = AtlasClient::builder()
            .base_url(server.url("/api/"))
            .token("0123456789abcdef0123456789abcdef01234567")
            .retry(RetryPolicy::none())
            .rate_limiter(Arc::new(RateLimiter::new(Quota::per_hour(1_000_000))))
            .build()
            .unwrap();
        let ids = AtlasId::parse_many(["1000005291314656200", "1000000000000000501"]).unwrap();
        let results = rt.block_on(client.sources(ids.clone()).collect()).unwrap();
        prop_assert_eq!(results.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
        for r in &results {
            if let SourceOutcome::Found(s) = &r.outcome {
                prop_assert_eq!(s.id(), r.id);
            }
        }
        let one = rt.block_on(client.source(AtlasId::parse("1000005291314656200").unwrap()).send());
        if let Err(e) = one {
            prop_assert!(matches!(e, broker_core::Error::Decode { .. } | broker_core::Error::Http(_)), "{e:?}");
        }
        m.delete();
    }
}
