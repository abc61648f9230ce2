//! The client and its builder: one typed method per endpoint.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use broker_core::http::{accept_json, parse_base_url};
use broker_core::paginate::{CursorPaginator, ItemStream, Page, Paginator};
use broker_core::ratelimit::limiter_for;
use broker_core::{
    AvailableInHint, ClientOptions, ExposeSecret, HeaderToken, HttpClient, LoginToken, NoAuth, Quota, RateLimiter,
    Request, Response, RetryPolicy, SecretString,
};
use reqwest::header::{HeaderValue, IF_NONE_MATCH};

use crate::error::{Error, Result, classify};
use crate::result::ResultTable;
use crate::task::{MAX_BATCH, Target, Task, TaskOptions, TaskPage, TaskRequest, task_path};

/// The production API: `https://fallingstar-data.com/forcedphot/`.
pub const DEFAULT_BASE_URL: &str = "https://fallingstar-data.com/forcedphot/";
/// The environment variable holding the API token (the name the official example uses).
pub const TOKEN_ENV: &str = "ATLASFORCED_SECRET_KEY";
/// The environment variable that overrides the base URL.
pub const BASE_URL_ENV: &str = "ATLASFORCED_BASE_URL";
/// The server's write budget: POST, PUT, PATCH and DELETE share 60 per minute per user.
pub const WRITES_PER_MINUTE: u32 = 60;
/// The server's read budget on newer deployments: 600 GETs per minute per user.
pub const READS_PER_MINUTE: u32 = 600;
/// The server's per-user queue limit.
pub const MAX_QUEUED_TASKS: usize = 500;

/// How often a task is polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollIntervals {
    /// While the task waits in the queue (default 4 s).
    pub queued: Duration,
    /// While it runs (default 2 s).
    pub running: Duration,
}

impl Default for PollIntervals {
    fn default() -> Self {
        PollIntervals { queued: Duration::from_secs(4), running: Duration::from_secs(2) }
    }
}

#[derive(Clone)]
enum Credentials {
    None,
    Token(SecretString),
    Login { username: String, password: SecretString },
}

/// Builds a [`Client`].
///
/// The transport setters every client shares (`retry`, `clock`, `timeout`,
/// `connect_timeout`, `user_agent`, `max_response_bytes`, `allow_insecure_http`,
/// `reqwest_client`) come from [`broker_core::ClientOptions`]. The default retry policy is
/// [`default_retry`]: 8 attempts, honouring `Retry-After`, then the body's "available in N
/// seconds", then at least 10 s after a 429 without either; waits of up to 120 s are slept,
/// longer ones fail with a rate-limit error.
pub struct ClientBuilder {
    base_url: String,
    credentials: Credentials,
    options: ClientOptions,
    poll: PollIntervals,
    write_quota: Quota,
    read_quota: Quota,
    write_limiter: Option<Arc<RateLimiter>>,
    read_limiter: Option<Arc<RateLimiter>>,
}

broker_core::client_options_setters!(ClientBuilder, options);

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let creds = match &self.credentials {
            Credentials::None => "none".to_string(),
            Credentials::Token(_) => "token [REDACTED]".to_string(),
            Credentials::Login { username, .. } => format!("login {username} / [REDACTED]"),
        };
        f.debug_struct("ClientBuilder")
            .field("base_url", &broker_core::redact::redact_url_str(&self.base_url))
            .field("credentials", &creds)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_string(),
            credentials: Credentials::None,
            options: ClientOptions::default(),
            poll: PollIntervals::default(),
            write_quota: Quota::per_minute(WRITES_PER_MINUTE),
            read_quota: Quota::per_minute(READS_PER_MINUTE),
            write_limiter: None,
            read_limiter: None,
        }
    }
}

impl ClientBuilder {
    /// The base URL (default [`DEFAULT_BASE_URL`]); `…/forcedphot` and `…/forcedphot/` are
    /// the same.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }
    /// Sends `Authorization: Token <token>` on every request.
    pub fn token(mut self, token: impl Into<SecretString>) -> Self {
        self.credentials = Credentials::Token(token.into());
        self
    }
    /// Logs in with `POST /api-token-auth/` (form `username`, `password`) on the first
    /// request and uses the token it returns; logs in again once after a 401.
    pub fn login(mut self, username: impl Into<String>, password: impl Into<SecretString>) -> Self {
        self.credentials = Credentials::Login { username: username.into(), password: password.into() };
        self
    }
    /// Reads [`TOKEN_ENV`] (the token) and [`BASE_URL_ENV`] (the base URL) when set.
    pub fn from_env(mut self) -> Self {
        if let Ok(t) = std::env::var(TOKEN_ENV) {
            if !t.trim().is_empty() {
                self.credentials = Credentials::Token(SecretString::from(t.trim().to_string()));
            }
        }
        if let Ok(u) = std::env::var(BASE_URL_ENV) {
            if !u.trim().is_empty() {
                self.base_url = u.trim().to_string();
            }
        }
        self
    }
    /// How often tasks are polled (default 4 s queued, 2 s running).
    pub fn poll_intervals(mut self, poll: PollIntervals) -> Self {
        self.poll = poll;
        self
    }
    /// The client-side write budget (default 60 per minute, the server's limit). Clients with
    /// the same credential and base URL share one budget in a process.
    pub fn write_quota(mut self, quota: Quota) -> Self {
        self.write_quota = quota;
        self
    }
    /// The client-side read budget (default 600 per minute).
    pub fn read_quota(mut self, quota: Quota) -> Self {
        self.read_quota = quota;
        self
    }
    /// Uses this write limiter instead of the process-wide one for this credential and base
    /// URL (e.g. one shared across processes' threads, or a fresh one per test clock).
    pub fn write_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.write_limiter = Some(limiter);
        self
    }
    /// Uses this read limiter instead of the process-wide one.
    pub fn read_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.read_limiter = Some(limiter);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let base = parse_base_url(&self.base_url)?;
        let (name, value) = accept_json();
        let mut b =
            self.options.apply(HttpClient::builder(base.as_str()).retry(default_retry())).default_header(name, value);
        b = match self.credentials {
            Credentials::None => b.auth(NoAuth),
            Credentials::Token(t) => b.auth(HeaderToken::new("Token", t)),
            Credentials::Login { username, password } => {
                let login_url = base
                    .join("api-token-auth/")
                    .map_err(|e| Error::Core(broker_core::Error::Config(format!("bad login URL: {e}"))))?;
                b.auth(LoginToken::new(login_url, username, password, "Token"))
            }
        };
        let cred = b.credential_id().unwrap_or_else(|| "anonymous".into());
        let writes = self
            .write_limiter
            .unwrap_or_else(|| limiter_for(&format!("forcedphot:writes:{base}:{cred}"), self.write_quota));
        let reads = self
            .read_limiter
            .unwrap_or_else(|| limiter_for(&format!("forcedphot:reads:{base}:{cred}"), self.read_quota));
        // Every attempt (retries included) draws from its bucket, as the server counts it.
        let http = b.rate_limit(WRITES, writes.clone()).rate_limit(READS, reads.clone()).build()?;
        Ok(Client { http, writes, reads, poll: self.poll })
    }
}

/// The rate-limit bucket of writes (POST, DELETE).
const WRITES: &str = "writes";
/// The rate-limit bucket of reads.
const READS: &str = "reads";

/// The default retry policy (see [`ClientBuilder::retry`]).
pub fn default_retry() -> RetryPolicy {
    RetryPolicy::default()
        .hint(AvailableInHint)
        .throttle_floor(Duration::from_secs(10))
        .max_server_wait(Duration::from_secs(120))
        .max_attempts(8)
        .max_elapsed(Duration::from_secs(900))
}

/// Which client-side budget a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    Write,
    Read,
    Free,
}

/// A filter and ordering for [`Client::list_with`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListOptions {
    /// Tasks per page (`pagesize`; the server caps it at 100; default 100).
    pub page_size: Option<u32>,
    /// `ordering`: `id`, `-id` (the server's default), `timestamp` or `-timestamp`.
    pub ordering: Option<String>,
    /// `started=true|false`.
    pub started: Option<bool>,
}

/// What a conditional poll gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Poll {
    /// The task changed (or no `ETag` was known): the task and its new `ETag`, if any.
    Changed {
        /// The task.
        task: Box<Task>,
        /// The `ETag` to send next time.
        etag: Option<String>,
    },
    /// `304 Not Modified`: the task is as it was.
    NotModified,
}

/// A client for the ATLAS forced-photometry server. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
    writes: Arc<RateLimiter>,
    reads: Arc<RateLimiter>,
    pub(crate) poll: PollIntervals,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("http", &self.http).field("poll", &self.poll).finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a builder (production server, no credentials).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
    /// A client for the production server with a token.
    pub fn new(token: impl Into<SecretString>) -> Result<Self> {
        Self::builder().token(token).build()
    }

    /// Exchanges a username and password for the account's API token (`POST
    /// /api-token-auth/`), e.g. to store it in [`TOKEN_ENV`]. Tokens do not expire. A wrong
    /// login is an auth error with the server's message.
    pub async fn obtain_token(base_url: &str, username: &str, password: &SecretString) -> Result<SecretString> {
        let (name, value) = accept_json();
        let http = HttpClient::builder(base_url).default_header(name, value).retry(default_retry()).build()?;
        let req =
            Request::post("api-token-auth/").form("username", username).form("password", password.expose_secret());
        let resp = match http.execute(req).await {
            Ok(r) => r,
            Err(broker_core::Error::Http(h)) if matches!(h.status, 400 | 401 | 403) => {
                let message = h.message.clone().unwrap_or_else(|| format!("HTTP {}", h.status));
                return Err(Error::Core(broker_core::Error::Auth { status: Some(h.status), message }));
            }
            Err(e) => return Err(e.into()),
        };
        #[derive(serde::Deserialize)]
        struct TokenReply {
            token: String,
        }
        let reply: TokenReply = serde_json::from_slice(&resp.body).map_err(|e| {
            Error::Core(broker_core::Error::Decode {
                path: "token".into(),
                message: e.to_string(),
                excerpt: "(login reply withheld)".into(),
                url: broker_core::redact_url(&resp.url),
            })
        })?;
        Ok(SecretString::from(reply.token))
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }
    /// The poll intervals.
    pub fn poll_intervals(&self) -> PollIntervals {
        self.poll
    }
    /// The shared write budget (POST and DELETE draw from it).
    pub fn write_limiter(&self) -> &Arc<RateLimiter> {
        &self.writes
    }

    /// Sends a request after drawing from its budget; maps HTTP errors to this crate's kinds.
    pub(crate) async fn send(&self, req: Request, budget: Budget) -> Result<Response> {
        let req = match budget {
            Budget::Write => req.bucket(WRITES),
            Budget::Read => req.bucket(READS),
            Budget::Free => req,
        };
        self.http.execute(req).await.map_err(classify)
    }

    /// Submits one task: `POST /queue/` with the target (`ra` + `dec`, or `mpc_name`) and the
    /// options (`send_email` and `use_reduced` always sent). Validates first; no request is
    /// sent for invalid input.
    pub async fn submit(&self, request: &TaskRequest) -> Result<Task> {
        request.validate()?;
        let mut req = Request::post("queue/");
        for (k, v) in request.form_fields() {
            req = req.form(k, v);
        }
        let resp = self.send(req, Budget::Write).await?;
        Ok(resp.json::<Task>()?)
    }

    /// Submits up to [`MAX_BATCH`] targets in one `POST /queue/` with a newline-separated
    /// `radeclist` (one write against the budget); the server answers with one task per line,
    /// in order.
    pub async fn submit_batch(&self, targets: &[Target], options: &TaskOptions) -> Result<Vec<Task>> {
        if targets.is_empty() {
            return Err(Error::invalid("targets", "the target list is empty: give at least one target"));
        }
        if targets.len() > MAX_BATCH {
            return Err(Error::invalid(
                "targets",
                format!("{} targets in one batch: the server takes at most {MAX_BATCH}", targets.len()),
            ));
        }
        options.validate()?;
        let lines: Vec<String> = targets.iter().map(Target::radeclist_line).collect();
        let mut req = Request::post("queue/").form("radeclist", lines.join("\n"));
        for (k, v) in options.form_fields() {
            req = req.form(k, v);
        }
        let resp = self.send(req, Budget::Write).await?;
        Ok(resp.json::<Vec<Task>>()?)
    }

    /// Submits any number of targets in batches of [`MAX_BATCH`], one POST per batch, in
    /// order. Returns the tasks of every batch that succeeded and, if one failed, its error:
    /// batches after a failure are not sent.
    pub async fn submit_many(&self, targets: &[Target], options: &TaskOptions) -> (Vec<Task>, Option<Error>) {
        if targets.is_empty() {
            return (Vec::new(), Some(Error::invalid("targets", "the target list is empty: give at least one target")));
        }
        if let Err(e) = options.validate() {
            return (Vec::new(), Some(e));
        }
        let mut out = Vec::new();
        for chunk in targets.chunks(MAX_BATCH) {
            match self.submit_batch(chunk, options).await {
                Ok(tasks) => out.extend(tasks),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    /// `GET /queue/<id>/`.
    pub async fn task(&self, id: u64) -> Result<Task> {
        let resp = self.send(Request::get(task_path(id)), Budget::Read).await?;
        Ok(resp.json::<Task>()?)
    }

    /// `GET /queue/<id>/` with `If-None-Match: <etag>` when an `ETag` is known; a `304`
    /// means unchanged.
    pub async fn poll(&self, id: u64, etag: Option<&str>) -> Result<Poll> {
        let mut req = Request::get(task_path(id));
        if let Some(e) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            req = req.header(IF_NONE_MATCH, e);
        }
        let resp = self.send(req, Budget::Read).await?;
        if resp.status == 304 {
            return Ok(Poll::NotModified);
        }
        let task = resp.json::<Task>()?;
        Ok(Poll::Changed { task: Box::new(task), etag: resp.header("etag").map(str::to_string) })
    }

    /// Downloads a result file as text (`result_url` of a finished task). A 404 (the file
    /// expired) is [`Error::TaskGone`]. A file whose last row is shorter than its header (cut
    /// short in transit, with no length to check it against) is fetched again by the core's
    /// retry policy ([`crate::result::looks_whole`]).
    pub async fn download_url(&self, url: &str) -> Result<String> {
        let req = Request::get(url).complete_when(crate::result::looks_whole);
        let resp = self.send(req, Budget::Free).await?;
        Ok(String::from_utf8_lossy(&resp.body).into_owned())
    }

    /// Downloads and parses the result of a finished task. A task with no `result_url`
    /// (not finished, failed, no data, or expired) is [`Error::TaskGone`] when finished
    /// without error, else an invalid-input error saying why.
    pub async fn result(&self, task: &Task) -> Result<ResultTable> {
        let url = match (&task.result_url, task.is_finished(), task.error()) {
            (Some(u), _, _) => u.clone(),
            (None, false, _) => {
                return Err(Error::invalid("task", format!("task {} has not finished yet", task.id)));
            }
            (None, true, Some(msg)) => {
                return Err(Error::invalid("task", format!("task {} finished without data: {msg}", task.id)));
            }
            (None, true, None) => {
                return Err(Error::TaskGone {
                    url: task.url.clone(),
                    message: Some("the result file has expired".into()),
                });
            }
        };
        ResultTable::parse(&self.download_url(&url).await?)
    }

    /// `DELETE /queue/<id>/` (expects 204 with an empty body). Counts against the write
    /// budget. A task that is already gone is [`Error::TaskGone`].
    pub async fn delete(&self, id: u64) -> Result<()> {
        self.send(Request::delete(task_path(id)), Budget::Write).await?;
        Ok(())
    }

    /// Your own tasks, newest first: `GET /queue/?pagesize=100`, following `next` until it
    /// is null. [`ItemStream::total`] is the server's `taskcount`.
    pub fn list(&self) -> ItemStream<Task> {
        self.list_with(ListOptions::default())
    }

    /// [`Self::list`] with a page size, ordering or `started` filter.
    pub fn list_with(&self, options: ListOptions) -> ItemStream<Task> {
        let client = self.clone();
        CursorPaginator::new(move |cursor: Option<String>| {
            let client = client.clone();
            let options = options.clone();
            async move {
                let req = match cursor {
                    Some(next) => Request::get(next),
                    None => Request::get("queue/")
                        .query("pagesize", options.page_size.unwrap_or(100).clamp(1, 100))
                        .query_opt("ordering", options.ordering.as_deref())
                        .query_opt("started", options.started),
                };
                client.reads.acquire(client.http.clock().as_ref()).await;
                let page: TaskPage = client.http.json(req).await?;
                Ok(Page::new(page.results).with_total(page.taskcount).with_next(page.next))
            }
        })
        .into_stream()
    }
}
