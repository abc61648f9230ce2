//! Configuration for the CLI: flags > environment variables > `~/.config/astrobrokers/config.toml`.
//!
//! | setting | environment variable | file key |
//! |---|---|---|
//! | ALeRCE ZTF API URL | `ALERCE_URL` | `alerce.url` |
//! | ALeRCE LSST (multisurvey) API URL | `ALERCE_LSST_URL` | `alerce.lsst_url` |
//! | ALeRCE ZTF stamps URL | `ALERCE_STAMPS_URL` | `alerce.stamps_url` |
//! | ALeRCE catsHTM URL | `ALERCE_CATSHTM_URL` | `alerce.catshtm_url` |
//! | ALeRCE bearer token (optional) | `ALERCE_TOKEN` | `alerce.token` |
//! | ATLAS API URL | `ATLAS_API_URL` | `atlas.url` |
//! | ATLAS token | `ATLAS_API_TOKEN` | `atlas.token` |
//! | ATLAS `atlasapiclient` YAML file | `ATLAS_CONFIG_FILE` | `atlas.config_file` |
//! | ATLAS username (for `atlas token refresh`) | `ATLAS_API_USERNAME` | `atlas.username` |
//! | ATLAS password (for `atlas token refresh`) | `ATLAS_API_PASSWORD` | `atlas.password` |
//! | SkyPortal URL | `SKYPORTAL_URL` | `skyportal.url` |
//! | SkyPortal token | `SKYPORTAL_TOKEN` | `skyportal.token` |
//! | forced photometry URL | `FORCEDPHOT_URL` | `forcedphot.url` |
//! | forced photometry token | `FORCEDPHOT_TOKEN` | `forcedphot.token` |
//! | forced photometry username | `FORCEDPHOT_USERNAME` | `forcedphot.username` |
//! | forced photometry password | `FORCEDPHOT_PASSWORD` | `forcedphot.password` |
//! | Fink/ZTF API URL | `FINK_URL` | `fink.url` |
//! | Fink/LSST API URL | `FINK_LSST_URL` | `fink.lsst_url` |
//! | Lasair ZTF API URL | `LASAIR_URL` | `lasair.url` |
//! | Lasair LSST API URL | `LASAIR_LSST_URL` | `lasair.lsst_url` |
//! | Lasair token (both servers) | `LASAIR_TOKEN` | `lasair.token` |
//! | Lasair LSST token, when it differs | `LASAIR_LSST_TOKEN` | `lasair.lsst_token` |
//! | Lasair account class (`dummy`, `user`, `power`) | `LASAIR_USER_CLASS` | `lasair.user_class` |
//! | TNS URL | `TNS_URL` | `tns.url` |
//! | TNS api key | `TNS_API_KEY` | `tns.api_key` |
//! | TNS bot id / name | `TNS_BOT_ID` / `TNS_BOT_NAME` | `tns.bot_id` / `tns.bot_name` |
//! | TNS user id / name | `TNS_USER_ID` / `TNS_USER_NAME` | `tns.user_id` / `tns.user_name` |

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use broker_core::config::{ConfigFile, Layered, Setting, default_config_path};

/// One known setting.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// `section.key` in the file.
    pub name: &'static str,
    /// The environment variable.
    pub env: &'static str,
    /// Whether the value is a secret (masked by `config show`).
    pub secret: bool,
}

/// Every setting the CLI knows.
pub const KEYS: &[Key] = &[
    Key { name: "alerce.url", env: "ALERCE_URL", secret: false },
    Key { name: "alerce.lsst_url", env: "ALERCE_LSST_URL", secret: false },
    Key { name: "alerce.stamps_url", env: "ALERCE_STAMPS_URL", secret: false },
    Key { name: "alerce.catshtm_url", env: "ALERCE_CATSHTM_URL", secret: false },
    Key { name: "alerce.token", env: "ALERCE_TOKEN", secret: true },
    Key { name: "atlas.url", env: "ATLAS_API_URL", secret: false },
    Key { name: "atlas.token", env: "ATLAS_API_TOKEN", secret: true },
    Key { name: "atlas.config_file", env: "ATLAS_CONFIG_FILE", secret: false },
    Key { name: "atlas.username", env: "ATLAS_API_USERNAME", secret: false },
    Key { name: "atlas.password", env: "ATLAS_API_PASSWORD", secret: true },
    Key { name: "skyportal.url", env: "SKYPORTAL_URL", secret: false },
    Key { name: "skyportal.token", env: "SKYPORTAL_TOKEN", secret: true },
    Key { name: "forcedphot.url", env: "FORCEDPHOT_URL", secret: false },
    Key { name: "forcedphot.token", env: "FORCEDPHOT_TOKEN", secret: true },
    Key { name: "forcedphot.username", env: "FORCEDPHOT_USERNAME", secret: false },
    Key { name: "forcedphot.password", env: "FORCEDPHOT_PASSWORD", secret: true },
    Key { name: "fink.url", env: "FINK_URL", secret: false },
    Key { name: "fink.lsst_url", env: "FINK_LSST_URL", secret: false },
    Key { name: "lasair.url", env: "LASAIR_URL", secret: false },
    Key { name: "lasair.lsst_url", env: "LASAIR_LSST_URL", secret: false },
    Key { name: "lasair.token", env: "LASAIR_TOKEN", secret: true },
    Key { name: "lasair.lsst_token", env: "LASAIR_LSST_TOKEN", secret: true },
    Key { name: "lasair.user_class", env: "LASAIR_USER_CLASS", secret: false },
    Key { name: "tns.url", env: "TNS_URL", secret: false },
    Key { name: "tns.api_key", env: "TNS_API_KEY", secret: true },
    Key { name: "tns.bot_id", env: "TNS_BOT_ID", secret: false },
    Key { name: "tns.bot_name", env: "TNS_BOT_NAME", secret: false },
    Key { name: "tns.user_id", env: "TNS_USER_ID", secret: false },
    Key { name: "tns.user_name", env: "TNS_USER_NAME", secret: false },
];

/// Finds a key by `section.key`.
pub fn key(name: &str) -> Result<Key> {
    KEYS.iter().copied().find(|k| k.name == name).ok_or_else(|| {
        anyhow!(
            "unknown setting `{name}`; known settings: {}",
            KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
        )
    })
}

/// The resolved configuration.
pub struct Settings {
    layers: Layered,
    /// The config file path in use.
    pub path: Option<PathBuf>,
}

impl Settings {
    /// Loads the file at `path` (or the default location) under the environment.
    pub fn load(path: Option<PathBuf>) -> Result<Self> {
        let path = path
            .or_else(|| std::env::var_os("ASTROBROKERS_CONFIG").map(PathBuf::from))
            .or_else(|| default_config_path("astrobrokers"));
        let file = match &path {
            Some(p) => ConfigFile::load(p)?,
            None => None,
        };
        if let Some(f) = &file {
            for w in &f.warnings {
                eprintln!("warning: {w}");
            }
        }
        Ok(Settings { layers: Layered::new(file), path })
    }

    /// A setting: `explicit` (a flag) > environment > file.
    pub fn get(&self, explicit: Option<String>, name: &str) -> Option<Setting> {
        let k = KEYS.iter().find(|k| k.name == name)?;
        let (section, field) = name.split_once('.')?;
        self.layers.get(explicit, k.env, section, field)
    }

    /// A setting's value.
    pub fn value(&self, explicit: Option<String>, name: &str) -> Option<String> {
        self.get(explicit, name).map(|s| s.value)
    }
}

/// Masks a secret for display: never shows any of its characters.
pub fn mask(value: &str) -> String {
    format!("******** ({} characters)", value.chars().count())
}

/// `config set KEY VALUE`: writes the file with mode 0600.
pub fn set(path: &std::path::Path, name: &str, value: &str) -> Result<()> {
    let k = key(name)?;
    let (section, field) = k.name.split_once('.').ok_or_else(|| anyhow!("bad key {name}"))?;
    if value.trim().is_empty() {
        bail!("the value for `{name}` is empty");
    }
    let mut f = ConfigFile::load(path)?.unwrap_or_default();
    f.set(section, field, value);
    f.save(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_shows_nothing_of_the_secret() {
        let m = mask("abcd1234");
        assert!(!m.contains("abcd") && !m.contains("1234"));
        assert!(key("atlas.tokn").unwrap_err().to_string().contains("atlas.token"));
    }
}
