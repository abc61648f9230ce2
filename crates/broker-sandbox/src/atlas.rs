//! ATLAS Transient Server (psweb.mp.qub.ac.uk/sne/atlas4/api/) emulator: Django REST framework.

use crate::clock::{iso_of_mjd, iso_z};
use crate::middleware::canned::{self, json};
use crate::sky::{Point, SkyObject, Survey, flux_to_mag, round};
use crate::state::Shared;
use crate::throttle::SlidingWindow;
use crate::util::{Pairs, header, jf, parse_bool};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Custom list (object group) ids that exist in the sandbox (those of `atlasapiclient`'s
/// `dict_list_id`, except `dummy` 999, which does not exist on the real server either).
const GROUPS: [i64; 8] = [2, 14, 16, 17, 40, 56, 72, 73];
const MAX_OBJECTS: usize = 50_000;

#[derive(Debug, Clone)]
struct TokenRec {
    key: String,
    user: usize,
    created: Option<Duration>,
}

#[derive(Debug, Default)]
struct AtlasState {
    tokens: Vec<TokenRec>,
    group_rows: Vec<(i64, u64, i64)>,
    next_group_row: i64,
    vra_scores: Vec<Value>,
    todo: Vec<(u64, Duration)>,
    ranks: BTreeMap<u64, Value>,
    detection_lists: BTreeMap<u64, i64>,
    /// `date_modified` of objects moved through `objectdetectionlist/` (its `insertdate`,
    /// else the time of the move), as the server stores it.
    date_modified: BTreeMap<u64, String>,
}

#[derive(Clone)]
struct Atlas {
    shared: Arc<Shared>,
    state: Arc<Mutex<AtlasState>>,
    user_limit: Arc<SlidingWindow>,
    anon_limit: Arc<SlidingWindow>,
}

const USERS: [&str; 2] = ["sandbox_atlas", "sandbox_atlas_readonly"];

impl Atlas {
    fn lock(&self) -> std::sync::MutexGuard<'_, AtlasState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let c = &shared.creds.atlas;
    let ttl = shared.config.atlas_token_ttl;
    let mut st = AtlasState {
        tokens: vec![
            TokenRec { key: c.token.clone(), user: 0, created: Some(Duration::ZERO) },
            TokenRec { key: c.readonly_token.clone(), user: 1, created: Some(Duration::ZERO) },
            TokenRec { key: c.expired_token.clone(), user: 0, created: None },
        ],
        next_group_row: 1,
        ..Default::default()
    };
    let _ = ttl;
    // Initial custom-list memberships.
    for o in &shared.sky.objects {
        let g = GROUPS[(o.seed % GROUPS.len() as u64) as usize];
        if o.seed % 3 == 0 {
            let id = st.next_group_row;
            st.next_group_row += 1;
            st.group_rows.push((id, o.atlas_id, g));
        }
    }
    let a = Atlas {
        shared,
        state: Arc::new(Mutex::new(st)),
        user_limit: Arc::new(SlidingWindow::default()),
        anon_limit: Arc::new(SlidingWindow::default()),
    };
    let inner = Router::new().route("/{endpoint}/", any(endpoint)).fallback(fallback).with_state(a);
    Router::new().nest("/sne/atlas4/api", inner).fallback(not_found)
}

async fn not_found() -> Response {
    canned::text(404, "text/html", "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n".into())
}

async fn fallback(uri: Uri) -> Response {
    let path = uri.path();
    if !path.ends_with('/') {
        let mut loc = format!("{path}/");
        if let Some(q) = uri.query() {
            loc.push('?');
            loc.push_str(q);
        }
        let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
        if let Ok(v) = HeaderValue::from_str(&loc) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        return r;
    }
    not_found().await
}

fn unauthorized(detail: &str) -> Response {
    let mut r = json(401, json!({"detail": detail}));
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
    r
}

fn server_error() -> Response {
    canned::pre_fault_html500()
}

enum Kind {
    Read,
    Write,
}

fn kind_of(endpoint: &str) -> Option<Kind> {
    match endpoint {
        "cone" | "objects" | "objectlist" | "vrascoreslist" | "vratodolist" | "objectgroupslist" | "vraranklist"
        | "externalxmlist" => Some(Kind::Read),
        "vrascores" | "vratodo" | "objectgroups" | "objectgroupsdelete" | "vrarank" | "objectdetectionlist" => {
            Some(Kind::Write)
        }
        _ => None,
    }
}

/// Authentication as `ExpiringTokenAuthentication` + `QueryAuthentication`.
fn authenticate(a: &Atlas, h: &HeaderMap, q: &Pairs) -> Result<Option<usize>, Response> {
    let key = if let Some(v) = header(h, header::AUTHORIZATION) {
        let mut parts = v.split_whitespace();
        let scheme = parts.next().unwrap_or("");
        if !scheme.eq_ignore_ascii_case("token") {
            None
        } else {
            match (parts.next(), parts.next()) {
                (None, _) => return Err(unauthorized("Invalid token header. No credentials provided.")),
                (Some(_), Some(_)) => {
                    return Err(unauthorized("Invalid token header. Token string should not contain spaces."));
                }
                (Some(k), None) => Some(k.to_string()),
            }
        }
    } else {
        None
    };
    let key = match key {
        Some(k) => Some(k),
        None => match q.last("token") {
            Some(t) => {
                if t.is_empty() || !t.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(unauthorized("Invalid token format."));
                }
                Some(t.to_string())
            }
            None => None,
        },
    };
    let Some(key) = key else { return Ok(None) };
    let st = a.lock();
    let Some(rec) = st.tokens.iter().find(|t| t.key == key) else {
        return Err(unauthorized("Invalid token."));
    };
    match rec.created {
        None => Err(unauthorized("Token has expired.")),
        Some(c) if a.shared.clock.now().saturating_sub(c) > a.shared.config.atlas_token_ttl => {
            Err(unauthorized("Token has expired."))
        }
        Some(_) => Ok(Some(rec.user)),
    }
}

async fn endpoint(
    State(a): State<Atlas>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(ep): Path<String>,
    body: Bytes,
) -> Response {
    let q = Pairs::from_query(&uri);
    if ep == "auth-token" {
        return auth_token(&a, &method, &body);
    }
    let Some(kind) = kind_of(&ep) else { return not_found().await };
    // authentication -> permission -> throttle (DRF APIView.initial)
    let user = match authenticate(&a, &h, &q) {
        Ok(Some(u)) => u,
        Ok(None) => return unauthorized("Authentication credentials were not provided."),
        Err(r) => return r,
    };
    if matches!(kind, Kind::Write) && user != 0 {
        return json(403, json!({"detail": "You do not have permission to perform this action."}));
    }
    if let Some(limit) = a.shared.config.limits.atlas_user {
        if let Err(wait) = a.user_limit.check(&limit, USERS[user], a.shared.clock.now()) {
            return canned::drf_throttled(wait);
        }
    }
    let data = match method {
        Method::POST => {
            if crate::util::is_json(&h) {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(m)) => Pairs(
                        m.into_iter()
                            .map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                            .collect(),
                    ),
                    _ => {
                        return json(
                            400,
                            json!({"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"}),
                        );
                    }
                }
            } else {
                Pairs::parse(&body)
            }
        }
        Method::GET => {
            if matches!(kind, Kind::Write) {
                return json(200, json!({"Error": "GET is not implemented for this service."}));
            }
            q.clone()
        }
        _ => return json(405, json!({"detail": format!("Method \"{method}\" not allowed.")})),
    };
    match ep.as_str() {
        "cone" => cone(&a, &data),
        "objects" => objects(&a, &data),
        "objectlist" => objectlist(&a, &data),
        "vrascoreslist" => vrascoreslist(&a, &data),
        "vratodolist" => vratodolist(&a, &data),
        "vraranklist" => vraranklist(&a, &data),
        "objectgroupslist" => objectgroupslist(&a, &data),
        "externalxmlist" => externalxmlist(&a, &data),
        "vrascores" => vrascores(&a, &data, user),
        "vratodo" => vratodo(&a, &data),
        "vrarank" => vrarank(&a, &data),
        "objectgroups" => objectgroups(&a, &data),
        "objectgroupsdelete" => objectgroupsdelete(&a, &data),
        "objectdetectionlist" => objectdetectionlist(&a, &data),
        _ => not_found().await,
    }
}

fn auth_token(a: &Atlas, method: &Method, body: &[u8]) -> Response {
    if method != Method::POST {
        return json(405, json!({"detail": format!("Method \"{method}\" not allowed.")}));
    }
    if let Some(limit) = a.shared.config.limits.atlas_anon {
        if let Err(wait) = a.anon_limit.check(&limit, "127.0.0.1", a.shared.clock.now()) {
            return canned::drf_throttled(wait);
        }
    }
    let f = Pairs::parse(body);
    let u = f.last("username").filter(|s| !s.is_empty());
    let p = f.last("password").filter(|s| !s.is_empty());
    let mut errs = Map::new();
    if u.is_none() {
        errs.insert("username".into(), json!(["This field is required."]));
    }
    if p.is_none() {
        errs.insert("password".into(), json!(["This field is required."]));
    }
    if !errs.is_empty() {
        return json(400, Value::Object(errs));
    }
    let c = &a.shared.creds.atlas;
    if u != Some(c.username.as_str()) || p != Some(c.password.as_str()) {
        return json(400, json!({"non_field_errors": ["Unable to log in with provided credentials."]}));
    }
    let now = a.shared.clock.now();
    let ttl = a.shared.config.atlas_token_ttl;
    let mut st = a.lock();
    let current = st.tokens.iter().position(|t| t.user == 0 && t.created.is_some());
    if let Some(i) = current {
        let created = st.tokens[i].created.unwrap_or_default();
        let age = now.saturating_sub(created);
        if age <= ttl {
            return json(
                200,
                json!({"token": st.tokens[i].key, "expires_in": (ttl - age).as_secs_f64(), "refreshed": false}),
            );
        }
        st.tokens.remove(i);
    }
    let mut r = crate::rng::Rng::new(&[a.shared.config.seed, now.as_nanos() as u64, 0xA7]);
    let key = r.hex(40);
    st.tokens.push(TokenRec { key: key.clone(), user: 0, created: Some(now) });
    json(200, json!({"token": key, "expires_in": ttl.as_secs_f64(), "refreshed": true}))
}

/// DRF field parsing helpers; errors accumulate as `{field: [msg]}`.
struct V<'a> {
    d: &'a Pairs,
    errs: Map<String, Value>,
}

impl<'a> V<'a> {
    fn new(d: &'a Pairs) -> Self {
        V { d, errs: Map::new() }
    }
    fn raw(&self, k: &str) -> Option<&'a str> {
        self.d.last(k)
    }
    fn required(&mut self, k: &str) -> Option<&'a str> {
        match self.d.last(k) {
            Some(v) if !v.is_empty() => Some(v),
            Some(_) => {
                self.errs.insert(k.into(), json!(["This field may not be blank."]));
                None
            }
            None => {
                self.errs.insert(k.into(), json!(["This field is required."]));
                None
            }
        }
    }
    fn int(&mut self, k: &str, required: bool) -> Option<i64> {
        let v = if required { self.required(k)? } else { self.d.last(k).filter(|s| !s.is_empty())? };
        match v.trim().parse::<i64>() {
            Ok(x) => Some(x),
            Err(_) => {
                self.errs.insert(k.into(), json!(["A valid integer is required."]));
                None
            }
        }
    }
    fn float(&mut self, k: &str, required: bool) -> Option<f64> {
        let v = if required { self.required(k)? } else { self.d.last(k).filter(|s| !s.is_empty())? };
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                self.errs.insert(k.into(), json!(["A valid number is required."]));
                None
            }
        }
    }
    fn boolean(&mut self, k: &str, default: bool) -> bool {
        match self.d.last(k) {
            None => default,
            Some(v) => match parse_bool(v) {
                Some(b) => b,
                None => {
                    self.errs.insert(k.into(), json!(["Must be a valid boolean."]));
                    default
                }
            },
        }
    }
    fn datetime(&mut self, k: &str) -> Option<f64> {
        let v = self.d.last(k).filter(|s| !s.is_empty())?;
        match parse_datetime_mjd(v) {
            Some(m) => Some(m),
            None => {
                self.errs.insert(
                    k.into(),
                    json!(["Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]),
                );
                None
            }
        }
    }
    fn finish(self) -> Result<(), Response> {
        if self.errs.is_empty() { Ok(()) } else { Err(json(400, Value::Object(self.errs))) }
    }
}

fn parse_datetime_mjd(s: &str) -> Option<f64> {
    parse_datetime(s).map(crate::clock::mjd_of)
}

/// A DRF `DateTimeField` value (ISO 8601; naive values are UTC, the server's `TIME_ZONE`).
fn parse_datetime(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.trim();
    let dt = if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        d.with_timezone(&chrono::Utc)
    } else if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        d.and_utc()
    } else if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f") {
        d.and_utc()
    } else if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
        d.and_utc()
    } else if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0)?.and_utc()
    } else {
        return None;
    };
    Some(dt)
}

fn cone(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let ra = v.float("ra", true);
    let dec = v.float("dec", true);
    let radius = v.float("radius", true);
    let rt = v.required("requestType");
    if let Some(t) = rt {
        if !matches!(t, "count" | "all" | "nearest") {
            v.errs.insert("requestType".into(), json!([format!("\"{t}\" is not a valid choice.")]));
        }
    }
    if let Err(r) = v.finish() {
        return r;
    }
    let (Some(ra), Some(dec), Some(radius), Some(rt)) = (ra, dec, radius, rt) else { return server_error() };
    if radius > 300.0 {
        return json(400, json!({"error": "Max radius is 300 arcsec."}));
    }
    let hits = a.shared.sky.cone(ra, dec, radius);
    match rt {
        "count" => json(200, json!({"count": hits.len()})),
        "nearest" => match hits.first() {
            Some((o, s)) => {
                json(200, json!({"object": o.atlas_id, "separation": jf(*s), "objectname": o.atlas_designation}))
            }
            None => json(200, json!({})),
        },
        _ => json(
            200,
            Value::Array(
                hits.iter()
                    .map(
                        |(o, s)| json!({"object": o.atlas_id, "separation": jf(*s), "objectname": o.atlas_designation}),
                    )
                    .collect(),
            ),
        ),
    }
}

fn objects(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let ids = v.required("objects");
    let mjd = v.float("mjd", false);
    if let Err(r) = v.finish() {
        return r;
    }
    let ids: Vec<&str> = ids.unwrap_or("").split(',').map(str::trim).collect();
    if ids.len() > MAX_OBJECTS {
        return json(200, json!({"info": "Max number of objects for each requests is 50,000"}));
    }
    // Serialized straight from typed rows (the same bytes as building a `Value` tree first,
    // which cost most of the CPU of large replies: one map per point).
    let mut out = Vec::new();
    for id in ids {
        let Ok(n) = id.parse::<u64>() else { return server_error() };
        match a.shared.sky.by_atlas(n) {
            Some(o) => out.push(SourceReply::Found(source_out(a, o, mjd))),
            None => out.push(SourceReply::Missing(missing_source())),
        }
    }
    match serde_json::to_vec(&out) {
        Ok(body) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => server_error(),
    }
}

fn missing_source() -> Value {
    json!({
        "object": "AtlasDiffObjects matching query does not exist.",
        "lc": null, "lcnondets": null, "fp": null, "sherlock_crossmatches": null,
        "sherlock_classifications": null, "tns_crossmatches": null, "external_crossmatches": null
    })
}

/// One element of the `objects/` reply.
#[derive(Serialize)]
#[serde(untagged)]
enum SourceReply {
    Found(SourceOut),
    Missing(Value),
}

/// A found source, in the server's key order.
#[derive(Serialize)]
struct SourceOut {
    object: Value,
    lc: Vec<LcRow>,
    lcnondets: Vec<NonDetRow>,
    fp: Vec<FpRow>,
    sherlock_crossmatches: Vec<Value>,
    sherlock_classifications: Vec<Value>,
    tns_crossmatches: Vec<Value>,
    external_crossmatches: Vec<Value>,
}

#[derive(Serialize)]
struct LcRow {
    id: u64,
    mag: f64,
    magerr: f64,
    mjd: f64,
    exptime: f64,
    filter: &'static str,
    zp: f64,
    expname: String,
    ra: f64,
    dec: f64,
    atlas_metadata_id: u64,
    pointing: String,
    mag5sig: f64,
    x: f64,
    y: f64,
    major: f64,
    minor: f64,
    phi: f64,
    det: i64,
    chin: f64,
    pvr: i64,
    ptr: i64,
    pmv: i64,
    pkn: i64,
    pno: i64,
    pbn: i64,
    pcr: i64,
    pxt: i64,
    psc: i64,
    dup: i64,
    wpflx: f64,
    dflx: f64,
    date_inserted: String,
}

#[derive(Serialize)]
struct NonDetRow {
    id: u64,
    mjd: f64,
    exptime: f64,
    filter: &'static str,
    zp: f64,
    expname: String,
    filename: String,
    input: Option<()>,
    reference: Option<()>,
    pointing: String,
    mag5sig: f64,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct FpRow {
    id: u64,
    atlas_object_id: u64,
    expname: String,
    mjd_obs: f64,
    ra: f64,
    dec: f64,
    filter: &'static str,
    mag: f64,
    dm: f64,
    snr: f64,
    zp: f64,
    x: f64,
    y: f64,
    peakval: f64,
    skyval: f64,
    peakfit: f64,
    dpeak: f64,
    skyfit: f64,
    flux: f64,
    dflux: f64,
    chin: f64,
    major: f64,
    minor: f64,
    snrdet: f64,
    snrlimit: f64,
    apfit: f64,
    date_inserted: String,
    limiting_mag: bool,
    redo_photometry: bool,
    uJy: f64,
    duJy: f64,
    texp: f64,
}

fn pointing(o: &SkyObject) -> String {
    format!("TA{:03}N{:02}", (o.ra as u64) % 360, (o.dec.abs() as u64) % 90)
}

fn zp_of(p: &Point) -> f64 {
    round(22.2 + (p.aux % 30) as f64 / 100.0, 3)
}

/// The typed form of one found source (see `source_json` in the tests for the `Value` form
/// it must serialize identically to).
fn source_out(a: &Atlas, o: &SkyObject, mjd: Option<f64>) -> SourceOut {
    let pts = a.shared.sky.photometry(o, Survey::Atlas);
    let object = object_row(a, o, &pts);
    let thr = mjd.unwrap_or(f64::MIN);
    let lc = pts
        .iter()
        .filter(|p| p.detected && p.mjd > thr)
        .map(|p| {
            let m = if p.flux >= 0.0 { flux_to_mag(p.flux) } else { -flux_to_mag(p.flux) };
            let x = (p.aux >> 8) % 10_000;
            LcRow {
                id: o.atlas_id,
                mag: round(m, 3),
                magerr: round(1.0857 * p.flux_err / p.flux.abs(), 3),
                mjd: round(p.mjd, 8),
                exptime: 30.0,
                filter: p.band,
                zp: zp_of(p),
                expname: expname(p),
                ra: round(o.ra + ((x % 100) as f64 - 50.0) * 1e-6, 6),
                dec: round(o.dec + ((x / 100) as f64 - 50.0) * 1e-6, 6),
                atlas_metadata_id: 100_000 + p.seq as u64 * 7 + o.index as u64,
                pointing: pointing(o),
                mag5sig: round(p.limit, 2),
                x: round(100.0 + (p.aux % 10_300) as f64, 2),
                y: round(100.0 + ((p.aux >> 16) % 10_300) as f64, 2),
                major: 2.1,
                minor: 1.9,
                phi: round(((p.aux >> 24) % 180) as f64, 1),
                det: 5,
                chin: round(1.0 + ((p.aux >> 32) % 100) as f64 / 100.0, 2),
                pvr: 0,
                ptr: 999,
                pmv: 0,
                pkn: 0,
                pno: 0,
                pbn: 0,
                pcr: 0,
                pxt: 0,
                psc: 0,
                dup: 0,
                wpflx: round(p.flux * 0.9, 1),
                dflx: round(p.flux_err, 1),
                date_inserted: iso_of_mjd(p.mjd + 0.05),
            }
        })
        .collect();
    let lcnondets = pts
        .iter()
        .filter(|p| !p.detected && p.mjd > thr)
        .map(|p| {
            let expname = expname(p);
            NonDetRow {
                id: 4_000 + p.seq as u64 * 13 + o.index as u64,
                mjd: round(p.mjd, 8),
                exptime: 30.0,
                filter: p.band,
                zp: zp_of(p),
                filename: format!("{expname}.ddc"),
                expname,
                input: None,
                reference: None,
                pointing: pointing(o),
                mag5sig: round(p.limit, 2),
            }
        })
        .collect();
    let fp = match first_det_mjd(&pts) {
        None => Vec::new(),
        Some(f0) => pts
            .iter()
            .filter(|p| p.mjd >= f0 - 30.0 && p.mjd <= f0 + 150.0 && p.mjd >= thr)
            .enumerate()
            .map(|(i, p)| {
                let snr = p.flux / p.flux_err;
                let (mag, limiting) =
                    if snr >= 3.0 { (flux_to_mag(p.flux), false) } else { (flux_to_mag(3.0 * p.flux_err), true) };
                let zpv = zp_of(p);
                let (major, minor, apfit, texp) = (1.87, 1.73, -0.4287, 30.0);
                let conv = 10f64.powf(-0.4 * (zpv + apfit - 23.9)) * major * minor / texp;
                FpRow {
                    id: 18_000_000 + o.index as u64 * 10_000 + i as u64,
                    atlas_object_id: o.atlas_id,
                    expname: expname(p),
                    mjd_obs: round(p.mjd, 8),
                    ra: o.ra,
                    dec: o.dec,
                    filter: p.band,
                    mag: round(mag, 2),
                    dm: round(if limiting { 0.0 } else { 1.0857 / snr }, 3),
                    snr: round(snr, 2),
                    zp: zpv,
                    x: round(100.0 + (p.aux % 10_300) as f64, 2),
                    y: round(100.0 + ((p.aux >> 16) % 10_300) as f64, 2),
                    peakval: round(190.0 + p.flux / 10.0, 1),
                    skyval: 180.7,
                    peakfit: round(p.flux / conv, 2),
                    dpeak: round(p.flux_err / conv, 2),
                    skyfit: 176.4,
                    flux: round(p.flux / conv * major * minor, 1),
                    dflux: round(p.flux_err / conv * major * minor, 1),
                    chin: round(0.8 + ((p.aux >> 32) % 60) as f64 / 100.0, 2),
                    major,
                    minor,
                    snrdet: round(snr.abs(), 1),
                    snrlimit: 3.0,
                    apfit,
                    date_inserted: iso_of_mjd(p.mjd + 0.3),
                    limiting_mag: limiting,
                    redo_photometry: false,
                    uJy: round(p.flux, 1),
                    duJy: round(p.flux_err, 1),
                    texp,
                }
            })
            .collect(),
    };
    let (sherlock_crossmatches, sherlock_classifications) = sherlock(o);
    SourceOut {
        object,
        lc,
        lcnondets,
        fp,
        sherlock_crossmatches,
        sherlock_classifications,
        tns_crossmatches: tns_rows(o),
        external_crossmatches: Vec::new(),
    }
}

fn first_det_mjd(pts: &[Point]) -> Option<f64> {
    pts.iter().find(|p| p.detected && p.flux > 0.0).map(|p| p.mjd)
}

fn object_row(a: &Atlas, o: &SkyObject, pts: &[Point]) -> Value {
    let first = first_det_mjd(pts).unwrap_or(a.shared.sky.cfg.start_mjd);
    let ndet = pts.iter().filter(|p| p.detected).count();
    let (list, modified) = {
        let st = a.lock();
        (
            st.detection_lists.get(&o.atlas_id).copied().unwrap_or(o.atlas_list),
            st.date_modified.get(&o.atlas_id).cloned().unwrap_or_else(|| iso_of_mjd(first + 1.2)),
        )
    };
    let trend = match pts.iter().rev().filter(|p| p.detected).take(8).map(|p| p.flux).collect::<Vec<_>>().as_slice() {
        [last, .., old] if last > old => "rising",
        [_, ..] => "fading",
        [] => "flat",
    };
    json!({
        "id": o.atlas_id, "followup_id": 38_000_000 + o.index as u64, "followup_flag_date": iso_of_mjd(first.floor()),
        "detection_id": 21_000_000_000u64 + o.index as u64 * 1000, "ra": round(o.ra, 6), "dec": round(o.dec, 6),
        "object_classification": null, "sherlockClassification": o.kind.sherlock(), "observation_status": null,
        "htm16id": 67_000_000_000u64 + (o.seed % 1_000_000_000), "jtindex": o.seed % 1000, "images_id": 9_000_000 + o.index as u64,
        "date_inserted": iso_of_mjd(first + 0.3), "date_modified": modified, "processing_flags": 5832,
        "updated_by": "sandbox", "followup_priority": null, "external_reference_id": null, "detection_list_id": list,
        "survey_field": "ATLAS", "followup_counter": 18000 + o.index as u64, "atlas_designation": o.atlas_designation,
        "other_designation": o.tns_name, "current_trend": trend, "local_comments": null, "ndetections": ndet,
        "vra": o.vra, "rb_pix": o.rb_pix
    })
}

fn expname(p: &Point) -> String {
    format!("{}{}o{:04}{}", ["01a", "02a", "03a", "04a"][(p.aux % 4) as usize], p.night, p.seq % 10000, p.band)
}

/// The original `Value`-tree form of one found source: the reference the typed rows are
/// tested against.
#[cfg(test)]
fn source_json(a: &Atlas, o: &SkyObject, mjd: Option<f64>) -> Value {
    let pts = a.shared.sky.photometry(o, Survey::Atlas);
    let object = object_row(a, o, &pts);
    let thr = mjd.unwrap_or(f64::MIN);
    let zp = |p: &Point| round(22.2 + (p.aux % 30) as f64 / 100.0, 3);
    let lc: Vec<Value> = pts
        .iter()
        .filter(|p| p.detected && p.mjd > thr)
        .map(|p| {
            let m = if p.flux >= 0.0 { flux_to_mag(p.flux) } else { -flux_to_mag(p.flux) };
            let x = (p.aux >> 8) % 10_000;
            json!({
                "id": o.atlas_id, "mag": round(m, 3), "magerr": round(1.0857 * p.flux_err / p.flux.abs(), 3), "mjd": round(p.mjd, 8),
                "exptime": 30.0, "filter": p.band, "zp": zp(p), "expname": expname(p),
                "ra": round(o.ra + ((x % 100) as f64 - 50.0) * 1e-6, 6), "dec": round(o.dec + ((x / 100) as f64 - 50.0) * 1e-6, 6),
                "atlas_metadata_id": 100_000 + p.seq as u64 * 7 + o.index as u64, "pointing": format!("TA{:03}N{:02}", (o.ra as u64) % 360, (o.dec.abs() as u64) % 90),
                "mag5sig": round(p.limit, 2), "x": round(100.0 + (p.aux % 10_300) as f64, 2), "y": round(100.0 + ((p.aux >> 16) % 10_300) as f64, 2),
                "major": 2.1, "minor": 1.9, "phi": round(((p.aux >> 24) % 180) as f64, 1), "det": 5, "chin": round(1.0 + ((p.aux >> 32) % 100) as f64 / 100.0, 2),
                "pvr": 0, "ptr": 999, "pmv": 0, "pkn": 0, "pno": 0, "pbn": 0, "pcr": 0, "pxt": 0, "psc": 0, "dup": 0,
                "wpflx": round(p.flux * 0.9, 1), "dflx": round(p.flux_err, 1), "date_inserted": iso_of_mjd(p.mjd + 0.05)
            })
        })
        .collect();
    let nondets: Vec<Value> = pts
        .iter()
        .filter(|p| !p.detected && p.mjd > thr)
        .map(|p| {
            json!({
                "id": 4_000 + p.seq as u64 * 13 + o.index as u64, "mjd": round(p.mjd, 8), "exptime": 30.0, "filter": p.band, "zp": zp(p),
                "expname": expname(p), "filename": format!("{}.ddc", expname(p)), "input": null, "reference": null,
                "pointing": format!("TA{:03}N{:02}", (o.ra as u64) % 360, (o.dec.abs() as u64) % 90), "mag5sig": round(p.limit, 2)
            })
        })
        .collect();
    let first = first_det_mjd(&pts);
    let fp: Vec<Value> = match first {
        None => Vec::new(),
        Some(f0) => pts
            .iter()
            .filter(|p| p.mjd >= f0 - 30.0 && p.mjd <= f0 + 150.0 && p.mjd >= thr)
            .enumerate()
            .map(|(i, p)| {
                let snr = p.flux / p.flux_err;
                let (mag, limiting) = if snr >= 3.0 { (flux_to_mag(p.flux), false) } else { (flux_to_mag(3.0 * p.flux_err), true) };
                let zpv = zp(p);
                let (major, minor, apfit, texp) = (1.87, 1.73, -0.4287, 30.0);
                let conv = 10f64.powf(-0.4 * (zpv + apfit - 23.9)) * major * minor / texp;
                json!({
                    "id": 18_000_000 + o.index as u64 * 10_000 + i as u64, "atlas_object_id": o.atlas_id, "expname": expname(p),
                    "mjd_obs": round(p.mjd, 8), "ra": o.ra, "dec": o.dec, "filter": p.band, "mag": round(mag, 2),
                    "dm": round(if limiting { 0.0 } else { 1.0857 / snr }, 3), "snr": round(snr, 2), "zp": zpv,
                    "x": round(100.0 + (p.aux % 10_300) as f64, 2), "y": round(100.0 + ((p.aux >> 16) % 10_300) as f64, 2),
                    "peakval": round(190.0 + p.flux / 10.0, 1), "skyval": 180.7, "peakfit": round(p.flux / conv, 2), "dpeak": round(p.flux_err / conv, 2),
                    "skyfit": 176.4, "flux": round(p.flux / conv * major * minor, 1), "dflux": round(p.flux_err / conv * major * minor, 1),
                    "chin": round(0.8 + ((p.aux >> 32) % 60) as f64 / 100.0, 2), "major": major, "minor": minor,
                    "snrdet": round(snr.abs(), 1), "snrlimit": 3.0, "apfit": apfit, "date_inserted": iso_of_mjd(p.mjd + 0.3),
                    "limiting_mag": limiting, "redo_photometry": false,
                    "uJy": round(p.flux, 1), "duJy": round(p.flux_err, 1), "texp": texp
                })
            })
            .collect(),
    };
    let (sx, sc) = sherlock(o);
    let tns: Vec<Value> = tns_rows(o);
    json!({
        "object": object, "lc": lc, "lcnondets": nondets, "fp": fp,
        "sherlock_crossmatches": sx, "sherlock_classifications": sc,
        "tns_crossmatches": tns, "external_crossmatches": []
    })
}

fn sherlock(o: &SkyObject) -> (Vec<Value>, Vec<Value>) {
    let sep = (o.host_offset.0.powi(2) + o.host_offset.1.powi(2)).sqrt();
    let class = o.kind.sherlock();
    let (xm, summary) = if o.kind.is_sn() || matches!(class, "AGN") {
        let row = |id: u64, cat: &str| {
            json!({
                "transient_object_id": o.atlas_id, "catalogue_object_id": format!("{}", 1_237_660_000_000_000_000u64 + o.seed % 1_000_000_000),
                "catalogue_table_id": 2, "separationarcsec": round(sep, 2), "northseparationarcsec": round(o.host_offset.1, 4),
                "eastseparationarcsec": round(o.host_offset.0, 4), "id": id, "z": o.redshift, "photoz": o.redshift.map(|z| round(z * 1.03, 6)),
                "photozerr": 0.0108, "association_type": class, "catalogue_object_type": "galaxy", "catalogue_table_name": cat,
                "rank": 1, "rankscore": 2005.0, "radeg": round(o.ra - o.host_offset.0 / 3600.0, 6), "decdeg": round(o.dec - o.host_offset.1 / 3600.0, 6),
                "j": null, "field_g": round(o.host_mag, 3), "classificationreliability": 2, "transientabsmag": null
            })
        };
        (
            vec![row(396_000_000 + o.index as u64 * 2, "SDSS/2MASS/PS1"), row(396_000_001 + o.index as u64 * 2, "PS1")],
            format!("{sep:.1}\" from galaxy in SDSS/2MASS/PS1"),
        )
    } else {
        (Vec::new(), format!("{sep:.1}\" match to a synthetic star"))
    };
    let sc = vec![json!({
        "transient_object_id": o.atlas_id, "classification": class, "annotation": format!("Synthetic sandbox object: {}", o.kind.class_name()),
        "summary": summary, "matchverified": null, "developmentcomment": null, "datelastmodified": "2025-01-01T00:00:00Z",
        "datecreated": "2025-01-01T00:00:00Z", "updated": "0"
    })];
    (xm, sc)
}

fn tns_rows(o: &SkyObject) -> Vec<Value> {
    match &o.tns_name {
        Some(n) => vec![json!({
            "id": 500_000_000 + o.index as u64, "transient_object_id": o.atlas_id, "external_designation": n,
            "type": if o.kind.is_sn() { json!(format!("SN {}", o.kind.class_name().trim_start_matches("SN"))) } else { Value::Null },
            "host_galaxy": null, "mag": round(o.peak_mag + 0.5, 3), "discoverer": "ATLAS", "matched_list": "Transient Name Server",
            "other_info": o.atlas_designation, "separation": 0.29, "comments": null, "url": format!("https://wis-tns.org/object/{n}"),
            "host_z": null, "object_z": o.redshift, "disc_date": iso_of_mjd(o.peak_mjd - o.rise * 2.0), "disc_filter": "orange-ATLAS"
        })],
        None => Vec::new(),
    }
}

fn list_row(a: &Atlas, o: &SkyObject, rank: usize, group: Option<i64>) -> Value {
    let pts = a.shared.sky.photometry(o, Survey::Atlas);
    let mut row = object_row(a, o, &pts);
    let det: Vec<&Point> = pts.iter().filter(|p| p.detected).collect();
    let first = det.first();
    let last = det.last();
    let extra = json!({
        "rank": rank, "ra_avg": round(o.ra, 6), "dec_avg": round(o.dec, 6),
        "earliest_mjd": first.map(|p| round(p.mjd, 6)), "earliest_mag": first.map(|p| round(flux_to_mag(p.flux), 3)), "earliest_filter": first.map(|p| p.band),
        "latest_mjd": last.map(|p| round(p.mjd, 6)), "latest_mag": last.map(|p| round(flux_to_mag(p.flux), 3)), "latest_filter": last.map(|p| p.band),
        "catalogue": if o.kind.is_sn() { json!("SDSS/2MASS/PS1") } else { Value::Null }, "catalogue_object_id": null,
        "separation": round((o.host_offset.0.powi(2) + o.host_offset.1.powi(2)).sqrt(), 2),
        "external_crossmatches": o.tns_name, "discovery_target": null, "rms": null
    });
    if let (Value::Object(r), Value::Object(e)) = (&mut row, extra) {
        for k in [
            "followup_id",
            "detection_id",
            "htm16id",
            "jtindex",
            "date_inserted",
            "processing_flags",
            "updated_by",
            "followup_priority",
            "external_reference_id",
            "survey_field",
            "followup_counter",
            "local_comments",
            "ndetections",
        ] {
            r.remove(k);
        }
        for (k, v) in e {
            r.insert(k, v);
        }
        if let Some(g) = group {
            r.remove("images_id");
            r.insert("local_comments".into(), Value::Null);
            r.insert("object_group_id".into(), json!(g));
        }
    }
    row
}

fn objectlist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let id = v.int("objectlistid", true);
    let custom = v.boolean("getcustomlist", false);
    let thr = v.datetime("datethreshold");
    if let Err(r) = v.finish() {
        return r;
    }
    let id = id.unwrap_or(0);
    let thr = thr.unwrap_or(f64::MIN);
    let sky = &a.shared.sky;
    let members: Vec<&SkyObject> = if custom {
        let st = a.lock();
        st.group_rows.iter().filter(|r| r.2 == id).filter_map(|r| sky.by_atlas(r.1)).collect()
    } else {
        if !(0..=13).contains(&id) {
            return server_error();
        }
        let overrides = a.lock().detection_lists.clone();
        sky.objects.iter().filter(|o| overrides.get(&o.atlas_id).copied().unwrap_or(o.atlas_list) == id).collect()
    };
    let rows: Vec<Value> = members
        .into_iter()
        .filter(|o| {
            let f = first_det_mjd(&sky.photometry(o, Survey::Atlas)).unwrap_or(sky.cfg.start_mjd).floor();
            f > thr
        })
        .enumerate()
        .map(|(i, o)| list_row(a, o, i + 1, custom.then_some(id)))
        .collect();
    json(200, Value::Array(rows))
}

fn ts(a: &Atlas, d: Duration) -> String {
    iso_z(a.shared.clock.wall(d))
}

fn ids_of(s: Option<&str>) -> Option<Vec<u64>> {
    s.filter(|s| !s.trim().is_empty()).map(|s| s.split(',').filter_map(|x| x.trim().parse::<u64>().ok()).collect())
}

fn vrascoreslist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let debug = v.boolean("debug", false);
    let thr = v.datetime("datethreshold");
    let idthr = v.int("idthreshold", false).unwrap_or(0);
    let objs = ids_of(v.raw("objects"));
    if let Err(r) = v.finish() {
        return r;
    }
    let st = a.lock();
    let rows: Vec<Value> = st
        .vra_scores
        .iter()
        .filter(|r| match &objs {
            Some(ids) => {
                ids.contains(&r["transient_object_id"].as_u64().unwrap_or(0)) && r["debug"].as_bool() == Some(debug)
            }
            None => {
                r["id"].as_i64().unwrap_or(0) >= idthr && thr.is_none_or(|t| r["_mjd"].as_f64().unwrap_or(0.0) >= t)
            }
        })
        .map(|r| {
            let mut r = r.clone();
            if let Value::Object(m) = &mut r {
                m.remove("_mjd");
            }
            r
        })
        .collect();
    json(200, Value::Array(rows))
}

fn vratodolist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let thr = v.datetime("datethreshold");
    let _ = v.int("idthreshold", false);
    let objs = ids_of(v.raw("objects"));
    if let Err(r) = v.finish() {
        return r;
    }
    let st = a.lock();
    let rows: Vec<Value> = st
        .todo
        .iter()
        .filter(|(id, t)| match &objs {
            Some(ids) => ids.contains(id),
            None => thr.is_none_or(|m| crate::clock::mjd_of(a.shared.clock.wall(*t)) >= m),
        })
        .map(|(id, t)| json!({"transient_object_id": id, "timestamp": ts(a, *t)}))
        .collect();
    json(200, Value::Array(rows))
}

fn vraranklist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let _ = v.datetime("datethreshold");
    let objs = ids_of(v.raw("objects"));
    if let Err(r) = v.finish() {
        return r;
    }
    let st = a.lock();
    let rows: Vec<Value> = st
        .ranks
        .iter()
        .filter(|(id, _)| objs.as_ref().is_none_or(|ids| ids.contains(id)))
        .map(|(_, r)| r.clone())
        .collect();
    json(200, Value::Array(rows))
}

fn objectgroupslist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", false);
    let gid = v.int("objectgroupid", false);
    if let Err(r) = v.finish() {
        return r;
    }
    let st = a.lock();
    let rows: Vec<Value> = st
        .group_rows
        .iter()
        .filter(|(_, o, g)| match (oid, gid) {
            (Some(x), None) => *o as i64 == x,
            (None, Some(x)) => *g == x,
            _ => true,
        })
        .map(|(id, o, g)| json!({"id": id, "transient_object_id": o, "object_group_id": g}))
        .collect();
    json(200, Value::Array(rows))
}

fn externalxmlist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let names = v.required("externalObjects");
    if let Err(r) = v.finish() {
        return r;
    }
    let out: Vec<Value> = names
        .unwrap_or("")
        .split(',')
        .map(|n| {
            let n = n.trim().trim_start_matches("AT").trim_start_matches("SN").trim();
            Value::Array(
                a.shared.sky.objects.iter().filter(|o| o.tns_name.as_deref() == Some(n)).flat_map(tns_rows).collect(),
            )
        })
        .collect();
    json(200, Value::Array(out))
}

fn created(objectid: i64, info: &str) -> Response {
    json(201, json!({"objectid": objectid, "info": info}))
}

fn vrascores(a: &Atlas, d: &Pairs, user: usize) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let fields: Vec<(&str, Option<f64>)> =
        ["preal", "pgal", "pfast", "rank", "rank_alt1"].iter().map(|k| (*k, v.float(k, false))).collect();
    let gal = v.int("is_gal_cand", false);
    let debug = v.boolean("debug", false);
    let _ = v.datetime("insertdate");
    if let Err(r) = v.finish() {
        return r;
    }
    let oid = oid.unwrap_or(0);
    if a.shared.sky.by_atlas(oid as u64).is_none() {
        return created(oid, "Object does not exist.");
    }
    let now = a.shared.clock.now();
    let mut st = a.lock();
    let id = st.vra_scores.len() as i64 + 1;
    let mut row = json!({"id": id, "transient_object_id": oid});
    if let Value::Object(m) = &mut row {
        for (k, x) in fields {
            m.insert(k.into(), x.map(jf).unwrap_or(Value::Null));
        }
        m.insert("is_gal_cand".into(), json!(gal));
        m.insert("timestamp".into(), json!(ts(a, now)));
        m.insert("apiusername".into(), json!(USERS[user]));
        m.insert("username".into(), Value::Null);
        m.insert("debug".into(), json!(debug));
        m.insert("_mjd".into(), jf(crate::clock::mjd_of(a.shared.clock.wall(now))));
    }
    st.vra_scores.push(row);
    created(oid, "Row created.")
}

fn vratodo(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let _ = v.datetime("insertdate");
    if let Err(r) = v.finish() {
        return r;
    }
    let oid = oid.unwrap_or(0);
    if a.shared.sky.by_atlas(oid as u64).is_none() {
        return created(oid, "Object does not exist.");
    }
    let now = a.shared.clock.now();
    let mut st = a.lock();
    if st.todo.iter().any(|(o, _)| *o == oid as u64) {
        return created(oid, "Duplicate row. Cannot add row.");
    }
    st.todo.push((oid as u64, now));
    created(oid, "Row created.")
}

fn vrarank(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let rank = v.float("rank", true);
    let alt = v.float("rank_alt1", false);
    let gal = v.int("is_gal_cand", false);
    let insert = v.datetime("insertdate");
    if let Err(r) = v.finish() {
        return r;
    }
    let oid = oid.unwrap_or(0);
    if a.shared.sky.by_atlas(oid as u64).is_none() {
        return created(oid, "Object does not exist.");
    }
    // The server saves a `TcsVraRank` keyed by the object id: an upsert whose `timestamp`
    // is `insertdate` (default now), answered "Row created." whether it inserted or updated.
    let stamp = match insert.and(v_insertdate(d)) {
        Some(t) => iso_z(t),
        None => ts(a, a.shared.clock.now()),
    };
    let row = json!({"transient_object_id": oid, "rank": rank.map(jf), "rank_alt1": alt.map(jf), "is_gal_cand": gal, "timestamp": stamp});
    a.lock().ranks.insert(oid as u64, row);
    created(oid, "Row created.")
}

fn objectgroups(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let gid = v.int("objectgroupid", true);
    if let Err(r) = v.finish() {
        return r;
    }
    let (oid, gid) = (oid.unwrap_or(0), gid.unwrap_or(0));
    if !GROUPS.contains(&gid) {
        return json(201, json!({"objectgroupid": gid, "info": "Object group ID does not exist."}));
    }
    if a.shared.sky.by_atlas(oid as u64).is_none() {
        return json(201, json!({"objectgroupid": oid, "info": "Object does not exist."}));
    }
    let mut st = a.lock();
    if st.group_rows.iter().any(|r| r.1 == oid as u64 && r.2 == gid) {
        return json(201, json!({"objectgroupid": oid, "info": "Duplicate row. Cannot add row."}));
    }
    let id = st.next_group_row;
    st.next_group_row += 1;
    st.group_rows.push((id, oid as u64, gid));
    json(201, json!({"objectgroupid": oid, "info": "Row created."}))
}

fn objectgroupsdelete(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let gid = v.int("objectgroupid", true);
    if !v.errs.is_empty() {
        // `message` is unbound in the real view: a missing or invalid field is a 500.
        return server_error();
    }
    let (oid, gid) = (oid.unwrap_or(0), gid.unwrap_or(0));
    let info = if !GROUPS.contains(&gid) {
        Some("Object group ID does not exist.")
    } else if a.shared.sky.by_atlas(oid as u64).is_none() {
        Some("Object does not exist.")
    } else {
        None
    };
    if let Some(info) = info {
        return json(400, json!({"objectid": oid, "objectgroupid": gid, "info": info}));
    }
    let mut st = a.lock();
    let before = st.group_rows.len();
    st.group_rows.retain(|r| !(r.1 == oid as u64 && r.2 == gid));
    if st.group_rows.len() == before {
        return json(
            400,
            json!({"objectid": oid, "objectgroupid": gid, "info": "Object group ID does not exist or object ID does not exist."}),
        );
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The `insertdate` form field as a date-time (once validated).
fn v_insertdate(d: &Pairs) -> Option<chrono::DateTime<chrono::Utc>> {
    d.last("insertdate").filter(|s| !s.is_empty()).and_then(parse_datetime)
}

fn objectdetectionlist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let list = v.int("objectlist", true);
    let insert = v.datetime("insertdate");
    if let Err(r) = v.finish() {
        return r;
    }
    let (oid, list) = (oid.unwrap_or(0), list.unwrap_or(0));
    // As the server's `ObjectDetectionListSerializer`: the object is looked up first, then
    // only lists 3, 4 and 12 may be set; `insertdate` (default now) becomes the object's
    // `date_modified`. Every reply is 200 with the object id.
    if a.shared.sky.by_atlas(oid as u64).is_none() {
        return json(200, json!({"objectid": oid, "info": "Object does not exist."}));
    }
    if !matches!(list, 3 | 4 | 12) {
        return json(200, json!({"objectid": oid, "info": "Error updating row."}));
    }
    let modified = match insert.and(v_insertdate(d)) {
        Some(t) => iso_z(t),
        None => ts(a, a.shared.clock.now()),
    };
    let mut st = a.lock();
    st.detection_lists.insert(oid as u64, list);
    st.date_modified.insert(oid as u64, modified);
    json(200, json!({"objectid": oid, "info": "Row created."}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SandboxConfig;

    fn atlas(objects: usize) -> Atlas {
        let mut cfg = SandboxConfig::default();
        cfg.sky.objects = objects;
        Atlas {
            shared: Arc::new(Shared::new(cfg)),
            state: Arc::new(Mutex::new(AtlasState::default())),
            user_limit: Arc::new(SlidingWindow::default()),
            anon_limit: Arc::new(SlidingWindow::default()),
        }
    }

    /// The typed rows serialize to exactly the bytes of the `Value` tree they replaced.
    #[test]
    fn typed_source_serializes_as_the_value_tree() {
        let a = atlas(60);
        let mut checked = 0;
        for o in &a.shared.sky.objects {
            for mjd in [None, Some(a.shared.sky.cfg.start_mjd + 300.0), Some(1e9)] {
                let typed = serde_json::to_vec(&SourceReply::Found(source_out(&a, o, mjd))).unwrap();
                let tree = serde_json::to_vec(&source_json(&a, o, mjd)).unwrap();
                assert_eq!(String::from_utf8(typed).unwrap(), String::from_utf8(tree).unwrap());
                checked += 1;
            }
        }
        assert_eq!(checked, 180);
        let missing = serde_json::to_vec(&SourceReply::Missing(missing_source())).unwrap();
        assert!(missing.starts_with(b"{\"object\":\"AtlasDiffObjects matching query does not exist.\",\"lc\":null"));
    }
}
