//! Virtual Research Assistant rows: scores, to-do list and ranks.

use super::*;

/// A VRA scores row (`vrascoreslist/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VraScoreRow {
    /// The row id (use as `idthreshold` for incremental reads).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    /// The object id.
    pub transient_object_id: AtlasId,
    /// P(real).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub preal: Option<f64>,
    /// P(galactic).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub pgal: Option<f64>,
    /// P(fast).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub pfast: Option<f64>,
    /// Rank.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub rank: Option<f64>,
    /// Alternative rank.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub rank_alt1: Option<f64>,
    /// Galaxy-candidate flag.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub is_gal_cand: Option<i64>,
    /// When the row was written.
    #[serde(default)]
    pub timestamp: Option<Timestamp>,
    /// The API user who wrote it.
    #[serde(default)]
    pub apiusername: Option<String>,
    /// The debug flag.
    #[serde(default)]
    pub debug: Option<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A VRA to-do row (`vratodolist/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VraTodoRow {
    /// The object id.
    pub transient_object_id: AtlasId,
    /// When it was added.
    #[serde(default)]
    pub timestamp: Option<Timestamp>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A VRA rank row (`vraranklist/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VraRankRow {
    /// The object id.
    pub transient_object_id: AtlasId,
    /// Rank.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub rank: Option<f64>,
    /// Alternative rank.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub rank_alt1: Option<f64>,
    /// Galaxy-candidate flag.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub is_gal_cand: Option<i64>,
    /// When it was written.
    #[serde(default)]
    pub timestamp: Option<Timestamp>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}
