//! # atlas-client
//!
//! WIP.

pub mod auth;
pub mod client;
pub mod config;
pub mod ids;
pub mod lightcurve;
pub mod lists;
pub mod models;
pub mod objects;
pub mod vra;

pub use broker_core::{Error, Result, SkyPosition};
pub use client::{AtlasClient, AtlasClientBuilder, DEFAULT_BASE_URL, DateThreshold};
pub use config::AtlasConfigFile;
pub use ids::{AtlasId, CustomList, DetectionList, ListRef};
pub use lists::{IdWrite, ObjectListRequest, WriteOutcome};
pub use models::*;
pub use objects::{ExternalMatches, SourceOutcome, SourceRequest, SourceResult, SourcesRequest};
pub use vra::{VraListQuery, VraRank, VraScores};
