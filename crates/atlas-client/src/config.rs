//! The YAML config file that `atlasapiclient` users already have
//! (`api_config_MINE.yaml`), read and written as is.
//!
//! ```yaml
//! token: "0123456789abcdef0123456789abcdef01234567"
//! base_url: "https://psweb.mp.qub.ac.uk/sne/atlas4/api/"
//! ```
//!
//! `token` is required; `base_url` is optional here (the production URL is the default).
//! Other keys are kept when a refreshed token is written back, and the file is written
//! with mode 0600.

use std::fmt;
use std::path::{Path, PathBuf};

use broker_core::config::{permission_warning, write_secret_file};
use broker_core::{Error, ExposeSecret, Result, SecretString};
use serde_norway::{Mapping, Value};

/// A parsed `atlasapiclient` config file.
#[derive(Clone)]
pub struct AtlasConfigFile {
    path: PathBuf,
    doc: Mapping,
    token: SecretString,
    base_url: Option<String>,
    /// Warnings found while loading (a file readable by others).
    pub warnings: Vec<String>,
}

impl fmt::Debug for AtlasConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtlasConfigFile")
            .field("path", &self.path)
            .field("token", &"[REDACTED]")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn cfg_err(path: &Path, msg: impl fmt::Display) -> Error {
    Error::Config(format!("{}: {msg}", path.display()))
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl AtlasConfigFile {
    /// Reads and parses the file. A missing file, a directory, bad YAML or a missing
    /// `token` key are configuration errors.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|e| cfg_err(path, format!("cannot read the config file: {e}")))?;
        let mut cfg = Self::parse(path, &text)?;
        if let Some(w) = permission_warning(path) {
            tracing::warn!("{w}");
            cfg.warnings.push(w);
        }
        Ok(cfg)
    }

    fn parse(path: &Path, text: &str) -> Result<Self> {
        let value: Value = serde_norway::from_str(text)
            .map_err(|e| cfg_err(path, format!("the config file is not valid YAML: {e}")))?;
        let Value::Mapping(doc) = value else {
            return Err(cfg_err(path, "the config file must be a YAML mapping with `token` and `base_url` keys"));
        };
        let token = doc
            .get("token")
            .and_then(scalar_string)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| cfg_err(path, "the config file has no `token` key"))?;
        let base_url = doc.get("base_url").and_then(scalar_string).filter(|u| !u.trim().is_empty());
        Ok(AtlasConfigFile {
            path: path.to_path_buf(),
            doc,
            token: SecretString::from(token),
            base_url,
            warnings: Vec::new(),
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The token.
    pub fn token(&self) -> &SecretString {
        &self.token
    }
    /// The `base_url`, when present.
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref()
    }

    /// Writes `token` into the file at `path`, keeping every other key (`base_url`
    /// included), with mode 0600. The file is read again first, so keys another process
    /// changed meanwhile are kept too.
    pub fn save_token(path: &Path, token: &SecretString) -> Result<()> {
        let mut doc = match std::fs::read_to_string(path) {
            Ok(text) => match serde_norway::from_str::<Value>(&text) {
                Ok(Value::Mapping(m)) => m,
                _ => Mapping::new(),
            },
            Err(_) => Mapping::new(),
        };
        doc.insert(Value::String("token".into()), Value::String(token.expose_secret().to_string()));
        let text = serde_norway::to_string(&Value::Mapping(doc))
            .map_err(|e| cfg_err(path, format!("cannot write the config file: {e}")))?;
        write_secret_file(path, text.as_bytes())
    }

    /// The mapping as read (secrets included: not for display).
    pub fn document(&self) -> &Mapping {
        &self.doc
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("atlas-cfg-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join("api_config_MINE.yaml")
    }

    #[test]
    fn reads_template_and_keeps_keys_on_save() {
        let p = tmp("keep");
        std::fs::write(
            &p,
            "token: \"thisisntarealtokenpleaseputyourtokenhere\"\nbase_url: \"https://example.org/api/\"\nextra: 5\n",
        )
        .unwrap();
        let c = AtlasConfigFile::load(&p).unwrap();
        assert_eq!(c.token().expose_secret(), "thisisntarealtokenpleaseputyourtokenhere");
        assert_eq!(c.base_url(), Some("https://example.org/api/"));
        assert!(!format!("{c:?}").contains("thisisntarealtoken"));
        AtlasConfigFile::save_token(&p, &SecretString::from("newtoken".to_string())).unwrap();
        let c = AtlasConfigFile::load(&p).unwrap();
        assert_eq!(c.token().expose_secret(), "newtoken");
        assert_eq!(c.base_url(), Some("https://example.org/api/"));
        assert_eq!(c.document().get("extra").and_then(|v| v.as_u64()), Some(5));
        assert!(c.warnings.is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn config_errors() {
        let p = tmp("errs");
        let _ = std::fs::remove_file(&p);
        assert!(matches!(AtlasConfigFile::load(&p), Err(Error::Config(_))));
        std::fs::write(&p, "base_url: x\n").unwrap();
        let e = AtlasConfigFile::load(&p).unwrap_err();
        assert!(e.to_string().contains("no `token`"), "{e}");
        std::fs::write(&p, "token: [unclosed\n").unwrap();
        assert!(matches!(AtlasConfigFile::load(&p), Err(Error::Config(_))));
        assert!(matches!(AtlasConfigFile::load(p.parent().unwrap()), Err(Error::Config(_))));
    }
}
