//! Shared helpers for the endpoint tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use broker_core::{ManualClock, RetryPolicy};
use httpmock::prelude::*;
use serde_json::{Value, json};
use skyportal_client::Client;

/// The token every test client sends.
pub const TOKEN: &str = "ea70a5f0-b321-43c6-96a1-b2de225e0339";
/// The `Authorization` header value SkyPortal expects.
pub const AUTH: &str = "token ea70a5f0-b321-43c6-96a1-b2de225e0339";

/// A client for the mock server with a virtual clock (nothing sleeps for real).
pub fn client(server: &MockServer) -> (Client, ManualClock) {
    let clock = ManualClock::new();
    let c = Client::builder()
        .base_url(server.base_url())
        .token(TOKEN.to_string())
        .clock(Arc::new(clock.clone()))
        .retry(RetryPolicy::default().jitter(false))
        .no_rate_limit()
        .build()
        .unwrap();
    (c, clock)
}

/// The success envelope around `data`.
pub fn ok(data: Value) -> Value {
    json!({"status": "success", "data": data, "version": "1.4.0+fritz.3a7b641"})
}

/// The error envelope.
pub fn err(message: &str) -> Value {
    json!({"status": "error", "message": message, "data": {}, "version": "1.4.0"})
}

/// The decoded query pairs of a request, in order.
pub fn query_of(req: &httpmock::HttpMockRequest) -> Vec<(String, String)> {
    let uri = req.uri();
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A matcher for exactly these query pairs (order-insensitive, no extra keys).
pub fn exact_query(expected: &[(&str, &str)]) -> impl Fn(&httpmock::HttpMockRequest) -> bool + Send + Sync + 'static {
    let mut want: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    want.sort();
    move |req| {
        let mut got = query_of(req);
        got.sort();
        if got != want {
            eprintln!("query mismatch:\n  got  {got:?}\n  want {want:?}");
        }
        got == want
    }
}

/// A realistic source as `/api/sources` returns it.
pub fn source_json(id: &str, ra: f64) -> Value {
    json!({
        "id": id, "ra": ra, "dec": 33.646149, "ra_dis": null, "dec_dis": null,
        "ra_err": null, "dec_err": null, "offset": 0.0, "redshift": 0.0345,
        "redshift_error": null, "redshift_origin": null, "redshift_history": null,
        "altdata": {"ztf": {"drb": 0.99}}, "dist_nearest_source": 1.2,
        "mag_nearest_source": 18.3, "e_mag_nearest_source": 0.02, "transient": false,
        "varstar": false, "is_roid": false, "score": 0.7, "origin": "Kowalski",
        "alias": ["SN 2021abc"], "detect_photometry_count": 12, "tns_name": "2021abc",
        "created_at": "2021-03-01T05:00:12.340000", "modified": "2021-03-04T05:00:12.340000",
        "last_detected_at": "2021-03-04T05:00:12", "healpix": 1234567,
        "groups": [{"id": 4, "name": "Program A", "nickname": "progA", "private": false,
                    "single_user_group": false, "saved_at": "2021-03-02T00:00:00"}],
        "classifications": [{"id": 9, "classification": "Ia", "taxonomy_id": 1, "probability": 0.9,
                             "author_id": 2, "author_name": "bot", "obj_id": id}]
    })
}

/// A catch-all mock: tests of input errors assert it was never hit.
pub async fn catch_all(server: &MockServer) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500).body("unexpected request");
        })
        .await
}

/// A realistic photometry point (`format=both`).
pub fn phot_json(id: i64, mjd: f64, filter: &str, mag: Option<f64>) -> Value {
    json!({
        "obj_id": "ZTF21aaqjmps", "ra": 353.36647, "dec": 33.646149, "filter": filter, "mjd": mjd,
        "snr": mag.map(|_| 11.2), "instrument_id": 1, "instrument_name": "ZTF", "ra_unc": null, "dec_unc": null,
        "origin": "None", "id": id, "altdata": null, "created_at": "2021-03-04T05:00:12.340000",
        "groups": [{"id": 1, "name": "Sitewide Group", "nickname": "sitewide", "single_user_group": false}],
        "annotations": [], "mag": mag, "magerr": mag.map(|_| 0.097), "magsys": "ab", "limiting_mag": 20.5,
        "flux": mag.map(|m| 10f64.powf((23.9 - m) / 2.5)), "fluxerr": 9.2, "zp": 23.9
    })
}
