//! [`AlerceClient`] and its builder.

use std::fmt;
use std::sync::Arc;

use broker_core::{ClientOptions, HeaderToken, HttpClient, NoAuth, Request, Response, SecretString};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use broker_core::http::replace_nonfinite_json;

/// Default ZTF v1 API base (routes `objects/`, `classifiers/`).
pub const DEFAULT_ZTF_URL: &str = "https://api.alerce.online/ztf/v1/";
/// Default ZTF forced-photometry ("v2 lightcurve") base (route `forced-photometry/{oid}`).
pub const DEFAULT_ZTF_FORCED_PHOTOMETRY_URL: &str = "https://api.alerce.online/v2/lightcurve/";
/// Default multisurvey (LSST) API base (`object_api/`, `lightcurve_api/`, ...).
pub const DEFAULT_LSST_URL: &str = "https://api-lsst.alerce.online/";
/// Default ZTF stamps and avro service (`get_stamp`, `get_avro`).
pub const DEFAULT_ZTF_STAMPS_URL: &str = "https://avro.alerce.online/";
/// Default multisurvey stamps service (`stamp`, `avro`).
pub const DEFAULT_LSST_STAMPS_URL: &str = "https://api-lsst.alerce.online/stamps_api/";
/// Default catsHTM service (`conesearch`, `crossmatch`, ...).
pub const DEFAULT_CATSHTM_URL: &str = "https://catshtm.alerce.online/";

/// Environment variables read by [`AlerceClientBuilder::from_env`].
pub const ENV_VARS: [&str; 7] = [
    "ALERCE_ZTF_URL",
    "ALERCE_ZTF_FORCED_PHOTOMETRY_URL",
    "ALERCE_LSST_URL",
    "ALERCE_ZTF_STAMPS_URL",
    "ALERCE_LSST_STAMPS_URL",
    "ALERCE_CATSHTM_URL",
    "ALERCE_TOKEN",
];

/// Builds an [`AlerceClient`]. Every base URL can be overridden; defaults are the
/// public production services.
///
/// The transport setters every client shares (`retry`, `clock`, `timeout`,
/// `connect_timeout`, `user_agent`, `max_response_bytes`, `allow_insecure_http`,
/// `reqwest_client`) come from [`broker_core::ClientOptions`], and so do `rate_limit`,
/// `rate_limiter` and `no_rate_limit`: a client-side limit shared by every ALeRCE service and
/// by every client built with the same credential (none by default: ALeRCE publishes no
/// limit; set one to keep bulk work polite). The default retry policy is the core's: 5xx
/// replies and timeouts on these GETs are retried.
pub struct AlerceClientBuilder {
    ztf: String,
    ztf_fp: String,
    lsst: String,
    ztf_stamps: String,
    lsst_stamps: String,
    catshtm: String,
    token: Option<SecretString>,
    options: ClientOptions,
    lsst_survey: String,
}

broker_core::client_options_setters!(AlerceClientBuilder, options, rate_limit);

impl fmt::Debug for AlerceClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlerceClientBuilder")
            .field("ztf", &self.ztf)
            .field("ztf_forced_photometry", &self.ztf_fp)
            .field("lsst", &self.lsst)
            .field("ztf_stamps", &self.ztf_stamps)
            .field("lsst_stamps", &self.lsst_stamps)
            .field("catshtm", &self.catshtm)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

impl Default for AlerceClientBuilder {
    fn default() -> Self {
        AlerceClientBuilder {
            ztf: DEFAULT_ZTF_URL.into(),
            ztf_fp: DEFAULT_ZTF_FORCED_PHOTOMETRY_URL.into(),
            lsst: DEFAULT_LSST_URL.into(),
            ztf_stamps: DEFAULT_ZTF_STAMPS_URL.into(),
            lsst_stamps: DEFAULT_LSST_STAMPS_URL.into(),
            catshtm: DEFAULT_CATSHTM_URL.into(),
            token: None,
            options: ClientOptions::default(),
            lsst_survey: "lsst".into(),
        }
    }
}

impl AlerceClientBuilder {
    /// Points every service at one host, with the production path layout below it:
    /// `<root>/ztf/v1/`, `<root>/v2/lightcurve/`, `<root>/` (multisurvey, ZTF stamps and
    /// catsHTM), `<root>/stamps_api/`. Handy for a local emulator or a test server.
    pub fn host(mut self, root: &str) -> Self {
        let r = root.trim_end_matches('/');
        self.ztf = format!("{r}/ztf/v1/");
        self.ztf_fp = format!("{r}/v2/lightcurve/");
        self.lsst = format!("{r}/");
        self.ztf_stamps = format!("{r}/");
        self.lsst_stamps = format!("{r}/stamps_api/");
        self.catshtm = format!("{r}/");
        self
    }
    /// The ZTF v1 API base (default [`DEFAULT_ZTF_URL`]).
    pub fn ztf_url(mut self, url: impl Into<String>) -> Self {
        self.ztf = url.into();
        self
    }
    /// The ZTF forced-photometry base (default [`DEFAULT_ZTF_FORCED_PHOTOMETRY_URL`]).
    pub fn ztf_forced_photometry_url(mut self, url: impl Into<String>) -> Self {
        self.ztf_fp = url.into();
        self
    }
    /// The multisurvey (LSST) API base (default [`DEFAULT_LSST_URL`]).
    pub fn lsst_url(mut self, url: impl Into<String>) -> Self {
        self.lsst = url.into();
        self
    }
    /// The ZTF stamps/avro service (default [`DEFAULT_ZTF_STAMPS_URL`]).
    pub fn ztf_stamps_url(mut self, url: impl Into<String>) -> Self {
        self.ztf_stamps = url.into();
        self
    }
    /// The multisurvey stamps service (default [`DEFAULT_LSST_STAMPS_URL`]).
    pub fn lsst_stamps_url(mut self, url: impl Into<String>) -> Self {
        self.lsst_stamps = url.into();
        self
    }
    /// The catsHTM service (default [`DEFAULT_CATSHTM_URL`]).
    pub fn catshtm_url(mut self, url: impl Into<String>) -> Self {
        self.catshtm = url.into();
        self
    }
    /// The survey id the multisurvey calls send (`survey` / `survey_id`), default `lsst`.
    /// The multisurvey server also knows `ztf` for its light-curve routes.
    pub fn lsst_survey(mut self, survey: impl Into<String>) -> Self {
        self.lsst_survey = survey.into();
        self
    }
    /// An optional ALeRCE JWT, sent as `Authorization: Bearer <token>` to the ZTF,
    /// forced-photometry, multisurvey and multisurvey-stamps services (never to catsHTM or
    /// the legacy ZTF stamp service). Public data needs none.
    pub fn bearer_token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(token.into());
        self
    }
    /// Reads base URLs and the token from the environment ([`ENV_VARS`]), keeping the
    /// current value for each variable that is unset or empty.
    pub fn from_env(mut self) -> Self {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = get("ALERCE_ZTF_URL") {
            self.ztf = v;
        }
        if let Some(v) = get("ALERCE_ZTF_FORCED_PHOTOMETRY_URL") {
            self.ztf_fp = v;
        }
        if let Some(v) = get("ALERCE_LSST_URL") {
            self.lsst = v;
        }
        if let Some(v) = get("ALERCE_ZTF_STAMPS_URL") {
            self.ztf_stamps = v;
        }
        if let Some(v) = get("ALERCE_LSST_STAMPS_URL") {
            self.lsst_stamps = v;
        }
        if let Some(v) = get("ALERCE_CATSHTM_URL") {
            self.catshtm = v;
        }
        if let Some(v) = get("ALERCE_TOKEN") {
            self.token = Some(SecretString::from(v));
        }
        self
    }

    /// Builds the client; fails on a malformed base URL.
    pub fn build(self) -> Result<AlerceClient> {
        let limiter = self.options.limiter(
            || {
                let who = self
                    .token
                    .as_ref()
                    .map(|t| broker_core::ratelimit::credential_id(broker_core::ExposeSecret::expose_secret(t)))
                    .unwrap_or_else(|| "anonymous".into());
                format!("alerce:{who}")
            },
            None,
        );
        let make = |base: &str, with_token: bool| -> Result<HttpClient> {
            let mut b = self.options.apply(HttpClient::builder(base));
            b = match (&self.token, with_token) {
                (Some(t), true) => b.auth(HeaderToken::bearer(t.clone())),
                _ => b.auth(NoAuth),
            };
            if let Some(l) = &limiter {
                b = b.rate_limit("alerce", l.clone()).default_bucket("alerce");
            }
            Ok(b.build()?)
        };
        let survey = self.lsst_survey.trim().to_string();
        if survey.is_empty() {
            return Err(Error::invalid("survey", "the multisurvey survey id must not be empty (use `lsst` or `ztf`)"));
        }
        Ok(AlerceClient {
            inner: Arc::new(Inner {
                ztf: make(&self.ztf, true)?,
                ztf_fp: make(&self.ztf_fp, true)?,
                lsst: make(&self.lsst, true)?,
                ztf_stamps: make(&self.ztf_stamps, false)?,
                lsst_stamps: make(&self.lsst_stamps, true)?,
                catshtm: make(&self.catshtm, false)?,
                survey,
            }),
        })
    }
}

/// A client for every ALeRCE service: the ZTF v1 API ([`AlerceClient::ztf`]), the
/// multisurvey/LSST API ([`AlerceClient::lsst`]), stamps and avro packets
/// ([`AlerceClient::stamps`]) and catsHTM ([`AlerceClient::catshtm`]).
/// Cheap to clone.
#[derive(Clone)]
pub struct AlerceClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) ztf: HttpClient,
    pub(crate) ztf_fp: HttpClient,
    pub(crate) lsst: HttpClient,
    pub(crate) ztf_stamps: HttpClient,
    pub(crate) lsst_stamps: HttpClient,
    pub(crate) catshtm: HttpClient,
    pub(crate) survey: String,
}

impl fmt::Debug for AlerceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlerceClient")
            .field("ztf", &self.inner.ztf)
            .field("ztf_forced_photometry", &self.inner.ztf_fp)
            .field("lsst", &self.inner.lsst)
            .field("ztf_stamps", &self.inner.ztf_stamps)
            .field("lsst_stamps", &self.inner.lsst_stamps)
            .field("catshtm", &self.inner.catshtm)
            .finish()
    }
}

impl AlerceClient {
    /// A client for the public production services, without a token.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }
    /// Starts a builder.
    pub fn builder() -> AlerceClientBuilder {
        AlerceClientBuilder::default()
    }
    /// The multisurvey survey id in use (`lsst` by default).
    pub fn survey(&self) -> &str {
        &self.inner.survey
    }
}

/// Sends a request and decodes the JSON reply, with NaN/Infinity tokens read as null.
pub(crate) async fn get_json<T: DeserializeOwned>(http: &HttpClient, req: Request) -> Result<T> {
    let resp = http.execute(req).await?;
    decode(&resp)
}

/// Decodes a response body (see [`get_json`]).
pub(crate) fn decode<T: DeserializeOwned>(resp: &Response) -> Result<T> {
    let body = replace_nonfinite_json(&resp.body);
    Ok(broker_core::http::decode_json(&body, &resp.url)?)
}

/// Sends a request and returns the raw response.
pub(crate) async fn get_raw(http: &HttpClient, req: Request) -> Result<Response> {
    Ok(http.execute(req).await?)
}
