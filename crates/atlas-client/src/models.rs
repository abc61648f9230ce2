//! Typed responses of the ATLAS Transient Server.
//!
//! Every non-key field is optional (the server's `CharField(blank=True)` columns are often
//! `null`), and every struct keeps the fields it does not know in `extra`, so a field the
//! server adds tomorrow is kept, not lost.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

pub use crate::extra::RawExtra;
use crate::extra::RawExtraBuilder;
use crate::ids::AtlasId;

/// Fields of a row the crate does not model, kept as JSON.
pub type Extra = Map<String, Value>;

/// A date-time as the server wrote it (`2025-09-13T00:19:14Z`, or naive
/// `2020-09-15T00:00:00`, with or without fractional seconds). The text is kept as is;
/// [`Timestamp::utc`] interprets it (naive values are UTC, as the server's `TIME_ZONE`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub String);

impl Timestamp {
    /// The text as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The instant in UTC, when the text is an ISO 8601 date-time or date.
    pub fn utc(&self) -> Option<DateTime<Utc>> {
        parse_server_datetime(&self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses the server's date-times: RFC 3339 (`Z` or an offset), naive ISO (UTC), or a date.
pub fn parse_server_datetime(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(n.and_utc());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| n.and_utc())
}

/// `null` or absent lists become empty lists.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Numbers that may come as JSON numbers or numeric strings (MySQL decimals); anything
/// else (null, empty text) is `None`.
fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    })
}

/// Integers that may come as numbers, numeric strings or booleans.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Bool(b) => Some(i64::from(b)),
        _ => None,
    })
}

/// An id that may be absent or null.
fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AtlasId>, D::Error> {
    Option::<AtlasId>::deserialize(d)
}

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

/// A map key, borrowed from the input when it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// `lenient_f64` as a type.
struct LenientF64(Option<f64>);
impl<'de> Deserialize<'de> for LenientF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_f64(d).map(LenientF64)
    }
}

/// `lenient_i64` as a type.
struct LenientI64(Option<i64>);
impl<'de> Deserialize<'de> for LenientI64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_i64(d).map(LenientI64)
    }
}

/// A value deserialized as itself.
struct Plain<T>(T);
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Plain<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Plain)
    }
}

/// How the unknown fields of a per-point row are read: as the raw text of the input (when
/// decoding from a slice, as the client does: no value is built), or as a parsed value
/// written back as text (any other deserializer).
trait ExtraText<'de>: Deserialize<'de> {
    fn push_to(&self, key: &str, out: &mut RawExtraBuilder);
}

impl<'de> ExtraText<'de> for &'de RawValue {
    fn push_to(&self, key: &str, out: &mut RawExtraBuilder) {
        out.push(key, self.get());
    }
}

impl ExtraText<'_> for Value {
    fn push_to(&self, key: &str, out: &mut RawExtraBuilder) {
        out.push(key, &self.to_string());
    }
}

/// A per-point row decoded the client's way: unknown fields kept as borrowed raw text, so
/// it decodes only from a slice (the client's `objects/` reply decoder).
pub(crate) struct Fast<T>(pub T);

/// A list of per-point rows decoded the client's way (see [`Fast`]); `null` or absent is
/// empty.
pub(crate) struct FastRows<T>(pub Vec<T>);

impl<T> Default for FastRows<T> {
    fn default() -> Self {
        FastRows(Vec::new())
    }
}

impl<'de, T> Deserialize<'de> for FastRows<T>
where
    Fast<T>: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rows = Option::<Vec<Fast<T>>>::deserialize(d)?.unwrap_or_default();
        Ok(FastRows(rows.into_iter().map(|r| r.0).collect()))
    }
}

/// `Deserialize` for the large per-point rows (`lc`, `lcnondets`, `fp`: millions of them in
/// bulk reads) without `#[serde(flatten)]`, which buffers every row into an intermediate
/// tree before picking the fields: known keys go straight to their fields (with the same
/// lenient decoders as the other structs), every other key into `extra` as JSON text.
/// Missing keys are `None`; a repeated key keeps its last value.
macro_rules! rows_with_extra {
    ($ty:ident, $what:literal, { $($key:literal => $field:ident : $wrap:ty),* $(,)? }) => {
        impl $ty {
            fn visit_row<'de, A, X>(mut map: A) -> Result<$ty, A::Error>
            where
                A: serde::de::MapAccess<'de>,
                X: ExtraText<'de>,
            {
                let mut out = $ty { $($field: None,)* extra: RawExtra::new() };
                let mut extra = RawExtraBuilder::default();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match key.as_str() {
                        $($key => out.$field = map.next_value::<$wrap>()?.0,)*
                        k => map.next_value::<X>()?.push_to(k, &mut extra),
                    }
                }
                out.extra = extra.finish();
                Ok(out)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$ty, A::Error> {
                        $ty::visit_row::<A, Value>(map)
                    }
                }
                d.deserialize_map(V)
            }
        }

        impl<'de> Deserialize<'de> for Fast<$ty> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Fast<$ty>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Fast<$ty>, A::Error> {
                        $ty::visit_row::<A, &'de RawValue>(map).map(Fast)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

rows_with_extra!(LcPoint, "an lc row (object)", {
    "id" => id: Plain<Option<AtlasId>>,
    "mjd" => mjd: LenientF64,
    "mag" => mag: LenientF64,
    "magerr" => magerr: LenientF64,
    "filter" => filter: Plain<Option<String>>,
    "mag5sig" => mag5sig: LenientF64,
    "zp" => zp: LenientF64,
    "exptime" => exptime: LenientF64,
    "expname" => expname: Plain<Option<String>>,
    "ra" => ra: LenientF64,
    "dec" => dec: LenientF64,
    "dup" => dup: LenientI64,
});

rows_with_extra!(NonDetection, "an lcnondets row (object)", {
    "id" => id: LenientI64,
    "mjd" => mjd: LenientF64,
    "filter" => filter: Plain<Option<String>>,
    "mag5sig" => mag5sig: LenientF64,
    "zp" => zp: LenientF64,
    "exptime" => exptime: LenientF64,
    "expname" => expname: Plain<Option<String>>,
});

rows_with_extra!(ForcedPhotometry, "an fp row (object)", {
    "id" => id: LenientI64,
    "atlas_object_id" => atlas_object_id: Plain<Option<AtlasId>>,
    "mjd_obs" => mjd_obs: LenientF64,
    "filter" => filter: Plain<Option<String>>,
    "mag" => mag: LenientF64,
    "dm" => dm: LenientF64,
    "snr" => snr: LenientF64,
    "zp" => zp: LenientF64,
    "uJy" => ujy: LenientF64,
    "duJy" => dujy: LenientF64,
    "texp" => texp: LenientF64,
    "peakfit" => peakfit: LenientF64,
    "dpeak" => dpeak: LenientF64,
    "major" => major: LenientF64,
    "minor" => minor: LenientF64,
    "apfit" => apfit: LenientF64,
    "limiting_mag" => limiting_mag: Plain<Option<bool>>,
    "expname" => expname: Plain<Option<String>>,
});

/// A detection (`lc` row). Its `id` is the object id, repeated on every row.
///
/// A negative `mag` means a negative-flux difference detection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LcPoint {
    /// The object id (not a row id).
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<AtlasId>,
    /// Modified Julian Date.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub mjd: Option<f64>,
    /// AB magnitude; negative for a negative-flux detection.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub mag: Option<f64>,
    /// Magnitude error.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub magerr: Option<f64>,
    /// Filter letter (`c` cyan, `o` orange, ...).
    #[serde(default)]
    pub filter: Option<String>,
    /// 5-sigma limiting magnitude of the exposure.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub mag5sig: Option<f64>,
    /// Zero point.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub zp: Option<f64>,
    /// Exposure time (s).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub exptime: Option<f64>,
    /// Exposure name, e.g. `02a58019o0455c`.
    #[serde(default)]
    pub expname: Option<String>,
    /// Right ascension of the detection.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub ra: Option<f64>,
    /// Declination of the detection.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub dec: Option<f64>,
    /// `-1` marks a duplicate detection.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub dup: Option<i64>,
    /// Everything else (`x`, `y`, `major`, `pvr`, `ptr`, ..., `date_inserted`), as the
    /// server's JSON text, parsed on demand.
    #[serde(flatten)]
    pub extra: RawExtra,
}

/// A non-detection (`lcnondets` row): an exposure covering the object with no detection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NonDetection {
    /// The `atlas_metadataddc` row id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    /// Modified Julian Date.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub mjd: Option<f64>,
    /// Filter letter.
    #[serde(default)]
    pub filter: Option<String>,
    /// 5-sigma limiting magnitude (the upper limit).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub mag5sig: Option<f64>,
    /// Zero point.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub zp: Option<f64>,
    /// Exposure time (s).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub exptime: Option<f64>,
    /// Exposure name.
    #[serde(default)]
    pub expname: Option<String>,
    /// Everything else (`filename`, `pointing`, `input`, `reference`, ...), as the server's
    /// JSON text, parsed on demand.
    #[serde(flatten)]
    pub extra: RawExtra,
}

/// A forced-photometry measurement (`fp` row).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForcedPhotometry {
    /// The row id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    /// The object id.
    #[serde(default, deserialize_with = "opt_id")]
    pub atlas_object_id: Option<AtlasId>,
    /// MJD of the exposure.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub mjd_obs: Option<f64>,
    /// Filter letter.
    #[serde(default)]
    pub filter: Option<String>,
    /// Magnitude.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub mag: Option<f64>,
    /// Magnitude error.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub dm: Option<f64>,
    /// Signal-to-noise ratio.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub snr: Option<f64>,
    /// Zero point.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub zp: Option<f64>,
    /// Flux in microjansky (computed by the server; null when inputs are missing).
    #[serde(default, rename = "uJy", deserialize_with = "lenient_f64")]
    pub ujy: Option<f64>,
    /// Flux error in microjansky.
    #[serde(default, rename = "duJy", deserialize_with = "lenient_f64")]
    pub dujy: Option<f64>,
    /// Exposure time (s).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub texp: Option<f64>,
    /// Fitted peak.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub peakfit: Option<f64>,
    /// Peak error.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub dpeak: Option<f64>,
    /// PSF major axis.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub major: Option<f64>,
    /// PSF minor axis.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub minor: Option<f64>,
    /// Aperture correction.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub apfit: Option<f64>,
    /// Whether the point is a limit.
    #[serde(default)]
    pub limiting_mag: Option<bool>,
    /// Exposure name.
    #[serde(default)]
    pub expname: Option<String>,
    /// Everything else (`flux`, `dflux`, `chin`, `x`, `y`, ...), as the server's JSON text,
    /// parsed on demand.
    #[serde(flatten)]
    pub extra: RawExtra,
}

impl ForcedPhotometry {
    /// The flux in µJy: the server's `uJy`, or computed as the server does
    /// (`peakfit·major·minor/texp · 10^(-0.4 (zp + apfit - 23.9))`) when it is null.
    pub fn flux_ujy(&self) -> Option<f64> {
        self.ujy.or_else(|| self.derived(self.peakfit?))
    }
    /// The flux error in µJy (`duJy`, or derived from `dpeak`).
    pub fn flux_err_ujy(&self) -> Option<f64> {
        self.dujy.or_else(|| self.derived(self.dpeak?))
    }
    fn derived(&self, peak: f64) -> Option<f64> {
        let texp = self.texp.filter(|t| *t > 0.0)?;
        let v = peak * self.major? * self.minor? / texp * 10f64.powf(-0.4 * (self.zp? + self.apfit? - 23.9));
        v.is_finite().then_some(v)
    }
}

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

/// The reply of `auth-token/`.
#[derive(Clone, Deserialize)]
pub(crate) struct TokenReply {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub expires_in: Option<f64>,
    #[serde(default)]
    pub refreshed: Option<bool>,
}

/// What a token refresh gave (the token itself is in the client, never shown).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenInfo {
    /// Seconds until the token expires, when the server said.
    pub expires_in: Option<f64>,
    /// Whether a new token was issued (`false`: the old one had not expired yet), when the
    /// server said.
    pub refreshed: Option<bool>,
    /// Whether the token now in use differs from the one before.
    pub changed: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_in_all_server_shapes() {
        let z = Timestamp("2025-09-13T00:19:14Z".into()).utc().unwrap();
        assert_eq!(z.to_rfc3339(), "2025-09-13T00:19:14+00:00");
        let naive = Timestamp("2020-09-15T00:00:00".into()).utc().unwrap();
        assert_eq!(naive.to_rfc3339(), "2020-09-15T00:00:00+00:00");
        let frac = Timestamp("2024-02-22T10:11:12.345678".into()).utc().unwrap();
        assert_eq!(frac.timestamp_subsec_micros(), 345_678);
        assert!(Timestamp("2024-02-22T10:11:12.5Z".into()).utc().is_some());
        assert!(Timestamp("2024-02-22".into()).utc().is_some());
        assert!(Timestamp("yesterday".into()).utc().is_none());
    }

    #[test]
    fn realbogus_factor_is_read_as_vra_and_unknown_fields_kept() {
        let o: AtlasObject =
            serde_json::from_str(r#"{"id": 1000005291314656200, "realbogus_factor": 0.5, "new_field": [1]}"#).unwrap();
        assert_eq!(o.vra, Some(0.5));
        assert_eq!(o.extra["new_field"], serde_json::json!([1]));
        let o: AtlasObject = serde_json::from_str(r#"{"id": 1000005291314656200, "vra": "0.25"}"#).unwrap();
        assert_eq!(o.vra, Some(0.25));
    }

    #[test]
    fn forced_flux_derived_when_null() {
        let fp: ForcedPhotometry = serde_json::from_value(serde_json::json!({
            "peakfit": 7.5, "dpeak": 10.7, "major": 1.87, "minor": 1.73, "texp": 30.0, "zp": 22.299,
            "apfit": -0.4287, "uJy": null, "duJy": null
        }))
        .unwrap();
        let expected = 7.5 * 1.87 * 1.73 / 30.0 * 10f64.powf(-0.4 * (22.299 - 0.4287 - 23.9));
        assert!((fp.flux_ujy().unwrap() - expected).abs() < 1e-9);
        assert!(fp.flux_err_ujy().unwrap() > 0.0);
    }

    /// The hand-written row decoders: known keys typed (numbers as numbers or numeric text,
    /// null or odd text as `None`), missing keys `None`, every other key kept in `extra`
    /// (also keys written with escapes), errors with the field's path.
    #[test]
    fn point_rows_decode_known_fields_and_keep_the_rest() {
        let lc: LcPoint = serde_json::from_str(
            r#"{"id": 1103337180002047300, "mjd": "58000.5", "mag": -17.2, "magerr": null, "filter": "o",
                "dup": 0.0, "x": 12.5, "date_inserted": "2020-01-01T00:00:00Z", "p\u0063r": 1, "zp": ""}"#,
        )
        .unwrap();
        assert_eq!(lc.id.unwrap().get(), 1103337180002047300);
        assert_eq!((lc.mjd, lc.mag, lc.magerr, lc.dup, lc.zp), (Some(58000.5), Some(-17.2), None, Some(0), None));
        assert_eq!(lc.filter.as_deref(), Some("o"));
        assert_eq!(lc.expname, None);
        assert_eq!(lc.extra.len(), 3);
        assert_eq!(lc.extra.get("x"), Some(serde_json::json!(12.5)));
        assert_eq!(lc.extra.get("pcr"), Some(serde_json::json!(1)));
        let nd: NonDetection = serde_json::from_str(r#"{"id": "42", "mag5sig": 19.5, "input": null}"#).unwrap();
        assert_eq!((nd.id, nd.mag5sig, nd.mjd), (Some(42), Some(19.5), None));
        assert_eq!(nd.extra.get("input"), Some(Value::Null));
        let fp: ForcedPhotometry =
            serde_json::from_str(r#"{"uJy": 12.3, "duJy": "1.5", "limiting_mag": false, "chin": 1.1}"#).unwrap();
        assert_eq!((fp.ujy, fp.dujy, fp.limiting_mag), (Some(12.3), Some(1.5), Some(false)));
        assert_eq!(fp.extra.len(), 1);
        // Serialization is unchanged: known fields, then the extras, flattened.
        let back: LcPoint = serde_json::from_value(serde_json::to_value(&lc).unwrap()).unwrap();
        assert_eq!(back, lc);
        // A wrong type names its field.
        let body = br#"[{"filter": 5}]"#;
        let url = url::Url::parse("http://x.invalid/objects/").unwrap();
        let err = broker_core::http::decode_json::<Vec<LcPoint>>(body, &url).unwrap_err().to_string();
        assert!(err.contains("[0].filter"), "{err}");
        assert!(serde_json::from_str::<LcPoint>("[1, 2]").is_err());
    }

    /// The client's decoding (unknown fields as raw text, from a slice) gives the same rows as
    /// the generic one (unknown fields parsed, then written back), whatever the formatting.
    #[test]
    fn client_rows_equal_generic_rows() {
        let text = r#"[{"id": 1103337180002047300, "mjd": 58000.5, "x": 1.50, "p\u0063r": [1, {"a": "b"}],
            "pointing": "TA\"2", "dup": null, "date_inserted": "2020-01-01T00:00:00Z"}, {}]"#;
        let generic: Vec<LcPoint> = serde_json::from_str(text).unwrap();
        let fast: FastRows<LcPoint> = serde_json::from_str(text).unwrap();
        assert_eq!(fast.0, generic);
        assert_eq!(
            fast.0[0].extra.as_json(),
            r#"{"x":1.50,"pcr":[1, {"a": "b"}],"pointing":"TA\"2","date_inserted":"2020-01-01T00:00:00Z"}"#
        );
        assert_eq!(fast.0[0].extra.get("pointing"), Some(serde_json::json!("TA\"2")));
        assert!(fast.0[1].extra.is_empty());
        let none: FastRows<NonDetection> = serde_json::from_str("null").unwrap();
        assert!(none.0.is_empty());
        let fp: FastRows<ForcedPhotometry> = serde_json::from_str(r#"[{"uJy": "3.5", "chin": 1.1e0}]"#).unwrap();
        assert_eq!((fp.0[0].ujy, fp.0[0].extra.get("chin")), (Some(3.5), Some(serde_json::json!(1.1))));
    }
}
