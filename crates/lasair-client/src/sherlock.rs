//! Sherlock: the contextual classification of an object or a position.
//!
//! `sherlock/object/` (form `objectId`, `lite`) and `sherlock/position/` (form `ra`,
//! `dec`, `lite`) on both servers. The ZTF serializer reads `objectId` as text and
//! declares `lite` without a default (so this client always sends it); the LSST one reads
//! `objectId` as an integer. Both pass the Sherlock service's reply through
//! (`services/sherlock/app.py` in `lasair-lsst`): `{"classifications": {name: [class,
//! description]}, "crossmatches": [{...}, ...]}`; for a position the name is `query0`.
//! An unknown LSST object is a 404 `{"message": "Object ... not found"}`.

use broker_core::SkyPosition;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Lsst, Ztf, py_bool, read};
use crate::error::{Error, Result};

/// A Sherlock reply.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SherlockReply {
    /// Name (object id, or `query0` for a position) to `[classification, description]`.
    #[serde(default)]
    pub classifications: Map<String, Value>,
    /// The catalogue crossmatches, best first (`catalogue_object_id`, `separationArcsec`,
    /// `association_type`, `z`, `catalogue_table_name`, ...; only the top one with `lite`).
    #[serde(default)]
    pub crossmatches: Vec<Map<String, Value>>,
    /// Anything else the service sends.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SherlockReply {
    /// The classification of `name` (e.g. `SN`, `NT`, `AGN`, `VS`, `CV`, `BS`, `ORPHAN`).
    pub fn classification(&self, name: &str) -> Option<&str> {
        match self.classifications.get(name)? {
            Value::Array(a) => a.first()?.as_str(),
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// The first classification of the reply, whatever its name.
    pub fn first_classification(&self) -> Option<(&str, &str)> {
        self.classifications.keys().next().and_then(|k| self.classification(k).map(|c| (k.as_str(), c)))
    }
}

fn position_request(pos: &SkyPosition, lite: bool) -> broker_core::Request {
    read("sherlock/position/").form("ra", pos.ra()).form("dec", pos.dec()).form("lite", py_bool(lite))
}

impl Ztf<'_> {
    /// Sherlock for an object (`POST sherlock/object/`, form `objectId`, `lite`).
    pub async fn sherlock_object(&self, object_id: &str, lite: bool) -> Result<SherlockReply> {
        let id = object_id.trim();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(Error::invalid(
                "objectId",
                format!("{object_id:?} is not a ZTF object id (e.g. ZTF21abcdefg)"),
            ));
        }
        self.api.send(read("sherlock/object/").form("objectId", id).form("lite", py_bool(lite))).await
    }
    /// Sherlock for a position (`POST sherlock/position/`, form `ra`, `dec`, `lite`).
    pub async fn sherlock_position(&self, pos: &SkyPosition, lite: bool) -> Result<SherlockReply> {
        self.api.send(position_request(pos, lite)).await
    }
}

impl Lsst<'_> {
    /// Sherlock for an object (`POST sherlock/object/`, form `objectId`, `lite`).
    pub async fn sherlock_object(&self, dia_object_id: i64, lite: bool) -> Result<SherlockReply> {
        self.api.send(read("sherlock/object/").form("objectId", dia_object_id).form("lite", py_bool(lite))).await
    }
    /// Sherlock for a position (`POST sherlock/position/`, form `ra`, `dec`, `lite`).
    pub async fn sherlock_position(&self, pos: &SkyPosition, lite: bool) -> Result<SherlockReply> {
        self.api.send(position_request(pos, lite)).await
    }
}
