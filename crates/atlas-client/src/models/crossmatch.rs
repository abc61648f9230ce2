//! Crossmatch rows of a source: Sherlock crossmatches and classifications, and external
//! (TNS and other catalogue) crossmatches.

use super::*;

/// A Sherlock crossmatch (about 70 keys; the first entry of a source is the merged best
/// match).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SherlockCrossmatch {
    /// The object id.
    #[serde(default, deserialize_with = "opt_id")]
    pub transient_object_id: Option<AtlasId>,
    /// The catalogue object id.
    #[serde(default)]
    pub catalogue_object_id: Option<Value>,
    /// The catalogue table name, e.g. `SDSS/2MASS/PS1`.
    #[serde(default)]
    pub catalogue_table_name: Option<String>,
    /// The catalogue object type (`galaxy`, `star`, ...).
    #[serde(default)]
    pub catalogue_object_type: Option<String>,
    /// The association type (`SN`, `NT`, ...).
    #[serde(default)]
    pub association_type: Option<String>,
    /// Separation in arcsec.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub separationarcsec: Option<f64>,
    /// Spectroscopic redshift.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub z: Option<f64>,
    /// Photometric redshift.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub photoz: Option<f64>,
    /// Rank (1 = best).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub rank: Option<i64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Sherlock classification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SherlockClassification {
    /// The object id.
    #[serde(default, deserialize_with = "opt_id")]
    pub transient_object_id: Option<AtlasId>,
    /// The classification (`SN`, `NT`, ...).
    #[serde(default)]
    pub classification: Option<String>,
    /// An annotation (HTML).
    #[serde(default)]
    pub annotation: Option<String>,
    /// A one-line summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An external crossmatch (`tcs_cross_matches_external` row): TNS and other catalogues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalCrossmatch {
    /// The row id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    /// The ATLAS object id.
    #[serde(default, deserialize_with = "opt_id")]
    pub transient_object_id: Option<AtlasId>,
    /// The external designation (e.g. a TNS name `2020tjh`).
    #[serde(default)]
    pub external_designation: Option<String>,
    /// The matched list (`Transient Name Server`, ...).
    #[serde(default)]
    pub matched_list: Option<String>,
    /// The type (e.g. `SN Ia`).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Separation in arcsec.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub separation: Option<f64>,
    /// A URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The discovery date.
    #[serde(default)]
    pub disc_date: Option<Timestamp>,
    /// Everything else (`host_galaxy`, `mag`, `discoverer`, `host_z`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}
