//! Configuration layering: explicit values > environment variables > a TOML config file in
//! the user's config directory.
//!
//! ```
//! use broker_core::config::{ConfigFile, Layered, Source};
//! let file = ConfigFile::from_str("[skyportal]\nurl = \"https://fritz.science\"\n").unwrap();
//! let env = |name: &str| (name == "SKYPORTAL_TOKEN").then(|| "from-env".to_string());
//! let layers = Layered::new(Some(file)).with_env(env);
//! let url = layers.get(None, "SKYPORTAL_URL", "skyportal", "url").unwrap();
//! assert_eq!((url.value.as_str(), url.source), ("https://fritz.science", Source::File));
//! let token = layers.get(None, "SKYPORTAL_TOKEN", "skyportal", "token").unwrap();
//! assert_eq!(token.source, Source::Environment);
//! let explicit = layers.get(Some("mine".into()), "SKYPORTAL_TOKEN", "skyportal", "token").unwrap();
//! assert_eq!(explicit.source, Source::Explicit);
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Given in code or on the command line.
    Explicit,
    /// An environment variable.
    Environment,
    /// The config file.
    File,
}

/// A resolved setting.
#[derive(Clone, PartialEq, Eq)]
pub struct Setting {
    /// The value.
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Settings may be secrets: never print the value.
        f.debug_struct("Setting").field("value", &"[hidden]").field("source", &self.source).finish()
    }
}

/// A parsed TOML config file (`[section] key = "value"`).
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// Where it was read from, if from disk.
    pub path: Option<PathBuf>,
    table: toml::Table,
    /// Warnings found while loading (e.g. a file with secrets readable by others).
    pub warnings: Vec<String>,
}

impl ConfigFile {
    /// Parses TOML text.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Self> {
        let table: toml::Table =
            text.parse().map_err(|e| Error::Config(format!("the config file is not valid TOML: {e}")))?;
        Ok(ConfigFile { path: None, table, warnings: Vec::new() })
    }

    /// Reads a file; `Ok(None)` when it does not exist. A file readable by group or others
    /// gets a warning in [`Self::warnings`] (it may hold tokens).
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::Config(format!("cannot read {}: {e}", path.display())));
            }
        };
        let mut f = Self::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        f.path = Some(path.to_path_buf());
        if let Some(w) = permission_warning(path) {
            tracing::warn!("{w}");
            f.warnings.push(w);
        }
        Ok(Some(f))
    }

    /// The string value of `key` in `[section]`.
    pub fn get(&self, section: &str, key: &str) -> Option<String> {
        let v = self.table.get(section)?.get(key)?;
        match v {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Float(x) => Some(x.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Sets `key` in `[section]`.
    pub fn set(&mut self, section: &str, key: &str, value: &str) {
        let entry = self.table.entry(section.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        if let toml::Value::Table(t) = entry {
            t.insert(key.to_string(), toml::Value::String(value.to_string()));
        }
    }

    /// The sections and keys present.
    pub fn entries(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for (section, v) in &self.table {
            if let toml::Value::Table(t) = v {
                for k in t.keys() {
                    if let Some(val) = self.get(section, k) {
                        out.push((section.clone(), k.clone(), val));
                    }
                }
            }
        }
        out
    }

    /// Writes the file with mode 0600 (creating its directory).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(&self.table).map_err(|e| Error::Config(format!("cannot write TOML: {e}")))?;
        write_secret_file(path, text.as_bytes())
    }
}

/// `$XDG_CONFIG_HOME/<app>/config.toml`, else `$HOME/.config/<app>/config.toml`.
pub fn default_config_path(app: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join(app).join("config.toml"))
}

/// A warning when a file that may hold secrets is readable by group or others.
pub fn permission_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return Some(format!(
                "{} may hold secrets but is readable by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
}

/// Writes a file readable only by its owner (mode 0600 on unix), creating its directory.
pub fn write_secret_file(path: &Path, contents: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| Error::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    let tmp = path.with_extension("tmp-write");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| Error::Config(format!("cannot write {}: {e}", tmp.display())))?;
        f.write_all(contents).map_err(|e| Error::Config(format!("cannot write {}: {e}", tmp.display())))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600));
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))
}

type EnvFn = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Resolves settings through the layers.
pub struct Layered {
    file: Option<ConfigFile>,
    env: EnvFn,
}

impl fmt::Debug for Layered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layered").field("file", &self.file.as_ref().and_then(|c| c.path.clone())).finish()
    }
}

impl Layered {
    /// Layers over an optional config file and the process environment.
    pub fn new(file: Option<ConfigFile>) -> Self {
        Layered { file, env: Box::new(|k| std::env::var(k).ok()) }
    }
    /// Uses another environment lookup (for tests).
    pub fn with_env(mut self, env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Box::new(env);
        self
    }
    /// The config file, if any.
    pub fn file(&self) -> Option<&ConfigFile> {
        self.file.as_ref()
    }
    /// `explicit`, else the environment variable `env_var` (if non-empty), else
    /// `[section] key` of the file.
    pub fn get(&self, explicit: Option<String>, env_var: &str, section: &str, key: &str) -> Option<Setting> {
        if let Some(v) = explicit {
            return Some(Setting { value: v, source: Source::Explicit });
        }
        if let Some(v) = (self.env)(env_var).filter(|v| !v.is_empty()) {
            return Some(Setting { value: v, source: Source::Environment });
        }
        self.file.as_ref()?.get(section, key).map(|v| Setting { value: v, source: Source::File })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_file_mode_and_warning() {
        let dir = std::env::temp_dir().join(format!("bc-config-{}", std::process::id()));
        let path = dir.join("sub").join("config.toml");
        let mut f = ConfigFile::default();
        f.set("atlas", "token", "abc");
        f.save(&path).unwrap();
        let loaded = ConfigFile::load(&path).unwrap().unwrap();
        assert_eq!(loaded.get("atlas", "token").as_deref(), Some("abc"));
        assert!(loaded.warnings.is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let loaded = ConfigFile::load(&path).unwrap().unwrap();
            assert_eq!(loaded.warnings.len(), 1);
            assert!(loaded.warnings[0].contains("chmod 600"));
        }
        assert!(ConfigFile::load(&dir.join("missing.toml")).unwrap().is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn setting_debug_hides_value() {
        let s = Setting { value: "topsecret".into(), source: Source::File };
        assert!(!format!("{s:?}").contains("topsecret"));
    }
}
