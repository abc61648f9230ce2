//! Simulated time: wall time scaled, plus manual jumps.

use chrono::{DateTime, Utc};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The sandbox clock. `now()` is the simulated time elapsed since the sandbox started.
#[derive(Debug)]
pub(crate) struct Clock {
    started: Instant,
    started_wall: DateTime<Utc>,
    scale: f64,
    offset: Mutex<Duration>,
}

impl Clock {
    pub(crate) fn new(scale: f64) -> Self {
        Clock {
            started: Instant::now(),
            started_wall: Utc::now(),
            scale: if scale > 0.0 { scale } else { 1.0 },
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Simulated time since start.
    pub(crate) fn now(&self) -> Duration {
        let real = self.started.elapsed().mul_f64(self.scale);
        real + *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn advance(&self, d: Duration) {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) += d;
    }

    /// Simulated wall-clock time for a simulated instant.
    pub(crate) fn wall(&self, at: Duration) -> DateTime<Utc> {
        self.started_wall + chrono::Duration::from_std(at).unwrap_or_else(|_| chrono::Duration::zero())
    }

    /// Real time needed for `sim` of simulated time to pass.
    pub(crate) fn real_for(&self, sim: Duration) -> Duration {
        sim.div_f64(self.scale)
    }
}

/// MJD of a wall-clock time (unix seconds / 86400 + 40587).
pub(crate) fn mjd_of(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 86_400_000.0 + 40587.0
}

/// ISO 8601 UTC with `Z`, whole seconds, as DRF renders it.
pub(crate) fn iso_z(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// ISO 8601 from an MJD.
pub(crate) fn iso_of_mjd(mjd: f64) -> String {
    let ms = ((mjd - 40587.0) * 86_400_000.0) as i64;
    DateTime::<Utc>::from_timestamp_millis(ms).map(iso_z).unwrap_or_default()
}
