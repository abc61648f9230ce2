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
    fn shared_by_key() {
        let a = limiter_for("test:shared", Quota::per_hour(100));
        let b = limiter_for("test:shared", Quota::per_hour(5));
        assert!(Arc::ptr_eq(&a, &b));
        assert_ne!(credential_id("a"), credential_id("b"));
        assert!(!credential_id("supersecret").contains("supersecret"));
    }
}
