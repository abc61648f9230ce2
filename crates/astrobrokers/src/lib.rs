//! # astrobrokers
//!
//! The services astronomers use to discover and follow transients, in one crate:
//!
//! | feature | module | service |
//! |---|---|---|
//! | `atlas` | [`atlas`] | ATLAS Transient Server |
//! | `alerce` | [`alerce`] | ALeRCE (ZTF, LSST, stamps, catsHTM) |
//! | `skyportal` | [`skyportal`] | SkyPortal / Fritz |
//! | `forcedphot` | [`forcedphot`] | ATLAS forced photometry |
//! | `fink` | [`fink`] | Fink (ZTF and Rubin/LSST) |
//! | `lasair` | `lasair` | Lasair (ZTF and LSST servers) |
//! | `tns` | [`tns`] | Transient Name Server (names, reports, the public-objects list) |
//! | `polars` | | DataFrames everywhere |
//! | `harvest` | [`harvest`] | many targets' light curves into a resumable Parquet dataset |
//! | `full` | | all of the above |
//!
//! The default features are the six services (TNS included: [`resolve`] uses it for names). A crate that needs one service only
//! depends on it alone: `astrobrokers = { version = "0.1", default-features = false,
//! features = ["alerce"] }` compiles none of the others.
//!
//! [`core`] is the shared layer (errors, sky positions, light curves); [`cross`] merges
//! light curves from several services and fans cone searches out; [`resolve`] turns a name,
//! an id or a position into every broker's id for the object.
//!
//! ```
//! use astrobrokers::core::{Band, Lightcurve, PhotometryPoint, SkyPosition};
//! use astrobrokers::core::astro::binning::{bin_lightcurve, BinOptions};
//!
//! let pos = SkyPosition::parse("16:16:00.22 +22:16:04.8").unwrap();
//! assert!((pos.dec() - 22.268).abs() < 1e-3);
//! // Two forced-photometry points on one night become one binned point.
//! let lc = Lightcurve::from_points(vec![
//!     PhotometryPoint::from_flux("forcedphot", "atlas", "t", 60000.1, Band::AtlasO, 100.0, 10.0, 3.0, 3.0),
//!     PhotometryPoint::from_flux("forcedphot", "atlas", "t", 60000.2, Band::AtlasO, 100.0, 10.0, 3.0, 3.0),
//! ]);
//! let nightly = bin_lightcurve(&lc, &BinOptions::nightly(), 3.0, 3.0);
//! assert_eq!(nightly.len(), 1);
//! assert!((nightly.points[0].mag.unwrap() - 18.9).abs() < 1e-9);
//! ```

pub use broker_core as core;

#[cfg(feature = "alerce")]
pub use alerce_client as alerce;
#[cfg(feature = "atlas")]
pub use atlas_client as atlas;
#[cfg(feature = "forcedphot")]
pub use fallingstar_forcedphot as forcedphot;
#[cfg(feature = "fink")]
pub use fink_client as fink;
#[cfg(feature = "lasair")]
pub use lasair_client as lasair;
#[cfg(feature = "skyportal")]
pub use skyportal_client as skyportal;
#[cfg(feature = "tns")]
pub use tns_client as tns;

#[cfg(feature = "polars")]
pub use polars;

pub mod cross;
#[cfg(feature = "harvest")]
pub mod harvest;
pub mod resolve;
pub mod sources;
