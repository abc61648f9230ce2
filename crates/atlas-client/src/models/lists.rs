//! Rows of detection and custom lists (`objectlist/`) and custom-list memberships
//! (`objectgroupslist/`).

use super::*;

/// A row of a detection or custom list (`objectlist/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectListRow {
    /// The object id.
    pub id: AtlasId,
    /// The ATLAS designation.
    #[serde(default)]
    pub atlas_designation: Option<String>,
    /// Another designation (TNS name).
    #[serde(default)]
    pub other_designation: Option<String>,
    /// Right ascension (degrees).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub ra: Option<f64>,
    /// Declination (degrees).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub dec: Option<f64>,
    /// Rank.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub rank: Option<f64>,
    /// Sherlock's classification.
    #[serde(default, rename = "sherlockClassification")]
    pub sherlock_classification: Option<String>,
    /// Observation status (spectroscopic type).
    #[serde(default)]
    pub observation_status: Option<String>,
    /// The VRA score (older servers: `realbogus_factor`).
    #[serde(default, alias = "realbogus_factor", deserialize_with = "lenient_f64")]
    pub vra: Option<f64>,
    /// The pixel real/bogus score.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub rb_pix: Option<f64>,
    /// When the object was flagged for follow-up.
    #[serde(default)]
    pub followup_flag_date: Option<Timestamp>,
    /// Earliest detection MJD.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub earliest_mjd: Option<f64>,
    /// Earliest detection magnitude.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub earliest_mag: Option<f64>,
    /// Latest detection MJD.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub latest_mjd: Option<f64>,
    /// Latest detection magnitude.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub latest_mag: Option<f64>,
    /// Latest detection filter.
    #[serde(default)]
    pub latest_filter: Option<String>,
    /// The detection list id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub detection_list_id: Option<i64>,
    /// The custom list id (custom lists only).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub object_group_id: Option<i64>,
    /// Everything else (`current_trend`, `catalogue`, `separation`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A custom-list membership row (`objectgroupslist/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectGroupRow {
    /// The row id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    /// The object id.
    pub transient_object_id: AtlasId,
    /// The custom list id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub object_group_id: Option<i64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}
