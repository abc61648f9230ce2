//! Typed models shared by several endpoints. Every field the server may omit is an
//! `Option`; fields this crate does not name are kept in `extra`, so nothing the server
//! sends is lost. Free-form JSON (`altdata`, annotation `data`) stays `serde_json::Value`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Unknown fields, kept as sent.
pub type Extra = Map<String, Value>;

/// An object (`Obj`) as returned by `/api/sources` and `/api/sources/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The object id (`ZTF21aaqjmps`).
    #[serde(default)]
    pub id: String,
    /// Right ascension (deg).
    #[serde(default)]
    pub ra: Option<f64>,
    /// Declination (deg).
    #[serde(default)]
    pub dec: Option<f64>,
    /// RA at discovery (deg).
    #[serde(default)]
    pub ra_dis: Option<f64>,
    /// Dec at discovery (deg).
    #[serde(default)]
    pub dec_dis: Option<f64>,
    /// RA error (deg).
    #[serde(default)]
    pub ra_err: Option<f64>,
    /// Dec error (deg).
    #[serde(default)]
    pub dec_err: Option<f64>,
    /// Offset from the nearest static object (arcsec).
    #[serde(default)]
    pub offset: Option<f64>,
    /// Redshift.
    #[serde(default)]
    pub redshift: Option<f64>,
    /// Redshift error.
    #[serde(default)]
    pub redshift_error: Option<f64>,
    /// Where the redshift came from.
    #[serde(default)]
    pub redshift_origin: Option<String>,
    /// Who set which redshift and when (free JSON).
    #[serde(default)]
    pub redshift_history: Option<Value>,
    /// Free-form metadata.
    #[serde(default)]
    pub altdata: Option<Value>,
    /// Distance to the nearest source (arcsec).
    #[serde(default)]
    pub dist_nearest_source: Option<f64>,
    /// Magnitude of the nearest source (AB).
    #[serde(default)]
    pub mag_nearest_source: Option<f64>,
    /// Error on that magnitude.
    #[serde(default)]
    pub e_mag_nearest_source: Option<f64>,
    /// An astrophysical transient?
    #[serde(default)]
    pub transient: Option<bool>,
    /// A variable star?
    #[serde(default)]
    pub varstar: Option<bool>,
    /// A moving object?
    #[serde(default)]
    pub is_roid: Option<bool>,
    /// Machine-learning score.
    #[serde(default)]
    pub score: Option<f64>,
    /// Origin of the object.
    #[serde(default)]
    pub origin: Option<String>,
    /// Other names (free JSON: a list of strings, usually).
    #[serde(default)]
    pub alias: Option<Value>,
    /// Detections above threshold.
    #[serde(default)]
    pub detect_photometry_count: Option<i64>,
    /// TNS name, when known.
    #[serde(default)]
    pub tns_name: Option<String>,
    /// Creation time (UTC ISO 8601).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last modification time.
    #[serde(default)]
    pub modified: Option<String>,
    /// Last detection time.
    #[serde(default)]
    pub last_detected_at: Option<String>,
    /// Groups the source is saved to.
    #[serde(default)]
    pub groups: Option<Vec<Group>>,
    /// Classifications.
    #[serde(default)]
    pub classifications: Option<Vec<Classification>>,
    /// Photometry (with `includePhotometry=true`).
    #[serde(default)]
    pub photometry: Option<Vec<crate::photometry::PhotometryRecord>>,
    /// Comments (with `includeComments=true`).
    #[serde(default)]
    pub comments: Option<Vec<Comment>>,
    /// Annotations.
    #[serde(default)]
    pub annotations: Option<Vec<Annotation>>,
    /// Thumbnails (with `includeThumbnails=true`).
    #[serde(default)]
    pub thumbnails: Option<Vec<Value>>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A candidate: an object that passed a filter, from `/api/candidates`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The object id.
    #[serde(default)]
    pub id: String,
    /// Right ascension (deg).
    #[serde(default)]
    pub ra: Option<f64>,
    /// Declination (deg).
    #[serde(default)]
    pub dec: Option<f64>,
    /// Redshift.
    #[serde(default)]
    pub redshift: Option<f64>,
    /// Whether it is also saved as a source.
    #[serde(default)]
    pub is_source: Option<bool>,
    /// Ids of the filters it passed.
    #[serde(default)]
    pub filter_ids: Option<Vec<i64>>,
    /// Groups it is saved to (single candidate).
    #[serde(default)]
    pub saved_groups: Option<Vec<Group>>,
    /// Alerts that passed (free JSON).
    #[serde(default)]
    pub passing_alerts: Option<Value>,
    /// Classifications.
    #[serde(default)]
    pub classifications: Option<Vec<Classification>>,
    /// Photometry (with `includePhotometry=true`).
    #[serde(default)]
    pub photometry: Option<Vec<crate::photometry::PhotometryRecord>>,
    /// Free-form metadata.
    #[serde(default)]
    pub altdata: Option<Value>,
    /// Origin.
    #[serde(default)]
    pub origin: Option<String>,
    /// Machine-learning score.
    #[serde(default)]
    pub score: Option<f64>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A group (full or summary form).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Group id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Short name.
    #[serde(default)]
    pub nickname: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Private group?
    #[serde(default)]
    pub private: Option<bool>,
    /// A user's personal group?
    #[serde(default)]
    pub single_user_group: Option<bool>,
    /// Every other field (`users`, `streams`, `filters`, `saved_at`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A classification of an object in a taxonomy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// Classification id.
    #[serde(default)]
    pub id: Option<i64>,
    /// The class (`Ia`).
    #[serde(default)]
    pub classification: Option<String>,
    /// Taxonomy id.
    #[serde(default)]
    pub taxonomy_id: Option<i64>,
    /// Probability in [0, 1].
    #[serde(default)]
    pub probability: Option<f64>,
    /// Author's user id.
    #[serde(default)]
    pub author_id: Option<i64>,
    /// Author's name.
    #[serde(default)]
    pub author_name: Option<String>,
    /// Object id.
    #[serde(default)]
    pub obj_id: Option<String>,
    /// Origin.
    #[serde(default)]
    pub origin: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Made by a machine-learning classifier?
    #[serde(default)]
    pub ml: Option<bool>,
    /// Every other field (`groups`, `votes`, `taxonomy`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A comment on a source, spectrum or GCN event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Comment id.
    #[serde(default)]
    pub id: Option<i64>,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// Author's user id.
    #[serde(default)]
    pub author_id: Option<i64>,
    /// Object id (source comments).
    #[serde(default)]
    pub obj_id: Option<String>,
    /// Spectrum id (spectrum comments).
    #[serde(default)]
    pub spectrum_id: Option<i64>,
    /// Posted with a token?
    #[serde(default)]
    pub bot: Option<bool>,
    /// Origin.
    #[serde(default)]
    pub origin: Option<String>,
    /// Attachment file name.
    #[serde(default)]
    pub attachment_name: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// The named conversation on a source it belongs to (`None`: the main thread).
    #[serde(default)]
    pub channel: Option<String>,
    /// Every other field (`author`, `groups`, `resourceType`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An annotation: free key/value data from one origin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    /// Annotation id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Origin (one annotation per resource and origin).
    #[serde(default)]
    pub origin: Option<String>,
    /// The data (free JSON).
    #[serde(default)]
    pub data: Option<Value>,
    /// Author's user id.
    #[serde(default)]
    pub author_id: Option<i64>,
    /// Object id.
    #[serde(default)]
    pub obj_id: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A spectrum.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// Spectrum id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Object id.
    #[serde(default)]
    pub obj_id: Option<String>,
    /// Observation time (UTC ISO 8601).
    #[serde(default)]
    pub observed_at: Option<String>,
    /// Wavelengths (Å) (absent with `minimalPayload=true`).
    #[serde(default)]
    pub wavelengths: Option<Vec<Option<f64>>>,
    /// Fluxes.
    #[serde(default)]
    pub fluxes: Option<Vec<Option<f64>>>,
    /// Flux errors.
    #[serde(default)]
    pub errors: Option<Vec<Option<f64>>>,
    /// Flux units.
    #[serde(default)]
    pub units: Option<String>,
    /// Origin.
    #[serde(default)]
    pub origin: Option<String>,
    /// Type (`source`, `host`, `host_center`).
    #[serde(default, rename = "type")]
    pub spectrum_type: Option<String>,
    /// Label.
    #[serde(default)]
    pub label: Option<String>,
    /// Instrument id.
    #[serde(default)]
    pub instrument_id: Option<i64>,
    /// Instrument name.
    #[serde(default)]
    pub instrument_name: Option<String>,
    /// Follow-up request id.
    #[serde(default)]
    pub followup_request_id: Option<i64>,
    /// Assignment id.
    #[serde(default)]
    pub assignment_id: Option<i64>,
    /// Owner's user id.
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Free-form metadata.
    #[serde(default)]
    pub altdata: Option<Value>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An `{"id": ...}` reply to a creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) struct IdReply {
    pub id: i64,
}

/// An `{"ids": [...]}` reply to a creation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct IdsReply {
    #[serde(default)]
    pub ids: Vec<i64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_kept_and_nulls_accepted() {
        let s: Source = serde_json::from_value(serde_json::json!({
            "id": "ZTF21aaqjmps", "ra": 10, "dec": null, "new_field": {"a": 1}, "alias": ["SN 2021abc"]
        }))
        .unwrap();
        assert_eq!(s.ra, Some(10.0));
        assert_eq!(s.dec, None);
        assert_eq!(s.extra["new_field"]["a"], 1);
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["new_field"]["a"], 1);
    }
}
