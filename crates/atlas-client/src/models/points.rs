//! Per-point rows of a source: detections ([`LcPoint`]), non-detections
//! ([`NonDetection`]) and forced photometry ([`ForcedPhotometry`]), with their decoders.

use super::*;

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

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
