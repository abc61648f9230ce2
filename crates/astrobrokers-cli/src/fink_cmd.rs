//! `astrobrokers fink …`: the Fink REST APIs of ZTF and Rubin/LSST.

use std::path::PathBuf;

use anyhow::{Result, bail};
use astrobrokers::fink::columns::parse_columns;
use astrobrokers::fink::common::{CutoutFormat, CutoutKind, Resolver};
use astrobrokers::fink::ztf::Trend;
use astrobrokers::fink::{Column, FinkClient};
use clap::Subcommand;
use serde_json::{Value, json};

use crate::ctx::{self, Endpoints};
use crate::output::{to_rows, views};
use crate::{Global, LcOut, PosArgs, SurveyArg};

/// Fink verbs.
#[derive(Debug, Subcommand)]
pub enum FinkCmd {
    /// Object rows: ZTF alerts (with upper limits unless --no-upper-limits) or LSST diaObjects.
    Objects {
        /// ZTF names, or LSST diaObjectIds.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Which API.
        #[arg(long, value_enum, default_value_t)]
        survey: SurveyArg,
        /// ZTF: leave out the upper-limit and bad-quality rows.
        #[arg(long)]
        no_upper_limits: bool,
        /// Ask the server for only these columns (Fink's `columns` parameter), comma-separated
        /// with their family prefix (`i:jd,i:magpsf`). The global `--columns` picks what is
        /// printed.
        #[arg(long = "select", id = "select", value_name = "COLUMNS")]
        columns: Option<String>,
    },
    /// LSST diaSources (the light curve rows) of one or more diaObjectIds.
    Sources {
        /// LSST diaObjectIds.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Forced photometry (`fp`) instead of diaSources.
        #[arg(long)]
        forced: bool,
        /// Ask the server for only these columns (`r:midpointMjdTai,r:psfFlux`).
        #[arg(long = "select", id = "select", value_name = "COLUMNS")]
        columns: Option<String>,
    },
    /// The unified light curve of one object (ZTF: alerts and upper limits; LSST: diaSources).
    Lightcurve {
        /// A ZTF name, or an LSST diaObjectId.
        id: String,
        /// Which API.
        #[arg(long, value_enum, default_value_t)]
        survey: SurveyArg,
        #[command(flatten)]
        lc: LcOut,
    },
    /// ZTF: the latest alerts of a Fink class (see `fink classes`); --all walks back through time.
    Latests {
        /// The class, e.g. "Early SN Ia candidate".
        class: String,
        /// rising, fading, low_state or new_low_state.
        #[arg(long)]
        trend: Option<String>,
        /// How many alerts (per request with --all).
        #[arg(long, short = 'n')]
        n: Option<u64>,
        /// Window start (MJD).
        #[arg(long)]
        since_mjd: Option<f64>,
        /// Window end (MJD).
        #[arg(long)]
        until_mjd: Option<f64>,
        /// Every alert in the window (needs --until-mjd), n at a time.
        #[arg(long)]
        all: bool,
        /// Ask the server for only these columns (Fink's `columns` parameter).
        #[arg(long = "select", id = "select", value_name = "COLUMNS")]
        columns: Option<String>,
    },
    /// LSST: the tags (no argument), or the latest alerts of one tag; --all walks back through time.
    Tags {
        /// A tag.
        tag: Option<String>,
        /// How many alerts (per request with --all).
        #[arg(long, short = 'n')]
        n: Option<u64>,
        /// Window start (MJD).
        #[arg(long)]
        since_mjd: Option<f64>,
        /// Window end (MJD).
        #[arg(long)]
        until_mjd: Option<f64>,
        /// Every alert in the window (needs --until-mjd), n at a time.
        #[arg(long)]
        all: bool,
    },
    /// Cone search (radius at most 18,000 arcsec).
    Cone {
        #[command(flatten)]
        pos: PosArgs,
        /// Which API.
        #[arg(long, value_enum, default_value_t)]
        survey: SurveyArg,
        /// The most alerts (server default 1000).
        #[arg(long, short = 'n')]
        n: Option<u64>,
    },
    /// A cutout image, written as PNG or FITS.
    Cutout {
        /// ZTF name, or LSST diaSourceId.
        id: String,
        /// science, template or difference.
        #[arg(long, default_value = "science")]
        kind: String,
        /// Which API.
        #[arg(long, value_enum, default_value_t)]
        survey: SurveyArg,
        /// ZTF: the alert's candid (default: the latest alert).
        #[arg(long)]
        candid: Option<i64>,
        /// FITS instead of PNG.
        #[arg(long)]
        fits: bool,
        /// Where to write the file.
        #[arg(long, default_value = ".")]
        output_dir: PathBuf,
    },
    /// A Solar System object by number or designation.
    Sso {
        /// IAU number or designation (8467, 2010JO69).
        n_or_d: String,
        /// Which API.
        #[arg(long, value_enum, default_value_t)]
        survey: SurveyArg,
    },
    /// Resolve a name (simbad, ssodnet, tns), or a Fink id with --reverse.
    Resolve {
        /// The name or id.
        name: String,
        /// simbad, ssodnet or tns.
        #[arg(long, default_value = "tns")]
        resolver: String,
        /// Resolve a Fink id to external names.
        #[arg(long)]
        reverse: bool,
        /// Which API.
        #[arg(long, value_enum, default_value_t)]
        survey: SurveyArg,
    },
    /// ZTF: the Fink class names.
    Classes,
    /// The data schema (LSST needs --endpoint, e.g. /api/v1/sources).
    Schema {
        /// Which API.
        #[arg(long, value_enum, default_value_t)]
        survey: SurveyArg,
        /// LSST: the route whose fields to list.
        #[arg(long)]
        endpoint: Option<String>,
    },
}

fn cols(c: &Option<String>) -> Result<Vec<Column>> {
    Ok(match c {
        Some(s) => parse_columns(s)?,
        None => Vec::new(),
    })
}

fn lsst_ids(ids: &[String]) -> Result<Vec<i64>> {
    ids.iter()
        .map(|i| {
            i.trim().parse::<i64>().map_err(|_| {
                anyhow::anyhow!(
                    "invalid LSST id {i:?}: give the diaObjectId, a 64-bit integer such as 314003014107006318"
                )
            })
        })
        .collect()
}

/// Builds rows from a JSON map of lists (`classes`) or a map of maps (`tags`, `schema`).
fn map_rows(v: &serde_json::Map<String, Value>, key: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    for (k, v) in v {
        match v {
            Value::Array(items) => rows.extend(items.iter().map(|i| json!({key: k, "value": i}))),
            Value::Object(m) => {
                let mut r = serde_json::Map::new();
                r.insert(key.into(), Value::from(k.clone()));
                for (a, b) in m {
                    r.insert(a.clone(), if b.is_object() { Value::from(b.to_string()) } else { b.clone() });
                }
                rows.push(Value::Object(r));
            }
            other => rows.push(json!({key: k, "value": other})),
        }
    }
    rows
}

/// Runs a Fink verb.
pub async fn run(g: &Global, ep: &Endpoints, cmd: FinkCmd) -> Result<()> {
    let fink: FinkClient = ep.fink()?;
    match cmd {
        FinkCmd::Objects { ids, survey, no_upper_limits, columns } => match survey {
            SurveyArg::Ztf => {
                let rows = fink
                    .ztf()
                    .objects(&ids)
                    .with_upper_limits(!no_upper_limits)
                    .columns(cols(&columns)?)
                    .send()
                    .await?;
                g.emit_view(&to_rows(&rows)?, views::FINK_ZTF_OBJECTS)
            }
            SurveyArg::Lsst => {
                let rows = fink.lsst().objects(&lsst_ids(&ids)?).columns(cols(&columns)?).send_objects().await?;
                g.emit_view(&to_rows(&rows)?, views::FINK_LSST_OBJECTS)
            }
        },
        FinkCmd::Sources { ids, forced, columns } => {
            let ids = lsst_ids(&ids)?;
            let req = if forced { fink.lsst().forced_photometry(&ids) } else { fink.lsst().sources(&ids) };
            let rows = req.columns(cols(&columns)?).send().await?;
            g.emit_view(&to_rows(&rows)?, views::FINK_SOURCES)
        }
        FinkCmd::Lightcurve { id, survey, lc } => {
            lc.check()?;
            let id = id.trim();
            if id.is_empty() {
                bail!("invalid id: it is empty; give a ZTF name or an LSST diaObjectId");
            }
            let curve = fink.lightcurve(survey.into(), id).await?;
            lc.emit(g, &curve, id)
        }
        FinkCmd::Latests { class, trend, n, since_mjd, until_mjd, all, columns } => {
            let mut req = fink.ztf().latests(class).columns(cols(&columns)?);
            if let Some(t) = trend {
                req = req.trend(t.parse::<Trend>()?);
            }
            if let Some(n) = n {
                req = req.n(n);
            }
            if let Some(m) = since_mjd {
                req = req.since_mjd(m);
            }
            if let Some(m) = until_mjd {
                req = req.until_mjd(m);
            }
            ctx::mjd_range(since_mjd, until_mjd)?;
            let rows = if all { ctx::drain(g, req.stream(), "Fink latests").await? } else { req.send().await? };
            g.emit_view(&to_rows(&rows)?, views::FINK_LATESTS)
        }
        FinkCmd::Tags { tag, n, since_mjd, until_mjd, all } => match tag {
            None => g.emit(&map_rows(&fink.lsst().tags().await?, "tag"), Some(&["tag", "description"])),
            Some(t) => {
                ctx::mjd_range(since_mjd, until_mjd)?;
                let mut req = fink.lsst().tag(t);
                if let Some(n) = n {
                    req = req.n(n);
                }
                if let Some(m) = since_mjd {
                    req = req.since_mjd(m);
                }
                if let Some(m) = until_mjd {
                    req = req.until_mjd(m);
                }
                let rows = if all { ctx::drain(g, req.stream(), "Fink tag alerts").await? } else { req.send().await? };
                g.emit_view(&to_rows(&rows)?, views::FINK_TAG_ALERTS)
            }
        },
        FinkCmd::Cone { pos, survey, n } => {
            let (p, r) = pos.get()?;
            let mut req = fink.conesearch(survey.into(), p, r);
            if let Some(n) = n {
                req = req.n(n);
            }
            let rows = req.send().await?;
            g.emit(&rows.to_json(), None)
        }
        FinkCmd::Cutout { id, kind, survey, candid, fits, output_dir } => {
            let kind: CutoutKind = kind.parse()?;
            let mut req = fink.cutout(survey.into(), id.trim(), kind);
            if let Some(c) = candid {
                req = req.candid(c);
            }
            let (fmt, ext) = if fits { (CutoutFormat::Fits, "fits") } else { (CutoutFormat::Png, "png") };
            let bytes = req.format(fmt).send().await?;
            let name = format!("{}_{}.{ext}", ctx::safe_name(id.trim()), kind.as_str());
            let path = ctx::file_in(&output_dir, &name)?;
            std::fs::write(&path, &bytes).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            g.emit(&[json!({"id": id.trim(), "kind": kind.as_str(), "bytes": bytes.len(), "file": path.display().to_string()})], None)
        }
        FinkCmd::Sso { n_or_d, survey } => g.emit(&fink.sso(survey.into(), n_or_d).send().await?.to_json(), None),
        FinkCmd::Resolve { name, resolver, reverse, survey } => {
            let r: Resolver = resolver.parse()?;
            let rows = fink.resolver(survey.into(), r, name).reverse(reverse).send().await?;
            g.emit(&rows.into_iter().map(Value::Object).collect::<Vec<_>>(), None)
        }
        FinkCmd::Classes => g.emit(&map_rows(&fink.ztf().classes().await?, "source"), Some(&["source", "value"])),
        FinkCmd::Schema { survey, endpoint } => {
            let v = fink.schema(survey.into(), endpoint.as_deref()).await?;
            let mut rows = Vec::new();
            if let Value::Object(families) = v {
                for (family, fields) in families {
                    if let Value::Object(fields) = fields {
                        for (name, f) in fields {
                            rows.push(json!({"family": family, "name": name, "type": f.get("type").map(|t| t.to_string().trim_matches('"').to_string()), "doc": f.get("doc")}));
                        }
                    }
                }
            }
            g.emit(&rows, Some(&["family", "name", "type", "doc"]))
        }
    }
}
