//! What to harvest: input lines turned into [`Target`]s by a [`TargetResolver`], each target's
//! stable key, and lists of inputs made from a broker query (ALeRCE objects of a class, a
//! SkyPortal group's sources, an ATLAS custom list).

use async_trait::async_trait;
use broker_core::SkyPosition;
use serde::{Deserialize, Serialize};

use crate::cross::{BoxError, Target};

/// Turns one input (a name, an id, a position) into a [`Target`].
///
/// The harvest calls it once per distinct input and keeps the answer in its checkpoint, so
/// a resumed run neither asks again nor changes a target's key. [`ExplicitResolver`] reads
/// explicit ids and positions; a resolver that asks TNS or cones at each broker plugs in
/// here.
#[async_trait]
pub trait TargetResolver: Send + Sync {
    /// The target `query` names, or why there is none.
    async fn target(&self, query: &str) -> Result<Target, BoxError>;
}

/// Reads explicit ids and positions, without any request:
///
/// | input | target |
/// |---|---|
/// | `ztf:ZTF18abcdefg` or a bare `ZTF18abcdefg` | ZTF id (ALeRCE, Fink, Lasair) |
/// | `atlas:1121846111091548800` | 19-digit ATLAS Transient Server id |
/// | `lsst:313761410112291108` | LSST diaObjectId (a 64-bit integer) |
/// | `skyportal:<obj_id>` | SkyPortal object id |
/// | `pos:150.1 2.2`, `150.1 2.2`, `10:00:24 +02:12:00` | position (forced photometry) |
///
/// Several prefixed items on one line (`ztf:ZTF18abcdefg atlas:1121846111091548800`) make
/// one target with all of them. A bare integer is refused: ATLAS and LSST ids are both
/// long integers, so it needs its `atlas:` or `lsst:` prefix.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExplicitResolver;

#[async_trait]
impl TargetResolver for ExplicitResolver {
    async fn target(&self, query: &str) -> Result<Target, BoxError> {
        Ok(parse_explicit(query)?)
    }
}

/// Reads names, any broker's id and positions with a [`Resolver`](crate::resolve::Resolver)
/// (TNS names in any spelling, ATLAS designations, bare ids, positions matched by cones at
/// each broker), and [`ExplicitResolver`]'s prefixed lines (`ztf:… atlas:… pos:…`) as before,
/// without any request.
///
/// A resolution during which a service failed is an error naming the services, not a
/// target with ids missing: the harvest records the input as failed and a resumed run asks
/// again. Ambiguous cone matches are left out of the target (see
/// [`Resolution::ambiguous`](crate::resolve::Resolution::ambiguous)).
#[derive(Debug, Clone)]
pub struct NameResolver {
    resolver: crate::resolve::Resolver,
}

impl NameResolver {
    /// Resolves with `resolver`.
    pub fn new(resolver: crate::resolve::Resolver) -> Self {
        NameResolver { resolver }
    }
}

#[async_trait]
impl TargetResolver for NameResolver {
    async fn target(&self, query: &str) -> Result<Target, BoxError> {
        let q = query.trim();
        if q.split_whitespace().any(prefixed) {
            if let Ok(t) = parse_explicit(q) {
                return Ok(t);
            }
        }
        let res = self.resolver.resolve(q).await?;
        if !res.failures.is_empty() {
            let parts: Vec<String> = res.failures.iter().map(|f| format!("{}: {}", f.broker, f.message)).collect();
            return Err(format!("resolving {q:?}: {}", parts.join("; ")).into());
        }
        let t = res.target();
        if t.is_empty() {
            return Err(format!("nothing known about {q:?}: no service gave an id or a position").into());
        }
        Ok(t)
    }
}

/// An input line that does not name a target explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The input.
    pub input: String,
    /// Why, and what is accepted.
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid input {:?}: {}", self.input, self.message)
    }
}

impl std::error::Error for InputError {}

const ACCEPTED: &str = "use ztf:<ZTF id>, atlas:<19-digit id>, lsst:<diaObjectId>, skyportal:<obj_id>, \
                        a bare ZTF id, or a position `RA Dec` (degrees or sexagesimal)";

fn is_ztf_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12
        && s.starts_with("ZTF")
        && b[3].is_ascii_digit()
        && b[4].is_ascii_digit()
        && b[5..].iter().all(|c| c.is_ascii_lowercase())
}

/// Whether a word starts with a `name:` prefix (letters only, so `10:00:24` is not one).
fn prefixed(w: &str) -> bool {
    w.split_once(':').is_some_and(|(p, _)| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphabetic()))
}

/// Parses one explicit input (see [`ExplicitResolver`]).
pub fn parse_explicit(input: &str) -> Result<Target, InputError> {
    let q = input.trim();
    let err = |m: String| InputError { input: q.to_string(), message: m };
    if q.is_empty() {
        return Err(err(format!("it is empty: {ACCEPTED}")));
    }
    let has_prefix = q.split_whitespace().any(prefixed);
    if !has_prefix {
        if is_ztf_id(q) {
            return Ok(Target::new().ztf(q));
        }
        if q.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(format!(
                "a bare integer is ambiguous (ATLAS and LSST ids are both long integers): write atlas:{q} or lsst:{q}"
            )));
        }
        return match SkyPosition::parse(q) {
            Ok(p) => Ok(Target::new().position(p)),
            Err(e) => Err(err(format!("not an id nor a position ({e}): {ACCEPTED}"))),
        };
    }
    let mut t = Target::new();
    let words: Vec<&str> = q.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let Some((prefix, rest)) = w.split_once(':') else {
            return Err(err(format!("{w:?} has no prefix: {ACCEPTED}")));
        };
        let value = rest.trim();
        match prefix.to_ascii_lowercase().as_str() {
            "ztf" => {
                if !is_ztf_id(value) {
                    return Err(err(format!("{value:?} is not a ZTF id (ZTF + 2 digits + 7 lowercase letters)")));
                }
                t = t.ztf(value);
            }
            "atlas" => {
                if value.len() != 19 || !value.chars().all(|c| c.is_ascii_digit()) {
                    return Err(err(format!(
                        "{value:?} is not a 19-digit ATLAS id (a designation such as ATLAS23abc needs a name resolver)"
                    )));
                }
                t = t.atlas(value);
            }
            "lsst" => {
                if value.parse::<i64>().is_err() {
                    return Err(err(format!("{value:?} is not an LSST diaObjectId (a 64-bit integer)")));
                }
                t = t.lsst(value);
            }
            "skyportal" => {
                if value.is_empty() || value.contains('/') {
                    return Err(err(format!("{value:?} is not a SkyPortal object id (non-empty, no `/`)")));
                }
                t = t.skyportal(value);
            }
            "pos" => {
                // The position is the rest of the words up to the next prefixed word.
                let mut parts = vec![value];
                while i + 1 < words.len() && !prefixed(words[i + 1]) {
                    i += 1;
                    parts.push(words[i]);
                }
                let text = parts.join(" ");
                let p = SkyPosition::parse(text.trim()).map_err(|e| err(format!("pos: {e}")))?;
                t = t.position(p);
            }
            other => return Err(err(format!("unknown prefix {other:?}: {ACCEPTED}"))),
        }
        i += 1;
    }
    Ok(t)
}

/// The key of a target in the dataset and the checkpoint: its ids and position, in a fixed
/// order, e.g. `ztf:ZTF18abcdefg`, `atlas:1121846111091548800|pos:150.100000,+2.200000`.
/// Two inputs that name the same ids and position share a key (and are harvested once).
pub fn target_key(t: &Target) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &t.ztf_oid {
        parts.push(format!("ztf:{v}"));
    }
    if let Some(v) = &t.lsst_oid {
        parts.push(format!("lsst:{v}"));
    }
    if let Some(v) = &t.atlas_id {
        parts.push(format!("atlas:{v}"));
    }
    if let Some(v) = &t.skyportal_id {
        parts.push(format!("skyportal:{v}"));
    }
    if let Some(p) = &t.position {
        parts.push(format!("pos:{:.6},{:+.6}", p.ra(), p.dec()));
    }
    parts.join("|")
}

/// A target as the checkpoint keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct StoredTarget {
    #[serde(skip_serializing_if = "Option::is_none")]
    ztf: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lsst: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    atlas: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skyportal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ra: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dec: Option<f64>,
}

impl StoredTarget {
    pub(crate) fn from_target(t: &Target) -> Self {
        StoredTarget {
            ztf: t.ztf_oid.clone(),
            lsst: t.lsst_oid.clone(),
            atlas: t.atlas_id.clone(),
            skyportal: t.skyportal_id.clone(),
            ra: t.position.map(|p| p.ra()),
            dec: t.position.map(|p| p.dec()),
        }
    }
    pub(crate) fn to_target(&self) -> Target {
        Target {
            ztf_oid: self.ztf.clone(),
            lsst_oid: self.lsst.clone(),
            atlas_id: self.atlas.clone(),
            skyportal_id: self.skyportal.clone(),
            position: match (self.ra, self.dec) {
                (Some(ra), Some(dec)) => SkyPosition::new(ra, dec).ok(),
                _ => None,
            },
            mjd_min: None,
            mjd_max: None,
        }
    }
}

/// The inputs of a text file: one per line; blank lines and lines starting with `#` are
/// skipped, and so is anything after a `#` on a line.
pub fn read_input_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The inputs naming every ZTF object ALeRCE's classifier put in `class` (e.g. `SNIa` with
/// classifier `lc_classifier`) whose first detection is at or after `firstmjd_min`, page after
/// page (`GET objects/` with `classifier`, `class`, `firstmjd`). Each input carries the ZTF id
/// and the object's mean position (`ztf:<oid> pos:<ra> <dec>`).
#[cfg(feature = "alerce")]
pub async fn alerce_class_since(
    client: &alerce_client::AlerceClient,
    classifier: &str,
    class: &str,
    firstmjd_min: f64,
) -> Result<Vec<String>, alerce_client::Error> {
    use futures::TryStreamExt;
    let q = alerce_client::ztf::ObjectQuery::new()
        .classifier(classifier)
        .class_name(class)
        .firstmjd_min(firstmjd_min)
        .page_size(1000);
    let objects: Vec<alerce_client::ztf::ZtfObject> = client.ztf().stream_objects(q)?.try_collect().await?;
    Ok(objects
        .into_iter()
        .map(|o| match (o.meanra, o.meandec) {
            (Some(ra), Some(dec)) if SkyPosition::new(ra, dec).is_ok() => format!("ztf:{} pos:{ra} {dec}", o.oid),
            _ => format!("ztf:{}", o.oid),
        })
        .collect())
}

/// The inputs naming every source saved to SkyPortal group `group_id` (`GET /api/sources`
/// with `group_ids`, every page): `skyportal:<obj_id>`, plus the ZTF id when the object id is
/// one and the position when SkyPortal has it.
#[cfg(feature = "skyportal")]
pub async fn skyportal_group(client: &skyportal_client::Client, group_id: i64) -> Result<Vec<String>, BoxError> {
    use futures::TryStreamExt;
    let sources: Vec<skyportal_client::models::Source> =
        client.sources().list().group_ids([group_id]).stream().try_collect().await?;
    Ok(sources
        .into_iter()
        .filter(|s| !s.id.trim().is_empty() && !s.id.contains(char::is_whitespace))
        .map(|s| {
            let mut line = format!("skyportal:{}", s.id);
            if is_ztf_id(&s.id) {
                line.push_str(&format!(" ztf:{}", s.id));
            }
            if let (Some(ra), Some(dec)) = (s.ra, s.dec) {
                if SkyPosition::new(ra, dec).is_ok() {
                    line.push_str(&format!(" pos:{ra} {dec}"));
                }
            }
            line
        })
        .collect())
}

/// The inputs naming every object of an ATLAS custom list (`POST objectlist/` with
/// `getcustomlist=True`): `atlas:<id>`, plus the position when the list row has one.
#[cfg(feature = "atlas")]
pub async fn atlas_custom_list(client: &atlas_client::AtlasClient, list: u32) -> Result<Vec<String>, BoxError> {
    let rows = client.object_list(atlas_client::ListRef::custom(list)).send().await?;
    Ok(rows
        .into_iter()
        .map(|r| match (r.ra, r.dec) {
            (Some(ra), Some(dec)) if SkyPosition::new(ra, dec).is_ok() => format!("atlas:{} pos:{ra} {dec}", r.id),
            _ => format!("atlas:{}", r.id),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_inputs() {
        let t = parse_explicit("ZTF18abcdefg").unwrap();
        assert_eq!(target_key(&t), "ztf:ZTF18abcdefg");
        let t = parse_explicit("ztf:ZTF18abcdefg atlas:1121846111091548800 pos:150.1 2.2").unwrap();
        assert_eq!(target_key(&t), "ztf:ZTF18abcdefg|atlas:1121846111091548800|pos:150.100000,+2.200000");
        let t = parse_explicit("10:00:24.0 +02:12:00").unwrap();
        assert_eq!(target_key(&t), "pos:150.100000,+2.200000");
        let t = parse_explicit("150.1 -2.2").unwrap();
        assert_eq!(target_key(&t), "pos:150.100000,-2.200000");
        let t = parse_explicit("lsst:313761410112291108 skyportal:ZTF18abcdefg").unwrap();
        assert_eq!(target_key(&t), "lsst:313761410112291108|skyportal:ZTF18abcdefg");
        let t = parse_explicit("pos:10:00:24.0 +02:12:00 ztf:ZTF18abcdefg").unwrap();
        assert_eq!(target_key(&t), "ztf:ZTF18abcdefg|pos:150.100000,+2.200000");
        assert!(parse_explicit("1121846111091548800").unwrap_err().message.contains("atlas:1121846111091548800"));
        assert!(parse_explicit("atlas:ATLAS23abc").unwrap_err().message.contains("19-digit"));
        assert!(parse_explicit("tns:2023ixf").unwrap_err().message.contains("unknown prefix"));
        assert!(parse_explicit("SN 2023ixf").unwrap_err().message.contains("ztf:<ZTF id>"));
        assert!(parse_explicit("pos:400 0").is_err());
        assert!(parse_explicit("  ").is_err());
    }

    #[test]
    fn stored_targets_round_trip() {
        let t = parse_explicit("ztf:ZTF18abcdefg pos:150.1 2.2").unwrap();
        let s = StoredTarget::from_target(&t);
        let back: StoredTarget = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back.to_target(), t);
    }

    #[test]
    fn input_files() {
        let lines = read_input_lines("# header\nZTF18abcdefg\n\n  atlas:1121846111091548800  # comment\n");
        assert_eq!(lines, vec!["ZTF18abcdefg", "atlas:1121846111091548800"]);
    }
}
