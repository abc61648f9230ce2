//! The options every broker client's builder shares.
//!
//! A broker crate embeds one [`ClientOptions`] in its builder, generates the shared setters
//! with [`client_options_setters!`](crate::client_options_setters), and hands the options to
//! each [`HttpClientBuilder`] it makes with [`ClientOptions::apply`]. So a new client writes
//! none of the clock, timeout, user-agent, retry, response-size or plain-http setters, and
//! every client documents and applies them the same way.
//!
//! A client with one client-side rate-limit bucket also generates `rate_limit`,
//! `rate_limiter` and `no_rate_limit` (`client_options_setters!(Builder, options, rate_limit)`)
//! and asks [`ClientOptions::limiter`] for the bucket, passing its own default quota.
//!
//! ```
//! use broker_core::{ClientOptions, HttpClient, Result, RetryPolicy};
//! use std::time::Duration;
//!
//! /// The builder of a made-up client.
//! #[derive(Default)]
//! pub struct StarlogBuilder {
//!     base: String,
//!     options: ClientOptions,
//! }
//! broker_core::client_options_setters!(StarlogBuilder, options);
//!
//! impl StarlogBuilder {
//!     pub fn build(self) -> Result<HttpClient> {
//!         // This client's own default retry policy; a user's `.retry(...)` wins.
//!         let b = HttpClient::builder(self.base.as_str()).retry(RetryPolicy::default().max_attempts(3));
//!         self.options.apply(b).build()
//!     }
//! }
//!
//! let b = StarlogBuilder { base: "https://starlog.example/api/".into(), ..Default::default() }
//!     .timeout(Duration::from_secs(5))
//!     .user_agent("my-bot/1.0");
//! assert_eq!(b.options().timeout, Some(Duration::from_secs(5)));
//! assert!(b.build().is_ok());
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::http::HttpClientBuilder;
use crate::ratelimit::{Quota, RateLimiter, limiter_for};
use crate::retry::{Clock, RetryPolicy};

/// The client-side rate limit chosen on a builder (see [`ClientOptions::limiter`]).
#[derive(Debug, Clone, Default)]
pub enum RateLimit {
    /// The client's own default (which may be no limit).
    #[default]
    ClientDefault,
    /// No client-side limit (the server may still throttle).
    Off,
    /// This quota, in a bucket shared by every client of the same service and credential
    /// in the process.
    Quota(Quota),
    /// This limiter (e.g. one shared by several credentials of one user, or a private one
    /// in tests).
    Limiter(Arc<RateLimiter>),
}

/// The transport options every broker client accepts. Unset values keep the core's (or the
/// client's) default; see [`ClientOptions::apply`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ClientOptions {
    /// The retry policy; `None` keeps the client's own default.
    pub retry: Option<RetryPolicy>,
    /// The clock for waits and deadlines (tests inject a [`ManualClock`](crate::ManualClock)).
    pub clock: Option<Arc<dyn Clock>>,
    /// The time allowed for one attempt, from sending to the last body byte (core default 60 s).
    pub timeout: Option<Duration>,
    /// The time allowed to open a connection (core default 10 s).
    pub connect_timeout: Option<Duration>,
    /// The user agent (core default `astrobrokers/<version>`).
    pub user_agent: Option<String>,
    /// The largest response body accepted (core default 512 MiB).
    pub max_response_bytes: Option<usize>,
    /// Whether credentials may go over plain `http` to a host that is not loopback.
    pub allow_insecure_http: bool,
    /// A reqwest client to share (one connection pool for several broker clients). Its
    /// redirect policy must be `none`: the core follows redirects itself.
    pub reqwest_client: Option<reqwest::Client>,
    /// The client-side rate limit (only for clients that generate the rate-limit setters).
    pub rate_limit: RateLimit,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("retry", &self.retry)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("reqwest_client", &self.reqwest_client.as_ref().map(|_| "shared"))
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

impl ClientOptions {
    /// Options with every value unset.
    pub fn new() -> Self {
        Self::default()
    }

    /// The clock, or `None` when the core's Tokio clock is used.
    pub fn clock(&self) -> Option<&Arc<dyn Clock>> {
        self.clock.as_ref()
    }

    /// The retry policy: the user's if set, else `default`.
    pub fn retry_or(&self, default: RetryPolicy) -> RetryPolicy {
        self.retry.clone().unwrap_or(default)
    }

    /// The client-side rate limiter to use: none when turned off; the user's limiter; else a
    /// bucket for the user's quota, or for the client's `default` quota when the user chose
    /// none, shared process-wide under `key` (see [`limiter_for`]: a key naming the service,
    /// base URL and credential makes clients with the same credential share one bucket).
    /// `key` is only called when a shared bucket is needed.
    pub fn limiter(&self, key: impl FnOnce() -> String, default: Option<Quota>) -> Option<Arc<RateLimiter>> {
        match &self.rate_limit {
            RateLimit::Off => None,
            RateLimit::Limiter(l) => Some(l.clone()),
            RateLimit::Quota(q) => Some(limiter_for(&key(), *q)),
            RateLimit::ClientDefault => default.map(|q| limiter_for(&key(), q)),
        }
    }

    /// Applies every set option to an [`HttpClientBuilder`], keeping the builder's value for
    /// each unset one (so a client sets its own defaults on the builder first, then applies).
    pub fn apply(&self, mut b: HttpClientBuilder) -> HttpClientBuilder {
        if let Some(r) = &self.retry {
            b = b.retry(r.clone());
        }
        if let Some(c) = &self.clock {
            b = b.clock(c.clone());
        }
        if let Some(t) = self.timeout {
            b = b.timeout(t);
        }
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(ua) = &self.user_agent {
            b = b.user_agent(ua.clone());
        }
        if let Some(n) = self.max_response_bytes {
            b = b.max_response_bytes(n);
        }
        if let Some(c) = &self.reqwest_client {
            b = b.reqwest_client(c.clone());
        }
        b.allow_insecure_http(self.allow_insecure_http)
    }
}

/// Generates the shared builder setters (`retry`, `clock`, `timeout`, `connect_timeout`,
/// `user_agent`, `max_response_bytes`, `allow_insecure_http`, `reqwest_client`) and an
/// `options()` getter on a builder type that holds a [`ClientOptions`] in the named field.
///
/// The setters are inherent methods, so users need no trait import:
/// `Client::builder().timeout(d).user_agent("bot/1")`.
///
/// With a third argument `rate_limit`, it also generates `rate_limit(Quota)`,
/// `rate_limiter(Arc<RateLimiter>)` and `no_rate_limit()`, which set
/// [`ClientOptions::rate_limit`]; the client then gets its bucket from
/// [`ClientOptions::limiter`] (and documents its default on the builder).
#[macro_export]
macro_rules! client_options_setters {
    ($builder:ty, $field:ident, rate_limit) => {
        $crate::client_options_setters!($builder, $field);
        impl $builder {
            /// A client-side rate limit (default: this client's own, documented on the
            /// builder), in a bucket shared by every client of this service built with the
            /// same credential in this process.
            pub fn rate_limit(mut self, quota: $crate::Quota) -> Self {
                self.$field.rate_limit = $crate::options::RateLimit::Quota(quota);
                self
            }
            /// Uses this limiter for the client-side rate limit instead of a process-wide
            /// bucket (e.g. one limiter for several tokens of one user, or a private one in
            /// tests).
            pub fn rate_limiter(mut self, limiter: ::std::sync::Arc<$crate::RateLimiter>) -> Self {
                self.$field.rate_limit = $crate::options::RateLimit::Limiter(limiter);
                self
            }
            /// Turns the client-side rate limit off (the server may still throttle).
            pub fn no_rate_limit(mut self) -> Self {
                self.$field.rate_limit = $crate::options::RateLimit::Off;
                self
            }
        }
    };
    ($builder:ty, $field:ident) => {
        impl $builder {
            /// The retry policy (default: this client's own, documented on the client).
            pub fn retry(mut self, policy: $crate::RetryPolicy) -> Self {
                self.$field.retry = Some(policy);
                self
            }
            /// The clock used for waits, quotas and deadlines (tests inject a
            /// [`ManualClock`]($crate::ManualClock); default: Tokio's).
            pub fn clock(mut self, clock: ::std::sync::Arc<dyn $crate::Clock>) -> Self {
                self.$field.clock = Some(clock);
                self
            }
            /// The time allowed for one attempt, from sending to the last body byte
            /// (default 60 s).
            pub fn timeout(mut self, d: ::std::time::Duration) -> Self {
                self.$field.timeout = Some(d);
                self
            }
            /// The time allowed to open a connection (default 10 s).
            pub fn connect_timeout(mut self, d: ::std::time::Duration) -> Self {
                self.$field.connect_timeout = Some(d);
                self
            }
            /// The user agent (default `astrobrokers/<version>`).
            pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
                self.$field.user_agent = Some(ua.into());
                self
            }
            /// The largest response body accepted (default 512 MiB); a larger reply fails
            /// with a transport error instead of exhausting memory.
            pub fn max_response_bytes(mut self, n: usize) -> Self {
                self.$field.max_response_bytes = Some(n);
                self
            }
            /// Allows sending credentials over plain `http` to a host that is not loopback
            /// (refused by default).
            pub fn allow_insecure_http(mut self, allow: bool) -> Self {
                self.$field.allow_insecure_http = allow;
                self
            }
            /// Shares a reqwest client (one connection pool across broker clients). Its
            /// redirect policy must be `none`: the core follows redirects itself, keeping
            /// credentials on the configured origin.
            pub fn reqwest_client(mut self, client: $crate::reqwest::Client) -> Self {
                self.$field.reqwest_client = Some(client);
                self
            }
            /// The shared options set so far.
            pub fn options(&self) -> &$crate::ClientOptions {
                &self.$field
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    #[derive(Default)]
    struct B {
        opts: ClientOptions,
    }
    crate::client_options_setters!(B, opts);

    #[test]
    fn setters_fill_the_options_and_unset_ones_stay_none() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
        let b = B::default()
            .timeout(Duration::from_secs(3))
            .user_agent("bot/2")
            .max_response_bytes(1024)
            .allow_insecure_http(true)
            .clock(clock)
            .retry(RetryPolicy::default().max_attempts(2));
        let o = b.options();
        assert_eq!(o.timeout, Some(Duration::from_secs(3)));
        assert_eq!(o.user_agent.as_deref(), Some("bot/2"));
        assert_eq!(o.max_response_bytes, Some(1024));
        assert!(o.allow_insecure_http);
        assert!(o.clock().is_some());
        assert_eq!(o.connect_timeout, None);
        assert!(o.reqwest_client.is_none());
        let shared = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let o2 = B::default().connect_timeout(Duration::from_secs(2)).reqwest_client(shared);
        assert_eq!(o2.options().connect_timeout, Some(Duration::from_secs(2)));
        assert!(o2.options().reqwest_client.is_some());
        assert_eq!(o.retry_or(RetryPolicy::default()).max_attempts, 2);
        assert_eq!(B::default().options().retry_or(RetryPolicy::default().max_attempts(7)).max_attempts, 7);
    }

    mod limited {
        // The test below uses some of the generated setters only.
        #![allow(dead_code)]
        #[derive(Default)]
        pub(super) struct Limited {
            pub(super) opts: super::ClientOptions,
        }
        crate::client_options_setters!(Limited, opts, rate_limit);
    }
    use limited::Limited;

    #[test]
    fn rate_limit_setters_choose_the_bucket_and_the_client_default_applies_otherwise() {
        let key = |k: &'static str| move || format!("options-test:{k}");
        let default = Some(Quota::rate(5.0, 10));
        // Nothing chosen: the client's default quota, or none when the client has none.
        let l = Limited::default().opts.limiter(key("default"), default).expect("the default bucket");
        assert_eq!(l.quota(), Quota::rate(5.0, 10));
        assert!(Limited::default().opts.limiter(key("none"), None).is_none());
        // The user's quota wins over the default, and the same key shares one bucket.
        let o = Limited::default().rate_limit(Quota::per_hour(7));
        let a = o.options().limiter(key("user"), default).expect("a bucket");
        let b = o.options().limiter(key("user"), default).expect("a bucket");
        assert_eq!(a.quota(), Quota::per_hour(7));
        assert!(Arc::ptr_eq(&a, &b));
        // Off means no bucket, whatever the default.
        assert!(
            Limited::default()
                .rate_limit(Quota::per_hour(7))
                .no_rate_limit()
                .options()
                .limiter(key("off"), default)
                .is_none()
        );
        // A given limiter is used as is, and no key is made for it.
        let mine = Arc::new(RateLimiter::new(Quota::per_minute(3)));
        let got = Limited::default()
            .rate_limiter(mine.clone())
            .options()
            .limiter(|| unreachable!("no shared bucket for a given limiter"), default)
            .expect("the given limiter");
        assert!(Arc::ptr_eq(&got, &mine));
        // The shared setters come with it.
        assert_eq!(Limited::default().timeout(Duration::from_secs(1)).options().timeout, Some(Duration::from_secs(1)));
    }

    #[test]
    fn apply_refuses_plain_http_credentials_unless_allowed() {
        let mk = |allow: bool| {
            let b = crate::HttpClient::builder("http://example.org/api/")
                .auth(crate::HeaderToken::new("Token", "s3cret".to_string()));
            ClientOptions { allow_insecure_http: allow, ..Default::default() }.apply(b).build()
        };
        assert!(mk(false).is_err());
        assert!(mk(true).is_ok());
    }

    #[test]
    fn debug_names_no_clock_or_client_internals() {
        let o = ClientOptions { user_agent: Some("ua".into()), ..Default::default() };
        let s = format!("{o:?}");
        assert!(s.contains("user_agent: Some(\"ua\")"), "{s}");
    }
}
