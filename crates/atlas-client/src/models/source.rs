//! One `objects/` element: the object row ([`AtlasObject`]), the whole [`Source`], and the
//! raw form a reply is decoded into before it is matched to the id asked for.

use super::*;

/// The `object` block of a source: the `atlas_diff_objects` row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtlasObject {
    /// The object id.
    pub id: AtlasId,
    /// The ATLAS designation, e.g. `ATLAS20bbfr`.
    #[serde(default)]
    pub atlas_designation: Option<String>,
    /// Another designation (usually the TNS name without prefix, e.g. `2020tjh`).
    #[serde(default)]
    pub other_designation: Option<String>,
    /// Right ascension (degrees).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub ra: Option<f64>,
    /// Declination (degrees).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub dec: Option<f64>,
    /// The detection list the object is on (see [`crate::DetectionList`]).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub detection_list_id: Option<i64>,
    /// Sherlock's classification (`SN`, `NT`, `VS`, `CV`, `AGN`, `ORPHAN`, ...).
    #[serde(default, rename = "sherlockClassification")]
    pub sherlock_classification: Option<String>,
    /// Object classification code.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub object_classification: Option<i64>,
    /// Spectroscopic / observation status.
    #[serde(default)]
    pub observation_status: Option<String>,
    /// The Virtual Research Assistant score (older servers call it `realbogus_factor`).
    #[serde(default, alias = "realbogus_factor", deserialize_with = "lenient_f64")]
    pub vra: Option<f64>,
    /// The pixel real/bogus score.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub rb_pix: Option<f64>,
    /// The current trend text, e.g. `rising 00.37 (o-o)`.
    #[serde(default)]
    pub current_trend: Option<String>,
    /// When the object was flagged for follow-up.
    #[serde(default)]
    pub followup_flag_date: Option<Timestamp>,
    /// The follow-up id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub followup_id: Option<i64>,
    /// When the object was inserted.
    #[serde(default)]
    pub date_inserted: Option<Timestamp>,
    /// When the object was last modified.
    #[serde(default)]
    pub date_modified: Option<Timestamp>,
    /// The first detection's id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub detection_id: Option<i64>,
    /// The survey field.
    #[serde(default)]
    pub survey_field: Option<String>,
    /// Who last updated the object.
    #[serde(default)]
    pub updated_by: Option<String>,
    /// Local comments.
    #[serde(default)]
    pub local_comments: Option<String>,
    /// Number of detections.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub ndetections: Option<i64>,
    /// Everything else (`htm16id`, `jtindex`, `images_id`, `processing_flags`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Everything the server knows about one object (`objects/`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// The object row.
    pub object: AtlasObject,
    /// Detections, by MJD.
    pub lc: Vec<LcPoint>,
    /// Non-detections.
    pub lcnondets: Vec<NonDetection>,
    /// Forced photometry, by MJD.
    pub fp: Vec<ForcedPhotometry>,
    /// Sherlock crossmatches; the first is the merged best match.
    pub sherlock_crossmatches: Vec<SherlockCrossmatch>,
    /// Sherlock classifications (0 or 1 rows).
    pub sherlock_classifications: Vec<SherlockClassification>,
    /// TNS crossmatches.
    pub tns_crossmatches: Vec<ExternalCrossmatch>,
    /// Other external crossmatches.
    pub external_crossmatches: Vec<ExternalCrossmatch>,
    /// Top-level keys this crate does not model.
    pub extra: Extra,
}

impl Source {
    /// The object id.
    pub fn id(&self) -> AtlasId {
        self.object.id
    }
    /// The TNS name from the TNS crossmatch, if any (e.g. `2020tjh`).
    pub fn tns_name(&self) -> Option<&str> {
        self.tns_crossmatches.iter().find_map(|x| x.external_designation.as_deref())
    }
}

/// The `object` field of an `objects/` element: a row, or (unknown id) the server's text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ObjectField {
    Found(Box<AtlasObject>),
    Missing(String),
}

impl<'de> Deserialize<'de> for ObjectField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match Value::deserialize(d)? {
            Value::String(s) => Ok(ObjectField::Missing(s)),
            Value::Null => Ok(ObjectField::Missing("the server returned no object".into())),
            v @ Value::Object(_) => {
                serde_json::from_value(v).map(|o| ObjectField::Found(Box::new(o))).map_err(D::Error::custom)
            }
            other => Err(D::Error::custom(format!("expected an object row or a message, got {other}"))),
        }
    }
}

/// One element of an `objects/` reply, before it is matched to the id asked for. It decodes
/// only from a slice (its rows keep unknown fields as borrowed raw text).
#[derive(Deserialize)]
pub(crate) struct RawSource {
    pub object: ObjectField,
    #[serde(default)]
    pub lc: FastRows<LcPoint>,
    #[serde(default)]
    pub lcnondets: FastRows<NonDetection>,
    #[serde(default)]
    pub fp: FastRows<ForcedPhotometry>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub sherlock_crossmatches: Vec<SherlockCrossmatch>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub sherlock_classifications: Vec<SherlockClassification>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tns_crossmatches: Vec<ExternalCrossmatch>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub external_crossmatches: Vec<ExternalCrossmatch>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl RawSource {
    /// The source, or the server's not-found text.
    pub(crate) fn into_source(self) -> Result<Source, String> {
        match self.object {
            ObjectField::Missing(m) => Err(m),
            ObjectField::Found(object) => Ok(Source {
                object: *object,
                lc: self.lc.0,
                lcnondets: self.lcnondets.0,
                fp: self.fp.0,
                sherlock_crossmatches: self.sherlock_crossmatches,
                sherlock_classifications: self.sherlock_classifications,
                tns_crossmatches: self.tns_crossmatches,
                external_crossmatches: self.external_crossmatches,
                extra: self.extra,
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn realbogus_factor_is_read_as_vra_and_unknown_fields_kept() {
        let o: AtlasObject =
            serde_json::from_str(r#"{"id": 1000005291314656200, "realbogus_factor": 0.5, "new_field": [1]}"#).unwrap();
        assert_eq!(o.vra, Some(0.5));
        assert_eq!(o.extra["new_field"], serde_json::json!([1]));
        let o: AtlasObject = serde_json::from_str(r#"{"id": 1000005291314656200, "vra": "0.25"}"#).unwrap();
        assert_eq!(o.vra, Some(0.25));
    }
}
