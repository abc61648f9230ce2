//! DataFrames (feature `polars`).
//!
//! | function | one row per | columns (dtype) |
//! |---|---|---|
//! | [`detections_dataframe`] | `lc` point | `object_id` (UInt64), `mjd`, `mag`, `magerr` (Float64), `filter` (String), `mag5sig`, `zp`, `exptime`, `ra`, `dec` (Float64), `expname` (String), `dup` (Int64) |
//! | [`nondetections_dataframe`] | `lcnondets` row | `object_id` (UInt64), `mjd` (Float64), `filter` (String), `mag5sig`, `zp`, `exptime` (Float64), `expname` (String) |
//! | [`forced_photometry_dataframe`] | `fp` row | `object_id` (UInt64), `mjd` (Float64), `filter` (String), `mag`, `dm`, `snr`, `zp`, `flux_ujy`, `flux_err_ujy`, `texp` (Float64), `limiting_mag` (Boolean), `expname` (String) |
//! | [`sources_dataframe`] | source | `object_id` (UInt64), `atlas_designation`, `tns_name` (String), `ra`, `dec` (Float64), `sherlock_classification` (String), `vra`, `rb_pix` (Float64), `detection_list_id` (Int64), `n_detections`, `n_nondetections`, `n_forced` (UInt32) |
//! | [`object_list_dataframe`] | `objectlist/` row | `object_id` (UInt64), `atlas_designation`, `other_designation` (String), `ra`, `dec`, `rank`, `vra`, `rb_pix` (Float64), `sherlock_classification`, `observation_status`, `followup_flag_date` (String), `earliest_mjd`, `latest_mjd`, `latest_mag` (Float64), `detection_list_id`, `object_group_id` (Int64) |
//!
//! `flux_ujy`/`flux_err_ujy` are the server's `uJy`/`duJy`, or derived as the server does
//! when those are null. The unified light curve ([`Source::lightcurve`]) becomes a
//! DataFrame with `Lightcurve::to_dataframe` (see `broker_core::frame`).

use broker_core::Result;
use broker_core::frame::polars_error;
use polars::prelude::*;

use crate::models::{ObjectListRow, Source};

fn frame(columns: Vec<Column>) -> Result<DataFrame> {
    let height = columns.first().map(|c| c.len()).unwrap_or(0);
    DataFrame::new(height, columns).map_err(polars_error)
}

fn col<T, P: ?Sized>(name: &str, v: T) -> Column
where
    Series: NamedFrom<T, P>,
{
    Column::new(name.into(), v)
}

/// The detections of `sources`, one row per `lc` point.
pub fn detections_dataframe(sources: &[Source]) -> Result<DataFrame> {
    let rows: Vec<(u64, &crate::models::LcPoint)> =
        sources.iter().flat_map(|s| s.lc.iter().map(move |p| (s.id().get(), p))).collect();
    frame(vec![
        col("object_id", rows.iter().map(|r| r.0).collect::<Vec<u64>>()),
        col("mjd", rows.iter().map(|r| r.1.mjd).collect::<Vec<_>>()),
        col("mag", rows.iter().map(|r| r.1.mag).collect::<Vec<_>>()),
        col("magerr", rows.iter().map(|r| r.1.magerr).collect::<Vec<_>>()),
        col("filter", rows.iter().map(|r| r.1.filter.as_deref()).collect::<Vec<_>>()),
        col("mag5sig", rows.iter().map(|r| r.1.mag5sig).collect::<Vec<_>>()),
        col("zp", rows.iter().map(|r| r.1.zp).collect::<Vec<_>>()),
        col("exptime", rows.iter().map(|r| r.1.exptime).collect::<Vec<_>>()),
        col("ra", rows.iter().map(|r| r.1.ra).collect::<Vec<_>>()),
        col("dec", rows.iter().map(|r| r.1.dec).collect::<Vec<_>>()),
        col("expname", rows.iter().map(|r| r.1.expname.as_deref()).collect::<Vec<_>>()),
        col("dup", rows.iter().map(|r| r.1.dup).collect::<Vec<_>>()),
    ])
}

/// The non-detections of `sources`, one row per `lcnondets` row.
pub fn nondetections_dataframe(sources: &[Source]) -> Result<DataFrame> {
    let rows: Vec<(u64, &crate::models::NonDetection)> =
        sources.iter().flat_map(|s| s.lcnondets.iter().map(move |p| (s.id().get(), p))).collect();
    frame(vec![
        col("object_id", rows.iter().map(|r| r.0).collect::<Vec<u64>>()),
        col("mjd", rows.iter().map(|r| r.1.mjd).collect::<Vec<_>>()),
        col("filter", rows.iter().map(|r| r.1.filter.as_deref()).collect::<Vec<_>>()),
        col("mag5sig", rows.iter().map(|r| r.1.mag5sig).collect::<Vec<_>>()),
        col("zp", rows.iter().map(|r| r.1.zp).collect::<Vec<_>>()),
        col("exptime", rows.iter().map(|r| r.1.exptime).collect::<Vec<_>>()),
        col("expname", rows.iter().map(|r| r.1.expname.as_deref()).collect::<Vec<_>>()),
    ])
}

/// The forced photometry of `sources`, one row per `fp` row.
pub fn forced_photometry_dataframe(sources: &[Source]) -> Result<DataFrame> {
    let rows: Vec<(u64, &crate::models::ForcedPhotometry)> =
        sources.iter().flat_map(|s| s.fp.iter().map(move |p| (s.id().get(), p))).collect();
    frame(vec![
        col("object_id", rows.iter().map(|r| r.0).collect::<Vec<u64>>()),
        col("mjd", rows.iter().map(|r| r.1.mjd_obs).collect::<Vec<_>>()),
        col("filter", rows.iter().map(|r| r.1.filter.as_deref()).collect::<Vec<_>>()),
        col("mag", rows.iter().map(|r| r.1.mag).collect::<Vec<_>>()),
        col("dm", rows.iter().map(|r| r.1.dm).collect::<Vec<_>>()),
        col("snr", rows.iter().map(|r| r.1.snr).collect::<Vec<_>>()),
        col("zp", rows.iter().map(|r| r.1.zp).collect::<Vec<_>>()),
        col("flux_ujy", rows.iter().map(|r| r.1.flux_ujy()).collect::<Vec<_>>()),
        col("flux_err_ujy", rows.iter().map(|r| r.1.flux_err_ujy()).collect::<Vec<_>>()),
        col("texp", rows.iter().map(|r| r.1.texp).collect::<Vec<_>>()),
        col("limiting_mag", rows.iter().map(|r| r.1.limiting_mag).collect::<Vec<_>>()),
        col("expname", rows.iter().map(|r| r.1.expname.as_deref()).collect::<Vec<_>>()),
    ])
}

/// One summary row per source.
pub fn sources_dataframe(sources: &[Source]) -> Result<DataFrame> {
    let o = |f: fn(&Source) -> Option<f64>| sources.iter().map(f).collect::<Vec<_>>();
    frame(vec![
        col("object_id", sources.iter().map(|s| s.id().get()).collect::<Vec<u64>>()),
        col("atlas_designation", sources.iter().map(|s| s.object.atlas_designation.as_deref()).collect::<Vec<_>>()),
        col("tns_name", sources.iter().map(|s| s.tns_name()).collect::<Vec<_>>()),
        col("ra", o(|s| s.object.ra)),
        col("dec", o(|s| s.object.dec)),
        col(
            "sherlock_classification",
            sources.iter().map(|s| s.object.sherlock_classification.as_deref()).collect::<Vec<_>>(),
        ),
        col("vra", o(|s| s.object.vra)),
        col("rb_pix", o(|s| s.object.rb_pix)),
        col("detection_list_id", sources.iter().map(|s| s.object.detection_list_id).collect::<Vec<_>>()),
        col("n_detections", sources.iter().map(|s| s.lc.len() as u32).collect::<Vec<u32>>()),
        col("n_nondetections", sources.iter().map(|s| s.lcnondets.len() as u32).collect::<Vec<u32>>()),
        col("n_forced", sources.iter().map(|s| s.fp.len() as u32).collect::<Vec<u32>>()),
    ])
}

/// One row per `objectlist/` row.
pub fn object_list_dataframe(rows: &[ObjectListRow]) -> Result<DataFrame> {
    let f = |g: fn(&ObjectListRow) -> Option<f64>| rows.iter().map(g).collect::<Vec<_>>();
    let s = |g: fn(&ObjectListRow) -> Option<&str>| rows.iter().map(g).collect::<Vec<_>>();
    frame(vec![
        col("object_id", rows.iter().map(|r| r.id.get()).collect::<Vec<u64>>()),
        col("atlas_designation", s(|r| r.atlas_designation.as_deref())),
        col("other_designation", s(|r| r.other_designation.as_deref())),
        col("ra", f(|r| r.ra)),
        col("dec", f(|r| r.dec)),
        col("rank", f(|r| r.rank)),
        col("vra", f(|r| r.vra)),
        col("rb_pix", f(|r| r.rb_pix)),
        col("sherlock_classification", s(|r| r.sherlock_classification.as_deref())),
        col("observation_status", s(|r| r.observation_status.as_deref())),
        col("followup_flag_date", s(|r| r.followup_flag_date.as_ref().map(|t| t.as_str()))),
        col("earliest_mjd", f(|r| r.earliest_mjd)),
        col("latest_mjd", f(|r| r.latest_mjd)),
        col("latest_mag", f(|r| r.latest_mag)),
        col("detection_list_id", rows.iter().map(|r| r.detection_list_id).collect::<Vec<_>>()),
        col("object_group_id", rows.iter().map(|r| r.object_group_id).collect::<Vec<_>>()),
    ])
}

impl Source {
    /// This source's detections as a DataFrame (see [`detections_dataframe`]).
    pub fn detections_dataframe(&self) -> Result<DataFrame> {
        detections_dataframe(std::slice::from_ref(self))
    }
    /// This source's non-detections as a DataFrame.
    pub fn nondetections_dataframe(&self) -> Result<DataFrame> {
        nondetections_dataframe(std::slice::from_ref(self))
    }
    /// This source's forced photometry as a DataFrame.
    pub fn forced_photometry_dataframe(&self) -> Result<DataFrame> {
        forced_photometry_dataframe(std::slice::from_ref(self))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::models::RawSource;

    fn source() -> Source {
        let raw: RawSource = serde_json::from_value(serde_json::json!({
            "object": {"id": 1000005291314656200u64, "atlas_designation": "ATLAS20bbfr", "ra": 0.02, "dec": 31.7, "vra": 0.5},
            "lc": [{"id": 1000005291314656200u64, "mjd": 58113.2, "mag": 18.2, "magerr": 0.1, "filter": "o", "dup": -1}],
            "lcnondets": [{"id": 1, "mjd": 58019.4, "filter": "c", "mag5sig": 19.6}],
            "fp": [{"mjd_obs": 59077.5, "filter": "o", "uJy": 12.3, "duJy": 17.6, "limiting_mag": true}],
            "sherlock_crossmatches": null, "sherlock_classifications": null,
            "tns_crossmatches": [{"external_designation": "2020tjh"}], "external_crossmatches": null
        }))
        .unwrap();
        raw.into_source().unwrap()
    }

    #[test]
    fn tables_have_documented_columns_and_dtypes() {
        let s = source();
        let d = s.detections_dataframe().unwrap();
        assert_eq!(d.height(), 1);
        assert_eq!(d.column("object_id").unwrap().dtype(), &DataType::UInt64);
        assert_eq!(d.column("object_id").unwrap().u64().unwrap().get(0), Some(1000005291314656200));
        assert_eq!(d.column("dup").unwrap().i64().unwrap().get(0), Some(-1));
        let n = s.nondetections_dataframe().unwrap();
        assert_eq!(n.column("mag5sig").unwrap().f64().unwrap().get(0), Some(19.6));
        let f = s.forced_photometry_dataframe().unwrap();
        assert_eq!(f.column("flux_ujy").unwrap().f64().unwrap().get(0), Some(12.3));
        assert_eq!(f.column("limiting_mag").unwrap().dtype(), &DataType::Boolean);
        let all = sources_dataframe(&[s.clone(), s.clone()]).unwrap();
        assert_eq!(all.height(), 2);
        assert_eq!(all.column("tns_name").unwrap().str().unwrap().get(0), Some("2020tjh"));
        assert_eq!(all.column("n_detections").unwrap().u32().unwrap().get(1), Some(1));
        let lc = s.lightcurve().to_dataframe().unwrap();
        assert_eq!(lc.height(), 2);
        assert_eq!(detections_dataframe(&[]).unwrap().height(), 0);
    }
}
