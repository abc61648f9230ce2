//! Client-side rate limiting, so that bulk work stays under a server's limit and a 429 is
//! the exception.
//!
//! Two kinds of quota match what the services enforce:
//! - [`Quota::window`]: at most `n` requests in any sliding window (Django REST framework's
//!   throttles, e.g. 100 per hour, 60 writes per minute);
//! - [`Quota::rate`]: a leaky bucket with a burst (nginx `limit_req`, e.g. 5 per second with
//!   a burst of 10).
//!
//! Limiters are shared per credential through [`limiter_for`]: two clients built with the
//! same token draw from the same bucket.
//!
//! A third kind is driven by the server: [`ServerQuota`] reads `<prefix>-remaining` and
//! `<prefix>-reset` from every response (TNS's `x-rate-limit-*` and `x-cone-rate-limit-*`)
//! and holds back the next request of that quota until the announced reset when nothing is
//! left, even after a 200.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::retry::Clock;

/// How many requests a bucket allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quota {
    /// At most `max` requests in any window of length `per`.
    Window {
        /// Requests allowed per window.
        max: u32,
        /// The window length.
        per: Duration,
    },
    /// A steady rate of `per_second` with up to `burst` requests at once.
    Rate {
        /// Requests per second in the long run.
        per_second: f64,
        /// Requests allowed back to back.
        burst: u32,
    },
}

impl Quota {
    /// At most `max` requests in any sliding window of `per`.
    pub fn window(max: u32, per: Duration) -> Self {
        Quota::Window { max: max.max(1), per }
    }
    /// `max` per hour, sliding window.
    pub fn per_hour(max: u32) -> Self {
        Self::window(max, Duration::from_secs(3600))
    }
    /// `max` per minute, sliding window.
    pub fn per_minute(max: u32) -> Self {
        Self::window(max, Duration::from_secs(60))
    }
    /// A leaky bucket: `per_second` on average, `burst` at once.
    pub fn rate(per_second: f64, burst: u32) -> Self {
        let per_second = if per_second.is_finite() && per_second > 0.0 { per_second } else { 1.0 };
        Quota::Rate { per_second, burst: burst.max(1) }
    }
}

/// One bucket. Each [`acquire`](Self::acquire) reserves the next free slot and waits for it,
/// so concurrent callers are served in order and never exceed the quota.
#[derive(Debug)]
pub struct RateLimiter {
    quota: Quota,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Window quota: the times of the last `max` slots handed out.
    history: VecDeque<Duration>,
    /// Rate quota: the theoretical arrival time (GCRA).
    tat: Duration,
}

impl RateLimiter {
    /// A new, full bucket.
    pub fn new(quota: Quota) -> Self {
        RateLimiter { quota, state: Mutex::new(State::default()) }
    }

    /// The quota.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// Reserves a slot at or after `now` and returns how long to wait for it.
    pub fn reserve(&self, now: Duration) -> Duration {
        match self.try_reserve(now, Duration::MAX) {
            Ok(w) | Err(w) => w,
        }
    }

    /// Reserves a slot only if its wait is at most `max_wait`: `Ok(wait)` (reserved) or
    /// `Err(wait)` (nothing reserved; the wait the slot would need).
    pub fn try_reserve(&self, now: Duration, max_wait: Duration) -> Result<Duration, Duration> {
        let Ok(mut s) = self.state.lock() else {
            return Ok(Duration::ZERO);
        };
        match self.quota {
            Quota::Window { max, per } => {
                let max = max as usize;
                // Slots handed out are in time order; the new slot may start once the
                // slot `max` places back has left the window.
                let start = if s.history.len() >= max {
                    let oldest = s.history[s.history.len() - max];
                    now.max(oldest + per)
                } else {
                    now
                };
                let wait = start.saturating_sub(now);
                if wait > max_wait {
                    return Err(wait);
                }
                s.history.push_back(start);
                while s.history.len() > max {
                    s.history.pop_front();
                }
                Ok(wait)
            }
            Quota::Rate { per_second, burst } => {
                let t = Duration::from_secs_f64(1.0 / per_second);
                let tau = t * (burst - 1);
                let tat = s.tat.max(now);
                let allowed_at = tat.saturating_sub(tau);
                let start = allowed_at.max(now);
                let wait = start.saturating_sub(now);
                if wait > max_wait {
                    return Err(wait);
                }
                s.tat = tat + t;
                Ok(wait)
            }
        }
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self, clock: &dyn Clock) {
        let _ = self.acquire_within(clock, Duration::MAX).await;
    }

    /// Waits for a slot if it comes within `max_wait` and returns the time waited;
    /// otherwise reserves nothing and returns the wait it would need as the error.
    pub async fn acquire_within(&self, clock: &dyn Clock, max_wait: Duration) -> Result<Duration, Duration> {
        let now = clock.now();
        let wait = self.try_reserve(now, max_wait)?;
        if !wait.is_zero() {
            tracing::debug!(wait_ms = wait.as_millis() as u64, "client-side rate limit: waiting");
            clock.sleep_until(now + wait).await;
        }
        Ok(wait)
    }
}

/// A quota the server announces in its response headers: `<prefix>-remaining` (requests
/// left in the current window) and `<prefix>-reset` (seconds until the window resets).
///
/// After any response (a 200 included) whose `<prefix>-remaining` is `0`, the next request
/// drawing from this quota waits `<prefix>-reset` seconds (plus [`Self::margin`]) before it is
/// sent. Register it with [`HttpClientBuilder::server_quota`](crate::HttpClientBuilder::server_quota);
/// requests opt in with [`Request::server_quota`](crate::Request::server_quota), or all of them
/// with [`HttpClientBuilder::default_server_quota`](crate::HttpClientBuilder::default_server_quota).
/// Every response updates every registered quota whose headers it carries.
#[derive(Debug)]
pub struct ServerQuota {
    prefix: String,
    margin: Duration,
    blocked: Mutex<Option<Block>>,
}

/// An exhausted quota: until when, and when the request that said so was sent (the newest
/// such request), so that an older reply cannot lift it.
#[derive(Debug, Clone, Copy)]
struct Block {
    until: Duration,
    sent: Duration,
}

impl ServerQuota {
    /// A quota read from the `<prefix>-remaining` / `<prefix>-reset` headers (case-insensitive),
    /// e.g. `x-rate-limit`.
    pub fn new(prefix: impl Into<String>) -> Self {
        ServerQuota { prefix: prefix.into().to_ascii_lowercase(), margin: Duration::ZERO, blocked: Mutex::new(None) }
    }
    /// Extra time added to every announced reset (default none).
    pub fn margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }
    /// The header prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Reads the headers of a response received at `now` (the client passes its clock's wall
    /// time since the Unix epoch, so quotas can be shared between clients), as
    /// [`Self::observe_reply`] with the request taken as sent at `now`.
    pub fn observe(&self, headers: &reqwest::header::HeaderMap, now: Duration) {
        self.observe_reply(headers, now, now);
    }

    /// Reads the headers of the reply, received at `now`, to a request sent at `sent`: when
    /// `<prefix>-remaining` is `0`, the quota is exhausted until `now + <prefix>-reset +
    /// margin`. A reply that carries the headers with a `remaining` above zero lifts an
    /// earlier block, but only when its request was sent no earlier than the request that
    /// reported the quota exhausted: with several requests in flight, a reply to one sent
    /// before the block counted an older state of the quota. Unparseable or absent headers
    /// change nothing.
    pub fn observe_reply(&self, headers: &reqwest::header::HeaderMap, sent: Duration, now: Duration) {
        let get = |suffix: &str| -> Option<String> {
            let name = format!("{}-{suffix}", self.prefix);
            headers.get(name.as_str()).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string())
        };
        let Some(remaining) = get("remaining").and_then(|v| v.parse::<f64>().ok()) else {
            return;
        };
        let Ok(mut blocked) = self.blocked.lock() else {
            return;
        };
        if remaining <= 0.0 {
            let reset = get("reset")
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|r| r.is_finite() && *r >= 0.0)
                .map(Duration::from_secs_f64)
                .unwrap_or(Duration::ZERO);
            let until = now + reset + self.margin;
            *blocked = Some(match *blocked {
                Some(b) => Block { until: b.until.max(until), sent: b.sent.max(sent) },
                None => Block { until, sent },
            });
        } else if blocked.is_some_and(|b| sent >= b.sent) {
            *blocked = None;
        }
    }

    /// How long a request sent at `now` must wait (zero when the quota is not exhausted).
    pub fn wait(&self, now: Duration) -> Duration {
        match self.blocked.lock() {
            Ok(b) => b.map_or(Duration::ZERO, |b| b.until.saturating_sub(now)),
            Err(_) => Duration::ZERO,
        }
    }
}

fn registry() -> &'static Mutex<HashMap<String, Arc<RateLimiter>>> {
    static REG: OnceLock<Mutex<HashMap<String, Arc<RateLimiter>>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The process-wide limiter for `key` (e.g. `"atlas:https://host/api/:<credential id>"`),
/// created with `quota` on first use. Later calls with the same key share it, whatever
/// quota they pass — also across tests in one process that reuse a port and token, so
/// tests that care about a quota should build their own [`RateLimiter`].
pub fn limiter_for(key: &str, quota: Quota) -> Arc<RateLimiter> {
    match registry().lock() {
        Ok(mut map) => map.entry(key.to_string()).or_insert_with(|| Arc::new(RateLimiter::new(quota))).clone(),
        Err(_) => Arc::new(RateLimiter::new(quota)),
    }
}

fn quota_registry() -> &'static Mutex<HashMap<String, Arc<ServerQuota>>> {
    static REG: OnceLock<Mutex<HashMap<String, Arc<ServerQuota>>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The process-wide [`ServerQuota`] for `key` (e.g. `"tns:https://host/:<credential id>:general"`),
/// made by `make` on first use: clients built separately with the same credential see the
/// same announced quota.
pub fn server_quota_for(key: &str, make: impl FnOnce() -> ServerQuota) -> Arc<ServerQuota> {
    match quota_registry().lock() {
        Ok(mut map) => map.entry(key.to_string()).or_insert_with(|| Arc::new(make())).clone(),
        Err(_) => Arc::new(make()),
    }
}

/// A short, non-reversible id of a credential for use in limiter keys: a keyed hash with a
/// per-process random key, so it never leaves the process in a usable form.
pub fn credential_id(secret: &str) -> String {
    static KEY: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    let mut h = KEY.get_or_init(std::collections::hash_map::RandomState::new).build_hasher();
    h.write(secret.as_bytes());
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_allows_max_then_waits_for_oldest() {
        let l = RateLimiter::new(Quota::window(3, Duration::from_secs(60)));
        let t0 = Duration::from_secs(100);
        assert_eq!(l.reserve(t0), Duration::ZERO);
        assert_eq!(l.reserve(t0 + Duration::from_secs(1)), Duration::ZERO);
        assert_eq!(l.reserve(t0 + Duration::from_secs(2)), Duration::ZERO);
        // Fourth must wait until the first leaves the window (t0 + 60).
        assert_eq!(l.reserve(t0 + Duration::from_secs(2)), Duration::from_secs(58));
        // Fifth waits for the second (t0 + 61).
        assert_eq!(l.reserve(t0 + Duration::from_secs(2)), Duration::from_secs(59));
    }

    #[test]
    fn rate_allows_burst_then_steady() {
        let l = RateLimiter::new(Quota::rate(5.0, 10));
        let now = Duration::from_secs(10);
        let waits: Vec<_> = (0..12).map(|_| l.reserve(now)).collect();
        assert!(waits[..10].iter().all(|w| w.is_zero()), "{waits:?}");
        assert_eq!(waits[10], Duration::from_millis(200));
        assert_eq!(waits[11], Duration::from_millis(400));
    }

    #[test]
    fn try_reserve_reserves_nothing_when_too_long() {
        let l = RateLimiter::new(Quota::window(1, Duration::from_secs(60)));
        assert_eq!(l.try_reserve(Duration::ZERO, Duration::ZERO), Ok(Duration::ZERO));
        assert_eq!(l.try_reserve(Duration::ZERO, Duration::from_secs(10)), Err(Duration::from_secs(60)));
        // Nothing was reserved by the refusal: the next slot is still at 60 s.
        assert_eq!(l.try_reserve(Duration::ZERO, Duration::MAX), Ok(Duration::from_secs(60)));
        let r = RateLimiter::new(Quota::rate(1.0, 1));
        assert_eq!(r.try_reserve(Duration::ZERO, Duration::ZERO), Ok(Duration::ZERO));
        assert_eq!(r.try_reserve(Duration::ZERO, Duration::ZERO), Err(Duration::from_secs(1)));
        assert_eq!(r.try_reserve(Duration::ZERO, Duration::MAX), Ok(Duration::from_secs(1)));
    }

    #[test]
    fn server_quota_blocks_after_remaining_zero_and_lifts_after_a_fresh_window() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let q = ServerQuota::new("X-Rate-Limit").margin(Duration::from_secs(1));
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-remaining", HeaderValue::from_static("0"));
        h.insert("x-rate-limit-reset", HeaderValue::from_static("30"));
        q.observe(&h, Duration::from_secs(100));
        assert_eq!(q.wait(Duration::from_secs(100)), Duration::from_secs(31));
        assert_eq!(q.wait(Duration::from_secs(120)), Duration::from_secs(11));
        assert_eq!(q.wait(Duration::from_secs(200)), Duration::ZERO);
        // Another family's headers, or none, change nothing.
        let mut other = HeaderMap::new();
        other.insert("x-cone-rate-limit-remaining", HeaderValue::from_static("5"));
        q.observe(&other, Duration::from_secs(101));
        assert_eq!(q.wait(Duration::from_secs(101)), Duration::from_secs(30));
        // A fresh window (remaining > 0) lifts the block; garbage is ignored.
        let mut fresh = HeaderMap::new();
        fresh.insert("x-rate-limit-remaining", HeaderValue::from_static("99"));
        q.observe(&fresh, Duration::from_secs(102));
        assert_eq!(q.wait(Duration::from_secs(102)), Duration::ZERO);
        let mut bad = HeaderMap::new();
        bad.insert("x-rate-limit-remaining", HeaderValue::from_static("zero"));
        q.observe(&bad, Duration::from_secs(103));
        assert_eq!(q.wait(Duration::from_secs(103)), Duration::ZERO);
    }

    #[test]
    fn a_reply_to_a_request_sent_before_the_block_does_not_lift_it() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let q = ServerQuota::new("x-rate-limit");
        let headers = |remaining: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("x-rate-limit-remaining", HeaderValue::from_static(remaining));
            h.insert("x-rate-limit-reset", HeaderValue::from_static("30"));
            h
        };
        let t = Duration::from_secs;
        // Sent at 100, answered at 101: used up until 131.
        q.observe_reply(&headers("0"), t(100), t(101));
        assert_eq!(q.wait(t(101)), t(30));
        // Sent at 99, before it, answered late at 102 with an older count: still blocked.
        q.observe_reply(&headers("4"), t(99), t(102));
        assert_eq!(q.wait(t(102)), t(29));
        // Sent at 100 too: it may have been counted before the one that used the quota up,
        // but it is no older than the block's request, so it lifts it.
        q.observe_reply(&headers("4"), t(100), t(103));
        assert_eq!(q.wait(t(103)), Duration::ZERO);
        // A block from two replies keeps the newer request's send time.
        q.observe_reply(&headers("0"), t(110), t(111));
        q.observe_reply(&headers("0"), t(105), t(112));
        q.observe_reply(&headers("9"), t(108), t(113));
        assert_eq!(q.wait(t(113)), t(29));
        q.observe_reply(&headers("9"), t(112), t(114));
        assert_eq!(q.wait(t(114)), Duration::ZERO);
    }

    #[test]
    fn server_quotas_shared_by_key() {
        let a = server_quota_for("test:quota", || ServerQuota::new("x-a"));
        let b = server_quota_for("test:quota", || ServerQuota::new("x-b"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(b.prefix(), "x-a");
    }

    #[test]
    fn shared_by_key() {
        let a = limiter_for("test:shared", Quota::per_hour(100));
        let b = limiter_for("test:shared", Quota::per_hour(5));
        assert!(Arc::ptr_eq(&a, &b));
        assert_ne!(credential_id("a"), credential_id("b"));
        assert!(!credential_id("supersecret").contains("supersecret"));
    }
}
