//! The Virtual Research Assistant endpoints: `vrascores/`, `vrascoreslist/`, `vratodo/`,
//! `vratodolist/`, `vrarank/`, `vraranklist/`.

use broker_core::{Error, ListStyle, Request, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;

use crate::client::{AtlasClient, DateThreshold, finite, py_bool};
use crate::ids::AtlasId;
use crate::lists::WriteOutcome;
use crate::models::{VraRankRow, VraScoreRow, VraTodoRow};

/// An `insertdate` form value: RFC 3339 in UTC (`2024-02-22T09:00:00Z`), which the server's
/// DRF `DateTimeField` reads in ISO 8601.
pub(crate) fn insertdate(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn probability(field: &str, v: f64) -> Result<f64> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(Error::invalid(field, format!("{v} is not a probability: use a number in [0, 1]")))
    }
}

/// A row for `vrascores/` (always inserted as a new row).
#[derive(Debug, Clone, PartialEq)]
pub struct VraScores {
    /// The object.
    pub objectid: AtlasId,
    /// P(real), in [0, 1].
    pub preal: Option<f64>,
    /// P(galactic), in [0, 1].
    pub pgal: Option<f64>,
    /// P(fast), in [0, 1].
    pub pfast: Option<f64>,
    /// Rank.
    pub rank: Option<f64>,
    /// Alternative rank.
    pub rank_alt1: Option<f64>,
    /// Galaxy-candidate flag.
    pub is_gal_cand: Option<i64>,
    /// Debug row (sent as `True`/`False` when set).
    pub debug: Option<bool>,
    /// Insert date (server default: now).
    pub insertdate: Option<DateTime<Utc>>,
}

impl VraScores {
    /// A row for `objectid` with nothing else set.
    pub fn new(objectid: AtlasId) -> Self {
        VraScores {
            objectid,
            preal: None,
            pgal: None,
            pfast: None,
            rank: None,
            rank_alt1: None,
            is_gal_cand: None,
            debug: None,
            insertdate: None,
        }
    }
    /// Sets `preal`.
    pub fn preal(mut self, v: f64) -> Self {
        self.preal = Some(v);
        self
    }
    /// Sets `pgal`.
    pub fn pgal(mut self, v: f64) -> Self {
        self.pgal = Some(v);
        self
    }
    /// Sets `pfast`.
    pub fn pfast(mut self, v: f64) -> Self {
        self.pfast = Some(v);
        self
    }
    /// Sets `rank`.
    pub fn rank(mut self, v: f64) -> Self {
        self.rank = Some(v);
        self
    }
    /// Sets `rank_alt1`.
    pub fn rank_alt1(mut self, v: f64) -> Self {
        self.rank_alt1 = Some(v);
        self
    }
    /// Sets `is_gal_cand`.
    pub fn is_gal_cand(mut self, v: i64) -> Self {
        self.is_gal_cand = Some(v);
        self
    }
    /// Sets `debug`.
    pub fn debug(mut self, v: bool) -> Self {
        self.debug = Some(v);
        self
    }
    /// Sets `insertdate`.
    pub fn insertdate(mut self, t: DateTime<Utc>) -> Self {
        self.insertdate = Some(t);
        self
    }

    fn request(&self) -> Result<Request> {
        let preal = self.preal.map(|v| probability("preal", v)).transpose()?;
        let pgal = self.pgal.map(|v| probability("pgal", v)).transpose()?;
        let pfast = self.pfast.map(|v| probability("pfast", v)).transpose()?;
        let rank = self.rank.map(|v| finite("rank", v)).transpose()?;
        let rank_alt1 = self.rank_alt1.map(|v| finite("rank_alt1", v)).transpose()?;
        Ok(AtlasClient::write("vrascores/")
            .form("objectid", self.objectid)
            .form_opt("preal", preal)
            .form_opt("pgal", pgal)
            .form_opt("pfast", pfast)
            .form_opt("rank", rank)
            .form_opt("rank_alt1", rank_alt1)
            .form_opt("is_gal_cand", self.is_gal_cand)
            .form_opt("debug", self.debug.map(py_bool))
            .form_opt("insertdate", self.insertdate.map(insertdate)))
    }
}

/// A row for `vrarank/` (an upsert: one rank per object, keyed by the object id, so writing
/// it twice leaves the same row: the request is a write that is safe to retry).
#[derive(Debug, Clone, PartialEq)]
pub struct VraRank {
    /// The object.
    pub objectid: AtlasId,
    /// Rank (required by the server).
    pub rank: f64,
    /// Alternative rank.
    pub rank_alt1: Option<f64>,
    /// Galaxy-candidate flag.
    pub is_gal_cand: Option<i64>,
    /// The row's `timestamp` (`insertdate`; server default: now).
    pub insertdate: Option<DateTime<Utc>>,
}

impl VraRank {
    /// `POST vrarank/`: an idempotent write.
    fn request(&self) -> Result<Request> {
        let r = finite("rank", self.rank)?;
        let alt = self.rank_alt1.map(|v| finite("rank_alt1", v)).transpose()?;
        Ok(AtlasClient::idempotent_write("vrarank/")
            .form("objectid", self.objectid)
            .form("rank", r)
            .form_opt("rank_alt1", alt)
            .form_opt("is_gal_cand", self.is_gal_cand)
            .form_opt("insertdate", self.insertdate.map(insertdate)))
    }
    /// A rank for `objectid`.
    pub fn new(objectid: AtlasId, rank: f64) -> Self {
        VraRank { objectid, rank, rank_alt1: None, is_gal_cand: None, insertdate: None }
    }
    /// Sets `rank_alt1`.
    pub fn rank_alt1(mut self, v: f64) -> Self {
        self.rank_alt1 = Some(v);
        self
    }
    /// Sets `is_gal_cand`.
    pub fn is_gal_cand(mut self, v: i64) -> Self {
        self.is_gal_cand = Some(v);
        self
    }
    /// Sets `insertdate`.
    pub fn insertdate(mut self, t: DateTime<Utc>) -> Self {
        self.insertdate = Some(t);
        self
    }
}

/// Filters of the VRA list endpoints. When `objects` is given the server ignores the
/// thresholds; with nothing set it returns the whole table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VraListQuery {
    /// Only these objects (`objects`, comma-joined).
    pub objects: Vec<AtlasId>,
    /// Debug rows (`vrascoreslist/` only).
    pub debug: Option<bool>,
    /// Rows written at or after this date (`datethreshold`).
    pub date_threshold: Option<DateThreshold>,
    /// Rows with an id at or above this (`idthreshold`; not on `vraranklist/`).
    pub id_threshold: Option<u64>,
}

impl VraListQuery {
    /// An empty query (the whole table).
    pub fn new() -> Self {
        Self::default()
    }
    /// Only these objects.
    pub fn objects(mut self, ids: impl IntoIterator<Item = AtlasId>) -> Self {
        self.objects = ids.into_iter().collect();
        self
    }
    /// Debug rows or not.
    pub fn debug(mut self, v: bool) -> Self {
        self.debug = Some(v);
        self
    }
    /// Rows since this date.
    pub fn date_threshold(mut self, d: impl Into<DateThreshold>) -> Self {
        self.date_threshold = Some(d.into());
        self
    }
    /// Rows from this row id on.
    pub fn id_threshold(mut self, id: u64) -> Self {
        self.id_threshold = Some(id);
        self
    }

    fn request(&self, path: &str, debug_ok: bool, idthreshold_ok: bool) -> Result<Request> {
        if self.debug.is_some() && !debug_ok {
            return Err(Error::invalid("debug", format!("{path} has no `debug` filter: only vrascoreslist/ does")));
        }
        if self.id_threshold.is_some() && !idthreshold_ok {
            return Err(Error::invalid(
                "idthreshold",
                format!("{path} has no `idthreshold` filter: use objects or date_threshold"),
            ));
        }
        Ok(AtlasClient::read(path)
            .form_list("objects", self.objects.iter(), ListStyle::CommaJoined)
            .form_opt("debug", self.debug.map(py_bool))
            .form_opt("datethreshold", self.date_threshold.map(|d| d.to_form()))
            .form_opt("idthreshold", self.id_threshold))
    }
}

impl AtlasClient {
    async fn list_rows<T: DeserializeOwned>(&self, req: Request) -> Result<Vec<T>> {
        self.send(req).await?.json()
    }

    async fn write_outcome(&self, req: Request) -> Result<WriteOutcome> {
        let resp = self.send(req).await?;
        let v: serde_json::Value = resp.json()?;
        match v.get("info").and_then(serde_json::Value::as_str) {
            Some(info) => Ok(WriteOutcome::from_info(info)),
            None => Err(Error::Decode {
                path: "info".into(),
                message: "the write reply has no `info` text".into(),
                excerpt: broker_core::error::excerpt(&resp.body),
                url: broker_core::redact_url(&resp.url),
            }),
        }
    }

    /// Writes VRA scores (`POST vrascores/`); 201 with "Row created." or
    /// "Object does not exist.".
    pub async fn write_vra_scores(&self, scores: &VraScores) -> Result<WriteOutcome> {
        self.write_outcome(scores.request()?).await
    }

    /// VRA score rows (`POST vrascoreslist/`).
    pub async fn vra_scores_list(&self, query: &VraListQuery) -> Result<Vec<VraScoreRow>> {
        self.list_rows(query.request("vrascoreslist/", true, true)?).await
    }

    /// Adds an object to the VRA to-do list (`POST vratodo/`); "Duplicate row. Cannot add
    /// row." when it is already there.
    pub async fn add_vra_todo(&self, id: AtlasId, insert: Option<DateTime<Utc>>) -> Result<WriteOutcome> {
        let req = AtlasClient::write("vratodo/").form("objectid", id).form_opt("insertdate", insert.map(insertdate));
        self.write_outcome(req).await
    }

    /// VRA to-do rows (`POST vratodolist/`).
    pub async fn vra_todo_list(&self, query: &VraListQuery) -> Result<Vec<VraTodoRow>> {
        self.list_rows(query.request("vratodolist/", false, true)?).await
    }

    /// Writes (upserts) a VRA rank (`POST vrarank/`). A write, safe to retry: the server
    /// keeps one rank row per object.
    pub async fn write_vra_rank(&self, rank: &VraRank) -> Result<WriteOutcome> {
        self.write_outcome(rank.request()?).await
    }

    /// VRA rank rows (`POST vraranklist/`).
    pub async fn vra_rank_list(&self, query: &VraListQuery) -> Result<Vec<VraRankRow>> {
        self.list_rows(query.request("vraranklist/", false, false)?).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use broker_core::RetrySafety;

    #[test]
    fn vra_rank_is_an_idempotent_write() {
        let req = VraRank::new(AtlasId::new(1161600211221604900).unwrap(), 8.25).request().unwrap();
        assert!(req.is_write(), "vrarank/ writes a row: {req:?}");
        assert_eq!(req.safety(), RetrySafety::Safe, "vrarank/ upserts the object's one rank row");
        let scores = VraScores::new(AtlasId::new(1161600211221604900).unwrap()).request().unwrap();
        assert!(scores.is_write() && scores.safety() == RetrySafety::Unsafe, "vrascores/ inserts a new row each time");
    }
}
