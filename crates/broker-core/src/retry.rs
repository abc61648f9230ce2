//! Retry policy, throttle hints and an injectable clock.
//!
//! The [`HttpClient`](crate::HttpClient) retries a request according to its
//! [`RetryPolicy`] and the request's declared [`RetrySafety`]:
//!
//! | outcome | [`RetrySafety::Safe`] | [`RetrySafety::Unsafe`] |
//! |---|---|---|
//! | 429 | retry after the server's wait | retry after the server's wait |
//! | 500, 502, 503, 504, 408 | retry with backoff | no retry |
//! | connection refused / DNS / TLS before sending | retry | retry |
//! | timeout, reset after sending | retry | no retry |
//!
//! The wait after a 429 is, in order: the `Retry-After` header (seconds or HTTP date), the
//! policy's [`ThrottleHint`] read from the body, else exponential backoff, never less than
//! [`RetryPolicy::throttle_floor`]. A wait longer than [`RetryPolicy::max_server_wait`] is not
//! slept: the request fails with [`Error::RateLimited`](crate::Error::RateLimited). When
//! attempts or time run out while the server keeps throttling, the last 429 is returned as
//! [`Error::Http`](crate::Error::Http) with its body excerpt and `retry_after`.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;

/// Whether a request may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetrySafety {
    /// Reads and idempotent writes (GET, PUT upserts, ATLAS read POSTs): retried on 5xx,
    /// timeouts and connection errors as well as on 429. Whether the request is a write is
    /// declared apart, with [`Request::writes`](crate::Request::writes).
    Safe,
    /// Non-idempotent writes (a photometry POST, a queue submit): retried only when the
    /// server certainly did not act on it — a 429, or a connection that failed before
    /// anything was sent.
    Unsafe,
}

/// Time as the client sees it: sleeping and reading elapsed time. Injectable so that tests
/// exercise retries and rate limits without sleeping for real.
#[async_trait]
pub trait Clock: Send + Sync + fmt::Debug {
    /// Waits for `d`.
    async fn sleep(&self, d: Duration);
    /// Time elapsed since an arbitrary fixed origin.
    fn now(&self) -> Duration;
    /// Waits until [`Self::now`] reaches `deadline` (at once if it has).
    async fn sleep_until(&self, deadline: Duration) {
        let now = self.now();
        if deadline > now {
            self.sleep(deadline - now).await;
        }
    }
    /// The wall-clock time, used to turn an HTTP-date `Retry-After` into a wait.
    fn system_time(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The real clock (tokio sleeps).
#[derive(Debug, Clone)]
pub struct TokioClock {
    origin: Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock { origin: Instant::now() }
    }
}

#[async_trait]
impl Clock for TokioClock {
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A virtual clock for tests: `sleep` returns at once, advances virtual time and records
/// the duration asked for.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    inner: Arc<Mutex<ManualState>>,
}

#[derive(Debug, Default)]
struct ManualState {
    now: Duration,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock at virtual time zero.
    pub fn new() -> Self {
        Self::default()
    }
    /// Every sleep asked for so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.inner.lock().map(|s| s.sleeps.clone()).unwrap_or_default()
    }
    /// Moves virtual time forward without recording a sleep.
    pub fn advance(&self, d: Duration) {
        if let Ok(mut s) = self.inner.lock() {
            s.now += d;
        }
    }
}

#[async_trait]
impl Clock for ManualClock {
    async fn sleep(&self, d: Duration) {
        if let Ok(mut s) = self.inner.lock() {
            s.now += d;
            s.sleeps.push(d);
        }
        tokio::task::yield_now().await;
    }
    fn now(&self) -> Duration {
        self.inner.lock().map(|s| s.now).unwrap_or_default()
    }
    /// Moves virtual time to `deadline` if it is later (concurrent waiters for the same
    /// instant do not add up), recording the step taken.
    async fn sleep_until(&self, deadline: Duration) {
        if let Ok(mut s) = self.inner.lock() {
            let step = deadline.saturating_sub(s.now);
            if !step.is_zero() {
                s.now = deadline;
                s.sleeps.push(step);
            }
        }
        tokio::task::yield_now().await;
    }
    fn system_time(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + self.now()
    }
}

/// Reads a wait time from a throttled response body (for servers that say it in words).
pub trait ThrottleHint: Send + Sync + fmt::Debug {
    /// The wait the body asks for, if it says one.
    fn wait_from_body(&self, status: u16, body: &[u8]) -> Option<Duration>;
}

/// Reads "available in N seconds" / "1 second" / "N minutes" (case-insensitive) from a
/// body, as Django REST framework's throttles say it ("Request was throttled. Expected
/// available in 37 seconds.").
#[derive(Debug, Clone, Copy, Default)]
pub struct AvailableInHint;

impl ThrottleHint for AvailableInHint {
    fn wait_from_body(&self, _status: u16, body: &[u8]) -> Option<Duration> {
        let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase();
        let at = text.find("available in")?;
        let rest = text[at + "available in".len()..].trim_start();
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let n: f64 = rest[..num_len].parse().ok()?;
        if !n.is_finite() || n < 0.0 {
            return None;
        }
        let unit = rest[num_len..].trim_start();
        let secs = if unit.starts_with("minute") {
            n * 60.0
        } else if unit.starts_with("hour") {
            n * 3600.0
        } else if unit.starts_with("second") || unit.starts_with("sec") {
            n
        } else {
            return None;
        };
        Some(Duration::from_secs_f64(secs.min(1.0e7)))
    }
}

/// Parses a `Retry-After` header value: delay-seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(1.0e7)));
        }
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let when: SystemTime = when.with_timezone(&chrono::Utc).into();
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// How often and how long to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The longest time all attempts and waits together may take.
    pub max_elapsed: Duration,
    /// The first backoff step.
    pub base_delay: Duration,
    /// The longest single backoff wait.
    pub max_delay: Duration,
    /// The longest wait a server may ask for (429 / 503 `Retry-After` or a body hint)
    /// that we will sleep; longer asks fail with `RateLimited`.
    pub max_server_wait: Duration,
    /// The least wait after a 429 that carried no hint.
    pub throttle_floor: Duration,
    /// The longest wait for a client-side rate-limit slot; a longer one fails at once with
    /// `RateLimited` (nothing sent, nothing reserved). Time spent waiting for slots does not
    /// count against [`Self::max_elapsed`].
    pub max_limiter_wait: Duration,
    /// Reads waits from 429 bodies.
    pub hint: Option<Arc<dyn ThrottleHint>>,
    /// Whether backoff uses full jitter (a random wait between zero and the step).
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            max_elapsed: Duration::from_secs(300),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_server_wait: Duration::from_secs(300),
            throttle_floor: Duration::from_secs(1),
            max_limiter_wait: Duration::from_secs(3600),
            hint: None,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..Self::default() }
    }
    /// Sets [`Self::max_attempts`] (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
    /// Sets [`Self::max_elapsed`].
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }
    /// Sets [`Self::base_delay`] and [`Self::max_delay`].
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }
    /// Sets [`Self::max_server_wait`].
    pub fn max_server_wait(mut self, d: Duration) -> Self {
        self.max_server_wait = d;
        self
    }
    /// Sets [`Self::throttle_floor`].
    pub fn throttle_floor(mut self, d: Duration) -> Self {
        self.throttle_floor = d;
        self
    }
    /// Sets [`Self::max_limiter_wait`].
    pub fn max_limiter_wait(mut self, d: Duration) -> Self {
        self.max_limiter_wait = d;
        self
    }
    /// Sets the body hint reader.
    pub fn hint(mut self, hint: impl ThrottleHint + 'static) -> Self {
        self.hint = Some(Arc::new(hint));
        self
    }
    /// Turns jitter on or off (off makes waits deterministic).
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The backoff wait before retry number `retry` (1 = first retry).
    pub fn backoff_delay(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(30);
        let step = self.base_delay.saturating_mul(1u32 << exp).min(self.max_delay);
        if self.jitter { step.mul_f64(fastrand::f64()) } else { step }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_reads_plural_singular_and_minutes() {
        let h = AvailableInHint;
        let b = br#"{"detail":"Request was throttled. Expected available in 37 seconds."}"#;
        assert_eq!(h.wait_from_body(429, b), Some(Duration::from_secs(37)));
        let b = br#"{"detail":"Request was throttled. Expected available in 1 second."}"#;
        assert_eq!(h.wait_from_body(429, b), Some(Duration::from_secs(1)));
        assert_eq!(h.wait_from_body(429, b"available in 2 minutes"), Some(Duration::from_secs(120)));
        assert_eq!(h.wait_from_body(429, b"slow down"), None);
        assert_eq!(h.wait_from_body(429, b"available in soon seconds"), None);
    }

    #[test]
    fn retry_after_both_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00 UTC
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_and_caps() {
        let p = RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_secs(1)).jitter(false);
        assert_eq!(p.backoff_delay(1), Duration::from_millis(100));
        assert_eq!(p.backoff_delay(2), Duration::from_millis(200));
        assert_eq!(p.backoff_delay(10), Duration::from_secs(1));
        let j = p.clone().jitter(true);
        for i in 1..10 {
            assert!(j.backoff_delay(i) <= p.backoff_delay(i));
        }
    }
}
