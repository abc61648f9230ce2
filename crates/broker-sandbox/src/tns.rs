//! Transient Name Server emulator, written from the API notes (`shared/api/other-brokers.md`
//! §3) and the sources they cite (SkyPortal `utils/tns.py` and `tns_submission.py`, the TNS
//! sample scripts, the TNS "Daily CSV Staging" text).
//!
//! - Every route is a `POST` with form fields `api_key` (and `data`, a JSON string, for the
//!   API routes). A request whose User-Agent is not a `tns_marker{...}` naming the sandbox
//!   bot gets the front end's plain HTML 403; a wrong key gets `401` with an `id_code` body.
//! - Envelope `{"id_code": 200, "id_message": "OK", "data": ...}`; with
//!   [`TnsEnvelope::Reply`] the payload sits under `data.reply` (the older shape).
//! - Quotas per key, fixed 60 s windows: every reply carries `x-rate-limit-limit`,
//!   `-remaining`, `-reset` (seconds to the window's end); searches with a position also
//!   `x-cone-rate-limit-*`. Over a quota: `429` `{"id_code":429,"id_message":"Too Many Requests"}`.
//! - `api/get/search`: `objname` (+`objname_exact_match`), `internal_name`
//!   (+`internal_name_exact_match`), `ra`/`dec` (sexagesimal or degrees) + `radius` + `units`,
//!   `objid`, `public_timestamp`; hits `{objname, prefix, objid}`.
//! - `api/get/object`: `objname` or `objid`, `photometry`/`spectra` `"0"`/`"1"`.
//! - `api/set/bulk-report`: `at_report` / `classification_report`, queued; `report_id` back.
//!   The report takes effect when processed, `report_delay` later (until then no search or
//!   object read shows it).
//!   `api/get/bulk-report-reply` with the form field `report_id`: 404 until processed, then
//!   `feedback.<kind>[0]` with `"100"`/`"101"` (`objname`) or field errors (HTTP 400).
//! - `system/files/tns_public_objects/tns_public_objects.csv.zip` (all objects),
//!   `..._YYYYMMDD.csv.zip` (changed that day), `..._HH.csv.zip` (changed that hour today):
//!   zipped CSV, first line the stamp, second the 21 documented columns.
//! - `system/files/uploaded/sandbox/<file>`: a spectrum's ASCII file.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde_json::{Map, Value, json};

use crate::config::{TnsEnvelope, WindowLimit};
use crate::middleware::canned;
use crate::sky::{flux_to_mag, round};
use crate::state::Shared;
use crate::util::{Pairs, jf};

/// One object of the emulated TNS.
#[derive(Debug, Clone)]
struct TnsObj {
    objid: u64,
    prefix: &'static str,
    name: String,
    ra: f64,
    dec: f64,
    redshift: Option<f64>,
    type_id: Option<u64>,
    type_name: Option<String>,
    internal_names: Vec<String>,
    discovery: DateTime<Utc>,
    discoverymag: Option<f64>,
    modified: DateTime<Utc>,
    sky_index: Option<usize>,
    reporting_group: (u64, &'static str),
}

/// A report in the queue: taken in at once, its effect applied (and its feedback written)
/// only when it is processed, `ready_at`, as the real TNS processes bulk reports in a queue.
#[derive(Debug)]
struct Queued {
    kind: &'static str,
    ready_at: Duration,
    /// The submitted entry (`data.<kind>["0"]`).
    submitted: Value,
    /// Once processed: the reply's status and feedback entry.
    outcome: Option<(u16, Value)>,
}

#[derive(Debug, Default)]
struct TnsState {
    objects: Vec<TnsObj>,
    reports: HashMap<u64, Queued>,
    next_report: u64,
    next_objid: u64,
    created: u64,
    windows: HashMap<(String, &'static str), (Duration, usize)>,
}

#[derive(Clone)]
struct Tns {
    shared: Arc<Shared>,
    state: Arc<Mutex<TnsState>>,
}

impl Tns {
    /// The state, with every report due by now processed first (in the order received), so
    /// whatever a request reads shows exactly the reports TNS has processed.
    fn state(&self) -> std::sync::MutexGuard<'_, TnsState> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.shared.clock.now();
        st.process_due(now, self.shared.clock.wall(now));
        st
    }
}

impl TnsState {
    /// Processes the queued reports whose time has come, oldest first.
    fn process_due(&mut self, now: Duration, wall: DateTime<Utc>) {
        let mut due: Vec<u64> =
            self.reports.iter().filter(|(_, q)| q.outcome.is_none() && q.ready_at <= now).map(|(id, _)| *id).collect();
        due.sort_unstable();
        for id in due {
            let Some((kind, entry)) = self.reports.get(&id).map(|q| (q.kind, q.submitted.clone())) else { continue };
            let (status, feedback) = self.apply_report(kind, &entry, wall);
            let mut fb = feedback.as_object().cloned().unwrap_or_default();
            fb.insert("at_rep".into(), json!({"0": "received"}));
            if let Some(q) = self.reports.get_mut(&id) {
                q.outcome = Some((status, Value::Object(fb)));
            }
        }
    }
}

fn wall_of_mjd(mjd: f64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(((mjd - 40587.0) * 86_400_000.0) as i64).unwrap_or_default()
}

fn type_of(kind: &str) -> Option<(u64, &'static str)> {
    // Synthetic ids: the sandbox's own table (the real ids come from TNS's values page).
    match kind {
        "SNIa" => Some((3, "SN Ia")),
        "SNIbc" => Some((4, "SN Ib/c")),
        "SNII" => Some((10, "SN II")),
        "SLSN" => Some((18, "SLSN-I")),
        "TDE" => Some((120, "TDE")),
        _ => None,
    }
}

fn type_name_of(id: u64) -> String {
    match id {
        1 => "SN".into(),
        3 => "SN Ia".into(),
        4 => "SN Ib/c".into(),
        10 => "SN II".into(),
        18 => "SLSN-I".into(),
        120 => "TDE".into(),
        other => format!("type {other}"),
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut st = TnsState { next_report: 100_001, next_objid: 200_000, ..Default::default() };
    for o in &shared.sky.objects {
        let Some(name) = &o.tns_name else { continue };
        let classified = o.kind.is_sn() && o.redshift.is_some();
        let ty = if classified { type_of(o.kind.class_name()) } else { None };
        let mut internal = Vec::new();
        if let Some(z) = &o.ztf_oid {
            internal.push(z.clone());
        }
        internal.push(o.atlas_designation.clone());
        if let Some(l) = o.lsst_oid {
            internal.push(format!("LSST-P-DO-{l}"));
        }
        let discovery = wall_of_mjd(o.peak_mjd - o.rise * 2.0);
        st.objects.push(TnsObj {
            objid: 100_000 + o.index as u64,
            prefix: if ty.is_some() { "SN" } else { "AT" },
            name: name.clone(),
            ra: o.ra,
            dec: o.dec,
            redshift: if classified { o.redshift } else { None },
            type_id: ty.map(|t| t.0),
            type_name: ty.map(|t| t.1.to_string()),
            internal_names: internal,
            discovery,
            discoverymag: Some(round(o.peak_mag + 0.8, 2)),
            modified: discovery + chrono::Duration::days(if classified { 12 } else { 1 }),
            sky_index: Some(o.index),
            reporting_group: (18, "ATLAS"),
        });
    }
    let tns = Tns { shared, state: Arc::new(Mutex::new(st)) };
    Router::new()
        .route("/api/get/search", post(search))
        .route("/api/get/object", post(object))
        .route("/api/set/bulk-report", post(bulk_report))
        .route("/api/get/bulk-report-reply", post(bulk_report_reply))
        .route("/system/files/tns_public_objects/{file}", post(staged))
        .route("/system/files/uploaded/sandbox/{file}", post(uploaded))
        .fallback(|| async { canned::apache_html(404) })
        .with_state(tns)
}

/// The API's 429 (also used by the sandbox's scripted throttle fault).
pub(crate) fn throttled(reset_secs: u64) -> Response {
    let mut r = canned::json(429, json!({"id_code": 429, "id_message": "Too Many Requests"}));
    let h = r.headers_mut();
    h.insert("x-rate-limit-limit", HeaderValue::from(90u64));
    h.insert("x-rate-limit-remaining", HeaderValue::from(0u64));
    h.insert("x-rate-limit-reset", HeaderValue::from(reset_secs));
    r
}

fn api_error(status: u16, message: &str) -> Response {
    canned::json(status, json!({"id_code": status, "id_message": message}))
}

fn ok(tns: &Tns, data: Value) -> Response {
    let data = match tns.shared.config.tns.envelope {
        TnsEnvelope::Current => data,
        TnsEnvelope::Reply => json!({"reply": data}),
    };
    canned::json(200, json!({"id_code": 200, "id_message": "OK", "data": data}))
}

/// Checks the marker and the key; returns the form pairs.
fn gate(tns: &Tns, h: &HeaderMap, body: &[u8]) -> Result<Pairs, Response> {
    let creds = &tns.shared.creds.tns;
    let ua = h.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let marker_ok =
        ua.strip_prefix("tns_marker").and_then(|j| serde_json::from_str::<Value>(j).ok()).is_some_and(|m| {
            let id =
                m.get("tns_id").and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
            id == Some(creds.bot_id)
                && m.get("type").and_then(Value::as_str) == Some("bot")
                && m.get("name").and_then(Value::as_str) == Some(creds.bot_name.as_str())
        });
    if !marker_ok {
        return Err(canned::apache_html(403));
    }
    let form = Pairs::parse(body);
    if form.first("api_key") != Some(creds.api_key.as_str()) {
        return Err(api_error(401, "Unauthorized"));
    }
    Ok(form)
}

/// Draws one request from a quota window; `Err` when it is used up. Returns the headers.
fn draw(tns: &Tns, key: &str, family: &'static str, limit: Option<WindowLimit>) -> (bool, [(String, String); 3]) {
    let prefix = if family == "cone" { "x-cone-rate-limit" } else { "x-rate-limit" };
    let now = tns.shared.clock.now();
    let (max, window) = match limit {
        Some(l) => (l.limit, l.window),
        None => (1_000_000, Duration::from_secs(60)),
    };
    let mut st = tns.state();
    let w = st.windows.entry((key.to_string(), family)).or_insert((now, 0));
    if now >= w.0 + window {
        *w = (now, 0);
    }
    let allowed = w.1 < max;
    if allowed {
        w.1 += 1;
    }
    let remaining = max.saturating_sub(w.1);
    let reset = (w.0 + window).saturating_sub(now).as_secs_f64().ceil() as u64;
    (
        allowed,
        [
            (format!("{prefix}-limit"), max.to_string()),
            (format!("{prefix}-remaining"), remaining.to_string()),
            (format!("{prefix}-reset"), reset.to_string()),
        ],
    )
}

fn with_headers(mut r: Response, hs: &[(String, String)]) -> Response {
    for (k, v) in hs {
        if let (Ok(name), Ok(val)) = (header::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            r.headers_mut().insert(name, val);
        }
    }
    r
}

/// Runs the quota checks for a read; `Err` is the 429.
fn quotas(tns: &Tns, key: &str, cone: bool) -> Result<Vec<(String, String)>, Response> {
    let cfg = &tns.shared.config.tns;
    let (ok_general, mut hs) = {
        let (a, h) = draw(tns, key, "general", cfg.general);
        (a, h.to_vec())
    };
    let mut allowed = ok_general;
    if cone {
        let (a, h) = draw(tns, key, "cone", cfg.cone);
        allowed &= a;
        hs.extend(h);
    }
    if allowed { Ok(hs) } else { Err(with_headers(api_error(429, "Too Many Requests"), &hs)) }
}

fn data_of(form: &Pairs) -> Result<Map<String, Value>, Response> {
    match form.first("data") {
        None => Ok(Map::new()),
        Some(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(api_error(400, "Bad request")),
        },
    }
}

fn field(d: &Map<String, Value>, k: &str) -> Option<String> {
    match d.get(k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn flag(d: &Map<String, Value>, k: &str) -> bool {
    field(d, k).is_some_and(|v| v == "1")
}

/// Degrees from sexagesimal (`hh:mm:ss` for RA) or a decimal.
fn parse_angle(s: &str, hours: bool) -> Option<f64> {
    let t = s.trim();
    if !t.contains(':') {
        return t.parse().ok();
    }
    let neg = t.starts_with('-');
    let parts: Vec<f64> =
        t.trim_start_matches(['+', '-']).split(':').map(|p| p.trim().parse().ok()).collect::<Option<_>>()?;
    let v = parts.first()? + parts.get(1).unwrap_or(&0.0) / 60.0 + parts.get(2).unwrap_or(&0.0) / 3600.0;
    let v = if hours { v * 15.0 } else { v };
    Some(if neg { -v } else { v })
}

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim().replace('T', " ");
    let t = t.trim_end_matches('Z');
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(t, f) {
            return Some(d.and_utc());
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(t, f) {
            return d.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        }
    }
    None
}

fn bare_name(s: &str) -> String {
    let t = s.trim();
    let t = t.trim_start_matches(|c: char| c.is_ascii_alphabetic()).trim_start_matches([' ', '_', '-']);
    t.to_string()
}

async fn search(State(tns): State<Tns>, h: HeaderMap, body: Bytes) -> Response {
    let form = match gate(&tns, &h, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let d = match data_of(&form) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let cone = field(&d, "ra").is_some() || field(&d, "dec").is_some();
    let hs = match quotas(&tns, form.first("api_key").unwrap_or(""), cone) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let pos = if cone {
        let (Some(ra), Some(dec)) = (
            field(&d, "ra").and_then(|r| parse_angle(&r, true)),
            field(&d, "dec").and_then(|v| parse_angle(&v, false)),
        ) else {
            return with_headers(api_error(400, "Bad request"), &hs);
        };
        let r: f64 = field(&d, "radius").and_then(|r| r.parse().ok()).unwrap_or(5.0);
        let scale = match field(&d, "units").as_deref() {
            Some("arcmin") => 60.0,
            Some("deg") => 3600.0,
            _ => 1.0,
        };
        Some((ra, dec, r * scale))
    } else {
        None
    };
    let objname = field(&d, "objname").map(|n| bare_name(&n));
    let internal = field(&d, "internal_name");
    let objid = field(&d, "objid").and_then(|v| v.parse::<u64>().ok());
    let since = field(&d, "public_timestamp").and_then(|t| parse_ts(&t));
    let st = tns.state();
    let hits: Vec<Value> = st
        .objects
        .iter()
        .filter(|o| match &objname {
            Some(n) if flag(&d, "objname_exact_match") => o.name.eq_ignore_ascii_case(n),
            Some(n) => o.name.to_ascii_lowercase().starts_with(&n.to_ascii_lowercase()),
            None => true,
        })
        .filter(|o| match &internal {
            Some(n) if flag(&d, "internal_name_exact_match") => o.internal_names.iter().any(|i| i == n),
            Some(n) => o.internal_names.iter().any(|i| i.to_ascii_lowercase().contains(&n.to_ascii_lowercase())),
            None => true,
        })
        .filter(|o| objid.is_none_or(|id| o.objid == id))
        .filter(|o| since.is_none_or(|t| o.modified >= t))
        .filter(|o| pos.is_none_or(|(ra, dec, r)| crate::sky::separation_arcsec(ra, dec, o.ra, o.dec) <= r))
        .map(|o| json!({"objname": o.name, "prefix": o.prefix, "objid": o.objid}))
        .collect();
    drop(st);
    with_headers(ok(&tns, Value::Array(hits)), &hs)
}

fn fmt_ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

fn sexa(v: f64, hours: bool) -> String {
    let sign = if v < 0.0 {
        "-"
    } else if hours {
        ""
    } else {
        "+"
    };
    let x = if hours { v / 15.0 } else { v.abs() };
    let a = x.trunc();
    let m = ((x - a) * 60.0).trunc();
    let s = ((x - a) * 60.0 - m) * 60.0;
    if hours { format!("{sign}{a:02}:{m:02}:{s:06.3}") } else { format!("{sign}{a:02}:{m:02}:{s:05.2}") }
}

fn object_json(tns: &Tns, o: &TnsObj, phot: bool, spec: bool) -> Value {
    let mut v = json!({
        "objname": o.name, "name_prefix": o.prefix, "objid": o.objid,
        "ra": sexa(o.ra, true), "dec": sexa(o.dec, false), "radeg": jf(round(o.ra, 8)), "decdeg": jf(round(o.dec, 8)),
        "object_type": {"name": o.type_name, "id": o.type_id},
        "redshift": o.redshift, "hostname": null, "host_redshift": null,
        "discoverydate": fmt_ts(o.discovery), "discoverymag": o.discoverymag,
        "discmagfilter": {"id": 72, "name": "orange", "family": "ATLAS"},
        "internal_names": o.internal_names.join(", "),
        "reporting_group": {"groupid": o.reporting_group.0, "group_name": o.reporting_group.1},
        "discovery_data_source": {"groupid": o.reporting_group.0, "group_name": o.reporting_group.1},
        "public": 1, "source": "bot",
    });
    let sky_obj = o.sky_index.and_then(|i| tns.shared.sky.objects.get(i));
    if phot {
        let mut rows = Vec::new();
        if let Some(so) = sky_obj {
            // The discovery photometry from the object's model: the last limit before
            // discovery, then three orange-band detections (no noise).
            let disc = crate::clock::mjd_of(o.discovery);
            let filt = json!({"id": 72, "name": "orange"});
            let inst = json!({"id": 159, "name": "ATLAS1 - acam1"});
            rows.push(json!({"jd": jf(round(disc - 3.0 + 2_400_000.5, 5)), "flux": "", "fluxerr": "", "limflux": 19.5,
                "flux_unit": {"id": 1, "name": "ABMag"}, "filters": filt, "instrument": inst}));
            for k in 0..3 {
                let mjd = disc + 3.0 * k as f64;
                let (f, _) = crate::sky::Sky::model_flux(so, "o", mjd);
                if f > 0.0 {
                    rows.push(json!({"jd": jf(round(mjd + 2_400_000.5, 5)), "flux": jf(round(flux_to_mag(f), 3)), "fluxerr": 0.05, "limflux": "",
                        "flux_unit": {"id": 1, "name": "ABMag"}, "filters": filt, "instrument": inst}));
                }
            }
        }
        v["photometry"] = Value::Array(rows);
    }
    if spec {
        let mut rows = Vec::new();
        if o.type_id.is_some() {
            let url = format!(
                "{}system/files/uploaded/sandbox/tns_{}_spectrum.txt",
                tns.shared.origin(crate::config::Service::Tns) + "/",
                o.name
            );
            rows.push(json!({"jd": jf(round(crate::clock::mjd_of(o.modified) + 2_400_000.5 - 1.0, 5)), "asciifile": url, "fitsfile": "",
                "instrument": {"id": 149, "name": "P60 - SEDM"}, "observer": "Robot", "reducer": "Robot"}));
        }
        v["spectra"] = Value::Array(rows);
    }
    v
}

async fn object(State(tns): State<Tns>, h: HeaderMap, body: Bytes) -> Response {
    let form = match gate(&tns, &h, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let d = match data_of(&form) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let hs = match quotas(&tns, form.first("api_key").unwrap_or(""), false) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let name = field(&d, "objname").map(|n| bare_name(&n));
    let objid = field(&d, "objid").and_then(|v| v.parse::<u64>().ok());
    let found = {
        let st = tns.state();
        st.objects
            .iter()
            .find(|o| {
                name.as_ref().is_some_and(|n| o.name.eq_ignore_ascii_case(n)) || objid.is_some_and(|i| o.objid == i)
            })
            .cloned()
    };
    let data = match found {
        Some(o) => object_json(&tns, &o, flag(&d, "photometry"), flag(&d, "spectra")),
        None => json!({}),
    };
    with_headers(ok(&tns, data), &hs)
}

fn letters_of(mut n: u64) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    while s.len() < 3 {
        s.push(b'a');
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn fe(msg: &str) -> Value {
    json!([{"message": msg, "message_id": 300}])
}

async fn bulk_report(State(tns): State<Tns>, h: HeaderMap, body: Bytes) -> Response {
    let form = match gate(&tns, &h, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let d = match data_of(&form) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let now = tns.shared.clock.now();
    let ready_at = now + tns.shared.config.tns.report_delay;
    let mut st = tns.state();
    let (kind, entry) = if let Some(e) = d.get("at_report").and_then(|r| r.get("0")) {
        ("at_report", e.clone())
    } else if let Some(e) = d.get("classification_report").and_then(|r| r.get("0")) {
        ("classification_report", e.clone())
    } else {
        return api_error(400, "Bad request");
    };
    let id = st.next_report;
    st.next_report += 1;
    st.reports.insert(id, Queued { kind, ready_at, submitted: entry, outcome: None });
    drop(st);
    ok(&tns, json!({"report_id": id.to_string()}))
}

impl TnsState {
    /// A report's effect and feedback, as TNS gives them when it processes the report: an AT
    /// report creates the object (100) or adds to the one with its internal name (101), a
    /// classification report sets the type (101); field errors give 400.
    fn apply_report(&mut self, kind: &str, entry: &Value, wall: DateTime<Utc>) -> (u16, Value) {
        if kind == "at_report" {
            let mut errs = Map::new();
            let deg = |k: &str| {
                entry
                    .get(k)
                    .and_then(|v| v.get("value"))
                    .and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_f64().map(|f| f.to_string())))
            };
            let ra = deg("ra").and_then(|v| parse_angle(&v, v.contains(':')));
            let dec = deg("dec").and_then(|v| parse_angle(&v, false));
            if ra.is_none_or(|r| !(0.0..360.0).contains(&r)) {
                errs.insert("ra".into(), fe("RA is missing or out of range"));
            }
            if dec.is_none_or(|d| !(-90.0..=90.0).contains(&d)) {
                errs.insert("dec".into(), fe("Dec is missing or out of range"));
            }
            let internal = entry.get("internal_name").and_then(Value::as_str).map(str::trim).unwrap_or("").to_string();
            if internal.is_empty() {
                errs.insert("internal_name".into(), fe("Internal name is required"));
            }
            for k in ["reporter", "discovery_datetime", "reporting_group_id"] {
                if entry.get(k).is_none_or(|v| v.is_null() || v.as_str() == Some("")) {
                    errs.insert(k.into(), fe(&format!("{k} is required")));
                }
            }
            if !errs.is_empty() {
                (400, Value::Object(errs))
            } else if let Some(o) = self.objects.iter_mut().find(|o| o.internal_names.contains(&internal)) {
                o.modified = wall;
                (
                    200,
                    json!({"101": {"message": "The object already exists; the report was added.", "objname": o.name, "message_id": 101}}),
                )
            } else {
                let name = format!("{}{}", wall.year(), letters_of(self.created + 18_278));
                self.created += 1;
                let objid = self.next_objid;
                self.next_objid += 1;
                self.objects.push(TnsObj {
                    objid,
                    prefix: "AT",
                    name: name.clone(),
                    ra: ra.unwrap_or_default(),
                    dec: dec.unwrap_or_default(),
                    redshift: None,
                    type_id: None,
                    type_name: None,
                    internal_names: vec![internal],
                    discovery: entry
                        .get("discovery_datetime")
                        .and_then(Value::as_str)
                        .and_then(parse_ts)
                        .unwrap_or(wall),
                    discoverymag: None,
                    modified: wall,
                    sky_index: None,
                    reporting_group: (0, "None"),
                });
                (200, json!({"100": {"message": "Transient object was inserted.", "objname": name, "message_id": 100}}))
            }
        } else {
            let name = entry.get("name").and_then(Value::as_str).map(bare_name).unwrap_or_default();
            let type_id = entry
                .get("objtypeid")
                .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
            match (self.objects.iter_mut().find(|o| o.name.eq_ignore_ascii_case(&name)), type_id) {
                (Some(o), Some(t)) => {
                    o.type_id = Some(t);
                    o.type_name = Some(type_name_of(t));
                    o.prefix = "SN";
                    o.modified = wall;
                    if let Some(z) = entry
                        .get("redshift")
                        .and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                    {
                        o.redshift = Some(z);
                    }
                    (
                        200,
                        json!({"101": {"message": "Classification report was added.", "objname": o.name, "message_id": 101}}),
                    )
                }
                (None, _) => (400, json!({"name": fe("No such object")})),
                (_, None) => (400, json!({"objtypeid": fe("objtypeid is required")})),
            }
        }
    }
}

async fn bulk_report_reply(State(tns): State<Tns>, h: HeaderMap, body: Bytes) -> Response {
    let form = match gate(&tns, &h, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(id) = form.first("report_id").and_then(|s| s.trim().parse::<u64>().ok()) else {
        return api_error(400, "Bad request");
    };
    let st = tns.state();
    match st.reports.get(&id) {
        Some(Queued { kind, outcome: Some((status, entry)), .. }) => {
            let message = if *status == 200 { "OK" } else { "Bad request" };
            let body =
                json!({"id_code": status, "id_message": message, "data": {"feedback": {*kind: [entry.clone()]}}});
            canned::json(*status, body)
        }
        _ => api_error(404, "Report id not found"),
    }
}

const STAGE_COLUMNS: &str = "\"objid\",\"name_prefix\",\"name\",\"ra\",\"declination\",\"redshift\",\"typeid\",\"type\",\"reporting_groupid\",\"reporting_group\",\"source_groupid\",\"source_group\",\"discoverydate\",\"discoverymag\",\"discmagfilter\",\"filter\",\"reporters\",\"time_received\",\"internal_names\",\"creationdate\",\"lastmodified\"";

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn csv_row(o: &TnsObj) -> String {
    let opt = |v: Option<String>| v.unwrap_or_default();
    [
        o.objid.to_string(),
        o.prefix.to_string(),
        o.name.clone(),
        format!("{:.8}", o.ra),
        format!("{:.8}", o.dec),
        opt(o.redshift.map(|z| z.to_string())),
        opt(o.type_id.map(|t| t.to_string())),
        opt(o.type_name.clone()),
        o.reporting_group.0.to_string(),
        o.reporting_group.1.to_string(),
        o.reporting_group.0.to_string(),
        o.reporting_group.1.to_string(),
        fmt_ts(o.discovery),
        opt(o.discoverymag.map(|m| m.to_string())),
        "72".into(),
        "orange".into(),
        "Sandbox Survey".into(),
        fmt_ts(o.discovery + chrono::Duration::hours(2)),
        o.internal_names.join(", "),
        fmt_ts(o.discovery + chrono::Duration::hours(2)),
        fmt_ts(o.modified),
    ]
    .iter()
    .map(|s| q(s))
    .collect::<Vec<_>>()
    .join(",")
}

fn zip_bytes(name: &str, text: &str) -> Option<Vec<u8>> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        z.start_file(name, opts).ok()?;
        z.write_all(text.as_bytes()).ok()?;
        z.finish().ok()?;
    }
    Some(buf.into_inner())
}

async fn staged(State(tns): State<Tns>, Path(file): Path<String>, h: HeaderMap, body: Bytes) -> Response {
    let form = match gate(&tns, &h, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let hs = match quotas(&tns, form.first("api_key").unwrap_or(""), false) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let now = tns.shared.clock.wall(tns.shared.clock.now());
    let Some(stem) = file.strip_suffix(".csv.zip") else { return canned::apache_html(404) };
    let st = tns.state();
    let (stamp, rows): (String, Vec<&TnsObj>) = if stem == "tns_public_objects" {
        let t = now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
        (t.format("%Y-%m-%d %H:%M:%S").to_string(), st.objects.iter().collect())
    } else if let Some(tag) = stem.strip_prefix("tns_public_objects_") {
        if tag.len() == 8 {
            let Ok(day) = chrono::NaiveDate::parse_from_str(tag, "%Y%m%d") else { return canned::apache_html(404) };
            (
                format!("{} 00:00:00 - 23:59:59", day.format("%Y-%m-%d")),
                st.objects.iter().filter(|o| o.modified.date_naive() == day).collect(),
            )
        } else if tag.len() == 2 {
            let Ok(hour) = tag.parse::<u32>() else { return canned::apache_html(404) };
            let day = now.date_naive();
            (
                format!("{} {hour:02}:00:00 - {hour:02}:59:59", day.format("%Y-%m-%d")),
                st.objects.iter().filter(|o| o.modified.date_naive() == day && o.modified.hour() == hour).collect(),
            )
        } else {
            return canned::apache_html(404);
        }
    } else {
        return canned::apache_html(404);
    };
    let mut text = format!("{}\n{STAGE_COLUMNS}\n", q(&stamp));
    for o in rows {
        text.push_str(&csv_row(o));
        text.push('\n');
    }
    drop(st);
    match zip_bytes(&format!("{stem}.csv"), &text) {
        Some(z) => with_headers(([(header::CONTENT_TYPE, "application/zip")], z).into_response(), &hs),
        None => canned::apache_html(500),
    }
}

async fn uploaded(State(tns): State<Tns>, Path(file): Path<String>, h: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = gate(&tns, &h, &body) {
        return r;
    }
    let name = file.strip_prefix("tns_").and_then(|f| f.strip_suffix("_spectrum.txt")).unwrap_or("");
    let st = tns.state();
    let Some(o) = st.objects.iter().find(|o| o.name == name && o.type_id.is_some()) else {
        return canned::apache_html(404);
    };
    let z = o.redshift.unwrap_or(0.0);
    let mut text = String::from("# wavelength flux\n");
    for i in 0..200 {
        let w = 3800.0 + i as f64 * 30.0;
        let line = (-((w - 6563.0 * (1.0 + z)) / 60.0).powi(2)).exp();
        text.push_str(&format!("{w:.1} {:.5e}\n", 1e-16 * (1.0 + 0.5 * line) * (5000.0 / w)));
    }
    canned::text(200, "text/plain", text)
}
