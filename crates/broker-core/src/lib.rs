//! # broker-core
//!
//! What every astrobrokers client shares: an HTTP client with auth, retry and client-side
//! rate limiting ([`HttpClient`]), pagination strategies that become `futures::Stream`s
//! ([`paginate`]), one error type ([`Error`]), secrets that never print ([`SecretString`]),
//! configuration layering ([`config`]), and astronomy types ([`astro`]: sky positions, MJD,
//! bands, flux and magnitude, the unified [`Lightcurve`]).
//!
//! A broker crate is a thin layer of typed endpoints over these pieces. Here is a client
//! for a made-up service, "Starlog", that wants `Authorization: Token <key>`, pages with
//! `page`/`per_page`, throttles at 60 requests a minute and answers 429 with a
//! `Retry-After`:
//!
//! ```
//! use broker_core::{HttpClient, HeaderToken, Request, RetryPolicy, ListStyle, Result};
//! use broker_core::paginate::{Page, PageNumberPaginator, Paginator};
//! use broker_core::ratelimit::{Quota, RateLimiter};
//! use std::sync::Arc;
//!
//! #[derive(serde::Deserialize)]
//! struct Star { name: String, mag: Option<f64> }
//! #[derive(serde::Deserialize)]
//! struct StarPage { total: u64, stars: Vec<Star> }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<()> {
//! # let server = httpmock::MockServer::start_async().await;
//! # for page in 1..=2 {
//! #     server.mock_async(|when, then| {
//! #         when.path("/api/v1/stars/").query_param("page", page.to_string())
//! #             .query_param("band", "g").query_param("band", "r")
//! #             .header("authorization", "Token my-token");
//! #         then.status(200).json_body(serde_json::json!({"total": 3, "stars":
//! #             if page == 1 { serde_json::json!([{"name": "Vega", "mag": 0.03}, {"name": "Deneb", "mag": 1.25}]) }
//! #             else { serde_json::json!([{"name": "Altair", "mag": null}]) }}));
//! #     }).await;
//! # }
//! # let base = server.url("/api/v1/");
//! // base = "https://starlog.example/api/v1/" in real life
//! let http = HttpClient::builder(base)
//!     .auth(HeaderToken::new("Token", "my-token".to_string()))
//!     .retry(RetryPolicy::default().max_attempts(4))
//!     .rate_limit("all", Arc::new(RateLimiter::new(Quota::per_minute(60))))
//!     .default_bucket("all")
//!     .build()?;
//! let pages = PageNumberPaginator::new(1, 2, move |p| {
//!     let http = http.clone();
//!     async move {
//!         let req = Request::get("stars/").query("page", p.page).query("per_page", p.page_size)
//!             .query_list("band", ["g", "r"], ListStyle::Repeated);
//!         let page: StarPage = http.json(req).await?;
//!         Ok(Page::new(page.stars).with_total(Some(page.total)))
//!     }
//! });
//! let stars: Vec<Star> = pages.into_stream().collect_all().await?;
//! assert_eq!(stars.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["Vega", "Deneb", "Altair"]);
//! assert_eq!(stars[2].mag, None);
//! # Ok(()) }
//! ```
//!
//! Validating user input before any request:
//!
//! ```
//! use broker_core::astro::SkyPosition;
//! let p = SkyPosition::parse("10:00:24.0 +02:12:00").unwrap();
//! assert!((p.ra() - 150.1).abs() < 1e-9);
//! let err = SkyPosition::new(10.0, 95.0).unwrap_err();
//! assert_eq!(err.to_string(), "invalid dec: 95 is not a valid declination: use degrees in [-90, 90]");
//! ```

pub mod astro;
pub mod auth;
pub mod body;
pub mod config;
pub mod error;
#[cfg(feature = "polars")]
pub mod frame;
pub mod http;
pub mod options;
pub mod paginate;
pub mod ratelimit;
pub mod redact;
pub mod retry;

pub use astro::{Band, Lightcurve, Measurement, Mjd, Origin, PhotometryPoint, PointKind, SkyPosition, Survey};
pub use auth::{Auth, AuthContext, AuthStamp, HeaderToken, LoginToken, NoAuth, PersistHook};
pub use body::{BodyDecoder, BodyReader, Decoded};
pub use error::{Error, HttpError, Result};
pub use http::{Body, HttpClient, HttpClientBuilder, ListStyle, Request, Response};
pub use options::{ClientOptions, RateLimit};
pub use ratelimit::{Quota, RateLimiter, ServerQuota};
pub use redact::redact_url;
pub use retry::{AvailableInHint, Clock, ManualClock, RetryPolicy, RetrySafety, ThrottleHint, TokioClock};
pub use secrecy::{ExposeSecret, SecretString};

#[cfg(feature = "polars")]
pub use polars;
/// The HTTP library underneath (for [`ClientOptions::reqwest_client`]).
pub use reqwest;
