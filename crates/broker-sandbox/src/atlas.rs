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

mod cone;
mod crossmatch;
mod groups;
mod lists;
mod objects;
mod vra;

use cone::*;
use crossmatch::*;
use groups::*;
use lists::*;
use objects::*;
use vra::*;

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

fn ts(a: &Atlas, d: Duration) -> String {
    iso_z(a.shared.clock.wall(d))
}

/// The `insertdate` form field as a date-time (once validated).
fn v_insertdate(d: &Pairs) -> Option<chrono::DateTime<chrono::Utc>> {
    d.last("insertdate").filter(|s| !s.is_empty()).and_then(parse_datetime)
}
