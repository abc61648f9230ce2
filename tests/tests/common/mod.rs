//! Shared helpers of the workspace scenarios: simulated time and fault figures.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use broker_core::{Clock, RetryPolicy};
use broker_sandbox::{Faults, Sandbox, Service};

/// Simulated time shared by the clients and the sandbox: every client sleep is `scale` times
/// shorter in wall time, and `now()` runs `scale` times faster (the sandbox is started with
/// the same `time_scale`), so Retry-After waits, backoff, rate-limit windows and the
/// forced-photometry queue all keep their real proportions while the suite stays fast.
#[derive(Debug, Clone)]
pub struct ScaledClock {
    origin: Instant,
    scale: f64,
}

impl ScaledClock {
    pub fn new(scale: f64) -> Self {
        ScaledClock { origin: Instant::now(), scale }
    }
}

#[async_trait::async_trait]
impl Clock for ScaledClock {
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d.div_f64(self.scale)).await;
    }
    fn now(&self) -> Duration {
        self.origin.elapsed().mul_f64(self.scale)
    }
}

/// The simulated-time speed of the fault scenarios.
pub const SCALE: f64 = 200.0;

/// The fault mix, as *marginal* fractions of all requests: 20% 5xx, 10% the service's
/// 429, 5% connection resets mid-body, 2% truncated JSON, and 20-220 ms (simulated) of random
/// latency. The sandbox draws its faults in order (5xx, then 429, then HTML, reset,
/// truncation), each only when the previous did not fire, so the configured rates are the
/// conditional ones that give these marginals.
pub fn fault_mix() -> Faults {
    let error = 0.20;
    let throttle = 0.10 / (1.0 - error);
    let reset = 0.05 / ((1.0 - error) * (1.0 - throttle));
    let truncate = 0.02 / ((1.0 - error) * (1.0 - throttle) * (1.0 - reset));
    Faults {
        error_rate: error,
        throttle_rate: throttle,
        reset_rate: reset,
        truncate_rate: truncate,
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(200),
        ..Faults::default()
    }
}

/// Fast backoff with many attempts (simulated time): a read fails only when every attempt
/// meets a fault.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .backoff(Duration::from_millis(100), Duration::from_secs(2))
        .throttle_floor(Duration::from_millis(500))
        .max_attempts(10)
        .max_elapsed(Duration::from_secs(3600))
}

/// Counts of what one service's log shows.
#[derive(Debug, Default)]
pub struct Figures {
    pub requests: usize,
    pub faults: BTreeMap<String, usize>,
    pub throttled_by_limit: usize,
}

impl Figures {
    pub fn of(sb: &Sandbox, service: Service) -> Figures {
        let mut f = Figures::default();
        for r in sb.requests_for(service) {
            f.requests += 1;
            match &r.fault {
                Some(k) => {
                    let key = if k.starts_with("status 5") { "5xx".to_string() } else { k.clone() };
                    *f.faults.entry(key).or_default() += 1;
                }
                None if r.status == 429 => f.throttled_by_limit += 1,
                None => {}
            }
        }
        f
    }

    pub fn total_faults(&self) -> usize {
        self.faults.values().sum()
    }

    pub fn report(&self, name: &str, inputs: usize, ok: usize, explicit_failures: usize) {
        eprintln!(
            "FIGURES {name}: inputs {inputs}, results {ok}, explicit failures {explicit_failures}, lost 0, \
             requests {}, faults {} {:?}, limit 429s {}",
            self.requests,
            self.total_faults(),
            self.faults,
            self.throttled_by_limit
        );
    }
}
