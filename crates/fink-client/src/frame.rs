//! DataFrames (feature `polars`): `output-format=parquet` replies read straight into polars,
//! and the unified light curve via [`broker_core::frame`].
//!
//! A parquet reply keeps the server's column names (`i:magpsf`, `r:psfFlux`, ...) and the
//! pandas dtypes, 64-bit ids included (`Int64`, never a float).

/// The polars crates this module uses (to build or write frames without another dependency).
pub use {polars, polars_io};

use broker_core::frame::polars_error;
use broker_core::{Error, Lightcurve, Result};
use polars::prelude::DataFrame;
use polars_io::SerReader;
use polars_io::parquet::read::ParquetReader;

/// Reads a parquet body into a DataFrame.
pub fn read_parquet(body: &[u8]) -> Result<DataFrame> {
    if !body.starts_with(b"PAR1") {
        let excerpt: String = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        return Err(Error::Decode {
            path: ".".into(),
            message: "the reply is not a parquet file".into(),
            excerpt,
            url: String::new(),
        });
    }
    ParquetReader::new(std::io::Cursor::new(body.to_vec())).finish().map_err(polars_error)
}

/// A unified light curve as a DataFrame (the columns of [`broker_core::frame`]).
pub fn lightcurve_to_dataframe(lc: &Lightcurve) -> Result<DataFrame> {
    broker_core::frame::lightcurve_to_dataframe(lc)
}
