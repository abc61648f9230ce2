//! `magstat_api/magstats`: LSST DiaObject flux statistics and ZTF magnitude statistics.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::de::opt_string;

/// `magstat_api/magstats`, typed by survey (`magstat_api/routes/rest.py`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Magstats {
    /// An LSST object: its one DiaObject row of per-band flux statistics.
    Lsst(Box<LsstDiaObjectStats>),
    /// A ZTF object: one row per band, **without the band** (the server maps `band` to
    /// `fid` and then deletes `fid`), in the server's band order.
    Ztf(Vec<MsZtfMagstat>),
}

/// The LSST bands, in the order the DiaObject columns use.
pub const LSST_BANDS: [&str; 6] = ["u", "g", "r", "i", "z", "y"];

/// The flux statistics of one LSST band of a DiaObject (`<band>_psfFluxMean`, ...), in nJy.
/// The server rounds every float to 3 decimals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case, missing_docs)]
pub struct LsstBandFluxStats {
    pub psfFluxMean: Option<f64>,
    pub psfFluxMeanErr: Option<f64>,
    pub psfFluxSigma: Option<f64>,
    pub psfFluxNdata: Option<i64>,
    pub fpFluxMean: Option<f64>,
    pub fpFluxMeanErr: Option<f64>,
    pub scienceFluxMean: Option<f64>,
    pub scienceFluxMeanErr: Option<f64>,
    pub psfFluxMin: Option<f64>,
    pub psfFluxMax: Option<f64>,
    pub psfFluxMaxSlope: Option<f64>,
    pub psfFluxErrMean: Option<f64>,
}

impl LsstBandFluxStats {
    const FIELDS: [&'static str; 12] = [
        "psfFluxMean",
        "psfFluxMeanErr",
        "psfFluxSigma",
        "psfFluxNdata",
        "fpFluxMean",
        "fpFluxMeanErr",
        "scienceFluxMean",
        "scienceFluxMeanErr",
        "psfFluxMin",
        "psfFluxMax",
        "psfFluxMaxSlope",
        "psfFluxErrMean",
    ];

    fn take(map: &mut Map<String, Value>, band: &str) -> Self {
        let mut f = |name: &str| map.remove(&format!("{band}_{name}")).as_ref().and_then(value_f64);
        let mut out = LsstBandFluxStats {
            psfFluxMean: f("psfFluxMean"),
            psfFluxMeanErr: f("psfFluxMeanErr"),
            psfFluxSigma: f("psfFluxSigma"),
            psfFluxNdata: None,
            fpFluxMean: f("fpFluxMean"),
            fpFluxMeanErr: f("fpFluxMeanErr"),
            scienceFluxMean: f("scienceFluxMean"),
            scienceFluxMeanErr: f("scienceFluxMeanErr"),
            psfFluxMin: f("psfFluxMin"),
            psfFluxMax: f("psfFluxMax"),
            psfFluxMaxSlope: f("psfFluxMaxSlope"),
            psfFluxErrMean: f("psfFluxErrMean"),
        };
        out.psfFluxNdata = map.remove(&format!("{band}_psfFluxNdata")).as_ref().and_then(value_i64);
        out
    }

    fn put(&self, map: &mut Map<String, Value>, band: &str) {
        let vals: [Option<Value>; 12] = [
            self.psfFluxMean.map(Value::from),
            self.psfFluxMeanErr.map(Value::from),
            self.psfFluxSigma.map(Value::from),
            self.psfFluxNdata.map(Value::from),
            self.fpFluxMean.map(Value::from),
            self.fpFluxMeanErr.map(Value::from),
            self.scienceFluxMean.map(Value::from),
            self.scienceFluxMeanErr.map(Value::from),
            self.psfFluxMin.map(Value::from),
            self.psfFluxMax.map(Value::from),
            self.psfFluxMaxSlope.map(Value::from),
            self.psfFluxErrMean.map(Value::from),
        ];
        for (name, v) in Self::FIELDS.iter().zip(vals) {
            map.insert(format!("{band}_{name}"), v.unwrap_or(Value::Null));
        }
    }
}

/// The LSST answer of `magstat_api/magstats`: the object's DiaObject row
/// (`magstat_api/models/lsst_dia_object.py::LsstDiaObjectSchema`, without
/// `created_date`). The per-band columns (`u_psfFluxMean`, ...) are gathered in
/// [`LsstDiaObjectStats::bands`]; it serializes back to the flat wire columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Map<String, Value>", into = "Map<String, Value>")]
#[allow(non_snake_case)]
pub struct LsstDiaObjectStats {
    /// The LSST object id.
    pub oid: Option<i64>,
    /// Start of validity of this row (MJD TAI).
    pub validityStartMjdTai: Option<f64>,
    /// RA (deg).
    pub ra: Option<f64>,
    /// RA error.
    pub raErr: Option<f64>,
    /// Dec (deg).
    pub dec: Option<f64>,
    /// Dec error.
    pub decErr: Option<f64>,
    /// RA/Dec covariance.
    pub ra_dec_Cov: Option<f64>,
    /// First DiaSource (MJD TAI).
    pub firstDiaSourceMjdTai: Option<f64>,
    /// Last DiaSource (MJD TAI).
    pub lastDiaSourceMjdTai: Option<f64>,
    /// Number of DiaSources.
    pub nDiaSources: Option<i64>,
    /// Per-band statistics, keyed by band letter (`u g r i z y`; bands without any column
    /// are left out).
    pub bands: std::collections::BTreeMap<String, LsstBandFluxStats>,
    /// Columns this crate does not know yet.
    pub extra: Map<String, Value>,
}

pub(super) fn value_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => crate::de::parse_float_text(s),
        _ => None,
    }
}

pub(super) fn value_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl From<Map<String, Value>> for LsstDiaObjectStats {
    fn from(mut m: Map<String, Value>) -> Self {
        let mut f = |k: &str| m.remove(k).as_ref().and_then(value_f64);
        let mut out = LsstDiaObjectStats {
            oid: None,
            validityStartMjdTai: f("validityStartMjdTai"),
            ra: f("ra"),
            raErr: f("raErr"),
            dec: f("dec"),
            decErr: f("decErr"),
            ra_dec_Cov: f("ra_dec_Cov"),
            firstDiaSourceMjdTai: f("firstDiaSourceMjdTai"),
            lastDiaSourceMjdTai: f("lastDiaSourceMjdTai"),
            nDiaSources: None,
            bands: Default::default(),
            extra: Map::new(),
        };
        out.oid = m.remove("oid").as_ref().and_then(value_i64);
        out.nDiaSources = m.remove("nDiaSources").as_ref().and_then(value_i64);
        for band in LSST_BANDS {
            let prefix = format!("{band}_");
            if m.keys().any(|k| k.starts_with(&prefix)) {
                out.bands.insert(band.to_string(), LsstBandFluxStats::take(&mut m, band));
            }
        }
        out.extra = m;
        out
    }
}

impl From<LsstDiaObjectStats> for Map<String, Value> {
    fn from(s: LsstDiaObjectStats) -> Self {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            m.insert(k.to_string(), v.unwrap_or(Value::Null));
        };
        put("oid", s.oid.map(Value::from));
        put("validityStartMjdTai", s.validityStartMjdTai.map(Value::from));
        put("ra", s.ra.map(Value::from));
        put("raErr", s.raErr.map(Value::from));
        put("dec", s.dec.map(Value::from));
        put("decErr", s.decErr.map(Value::from));
        put("ra_dec_Cov", s.ra_dec_Cov.map(Value::from));
        put("firstDiaSourceMjdTai", s.firstDiaSourceMjdTai.map(Value::from));
        put("lastDiaSourceMjdTai", s.lastDiaSourceMjdTai.map(Value::from));
        put("nDiaSources", s.nDiaSources.map(Value::from));
        for (band, stats) in &s.bands {
            stats.put(&mut m, band);
        }
        m.extend(s.extra);
        m
    }
}

impl LsstDiaObjectStats {
    /// The statistics of one band (`u`, `g`, `r`, `i`, `z`, `y`).
    pub fn band(&self, letter: &str) -> Option<&LsstBandFluxStats> {
        self.bands.get(letter)
    }
}

pub(super) fn dash_value<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Value>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.filter(|v| !matches!(v, Value::Null) && v.as_str().map(str::trim) != Some("-")))
}

pub(super) fn dash_f64<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    Ok(dash_value(d)?.as_ref().and_then(value_f64))
}

pub(super) fn dash_i64<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    Ok(dash_value(d)?.as_ref().and_then(value_i64))
}

pub(super) fn dash_bool<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<bool>, D::Error> {
    Ok(dash_value(d)?.and_then(|v| match v {
        Value::Bool(b) => Some(b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" => Some(true),
            "false" | "f" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        _ => None,
    }))
}

/// One ZTF row of `magstat_api/magstats` (`magstat_api/routes/temporal_utils.py::mag_parser`):
/// the server renames `band` to `fid` and then deletes it, so a row has **no band**;
/// `ndet`, `firstmjd`, `lastmjd` are always the string `"-"` (read as `None`), and a
/// column missing on the server is `"-"` too. Floats are rounded to 3 decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct MsZtfMagstat {
    #[serde(default, deserialize_with = "dash_bool")]
    pub stellar: Option<bool>,
    #[serde(default, deserialize_with = "dash_bool")]
    pub corrected: Option<bool>,
    #[serde(default, deserialize_with = "dash_i64")]
    pub ndubious: Option<i64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magmean: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magmedian: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magmax: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magmin: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magsigma: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub maglast: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub magfirst: Option<f64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub step_id_corr: Option<String>,
    #[serde(default, deserialize_with = "dash_i64")]
    pub ndet: Option<i64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub firstmjd: Option<f64>,
    #[serde(default, deserialize_with = "dash_f64")]
    pub lastmjd: Option<f64>,
    /// Fields this crate does not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
