//! The job for one task ([`Client::run`], [`Client::finish`], [`Client::wait`]), and reading
//! and cleaning up a finished task (shared with [`Client::run_many`]).

use super::*;

impl Client {
    /// Does the whole job for one target: submit, wait (polling every 4 s while queued and
    /// 2 s while running, with `If-None-Match` when the server sends an `ETag`), download,
    /// parse, and delete the task (unless [`RunOptions::keep_tasks`]).
    ///
    /// "No data returned" is [`Outcome::NoData`]; a finished task without a result and
    /// without an error is [`Outcome::Expired`]. On cancellation or when the deadline passes
    /// the task is deleted (unless [`RunOptions::keep_abandoned`]) and
    /// [`Error::Cancelled`] / [`Error::DeadlineExceeded`] name it. Dropping the future stops
    /// the work at once but leaves the task on the server.
    pub async fn run(&self, request: &TaskRequest, opts: &RunOptions) -> Result<RunResult> {
        request.validate()?;
        let ctl = Control::new(self, opts);
        let task = ctl.guard(self.submit(request)).await?;
        opts.emit(None, task.id, Stage::Submitted);
        self.finish_inner(task.id, Some(task), opts, &ctl).await
    }

    /// Does the rest of the job for a task submitted earlier (e.g. one kept after a
    /// cancellation): wait, download, parse, delete.
    pub async fn finish(&self, task_id: u64, opts: &RunOptions) -> Result<RunResult> {
        let ctl = Control::new(self, opts);
        self.finish_inner(task_id, None, opts, &ctl).await
    }

    /// Polls a task until it finishes (see [`Client::run`] for the intervals); returns it.
    pub async fn wait(&self, task_id: u64, opts: &RunOptions) -> Result<Task> {
        let ctl = Control::new(self, opts);
        self.wait_inner(task_id, None, opts, &ctl).await
    }

    async fn finish_inner(
        &self,
        task_id: u64,
        known: Option<Task>,
        opts: &RunOptions,
        ctl: &Control,
    ) -> Result<RunResult> {
        let task = match self.wait_inner(task_id, known, opts, ctl).await {
            Ok(t) => t,
            Err(e) if is_stop(&e) => {
                let deleted = if opts.keep_abandoned { false } else { self.delete(task_id).await.is_ok() };
                if deleted {
                    opts.emit(None, task_id, Stage::Deleted);
                }
                return Err(with_task(e, task_id, deleted));
            }
            Err(e) => return Err(e),
        };
        let outcome = self.outcome(&task, opts, None).await?;
        let cleanup = self.cleanup(task.id, opts, None).await;
        Ok(RunResult { task, outcome, cleanup })
    }

    async fn wait_inner(&self, task_id: u64, known: Option<Task>, opts: &RunOptions, ctl: &Control) -> Result<Task> {
        let poll = opts.poll.unwrap_or(self.poll);
        let mut last = known;
        let mut etag: Option<String> = None;
        let mut last_stage: Option<Stage> = None;
        let mut failures = 0u32;
        loop {
            if last.as_ref().is_none_or(|t| !t.is_finished()) {
                let polled = match ctl.guard(self.poll(task_id, etag.as_deref())).await {
                    Ok(p) => {
                        failures = 0;
                        p
                    }
                    // Throttling or network trouble that outlasted the HTTP layer's retries:
                    // keep following the task, up to a limit.
                    Err(e) if e.is_retryable() && !is_stop(&e) && failures < MAX_ROUND_FAILURES => {
                        failures += 1;
                        tracing::warn!(error = %e, task_id, "could not poll the task; trying again");
                        let wait = match &e {
                            Error::Core(broker_core::Error::RateLimited { retry_after: Some(w), .. }) => *w,
                            _ => poll.queued,
                        };
                        ctl.sleep(wait.max(poll.running)).await?;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                match polled {
                    Poll::Changed { task, etag: e } => {
                        etag = e;
                        last = Some(*task);
                    }
                    Poll::NotModified if last.is_some() => {}
                    Poll::NotModified => {
                        etag = None;
                        continue;
                    }
                }
            }
            let Some(task) = last.as_ref() else { continue };
            let stage = state_stage(task);
            if last_stage.as_ref() != Some(&stage) {
                opts.emit(None, task_id, stage.clone());
                last_stage = Some(stage.clone());
            }
            match stage {
                Stage::Finished => return Ok(task.clone()),
                Stage::Running => ctl.sleep(poll.running).await?,
                _ => ctl.sleep(poll.queued).await?,
            }
        }
    }

    /// Reads a finished task's outcome; a download or parse failure keeps the task
    /// ([`Error::TaskKept`]).
    pub(super) async fn outcome(&self, task: &Task, opts: &RunOptions, index: Option<usize>) -> Result<Outcome> {
        if let Some(msg) = task.error() {
            return Ok(if msg.to_ascii_lowercase().starts_with("no data") {
                Outcome::NoData { message: msg.to_string() }
            } else {
                Outcome::Failed { reason: msg.to_string() }
            });
        }
        let Some(url) = task.result_url.as_deref() else {
            return Ok(Outcome::Expired);
        };
        let text = match self.download_url(url).await {
            Ok(t) => t,
            Err(Error::TaskGone { .. }) => return Ok(Outcome::Expired),
            Err(e) => return Err(Error::TaskKept { task_id: task.id, source: Box::new(e) }),
        };
        let table = ResultTable::parse(&text).map_err(|e| Error::TaskKept { task_id: task.id, source: Box::new(e) })?;
        opts.emit(index, task.id, Stage::Downloaded { rows: table.len() });
        Ok(Outcome::Data(table))
    }

    pub(super) async fn cleanup(&self, task_id: u64, opts: &RunOptions, index: Option<usize>) -> Cleanup {
        if opts.keep_tasks {
            return Cleanup::Kept;
        }
        match self.delete(task_id).await {
            Ok(()) => {
                opts.emit(index, task_id, Stage::Deleted);
                Cleanup::Deleted
            }
            Err(Error::TaskGone { .. }) => Cleanup::AlreadyGone,
            Err(e) => Cleanup::DeleteFailed { reason: e.to_string() },
        }
    }
}
