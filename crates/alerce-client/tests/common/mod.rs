//! Shared test helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use alerce_client::AlerceClient;
use broker_core::{ManualClock, RetryPolicy};
use httpmock::{HttpMockRequest, MockServer};

/// A client whose every service lives on the mock server, with a virtual clock.
pub fn client(server: &MockServer) -> (AlerceClient, ManualClock) {
    let clock = ManualClock::new();
    let c = AlerceClient::builder()
        .host(&server.base_url())
        .clock(Arc::new(clock.clone()))
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .jitter(false)
                .backoff(Duration::from_millis(100), Duration::from_secs(1)),
        )
        .build()
        .unwrap();
    (c, clock)
}

/// Matches a request whose query is exactly these pairs, in this order.
pub fn exact_query(expected: &[(&str, &str)]) -> impl Fn(&HttpMockRequest) -> bool + Send + Sync + 'static {
    let exp: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |req: &HttpMockRequest| req.query_params() == exp
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A ZTF-like 63x63 float32 stamp, gzip-compressed.
pub fn ztf_stamp_gz(seed: f32) -> Vec<u8> {
    let px: Vec<f32> = (0..63 * 63).map(|i| seed + i as f32).collect();
    gzip(&alerce_client::fits::write_f32_fits(63, 63, &px, &[("MAGZP", "26.325")]))
}
