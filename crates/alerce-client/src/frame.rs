//! DataFrames (feature `polars`). Column names are the ALeRCE docs' names (the JSON
//! field names), one row per record; nullable columns hold nulls where the server sent
//! none. Light curves go through the core: [`broker_core::Lightcurve::to_dataframe`].
//!
//! | function | columns (dtype) |
//! |---|---|
//! | [`ztf_objects`] | `oid` (str), `ndethist` (str), `ncovhist` (i64), `mjdstarthist` `mjdendhist` (f64), `corrected` `stellar` (bool), `ndet` (i64), `g_r_max` `g_r_max_corr` `g_r_mean` `g_r_mean_corr` `firstmjd` `lastmjd` `deltajd` `meanra` `meandec` `sigmara` `sigmadec` (f64), `class` `classifier` (str), `probability` (f64), `step_id_corr` (str) |
//! | [`ztf_detections`] | `mjd` (f64), `candid` (str), `fid` `pid` (i64), `diffmaglim` (f64), `isdiffpos` `nid` (i64), `ra` `dec` `magpsf` `sigmapsf` `magap` `sigmagap` `distnr` `rb` (f64), `rbversion` (str), `drb` `magapbig` `sigmagapbig` (f64), `rfid` (i64), `magpsf_corr` `sigmapsf_corr` `sigmapsf_corr_ext` (f64), `corrected` `dubious` (bool), `parent_candid` (i64), `has_stamp` (bool), `step_id_corr` (str) |
//! | [`ztf_non_detections`] | `mjd` (f64), `fid` (i64), `diffmaglim` (f64) |
//! | [`ztf_probabilities`] | `classifier_name` `classifier_version` `class_name` (str), `probability` (f64), `ranking` (i64) |
//! | [`ztf_magstats`] | `fid` (i64), `stellar` `corrected` (bool), `ndet` `ndubious` (i64), `magmean` `magmedian` `magmax` `magmin` `magsigma` `maglast` `magfirst` `firstmjd` `lastmjd` (f64), `step_id_corr` (str) |
//! | [`lsst_objects`] | `oid` (i64; text when ZTF names are among the ids), `meanra` `meandec` `firstmjd` `lastmjd` `deltamjd` (f64), `n_det` `n_forced` `n_non_det` (i64), `class_name` `classifier_name` (str), `probability` (f64), `ranking` (i64) |
//! | [`lsst_detections`] | `oid` (i64; text with ZTF names) `measurement_id` (i64), `mjd` `ra` `dec` (f64), `band` (i64), `band_name` (str), `psfFlux` `psfFluxErr` `scienceFlux` `scienceFluxErr` (f64, nJy), `has_stamp` (bool) |
//! | [`catalog_table`] | the catalog's columns: f64 when every value is numeric or null, else str |

use broker_core::frame::polars_error;
use polars::prelude::*;

use crate::catshtm::{CatalogTable, CatsValue};
use crate::error::Result;
use crate::lsst::{LsstDetection, LsstObject};
use crate::ztf::{ZtfDetection, ZtfMagstats, ZtfNonDetection, ZtfObject, ZtfProbability};

fn f<T>(name: &str, rows: &[T], get: impl Fn(&T) -> Option<f64>) -> Column {
    Column::new(name.into(), rows.iter().map(get).collect::<Vec<Option<f64>>>())
}
fn i<T>(name: &str, rows: &[T], get: impl Fn(&T) -> Option<i64>) -> Column {
    Column::new(name.into(), rows.iter().map(get).collect::<Vec<Option<i64>>>())
}
fn b<T>(name: &str, rows: &[T], get: impl Fn(&T) -> Option<bool>) -> Column {
    Column::new(name.into(), rows.iter().map(get).collect::<Vec<Option<bool>>>())
}
fn s<T>(name: &str, rows: &[T], get: impl Fn(&T) -> Option<String>) -> Column {
    Column::new(name.into(), rows.iter().map(get).collect::<Vec<Option<String>>>())
}

/// `oid`: i64 when every id is an LSST id, else text (ZTF names, and LSST ids as digits).
fn oid_column<T>(rows: &[T], get: impl Fn(&T) -> &crate::lsst::MultisurveyOid) -> Column {
    if rows.iter().all(|r| get(r).lsst_id().is_some()) {
        i("oid", rows, |r| get(r).lsst_id())
    } else {
        s("oid", rows, |r| Some(get(r).to_string()))
    }
}

fn frame(height: usize, cols: Vec<Column>) -> Result<DataFrame> {
    Ok(DataFrame::new(height, cols).map_err(polars_error)?)
}

/// ZTF objects (see the module table).
pub fn ztf_objects(rows: &[ZtfObject]) -> Result<DataFrame> {
    frame(
        rows.len(),
        vec![
            s("oid", rows, |r| Some(r.oid.clone())),
            s("ndethist", rows, |r| r.ndethist.clone()),
            i("ncovhist", rows, |r| r.ncovhist),
            f("mjdstarthist", rows, |r| r.mjdstarthist),
            f("mjdendhist", rows, |r| r.mjdendhist),
            b("corrected", rows, |r| r.corrected),
            b("stellar", rows, |r| r.stellar),
            i("ndet", rows, |r| r.ndet),
            f("g_r_max", rows, |r| r.g_r_max),
            f("g_r_max_corr", rows, |r| r.g_r_max_corr),
            f("g_r_mean", rows, |r| r.g_r_mean),
            f("g_r_mean_corr", rows, |r| r.g_r_mean_corr),
            f("firstmjd", rows, |r| r.firstmjd),
            f("lastmjd", rows, |r| r.lastmjd),
            f("deltajd", rows, |r| r.deltajd),
            f("meanra", rows, |r| r.meanra),
            f("meandec", rows, |r| r.meandec),
            f("sigmara", rows, |r| r.sigmara),
            f("sigmadec", rows, |r| r.sigmadec),
            s("class", rows, |r| r.class_name.clone()),
            s("classifier", rows, |r| r.classifier.clone()),
            f("probability", rows, |r| r.probability),
            s("step_id_corr", rows, |r| r.step_id_corr.clone()),
        ],
    )
}

/// ZTF detections (see the module table).
pub fn ztf_detections(rows: &[ZtfDetection]) -> Result<DataFrame> {
    frame(
        rows.len(),
        vec![
            f("mjd", rows, |r| r.mjd),
            s("candid", rows, |r| r.candid.clone()),
            i("fid", rows, |r| r.fid),
            i("pid", rows, |r| r.pid),
            f("diffmaglim", rows, |r| r.diffmaglim),
            i("isdiffpos", rows, |r| r.isdiffpos),
            i("nid", rows, |r| r.nid),
            f("ra", rows, |r| r.ra),
            f("dec", rows, |r| r.dec),
            f("magpsf", rows, |r| r.magpsf),
            f("sigmapsf", rows, |r| r.sigmapsf),
            f("magap", rows, |r| r.magap),
            f("sigmagap", rows, |r| r.sigmagap),
            f("distnr", rows, |r| r.distnr),
            f("rb", rows, |r| r.rb),
            s("rbversion", rows, |r| r.rbversion.clone()),
            f("drb", rows, |r| r.drb),
            f("magapbig", rows, |r| r.magapbig),
            f("sigmagapbig", rows, |r| r.sigmagapbig),
            i("rfid", rows, |r| r.rfid),
            f("magpsf_corr", rows, |r| r.magpsf_corr),
            f("sigmapsf_corr", rows, |r| r.sigmapsf_corr),
            f("sigmapsf_corr_ext", rows, |r| r.sigmapsf_corr_ext),
            b("corrected", rows, |r| r.corrected),
            b("dubious", rows, |r| r.dubious),
            i("parent_candid", rows, |r| r.parent_candid),
            b("has_stamp", rows, |r| r.has_stamp),
            s("step_id_corr", rows, |r| r.step_id_corr.clone()),
        ],
    )
}

/// ZTF non-detections (see the module table).
pub fn ztf_non_detections(rows: &[ZtfNonDetection]) -> Result<DataFrame> {
    frame(
        rows.len(),
        vec![f("mjd", rows, |r| r.mjd), i("fid", rows, |r| r.fid), f("diffmaglim", rows, |r| r.diffmaglim)],
    )
}

/// ZTF probabilities (see the module table).
pub fn ztf_probabilities(rows: &[ZtfProbability]) -> Result<DataFrame> {
    frame(
        rows.len(),
        vec![
            s("classifier_name", rows, |r| r.classifier_name.clone()),
            s("classifier_version", rows, |r| r.classifier_version.clone()),
            s("class_name", rows, |r| r.class_name.clone()),
            f("probability", rows, |r| r.probability),
            i("ranking", rows, |r| r.ranking),
        ],
    )
}

/// ZTF magstats (see the module table).
pub fn ztf_magstats(rows: &[ZtfMagstats]) -> Result<DataFrame> {
    frame(
        rows.len(),
        vec![
            i("fid", rows, |r| r.fid),
            b("stellar", rows, |r| r.stellar),
            b("corrected", rows, |r| r.corrected),
            i("ndet", rows, |r| r.ndet),
            i("ndubious", rows, |r| r.ndubious),
            f("magmean", rows, |r| r.magmean),
            f("magmedian", rows, |r| r.magmedian),
            f("magmax", rows, |r| r.magmax),
            f("magmin", rows, |r| r.magmin),
            f("magsigma", rows, |r| r.magsigma),
            f("maglast", rows, |r| r.maglast),
            f("magfirst", rows, |r| r.magfirst),
            f("firstmjd", rows, |r| r.firstmjd),
            f("lastmjd", rows, |r| r.lastmjd),
            s("step_id_corr", rows, |r| r.step_id_corr.clone()),
        ],
    )
}

/// Multisurvey objects (see the module table).
pub fn lsst_objects(rows: &[LsstObject]) -> Result<DataFrame> {
    frame(
        rows.len(),
        vec![
            oid_column(rows, |r| &r.oid),
            f("meanra", rows, |r| r.meanra),
            f("meandec", rows, |r| r.meandec),
            f("firstmjd", rows, |r| r.firstmjd),
            f("lastmjd", rows, |r| r.lastmjd),
            f("deltamjd", rows, |r| r.deltamjd),
            i("n_det", rows, |r| r.n_det),
            i("n_forced", rows, |r| r.n_forced),
            i("n_non_det", rows, |r| r.n_non_det),
            s("class_name", rows, |r| r.class_name.clone()),
            s("classifier_name", rows, |r| r.classifier_name.clone()),
            f("probability", rows, |r| r.probability),
            i("ranking", rows, |r| r.ranking),
        ],
    )
}

/// Multisurvey detections (see the module table; fluxes stay in nJy).
pub fn lsst_detections(rows: &[LsstDetection]) -> Result<DataFrame> {
    frame(
        rows.len(),
        vec![
            oid_column(rows, |r| &r.oid),
            i("measurement_id", rows, |r| r.measurement_id),
            f("mjd", rows, |r| r.mjd),
            f("ra", rows, |r| r.ra),
            f("dec", rows, |r| r.dec),
            i("band", rows, |r| r.band),
            s("band_name", rows, |r| r.band_name.clone()),
            f("psfFlux", rows, |r| r.psfFlux),
            f("psfFluxErr", rows, |r| r.psfFluxErr),
            f("scienceFlux", rows, |r| r.scienceFlux),
            f("scienceFluxErr", rows, |r| r.scienceFluxErr),
            b("has_stamp", rows, |r| r.has_stamp),
        ],
    )
}

/// A catsHTM table: one column per catalog column (f64 when every value is a number or
/// null, otherwise text), padded with nulls to the longest column.
pub fn catalog_table(t: &CatalogTable) -> Result<DataFrame> {
    let n = t.len();
    let cols = t
        .columns
        .iter()
        .map(|c| {
            let numeric = c.values.iter().all(|v| matches!(v, CatsValue::Null | CatsValue::Number(_)));
            let cell = |k: usize| c.values.get(k).unwrap_or(&CatsValue::Null);
            if numeric {
                Column::new(c.name.as_str().into(), (0..n).map(|k| cell(k).as_f64()).collect::<Vec<Option<f64>>>())
            } else {
                let text = |v: &CatsValue| match v {
                    CatsValue::Null => None,
                    CatsValue::Number(x) => Some(x.to_string()),
                    CatsValue::Bool(x) => Some(x.to_string()),
                    CatsValue::Text(x) => Some(x.clone()),
                };
                Column::new(c.name.as_str().into(), (0..n).map(|k| text(cell(k))).collect::<Vec<Option<String>>>())
            }
        })
        .collect();
    frame(n, cols)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_and_detections_have_the_docs_columns() {
        let objs: Vec<ZtfObject> = serde_json::from_value(json!([
            {"oid": "ZTF1", "ndethist": "12", "ndet": 10, "class": "SNIa", "probability": 0.61},
            {"oid": "ZTF2"}
        ]))
        .unwrap();
        let df = ztf_objects(&objs).unwrap();
        assert_eq!(df.shape(), (2, 23));
        assert_eq!(df.column("class").unwrap().str().unwrap().get(0), Some("SNIa"));
        assert_eq!(df.column("ndet").unwrap().dtype(), &DataType::Int64);
        assert_eq!(df.column("probability").unwrap().null_count(), 1);

        let dets: Vec<ZtfDetection> =
            serde_json::from_value(json!([{"mjd": 1.0, "candid": "1936275461615015015", "fid": 1, "magpsf": 19.0}]))
                .unwrap();
        let df = ztf_detections(&dets).unwrap();
        assert_eq!(df.column("candid").unwrap().str().unwrap().get(0), Some("1936275461615015015"));
        assert_eq!(df.column("magpsf").unwrap().f64().unwrap().get(0), Some(19.0));

        let lsst: Vec<LsstDetection> =
            serde_json::from_value(json!([{"oid": 313765480543813793_i64, "measurement_id": 1, "psfFlux": 10.0}]))
                .unwrap();
        let df = lsst_detections(&lsst).unwrap();
        assert_eq!(df.column("oid").unwrap().i64().unwrap().get(0), Some(313765480543813793));
    }

    #[test]
    fn catalog_tables_mix_numbers_and_text() {
        let t = &crate::catshtm::parse_tables(
            &json!([{"attribute_name": "RA", "unit": "deg", "values": [1.0, "infinity"]},
                    {"attribute_name": "name", "unit": null, "values": ["a", null]}]),
            "X",
        )
        .unwrap()[0];
        let df = catalog_table(t).unwrap();
        assert_eq!(df.column("RA").unwrap().dtype(), &DataType::Float64);
        assert_eq!(df.column("RA").unwrap().f64().unwrap().get(1), Some(f64::INFINITY));
        assert_eq!(df.column("name").unwrap().str().unwrap().get(1), None);
    }
}
