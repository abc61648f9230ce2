//! Query parameters for request builders: typed setters, comma-joined lists, and input
//! errors that are reported before any request is sent.

use std::fmt::Display;

use broker_core::{Error, Result};

/// Query parameters collected by a request builder. A later call for the same key
/// replaces the earlier value (Tornado reads only the last value of a repeated key).
#[derive(Debug, Clone, Default)]
pub(crate) struct QueryParams {
    pub pairs: Vec<(String, String)>,
    /// The first input error, as (field, message).
    pub error: Option<(String, String)>,
}

impl QueryParams {
    pub fn set(&mut self, key: &str, value: impl Display) {
        let value = value.to_string();
        match self.pairs.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.pairs.push((key.to_string(), value)),
        }
    }

    pub fn set_bool(&mut self, key: &str, v: bool) {
        self.set(key, if v { "true" } else { "false" });
    }

    pub fn set_f64(&mut self, key: &str, v: f64) {
        if v.is_finite() {
            self.set(key, v);
        } else {
            self.fail(Error::invalid(key, format!("{v} is not a finite number")));
        }
    }

    pub fn set_str(&mut self, key: &str, v: String) {
        if v.trim().is_empty() {
            self.fail(Error::invalid(key, "must not be empty"));
        } else {
            self.set(key, v);
        }
    }

    /// A comma-joined list (`group_ids=4,71`); items may not contain commas.
    pub fn set_list<T: Display>(&mut self, key: &str, items: impl IntoIterator<Item = T>) {
        let items: Vec<String> = items.into_iter().map(|i| i.to_string().trim().to_string()).collect();
        if items.is_empty() {
            self.fail(Error::invalid(key, "the list is empty: give at least one value"));
            return;
        }
        if let Some(bad) = items.iter().find(|i| i.is_empty() || i.contains(',')) {
            self.fail(Error::invalid(
                key,
                format!(
                    "{bad:?} cannot be sent in a comma-separated list: values must be non-empty and have no commas"
                ),
            ));
            return;
        }
        self.set(key, items.join(","));
    }

    pub fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(match e {
                Error::InvalidInput { field, message } => (field, message),
                other => ("input".to_string(), other.to_string()),
            });
        }
    }

    pub fn check(&self) -> Result<()> {
        match &self.error {
            Some((field, message)) => Err(Error::invalid(field.clone(), message.clone())),
            None => Ok(()),
        }
    }
}

/// Generates typed setters on a builder that has a `q: QueryParams` field.
macro_rules! query_setters {
    ($( $(#[$doc:meta])* $name:ident : $kind:ident = $key:literal; )*) => {
        $( query_setters!(@one $(#[$doc])* $name $kind $key); )*
    };
    (@one $(#[$doc:meta])* $name:ident bool $key:literal) => {
        $(#[$doc])*
        #[doc = concat!("\n\nSent as `", $key, "=true|false`.")]
        pub fn $name(mut self, v: bool) -> Self { self.q.set_bool($key, v); self }
    };
    (@one $(#[$doc:meta])* $name:ident str $key:literal) => {
        $(#[$doc])*
        #[doc = concat!("\n\nSent as `", $key, "`.")]
        pub fn $name(mut self, v: impl Into<String>) -> Self { self.q.set_str($key, v.into()); self }
    };
    (@one $(#[$doc:meta])* $name:ident f64 $key:literal) => {
        $(#[$doc])*
        #[doc = concat!("\n\nSent as `", $key, "`.")]
        pub fn $name(mut self, v: f64) -> Self { self.q.set_f64($key, v); self }
    };
    (@one $(#[$doc:meta])* $name:ident i64 $key:literal) => {
        $(#[$doc])*
        #[doc = concat!("\n\nSent as `", $key, "`.")]
        pub fn $name(mut self, v: i64) -> Self { self.q.set($key, v); self }
    };
    (@one $(#[$doc:meta])* $name:ident ids $key:literal) => {
        $(#[$doc])*
        #[doc = concat!("\n\nSent comma-joined as `", $key, "=1,2`.")]
        pub fn $name(mut self, ids: impl IntoIterator<Item = i64>) -> Self { self.q.set_list($key, ids); self }
    };
    (@one $(#[$doc:meta])* $name:ident strs $key:literal) => {
        $(#[$doc])*
        #[doc = concat!("\n\nSent comma-joined as `", $key, "=a,b`.")]
        pub fn $name<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
            self.q.set_list($key, values.into_iter().map(Into::into).collect::<Vec<String>>());
            self
        }
    };
}

pub(crate) use query_setters;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_errors() {
        let mut q = QueryParams::default();
        q.set_list("group_ids", [4, 71]);
        q.set_bool("includePhotometry", true);
        q.set("group_ids", "5");
        assert_eq!(q.pairs, vec![("group_ids".into(), "5".into()), ("includePhotometry".into(), "true".into())]);
        assert!(q.check().is_ok());
        q.set_list("classifications", ["Sitewide Taxonomy: Ia, II"]);
        let e = q.check().unwrap_err();
        assert!(e.to_string().contains("no commas"), "{e}");
        let mut q = QueryParams::default();
        q.set_f64("minRedshift", f64::NAN);
        q.set_list::<i64>("group_ids", []);
        assert!(q.check().unwrap_err().to_string().contains("minRedshift"));
    }
}
