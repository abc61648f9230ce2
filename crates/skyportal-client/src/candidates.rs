//! Candidates: objects that passed a filter (`/api/candidates`).

use broker_core::paginate::ItemStream;
use broker_core::{Error, Request, Result};
use serde::Serialize;
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

    /// One candidate: `GET /api/candidates/{obj_id}` (an unknown id is a 400 "Invalid
    /// ID"; see [`crate::is_not_found`]).
    pub async fn get(&self, obj_id: &str, include_comments: bool, include_alerts: bool) -> Result<Candidate> {
        let id = validate::obj_id(obj_id)?;
        let mut req = Request::get(format!("api/candidates/{id}"));
        if include_comments {
            req = req.query("includeComments", "true");
        }
        if include_alerts {
            req = req.query("includeAlerts", "true");
        }
        self.client.data(req).await
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
        if key == "totalMatches" {
            self.q.fail(Error::invalid("totalMatches", "is bookkeeping for the web page: never send it"));
        } else {
            self.q.set(key, value);
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
        /// Annotation filters, each a JSON object (`{"origin": .., "key": .., "min": ..}`).
        annotation_filter_list: strs = "annotationFilterList";
        /// Leave out objects with annotations from this origin.
        annotation_exclude_origin: str = "annotationExcludeOrigin";
        /// Annotations older than this count as absent.
        annotation_exclude_outdated_date: str = "annotationExcludeOutdatedDate";
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
        /// Object id (partial).
        obj_id: str = "objID";
        /// Only object ids in the reply.
        name_only: bool = "nameOnly";
        /// First detection after this date.
        first_detection_after: str = "firstDetectionAfter";
        /// Last detection before this date.
        last_detection_before: str = "lastDetectionBefore";
        /// Minimum number of detections.
        number_detections: i64 = "numberDetections";
        /// Only candidates with detections.
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
