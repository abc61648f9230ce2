//! A cone-search match (`cone/`).

use super::*;

/// A cone-search match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConeMatch {
    /// The object id.
    pub object: AtlasId,
    /// Separation in arcsec.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub separation: Option<f64>,
    /// The ATLAS designation (`objectname`; absent on older servers).
    #[serde(default)]
    pub objectname: Option<String>,
    /// Right ascension (degrees). The server's `cone/` reply has no position: this is filled
    /// from the objects' own records by [`AtlasClient::cone_all_with_positions`](crate::AtlasClient::cone_all_with_positions).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_f64")]
    pub ra: Option<f64>,
    /// Declination (degrees); see [`ConeMatch::ra`].
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_f64")]
    pub dec: Option<f64>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}
