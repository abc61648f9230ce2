//! Photometry: read a source's light curve, and upload points in SkyPortal's
//! column-oriented format, split into requests of at most 10,000 rows.
//!
//! - `GET /api/sources/{obj_id}/photometry?format=mag|flux|both` (not paginated; a bare
//!   array sorted by MJD) → [`PhotometryRecord`]s, which turn into the core
//!   [`Lightcurve`] with [`to_lightcurve`].
//! - `POST /api/photometry` inserts (not idempotent: duplicates are refused, so it is
//!   retried only after a 429); `PUT /api/photometry` upserts (idempotent, retried on 5xx
//!   too). Both take one JSON object whose fields are lists, one value per row.
//! - `GET`/`PATCH`/`DELETE /api/photometry/{id}`, `DELETE /api/sources/{obj_id}/photometry`
//!   and `DELETE /api/photometry/bulk_delete/{upload_id}`.

use std::fmt;
use std::ops::Range;

use broker_core::astro::{AB_ZERO_POINT_UJY, upper_limit_mag};
use broker_core::{Band, Error, Lightcurve, Measurement, Origin, PhotometryPoint, Request, Result, RetrySafety};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::models::{Extra, Group};
use crate::params::{QueryParams, query_setters};
use crate::validate;

/// The most rows SkyPortal accepts in one photometry request (`MAX_NUMBER_ROWS`).
pub const MAX_ROWS_PER_REQUEST: usize = 10_000;

/// The n-sigma used for a limit derived from `fluxerr` when the server sent no
/// `limiting_mag` (SkyPortal derives its own limits at 5 sigma by default).
pub const DEFAULT_LIMIT_NSIGMA: f64 = 5.0;

/// The signal-to-noise a point needs to count as a detection
/// (`misc.photometry_detection_threshold_nsigma`, 3 in SkyPortal's default configuration).
/// SkyPortal's serializer sends a `mag` for every positive flux, however faint, so the
/// server's `mag` alone does not make a detection: its own light-curve plots use this cut.
pub const DETECTION_THRESHOLD_NSIGMA: f64 = 3.0;

/// One photometry point as SkyPortal serializes it. Which fields are present depends on
/// `format` (`mag`: `mag`, `magerr`, `limiting_mag`; `flux`: `flux`, `fluxerr`, `zp`;
/// `both`: all). Non-detections have `mag`/`magerr`/`flux` null.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhotometryRecord {
    /// Point id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Object id.
    #[serde(default)]
    pub obj_id: Option<String>,
    /// Modified Julian Date.
    #[serde(default)]
    pub mjd: Option<f64>,
    /// sncosmo bandpass name (`ztfg`, `atlaso`, `sdssr`, ...).
    #[serde(default)]
    pub filter: Option<String>,
    /// Instrument id.
    #[serde(default)]
    pub instrument_id: Option<i64>,
    /// Instrument name (`ZTF`, `ATLAS`, ...).
    #[serde(default)]
    pub instrument_name: Option<String>,
    /// Magnitude (null for non-detections).
    #[serde(default)]
    pub mag: Option<f64>,
    /// Magnitude error.
    #[serde(default)]
    pub magerr: Option<f64>,
    /// Limiting magnitude.
    #[serde(default)]
    pub limiting_mag: Option<f64>,
    /// Magnitude system of `mag`, `limiting_mag` and `zp` (`ab` unless asked otherwise).
    #[serde(default)]
    pub magsys: Option<String>,
    /// Flux in the system of `zp` (null for non-detections).
    #[serde(default)]
    pub flux: Option<f64>,
    /// Flux error.
    #[serde(default)]
    pub fluxerr: Option<f64>,
    /// Zero point of `flux` (23.9 for µJy in AB).
    #[serde(default)]
    pub zp: Option<f64>,
    /// Signal-to-noise ratio.
    #[serde(default)]
    pub snr: Option<f64>,
    /// Right ascension of the measurement (deg).
    #[serde(default)]
    pub ra: Option<f64>,
    /// Declination of the measurement (deg).
    #[serde(default)]
    pub dec: Option<f64>,
    /// RA uncertainty (arcsec).
    #[serde(default)]
    pub ra_unc: Option<f64>,
    /// Dec uncertainty (arcsec).
    #[serde(default)]
    pub dec_unc: Option<f64>,
    /// Origin (`"None"` when posted as null; `fp` for forced photometry on ZTF).
    #[serde(default)]
    pub origin: Option<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub altdata: Option<Value>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Groups that can see the point.
    #[serde(default)]
    pub groups: Option<Vec<Group>>,
    /// Annotations on the point.
    #[serde(default)]
    pub annotations: Option<Vec<Value>>,
    /// Every other field (`ref_flux`, `tot_flux`, `owner`, `streams`, `validations`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

fn survey_of(rec: &PhotometryRecord, band: &Band) -> String {
    match band {
        Band::ZtfG | Band::ZtfR | Band::ZtfI => return "ztf".into(),
        Band::AtlasC | Band::AtlasO => return "atlas".into(),
        Band::LsstU | Band::LsstG | Band::LsstR | Band::LsstI | Band::LsstZ | Band::LsstY => return "lsst".into(),
        Band::Other(_) => {}
    }
    match rec.instrument_name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => n.to_ascii_lowercase(),
        _ => "unknown".into(),
    }
}

impl PhotometryRecord {
    /// The signal-to-noise: the server's `snr`, else `flux / fluxerr`, else from `magerr`
    /// (`1.0857 / magerr`).
    pub fn signal_to_noise(&self) -> Option<f64> {
        if let Some(s) = self.snr.filter(|s| s.is_finite()) {
            return Some(s);
        }
        if let (Some(f), Some(e)) = (self.flux, self.fluxerr) {
            if f.is_finite() && e.is_finite() && e > 0.0 {
                return Some(f / e);
            }
        }
        self.magerr.filter(|e| e.is_finite() && *e > 0.0).map(|e| 2.5 / std::f64::consts::LN_10 / e)
    }

    /// Whether this is a detection: a magnitude or flux with a signal-to-noise of at least
    /// [`DETECTION_THRESHOLD_NSIGMA`] (when the S/N is unknown, any magnitude or flux).
    pub fn is_detection(&self) -> bool {
        self.is_detection_at(DETECTION_THRESHOLD_NSIGMA)
    }

    /// [`Self::is_detection`] with another threshold.
    pub fn is_detection_at(&self, nsigma: f64) -> bool {
        let measured = self.mag.is_some_and(f64::is_finite) || self.flux.is_some_and(f64::is_finite);
        measured && self.signal_to_noise().is_none_or(|s| s >= nsigma)
    }

    /// Flux and error in µJy, converted from the point's zero point.
    pub fn flux_ujy(&self) -> (Option<f64>, Option<f64>) {
        let zp = self.zp.unwrap_or(AB_ZERO_POINT_UJY);
        if !zp.is_finite() {
            return (None, None);
        }
        let scale = 10f64.powf((AB_ZERO_POINT_UJY - zp) / 2.5);
        (
            self.flux.filter(|f| f.is_finite()).map(|f| f * scale),
            self.fluxerr.filter(|f| f.is_finite()).map(|f| f * scale),
        )
    }

    /// The point in the core model, or `None` when it cannot be placed on a light curve
    /// (no MJD or filter, magnitudes not in AB, neither a magnitude, a flux nor a limit).
    ///
    /// Detections keep the server's magnitude (or one derived from the flux); non-detections
    /// become limits at `limiting_mag`, or at [`DEFAULT_LIMIT_NSIGMA`] times `fluxerr` when
    /// only fluxes were requested.
    pub fn to_point(&self, object_id: &str) -> Option<PhotometryPoint> {
        let mjd = self.mjd.filter(|m| m.is_finite())?;
        let filter = self.filter.as_deref().filter(|f| !f.trim().is_empty())?;
        if let Some(sys) = &self.magsys {
            if !sys.eq_ignore_ascii_case("ab") && (self.mag.is_some() || self.limiting_mag.is_some()) {
                return None;
            }
        }
        let band = Band::from_name(filter);
        let survey = survey_of(self, &band);
        let id = self.obj_id.as_deref().unwrap_or(object_id);
        let (flux, fluxerr) = self.flux_ujy();
        let limiting = self.limiting_mag.filter(|m| m.is_finite());
        let mut p = if !self.is_detection() && (self.mag.is_some() || self.flux.is_some()) {
            // Measured but below the detection threshold: a limit that keeps its flux.
            let lim = limiting.or_else(|| fluxerr.and_then(|e| upper_limit_mag(e, DEFAULT_LIMIT_NSIGMA)))?;
            PhotometryPoint::limit("skyportal", &survey, id, mjd, band, lim)
        } else if let Some(mag) = self.mag.filter(|m| m.is_finite()) {
            PhotometryPoint::from_mag("skyportal", &survey, id, mjd, band, mag, self.magerr.filter(|e| e.is_finite()))
        } else if let Some(f) = flux {
            let e = fluxerr.unwrap_or(0.0);
            let mut p = PhotometryPoint::from_flux(
                "skyportal",
                &survey,
                id,
                mjd,
                band,
                f,
                e,
                f64::NEG_INFINITY,
                DEFAULT_LIMIT_NSIGMA,
            );
            if p.mag.is_none() {
                // A negative flux the server still calls a detection: keep it as a limit.
                p.limiting_mag = limiting.or_else(|| upper_limit_mag(e, DEFAULT_LIMIT_NSIGMA));
                p.kind = broker_core::PointKind::Limit;
            }
            p
        } else if let Some(lim) = limiting.or_else(|| fluxerr.and_then(|e| upper_limit_mag(e, DEFAULT_LIMIT_NSIGMA))) {
            PhotometryPoint::limit("skyportal", &survey, id, mjd, band, lim)
        } else {
            return None;
        };
        if flux.is_some() {
            p.flux_ujy = flux;
            p.flux_err_ujy = fluxerr;
        } else if p.flux_err_ujy.is_none() {
            p.flux_err_ujy = fluxerr;
        }
        if p.limiting_mag.is_none() {
            p.limiting_mag = limiting;
        }
        p.origin = point_origin(self.origin.as_deref(), &p.survey);
        // `mag`/`flux` are SkyPortal's difference-image values; the apparent ones are the
        // separate `magtot`/`tot_flux`, not read here.
        p.measurement = Measurement::Difference;
        Some(p)
    }
}

/// `origin` values naming an alert broker whose points a SkyPortal instance re-serves.
pub const ALERT_ORIGINS: [&str; 6] = ["alerce", "fink", "lasair", "kowalski", "antares", "ampel"];

/// The core origin of a SkyPortal point from its `origin` string: one naming forced
/// photometry (containing `fp` as a word part or `forced`, such as `fp`, `alert_fp`,
/// `ZTF forced`) is forced; none (null, empty, or the string `"None"` the server stores for
/// null) on a survey's band (`ztf`, `atlas`, `lsst`) is that survey's alert stream
/// re-served, and so is one naming an alert broker ([`ALERT_ORIGINS`]); anything else (a
/// follow-up upload, a named pipeline) is reported.
pub fn point_origin(origin: Option<&str>, survey: &str) -> Origin {
    let o = origin.map(str::trim).filter(|o| !o.is_empty() && !o.eq_ignore_ascii_case("none"));
    match o {
        Some(o) => {
            let l = o.to_ascii_lowercase();
            let fp = l.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == "fp" || w == "fps");
            if fp || l.contains("forced") {
                Origin::Forced
            } else if ALERT_ORIGINS.contains(&l.as_str()) && matches!(survey, "ztf" | "atlas" | "lsst") {
                Origin::Alert
            } else {
                Origin::Reported
            }
        }
        None if matches!(survey, "ztf" | "atlas" | "lsst") => Origin::Alert,
        None => Origin::Reported,
    }
}

/// Turns SkyPortal points into a core light curve (sorted by MJD). Points that cannot be
/// placed (see [`PhotometryRecord::to_point`]) are left out; compare lengths to notice.
pub fn to_lightcurve(object_id: &str, records: &[PhotometryRecord]) -> Lightcurve {
    let mut lc = Lightcurve::from_points(records.iter().filter_map(|r| r.to_point(object_id)).collect());
    lc.sort_by_mjd();
    lc
}

/// What `format` to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhotometryFormat {
    /// Magnitudes (`mag`, `magerr`, `limiting_mag`), the server default.
    #[default]
    Mag,
    /// Fluxes (`flux`, `fluxerr`, `zp`).
    Flux,
    /// Both.
    Both,
}

impl PhotometryFormat {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            PhotometryFormat::Mag => "mag",
            PhotometryFormat::Flux => "flux",
            PhotometryFormat::Both => "both",
        }
    }
}

impl fmt::Display for PhotometryFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Photometry endpoints; from [`Client::photometry`].
#[derive(Debug, Clone)]
pub struct Photometry {
    client: Client,
}

impl Client {
    /// Photometry endpoints.
    pub fn photometry(&self) -> Photometry {
        Photometry { client: self.clone() }
    }
}

impl Photometry {
    /// All photometry of a source: `GET /api/sources/{obj_id}/photometry` (see
    /// [`SourcePhotometry`] for the options; `format=mag` and `magsys=ab` by default).
    pub fn for_source(&self, obj_id: &str) -> SourcePhotometry {
        let mut q = QueryParams::default();
        if let Err(e) = validate::obj_id(obj_id) {
            q.fail(e);
        }
        q.set("format", PhotometryFormat::Mag);
        q.set("magsys", "ab");
        SourcePhotometry { client: self.client.clone(), obj_id: obj_id.to_string(), q }
    }

    /// A source's light curve in the core model: photometry with `format=both` and
    /// `magsys=ab`, converted by [`to_lightcurve`].
    pub async fn lightcurve(&self, obj_id: &str) -> Result<Lightcurve> {
        let recs = self.for_source(obj_id).format(PhotometryFormat::Both).send().await?;
        Ok(to_lightcurve(obj_id, &recs))
    }

    /// One point: `GET /api/photometry/{id}?format=..&magsys=ab`.
    pub async fn get(&self, id: i64, format: PhotometryFormat) -> Result<PhotometryRecord> {
        let req = Request::get(format!("api/photometry/{id}")).query("format", format).query("magsys", "ab");
        self.client.data(req).await
    }

    /// Inserts points: `POST /api/photometry`, split into requests of at most 10,000 rows.
    ///
    /// Not idempotent (the server refuses duplicates), so each request is retried only
    /// after a 429. On a failure the rows already stored are reported in the
    /// [`UploadFailure`]; use [`Self::upsert`] to re-send safely.
    pub async fn post(&self, upload: &PhotometryUpload) -> std::result::Result<UploadResult, UploadFailure> {
        self.send_upload(upload, false).await
    }

    /// Inserts or updates points: `PUT /api/photometry` (idempotent upsert), split into
    /// requests of at most 10,000 rows.
    pub async fn upsert(&self, upload: &PhotometryUpload) -> std::result::Result<UploadResult, UploadFailure> {
        self.send_upload(upload, true).await
    }

    async fn send_upload(
        &self,
        upload: &PhotometryUpload,
        put: bool,
    ) -> std::result::Result<UploadResult, UploadFailure> {
        let fail_early =
            |error: Error| UploadFailure { stored: UploadResult::default(), failed_rows: 0..upload.len(), error };
        upload.validate().map_err(fail_early)?;
        let mut result = UploadResult::default();
        let n = upload.len();
        let mut start = 0;
        while start < n {
            let end = (start + upload.chunk_size).min(n);
            let body = upload.body(start..end);
            let mut req = if put {
                Request::put("api/photometry")
            } else {
                Request::post("api/photometry").retry_safety(RetrySafety::Unsafe)
            };
            if let Some(r) = upload.refresh {
                req = req.query("refresh", r);
            }
            if put {
                if let Some(o) = upload.overwrite_flux {
                    req = req.query("overwrite_flux", o);
                }
                if let Some(o) = upload.duplicate_ignore_flux {
                    req = req.query("duplicate_ignore_flux", o);
                }
            }
            let req = req.json(&body);
            match self.client.data::<UploadReply>(req).await {
                Ok(reply) => {
                    if reply.ids.len() != end - start {
                        tracing::warn!(
                            sent = end - start,
                            ids = reply.ids.len(),
                            "photometry reply has an unexpected number of ids"
                        );
                    }
                    result.ids.extend(reply.ids);
                    if let Some(u) = reply.upload_id {
                        result.upload_ids.push(u);
                    }
                    result.requests += 1;
                    result.rows_stored = end;
                }
                Err(error) => return Err(UploadFailure { stored: result, failed_rows: start..n, error }),
            }
            start = end;
        }
        Ok(result)
    }

    /// Changes one point: `PATCH /api/photometry/{id}` with the fields given (e.g.
    /// `{"mag": 18.1, "magerr": 0.05, "filter": "ztfg", "magsys": "ab", ...}`).
    pub async fn patch(&self, id: i64, changes: &Value) -> Result<()> {
        if changes.as_object().is_none_or(|m| m.is_empty()) {
            return Err(Error::invalid("changes", "give a JSON object with at least one field to change"));
        }
        let req = Request::patch(format!("api/photometry/{id}")).json(changes).retry_safety(RetrySafety::Safe);
        self.client.ok(req).await
    }

    /// Deletes one point: `DELETE /api/photometry/{id}`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client.ok(Request::delete(format!("api/photometry/{id}"))).await
    }

    /// Deletes all of a source's photometry: `DELETE /api/sources/{obj_id}/photometry`
    /// (needs `Delete bulk photometry`).
    pub async fn delete_for_source(&self, obj_id: &str) -> Result<()> {
        let id = validate::obj_id(obj_id)?;
        self.client.ok(Request::delete(format!("api/sources/{id}/photometry"))).await
    }

    /// Deletes one upload: `DELETE /api/photometry/bulk_delete/{upload_id}`.
    pub async fn delete_upload(&self, upload_id: &str) -> Result<()> {
        let u = validate::non_empty("upload_id", upload_id)?;
        self.client.ok(Request::delete(format!("api/photometry/bulk_delete/{}", validate::segment(u)))).await
    }
}

/// `GET /api/sources/{obj_id}/photometry` and its options.
#[derive(Debug, Clone)]
pub struct SourcePhotometry {
    client: Client,
    obj_id: String,
    q: QueryParams,
}

impl SourcePhotometry {
    /// `format=mag|flux|both`.
    pub fn format(mut self, f: PhotometryFormat) -> Self {
        self.q.set("format", f);
        self
    }

    query_setters! {
        /// Magnitude system of the output (`ab`, `vega`, ...; default `ab`).
        magsys: str = "magsys";
        /// `individual`, `series` or `both` (default `both`).
        individual_or_series: str = "individualOrSeries";
        /// Drop duplicate points.
        deduplicate_photometry: bool = "deduplicatePhotometry";
        /// Include owner info.
        include_owner_info: bool = "includeOwnerInfo";
        /// Include stream info.
        include_stream_info: bool = "includeStreamInfo";
        /// Include validation info.
        include_validation_info: bool = "includeValidationInfo";
        /// Include annotations.
        include_annotation_info: bool = "includeAnnotationInfo";
        /// Include extinction.
        include_extinction: bool = "includeExtinction";
        /// Include photometry of super-objects.
        include_super_objs_photometry: bool = "includeSuperObjsPhotometry";
        /// Add a `phase` from the annotated period.
        phase_fold_data: bool = "phaseFoldData";
    }

    /// Sends the request; the points come sorted by MJD.
    pub async fn send(self) -> Result<Vec<PhotometryRecord>> {
        self.q.check()?;
        let mut req = Request::get(format!("api/sources/{}/photometry", self.obj_id));
        for (k, v) in &self.q.pairs {
            req = req.query(k, v);
        }
        self.client.data(req).await
    }

    /// Sends the request and converts to the core light curve.
    pub async fn lightcurve(self) -> Result<Lightcurve> {
        let id = self.obj_id.clone();
        Ok(to_lightcurve(&id, &self.send().await?))
    }
}

#[derive(Debug, Deserialize)]
struct UploadReply {
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    upload_id: Option<String>,
}

/// What an upload stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadResult {
    /// Ids of the stored points, in row order.
    pub ids: Vec<i64>,
    /// One `upload_id` per request (POST only; usable with
    /// [`Photometry::delete_upload`]).
    pub upload_ids: Vec<String>,
    /// How many requests were sent.
    pub requests: usize,
    /// How many rows (from the start) are stored.
    pub rows_stored: usize,
}

/// An upload that stopped part-way: what was stored, which rows were not, and why.
/// Converts into [`Error`] with `?`.
#[derive(Debug)]
pub struct UploadFailure {
    /// What the requests before the failure stored.
    pub stored: UploadResult,
    /// The rows (indices into the upload) that were not stored.
    pub failed_rows: Range<usize>,
    /// Why.
    pub error: Error,
}

impl fmt::Display for UploadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "photometry upload stopped: rows {}..{} not stored ({} stored before): {}",
            self.failed_rows.start, self.failed_rows.end, self.stored.rows_stored, self.error
        )
    }
}

impl std::error::Error for UploadFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<UploadFailure> for Error {
    fn from(f: UploadFailure) -> Self {
        f.error
    }
}

/// A point in magnitude form (`PhotMagFlexible`). A detection has `mag` and `magerr`; a
/// non-detection has neither and needs `limiting_mag`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MagRow {
    /// Object id.
    pub obj_id: String,
    /// Instrument id (find it with [`Resources::instruments`](crate::resources::Resources::instruments)).
    pub instrument_id: i64,
    /// Modified Julian Date.
    pub mjd: f64,
    /// sncosmo bandpass name (`ztfg`, `atlaso`, ...).
    pub filter: String,
    /// Magnitude system (`ab`).
    pub magsys: String,
    /// Magnitude (None for a non-detection).
    pub mag: Option<f64>,
    /// Magnitude error (with `mag`).
    pub magerr: Option<f64>,
    /// Limiting magnitude (required for non-detections).
    pub limiting_mag: Option<f64>,
    /// The n-sigma of `limiting_mag`.
    pub limiting_mag_nsigma: Option<f64>,
    /// Origin (part of the duplicate key).
    pub origin: Option<String>,
    /// Right ascension of the measurement (deg).
    pub ra: Option<f64>,
    /// Declination of the measurement (deg).
    pub dec: Option<f64>,
    /// Free-form metadata: a JSON object (rows without it are sent as `{}` when another
    /// row of the request has some).
    pub altdata: Option<Value>,
}

impl MagRow {
    /// A detection in AB magnitudes.
    pub fn detection(
        obj_id: impl Into<String>,
        instrument_id: i64,
        mjd: f64,
        filter: impl Into<String>,
        mag: f64,
        magerr: f64,
    ) -> Self {
        MagRow {
            obj_id: obj_id.into(),
            instrument_id,
            mjd,
            filter: filter.into(),
            magsys: "ab".into(),
            mag: Some(mag),
            magerr: Some(magerr),
            ..Default::default()
        }
    }

    /// A non-detection with an AB limiting magnitude.
    pub fn non_detection(
        obj_id: impl Into<String>,
        instrument_id: i64,
        mjd: f64,
        filter: impl Into<String>,
        limiting_mag: f64,
    ) -> Self {
        MagRow {
            obj_id: obj_id.into(),
            instrument_id,
            mjd,
            filter: filter.into(),
            magsys: "ab".into(),
            limiting_mag: Some(limiting_mag),
            ..Default::default()
        }
    }

    /// Sets the origin.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Sets the limiting magnitude.
    pub fn limiting_mag(mut self, m: f64) -> Self {
        self.limiting_mag = Some(m);
        self
    }

    fn validate(&self, i: usize) -> Result<()> {
        common_checks(i, &self.obj_id, self.mjd, &self.filter, &self.magsys)?;
        let f = |name: &str| format!("rows[{i}].{name}");
        for (name, v) in [
            ("mag", self.mag),
            ("magerr", self.magerr),
            ("limiting_mag", self.limiting_mag),
            ("limiting_mag_nsigma", self.limiting_mag_nsigma),
        ] {
            validate::finite_opt(&f(name), v)?;
        }
        match (self.mag, self.magerr) {
            (Some(_), Some(e)) if e < 0.0 => return Err(Error::invalid(f("magerr"), "must not be negative")),
            (Some(_), Some(_)) => {}
            (None, None) => {
                if self.limiting_mag.is_none() {
                    return Err(Error::invalid(f("limiting_mag"), "a non-detection (no mag) needs a limiting_mag"));
                }
            }
            _ => {
                return Err(Error::invalid(
                    f("magerr"),
                    "give mag and magerr together, or neither for a non-detection",
                ));
            }
        }
        check_altdata(i, self.altdata.as_ref())?;
        position_checks(i, self.ra, self.dec)
    }
}

/// A point in flux form (`PhotFluxFlexible`). `flux` None marks a non-detection;
/// `fluxerr` must be positive.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FluxRow {
    /// Object id.
    pub obj_id: String,
    /// Instrument id.
    pub instrument_id: i64,
    /// Modified Julian Date.
    pub mjd: f64,
    /// sncosmo bandpass name.
    pub filter: String,
    /// Magnitude system of `zp` (`ab`).
    pub magsys: String,
    /// Flux (None for a non-detection).
    pub flux: Option<f64>,
    /// Flux error (> 0).
    pub fluxerr: f64,
    /// Zero point (23.9 for µJy).
    pub zp: f64,
    /// Origin (part of the duplicate key).
    pub origin: Option<String>,
    /// Right ascension of the measurement (deg).
    pub ra: Option<f64>,
    /// Declination of the measurement (deg).
    pub dec: Option<f64>,
    /// Free-form metadata: a JSON object (rows without it are sent as `{}` when another
    /// row of the request has some).
    pub altdata: Option<Value>,
}

impl FluxRow {
    /// A flux in µJy (AB zero point 23.9).
    pub fn ujy(
        obj_id: impl Into<String>,
        instrument_id: i64,
        mjd: f64,
        filter: impl Into<String>,
        flux_ujy: Option<f64>,
        fluxerr_ujy: f64,
    ) -> Self {
        FluxRow {
            obj_id: obj_id.into(),
            instrument_id,
            mjd,
            filter: filter.into(),
            magsys: "ab".into(),
            flux: flux_ujy,
            fluxerr: fluxerr_ujy,
            zp: AB_ZERO_POINT_UJY,
            ..Default::default()
        }
    }

    /// Sets the origin.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    fn validate(&self, i: usize) -> Result<()> {
        common_checks(i, &self.obj_id, self.mjd, &self.filter, &self.magsys)?;
        let f = |name: &str| format!("rows[{i}].{name}");
        validate::finite_opt(&f("flux"), self.flux)?;
        validate::finite(&f("zp"), self.zp)?;
        if !(self.fluxerr.is_finite() && self.fluxerr > 0.0) {
            return Err(Error::invalid(
                f("fluxerr"),
                format!("{} is not allowed: use a finite value > 0", self.fluxerr),
            ));
        }
        check_altdata(i, self.altdata.as_ref())?;
        position_checks(i, self.ra, self.dec)
    }
}

fn common_checks(i: usize, obj_id: &str, mjd: f64, filter: &str, magsys: &str) -> Result<()> {
    validate::obj_id(obj_id).map_err(|e| match e {
        Error::InvalidInput { message, .. } => Error::invalid(format!("rows[{i}].obj_id"), message),
        other => other,
    })?;
    validate::finite(&format!("rows[{i}].mjd"), mjd)?;
    validate::non_empty(&format!("rows[{i}].filter"), filter).map_err(|_| {
        Error::invalid(format!("rows[{i}].filter"), "give an sncosmo bandpass name such as ztfg, ztfr, atlaso")
    })?;
    validate::non_empty(&format!("rows[{i}].magsys"), magsys)
        .map_err(|_| Error::invalid(format!("rows[{i}].magsys"), "give an sncosmo magnitude system such as ab"))?;
    Ok(())
}

fn position_checks(i: usize, ra: Option<f64>, dec: Option<f64>) -> Result<()> {
    match (ra, dec) {
        (Some(r), Some(d)) => broker_core::SkyPosition::new(r, d)
            .map(|_| ())
            .map_err(|e| Error::invalid(format!("rows[{i}].position"), e.to_string())),
        (None, None) => Ok(()),
        _ => Err(Error::invalid(format!("rows[{i}].ra"), "give both ra and dec, or neither")),
    }
}

/// The rows of an upload: all magnitude form or all flux form.
#[derive(Debug, Clone, PartialEq)]
pub enum PhotometryRows {
    /// Magnitude form.
    Mag(Vec<MagRow>),
    /// Flux form.
    Flux(Vec<FluxRow>),
}

/// Which groups can see uploaded points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupIds {
    /// These groups.
    Ids(Vec<i64>),
    /// `"all"`: the public group.
    All,
}

/// Points to upload with [`Photometry::post`] or [`Photometry::upsert`].
#[derive(Debug, Clone, PartialEq)]
pub struct PhotometryUpload {
    rows: PhotometryRows,
    group_ids: Option<GroupIds>,
    stream_ids: Vec<i64>,
    refresh: Option<bool>,
    overwrite_flux: Option<bool>,
    duplicate_ignore_flux: Option<bool>,
    chunk_size: usize,
}

impl PhotometryUpload {
    /// An upload in magnitude form.
    pub fn mags(rows: Vec<MagRow>) -> Self {
        Self::new(PhotometryRows::Mag(rows))
    }

    /// An upload in flux form.
    pub fn fluxes(rows: Vec<FluxRow>) -> Self {
        Self::new(PhotometryRows::Flux(rows))
    }

    fn new(rows: PhotometryRows) -> Self {
        PhotometryUpload {
            rows,
            group_ids: None,
            stream_ids: Vec::new(),
            refresh: None,
            overwrite_flux: None,
            duplicate_ignore_flux: None,
            chunk_size: MAX_ROWS_PER_REQUEST,
        }
    }

    /// Shares the points with these groups (`group_ids`).
    pub fn group_ids(mut self, ids: impl IntoIterator<Item = i64>) -> Self {
        self.group_ids = Some(GroupIds::Ids(ids.into_iter().collect()));
        self
    }

    /// Makes the points public (`group_ids: "all"`).
    pub fn public(mut self) -> Self {
        self.group_ids = Some(GroupIds::All);
        self
    }

    /// Links the points to these streams (`stream_ids`).
    pub fn stream_ids(mut self, ids: impl IntoIterator<Item = i64>) -> Self {
        self.stream_ids = ids.into_iter().collect();
        self
    }

    /// `refresh=true|false` (refresh open web pages).
    pub fn refresh(mut self, on: bool) -> Self {
        self.refresh = Some(on);
        self
    }

    /// PUT only: `overwrite_flux=true` (admin).
    pub fn overwrite_flux(mut self, on: bool) -> Self {
        self.overwrite_flux = Some(on);
        self
    }

    /// PUT only: `duplicate_ignore_flux=true` (admin).
    pub fn duplicate_ignore_flux(mut self, on: bool) -> Self {
        self.duplicate_ignore_flux = Some(on);
        self
    }

    /// Rows per request, 1 to 10,000 (default 10,000); lower it for servers with a small
    /// body-size limit.
    pub fn chunk_size(mut self, n: usize) -> Self {
        self.chunk_size = n;
        self
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        match &self.rows {
            PhotometryRows::Mag(r) => r.len(),
            PhotometryRows::Flux(r) => r.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks every row; the error names the first bad one (`rows[12].magerr`).
    pub fn validate(&self) -> Result<()> {
        if self.is_empty() {
            return Err(Error::invalid("rows", "nothing to upload: give at least one row"));
        }
        if self.chunk_size == 0 || self.chunk_size > MAX_ROWS_PER_REQUEST {
            return Err(Error::invalid(
                "chunk_size",
                format!("{} is not allowed: use 1 to {MAX_ROWS_PER_REQUEST}", self.chunk_size),
            ));
        }
        if matches!(&self.group_ids, Some(GroupIds::Ids(g)) if g.is_empty()) {
            return Err(Error::invalid(
                "group_ids",
                "an empty list shares with no group: leave it unset or use public()",
            ));
        }
        match &self.rows {
            PhotometryRows::Mag(rows) => rows.iter().enumerate().try_for_each(|(i, r)| r.validate(i)),
            PhotometryRows::Flux(rows) => rows.iter().enumerate().try_for_each(|(i, r)| r.validate(i)),
        }
    }

    /// The column-oriented JSON body for rows `range` (every field a list, one value per
    /// row; `group_ids`/`stream_ids` apply to all rows).
    pub fn body(&self, range: Range<usize>) -> Value {
        let mut m = Map::new();
        fn col<T, F: Fn(&T) -> Value>(m: &mut Map<String, Value>, key: &str, rows: &[T], f: F, always: bool) {
            let vals: Vec<Value> = rows.iter().map(f).collect();
            if always || vals.iter().any(|v| !v.is_null()) {
                m.insert(key.to_string(), Value::Array(vals));
            }
        }
        let num = |x: Option<f64>| x.map(Value::from).unwrap_or(Value::Null);
        let text = |x: &Option<String>| x.clone().map(Value::from).unwrap_or(Value::Null);
        match &self.rows {
            PhotometryRows::Mag(all) => {
                let rows = &all[range.start.min(all.len())..range.end.min(all.len())];
                col(&mut m, "obj_id", rows, |r| Value::from(r.obj_id.clone()), true);
                col(&mut m, "instrument_id", rows, |r| Value::from(r.instrument_id), true);
                col(&mut m, "mjd", rows, |r| Value::from(r.mjd), true);
                col(&mut m, "filter", rows, |r| Value::from(r.filter.clone()), true);
                col(&mut m, "magsys", rows, |r| Value::from(r.magsys.clone()), true);
                col(&mut m, "mag", rows, |r| num(r.mag), true);
                col(&mut m, "magerr", rows, |r| num(r.magerr), true);
                col(&mut m, "limiting_mag", rows, |r| num(r.limiting_mag), false);
                col(&mut m, "limiting_mag_nsigma", rows, |r| num(r.limiting_mag_nsigma), false);
                col(&mut m, "origin", rows, |r| text(&r.origin), false);
                col(&mut m, "ra", rows, |r| num(r.ra), false);
                col(&mut m, "dec", rows, |r| num(r.dec), false);
                altdata_col(&mut m, rows.iter().map(|r| r.altdata.as_ref()));
            }
            PhotometryRows::Flux(all) => {
                let rows = &all[range.start.min(all.len())..range.end.min(all.len())];
                col(&mut m, "obj_id", rows, |r| Value::from(r.obj_id.clone()), true);
                col(&mut m, "instrument_id", rows, |r| Value::from(r.instrument_id), true);
                col(&mut m, "mjd", rows, |r| Value::from(r.mjd), true);
                col(&mut m, "filter", rows, |r| Value::from(r.filter.clone()), true);
                col(&mut m, "magsys", rows, |r| Value::from(r.magsys.clone()), true);
                col(&mut m, "flux", rows, |r| num(r.flux), true);
                col(&mut m, "fluxerr", rows, |r| Value::from(r.fluxerr), true);
                col(&mut m, "zp", rows, |r| Value::from(r.zp), true);
                col(&mut m, "origin", rows, |r| text(&r.origin), false);
                col(&mut m, "ra", rows, |r| num(r.ra), false);
                col(&mut m, "dec", rows, |r| num(r.dec), false);
                altdata_col(&mut m, rows.iter().map(|r| r.altdata.as_ref()));
            }
        }
        match &self.group_ids {
            Some(GroupIds::Ids(g)) => {
                m.insert("group_ids".into(), Value::from(g.clone()));
            }
            Some(GroupIds::All) => {
                m.insert("group_ids".into(), Value::from("all"));
            }
            None => {}
        }
        if !self.stream_ids.is_empty() {
            m.insert("stream_ids".into(), Value::from(self.stream_ids.clone()));
        }
        Value::Object(m)
    }
}

/// The `altdata` column: omitted when no row has altdata, else one object per row with `{}`
/// for rows without. The server calls `.items()` on every entry of an altdata list
/// (`handlers/api/photometry.py`), so a `null` entry is a 500; it stores `{}` as null.
fn altdata_col<'a>(m: &mut Map<String, Value>, rows: impl Iterator<Item = Option<&'a Value>> + Clone) {
    if rows.clone().any(|a| a.is_some()) {
        let vals: Vec<Value> = rows.map(|a| a.cloned().unwrap_or_else(|| Value::Object(Map::new()))).collect();
        m.insert("altdata".to_string(), Value::Array(vals));
    }
}

/// Checks a row's altdata is a JSON object (the server calls `.items()` on it).
fn check_altdata(i: usize, a: Option<&Value>) -> Result<()> {
    match a {
        None | Some(Value::Object(_)) => Ok(()),
        Some(other) => Err(Error::invalid(
            format!("rows[{i}].altdata"),
            format!("must be a JSON object of key/value pairs, not {other}"),
        )),
    }
}

/// DataFrames of raw SkyPortal photometry (feature `polars`).
#[cfg(feature = "polars")]
pub mod frame {
    use broker_core::Result;
    use broker_core::frame::polars_error;
    use polars::prelude::*;

    use super::PhotometryRecord;

    /// Column names of [`records_to_dataframe`], in order.
    pub const PHOTOMETRY_COLUMNS: [&str; 17] = [
        "id",
        "obj_id",
        "mjd",
        "filter",
        "instrument_id",
        "instrument_name",
        "mag",
        "magerr",
        "limiting_mag",
        "magsys",
        "flux",
        "fluxerr",
        "zp",
        "snr",
        "ra",
        "dec",
        "origin",
    ];

    /// One row per point, columns as named by SkyPortal (see [`PHOTOMETRY_COLUMNS`]):
    /// `id`/`instrument_id` Int64, `obj_id`/`filter`/`instrument_name`/`magsys`/`origin`
    /// String, the rest Float64; all nullable.
    pub fn records_to_dataframe(records: &[PhotometryRecord]) -> Result<DataFrame> {
        let r = records;
        let f = |g: fn(&PhotometryRecord) -> Option<f64>| -> Vec<Option<f64>> { r.iter().map(g).collect() };
        let s = |g: fn(&PhotometryRecord) -> Option<&str>| -> Vec<Option<&str>> { r.iter().map(g).collect() };
        let i = |g: fn(&PhotometryRecord) -> Option<i64>| -> Vec<Option<i64>> { r.iter().map(g).collect() };
        let columns = vec![
            Column::new("id".into(), i(|x| x.id)),
            Column::new("obj_id".into(), s(|x| x.obj_id.as_deref())),
            Column::new("mjd".into(), f(|x| x.mjd)),
            Column::new("filter".into(), s(|x| x.filter.as_deref())),
            Column::new("instrument_id".into(), i(|x| x.instrument_id)),
            Column::new("instrument_name".into(), s(|x| x.instrument_name.as_deref())),
            Column::new("mag".into(), f(|x| x.mag)),
            Column::new("magerr".into(), f(|x| x.magerr)),
            Column::new("limiting_mag".into(), f(|x| x.limiting_mag)),
            Column::new("magsys".into(), s(|x| x.magsys.as_deref())),
            Column::new("flux".into(), f(|x| x.flux)),
            Column::new("fluxerr".into(), f(|x| x.fluxerr)),
            Column::new("zp".into(), f(|x| x.zp)),
            Column::new("snr".into(), f(|x| x.snr)),
            Column::new("ra".into(), f(|x| x.ra)),
            Column::new("dec".into(), f(|x| x.dec)),
            Column::new("origin".into(), s(|x| x.origin.as_deref())),
        ];
        DataFrame::new(records.len(), columns).map_err(polars_error)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: Value) -> PhotometryRecord {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn detections_limits_and_flux_only_points() {
        let det = rec(json!({"obj_id": "ZTF1", "mjd": 59000.5, "filter": "ztfg", "mag": 18.9, "magerr": 0.1,
            "limiting_mag": 20.5, "magsys": "ab", "flux": 100.0, "fluxerr": 9.2, "zp": 23.9, "instrument_name": "ZTF"}));
        let p = det.to_point("x").unwrap();
        assert!(p.is_detection());
        assert_eq!((p.band.clone(), p.survey.as_str(), p.object_id.as_str()), (Band::ZtfG, "ztf", "ZTF1"));
        assert_eq!(
            (p.mag, p.flux_ujy, p.flux_err_ujy, p.limiting_mag),
            (Some(18.9), Some(100.0), Some(9.2), Some(20.5))
        );

        let lim = rec(
            json!({"mjd": 59001.0, "filter": "atlaso", "mag": null, "magerr": null, "limiting_mag": 19.4, "magsys": "ab"}),
        );
        let p = lim.to_point("obj").unwrap();
        assert!(!p.is_detection());
        assert_eq!((p.limiting_mag, p.survey.as_str(), p.object_id.as_str()), (Some(19.4), "atlas", "obj"));

        // format=flux with zp 25: flux 100 in zp 25 = 100 * 10^((23.9-25)/2.5) µJy.
        let fl = rec(
            json!({"mjd": 1.0, "filter": "sdssr", "flux": 100.0, "fluxerr": 10.0, "zp": 25.0, "magsys": "ab", "instrument_name": "SEDM"}),
        );
        let p = fl.to_point("o").unwrap();
        let scale = 10f64.powf((23.9 - 25.0) / 2.5);
        assert!((p.flux_ujy.unwrap() - 100.0 * scale).abs() < 1e-9);
        assert_eq!(p.survey, "sedm");
        assert!(p.is_detection());

        let nd = rec(json!({"mjd": 2.0, "filter": "ztfr", "flux": null, "fluxerr": 10.0, "zp": 23.9, "magsys": "ab"}));
        let p = nd.to_point("o").unwrap();
        assert!(!p.is_detection());
        assert!((p.limiting_mag.unwrap() - (23.9 - 2.5 * 50f64.log10())).abs() < 1e-12);

        // SkyPortal sends a mag for any positive flux: S/N 0.78 is a limit, flux kept.
        let faint = rec(json!({"mjd": 60115.2, "filter": "atlasc", "mag": 21.56, "magerr": 1.39, "snr": 0.78,
            "limiting_mag": 19.55, "magsys": "ab", "flux": 8.61, "fluxerr": 11.03, "zp": 23.9}));
        assert!(!faint.is_detection());
        let p = faint.to_point("o").unwrap();
        assert!(!p.is_detection());
        assert_eq!((p.mag, p.limiting_mag, p.flux_ujy), (None, Some(19.55), Some(8.61)));
        // Without `snr`, magerr gives it: 1.0857 / 0.1 ≈ 10.9 -> a detection.
        let bright = rec(json!({"mjd": 1.0, "filter": "ztfg", "mag": 18.0, "magerr": 0.1, "magsys": "ab"}));
        assert!(bright.to_point("o").unwrap().is_detection());
        assert!(
            !rec(
                json!({"mjd": 1.0, "filter": "ztfg", "mag": 21.0, "magerr": 0.5, "magsys": "ab", "limiting_mag": 20.0})
            )
            .to_point("o")
            .unwrap()
            .is_detection()
        );

        assert!(rec(json!({"mjd": null, "filter": "ztfr", "mag": 18.0})).to_point("o").is_none());
        assert!(rec(json!({"mjd": 3.0, "filter": "ztfr", "mag": 18.0, "magsys": "vega"})).to_point("o").is_none());
        assert!(rec(json!({"mjd": 3.0, "filter": "ztfr"})).to_point("o").is_none());
    }

    #[test]
    fn body_is_column_oriented() {
        let up = PhotometryUpload::mags(vec![
            MagRow::detection("ZTF1", 1, 59410.0, "ztfr", 19.2, 0.05).origin("lol"),
            MagRow::non_detection("ZTF1", 1, 59411.0, "ztfg", 20.1),
        ])
        .group_ids([1]);
        up.validate().unwrap();
        assert_eq!(
            up.body(0..2),
            json!({"obj_id": ["ZTF1", "ZTF1"], "instrument_id": [1, 1], "mjd": [59410.0, 59411.0],
                   "filter": ["ztfr", "ztfg"], "magsys": ["ab", "ab"], "mag": [19.2, null], "magerr": [0.05, null],
                   "limiting_mag": [null, 20.1], "origin": ["lol", null], "group_ids": [1]})
        );
    }

    proptest::proptest! {
        #[test]
        fn chunks_cover_every_row_once(n in 1usize..60, chunk in 1usize..25) {
            let rows: Vec<MagRow> = (0..n).map(|i| MagRow::detection("Z", 1, i as f64, "ztfg", 18.0, 0.1)).collect();
            let up = PhotometryUpload::mags(rows).chunk_size(chunk);
            let mut seen = Vec::new();
            let mut start = 0;
            while start < n {
                let end = (start + chunk).min(n);
                let body = up.body(start..end);
                let mjds = body["mjd"].as_array().unwrap();
                proptest::prop_assert!(mjds.len() <= chunk);
                proptest::prop_assert_eq!(body["mag"].as_array().unwrap().len(), mjds.len());
                seen.extend(mjds.iter().map(|v| v.as_f64().unwrap() as usize));
                start = end;
            }
            proptest::prop_assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn bad_rows_are_named() {
        let mut r = MagRow::detection("ZTF1", 1, 59410.0, "ztfr", 19.2, 0.05);
        r.magerr = None;
        let e = PhotometryUpload::mags(vec![MagRow::detection("ZTF1", 1, 1.0, "ztfr", 19.0, 0.1), r])
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("rows[1].magerr"), "{e}");
        let e = PhotometryUpload::mags(vec![MagRow {
            limiting_mag: None,
            ..MagRow::non_detection("Z", 1, 1.0, "ztfr", 1.0)
        }])
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("needs a limiting_mag"), "{e}");
        let e =
            PhotometryUpload::fluxes(vec![FluxRow::ujy("Z", 1, 1.0, "ztfr", Some(5.0), 0.0)]).validate().unwrap_err();
        assert!(e.to_string().contains("rows[0].fluxerr"), "{e}");
        let e =
            PhotometryUpload::mags(vec![MagRow::detection("Z", 1, f64::NAN, "ztfr", 1.0, 0.1)]).validate().unwrap_err();
        assert!(e.to_string().contains("rows[0].mjd"), "{e}");
        assert!(PhotometryUpload::mags(vec![]).validate().is_err());
        let e = PhotometryUpload::mags(vec![MagRow::detection("Z", 1, 1.0, "ztfr", 1.0, 0.1)])
            .chunk_size(10_001)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("1 to 10000"), "{e}");
    }

    #[test]
    fn origins_map_to_alert_forced_or_reported() {
        assert_eq!(point_origin(None, "ztf"), Origin::Alert);
        assert_eq!(point_origin(Some("None"), "ztf"), Origin::Alert);
        assert_eq!(point_origin(Some("alerce"), "ztf"), Origin::Alert);
        assert_eq!(point_origin(Some("atlas_fp"), "atlas"), Origin::Forced);
        assert_eq!(point_origin(Some("ZTF forced"), "ztf"), Origin::Forced);
        assert_eq!(point_origin(None, "sedm"), Origin::Reported);
        assert_eq!(point_origin(Some("lol"), "ztf"), Origin::Reported);
    }
}
