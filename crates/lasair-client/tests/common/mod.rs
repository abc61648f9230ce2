//! Shared test helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use broker_core::{ManualClock, RetryPolicy};
use httpmock::{HttpMockRequest, MockServer};
use lasair_client::{LasairClient, LasairClientBuilder};

/// A builder whose servers live on the mock server (`/ztf/api/`, `/lsst/api/`), with a
/// virtual clock and a token unique to the test (so quota buckets are not shared).
pub fn builder(server: &MockServer, token: &str) -> (LasairClientBuilder, ManualClock) {
    let clock = ManualClock::new();
    let b = LasairClient::builder()
        .ztf_url(server.url("/ztf/api/"))
        .lsst_url(server.url("/lsst/api/"))
        .token(token.to_string())
        .clock(Arc::new(clock.clone()))
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .jitter(false)
                .backoff(Duration::from_millis(100), Duration::from_secs(1))
                .max_limiter_wait(Duration::from_secs(60)),
        );
    (b, clock)
}

/// A client with a per-test token and the user class's quota (100 an hour).
pub fn client(server: &MockServer, token: &str) -> (LasairClient, ManualClock) {
    let (b, c) = builder(server, token);
    (b.build().unwrap(), c)
}

/// Matches a form body whose pairs are exactly these, in this order.
pub fn exact_form(expected: &[(&str, &str)]) -> impl Fn(&HttpMockRequest) -> bool + Send + Sync + 'static {
    let exp: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |req: &HttpMockRequest| {
        let got: Vec<(String, String)> =
            url::form_urlencoded::parse(req.body().as_ref()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        got == exp
    }
}
