//! Typed responses of the ATLAS Transient Server.
//!
//! Every non-key field is optional (the server's `CharField(blank=True)` columns are often
//! `null`), and every struct keeps the fields it does not know in `extra`, so a field the
//! server adds tomorrow is kept, not lost.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

pub use crate::extra::RawExtra;
use crate::extra::RawExtraBuilder;
use crate::ids::AtlasId;

mod cone;
mod crossmatch;
mod decode;
mod lists;
mod points;
mod source;
mod timestamp;
mod token;
mod vra;

pub use cone::ConeMatch;
pub use crossmatch::{ExternalCrossmatch, SherlockClassification, SherlockCrossmatch};
pub use lists::{ObjectGroupRow, ObjectListRow};
pub use points::{ForcedPhotometry, LcPoint, NonDetection};
pub use source::{AtlasObject, Source};
pub use timestamp::{Timestamp, parse_server_datetime};
pub use token::TokenInfo;
pub use vra::{VraRankRow, VraScoreRow, VraTodoRow};

pub(crate) use decode::{Fast, FastRows};
pub(crate) use source::{ObjectField, RawSource};
pub(crate) use token::TokenReply;

use decode::{ExtraText, Key, LenientF64, LenientI64, Plain};

/// Fields of a row the crate does not model, kept as JSON.
pub type Extra = Map<String, Value>;

/// `null` or absent lists become empty lists.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Numbers that may come as JSON numbers or numeric strings (MySQL decimals); anything
/// else (null, empty text) is `None`.
fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    })
}

/// Integers that may come as numbers, numeric strings or booleans.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Bool(b) => Some(i64::from(b)),
        _ => None,
    })
}

/// An id that may be absent or null.
fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AtlasId>, D::Error> {
    Option::<AtlasId>::deserialize(d)
}
