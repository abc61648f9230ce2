//! `Sandbox`: start, configure, observe and stop the emulators.

use crate::config::{CatsHtmFormat, Fault, Faults, QueueConfig, RateLimits, SandboxConfig, Service, SkyConfig};
use crate::log::LoggedRequest;
use crate::middleware::{self, Ctx};
use crate::rng::Rng;
use crate::state::Shared;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Errors starting the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A port could not be bound.
    #[error("could not bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Base URLs of the ALeRCE services (all on one port).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlerceUrls {
    /// Origin, e.g. `http://127.0.0.1:40001` (the `api.alerce.online` equivalent: ZTF v1 routes
    /// are under `/ztf/v1/`, forced photometry under `/v2/lightcurve/`).
    pub api: String,
    /// `…/ztf/v1/` (the `ZTF_API_URL` of the Python client's config).
    pub ztf: String,
    /// `…/v2/lightcurve/` (ZTF forced photometry: `forced-photometry/{oid}`).
    pub lightcurve_v2: String,
    /// `…/` (the multisurvey `URL_MS`: `object_api/…`, `lightcurve_api/…`, `probability_api/…`).
    pub multisurvey: String,
    /// `…/stamps_api` (multisurvey stamps: `/stamp`, `/avro`).
    pub multisurvey_stamps: String,
    /// Origin of the ZTF avro/stamp service (`/get_stamp`, `/get_avro`).
    pub ztf_stamps: String,
    /// Origin of catsHTM (`/conesearch`, `/crossmatch`, `…_all`).
    pub catshtm: String,
}

/// Base URLs of every service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SandboxUrls {
    /// ALeRCE services.
    pub alerce: AlerceUrls,
    /// ATLAS Transient Server API base, with trailing slash: `http://127.0.0.1:P/sne/atlas4/api/`.
    pub atlas: String,
    /// SkyPortal origin (routes are `/api/...`): `http://127.0.0.1:P`.
    pub skyportal: String,
    /// Forced-photometry base, no trailing slash: `http://127.0.0.1:P/forcedphot`.
    pub forcedphot: String,
    /// Fink emulator origin: the ZTF API at `…/ztf/` and the LSST API at `…/lsst/` (routes
    /// `api/v1/...` below each).
    pub fink: String,
    /// Lasair: the ZTF and LSST servers' API bases (their own port).
    pub lasair: LasairUrls,
    /// TNS origin with a trailing slash (`api/get/search`, `system/files/...` below it):
    /// `http://127.0.0.1:P/`.
    pub tns: String,
}

/// Base URLs of the Lasair emulator (one port, the two servers under their own prefix).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LasairUrls {
    /// The ZTF server's API base (`<origin>/ztf/api/`, for `LASAIR_URL`).
    pub ztf: String,
    /// The LSST server's API base (`<origin>/lsst/api/`, for `LASAIR_LSST_URL`).
    pub lsst: String,
}

/// Lasair tokens. The two servers are separate systems, each with its own user token;
/// the documentation's shared `dummy` token works on both at 10 calls an hour.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LasairCredentials {
    /// A user token of the ZTF server (100 calls an hour; owns the annotator topic).
    pub ztf_token: String,
    /// A user token of the LSST server (100 calls an hour; owns the annotator topic).
    pub lsst_token: String,
    /// The shared `dummy` token (10 calls an hour on either server).
    pub dummy_token: String,
    /// The annotator topic the user tokens own.
    pub annotator_topic: String,
}

/// ATLAS Transient Server credentials.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AtlasCredentials {
    /// 40-hex token of a user with write access (`api_write_access`); expires after
    /// [`SandboxConfig::atlas_token_ttl`] of simulated time.
    pub token: String,
    /// 40-hex token of a read-only user (writes get 403).
    pub readonly_token: String,
    /// A token that has already expired (401 "Token has expired.").
    pub expired_token: String,
    /// Username for `auth-token/` (the write user).
    pub username: String,
    /// Password for `auth-token/`.
    pub password: String,
}

/// SkyPortal credentials.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkyPortalCredentials {
    /// UUID4 token with all ACLs (the `INITIAL_ADMIN` equivalent).
    pub token: String,
    /// UUID4 token of a "View only" user (no ACLs: writes are refused).
    pub view_only_token: String,
    /// UUID4 token whose user account has expired (403 "User account expired").
    pub expired_user_token: String,
}

/// Forced-photometry server credentials (two users, to test ownership).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ForcedPhotCredentials {
    /// Username.
    pub username: String,
    /// Password (also valid for HTTP Basic).
    pub password: String,
    /// 40-hex token (what `api-token-auth/` returns for this user).
    pub token: String,
    /// A second user.
    pub other_username: String,
    /// Its password.
    pub other_password: String,
    /// Its token.
    pub other_token: String,
}

/// TNS credentials: a bot's api key, id and name (the `tns_marker` User-Agent must carry the
/// id and name).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TnsCredentials {
    /// 40-hex api key.
    pub api_key: String,
    /// The bot's TNS id.
    pub bot_id: u64,
    /// The bot's name.
    pub bot_name: String,
}

/// Credentials for every service (deterministic from the seed; synthetic).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Credentials {
    /// ATLAS Transient Server.
    pub atlas: AtlasCredentials,
    /// SkyPortal.
    pub skyportal: SkyPortalCredentials,
    /// Forced photometry.
    pub forcedphot: ForcedPhotCredentials,
    /// Lasair.
    pub lasair: LasairCredentials,
    /// Transient Name Server.
    pub tns: TnsCredentials,
}

impl Credentials {
    pub(crate) fn generate(seed: u64) -> Credentials {
        let mut r = Rng::new(&[seed, 0xC4ED]);
        let uuid = |r: &mut Rng| {
            let h = r.hex(32);
            format!(
                "{}-{}-4{}-{}{}-{}",
                &h[0..8],
                &h[8..12],
                &h[13..16],
                ["8", "9", "a", "b"][r.below(4) as usize],
                &h[17..20],
                &h[20..32]
            )
        };
        let atlas = AtlasCredentials {
            token: r.hex(40),
            readonly_token: r.hex(40),
            expired_token: r.hex(40),
            username: "sandbox_atlas".into(),
            password: format!("atlas-{}", r.hex(12)),
        };
        let skyportal = SkyPortalCredentials {
            token: uuid(&mut r),
            view_only_token: uuid(&mut r),
            expired_user_token: uuid(&mut r),
        };
        let forcedphot = ForcedPhotCredentials {
            username: "sandbox_fp".into(),
            password: format!("fp-{}", r.hex(12)),
            token: r.hex(40),
            other_username: "sandbox_fp2".into(),
            other_password: format!("fp2-{}", r.hex(12)),
            other_token: r.hex(40),
        };
        let mut l = Rng::new(&[seed, 0x1A5A]);
        let lasair = LasairCredentials {
            ztf_token: l.hex(40),
            lsst_token: l.hex(40),
            dummy_token: l.hex(40),
            annotator_topic: crate::lasair::ANNOTATOR_TOPIC.into(),
        };
        let mut t = Rng::new(&[seed, 0x7125]);
        let tns =
            TnsCredentials { api_key: t.hex(40), bot_id: 100_000 + t.below(900_000), bot_name: "sandbox_bot".into() };
        Credentials { atlas, skyportal, forcedphot, lasair, tns }
    }
}

/// Public description of one synthetic object, to find it in each service.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ObjectInfo {
    /// Index in the sky.
    pub index: usize,
    /// RA (deg).
    pub ra: f64,
    /// Dec (deg).
    pub dec: f64,
    /// True class (an ALeRCE `lc_classifier` class name, e.g. `SNIa`, `RRL`).
    pub class: String,
    /// Whether it is a transient (explodes inside the survey window).
    pub transient: bool,
    /// MJD of peak for transients.
    pub peak_mjd: Option<f64>,
    /// Redshift, when the object has one.
    pub redshift: Option<f64>,
    /// ZTF object id (ALeRCE ZTF), if north of -31 deg.
    pub ztf_oid: Option<String>,
    /// 19-digit ATLAS Transient Server id.
    pub atlas_id: u64,
    /// ATLAS designation, e.g. `ATLAS23abcd`.
    pub atlas_designation: String,
    /// TNS name, for most transients.
    pub tns_name: Option<String>,
    /// 64-bit LSST DiaObject id (ALeRCE multisurvey), if covered.
    pub lsst_oid: Option<u64>,
    /// SkyPortal source id (the ZTF oid, else the ATLAS designation).
    pub skyportal_id: String,
}

/// Configures a sandbox; see [`Sandbox::builder`].
#[derive(Debug, Clone, Default)]
pub struct SandboxBuilder {
    config: SandboxConfig,
}

impl SandboxBuilder {
    /// Seed of the sky and of random faults.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }
    /// Number of synthetic objects.
    pub fn objects(mut self, n: usize) -> Self {
        self.config.sky.objects = n;
        self
    }
    /// Full sky configuration.
    pub fn sky(mut self, sky: SkyConfig) -> Self {
        self.config.sky = sky;
        self
    }
    /// Rate limits (see [`RateLimits::unlimited`]).
    pub fn limits(mut self, limits: RateLimits) -> Self {
        self.config.limits = limits;
        self
    }
    /// Forced-photometry queue timing and limits.
    pub fn queue(mut self, queue: QueueConfig) -> Self {
        self.config.queue = queue;
        self
    }
    /// Random faults for one service.
    pub fn faults(mut self, service: Service, faults: Faults) -> Self {
        *self.config.faults_of_mut(service) = faults;
        self
    }
    /// catsHTM response format.
    pub fn catshtm_format(mut self, f: CatsHtmFormat) -> Self {
        self.config.catshtm_format = f;
        self
    }
    /// Forced-photometry result tables with the 20th column `PA_DEG` (see
    /// [`SandboxConfig::forcedphot_pa_deg`]).
    pub fn forcedphot_pa_deg(mut self, on: bool) -> Self {
        self.config.forcedphot_pa_deg = on;
        self
    }
    /// Fixed ports `[alerce, atlas, skyportal, forcedphot]`.
    pub fn ports(mut self, ports: [u16; 4]) -> Self {
        self.config.ports = Some(ports);
        self
    }
    /// Fixed port of the Fink emulator.
    pub fn fink_port(mut self, port: u16) -> Self {
        self.config.fink_port = Some(port);
        self
    }
    /// Simulated-time speed (1.0 = real time).
    pub fn time_scale(mut self, s: f64) -> Self {
        self.config.time_scale = s;
        self
    }
    /// Replaces the whole configuration.
    pub fn config(mut self, config: SandboxConfig) -> Self {
        self.config = config;
        self
    }
    /// Mutable access to the configuration for settings without a dedicated method.
    pub fn config_mut(&mut self) -> &mut SandboxConfig {
        &mut self.config
    }
    /// Binds the ports and starts serving.
    pub async fn start(self) -> Result<Sandbox, SandboxError> {
        Sandbox::start_with(self.config).await
    }
}

/// A running sandbox. Dropping it stops the servers.
#[derive(Debug)]
pub struct Sandbox {
    shared: Arc<Shared>,
    urls: SandboxUrls,
    tasks: Vec<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts every emulator with the default configuration on random loopback ports.
    pub async fn start() -> Result<Sandbox, SandboxError> {
        Sandbox::start_with(SandboxConfig::default()).await
    }

    /// A builder for a configured sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    async fn start_with(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let host = config.host;
        let ports = listen_ports(&config);
        let mut listeners = Vec::new();
        for p in ports {
            let addr = SocketAddr::new(host, p);
            let l = tokio::net::TcpListener::bind(addr).await.map_err(|source| SandboxError::Bind { addr, source })?;
            listeners.push(l);
        }
        let shared = Arc::new(Shared::new(config));
        let mut origins: [String; 7] = Default::default();
        for (i, l) in listeners.iter().enumerate() {
            let a = l
                .local_addr()
                .map_err(|source| SandboxError::Bind { addr: SocketAddr::new(host, ports[i]), source })?;
            origins[i] = format!("http://{a}");
        }
        let _ = shared.origins.set(origins.clone());
        let mut tasks = Vec::new();
        for (service, listener) in Service::ALL.into_iter().zip(listeners) {
            let router: Router = match service {
                Service::Alerce => crate::alerce::router(shared.clone()),
                Service::Atlas => crate::atlas::router(shared.clone()),
                Service::SkyPortal => crate::skyportal::router(shared.clone()),
                Service::ForcedPhot => crate::forcedphot::router(shared.clone()),
                Service::Fink => crate::fink::router(shared.clone()),
                Service::Tns => crate::tns::router(shared.clone()),
                Service::Lasair => crate::lasair::router(shared.clone(), shared.creds.lasair.clone()),
            };
            let ctx = Ctx { shared: shared.clone(), service };
            let app = router
                .layer(axum::middleware::from_fn_with_state(ctx, middleware::layer))
                .merge(crate::log::admin_router(shared.clone(), service));
            tasks.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::warn!("sandbox {service} server stopped: {e}");
                }
            }));
        }
        let o = &origins;
        let alerce = &o[0];
        let urls = SandboxUrls {
            alerce: AlerceUrls {
                api: alerce.clone(),
                ztf: format!("{alerce}/ztf/v1/"),
                lightcurve_v2: format!("{alerce}/v2/lightcurve/"),
                multisurvey: format!("{alerce}/"),
                multisurvey_stamps: format!("{alerce}/stamps_api"),
                ztf_stamps: alerce.clone(),
                catshtm: alerce.clone(),
            },
            atlas: format!("{}/sne/atlas4/api/", o[1]),
            skyportal: o[2].clone(),
            forcedphot: format!("{}/forcedphot", o[3]),
            fink: o[4].clone(),
            lasair: LasairUrls { ztf: format!("{}/ztf/api/", o[6]), lsst: format!("{}/lsst/api/", o[6]) },
            tns: format!("{}/", o[5]),
        };
        Ok(Sandbox { shared, urls, tasks })
    }

    /// Base URLs of every service.
    pub fn urls(&self) -> &SandboxUrls {
        &self.urls
    }

    /// Credentials of every service.
    pub fn credentials(&self) -> &Credentials {
        &self.shared.creds
    }

    /// The configuration in use.
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// The synthetic objects and their ids in each service.
    pub fn objects(&self) -> Vec<ObjectInfo> {
        self.shared
            .sky
            .objects
            .iter()
            .map(|o| ObjectInfo {
                index: o.index,
                ra: o.ra,
                dec: o.dec,
                class: o.kind.class_name().to_string(),
                transient: o.kind.is_transient(),
                peak_mjd: o.kind.is_transient().then_some(o.peak_mjd),
                redshift: o.redshift,
                ztf_oid: o.ztf_oid.clone(),
                atlas_id: o.atlas_id,
                atlas_designation: o.atlas_designation.clone(),
                tns_name: o.tns_name.clone(),
                lsst_oid: o.lsst_oid,
                skyportal_id: crate::skyportal::obj_id(o),
            })
            .collect()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log().clone()
    }

    /// Requests received by one service.
    pub fn requests_for(&self, service: Service) -> Vec<LoggedRequest> {
        self.shared.log().iter().filter(|r| r.service == service).cloned().collect()
    }

    /// Number of requests to `service` with this method whose path ends with `path_suffix` and
    /// that took effect (handler ran, 2xx).
    pub fn applied_count(&self, service: Service, method: &str, path_suffix: &str) -> usize {
        self.shared
            .log()
            .iter()
            .filter(|r| r.service == service && r.method == method && r.path.ends_with(path_suffix) && r.applied())
            .count()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.shared.log().clear();
    }

    /// Queues a fault for the next request to `service` (faults queue up in order).
    pub fn inject(&self, service: Service, fault: Fault) {
        self.shared.faults(service).scripted.push_back(fault);
    }

    /// Queues the same fault for the next `n` requests to `service`.
    pub fn inject_n(&self, service: Service, fault: Fault, n: usize) {
        let mut st = self.shared.faults(service);
        for _ in 0..n {
            st.scripted.push_back(fault.clone());
        }
    }

    /// Replaces the random faults of a service (takes effect on the next request).
    pub fn set_faults(&self, service: Service, faults: Faults) {
        self.shared.faults(service).random = faults;
    }

    /// Every request to `service` gets its 429 form for `duration` of simulated time.
    pub fn throttle_storm(&self, service: Service, duration: Duration) {
        let until = self.shared.clock.now() + duration;
        self.shared.faults(service).storm_until = Some(until);
    }

    /// Removes scripted faults, storms and random faults of every service.
    pub fn clear_faults(&self) {
        for s in Service::ALL {
            let mut st = self.shared.faults(s);
            st.scripted.clear();
            st.storm_until = None;
            st.random = Faults::default();
        }
    }

    /// Jumps simulated time forward (queue progress, token expiry, throttle windows, result
    /// expiry all follow it).
    pub fn advance(&self, d: Duration) {
        self.shared.clock.advance(d);
    }

    /// Simulated time elapsed since start.
    pub fn now(&self) -> Duration {
        self.shared.clock.now()
    }

    /// Stops the servers.
    pub async fn shutdown(mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
            let _ = t.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The port of each service, in [`Service::ALL`] order (0: a random free port).
fn listen_ports(config: &SandboxConfig) -> [u16; 7] {
    let four = config.ports.unwrap_or([0; 4]);
    // TNS without a port of its own: the port after Fink's when Fink has a fixed one (the
    // `--port-base` layouts put Fink right after forced photometry), else the port after
    // forced photometry's when `ports` is set, else a random one.
    let tns = config.tns_port.unwrap_or(match (config.ports, config.fink_port) {
        (Some(_), Some(fink)) => fink.saturating_add(1),
        (Some(_), None) => four[3].saturating_add(1),
        (None, _) => 0,
    });
    [four[0], four[1], four[2], four[3], config.fink_port.unwrap_or(0), tns, config.lasair_port.unwrap_or(0)]
}

#[allow(unused)]
fn _assert_send() {
    fn is_send<T: Send + Sync>() {}
    is_send::<Sandbox>();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `broker-sandbox --port-base B` and `astrobrokers sandbox --port-base B` put Fink on
    /// B+4, where TNS also went by default: the sandbox could not start (address in use).
    #[test]
    fn fixed_ports_never_give_two_services_the_same_port() {
        let mut c =
            SandboxConfig { ports: Some([8600, 8601, 8602, 8603]), fink_port: Some(8604), ..Default::default() };
        assert_eq!(listen_ports(&c), [8600, 8601, 8602, 8603, 8604, 8605, 0]);
        c.fink_port = None;
        assert_eq!(listen_ports(&c), [8600, 8601, 8602, 8603, 0, 8604, 0]);
        c.tns_port = Some(9000);
        c.lasair_port = Some(9001);
        assert_eq!(listen_ports(&c), [8600, 8601, 8602, 8603, 0, 9000, 9001]);
        assert_eq!(listen_ports(&SandboxConfig::default()), [0; 7]);
    }
}
