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
mod groups;
mod photometry;
mod sources;
mod spectra;
mod store;
mod tables;

use candidates::candidates;
use groups::{group_one, groups, instrument, instruments};
use photometry::{bulk_delete, phot_json, photometry, photometry_obj, photometry_one, points_of, source_photometry};
use sources::{query_id, source, source_json, sources};

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

fn body_json(body: &[u8]) -> Result<Value, Response> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| err(400, &format!("Invalid JSON: {e}")))
}
