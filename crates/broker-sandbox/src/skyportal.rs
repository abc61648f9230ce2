//! SkyPortal (Fritz) REST API emulator (Tornado handlers behind nginx).

use crate::middleware::canned::{json, skyportal_error};
use crate::rng::{Rng, mix};
use crate::sky::{SkyObject, Survey, mag_to_flux, round, separation_arcsec};
use crate::state::Shared;
use crate::util::{Pairs, header, jf, parse_bool};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use axum::routing::{any, get};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod candidates;
mod classifications;
mod comments;
mod followup;
mod gcn;
mod spectra;
mod store;
mod tables;

/// The `version` SkyPortal puts in every envelope.
pub(crate) const VERSION: &str = "1.4.0";
const MAX_PER_PAGE: usize = 500;
const MAX_ROWS: usize = 10_000;
const PUBLIC_GROUP: i64 = 1;
const FILTERS: [&str; 16] = [
    "ztfg", "ztfr", "ztfi", "atlasc", "atlaso", "sdssu", "sdssg", "sdssr", "sdssi", "sdssz", "bessellv", "bessellb",
    "lsstu", "lsstg", "lsstr", "lssti",
];
const MORE_FILTERS: [&str; 4] = ["lsstz", "lssty", "ps1::y", "2massj"];

/// The SkyPortal source id of a synthetic object (its ZTF oid, else its ATLAS designation).
pub(crate) fn obj_id(o: &SkyObject) -> String {
    o.ztf_oid.clone().unwrap_or_else(|| o.atlas_designation.clone())
}

#[derive(Debug, Clone)]
struct Source {
    id: String,
    ra: f64,
    dec: f64,
    redshift: Option<f64>,
    groups: Vec<i64>,
    saved: Duration,
    sky: Option<usize>,
    tns: Option<String>,
}

#[derive(Debug, Clone)]
struct Phot {
    id: u64,
    obj_id: String,
    instrument_id: i64,
    mjd: f64,
    filter: String,
    flux: Option<f64>,
    fluxerr: f64,
    zp: f64,
    magsys: String,
    origin: String,
    limiting_mag: Option<f64>,
    nsigma: f64,
    ra: Option<f64>,
    dec: Option<f64>,
    altdata: Value,
    groups: Vec<i64>,
    created: Duration,
    /// `upload_id` of the POST/PUT that inserted it (posted points only).
    upload_id: Option<String>,
}

#[derive(Debug, Default)]
struct SpState {
    sources: Vec<Source>,
    index: HashMap<String, usize>,
    posted: BTreeMap<u64, Phot>,
    /// Sky-model points that were patched (`Some`) or deleted (`None`).
    sky_overrides: HashMap<u64, Option<Phot>>,
    next_phot: u64,
    queries: HashMap<String, Vec<String>>,
    more: store::More,
}

#[derive(Clone)]
struct Sp {
    shared: Arc<Shared>,
    state: Arc<Mutex<SpState>>,
}

impl Sp {
    fn lock(&self) -> std::sync::MutexGuard<'_, SpState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn ok(data: Value) -> Response {
    json(200, json!({"status": "success", "data": data, "version": VERSION}))
}

fn err(status: u16, msg: &str) -> Response {
    skyportal_error(status, msg)
}

const INSTRUMENTS: [(i64, &str, &str, &[&str]); 4] = [
    (1, "ZTF", "P48", &["ztfg", "ztfr", "ztfi"]),
    (2, "ATLAS", "ATLAS", &["atlasc", "atlaso"]),
    (3, "LSST", "Rubin", &["lsstu", "lsstg", "lsstr", "lssti", "lsstz", "lssty"]),
    (store::SPECTROGRAPH, "SEDM", "P60", &[]),
];

fn groups_json(ids: &[i64]) -> Value {
    Value::Array(
        ids.iter()
            .map(|g| {
                let (name, nick) = match g {
                    1 => ("Sitewide Group", "sitewide"),
                    2 => ("Sandbox Transients", "transients"),
                    _ => ("Sandbox Variables", "variables"),
                };
                json!({"id": g, "name": name, "nickname": nick, "single_user_group": false})
            })
            .collect(),
    )
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut st = SpState { next_phot: 900_000_000, ..Default::default() };
    for o in &shared.sky.objects {
        let g = if o.kind.is_transient() { 2 } else { 3 };
        st.index.insert(obj_id(o), st.sources.len());
        st.sources.push(Source {
            id: obj_id(o),
            ra: o.ra,
            dec: o.dec,
            redshift: o.redshift,
            groups: vec![PUBLIC_GROUP, g],
            saved: Duration::from_secs(o.index as u64),
            sky: Some(o.index),
            tns: o.tns_name.clone(),
        });
    }
    let mut r = Rng::new(&[shared.config.seed, 0x5050]);
    for i in 0..shared.config.sky.extra_skyportal_sources {
        let id = format!("SBX{:07}", i);
        st.index.insert(id.clone(), st.sources.len());
        st.sources.push(Source {
            id,
            ra: r.range(0.0, 360.0),
            dec: r.range(-0.95, 0.97).asin().to_degrees(),
            redshift: None,
            groups: vec![PUBLIC_GROUP],
            saved: Duration::from_secs(shared.sky.objects.len() as u64 + i as u64),
            sky: None,
            tns: None,
        });
    }
    st.more = store::seed(&shared);
    let sp = Sp { shared, state: Arc::new(Mutex::new(st)) };
    let r = Router::new()
        .route("/api/sysinfo", get(sysinfo))
        .route("/api/config", any(config))
        .route("/api/sources", any(sources))
        .route("/api/sources/{obj_id}", any(source))
        .route("/api/sources/{obj_id}/photometry", any(source_photometry))
        .route("/api/photometry", any(photometry))
        .route("/api/photometry/{id}", any(photometry_one))
        .route("/api/photometry/bulk_delete/{upload_id}", any(bulk_delete))
        .route("/api/candidates", any(candidates))
        .route("/api/groups", any(groups))
        .route("/api/groups/{id}", any(group_one))
        .route("/api/instrument", any(instruments))
        .route("/api/instrument/{id}", any(instrument));
    store::routes(r).route("/api/{*rest}", any(invalid)).fallback(not_found).with_state(sp)
}

async fn not_found() -> Response {
    crate::middleware::canned::text(
        404,
        "text/html",
        "<html><title>404: Not Found</title><body>404: Not Found</body></html>".into(),
    )
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Admin,
    ViewOnly,
}

/// baselayer `auth_or_token` + `permissions`.
fn auth(sp: &Sp, h: &HeaderMap, needs_acl: bool) -> Result<Who, Response> {
    let c = &sp.shared.creds.skyportal;
    let Some(v) = header(h, header::AUTHORIZATION).filter(|v| v.starts_with("token ")) else {
        return Err(err(
            401,
            "HTTP 401: Unauthorized (Credentials malformed; expected form \"Authorization: token abc123\")",
        ));
    };
    let token = v.replacen("token", "", 1);
    let token = token.trim();
    let who = if token == c.token {
        Who::Admin
    } else if token == c.view_only_token {
        Who::ViewOnly
    } else if token == c.expired_user_token {
        return Err(err(403, "HTTP 403: Forbidden (User account expired)"));
    } else {
        return Err(err(401, "HTTP 401: Unauthorized"));
    };
    if needs_acl && who == Who::ViewOnly {
        let s = sp.shared.config.skyportal_acl_status;
        return Err(if s == 403 { err(403, "HTTP 403: Forbidden") } else { err(401, "HTTP 401: Unauthorized") });
    }
    Ok(who)
}

fn method_not_allowed() -> Response {
    err(405, "HTTP 405: Method Not Allowed")
}

async fn invalid(State(sp): State<Sp>, h: HeaderMap) -> Response {
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    err(400, "Invalid API endpoint")
}

async fn sysinfo() -> Response {
    ok(
        json!({"gitlog": [{"time": "2025-04-15T00:00:00+00:00", "sha": "0000000", "description": "broker-sandbox (synthetic SkyPortal)", "pr_nr": null, "pr_url": null, "commit_url": null}], "cosmology": "Planck18", "cosmoref": "Planck 2018"}),
    )
}

async fn config(State(sp): State<Sp>, h: HeaderMap) -> Response {
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let mut wl = Map::new();
    for f in FILTERS.iter().chain(MORE_FILTERS.iter()) {
        wl.insert((*f).into(), json!(5000.0));
    }
    ok(
        json!({"publicGroupName": "Sitewide Group", "bandpassesWavelengths": wl, "allowedSpectrumTypes": ["source", "host", "host_center"], "maxNumDaysUsingLocalization": 31}),
    )
}

fn source_json(sp: &Sp, s: &Source, include_phot: bool) -> Value {
    let o = s.sky.and_then(|i| sp.shared.sky.objects.get(i));
    let created = crate::clock::iso_z(sp.shared.clock.wall(Duration::ZERO)).trim_end_matches('Z').to_string();
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    m.insert("ra".into(), jf(s.ra));
    m.insert("dec".into(), jf(s.dec));
    m.insert("ra_dis".into(), Value::Null);
    m.insert("dec_dis".into(), Value::Null);
    m.insert("ra_err".into(), Value::Null);
    m.insert("dec_err".into(), Value::Null);
    m.insert("offset".into(), json!(0.0));
    m.insert("redshift".into(), s.redshift.map(jf).unwrap_or(Value::Null));
    m.insert("redshift_error".into(), Value::Null);
    m.insert("origin".into(), json!(if o.is_some() { "broker-sandbox" } else { "broker-sandbox-extra" }));
    m.insert("alias".into(), o.map(|o| json!([o.atlas_designation])).unwrap_or(Value::Null));
    m.insert("healpix".into(), json!(mix(s.id.len() as u64 ^ (s.ra * 1e6) as u64) % (12 * (1u64 << 26))));
    m.insert("transient".into(), json!(o.map(|o| o.kind.is_transient()).unwrap_or(false)));
    m.insert("varstar".into(), json!(o.map(|o| !o.kind.is_transient()).unwrap_or(false)));
    m.insert("is_roid".into(), json!(false));
    m.insert("score".into(), Value::Null);
    m.insert("tns_name".into(), s.tns.as_ref().map(|t| json!(t)).unwrap_or(Value::Null));
    m.insert("created_at".into(), json!(created));
    m.insert("internal_key".into(), json!(format!("{:016x}", mix(s.ra.to_bits()))));
    m.insert("altdata".into(), Value::Null);
    m.insert("classifications".into(), Value::Array(store::classifications_of(sp, &s.id)));
    m.insert("groups".into(), groups_json(&s.groups));
    m.insert("annotations".into(), Value::Array(store::annotations_of(sp, &s.id)));
    m.insert("thumbnails".into(), json!([]));
    if include_phot {
        m.insert("photometry".into(), Value::Array(points_of(sp, s).iter().map(|p| phot_json(sp, p, "mag")).collect()));
    }
    Value::Object(m)
}

/// All photometry of a source: the sky model's ZTF and ATLAS points plus posted points.
fn points_of(sp: &Sp, s: &Source) -> Vec<Phot> {
    let mut out = Vec::new();
    if let Some(o) = s.sky.and_then(|i| sp.shared.sky.objects.get(i)) {
        for (survey, inst, prefix) in [(Survey::Ztf, 1i64, "ztf"), (Survey::Atlas, 2, "atlas")] {
            for p in sp.shared.sky.photometry(o, survey) {
                if survey == Survey::Atlas && p.seq % 4 != 0 {
                    continue;
                }
                let id = (o.index as u64 + 1) * 10_000_000 + inst as u64 * 1_000_000 + p.seq as u64;
                let det = survey == Survey::Atlas || p.detected;
                out.push(Phot {
                    id,
                    obj_id: s.id.clone(),
                    instrument_id: inst,
                    mjd: p.mjd,
                    filter: format!("{prefix}{}", p.band),
                    flux: det.then_some(p.flux),
                    fluxerr: p.flux_err,
                    zp: 23.9,
                    magsys: "ab".into(),
                    origin: if survey == Survey::Ztf { "alerce".into() } else { "atlas_fp".into() },
                    limiting_mag: (!det).then_some(p.limit),
                    nsigma: 5.0,
                    ra: Some(o.ra),
                    dec: Some(o.dec),
                    altdata: Value::Null,
                    groups: vec![PUBLIC_GROUP],
                    created: Duration::ZERO,
                    upload_id: None,
                });
            }
        }
    }
    let st = sp.lock();
    if !st.sky_overrides.is_empty() {
        out = out
            .into_iter()
            .filter_map(|p| match st.sky_overrides.get(&p.id) {
                Some(o) => o.clone(),
                None => Some(p),
            })
            .collect();
    }
    out.extend(st.posted.values().filter(|p| p.obj_id == s.id).cloned());
    out.sort_by(|a, b| a.mjd.total_cmp(&b.mjd));
    out
}

fn phot_json(sp: &Sp, p: &Phot, format: &str) -> Value {
    let inst = INSTRUMENTS.iter().find(|i| i.0 == p.instrument_id).map(|i| i.1).unwrap_or("unknown");
    let snr = p.flux.map(|f| f / p.fluxerr);
    let mut m = Map::new();
    m.insert("obj_id".into(), json!(p.obj_id));
    m.insert("ra".into(), p.ra.map(jf).unwrap_or(Value::Null));
    m.insert("dec".into(), p.dec.map(jf).unwrap_or(Value::Null));
    m.insert("filter".into(), json!(p.filter));
    m.insert("mjd".into(), jf(p.mjd));
    m.insert("snr".into(), snr.map(jf).unwrap_or(Value::Null));
    m.insert("instrument_id".into(), json!(p.instrument_id));
    m.insert("instrument_name".into(), json!(inst));
    m.insert("ra_unc".into(), Value::Null);
    m.insert("dec_unc".into(), Value::Null);
    m.insert("origin".into(), json!(p.origin));
    m.insert("id".into(), json!(p.id));
    m.insert("altdata".into(), p.altdata.clone());
    m.insert("created_at".into(), json!(crate::clock::iso_z(sp.shared.clock.wall(p.created)).trim_end_matches('Z')));
    m.insert("groups".into(), groups_json(&p.groups));
    m.insert("annotations".into(), json!([]));
    if format == "mag" || format == "both" {
        let det = p.flux.filter(|f| *f > 0.0 && p.flux.map(|f| f / p.fluxerr).unwrap_or(0.0) >= p.nsigma);
        let lim = p.limiting_mag.unwrap_or_else(|| round(-2.5 * (p.nsigma * p.fluxerr).log10() + p.zp, 4));
        m.insert("mag".into(), det.map(|f| jf(round(p.zp - 2.5 * f.log10(), 6))).unwrap_or(Value::Null));
        m.insert("magerr".into(), det.map(|f| jf(round(1.0857 * p.fluxerr / f, 6))).unwrap_or(Value::Null));
        m.insert("magsys".into(), json!(p.magsys));
        m.insert("limiting_mag".into(), jf(lim));
    }
    if format == "flux" || format == "both" {
        m.insert("flux".into(), p.flux.map(|f| jf(round(f, 6))).unwrap_or(Value::Null));
        m.insert("fluxerr".into(), jf(round(p.fluxerr, 6)));
        m.insert("zp".into(), jf(p.zp));
        m.insert("magsys".into(), json!(p.magsys));
    }
    Value::Object(m)
}

/// `utils/parse.py` `get_page_and_n_per_page`: 1-based pages, `numPerPage` silently clamped.
fn page_params(q: &Pairs, default: usize, max: usize) -> Result<(usize, usize), Response> {
    let page = match q.last("pageNumber") {
        None => 1,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 => n as usize,
            Ok(_) => return Err(err(400, "Page number must be greater than 0.")),
            Err(_) => return Err(err(400, "Invalid page number value.")),
        },
    };
    let n = match q.last("numPerPage") {
        None => default,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 => (n as usize).min(max),
            Ok(_) => return Err(err(400, "Number per page must be greater than 0.")),
            Err(_) => return Err(err(400, "Invalid numPerPage value.")),
        },
    };
    Ok((page, n.min(max)))
}

fn query_id(ids: &[String]) -> String {
    let mut h = 0xCBF2_9CE4_8422_2325u64;
    for id in ids {
        for b in id.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        h = mix(h);
    }
    format!("{:016x}{:016x}{:016x}{:016x}", h, mix(h), mix(h ^ 1), mix(h ^ 2))
}

fn body_json(body: &[u8]) -> Result<Value, Response> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| err(400, &format!("Invalid JSON: {e}")))
}

async fn sources(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {}
        Method::POST => return post_source(&sp, &h, &body),
        _ => return method_not_allowed(),
    }
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let q = Pairs::from_query(&uri);
    let (page, n) = match page_params(&q, 100, MAX_PER_PAGE) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let use_cache = q.last("useCache").and_then(parse_bool).unwrap_or(false);
    // `get_sources` (handlers/api/sources.py): with the cache, page 1 is asked without a
    // queryID and every later page with one; without the cache a queryID is ignored.
    let given_qid = q.last("queryID").filter(|_| use_cache);
    if use_cache && given_qid.is_none() && page > 1 {
        return err(
            400,
            "Cannot retrieve sources: Cannot use cache and not specify a query_id when requesting a page number > 1",
        );
    }
    if given_qid.is_some() && page == 1 {
        return err(
            400,
            "Cannot retrieve sources: Cannot use cache and specify a query_id when requesting the first page",
        );
    }
    let mut group_ids = Vec::new();
    if let Some(g) = q.last("group_ids") {
        for x in g.split(',').filter(|x| !x.trim().is_empty()) {
            match x.trim().parse::<i64>() {
                Ok(v) => group_ids.push(v),
                Err(_) => return err(400, &format!("Cannot retrieve sources: Invalid group_ids value: {g}")),
            }
        }
    }
    let f = |k: &str| q.last(k).and_then(|v| v.parse::<f64>().ok());
    let cone = match (f("ra"), f("dec"), f("radius")) {
        (Some(a), Some(d), Some(r)) => Some((a, d, r)),
        (None, None, None) => None,
        _ => {
            return err(
                400,
                "Cannot retrieve sources: If any of 'ra', 'dec' or 'radius' are provided, all three are required.",
            );
        }
    };
    let source_id = q.last("sourceID").map(str::to_lowercase);
    let min_z = f("minRedshift");
    let max_z = f("maxRedshift");
    let has_tns = q.last("hasTNSname").and_then(parse_bool);
    let sort_by = q.last("sortBy").unwrap_or("saved_at");
    let desc = q.last("sortOrder").map(|s| s.eq_ignore_ascii_case("desc")).unwrap_or(true);
    let mut st = sp.lock();
    let cached = given_qid.and_then(|id| st.queries.get(id).cloned().map(|v| (id.to_string(), v)));
    let (ids, qid) = match cached {
        Some((id, v)) => (v, Some(id)),
        None => {
            let mut rows: Vec<&Source> = st
                .sources
                .iter()
                .filter(|s| group_ids.is_empty() || s.groups.iter().any(|g| group_ids.contains(g)))
                .filter(|s| source_id.as_ref().is_none_or(|p| s.id.to_lowercase().contains(p)))
                .filter(|s| cone.is_none_or(|(a, d, r)| separation_arcsec(a, d, s.ra, s.dec) <= r * 3600.0))
                .filter(|s| {
                    min_z.is_none_or(|z| s.redshift.is_some_and(|x| x >= z))
                        && max_z.is_none_or(|z| s.redshift.is_some_and(|x| x <= z))
                })
                .filter(|s| has_tns.is_none_or(|t| s.tns.is_some() == t))
                .collect();
            match sort_by {
                "id" => rows.sort_by(|a, b| a.id.cmp(&b.id)),
                "ra" => rows.sort_by(|a, b| a.ra.total_cmp(&b.ra)),
                "dec" => rows.sort_by(|a, b| a.dec.total_cmp(&b.dec)),
                "redshift" => rows.sort_by(|a, b| a.redshift.unwrap_or(-1.0).total_cmp(&b.redshift.unwrap_or(-1.0))),
                _ => rows.sort_by_key(|s| s.saved),
            }
            if desc {
                rows.reverse();
            }
            let ids: Vec<String> = rows.iter().map(|s| s.id.clone()).collect();
            let qid = use_cache.then(|| query_id(&ids));
            if let Some(q) = &qid {
                st.queries.insert(q.clone(), ids.clone());
            }
            (ids, qid)
        }
    };
    let total = ids.len();
    let page_ids: Vec<String> = ids.iter().skip((page - 1) * n).take(n).cloned().collect();
    let page_sources: Vec<Source> =
        page_ids.iter().filter_map(|id| st.index.get(id).and_then(|i| st.sources.get(*i)).cloned()).collect();
    drop(st);
    // The list reads `includePhotometry` but never passes it on: no photometry here.
    let out: Vec<Value> = page_sources.iter().map(|s| source_json(&sp, s, false)).collect();
    let mut data = json!({"sources": out, "totalMatches": total, "pageNumber": page, "numPerPage": n});
    if let (Some(q), Value::Object(m)) = (qid, &mut data) {
        m.insert("queryID".into(), json!(q));
    }
    if let (1, Value::Object(m)) = (group_ids.len(), &mut data) {
        m.insert("group_id".into(), json!(group_ids[0]));
    }
    ok(data)
}

fn post_source(sp: &Sp, h: &HeaderMap, body: &[u8]) -> Response {
    if let Err(r) = auth(sp, h, true) {
        return r;
    }
    let v = match body_json(body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = v.get("id").and_then(|x| x.as_str().map(str::to_string).or_else(|| x.as_i64().map(|n| n.to_string())));
    let ra = v.get("ra").and_then(Value::as_f64);
    let dec = v.get("dec").and_then(Value::as_f64);
    let (Some(id), Some(ra), Some(dec)) = (id, ra, dec) else {
        return err(
            400,
            "Invalid/missing parameters: {'id': ['Missing data for required field.'], 'ra': ['Missing data for required field.'], 'dec': ['Missing data for required field.']}",
        );
    };
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c)) {
        return err(400, "Invalid source ID");
    }
    let groups: Vec<i64> = v
        .get("group_ids")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_else(|| vec![PUBLIC_GROUP]);
    if let Some(g) = groups.iter().find(|g| !(1..=3).contains(*g)) {
        return err(400, &format!("Invalid group IDs: {g}"));
    }
    let now = sp.shared.clock.now();
    let offset = Duration::from_secs(10_000_000);
    let mut st = sp.lock();
    match st.index.get(&id).copied() {
        Some(i) => {
            if let Some(s) = st.sources.get_mut(i) {
                for g in &groups {
                    if !s.groups.contains(g) {
                        s.groups.push(*g);
                    }
                }
                s.saved = offset + now;
                if let Some(z) = v.get("redshift").and_then(Value::as_f64) {
                    s.redshift = Some(z);
                }
            }
        }
        None => {
            let n = st.sources.len();
            st.index.insert(id.clone(), n);
            st.sources.push(Source {
                id: id.clone(),
                ra,
                dec,
                redshift: v.get("redshift").and_then(Value::as_f64),
                groups: groups.clone(),
                saved: offset + now,
                sky: None,
                tns: None,
            });
        }
    }
    ok(json!({"id": id, "saved_to_groups": groups}))
}

async fn source(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let needs = !matches!(method, Method::GET | Method::HEAD);
    if let Err(r) = auth(&sp, &h, needs) {
        return r;
    }
    let found = {
        let st = sp.lock();
        st.index.get(&id).and_then(|i| st.sources.get(*i)).cloned()
    };
    match method {
        Method::HEAD => match found {
            Some(_) => ok(json!({})),
            None => store::empty_404(),
        },
        Method::GET => match found {
            Some(s) => {
                let q = Pairs::from_query(&uri);
                let mut v = source_json(&sp, &s, q.last("includePhotometry").and_then(parse_bool).unwrap_or(false));
                if let (true, Value::Object(m)) =
                    (q.last("includeComments").and_then(parse_bool).unwrap_or(false), &mut v)
                {
                    m.insert("comments".into(), Value::Array(store::comments_of(&sp, &s.id)));
                }
                ok(v)
            }
            None => err(404, "Source not found"),
        },
        Method::PATCH => {
            let Some(_) = found else { return err(400, &format!("Invalid source ID: {id}")) };
            let v = match body_json(&body) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let mut st = sp.lock();
            if let Some(s) = st.index.get(&id).copied().and_then(|i| st.sources.get_mut(i)) {
                if let Some(z) = v.get("redshift").and_then(Value::as_f64) {
                    s.redshift = Some(z);
                }
                if let Some(a) = v.get("ra").and_then(Value::as_f64) {
                    s.ra = a;
                }
                if let Some(d) = v.get("dec").and_then(Value::as_f64) {
                    s.dec = d;
                }
            }
            ok(json!({}))
        }
        Method::DELETE => {
            let Some(_) = found else { return err(400, &format!("Invalid source ID: {id}")) };
            let v = match body_json(&body) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let Some(g) = v.get("group_id").and_then(Value::as_i64) else {
                return err(400, "Missing required parameter: group_id");
            };
            let mut st = sp.lock();
            if let Some(s) = st.index.get(&id).copied().and_then(|i| st.sources.get_mut(i)) {
                s.groups.retain(|x| *x != g);
            }
            ok(json!({}))
        }
        _ => method_not_allowed(),
    }
}

async fn source_photometry(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    if method == Method::DELETE {
        return delete_source_photometry(&sp, &h, &id);
    }
    if method != Method::GET {
        return method_not_allowed();
    }
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let found = {
        let st = sp.lock();
        st.index.get(&id).and_then(|i| st.sources.get(*i)).cloned()
    };
    let Some(s) = found else {
        return err(403, &format!("Insufficient permissions for User provisioned_admin to read Obj {id}"));
    };
    let q = Pairs::from_query(&uri);
    let format = q.last("format").unwrap_or("mag");
    if !matches!(format, "mag" | "flux" | "both") {
        return err(400, "Invalid output format.");
    }
    ok(Value::Array(points_of(&sp, &s).iter().map(|p| phot_json(&sp, p, format)).collect()))
}

/// `DELETE /api/sources/{obj_id}/photometry` (`Delete bulk photometry`): every point of the obj.
fn delete_source_photometry(sp: &Sp, h: &HeaderMap, id: &str) -> Response {
    if let Err(r) = auth(sp, h, true) {
        return r;
    }
    let found = {
        let st = sp.lock();
        st.index.get(id).and_then(|i| st.sources.get(*i)).cloned()
    };
    let Some(s) = found else { return err(400, "Invalid object id.") };
    let points = points_of(sp, &s);
    let n = points.len();
    let mut st = sp.lock();
    for p in points {
        if st.posted.remove(&p.id).is_none() {
            st.sky_overrides.insert(p.id, None);
        }
    }
    ok(json!(format!("Deleted {n} photometry point(s) of {id}.")))
}

/// Column-oriented body → rows (scalars broadcast to the longest list).
fn standardize(v: &Value) -> Result<Vec<Map<String, Value>>, String> {
    let Value::Object(m) = v else { return Err("Invalid/missing parameters: body must be an object".into()) };
    let mut len = 1usize;
    for (k, x) in m {
        if matches!(k.as_str(), "group_ids" | "stream_ids" | "altdata") {
            continue;
        }
        if let Value::Array(a) = x {
            if a.len() != 1 && len != 1 && a.len() != len {
                return Err("Unequal sized columns".into());
            }
            len = len.max(a.len());
        }
    }
    let mut rows = vec![Map::new(); len];
    for (k, x) in m {
        for (i, row) in rows.iter_mut().enumerate() {
            let val = match x {
                Value::Array(a) if !matches!(k.as_str(), "group_ids" | "stream_ids") => {
                    a.get(if a.len() == 1 { 0 } else { i }).cloned().unwrap_or(Value::Null)
                }
                Value::Array(a) if k == "altdata" => a.get(i).cloned().unwrap_or(Value::Null),
                other => other.clone(),
            };
            row.insert(k.clone(), val);
        }
    }
    Ok(rows)
}

fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn parse_rows(sp: &Sp, body: &Value) -> Result<Vec<Phot>, Response> {
    // `standardize_photometry_data` calls `.items()` on every entry of an altdata list: a
    // non-object entry raises AttributeError, which no handler catches (500). An empty
    // object, or one whose values are all null or "", is stored as null.
    if let Some(Value::Array(a)) = body.get("altdata") {
        if let Some(bad) = a.iter().find(|x| !x.is_object()) {
            let t = match bad {
                Value::Null => "NoneType",
                Value::Bool(_) => "bool",
                Value::Number(n) if n.is_f64() => "float",
                Value::Number(_) => "int",
                Value::String(_) => "str",
                _ => "list",
            };
            return Err(err(500, &format!("'{t}' object has no attribute 'items'")));
        }
    }
    let rows = standardize(body).map_err(|m| err(400, &m))?;
    if rows.len() > MAX_ROWS {
        return Err(err(
            400,
            &format!(
                "Maximum number of photometry rows to post exceeded: {} > {MAX_ROWS}. Please break up the data into smaller sets and try again",
                rows.len()
            ),
        ));
    }
    let groups: Vec<i64> = match body.get("group_ids") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_i64).collect(),
        Some(Value::String(s)) if s == "all" => vec![PUBLIC_GROUP],
        _ => vec![PUBLIC_GROUP],
    };
    let now = sp.shared.clock.now();
    let st = sp.lock();
    let mut out = Vec::new();
    let mut bad_filters = Vec::new();
    for r in rows {
        let obj =
            r.get("obj_id").and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|n| n.to_string())));
        let inst = num(r.get("instrument_id")).map(|x| x as i64);
        let mjd = num(r.get("mjd"));
        let filter = r.get("filter").and_then(Value::as_str).map(str::to_string);
        let magsys = r.get("magsys").and_then(Value::as_str).map(str::to_string);
        let (Some(obj), Some(inst), Some(mjd), Some(filter), Some(magsys)) = (obj, inst, mjd, filter, magsys) else {
            return Err(err(
                400,
                "Invalid input format: Tried to parse data as PhotometryFlux, got: '{'obj_id': ['Missing data for required field.']}.' Tried to parse data as PhotometryMag, got: '{'obj_id': ['Missing data for required field.']}.'",
            ));
        };
        if !st.index.contains_key(&obj) {
            return Err(err(400, &format!("Invalid object ID: {obj}")));
        }
        if !INSTRUMENTS.iter().any(|i| i.0 == inst) {
            return Err(err(400, &format!("Invalid instrument ID: {inst}")));
        }
        if !FILTERS.contains(&filter.as_str()) && !MORE_FILTERS.contains(&filter.as_str()) {
            bad_filters.push(filter.clone());
            continue;
        }
        if !matches!(magsys.as_str(), "ab" | "vega") {
            return Err(err(400, &format!("Invalid magsys: {magsys}")));
        }
        let has_flux_key = r.contains_key("flux");
        let has_mag_key = r.contains_key("mag");
        let origin = match r.get("origin") {
            None | Some(Value::Null) => "None".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        let (flux, fluxerr, zp, lim, nsigma) = if has_flux_key && !has_mag_key {
            let fe = num(r.get("fluxerr"));
            let zp = num(r.get("zp"));
            let (Some(fe), Some(zp)) = (fe, zp) else {
                return Err(err(
                    400,
                    "Invalid input format: Tried to parse data as PhotometryFlux, got: '{'fluxerr': ['Missing data for required field.'], 'zp': ['Missing data for required field.']}.'",
                ));
            };
            if fe <= 0.0 || !fe.is_finite() {
                return Err(err(400, "Invalid input format: fluxerr must be > 0"));
            }
            let f = num(r.get("flux"));
            // stored at PHOT_ZP = 23.9
            let scale = 10f64.powf(-0.4 * (zp - 23.9));
            (f.map(|x| x * scale), fe * scale, 23.9, None, 5.0)
        } else {
            let mag = num(r.get("mag"));
            let magerr = num(r.get("magerr"));
            let lim = num(r.get("limiting_mag"));
            let nsigma = num(r.get("limiting_mag_nsigma")).unwrap_or(3.0);
            match (mag, magerr) {
                (Some(m), Some(e)) => {
                    let f = mag_to_flux(m);
                    (Some(f), (e * f / 1.0857).max(1e-9), 23.9, lim, nsigma)
                }
                (None, None) => {
                    let Some(l) = lim else { return Err(err(400, "Non-detections (mag=null) require a limiting_mag")) };
                    (None, mag_to_flux(l) / nsigma, 23.9, Some(l), nsigma)
                }
                _ => return Err(err(400, "Invalid input format: mag and magerr must both be null or both be set")),
            }
        };
        if flux.is_some_and(|f| !f.is_finite()) || !mjd.is_finite() {
            return Err(err(400, "Invalid input format: values must be finite"));
        }
        out.push(Phot {
            id: 0,
            obj_id: obj,
            instrument_id: inst,
            mjd,
            filter,
            flux,
            fluxerr,
            zp,
            magsys,
            origin,
            limiting_mag: lim,
            nsigma,
            ra: num(r.get("ra")),
            dec: num(r.get("dec")),
            altdata: match r.get("altdata") {
                Some(Value::Object(m)) => {
                    let kept: Map<String, Value> = m
                        .iter()
                        .filter(|(_, v)| !(v.is_null() || v.as_str() == Some("")))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    if kept.is_empty() { Value::Null } else { Value::Object(kept) }
                }
                _ => Value::Null,
            },
            groups: groups.clone(),
            created: now,
            upload_id: None,
        });
    }
    if !bad_filters.is_empty() {
        bad_filters.sort();
        bad_filters.dedup();
        return Err(err(400, &format!("Filter(s) {{'{}'}} is not allowed", bad_filters.join("', '"))));
    }
    Ok(out)
}

fn dedup_key(p: &Phot) -> (String, i64, String, u64, u64, Option<u64>) {
    (
        p.obj_id.clone(),
        p.instrument_id,
        p.origin.clone(),
        p.mjd.to_bits(),
        (round(p.fluxerr, 9)).to_bits(),
        p.flux.map(|f| round(f, 9).to_bits()),
    )
}

async fn photometry(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    match method {
        Method::GET => {
            if let Err(r) = auth(&sp, &h, false) {
                return r;
            }
            return err(400, "Missing required photometry_id.");
        }
        Method::POST | Method::PUT => {}
        _ => return method_not_allowed(),
    }
    if let Err(r) = auth(&sp, &h, true) {
        return r;
    }
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rows = match parse_rows(&sp, &v) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut st = sp.lock();
    let existing: HashMap<_, u64> = st.posted.values().map(|p| (dedup_key(p), p.id)).collect();
    let mut ids = Vec::new();
    if method == Method::POST {
        let dups: Vec<String> = rows
            .iter()
            .filter(|p| existing.contains_key(&dedup_key(p)))
            .map(|p| format!("{}@{}", p.obj_id, p.mjd))
            .collect();
        if !dups.is_empty() {
            return err(400, &format!("The following photometry already exists in the database: {}", dups.join(", ")));
        }
    }
    let mut r = Rng::new(&[sp.shared.config.seed, st.next_phot, 0x0701]);
    let h = r.hex(32);
    let upload_id = format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32]);
    for mut p in rows {
        if let Some(id) = existing.get(&dedup_key(&p)) {
            ids.push(*id);
            continue;
        }
        st.next_phot += 1;
        p.id = st.next_phot;
        p.upload_id = Some(upload_id.clone());
        ids.push(p.id);
        st.posted.insert(p.id, p);
    }
    if method == Method::PUT { ok(json!({"ids": ids})) } else { ok(json!({"ids": ids, "upload_id": upload_id})) }
}

async fn photometry_one(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let needs = method != Method::GET;
    if let Err(r) = auth(&sp, &h, needs) {
        return r;
    }
    let Ok(pid) = id.parse::<u64>() else { return err(400, &format!("Cannot find photometry point with ID: {id}")) };
    match method {
        Method::GET => {
            let p = sp.lock().posted.get(&pid).cloned();
            let p = p.or_else(|| sky_point(&sp, pid));
            let q = Pairs::from_query(&uri);
            match p {
                Some(p) => ok(phot_json(&sp, &p, q.last("format").unwrap_or("mag"))),
                None => err(400, &format!("Cannot find photometry point with ID: {pid}")),
            }
        }
        Method::DELETE => {
            if sp.lock().posted.remove(&pid).is_some() {
                return ok(json!({}));
            }
            match sky_point(&sp, pid) {
                Some(_) => {
                    sp.lock().sky_overrides.insert(pid, None);
                    ok(json!({}))
                }
                None => err(400, &format!("Cannot find photometry point with ID: {pid}")),
            }
        }
        Method::PATCH => patch_point(&sp, pid, &body),
        _ => method_not_allowed(),
    }
}

async fn candidates(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {}
        Method::POST => return store::post_candidate(&sp, &h, &body),
        _ => return method_not_allowed(),
    }
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let q = Pairs::from_query(&uri);
    // The toolbar's quick search (`nameOnly=true&objID=...`): ids starting with objID, at
    // most numPerPage (not clamped), no paging and no total.
    let name_only = q.last("nameOnly").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if let (true, Some(prefix)) = (name_only, q.last("objID").filter(|p| !p.is_empty())) {
        let limit = match q.last("numPerPage").unwrap_or("25").trim().parse::<usize>() {
            Ok(n) => n,
            Err(e) => return err(500, &format!("invalid literal for int() with base 10: {e}")),
        };
        let prefix = prefix.to_lowercase();
        let mut ids: Vec<String> =
            store::candidate_ids(&sp).into_iter().filter(|id| id.to_lowercase().starts_with(&prefix)).collect();
        ids.sort();
        ids.truncate(limit);
        return ok(json!({"candidates": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()}));
    }
    let (page, n) = match page_params(&q, 25, MAX_PER_PAGE) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if q.last("annotationExcludeOrigin").is_some_and(|v| !v.is_empty())
        || q.last("annotationExcludeOutdatedDate").is_some_and(|v| !v.is_empty())
    {
        return err(
            400,
            "annotationExcludeOrigin and annotationExcludeOutdatedDate parameters are no longer supported",
        );
    }
    let filters = match q.last("annotationFilterList").map(store::parse_annotation_filters) {
        None => Vec::new(),
        Some(Ok(f)) => f,
        Some(Err(r)) => return r,
    };
    let mut all = store::candidate_ids(&sp);
    if !filters.is_empty() {
        all.retain(|id| store::passes_annotation_filters(&sp, id, &filters));
    }
    let mut st = sp.lock();
    let ids: Vec<String> = match q.last("queryID").and_then(|id| st.queries.get(id).cloned()) {
        Some(v) => v,
        None => all,
    };
    let qid = query_id(&ids);
    st.queries.insert(qid.clone(), ids.clone());
    let total = ids.len();
    if (page - 1) * n >= total && total > 0 {
        return err(400, "Page number out of range.");
    }
    let rows: Vec<Source> = ids
        .iter()
        .skip((page - 1) * n)
        .take(n)
        .filter_map(|id| st.index.get(id).and_then(|i| st.sources.get(*i)).cloned())
        .collect();
    drop(st);
    let out: Vec<Value> = rows
        .iter()
        .map(|s| {
            let mut v = source_json(&sp, s, false);
            if let Value::Object(m) = &mut v {
                m.insert("is_source".into(), json!(!s.groups.is_empty()));
                m.insert("passing_alerts".into(), json!([]));
                m.insert("filter_ids".into(), json!(store::candidate_filters(&sp, &s.id)));
            }
            v
        })
        .collect();
    ok(json!({"candidates": out, "totalMatches": total, "pageNumber": page, "numPerPage": n, "queryID": qid}))
}

async fn groups(State(sp): State<Sp>, h: HeaderMap) -> Response {
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let all = groups_json(&[1, 2, 3]);
    ok(json!({"user_groups": all, "user_accessible_groups": all, "all_groups": all}))
}

async fn group_one(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = auth(&sp, &h, method != Method::GET) {
        return r;
    }
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return err(400, "Invalid API endpoint");
    }
    if method != Method::GET {
        return method_not_allowed();
    }
    let Ok(gid) = id.parse::<i64>() else { return err(400, &format!("Invalid group_id: {id}")) };
    if !(1..=3).contains(&gid) {
        return err(400, &format!("Cannot find Group with id {gid}"));
    }
    let mut g = groups_json(&[gid]).get(0).cloned().unwrap_or(Value::Null);
    if let Value::Object(m) = &mut g {
        m.insert("description".into(), Value::Null);
        m.insert("private".into(), json!(false));
        m.insert("streams".into(), json!([]));
        m.insert("filters".into(), json!([]));
        m.insert("users".into(), json!([{"id": 1, "username": "provisioned_admin", "admin": true}]));
    }
    ok(g)
}

async fn instruments(State(sp): State<Sp>, h: HeaderMap, uri: Uri) -> Response {
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let q = Pairs::from_query(&uri);
    let name = q.last("name");
    let out: Vec<Value> = INSTRUMENTS.iter().filter(|i| name.is_none_or(|n| n == i.1)).map(instrument_json).collect();
    ok(Value::Array(out))
}

fn instrument_json(i: &(i64, &str, &str, &[&str])) -> Value {
    let (id, name, tel, filters) = *i;
    let kind = if filters.is_empty() { "spectrograph" } else { "imager" };
    json!({"id": id, "name": name, "type": kind, "band": "optical", "telescope_id": id, "filters": filters,
           "telescope": {"id": id, "name": tel, "nickname": tel}})
}

async fn instrument(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = auth(&sp, &h, method != Method::GET) {
        return r;
    }
    if !id.bytes().all(|b| b.is_ascii_digit()) || id.is_empty() {
        return err(400, "Invalid API endpoint");
    }
    if method != Method::GET {
        return method_not_allowed();
    }
    match INSTRUMENTS.iter().find(|i| i.0.to_string() == id) {
        Some(i) => ok(instrument_json(i)),
        None => err(400, &format!("Could not load instrument with ID {id}")),
    }
}

/// The obj id of a photometry point (posted or from the sky model), if it exists.
fn photometry_obj(sp: &Sp, pid: u64) -> Option<String> {
    if let Some(p) = sp.lock().posted.get(&pid) {
        return Some(p.obj_id.clone());
    }
    sky_point(sp, pid).map(|p| p.obj_id)
}

/// A sky-model point (id = (index + 1) * 1e7 + instrument * 1e6 + seq), as patched, unless deleted.
fn sky_point(sp: &Sp, pid: u64) -> Option<Phot> {
    let idx = (pid / 10_000_000).checked_sub(1).map(|x| x as usize)?;
    let id = sp.shared.sky.objects.get(idx).map(obj_id)?;
    let s = {
        let st = sp.lock();
        st.index.get(&id).and_then(|i| st.sources.get(*i)).cloned()
    }?;
    points_of(sp, &s).into_iter().find(|p| p.id == pid && p.upload_id.is_none())
}

/// `PATCH /api/photometry/{id}`: partial `PhotometryFlux` / `PhotometryMag` update of one point.
fn patch_point(sp: &Sp, pid: u64, body: &[u8]) -> Response {
    let v = match body_json(body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return err(400, "Invalid input format: body must be an object"),
        Err(r) => return r,
    };
    let current = sp.lock().posted.get(&pid).cloned();
    let from_sky = current.is_none();
    let Some(mut p) = current.or_else(|| sky_point(sp, pid)) else {
        return err(400, &format!("Cannot find photometry point with ID: {pid}."));
    };
    let bad = |what: &str| {
        err(
            400,
            &format!(
                "Invalid input format: Tried to parse {} as PhotometryFlux, got: \"{{'{what}': ['Not a valid number.']}}.\" Tried to parse {} as PhotometryMag, got: \"{{'{what}': ['Not a valid number.']}}.\"",
                Value::Object(v.clone()),
                Value::Object(v.clone())
            ),
        )
    };
    for k in ["mjd", "fluxerr", "zp", "ra", "dec", "limiting_mag"] {
        if v.get(k).is_some_and(|x| !x.is_null() && num(Some(x)).is_none_or(|f| !f.is_finite())) {
            return bad(k);
        }
    }
    if let Some(m) = v.get("mjd").and_then(|x| num(Some(x))) {
        p.mjd = m;
    }
    if let Some(f) = v.get("filter").and_then(Value::as_str) {
        if !FILTERS.contains(&f) && !MORE_FILTERS.contains(&f) {
            return err(400, &format!("Filter(s) {{'{f}'}} is not allowed"));
        }
        p.filter = f.to_string();
    }
    if let Some(m) = v.get("magsys").and_then(Value::as_str) {
        if !matches!(m, "ab" | "vega") {
            return err(400, &format!("Invalid magsys: {m}"));
        }
        p.magsys = m.to_string();
    }
    if let Some(o) = v.get("origin") {
        p.origin = o.as_str().map(str::to_string).unwrap_or_else(|| "None".into());
    }
    for (k, slot) in [("ra", &mut p.ra), ("dec", &mut p.dec)] {
        if let Some(x) = v.get(k) {
            *slot = num(Some(x));
        }
    }
    if let Some(a) = v.get("altdata") {
        p.altdata = a.clone();
    }
    if v.contains_key("flux") && !v.contains_key("mag") {
        let zp = num(v.get("zp")).unwrap_or(23.9);
        let scale = 10f64.powf(-0.4 * (zp - 23.9));
        let fe = num(v.get("fluxerr")).map(|e| e * scale).unwrap_or(p.fluxerr);
        if fe <= 0.0 {
            return err(400, "Invalid input format: fluxerr must be > 0");
        }
        p.flux = num(v.get("flux")).map(|f| f * scale);
        p.fluxerr = fe;
        p.limiting_mag = None;
    } else if v.contains_key("mag") || v.contains_key("magerr") {
        match (num(v.get("mag")), num(v.get("magerr"))) {
            (Some(m), Some(e)) => {
                let f = mag_to_flux(m);
                p.flux = Some(f);
                p.fluxerr = (e * f / 1.0857).max(1e-9);
                p.limiting_mag = num(v.get("limiting_mag")).or(p.limiting_mag);
            }
            (None, None) => {
                let Some(l) = num(v.get("limiting_mag")).or(p.limiting_mag) else {
                    return err(400, "Non-detections (mag=null) require a limiting_mag");
                };
                p.flux = None;
                p.fluxerr = mag_to_flux(l) / p.nsigma;
                p.limiting_mag = Some(l);
            }
            _ => return err(400, "Invalid input format: mag and magerr must both be null or both be set"),
        }
    }
    if let Some(g) = v.get("group_ids") {
        let ids: Vec<i64> = g
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).filter(|x| (1..=3).contains(x)).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            return err(400, "Invalid group_ids field. Specify at least one valid group ID.");
        }
        p.groups = ids;
    }
    let mut st = sp.lock();
    if from_sky {
        st.sky_overrides.insert(pid, Some(p));
    } else {
        st.posted.insert(pid, p);
    }
    ok(json!({}))
}

/// `DELETE /api/photometry/bulk_delete/{upload_id}` (`Delete bulk photometry`).
async fn bulk_delete(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(upload_id): Path<String>) -> Response {
    if let Err(r) = auth(&sp, &h, method != Method::GET) {
        return r;
    }
    if method != Method::DELETE {
        return method_not_allowed();
    }
    let mut st = sp.lock();
    let before = st.posted.len();
    st.posted.retain(|_, p| p.upload_id.as_deref() != Some(upload_id.as_str()));
    let n = before - st.posted.len();
    if n == 0 {
        return err(400, "Invalid bulk upload id.");
    }
    ok(json!(format!("Deleted {n} photometry point(s).")))
}
