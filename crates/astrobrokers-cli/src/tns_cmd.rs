//! `astrobrokers tns …`: the Transient Name Server.

use std::path::PathBuf;

use anyhow::{Result, bail};
use astrobrokers::tns::{
    AtReport, ClassificationReport, Mirror, ObjectQuery, RadiusUnit, Report, ReportResult, SearchQuery, Survey,
    TnsName, TnsObject,
};
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::Global;
use crate::ctx::{self, Endpoints};

/// TNS verbs.
#[derive(Debug, Subcommand)]
pub enum TnsCmd {
    /// Search by name, survey name, position or public timestamp.
    Search {
        /// A TNS name ("SN 2023ixf", "2023ixf").
        #[arg(long, conflicts_with_all = ["internal", "ra", "since"])]
        name: Option<String>,
        /// A survey's name for the object (ZTF23aaklqou, ATLAS23np).
        #[arg(long, conflicts_with_all = ["ra", "since"])]
        internal: Option<String>,
        /// Partial matches for --name / --internal.
        #[arg(long)]
        like: bool,
        /// Cone centre RA (degrees or hh:mm:ss).
        #[arg(long, requires = "dec", allow_hyphen_values = true)]
        ra: Option<String>,
        /// Cone centre Dec (degrees or ±dd:mm:ss).
        #[arg(long, requires = "ra", allow_hyphen_values = true)]
        dec: Option<String>,
        /// Cone radius.
        #[arg(long, default_value_t = 5.0)]
        radius: f64,
        /// Radius unit.
        #[arg(long, value_enum, default_value_t = Unit::Arcsec)]
        units: Unit,
        /// Objects made public or changed since this UTC time (YYYY-MM-DDTHH:MM:SS).
        #[arg(long)]
        since: Option<String>,
    },
    /// One object: position, type, survey names (and --photometry, --spectra).
    Object {
        /// The TNS name ("SN 2024ggi").
        name: String,
        /// Include the photometry (one row per point).
        #[arg(long)]
        photometry: bool,
        /// Include the spectra (one row per spectrum).
        #[arg(long)]
        spectra: bool,
    },
    /// Send an AT or classification report (a JSON file with the report entry) once, and wait
    /// for TNS's verdict: the name, or each field's error.
    Report {
        /// `at` or `classification`.
        #[arg(value_enum)]
        kind: ReportKind,
        /// The JSON file: the entry (`{"ra": ..., "internal_name": ...}`).
        file: PathBuf,
    },
    /// Where a sent report stands.
    Reply {
        /// The report id.
        report_id: String,
        /// Poll until it is processed.
        #[arg(long)]
        wait: bool,
    },
    /// Keep a local copy of the public-objects list current; with names, resolve them from it.
    Mirror {
        /// The mirror directory.
        #[arg(long, default_value = "tns-mirror")]
        dir: PathBuf,
        /// Only read the local copy (no request).
        #[arg(long)]
        offline: bool,
        /// Names to resolve (TNS names or survey names); none: a summary.
        names: Vec<String>,
    },
}

/// A radius unit.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Unit {
    /// Arcseconds.
    Arcsec,
    /// Arcminutes.
    Arcmin,
    /// Degrees.
    Deg,
}

/// A report kind.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportKind {
    /// An AT (discovery) report.
    At,
    /// A classification report.
    Classification,
}

fn object_row(o: &TnsObject) -> Value {
    let names = o.internal_names();
    let by = |s: Survey| names.first(s).map(str::to_string);
    json!({
        "name": o.name().map(|n| n.to_string()).unwrap_or_else(|_| o.objname.clone()),
        "objid": o.objid,
        "ra": o.radeg, "dec": o.decdeg,
        "type": o.object_type.as_ref().and_then(|t| t.name.clone()),
        "redshift": o.redshift,
        "discoverydate": o.discoverydate, "discoverymag": o.discoverymag,
        "ztf": by(Survey::Ztf), "atlas": by(Survey::Atlas), "panstarrs": by(Survey::PanStarrs),
        "goto": by(Survey::Goto), "lsst": by(Survey::Lsst),
        "internal_names": names.all().iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(","),
    })
}

fn parse_angle(s: &str, hours: bool, what: &str) -> Result<f64> {
    let t = s.trim();
    if !t.contains(':') {
        return t.parse().map_err(|_| anyhow::anyhow!("invalid --{what} {t:?}: use degrees or sexagesimal"));
    }
    let p = if hours {
        astrobrokers::core::SkyPosition::parse(&format!("{t} +00:00:00"))?.ra()
    } else {
        astrobrokers::core::SkyPosition::parse(&format!("00:00:00 {t}"))?.dec()
    };
    Ok(p)
}

/// Runs a TNS verb.
pub async fn run(g: &Global, ep: &Endpoints, cmd: TnsCmd) -> Result<()> {
    match cmd {
        TnsCmd::Search { name, internal, like, ra, dec, radius, units, since } => {
            let mut q = SearchQuery::new();
            if let Some(n) = &name {
                q = if like { q.objname_like(n) } else { q.objname(&TnsName::parse(n)?, true) };
            }
            if let Some(i) = &internal {
                q = q.internal_name(i, !like);
            }
            if let (Some(ra), Some(dec)) = (&ra, &dec) {
                let pos = ctx::position(parse_angle(ra, true, "ra")?, parse_angle(dec, false, "dec")?)?;
                let u = match units {
                    Unit::Arcsec => RadiusUnit::Arcsec,
                    Unit::Arcmin => RadiusUnit::Arcmin,
                    Unit::Deg => RadiusUnit::Deg,
                };
                q = q.cone(pos, radius, u);
            }
            if let Some(s) = &since {
                let t = chrono_parse(s)?;
                q = q.public_since(t);
            }
            let hits = ep.tns()?.search(&q).await?;
            let rows: Vec<Value> = hits
                .iter()
                .map(|h| json!({"name": format!("{} {}", h.prefix.as_deref().unwrap_or(""), h.objname).trim(), "objname": h.objname, "prefix": h.prefix, "objid": h.objid}))
                .collect();
            g.emit(&rows, Some(&["name", "objid"]))
        }
        TnsCmd::Object { name, photometry, spectra } => {
            let q = ObjectQuery::name(&name)?.photometry(photometry).spectra(spectra);
            let o = ep.tns()?.object(&q).await?;
            if photometry {
                let rows = crate::output::lightcurve_rows(&o.lightcurve());
                return g.emit(&rows, None);
            }
            if spectra {
                let rows: Vec<Value> = o
                    .spectra
                    .iter()
                    .map(|s| json!({"jd": s.jd, "instrument": s.instrument.as_ref().and_then(|i| i.name.clone()), "asciifile": s.asciifile, "fitsfile": s.fitsfile}))
                    .collect();
                return g.emit(&rows, None);
            }
            g.emit(&[object_row(&o)], None)
        }
        TnsCmd::Report { kind, file } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let v: Value =
                serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", file.display()))?;
            let Value::Object(m) = v else { bail!("{}: the report entry must be a JSON object", file.display()) };
            let report = match kind {
                ReportKind::At => Report::At(AtReport::new(m)?),
                ReportKind::Classification => Report::Classification(ClassificationReport::new(m)?),
            };
            let row = match ep.tns()?.report_once(&report).await? {
                ReportResult::Processed(o) => json!({
                    "report_id": o.report_id, "accepted": o.accepted(), "objname": o.objname, "created": o.created,
                    "messages": o.messages.iter().map(|m| format!("{}: {}", m.code, m.message)).collect::<Vec<_>>().join("; "),
                    "errors": o.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
                }),
                ReportResult::Reconciled { objname, lost } => json!({
                    "report_id": null, "accepted": true, "objname": objname, "created": null,
                    "messages": format!("the reply was lost ({lost}); TNS already shows the report: not sent again"), "errors": "",
                }),
            };
            g.emit(&[row], Some(&["report_id", "accepted", "objname", "created", "messages", "errors"]))
        }
        TnsCmd::Reply { report_id, wait } => {
            let tns = ep.tns()?;
            let row = if wait {
                let o = tns.wait_for_reply(&report_id).await?;
                json!({"report_id": o.report_id, "state": "processed", "objname": o.objname,
                    "errors": o.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")})
            } else {
                match tns.report_reply(&report_id).await? {
                    astrobrokers::tns::ReplyStatus::Pending => {
                        json!({"report_id": report_id, "state": "pending", "objname": null, "errors": ""})
                    }
                    astrobrokers::tns::ReplyStatus::Done(o) => {
                        json!({"report_id": o.report_id, "state": "processed", "objname": o.objname,
                        "errors": o.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")})
                    }
                }
            };
            g.emit(&[row], Some(&["report_id", "state", "objname", "errors"]))
        }
        TnsCmd::Mirror { dir, offline, names } => {
            let mirror = Mirror::new(&dir);
            if !offline {
                let u = mirror.update(&ep.tns()?).await?;
                if !g.quiet {
                    eprintln!(
                        "mirror {}: {} rows ({}{} updated)",
                        dir.display(),
                        u.rows,
                        if u.full_download { "full download, " } else { "" },
                        u.updated
                    );
                }
            }
            let objects = mirror.load()?;
            if names.is_empty() {
                let st = mirror.state()?;
                return g.emit(
                    &[json!({"dir": dir.display().to_string(), "rows": objects.rows.len(), "stamp": objects.stamp,
                        "synced_at": st.map(|s| s.synced_at.to_rfc3339())})],
                    None,
                );
            }
            let idx = objects.index();
            let rows: Vec<Value> = names
                .iter()
                .map(|n| {
                    let r = idx.get(n).or_else(|| idx.get_internal(n));
                    json!({"query": n, "name": r.and_then(|r| r.tns_name()).map(|t| t.to_string()), "objid": r.map(|r| r.objid),
                        "ra": r.and_then(|r| r.ra), "dec": r.and_then(|r| r.declination), "type": r.and_then(|r| r.r#type.clone()),
                        "internal_names": r.and_then(|r| r.internal_names.clone())})
                })
                .collect();
            g.emit(&rows, Some(&["query", "name", "objid", "ra", "dec", "type", "internal_names"]))
        }
    }
}

fn chrono_parse(s: &str) -> Result<astrobrokers::tns::search::Timestamp> {
    astrobrokers::tns::search::parse_timestamp(s).map_err(anyhow::Error::from)
}
