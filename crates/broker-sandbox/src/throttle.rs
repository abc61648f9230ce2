//! Server-side rate limiters: DRF's sliding window and nginx `limit_req`.

use crate::config::{BucketLimit, WindowLimit};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// DRF `SimpleRateThrottle`: a list of request times per key, N allowed per window.
#[derive(Debug, Default)]
pub(crate) struct SlidingWindow {
    history: Mutex<HashMap<String, VecDeque<Duration>>>,
}

impl SlidingWindow {
    /// Records a request at `now`; `Err(wait_secs)` when throttled (not recorded), with DRF's
    /// `wait()` formula rounded up.
    pub(crate) fn check(&self, limit: &WindowLimit, key: &str, now: Duration) -> Result<(), u64> {
        let mut map = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let h = map.entry(key.to_string()).or_default();
        while let Some(&oldest) = h.back() {
            if oldest + limit.window <= now {
                h.pop_back();
            } else {
                break;
            }
        }
        if h.len() >= limit.limit {
            let remaining = match h.back() {
                Some(&oldest) => (limit.window + oldest).saturating_sub(now).as_secs_f64(),
                None => limit.window.as_secs_f64(),
            };
            let available = (limit.limit as f64 - h.len() as f64 + 1.0).max(1.0);
            let wait = (remaining / available).ceil().max(1.0);
            return Err(wait as u64);
        }
        h.push_front(now);
        Ok(())
    }
}

/// nginx `limit_req` with `nodelay`: leaky bucket in milli-requests.
#[derive(Debug, Default)]
pub(crate) struct LeakyBucket {
    state: Mutex<HashMap<String, (f64, Duration)>>,
}

impl LeakyBucket {
    pub(crate) fn check(&self, limit: &BucketLimit, key: &str, now: Duration) -> bool {
        let mut map = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (excess, last) = map.get(key).copied().unwrap_or((0.0, now));
        let elapsed = now.saturating_sub(last).as_secs_f64();
        let new_excess = (excess - limit.rate_per_sec * elapsed).max(0.0) + 1.0;
        // nginx: reject when excess > burst (then the state is not updated).
        if new_excess - 1.0 > limit.burst as f64 {
            return false;
        }
        map.insert(key.to_string(), (new_excess, now));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_drf_wait() {
        let w = SlidingWindow::default();
        let l = WindowLimit::new(3, Duration::from_secs(60));
        for i in 0..3 {
            assert!(w.check(&l, "u", Duration::from_secs(i)).is_ok());
        }
        assert_eq!(w.check(&l, "u", Duration::from_secs(10)), Err(50));
        assert!(w.check(&l, "u", Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn bucket_burst_then_rate() {
        let b = LeakyBucket::default();
        let l = BucketLimit { rate_per_sec: 5.0, burst: 10 };
        let t = Duration::from_secs(1);
        let ok = (0..20).filter(|_| b.check(&l, "k", t)).count();
        assert_eq!(ok, 11);
        assert!(b.check(&l, "k", t + Duration::from_millis(200)));
        assert!(!b.check(&l, "k", t + Duration::from_millis(200)));
    }
}
