//! Putting credentials on requests, and refreshing them once after a 401.
//!
//! - [`NoAuth`]: public APIs (ALeRCE).
//! - [`HeaderToken`]: a fixed token with a scheme word (`Authorization: Token <key>`,
//!   `token <key>`, `Bearer <key>`).
//! - [`LoginToken`]: username and password posted as a form to a token endpoint; the token
//!   read from the JSON reply is cached and shared by concurrent requests (fifty requests
//!   at once cause one login), refreshed once after a 401, and optionally handed to a hook
//!   that persists it.
//!
//! Credentials are attached only to requests for the client's own origin: after a
//! redirect to, or an absolute URL on, another host nothing is sent.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::{Error, Result, server_message};

/// What an auth implementation may use while applying or refreshing credentials.
pub struct AuthContext<'a> {
    /// The shared HTTP client (for login requests).
    pub http: &'a reqwest::Client,
    /// The user agent to send on login requests.
    pub user_agent: &'a str,
}

/// Which generation of credentials a request carried, so that a refresh after many
/// concurrent 401s happens once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthStamp(pub u64);

/// Puts credentials on a request and may refresh them after a 401.
#[async_trait]
pub trait Auth: Send + Sync + fmt::Debug {
    /// Adds credentials to the headers of an outgoing request; returns the generation used.
    async fn apply(&self, ctx: &AuthContext<'_>, headers: &mut HeaderMap) -> Result<AuthStamp>;

    /// Called once per request after a 401 (with the stamp the request carried and the
    /// server's body). Returns `Ok(true)` when new credentials are in place and the request
    /// is worth one more try; `Ok(false)` when nothing can be done.
    async fn refresh(&self, _ctx: &AuthContext<'_>, _stamp: AuthStamp, _body: &[u8]) -> Result<bool> {
        Ok(false)
    }

    /// Whether this auth sends any secret (used to refuse plain http to remote hosts).
    fn sends_secret(&self) -> bool {
        true
    }

    /// A short non-secret id of the credential, for per-credential rate-limit buckets.
    fn credential_id(&self) -> Option<String> {
        None
    }
}

/// No credentials.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

#[async_trait]
impl Auth for NoAuth {
    async fn apply(&self, _ctx: &AuthContext<'_>, _headers: &mut HeaderMap) -> Result<AuthStamp> {
        Ok(AuthStamp(0))
    }
    fn sends_secret(&self) -> bool {
        false
    }
}

/// Builds a sensitive header value `"<scheme> <token>"` (or just the token).
pub fn token_header_value(scheme: Option<&str>, token: &SecretString) -> Result<HeaderValue> {
    let raw = match scheme {
        Some(s) if !s.is_empty() => format!("{s} {}", token.expose_secret()),
        _ => token.expose_secret().to_string(),
    };
    let mut v = HeaderValue::from_str(&raw)
        .map_err(|_| Error::Config("the token contains characters that cannot go in an HTTP header".into()))?;
    v.set_sensitive(true);
    Ok(v)
}

/// A fixed token sent in a header with a scheme word.
#[derive(Clone)]
pub struct HeaderToken {
    header: HeaderName,
    scheme: Option<String>,
    token: SecretString,
}

impl fmt::Debug for HeaderToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderToken")
            .field("header", &self.header)
            .field("scheme", &self.scheme)
            .field("token", &"[REDACTED]")
            .finish()
    }
}

impl HeaderToken {
    /// `Authorization: <scheme> <token>`; the scheme word is sent exactly as given
    /// (`"Token"`, `"token"`, `"Bearer"`).
    pub fn new(scheme: &str, token: impl Into<SecretString>) -> Self {
        HeaderToken { header: AUTHORIZATION, scheme: Some(scheme.to_string()), token: token.into() }
    }
    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: impl Into<SecretString>) -> Self {
        Self::new("Bearer", token)
    }
    /// The token in another header, without a scheme word (e.g. `X-Api-Key: <token>`).
    pub fn in_header(header: HeaderName, token: impl Into<SecretString>) -> Self {
        HeaderToken { header, scheme: None, token: token.into() }
    }
}

#[async_trait]
impl Auth for HeaderToken {
    async fn apply(&self, _ctx: &AuthContext<'_>, headers: &mut HeaderMap) -> Result<AuthStamp> {
        headers.insert(self.header.clone(), token_header_value(self.scheme.as_deref(), &self.token)?);
        Ok(AuthStamp(0))
    }
    fn credential_id(&self) -> Option<String> {
        Some(crate::ratelimit::credential_id(self.token.expose_secret()))
    }
}

/// Called with a freshly obtained token, e.g. to write it back to a config file.
pub type PersistHook = Arc<dyn Fn(&SecretString) -> Result<()> + Send + Sync>;

/// Posts `username` and `password` as a form to `login_url` and reads the token from the
/// JSON field `token_field` of the reply.
///
/// A 400/401/403 reply becomes [`Error::Auth`] with the server's message (Django REST
/// framework's `non_field_errors`, for instance).
pub async fn login_for_token(
    ctx: &AuthContext<'_>,
    login_url: &Url,
    username: &str,
    password: &SecretString,
    token_field: &str,
) -> Result<SecretString> {
    let url_s = crate::redact::redact_url(login_url);
    let form = [("username", username), ("password", password.expose_secret())];
    let resp = ctx
        .http
        .post(login_url.clone())
        .header(reqwest::header::USER_AGENT, ctx.user_agent)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| Error::Transport { url: url_s.clone(), message: crate::http::describe_reqwest(&e) })?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| Error::Transport { url: url_s.clone(), message: crate::http::describe_reqwest(&e) })?;
    if !(200..300).contains(&status) {
        let message = server_message(&body).unwrap_or_else(|| format!("the login endpoint answered HTTP {status}"));
        return Err(Error::Auth { status: Some(status), message });
    }
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| Error::Decode {
        path: ".".into(),
        message: e.to_string(),
        excerpt: "(login reply withheld)".into(),
        url: url_s.clone(),
    })?;
    match v.get(token_field).and_then(|t| t.as_str()) {
        Some(t) if !t.is_empty() => Ok(SecretString::from(t.to_string())),
        _ => {
            Err(Error::Auth { status: Some(status), message: format!("the login reply has no `{token_field}` field") })
        }
    }
}

/// Login-for-token: exchanges username and password for a token, caches it, and logs in
/// again (once) after a 401.
pub struct LoginToken {
    login_url: Url,
    username: String,
    password: SecretString,
    token_field: String,
    header: HeaderName,
    scheme: Option<String>,
    state: tokio::sync::Mutex<LoginState>,
    persist: Option<PersistHook>,
}

struct LoginState {
    token: Option<SecretString>,
    generation: u64,
    logins: u64,
}

impl fmt::Debug for LoginToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginToken")
            .field("login_url", &crate::redact::redact_url(&self.login_url))
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl LoginToken {
    /// Logs in at `login_url` with a form of `username` and `password`; the token is sent as
    /// `Authorization: <scheme> <token>`. The reply's token is read from `"token"`.
    pub fn new(login_url: Url, username: impl Into<String>, password: impl Into<SecretString>, scheme: &str) -> Self {
        LoginToken {
            login_url,
            username: username.into(),
            password: password.into(),
            token_field: "token".into(),
            header: AUTHORIZATION,
            scheme: Some(scheme.to_string()),
            state: tokio::sync::Mutex::new(LoginState { token: None, generation: 0, logins: 0 }),
            persist: None,
        }
    }
    /// Starts with a token already known (e.g. from a config file); logs in only after a 401.
    pub fn with_token(self, token: impl Into<SecretString>) -> Self {
        if let Ok(mut s) = self.state.try_lock() {
            s.token = Some(token.into());
            s.generation += 1;
        }
        self
    }
    /// Reads the token from another JSON field of the login reply.
    pub fn token_field(mut self, field: impl Into<String>) -> Self {
        self.token_field = field.into();
        self
    }
    /// Calls `hook` with every token obtained by a login, e.g. to persist it.
    pub fn on_new_token(mut self, hook: PersistHook) -> Self {
        self.persist = Some(hook);
        self
    }
    /// How many logins were made so far.
    pub async fn login_count(&self) -> u64 {
        self.state.lock().await.logins
    }

    async fn login(&self, ctx: &AuthContext<'_>, s: &mut LoginState) -> Result<()> {
        let token = login_for_token(ctx, &self.login_url, &self.username, &self.password, &self.token_field).await?;
        s.logins += 1;
        s.generation += 1;
        if let Some(hook) = &self.persist {
            if let Err(e) = hook(&token) {
                tracing::warn!(error = %e, "could not persist the refreshed token");
            }
        }
        s.token = Some(token);
        Ok(())
    }
}

#[async_trait]
impl Auth for LoginToken {
    async fn apply(&self, ctx: &AuthContext<'_>, headers: &mut HeaderMap) -> Result<AuthStamp> {
        let mut s = self.state.lock().await;
        if s.token.is_none() {
            self.login(ctx, &mut s).await?;
        }
        let Some(token) = s.token.as_ref() else {
            return Err(Error::Auth { status: None, message: "no token after login".into() });
        };
        headers.insert(self.header.clone(), token_header_value(self.scheme.as_deref(), token)?);
        Ok(AuthStamp(s.generation))
    }

    async fn refresh(&self, ctx: &AuthContext<'_>, stamp: AuthStamp, _body: &[u8]) -> Result<bool> {
        let mut s = self.state.lock().await;
        if s.generation != stamp.0 {
            // Another request already logged in again since this one was sent.
            return Ok(true);
        }
        s.token = None;
        self.login(ctx, &mut s).await?;
        Ok(true)
    }

    fn credential_id(&self) -> Option<String> {
        Some(crate::ratelimit::credential_id(&format!("{}\u{0}{}", self.login_url, self.username)))
    }
}
