//! DataFrames (feature `polars`).
//!
//! [`ResultColumns::into_dataframe`] is the fast way from a result file to a DataFrame: the
//! parsed columns become the frame's columns (float and integer columns are moved, not copied).
//! [`ResultTable::to_dataframe`] gives the same frame from typed rows. Both keep the file's
//! own columns, names and order
//! (`MJD`, `m`, `dm`, `uJy`, `duJy`, `F`, `err`, `chi/N`, `RA`, `Dec`, `x`, `y`, `maj`,
//! `min`, `phi`, `apfit`, `mag5sig`, \[`PA_DEG`,\] `Sky`, `Obs`, then any other column):
//! `uJy`, `duJy` and `err` are Int64, `F`, `Obs` and unknown columns String, the rest
//! Float64. For the unified light-curve columns use
//! [`ResultTable::to_lightcurve`]`(..).to_dataframe()` (see [`broker_core::frame`]).
//!
//! [`bins_to_dataframe`] has the columns `filter` (String), `mjd_start`, `mjd`, `flux_ujy`,
//! `flux_err_ujy`, `chi2_n` (Float64), `n_used`, `n_clipped`, `n_skipped` (UInt64).

use broker_core::frame::polars_error;
use polars::prelude::*;

use crate::binning::Bin;
use crate::columns::{ColumnData, ResultColumns};
use crate::error::Result;
use crate::result::{Measurement, ResultTable};

impl ResultColumns {
    /// The columns as a DataFrame (see the [module docs](self)), without copying the numbers.
    ///
    /// ```
    /// use fallingstar_forcedphot::columns::ResultColumns;
    /// let text = "###MJD m dm uJy duJy F\n59101.519211 -21.740 1.398 -7 10 o\n";
    /// let df = ResultColumns::parse(text)?.into_dataframe()?;
    /// assert_eq!(df.shape(), (1, 6));
    /// assert_eq!(df.column("uJy")?.i64()?.get(0), Some(-7));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_dataframe(self) -> Result<DataFrame> {
        let rows = self.len();
        let column = |(name, data): (String, ColumnData)| match data {
            ColumnData::Float(v) => Float64Chunked::from_vec(name.into(), v).into_column(),
            ColumnData::Int(v) => Int64Chunked::from_vec(name.into(), v).into_column(),
            ColumnData::Text(t) => StringChunked::from_iter_values(name.into(), t.iter()).into_column(),
        };
        let columns: Vec<(String, ColumnData)> = self.into_columns().collect();
        let texts = columns.iter().filter(|(_, d)| matches!(d, ColumnData::Text(_))).count();
        let cols = if rows < crate::columns::PARALLEL_MIN_ROWS || texts < 2 {
            columns.into_iter().map(column).collect()
        } else {
            // The text columns are the only ones copied: each on its own thread.
            std::thread::scope(|s| {
                let handles: Vec<_> = columns
                    .into_iter()
                    .map(|c| match c.1 {
                        ColumnData::Text(_) => Err(s.spawn(move || column(c))),
                        _ => Ok(column(c)),
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.or_else(|h| h.join().map_err(|_| PolarsError::ComputeError("a column thread failed".into())))
                    })
                    .collect::<PolarsResult<Vec<Column>>>()
            })
            .map_err(polars_error)?
        };
        DataFrame::new(rows, cols).map_err(|e| polars_error(e).into())
    }
}

fn f64_col(name: &str, rows: &[Measurement], f: impl Fn(&Measurement) -> Option<f64>) -> Column {
    Column::new(name.into(), rows.iter().map(f).collect::<Vec<Option<f64>>>())
}

impl ResultTable {
    /// The table as a DataFrame with the file's columns (see the [module docs](self)).
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let r = &self.rows;
        let mut cols = Vec::with_capacity(self.columns.len());
        for name in &self.columns {
            let c = match name.as_str() {
                "MJD" => Column::new(name.into(), r.iter().map(|x| x.mjd).collect::<Vec<f64>>()),
                "m" => Column::new(name.into(), r.iter().map(|x| x.m).collect::<Vec<f64>>()),
                "dm" => Column::new(name.into(), r.iter().map(|x| x.dm).collect::<Vec<f64>>()),
                "uJy" => Column::new(name.into(), r.iter().map(|x| x.ujy).collect::<Vec<i64>>()),
                "duJy" => Column::new(name.into(), r.iter().map(|x| x.dujy).collect::<Vec<i64>>()),
                "F" => Column::new(name.into(), r.iter().map(|x| x.filter.as_str()).collect::<Vec<&str>>()),
                "err" => Column::new(name.into(), r.iter().map(|x| x.err).collect::<Vec<Option<i64>>>()),
                "chi/N" => f64_col(name, r, |x| x.chi_n),
                "RA" => f64_col(name, r, |x| x.ra),
                "Dec" => f64_col(name, r, |x| x.dec),
                "x" => f64_col(name, r, |x| x.x),
                "y" => f64_col(name, r, |x| x.y),
                "maj" => f64_col(name, r, |x| x.maj),
                "min" => f64_col(name, r, |x| x.min),
                "phi" => f64_col(name, r, |x| x.phi),
                "apfit" => f64_col(name, r, |x| x.apfit),
                "mag5sig" => f64_col(name, r, |x| x.mag5sig),
                "PA_DEG" => f64_col(name, r, |x| x.pa_deg),
                "Sky" => f64_col(name, r, |x| x.sky),
                "Obs" => Column::new(name.into(), r.iter().map(|x| x.obs.as_deref()).collect::<Vec<Option<&str>>>()),
                other => Column::new(
                    name.into(),
                    r.iter().map(|x| x.extra.get(other).map(String::as_str)).collect::<Vec<Option<&str>>>(),
                ),
            };
            cols.push(c);
        }
        DataFrame::new(r.len(), cols).map_err(|e| polars_error(e).into())
    }
}

/// Bins as a DataFrame (see the [module docs](self)).
pub fn bins_to_dataframe(bins: &[Bin]) -> Result<DataFrame> {
    let f = |g: fn(&Bin) -> f64| bins.iter().map(g).collect::<Vec<f64>>();
    let u = |g: fn(&Bin) -> usize| bins.iter().map(|b| g(b) as u64).collect::<Vec<u64>>();
    let cols = vec![
        Column::new("filter".into(), bins.iter().map(|b| b.filter.as_str()).collect::<Vec<&str>>()),
        Column::new("mjd_start".into(), f(|b| b.mjd_start)),
        Column::new("mjd".into(), f(|b| b.mjd)),
        Column::new("flux_ujy".into(), f(|b| b.flux_ujy)),
        Column::new("flux_err_ujy".into(), f(|b| b.flux_err_ujy)),
        Column::new("chi2_n".into(), f(|b| b.chi2_n)),
        Column::new("n_used".into(), u(|b| b.n_used)),
        Column::new("n_clipped".into(), u(|b| b.n_clipped)),
        Column::new("n_skipped".into(), u(|b| b.n_skipped)),
    ];
    DataFrame::new(bins.len(), cols).map_err(|e| polars_error(e).into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::binning::{BinOptions, bin};

    #[test]
    fn file_columns_and_dtypes() {
        let text = "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig PA_DEG Sky Obs Extra\n\
59226.235875 16.177 0.012 1228 15 c 0 54.64 342.4596 51.2634 7768.79 7767.00 2.53 2.39 -63.4 -0.375 19.58 0.1 21.54 01a59226o0051c q\n";
        let t = ResultTable::parse(text).unwrap();
        let df = t.to_dataframe().unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, t.columns.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(df.column("uJy").unwrap().dtype(), &DataType::Int64);
        assert_eq!(df.column("MJD").unwrap().dtype(), &DataType::Float64);
        assert_eq!(df.column("F").unwrap().str().unwrap().get(0), Some("c"));
        assert_eq!(df.column("Extra").unwrap().str().unwrap().get(0), Some("q"));
        assert_eq!(df.column("PA_DEG").unwrap().f64().unwrap().get(0), Some(0.1));
        let fast = ResultColumns::parse(text).unwrap().into_dataframe().unwrap();
        assert!(fast.equals_missing(&df), "the columnar path gives the same frame:\n{fast}\n{df}");
        let b = bins_to_dataframe(&bin(&t.rows, &BinOptions::nightly())).unwrap();
        assert_eq!(b.height(), 1);
        assert_eq!(b.column("n_used").unwrap().dtype(), &DataType::UInt64);
    }
}
