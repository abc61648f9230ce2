//! DataFrames (feature `polars`).
//!
//! [`lightcurve_to_dataframe`] gives one row per point with these columns:
//!
//! | column | dtype | meaning |
//! |---|---|---|
//! | `broker` | String | which broker served the point |
//! | `survey` | String | which survey took it |
//! | `object_id` | String | the object's id at that broker |
//! | `mjd` | Float64 | Modified Julian Date |
//! | `band` | String | sncosmo-style band name (`ztfg`, `atlaso`, ...) |
//! | `mag` | Float64 (nullable) | AB magnitude |
//! | `mag_err` | Float64 (nullable) | magnitude error |
//! | `flux_ujy` | Float64 (nullable) | flux in µJy |
//! | `flux_err_ujy` | Float64 (nullable) | flux error in µJy |
//! | `limiting_mag` | Float64 (nullable) | limiting AB magnitude |
//! | `is_detection` | Boolean | detection (true) or limit (false) |
//! | `origin` | String | `alert`, `forced` or `reported` ([`crate::astro::Origin`]) |
//! | `measurement` | String | `difference` (difference image) or `apparent` (total) ([`crate::astro::Measurement`]) |
//! | `duplicate_of` | String (nullable) | for a duplicate of the same exposure, the kept point as `broker/origin/object_id` ([`crate::astro::dedup`]); null otherwise |

use polars::prelude::*;

use crate::astro::Lightcurve;
use crate::error::{Error, Result};

/// The column names of [`lightcurve_to_dataframe`], in order.
pub use crate::astro::LIGHTCURVE_COLUMNS;

/// Turns a polars error into the core error.
pub fn polars_error(e: PolarsError) -> Error {
    Error::Config(format!("could not build the DataFrame: {e}"))
}

/// A light curve as a DataFrame (see the module docs for the columns).
pub fn lightcurve_to_dataframe(lc: &Lightcurve) -> Result<DataFrame> {
    let p = &lc.points;
    let s = |f: fn(&crate::astro::PhotometryPoint) -> &str| -> Vec<&str> { p.iter().map(f).collect() };
    let o = |f: fn(&crate::astro::PhotometryPoint) -> Option<f64>| -> Vec<Option<f64>> { p.iter().map(f).collect() };
    let columns = vec![
        Column::new("broker".into(), s(|x| x.broker.as_str())),
        Column::new("survey".into(), s(|x| x.survey.as_str())),
        Column::new("object_id".into(), s(|x| x.object_id.as_str())),
        Column::new("mjd".into(), p.iter().map(|x| x.mjd).collect::<Vec<f64>>()),
        Column::new("band".into(), s(|x| x.band.name())),
        Column::new("mag".into(), o(|x| x.mag)),
        Column::new("mag_err".into(), o(|x| x.mag_err)),
        Column::new("flux_ujy".into(), o(|x| x.flux_ujy)),
        Column::new("flux_err_ujy".into(), o(|x| x.flux_err_ujy)),
        Column::new("limiting_mag".into(), o(|x| x.limiting_mag)),
        Column::new("is_detection".into(), p.iter().map(|x| x.is_detection()).collect::<Vec<bool>>()),
        Column::new("origin".into(), s(|x| x.origin.as_str())),
        Column::new("measurement".into(), s(|x| x.measurement.as_str())),
        Column::new("duplicate_of".into(), p.iter().map(|x| x.duplicate_of.as_deref()).collect::<Vec<Option<&str>>>()),
    ];
    DataFrame::new(p.len(), columns).map_err(polars_error)
}

impl Lightcurve {
    /// This light curve as a DataFrame (see [`lightcurve_to_dataframe`]).
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        lightcurve_to_dataframe(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::astro::{Band, PhotometryPoint};

    #[test]
    fn columns_and_dtypes() {
        let lc = Lightcurve::from_points(vec![
            PhotometryPoint::from_mag("alerce", "ztf", "ZTF1", 1.0, Band::ZtfG, 18.0, Some(0.1)),
            PhotometryPoint::limit("atlas", "atlas", "11", 2.0, Band::AtlasO, 19.5),
        ]);
        let df = lc.to_dataframe().unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, LIGHTCURVE_COLUMNS);
        assert_eq!(df.height(), 2);
        assert_eq!(df.column("mjd").unwrap().dtype(), &DataType::Float64);
        assert_eq!(df.column("is_detection").unwrap().dtype(), &DataType::Boolean);
        assert_eq!(df.column("mag").unwrap().null_count(), 1);
        assert_eq!(df.column("band").unwrap().str().unwrap().get(1), Some("atlaso"));
        assert_eq!(df.column("origin").unwrap().str().unwrap().get(0), Some("alert"));
        assert_eq!(df.column("measurement").unwrap().str().unwrap().get(0), Some("difference"));
        assert_eq!(df.column("duplicate_of").unwrap().dtype(), &DataType::String);
        assert_eq!(df.column("duplicate_of").unwrap().null_count(), 2);
    }
}
