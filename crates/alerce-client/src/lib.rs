//! WIP
pub mod client;
mod de;
pub mod error;
pub mod lsst;
pub mod stream;
pub mod ztf;

pub use client::{AlerceClient, AlerceClientBuilder};
pub use error::{Error, Result};
pub use stream::AlerceStream;
