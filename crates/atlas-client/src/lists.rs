//! Lists: `objectlist/` (detection and custom lists, with filters), `objectgroupslist/`,
//! custom-list membership (`objectgroups/`, `objectgroupsdelete/`) and moving an object
//! between detection lists (`objectdetectionlist/`).

use broker_core::{Error, Request, Response, Result};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::Value;

use crate::client::{AtlasClient, DateThreshold, finite, py_bool};
use crate::ids::{AtlasId, CustomList, DetectionList, ListRef};
use crate::models::{ObjectGroupRow, ObjectListRow};

/// What the server did with a write. Write endpoints answer 2xx even when they did
/// nothing; the `info` text says what happened, and only [`WriteOutcome::Created`] and
/// [`WriteOutcome::Removed`] are successes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// "Row created." (also an update on `vrarank/` and `objectdetectionlist/`).
    Created,
    /// Removed from a custom list (204).
    Removed,
    /// "Duplicate row. Cannot add row."
    Duplicate,
    /// "Object does not exist."
    ObjectNotFound,
    /// "Object group ID does not exist."
    GroupNotFound,
    /// "Object group ID does not exist or object ID does not exist." (removing an object
    /// that is not on the list).
    NotInList,
    /// "Error updating row."
    UpdateFailed,
    /// Any other text.
    Other(String),
}

impl WriteOutcome {
    /// Maps the server's `info` text.
    pub fn from_info(info: &str) -> Self {
        let t = info.trim();
        match t {
            "Row created." => WriteOutcome::Created,
            "Row deleted." => WriteOutcome::Removed,
            "Duplicate row. Cannot add row." => WriteOutcome::Duplicate,
            "Object does not exist." => WriteOutcome::ObjectNotFound,
            "Object group ID does not exist." => WriteOutcome::GroupNotFound,
            "Object group ID does not exist or object ID does not exist." => WriteOutcome::NotInList,
            "Error updating row." => WriteOutcome::UpdateFailed,
            _ => {
                let l = t.to_ascii_lowercase();
                if l.contains("or object id does not exist") {
                    WriteOutcome::NotInList
                } else if l.contains("group") && l.contains("does not exist") {
                    WriteOutcome::GroupNotFound
                } else if l.contains("object does not exist") {
                    WriteOutcome::ObjectNotFound
                } else if l.contains("duplicate") {
                    WriteOutcome::Duplicate
                } else {
                    WriteOutcome::Other(t.to_string())
                }
            }
        }
    }
    /// Whether the write took effect.
    pub fn is_success(&self) -> bool {
        matches!(self, WriteOutcome::Created | WriteOutcome::Removed)
    }
}

/// The outcome of a write for one id in a multi-id call.
#[derive(Debug)]
pub struct IdWrite {
    /// The id.
    pub id: AtlasId,
    /// What the server did, or why the request failed.
    pub result: Result<WriteOutcome>,
}

impl IdWrite {
    /// Whether the write took effect.
    pub fn is_success(&self) -> bool {
        self.result.as_ref().is_ok_and(WriteOutcome::is_success)
    }
}

/// The `info` text of a JSON reply (any of `info`, `error`, `detail`).
fn info_text(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let m = v.as_object()?;
    ["info", "error", "detail"].iter().find_map(|k| m.get(*k).and_then(Value::as_str).map(str::to_string))
}

fn outcome_of(resp: &Response) -> Result<WriteOutcome> {
    if resp.status == 204 {
        return Ok(WriteOutcome::Removed);
    }
    match info_text(&resp.body) {
        Some(info) => Ok(WriteOutcome::from_info(&info)),
        None => Err(Error::Decode {
            path: "info".into(),
            message: "the write reply has no `info` text".into(),
            excerpt: broker_core::error::excerpt(&resp.body),
            url: broker_core::redact_url(&resp.url),
        }),
    }
}

/// Builds an `objectlist/` request (see [`AtlasClient::object_list`]).
#[derive(Debug, Clone)]
pub struct ObjectListRequest {
    client: AtlasClient,
    list: ListRef,
    date: Option<DateThreshold>,
    floats: Vec<(&'static str, f64)>,
    texts: Vec<(&'static str, String)>,
}

macro_rules! float_filter {
    ($name:ident, $key:literal, $doc:literal) => {
        #[doc = $doc]
        pub fn $name(mut self, v: f64) -> Self {
            self.floats.retain(|(k, _)| *k != $key);
            self.floats.push(($key, v));
            self
        }
    };
}

/// The order the filters go on the wire (as `atlasapiclient` sends them).
const FILTER_ORDER: [&str; 10] = [
    "vra_gte",
    "vra_lte",
    "rb_pix_gte",
    "rb_pix_lte",
    "ra_gte",
    "ra_lte",
    "dec_gte",
    "dec_lte",
    "sherlock_class",
    "spec_type",
];

/// Sherlock classes `atlasapiclient` knows (others are sent too, with a warning).
pub const SHERLOCK_CLASSES: [&str; 8] = ["ORPHAN", "SN", "NT", "VS", "CV", "BS", "UNCLEAR", "HPM"];

impl ObjectListRequest {
    /// Only objects flagged for follow-up after this date (`datethreshold`). By default the
    /// whole list is returned (the unreleased `atlasapiclient` main defaults to 100 days
    /// ago: use [`DateThreshold::days_ago`]).
    pub fn date_threshold(mut self, d: impl Into<DateThreshold>) -> Self {
        self.date = Some(d.into());
        self
    }
    float_filter!(vra_gte, "vra_gte", "VRA score at least this (`vra_gte`).");
    float_filter!(vra_lte, "vra_lte", "VRA score at most this (`vra_lte`).");
    float_filter!(rb_pix_gte, "rb_pix_gte", "Pixel real/bogus at least this (`rb_pix_gte`).");
    float_filter!(rb_pix_lte, "rb_pix_lte", "Pixel real/bogus at most this (`rb_pix_lte`).");
    float_filter!(ra_gte, "ra_gte", "RA at least this, degrees (`ra_gte`).");
    float_filter!(ra_lte, "ra_lte", "RA at most this, degrees (`ra_lte`).");
    float_filter!(dec_gte, "dec_gte", "Dec at least this, degrees (`dec_gte`).");
    float_filter!(dec_lte, "dec_lte", "Dec at most this, degrees (`dec_lte`).");
    /// Sherlock classification, exact (`sherlock_class`, e.g. `SN`).
    pub fn sherlock_class(mut self, class: impl Into<String>) -> Self {
        self.texts.retain(|(k, _)| *k != "sherlock_class");
        self.texts.push(("sherlock_class", class.into()));
        self
    }
    /// Spectroscopic type / observation status, exact (`spec_type`, e.g. `SN Ia`).
    pub fn spec_type(mut self, t: impl Into<String>) -> Self {
        self.texts.retain(|(k, _)| *k != "spec_type");
        self.texts.push(("spec_type", t.into()));
        self
    }

    fn validate(&self) -> Result<()> {
        for (k, v) in &self.floats {
            finite(k, *v)?;
            let ok = match *k {
                "ra_gte" | "ra_lte" => (0.0..=360.0).contains(v),
                "dec_gte" | "dec_lte" => (-90.0..=90.0).contains(v),
                _ => true,
            };
            if !ok {
                let range = if k.starts_with("ra") { "[0, 360]" } else { "[-90, 90]" };
                return Err(Error::invalid(*k, format!("{v} is out of range: use degrees in {range}")));
            }
        }
        for (k, v) in &self.texts {
            if v.trim().is_empty() {
                return Err(Error::invalid(*k, "the value is empty"));
            }
            if *k == "sherlock_class" && !SHERLOCK_CLASSES.contains(&v.as_str()) {
                tracing::warn!(class = %v, known = ?SHERLOCK_CLASSES, "unknown Sherlock class; sending it anyway");
            }
        }
        Ok(())
    }

    /// Sends the request.
    ///
    /// Note: the filters are new on the server (2026); a server that does not know them
    /// ignores them and returns the whole list.
    pub async fn send(self) -> Result<Vec<ObjectListRow>> {
        self.validate()?;
        let mut req = AtlasClient::read("objectlist/")
            .form("objectlistid", self.list.id())
            .form("getcustomlist", py_bool(self.list.is_custom()))
            .form_opt("datethreshold", self.date.map(|d| d.to_form()));
        for key in FILTER_ORDER {
            if let Some((_, v)) = self.floats.iter().find(|(k, _)| *k == key) {
                req = req.form(key, v);
            }
            if let Some((_, v)) = self.texts.iter().find(|(k, _)| *k == key) {
                req = req.form(key, v.trim());
            }
        }
        self.client.send(req).await?.json()
    }
}

impl AtlasClient {
    /// The objects of a detection list or custom list (`POST objectlist/` with
    /// `objectlistid`, `getcustomlist` and optional `datethreshold` and filters).
    pub fn object_list(&self, list: impl Into<ListRef>) -> ObjectListRequest {
        ObjectListRequest { client: self.clone(), list: list.into(), date: None, floats: Vec::new(), texts: Vec::new() }
    }

    /// The membership rows of one custom list (`objectgroupslist/` with `objectgroupid`).
    pub async fn custom_list_rows(&self, list: impl Into<CustomList>) -> Result<Vec<ObjectGroupRow>> {
        let req = AtlasClient::read("objectgroupslist/").form("objectgroupid", list.into().id());
        self.send(req).await?.json()
    }

    /// The custom lists an object is on (`objectgroupslist/` with `objectid`).
    pub async fn custom_lists_of(&self, id: AtlasId) -> Result<Vec<ObjectGroupRow>> {
        let req = AtlasClient::read("objectgroupslist/").form("objectid", id);
        self.send(req).await?.json()
    }

    /// Every membership row of every custom list (`objectgroupslist/` with an empty body).
    pub async fn all_custom_list_rows(&self) -> Result<Vec<ObjectGroupRow>> {
        self.send(AtlasClient::read("objectgroupslist/")).await?.json()
    }

    /// Adds objects to a custom list: one `POST objectgroups/` per id
    /// (`objectid=<id>&objectgroupid=<list>`; the server takes one integer per request).
    /// Returns one [`IdWrite`] per distinct id, in order; a failed request fails only its
    /// id. Fails as a whole only on invalid input.
    pub async fn add_to_custom_list(
        &self,
        list: impl Into<CustomList>,
        ids: impl IntoIterator<Item = AtlasId>,
    ) -> Result<Vec<IdWrite>> {
        self.custom_list_writes("objectgroups/", list.into(), ids).await
    }

    /// Removes objects from a custom list: one `POST objectgroupsdelete/` per id. The
    /// server answers 204 when removed and 400 with an `info` text otherwise; both are
    /// outcomes, not errors.
    pub async fn remove_from_custom_list(
        &self,
        list: impl Into<CustomList>,
        ids: impl IntoIterator<Item = AtlasId>,
    ) -> Result<Vec<IdWrite>> {
        self.custom_list_writes("objectgroupsdelete/", list.into(), ids).await
    }

    async fn custom_list_writes(
        &self,
        path: &'static str,
        list: CustomList,
        ids: impl IntoIterator<Item = AtlasId>,
    ) -> Result<Vec<IdWrite>> {
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<AtlasId> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
        if ids.is_empty() {
            return Err(Error::invalid("ids", "the list of ids is empty: give at least one ATLAS object id"));
        }
        let client = self.clone();
        let writes = futures::stream::iter(ids)
            .map(move |id| {
                let client = client.clone();
                async move {
                    let result = client.custom_list_write(path, list, id).await;
                    IdWrite { id, result }
                }
            })
            .buffered(self.inner.concurrency);
        Ok(writes.collect().await)
    }

    async fn custom_list_write(&self, path: &str, list: CustomList, id: AtlasId) -> Result<WriteOutcome> {
        let req = AtlasClient::write(path).form("objectid", id).form("objectgroupid", list.id());
        match self.send(req).await {
            Ok(resp) => outcome_of(&resp),
            Err(Error::Http(h)) if h.status == 400 => match info_text(&h.body) {
                Some(info) if info.to_ascii_lowercase().contains("does not exist") => {
                    Ok(WriteOutcome::from_info(&info))
                }
                _ => Err(Error::Http(h)),
            },
            Err(e) => Err(e),
        }
    }

    /// Moves an object to another detection list (`POST objectdetectionlist/` with
    /// `objectid`, `objectlist` and, when given, `insertdate`: the server stores it as the
    /// object's `date_modified`, default now). The server allows only `possible` (3),
    /// `eyeball` (4) and `galcand` (12), so other lists are refused before sending.
    ///
    /// A write, safe to retry: sending it twice leaves the object in the same list (with
    /// `insertdate` given, in exactly the same state).
    pub async fn set_detection_list(
        &self,
        id: AtlasId,
        list: DetectionList,
        insertdate: Option<DateTime<Utc>>,
    ) -> Result<WriteOutcome> {
        let req = detection_list_request(id, list, insertdate)?;
        outcome_of(&self.send(req).await?)
    }
}

/// `POST objectdetectionlist/`, checked before sending.
fn detection_list_request(id: AtlasId, list: DetectionList, insertdate: Option<DateTime<Utc>>) -> Result<Request> {
    const ALLOWED: [DetectionList; 3] = [DetectionList::Possible, DetectionList::Eyeball, DetectionList::Galcand];
    if !ALLOWED.contains(&list) {
        return Err(Error::invalid(
            "objectlist",
            format!(
                "{list} ({}) cannot be set through the API: use possible (3), eyeball (4) or galcand (12)",
                list.id()
            ),
        ));
    }
    Ok(AtlasClient::idempotent_write("objectdetectionlist/")
        .form("objectid", id)
        .form("objectlist", list.id())
        .form_opt("insertdate", insertdate.map(crate::vra::insertdate)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use broker_core::RetrySafety;
    use chrono::TimeZone;

    #[test]
    fn detection_list_move_is_an_idempotent_write_with_insertdate() {
        let id = AtlasId::new(1161600211221604900).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 7, 1, 12, 30, 0).unwrap();
        let req = detection_list_request(id, DetectionList::Eyeball, Some(at)).unwrap();
        assert!(req.is_write(), "objectdetectionlist/ changes the object: {req:?}");
        assert_eq!(req.safety(), RetrySafety::Safe, "setting the same list twice is harmless");
        match req.body() {
            broker_core::Body::Form(p) => assert_eq!(
                p,
                &[
                    ("objectid".to_string(), "1161600211221604900".to_string()),
                    ("objectlist".to_string(), "4".to_string()),
                    ("insertdate".to_string(), "2026-07-01T12:30:00Z".to_string())
                ]
            ),
            other => panic!("not a form: {other:?}"),
        }
        // Reads are not writes; the non-idempotent writes are not retry-safe.
        let read = AtlasClient::read("objectlist/");
        assert!(!read.is_write() && read.safety() == RetrySafety::Safe);
        let write = AtlasClient::write("objectgroups/");
        assert!(write.is_write() && write.safety() == RetrySafety::Unsafe);
    }

    #[test]
    fn info_texts_map_to_outcomes() {
        assert_eq!(WriteOutcome::from_info("Row created."), WriteOutcome::Created);
        assert_eq!(WriteOutcome::from_info("Duplicate row. Cannot add row."), WriteOutcome::Duplicate);
        assert_eq!(WriteOutcome::from_info("Object does not exist."), WriteOutcome::ObjectNotFound);
        assert_eq!(WriteOutcome::from_info("Object group ID does not exist."), WriteOutcome::GroupNotFound);
        assert_eq!(
            WriteOutcome::from_info("Object group ID does not exist or object ID does not exist."),
            WriteOutcome::NotInList
        );
        assert_eq!(WriteOutcome::from_info("Error updating row."), WriteOutcome::UpdateFailed);
        assert_eq!(WriteOutcome::from_info("Something new."), WriteOutcome::Other("Something new.".into()));
        assert!(WriteOutcome::Created.is_success() && WriteOutcome::Removed.is_success());
        assert!(!WriteOutcome::Duplicate.is_success() && !WriteOutcome::ObjectNotFound.is_success());
    }
}
