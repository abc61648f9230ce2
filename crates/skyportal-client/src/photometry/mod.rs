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

use broker_core::{Error, Lightcurve, Request, Result, RetrySafety};
use serde_json::Value;

use crate::client::Client;
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

mod record;
mod upload;

pub use record::*;
pub use upload::*;

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
    use broker_core::{Band, Origin};
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
