//! The `auth-token/` reply and what a token refresh gave.

use super::*;

/// The reply of `auth-token/`.
#[derive(Clone, Deserialize)]
pub(crate) struct TokenReply {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub expires_in: Option<f64>,
    #[serde(default)]
    pub refreshed: Option<bool>,
}

/// What a token refresh gave (the token itself is in the client, never shown).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenInfo {
    /// Seconds until the token expires, when the server said.
    pub expires_in: Option<f64>,
    /// Whether a new token was issued (`false`: the old one had not expired yet), when the
    /// server said.
    pub refreshed: Option<bool>,
    /// Whether the token now in use differs from the one before.
    pub changed: bool,
}
