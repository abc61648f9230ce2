//! State shared by the emulators: config, clock, sky, request log, faults.

use crate::clock::Clock;
use crate::config::{Fault, Faults, SandboxConfig, Service};
use crate::log::LoggedRequest;
use crate::rng::Rng;
use crate::sky::Sky;
use crate::throttle::LeakyBucket;
use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct FaultState {
    pub(crate) random: Faults,
    pub(crate) scripted: VecDeque<Fault>,
    pub(crate) storm_until: Option<Duration>,
    pub(crate) rng: Rng,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    pub(crate) clock: Clock,
    pub(crate) sky: Sky,
    pub(crate) log: Mutex<Vec<LoggedRequest>>,
    pub(crate) faults: [Mutex<FaultState>; 7],
    pub(crate) origins: OnceLock<[String; 7]>,
    pub(crate) nginx: LeakyBucket,
    pub(crate) creds: crate::sandbox::Credentials,
}

impl Shared {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        let sky = Sky::generate(config.seed, &config.sky);
        let mk = |i: usize| {
            Mutex::new(FaultState {
                random: Service::ALL.get(i).map_or(&config.fink_faults, |s| config.faults_of(*s)).clone(),
                scripted: VecDeque::new(),
                storm_until: None,
                rng: Rng::new(&[config.seed, 0xFA17, i as u64]),
            })
        };
        Shared {
            clock: Clock::new(config.time_scale),
            sky,
            log: Mutex::new(Vec::new()),
            faults: [mk(0), mk(1), mk(2), mk(3), mk(4), mk(5), mk(6)],
            origins: OnceLock::new(),
            nginx: LeakyBucket::default(),
            creds: crate::sandbox::Credentials::generate(config.seed),
            config,
        }
    }

    /// `http://127.0.0.1:<port>` of a service.
    pub(crate) fn origin(&self, s: Service) -> String {
        self.origins.get().map(|o| o[s.index()].clone()).unwrap_or_default()
    }

    pub(crate) fn faults(&self, s: Service) -> std::sync::MutexGuard<'_, FaultState> {
        self.faults[s.index()].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn log(&self) -> std::sync::MutexGuard<'_, Vec<LoggedRequest>> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}
