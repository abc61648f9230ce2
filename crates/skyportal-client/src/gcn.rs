//! GCN events, their localizations, and galaxy catalogs; plus `sysinfo` and `config`.

use broker_core::paginate::ItemStream;
use broker_core::{Request, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{Client, ListSpec, check_page_size};
use crate::models::Extra;
use crate::params::{QueryParams, query_setters};
use crate::sources::failed_stream;
use crate::validate;

/// Largest `numPerPage` for `/api/gcn_event` (`MAX_GCNEVENTS`).
pub const MAX_GCN_EVENTS_PER_PAGE: u64 = 1000;
/// Largest `numPerPage` for `/api/galaxy_catalog` (`MAX_GALAXIES`).
pub const MAX_GALAXIES_PER_PAGE: u64 = 10_000;

/// A GCN event (a gravitational-wave, GRB or neutrino trigger).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GcnEvent {
    /// Event id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Event time (UTC ISO 8601), the event's key in URLs.
    #[serde(default)]
    pub dateobs: Option<String>,
    /// Other names (`LIGO#S190425z`).
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    /// Tags (`GW`, `BNS`, ...).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Localizations (free JSON; fetch one with [`Gcn::localization`]).
    #[serde(default)]
    pub localizations: Option<Vec<Value>>,
    /// The GCN notices of the event, newest first (`gcn_notices`: `id`, `ivorn`,
    /// `notice_type`, `stream`, `date`, `notice_format`, `has_localization`, and `content`
    /// unless `excludeNoticeContent=true`).
    #[serde(default)]
    pub gcn_notices: Option<Vec<Value>>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A sky localization (skymap) of a GCN event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Localization {
    /// Localization id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Event time.
    #[serde(default)]
    pub dateobs: Option<String>,
    /// Name (`bayestar.fits.gz`).
    #[serde(default)]
    pub localization_name: Option<String>,
    /// Contours (GeoJSON).
    #[serde(default)]
    pub contour: Option<Value>,
    /// Every other field (`flat_2d` with `include2DMap=true`, `properties`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A galaxy from a catalog.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Galaxy {
    /// Galaxy id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Alternative name.
    #[serde(default)]
    pub alt_name: Option<String>,
    /// Catalog name.
    #[serde(default)]
    pub catalog_name: Option<String>,
    /// Right ascension (deg).
    #[serde(default)]
    pub ra: Option<f64>,
    /// Declination (deg).
    #[serde(default)]
    pub dec: Option<f64>,
    /// Distance (Mpc).
    #[serde(default)]
    pub distmpc: Option<f64>,
    /// Distance uncertainty (Mpc).
    #[serde(default)]
    pub distmpc_unc: Option<f64>,
    /// Redshift.
    #[serde(default)]
    pub redshift: Option<f64>,
    /// Redshift error.
    #[serde(default)]
    pub redshift_error: Option<f64>,
    /// Stellar mass.
    #[serde(default)]
    pub mstar: Option<f64>,
    /// B magnitude.
    #[serde(default)]
    pub magb: Option<f64>,
    /// K magnitude.
    #[serde(default)]
    pub magk: Option<f64>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /api/sysinfo`: recent changes and the server version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SysInfo {
    /// Recent git log lines (free JSON).
    pub gitlog: Vec<Value>,
    /// The envelope's `version` (opaque: Fritz appends `+fritz.<sha>`).
    pub version: Option<String>,
    /// Every other field of `data`.
    pub extra: Extra,
}

#[derive(Deserialize)]
struct SysInfoData {
    #[serde(default)]
    gitlog: Vec<Value>,
    #[serde(flatten)]
    extra: Extra,
}

/// `GET /api/config`: the instance's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerConfig {
    /// Allowed spectrum types.
    #[serde(default, rename = "allowedSpectrumTypes")]
    pub allowed_spectrum_types: Option<Vec<String>>,
    /// Bandpasses the server accepts, with their effective wavelengths.
    #[serde(default, rename = "bandpassesWavelengths")]
    pub bandpasses_wavelengths: Option<serde_json::Map<String, Value>>,
    /// The public group's name.
    #[serde(default, rename = "publicGroupName")]
    pub public_group_name: Option<String>,
    /// Every other field (`cosmology`, `gcnNoticeTypes`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// GCN event, localization, galaxy and system endpoints; from [`Client::gcn`].
#[derive(Debug, Clone)]
pub struct Gcn {
    client: Client,
}

impl Client {
    /// GCN events, localizations and galaxies.
    pub fn gcn(&self) -> Gcn {
        Gcn { client: self.clone() }
    }

    /// `GET /api/sysinfo` (no token needed): a liveness probe that also gives the server
    /// version.
    pub async fn sysinfo(&self) -> Result<SysInfo> {
        let (d, version): (SysInfoData, _) = self.data_and_version(Request::get("api/sysinfo")).await?;
        Ok(SysInfo { gitlog: d.gitlog, version, extra: d.extra })
    }

    /// `GET /api/config`.
    pub async fn config(&self) -> Result<ServerConfig> {
        self.data(Request::get("api/config")).await
    }
}

impl Gcn {
    /// Lists events, paged (list key `events`); see [`GcnEventList`].
    pub fn events(&self) -> GcnEventList {
        GcnEventList { client: self.client.clone(), q: QueryParams::default(), page_size: MAX_GCN_EVENTS_PER_PAGE }
    }

    /// One event: `GET /api/gcn_event/{dateobs}`.
    pub async fn event(&self, dateobs: &str) -> Result<GcnEvent> {
        let d = validate::dateobs(dateobs)?;
        self.client.data(Request::get(format!("api/gcn_event/{d}"))).await
    }

    /// One localization: `GET /api/localization/{dateobs}/name/{localization_name}`.
    pub async fn localization(
        &self,
        dateobs: &str,
        localization_name: &str,
        include_2d_map: bool,
    ) -> Result<Localization> {
        let d = validate::dateobs(dateobs)?;
        let n = validate::non_empty("localization_name", localization_name)?;
        let mut req = Request::get(format!("api/localization/{d}/name/{}", validate::segment(n)));
        if include_2d_map {
            req = req.query("include2DMap", "true");
        }
        self.client.data(req).await
    }

    /// Lists galaxies, paged (list key `galaxies`); see [`GalaxyList`].
    pub fn galaxies(&self) -> GalaxyList {
        GalaxyList { client: self.client.clone(), q: QueryParams::default(), page_size: 1000 }
    }
}

/// `GET /api/gcn_event` and its filters.
#[derive(Debug, Clone)]
pub struct GcnEventList {
    client: Client,
    q: QueryParams,
    page_size: u64,
}

impl GcnEventList {
    /// Items per page, 1 to 1000 (default 1000).
    pub fn page_size(mut self, n: u64) -> Self {
        match check_page_size(n, MAX_GCN_EVENTS_PER_PAGE) {
            Ok(n) => self.page_size = n,
            Err(e) => self.q.fail(e),
        }
        self
    }

    query_setters! {
        /// Events on or after this date (Arrow-parseable).
        start_date: str = "startDate";
        /// Events on or before this date.
        end_date: str = "endDate";
        /// Only events shared with these groups.
        group_ids: ids = "groupIds";
        /// Keep events with any of these tags.
        gcn_tag_keep: strs = "gcnTagKeep";
        /// Drop events with any of these tags.
        gcn_tag_remove: strs = "gcnTagRemove";
        /// Keep events whose localizations have any of these tags.
        localization_tag_keep: strs = "localizationTagKeep";
        /// Drop events whose localizations have any of these tags.
        localization_tag_remove: strs = "localizationTagRemove";
        /// Partial dateobs or alias.
        partial_dateobs: str = "partialdateobs";
        /// `"property: value: operator"` filters on the event.
        gcn_properties_filter: strs = "gcnPropertiesFilter";
        /// `"property: value: operator"` filters on the localization.
        localization_properties_filter: strs = "localizationPropertiesFilter";
        /// Leave notice contents out.
        exclude_notice_content: bool = "excludeNoticeContent";
        /// Sort field.
        sort_by: str = "sortBy";
        /// `asc` or `desc`.
        sort_order: str = "sortOrder";
    }

    /// Every matching event.
    pub fn stream(self) -> ItemStream<GcnEvent> {
        if let Err(e) = self.q.check() {
            return failed_stream(e);
        }
        let mut spec = ListSpec::new("api/gcn_event", Some("events"), self.page_size);
        spec.query = self.q.pairs.clone();
        self.client.stream(spec)
    }
}

/// `GET /api/galaxy_catalog` and its filters.
#[derive(Debug, Clone)]
pub struct GalaxyList {
    client: Client,
    q: QueryParams,
    page_size: u64,
}

impl GalaxyList {
    /// Items per page, 1 to 10,000 (default 1000).
    pub fn page_size(mut self, n: u64) -> Self {
        match check_page_size(n, MAX_GALAXIES_PER_PAGE) {
            Ok(n) => self.page_size = n,
            Err(e) => self.q.fail(e),
        }
        self
    }

    /// Cone search: `ra`, `dec`, `radius`, all in degrees.
    pub fn cone(mut self, ra_deg: f64, dec_deg: f64, radius_deg: f64) -> Self {
        match validate::cone(ra_deg, dec_deg, radius_deg) {
            Ok(()) => {
                self.q.set("ra", ra_deg);
                self.q.set("dec", dec_deg);
                self.q.set("radius", radius_deg);
            }
            Err(e) => self.q.fail(e),
        }
        self
    }

    query_setters! {
        /// Catalog name (exact).
        catalog_name: str = "catalog_name";
        /// Galaxy name (partial).
        galaxy_name: str = "galaxyName";
        /// Redshift at least.
        min_redshift: f64 = "minRedshift";
        /// Redshift at most.
        max_redshift: f64 = "maxRedshift";
        /// Distance at least (Mpc).
        min_distance: f64 = "minDistance";
        /// Distance at most (Mpc).
        max_distance: f64 = "maxDistance";
        /// Stellar mass at least.
        min_mstar: f64 = "minMstar";
        /// Stellar mass at most.
        max_mstar: f64 = "maxMstar";
        /// GCN event time of a localization.
        localization_dateobs: str = "localizationDateobs";
        /// Localization name.
        localization_name: str = "localizationName";
        /// Cumulative probability of the localization.
        localization_cumprob: f64 = "localizationCumprob";
        /// Return each galaxy's localization probability.
        return_probability: bool = "returnProbability";
        /// Sort field.
        sort_by: str = "sortBy";
        /// `asc` or `desc`.
        sort_order: str = "sortOrder";
    }

    /// Every matching galaxy.
    pub fn stream(self) -> ItemStream<Galaxy> {
        if let Err(e) = self.q.check() {
            return failed_stream(e);
        }
        let mut spec = ListSpec::new("api/galaxy_catalog", Some("galaxies"), self.page_size);
        spec.query = self.q.pairs.clone();
        self.client.stream(spec)
    }
}
