//! Uploads: [`MagRow`] and [`FluxRow`], their checks, and the column-oriented request body.

use std::fmt;
use std::ops::Range;

use broker_core::astro::AB_ZERO_POINT_UJY;
use broker_core::{Error, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::validate;

use super::MAX_ROWS_PER_REQUEST;

#[derive(Debug, Deserialize)]
pub(super) struct UploadReply {
    #[serde(default)]
    pub(super) ids: Vec<i64>,
    #[serde(default)]
    pub(super) upload_id: Option<String>,
}

/// What an upload stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadResult {
    /// Ids of the stored points, in row order.
    pub ids: Vec<i64>,
    /// One `upload_id` per request (POST only; usable with
    /// [`Photometry::delete_upload`](super::Photometry::delete_upload)).
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

pub(super) fn common_checks(i: usize, obj_id: &str, mjd: f64, filter: &str, magsys: &str) -> Result<()> {
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

pub(super) fn position_checks(i: usize, ra: Option<f64>, dec: Option<f64>) -> Result<()> {
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

/// Points to upload with [`Photometry::post`](super::Photometry::post) or [`Photometry::upsert`](super::Photometry::upsert).
#[derive(Debug, Clone, PartialEq)]
pub struct PhotometryUpload {
    pub(super) rows: PhotometryRows,
    pub(super) group_ids: Option<GroupIds>,
    pub(super) stream_ids: Vec<i64>,
    pub(super) refresh: Option<bool>,
    pub(super) overwrite_flux: Option<bool>,
    pub(super) duplicate_ignore_flux: Option<bool>,
    pub(super) chunk_size: usize,
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
pub(super) fn altdata_col<'a>(m: &mut Map<String, Value>, rows: impl Iterator<Item = Option<&'a Value>> + Clone) {
    if rows.clone().any(|a| a.is_some()) {
        let vals: Vec<Value> = rows.map(|a| a.cloned().unwrap_or_else(|| Value::Object(Map::new()))).collect();
        m.insert("altdata".to_string(), Value::Array(vals));
    }
}

/// Checks a row's altdata is a JSON object (the server calls `.items()` on it).
pub(super) fn check_altdata(i: usize, a: Option<&Value>) -> Result<()> {
    match a {
        None | Some(Value::Object(_)) => Ok(()),
        Some(other) => Err(Error::invalid(
            format!("rows[{i}].altdata"),
            format!("must be a JSON object of key/value pairs, not {other}"),
        )),
    }
}
