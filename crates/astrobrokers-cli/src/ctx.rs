//! What every verb needs: the resolved endpoints and credentials, client construction,
//! progress bars, input validation and safe file names.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use astrobrokers::core::SkyPosition;
use futures::{Stream, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::Global;
use crate::settings::Settings;

/// Where each service is and how to sign in. Secrets are only ever handed to a client.
#[derive(Clone, Default)]
pub struct Endpoints {
    /// ALeRCE root URL (the production path layout below it), when overridden.
    pub alerce_url: Option<String>,
    /// ALeRCE multisurvey URL override.
    pub alerce_lsst_url: Option<String>,
    /// ALeRCE stamps URL override.
    pub alerce_stamps_url: Option<String>,
    /// ALeRCE catsHTM URL override.
    pub alerce_catshtm_url: Option<String>,
    /// ALeRCE bearer token (optional).
    pub alerce_token: Option<String>,
    /// ATLAS API base URL.
    pub atlas_url: Option<String>,
    /// ATLAS token.
    pub atlas_token: Option<String>,
    /// The `atlasapiclient` YAML file.
    pub atlas_config_file: Option<PathBuf>,
    /// ATLAS username (token refresh).
    pub atlas_username: Option<String>,
    /// ATLAS password (token refresh).
    pub atlas_password: Option<String>,
    /// SkyPortal URL.
    pub skyportal_url: Option<String>,
    /// SkyPortal token.
    pub skyportal_token: Option<String>,
    /// Forced-photometry URL.
    pub forcedphot_url: Option<String>,
    /// Forced-photometry token.
    pub forcedphot_token: Option<String>,
    /// Forced-photometry username (login for a token).
    pub forcedphot_username: Option<String>,
    /// Forced-photometry password.
    pub forcedphot_password: Option<String>,
    /// Fink/ZTF API URL.
    pub fink_url: Option<String>,
    /// Fink/LSST API URL.
    pub fink_lsst_url: Option<String>,
    /// Lasair ZTF API URL.
    pub lasair_url: Option<String>,
    /// Lasair LSST API URL.
    pub lasair_lsst_url: Option<String>,
    /// Lasair token (both servers unless `lasair_lsst_token`).
    pub lasair_token: Option<String>,
    /// Lasair LSST token.
    pub lasair_lsst_token: Option<String>,
    /// Lasair account class (`dummy`, `user`, `power`).
    pub lasair_user_class: Option<String>,
    /// TNS root URL.
    pub tns_url: Option<String>,
    /// TNS api key.
    pub tns_api_key: Option<String>,
    /// TNS bot id.
    pub tns_bot_id: Option<String>,
    /// TNS bot name.
    pub tns_bot_name: Option<String>,
    /// TNS user id (personal key).
    pub tns_user_id: Option<String>,
    /// TNS user name.
    pub tns_user_name: Option<String>,
    /// Fast polling (the sandbox's simulated queue).
    pub fast_poll: bool,
    /// The longest a throttled request waits before failing with a rate-limit error.
    pub max_wait: Duration,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints")
            .field("alerce_url", &self.alerce_url)
            .field("atlas_url", &self.atlas_url)
            .field("skyportal_url", &self.skyportal_url)
            .field("forcedphot_url", &self.forcedphot_url)
            .finish_non_exhaustive()
    }
}

impl Endpoints {
    /// Flags > environment > config file.
    pub fn resolve(g: &Global, s: &Settings) -> Self {
        let v = |flag: &Option<String>, name: &str| s.value(flag.clone(), name).filter(|x| !x.trim().is_empty());
        let none = None;
        Endpoints {
            alerce_url: v(&g.alerce_url, "alerce.url"),
            alerce_lsst_url: v(&none, "alerce.lsst_url"),
            alerce_stamps_url: v(&none, "alerce.stamps_url"),
            alerce_catshtm_url: v(&none, "alerce.catshtm_url"),
            alerce_token: v(&none, "alerce.token"),
            atlas_url: v(&g.atlas_url, "atlas.url"),
            atlas_token: v(&none, "atlas.token"),
            atlas_config_file: v(&none, "atlas.config_file").map(PathBuf::from),
            atlas_username: v(&none, "atlas.username"),
            atlas_password: v(&none, "atlas.password"),
            skyportal_url: v(&g.skyportal_url, "skyportal.url"),
            skyportal_token: v(&none, "skyportal.token"),
            forcedphot_url: v(&g.forcedphot_url, "forcedphot.url"),
            forcedphot_token: v(&none, "forcedphot.token"),
            forcedphot_username: v(&none, "forcedphot.username"),
            forcedphot_password: v(&none, "forcedphot.password"),
            fink_url: v(&g.fink_url, "fink.url"),
            fink_lsst_url: v(&g.fink_lsst_url, "fink.lsst_url"),
            lasair_url: v(&none, "lasair.url"),
            lasair_lsst_url: v(&none, "lasair.lsst_url"),
            lasair_token: v(&none, "lasair.token"),
            lasair_lsst_token: v(&none, "lasair.lsst_token"),
            lasair_user_class: v(&none, "lasair.user_class"),
            tns_url: v(&g.tns_url, "tns.url"),
            tns_api_key: v(&none, "tns.api_key"),
            tns_bot_id: v(&none, "tns.bot_id"),
            tns_bot_name: v(&none, "tns.bot_name"),
            tns_user_id: v(&none, "tns.user_id"),
            tns_user_name: v(&none, "tns.user_name"),
            fast_poll: false,
            max_wait: Duration::from_secs(g.max_wait),
        }
    }

    /// The endpoints and credentials of a running sandbox.
    pub fn sandbox(sb: &broker_sandbox::Sandbox) -> Self {
        let u = sb.urls();
        let c = sb.credentials();
        Endpoints {
            alerce_url: Some(u.alerce.api.clone()),
            atlas_url: Some(u.atlas.clone()),
            atlas_token: Some(c.atlas.token.clone()),
            skyportal_url: Some(u.skyportal.clone()),
            skyportal_token: Some(c.skyportal.token.clone()),
            forcedphot_url: Some(u.forcedphot.clone()),
            forcedphot_token: Some(c.forcedphot.token.clone()),
            fink_url: Some(format!("{}/ztf/", u.fink)),
            fink_lsst_url: Some(format!("{}/lsst/", u.fink)),
            lasair_url: Some(u.lasair.ztf.clone()),
            lasair_lsst_url: Some(u.lasair.lsst.clone()),
            lasair_token: Some(c.lasair.ztf_token.clone()),
            lasair_lsst_token: Some(c.lasair.lsst_token.clone()),
            tns_url: Some(u.tns.clone()),
            tns_api_key: Some(c.tns.api_key.clone()),
            tns_bot_id: Some(c.tns.bot_id.to_string()),
            tns_bot_name: Some(c.tns.bot_name.clone()),
            fast_poll: true,
            max_wait: Duration::from_secs(120),
            ..Default::default()
        }
    }

    /// Whether ATLAS has credentials of some kind.
    pub fn atlas_configured(&self) -> bool {
        self.atlas_token.is_some() || self.atlas_config_file.is_some()
    }
    /// Whether SkyPortal has a URL and a token.
    pub fn skyportal_configured(&self) -> bool {
        self.skyportal_token.is_some()
    }
    /// Whether forced photometry has a token or a login.
    pub fn forcedphot_configured(&self) -> bool {
        self.forcedphot_token.is_some() || (self.forcedphot_username.is_some() && self.forcedphot_password.is_some())
    }

    /// Whether Lasair has a token.
    pub fn lasair_configured(&self) -> bool {
        self.lasair_token.is_some() || self.lasair_lsst_token.is_some()
    }

    /// The Lasair client (both servers); fails with what to set when there is no token.
    pub fn lasair(&self) -> Result<astrobrokers::lasair::LasairClient> {
        if !self.lasair_configured() {
            bail!(
                "no Lasair token: set LASAIR_TOKEN (and LASAIR_LSST_TOKEN when the LSST server's differs), \
                 or run `astrobrokers config set lasair.token <TOKEN>`"
            );
        }
        let retry =
            astrobrokers::core::RetryPolicy::default().max_server_wait(self.max_wait).max_limiter_wait(self.max_wait);
        let mut b = astrobrokers::lasair::LasairClient::builder().retry(retry);
        if let Some(u) = &self.lasair_url {
            b = b.ztf_url(u.clone());
        }
        if let Some(u) = &self.lasair_lsst_url {
            b = b.lsst_url(u.clone());
        }
        if let Some(t) = &self.lasair_token {
            b = b.token(t.clone());
        }
        if let Some(t) = &self.lasair_lsst_token {
            b = b.lsst_token(t.clone());
        }
        if let Some(c) = &self.lasair_user_class {
            b = b.user_class(c.parse()?);
        }
        Ok(b.build()?)
    }

    /// The ALeRCE client.
    pub fn alerce(&self) -> Result<astrobrokers::alerce::AlerceClient> {
        let mut b = astrobrokers::alerce::AlerceClient::builder();
        if let Some(u) = &self.alerce_url {
            b = b.host(u);
        }
        if let Some(u) = &self.alerce_lsst_url {
            b = b.lsst_url(u.clone());
        }
        if let Some(u) = &self.alerce_stamps_url {
            b = b.ztf_stamps_url(u.clone());
        }
        if let Some(u) = &self.alerce_catshtm_url {
            b = b.catshtm_url(u.clone());
        }
        if let Some(t) = &self.alerce_token {
            b = b.bearer_token(t.clone());
        }
        Ok(b.build()?)
    }

    /// The ATLAS Transient Server client; fails with what to set when there is no token.
    pub fn atlas(&self) -> Result<astrobrokers::atlas::AtlasClient> {
        Ok(self.atlas_builder(true)?.build()?)
    }

    /// The ATLAS client builder; with `require_token`, fails with what to set when there is
    /// no token.
    pub fn atlas_builder(&self, require_token: bool) -> Result<astrobrokers::atlas::AtlasClientBuilder> {
        if require_token && !self.atlas_configured() {
            bail!(
                "no ATLAS token: set ATLAS_API_TOKEN (or run `astrobrokers config set atlas.token <TOKEN>`, \
                 or point ATLAS_CONFIG_FILE at your atlasapiclient YAML file)"
            );
        }
        let retry = astrobrokers::atlas::AtlasClient::default_retry_policy()
            .max_server_wait(self.max_wait)
            .max_limiter_wait(self.max_wait);
        let mut b = astrobrokers::atlas::AtlasClient::builder().retry(retry);
        if let Some(p) = &self.atlas_config_file {
            if !p.exists() {
                bail!(
                    "the ATLAS config file {} does not exist: fix ATLAS_CONFIG_FILE (or atlas.config_file)",
                    p.display()
                );
            }
            b = b.config_file(p.clone());
        }
        if let Some(u) = &self.atlas_url {
            b = b.base_url(u.clone());
        }
        if let Some(t) = &self.atlas_token {
            b = b.token(t.clone());
        }
        if let (Some(u), Some(p)) = (&self.atlas_username, &self.atlas_password) {
            b = b.credentials(u.clone(), p.clone());
        }
        Ok(b)
    }

    /// The SkyPortal client; fails with what to set when there is no token.
    pub fn skyportal(&self) -> Result<astrobrokers::skyportal::Client> {
        let Some(token) = &self.skyportal_token else {
            bail!("no SkyPortal token: set SKYPORTAL_TOKEN (or run `astrobrokers config set skyportal.token <TOKEN>`)");
        };
        let url = self.skyportal_url.clone().unwrap_or_else(|| "https://fritz.science".to_string());
        Ok(astrobrokers::skyportal::Client::new(url, token.clone())?)
    }

    /// The Fink client (no credentials: the APIs are public).
    pub fn fink(&self) -> Result<astrobrokers::fink::FinkClient> {
        let retry = broker_core::RetryPolicy::default().max_server_wait(self.max_wait);
        let mut b = astrobrokers::fink::FinkClient::builder().retry(retry);
        if let Some(u) = &self.fink_url {
            b = b.ztf_url(u.clone());
        }
        if let Some(u) = &self.fink_lsst_url {
            b = b.lsst_url(u.clone());
        }
        Ok(b.build()?)
    }

    /// The forced-photometry client; fails with what to set when there are no credentials.
    pub fn forcedphot(&self) -> Result<astrobrokers::forcedphot::Client> {
        let mut b = astrobrokers::forcedphot::Client::builder();
        if let Some(u) = &self.forcedphot_url {
            b = b.base_url(u.clone());
        }
        b = match (&self.forcedphot_token, &self.forcedphot_username, &self.forcedphot_password) {
            (Some(t), _, _) => b.token(t.clone()),
            (None, Some(u), Some(p)) => b.login(u.clone(), p.clone()),
            _ => bail!(
                "no forced-photometry credentials: set FORCEDPHOT_TOKEN, or FORCEDPHOT_USERNAME and FORCEDPHOT_PASSWORD \
                 (or `astrobrokers config set forcedphot.token <TOKEN>`)"
            ),
        };
        if self.fast_poll {
            b = b.poll_intervals(astrobrokers::forcedphot::PollIntervals {
                queued: Duration::from_millis(100),
                running: Duration::from_millis(100),
            });
        }
        Ok(b.build()?)
    }
}

impl Endpoints {
    /// Whether TNS has a key and an identity.
    pub fn tns_configured(&self) -> bool {
        self.tns_api_key.is_some()
            && ((self.tns_bot_id.is_some() && self.tns_bot_name.is_some())
                || (self.tns_user_id.is_some() && self.tns_user_name.is_some()))
    }

    /// The TNS client; fails with what to set when the key or identity is missing.
    pub fn tns(&self) -> Result<astrobrokers::tns::TnsClient> {
        let Some(key) = &self.tns_api_key else {
            bail!("no TNS api key: set TNS_API_KEY (or `astrobrokers config set tns.api_key <KEY>`)");
        };
        let id = |v: &str, var: &str| -> Result<u64> {
            v.trim().parse().map_err(|_| anyhow!("invalid {var} {v:?}: use the number TNS gave the bot or user"))
        };
        let mut b = astrobrokers::tns::TnsClient::builder().api_key(key.clone());
        b = match (&self.tns_bot_id, &self.tns_bot_name, &self.tns_user_id, &self.tns_user_name) {
            (Some(i), Some(n), _, _) => b.bot(id(i, "TNS_BOT_ID")?, n.clone()),
            (_, _, Some(i), Some(n)) => b.user(id(i, "TNS_USER_ID")?, n.clone()),
            _ => bail!(
                "no TNS identity: set TNS_BOT_ID and TNS_BOT_NAME (or TNS_USER_ID and TNS_USER_NAME) for the tns_marker User-Agent"
            ),
        };
        if let Some(u) = &self.tns_url {
            b = b.url(u.clone());
        }
        b = b.retry(astrobrokers::core::RetryPolicy::default().max_server_wait(self.max_wait));
        if self.fast_poll {
            b = b.poll_interval(Duration::from_millis(200));
        }
        Ok(b.build()?)
    }
}

/// Whether progress bars may be drawn: not quiet, and stderr is a terminal.
pub fn progress_enabled(g: &Global) -> bool {
    !g.quiet && std::io::stderr().is_terminal()
}

/// A progress bar (or spinner, without a total) on stderr, hidden unless [`progress_enabled`].
pub fn bar(g: &Global, total: Option<u64>, what: &str) -> ProgressBar {
    let pb = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    if progress_enabled(g) {
        pb.set_draw_target(ProgressDrawTarget::stderr());
        let template = if total.is_some() {
            "{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed})"
        } else {
            "{spinner} {msg} {pos} ({elapsed})"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.enable_steady_tick(Duration::from_millis(120));
    } else {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_message(what.to_string());
    pb
}

/// A stream that may learn its total as pages arrive.
pub trait Totaled {
    /// The total, once known.
    fn known_total(&self) -> Option<u64>;
}

impl<T: Send + 'static> Totaled for astrobrokers::core::paginate::ItemStream<T> {
    fn known_total(&self) -> Option<u64> {
        self.total()
    }
}

impl<T: Send + 'static> Totaled for astrobrokers::lasair::LasairStream<T> {
    fn known_total(&self) -> Option<u64> {
        None
    }
}

impl<T: Send + 'static> Totaled for astrobrokers::alerce::stream::AlerceStream<T> {
    fn known_total(&self) -> Option<u64> {
        self.total()
    }
}

/// Reads a whole paginated stream with a progress bar.
pub async fn drain<T, E, S>(g: &Global, mut stream: S, what: &str) -> Result<Vec<T>>
where
    S: Stream<Item = std::result::Result<T, E>> + Totaled + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    let pb = bar(g, stream.known_total(), what);
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(v) => out.push(v),
            Err(e) => {
                pb.finish_and_clear();
                return Err(anyhow::Error::new(e).context(format!("{what}: stopped after {} items", out.len())));
            }
        }
        if let Some(n) = stream.known_total() {
            if pb.length() != Some(n) {
                pb.set_length(n);
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(out)
}

/// A validated sky position.
pub fn position(ra: f64, dec: f64) -> Result<SkyPosition> {
    Ok(SkyPosition::new(ra, dec)?)
}

/// A validated cone radius in arcseconds.
pub fn radius(r: f64) -> Result<f64> {
    if !r.is_finite() || r <= 0.0 {
        bail!("invalid radius: {r} is not valid: use a positive number of arcseconds (e.g. --radius 5)");
    }
    Ok(r)
}

/// Checks an MJD range.
pub fn mjd_range(min: Option<f64>, max: Option<f64>) -> Result<()> {
    for (name, v) in [("--mjd-min", min), ("--mjd-max", max)] {
        if let Some(v) = v {
            if !v.is_finite() || v < 0.0 {
                bail!("invalid {name}: {v} is not valid: use a finite MJD >= 0 (e.g. 60000)");
            }
        }
    }
    if let (Some(a), Some(b)) = (min, max) {
        if b <= a {
            bail!("invalid MJD range: --mjd-max ({b}) must be greater than --mjd-min ({a})");
        }
    }
    Ok(())
}

/// A file name made from a server- or user-provided id: letters, digits, `-`, `_` and `.`
/// only (anything else becomes `_`), never `.`/`..`, never empty, at most 100 characters.
pub fn safe_name(id: &str) -> String {
    let mut s: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .take(100)
        .collect();
    while s.starts_with('.') {
        s.replace_range(0..1, "_");
    }
    if s.is_empty() {
        s.push('_');
    }
    s
}

/// `dir/<safe name>`: creates `dir` when needed.
pub fn file_in(dir: &Path, name: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow!("cannot create the directory {}: {e}", dir.display()))?;
    Ok(dir.join(safe_name(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names_cannot_escape() {
        assert_eq!(safe_name("ZTF18abcdefg"), "ZTF18abcdefg");
        assert_eq!(safe_name("../../etc/passwd"), "_._.._etc_passwd");
        assert_eq!(safe_name(".."), "_.");
        assert_eq!(safe_name(""), "_");
        assert_eq!(safe_name("a/b\\c:d"), "a_b_c_d");
        assert!(!safe_name("/abs").contains('/'));
    }

    #[test]
    fn ranges_are_checked() {
        assert!(radius(-1.0).is_err());
        assert!(radius(f64::NAN).is_err());
        assert!(radius(2.0).is_ok());
        assert!(mjd_range(Some(60010.0), Some(60000.0)).unwrap_err().to_string().contains("greater"));
        assert!(mjd_range(Some(60000.0), None).is_ok());
        assert!(position(400.0, 0.0).unwrap_err().to_string().contains("[0, 360)"));
    }
}
