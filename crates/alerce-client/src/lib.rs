//! WIP
#[cfg(feature = "avro")]
pub mod avro;
pub mod catshtm;
pub mod client;
mod de;
pub mod error;
pub mod fits;
#[cfg(feature = "polars")]
pub mod frame;
pub mod lsst;
pub mod stamps;
pub mod stream;
pub mod ztf;

pub use client::{AlerceClient, AlerceClientBuilder};
pub use error::{Error, Result};
pub use stream::AlerceStream;
