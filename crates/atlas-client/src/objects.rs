//! `objects/` (one source, or many in chunks), `cone/` and `externalxmlist/`.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use broker_core::paginate::{ItemStream, id_chunks};
use broker_core::{Error, HttpError, ListStyle, Result, SkyPosition};
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::client::{AtlasClient, MAX_CONE_RADIUS_ARCSEC, SERVER_MAX_IDS, finite};
use crate::ids::AtlasId;
use crate::models::{ConeMatch, ExternalCrossmatch, Source};
use crate::reply::{ObjectsReply, decode_streaming, match_reply};

/// What became of one requested id in a bulk read.
#[derive(Debug, Clone)]
pub enum SourceOutcome {
    /// The server returned the source.
    Found(Box<Source>),
    /// The server does not know the id (its message, e.g. "AtlasDiffObjects matching query
    /// does not exist.").
    NotFound(String),
    /// The request for this id's chunk failed after retries (shared by the chunk's ids).
    Failed(Arc<Error>),
}

/// One requested id and what became of it.
#[derive(Debug, Clone)]
pub struct SourceResult {
    /// The id asked for.
    pub id: AtlasId,
    /// Data, not found, or the error.
    pub outcome: SourceOutcome,
}

impl SourceResult {
    /// The source, when found.
    pub fn source(&self) -> Option<&Source> {
        match &self.outcome {
            SourceOutcome::Found(s) => Some(s),
            _ => None,
        }
    }
    /// Takes the source out, when found.
    pub fn into_source(self) -> Option<Source> {
        match self.outcome {
            SourceOutcome::Found(s) => Some(*s),
            _ => None,
        }
    }
    /// Whether the server does not know the id.
    pub fn is_not_found(&self) -> bool {
        matches!(self.outcome, SourceOutcome::NotFound(_))
    }
    /// The error, when the request failed.
    pub fn error(&self) -> Option<&Error> {
        match &self.outcome {
            SourceOutcome::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// Builds a one-source request (`objects=<id>[&mjd=<mjd>]`).
#[derive(Debug, Clone)]
pub struct SourceRequest {
    client: AtlasClient,
    id: AtlasId,
    mjd: Option<f64>,
}

impl SourceRequest {
    /// Only photometry after this MJD (`lc`: strictly after; `fp`: at or after). By default
    /// the full history is returned (as `atlasapiclient` 1.2.0 does; its unreleased main
    /// branch defaults to today − 100 days).
    pub fn mjd_threshold(mut self, mjd: f64) -> Self {
        self.mjd = Some(mjd);
        self
    }
    /// Sends the request: `Ok(None)` when the server does not know the id.
    pub async fn send(self) -> Result<Option<Source>> {
        let mjd = self.mjd.map(|m| finite("mjd", m)).transpose()?;
        let mut results = self.client.fetch_sources(vec![self.id], mjd, None).await?;
        match results.pop() {
            Some(r) => match r.outcome {
                SourceOutcome::Found(s) => Ok(Some(*s)),
                SourceOutcome::NotFound(_) => Ok(None),
                SourceOutcome::Failed(e) => Err(Arc::try_unwrap(e)
                    .unwrap_or_else(|e| Error::Transport { url: String::new(), message: e.to_string() })),
            },
            None => Err(Error::Decode {
                path: ".".into(),
                message: "the reply of objects/ is empty".into(),
                excerpt: String::new(),
                url: String::new(),
            }),
        }
    }
}

/// Builds a bulk read of many sources (see [`AtlasClient::sources`]).
#[derive(Debug, Clone)]
pub struct SourcesRequest {
    client: AtlasClient,
    ids: Vec<AtlasId>,
    mjd: Option<f64>,
    chunk_size: usize,
    concurrency: usize,
    isolate: bool,
}

impl SourcesRequest {
    /// When a chunk of several ids still fails with HTTP 500 after retries, split it in
    /// halves and fetch those, down to single ids, so that one id the server chokes on
    /// fails alone. Off by default: each split costs requests from the hourly budget.
    pub fn isolate_failures(mut self, on: bool) -> Self {
        self.isolate = on;
        self
    }
    /// Only photometry after this MJD (see [`SourceRequest::mjd_threshold`]).
    pub fn mjd_threshold(mut self, mjd: f64) -> Self {
        self.mjd = Some(mjd);
        self
    }
    /// Ids per request (1 to 50,000; default from the client).
    pub fn chunk_size(mut self, n: usize) -> Self {
        self.chunk_size = n;
        self
    }
    /// Requests in flight at once (default from the client). A reply is decoded while it
    /// arrives and after its last byte, when the next request is already on its way: one
    /// more chunk than this may be in memory, being decoded.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    fn validate(&self) -> Result<(Vec<AtlasId>, Option<f64>)> {
        if self.ids.is_empty() {
            return Err(Error::invalid("ids", "the list of ids is empty: give at least one ATLAS object id"));
        }
        if self.chunk_size == 0 || self.chunk_size > SERVER_MAX_IDS {
            return Err(Error::invalid(
                "chunk_size",
                format!("{} is not valid: use 1 to {SERVER_MAX_IDS} ids per request", self.chunk_size),
            ));
        }
        if self.concurrency == 0 {
            return Err(Error::invalid("concurrency", "use at least 1 request in flight"));
        }
        let mjd = self.mjd.map(|m| finite("mjd", m)).transpose()?;
        let mut seen = HashSet::new();
        let ids = self.ids.iter().copied().filter(|id| seen.insert(*id)).collect();
        Ok((ids, mjd))
    }

    /// A stream of one [`SourceResult`] per distinct id, in input order, as chunks
    /// arrive. `total()` is the number of distinct ids. Fails only on invalid input.
    pub fn stream(self) -> Result<ItemStream<SourceResult>> {
        let (ids, mjd) = self.validate()?;
        let total = ids.len() as u64;
        let client = self.client.clone();
        let isolate = self.isolate;
        // `concurrency` requests on the wire, and one more chunk whose reply is still being
        // decoded: decoding a reply overlaps the next request.
        let wire = Arc::new(Semaphore::new(self.concurrency));
        let chunks = id_chunks(ids, self.chunk_size, self.concurrency + 1, move |chunk: Vec<AtlasId>| {
            let client = client.clone();
            let wire = Some(wire.clone());
            async move {
                let out = if isolate {
                    client.fetch_isolating(chunk, mjd, wire).await
                } else {
                    client.fetch_chunk_never_fails(chunk, mjd, wire).await
                };
                Ok::<_, Error>(out)
            }
        });
        let items = chunks.flat_map(|c| {
            let results = match c.result {
                Ok(v) => v,
                Err(e) => {
                    let e = Arc::new(e);
                    c.ids.into_iter().map(|id| SourceResult { id, outcome: SourceOutcome::Failed(e.clone()) }).collect()
                }
            };
            futures::stream::iter(results.into_iter().map(Ok))
        });
        Ok(ItemStream::from_stream(items, Some(total)))
    }

    /// Every distinct id exactly once, in input order: data, not found, or failed with the
    /// error. Fails only on invalid input (before any request).
    pub async fn collect(self) -> Result<Vec<SourceResult>> {
        self.stream()?.collect_all().await
    }
}

/// An `mjd` threshold past every observation (MJD 1,000,000 is in the year 4596): the
/// server then sends the object records with empty `lc`, `lcnondets` and `fp`.
const NO_PHOTOMETRY_MJD: f64 = 1_000_000.0;

/// The text of `{"info": "Max number of objects for each requests is 50,000"}`.
fn over_limit(body: &[u8]) -> Option<(String, Option<usize>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let info = v.as_object()?.get("info")?.as_str()?.to_string();
    let digits: String = info
        .rsplit(|c: char| !(c.is_ascii_digit() || c == ','))
        .find(|s| s.chars().any(|c| c.is_ascii_digit()))
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let limit = if info.to_ascii_lowercase().contains("max number of objects") { digits.parse().ok() } else { None };
    Some((info, limit))
}

type ChunkFut = Pin<Box<dyn Future<Output = Result<Vec<SourceResult>>> + Send>>;

impl AtlasClient {
    /// One source by id (`POST objects/` with `objects=<id>`).
    ///
    /// `send()` gives `Ok(None)` when the server does not know the id.
    pub fn source(&self, id: AtlasId) -> SourceRequest {
        SourceRequest { client: self.clone(), id, mjd: None }
    }

    /// Many sources, in chunks of comma-joined ids (default 1,000 per request), a bounded
    /// number of requests in flight, under the client-side limit of 100 requests per hour,
    /// with 429 `Retry-After` honoured and failed chunks retried by the HTTP layer.
    ///
    /// Returns every distinct id exactly once, in input order: data, not found, or failed
    /// with the error. A chunk is never dropped. If the server says a chunk is over its
    /// per-request limit, the chunk is split to that size and fetched again.
    pub fn sources(&self, ids: impl IntoIterator<Item = AtlasId>) -> SourcesRequest {
        SourcesRequest {
            client: self.clone(),
            ids: ids.into_iter().collect(),
            mjd: None,
            chunk_size: self.inner.chunk_size,
            concurrency: self.inner.concurrency,
            isolate: false,
        }
    }

    /// Fetches a chunk; on a final HTTP 500 for several ids, fetches each half instead.
    fn fetch_isolating(
        &self,
        ids: Vec<AtlasId>,
        mjd: Option<f64>,
        wire: Option<Arc<Semaphore>>,
    ) -> Pin<Box<dyn Future<Output = Vec<SourceResult>> + Send>> {
        let client = self.clone();
        Box::pin(async move {
            match client.fetch_sources(ids.clone(), mjd, wire.clone()).await {
                Ok(v) => v,
                Err(e) if ids.len() > 1 && e.status() == Some(500) => {
                    tracing::warn!(ids = ids.len(), "objects/ chunk failed with HTTP 500: splitting it");
                    let (a, b) = ids.split_at(ids.len() / 2);
                    let mut out = client.fetch_isolating(a.to_vec(), mjd, wire.clone()).await;
                    out.extend(client.fetch_isolating(b.to_vec(), mjd, wire).await);
                    out
                }
                Err(e) => {
                    let e = Arc::new(e);
                    ids.into_iter().map(|id| SourceResult { id, outcome: SourceOutcome::Failed(e.clone()) }).collect()
                }
            }
        })
    }

    async fn fetch_chunk_never_fails(
        &self,
        ids: Vec<AtlasId>,
        mjd: Option<f64>,
        wire: Option<Arc<Semaphore>>,
    ) -> Vec<SourceResult> {
        match self.fetch_sources(ids.clone(), mjd, wire).await {
            Ok(v) => v,
            Err(e) => {
                let e = Arc::new(e);
                ids.into_iter().map(|id| SourceResult { id, outcome: SourceOutcome::Failed(e.clone()) }).collect()
            }
        }
    }

    /// One `objects/` request for `ids` (split further if the server says it is too many),
    /// its reply decoded while it arrives (on the blocking pool). `wire` bounds the requests
    /// on the wire across the chunks of one bulk read.
    fn fetch_sources(&self, ids: Vec<AtlasId>, mjd: Option<f64>, wire: Option<Arc<Semaphore>>) -> ChunkFut {
        let client = self.clone();
        Box::pin(async move {
            let mut req = AtlasClient::read("objects/")
                .form_list("objects", ids.iter(), ListStyle::CommaJoined)
                .form_opt("mjd", mjd)
                .timeout(client.inner.objects_timeout);
            if let Some(w) = &wire {
                req = req.wire_slots(w.clone());
            }
            let url = client.inner.http.url_for("objects/").map(|u| broker_core::redact_url(&u)).unwrap_or_default();
            let decoder_url = url.clone();
            let decoder: broker_core::BodyDecoder<ObjectsReply> =
                Arc::new(move |body| decode_streaming(body, &decoder_url));
            let reply = client.send_decoding(req, decoder).await?;
            let (elements, excerpt) = match reply.value {
                ObjectsReply::Elements { elements, excerpt } => (elements, excerpt),
                ObjectsReply::Object(body) => {
                    if let Some((info, limit)) = over_limit(&body) {
                        if let Some(limit) = limit.filter(|l| *l >= 1 && *l < ids.len()) {
                            tracing::warn!(
                                limit,
                                asked = ids.len(),
                                "objects/ limit is lower than the chunk: splitting"
                            );
                            let mut out = Vec::with_capacity(ids.len());
                            for part in ids.chunks(limit) {
                                out.extend(client.fetch_chunk_never_fails(part.to_vec(), mjd, wire.clone()).await);
                            }
                            return Ok(out);
                        }
                        return Err(Error::Http(Box::new(HttpError {
                            status: reply.status,
                            message: Some(info),
                            excerpt: broker_core::error::excerpt(&body),
                            url: broker_core::redact_url(&reply.url),
                            retry_after: None,
                            body: body.into(),
                        })));
                    }
                    return Err(Error::Decode {
                        path: ".".into(),
                        message: "expected a list of sources, got an object".into(),
                        excerpt: broker_core::error::excerpt(&body),
                        url: broker_core::redact_url(&reply.url),
                    });
                }
            };
            Ok(match_reply(&ids, elements, &excerpt, &url))
        })
    }

    /// Cone search, nearest object within `radius_arcsec` (at most 300):
    /// `requestType=nearest`. `Ok(None)` when nothing is there.
    pub async fn cone_nearest(&self, position: SkyPosition, radius_arcsec: f64) -> Result<Option<ConeMatch>> {
        let Some(v) = self.cone(position, radius_arcsec, "nearest").await? else {
            return Ok(None);
        };
        if v.as_object().is_some_and(|m| m.is_empty() || !m.contains_key("object")) {
            return Ok(None);
        }
        serde_json::from_value(v).map(Some).map_err(|e| Error::Decode {
            path: ".".into(),
            message: e.to_string(),
            excerpt: String::new(),
            url: "cone/".into(),
        })
    }

    /// Cone search, every object within `radius_arcsec` (at most 300):
    /// `requestType=all`.
    pub async fn cone_all(&self, position: SkyPosition, radius_arcsec: f64) -> Result<Vec<ConeMatch>> {
        let Some(v) = self.cone(position, radius_arcsec, "all").await? else {
            return Ok(Vec::new());
        };
        serde_json::from_value(v).map_err(|e| Error::Decode {
            path: ".".into(),
            message: e.to_string(),
            excerpt: String::new(),
            url: "cone/".into(),
        })
    }

    /// Cone search with positions: [`AtlasClient::cone_all`], then the matches' RA and Dec
    /// from their `objects/` records (the `cone/` reply has only id, designation and
    /// separation). The lookup asks for no photometry (`mjd` past every observation), so it
    /// is one small request per 50,000 matches, counted against the hourly budget. A match
    /// whose record could not be read keeps `ra`/`dec` at `None`.
    pub async fn cone_all_with_positions(&self, position: SkyPosition, radius_arcsec: f64) -> Result<Vec<ConeMatch>> {
        let mut matches = self.cone_all(position, radius_arcsec).await?;
        if matches.is_empty() {
            return Ok(matches);
        }
        let found = self
            .sources(matches.iter().map(|m| m.object))
            .mjd_threshold(NO_PHOTOMETRY_MJD)
            .chunk_size(SERVER_MAX_IDS)
            .collect()
            .await?;
        let at: HashMap<AtlasId, (Option<f64>, Option<f64>)> =
            found.iter().filter_map(|r| r.source().map(|s| (r.id, (s.object.ra, s.object.dec)))).collect();
        for m in &mut matches {
            if let Some((ra, dec)) = at.get(&m.object) {
                m.ra = m.ra.or(*ra);
                m.dec = m.dec.or(*dec);
            }
        }
        Ok(matches)
    }

    /// Cone search, how many objects are within `radius_arcsec` (at most 300):
    /// `requestType=count`.
    pub async fn cone_count(&self, position: SkyPosition, radius_arcsec: f64) -> Result<u64> {
        let Some(v) = self.cone(position, radius_arcsec, "count").await? else {
            return Ok(0);
        };
        v.get("count").and_then(Value::as_u64).ok_or_else(|| Error::Decode {
            path: "count".into(),
            message: "expected {\"count\": <n>}".into(),
            excerpt: broker_core::error::excerpt(v.to_string().as_bytes()),
            url: "cone/".into(),
        })
    }

    /// `None` when the server says nothing was found (older servers answer 400
    /// `{"error": "No object found ..."}`).
    async fn cone(&self, position: SkyPosition, radius_arcsec: f64, kind: &str) -> Result<Option<Value>> {
        let radius = broker_core::astro::validate_radius_arcsec(radius_arcsec, MAX_CONE_RADIUS_ARCSEC)?;
        let req = AtlasClient::read("cone/")
            .form("ra", position.ra())
            .form("dec", position.dec())
            .form("radius", radius)
            .form("requestType", kind);
        match self.send(req).await {
            Ok(resp) => resp.json().map(Some),
            Err(Error::Http(h))
                if h.status == 400 && h.message.as_deref().is_some_and(|m| m.starts_with("No object found")) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// External crossmatches by external designation, e.g. TNS names
    /// (`POST externalxmlist/` with `externalObjects=2020tjh,2024abc`). One entry per
    /// name, in order; names without rows get an empty list.
    pub async fn external_crossmatches<I, S>(&self, names: I) -> Result<Vec<ExternalMatches>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names: Vec<String> = names.into_iter().map(|s| s.as_ref().trim().to_string()).collect();
        if names.is_empty() {
            return Err(Error::invalid(
                "names",
                "give at least one external designation (e.g. a TNS name like 2020tjh)",
            ));
        }
        if let Some(bad) = names.iter().find(|n| n.is_empty() || n.contains(',')) {
            return Err(Error::invalid(
                "names",
                format!("{bad:?} is not a designation: names must be non-empty and contain no comma"),
            ));
        }
        let req =
            AtlasClient::read("externalxmlist/").form_list("externalObjects", names.iter(), ListStyle::CommaJoined);
        let resp = self.send(req).await?;
        let lists: Vec<Vec<ExternalCrossmatch>> = resp.json()?;
        if lists.len() != names.len() {
            return Err(Error::Decode {
                path: ".".into(),
                message: format!("the reply of externalxmlist/ has {} lists for {} names", lists.len(), names.len()),
                excerpt: broker_core::error::excerpt(&resp.body),
                url: broker_core::redact_url(&resp.url),
            });
        }
        Ok(names.into_iter().zip(lists).map(|(name, matches)| ExternalMatches { name, matches }).collect())
    }
}

/// The external crossmatch rows of one designation.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalMatches {
    /// The designation asked for.
    pub name: String,
    /// Its rows (one per ATLAS object it matches).
    pub matches: Vec<ExternalCrossmatch>,
}
