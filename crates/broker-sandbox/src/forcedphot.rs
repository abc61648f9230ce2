//! ATLAS forced-photometry server (fallingstar-data.com/forcedphot) emulator.

use crate::clock::{iso_z, mjd_of};
use crate::config::Service;
use crate::middleware::canned::{self, json};
use crate::rng::seed_of;
use crate::sky::{SkyObject, Survey, flux_to_mag};
use crate::state::Shared;
use crate::throttle::SlidingWindow;
use crate::util::{Pairs, header, is_json, jf};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FIRST_TASK_ID: u64 = 4_270_001;
const MATCH_RADIUS_ARCSEC: f64 = 2.0;

#[derive(Debug, Clone)]
struct Task {
    id: u64,
    user: usize,
    submitted: Duration,
    ra: Option<f64>,
    dec: Option<f64>,
    mpc_name: Option<String>,
    mjd_min: Option<f64>,
    mjd_max: Option<f64>,
    radec_epoch_year: Option<f64>,
    pm_ra: Option<f64>,
    pm_dec: Option<f64>,
    use_reduced: bool,
    send_email: bool,
    comment: Option<String>,
    callback_url: Option<String>,
    start_at: Duration,
    finish_at: Duration,
    archived_at: Option<Duration>,
    queued_on_submit: usize,
    /// Result text, computed when first needed after finishing (None: header only).
    result: Option<Option<String>>,
}

#[derive(Debug)]
struct FpState {
    tasks: BTreeMap<u64, Task>,
    next_id: u64,
    busy_until: [Duration; 2],
}

#[derive(Clone)]
struct Fp {
    shared: Arc<Shared>,
    state: Arc<Mutex<FpState>>,
    writes: Arc<SlidingWindow>,
    reads: Arc<SlidingWindow>,
}

impl Fp {
    fn lock(&self) -> std::sync::MutexGuard<'_, FpState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn users(&self) -> [(&str, &str, &str); 2] {
        let c = &self.shared.creds.forcedphot;
        [(&c.username, &c.password, &c.token), (&c.other_username, &c.other_password, &c.other_token)]
    }
    fn base(&self) -> String {
        format!("{}/forcedphot", self.shared.origin(Service::ForcedPhot))
    }
}

enum Auth {
    User(usize),
    Anonymous,
    Fail(Response),
}

fn unauthorized(detail: &str) -> Response {
    let mut r = json(401, json!({"detail": detail}));
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"api\""));
    r
}

fn authenticate(fp: &Fp, h: &HeaderMap) -> Auth {
    let Some(value) = header(h, header::AUTHORIZATION) else { return Auth::Anonymous };
    let mut it = value.splitn(2, ' ');
    let scheme = it.next().unwrap_or("");
    let cred = it.next().unwrap_or("").trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded =
            base64::engine::general_purpose::STANDARD.decode(cred).ok().and_then(|b| String::from_utf8(b).ok());
        let Some((u, p)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return Auth::Fail(unauthorized("Invalid basic header. Credentials not correctly base64 encoded."));
        };
        return match fp.users().iter().position(|(un, pw, _)| *un == u && *pw == p) {
            Some(i) => Auth::User(i),
            None => Auth::Fail(unauthorized("Invalid username/password.")),
        };
    }
    if scheme.eq_ignore_ascii_case("token") {
        if cred.is_empty() {
            return Auth::Fail(unauthorized("Invalid token header. No credentials provided."));
        }
        return match fp.users().iter().position(|(_, _, t)| *t == cred) {
            Some(i) => Auth::User(i),
            None => Auth::Fail(unauthorized("Invalid token.")),
        };
    }
    Auth::Anonymous
}

/// Request body fields from a form or JSON body.
#[derive(Debug, Default)]
struct Fields {
    map: BTreeMap<String, Value>,
    json: bool,
}

impl Fields {
    fn parse(h: &HeaderMap, body: &[u8]) -> Result<Fields, Response> {
        if is_json(h) {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => Ok(Fields { map: m.into_iter().collect(), json: true }),
                Ok(_) => {
                    Err(json(400, json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})))
                }
                Err(e) => Err(json(400, json!({"detail": format!("JSON parse error - {e}")}))),
            }
        } else {
            let mut map = BTreeMap::new();
            for (k, v) in Pairs::parse(body).0 {
                map.insert(k, Value::String(v));
            }
            Ok(Fields { map, json: false })
        }
    }
    fn str(&self, k: &str) -> Option<String> {
        match self.map.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            v => Some(v.to_string()),
        }
    }
    /// Float field: Ok(None) when absent or null/blank.
    fn float(&self, k: &str, errors: &mut BTreeMap<String, Value>) -> Option<f64> {
        let v = self.map.get(k)?;
        let parsed = match v {
            Value::Null => return None,
            Value::Number(n) => n.as_f64(),
            Value::String(s) if s.trim().is_empty() => return None,
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match parsed {
            Some(x) if x.is_finite() => Some(x),
            Some(_) => {
                errors.insert(k.into(), json!([format!("\"{k}\" must be a finite floating-point number.")]));
                None
            }
            None => {
                errors.insert(k.into(), json!(["A valid number is required."]));
                None
            }
        }
    }
    /// Boolean: form posts read an omitted boolean as false; JSON uses the model default.
    fn boolean(&self, k: &str, default: bool) -> bool {
        match self.map.get(k) {
            None => {
                if self.json {
                    default
                } else {
                    false
                }
            }
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => crate::util::parse_bool(s).unwrap_or(false),
            Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0) != 0.0,
            _ => default,
        }
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let fp = Fp {
        shared,
        state: Arc::new(Mutex::new(FpState {
            tasks: BTreeMap::new(),
            next_id: FIRST_TASK_ID,
            busy_until: [Duration::ZERO; 2],
        })),
        writes: Arc::new(SlidingWindow::default()),
        reads: Arc::new(SlidingWindow::default()),
    };
    let inner = Router::new()
        .route("/api-token-auth/", post(token_auth))
        .route("/queue/", get(list).post(create))
        .route("/queue/{id}/", any(task))
        .route("/queue/{id}/data.txt", get(data_txt))
        .route("/static/results/{file}", get(static_result))
        .route("/queuepositions.json", get(queue_positions))
        .fallback(fallback)
        .with_state(fp.clone());
    Router::new().nest("/forcedphot", inner).fallback(fallback_root)
}

async fn fallback_root() -> Response {
    canned::apache_html(404)
}

async fn fallback(uri: Uri) -> Response {
    let path = uri.path();
    if !path.ends_with('/') && !path.contains('.') {
        // Django APPEND_SLASH redirect.
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
    canned::text(
        404,
        "text/html",
        "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>".into(),
    )
}

async fn token_auth(State(fp): State<Fp>, h: HeaderMap, body: Bytes) -> Response {
    let f = match Fields::parse(&h, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (Some(u), Some(p)) = (f.str("username").filter(|s| !s.is_empty()), f.str("password").filter(|s| !s.is_empty()))
    else {
        return json(400, json!({"non_field_errors": ["Must include \"username\" and \"password\"."]}));
    };
    match fp.users().iter().find(|(un, pw, _)| *un == u && *pw == p) {
        Some((_, _, t)) => json(200, json!({"token": t})),
        None => json(400, json!({"non_field_errors": ["Unable to log in with provided credentials."]})),
    }
}

/// Hard-deletes expired tasks (the hourly retention sweep, applied lazily).
fn sweep(fp: &Fp, st: &mut FpState, now: Duration) {
    let q = &fp.shared.config.queue;
    st.tasks.retain(|_, t| {
        if now < t.finish_at {
            return true;
        }
        let age = now - t.finish_at;
        if t.archived_at.is_some() && age >= q.archived_ttl {
            return false;
        }
        age < q.result_ttl
    });
}

fn throttle_write(fp: &Fp, user: usize) -> Option<Response> {
    let limit = fp.shared.config.limits.forcedphot_writes?;
    fp.writes.check(&limit, &format!("user{user}"), fp.shared.clock.now()).err().map(canned::drf_throttled)
}

fn throttle_read(fp: &Fp, key: &str) -> Option<Response> {
    let limit = fp.shared.config.limits.forcedphot_reads?;
    fp.reads.check(&limit, key, fp.shared.clock.now()).err().map(canned::drf_throttled)
}

fn read_key(auth: &Auth) -> String {
    match auth {
        Auth::User(u) => format!("user{u}"),
        _ => "anon-127.0.0.1".into(),
    }
}

/// The result table of a finished task (None when no rows: "No data returned").
fn compute_result(fp: &Fp, t: &Task) -> Option<String> {
    let (ra, dec) = (t.ra?, t.dec?);
    let sky = &fp.shared.sky;
    let matched: Option<&SkyObject> = sky.cone(ra, dec, MATCH_RADIUS_ARCSEC).first().map(|x| x.0);
    let seed = matched
        .map(|o| o.seed)
        .unwrap_or_else(|| seed_of(&[sky.seed, (ra * 3600.0).round() as u64, (dec * 3600.0 + 1e6).round() as u64]));
    let pts = sky.measure(matched, seed, ra, dec, Survey::Atlas);
    let lo = t.mjd_min.unwrap_or(f64::MIN);
    let hi = t.mjd_max.unwrap_or(f64::MAX);
    let rows: Vec<_> = pts.iter().filter(|p| p.mjd >= lo && p.mjd <= hi).collect();
    if rows.is_empty() {
        return None;
    }
    let pa_deg = fp.shared.config.forcedphot_pa_deg;
    let mut s = String::from(if pa_deg {
        "###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  apfit mag5sig PA_DEG Sky   Obs\n"
    } else {
        "###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  apfit mag5sig Sky   Obs\n"
    });
    for p in rows {
        let flux = if t.use_reduced { p.flux + p.ref_flux } else { p.flux };
        let ujy = flux.round() as i64;
        let dujy = p.flux_err.round().max(1.0) as i64;
        let m = if flux >= 0.0 { flux_to_mag(flux) } else { -flux_to_mag(flux) };
        let dm = (1.0857 * p.flux_err / flux.abs().max(1e-3)).min(9.999);
        let a = p.aux;
        let x = 100.0 + (a % 1_026_000) as f64 / 100.0;
        let y = 100.0 + ((a >> 20) % 1_026_000) as f64 / 100.0;
        let maj = 1.8 + ((a >> 40) % 80) as f64 / 100.0;
        let min = maj - ((a >> 48) % 20) as f64 / 100.0;
        let phi = ((a >> 8) % 1800) as f64 / 10.0 - 90.0;
        let chi = 0.6 + ((a >> 12) % 400) as f64 / 100.0 + (flux.abs() / 2000.0);
        let sky_mag = 19.8 + ((a >> 30) % 150) as f64 / 100.0;
        let unit = ["01a", "02a", "03a", "04a"][(a % 4) as usize];
        let obs = format!("{unit}{}o{:04}{}", p.night, p.seq % 10000, p.band);
        // PA_DEG: angle between North and the detector Y axis, near 0 or 180 depending on the unit.
        let pa_col = if pa_deg {
            let pa = if a % 4 < 2 { 0.0 } else { 180.0 } + ((a >> 44) % 200) as f64 / 100.0 - 1.0;
            format!(" {pa:>6.2}")
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "{:.6} {:>7.3} {:>6.3} {:>5} {:>4} {} {:>2} {:>6.2} {:>9.5} {:>9.5} {:>8.2} {:>8.2} {:.2} {:.2} {:>5.1} {:>6.3} {:>5.2}{} {:>5.2} {}",
            p.mjd,
            m,
            dm,
            ujy,
            dujy,
            p.band,
            0,
            chi,
            ra,
            dec,
            x,
            y,
            maj,
            min,
            phi,
            -0.35 - ((a >> 52) % 10) as f64 / 100.0,
            p.limit,
            pa_col,
            sky_mag,
            obs
        );
    }
    Some(s)
}

fn result_of(fp: &Fp, t: &mut Task) -> Option<String> {
    if t.result.is_none() {
        t.result = Some(compute_result(fp, t));
    }
    t.result.clone().flatten()
}

fn task_json(fp: &Fp, st: &FpState, t: &mut Task, now: Duration) -> Value {
    let base = fp.base();
    let clock = &fp.shared.clock;
    let started = now >= t.start_at;
    let finished = now >= t.finish_at;
    let (error_msg, has_data) = if finished {
        match result_of(fp, t) {
            Some(_) => (Value::Null, true),
            None => (json!("No data returned"), false),
        }
    } else {
        (Value::Null, false)
    };
    let result_url =
        if finished && has_data { json!(format!("{base}/static/results/job{:05}.txt", t.id)) } else { Value::Null };
    let queuepos = if finished {
        Value::Null
    } else if started {
        json!(0)
    } else {
        json!(
            st.tasks
                .values()
                .filter(|o| o.start_at > now && o.start_at < t.start_at && o.archived_at.is_none())
                .count()
        )
    };
    let (uname, _, _) = fp.users()[t.user];
    json!({
        "url": format!("{base}/queue/{}/", t.id),
        "id": t.id,
        "user_id": 1000 + t.user as u64,
        "username": uname,
        "timestamp": iso_z(clock.wall(t.submitted)),
        "mpc_name": t.mpc_name,
        "ra": t.ra.map(jf),
        "dec": t.dec.map(jf),
        "mjd_min": t.mjd_min.map(jf),
        "mjd_max": t.mjd_max.map(jf),
        "radec_epoch_year": t.radec_epoch_year.map(|y| format!("{y:.1}")),
        "propermotion_ra": t.pm_ra,
        "propermotion_dec": t.pm_dec,
        "use_reduced": t.use_reduced,
        "finished": finished,
        "result_url": result_url,
        "comment": t.comment,
        "send_email": t.send_email,
        "callback_url": t.callback_url,
        "starttimestamp": if started { json!(iso_z(clock.wall(t.start_at))) } else { Value::Null },
        "finishtimestamp": if finished { json!(iso_z(clock.wall(t.finish_at))) } else { Value::Null },
        "error_msg": error_msg,
        "previewimage_url": Value::Null,
        "parent_task_id": Value::Null,
        "parent_task_url": Value::Null,
        "request_type": "FP",
        "pdfplot_url": Value::Null,
        "queuepos": queuepos,
        "imagerequest_task_id": Value::Null,
        "imagerequest_url": Value::Null,
        "imagerequest_finished": false,
        "result_imagestack_url": Value::Null,
        "result_imagezip_url": Value::Null,
        "userqueuedtasks_on_submit": t.queued_on_submit,
        "waittime": if started { json!((t.start_at - t.submitted).as_secs_f64()) } else { Value::Null },
        "runtime": if finished { json!((t.finish_at - t.start_at).as_secs_f64()) } else { Value::Null },
        "attempt_count": if started { 1 } else { 0 },
    })
}

/// One parsed target: position or MPC name.
enum Target {
    RaDec(f64, f64),
    Mpc(String),
}

fn parse_sexagesimal(tokens: &[&str]) -> Option<(f64, f64)> {
    let n: Vec<f64> = tokens.iter().map(|t| t.parse::<f64>()).collect::<Result<_, _>>().ok()?;
    let ra = (n[0] + n[1] / 60.0 + n[2] / 3600.0) * 15.0;
    let neg = tokens[3].starts_with('-');
    let d = n[3].abs() + n[4] / 60.0 + n[5] / 3600.0;
    Some((ra, if neg { -d } else { d }))
}

fn parse_radeclist(text: &str, max: usize) -> Result<Vec<Target>, Response> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.len() > max {
        return Err(json(
            400,
            json!({"radeclist": format!("Number of lines ({}) is above the limit of {max}", lines.len())}),
        ));
    }
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("mpc ") || lower.starts_with("mpc_") {
            let name = line[4..].trim();
            if name.is_empty() {
                return Err(json(400, json!({"radeclist": format!("Error on line {}: MPC name is blank", i + 1)})));
            }
            out.push(Target::Mpc(name.to_string()));
            continue;
        }
        let tokens: Vec<&str> = line.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()).collect();
        let parsed = match tokens.len() {
            2 => match (tokens[0].parse::<f64>(), tokens[1].parse::<f64>()) {
                (Ok(a), Ok(b)) if a.is_finite() && b.is_finite() => Some((a, b)),
                _ => None,
            },
            6 => parse_sexagesimal(&tokens),
            _ => None,
        };
        match parsed {
            Some((ra, dec)) if (-90.0..=90.0).contains(&dec) => out.push(Target::RaDec(ra.rem_euclid(360.0), dec)),
            _ => {
                return Err(json(
                    400,
                    json!({"radeclist": format!("Error on line {}: Could not find two columns (ra, dec) separated by a comma or space in '{}'", i + 1, line)}),
                ));
            }
        }
    }
    Ok(out)
}

async fn create(State(fp): State<Fp>, h: HeaderMap, body: Bytes) -> Response {
    let user = match authenticate(&fp, &h) {
        Auth::User(u) => u,
        Auth::Anonymous => return unauthorized("Authentication credentials were not provided."),
        Auth::Fail(r) => return r,
    };
    if let Some(r) = throttle_write(&fp, user) {
        return r;
    }
    let f = match Fields::parse(&h, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let now = fp.shared.clock.now();
    let now_mjd = mjd_of(fp.shared.clock.wall(now));
    let mut errors: BTreeMap<String, Value> = BTreeMap::new();
    let ra = f.float("ra", &mut errors);
    let dec = f.float("dec", &mut errors);
    let mjd_min = if f.map.contains_key("mjd_min") { f.float("mjd_min", &mut errors) } else { Some(now_mjd - 30.0) };
    let mjd_max = f.float("mjd_max", &mut errors);
    let epoch = f.float("radec_epoch_year", &mut errors);
    let pm_ra = f.float("propermotion_ra", &mut errors);
    let pm_dec = f.float("propermotion_dec", &mut errors);
    let mpc_name = f.str("mpc_name").filter(|s| !s.trim().is_empty());
    let comment = f.str("comment").filter(|s| !s.is_empty());
    let callback_url = f.str("callback_url").filter(|s| !s.is_empty());
    if let Some(cb) = &callback_url {
        if !cb.starts_with("https://") {
            errors.insert("callback_url".into(), json!(["Callback URL must use https."]));
        }
    }
    if let Some(n) = &mpc_name {
        if n.contains(['\'', '"', ';']) {
            errors.insert("mpc_name".into(), json!(["Invalid characters in MPC name."]));
        }
    }
    if let Some(d) = dec {
        if !(-90.0..=90.0).contains(&d) {
            errors.insert(
                "dec".into(),
                json!([if d > 90.0 {
                    "Ensure this value is less than or equal to 90."
                } else {
                    "Ensure this value is greater than or equal to -90."
                }]),
            );
        }
    }
    if let Some(m) = mjd_max {
        if m <= 0.0 {
            errors.insert("mjd_max".into(), json!(["mjd_max must be greater than zero."]));
        } else if let Some(lo) = mjd_min {
            if m <= lo {
                let applied = if f.map.contains_key("mjd_min") {
                    String::new()
                } else {
                    " (default mjd_min of now - 30 days was applied)".into()
                };
                errors.insert(
                    "mjd_max".into(),
                    json!([format!("mjd_max must be greater than mjd_min ({lo}){applied}.")]),
                );
            }
        }
    }
    if !errors.is_empty() {
        return json(400, Value::Object(errors.into_iter().collect()));
    }
    let radeclist = f.str("radeclist").filter(|s| !s.trim().is_empty());
    let mut targets = Vec::new();
    let batch = radeclist.is_some();
    if let Some(text) = radeclist {
        match parse_radeclist(&text, fp.shared.config.queue.max_radeclist_lines) {
            Ok(t) => targets = t,
            Err(r) => return r,
        }
    }
    match (ra, dec) {
        (Some(a), Some(d)) => targets.push(Target::RaDec(a.rem_euclid(360.0), d)),
        (Some(_), None) => {
            if !batch {
                return json(400, json!({"dec": ["ra was set but dec is missing."]}));
            }
        }
        (None, Some(_)) => {
            if !batch {
                return json(400, json!({"ra": ["dec was set but ra is missing."]}));
            }
        }
        (None, None) => {
            if let Some(n) = &mpc_name {
                targets.push(Target::Mpc(n.clone()));
            }
        }
    }
    if targets.is_empty() {
        return json(400, json!({"non_field_errors": ["Either an mpc_name or (ra, dec) must be specified."]}));
    }
    let mut st = fp.lock();
    sweep(&fp, &mut st, now);
    let queued = st.tasks.values().filter(|t| t.user == user && t.start_at > now && t.archived_at.is_none()).count();
    let max = fp.shared.config.queue.max_user_tasks;
    if queued + targets.len() > max {
        return json(
            400,
            json!({"non_field_errors": format!("ERROR: You have too many queued tasks ({queued} queued + {} requested > {max}).", targets.len())}),
        );
    }
    let q = fp.shared.config.queue.clone();
    let use_reduced = f.boolean("use_reduced", false);
    let send_email = f.boolean("send_email", true);
    let mut created = Vec::new();
    for target in targets {
        let id = st.next_id;
        st.next_id += 1;
        let start_at = (now + q.queue_delay).max(st.busy_until[user]);
        let finish_at = start_at + q.run_time;
        st.busy_until[user] = finish_at;
        let (tra, tdec, tmpc) = match target {
            Target::RaDec(a, d) => (Some(a), Some(d), None),
            Target::Mpc(n) => (None, None, Some(n)),
        };
        let task = Task {
            id,
            user,
            submitted: now,
            ra: tra,
            dec: tdec,
            mpc_name: tmpc,
            mjd_min,
            mjd_max,
            radec_epoch_year: epoch,
            pm_ra,
            pm_dec,
            use_reduced,
            send_email,
            comment: comment.clone(),
            callback_url: callback_url.clone(),
            start_at,
            finish_at,
            archived_at: None,
            queued_on_submit: queued + created.len(),
            result: None,
        };
        st.tasks.insert(id, task);
        created.push(id);
    }
    let mut out = Vec::new();
    for id in &created {
        if let Some(mut t) = st.tasks.get(id).cloned() {
            out.push(task_json(&fp, &st, &mut t, now));
        }
    }
    let body = if batch { Value::Array(out) } else { out.into_iter().next().unwrap_or(Value::Null) };
    json(201, body)
}

fn cursor_encode(reverse: bool, key: (u128, u64)) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("r={}&p={}:{}", u8::from(reverse), key.0, key.1))
}

fn cursor_decode(c: &str) -> Option<(bool, (u128, u64))> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c.trim_end_matches('=')).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let p = Pairs::parse(s.as_bytes());
    let reverse = p.first("r")? == "1";
    let (a, b) = p.first("p")?.split_once(':')?;
    Some((reverse, (a.parse().ok()?, b.parse().ok()?)))
}

async fn list(State(fp): State<Fp>, h: HeaderMap, uri: Uri) -> Response {
    let user = match authenticate(&fp, &h) {
        Auth::User(u) => u,
        Auth::Anonymous => return json(403, json!({"detail": "Authentication credentials were not provided."})),
        Auth::Fail(r) => return r,
    };
    if let Some(r) = throttle_read(&fp, &format!("user{user}")) {
        return r;
    }
    let q = Pairs::from_query(&uri);
    let cfg = &fp.shared.config.queue;
    let page_size = q
        .last("pagesize")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(cfg.page_size)
        .min(cfg.max_page_size);
    let ordering = q.last("ordering").unwrap_or("-id");
    let (by_ts, desc) = match ordering {
        "id" => (false, false),
        "timestamp" => (true, false),
        "-timestamp" => (true, true),
        _ => (false, true),
    };
    let started = q.last("started").and_then(crate::util::parse_bool);
    let now = fp.shared.clock.now();
    let mut st = fp.lock();
    sweep(&fp, &mut st, now);
    let key = |t: &Task| -> (u128, u64) { (if by_ts { t.submitted.as_secs() as u128 } else { 0 }, t.id) };
    let mut items: Vec<Task> = st
        .tasks
        .values()
        .filter(|t| t.user == user && t.archived_at.is_none())
        .filter(|t| started.is_none_or(|s| (now >= t.start_at) == s))
        .cloned()
        .collect();
    items.sort_by_key(|t| key(t));
    if desc {
        items.reverse();
    }
    let total = items.len();
    let cursor = match q.last("cursor") {
        Some(c) => match cursor_decode(c) {
            Some(c) => Some(c),
            None => return json(404, json!({"detail": "Invalid cursor"})),
        },
        None => None,
    };
    let after = |k: (u128, u64), p: (u128, u64)| if desc { k < p } else { k > p };
    let (start, end) = match cursor {
        None => (0, page_size.min(total)),
        Some((false, p)) => {
            let s = items.iter().position(|t| after(key(t), p)).unwrap_or(total);
            (s, (s + page_size).min(total))
        }
        Some((true, p)) => {
            let e = items.iter().position(|t| !after(p, key(t))).unwrap_or(total);
            (e.saturating_sub(page_size), e)
        }
    };
    let base = format!("{}/queue/", fp.base());
    let link = |reverse: bool, k: (u128, u64)| {
        let mut pairs: Vec<(String, String)> = q.0.iter().filter(|(a, _)| a != "cursor").cloned().collect();
        pairs.insert(0, ("cursor".into(), cursor_encode(reverse, k)));
        let qs = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("{base}?{qs}")
    };
    let next = if end < total && end > start { json!(link(false, key(&items[end - 1]))) } else { Value::Null };
    let previous = if start > 0 && start < total { json!(link(true, key(&items[start]))) } else { Value::Null };
    let snapshot = FpState { tasks: st.tasks.clone(), next_id: st.next_id, busy_until: st.busy_until };
    let mut results = Vec::new();
    for t in items[start..end].iter_mut() {
        results.push(task_json(&fp, &snapshot, t, now));
        if let Some(orig) = st.tasks.get_mut(&t.id) {
            orig.result = t.result.clone();
        }
    }
    json(
        200,
        json!({"next": next, "previous": previous, "pagefirsttaskposition": start, "taskcount": total, "results": results}),
    )
}

async fn task(State(fp): State<Fp>, method: Method, h: HeaderMap, Path(id): Path<String>) -> Response {
    let auth = authenticate(&fp, &h);
    if let Auth::Fail(r) = auth {
        return r;
    }
    let Ok(id) = id.parse::<u64>() else {
        return canned::text(
            404,
            "text/html",
            "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>".into(),
        );
    };
    let now = fp.shared.clock.now();
    match method {
        Method::GET | Method::HEAD => {
            if let Some(r) = throttle_read(&fp, &read_key(&auth)) {
                return r;
            }
            let mut st = fp.lock();
            sweep(&fp, &mut st, now);
            let Some(mut t) = st.tasks.get(&id).cloned() else {
                return json(404, json!({"detail": "No Task matches the given query."}));
            };
            if t.archived_at.is_some() {
                return canned::text(404, "text/plain", "Page not found".into());
            }
            let v = task_json(&fp, &st, &mut t, now);
            st.tasks.insert(id, t);
            json(200, v)
        }
        Method::DELETE => {
            let user = match auth {
                Auth::User(u) => u,
                _ => return unauthorized("Authentication credentials were not provided."),
            };
            if let Some(r) = throttle_write(&fp, user) {
                return r;
            }
            let mut st = fp.lock();
            sweep(&fp, &mut st, now);
            let Some(t) = st.tasks.get_mut(&id) else {
                return json(404, json!({"detail": "No Task matches the given query."}));
            };
            if t.archived_at.is_some() {
                return canned::text(404, "text/plain", "Page not found".into());
            }
            if t.user != user {
                return json(403, json!({"detail": "You must be the owner of this object."}));
            }
            if now >= t.finish_at {
                t.archived_at = Some(now);
            } else {
                let was_started = now >= t.start_at;
                st.tasks.remove(&id);
                if !was_started {
                    reschedule(&fp, &mut st, user, now);
                }
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Method::PATCH | Method::PUT => {
            let user = match auth {
                Auth::User(u) => u,
                _ => return unauthorized("Authentication credentials were not provided."),
            };
            if let Some(r) = throttle_write(&fp, user) {
                return r;
            }
            json(405, json!({"detail": format!("Method \"{method}\" not allowed.")}))
        }
        _ => json(405, json!({"detail": format!("Method \"{method}\" not allowed.")})),
    }
}

/// After removing a queued task, later queued tasks of that user move up.
fn reschedule(fp: &Fp, st: &mut FpState, user: usize, now: Duration) {
    let q = &fp.shared.config.queue;
    let mut busy = st
        .tasks
        .values()
        .filter(|t| t.user == user && t.start_at <= now)
        .map(|t| t.finish_at)
        .max()
        .unwrap_or(Duration::ZERO);
    for t in st.tasks.values_mut().filter(|t| t.user == user && t.start_at > now) {
        let start = (t.submitted + q.queue_delay).max(busy).max(now);
        t.start_at = start;
        t.finish_at = start + q.run_time;
        busy = t.finish_at;
    }
    st.busy_until[user] = busy;
}

fn result_text(fp: &Fp, id: u64) -> Option<String> {
    let now = fp.shared.clock.now();
    let mut st = fp.lock();
    sweep(fp, &mut st, now);
    let t = st.tasks.get_mut(&id)?;
    if now < t.finish_at || t.archived_at.is_some() {
        return None;
    }
    let mut t2 = t.clone();
    let r = result_of(fp, &mut t2);
    t.result = t2.result;
    r
}

async fn data_txt(State(fp): State<Fp>, Path(id): Path<String>) -> Response {
    match id.parse::<u64>().ok().and_then(|id| result_text(&fp, id)) {
        Some(t) => canned::text(200, "text/plain", t),
        None => canned::text(
            404,
            "text/html",
            "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>".into(),
        ),
    }
}

async fn static_result(State(fp): State<Fp>, Path(file): Path<String>) -> Response {
    let id = file.strip_prefix("job").and_then(|s| s.strip_suffix(".txt")).and_then(|s| s.parse::<u64>().ok());
    match id.and_then(|id| result_text(&fp, id)) {
        Some(t) => canned::text(200, "text/plain", t),
        None => canned::apache_html(404),
    }
}

async fn queue_positions(State(fp): State<Fp>, h: HeaderMap) -> Response {
    match authenticate(&fp, &h) {
        Auth::User(_) => {}
        Auth::Anonymous => return json(403, json!({"detail": "Authentication credentials were not provided."})),
        Auth::Fail(r) => return r,
    }
    let now = fp.shared.clock.now();
    let st = fp.lock();
    let mut queued: Vec<&Task> = st.tasks.values().filter(|t| t.start_at > now && t.archived_at.is_none()).collect();
    queued.sort_by_key(|t| t.start_at);
    let mut pos = serde_json::Map::new();
    let mut types = serde_json::Map::new();
    for (i, t) in queued.iter().enumerate() {
        pos.insert(t.id.to_string(), json!(i));
        types.insert(t.id.to_string(), json!("FP"));
    }
    json(200, json!({"queuepositions": pos, "queuedtypes": types, "queueoffset": 0}))
}
