//! Shared test helpers: realistic task JSON, a phase-stepping clock, and a stateful fake of
//! the queue for bulk scenarios.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use broker_core::{Clock, ManualClock, Quota, RateLimiter};
use fallingstar_forcedphot::{Client, PollIntervals};
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};
use serde_json::{Value, json};

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef01234567";

/// The real 19-column sample (AT2020wol, job01088.txt, first rows).
pub const SAMPLE: &str = "\
###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  apfit mag5sig Sky   Obs
59101.519211 -21.740  1.398    -7   10 o  0   7.69  29.86137  30.72672  9408.51  3841.80 2.04 2.02  26.5 -0.421 19.59 20.43 01a59101o0618o
59101.549941  20.756  0.760    18   14 o  0   4.79  29.86137  30.72672  9463.88  3767.21 2.22 2.12 -32.3 -0.409 19.53 20.39 01a59101o0679o
59103.552116  16.499  0.011   912   10 o  0 613.69  29.86137  30.72672  6239.87  2027.06 1.95 1.88  39.8 -0.438 19.59 20.81 02a59103o0723o
";

pub const HEADER_ONLY: &str = "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs\n";

/// A queued task as the server serialises it (every field of the 2026 serializer, in order,
/// plus one the crate does not know).
pub fn task_json(base: &str, id: u64, ra: f64, dec: f64) -> Value {
    json!({
        "url": format!("{base}/queue/{id}/"),
        "id": id,
        "user_id": 42,
        "username": "astro",
        "timestamp": "2024-05-15T12:34:56Z",
        "mpc_name": null,
        "ra": ra,
        "dec": dec,
        "mjd_min": 59100.0,
        "mjd_max": null,
        "radec_epoch_year": "2000.0",
        "propermotion_ra": null,
        "propermotion_dec": null,
        "use_reduced": false,
        "finished": false,
        "result_url": null,
        "comment": null,
        "send_email": false,
        "callback_url": null,
        "starttimestamp": null,
        "finishtimestamp": null,
        "error_msg": null,
        "previewimage_url": null,
        "parent_task_id": null,
        "parent_task_url": null,
        "request_type": "FP",
        "pdfplot_url": null,
        "queuepos": 3,
        "imagerequest_task_id": null,
        "imagerequest_url": null,
        "imagerequest_finished": false,
        "result_imagestack_url": null,
        "result_imagezip_url": null,
        "userqueuedtasks_on_submit": 0,
        "waittime": null,
        "runtime": null,
        "attempt_count": 0,
        "country_code": "GB"
    })
}

pub fn queued(mut v: Value, pos: i64) -> Value {
    v["queuepos"] = json!(pos);
    v
}

pub fn running(mut v: Value) -> Value {
    v["starttimestamp"] = json!("2024-05-15T12:35:10.123456Z");
    v["queuepos"] = json!(0);
    v["attempt_count"] = json!(1);
    v
}

pub fn finished(mut v: Value, result_url: Option<String>, error: Option<&str>) -> Value {
    v = running(v);
    v["finished"] = json!(true);
    v["finishtimestamp"] = json!("2024-05-15T12:36:02Z");
    v["queuepos"] = Value::Null;
    v["result_url"] = json!(result_url);
    v["error_msg"] = json!(error);
    v["waittime"] = json!(14.1);
    v["runtime"] = json!(52.0);
    v
}

/// A clock that advances virtual time on `sleep` (like [`ManualClock`]) and steps a phase
/// counter, so mocks can answer differently before and after each wait.
#[derive(Debug, Clone, Default)]
pub struct PhaseClock {
    pub manual: ManualClock,
    pub phase: Arc<AtomicUsize>,
}

impl PhaseClock {
    pub fn phase_is(&self, k: usize) -> impl Fn(&HttpMockRequest) -> bool + Send + Sync + 'static {
        let p = self.phase.clone();
        move |_| p.load(Ordering::SeqCst) == k
    }
    pub fn phase_at_least(&self, k: usize) -> impl Fn(&HttpMockRequest) -> bool + Send + Sync + 'static {
        let p = self.phase.clone();
        move |_| p.load(Ordering::SeqCst) >= k
    }
    pub fn sleeps(&self) -> Vec<Duration> {
        self.manual.sleeps()
    }
}

#[async_trait::async_trait]
impl Clock for PhaseClock {
    async fn sleep(&self, d: Duration) {
        self.manual.sleep(d).await;
        self.phase.fetch_add(1, Ordering::SeqCst);
    }
    fn now(&self) -> Duration {
        self.manual.now()
    }
    fn system_time(&self) -> SystemTime {
        self.manual.system_time()
    }
}

/// A virtual clock whose every sleep stops and waits for the test: it reports each sleep
/// it enters on a channel, then waits for [`GateClock::release`]. While a run waits on it,
/// the run has no request in flight (every request it made has had its full reply), so a
/// test can act at that point without racing the HTTP layer.
#[derive(Debug)]
pub struct GateClock {
    manual: ManualClock,
    entered: tokio::sync::mpsc::UnboundedSender<Duration>,
    permits: tokio::sync::Semaphore,
}

impl GateClock {
    /// The clock, and the receiver of "a sleep of this length has started waiting".
    pub fn new() -> (Arc<Self>, tokio::sync::mpsc::UnboundedReceiver<Duration>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Arc::new(GateClock { manual: ManualClock::new(), entered: tx, permits: tokio::sync::Semaphore::new(0) }), rx)
    }
    /// Lets one waiting (or the next) sleep return.
    pub fn release(&self) {
        self.permits.add_permits(1);
    }
}

#[async_trait::async_trait]
impl Clock for GateClock {
    async fn sleep(&self, d: Duration) {
        self.manual.advance(d);
        let _ = self.entered.send(d);
        if let Ok(p) = self.permits.acquire().await {
            p.forget();
        }
    }
    fn now(&self) -> Duration {
        self.manual.now()
    }
    fn system_time(&self) -> SystemTime {
        self.manual.system_time()
    }
}

pub fn client(server: &MockServer, clock: Arc<dyn Clock>) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token(TOKEN.to_string())
        .clock(clock)
        .poll_intervals(PollIntervals::default())
        // httpmock reuses ports across tests: a limiter per client keeps each test's
        // virtual clock to itself.
        .write_limiter(Arc::new(RateLimiter::new(Quota::per_minute(60))))
        .read_limiter(Arc::new(RateLimiter::new(Quota::per_minute(600))))
        .build()
        .unwrap()
}

pub fn secs(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|s| Duration::from_secs(*s)).collect()
}

/// A stateful fake of the queue: `POST /queue/` (single or `radeclist`), `GET /queue/`
/// (cursor pages of 100), `GET /queue/<id>/`, result files and `DELETE /queue/<id>/`.
/// Each task moves queued -> running -> finished one step per listing.
#[derive(Default)]
pub struct FakeState {
    pub next_id: u64,
    pub tasks: BTreeMap<u64, (Value, u32)>,
    pub queue_limit: usize,
    /// Targets (radeclist lines) whose task finishes with this error message.
    pub errors: BTreeMap<String, String>,
    pub writes_at: Vec<Duration>,
    pub deletes: BTreeMap<u64, u32>,
    pub downloads: BTreeMap<u64, u32>,
    pub posts: Vec<usize>,
    pub queue_full_answers: u32,
    pub foreign: Vec<Value>,
    /// Lines the server refuses with "Error on line k: ...".
    pub reject: Vec<String>,
    pub rejected_posts: u32,
}

pub struct Fake {
    pub state: Arc<Mutex<FakeState>>,
    pub base: String,
}

fn resp(status: u16, body: Option<String>, ctype: &str) -> HttpMockResponse {
    let mut b = HttpMockResponse::builder().status(status);
    if let Some(body) = body {
        b = b.header("content-type", ctype).body(body);
    }
    b.build()
}

impl Fake {
    pub async fn start(server: &MockServer, clock: ManualClock, queue_limit: usize) -> Fake {
        let base = server.base_url();
        let state = Arc::new(Mutex::new(FakeState { next_id: 5000, queue_limit, ..Default::default() }));
        // POST /queue/
        {
            let st = state.clone();
            let clock = clock.clone();
            let base = base.clone();
            server
                .mock_async(|when, then| {
                    when.method(POST)
                        .path("/queue/")
                        .header("authorization", format!("Token {TOKEN}"))
                        .header("accept", "application/json")
                        .header("content-type", "application/x-www-form-urlencoded");
                    then.respond_with(move |req: &HttpMockRequest| {
                        let mut s = st.lock().unwrap();
                        s.writes_at.push(clock.now());
                        let form: Vec<(String, String)> =
                            url::form_urlencoded::parse(req.body_ref()).into_owned().collect();
                        let get = |k: &str| form.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
                        assert_eq!(get("send_email").as_deref(), Some("false"));
                        assert_eq!(get("use_reduced").as_deref(), Some("false"));
                        let Some(list) = get("radeclist") else {
                            return resp(400, Some(r#"{"radeclist":["required"]}"#.into()), "application/json");
                        };
                        let lines: Vec<String> =
                            list.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
                        if lines.len() > 100 {
                            return resp(
                                400,
                                Some(format!(
                                    r#"{{"radeclist":"Number of lines ({}) is above the limit of 100"}}"#,
                                    lines.len()
                                )),
                                "application/json",
                            );
                        }
                        if let Some(k) = lines.iter().position(|l| s.reject.contains(l)) {
                            s.rejected_posts += 1;
                            return resp(
                                400,
                                Some(format!(
                                    r#"{{"radeclist":"Error on line {}: Could not parse RA/Dec: bad value"}}"#,
                                    k + 1
                                )),
                                "application/json",
                            );
                        }
                        let queued = s.tasks.values().filter(|(_, step)| *step < 1).count();
                        if queued + lines.len() > s.queue_limit {
                            s.queue_full_answers += 1;
                            return resp(
                                400,
                                Some(format!(
                                    r#"{{"non_field_errors":"ERROR: You have too many queued tasks ({queued} queued + {} requested > {})."}}"#,
                                    lines.len(),
                                    s.queue_limit
                                )),
                                "application/json",
                            );
                        }
                        s.posts.push(lines.len());
                        let mut out = Vec::new();
                        for line in lines {
                            let id = s.next_id;
                            s.next_id += 1;
                            let mut parts = line.split_whitespace();
                            let ra: f64 = parts.next().unwrap().parse().unwrap();
                            let dec: f64 = parts.next().unwrap().parse().unwrap();
                            let mut t = task_json(&base, id, ra, dec);
                            t["mjd_min"] = json!(get("mjd_min").unwrap().parse::<f64>().unwrap());
                            t["comment"] = json!(line);
                            out.push(t.clone());
                            s.tasks.insert(id, (t, 0));
                        }
                        resp(201, Some(Value::Array(out).to_string()), "application/json")
                    });
                })
                .await;
        }
        // GET /queue/ (list), one step of progress per first-page listing.
        {
            let st = state.clone();
            let base = base.clone();
            server
                .mock_async(|when, then| {
                    when.method(GET).path("/queue/").header("authorization", format!("Token {TOKEN}"));
                    then.respond_with(move |req: &HttpMockRequest| {
                        let mut s = st.lock().unwrap();
                        let query: Vec<(String, String)> =
                            url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
                                .into_owned()
                                .collect();
                        let cursor: usize =
                            query.iter().find(|(k, _)| k == "cursor").map(|(_, v)| v.parse().unwrap()).unwrap_or(0);
                        assert!(query.iter().any(|(k, v)| k == "pagesize" && v == "100"), "{query:?}");
                        if cursor == 0 {
                            let errors = s.errors.clone();
                            for (t, step) in s.tasks.values_mut() {
                                *step += 1;
                                let id = t["id"].as_u64().unwrap();
                                let line = t["comment"].as_str().unwrap().to_string();
                                match *step {
                                    1 => *t = queued(t.clone(), 1),
                                    2 => *t = running(t.clone()),
                                    3 => {
                                        let err = errors.get(&line).map(String::as_str);
                                        let url =
                                            err.is_none().then(|| format!("{base}/static/results/job{id:05}.txt"));
                                        *t = finished(t.clone(), url, err);
                                    }
                                    _ => {}
                                }
                            }
                        }
                        // Newest first, as the server orders by -id.
                        let mut all: Vec<Value> = s.tasks.values().rev().map(|(t, _)| t.clone()).collect();
                        all.extend(s.foreign.iter().cloned());
                        let page: Vec<Value> = all.iter().skip(cursor).take(100).cloned().collect();
                        let next = (cursor + 100 < all.len())
                            .then(|| format!("{base}/queue/?cursor={}&pagesize=100", cursor + 100));
                        let body = json!({"next": next, "previous": null, "pagefirsttaskposition": 0,
                            "taskcount": all.len(), "results": page});
                        resp(200, Some(body.to_string()), "application/json")
                    });
                })
                .await;
        }
        // GET /queue/<id>/ and DELETE /queue/<id>/
        {
            let st = state.clone();
            server
                .mock_async(|when, then| {
                    when.method(GET).path_matches(r"^/queue/\d+/$");
                    then.respond_with(move |req: &HttpMockRequest| {
                        let s = st.lock().unwrap();
                        let id: u64 = req.uri().path().split('/').nth(2).unwrap().parse().unwrap();
                        match s.tasks.get(&id) {
                            Some((t, _)) => resp(200, Some(t.to_string()), "application/json"),
                            None => resp(404, Some("Page not found".into()), "text/html"),
                        }
                    });
                })
                .await;
            let st = state.clone();
            let clock = clock.clone();
            server
                .mock_async(|when, then| {
                    when.method(DELETE)
                        .path_matches(r"^/queue/\d+/$")
                        .header("authorization", format!("Token {TOKEN}"));
                    then.respond_with(move |req: &HttpMockRequest| {
                        let mut s = st.lock().unwrap();
                        s.writes_at.push(clock.now());
                        let id: u64 = req.uri().path().split('/').nth(2).unwrap().parse().unwrap();
                        *s.deletes.entry(id).or_default() += 1;
                        match s.tasks.remove(&id) {
                            Some(_) => resp(204, None, ""),
                            None => resp(
                                404,
                                Some(r#"{"detail":"No Task matches the given query."}"#.into()),
                                "application/json",
                            ),
                        }
                    });
                })
                .await;
        }
        // Result files.
        {
            let st = state.clone();
            server
                .mock_async(|when, then| {
                    when.method(GET).path_matches(r"^/static/results/job\d{5,}\.txt$");
                    then.respond_with(move |req: &HttpMockRequest| {
                        let mut s = st.lock().unwrap();
                        let name = req.uri().path().rsplit('/').next().unwrap().to_string();
                        let id: u64 = name.trim_start_matches("job").trim_end_matches(".txt").parse().unwrap();
                        *s.downloads.entry(id).or_default() += 1;
                        resp(200, Some(SAMPLE.to_string()), "text/plain")
                    });
                })
                .await;
        }
        Fake { state, base }
    }
}
