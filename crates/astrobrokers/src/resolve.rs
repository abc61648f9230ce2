//! One object, every broker: from a name, an id or a position to the object's position and
//! its id at each service.
//!
//! A query ([`Query::parse`], no network) is a TNS name in any spelling (`SN 2023ixf`,
//! `2023ixf`, `AT2023ixf`, `sn2023ixf`), a ZTF id (`ZTF23aaklqou`), an LSST diaObjectId
//! (an integer, or `LSST-P-DO-<int>`), an ATLAS id (19 digits, starting with 1) or
//! designation (`ATLAS23abc`), a position (decimal `"210.91 54.31"` or sexagesimal
//! `"14:03:38.6 +54:18:42"`), or else a SkyPortal object id. `lsst:`, `atlas:`, `ztf:`,
//! `tns:` and `skyportal:` prefixes force a kind.
//!
//! [`Resolver::resolve`] then:
//!
//! 1. with TNS configured: the TNS object of the name (or the one whose internal names hold
//!    the survey id, or the one in a cone around the position) gives the position and the
//!    survey ids (found [`FoundBy::TnsInternalName`]);
//! 2. without TNS (or when TNS does not know the object): ALeRCE gives a ZTF object's
//!    position, the ATLAS server an ATLAS object's position and its TNS cross-match
//!    ([`FoundBy::CrossReference`]);
//! 3. with a position, a cone (default 2″) at every [`ConeSource`]: a single match is an id
//!    found [`FoundBy::Cone`] with its separation; several matches at one broker are listed
//!    in [`Resolution::ambiguous`], never chosen, unless one of them is an id already known.
//!
//! Each id carries a confidence in `[0, 1]`: 1 for the query itself, 0.95 for TNS internal
//! names and a service's own cross-reference, and for a cone match `0.9 × (1 − sep / (2 ×
//! radius))` (0.9 at 0″, 0.45 at the radius). Any subset of services may be configured; a
//! service that fails is listed in [`Resolution::failures`] and the others still answer.

use std::sync::Arc;

use broker_core::SkyPosition;
use serde::Serialize;

use crate::cross::{BrokerFailure, ConeHit, ConeSource, Target};

/// The default cone radius (arcseconds): survey astrometry is good to well under 1″, and
/// 2″ keeps neighbours out in all but crowded fields.
pub const DEFAULT_RADIUS_ARCSEC: f64 = 2.0;

/// What a query names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Query {
    /// A TNS designation without prefix (`2023ixf`).
    Tns(String),
    /// A ZTF object id.
    Ztf(String),
    /// An LSST diaObjectId.
    Lsst(i64),
    /// A 19-digit ATLAS Transient Server id.
    AtlasId(String),
    /// An ATLAS designation (`ATLAS23abc`).
    AtlasDesignation(String),
    /// A SkyPortal object id.
    SkyPortal(String),
    /// A position.
    Position(SkyPosition),
}

/// A query that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The query says nothing usable.
    #[error("{0}")]
    Query(String),
    /// Nothing was found anywhere, with what each service said.
    #[error("nothing known about {query:?}{}", failures_suffix(.failures))]
    NotFound {
        /// The query.
        query: String,
        /// The services that failed while looking.
        failures: Vec<BrokerFailure>,
    },
}

fn failures_suffix(f: &[BrokerFailure]) -> String {
    if f.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = f.iter().map(|x| format!("{}: {}", x.broker, x.message)).collect();
        format!(" (failed: {})", parts.join("; "))
    }
}

const QUERY_HELP: &str = "use a TNS name (\"SN 2023ixf\", \"2023ixf\"), a ZTF id (\"ZTF23aaklqou\"), an LSST diaObjectId, an ATLAS id (19 digits) or designation (\"ATLAS23abc\"), a SkyPortal id, or a position (\"210.91 54.31\" or \"14:03:38.6 +54:18:42\")";

fn is_ztf(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12
        && b[..3].eq_ignore_ascii_case(b"ztf")
        && b[3..5].iter().all(u8::is_ascii_digit)
        && b[5..].iter().all(u8::is_ascii_alphabetic)
}

/// A ZTF id as ZTF writes it (`ZTF` then lower case); `s` passed [`is_ztf`], so it is ASCII.
fn normal_ztf(s: &str) -> String {
    format!("ZTF{}", s[3..].to_ascii_lowercase())
}

fn is_atlas_designation(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 7
        && b[..5].eq_ignore_ascii_case(b"atlas")
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7..].iter().all(u8::is_ascii_alphabetic)
}

/// An ATLAS designation as ATLAS writes it; `s` passed [`is_atlas_designation`] (ASCII).
fn normal_atlas(s: &str) -> String {
    format!("ATLAS{}", s[5..].to_ascii_lowercase())
}

/// `Some(objname)` when `s` is a TNS name (prefix AT/SN/FRB optional, any case, with or
/// without a space): four digits and one to five letters.
fn tns_objname(s: &str) -> Option<String> {
    #[cfg(feature = "tns")]
    {
        tns_client::TnsName::parse(s).ok().map(|n| n.objname())
    }
    #[cfg(not(feature = "tns"))]
    {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(t.len());
        let (head, rest) = t.split_at(split);
        if !head.is_empty() && !["AT", "SN", "FRB"].iter().any(|p| head.eq_ignore_ascii_case(p)) {
            return None;
        }
        let rest = rest.trim_start_matches([' ', '_', '-']);
        let (year, letters) = (rest.get(..4)?, rest.get(4..)?);
        (year.bytes().all(|b| b.is_ascii_digit())
            && (1..=5).contains(&letters.len())
            && letters.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| {
            let l = if letters.len() == 1 { letters.to_ascii_uppercase() } else { letters.to_ascii_lowercase() };
            format!("{year}{l}")
        })
    }
}

fn parse_lsst(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.rsplit('-').next().unwrap_or(t);
    let lower = t.to_ascii_lowercase();
    if t.contains('-') && !lower.starts_with("lsst-") {
        return None;
    }
    digits.parse::<i64>().ok().filter(|v| *v > 0)
}

impl Query {
    /// Parses a query (no network). See the module docs for what is accepted.
    pub fn parse(input: &str) -> Result<Query, ResolveError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ResolveError::Query(format!("the query is empty: {QUERY_HELP}")));
        }
        if let Some((kind, rest)) = s.split_once(':') {
            let rest = rest.trim();
            let bad = |what: &str| ResolveError::Query(format!("{rest:?} is not {what}: {QUERY_HELP}"));
            match kind.trim().to_ascii_lowercase().as_str() {
                "tns" => return tns_objname(rest).map(Query::Tns).ok_or_else(|| bad("a TNS name")),
                "ztf" if is_ztf(rest) => return Ok(Query::Ztf(normal_ztf(rest))),
                "ztf" => return Err(bad("a ZTF id (ZTF, two digits, seven letters)")),
                "lsst" => return parse_lsst(rest).map(Query::Lsst).ok_or_else(|| bad("an LSST diaObjectId")),
                "atlas" if is_atlas_designation(rest) => return Ok(Query::AtlasDesignation(normal_atlas(rest))),
                "atlas" if rest.len() == 19 && rest.bytes().all(|b| b.is_ascii_digit()) => {
                    return Ok(Query::AtlasId(rest.to_string()));
                }
                "atlas" => return Err(bad("an ATLAS id (19 digits) or designation")),
                "skyportal" if !rest.is_empty() => return Ok(Query::SkyPortal(rest.to_string())),
                _ => {}
            }
        }
        if is_ztf(s) {
            return Ok(Query::Ztf(normal_ztf(s)));
        }
        if is_atlas_designation(s) {
            return Ok(Query::AtlasDesignation(normal_atlas(s)));
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            // ATLAS ids are 19 digits from 1000000000000000000; LSST diaObjectIds are other
            // positive 64-bit integers.
            if s.len() == 19 && s.starts_with('1') {
                return Ok(Query::AtlasId(s.to_string()));
            }
            if let Some(v) = parse_lsst(s) {
                return Ok(Query::Lsst(v));
            }
        }
        if s.to_ascii_lowercase().starts_with("lsst-") {
            if let Some(v) = parse_lsst(s) {
                return Ok(Query::Lsst(v));
            }
        }
        if let Some(n) = tns_objname(s) {
            return Ok(Query::Tns(n));
        }
        if s.contains(|c: char| c.is_whitespace() || c == ',') || s.contains(':') {
            return SkyPosition::parse(s)
                .map(Query::Position)
                .map_err(|e| ResolveError::Query(format!("{s:?} is not a position ({e}) nor an id: {QUERY_HELP}")));
        }
        Ok(Query::SkyPortal(s.to_string()))
    }
}

/// The kind of an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// A TNS name (without prefix).
    Tns,
    /// A ZTF object id (ALeRCE, Fink, Lasair ZTF, SkyPortal often).
    Ztf,
    /// An LSST diaObjectId (ALeRCE multisurvey, Fink LSST, Lasair LSST).
    Lsst,
    /// A 19-digit ATLAS id.
    Atlas,
    /// An ATLAS designation.
    AtlasDesignation,
    /// A SkyPortal object id (written `skyportal`, as the broker's name).
    #[serde(rename = "skyportal")]
    SkyPortal,
}

/// How an id was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum FoundBy {
    /// It is what was asked for.
    Query,
    /// Listed among the TNS object's internal names (or the TNS name itself).
    TnsInternalName,
    /// The only object within the cone at that broker.
    Cone {
        /// The broker asked.
        broker: String,
        /// Its distance from the position, when the broker said.
        separation_arcsec: Option<f64>,
    },
    /// The broker's own cross-reference (the ATLAS object's TNS cross-match).
    CrossReference {
        /// The broker.
        broker: String,
        /// The field it came from.
        field: String,
    },
}

/// One id of the object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrokerId {
    /// What kind of id.
    pub kind: IdKind,
    /// The id.
    pub id: String,
    /// How it was found.
    pub found_by: FoundBy,
    /// How sure: 1 for the query, 0.95 for TNS and cross-references, lower for cones.
    pub confidence: f64,
}

/// Several objects in one broker's cone: listed, not chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The kind of id the broker gives.
    pub kind: IdKind,
    /// The match.
    pub hit: ConeHit,
}

/// What is known about the object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    /// The query as parsed.
    pub query: Query,
    /// The position, when anything gave one.
    pub position: Option<SkyPosition>,
    /// Every id found, best first within a kind.
    pub ids: Vec<BrokerId>,
    /// Cone matches that could not be told apart.
    pub ambiguous: Vec<Candidate>,
    /// Services that failed.
    pub failures: Vec<BrokerFailure>,
}

impl Resolution {
    /// The best id of a kind.
    pub fn id(&self, kind: IdKind) -> Option<&str> {
        self.ids
            .iter()
            .filter(|i| i.kind == kind)
            .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
            .map(|i| i.id.as_str())
    }
    /// The TNS name (without prefix), when known.
    pub fn tns_name(&self) -> Option<&str> {
        self.id(IdKind::Tns)
    }
    /// A cross-broker target with the best id of each kind and the position.
    pub fn target(&self) -> Target {
        Target {
            ztf_oid: self.id(IdKind::Ztf).map(str::to_string),
            lsst_oid: self.id(IdKind::Lsst).map(str::to_string),
            atlas_id: self.id(IdKind::Atlas).map(str::to_string),
            skyportal_id: self.id(IdKind::SkyPortal).map(str::to_string),
            position: self.position,
            mjd_min: None,
            mjd_max: None,
        }
    }
    fn add(&mut self, kind: IdKind, id: impl Into<String>, found_by: FoundBy, confidence: f64) {
        let id = id.into();
        if let Some(e) = self.ids.iter_mut().find(|x| x.kind == kind && x.id.eq_ignore_ascii_case(&id)) {
            if confidence > e.confidence {
                e.confidence = confidence;
                e.found_by = found_by;
            }
            return;
        }
        self.ids.push(BrokerId { kind, id, found_by, confidence });
    }
    fn knows(&self, kind: IdKind, id: &str) -> bool {
        self.ids.iter().any(|x| x.kind == kind && x.id.eq_ignore_ascii_case(id))
    }
}

/// The kind of id a cone source's hits carry.
fn kind_of_hit(broker: &str, object_id: &str) -> IdKind {
    match broker {
        "atlas" => IdKind::Atlas,
        "skyportal" => IdKind::SkyPortal,
        "fink-lsst" => IdKind::Lsst,
        _ if object_id.bytes().all(|b| b.is_ascii_digit()) => IdKind::Lsst,
        _ => IdKind::Ztf,
    }
}

/// Confidence of a single cone match.
fn cone_confidence(sep: Option<f64>, radius: f64) -> f64 {
    match sep {
        Some(s) if radius > 0.0 => 0.9 * (1.0 - (s / (2.0 * radius)).clamp(0.0, 0.5)),
        _ => 0.45,
    }
}

/// Resolves queries with the services it was given (any subset).
#[derive(Clone, Default)]
pub struct Resolver {
    cones: Vec<Arc<dyn ConeSource>>,
    radius_arcsec: Option<f64>,
    #[cfg(feature = "tns")]
    tns: Option<tns_client::TnsClient>,
    #[cfg(feature = "alerce")]
    alerce: Option<alerce_client::AlerceClient>,
    #[cfg(feature = "atlas")]
    atlas: Option<atlas_client::AtlasClient>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("cone_sources", &self.cones.iter().map(|s| s.broker().to_string()).collect::<Vec<_>>())
            .field("radius_arcsec", &self.radius())
            .finish_non_exhaustive()
    }
}

impl Resolver {
    /// No services yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a cone-search service.
    pub fn with_cone_source(mut self, s: Arc<dyn ConeSource>) -> Self {
        self.cones.push(s);
        self
    }
    /// The cone radius in arcseconds (default [`DEFAULT_RADIUS_ARCSEC`]).
    pub fn radius_arcsec(mut self, r: f64) -> Self {
        self.radius_arcsec = Some(r);
        self
    }
    /// Uses TNS (names, internal names, cone).
    #[cfg(feature = "tns")]
    pub fn with_tns(mut self, c: tns_client::TnsClient) -> Self {
        self.tns = Some(c);
        self
    }
    /// Uses ALeRCE for a ZTF object's position.
    #[cfg(feature = "alerce")]
    pub fn with_alerce(mut self, c: alerce_client::AlerceClient) -> Self {
        self.alerce = Some(c);
        self
    }
    /// Uses the ATLAS server for an ATLAS object's position and TNS cross-match.
    #[cfg(feature = "atlas")]
    pub fn with_atlas(mut self, c: atlas_client::AtlasClient) -> Self {
        self.atlas = Some(c);
        self
    }

    fn radius(&self) -> f64 {
        self.radius_arcsec.filter(|r| r.is_finite() && *r > 0.0).unwrap_or(DEFAULT_RADIUS_ARCSEC)
    }

    /// Resolves a query (see the module docs).
    pub async fn resolve(&self, query: &str) -> Result<Resolution, ResolveError> {
        let q = Query::parse(query)?;
        let mut r = Resolution {
            query: q.clone(),
            position: None,
            ids: Vec::new(),
            ambiguous: Vec::new(),
            failures: Vec::new(),
        };
        match &q {
            Query::Tns(n) => r.add(IdKind::Tns, n.clone(), FoundBy::Query, 1.0),
            Query::Ztf(z) => r.add(IdKind::Ztf, z.clone(), FoundBy::Query, 1.0),
            Query::Lsst(l) => r.add(IdKind::Lsst, l.to_string(), FoundBy::Query, 1.0),
            Query::AtlasId(a) => r.add(IdKind::Atlas, a.clone(), FoundBy::Query, 1.0),
            Query::AtlasDesignation(a) => r.add(IdKind::AtlasDesignation, a.clone(), FoundBy::Query, 1.0),
            Query::SkyPortal(s) => r.add(IdKind::SkyPortal, s.clone(), FoundBy::Query, 1.0),
            Query::Position(p) => r.position = Some(*p),
        }
        #[cfg(feature = "atlas")]
        if let (Some(c), Query::AtlasId(id)) = (&self.atlas, &q) {
            self.atlas_lookup(c, id, &mut r).await;
        }
        #[cfg(feature = "tns")]
        if let Some(c) = &self.tns {
            self.tns_lookup(c, &q, &mut r).await;
        }
        #[cfg(feature = "alerce")]
        if r.position.is_none() {
            if let (Some(c), Some(z)) = (&self.alerce, r.id(IdKind::Ztf).map(str::to_string)) {
                match c.ztf().object(&z).await {
                    Ok(o) => {
                        if let (Some(ra), Some(dec)) = (o.meanra, o.meandec) {
                            r.position = SkyPosition::new(ra, dec).ok();
                        }
                    }
                    Err(e) => r.failures.push(BrokerFailure { broker: "alerce".into(), message: e.to_string() }),
                }
            }
        }
        if let Some(p) = r.position {
            self.cone_lookup(p, &mut r).await;
        }
        if r.position.is_none() && r.ids.iter().all(|i| i.found_by == FoundBy::Query) && r.ambiguous.is_empty() {
            // Nothing beyond the query: still usable as a target when the query is an id,
            // but a position that nothing matched, or an unknown id with every service
            // failing, is reported.
            if matches!(q, Query::Position(_)) || (!r.failures.is_empty() && r.ids.len() <= 1) {
                return Err(ResolveError::NotFound { query: query.trim().to_string(), failures: r.failures });
            }
        }
        r.ids.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| b.confidence.total_cmp(&a.confidence)));
        Ok(r)
    }

    #[cfg(feature = "atlas")]
    async fn atlas_lookup(&self, c: &atlas_client::AtlasClient, id: &str, r: &mut Resolution) {
        let parsed = match atlas_client::AtlasId::parse(id) {
            Ok(p) => p,
            Err(e) => {
                r.failures.push(BrokerFailure { broker: "atlas".into(), message: e.to_string() });
                return;
            }
        };
        match c.source(parsed).send().await {
            Ok(Some(s)) => {
                if let (Some(ra), Some(dec)) = (s.object.ra, s.object.dec) {
                    r.position = r.position.or(SkyPosition::new(ra, dec).ok());
                }
                if let Some(d) = &s.object.atlas_designation {
                    r.add(
                        IdKind::AtlasDesignation,
                        d.clone(),
                        FoundBy::CrossReference { broker: "atlas".into(), field: "atlas_designation".into() },
                        0.95,
                    );
                }
                if let Some(n) = s.tns_name().and_then(tns_objname) {
                    r.add(
                        IdKind::Tns,
                        n,
                        FoundBy::CrossReference { broker: "atlas".into(), field: "tns_crossmatches".into() },
                        0.95,
                    );
                }
            }
            Ok(None) => {}
            Err(e) => r.failures.push(BrokerFailure { broker: "atlas".into(), message: e.to_string() }),
        }
    }

    #[cfg(feature = "tns")]
    async fn tns_lookup(&self, c: &tns_client::TnsClient, q: &Query, r: &mut Resolution) {
        let fail = |r: &mut Resolution, e: tns_client::Error| {
            r.failures.push(BrokerFailure { broker: "tns".into(), message: e.to_string() })
        };
        // Which TNS object: the name, or a search by internal name or position.
        let name = if let Some(n) = r.tns_name() {
            Some(n.to_string())
        } else {
            let search = match q {
                Query::Ztf(s) | Query::AtlasDesignation(s) => c.search_internal_name(s).await,
                Query::Lsst(l) => c.search_internal_name(&format!("LSST-P-DO-{l}")).await,
                Query::Position(p) => c.cone_search(*p, self.radius(), tns_client::search::RadiusUnit::Arcsec).await,
                _ => Ok(Vec::new()),
            };
            match search {
                Ok(hits) if hits.len() == 1 => Some(hits[0].objname.clone()),
                Ok(hits) => {
                    for h in hits {
                        r.ambiguous.push(Candidate {
                            kind: IdKind::Tns,
                            hit: ConeHit {
                                broker: "tns".into(),
                                object_id: h.objname,
                                ra: None,
                                dec: None,
                                separation_arcsec: None,
                            },
                        });
                    }
                    None
                }
                Err(e) => {
                    fail(r, e);
                    None
                }
            }
        };
        let Some(name) = name else { return };
        let query = match tns_client::object::ObjectQuery::name(&name) {
            Ok(q) => q,
            Err(e) => return fail(r, e),
        };
        match c.object(&query).await {
            Ok(o) => {
                r.add(IdKind::Tns, o.objname.clone(), FoundBy::TnsInternalName, 0.95);
                if r.position.is_none() {
                    r.position = o.position();
                }
                let names = o.internal_names();
                for (survey, n) in names.all() {
                    let kind = match survey {
                        tns_client::names::Survey::Ztf => IdKind::Ztf,
                        tns_client::names::Survey::Atlas => IdKind::AtlasDesignation,
                        tns_client::names::Survey::Lsst => match parse_lsst(n) {
                            Some(_) => IdKind::Lsst,
                            None => continue,
                        },
                        _ => continue,
                    };
                    let id = if kind == IdKind::Lsst {
                        parse_lsst(n).map(|v| v.to_string()).unwrap_or_default()
                    } else {
                        n.clone()
                    };
                    r.add(kind, id, FoundBy::TnsInternalName, 0.95);
                }
            }
            Err(e) => fail(r, e),
        }
    }

    async fn cone_lookup(&self, p: SkyPosition, r: &mut Resolution) {
        let radius = self.radius();
        let jobs = self.cones.iter().map(|s| {
            let s = s.clone();
            async move { (s.broker().to_string(), s.cone(&p, radius).await) }
        });
        for (broker, res) in futures::future::join_all(jobs).await {
            let hits = match res {
                Ok(h) => h,
                Err(e) => {
                    r.failures.push(BrokerFailure { broker, message: e.to_string() });
                    continue;
                }
            };
            let mut distinct: Vec<ConeHit> = Vec::new();
            for h in hits {
                if !distinct.iter().any(|d| d.object_id == h.object_id) {
                    distinct.push(h);
                }
            }
            match distinct.len() {
                0 => {}
                1 => {
                    let h = &distinct[0];
                    let kind = kind_of_hit(&broker, &h.object_id);
                    let conf = cone_confidence(h.separation_arcsec, radius);
                    r.add(
                        kind,
                        h.object_id.clone(),
                        FoundBy::Cone { broker: broker.clone(), separation_arcsec: h.separation_arcsec },
                        conf,
                    );
                }
                _ => {
                    // One of them already known (the query or TNS): that one, the rest listed.
                    let known: Vec<&ConeHit> =
                        distinct.iter().filter(|h| r.knows(kind_of_hit(&broker, &h.object_id), &h.object_id)).collect();
                    let known_id = (known.len() == 1).then(|| known[0].object_id.clone());
                    for h in distinct {
                        if Some(&h.object_id) != known_id.as_ref() {
                            r.ambiguous.push(Candidate { kind: kind_of_hit(&broker, &h.object_id), hit: h });
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_without_network() {
        for s in ["SN 2023ixf", "2023ixf", "AT2023ixf", "sn2023ixf", "tns:at 2023ixf"] {
            assert_eq!(Query::parse(s).unwrap(), Query::Tns("2023ixf".into()), "{s}");
        }
        assert_eq!(Query::parse("ztf23aaklqou").unwrap(), Query::Ztf("ZTF23aaklqou".into()));
        assert_eq!(Query::parse("ATLAS23abc").unwrap(), Query::AtlasDesignation("ATLAS23abc".into()));
        assert_eq!(Query::parse("1000005291314656200").unwrap(), Query::AtlasId("1000005291314656200".into()));
        assert_eq!(Query::parse("313765480543813793").unwrap(), Query::Lsst(313765480543813793));
        assert_eq!(Query::parse("LSST-P-DO-313765480543813793").unwrap(), Query::Lsst(313765480543813793));
        assert_eq!(Query::parse("lsst:42").unwrap(), Query::Lsst(42));
        assert_eq!(Query::parse("skyportal:2023ixf").unwrap(), Query::SkyPortal("2023ixf".into()));
        assert_eq!(Query::parse("MySource1").unwrap(), Query::SkyPortal("MySource1".into()));
        let Query::Position(p) = Query::parse("14:03:38.6 +54:18:42").unwrap() else { panic!() };
        assert!((p.ra() - 210.9108).abs() < 1e-3 && (p.dec() - 54.3117).abs() < 1e-3);
        let Query::Position(p) = Query::parse("210.91, 54.31").unwrap() else { panic!() };
        assert_eq!((p.ra(), p.dec()), (210.91, 54.31));
        let e = Query::parse("12 95").unwrap_err().to_string();
        assert!(e.contains("not a position") && e.contains("TNS name"), "{e}");
        assert!(Query::parse("  ").unwrap_err().to_string().contains("empty"));
        assert!(Query::parse("atlas:xyz").unwrap_err().to_string().contains("ATLAS id"));
    }

    /// Found by the `resolve_query` fuzz target: a prefixed id is checked and normalised like
    /// a bare one, and text with multi-byte characters where an id prefix would be is an
    /// answer, not a panic (the prefix was sliced by byte index).
    #[test]
    fn prefixed_ids_are_checked_and_non_ascii_text_does_not_panic() {
        let e = Query::parse("ztf:Z24ababbuksn").unwrap_err().to_string();
        assert!(e.contains("a ZTF id"), "{e}");
        assert_eq!(Query::parse("ztf: ztf18ABBUKSN").unwrap(), Query::Ztf("ZTF18abbuksn".into()));
        assert_eq!(Query::parse("atlas:atlas24XYZ").unwrap(), Query::AtlasDesignation("ATLAS24xyz".into()));
        for s in ["\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}", "a\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}a", "ATL\u{e9}\u{e9}\u{e9}"] {
            assert!(matches!(Query::parse(s), Ok(Query::SkyPortal(_))), "{s}");
        }
    }

    #[test]
    fn cone_confidence_falls_with_separation() {
        assert!((cone_confidence(Some(0.0), 2.0) - 0.9).abs() < 1e-12);
        assert!((cone_confidence(Some(2.0), 2.0) - 0.45).abs() < 1e-12);
        assert!(cone_confidence(Some(0.5), 2.0) > cone_confidence(Some(1.5), 2.0));
    }
}
