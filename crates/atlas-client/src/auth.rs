//! ATLAS token auth: `Authorization: Token <key>`, with the server's three 401 cases.
//!
//! - `"Token has expired."`: the token file is read again (another process may have
//!   refreshed it); otherwise, when username and password were given to the builder, a new
//!   token is fetched from `auth-token/`, written back to the YAML file (if any), and the
//!   request is retried once. Without credentials the error says how to refresh. The
//!   library never prompts.
//! - `"Invalid token."`: the token file is read again once; the request is retried if the
//!   token there is different.
//! - `"Authentication credentials were not provided."`: a clear error, no retry.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use broker_core::auth::{AuthContext, AuthStamp, token_header_value};
use broker_core::error::server_message;
use broker_core::{Auth, Error, ExposeSecret, HttpClient, Request, Result, RetrySafety, SecretString};
use reqwest::header::{AUTHORIZATION, HeaderMap};

use crate::config::AtlasConfigFile;
use crate::models::{TokenInfo, TokenReply};

/// Called with every new token obtained from `auth-token/` (after it was written to the
/// config file, if any).
pub type TokenHook = Arc<dyn Fn(&SecretString) + Send + Sync>;

pub(crate) struct Credentials {
    pub username: String,
    pub password: SecretString,
}

struct State {
    token: Option<SecretString>,
    generation: u64,
}

/// The auth the ATLAS client uses (see the module docs).
pub struct AtlasAuth {
    state: tokio::sync::Mutex<State>,
    config_path: Option<PathBuf>,
    credentials: Option<Credentials>,
    login: HttpClient,
    hook: Option<TokenHook>,
    credential_id: String,
}

impl fmt::Debug for AtlasAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtlasAuth")
            .field("scheme", &"Token")
            .field("token", &"[REDACTED]")
            .field("config_path", &self.config_path)
            .field("username", &self.credentials.as_ref().map(|c| c.username.as_str()))
            .field("password", &self.credentials.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// Which 401 the server sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Expired,
    Invalid,
    NotProvided,
    Other,
}

fn reason(body: &[u8]) -> Reason {
    let msg = server_message(body).unwrap_or_default().to_ascii_lowercase();
    if msg.contains("expired") {
        Reason::Expired
    } else if msg.contains("invalid token") {
        Reason::Invalid
    } else if msg.contains("credentials were not provided") {
        Reason::NotProvided
    } else {
        Reason::Other
    }
}

/// Checks a token before it goes into a header: non-empty, no whitespace or control
/// characters (DRF keys are 40 hex characters).
pub(crate) fn validate_token(t: &str) -> Result<()> {
    if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            "token",
            "an ATLAS API token is one word of letters and digits (40 hex characters); check ATLAS_API_TOKEN or the `token` key of your config file",
        ));
    }
    Ok(())
}

impl AtlasAuth {
    pub(crate) fn new(
        token: Option<SecretString>,
        config_path: Option<PathBuf>,
        credentials: Option<Credentials>,
        login: HttpClient,
        hook: Option<TokenHook>,
        credential_id: String,
    ) -> Self {
        AtlasAuth {
            state: tokio::sync::Mutex::new(State { token, generation: 1 }),
            config_path,
            credentials,
            login,
            hook,
            credential_id,
        }
    }

    /// Posts username and password to `auth-token/` (no `Authorization` header: an expired
    /// token there would be refused) and reads `{token, expires_in, refreshed}`.
    pub(crate) async fn fetch_token(
        login: &HttpClient,
        username: &str,
        password: &SecretString,
    ) -> Result<(SecretString, TokenReply)> {
        if username.trim().is_empty() {
            return Err(Error::invalid("username", "the username is empty"));
        }
        let req = Request::post("auth-token/")
            .form("username", username)
            .form("password", password.expose_secret())
            .retry_safety(RetrySafety::Unsafe);
        let resp = match login.execute(req).await {
            Ok(r) => r,
            Err(Error::Http(h)) if matches!(h.status, 400 | 401 | 403) => {
                let msg = h.message.clone().unwrap_or_else(|| "the token endpoint refused the credentials".into());
                return Err(Error::Auth { status: Some(h.status), message: format!("token refresh failed: {msg}") });
            }
            Err(e) => return Err(e),
        };
        let reply: TokenReply = resp.json().map_err(|_| Error::Auth {
            status: Some(resp.status),
            message: "token refresh failed: the reply of auth-token/ is not the expected JSON".into(),
        })?;
        let token = reply.token.clone().filter(|t| !t.trim().is_empty()).ok_or_else(|| Error::Auth {
            status: Some(resp.status),
            message: "token refresh failed: the reply of auth-token/ has no `token`".into(),
        })?;
        validate_token(token.trim()).map_err(|_| Error::Auth {
            status: Some(resp.status),
            message: "token refresh failed: the server returned a malformed token".into(),
        })?;
        Ok((SecretString::from(token.trim().to_string()), reply))
    }

    /// Installs a new token: in memory, in the config file, and through the hook.
    fn install(&self, s: &mut State, token: SecretString) -> bool {
        let changed = s.token.as_ref().map(|t| t.expose_secret() != token.expose_secret()).unwrap_or(true);
        if let Some(p) = &self.config_path {
            if let Err(e) = AtlasConfigFile::save_token(p, &token) {
                tracing::warn!(error = %e, "could not write the refreshed ATLAS token to the config file");
            }
        }
        if let Some(h) = &self.hook {
            h(&token);
        }
        s.token = Some(token);
        s.generation += 1;
        changed
    }

    /// Refreshes the token with explicit credentials (the public `refresh_token`).
    pub(crate) async fn refresh_with(&self, username: &str, password: &SecretString) -> Result<TokenInfo> {
        let (token, reply) = Self::fetch_token(&self.login, username, password).await?;
        let mut s = self.state.lock().await;
        let changed = self.install(&mut s, token);
        Ok(TokenInfo { expires_in: reply.expires_in, refreshed: reply.refreshed, changed })
    }

    /// The token in the config file, if it differs from the one in use.
    fn newer_token_in_file(&self, s: &State) -> Option<SecretString> {
        let p = self.config_path.as_ref()?;
        let cfg = AtlasConfigFile::load(p).ok()?;
        let fresh = cfg.token().clone();
        let same = s.token.as_ref().is_some_and(|t| t.expose_secret() == fresh.expose_secret());
        (!same).then_some(fresh)
    }

    async fn login_with_credentials(&self, s: &mut State) -> Result<bool> {
        let Some(c) = &self.credentials else {
            return Ok(false);
        };
        let (token, _) = Self::fetch_token(&self.login, &c.username, &c.password).await?;
        self.install(s, token);
        Ok(true)
    }
}

#[async_trait]
impl Auth for AtlasAuth {
    async fn apply(&self, _ctx: &AuthContext<'_>, headers: &mut HeaderMap) -> Result<AuthStamp> {
        let mut s = self.state.lock().await;
        if s.token.is_none() && !self.login_with_credentials(&mut s).await? {
            return Err(Error::Auth {
                status: None,
                message: "no ATLAS API token: give one to the builder, set ATLAS_API_TOKEN, or point to your api_config_MINE.yaml".into(),
            });
        }
        let Some(token) = s.token.as_ref() else {
            return Err(Error::Auth { status: None, message: "no ATLAS API token after login".into() });
        };
        headers.insert(AUTHORIZATION, token_header_value(Some("Token"), token)?);
        Ok(AuthStamp(s.generation))
    }

    async fn refresh(&self, _ctx: &AuthContext<'_>, stamp: AuthStamp, body: &[u8]) -> Result<bool> {
        let mut s = self.state.lock().await;
        if s.generation != stamp.0 {
            // Another request already changed the token since this one was sent.
            return Ok(true);
        }
        match reason(body) {
            Reason::Expired => {
                if let Some(t) = self.newer_token_in_file(&s) {
                    s.token = Some(t);
                    s.generation += 1;
                    return Ok(true);
                }
                if self.login_with_credentials(&mut s).await? {
                    return Ok(true);
                }
                Err(Error::Auth {
                    status: Some(401),
                    message: "Token has expired. Refresh it with AtlasClient::refresh_token(username, password), \
                              or give username and password to the builder to refresh automatically"
                        .into(),
                })
            }
            Reason::Invalid => {
                if let Some(t) = self.newer_token_in_file(&s) {
                    s.token = Some(t);
                    s.generation += 1;
                    return Ok(true);
                }
                Ok(false)
            }
            Reason::NotProvided | Reason::Other => Ok(false),
        }
    }

    fn credential_id(&self) -> Option<String> {
        Some(self.credential_id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons() {
        assert_eq!(reason(br#"{"detail":"Token has expired."}"#), Reason::Expired);
        assert_eq!(reason(br#"{"detail":"Invalid token."}"#), Reason::Invalid);
        assert_eq!(reason(br#"{"detail":"Authentication credentials were not provided."}"#), Reason::NotProvided);
        assert_eq!(reason(b"<html>"), Reason::Other);
        assert!(validate_token("0123456789abcdef0123456789abcdef01234567").is_ok());
        assert!(validate_token("").is_err());
        assert!(validate_token("abc def").is_err());
    }
}
