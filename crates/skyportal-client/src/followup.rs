//! Follow-up requests: `/api/followup_request` (paged, at most 1000 per page).

use broker_core::paginate::ItemStream;
use broker_core::{Error, Request, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{Client, ListSpec, check_page_size};
use crate::models::Extra;
use crate::params::{QueryParams, query_setters};
use crate::sources::failed_stream;
use crate::validate;

/// Largest `numPerPage` for `/api/followup_request` (`MAX_FOLLOWUP_REQUESTS`).
pub const MAX_FOLLOWUP_REQUESTS_PER_PAGE: u64 = 1000;

/// Submission constraints the server reads on `POST` only (`FOLLOWUP_CONSTRAINT_KEYS` in
/// `handlers/api/followup_request.py`, plus the constraints' `radius`); `PUT` does not
/// send them.
const CREATE_ONLY_KEYS: &[&str] = &[
    "not_if_duplicates",
    "source_group_ids",
    "ignore_source_group_ids",
    "not_if_classified",
    "not_if_spectra_exist",
    "not_if_tns_classified",
    "not_if_tns_reported",
    "ignore_allocation_ids",
    "not_if_assignment_exists",
    "radius",
];

/// A follow-up request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowupRequest {
    /// Request id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Object id.
    #[serde(default)]
    pub obj_id: Option<String>,
    /// Allocation id.
    #[serde(default)]
    pub allocation_id: Option<i64>,
    /// Status (`submitted`, `pending submission`, `completed`, ...).
    #[serde(default)]
    pub status: Option<String>,
    /// The facility-specific payload (free JSON).
    #[serde(default)]
    pub payload: Option<Value>,
    /// Requester's user id.
    #[serde(default)]
    pub requester_id: Option<i64>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Every other field (`obj`, `allocation`, `requester`, `target_groups`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The reply of `POST /api/followup_request`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FollowupCreated {
    /// The new request's id (`None` when the server skipped it, see `ignored`).
    #[serde(default)]
    pub id: Option<i64>,
    /// Its status.
    #[serde(default)]
    pub request_status: Option<String>,
    /// True when a `not_if_*` constraint held and nothing was submitted.
    #[serde(default)]
    pub ignored: Option<bool>,
    /// Why it was ignored.
    #[serde(default)]
    pub message: Option<String>,
}

/// The body of `POST /api/followup_request` (and of `PUT`, less the create-only
/// constraints: see [`FollowupRequests::update`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewFollowupRequest {
    /// Object id.
    pub obj_id: String,
    /// Allocation id.
    pub allocation_id: i64,
    /// The facility-specific payload (`{"priority": 5, "observation_type": "IFU", ...}`).
    pub payload: Value,
    /// Groups to share the results with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_group_ids: Option<Vec<i64>>,
    /// Skip when a similar request exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_if_duplicates: Option<bool>,
    /// Skip when the object is classified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_if_classified: Option<bool>,
    /// Skip when the object has spectra.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_if_spectra_exist: Option<bool>,
    /// Groups the constraints look at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_group_ids: Option<Vec<i64>>,
    /// Any other field (`status`, `ignore_source_group_ids`, `not_if_tns_reported`, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl NewFollowupRequest {
    fn validate(&self) -> Result<()> {
        validate::obj_id(&self.obj_id)?;
        if !self.payload.is_object() {
            return Err(Error::invalid("payload", "must be a JSON object (the facility's request fields)"));
        }
        Ok(())
    }
}

/// Follow-up request endpoints; from [`Client::followup_requests`].
#[derive(Debug, Clone)]
pub struct FollowupRequests {
    client: Client,
}

impl Client {
    /// Follow-up request endpoints.
    pub fn followup_requests(&self) -> FollowupRequests {
        FollowupRequests { client: self.clone() }
    }
}

impl FollowupRequests {
    /// Lists requests, paged (list key `followup_requests`); see [`FollowupRequestList`].
    pub fn list(&self) -> FollowupRequestList {
        FollowupRequestList {
            client: self.client.clone(),
            q: QueryParams::default(),
            page_size: MAX_FOLLOWUP_REQUESTS_PER_PAGE,
        }
    }

    /// One request: `GET /api/followup_request/{id}`.
    pub async fn get(&self, id: i64) -> Result<FollowupRequest> {
        self.client.data(Request::get(format!("api/followup_request/{id}"))).await
    }

    /// Submits a request: `POST /api/followup_request`.
    pub async fn create(&self, r: &NewFollowupRequest) -> Result<FollowupCreated> {
        r.validate()?;
        self.client.data(Request::post("api/followup_request").json(r)).await
    }

    /// Changes a request: `PUT /api/followup_request/{id}` (SkyPortal has no PATCH here).
    ///
    /// The submission constraints (`not_if_*`, `source_group_ids`,
    /// `ignore_source_group_ids`, `ignore_allocation_ids`, `radius`, also in `extra`) only apply when
    /// a request is created, and the server's update refuses them as unknown fields of a
    /// follow-up request (400 "Error parsing followup request submit/update"), so they
    /// are not sent.
    pub async fn update(&self, id: i64, r: &NewFollowupRequest) -> Result<()> {
        r.validate()?;
        let mut body = serde_json::to_value(r)
            .map_err(|e| Error::invalid("followup_request", format!("cannot be sent as JSON: {e}")))?;
        if let Value::Object(m) = &mut body {
            for k in CREATE_ONLY_KEYS {
                m.remove(*k);
            }
        }
        self.client.ok(Request::put(format!("api/followup_request/{id}")).json(&body)).await
    }

    /// Deletes (cancels) a request: `DELETE /api/followup_request/{id}`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client.ok(Request::delete(format!("api/followup_request/{id}"))).await
    }
}

/// `GET /api/followup_request` and its filters.
#[derive(Debug, Clone)]
pub struct FollowupRequestList {
    client: Client,
    q: QueryParams,
    page_size: u64,
}

impl FollowupRequestList {
    /// Items per page, 1 to 1000 (default 1000).
    pub fn page_size(mut self, n: u64) -> Self {
        match check_page_size(n, MAX_FOLLOWUP_REQUESTS_PER_PAGE) {
            Ok(n) => self.page_size = n,
            Err(e) => self.q.fail(e),
        }
        self
    }

    query_setters! {
        /// Object id (partial).
        source_id: str = "sourceID";
        /// Created on or after this date (Arrow-parseable).
        start_date: str = "startDate";
        /// Created on or before this date.
        end_date: str = "endDate";
        /// Status to match.
        status: str = "status";
        /// Instrument id.
        instrument_id: i64 = "instrumentID";
        /// Allocation id.
        allocation_id: i64 = "allocationID";
        /// Requesters' user ids.
        requesters: ids = "requesters";
        /// Minimum priority.
        priority_threshold: f64 = "priorityThreshold";
        /// Observation window start.
        observation_start_date: str = "observationStartDate";
        /// Observation window end.
        observation_end_date: str = "observationEndDate";
        /// `created_at`, `modified`, `status` or `obj`.
        sort_by: str = "sortBy";
        /// `asc` or `desc`.
        sort_order: str = "sortOrder";
        /// Include object thumbnails (server default true).
        include_obj_thumbnails: bool = "includeObjThumbnails";
    }

    /// Every matching request.
    pub fn stream(self) -> ItemStream<FollowupRequest> {
        if let Err(e) = self.q.check() {
            return failed_stream(e);
        }
        let mut spec = ListSpec::new("api/followup_request", Some("followup_requests"), self.page_size);
        spec.query = self.q.pairs.clone();
        self.client.stream(spec)
    }
}
