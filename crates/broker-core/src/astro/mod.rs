//! Shared astronomy types: sky positions, time, bands, flux and magnitude, light curves,
//! surveys.

mod band;
pub mod binning;
pub mod dedup;
mod lightcurve;
mod photometry;
mod position;
mod survey;
mod time;

pub use band::Band;
pub use lightcurve::{LIGHTCURVE_COLUMNS, Lightcurve, Measurement, Origin, PhotometryPoint, PointKind};
pub use photometry::{
    AB_ZERO_POINT_UJY, flux_err_to_mag_err, mag_err_to_flux_err, mag_to_ujy, njy_to_ujy, ujy_to_mag, upper_limit_mag,
};
pub use position::{SkyPosition, angular_separation_deg, validate_radius_arcsec};
pub use survey::Survey;
pub use time::{MJD_UNIX_EPOCH, Mjd};
