//! `astrobrokers alerce …`: the ZTF API, stamps and avro, and catsHTM; `alerce lsst …`:
//! the multisurvey (LSST) API.

use std::path::PathBuf;

use anyhow::{Result, bail};
use astrobrokers::alerce::lsst::{LsstObjectQuery, MultisurveyOid};
use astrobrokers::alerce::stamps::StampKind;
use astrobrokers::alerce::ztf::{FeatureFilter, ObjectQuery};
use clap::Subcommand;
use serde_json::{Value, json};

use crate::ctx::{self, Endpoints};
use crate::output::to_rows;
use crate::{Global, LcOut, PosArgs};

/// ALeRCE verbs.
#[derive(Debug, Subcommand)]
pub enum AlerceCmd {
    /// Query ZTF objects (by class, probability, detections, dates, cone); `--all` pages through.
    Objects {
        /// Classifier name (`lc_classifier`, `stamp_classifier`).
        #[arg(long)]
        classifier: Option<String>,
        /// Class name (`SNIa`, `SN`, ...).
        #[arg(long = "class")]
        class_name: Option<String>,
        /// Minimum probability of that class.
        #[arg(long)]
        probability: Option<f64>,
        /// Minimum number of detections.
        #[arg(long)]
        ndet_min: Option<i64>,
        /// First detection on or after this MJD.
        #[arg(long)]
        firstmjd_min: Option<f64>,
        /// Cone centre RA (deg); needs --dec.
        #[arg(long, allow_negative_numbers = true)]
        ra: Option<f64>,
        /// Cone centre Dec (deg); needs --ra.
        #[arg(long, allow_negative_numbers = true)]
        dec: Option<f64>,
        /// Cone radius in arcseconds.
        #[arg(long, allow_negative_numbers = true)]
        radius: Option<f64>,
        /// Page size (1-1000).
        #[arg(long, default_value_t = 50)]
        page_size: u64,
        /// Page number (from 1).
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Every page (progress bar on a terminal).
        #[arg(long)]
        all: bool,
    },
    /// One object.
    Object {
        /// ZTF object id.
        oid: String,
    },
    /// Detections and non-detections as the unified light curve.
    Lightcurve {
        /// ZTF object id.
        oid: String,
        /// Add ZTF forced photometry.
        #[arg(long)]
        forced: bool,
        #[command(flatten)]
        lc: LcOut,
    },
    /// Detections (ALeRCE's columns).
    Detections {
        /// ZTF object id.
        oid: String,
    },
    /// Non-detections (ALeRCE's columns).
    NonDetections {
        /// ZTF object id.
        oid: String,
    },
    /// ZTF forced photometry (ALeRCE's columns).
    ForcedPhotometry {
        /// ZTF object id.
        oid: String,
    },
    /// Class probabilities.
    Probabilities {
        /// ZTF object id.
        oid: String,
        /// Only this classifier.
        #[arg(long)]
        classifier: Option<String>,
    },
    /// Light-curve features.
    Features {
        /// ZTF object id.
        oid: String,
        /// Only this feature.
        #[arg(long)]
        name: Option<String>,
        /// Only this filter id (1 g, 2 r).
        #[arg(long)]
        fid: Option<i64>,
    },
    /// Magnitude statistics per band.
    Magstats {
        /// ZTF object id.
        oid: String,
    },
    /// The classifiers.
    Classifiers,
    /// The classes of a classifier.
    Classes {
        /// Classifier name.
        classifier: String,
        /// Classifier version.
        version: String,
    },
    /// Science, template and difference stamps of an alert, written as FITS files.
    Stamps {
        /// ZTF object id.
        oid: String,
        /// The alert (default: the first with stamps).
        #[arg(long)]
        candid: Option<String>,
        /// Where to write the files.
        #[arg(long, default_value = ".")]
        output_dir: PathBuf,
    },
    /// The avro alert packet, written to a file.
    Avro {
        /// ZTF object id.
        oid: String,
        /// The alert id.
        candid: String,
        /// Where to write the file.
        #[arg(long, default_value = ".")]
        output_dir: PathBuf,
    },
    /// catsHTM cone search (all catalogs, or one).
    Conesearch {
        #[command(flatten)]
        pos: PosArgs,
        /// Only this catalog (`GAIA/DR2`, ...).
        #[arg(long)]
        catalog: Option<String>,
    },
    /// catsHTM crossmatch: the nearest source per catalog.
    Crossmatch {
        #[command(flatten)]
        pos: PosArgs,
        /// Only this catalog.
        #[arg(long)]
        catalog: Option<String>,
    },
    /// A redshift from catsHTM near a position.
    Redshift {
        #[command(flatten)]
        pos: PosArgs,
    },
    /// The multisurvey (LSST) API: objects, light curves, probabilities, stamps.
    Lsst {
        #[command(subcommand)]
        cmd: LsstCmd,
    },
}

/// `alerce lsst …` verbs. Object ids are LSST ids (digits) or ZTF names (`ZTF18abbuksn`).
#[derive(Debug, Subcommand)]
pub enum LsstCmd {
    /// Query multisurvey objects (by class, probability, detections, cone, ids).
    Objects {
        /// Only these object ids (repeatable).
        #[arg(long = "oid")]
        oids: Vec<String>,
        /// Classifier name (`stamp_classifier_rubin`, ...).
        #[arg(long)]
        classifier: Option<String>,
        /// Class name (`SN`, ...).
        #[arg(long = "class")]
        class_name: Option<String>,
        /// Minimum probability of that class.
        #[arg(long)]
        probability: Option<f64>,
        /// Minimum number of detections.
        #[arg(long)]
        ndet_min: Option<i64>,
        /// Cone centre RA (deg); needs --dec.
        #[arg(long, allow_negative_numbers = true)]
        ra: Option<f64>,
        /// Cone centre Dec (deg); needs --ra.
        #[arg(long, allow_negative_numbers = true)]
        dec: Option<f64>,
        /// Cone radius in arcseconds.
        #[arg(long, allow_negative_numbers = true)]
        radius: Option<f64>,
        /// Page size (1-1000).
        #[arg(long, default_value_t = 50)]
        page_size: u64,
        /// Page number (from 1).
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Every page (progress bar on a terminal).
        #[arg(long)]
        all: bool,
    },
    /// One object (with `--extra`, the survey's own columns too).
    Object {
        /// LSST id or ZTF name.
        oid: String,
        /// Add the survey's own columns (LSST DiaObject fields).
        #[arg(long)]
        extra: bool,
    },
    /// Detections, non-detections and forced photometry as the unified light curve
    /// (fluxes in µJy).
    Lightcurve {
        /// LSST ids or ZTF names (not mixed).
        #[arg(required = true)]
        oids: Vec<String>,
        #[command(flatten)]
        lc: LcOut,
    },
    /// Detections (the multisurvey API's columns).
    Detections {
        /// LSST ids or ZTF names (not mixed).
        #[arg(required = true)]
        oids: Vec<String>,
    },
    /// Class probabilities.
    Probabilities {
        /// LSST id or ZTF name.
        oid: String,
        /// Only this classifier.
        #[arg(long)]
        classifier: Option<String>,
    },
    /// Science, template and difference cutouts of a measurement, written as FITS files.
    Stamps {
        /// LSST object id.
        oid: String,
        /// The measurement (default: the earliest detection with stamps).
        #[arg(long)]
        measurement_id: Option<i64>,
        /// Where to write the files.
        #[arg(long, default_value = ".")]
        output_dir: PathBuf,
    },
}

fn ms_oid(s: &str) -> Result<MultisurveyOid> {
    Ok(MultisurveyOid::parse(s)?)
}

fn ms_oids(v: &[String]) -> Result<Vec<MultisurveyOid>> {
    v.iter().map(|s| ms_oid(s)).collect()
}

async fn run_lsst(g: &Global, client: &astrobrokers::alerce::AlerceClient, cmd: LsstCmd) -> Result<()> {
    let lsst = client.lsst();
    match cmd {
        LsstCmd::Objects {
            oids,
            classifier,
            class_name,
            probability,
            ndet_min,
            ra,
            dec,
            radius,
            page_size,
            page,
            all,
        } => {
            if page_size == 0 || page_size > 1000 {
                bail!("invalid --page-size {page_size}: use 1 to 1000");
            }
            let mut q = LsstObjectQuery::new().page_size(page_size);
            if !oids.is_empty() {
                q = q.oids(ms_oids(&oids)?);
            }
            if let Some(c) = classifier {
                q = q.classifier(c);
            }
            if let Some(c) = class_name {
                q = q.class_name(c);
            }
            if let Some(p) = probability {
                if !(0.0..=1.0).contains(&p) {
                    bail!("invalid --probability {p}: use a number in [0, 1]");
                }
                q = q.probability(p);
            }
            if let Some(n) = ndet_min {
                q = q.n_det_min(n);
            }
            match (ra, dec) {
                (Some(ra), Some(dec)) => {
                    let p = ctx::position(ra, dec)?;
                    let r = radius.map(ctx::radius).transpose()?;
                    q = q.cone(p, r);
                }
                (None, None) => {
                    if radius.is_some() {
                        bail!("--radius needs --ra and --dec");
                    }
                }
                _ => bail!("give both --ra and --dec for a cone search"),
            }
            if all {
                let stream = lsst.stream_objects(q)?;
                let items = ctx::drain(g, stream, "ALeRCE LSST objects").await?;
                g.emit(&to_rows(&items)?, Some(&["oid"]))
            } else {
                if page == 0 {
                    bail!("invalid --page 0: pages start at 1");
                }
                let p = lsst.query_objects(&q.page(page)).await?;
                g.emit(&to_rows(&p.items)?, Some(&["oid"]))
            }
        }
        LsstCmd::Object { oid, extra } => g.emit(&to_rows(&lsst.object(ms_oid(&oid)?, extra).await?)?, Some(&["oid"])),
        LsstCmd::Lightcurve { oids, lc } => {
            let ids = ms_oids(&oids)?;
            lc.check()?;
            let curve = lsst.lightcurve(&ids).await?.to_lightcurve();
            let title = ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            lc.emit(g, &curve, &title)
        }
        LsstCmd::Detections { oids } => {
            g.emit(&to_rows(&lsst.detections(&ms_oids(&oids)?).await?)?, Some(&["oid", "mjd"]))
        }
        LsstCmd::Probabilities { oid, classifier } => {
            g.emit(&to_rows(&lsst.probabilities(ms_oid(&oid)?, classifier.as_deref()).await?)?, None)
        }
        LsstCmd::Stamps { oid, measurement_id, output_dir } => {
            let Some(id) = ms_oid(&oid)?.lsst_id() else {
                bail!("invalid object id {oid:?}: LSST stamps need an LSST id (digits); use `alerce stamps` for ZTF");
            };
            let t = client.stamps().lsst_stamps(id, measurement_id).await?;
            let mut rows = Vec::new();
            for kind in [StampKind::Science, StampKind::Template, StampKind::Difference] {
                let s = t.get(kind);
                let name = format!("{id}_{}_{}.fits", ctx::safe_name(&t.alert_id), kind.cutout_name());
                let path = ctx::file_in(&output_dir, &name)?;
                std::fs::write(&path, &s.fits).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                let (w, h) = s.image().map(|i| (i.width, i.height)).unwrap_or((0, 0));
                rows.push(json!({"oid": id, "measurement_id": t.alert_id, "kind": kind.cutout_name(), "width": w,
                    "height": h, "bytes": s.fits.len(), "file": path.display().to_string()}));
            }
            g.emit(&rows, None)
        }
    }
}

fn oid_ok(oid: &str) -> Result<&str> {
    let t = oid.trim();
    if t.is_empty() {
        bail!("invalid object id: it is empty; give a ZTF id such as ZTF18abbuksn");
    }
    Ok(t)
}

fn catalog_rows(tables: &[astrobrokers::alerce::catshtm::CatalogTable]) -> Vec<Value> {
    let mut rows = Vec::new();
    for t in tables {
        for i in 0..t.len() {
            let mut m = serde_json::Map::new();
            m.insert("catalog".into(), Value::from(t.catalog.clone()));
            for c in &t.columns {
                let v = c.values.get(i).and_then(|v| serde_json::to_value(v).ok()).unwrap_or(Value::Null);
                m.insert(c.name.clone(), v);
            }
            rows.push(Value::Object(m));
        }
    }
    rows
}

/// Runs an ALeRCE verb.
pub async fn run(g: &Global, ep: &Endpoints, cmd: AlerceCmd) -> Result<()> {
    let client = ep.alerce()?;
    let ztf = client.ztf();
    match cmd {
        AlerceCmd::Objects {
            classifier,
            class_name,
            probability,
            ndet_min,
            firstmjd_min,
            ra,
            dec,
            radius,
            page_size,
            page,
            all,
        } => {
            let mut q = ObjectQuery::new().page_size(page_size).count(true);
            if let Some(c) = classifier {
                q = q.classifier(c);
            }
            if let Some(c) = class_name {
                q = q.class_name(c);
            }
            if let Some(p) = probability {
                if !(0.0..=1.0).contains(&p) {
                    bail!("invalid --probability {p}: use a number in [0, 1]");
                }
                q = q.probability(p);
            }
            if let Some(n) = ndet_min {
                q = q.ndet_min(n);
            }
            if let Some(m) = firstmjd_min {
                ctx::mjd_range(Some(m), None)?;
                q = q.firstmjd_min(m);
            }
            match (ra, dec) {
                (Some(ra), Some(dec)) => {
                    let p = ctx::position(ra, dec)?;
                    let r = radius.map(ctx::radius).transpose()?;
                    q = q.cone(p, r);
                }
                (None, None) => {
                    if radius.is_some() {
                        bail!("--radius needs --ra and --dec");
                    }
                }
                _ => bail!("give both --ra and --dec for a cone search"),
            }
            if page_size == 0 || page_size > 1000 {
                bail!("invalid --page-size {page_size}: use 1 to 1000");
            }
            if all {
                let stream = ztf.stream_objects(q)?;
                let items = ctx::drain(g, stream, "ALeRCE objects").await?;
                g.emit_view(&to_rows(&items)?, crate::output::views::ALERCE_OBJECTS)
            } else {
                if page == 0 {
                    bail!("invalid --page 0: pages start at 1");
                }
                let p = ztf.query_objects(&q.page(page)).await?;
                g.emit_view(&to_rows(&p.items)?, crate::output::views::ALERCE_OBJECTS)
            }
        }
        AlerceCmd::Object { oid } => {
            g.emit_view(&to_rows(&ztf.object(oid_ok(&oid)?).await?)?, crate::output::views::ALERCE_OBJECTS)
        }
        AlerceCmd::Lightcurve { oid, forced, lc } => {
            let oid = oid_ok(&oid)?;
            lc.check()?;
            let curve = ztf.unified_lightcurve(oid, forced).await?;
            lc.emit(g, &curve, oid)
        }
        AlerceCmd::Detections { oid } => {
            g.emit_view(&to_rows(&ztf.detections(oid_ok(&oid)?).await?)?, crate::output::views::ALERCE_DETECTIONS)
        }
        AlerceCmd::NonDetections { oid } => {
            g.emit(&to_rows(&ztf.non_detections(oid_ok(&oid)?).await?)?, Some(&["mjd"]))
        }
        AlerceCmd::ForcedPhotometry { oid } => {
            g.emit_view(&to_rows(&ztf.forced_photometry(oid_ok(&oid)?).await?)?, crate::output::views::ALERCE_FORCED)
        }
        AlerceCmd::Probabilities { oid, classifier } => {
            let oid = oid_ok(&oid)?;
            let p = match classifier {
                Some(c) => ztf.probabilities_of(oid, Some(&c), None).await?,
                None => ztf.probabilities(oid).await?,
            };
            g.emit(&to_rows(&p)?, None)
        }
        AlerceCmd::Features { oid, name, fid } => {
            let oid = oid_ok(&oid)?;
            let filter = FeatureFilter { fid, version: None };
            let f = match name {
                Some(n) => ztf.feature_with(oid, &n, &filter).await?,
                None => ztf.features_with(oid, &filter).await?,
            };
            g.emit(&to_rows(&f)?, None)
        }
        AlerceCmd::Magstats { oid } => {
            g.emit_view(&to_rows(&ztf.magstats(oid_ok(&oid)?).await?)?, crate::output::views::ALERCE_MAGSTATS)
        }
        AlerceCmd::Classifiers => g.emit(&to_rows(&ztf.classifiers().await?)?, None),
        AlerceCmd::Classes { classifier, version } => {
            g.emit(&to_rows(&ztf.classes(&classifier, &version).await?)?, None)
        }
        AlerceCmd::Stamps { oid, candid, output_dir } => {
            let oid = oid_ok(&oid)?;
            let t = client.stamps().ztf_stamps(oid, candid.as_deref()).await?;
            let mut rows = Vec::new();
            for kind in [StampKind::Science, StampKind::Template, StampKind::Difference] {
                let s = t.get(kind);
                let name = format!("{}_{}_{}.fits", ctx::safe_name(oid), ctx::safe_name(&t.alert_id), kind.ztf_name());
                let path = ctx::file_in(&output_dir, &name)?;
                std::fs::write(&path, &s.fits).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                let (w, h) = s.image().map(|i| (i.width, i.height)).unwrap_or((0, 0));
                rows.push(json!({"oid": oid, "candid": t.alert_id, "kind": kind.ztf_name(), "width": w, "height": h,
                    "bytes": s.fits.len(), "file": path.display().to_string()}));
            }
            g.emit(&rows, None)
        }
        AlerceCmd::Avro { oid, candid, output_dir } => {
            let oid = oid_ok(&oid)?;
            let bytes = client.stamps().ztf_avro(oid, &candid).await?;
            let path = ctx::file_in(&output_dir, &format!("{}_{}.avro", ctx::safe_name(oid), ctx::safe_name(&candid)))?;
            std::fs::write(&path, &bytes).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            g.emit(
                &[json!({"oid": oid, "candid": candid, "bytes": bytes.len(), "file": path.display().to_string()})],
                None,
            )
        }
        AlerceCmd::Conesearch { pos, catalog } => {
            let (p, r) = pos.get()?;
            let tables = match catalog {
                Some(c) => vec![client.catshtm().conesearch(p, r, &c).await?],
                None => client.catshtm().conesearch_all(p, r).await?,
            };
            g.emit(&catalog_rows(&tables), Some(&["catalog"]))
        }
        AlerceCmd::Crossmatch { pos, catalog } => {
            let (p, r) = pos.get()?;
            let tables = match catalog {
                Some(c) => vec![client.catshtm().crossmatch(p, r, &c).await?],
                None => client.catshtm().crossmatch_all(p, r).await?,
            };
            g.emit(&catalog_rows(&tables), Some(&["catalog"]))
        }
        AlerceCmd::Lsst { cmd } => run_lsst(g, &client, cmd).await,
        AlerceCmd::Redshift { pos } => {
            let (p, r) = pos.get()?;
            match client.catshtm().redshift(p, r).await? {
                Some(z) => g.emit(&to_rows(&z)?, None),
                None => g.emit(&[], None),
            }
        }
    }
}
