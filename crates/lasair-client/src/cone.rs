//! `cone/`: objects within a radius of a position.
//!
//! Both servers take `ra`, `dec` (degrees), `radius` (arcsec, at most 1000: a larger one
//! is answered with 400 `{"error": "Max radius is 1000 arcsec."}`) and `requestType`
//! (`nearest`, `all` or `count`). Their replies differ
//! (`webserver/lasairapi/serializers.py::ConeSerializer` in each repository):
//!
//! | `requestType` | ZTF (`lasair4`) | LSST (`lasair-lsst`) |
//! |---|---|---|
//! | `nearest` | `{"object", "separation"}` or `{}` | `{"nearest": {"object", "separation"}}` or `{}` |
//! | `all` | `[{"object", "separation"}, ...]` | `{"objects": [...], "count", "nearest"}` |
//! | `count` | `{"count": n}` | `{"count": n}` |
//!
//! [`ConeResult`] reads all of them.

use broker_core::SkyPosition;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{Api, Lsst, Ztf, read};
use crate::error::{Error, Result};
use crate::ids::ObjectId;

/// The largest cone radius the servers accept, in arcsec.
pub const MAX_CONE_RADIUS_ARCSEC: f64 = 1000.0;

/// What a cone search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConeRequest {
    /// Only the nearest object.
    Nearest,
    /// Every object in the cone.
    #[default]
    All,
    /// Only how many objects are in the cone.
    Count,
}

impl ConeRequest {
    /// The `requestType` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ConeRequest::Nearest => "nearest",
            ConeRequest::All => "all",
            ConeRequest::Count => "count",
        }
    }
}

impl std::str::FromStr for ConeRequest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "nearest" => Ok(ConeRequest::Nearest),
            "all" => Ok(ConeRequest::All),
            "count" => Ok(ConeRequest::Count),
            other => Err(Error::invalid("requestType", format!("{other:?} is not one of nearest, all, count"))),
        }
    }
}

/// One object in a cone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConeHit {
    /// The object id (ZTF text, LSST integer).
    pub object: ObjectId,
    /// Distance from the centre, arcsec.
    pub separation: f64,
}

/// A cone search result, whatever the server and request type.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ConeResult {
    /// Every hit (`all`), or the nearest one alone (`nearest`); empty for `count`.
    pub objects: Vec<ConeHit>,
    /// The nearest hit, when the reply names one.
    pub nearest: Option<ConeHit>,
    /// How many objects are in the cone (`count`; also `all` on LSST and derived for ZTF).
    pub count: Option<u64>,
}

impl ConeResult {
    /// Reads any of the reply shapes in the module docs.
    pub fn from_value(v: Value) -> std::result::Result<ConeResult, serde_json::Error> {
        let hit = |v: &Value| -> std::result::Result<Option<ConeHit>, serde_json::Error> {
            match v {
                Value::Object(m) if m.contains_key("object") => Ok(Some(serde_json::from_value(v.clone())?)),
                _ => Ok(None),
            }
        };
        match &v {
            Value::Array(items) => {
                let objects: Vec<ConeHit> = serde_json::from_value(v.clone())?;
                let nearest = objects.iter().min_by(|a, b| a.separation.total_cmp(&b.separation)).cloned();
                Ok(ConeResult { count: Some(items.len() as u64), objects, nearest })
            }
            Value::Object(m) => {
                let count = m.get("count").and_then(Value::as_u64);
                if m.contains_key("object") {
                    // ZTF nearest.
                    let h = hit(&v)?;
                    return Ok(ConeResult { objects: h.iter().cloned().collect(), nearest: h, count });
                }
                let nearest = match m.get("nearest") {
                    Some(n) => hit(n)?,
                    None => None,
                };
                let objects = match m.get("objects") {
                    Some(o) => serde_json::from_value(o.clone())?,
                    None => nearest.iter().cloned().collect(),
                };
                Ok(ConeResult { objects, nearest, count })
            }
            _ => Err(serde::de::Error::custom("a cone reply is a JSON object or array")),
        }
    }
}

pub(crate) async fn cone(api: &Api, centre: &SkyPosition, radius_arcsec: f64, kind: ConeRequest) -> Result<ConeResult> {
    if !(radius_arcsec.is_finite() && radius_arcsec > 0.0 && radius_arcsec <= MAX_CONE_RADIUS_ARCSEC) {
        return Err(Error::invalid(
            "radius",
            format!(
                "{radius_arcsec} arcsec is not a valid Lasair cone radius: use more than 0 and at most 1000 arcsec"
            ),
        ));
    }
    let req = read("cone/")
        .form("ra", centre.ra())
        .form("dec", centre.dec())
        .form("radius", radius_arcsec)
        .form("requestType", kind.as_str());
    let resp = api.http.execute(req).await?;
    let v: Value = broker_core::http::decode_json_lenient(&resp.body, &resp.url)?;
    ConeResult::from_value(v).map_err(|e| {
        Error::Core(broker_core::Error::Decode {
            path: ".".into(),
            message: e.to_string(),
            excerpt: broker_core::error::excerpt(&resp.body),
            url: broker_core::redact_url(&resp.url),
        })
    })
}

impl Ztf<'_> {
    /// Cone search (`POST cone/`, form `ra`, `dec`, `radius`, `requestType`). The radius
    /// is in arcsec, more than 0 and at most [`MAX_CONE_RADIUS_ARCSEC`].
    pub async fn cone(&self, centre: &SkyPosition, radius_arcsec: f64, kind: ConeRequest) -> Result<ConeResult> {
        cone(self.api, centre, radius_arcsec, kind).await
    }
}

impl Lsst<'_> {
    /// Cone search (`POST cone/`, form `ra`, `dec`, `radius`, `requestType`). The radius
    /// is in arcsec, more than 0 and at most [`MAX_CONE_RADIUS_ARCSEC`].
    pub async fn cone(&self, centre: &SkyPosition, radius_arcsec: f64, kind: ConeRequest) -> Result<ConeResult> {
        cone(self.api, centre, radius_arcsec, kind).await
    }
}
