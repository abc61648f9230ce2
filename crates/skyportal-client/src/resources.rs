//! Groups, streams, filters, instruments, telescopes, taxonomies, allocations and
//! observing-run assignments. These lists are not paginated.

use broker_core::{Error, Request, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{Client, check_page_number, check_page_size};
use crate::followup::MAX_FOLLOWUP_REQUESTS_PER_PAGE;
use crate::models::{Extra, Group, IdReply};
use crate::validate;

/// A stream of alerts (`ZTF Public`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stream {
    /// Stream id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Free-form metadata (`collection`, `selector`, ...).
    #[serde(default)]
    pub altdata: Option<Value>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A candidate filter of a group on a stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// Filter id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Stream id.
    #[serde(default)]
    pub stream_id: Option<i64>,
    /// Group id.
    #[serde(default)]
    pub group_id: Option<i64>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An instrument.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    /// Instrument id (use it as `instrument_id` when uploading photometry).
    #[serde(default)]
    pub id: Option<i64>,
    /// Name (`ZTF`, `ATLAS`, `SEDM`).
    #[serde(default)]
    pub name: Option<String>,
    /// Type (`imager`, `spectrograph`, `imaging spectrograph`).
    #[serde(default, rename = "type")]
    pub instrument_type: Option<String>,
    /// Bands it observes in (sncosmo names).
    #[serde(default)]
    pub filters: Option<Vec<String>>,
    /// Telescope id.
    #[serde(default)]
    pub telescope_id: Option<i64>,
    /// Band name.
    #[serde(default)]
    pub band: Option<String>,
    /// Every other field (`telescope`, `api_classname`, `fields`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A telescope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Telescope {
    /// Telescope id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Short name.
    #[serde(default)]
    pub nickname: Option<String>,
    /// Latitude (deg).
    #[serde(default)]
    pub lat: Option<f64>,
    /// Longitude (deg).
    #[serde(default)]
    pub lon: Option<f64>,
    /// Elevation (m).
    #[serde(default)]
    pub elevation: Option<f64>,
    /// Aperture diameter (m).
    #[serde(default)]
    pub diameter: Option<f64>,
    /// Robotic?
    #[serde(default)]
    pub robotic: Option<bool>,
    /// Fixed location (not in space)?
    #[serde(default)]
    pub fixed_location: Option<bool>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A classification taxonomy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Taxonomy {
    /// Taxonomy id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Name (`Sitewide Taxonomy`).
    #[serde(default)]
    pub name: Option<String>,
    /// Version.
    #[serde(default)]
    pub version: Option<String>,
    /// The class tree (free JSON).
    #[serde(default)]
    pub hierarchy: Option<Value>,
    /// Provenance.
    #[serde(default)]
    pub provenance: Option<String>,
    /// The latest version of this name?
    #[serde(default)]
    pub is_latest: Option<bool>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Time allocated to a group on an instrument.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// Allocation id.
    #[serde(default)]
    pub id: Option<i64>,
    /// PI.
    #[serde(default)]
    pub pi: Option<String>,
    /// Proposal id.
    #[serde(default)]
    pub proposal_id: Option<String>,
    /// Start (UTC).
    #[serde(default)]
    pub start_date: Option<String>,
    /// End (UTC).
    #[serde(default)]
    pub end_date: Option<String>,
    /// Hours allocated.
    #[serde(default)]
    pub hours_allocated: Option<f64>,
    /// Group id.
    #[serde(default)]
    pub group_id: Option<i64>,
    /// Instrument id.
    #[serde(default)]
    pub instrument_id: Option<i64>,
    /// Every other field (`requests`, `types`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The reply of `GET /api/allocation/{id}`: the allocation (with one page of follow-up
/// requests under `extra["requests"]`, and `ephemeris`, `telescope`) and the number of
/// its follow-up requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AllocationDetail {
    /// The allocation.
    pub allocation: Allocation,
    /// How many follow-up requests the allocation has (`totalMatches`).
    #[serde(default, rename = "totalMatches")]
    pub total_matches: Option<u64>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A target assigned to a classical observing run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Assignment id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Object id.
    #[serde(default)]
    pub obj_id: Option<String>,
    /// Observing run id.
    #[serde(default)]
    pub run_id: Option<i64>,
    /// Priority, `"1"` (lowest) to `"5"`.
    #[serde(default)]
    pub priority: Option<String>,
    /// Status (`pending`, `done`, `not done`).
    #[serde(default)]
    pub status: Option<String>,
    /// Comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Requester's user id.
    #[serde(default)]
    pub requester_id: Option<i64>,
    /// Every other field (`obj`, `run`, `requester`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The reply of `GET /api/groups`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GroupListing {
    /// Groups the user is a member of.
    #[serde(default)]
    pub user_groups: Vec<Group>,
    /// Groups the user can read.
    #[serde(default)]
    pub user_accessible_groups: Vec<Group>,
    /// All groups (admins).
    #[serde(default)]
    pub all_groups: Option<Vec<Group>>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Group, stream, filter, instrument, telescope, taxonomy, allocation and assignment
/// endpoints; from [`Client::resources`].
#[derive(Debug, Clone)]
pub struct Resources {
    client: Client,
}

impl Client {
    /// Group, stream, filter, instrument, telescope, taxonomy, allocation and assignment
    /// endpoints.
    pub fn resources(&self) -> Resources {
        Resources { client: self.clone() }
    }
}

impl Resources {
    /// `GET /api/groups[?includeSingleUserGroups=true]`.
    pub async fn groups(&self, include_single_user_groups: bool) -> Result<GroupListing> {
        let mut req = Request::get("api/groups");
        if include_single_user_groups {
            req = req.query("includeSingleUserGroups", "true");
        }
        self.client.data(req).await
    }

    /// Groups with this exact name: `GET /api/groups?name=...`.
    pub async fn groups_named(&self, name: &str) -> Result<Vec<Group>> {
        let n = validate::non_empty("name", name)?;
        self.client.data(Request::get("api/groups").query("name", n)).await
    }

    /// One group: `GET /api/groups/{id}[?includeGroupUsers=false]`.
    pub async fn group(&self, id: i64, include_group_users: bool) -> Result<Group> {
        let req = Request::get(format!("api/groups/{id}")).query("includeGroupUsers", include_group_users);
        self.client.data(req).await
    }

    /// `GET /api/streams`.
    pub async fn streams(&self) -> Result<Vec<Stream>> {
        self.client.data(Request::get("api/streams")).await
    }

    /// `GET /api/streams/{id}`.
    pub async fn stream(&self, id: i64) -> Result<Stream> {
        self.client.data(Request::get(format!("api/streams/{id}"))).await
    }

    /// `GET /api/filters`.
    pub async fn filters(&self) -> Result<Vec<Filter>> {
        self.client.data(Request::get("api/filters")).await
    }

    /// `GET /api/filters/{id}`.
    pub async fn filter(&self, id: i64) -> Result<Filter> {
        self.client.data(Request::get(format!("api/filters/{id}"))).await
    }

    /// `GET /api/instrument[?name=...]` (use `Some("ZTF")` to find ZTF's `instrument_id`).
    pub async fn instruments(&self, name: Option<&str>) -> Result<Vec<Instrument>> {
        if let Some(n) = name {
            validate::non_empty("name", n)?;
        }
        self.client.data(Request::get("api/instrument").query_opt("name", name)).await
    }

    /// `GET /api/instrument/{id}`.
    pub async fn instrument(&self, id: i64) -> Result<Instrument> {
        self.client.data(Request::get(format!("api/instrument/{id}"))).await
    }

    /// `GET /api/telescope[?name=...]`.
    pub async fn telescopes(&self, name: Option<&str>) -> Result<Vec<Telescope>> {
        if let Some(n) = name {
            validate::non_empty("name", n)?;
        }
        self.client.data(Request::get("api/telescope").query_opt("name", name)).await
    }

    /// `GET /api/telescope/{id}`.
    pub async fn telescope(&self, id: i64) -> Result<Telescope> {
        self.client.data(Request::get(format!("api/telescope/{id}"))).await
    }

    /// `GET /api/taxonomy`.
    pub async fn taxonomies(&self) -> Result<Vec<Taxonomy>> {
        self.client.data(Request::get("api/taxonomy")).await
    }

    /// `GET /api/taxonomy/{id}`.
    pub async fn taxonomy(&self, id: i64) -> Result<Taxonomy> {
        self.client.data(Request::get(format!("api/taxonomy/{id}"))).await
    }

    /// `GET /api/allocation[?instrument_id=...]`.
    pub async fn allocations(&self, instrument_id: Option<i64>) -> Result<Vec<Allocation>> {
        self.client.data(Request::get("api/allocation").query_opt("instrument_id", instrument_id)).await
    }

    /// One allocation: `GET /api/allocation/{id}`, unwrapped from the server's
    /// `{"allocation": {...}, "totalMatches": N}`. The first page of its follow-up
    /// requests (50 by default) is under `extra["requests"]`; use
    /// [`Self::allocation_page`] to page through them.
    pub async fn allocation(&self, id: i64) -> Result<Allocation> {
        let d: AllocationDetail = self.client.data(Request::get(format!("api/allocation/{id}"))).await?;
        Ok(d.allocation)
    }

    /// One allocation with one page of its follow-up requests:
    /// `GET /api/allocation/{id}?pageNumber=..&numPerPage=..` (1 to 1000 a page).
    /// `total_matches` counts all its follow-up requests.
    pub async fn allocation_page(&self, id: i64, page_number: u64, num_per_page: u64) -> Result<AllocationDetail> {
        check_page_number(page_number)?;
        check_page_size(num_per_page, MAX_FOLLOWUP_REQUESTS_PER_PAGE)?;
        let req = Request::get(format!("api/allocation/{id}"))
            .query("pageNumber", page_number)
            .query("numPerPage", num_per_page);
        self.client.data(req).await
    }

    /// `GET /api/assignment`.
    pub async fn assignments(&self) -> Result<Vec<Assignment>> {
        self.client.data(Request::get("api/assignment")).await
    }

    /// `GET /api/assignment/{id}`.
    pub async fn assignment(&self, id: i64) -> Result<Assignment> {
        self.client.data(Request::get(format!("api/assignment/{id}"))).await
    }

    /// Assigns a target to an observing run: `POST /api/assignment` → its id.
    pub async fn create_assignment(&self, a: &NewAssignment) -> Result<i64> {
        validate::obj_id(&a.obj_id)?;
        if !matches!(a.priority.as_str(), "1" | "2" | "3" | "4" | "5") {
            return Err(Error::invalid(
                "priority",
                format!("{:?} is not a priority: use \"1\" (lowest) to \"5\"", a.priority),
            ));
        }
        let r: IdReply = self.client.data(Request::post("api/assignment").json(a)).await?;
        Ok(r.id)
    }

    /// `DELETE /api/assignment/{id}`.
    pub async fn delete_assignment(&self, id: i64) -> Result<()> {
        self.client.ok(Request::delete(format!("api/assignment/{id}"))).await
    }
}

/// The body of `POST /api/assignment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewAssignment {
    /// Object id.
    pub obj_id: String,
    /// Observing run id.
    pub run_id: i64,
    /// Priority, `"1"` (lowest) to `"5"`.
    pub priority: String,
    /// Comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}
