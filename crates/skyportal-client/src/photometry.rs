//! Photometry.
use serde::{Deserialize, Serialize};
/// A point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhotometryRecord {}
