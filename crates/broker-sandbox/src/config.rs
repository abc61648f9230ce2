//! Configuration: sizes, rate limits, timing, faults.

use std::time::Duration;

/// One of the emulated services, each on its own port with its own request log and faults.
///
/// `#[non_exhaustive]`: more services may be emulated later; match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Service {
    /// ALeRCE: ZTF v1 API, v2 lightcurve, multisurvey (LSST) APIs, stamps/avro, catsHTM.
    Alerce,
    /// ATLAS Transient Server REST API (`/sne/atlas4/api/`).
    Atlas,
    /// SkyPortal (Fritz) REST API (`/api/...`).
    SkyPortal,
    /// ATLAS forced-photometry server (`/forcedphot/...`).
    ForcedPhot,
    /// Fink REST APIs: ZTF under `/ztf/api/v1/...`, LSST under `/lsst/api/v1/...`.
    Fink,
    /// Transient Name Server (`/api/get/...`, `/api/set/...`, `/system/files/...`).
    Tns,
    /// Lasair: the ZTF server under `/ztf/api/...`, the LSST server under `/lsst/api/...`.
    Lasair,
}

impl Service {
    /// All services, in port order.
    pub const ALL: [Service; 7] = [
        Service::Alerce,
        Service::Atlas,
        Service::SkyPortal,
        Service::ForcedPhot,
        Service::Fink,
        Service::Tns,
        Service::Lasair,
    ];

    pub(crate) fn index(self) -> usize {
        match self {
            Service::Alerce => 0,
            Service::Atlas => 1,
            Service::SkyPortal => 2,
            Service::ForcedPhot => 3,
            Service::Fink => 4,
            Service::Tns => 5,
            Service::Lasair => 6,
        }
    }

    /// A short lowercase name (`alerce`, `atlas`, `skyportal`, `forcedphot`, `fink`, `tns`,
    /// `lasair`).
    pub fn name(self) -> &'static str {
        match self {
            Service::Alerce => "alerce",
            Service::Atlas => "atlas",
            Service::SkyPortal => "skyportal",
            Service::ForcedPhot => "forcedphot",
            Service::Fink => "fink",
            Service::Tns => "tns",
            Service::Lasair => "lasair",
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which response shape the catsHTM emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CatsHtmFormat {
    /// The legacy Flask format the `alerce` 2.3.1 client parses:
    /// `{"<cat>": {"RA": {"units", "values"}}}` / `{"RA": {"unit", "value"}}`.
    #[default]
    Legacy,
    /// The FastAPI format served since Feb 2023: `[{"attribute_name", "unit", "value(s)"}]`.
    Current,
}

/// Size and shape of the synthetic sky.
#[derive(Debug, Clone)]
pub struct SkyConfig {
    /// Number of synthetic objects (transients and variables). Default 300.
    pub objects: usize,
    /// First MJD of the survey window. Default 60000.0.
    pub start_mjd: f64,
    /// Last MJD of the survey window. Default 61000.0.
    pub end_mjd: f64,
    /// When set, every light curve of every survey has exactly this many epochs spread over the
    /// window (no seasonal gaps): for benchmarks that need e.g. 100k-row light curves.
    pub points_per_lightcurve: Option<usize>,
    /// Extra SkyPortal sources beyond the sky objects (positions only, no photometry), for
    /// paging benchmarks (e.g. 100_000). Default 0.
    pub extra_skyportal_sources: usize,
}

impl Default for SkyConfig {
    fn default() -> Self {
        SkyConfig {
            objects: 300,
            start_mjd: 60000.0,
            end_mjd: 61000.0,
            points_per_lightcurve: None,
            extra_skyportal_sources: 0,
        }
    }
}

/// A fixed-window request limit: `limit` requests per `window`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowLimit {
    /// Requests allowed in the window.
    pub limit: usize,
    /// Window length (simulated time).
    pub window: Duration,
}

impl WindowLimit {
    /// `limit` per `window`.
    pub fn new(limit: usize, window: Duration) -> Self {
        WindowLimit { limit, window }
    }
}

/// nginx `limit_req` parameters: `rate` requests per second with `burst` excess allowed (nodelay).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketLimit {
    /// Sustained requests per second.
    pub rate_per_sec: f64,
    /// Burst allowance.
    pub burst: u32,
}

/// Rate limits, as the real servers apply them. `None` disables a limit.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// ATLAS: per user, all endpoints, DRF sliding window. Real: 100/hour.
    pub atlas_user: Option<WindowLimit>,
    /// ATLAS: anonymous `auth-token/` per client. Real: 10/hour.
    pub atlas_anon: Option<WindowLimit>,
    /// SkyPortal: nginx per-`Authorization`-header bucket. Real: 5 r/s, burst 10.
    pub skyportal: Option<BucketLimit>,
    /// Forced photometry: writes (POST/PUT/PATCH/DELETE) per user. Real: 60/min.
    pub forcedphot_writes: Option<WindowLimit>,
    /// Forced photometry: reads (GET/HEAD) per user or IP. Real since 2026-08: 600/min.
    pub forcedphot_reads: Option<WindowLimit>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            atlas_user: Some(WindowLimit::new(100, Duration::from_secs(3600))),
            atlas_anon: Some(WindowLimit::new(10, Duration::from_secs(3600))),
            skyportal: Some(BucketLimit { rate_per_sec: 5.0, burst: 10 }),
            forcedphot_writes: Some(WindowLimit::new(60, Duration::from_secs(60))),
            forcedphot_reads: Some(WindowLimit::new(600, Duration::from_secs(60))),
        }
    }
}

impl RateLimits {
    /// No rate limits at all.
    pub fn unlimited() -> Self {
        RateLimits {
            atlas_user: None,
            atlas_anon: None,
            skyportal: None,
            forcedphot_writes: None,
            forcedphot_reads: None,
        }
    }
}

/// Forced-photometry queue timing and limits (simulated time, see [`crate::Sandbox::advance`]).
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Time a task waits in the queue before it starts (per task; a user's tasks run one at a
    /// time). Default 1 s.
    pub queue_delay: Duration,
    /// Time a task runs. Default 2 s.
    pub run_time: Duration,
    /// Age after finishing at which API tasks are hard-deleted with their files. Real: 31 days.
    pub result_ttl: Duration,
    /// Age after finishing at which user-deleted (archived) tasks are hard-deleted. Real: 7 days.
    pub archived_ttl: Duration,
    /// Maximum not-yet-started tasks per user (plus the new batch). Real: 500.
    pub max_user_tasks: usize,
    /// Maximum non-blank `radeclist` lines. Real: 100.
    pub max_radeclist_lines: usize,
    /// Default page size of `GET /queue/`. Real: 6.
    pub page_size: usize,
    /// Maximum `pagesize`. Real: 100.
    pub max_page_size: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            queue_delay: Duration::from_secs(1),
            run_time: Duration::from_secs(2),
            result_ttl: Duration::from_secs(31 * 86400),
            archived_ttl: Duration::from_secs(7 * 86400),
            max_user_tasks: 500,
            max_radeclist_lines: 100,
            page_size: 6,
            max_page_size: 100,
        }
    }
}

/// Faults injected at random into one service's replies. All fractions are in [0, 1] and are
/// drawn independently per request from the sandbox seed (so a run is reproducible).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Fraction of requests answered 500, 502 or 503 (equally likely) before the handler runs.
    pub error_rate: f64,
    /// Fraction of requests answered with the service's own 429 form before the handler runs.
    pub throttle_rate: f64,
    /// Fraction of requests answered with an HTML error page (502, gateway style).
    pub html_rate: f64,
    /// Fraction of requests whose connection is reset after part of the body was sent (the
    /// handler has run: writes are applied).
    pub reset_rate: f64,
    /// Fraction of requests whose body is cut in half (consistent `Content-Length`; the handler
    /// has run).
    pub truncate_rate: f64,
    /// Fraction of requests whose body is sent slowly (see `drip_chunk`, `drip_interval`).
    pub drip_rate: f64,
    /// Chunk size for slow-drip bodies. Default (0) means 64 bytes.
    pub drip_chunk: usize,
    /// Pause between slow-drip chunks. Default (zero) means 50 ms.
    pub drip_interval: Duration,
    /// Added latency before every reply.
    pub latency: Duration,
    /// Uniform random extra latency in [0, jitter].
    pub jitter: Duration,
}

/// One scripted fault, applied to the next request(s) of a service (see
/// [`crate::Sandbox::inject`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Reply with this status and the service's native body for it (JSON for 500 where the
    /// framework gives JSON; gateway HTML for 502/503/504). The handler does not run.
    Status(u16),
    /// Reply with the service's real 429 form (with `Retry-After` where the real server sends
    /// one). The handler does not run.
    Throttle {
        /// Seconds announced in `Retry-After` / the message.
        retry_after_secs: u64,
    },
    /// Reply with an HTML page and this status (200 is allowed: a proxy page where JSON was
    /// expected). The handler does not run.
    Html(u16),
    /// Run the handler, then reset the connection after half of the body.
    ResetMidBody,
    /// Run the handler, then send only the first half of the body (valid framing).
    Truncate,
    /// Run the handler, then send the body in small chunks with pauses.
    SlowDrip,
    /// Wait this long, then handle normally.
    Delay(Duration),
}

/// Which envelope shape the TNS emulator answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TnsEnvelope {
    /// The current shape: search hits are the list in `data`, an object the fields of `data`
    /// (SkyPortal's `get_recent_TNS` at HEAD).
    #[default]
    Current,
    /// The older shape: everything under `data.reply` (SkyPortal's `utils/tns.py` @0eda158).
    Reply,
}

/// TNS emulator behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct TnsConfig {
    /// Envelope shape.
    pub envelope: TnsEnvelope,
    /// The general quota (`x-rate-limit-*`), per api key, a fixed window. `None`: no limit
    /// (the headers are still sent, with a large limit).
    pub general: Option<WindowLimit>,
    /// The cone-search quota (`x-cone-rate-limit-*`).
    pub cone: Option<WindowLimit>,
    /// Simulated time a report takes to be processed: its reply is 404 until then, and its
    /// effect (the object it creates or changes) shows only then, as TNS processes reports in
    /// a queue.
    pub report_delay: Duration,
}

impl Default for TnsConfig {
    fn default() -> Self {
        TnsConfig {
            envelope: TnsEnvelope::Current,
            general: Some(WindowLimit::new(90, Duration::from_secs(60))),
            cone: Some(WindowLimit::new(30, Duration::from_secs(60))),
            report_delay: Duration::from_secs(2),
        }
    }
}

/// Complete sandbox configuration. Build it with [`crate::Sandbox::builder`].
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Seed of the synthetic sky and of random faults. Default 42.
    pub seed: u64,
    /// Synthetic sky sizes.
    pub sky: SkyConfig,
    /// Rate limits.
    pub limits: RateLimits,
    /// Forced-photometry queue timing.
    pub queue: QueueConfig,
    /// Random faults per service (index: [`Service::ALL`] order; the Fink, TNS and Lasair
    /// emulators' are [`SandboxConfig::fink_faults`], [`SandboxConfig::tns_faults`] and
    /// [`SandboxConfig::lasair_faults`]). Prefer [`SandboxConfig::faults_of`].
    pub faults: [Faults; 4],
    /// Random faults of the Fink emulator.
    pub fink_faults: Faults,
    /// Random faults of the TNS emulator.
    pub tns_faults: Faults,
    /// Random faults of the Lasair emulator (both servers: they share its port).
    pub lasair_faults: Faults,
    /// catsHTM response format.
    pub catshtm_format: CatsHtmFormat,
    /// Forced-photometry result tables with 20 columns: `PA_DEG` between `mag5sig` and `Sky`, as
    /// the server's output description lists them since 2022. Default false: the 19-column
    /// header of the known real files and of the server's test fixture.
    pub forcedphot_pa_deg: bool,
    /// Status SkyPortal uses for a valid token lacking the endpoint's ACL: 401 (HEAD before
    /// 2026-09-11) or 403 (after baselayer #468). Default 401.
    pub skyportal_acl_status: u16,
    /// Lifetime of the ATLAS user token (DRF `ExpiringTokenAuthentication`). Default 86400 s.
    pub atlas_token_ttl: Duration,
    /// Fixed ports `[alerce, atlas, skyportal, forcedphot]`; `None` means random free ports.
    pub ports: Option<[u16; 4]>,
    /// Fixed port of the Fink emulator; `None` means a random free port.
    pub fink_port: Option<u16>,
    /// Fixed port of the TNS emulator; `None` means a random free port (or, when `ports` is
    /// set, the port after Fink's fixed port, else the port after forcedphot's).
    pub tns_port: Option<u16>,
    /// TNS emulator behaviour (envelope shape, quotas, report processing time).
    pub tns: TnsConfig,
    /// Address to bind. Default `127.0.0.1`.
    pub host: std::net::IpAddr,
    /// Speed of simulated time relative to wall time (1.0 = real time). Default 1.0.
    pub time_scale: f64,
    /// Fixed port of the Lasair emulator; `None` means a random free port.
    pub lasair_port: Option<u16>,
    /// Lasair: calls an hour allowed to each user token, per server. Default 100 (a personal
    /// token); 10,000 is a power user's (`powerapi` group). The `dummy` token stays at 10.
    pub lasair_user_calls_per_hour: usize,
}

impl SandboxConfig {
    /// The random faults configured for one service.
    pub fn faults_of(&self, service: Service) -> &Faults {
        match service {
            Service::Fink => &self.fink_faults,
            Service::Tns => &self.tns_faults,
            Service::Lasair => &self.lasair_faults,
            s => self.faults.get(s.index()).unwrap_or(&self.fink_faults),
        }
    }
    /// The random faults of one service, to change.
    pub fn faults_of_mut(&mut self, service: Service) -> &mut Faults {
        match service {
            Service::Fink => &mut self.fink_faults,
            Service::Tns => &mut self.tns_faults,
            Service::Lasair => &mut self.lasair_faults,
            s => match self.faults.get_mut(s.index()) {
                Some(f) => f,
                None => &mut self.fink_faults,
            },
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 42,
            sky: SkyConfig::default(),
            limits: RateLimits::default(),
            queue: QueueConfig::default(),
            faults: Default::default(),
            fink_faults: Faults::default(),
            catshtm_format: CatsHtmFormat::Legacy,
            forcedphot_pa_deg: false,
            skyportal_acl_status: 401,
            atlas_token_ttl: Duration::from_secs(86400),
            ports: None,
            fink_port: None,
            tns_port: None,
            tns: TnsConfig::default(),
            tns_faults: Faults::default(),
            lasair_faults: Faults::default(),
            host: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            time_scale: 1.0,
            lasair_port: None,
            lasair_user_calls_per_hour: 100,
        }
    }
}
