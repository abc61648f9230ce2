//! The ZTF v1 API (`https://api.alerce.online/ztf/v1/`) and ZTF forced photometry
//! (`https://api.alerce.online/v2/lightcurve/forced-photometry/{oid}`).
//!
//! Routes, as the server registers them (the list routes have a trailing slash; the
//! client calls them with it, so no 308 redirect is needed — one is followed if a
//! deployment sends it anyway):
//!
//! | method | route | query |
//! |---|---|---|
//! | [`Ztf::query_objects`] | `GET objects/` | `oid`… `classifier` `classifier_version` `class` `ranking` `ndet`… `probability` `firstmjd`… `lastmjd`… `ra` `dec` `radius` `page` `page_size` `count` `order_by` `order_mode` |
//! | [`Ztf::object`] | `GET objects/{oid}` | |
//! | [`Ztf::lightcurve`] | `GET objects/{oid}/lightcurve` | |
//! | [`Ztf::detections`] | `GET objects/{oid}/detections` | |
//! | [`Ztf::non_detections`] | `GET objects/{oid}/non_detections` | |
//! | [`Ztf::lightcurve_of`] | `GET objects/{oid}/lightcurve` | `survey_id` (`ztf`\|`atlas`) |
//! | [`Ztf::forced_photometry`] | `GET {forced-photometry base}forced-photometry/{oid}` | |
//! | [`Ztf::forced_photometry_of`] | the same | `survey_id` (`all`\|`ztf`\|`atlas`) |
//! | [`Ztf::v2_detections`] | `GET {forced-photometry base}detections/{oid}` | `survey_id` (`all`\|`ztf`\|`atlas`) |
//! | [`Ztf::v2_non_detections`] | `GET {forced-photometry base}non_detections/{oid}` | `survey_id` |
//! | [`Ztf::v2_lightcurve`] | `GET {forced-photometry base}lightcurve/{oid}` | `survey_id` |
//! | [`Ztf::limit_values`] | `GET objects/limit_values` | |
//! | [`Ztf::magstats`] | `GET objects/{oid}/magstats` | |
//! | [`Ztf::probabilities`] | `GET objects/{oid}/probabilities` | `classifier` `classifier_version` |
//! | [`Ztf::features`] | `GET objects/{oid}/features` | `fid` `version` |
//! | [`Ztf::feature`] | `GET objects/{oid}/features/{name}` | `fid` `version` |
//! | [`Ztf::classifiers`] | `GET classifiers/` | |
//! | [`Ztf::classes`] | `GET classifiers/{name}/{version}/classes` | |
//!
//! (`…` marks repeated keys: `ndet=5&ndet=10`.)

use broker_core::Request;
use broker_core::astro::Lightcurve;
use broker_core::paginate::{Page, PageNumberPaginator, Paginator, StopRules};

use crate::client::{AlerceClient, get_json};
use crate::error::{Error, Result};
use crate::stream::AlerceStream;
use query::with_query;

mod models;
mod points;
mod query;

pub use models::*;
pub use points::*;
pub use query::*;

/// The ZTF v1 API. Get it with [`AlerceClient::ztf`].
#[derive(Debug, Clone, Copy)]
pub struct Ztf<'a> {
    client: &'a AlerceClient,
}

impl AlerceClient {
    /// The ZTF v1 API and ZTF forced photometry.
    pub fn ztf(&self) -> Ztf<'_> {
        Ztf { client: self }
    }
}

/// Checks an object id and escapes it as one path segment.
pub(crate) fn path_segment(field: &str, id: &str) -> Result<String> {
    let t = id.trim();
    if t.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    Ok(url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>().replace('+', "%20"))
}

impl<'a> Ztf<'a> {
    fn http(&self) -> &broker_core::HttpClient {
        &self.client.inner.ztf
    }

    /// One page of objects (`GET objects/`).
    pub async fn query_objects(&self, query: &ObjectQuery) -> Result<ZtfObjectPage> {
        let pairs = query.to_query()?;
        get_json(self.http(), with_query(Request::get("objects/"), &pairs)).await
    }

    /// Every object matching `query`, page after page, as a stream (`count=true` is sent so
    /// that the server reports `total` and `has_next`; paging starts at the query's page
    /// or 1, with its page size or 100). The stream's `total()` is the server's count
    /// (capped at 50001 by the server).
    pub fn stream_objects(&self, query: ObjectQuery) -> Result<AlerceStream<ZtfObject>> {
        query.to_query()?;
        let first = query.page.unwrap_or(1);
        let size = query.page_size.unwrap_or(100);
        let http = self.http().clone();
        let pages = PageNumberPaginator::new(first, size, move |p| {
            let http = http.clone();
            let q = query.clone().page(p.page).page_size(p.page_size).count(true);
            async move {
                let pairs = q.to_query().map_err(core_error)?;
                let page: ZtfObjectPage =
                    get_json(&http, with_query(Request::get("objects/"), &pairs)).await.map_err(core_error)?;
                let total = page.total.and_then(|t| u64::try_from(t).ok());
                Ok(Page::new(page.items).with_total(total).with_has_next(page.has_next))
            }
        })
        .stop_rules(StopRules { total: true, short_page: false, has_next: true });
        Ok(AlerceStream::new(pages.into_stream()))
    }

    /// One object (`GET objects/{oid}`); 404 is [`Error::NotFound`].
    pub async fn object(&self, oid: &str) -> Result<ZtfObject> {
        let oid = path_segment("oid", oid)?;
        get_json(self.http(), Request::get(format!("objects/{oid}"))).await
    }

    /// Detections and non-detections (`GET objects/{oid}/lightcurve`).
    pub async fn lightcurve(&self, oid: &str) -> Result<ZtfLightcurve> {
        let oid = path_segment("oid", oid)?;
        let lc: Option<ZtfLightcurve> =
            get_or_empty(self.http(), Request::get(format!("objects/{oid}/lightcurve"))).await?;
        Ok(lc.unwrap_or_default())
    }

    /// Light curves of many objects ([`Ztf::lightcurve`] each), with up to `concurrency`
    /// requests in flight (0 counts as 1), as a stream of `(oid, result)` in completion
    /// order. One object's failure does not stop the others; the client's retry policy and
    /// rate limit apply to every request.
    pub fn lightcurves<I, S>(
        &self,
        oids: I,
        concurrency: usize,
    ) -> impl futures::Stream<Item = (String, Result<ZtfLightcurve>)> + Send + 'a
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        use futures::StreamExt;
        let client = self.client;
        let oids: Vec<String> = oids.into_iter().map(Into::into).collect();
        futures::stream::iter(oids)
            .map(move |oid| async move {
                let r = client.ztf().lightcurve(&oid).await;
                (oid, r)
            })
            .buffer_unordered(concurrency.max(1))
    }

    /// Detections (`GET objects/{oid}/detections`).
    pub async fn detections(&self, oid: &str) -> Result<Vec<ZtfDetection>> {
        let oid = path_segment("oid", oid)?;
        list(self.http(), Request::get(format!("objects/{oid}/detections"))).await
    }

    /// Non-detections (`GET objects/{oid}/non_detections`).
    pub async fn non_detections(&self, oid: &str) -> Result<Vec<ZtfNonDetection>> {
        let oid = path_segment("oid", oid)?;
        list(self.http(), Request::get(format!("objects/{oid}/non_detections"))).await
    }

    /// Forced photometry (`GET /v2/lightcurve/forced-photometry/{oid}`).
    pub async fn forced_photometry(&self, oid: &str) -> Result<Vec<ZtfForcedPhotometry>> {
        let oid = path_segment("oid", oid)?;
        list(&self.client.inner.ztf_fp, Request::get(format!("forced-photometry/{oid}"))).await
    }

    /// The light curve of one survey's photometry: `survey_id` `ztf` or `atlas` (ATLAS
    /// rows need a token with that permission). The Python client never sends it; the
    /// server's default is `ztf`.
    pub async fn lightcurve_of(&self, oid: &str, survey_id: &str) -> Result<ZtfLightcurve> {
        let survey = check_choice("survey_id", survey_id, &["ztf", "atlas"])?;
        let oid = path_segment("oid", oid)?;
        let req = Request::get(format!("objects/{oid}/lightcurve")).query("survey_id", survey);
        let lc: Option<ZtfLightcurve> = get_or_empty(self.http(), req).await?;
        Ok(lc.unwrap_or_default())
    }

    /// Forced photometry of one survey: `survey_id` `all` (the server's default), `ztf`
    /// or `atlas`.
    pub async fn forced_photometry_of(&self, oid: &str, survey_id: &str) -> Result<Vec<ZtfForcedPhotometry>> {
        let survey = check_choice("survey_id", survey_id, &["all", "ztf", "atlas"])?;
        let oid = path_segment("oid", oid)?;
        let req = Request::get(format!("forced-photometry/{oid}")).query("survey_id", survey);
        list(&self.client.inner.ztf_fp, req).await
    }

    /// The range of `ndet` and `firstmjd` over all objects (`GET objects/limit_values`).
    pub async fn limit_values(&self) -> Result<ZtfLimitValues> {
        get_json(self.http(), Request::get("objects/limit_values")).await
    }

    fn v2_req(route: &str, oid: &str, survey_id: &str) -> Result<Request> {
        let survey = check_choice("survey_id", survey_id, &["all", "ztf", "atlas"])?;
        let oid = path_segment("oid", oid)?;
        Ok(Request::get(format!("{route}/{oid}")).query("survey_id", survey))
    }

    /// Detections from the v2 light-curve service (`GET /v2/lightcurve/detections/{oid}`),
    /// `survey_id` `all` (the server's default), `ztf` or `atlas` (ATLAS rows need a token
    /// with that permission).
    pub async fn v2_detections(&self, oid: &str, survey_id: &str) -> Result<Vec<ZtfV2Detection>> {
        list(&self.client.inner.ztf_fp, Self::v2_req("detections", oid, survey_id)?).await
    }

    /// Non-detections from the v2 light-curve service (`GET /v2/lightcurve/non_detections/{oid}`).
    pub async fn v2_non_detections(&self, oid: &str, survey_id: &str) -> Result<Vec<ZtfNonDetection>> {
        list(&self.client.inner.ztf_fp, Self::v2_req("non_detections", oid, survey_id)?).await
    }

    /// Detections, non-detections and forced photometry from the v2 light-curve service
    /// (`GET /v2/lightcurve/lightcurve/{oid}`).
    pub async fn v2_lightcurve(&self, oid: &str, survey_id: &str) -> Result<ZtfV2Lightcurve> {
        let lc: Option<ZtfV2Lightcurve> =
            get_or_empty(&self.client.inner.ztf_fp, Self::v2_req("lightcurve", oid, survey_id)?).await?;
        Ok(lc.unwrap_or_default())
    }

    /// Magnitude statistics per band (`GET objects/{oid}/magstats`).
    pub async fn magstats(&self, oid: &str) -> Result<Vec<ZtfMagstats>> {
        let oid = path_segment("oid", oid)?;
        list(self.http(), Request::get(format!("objects/{oid}/magstats"))).await
    }

    /// Class probabilities of every classifier (`GET objects/{oid}/probabilities`).
    pub async fn probabilities(&self, oid: &str) -> Result<Vec<ZtfProbability>> {
        self.probabilities_of(oid, None, None).await
    }

    /// Class probabilities, optionally of one classifier and version
    /// (`classifier`, `classifier_version`).
    pub async fn probabilities_of(
        &self,
        oid: &str,
        classifier: Option<&str>,
        classifier_version: Option<&str>,
    ) -> Result<Vec<ZtfProbability>> {
        let oid = path_segment("oid", oid)?;
        let req = Request::get(format!("objects/{oid}/probabilities"))
            .query_opt("classifier", non_empty(classifier))
            .query_opt("classifier_version", non_empty(classifier_version));
        list(self.http(), req).await
    }

    /// Every feature (`GET objects/{oid}/features`).
    pub async fn features(&self, oid: &str) -> Result<Vec<ZtfFeature>> {
        self.features_with(oid, &FeatureFilter::default()).await
    }

    /// Features, filtered by `fid` and `version`.
    pub async fn features_with(&self, oid: &str, filter: &FeatureFilter) -> Result<Vec<ZtfFeature>> {
        let oid = path_segment("oid", oid)?;
        let req = Request::get(format!("objects/{oid}/features"))
            .query_opt("fid", filter.fid)
            .query_opt("version", non_empty(filter.version.as_deref()));
        list(self.http(), req).await
    }

    /// One feature by name (`GET objects/{oid}/features/{name}`). The server answers with
    /// a list (one row per band/version).
    pub async fn feature(&self, oid: &str, name: &str) -> Result<Vec<ZtfFeature>> {
        self.feature_with(oid, name, &FeatureFilter::default()).await
    }

    /// One feature by name, filtered by `fid` and `version`.
    pub async fn feature_with(&self, oid: &str, name: &str, filter: &FeatureFilter) -> Result<Vec<ZtfFeature>> {
        let oid = path_segment("oid", oid)?;
        let name = path_segment("name", name)?;
        let req = Request::get(format!("objects/{oid}/features/{name}"))
            .query_opt("fid", filter.fid)
            .query_opt("version", non_empty(filter.version.as_deref()));
        list(self.http(), req).await
    }

    /// Every classifier with its classes (`GET classifiers/`).
    pub async fn classifiers(&self) -> Result<Vec<ZtfClassifier>> {
        list(self.http(), Request::get("classifiers/")).await
    }

    /// The classes of one classifier version (`GET classifiers/{name}/{version}/classes`).
    pub async fn classes(&self, classifier_name: &str, classifier_version: &str) -> Result<Vec<ZtfClass>> {
        let n = path_segment("classifier_name", classifier_name)?;
        let v = path_segment("classifier_version", classifier_version)?;
        list(self.http(), Request::get(format!("classifiers/{n}/{v}/classes"))).await
    }

    /// Detections, non-detections and (when `with_forced` is true) forced photometry as one
    /// core [`Lightcurve`] ordered by MJD.
    pub async fn unified_lightcurve(&self, oid: &str, with_forced: bool) -> Result<Lightcurve> {
        let lc = self.lightcurve(oid).await?;
        let mut out = lc.to_lightcurve(oid.trim());
        if with_forced {
            let fp = self.forced_photometry(oid).await?;
            out.extend(forced_photometry_to_lightcurve(oid.trim(), &fp));
        }
        out.sort_by_mjd();
        Ok(out)
    }
}

fn check_choice<'s>(field: &str, value: &'s str, allowed: &[&str]) -> Result<&'s str> {
    let v = value.trim();
    if allowed.contains(&v) {
        Ok(v)
    } else {
        Err(Error::invalid(field, format!("{value:?} is not accepted: use one of {}", allowed.join(", "))))
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// A list endpoint; an empty `200` body or `null` is an empty list.
pub(crate) async fn list<T: serde::de::DeserializeOwned>(
    http: &broker_core::HttpClient,
    req: Request,
) -> Result<Vec<T>> {
    let v: Option<Vec<T>> = get_or_empty(http, req).await?;
    Ok(v.unwrap_or_default())
}

/// A JSON endpoint whose empty `200` body means "nothing" (`None`).
pub(crate) async fn get_or_empty<T: serde::de::DeserializeOwned>(
    http: &broker_core::HttpClient,
    req: Request,
) -> Result<Option<T>> {
    let resp = crate::client::get_raw(http, req).await?;
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    crate::client::decode(&resp)
}

/// Flattens this crate's error into the core one (for the core paginator, which
/// carries core errors). ALeRCE kinds keep their status and message as an `HttpError`.
pub(crate) fn core_error(e: Error) -> broker_core::Error {
    match e {
        Error::Core(c) => c,
        Error::Parse { status, message, url, .. } | Error::Api { status, message, url, .. } => {
            broker_core::Error::Http(Box::new(broker_core::HttpError {
                status,
                message: Some(message),
                excerpt: String::new(),
                url,
                retry_after: None,
                body: bytes::Bytes::new(),
            }))
        }
        Error::NotFound { message, url } => broker_core::Error::Http(Box::new(broker_core::HttpError {
            status: 404,
            message: Some(message),
            excerpt: String::new(),
            url,
            retry_after: None,
            body: bytes::Bytes::new(),
        })),
        other => broker_core::Error::Config(other.to_string()),
    }
}
