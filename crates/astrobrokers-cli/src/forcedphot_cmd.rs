//! `astrobrokers forcedphot …`: the ATLAS forced-photometry server.

use std::path::PathBuf;

use anyhow::{Result, bail};
use astrobrokers::core::Lightcurve;
use astrobrokers::forcedphot::{Outcome, Stage, Target, Task, TaskOptions, TaskRequest};
use clap::{Args, Subcommand};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::ctx::{self, Endpoints};
use crate::{Global, LcOut};

/// Forced-photometry verbs.
#[derive(Debug, Subcommand)]
pub enum ForcedPhotCmd {
    /// Queue a position, wait (showing the queue position), download, delete: the light curve.
    Run {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        range: RangeArgs,
        /// The server's table instead of the unified columns.
        #[arg(long)]
        raw: bool,
        /// Keep the task on the server afterwards.
        #[arg(long)]
        keep: bool,
        #[command(flatten)]
        lc: LcOut,
    },
    /// Many targets from a file (one `RA Dec` or MPC name a line), 100 per request.
    Batch {
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        range: RangeArgs,
        /// One summary row per target instead of the merged light curve.
        #[arg(long)]
        summary: bool,
    },
    /// Queue a task and return at once.
    Submit {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        range: RangeArgs,
    },
    /// A task's state and queue position.
    Status {
        /// The task id.
        id: u64,
    },
    /// Download a finished task's result.
    Fetch {
        /// The task id.
        id: u64,
        /// The server's table instead of the unified columns.
        #[arg(long)]
        raw: bool,
        #[command(flatten)]
        lc: LcOut,
    },
    /// Delete a task (and its result) from the server.
    Delete {
        /// The task id.
        id: u64,
    },
    /// Your tasks on the server.
    List {
        /// Every task (default: the first 100).
        #[arg(long)]
        all: bool,
    },
}

/// A target: `RA DEC` in degrees or sexagesimal.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// Right ascension (degrees, or hh:mm:ss.s).
    #[arg(allow_hyphen_values = true)]
    pub ra: String,
    /// Declination (degrees, or ±dd:mm:ss.s).
    #[arg(allow_hyphen_values = true)]
    pub dec: String,
}

impl TargetArgs {
    fn target(&self) -> Result<Target> {
        match (self.ra.trim().parse::<f64>(), self.dec.trim().parse::<f64>()) {
            (Ok(ra), Ok(dec)) => Ok(Target::Position(ctx::position(ra, dec)?)),
            _ => Ok(Target::parse(&format!("{} {}", self.ra.trim(), self.dec.trim()))?),
        }
    }
}

/// The MJD range to measure.
#[derive(Debug, Args, Clone, Copy)]
pub struct RangeArgs {
    /// First MJD (default: 60 days ago).
    #[arg(long, allow_negative_numbers = true)]
    pub mjd_min: Option<f64>,
    /// Last MJD (default: now).
    #[arg(long, allow_negative_numbers = true)]
    pub mjd_max: Option<f64>,
}

impl RangeArgs {
    fn options(&self) -> Result<TaskOptions> {
        ctx::mjd_range(self.mjd_min, self.mjd_max)?;
        let now = astrobrokers::core::Mjd::now().0;
        let min = self.mjd_min.unwrap_or(self.mjd_max.unwrap_or(now) - 60.0);
        let mut o = TaskOptions::new().mjd_min(min);
        if let Some(m) = self.mjd_max {
            o = o.mjd_max(m);
        }
        o.validate()?;
        Ok(o)
    }
}

fn task_row(t: &Task) -> Value {
    let state = match t.state() {
        astrobrokers::forcedphot::TaskState::Queued { position: Some(p) } => format!("queued (position {p})"),
        astrobrokers::forcedphot::TaskState::Queued { position: None } => "queued".into(),
        astrobrokers::forcedphot::TaskState::Running { .. } => "running".into(),
        astrobrokers::forcedphot::TaskState::Finished { .. } => match t.error() {
            Some(e) => format!("finished: {e}"),
            None => "finished".into(),
        },
    };
    json!({"id": t.id, "state": state, "ra": t.ra, "dec": t.dec, "mjd_min": t.mjd_min, "mjd_max": t.mjd_max,
        "queuepos": t.queuepos, "result_url": t.result_url})
}

fn label(t: &Target) -> String {
    match t {
        Target::Position(p) => format!("{} {}", p.ra_sexagesimal(), p.dec_sexagesimal()),
        Target::MpcName(n) => n.clone(),
    }
}

fn read_targets(file: &PathBuf) -> Result<Vec<Target>> {
    let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    if lines.is_empty() {
        bail!("invalid targets: {} has no targets: give one `RA Dec` (or MPC name) a line", file.display());
    }
    Ok(Target::parse_list(lines)?)
}

/// Runs a forced-photometry verb.
pub async fn run(g: &Global, ep: &Endpoints, cmd: ForcedPhotCmd) -> Result<()> {
    // Validate before the credentials check and any request.
    let mut targets = None;
    match &cmd {
        ForcedPhotCmd::Run { target, range, lc, .. } => {
            target.target()?;
            range.options()?;
            lc.check()?;
        }
        ForcedPhotCmd::Submit { target, range } => {
            target.target()?;
            range.options()?;
        }
        ForcedPhotCmd::Batch { file, range, .. } => {
            range.options()?;
            targets = Some(read_targets(file)?);
        }
        ForcedPhotCmd::Fetch { lc, .. } => lc.check()?,
        _ => {}
    }
    let client = ep.forcedphot()?;
    match cmd {
        ForcedPhotCmd::Run { target, range, raw, keep, lc } => {
            let t = target.target()?;
            let name = label(&t);
            let req = TaskRequest::new(t).options(range.options()?);
            let opts = crate::demo::queue_progress(g, "forced photometry").keep_tasks(keep);
            let run = client.run(&req, &opts).await?;
            match run.outcome {
                Outcome::Data(table) => {
                    if raw {
                        if lc.plot.is_some() {
                            lc.plot_only(g, &table.to_lightcurve(&name), &name)?;
                        }
                        g.emit_view(&crate::output::to_rows(&table.rows)?, crate::output::views::FORCEDPHOT_ROWS)
                    } else {
                        lc.emit(g, &table.to_lightcurve(&name), &name)
                    }
                }
                Outcome::NoData { message } => {
                    if !g.quiet {
                        eprintln!("no data: {message} (no coverage in that MJD range, or behind the Sun)");
                    }
                    g.emit(&[], None)
                }
                Outcome::Failed { reason } => bail!("forced photometry task {} failed: {reason}", run.task.id),
                Outcome::Expired => bail!("the result of task {} expired before it was downloaded", run.task.id),
            }
        }
        ForcedPhotCmd::Batch { range, summary, .. } => {
            let targets = targets.unwrap_or_default();
            let n = targets.len();
            let pb = ctx::bar(g, Some(n as u64), "forced photometry");
            let pb2 = pb.clone();
            let opts = astrobrokers::forcedphot::RunOptions::new().progress(move |p| match &p.stage {
                Stage::Finished => pb2.inc(1),
                Stage::Queued { position: Some(q) } => pb2.set_message(format!("task {} queued at {q}", p.task_id)),
                _ => {}
            });
            let outcomes = client.run_many(targets, &range.options()?, &opts).await?;
            pb.finish_and_clear();
            let mut rows = Vec::new();
            let mut merged = Vec::new();
            let mut failed = 0;
            for o in &outcomes {
                let name = label(&o.target);
                let (status, points) = match &o.outcome {
                    Outcome::Data(t) => {
                        let lc = t.to_lightcurve(&name);
                        let n = lc.len();
                        merged.push(lc);
                        ("data".to_string(), n)
                    }
                    Outcome::NoData { message } => (format!("no data: {message}"), 0),
                    Outcome::Failed { reason } => {
                        failed += 1;
                        (format!("failed: {reason}"), 0)
                    }
                    Outcome::Expired => {
                        failed += 1;
                        ("expired".to_string(), 0)
                    }
                };
                rows.push(
                    json!({"index": o.index, "target": name, "task_id": o.task_id, "status": status, "points": points}),
                );
            }
            if summary {
                g.emit(&rows, None)?;
            } else {
                let lc = Lightcurve::merge(merged);
                g.emit(&crate::output::lightcurve_rows(&lc), Some(&crate::output::LIGHTCURVE_COLUMNS))?;
            }
            if failed > 0 {
                bail!("{failed} of {n} targets failed (run with --summary to see which)");
            }
            Ok(())
        }
        ForcedPhotCmd::Submit { target, range } => {
            let req = TaskRequest::new(target.target()?).options(range.options()?);
            let task = client.submit(&req).await?;
            g.emit(&[task_row(&task)], None)
        }
        ForcedPhotCmd::Status { id } => g.emit(&[task_row(&client.task(id).await?)], None),
        ForcedPhotCmd::Fetch { id, raw, lc } => {
            let task = client.task(id).await?;
            if !task.is_finished() {
                bail!(
                    "task {id} is not finished yet ({}): try again later, or use `forcedphot run` to wait",
                    task_row(&task)["state"].as_str().unwrap_or("queued")
                );
            }
            if let Some(e) = task.error() {
                bail!("task {id} finished without a result: {e}");
            }
            let table = client.result(&task).await?;
            let name = format!("task {id}");
            if raw {
                g.emit_view(&crate::output::to_rows(&table.rows)?, crate::output::views::FORCEDPHOT_ROWS)
            } else {
                lc.emit(g, &table.to_lightcurve(&name), &name)
            }
        }
        ForcedPhotCmd::Delete { id } => {
            client.delete(id).await?;
            g.emit(&[json!({"id": id, "deleted": true})], None)
        }
        ForcedPhotCmd::List { all } => {
            let stream = client.list();
            let tasks: Vec<Task> = if all {
                ctx::drain(g, stream, "forced-photometry tasks").await?
            } else {
                let items: Vec<_> = stream.take(100).collect().await;
                items.into_iter().collect::<std::result::Result<Vec<_>, _>>()?
            };
            g.emit(&tasks.iter().map(task_row).collect::<Vec<_>>(), None)
        }
    }
}
