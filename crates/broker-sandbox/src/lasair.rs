//! Lasair emulator: the ZTF server (`lsst-uk/lasair4`) under `/ztf/api/` and the LSST
//! server (`lsst-uk/lasair-lsst`) under `/lsst/api/`, on one port of their own.
//!
//! Written from the servers' source (`webserver/lasairapi/{urls,views,serializers,
//! throttle,query_auth}.py`), not from any client:
//!
//! - Routes with their trailing slash: `cone/`, `query/`, `object/`, `sherlock/object/`,
//!   `sherlock/position/`, `annotate/` on both; `lightcurves/` on ZTF (deprecated there);
//!   `annotatelist/` on LSST. Anything else is Django's 404 page. GET reads the query
//!   string, POST a form or a JSON body; `annotate/` and `annotatelist/` are POST only.
//! - Auth: `Authorization: Token <key>` or `?token=<key>` (`^\w+$`, else 401 "Invalid
//!   token format."), each server with its own keys ([`crate::LasairCredentials`]).
//! - Throttle per server and token over a one-hour window of simulated time: 10 for the `dummy`
//!   token, 100 for a user token (`SandboxConfig::lasair_user_calls_per_hour`); over it, 429
//!   `{"message": "Request limit exceeded. ..."}` with `Retry-After` in seconds (DRF's
//!   `wait()`). An injected 429 ([`crate::Fault::Throttle`]) has the same shape.
//! - Like every service, behind the sandbox's request log and fault layer
//!   ([`crate::Service::Lasair`]). The deployment (`lasair-lsst` `deploy/roles/proxy`,
//!   `deploy/roles/webserver`) is nginx in front of `mod_wsgi-express` (Apache) running
//!   Django: injected 502/503, HTML pages and 413 are nginx's pages, an injected 500 is
//!   Django's production `Server Error (500)` page (the servers ship no `500.html`).
//! - Replies in each server's shape: ZTF cone `all` a list, LSST `{"objects", "count",
//!   "nearest"}`; ZTF `object/` as `objjson`, LSST as `reformat` (with `diaObjectId`
//!   echoed as the string sent); 400 `{"error": ...}` from serializers, DRF field errors;
//!   LSST 404 for an unknown object, ZTF a 500 page (its view cannot handle `None`).
//! - `query/` returns the `objects` rows of the synthetic sky (ZTF `objectId`, `ramean`,
//!   `decmean`, `ncand`, `jdmin`, `jdmax`; LSST `diaObjectId`, `ra`, `decl`,
//!   `nDiaSources`, `firstDiaSourceMjdTai`, `lastDiaSourceMjdTai`) with `limit`/`offset`
//!   (clamped to 1000 for `dummy`, 10,000 for a user) and the query builder's refusals;
//!   `conditions` are not evaluated. `watchlist:<id>` joins the TNS watchlist (objects
//!   with a TNS name, `watchlist_hits.name`, `watchlist_hits.arcsec`).
//! - ZTF photometry: detections carry `candid`, non-detections only `jd`, `fid`,
//!   `diffmaglim`; LSST diaSources (detections) and diaForcedSources (every epoch) in nJy.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};

use crate::sky::{SkyObject, Survey, flux_to_mag, round};
use crate::state::Shared;
use crate::util::{Pairs, header as get_header, is_json, jf};

/// The annotator topic the sandbox's user tokens own on both servers.
pub(crate) const ANNOTATOR_TOPIC: &str = "sandbox_annotator";
/// The TNS watchlist id (`watchlist:<id>` in `tables`).
pub(crate) const TNS_WATCHLIST: u64 = 1;

const LIMIT_MESSAGE: &str =
    "Request limit exceeded. Either wait an hour, or see API documentation to increase your limits.";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Server {
    Ztf,
    Lsst,
}

#[derive(Debug)]
pub(crate) struct LasairState {
    shared: Arc<Shared>,
    creds: crate::sandbox::LasairCredentials,
    history: Mutex<HashMap<String, VecDeque<Duration>>>,
    annotations: Mutex<Vec<(Server, String, Value)>>,
}

type Reply = Result<Value, Response>;

fn json_reply(status: StatusCode, v: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

fn bad(v: Value) -> Response {
    json_reply(StatusCode::BAD_REQUEST, v)
}

fn field_error(field: &str, msg: &str) -> Response {
    bad(json!({ field: [msg] }))
}

fn django_404() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html")],
        "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>",
    )
        .into_response()
}

pub(crate) fn router(shared: Arc<Shared>, creds: crate::sandbox::LasairCredentials) -> Router {
    let st = Arc::new(LasairState {
        shared,
        creds,
        history: Mutex::new(HashMap::new()),
        annotations: Mutex::new(Vec::new()),
    });
    Router::new().route("/{server}/api/{*route}", any(handle)).with_state(st)
}

/// Request parameters: the query string (GET) or the body (POST form or JSON).
struct Params {
    pairs: Pairs,
    json: Option<Map<String, Value>>,
}

impl Params {
    fn get(&self, k: &str) -> Option<String> {
        match &self.json {
            Some(m) => m.get(k).and_then(|v| match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            }),
            None => self.pairs.last(k).map(str::to_string),
        }
    }
    fn required(&self, k: &str) -> Result<String, Response> {
        self.get(k).ok_or_else(|| field_error(k, "This field is required."))
    }
    fn not_blank(&self, k: &str) -> Result<String, Response> {
        let v = self.required(k)?;
        if v.trim().is_empty() {
            return Err(field_error(k, "This field may not be blank."));
        }
        Ok(v)
    }
    fn float(&self, k: &str) -> Result<f64, Response> {
        self.required(k)?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| field_error(k, "A valid number is required."))
    }
    fn int_opt(&self, k: &str) -> Result<Option<i64>, Response> {
        match self.get(k) {
            None => Ok(None),
            Some(s) => s.trim().parse::<i64>().map(Some).map_err(|_| field_error(k, "A valid integer is required.")),
        }
    }
    /// DRF `BooleanField`: a form that omits it reads False (HTML checkbox semantics);
    /// JSON uses the default, or requires it when there is none.
    fn boolean(&self, k: &str, default: Option<bool>) -> Result<bool, Response> {
        match self.get(k) {
            Some(s) => match s.as_str() {
                "true" | "True" | "TRUE" | "1" | "t" | "T" | "yes" | "on" => Ok(true),
                "false" | "False" | "FALSE" | "0" | "f" | "F" | "no" | "off" => Ok(false),
                _ => Err(field_error(k, "Must be a valid boolean.")),
            },
            None if self.json.is_none() => Ok(false),
            None => default.ok_or_else(|| field_error(k, "This field is required.")),
        }
    }
}

async fn handle(
    State(st): State<Arc<LasairState>>,
    Path((server, route)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let server = match server.as_str() {
        "ztf" => Server::Ztf,
        "lsst" => Server::Lsst,
        _ => return django_404(),
    };
    let known: &[&str] = match server {
        Server::Ztf => {
            &["cone/", "query/", "object/", "sherlock/object/", "sherlock/position/", "annotate/", "lightcurves/"]
        }
        Server::Lsst => {
            &["cone/", "query/", "object/", "sherlock/object/", "sherlock/position/", "annotate/", "annotatelist/"]
        }
    };
    if !known.contains(&route.as_str()) {
        return django_404();
    }
    // DRF: authentication, permission, throttle, then the method.
    let token = match authenticate(&st, server, &uri, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if let Err(r) = throttle(&st, server, &token) {
        return r;
    }
    let write = matches!(route.as_str(), "annotate/" | "annotatelist/");
    let params = if method == Method::GET && !write {
        Params { pairs: Pairs::from_query(&uri), json: None }
    } else if method == Method::POST {
        if is_json(&headers) {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(m)) => Params { pairs: Pairs::default(), json: Some(m) },
                _ => return bad(json!({"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"})),
            }
        } else {
            Params { pairs: Pairs::parse(&body), json: None }
        }
    } else {
        return json_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"detail": format!("Method \"{method}\" not allowed.")}),
        );
    };
    let dummy = token == st.creds.dummy_token;
    let result = match route.as_str() {
        "cone/" => cone(&st, server, &params),
        "query/" => query(&st, server, &params, dummy),
        "object/" => object(&st, server, &params),
        "lightcurves/" => lightcurves(&st, &params),
        "sherlock/object/" => sherlock_object(&st, server, &params),
        "sherlock/position/" => sherlock_position(server, &params),
        "annotate/" => annotate(&st, server, &params, dummy).map(|(v, _)| v),
        "annotatelist/" => annotate_list(&st, &params, dummy),
        _ => Err(django_404()),
    };
    match result {
        // views.py::retcode: any reply with an `error` key is a 400.
        Ok(v) if v.get("error").is_some() => bad(v),
        Ok(v) => json_reply(StatusCode::OK, v),
        Err(r) => r,
    }
}

fn authenticate(st: &LasairState, server: Server, uri: &Uri, headers: &HeaderMap) -> Result<String, Response> {
    let unauthorized = |detail: &str| {
        let mut r = json_reply(StatusCode::UNAUTHORIZED, json!({ "detail": detail }));
        r.headers_mut().insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Token"));
        r
    };
    let from_header =
        get_header(headers, header::AUTHORIZATION).and_then(|v| v.strip_prefix("Token ")).map(str::to_string);
    let token = match from_header {
        Some(t) => t,
        None => match Pairs::from_query(uri).first("token").filter(|t| !t.is_empty()) {
            Some(t) if t.chars().all(|c| c.is_alphanumeric() || c == '_') => t.to_string(),
            Some(_) => return Err(unauthorized("Invalid token format.")),
            None => return Err(unauthorized("Authentication credentials were not provided.")),
        },
    };
    let user = match server {
        Server::Ztf => &st.creds.ztf_token,
        Server::Lsst => &st.creds.lsst_token,
    };
    if &token == user || token == st.creds.dummy_token { Ok(token) } else { Err(unauthorized("Invalid token.")) }
}

fn throttle(st: &LasairState, server: Server, token: &str) -> Result<(), Response> {
    let limit = if token == st.creds.dummy_token { 10 } else { st.shared.config.lasair_user_calls_per_hour };
    let hour = Duration::from_secs(3600);
    let now = st.shared.clock.now();
    let mut h = st.history.lock().unwrap_or_else(|e| e.into_inner());
    // Each server counts its own accounts.
    let q = h.entry(format!("{server:?}:{token}")).or_default();
    while q.front().is_some_and(|t| *t + hour <= now) {
        q.pop_front();
    }
    if q.len() >= limit {
        let oldest = q.front().copied().unwrap_or(now);
        let wait = (oldest + hour).saturating_sub(now).as_secs_f64().ceil().max(1.0) as u64;
        return Err(throttled(wait));
    }
    q.push_back(now);
    Ok(())
}

/// The servers' 429: DRF's `Throttled` through `throttle.py::custom_exception_handler`,
/// which keeps DRF's `Retry-After: <wait>` header and replaces only the body with
/// `{"message": "Request limit exceeded. ..."}`. Also the sandbox's injected 429.
pub(crate) fn throttled(wait: u64) -> Response {
    let mut r = json_reply(StatusCode::TOO_MANY_REQUESTS, json!({ "message": LIMIT_MESSAGE }));
    r.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(wait));
    r
}

fn in_survey(o: &SkyObject, server: Server) -> bool {
    match server {
        Server::Ztf => o.ztf_oid.is_some(),
        Server::Lsst => o.lsst_oid.is_some(),
    }
}

fn id_value(o: &SkyObject, server: Server) -> Value {
    match server {
        Server::Ztf => json!(o.ztf_oid),
        Server::Lsst => json!(o.lsst_oid),
    }
}

fn check_radec(server: Server, ra: f64, dec: f64) -> Result<(), Response> {
    if server == Server::Lsst {
        if !(0.0..=360.0).contains(&ra) {
            return Err(field_error("ra", "ra must be between 0 and 360"));
        }
        if !(-90.0..=90.0).contains(&dec) {
            return Err(field_error("dec", "dec must be between -90 and 90"));
        }
    }
    Ok(())
}

fn cone(st: &LasairState, server: Server, p: &Params) -> Reply {
    let ra = p.float("ra")?;
    let dec = p.float("dec")?;
    let radius = p.float("radius")?;
    let kind = p.required("requestType")?;
    if !["count", "all", "nearest"].contains(&kind.as_str()) {
        return Err(field_error("requestType", &format!("\"{kind}\" is not a valid choice.")));
    }
    check_radec(server, ra, dec)?;
    if server == Server::Lsst && radius < 0.0 {
        return Err(field_error("radius", "radius must be positive"));
    }
    if radius > 1000.0 {
        return Ok(json!({"error": "Max radius is 1000 arcsec."}));
    }
    let hits: Vec<Value> = st
        .shared
        .sky
        .cone(ra, dec, radius)
        .into_iter()
        .filter(|(o, _)| in_survey(o, server))
        .map(|(o, sep)| json!({"object": id_value(o, server), "separation": jf(sep)}))
        .collect();
    let nearest = hits.first().cloned();
    Ok(match (server, kind.as_str()) {
        (_, "count") => json!({"count": hits.len()}),
        (Server::Ztf, "nearest") => nearest.unwrap_or_else(|| json!({})),
        (Server::Lsst, "nearest") => nearest.map(|n| json!({"nearest": n})).unwrap_or_else(|| json!({})),
        (Server::Ztf, _) => Value::Array(hits),
        (Server::Lsst, _) => {
            json!({"count": hits.len(), "nearest": nearest.unwrap_or_else(|| json!({})), "objects": hits})
        }
    })
}

fn object_row(st: &LasairState, o: &SkyObject, server: Server) -> Map<String, Value> {
    let (ndet, first, last) = match server {
        Server::Ztf => {
            let s = st.shared.sky.summary(o, Survey::Ztf);
            (s.ndet, s.first_mjd, s.last_mjd)
        }
        Server::Lsst => {
            let s = st.shared.sky.summary(o, Survey::Lsst);
            (s.ndet, s.first_mjd, s.last_mjd)
        }
    };
    let v = match server {
        Server::Ztf => json!({"objectId": o.ztf_oid, "ramean": jf(round(o.ra, 7)), "decmean": jf(round(o.dec, 7)),
            "ncand": ndet, "jdmin": jf(round(first + 2_400_000.5, 5)), "jdmax": jf(round(last + 2_400_000.5, 5))}),
        Server::Lsst => json!({"diaObjectId": o.lsst_oid, "ra": jf(round(o.ra, 7)), "decl": jf(round(o.dec, 7)),
            "nDiaSources": ndet, "firstDiaSourceMjdTai": jf(round(first, 5)), "lastDiaSourceMjdTai": jf(round(last, 5))}),
    };
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn query(st: &LasairState, server: Server, p: &Params, dummy: bool) -> Reply {
    let selected = p.not_blank("selected")?;
    let tables = p.not_blank("tables")?;
    let conditions = p.required("conditions")?;
    let limit = p.int_opt("limit")?;
    if limit.is_some_and(|l| l > 1_000_000) {
        return Err(field_error("limit", "Ensure this value is less than or equal to 1000000."));
    }
    let offset = p.int_opt("offset")?.unwrap_or(0).max(0) as usize;
    let cap = if dummy { 1000 } else { 10_000 };
    let limit = limit.unwrap_or(1000).clamp(0, cap) as usize;
    for s in ["#", "/*", "*/", ";", "||", "\\"] {
        if selected.contains(s) {
            return Ok(json!({"error": format!("Cannot use {s} in the SELECT clause")}));
        }
        if conditions.contains(s) {
            return Ok(json!({"error": format!("Cannot use {s} in the WHERE clause")}));
        }
    }
    if conditions.contains("limit") {
        return Ok(json!({"error": "Dont put LIMIT in the WHERE clause, use the parameter in the form/API instead"}));
    }
    if conditions.contains("offset") {
        return Ok(json!({"error": "Dont put OFFSET in the WHERE clause, use the parameter in the form/API instead"}));
    }
    let mut watchlist = false;
    for t in tables.split(',').map(|t| t.trim().to_ascii_lowercase()) {
        let wl = match server {
            Server::Ztf => t.strip_prefix("watchlist:").or_else(|| t.strip_prefix("watchlists:")),
            Server::Lsst => t.strip_prefix("watchlist:"),
        };
        if let Some(id) = wl {
            match id.parse::<u64>() {
                Ok(TNS_WATCHLIST) => watchlist = true,
                Ok(other) => {
                    return Ok(
                        json!({"error": format!("Error: you do not have permission to access watchlist {other}")}),
                    );
                }
                Err(_) => {
                    return Ok(json!({"error": format!("Error in FROM list, {t} not of the form watchlist:nnn")}));
                }
            }
        }
    }
    let sql = format!("SELECT {selected} FROM {tables} WHERE {conditions} LIMIT {limit} OFFSET {offset}");
    let mut out = Vec::new();
    for o in st.shared.sky.objects.iter().filter(|o| in_survey(o, server)) {
        if watchlist && o.tns_name.is_none() {
            continue;
        }
        let mut row = object_row(st, o, server);
        if watchlist {
            row.insert("name".into(), json!(o.tns_name));
            row.insert("arcsec".into(), json!(0.0));
        }
        out.push(row);
    }
    let mut rows = Vec::new();
    for full in out.into_iter().skip(offset).take(limit) {
        let mut row = Map::new();
        for col in selected.split(',').map(str::trim) {
            if col == "*" {
                row.extend(full.clone());
                continue;
            }
            let name = col.rsplit('.').next().unwrap_or(col).trim();
            match full.get(name) {
                Some(v) => {
                    row.insert(name.to_string(), v.clone());
                }
                None => {
                    return Ok(json!({"error": format!(
                        "Your query:<br/><b>{sql}</b><br/>returned the error<br/><i>1054 (42S22): Unknown column '{col}' in 'field list'</i>"
                    )}));
                }
            }
        }
        rows.push(Value::Object(row));
    }
    Ok(Value::Array(rows))
}

fn ztf_candidates(st: &LasairState, o: &SkyObject, decorate: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for p in st.shared.sky.photometry(o, Survey::Ztf) {
        let fid = match p.band {
            "g" => 1,
            "r" => 2,
            _ => 3,
        };
        let jd = round(p.mjd + 2_400_000.5, 6);
        if p.detected {
            let mag = flux_to_mag(p.flux.abs());
            let mut c = json!({"candid": 1_000_000_000_000_000_000_i64 + (o.index as i64) * 100_000 + p.seq as i64,
                "jd": jf(jd), "ra": jf(round(o.ra, 7)), "dec": jf(round(o.dec, 7)), "fid": fid, "nid": p.night,
                "magpsf": jf(round(mag, 4)), "sigmapsf": jf(round(1.0857 * p.flux_err / p.flux.abs(), 4)),
                "magnr": Value::Null, "sigmagnr": Value::Null, "magzpsci": 26.3,
                "isdiffpos": if p.flux > 0.0 { "t" } else { "f" }, "ssdistnr": -999.0, "ssnamenr": "null", "drb": 0.99});
            if decorate {
                c["mjd"] = jf(round(p.mjd, 6));
                c["diffmaglim"] = jf(round(p.limit, 4));
            }
            out.push(c);
        } else {
            let mut c = json!({"jd": jf(jd), "fid": fid, "diffmaglim": jf(round(p.limit, 4))});
            if decorate {
                // objjson copies diffmaglim into magpsf for non-candidates.
                c["mjd"] = jf(round(p.mjd, 6));
                c["magpsf"] = jf(round(p.limit, 4));
            }
            out.push(c);
        }
    }
    out
}

fn ztf_forced(st: &LasairState, o: &SkyObject, decorate: bool) -> Vec<Value> {
    // Difference flux in DN at zero point 26.3: DN = uJy / 10^((23.9 - 26.3)/2.5).
    let scale = 10f64.powf((23.9 - 26.3) / 2.5);
    st.shared
        .sky
        .photometry(o, Survey::Ztf)
        .iter()
        .map(|p| {
            let mut v = json!({"objectid": o.ztf_oid, "jd": jf(round(p.mjd + 2_400_000.5, 6)), "ranr": jf(o.ra), "decnr": jf(o.dec),
                "fid": if p.band == "g" { 1 } else { 2 }, "forcediffimflux": jf(round(p.flux / scale, 3)),
                "forcediffimfluxunc": jf(round(p.flux_err / scale, 3)), "magzpsci": 26.3});
            if decorate {
                v["mjd"] = jf(round(p.mjd, 6));
            }
            v
        })
        .collect()
}

fn lsst_sources(st: &LasairState, o: &SkyObject, oid: u64) -> (Vec<Value>, Vec<Value>) {
    let pts = st.shared.sky.photometry(o, Survey::Lsst);
    let sources = pts
        .iter()
        .filter(|p| p.detected)
        .map(|p| {
            json!({"diaSourceId": oid.wrapping_add(1 + p.seq as u64), "midpointMjdTai": jf(round(p.mjd, 6)), "band": p.band,
                "psfFlux": jf(round(p.flux * 1000.0, 2)), "psfFluxErr": jf(round(p.flux_err * 1000.0, 2)),
                "reliability": jf(round(0.9 + (p.aux % 100) as f64 / 1000.0, 3))})
        })
        .collect();
    let forced = pts
        .iter()
        .map(|p| {
            json!({"midpointMjdTai": jf(round(p.mjd, 6)), "band": p.band, "psfFlux": jf(round(p.flux * 1000.0, 2)),
                "psfFluxErr": jf(round(p.flux_err * 1000.0, 2))})
        })
        .collect();
    (sources, forced)
}

fn sherlock_row(o: &SkyObject) -> Value {
    json!({"classification": o.kind.sherlock(), "separationArcsec": jf(round((o.host_offset.0.powi(2) + o.host_offset.1.powi(2)).sqrt(), 2)),
        "z": o.redshift.map(jf), "catalogue_table_name": "NED/SDSS"})
}

fn find<'a>(st: &'a LasairState, server: Server, id: &str) -> Option<&'a SkyObject> {
    match server {
        Server::Ztf => st.shared.sky.by_ztf(id),
        Server::Lsst => id.trim().parse::<u64>().ok().and_then(|i| st.shared.sky.by_lsst(i)),
    }
}

fn object(st: &LasairState, server: Server, p: &Params) -> Reply {
    let id = p.not_blank("objectId")?;
    let (lite_default, added_default) = match server {
        Server::Ztf => (None, None),
        Server::Lsst => (Some(false), Some(true)),
    };
    let lite = p.boolean("lite", lite_default)?;
    let added = p.boolean("lasair_added", added_default)?;
    if server == Server::Lsst && id.trim().parse::<i64>().is_err() {
        return Ok(json!({"error": format!("1054 (42S22): Unknown column '{id}' in 'where clause'")}));
    }
    let o = find(st, server, &id);
    match server {
        Server::Ztf => {
            let Some(o) = o else {
                if added {
                    return Err((
                        StatusCode::INTERNAL_SERVER_ERROR,
                        [(header::CONTENT_TYPE, "text/html")],
                        "<h1>Server Error (500)</h1>",
                    )
                        .into_response());
                }
                return Ok(json!({"objectId": id, "candidates": [], "forcedphot": []}));
            };
            if !added {
                return Ok(
                    json!({"objectId": id, "candidates": ztf_candidates(st, o, false), "forcedphot": ztf_forced(st, o, false)}),
                );
            }
            let mut data = object_row(st, o, Server::Ztf);
            data.remove("objectId");
            let cands = ztf_candidates(st, o, true);
            let ndet = cands.iter().filter(|c| c.get("candid").is_some()).count();
            Ok(json!({"objectId": id, "objectData": data, "candidates": cands, "count_isdiffpos": ndet,
                "count_all_candidates": ndet, "forcedphot": ztf_forced(st, o, true), "sherlock": sherlock_row(o),
                "image_urls": {}, "TNS": o.tns_name.as_ref().map(|n| json!({"tns_name": n})).unwrap_or_else(|| json!({})),
                "message": format!("Got {ndet} candidates")}))
        }
        Server::Lsst => {
            let (o, oid) = match o.and_then(|o| o.lsst_oid.map(|i| (o, i))) {
                Some(x) => x,
                None if added => return Err(json_reply(StatusCode::NOT_FOUND, json!({"detail": "Not found."}))),
                None => return Ok(json!({"diaObjectId": id, "diaSourcesList": [], "diaForcedSourcesList": []})),
            };
            let (sources, forced) = lsst_sources(st, o, oid);
            let row = object_row(st, o, Server::Lsst);
            if !added {
                let mut v = json!({"diaObjectId": id, "diaSourcesList": sources, "diaForcedSourcesList": forced});
                if !lite {
                    v["diaObject"] = Value::Object(row);
                }
                return Ok(v);
            }
            let annotations: Vec<Value> = st
                .annotations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .filter(|(s, i, _)| *s == Server::Lsst && *i == oid.to_string())
                .map(|(_, _, a)| a.clone())
                .collect();
            Ok(json!({"diaObjectId": id,
                "diaObject": {"ra": row["ra"], "decl": row["decl"], "firstDiaSourceMjdTai": row["firstDiaSourceMjdTai"],
                    "lastDiaSourceMjdTai": row["lastDiaSourceMjdTai"]},
                "lasairData": {"nDiaSources": row["nDiaSources"], "sherlock": sherlock_row(o),
                    "TNS": o.tns_name.as_ref().map(|n| json!({"tns_name": n})).unwrap_or_else(|| json!({})),
                    "annotations": annotations, "imageUrls": []},
                "diaSourcesList": sources, "diaForcedSourcesList": forced}))
        }
    }
}

fn lightcurves(st: &LasairState, p: &Params) -> Reply {
    let ids = p.not_blank("objectIds")?;
    Ok(Value::Array(
        ids.split(',')
            .map(str::trim)
            .map(|id| match st.shared.sky.by_ztf(id) {
                Some(o) => json!({"objectId": id, "candidates": ztf_candidates(st, o, false), "forcedphot": ztf_forced(st, o, false)}),
                None => json!({"objectId": id, "candidates": [], "forcedphot": []}),
            })
            .collect(),
    ))
}

fn sherlock_reply(name: &str, o: Option<&SkyObject>, lite: bool) -> Value {
    let class = o.map(|o| o.kind.sherlock()).unwrap_or("ORPHAN");
    let mut crossmatches = Vec::new();
    if let Some(o) = o {
        let sep = (o.host_offset.0.powi(2) + o.host_offset.1.powi(2)).sqrt();
        crossmatches.push(
            json!({"transient_object_id": name, "catalogue_object_id": format!("SDSS J{:08}", o.seed % 100_000_000),
            "catalogue_table_name": "SDSS/NED", "separationArcsec": jf(round(sep, 2)), "association_type": class,
            "z": o.redshift.map(jf), "rank": 1}),
        );
        if !lite {
            crossmatches.push(json!({"transient_object_id": name, "catalogue_object_id": "2MASS J0000", "catalogue_table_name": "2MASS",
                "separationArcsec": jf(round(sep + 4.0, 2)), "association_type": "VS", "rank": 2}));
        }
    }
    json!({"classifications": {name: [class, format!("The transient is classified as {class} by the sandbox.")]}, "crossmatches": crossmatches})
}

fn sherlock_object(st: &LasairState, server: Server, p: &Params) -> Reply {
    let id = p.not_blank("objectId")?;
    if server == Server::Lsst && id.trim().parse::<i64>().is_err() {
        return Err(field_error("objectId", "A valid integer is required."));
    }
    let lite = p.boolean("lite", Some(false))?;
    match find(st, server, &id) {
        Some(o) => Ok(sherlock_reply(id.trim(), Some(o), lite)),
        None if server == Server::Lsst => {
            Err(json_reply(StatusCode::NOT_FOUND, json!({"message": format!("Object {} not found", id.trim())})))
        }
        None => Ok(json!({"error": format!("{{\"message\": \"Object {} not found\"}}", id.trim())})),
    }
}

fn sherlock_position(server: Server, p: &Params) -> Reply {
    let ra = p.float("ra")?;
    let dec = p.float("dec")?;
    check_radec(server, ra, dec)?;
    let lite = p.boolean("lite", Some(false))?;
    Ok(sherlock_reply("query0", None, lite))
}

fn annotate(st: &LasairState, server: Server, p: &Params, dummy: bool) -> Result<(Value, bool), Response> {
    let topic = p.not_blank("topic")?;
    let id = p.not_blank("objectId")?;
    if server == Server::Lsst && id.trim().parse::<i64>().is_err() {
        return Err(field_error("objectId", "A valid integer is required."));
    }
    let classification = p.not_blank("classification")?;
    let version = p.not_blank("version")?;
    let explanation = p.required("explanation")?;
    let classdict = p.not_blank("classdict")?;
    let url = p.required("url")?;
    let max = if server == Server::Lsst { 80 } else { 256 };
    for (k, v) in [("classification", &classification), ("version", &version)] {
        if v.chars().count() > max {
            return Err(field_error(k, &format!("Ensure this field has no more than {max} characters.")));
        }
    }
    if topic != ANNOTATOR_TOPIC {
        return Ok((json!({"error": format!("Annotator error: topic {topic} does not exist")}), false));
    }
    if dummy {
        return Ok((
            json!({"error": format!("Annotator error: dummy user is not allowed to submit to topic {topic}")}),
            false,
        ));
    }
    let record = json!({"topic": topic, "version": version, "classification": classification, "explanation": explanation,
        "classdict": classdict, "url": url});
    st.annotations.lock().unwrap_or_else(|e| e.into_inner()).push((server, id.trim().to_string(), record.clone()));
    Ok(match server {
        Server::Ztf => (
            json!({"status": "success", "query": format!("REPLACE INTO annotations (...) VALUES ('{}', '{topic}', ...)", id.trim())}),
            true,
        ),
        Server::Lsst => (
            json!({"status": "success", "annotation_topic": "lasair_annotations", "message": record.to_string()}),
            true,
        ),
    })
}

fn annotate_list(st: &LasairState, p: &Params, dummy: bool) -> Reply {
    let Some(Value::Array(items)) = p.json.as_ref().and_then(|m| m.get("annotations")).cloned() else {
        return Err(field_error("annotations", "This field is required."));
    };
    let n = items.len();
    for item in items {
        let Value::Object(m) = item else {
            return Err(bad(json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]})));
        };
        let sub = Params { pairs: Pairs::default(), json: Some(m) };
        let (v, ok) = annotate(st, Server::Lsst, &sub, dummy)?;
        if !ok {
            return Ok(v);
        }
    }
    Ok(json!({"status": "success", "n": n}))
}
