//! `astrobrokers lasair …`: both Lasair servers (ZTF and LSST). Verbs that take an object id
//! pick the server from it (all digits: an LSST `diaObjectId`; else a ZTF id); the others
//! take `--survey ztf|lsst` (default ztf).

use anyhow::{Result, bail};
use astrobrokers::lasair::annotate::Annotation;
use astrobrokers::lasair::cone::ConeRequest;
use astrobrokers::lasair::{ObjectId, ObjectOptions, Query};
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::ctx::{self, Endpoints};
use crate::output::to_rows;
use crate::{Global, LcOut, PosArgs, SurveyArg};

/// What a cone search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ConeKind {
    /// Every object in the cone.
    #[default]
    All,
    /// The nearest object.
    Nearest,
    /// How many objects.
    Count,
}

/// Lasair verbs.
#[derive(Debug, Subcommand)]
pub enum LasairCmd {
    /// Objects within a radius (at most 1000 arcsec) of a position.
    Cone {
        #[command(flatten)]
        pos: PosArgs,
        /// Which server.
        #[arg(long, value_enum, default_value_t)]
        survey: SurveyArg,
        /// All objects, the nearest, or a count.
        #[arg(long, value_enum, default_value_t)]
        request: ConeKind,
    },
    /// A database query: `SELECT <select> FROM <tables> WHERE <where>`, with limit/offset; `--all` pages through.
    Query {
        /// The columns (`objectId, gmag` on ZTF; `diaObjectId, ra, decl` on LSST).
        #[arg(long)]
        select: String,
        /// The tables, comma-separated.
        #[arg(long, default_value = "objects")]
        tables: String,
        /// The conditions (may be empty or only an ORDER BY); no LIMIT/OFFSET here.
        #[arg(long = "where", default_value = "")]
        conditions: String,
        /// Join a watchlist's hits (`watchlist:<ID>`; columns `watchlist_hits.name`, `.arcsec`).
        #[arg(long)]
        watchlist: Option<u64>,
        /// Join a watchmap (`area:<ID>`).
        #[arg(long)]
        watchmap: Option<u64>,
        /// Rows per request.
        #[arg(long)]
        limit: Option<u64>,
        /// Rows to skip.
        #[arg(long)]
        offset: Option<u64>,
        /// Every page (each page is one call against the hourly quota).
        #[arg(long)]
        all: bool,
        /// Which server.
        #[arg(long, value_enum, default_value_t)]
        survey: SurveyArg,
    },
    /// One object, as the server sends it (JSON).
    Object {
        /// A ZTF id (ZTF21abcdefg) or an LSST diaObjectId (digits).
        id: String,
        /// Fewer columns.
        #[arg(long)]
        lite: bool,
        /// Without Lasair's additions (the light curve only).
        #[arg(long)]
        no_lasair_added: bool,
    },
    /// An object's light curve with the unified columns (and a PNG with --plot).
    Lightcurve {
        /// A ZTF id or an LSST diaObjectId.
        id: String,
        /// Add forced photometry (ZTF forcedphot, LSST diaForcedSources).
        #[arg(long)]
        forced: bool,
        #[command(flatten)]
        lc: LcOut,
    },
    /// Sherlock's classification and crossmatches of an object.
    Sherlock {
        /// A ZTF id or an LSST diaObjectId.
        id: String,
        /// Only the top crossmatch.
        #[arg(long)]
        lite: bool,
    },
    /// Sherlock's classification and crossmatches of a position.
    SherlockPosition {
        /// Right ascension (degrees).
        #[arg(allow_negative_numbers = true)]
        ra: f64,
        /// Declination (degrees).
        #[arg(allow_negative_numbers = true)]
        dec: f64,
        /// Only the top crossmatch.
        #[arg(long)]
        lite: bool,
        /// Which server.
        #[arg(long, value_enum, default_value_t)]
        survey: SurveyArg,
    },
    /// Attach an annotation (you must own the annotator topic). Sent once, never retried after a timeout.
    Annotate {
        /// A ZTF id or an LSST diaObjectId.
        id: String,
        /// The annotator topic.
        #[arg(long)]
        topic: String,
        /// The classification.
        #[arg(long = "class")]
        classification: String,
        /// The annotator's version.
        #[arg(long, default_value = "0.1")]
        version: String,
        /// An explanation.
        #[arg(long, default_value = "")]
        explanation: String,
        /// A URL with more information.
        #[arg(long, default_value = "")]
        url: String,
        /// Further information as a JSON object.
        #[arg(long, default_value = "{}")]
        classdict: String,
    },
    /// ZTF stream topics (legacy route: current servers answer 404).
    Streams {
        /// Only topics matching this regular expression.
        #[arg(long)]
        regex: Option<String>,
    },
}

fn object_id(id: &str) -> Result<ObjectId> {
    Ok(ObjectId::parse(id)?)
}

fn sherlock_rows(r: &astrobrokers::lasair::SherlockReply) -> Vec<Value> {
    let (name, class) = r.first_classification().map(|(n, c)| (n.to_string(), c.to_string())).unwrap_or_default();
    if r.crossmatches.is_empty() {
        return vec![json!({"name": name, "classification": class})];
    }
    r.crossmatches
        .iter()
        .map(|m| {
            let mut row = serde_json::Map::new();
            row.insert("name".into(), json!(name));
            row.insert("classification".into(), json!(class));
            row.extend(m.clone());
            Value::Object(row)
        })
        .collect()
}

/// Runs a Lasair verb.
pub async fn run(g: &Global, ep: &Endpoints, cmd: LasairCmd) -> Result<()> {
    let client = ep.lasair()?;
    match cmd {
        LasairCmd::Cone { pos, survey, request } => {
            let (p, r) = pos.get()?;
            if r > astrobrokers::lasair::cone::MAX_CONE_RADIUS_ARCSEC {
                bail!("invalid radius: {r} arcsec is more than Lasair's 1000 arcsec");
            }
            let kind = match request {
                ConeKind::All => ConeRequest::All,
                ConeKind::Nearest => ConeRequest::Nearest,
                ConeKind::Count => ConeRequest::Count,
            };
            let res = match survey {
                SurveyArg::Ztf => client.ztf().cone(&p, r, kind).await?,
                SurveyArg::Lsst => client.lsst().cone(&p, r, kind).await?,
            };
            if kind == ConeRequest::Count {
                return g.emit(&[json!({"count": res.count})], None);
            }
            g.emit(&to_rows(&res.objects)?, Some(&["object", "separation"]))
        }
        LasairCmd::Query { select, tables, conditions, watchlist, watchmap, limit, offset, all, survey } => {
            let mut q = Query::new(select, tables, conditions);
            if let Some(w) = watchlist {
                q = q.watchlist(w);
            }
            if let Some(w) = watchmap {
                q = q.watchmap(w);
            }
            if let Some(l) = limit {
                q = q.limit(l);
            }
            if let Some(o) = offset {
                q = q.offset(o);
            }
            q.validate()?;
            let rows = if all {
                let s = match survey {
                    SurveyArg::Ztf => client.ztf().query_stream(q)?,
                    SurveyArg::Lsst => client.lsst().query_stream(q)?,
                };
                ctx::drain(g, s, "query rows").await?
            } else {
                match survey {
                    SurveyArg::Ztf => client.ztf().query(&q).await?,
                    SurveyArg::Lsst => client.lsst().query(&q).await?,
                }
            };
            g.emit(&rows.into_iter().map(Value::Object).collect::<Vec<_>>(), None)
        }
        LasairCmd::Object { id, lite, no_lasair_added } => {
            let opts = ObjectOptions { lite, lasair_added: !no_lasair_added, reliability_threshold: None };
            let v = match object_id(&id)? {
                ObjectId::Ztf(z) => serde_json::to_value(client.ztf().object(&z, &opts).await?)?,
                ObjectId::Lsst(i) => serde_json::to_value(client.lsst().object(i, &opts).await?)?,
            };
            g.emit(&[v], None)
        }
        LasairCmd::Lightcurve { id, forced, lc } => {
            lc.check()?;
            let (curve, title) = match object_id(&id)? {
                ObjectId::Ztf(z) => (client.ztf().lightcurve(&z).await?.to_lightcurve(forced), z),
                ObjectId::Lsst(i) => (client.lsst().lightcurve(i).await?.to_lightcurve(forced), i.to_string()),
            };
            lc.emit(g, &curve, &format!("Lasair {title}"))
        }
        LasairCmd::Sherlock { id, lite } => {
            let r = match object_id(&id)? {
                ObjectId::Ztf(z) => client.ztf().sherlock_object(&z, lite).await?,
                ObjectId::Lsst(i) => client.lsst().sherlock_object(i, lite).await?,
            };
            g.emit(&sherlock_rows(&r), Some(&["name", "classification"]))
        }
        LasairCmd::SherlockPosition { ra, dec, lite, survey } => {
            let p = ctx::position(ra, dec)?;
            let r = match survey {
                SurveyArg::Ztf => client.ztf().sherlock_position(&p, lite).await?,
                SurveyArg::Lsst => client.lsst().sherlock_position(&p, lite).await?,
            };
            g.emit(&sherlock_rows(&r), Some(&["name", "classification"]))
        }
        LasairCmd::Annotate { id, topic, classification, version, explanation, url, classdict } => {
            let d: serde_json::Map<String, Value> = serde_json::from_str(&classdict).map_err(|e| {
                anyhow::anyhow!("invalid --classdict: {e}: give a JSON object such as '{{\"p\": 0.9}}'")
            })?;
            let oid = object_id(&id)?;
            let a = Annotation::new(topic, oid.clone(), classification)
                .version(version)
                .explanation(explanation)
                .url(url)
                .classdict(d);
            let r = match oid {
                ObjectId::Ztf(_) => client.ztf().annotate(&a).await?,
                ObjectId::Lsst(_) => client.lsst().annotate(&a).await?,
            };
            g.emit(&to_rows(&r)?, Some(&["status"]))
        }
        LasairCmd::Streams { regex } => {
            let topics = client.ztf().stream_topics(regex.as_deref()).await?;
            g.emit(&to_rows(&topics)?, Some(&["topic", "more_info"]))
        }
    }
}
