//! Removing secrets from URLs before they reach errors and logs.

use url::Url;

/// Query parameter names whose values are secrets.
const SECRET_PARAMS: &[&str] =
    &["token", "api_key", "apikey", "key", "password", "access_token", "secret", "auth", "signature"];

/// Whether a query parameter name holds a secret (case-insensitive).
pub fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|p| lower == *p || lower.ends_with("_token") || lower.ends_with("_key"))
}

/// The URL with user-info and secret query values replaced by `REDACTED`.
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    if !u.username().is_empty() {
        let _ = u.set_username("REDACTED");
    }
    if u.password().is_some() {
        let _ = u.set_password(None);
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) { "REDACTED".to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        u.set_query(None);
        if !pairs.is_empty() {
            u.query_pairs_mut().extend_pairs(pairs);
        }
    }
    u.to_string()
}

/// [`redact_url`] for a string that may not be a valid URL (then anything after `?` is dropped).
pub fn redact_url_str(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => redact_url(&u),
        Err(_) => url.split('?').next().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_and_userinfo_removed() {
        let u = Url::parse("https://me:pw@host/api/?token=abc123&ra=10&api_key=zz").unwrap();
        let r = redact_url(&u);
        assert!(!r.contains("abc123") && !r.contains("pw") && !r.contains("zz"), "{r}");
        assert!(r.contains("ra=10"));
        assert!(r.contains("token=REDACTED"));
        assert_eq!(redact_url_str("not a url?token=x"), "not a url");
    }
}
