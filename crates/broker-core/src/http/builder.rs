//! Configuring and building an [`HttpClient`]: base URL, user agent, timeouts, retry, auth,
//! rate limits, server quotas, size limit.

use super::*;

/// Builds an [`HttpClient`].
pub struct HttpClientBuilder {
    base: String,
    user_agent: String,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    auth: Arc<dyn Auth>,
    clock: Arc<dyn Clock>,
    limiters: HashMap<String, Arc<RateLimiter>>,
    default_buckets: Vec<String>,
    server_quotas: HashMap<String, Arc<ServerQuota>>,
    default_server_quotas: Vec<String>,
    headers: HeaderMap,
    max_response_bytes: usize,
    allow_insecure_http: bool,
    reqwest: Option<reqwest::Client>,
}

impl fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("base", &crate::redact::redact_url_str(&self.base))
            .field("user_agent", &self.user_agent)
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl HttpClientBuilder {
    /// Sets the user agent (default `astrobrokers/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// The time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// The time allowed for one attempt, from sending to the last body byte (default 60 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// The retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// The auth (default: none).
    pub fn auth(mut self, auth: impl Auth + 'static) -> Self {
        self.auth = Arc::new(auth);
        self
    }
    /// The auth, shared.
    pub fn auth_arc(mut self, auth: Arc<dyn Auth>) -> Self {
        self.auth = auth;
        self
    }
    /// The clock (tests inject a [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Registers a rate-limit bucket under `name`; requests opt in with
    /// [`Request::bucket`], or every request draws from it when `name` is also passed to
    /// [`Self::default_bucket`].
    pub fn rate_limit(mut self, name: &str, limiter: Arc<RateLimiter>) -> Self {
        self.limiters.insert(name.to_string(), limiter);
        self
    }
    /// Makes every request draw from the named bucket.
    pub fn default_bucket(mut self, name: &str) -> Self {
        self.default_buckets.push(name.to_string());
        self
    }
    /// Registers a quota the server announces in its response headers under `name` (see
    /// [`ServerQuota`]). Every response updates it; requests wait for it when they opt in with
    /// [`Request::server_quota`], or always when `name` is also passed to
    /// [`Self::default_server_quota`]. Share the `Arc` between clients that use the same
    /// credential.
    pub fn server_quota(mut self, name: &str, quota: Arc<ServerQuota>) -> Self {
        self.server_quotas.insert(name.to_string(), quota);
        self
    }
    /// Makes every request wait for the named server-announced quota.
    pub fn default_server_quota(mut self, name: &str) -> Self {
        self.default_server_quotas.push(name.to_string());
        self
    }
    /// A header sent on every request (e.g. `Accept: application/json`).
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }
    /// The largest response body accepted (default 512 MiB); larger ones fail with a
    /// transport error instead of exhausting memory.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }
    /// Allows sending credentials over plain `http` to a host that is not loopback.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
    /// Uses this reqwest client (its redirect policy must be `none`).
    pub fn reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.reqwest = Some(client);
        self
    }

    /// The non-secret id of the configured credential (see [`Auth::credential_id`]), for
    /// per-credential rate-limit keys.
    pub fn credential_id(&self) -> Option<String> {
        self.auth.credential_id()
    }

    /// Builds the client; fails on a bad base URL, an unknown default bucket, or credentials
    /// over plain http to a remote host.
    pub fn build(self) -> Result<HttpClient> {
        let base = parse_base_url(&self.base)?;
        if base.scheme() == "http" && self.auth.sends_secret() && !self.allow_insecure_http && !is_loopback_host(&base)
        {
            return Err(Error::Config(format!(
                "refusing to send credentials over plain http to {}; use https or allow insecure http explicitly",
                base.host_str().unwrap_or_default()
            )));
        }
        for b in &self.default_buckets {
            if !self.limiters.contains_key(b) {
                return Err(Error::Config(format!("default rate-limit bucket `{b}` is not registered")));
            }
        }
        for q in &self.default_server_quotas {
            if !self.server_quotas.contains_key(q) {
                return Err(Error::Config(format!("default server quota `{q}` is not registered")));
            }
        }
        let http = match self.reqwest {
            Some(c) => c,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.connect_timeout)
                .gzip(true)
                .build()
                .map_err(|e| Error::Config(format!("could not build the HTTP client: {}", describe_reqwest(&e))))?,
        };
        Ok(HttpClient {
            inner: Arc::new(Inner {
                base,
                http,
                user_agent: self.user_agent,
                timeout: self.timeout,
                retry: self.retry,
                auth: self.auth,
                clock: self.clock,
                limiters: self.limiters,
                default_buckets: self.default_buckets,
                server_quotas: self.server_quotas,
                default_server_quotas: self.default_server_quotas,
                headers: self.headers,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

/// Parses a base URL: `http` or `https` with a host; the path is kept exactly, and one `/`
/// is added only if the path does not end with one (so `api` and `api/` both join
/// `objects/` into `api/objects/`).
pub fn parse_base_url(s: &str) -> Result<Url> {
    let mut u = Url::parse(s.trim()).map_err(|e| Error::Config(format!("invalid base URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(Error::Config("the base URL must be http(s)://host/...".into()));
    }
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    u.set_query(None);
    u.set_fragment(None);
    Ok(u)
}

fn is_loopback_host(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub(super) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host() == b.host() && a.port_or_known_default() == b.port_or_known_default()
}

impl HttpClient {
    /// Starts a builder for a service at `base_url`.
    pub fn builder(base_url: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            base: base_url.into(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            auth: Arc::new(NoAuth),
            clock: Arc::new(TokioClock::default()),
            limiters: HashMap::new(),
            default_buckets: Vec::new(),
            server_quotas: HashMap::new(),
            default_server_quotas: Vec::new(),
            headers: HeaderMap::new(),
            max_response_bytes: 512 * 1024 * 1024,
            allow_insecure_http: false,
            reqwest: None,
        }
    }
}
