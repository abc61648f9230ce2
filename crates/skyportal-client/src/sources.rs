//! Sources: `/api/sources`, `/api/sources/{obj_id}`, `/api/source_groups`.

use broker_core::paginate::ItemStream;
use broker_core::{Error, Request, Result, RetrySafety};
use futures::stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{CacheMode, Client, ListPage, ListSpec, check_page_number, check_page_size};
use crate::models::{Group, Source};
use crate::params::{QueryParams, query_setters};
use crate::validate;

/// Largest `numPerPage` for `/api/sources` (`MAX_SOURCES_PER_PAGE`).
pub const MAX_SOURCES_PER_PAGE: u64 = 500;

/// Source endpoints; from [`Client::sources`].
#[derive(Debug, Clone)]
pub struct Sources {
    client: Client,
}

impl Client {
    /// Source endpoints.
    pub fn sources(&self) -> Sources {
        Sources { client: self.clone() }
    }
}

impl Sources {
    /// Lists sources with filters; see [`SourceList`].
    pub fn list(&self) -> SourceList {
        SourceList {
            client: self.client.clone(),
            q: QueryParams::default(),
            page_size: MAX_SOURCES_PER_PAGE,
            max_pages: None,
            use_cache: true,
            query_id: None,
            start_page: None,
        }
    }

    /// Gets one source: `GET /api/sources/{obj_id}`; see [`SourceGet`] for the options.
    pub fn get(&self, obj_id: &str) -> SourceGet {
        let mut q = QueryParams::default();
        if let Err(e) = validate::obj_id(obj_id) {
            q.fail(e);
        }
        SourceGet { client: self.client.clone(), obj_id: obj_id.to_string(), q }
    }

    /// Whether a source exists and is visible: `HEAD /api/sources/{obj_id}` (200 or 404).
    pub async fn exists(&self, obj_id: &str) -> Result<bool> {
        let id = validate::obj_id(obj_id)?;
        head_exists(&self.client, format!("api/sources/{id}")).await
    }

    /// Whether an object with this id is readable: `GET /api/source_exists/{obj_id}`. The
    /// server looks for any object (a candidate that is not saved counts), unlike
    /// [`Self::exists`].
    pub async fn exists_named(&self, obj_id: &str) -> Result<SourceExists> {
        let id = validate::obj_id(obj_id)?;
        self.client.data(Request::get(format!("api/source_exists/{id}"))).await
    }

    /// Whether saved sources lie within `radius_deg` of a position:
    /// `GET /api/source_exists?ra=..&dec=..&radius=..` (degrees). The message names them.
    ///
    /// The server tests `all([ra, dec, radius])`, so an `ra` or `dec` of exactly 0 counts
    /// as missing and is answered with a 400: it is refused here before any request.
    pub async fn exists_near(&self, ra_deg: f64, dec_deg: f64, radius_deg: f64) -> Result<SourceExists> {
        validate::cone(ra_deg, dec_deg, radius_deg)?;
        if ra_deg == 0.0 || dec_deg == 0.0 {
            return Err(Error::invalid(
                if ra_deg == 0.0 { "ra" } else { "dec" },
                "the server takes a coordinate of exactly 0 as missing (it tests all([ra, dec, radius])): \
                 nudge it (e.g. 1e-9)",
            ));
        }
        let req =
            Request::get("api/source_exists").query("ra", ra_deg).query("dec", dec_deg).query("radius", radius_deg);
        self.client.data(req).await
    }

    /// Asks the server to look the object up on TNS (within `radius_arcsec`, server default
    /// 2) and record its TNS name: `GET /api/sources/{obj_id}/tns`. The lookup runs in the
    /// background; the reply only says it was queued.
    pub async fn refresh_tns(&self, obj_id: &str, radius_arcsec: Option<f64>) -> Result<()> {
        let id = validate::obj_id(obj_id)?;
        if let Some(r) = radius_arcsec {
            if !(r.is_finite() && r >= 0.0) {
                return Err(Error::invalid("radius", format!("{r} is not a valid radius: use arcseconds >= 0")));
            }
        }
        self.client.ok(Request::get(format!("api/sources/{id}/tns")).query_opt("radius", radius_arcsec)).await
    }

    /// Saves a new source (or updates an existing object): `POST /api/sources`.
    pub async fn create(&self, source: &NewSource) -> Result<SourceCreated> {
        source.validate()?;
        self.client.data(Request::post("api/sources").json(source)).await
    }

    /// Updates fields of a source: `PATCH /api/sources/{obj_id}`.
    pub async fn update(&self, obj_id: &str, changes: &SourceUpdate) -> Result<()> {
        let id = validate::obj_id(obj_id)?;
        changes.validate()?;
        let req = Request::patch(format!("api/sources/{id}")).json(changes).retry_safety(RetrySafety::Safe);
        self.client.ok(req).await
    }

    /// Unsaves a source from one group: `DELETE /api/sources/{obj_id}` with the JSON body
    /// `{"group_id": ...}` (the server reads the body, not the query).
    pub async fn unsave_from_group(&self, obj_id: &str, group_id: i64) -> Result<()> {
        let id = validate::obj_id(obj_id)?;
        let req = Request::delete(format!("api/sources/{id}")).json(&serde_json::json!({ "group_id": group_id }));
        self.client.ok(req).await
    }

    /// Saves a source to groups (or invites them to save it) and unsaves it from others:
    /// `POST /api/source_groups` with `{objId, inviteGroupIds, unsaveGroupIds}`.
    pub async fn save_to_groups(&self, obj_id: &str, invite_group_ids: &[i64], unsave_group_ids: &[i64]) -> Result<()> {
        let id = validate::obj_id(obj_id)?;
        if invite_group_ids.is_empty() && unsave_group_ids.is_empty() {
            return Err(Error::invalid("group_ids", "give at least one group to save to (invite) or to unsave from"));
        }
        let body = serde_json::json!({
            "objId": id,
            "inviteGroupIds": invite_group_ids,
            "unsaveGroupIds": unsave_group_ids,
        });
        let req = Request::post("api/source_groups").json(&body);
        self.client.ok(req).await
    }

    /// The groups a source is saved to: `GET /api/sources/{obj_id}/groups`.
    pub async fn groups(&self, obj_id: &str) -> Result<Vec<Group>> {
        let id = validate::obj_id(obj_id)?;
        self.client.data(Request::get(format!("api/sources/{id}/groups"))).await
    }
}

/// `HEAD` on a resource: `Ok(true)` on 2xx, `Ok(false)` on 404.
pub(crate) async fn head_exists(client: &Client, path: String) -> Result<bool> {
    match client.send(Request::head(path)).await {
        Ok(_) => Ok(true),
        Err(e) if e.status() == Some(404) => Ok(false),
        Err(e) => Err(e),
    }
}

pub(crate) fn failed_stream<T: Send + 'static>(e: Error) -> ItemStream<T> {
    ItemStream::from_stream(stream::once(async move { Err(e) }), None)
}

/// `GET /api/sources` with every documented filter. Pages with `pageNumber`/`numPerPage`
/// (at most 500), `useCache=true` and the returned `queryID`, so pages do not shift while
/// you read them. Multi-valued filters are comma-joined.
///
/// With the cache on (the default) the server has two rules (`get_sources` in
/// `handlers/api/sources.py`): page 1 is asked **without** a `queryID` (it returns one),
/// and every later page **with** it. So [`Self::page`] with a page above 1 needs
/// [`Self::query_id`] (from [`ListPage::query_id`] of page 1), or [`Self::use_cache`]`(false)`;
/// a stream given a query id starts at page 2 (or at [`Self::start_page`]).
///
/// Filters are checked before any request; a bad one makes [`Self::stream`] yield a single
/// [`Error::InvalidInput`] and [`Self::page`] fail.
#[derive(Debug, Clone)]
pub struct SourceList {
    client: Client,
    q: QueryParams,
    page_size: u64,
    max_pages: Option<u64>,
    use_cache: bool,
    query_id: Option<String>,
    start_page: Option<u64>,
}

impl SourceList {
    /// Items per page, 1 to 500 (default 500).
    pub fn page_size(mut self, n: u64) -> Self {
        match check_page_size(n, MAX_SOURCES_PER_PAGE) {
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

    /// Whether to ask the server to cache the query and page over a frozen id list
    /// (`useCache=true` + `queryID`; default on). Without the cache any page can be asked
    /// for directly, but pages may shift while sources are saved.
    pub fn use_cache(mut self, on: bool) -> Self {
        self.use_cache = on;
        self
    }

    /// Continues paging a cached query (`queryID` from page 1 of it, see
    /// [`ListPage::query_id`]). Only pages above 1 can be asked for with it: a stream starts
    /// at page 2 unless [`Self::start_page`] says otherwise. Needs the cache (the default).
    ///
    /// A `queryID` the server no longer holds (kept 6 hours by default) runs the query
    /// again and returns a new `queryID`; consistency with the earlier pages is then lost.
    pub fn query_id(mut self, id: impl Into<String>) -> Self {
        self.query_id = Some(id.into());
        self
    }

    /// The page a [`Self::stream`] starts at (1-based; default 1, or 2 with a
    /// [`Self::query_id`]). With the cache on, a start above 1 needs a query id.
    /// [`ItemStream::total`] still reports the query's `totalMatches`.
    pub fn start_page(mut self, n: u64) -> Self {
        match check_page_number(n) {
            Ok(n) => self.start_page = Some(n),
            Err(e) => self.q.fail(e),
        }
        self
    }

    /// The server's `useCache`/`queryID` rules for asking page `page`, checked before any
    /// request (the server answers 400 "Cannot retrieve sources: Cannot use cache ...").
    fn check_cache(&self, page: u64) -> Result<()> {
        match (self.use_cache, self.query_id.is_some()) {
            (false, true) => Err(Error::invalid(
                "query_id",
                "a queryID is only used with the cache: leave use_cache on (the default) to continue a cached query",
            )),
            (true, false) if page > 1 => Err(Error::invalid(
                "page_number",
                format!(
                    "page {page} of a cached query needs its queryID: pass the query_id from page 1 \
                     (ListPage::query_id), or use_cache(false) to ask any page without the cache"
                ),
            )),
            (true, true) if page == 1 => Err(Error::invalid(
                "page_number",
                "page 1 of a cached query is asked without a queryID (it returns one): ask page 2 or later with \
                 query_id, or drop query_id to run the query again",
            )),
            _ => Ok(()),
        }
    }

    /// Cone search: `ra`, `dec` and `radius`, all in degrees.
    pub fn cone(mut self, ra_deg: f64, dec_deg: f64, radius_deg: f64) -> Self {
        match validate::cone(ra_deg, dec_deg, radius_deg) {
            Ok(()) => {
                self.q.set("ra", ra_deg);
                self.q.set("dec", dec_deg);
                self.q.set("radius", radius_deg);
            }
            Err(e) => self.q.fail(e),
        }
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
        /// Only sources saved to one of these groups.
        group_ids: ids = "group_ids";
        /// A portion of the object id.
        source_id: str = "sourceID";
        /// Ids to leave out.
        rejected_source_ids: strs = "rejectedSourceIDs";
        /// Simbad class.
        simbad_class: str = "simbadClass";
        /// Another name of the object.
        alias: str = "alias";
        /// Who posted or discovered the source.
        origin: str = "origin";
        /// Only sources with a TNS name.
        has_tns_name: bool = "hasTNSname";
        /// Only sources without a TNS name.
        has_no_tns_name: bool = "hasNoTNSname";
        /// First detected on or after this date (Arrow-parseable, e.g. `2024-01-01`;
        /// `PhotStat.first_detected_mjd >= startDate`). Applied only while
        /// [`Self::require_detections`] is on (the server default).
        start_date: str = "startDate";
        /// Last detected on or before this date (`PhotStat.last_detected_mjd <= endDate`).
        /// Applied only while [`Self::require_detections`] is on (the server default).
        end_date: str = "endDate";
        /// Only sources in the user's list with this name (`favorites`).
        list_name: str = "listName";
        /// Include Gaia colour-magnitude data.
        include_color_magnitude: bool = "includeColorMagnitude";
        /// Include requested saves.
        include_requested: bool = "includeRequested";
        /// Only requested (pending) saves.
        pending_only: bool = "pendingOnly";
        /// Saved before this UTC date-time.
        saved_before: str = "savedBefore";
        /// Saved after this UTC date-time.
        saved_after: str = "savedAfter";
        /// Saved by the current user.
        saved_by_current_user: bool = "savedByCurrentUser";
        /// With a spectrum saved after this date-time.
        has_spectrum_after: str = "hasSpectrumAfter";
        /// With a spectrum saved before this date-time.
        has_spectrum_before: str = "hasSpectrumBefore";
        /// Sort field (`id`, `ra`, `dec`, `redshift`, `saved_at`, ...).
        sort_by: str = "sortBy";
        /// `asc` or `desc`.
        sort_order: str = "sortOrder";
        /// Include comments.
        include_comments: bool = "includeComments";
        /// Say whether each source has photometry.
        include_photometry_exists: bool = "includePhotometryExists";
        /// Say whether each source has a spectrum.
        include_spectrum_exists: bool = "includeSpectrumExists";
        /// Say whether each source has comments.
        include_comment_exists: bool = "includeCommentExists";
        /// Say whether each source has a period.
        include_period_exists: bool = "includePeriodExists";
        /// Include labellers.
        include_labellers: bool = "includeLabellers";
        /// Include host galaxies.
        include_hosts: bool = "includeHosts";
        /// Remove nested output.
        remove_nested: bool = "removeNested";
        /// Include thumbnails.
        include_thumbnails: bool = "includeThumbnails";
        /// Include detection statistics (last and peak detection).
        include_detection_stats: bool = "includeDetectionStats";
        /// Whether the detection filters apply (server default true): `startDate`,
        /// `endDate`, `numberDetections` and the peak/latest magnitude bounds are ignored
        /// when false. With a localization filter and this on, `startDate` and `endDate`
        /// are required (at most 10 years apart). It is not an "only sources with
        /// detections" switch.
        require_detections: bool = "requireDetections";
        /// Leave forced photometry out of the detection filters (`startDate`, `endDate`,
        /// `numberDetections`) and detection statistics.
        exclude_forced_photometry: bool = "excludeForcedPhotometry";
        /// `"taxonomy: class"` pairs to match.
        classifications: strs = "classifications";
        /// Match all classifications at once.
        classifications_simul: bool = "classifications_simul";
        /// `"taxonomy: class"` pairs to exclude.
        nonclassifications: strs = "nonclassifications";
        /// Only classified sources.
        classified: bool = "classified";
        /// Only unclassified sources.
        unclassified: bool = "unclassified";
        /// `"annotation: value: operator"` triplets.
        annotations_filter: strs = "annotationsFilter";
        /// Annotation origins used by the annotation filter.
        annotations_filter_origin: strs = "annotationsFilterOrigin";
        /// Annotations before this date-time.
        annotations_filter_before: str = "annotationsFilterBefore";
        /// Annotations after this date-time.
        annotations_filter_after: str = "annotationsFilterAfter";
        /// Comment texts to match.
        comments_filter: strs = "commentsFilter";
        /// Comment authors used by the comment filter.
        comments_filter_author: strs = "commentsFilterAuthor";
        /// Comments before this date-time.
        comments_filter_before: str = "commentsFilterBefore";
        /// Comments after this date-time.
        comments_filter_after: str = "commentsFilterAfter";
        /// Redshift at least.
        min_redshift: f64 = "minRedshift";
        /// Redshift at most.
        max_redshift: f64 = "maxRedshift";
        /// Peak magnitude at least.
        min_peak_magnitude: f64 = "minPeakMagnitude";
        /// Peak magnitude at most.
        max_peak_magnitude: f64 = "maxPeakMagnitude";
        /// Latest magnitude at least.
        min_latest_magnitude: f64 = "minLatestMagnitude";
        /// Latest magnitude at most.
        max_latest_magnitude: f64 = "maxLatestMagnitude";
        /// Only sources with a spectrum.
        has_spectrum: bool = "hasSpectrum";
        /// Only sources without a spectrum.
        has_no_spectrum: bool = "hasNoSpectrum";
        /// Only sources with a follow-up request.
        has_followup_request: bool = "hasFollowupRequest";
        /// Follow-up request status to match.
        followup_request_status: str = "followupRequestStatus";
        /// Minimum number of detections (applied only while [`Self::require_detections`]
        /// is on).
        number_detections: i64 = "numberDetections";
        /// Created or modified after this date-time.
        created_or_modified_after: str = "createdOrModifiedAfter";
        /// GCN event time of a localization (needs start and end dates).
        localization_dateobs: str = "localizationDateobs";
        /// Localization name.
        localization_name: str = "localizationName";
        /// Cumulative probability of the localization.
        localization_cumprob: f64 = "localizationCumprob";
        /// Leave out sources rejected for the localization.
        localization_reject_sources: bool = "localizationRejectSources";
        /// Include sources-in-GCN status.
        include_sources_in_gcn: bool = "includeSourcesInGcn";
        /// Spatial catalog name.
        spatial_catalog_name: str = "spatialCatalogName";
        /// Spatial catalog entry name.
        spatial_catalog_entry_name: str = "spatialCatalogEntryName";
        /// Include GeoJSON.
        include_geojson: bool = "includeGeoJSON";
        /// Only labelled sources.
        has_been_labelled: bool = "hasBeenLabelled";
        /// Only unlabelled sources.
        has_not_been_labelled: bool = "hasNotBeenLabelled";
        /// Labelled by the current user.
        current_user_labeller: bool = "currentUserLabeller";
    }

    fn spec(&self) -> ListSpec {
        let mut s = ListSpec::new("api/sources", Some("sources"), self.page_size);
        s.query = self.q.pairs.clone();
        s.max_pages = self.max_pages;
        s.cache = if self.use_cache { CacheMode::UseCache } else { CacheMode::None };
        s.query_id = self.query_id.clone();
        s.first_page = self.first_page();
        s
    }

    /// Where a stream starts: the chosen page, else 2 when continuing a cached query.
    fn first_page(&self) -> u64 {
        self.start_page.unwrap_or(if self.use_cache && self.query_id.is_some() { 2 } else { 1 })
    }

    /// Checks everything a stream needs before its first request.
    fn check_stream(&self) -> Result<()> {
        self.q.check()?;
        self.check_cache(self.first_page())
    }

    /// Every matching source, page after page (from [`Self::start_page`]).
    pub fn stream(self) -> ItemStream<Source> {
        if let Err(e) = self.check_stream() {
            return failed_stream(e);
        }
        let spec = self.spec();
        self.client.stream(spec)
    }

    /// Every matching source in one `Vec`.
    pub async fn collect_all(self) -> Result<Vec<Source>> {
        self.stream().collect_all().await
    }

    /// One page (1-based). With the cache on (the default), page 1 is asked without a
    /// query id and pages above 1 only with one (see [`Self::query_id`]); otherwise this
    /// fails with [`Error::InvalidInput`] before any request.
    pub async fn page(self, page_number: u64) -> Result<ListPage<Source>> {
        self.q.check()?;
        check_page_number(page_number)?;
        self.check_cache(page_number)?;
        let spec = self.spec();
        let req = spec.request(page_number, spec.page_size, spec.query_id.as_deref());
        Ok(self.client.fetch_page(req, spec.key).await?.into())
    }

    /// The save summary (`saveSummary=true`): one record per saved (object, group), as
    /// free JSON (`obj_id`, `group_id`, `saved_at`, ...).
    pub fn save_summary(mut self) -> ItemStream<serde_json::Map<String, Value>> {
        self.q.set_bool("saveSummary", true);
        if let Err(e) = self.check_stream() {
            return failed_stream(e);
        }
        let spec = self.spec();
        self.client.stream(spec)
    }
}

/// `GET /api/sources/{obj_id}` and its options.
#[derive(Debug, Clone)]
pub struct SourceGet {
    client: Client,
    obj_id: String,
    q: QueryParams,
}

impl SourceGet {
    query_setters! {
        /// Include photometry.
        include_photometry: bool = "includePhotometry";
        /// Deduplicate included photometry.
        deduplicate_photometry: bool = "deduplicatePhotometry";
        /// Include comments.
        include_comments: bool = "includeComments";
        /// Include analyses.
        include_analyses: bool = "includeAnalyses";
        /// Include thumbnails.
        include_thumbnails: bool = "includeThumbnails";
        /// Say whether it has photometry.
        include_photometry_exists: bool = "includePhotometryExists";
        /// Say whether it has a spectrum.
        include_spectrum_exists: bool = "includeSpectrumExists";
        /// Say whether it has comments.
        include_comment_exists: bool = "includeCommentExists";
        /// Say whether it has a period.
        include_period_exists: bool = "includePeriodExists";
        /// Include detection statistics.
        include_detection_stats: bool = "includeDetectionStats";
        /// Include labellers.
        include_labellers: bool = "includeLabellers";
        /// Include Gaia colour-magnitude data.
        include_color_magnitude: bool = "includeColorMagnitude";
        /// Include candidates.
        include_candidates: bool = "includeCandidates";
        /// Include tags (server default true).
        include_tags: bool = "includeTags";
        /// Include requested (pending) saves in `groups`.
        include_requested: bool = "includeRequested";
        /// Only requested (pending) saves.
        pending_only: bool = "pendingOnly";
        /// Include GCN crossmatches.
        include_gcn_crossmatches: bool = "includeGCNCrossmatches";
        /// Include GCN notes.
        include_gcn_notes: bool = "includeGCNNotes";
        /// Include associated objects (server default true).
        include_associated_objs: bool = "includeAssociatedObjs";
        /// Include super-objects.
        include_super_objs: bool = "includeSuperObjs";
        /// TNS name.
        tns_name: str = "TNSname";
    }

    /// Sends the request.
    pub async fn send(self) -> Result<Source> {
        self.q.check()?;
        let mut req = Request::get(format!("api/sources/{}", self.obj_id));
        for (k, v) in &self.q.pairs {
            req = req.query(k, v);
        }
        self.client.data(req).await
    }
}

/// The body of `POST /api/sources` (`ObjPost` plus group options).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewSource {
    /// The object id (required).
    pub id: String,
    /// Right ascension (deg).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ra: Option<f64>,
    /// Declination (deg).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dec: Option<f64>,
    /// Redshift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redshift: Option<f64>,
    /// Redshift error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redshift_error: Option<f64>,
    /// Origin of the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Other names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<Vec<String>>,
    /// Transient?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transient: Option<bool>,
    /// Variable star?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub varstar: Option<bool>,
    /// Free-form metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub altdata: Option<Value>,
    /// Groups to save to (server default: all of the token's groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<i64>>,
    /// Whether to refresh the source in open web pages (server default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_source: Option<bool>,
    /// Any other `ObjPost` field.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl NewSource {
    /// A source at a position.
    pub fn new(id: impl Into<String>, ra_deg: f64, dec_deg: f64) -> Self {
        NewSource { id: id.into(), ra: Some(ra_deg), dec: Some(dec_deg), ..Default::default() }
    }
    /// Saves to these groups.
    pub fn group_ids(mut self, ids: impl IntoIterator<Item = i64>) -> Self {
        self.group_ids = Some(ids.into_iter().collect());
        self
    }

    fn validate(&self) -> Result<()> {
        validate::obj_id(&self.id)?;
        match (self.ra, self.dec) {
            (Some(ra), Some(dec)) => {
                broker_core::SkyPosition::new(ra, dec)?;
            }
            (None, None) => {}
            _ => return Err(Error::invalid("ra", "give both ra and dec, or neither")),
        }
        validate::finite_opt("redshift", self.redshift)?;
        if matches!(&self.group_ids, Some(g) if g.is_empty()) {
            return Err(Error::invalid("group_ids", "an empty list saves to no group: leave it unset for all groups"));
        }
        Ok(())
    }
}

/// The reply of `GET /api/source_exists`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SourceExists {
    /// Whether it exists.
    pub source_exists: bool,
    /// The server's sentence ("A source at that location already exists: ZTF21abc.").
    #[serde(default)]
    pub message: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// The reply to `POST /api/sources`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SourceCreated {
    /// The object id.
    pub id: String,
    /// Groups it was saved to.
    #[serde(default)]
    pub saved_to_groups: Option<Vec<i64>>,
    /// Warnings from the server.
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// The body of `PATCH /api/sources/{obj_id}`: only the fields set are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceUpdate {
    /// Right ascension (deg) (refused by the server if the object has candidates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ra: Option<f64>,
    /// Declination (deg).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dec: Option<f64>,
    /// Redshift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redshift: Option<f64>,
    /// Redshift error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redshift_error: Option<f64>,
    /// Redshift origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redshift_origin: Option<String>,
    /// Transient?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transient: Option<bool>,
    /// Variable star?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub varstar: Option<bool>,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Free-form metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub altdata: Option<Value>,
    /// Any other `ObjNoID` field.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl SourceUpdate {
    fn validate(&self) -> Result<()> {
        if let Some(ra) = self.ra {
            broker_core::SkyPosition::new(ra, self.dec.unwrap_or(0.0))?;
        }
        if let Some(dec) = self.dec {
            broker_core::SkyPosition::new(self.ra.unwrap_or(0.0), dec)?;
        }
        validate::finite_opt("redshift", self.redshift)?;
        validate::finite_opt("redshift_error", self.redshift_error)?;
        let empty = serde_json::to_value(self).ok().and_then(|v| v.as_object().map(|m| m.is_empty())).unwrap_or(true);
        if empty {
            return Err(Error::invalid("changes", "nothing to update: set at least one field"));
        }
        Ok(())
    }
}
