//! `astrobrokers skyportal …`: a SkyPortal deployment (Fritz or your own).

use std::path::PathBuf;

use anyhow::{Result, bail};
use astrobrokers::skyportal::comments::{CommentTarget, NewComment};
use astrobrokers::skyportal::photometry::{MagRow, PhotometryUpload};
use clap::Subcommand;
use serde_json::json;

use crate::ctx::{self, Endpoints};
use crate::output::{to_rows, views};
use crate::{Global, LcOut};

/// SkyPortal verbs.
#[derive(Debug, Subcommand)]
pub enum SkyPortalCmd {
    /// Sources (saved objects), optionally in a cone or in groups; `--all` pages through.
    Sources {
        /// Cone centre RA (deg); needs --dec and --radius.
        #[arg(long, allow_negative_numbers = true)]
        ra: Option<f64>,
        /// Cone centre Dec (deg).
        #[arg(long, allow_negative_numbers = true)]
        dec: Option<f64>,
        /// Cone radius in arcseconds.
        #[arg(long, allow_negative_numbers = true)]
        radius: Option<f64>,
        /// Only sources saved to these groups (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        group_ids: Vec<i64>,
        /// Sources per page (1-500).
        #[arg(long, default_value_t = 100)]
        page_size: u64,
        /// Page number (from 1).
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Every page (progress bar on a terminal).
        #[arg(long)]
        all: bool,
    },
    /// One source.
    Source {
        /// The object id.
        id: String,
    },
    /// The photometry of a source as the unified light curve (`--raw`: SkyPortal's records).
    Photometry {
        /// The object id.
        id: String,
        /// SkyPortal's own records instead of the unified columns.
        #[arg(long)]
        raw: bool,
        #[command(flatten)]
        lc: LcOut,
    },
    /// Candidates that passed your filters; `--all` pages through.
    Candidates {
        /// Only candidates of these groups (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        group_ids: Vec<i64>,
        /// Candidates per page (1-500).
        #[arg(long, default_value_t = 100)]
        page_size: u64,
        /// Page number (from 1).
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Every page.
        #[arg(long)]
        all: bool,
    },
    /// The classifications of a source.
    Classifications {
        /// The object id.
        id: String,
    },
    /// The comments on a source.
    Comments {
        /// The object id.
        id: String,
    },
    /// Post a comment on a source.
    Comment {
        /// The object id.
        id: String,
        /// The text.
        text: String,
    },
    /// The spectra of a source: one row per spectrum (`--full`: with the wavelength and flux arrays).
    Spectra {
        /// The object id.
        id: String,
        /// Include the arrays.
        #[arg(long)]
        full: bool,
    },
    /// The instruments (their ids are needed to upload photometry).
    Instruments,
    /// Upload photometry from a CSV file with columns `mjd`, `filter` (or `band`), `mag`,
    /// `magerr` (or `mag_err`) and `limiting_mag` (a row without `mag` is a non-detection).
    UploadPhotometry {
        /// The object id.
        id: String,
        /// The CSV file.
        file: PathBuf,
        /// The instrument id (see `skyportal instruments`).
        #[arg(long)]
        instrument_id: i64,
        /// Share with these groups (comma-separated ids; default: your default groups).
        #[arg(long, value_delimiter = ',')]
        group_ids: Vec<i64>,
    },
}

fn obj_id(id: &str) -> Result<&str> {
    let t = id.trim();
    if t.is_empty() || t.contains('/') || t.contains('?') || t.contains('#') {
        bail!("invalid object id {t:?}: give a SkyPortal object id such as ZTF21aaqjmps (no `/`, `?` or `#`)");
    }
    Ok(t)
}

fn page_checks(page: u64, page_size: u64) -> Result<()> {
    if page == 0 {
        bail!("invalid --page 0: pages start at 1");
    }
    if page_size == 0 || page_size > 500 {
        bail!("invalid --page-size {page_size}: use 1 to 500");
    }
    Ok(())
}

/// Reads an upload CSV.
pub fn read_upload(path: &PathBuf, id: &str, instrument_id: i64) -> Result<Vec<MagRow>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let Some(header) = lines.next() else { bail!("{} is empty: give a header line and rows", path.display()) };
    let cols: Vec<String> = header.split(',').map(|c| c.trim().to_ascii_lowercase()).collect();
    let find = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
    let (Some(mjd_i), Some(f_i)) = (find(&["mjd"]), find(&["filter", "band"])) else {
        bail!("{}: the header needs `mjd` and `filter` (or `band`) columns", path.display());
    };
    let mag_i = find(&["mag"]);
    let err_i = find(&["magerr", "mag_err"]);
    let lim_i = find(&["limiting_mag", "limmag"]);
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let num = |i: Option<usize>, what: &str| -> Result<Option<f64>> {
            match i.and_then(|i| f.get(i)).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => match s.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(Some(v)),
                    _ => bail!("{} row {}: {what} {s:?} is not a number", path.display(), n + 1),
                },
            }
        };
        let Some(mjd) = num(Some(mjd_i), "mjd")? else { bail!("{} row {}: no mjd", path.display(), n + 1) };
        let filter = f.get(f_i).copied().unwrap_or_default().to_string();
        let row = MagRow {
            obj_id: id.to_string(),
            instrument_id,
            mjd,
            filter,
            magsys: "ab".into(),
            mag: num(mag_i, "mag")?,
            magerr: num(err_i, "magerr")?,
            limiting_mag: num(lim_i, "limiting_mag")?,
            ..MagRow::default()
        };
        rows.push(row);
    }
    if rows.is_empty() {
        bail!("{} has no rows to upload", path.display());
    }
    Ok(rows)
}

/// Runs a SkyPortal verb.
pub async fn run(g: &Global, ep: &Endpoints, cmd: SkyPortalCmd) -> Result<()> {
    // Validate before the token check and any request.
    let mut upload_rows = None;
    match &cmd {
        SkyPortalCmd::Sources { ra, dec, radius, page, page_size, .. } => {
            page_checks(*page, *page_size)?;
            match (ra, dec, radius) {
                (Some(ra), Some(dec), Some(r)) => {
                    ctx::position(*ra, *dec)?;
                    ctx::radius(*r)?;
                }
                (None, None, None) => {}
                _ => bail!("a cone search needs all of --ra, --dec and --radius"),
            }
        }
        SkyPortalCmd::Candidates { page, page_size, .. } => page_checks(*page, *page_size)?,
        SkyPortalCmd::Source { id }
        | SkyPortalCmd::Classifications { id }
        | SkyPortalCmd::Comments { id }
        | SkyPortalCmd::Spectra { id, .. } => {
            obj_id(id)?;
        }
        SkyPortalCmd::Comment { id, text } => {
            obj_id(id)?;
            if text.trim().is_empty() {
                bail!("invalid comment: the text is empty");
            }
        }
        SkyPortalCmd::Photometry { id, lc, .. } => {
            obj_id(id)?;
            lc.check()?;
        }
        SkyPortalCmd::Instruments => {}
        SkyPortalCmd::UploadPhotometry { id, file, instrument_id, .. } => {
            upload_rows = Some(read_upload(file, obj_id(id)?, *instrument_id)?);
        }
    }
    let client = ep.skyportal()?;
    match cmd {
        SkyPortalCmd::Sources { ra, dec, radius, group_ids, page_size, page, all } => {
            let mut q = client.sources().list().page_size(page_size);
            if let (Some(ra), Some(dec), Some(r)) = (ra, dec, radius) {
                q = q.cone(ra, dec, r / 3600.0);
            }
            if !group_ids.is_empty() {
                q = q.group_ids(group_ids);
            }
            // One page is asked without the query cache: the server only serves a cached
            // page above 1 with the queryID of its page 1.
            let items = if all {
                ctx::drain(g, q.stream(), "SkyPortal sources").await?
            } else {
                q.use_cache(false).page(page).await?.items
            };
            g.emit_view(&to_rows(&items)?, views::SKYPORTAL_SOURCES)
        }
        SkyPortalCmd::Source { id } => {
            g.emit_view(&to_rows(&client.sources().get(obj_id(&id)?).send().await?)?, views::SKYPORTAL_SOURCES)
        }
        SkyPortalCmd::Photometry { id, raw, lc } => {
            let id = obj_id(&id)?;
            if raw {
                let recs = client.photometry().for_source(id).send().await?;
                if lc.plot.is_some() {
                    lc.plot_only(g, &astrobrokers::skyportal::to_lightcurve(id, &recs), id)?;
                }
                g.emit_view(&to_rows(&recs)?, views::SKYPORTAL_PHOTOMETRY)
            } else {
                let curve = client.photometry().lightcurve(id).await?;
                lc.emit(g, &curve, id)
            }
        }
        SkyPortalCmd::Candidates { group_ids, page_size, page, all } => {
            let mut q = client.candidates().list().page_size(page_size);
            if !group_ids.is_empty() {
                q = q.group_ids(group_ids);
            }
            let items =
                if all { ctx::drain(g, q.stream(), "SkyPortal candidates").await? } else { q.page(page).await?.items };
            g.emit_view(&to_rows(&items)?, views::SKYPORTAL_CANDIDATES)
        }
        SkyPortalCmd::Classifications { id } => g.emit_view(
            &to_rows(&client.classifications().for_source(obj_id(&id)?).await?)?,
            views::SKYPORTAL_CLASSIFICATIONS,
        ),
        SkyPortalCmd::Comments { id } => {
            let target = CommentTarget::Source(obj_id(&id)?.to_string());
            g.emit_view(&to_rows(&client.comments().list(&target).await?)?, views::SKYPORTAL_COMMENTS)
        }
        SkyPortalCmd::Comment { id, text } => {
            let target = CommentTarget::Source(obj_id(&id)?.to_string());
            let new_id = client.comments().create(&target, &NewComment::text(text)).await?;
            g.emit(&[json!({"obj_id": id, "comment_id": new_id})], None)
        }
        SkyPortalCmd::Spectra { id, full } => {
            let sp = client.spectra().for_source(obj_id(&id)?, None).await?;
            let rows = if full {
                to_rows(&sp.spectra)?
            } else {
                sp.spectra
                    .iter()
                    .map(|s| {
                        let w: Vec<f64> = s.wavelengths.iter().flatten().flatten().copied().collect();
                        let lo = w.iter().copied().fold(f64::INFINITY, f64::min);
                        let hi = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        json!({"id": s.id, "obj_id": s.obj_id, "observed_at": s.observed_at, "points": w.len(),
                            "wavelength_min": lo.is_finite().then_some(lo), "wavelength_max": hi.is_finite().then_some(hi),
                            "origin": s.origin, "label": s.label})
                    })
                    .collect()
            };
            if full {
                g.emit_view(&rows, views::SKYPORTAL_SPECTRA_FULL)
            } else {
                g.emit(&rows, Some(&["id", "obj_id", "observed_at"]))
            }
        }
        SkyPortalCmd::Instruments => g.emit(&to_rows(&client.resources().instruments(None).await?)?, None),
        SkyPortalCmd::UploadPhotometry { id, group_ids, .. } => {
            let rows = upload_rows.unwrap_or_default();
            let n = rows.len();
            let mut up = PhotometryUpload::mags(rows);
            if !group_ids.is_empty() {
                up = up.group_ids(group_ids);
            }
            let r = client.photometry().post(&up).await.map_err(|f| {
                anyhow::anyhow!(
                    "{f}; {} rows were stored before the failure (delete them with their upload id, or re-run to upsert)",
                    f.stored.rows_stored
                )
            })?;
            g.emit(
                &[json!({"obj_id": id, "rows": n, "stored": r.rows_stored, "requests": r.requests,
                    "upload_ids": r.upload_ids.join(" "), "first_id": r.ids.first(), "last_id": r.ids.last()})],
                None,
            )
        }
    }
}
