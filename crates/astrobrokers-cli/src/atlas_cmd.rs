//! `astrobrokers atlas …`: the ATLAS Transient Server.

use std::path::PathBuf;

use anyhow::{Result, bail};
use astrobrokers::atlas::{AtlasId, CustomList, DateThreshold, ListRef, SourceOutcome, VraListQuery};
use clap::Subcommand;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::ctx::{self, Endpoints};
use crate::output::{to_rows, views};
use crate::{Global, LcOut, PosArgs};

/// ATLAS verbs.
#[derive(Debug, Subcommand)]
pub enum AtlasCmd {
    /// One object: its summary, or with --lightcurve / --plot its light curve.
    Source {
        /// The 19-digit ATLAS id.
        id: String,
        /// Print the unified light curve instead of the summary.
        #[arg(long)]
        lightcurve: bool,
        /// Add the server's forced photometry to the light curve.
        #[arg(long)]
        forced: bool,
        #[command(flatten)]
        lc: LcOut,
    },
    /// Many objects at once (chunks of 100, concurrently, with a progress bar): one summary
    /// row each, with the VRA score (`vra`, from `realbogus_factor` on older servers) and the
    /// VRA rank (from `vraranklist/`, one more request) where the object has them.
    Sources {
        /// 19-digit ATLAS ids.
        ids: Vec<String>,
        /// A file with one id per line (blank lines and `#` comments skipped).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Objects within a radius of a position, with their RA and Dec (looked up with one
    /// more request: the server's cone reply has none).
    Cone {
        #[command(flatten)]
        pos: PosArgs,
    },
    /// The objects on a detection list or custom list (`eyeball`, `good`, `mookodi`, or a custom list id).
    List {
        /// A list name, or `custom:<id>` / `detection:<id>`.
        list: String,
        /// Only objects updated since this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
    },
    /// Virtual Research Assistant scores.
    VraScores {
        /// Only rows since this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
    },
    /// The VRA to-do list.
    VraTodo {
        /// Only rows since this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
    },
    /// Add objects to or remove them from a custom list.
    #[command(subcommand)]
    CustomList(CustomListCmd),
    /// The API token.
    #[command(subcommand)]
    Token(TokenCmd),
}

/// `atlas custom-list …`.
#[derive(Debug, Subcommand)]
pub enum CustomListCmd {
    /// Add objects to a custom list.
    Add {
        /// The list: a name (`mookodi`, `vra`, ...) or its numeric id.
        list: String,
        /// 19-digit ATLAS ids.
        ids: Vec<String>,
    },
    /// Remove objects from a custom list.
    Remove {
        /// The list: a name or its numeric id.
        list: String,
        /// 19-digit ATLAS ids.
        ids: Vec<String>,
    },
}

/// `atlas token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Get a fresh token with ATLAS_API_USERNAME / ATLAS_API_PASSWORD; it is saved to the
    /// atlasapiclient YAML file when one is configured, else to the config file. Never printed.
    Refresh,
}

fn since(s: Option<String>) -> Result<Option<DateThreshold>> {
    s.map(|s| DateThreshold::parse(&s)).transpose().map_err(Into::into)
}

fn custom_list(s: &str) -> Result<CustomList> {
    match s.trim().parse::<u32>() {
        Ok(id) => Ok(CustomList(id)),
        Err(_) => Ok(CustomList::by_name(s)?),
    }
}

fn list_ref(s: &str) -> Result<ListRef> {
    let t = s.trim();
    if let Some(id) = t.strip_prefix("custom:") {
        return Ok(ListRef::custom(
            id.parse().map_err(|_| anyhow::anyhow!("invalid list {t:?}: use custom:<number>"))?,
        ));
    }
    if let Some(id) = t.strip_prefix("detection:") {
        return Ok(ListRef::detection(
            id.parse().map_err(|_| anyhow::anyhow!("invalid list {t:?}: use detection:<number>"))?,
        ));
    }
    Ok(ListRef::by_name(t)?)
}

fn ids_from(ids: &[String], file: Option<&PathBuf>) -> Result<Vec<AtlasId>> {
    let mut raw: Vec<String> = ids.to_vec();
    if let Some(f) = file {
        let text = std::fs::read_to_string(f).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
        raw.extend(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(|l| l.to_string()));
    }
    if raw.is_empty() {
        bail!("invalid ids: the list of ids is empty: give at least one 19-digit ATLAS id (or --file FILE)");
    }
    Ok(AtlasId::parse_many(&raw)?)
}

fn write_rows(writes: Vec<astrobrokers::atlas::IdWrite>) -> Vec<Value> {
    writes
        .into_iter()
        .map(|w| {
            let (outcome, ok) = match &w.result {
                Ok(o) => (format!("{o:?}"), o.is_success()),
                Err(e) => (format!("error: {e}"), false),
            };
            json!({"id": w.id.to_string(), "outcome": outcome, "success": ok})
        })
        .collect()
}

/// Runs an ATLAS verb.
pub async fn run(g: &Global, ep: &Endpoints, cmd: AtlasCmd) -> Result<()> {
    // Validate the input before anything else (including the token check).
    match &cmd {
        AtlasCmd::Source { id, lc, .. } => {
            AtlasId::parse(id)?;
            lc.check()?;
        }
        AtlasCmd::Sources { ids, file } => {
            ids_from(ids, file.as_ref())?;
        }
        AtlasCmd::Cone { pos } => {
            pos.get()?;
        }
        AtlasCmd::List { list, since: s } => {
            list_ref(list)?;
            since(s.clone())?;
        }
        AtlasCmd::VraScores { since: s } | AtlasCmd::VraTodo { since: s } => {
            since(s.clone())?;
        }
        AtlasCmd::CustomList(CustomListCmd::Add { list, ids } | CustomListCmd::Remove { list, ids }) => {
            custom_list(list)?;
            ids_from(ids, None)?;
        }
        AtlasCmd::Token(TokenCmd::Refresh) => {}
    }
    if let AtlasCmd::Token(TokenCmd::Refresh) = cmd {
        return refresh(g, ep).await;
    }
    let client = ep.atlas()?;
    match cmd {
        AtlasCmd::Source { id, lightcurve, forced, lc } => {
            let id = AtlasId::parse(&id)?;
            let Some(source) = client.source(id).send().await? else {
                bail!("ATLAS has no object {id}: check the id (19 digits, e.g. from `atlas cone`)");
            };
            if lightcurve || lc.plot.is_some() {
                let mut curve = source.lightcurve();
                if forced {
                    curve.extend(source.forced_lightcurve());
                    curve.sort_by_mjd();
                }
                let title = source.object.atlas_designation.clone().unwrap_or_else(|| id.to_string());
                if lightcurve {
                    return lc.emit(g, &curve, &title);
                }
                lc.plot_only(g, &curve, &title)?;
            }
            let mut row = serde_json::to_value(&source.object)?;
            if let Value::Object(m) = &mut row {
                m.insert("tns_name".into(), json!(source.tns_name()));
                m.insert("detections".into(), json!(source.lc.len()));
                m.insert("non_detections".into(), json!(source.lcnondets.len()));
                m.insert("forced_points".into(), json!(source.fp.len()));
            }
            g.emit_view(&[row], views::ATLAS_SOURCE)
        }
        AtlasCmd::Sources { ids, file } => {
            let ids = ids_from(&ids, file.as_ref())?;
            let mut stream = client.sources(ids).stream()?;
            let pb = ctx::bar(g, stream.total(), "ATLAS objects");
            let mut rows = Vec::new();
            let mut found = Vec::new();
            let mut failed = 0usize;
            while let Some(item) = stream.next().await {
                pb.inc(1);
                let r = match item {
                    Ok(r) => r,
                    Err(e) => {
                        pb.finish_and_clear();
                        return Err(e.into());
                    }
                };
                let row = match &r.outcome {
                    SourceOutcome::Found(s) => {
                        found.push(r.id);
                        json!({"id": r.id.to_string(), "status": "found",
                        "atlas_designation": s.object.atlas_designation, "tns_name": s.tns_name(),
                        "ra": s.object.ra, "dec": s.object.dec,
                        "sherlockClassification": s.object.sherlock_classification,
                        "vra": s.object.vra, "rank": null,
                        "detections": s.lc.len(), "non_detections": s.lcnondets.len()})
                    }
                    SourceOutcome::NotFound(m) => json!({"id": r.id.to_string(), "status": "not found", "error": m}),
                    SourceOutcome::Failed(e) => {
                        failed += 1;
                        json!({"id": r.id.to_string(), "status": "failed", "error": e.to_string()})
                    }
                };
                rows.push(row);
            }
            pb.finish_and_clear();
            if !found.is_empty() {
                // The rank a person sorts by lives in the VRA rank table, not in `objects/`.
                match client.vra_rank_list(&VraListQuery::new().objects(found)).await {
                    Ok(ranks) => {
                        let by_id: std::collections::HashMap<String, Option<f64>> =
                            ranks.iter().map(|r| (r.transient_object_id.to_string(), r.rank)).collect();
                        for row in &mut rows {
                            let rank = row.get("id").and_then(Value::as_str).and_then(|id| by_id.get(id)).copied();
                            if let (Some(Some(rank)), Value::Object(m)) = (rank, row) {
                                m.insert("rank".into(), json!(rank));
                            }
                        }
                    }
                    Err(e) => {
                        if !g.quiet {
                            eprintln!("warning: no VRA ranks (vraranklist/ failed: {e}); the rank column is empty");
                        }
                    }
                }
            }
            g.emit_view(&rows, views::ATLAS_SOURCES)?;
            if failed > 0 {
                bail!(
                    "{failed} of {} ids could not be fetched (see the `error` column); run again for those",
                    rows.len()
                );
            }
            Ok(())
        }
        AtlasCmd::Cone { pos } => {
            let (p, r) = pos.get()?;
            if r > 300.0 {
                bail!("invalid radius: {r} arcsec is too large for ATLAS: use at most 300");
            }
            g.emit_view(&to_rows(&client.cone_all_with_positions(p, r).await?)?, views::ATLAS_CONE)
        }
        AtlasCmd::List { list, since: s } => {
            let mut req = client.object_list(list_ref(&list)?);
            if let Some(d) = since(s)? {
                req = req.date_threshold(d);
            }
            g.emit_view(&to_rows(&req.send().await?)?, views::ATLAS_LIST)
        }
        AtlasCmd::VraScores { since: s } => {
            let mut q = VraListQuery::new();
            if let Some(d) = since(s)? {
                q = q.date_threshold(d);
            }
            g.emit_view(&to_rows(&client.vra_scores_list(&q).await?)?, views::ATLAS_VRA_SCORES)
        }
        AtlasCmd::VraTodo { since: s } => {
            let mut q = VraListQuery::new();
            if let Some(d) = since(s)? {
                q = q.date_threshold(d);
            }
            g.emit(&to_rows(&client.vra_todo_list(&q).await?)?, None)
        }
        AtlasCmd::CustomList(c) => {
            let (add, list, ids) = match c {
                CustomListCmd::Add { list, ids } => (true, list, ids),
                CustomListCmd::Remove { list, ids } => (false, list, ids),
            };
            let list = custom_list(&list)?;
            let ids = ids_from(&ids, None)?;
            let writes = if add {
                client.add_to_custom_list(list, ids).await?
            } else {
                client.remove_from_custom_list(list, ids).await?
            };
            let rows = write_rows(writes);
            g.emit(&rows, None)
        }
        AtlasCmd::Token(TokenCmd::Refresh) => Ok(()),
    }
}

async fn refresh(g: &Global, ep: &Endpoints) -> Result<()> {
    let (Some(user), Some(pass)) = (ep.atlas_username.clone(), ep.atlas_password.clone()) else {
        bail!("no ATLAS username or password: set ATLAS_API_USERNAME and ATLAS_API_PASSWORD to refresh the token");
    };
    let save_to_config = ep.atlas_config_file.is_none();
    let settings_path = crate::settings::Settings::load(g.config.clone())?.path;
    let saved = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let saved2 = saved.clone();
    let mut b = ep.atlas_builder(false)?;
    if save_to_config {
        b = b.on_new_token(move |t| {
            if let Ok(mut s) = saved2.lock() {
                *s = Some(astrobrokers::core::ExposeSecret::expose_secret(t).to_string());
            }
        });
    }
    let client = b.build()?;
    let info = client.refresh_token(&user, pass).await?;
    let mut where_saved = ep.atlas_config_file.as_ref().map(|p| p.display().to_string());
    if save_to_config {
        let token = saved.lock().ok().and_then(|mut s| s.take());
        if let (Some(token), Some(path)) = (token, settings_path) {
            crate::settings::set(&path, "atlas.token", &token)?;
            where_saved = Some(path.display().to_string());
        }
    }
    g.emit(
        &[json!({"refreshed": info.refreshed, "changed": info.changed, "expires_in_s": info.expires_in,
            "saved_to": where_saved})],
        None,
    )
}
