//! Candidates: objects that passed a filter (`/api/candidates`).

use broker_core::paginate::ItemStream;
use broker_core::{Error, Request, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{CacheMode, Client, ListPage, ListSpec, check_page_number, check_page_size};
use crate::models::{Candidate, IdsReply};
use crate::params::{QueryParams, query_setters};
use crate::sources::{failed_stream, head_exists};
use crate::validate;

/// Largest `numPerPage` for `/api/candidates` (the server default is 25).
pub const MAX_CANDIDATES_PER_PAGE: u64 = 500;

/// The `savedStatus` filter of [`CandidateList::saved_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedStatus {
    /// `all`
    All,
    /// `savedToAllSelected`
    SavedToAllSelected,
    /// `savedToAnySelected`
    SavedToAnySelected,
    /// `savedToAnyAccessible`
    SavedToAnyAccessible,
    /// `notSavedToAnyAccessible`
    NotSavedToAnyAccessible,
    /// `notSavedToAnySelected`
    NotSavedToAnySelected,
    /// `notSavedToAllSelected`
    NotSavedToAllSelected,
}

impl SavedStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            SavedStatus::All => "all",
            SavedStatus::SavedToAllSelected => "savedToAllSelected",
            SavedStatus::SavedToAnySelected => "savedToAnySelected",
            SavedStatus::SavedToAnyAccessible => "savedToAnyAccessible",
            SavedStatus::NotSavedToAnyAccessible => "notSavedToAnyAccessible",
            SavedStatus::NotSavedToAnySelected => "notSavedToAnySelected",
            SavedStatus::NotSavedToAllSelected => "notSavedToAllSelected",
        }
    }
}

/// Candidate endpoints; from [`Client::candidates`].
#[derive(Debug, Clone)]
pub struct Candidates {
    client: Client,
}

impl Client {
    /// Candidate endpoints.
    pub fn candidates(&self) -> Candidates {
        Candidates { client: self.clone() }
    }
}

impl Candidates {
    /// Lists candidates with filters; see [`CandidateList`].
    pub fn list(&self) -> CandidateList {
        CandidateList {
            client: self.client.clone(),
            q: QueryParams::default(),
            page_size: MAX_CANDIDATES_PER_PAGE,
            max_pages: None,
            query_id: None,
        }
    }

    /// One candidate: `GET /api/candidates/{obj_id}`; see [`CandidateGet`] for the options
    /// (an unknown id is a 400 "Invalid ID"; see [`crate::is_not_found`]).
    pub fn get(&self, obj_id: &str) -> CandidateGet {
        let mut q = QueryParams::default();
        if let Err(e) = validate::obj_id(obj_id) {
            q.fail(e);
        }
        CandidateGet { client: self.client.clone(), obj_id: obj_id.to_string(), q }
    }

    /// Candidate object ids starting with `prefix` (case-insensitive; `%` and `_` in it
    /// are SQL wildcards), at most `limit` (1 to 500), sorted: `GET
    /// /api/candidates?nameOnly=true&objID=..&numPerPage=..`. This is the quick search of
    /// the web page: one request, no paging and no total (the server ignores
    /// `pageNumber` there), so it is not a stream.
    pub async fn ids_starting_with(&self, prefix: &str, limit: u64) -> Result<Vec<String>> {
        validate::non_empty("objID", prefix)?;
        check_page_size(limit, MAX_CANDIDATES_PER_PAGE)?;
        let req =
            Request::get("api/candidates").query("nameOnly", "true").query("objID", prefix).query("numPerPage", limit);
        let r: NameOnlyReply = self.client.data(req).await?;
        Ok(r.candidates.into_iter().map(|c| c.id).collect())
    }

    /// Whether a candidate exists: `HEAD /api/candidates/{obj_id}` (200 or 404).
    pub async fn exists(&self, obj_id: &str) -> Result<bool> {
        let id = validate::obj_id(obj_id)?;
        head_exists(&self.client, format!("api/candidates/{id}")).await
    }

    /// Creates candidates (one per filter): `POST /api/candidates` → the new ids.
    pub async fn create(&self, candidate: &NewCandidate) -> Result<Vec<i64>> {
        candidate.validate()?;
        let r: IdsReply = self.client.data(Request::post("api/candidates").json(candidate)).await?;
        Ok(r.ids)
    }

    /// Deletes the candidate of an object for one filter:
    /// `DELETE /api/candidates/{obj_id}/{filter_id}`.
    pub async fn delete(&self, obj_id: &str, filter_id: i64) -> Result<()> {
        let id = validate::obj_id(obj_id)?;
        self.client.ok(Request::delete(format!("api/candidates/{id}/{filter_id}"))).await
    }
}

#[derive(Deserialize)]
struct NameOnlyReply {
    #[serde(default)]
    candidates: Vec<NameOnly>,
}

#[derive(Deserialize)]
struct NameOnly {
    id: String,
}

/// `GET /api/candidates/{obj_id}` and its options.
#[derive(Debug, Clone)]
pub struct CandidateGet {
    client: Client,
    obj_id: String,
    q: QueryParams,
}

impl CandidateGet {
    query_setters! {
        /// Include the filters and alerts it passed (`filter_ids`, `passing_alerts`).
        include_alerts: bool = "includeAlerts";
        /// Include photometry (with its annotations).
        include_photometry: bool = "includePhotometry";
        /// Include spectra.
        include_spectra: bool = "includeSpectra";
        /// Include comments.
        include_comments: bool = "includeComments";
        /// Include follow-up requests.
        include_followup_requests: bool = "includeFollowupRequests";
        /// Include associated objects (server default true).
        include_associated_objs: bool = "includeAssociatedObjs";
    }

    /// Sends the request.
    pub async fn send(self) -> Result<Candidate> {
        self.q.check()?;
        let mut req = Request::get(format!("api/candidates/{}", self.obj_id));
        for (k, v) in &self.q.pairs {
            req = req.query(k, v);
        }
        self.client.data(req).await
    }
}

/// The body of `POST /api/candidates`: `ObjPost` plus `filter_ids` and `passed_at`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewCandidate {
    /// Object id.
    pub id: String,
    /// Right ascension (deg).
    pub ra: f64,
    /// Declination (deg).
    pub dec: f64,
    /// Filters it passed (at least one).
    pub filter_ids: Vec<i64>,
    /// When it passed (Arrow-parseable, e.g. `2021-03-04T05:06:07`).
    pub passed_at: String,
    /// The alert that passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passing_alert_id: Option<i64>,
    /// Any other `ObjPost` field (`redshift`, `origin`, `altdata`, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl NewCandidate {
    fn validate(&self) -> Result<()> {
        validate::obj_id(&self.id)?;
        broker_core::SkyPosition::new(self.ra, self.dec)?;
        if self.filter_ids.is_empty() {
            return Err(Error::invalid("filter_ids", "give at least one filter id"));
        }
        validate::non_empty("passed_at", &self.passed_at)?;
        Ok(())
    }
}

/// What an annotation value must equal in an [`AnnotationFilter`].
#[derive(Debug, Clone, PartialEq)]
pub enum AnnotationValue {
    /// A boolean: compared as a boolean.
    Bool(bool),
    /// Text, compared with the annotation value as text (Postgres `->>`): a number is
    /// matched by its JSON text (`"0.5"`), a nested object by its compact JSON text.
    Text(String),
}

impl From<bool> for AnnotationValue {
    fn from(v: bool) -> Self {
        AnnotationValue::Bool(v)
    }
}
impl From<&str> for AnnotationValue {
    fn from(v: &str) -> Self {
        AnnotationValue::Text(v.to_string())
    }
}
impl From<String> for AnnotationValue {
    fn from(v: String) -> Self {
        AnnotationValue::Text(v)
    }
}
impl From<i64> for AnnotationValue {
    fn from(v: i64) -> Self {
        AnnotationValue::Text(v.to_string())
    }
}
impl From<Value> for AnnotationValue {
    /// A boolean stays a boolean, a string is the text, anything else its JSON text.
    fn from(v: Value) -> Self {
        match v {
            Value::Bool(b) => AnnotationValue::Bool(b),
            Value::String(s) => AnnotationValue::Text(s),
            other => AnnotationValue::Text(other.to_string()),
        }
    }
}

/// One item of the candidates' `annotationFilterList`: annotations from `origin` whose
/// `key` equals a value, or lies in `[min, max]` (`handlers/api/candidate/candidate.py`).
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationFilter {
    /// The annotation origin (`kowalski`).
    pub origin: String,
    /// The key in the annotation's data (`drb`).
    pub key: String,
    /// The test.
    pub test: AnnotationTest,
}

/// The test of an [`AnnotationFilter`].
#[derive(Debug, Clone, PartialEq)]
pub enum AnnotationTest {
    /// `{"value": ...}`: equal to this value.
    Equals(AnnotationValue),
    /// `{"min": ..., "max": ...}`: a number in `[min, max]`.
    Range {
        /// Lower bound (inclusive).
        min: f64,
        /// Upper bound (inclusive).
        max: f64,
    },
}

impl AnnotationFilter {
    /// Annotations whose `key` equals `value` (`true`, `"Ia"`, `5`, or a
    /// `serde_json::Value`).
    pub fn equals(origin: impl Into<String>, key: impl Into<String>, value: impl Into<AnnotationValue>) -> Self {
        AnnotationFilter { origin: origin.into(), key: key.into(), test: AnnotationTest::Equals(value.into()) }
    }

    /// Annotations whose numeric `key` lies in `[min, max]`.
    pub fn range(origin: impl Into<String>, key: impl Into<String>, min: f64, max: f64) -> Self {
        AnnotationFilter { origin: origin.into(), key: key.into(), test: AnnotationTest::Range { min, max } }
    }

    /// The compact JSON object sent for this filter, checked.
    fn to_json(&self) -> Result<String> {
        let field = "annotationFilterList";
        if self.origin.trim().is_empty() || self.key.trim().is_empty() {
            return Err(Error::invalid(field, "each filter needs a non-empty origin and key"));
        }
        let mut m = serde_json::Map::new();
        m.insert("origin".into(), Value::from(self.origin.clone()));
        m.insert("key".into(), Value::from(self.key.clone()));
        match &self.test {
            AnnotationTest::Equals(AnnotationValue::Bool(b)) => {
                m.insert("value".into(), Value::from(*b));
            }
            AnnotationTest::Equals(AnnotationValue::Text(t)) => {
                m.insert("value".into(), Value::from(t.clone()));
            }
            AnnotationTest::Range { min, max } => {
                for (name, v) in [("min", min), ("max", max)] {
                    if !v.is_finite() {
                        return Err(Error::invalid(field, format!("{name} {v} is not a finite number")));
                    }
                }
                if min > max {
                    return Err(Error::invalid(field, format!("min {min} is above max {max}")));
                }
                m.insert("min".into(), Value::from(*min));
                m.insert("max".into(), Value::from(*max));
            }
        }
        let text = Value::Object(m).to_string();
        if text.contains(",{") {
            return Err(Error::invalid(
                field,
                format!("{text} contains `,{{`, where the server splits the list: it cannot be sent"),
            ));
        }
        Ok(text)
    }
}

/// `GET /api/candidates` with its filters. The server always caches candidate queries;
/// the stream carries the returned `queryID` to later pages. Multi-valued filters are
/// comma-joined (`groupIDs=1,2`).
#[derive(Debug, Clone)]
pub struct CandidateList {
    client: Client,
    q: QueryParams,
    page_size: u64,
    max_pages: Option<u64>,
    query_id: Option<String>,
}

impl CandidateList {
    /// Items per page, 1 to 500 (default 500).
    pub fn page_size(mut self, n: u64) -> Self {
        match check_page_size(n, MAX_CANDIDATES_PER_PAGE) {
            Ok(n) => self.page_size = n,
            Err(e) => self.q.fail(e),
        }
        self
    }

    /// Stops after this many pages.
    pub fn max_pages(mut self, n: u64) -> Self {
        self.max_pages = Some(n);
        self
    }

    /// Continues a cached query.
    pub fn query_id(mut self, id: impl Into<String>) -> Self {
        self.query_id = Some(id.into());
        self
    }

    /// `savedStatus`.
    pub fn saved_status(mut self, s: SavedStatus) -> Self {
        self.q.set("savedStatus", s.as_str());
        self
    }

    /// Adds any other query parameter by its server name.
    pub fn param(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        match key {
            "totalMatches" => {
                self.q.fail(Error::invalid("totalMatches", "is bookkeeping for the web page: never send it"))
            }
            "annotationExcludeOrigin" | "annotationExcludeOutdatedDate" => self.q.fail(Error::invalid(
                key,
                "is no longer supported by the server (it answers 400): use annotation_filters instead",
            )),
            "nameOnly" | "objID" => self.q.fail(Error::invalid(
                key,
                "turns the listing into a one-shot name search that ignores paging: use Candidates::ids_starting_with",
            )),
            _ => self.q.set(key, value),
        }
        self
    }

    /// Keeps candidates whose annotations pass every filter (`annotationFilterList`: the
    /// filters as compact JSON objects, comma-joined; the server splits them on a comma
    /// followed by `{`). A filter whose text contains `,{` cannot be sent and is refused.
    pub fn annotation_filters(mut self, filters: impl IntoIterator<Item = AnnotationFilter>) -> Self {
        let mut parts = Vec::new();
        for f in filters {
            match f.to_json() {
                Ok(t) => parts.push(t),
                Err(e) => {
                    self.q.fail(e);
                    return self;
                }
            }
        }
        if parts.is_empty() {
            self.q.fail(Error::invalid("annotationFilterList", "the list is empty: give at least one filter"));
        } else {
            self.q.set("annotationFilterList", parts.join(","));
        }
        self
    }

    query_setters! {
        /// Only candidates of these groups' filters.
        group_ids: ids = "groupIDs";
        /// Only candidates that passed these filters.
        filter_ids: ids = "filterIDs";
        /// Passed on or after this date (Arrow-parseable).
        start_date: str = "startDate";
        /// Passed on or before this date.
        end_date: str = "endDate";
        /// Classifications to match.
        classifications: strs = "classifications";
        /// Classifications to reject.
        classifications_reject: strs = "classificationsReject";
        /// Redshift at least.
        min_redshift: f64 = "minRedshift";
        /// Redshift at most.
        max_redshift: f64 = "maxRedshift";
        /// Only candidates in the user's list with this name.
        list_name: str = "listName";
        /// Only candidates not in this list.
        list_name_reject: str = "listNameReject";
        /// Sort by the annotation of this origin.
        sort_by_annotation_origin: str = "sortByAnnotationOrigin";
        /// Sort by this annotation key.
        sort_by_annotation_key: str = "sortByAnnotationKey";
        /// `asc` or `desc`.
        sort_by_annotation_order: str = "sortByAnnotationOrder";
        /// Include photometry.
        include_photometry: bool = "includePhotometry";
        /// Include spectra.
        include_spectra: bool = "includeSpectra";
        /// Include comments.
        include_comments: bool = "includeComments";
        /// Include follow-up requests.
        include_followup_requests: bool = "includeFollowupRequests";
        /// Include associated objects (server default true).
        include_associated_objs: bool = "includeAssociatedObjs";
        /// `"annotation: value: operator"` triplets (operator `lt`, `le`, `eq`, `ne`,
        /// `ge`, `gt`), or bare annotation names, on the candidates' photometry
        /// annotations: `"drb: 0.5: gt"`.
        photometry_annotations_filter: strs = "photometryAnnotationsFilter";
        /// Only photometry annotations from these origins count.
        photometry_annotations_filter_origin: strs = "photometryAnnotationsFilterOrigin";
        /// Only photometry annotations made before this UTC date-time count.
        photometry_annotations_filter_before: str = "photometryAnnotationsFilterBefore";
        /// Only photometry annotations made after this UTC date-time count.
        photometry_annotations_filter_after: str = "photometryAnnotationsFilterAfter";
        /// How many photometry annotations must pass the filter (server default 1).
        photometry_annotations_filter_min_count: i64 = "photometryAnnotationsFilterMinCount";
        /// First detection after this date.
        first_detection_after: str = "firstDetectionAfter";
        /// Last detection before this date.
        last_detection_before: str = "lastDetectionBefore";
        /// Minimum number of detections.
        number_detections: i64 = "numberDetections";
        /// Whether a localization filter needs `firstDetectionAfter`,
        /// `lastDetectionBefore` and `numberDetections` (server default true: the server
        /// answers 400 without them). It is not an "only candidates with detections"
        /// switch.
        require_detections: bool = "requireDetections";
        /// Leave forced photometry out of detection counts.
        exclude_forced_photometry: bool = "excludeForcedPhotometry";
        /// GCN event time of a localization.
        localization_dateobs: str = "localizationDateobs";
        /// Localization name.
        localization_name: str = "localizationName";
        /// Cumulative probability of the localization.
        localization_cumprob: f64 = "localizationCumprob";
        /// Only auto-saved candidates.
        autosave: bool = "autosave";
        /// Groups for auto-saving.
        autosave_group_ids: ids = "autosaveGroupIds";
    }

    fn spec(&self) -> ListSpec {
        let mut s = ListSpec::new("api/candidates", Some("candidates"), self.page_size);
        s.query = self.q.pairs.clone();
        s.max_pages = self.max_pages;
        s.cache = CacheMode::QueryIdOnly;
        s.query_id = self.query_id.clone();
        s
    }

    /// Every matching candidate, page after page.
    pub fn stream(self) -> ItemStream<Candidate> {
        if let Err(e) = self.q.check() {
            return failed_stream(e);
        }
        let spec = self.spec();
        self.client.stream(spec)
    }

    /// One page (1-based). A page past the end is a 400 "Page number out of range."
    pub async fn page(self, page_number: u64) -> Result<ListPage<Candidate>> {
        self.q.check()?;
        check_page_number(page_number)?;
        let spec = self.spec();
        let req = spec.request(page_number, spec.page_size, spec.query_id.as_deref());
        Ok(self.client.fetch_page(req, spec.key).await?.into())
    }
}
