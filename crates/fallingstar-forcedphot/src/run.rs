//! The whole job: submit, wait, download, parse, delete — for one target ([`Client::run`])
//! or hundreds ([`Client::run_many`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use broker_core::Clock;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::client::{Client, MAX_QUEUED_TASKS, Poll, PollIntervals};
use crate::error::{Error, Result};
use crate::result::ResultTable;
use crate::task::{MAX_BATCH, Target, Task, TaskOptions, TaskRequest, TaskState};

/// A stage of a task's life, reported to the progress callback.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// The server accepted the task.
    Submitted,
    /// Waiting in the queue (reported when the position changes).
    Queued {
        /// The queue position (0 = next), when known.
        position: Option<i64>,
    },
    /// Running.
    Running,
    /// Finished (with or without data).
    Finished,
    /// The result file was downloaded and parsed.
    Downloaded {
        /// Rows in the file.
        rows: usize,
    },
    /// The task was deleted from the server.
    Deleted,
}

/// One progress report.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The target's position in the input of [`Client::run_many`] (`None` for [`Client::run`]).
    pub index: Option<usize>,
    /// The task.
    pub task_id: u64,
    /// What happened.
    pub stage: Stage,
}

/// A progress callback (e.g. to drive a progress bar). Called from the task doing the work:
/// keep it quick.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How [`Client::run`] and [`Client::run_many`] behave.
#[derive(Clone)]
pub struct RunOptions {
    /// The longest the whole job may take (`None`: no limit).
    pub deadline: Option<Duration>,
    /// Cancels the job when triggered.
    pub cancel: Option<CancellationToken>,
    /// Called on every stage change.
    pub progress: Option<ProgressFn>,
    /// Keep tasks on the server after downloading (default: delete them).
    pub keep_tasks: bool,
    /// Keep unfinished tasks on the server when cancelled or out of time (default: delete
    /// them so they do not clog the queue).
    pub keep_abandoned: bool,
    /// Poll intervals (default: the client's).
    pub poll: Option<PollIntervals>,
    /// [`Client::run_many`]: the most tasks of this job on the server at once (default 500,
    /// the server's per-user limit; lower it when you have other tasks queued).
    pub max_in_flight: usize,
    /// [`Client::run_many`]: downloads at once (default 4).
    pub download_concurrency: usize,
    /// [`Client::run_many`]: how long to wait before submitting again after "too many queued
    /// tasks" when none of this job's tasks are on the server (default 60 s), and how many
    /// such waits in a row before giving up on the remaining targets (default 30).
    pub queue_full_wait: Duration,
    /// See [`Self::queue_full_wait`].
    pub queue_full_retries: u32,
    /// [`Client::run_many`]: how many times a target whose batch submission met an
    /// uncertain failure (a lost reply, a timeout, a 5xx) is submitted again after the task
    /// list showed the server had not queued it (default 3). Targets the server did queue
    /// are adopted, never submitted twice.
    pub resubmits: u32,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            deadline: None,
            cancel: None,
            progress: None,
            keep_tasks: false,
            keep_abandoned: false,
            poll: None,
            max_in_flight: MAX_QUEUED_TASKS,
            download_concurrency: 4,
            queue_full_wait: Duration::from_secs(60),
            queue_full_retries: 30,
            resubmits: 3,
        }
    }
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("deadline", &self.deadline)
            .field("cancel", &self.cancel.is_some())
            .field("progress", &self.progress.is_some())
            .field("keep_tasks", &self.keep_tasks)
            .field("keep_abandoned", &self.keep_abandoned)
            .field("poll", &self.poll)
            .field("max_in_flight", &self.max_in_flight)
            .field("download_concurrency", &self.download_concurrency)
            .finish_non_exhaustive()
    }
}

impl RunOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }
    /// An overall deadline.
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = Some(d);
        self
    }
    /// A cancellation token.
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
    /// A progress callback.
    pub fn progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
    /// Keep tasks on the server after downloading.
    pub fn keep_tasks(mut self, yes: bool) -> Self {
        self.keep_tasks = yes;
        self
    }
    /// Poll intervals.
    pub fn poll(mut self, poll: PollIntervals) -> Self {
        self.poll = Some(poll);
        self
    }
    /// The most tasks of this job on the server at once.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }
    /// How many times a target is submitted again after an uncertain batch failure (see
    /// [`Self::resubmits`]).
    pub fn resubmits(mut self, n: u32) -> Self {
        self.resubmits = n;
        self
    }

    fn emit(&self, index: Option<usize>, task_id: u64, stage: Stage) {
        if let Some(p) = &self.progress {
            p(&Progress { index, task_id, stage });
        }
    }
}

/// What a finished task gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The photometry (possibly empty, for a header-only file).
    Data(ResultTable),
    /// The server found no data (`error_msg` "No data returned": no coverage, behind the Sun,
    /// or outside the MJD range). A normal result, not a failure.
    NoData {
        /// The server's message.
        message: String,
    },
    /// The task failed: the server's `error_msg`, or what went wrong on the way.
    Failed {
        /// Why.
        reason: String,
    },
    /// The result is no longer on the server (the retention sweep removed it).
    Expired,
}

impl Outcome {
    /// The data, if any.
    pub fn data(&self) -> Option<&ResultTable> {
        match self {
            Outcome::Data(t) => Some(t),
            _ => None,
        }
    }
}

/// What happened to the task on the server afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// Deleted (`DELETE` answered 204).
    Deleted,
    /// Kept, as asked (or because its result could not be read).
    Kept,
    /// Already gone when we tried to delete it.
    AlreadyGone,
    /// The `DELETE` failed; the task is still on the server.
    DeleteFailed {
        /// Why.
        reason: String,
    },
    /// No task was created.
    NotSubmitted,
}

/// The result of [`Client::run`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// The task as last seen (finished).
    pub task: Task,
    /// What it gave.
    pub outcome: Outcome,
    /// What happened to it on the server afterwards.
    pub cleanup: Cleanup,
}

/// The result for one target of [`Client::run_many`].
#[derive(Debug, Clone)]
pub struct TargetOutcome {
    /// The target's position in the input.
    pub index: usize,
    /// The target.
    pub target: Target,
    /// The task the server created for it, if any.
    pub task_id: Option<u64>,
    /// What it gave (client-side failures are [`Outcome::Failed`] with [`Self::error`] set).
    pub outcome: Outcome,
    /// The error behind a client-side failure.
    pub error: Option<Arc<Error>>,
    /// What happened to the task on the server.
    pub cleanup: Cleanup,
}

/// Time and cancellation control for one job.
struct Control {
    clock: Arc<dyn Clock>,
    start: Duration,
    deadline: Option<Duration>,
    cancel: Option<CancellationToken>,
}

impl Control {
    fn new(client: &Client, opts: &RunOptions) -> Self {
        let clock = client.http.clock().clone();
        let start = clock.now();
        Control { clock, start, deadline: opts.deadline, cancel: opts.cancel.clone() }
    }
    fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_sub(self.clock.now().saturating_sub(self.start)))
    }
    fn stop_error(&self, cancelled: bool) -> Error {
        if cancelled {
            Error::Cancelled { task_id: None, deleted: false }
        } else {
            Error::DeadlineExceeded { deadline: self.deadline.unwrap_or_default(), task_id: None, deleted: false }
        }
    }
    fn check(&self) -> Result<()> {
        if self.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
            return Err(self.stop_error(true));
        }
        if self.remaining().is_some_and(|r| r.is_zero()) {
            return Err(self.stop_error(false));
        }
        Ok(())
    }
    async fn cancelled(&self) {
        match &self.cancel {
            Some(c) => c.cancelled().await,
            None => std::future::pending().await,
        }
    }
    /// Sleeps on the client's clock, cut short by cancellation or the deadline.
    async fn sleep(&self, d: Duration) -> Result<()> {
        self.check()?;
        let d = match self.remaining() {
            Some(r) => d.min(r),
            None => d,
        };
        tokio::select! {
            _ = self.clock.sleep(d) => {}
            _ = self.cancelled() => return Err(self.stop_error(true)),
        }
        self.check()
    }
    /// Runs a request, cut short by cancellation or (in real time) the deadline.
    async fn guard<T>(&self, f: impl Future<Output = Result<T>>) -> Result<T> {
        self.check()?;
        let limit = self.remaining();
        tokio::select! {
            r = f => r,
            _ = self.cancelled() => Err(self.stop_error(true)),
            _ = async {
                match limit {
                    Some(l) => tokio::time::sleep(l).await,
                    None => std::future::pending().await,
                }
            } => Err(self.stop_error(false)),
        }
    }
}

/// How many polls (or task-list reads) in a row may fail with a retryable error before the
/// job gives up on following its tasks.
const MAX_ROUND_FAILURES: u32 = 20;

fn is_stop(e: &Error) -> bool {
    matches!(e, Error::Cancelled { .. } | Error::DeadlineExceeded { .. })
}

fn with_task(e: Error, id: u64, deleted: bool) -> Error {
    match e {
        Error::Cancelled { .. } => Error::Cancelled { task_id: Some(id), deleted },
        Error::DeadlineExceeded { deadline, .. } => Error::DeadlineExceeded { deadline, task_id: Some(id), deleted },
        other => other,
    }
}

fn state_stage(t: &Task) -> Stage {
    match t.state() {
        TaskState::Queued { position } => Stage::Queued { position },
        TaskState::Running { .. } => Stage::Running,
        TaskState::Finished { .. } => Stage::Finished,
    }
}

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
    async fn outcome(&self, task: &Task, opts: &RunOptions, index: Option<usize>) -> Result<Outcome> {
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

    async fn cleanup(&self, task_id: u64, opts: &RunOptions, index: Option<usize>) -> Cleanup {
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

    /// Does the whole job for many targets with the same options, and returns one
    /// [`TargetOutcome`] per input target, in input order — nothing is dropped.
    ///
    /// Targets go in `radeclist` batches of up to 100 (one write each), at most
    /// [`RunOptions::max_in_flight`] tasks of this job are on the server at once (the server
    /// allows 500 per user), and all writes (submits and deletes) stay under the client's
    /// write budget of 60 per minute. Progress is read from your task list (`GET /queue/`, a
    /// few requests per round however many tasks are queued), a task missing from it is
    /// looked up by id. Each finished task is downloaded and deleted exactly once.
    ///
    /// Only invalid input (an empty list, bad options) is an `Err`, before any request. On
    /// cancellation or deadline the tasks still on the server are deleted (unless
    /// [`RunOptions::keep_abandoned`]) and their targets, like those never submitted, get
    /// [`Outcome::Failed`] with the reason.
    ///
    /// **Lost replies.** Every task of the run carries a run tag in its `comment` (your
    /// comment, if any, then ` [astrobrokers-run <16 hex>]`; so a comment may be at most
    /// [`MAX_TAGGED_COMMENT`] characters here). When a batch POST fails in a way that leaves
    /// open whether the server acted (the connection dropped, a timeout, a 5xx, a reply cut
    /// short), the run reads your task list: the batch's targets that have a task with this
    /// run's tag are adopted, the others are submitted again (at most
    /// [`RunOptions::resubmits`] times). So no target is reported failed that the server
    /// queued, and none is queued twice.
    pub async fn run_many(
        &self,
        targets: Vec<Target>,
        options: &TaskOptions,
        opts: &RunOptions,
    ) -> Result<Vec<TargetOutcome>> {
        if targets.is_empty() {
            return Err(Error::invalid("targets", "the target list is empty: give at least one target"));
        }
        options.validate()?;
        for t in &targets {
            if let Target::MpcName(n) = t {
                Target::mpc(n.clone())?;
            }
        }
        let tag = run_tag();
        let options = &tagged(options, &tag)?;
        let ctl = Control::new(self, opts);
        let poll = opts.poll.unwrap_or(self.poll);
        let max_in_flight = opts.max_in_flight.clamp(1, MAX_QUEUED_TASKS);
        let mut slots: Vec<Option<TargetOutcome>> = vec![None; targets.len()];
        let mut pending: VecDeque<usize> = (0..targets.len()).collect();
        // task id -> target index, for tasks of this job on the server.
        let mut in_flight: BTreeMap<u64, usize> = BTreeMap::new();
        let mut known: HashMap<u64, Task> = HashMap::new();
        let mut reported: HashMap<u64, Stage> = HashMap::new();
        let mut queue_full_waits = 0u32;
        let mut list_failures = 0u32;
        let mut stop: Option<Error> = None;
        // Submissions per target (reconciled resubmits included), and every task id this
        // run has taken as its own (so a reconcile never adopts one twice).
        let mut submits = vec![0u32; targets.len()];
        let mut owned: std::collections::HashSet<u64> = std::collections::HashSet::new();

        let fail = |index: usize, task_id: Option<u64>, err: Error, cleanup: Cleanup| TargetOutcome {
            index,
            target: targets[index].clone(),
            task_id,
            outcome: Outcome::Failed { reason: err.to_string() },
            error: Some(Arc::new(err)),
            cleanup,
        };

        'outer: loop {
            if let Err(e) = ctl.check() {
                stop = Some(e);
                break;
            }
            // 1. Submit while there is room.
            while !pending.is_empty() && in_flight.len() < max_in_flight {
                let n = pending.len().min(MAX_BATCH).min(max_in_flight - in_flight.len());
                let batch: Vec<usize> = pending.iter().take(n).copied().collect();
                let batch_targets: Vec<Target> = batch.iter().map(|&i| targets[i].clone()).collect();
                for &i in &batch {
                    submits[i] += 1;
                }
                match ctl.guard(self.submit_batch(&batch_targets, options)).await {
                    Ok(tasks) => {
                        queue_full_waits = 0;
                        pending.drain(..n);
                        let (matched, extra) = match_tasks(&batch, &batch_targets, tasks);
                        for (i, task) in batch.iter().zip(matched) {
                            match task {
                                Some(t) => {
                                    opts.emit(Some(*i), t.id, Stage::Submitted);
                                    owned.insert(t.id);
                                    in_flight.insert(t.id, *i);
                                    known.insert(t.id, t);
                                }
                                None => {
                                    slots[*i] = Some(fail(
                                        *i,
                                        None,
                                        Error::invalid("target", "the server created no task for this target"),
                                        Cleanup::NotSubmitted,
                                    ));
                                }
                            }
                        }
                        // Tasks we cannot attribute are deleted rather than left behind.
                        for t in extra {
                            let _ = self.delete(t.id).await;
                        }
                    }
                    Err(e) if is_stop(&e) => {
                        stop = Some(e);
                        break 'outer;
                    }
                    Err(Error::QueueFull { .. }) if !in_flight.is_empty() => {
                        // Wait for some of ours to finish before trying again.
                        break;
                    }
                    Err(e @ Error::QueueFull { .. }) => {
                        queue_full_waits += 1;
                        if queue_full_waits > opts.queue_full_retries {
                            for i in pending.drain(..) {
                                let err = Error::QueueFull {
                                    queued: None,
                                    requested: None,
                                    limit: None,
                                    message: e.to_string(),
                                };
                                slots[i] = Some(fail(i, None, err, Cleanup::NotSubmitted));
                            }
                            break;
                        }
                        if let Err(s) = ctl.sleep(opts.queue_full_wait).await {
                            stop = Some(s);
                            break 'outer;
                        }
                    }
                    Err(Error::Rejected { status, messages, url }) if !rejected_lines(&messages, n).is_empty() => {
                        // "Error on line k": only that target fails; the rest of the batch is
                        // sent again (the server stops at the first bad line).
                        let bad = rejected_lines(&messages, n);
                        for (k, message) in bad.iter().rev() {
                            if let Some(i) = pending.remove(k - 1) {
                                let err = Error::Rejected { status, messages: vec![message.clone()], url: url.clone() };
                                slots[i] = Some(fail(i, None, err, Cleanup::NotSubmitted));
                            }
                        }
                    }
                    Err(e) if uncertain(&e) => {
                        // The server may have acted: ask the task list which of the batch's
                        // targets it queued under this run's tag.
                        match ctl.guard(self.tagged_tasks(&tag, &owned)).await {
                            Ok(found) => {
                                pending.drain(..n);
                                let (matched, _) = match_tasks(&batch, &batch_targets, found);
                                let mut again = Vec::new();
                                for (&i, task) in batch.iter().zip(matched) {
                                    match task {
                                        Some(t) => {
                                            tracing::info!(task = t.id, "adopted a task whose submit reply was lost");
                                            opts.emit(Some(i), t.id, Stage::Submitted);
                                            owned.insert(t.id);
                                            in_flight.insert(t.id, i);
                                            known.insert(t.id, t);
                                        }
                                        None if submits[i] <= opts.resubmits => again.push(i),
                                        None => {
                                            let reason = format!(
                                                "submission failed {} times, the server queued nothing: {e}",
                                                submits[i]
                                            );
                                            slots[i] = Some(TargetOutcome {
                                                index: i,
                                                target: targets[i].clone(),
                                                task_id: None,
                                                outcome: Outcome::Failed { reason },
                                                error: None,
                                                cleanup: Cleanup::NotSubmitted,
                                            });
                                        }
                                    }
                                }
                                for i in again.into_iter().rev() {
                                    pending.push_front(i);
                                }
                            }
                            Err(s) if is_stop(&s) => {
                                stop = Some(s);
                                break 'outer;
                            }
                            Err(list_err) => {
                                // Cannot tell what the server did: report it, resubmit nothing.
                                let e = Arc::new(e);
                                for i in pending.drain(..n) {
                                    slots[i] = Some(TargetOutcome {
                                        index: i,
                                        target: targets[i].clone(),
                                        task_id: None,
                                        outcome: Outcome::Failed {
                                            reason: format!(
                                                "submission failed ({e}) and the task list could not be read to \
                                                 check whether the server queued it ({list_err}); look for tasks \
                                                 tagged {tag}"
                                            ),
                                        },
                                        error: Some(e.clone()),
                                        cleanup: Cleanup::NotSubmitted,
                                    });
                                }
                            }
                        }
                    }
                    Err(e) => {
                        // The whole batch was refused; the error goes to each of its targets.
                        let e = Arc::new(e);
                        for i in pending.drain(..n) {
                            slots[i] = Some(TargetOutcome {
                                index: i,
                                target: targets[i].clone(),
                                task_id: None,
                                outcome: Outcome::Failed { reason: format!("submission failed: {e}") },
                                error: Some(e.clone()),
                                cleanup: Cleanup::NotSubmitted,
                            });
                        }
                        if matches!(e.status(), Some(401 | 403)) {
                            // No point sending the rest with bad credentials.
                            for i in pending.drain(..) {
                                slots[i] = Some(TargetOutcome {
                                    index: i,
                                    target: targets[i].clone(),
                                    task_id: None,
                                    outcome: Outcome::Failed { reason: format!("not submitted: {e}") },
                                    error: Some(e.clone()),
                                    cleanup: Cleanup::NotSubmitted,
                                });
                            }
                        }
                    }
                }
            }
            if in_flight.is_empty() {
                if pending.is_empty() {
                    break;
                }
                continue;
            }

            // 2. Read the state of our tasks from the task list.
            let finished = match self.refresh(&ctl, &in_flight, &mut known).await {
                Ok(f) => {
                    list_failures = 0;
                    f
                }
                Err(e) if is_stop(&e) => {
                    stop = Some(e);
                    break;
                }
                Err(e) if e.is_retryable() && list_failures < MAX_ROUND_FAILURES => {
                    list_failures += 1;
                    tracing::warn!(error = %e, "could not read the task list; trying again");
                    Vec::new()
                }
                Err(e) => {
                    // Auth or decode trouble: nothing will get better by waiting.
                    let e = Arc::new(e);
                    for (&id, &i) in &in_flight {
                        slots[i] = Some(TargetOutcome {
                            index: i,
                            target: targets[i].clone(),
                            task_id: Some(id),
                            outcome: Outcome::Failed { reason: format!("could not follow the task: {e}") },
                            error: Some(e.clone()),
                            cleanup: Cleanup::Kept,
                        });
                    }
                    in_flight.clear();
                    for i in pending.drain(..) {
                        slots[i] = Some(TargetOutcome {
                            index: i,
                            target: targets[i].clone(),
                            task_id: None,
                            outcome: Outcome::Failed { reason: format!("not submitted: {e}") },
                            error: Some(e.clone()),
                            cleanup: Cleanup::NotSubmitted,
                        });
                    }
                    break;
                }
            };
            for (&id, &i) in &in_flight {
                if let Some(t) = known.get(&id) {
                    let stage = state_stage(t);
                    if reported.get(&id) != Some(&stage) {
                        opts.emit(Some(i), id, stage.clone());
                        reported.insert(id, stage);
                    }
                }
            }

            // 3. Download, parse and delete the finished ones, a few at a time.
            let mut jobs = Vec::new();
            for id in finished {
                if let (Some(i), Some(task)) = (in_flight.remove(&id), known.remove(&id)) {
                    jobs.push((i, task));
                }
            }
            let results: Vec<(usize, Task, Result<Outcome>, Option<Cleanup>)> = futures::stream::iter(jobs)
                .map(|(i, task)| async move {
                    match self.outcome(&task, opts, Some(i)).await {
                        Ok(o) => {
                            let c = self.cleanup(task.id, opts, Some(i)).await;
                            (i, task, Ok(o), Some(c))
                        }
                        Err(e) => (i, task, Err(e), None),
                    }
                })
                .buffer_unordered(opts.download_concurrency.max(1))
                .collect()
                .await;
            let any_finished = !results.is_empty();
            for (i, task, outcome, cleanup) in results {
                slots[i] = Some(match outcome {
                    Ok(o) => TargetOutcome {
                        index: i,
                        target: targets[i].clone(),
                        task_id: Some(task.id),
                        outcome: o,
                        error: None,
                        cleanup: cleanup.unwrap_or(Cleanup::Kept),
                    },
                    Err(e) => fail(i, Some(task.id), e, Cleanup::Kept),
                });
            }

            // 4. Wait before the next round (not when there is room to submit more).
            if !in_flight.is_empty() && (!any_finished || pending.is_empty()) {
                let running = in_flight.keys().any(|id| known.get(id).is_some_and(|t| t.starttimestamp.is_some()));
                let d = if running { poll.running } else { poll.queued };
                if let Err(e) = ctl.sleep(d).await {
                    stop = Some(e);
                    break;
                }
            }
        }

        if let Some(stop) = stop {
            let cancelled = matches!(stop, Error::Cancelled { .. });
            for (&id, &i) in &in_flight {
                let deleted = !opts.keep_abandoned && self.delete(id).await.is_ok();
                let err = with_task(ctl.stop_error(cancelled), id, deleted);
                let cleanup = if deleted { Cleanup::Deleted } else { Cleanup::Kept };
                slots[i] = Some(fail(i, Some(id), err, cleanup));
            }
            for i in pending.drain(..) {
                slots[i] = Some(fail(i, None, ctl.stop_error(cancelled), Cleanup::NotSubmitted));
            }
        }

        Ok(slots
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                s.unwrap_or_else(|| TargetOutcome {
                    index: i,
                    target: targets[i].clone(),
                    task_id: None,
                    outcome: Outcome::Failed { reason: "not processed".into() },
                    error: None,
                    cleanup: Cleanup::NotSubmitted,
                })
            })
            .collect())
    }

    /// The tasks in the task list that carry this run's tag and that the run has not taken
    /// yet.
    async fn tagged_tasks(&self, tag: &str, owned: &std::collections::HashSet<u64>) -> Result<Vec<Task>> {
        let listed: Vec<Task> = self.list().collect_all().await?;
        Ok(listed
            .into_iter()
            .filter(|t| !owned.contains(&t.id) && t.comment.as_deref().is_some_and(|c| c.contains(tag)))
            .collect())
    }

    /// Updates `known` from the task list (and, for tasks missing from it, from their detail
    /// page); returns the ids of finished tasks of ours.
    async fn refresh(
        &self,
        ctl: &Control,
        in_flight: &BTreeMap<u64, usize>,
        known: &mut HashMap<u64, Task>,
    ) -> Result<Vec<u64>> {
        let listed: Vec<Task> = ctl.guard(async { Ok(self.list().collect_all().await?) }).await?;
        let mut seen = std::collections::HashSet::new();
        for t in listed {
            if in_flight.contains_key(&t.id) {
                seen.insert(t.id);
                known.insert(t.id, t);
            }
        }
        for &id in in_flight.keys() {
            if seen.contains(&id) {
                continue;
            }
            match ctl.guard(self.task(id)).await {
                Ok(t) => {
                    known.insert(id, t);
                }
                Err(Error::TaskGone { .. }) => {
                    // Deleted or archived behind our back: finished for our purposes, with
                    // no result to fetch.
                    if let Some(t) = known.get_mut(&id) {
                        if t.finishtimestamp.is_none() {
                            t.finishtimestamp = Some(chrono::Utc::now());
                        }
                        t.result_url = None;
                        if t.error().is_none() {
                            t.error_msg = Some("the task disappeared from the server".into());
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(in_flight.keys().copied().filter(|id| known.get(id).is_some_and(Task::is_finished)).collect())
    }
}

/// The longest comment of yours [`Client::run_many`] accepts: the server keeps 300
/// characters, and the run tag takes the rest.
pub const MAX_TAGGED_COMMENT: usize = 300 - RUN_TAG_LEN - 1;
/// `[astrobrokers-run ` + 16 hex digits + `]`.
const RUN_TAG_LEN: usize = 18 + 16 + 1;

/// A tag that tells this run's tasks from any other's: 64 random bits (std's per-process
/// random hash keys, mixed with the time and a counter).
fn run_tag() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.write_u32(std::process::id());
    format!("[astrobrokers-run {:016x}]", h.finish())
}

/// The options with the run tag appended to the comment.
fn tagged(options: &TaskOptions, tag: &str) -> Result<TaskOptions> {
    let comment = match options.comment.as_deref().filter(|c| !c.is_empty()) {
        Some(c) if c.chars().count() > MAX_TAGGED_COMMENT => {
            return Err(Error::invalid(
                "comment",
                format!(
                    "the comment has {} characters: run_many keeps at most {MAX_TAGGED_COMMENT} (the server's 300 less \
                     the run tag it appends)",
                    c.chars().count()
                ),
            ));
        }
        Some(c) => format!("{c} {tag}"),
        None => tag.to_string(),
    };
    Ok(options.clone().comment(comment))
}

/// Whether a failed submit may have been acted on by the server: no reply (connection,
/// timeout), a reply cut short, or a 5xx. A 4xx (refused, queue full, auth) means it did not.
fn uncertain(e: &Error) -> bool {
    match e {
        Error::Rejected { .. } | Error::QueueFull { .. } | Error::Cancelled { .. } | Error::DeadlineExceeded { .. } => {
            false
        }
        Error::Core(
            broker_core::Error::InvalidInput { .. }
            | broker_core::Error::RateLimited { .. }
            | broker_core::Error::Auth { .. }
            | broker_core::Error::Config(_),
        ) => false,
        other => other.status().is_none_or(|s| s >= 500),
    }
}

/// The 1-based batch lines named by `Error on line k` messages (within `1..=n`), with
/// their message, in increasing order.
fn rejected_lines(messages: &[String], n: usize) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for m in messages {
        let Some(at) = m.find("Error on line ") else { continue };
        let rest = &m[at + "Error on line ".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(k) = digits.parse::<usize>() {
            if (1..=n).contains(&k) && !out.iter().any(|(j, _)| *j == k) {
                out.push((k, m.clone()));
            }
        }
    }
    out.sort_by_key(|(k, _)| *k);
    out
}

/// Pairs the tasks of a batch reply with the batch's targets: in order when they match,
/// else by position or MPC name. Returns one optional task per target and the tasks left.
fn match_tasks(batch: &[usize], targets: &[Target], tasks: Vec<Task>) -> (Vec<Option<Task>>, Vec<Task>) {
    let mut out: Vec<Option<Task>> = vec![None; batch.len()];
    let mut rest: Vec<Option<Task>> = tasks.into_iter().map(Some).collect();
    // In order first.
    for (k, target) in targets.iter().enumerate() {
        if let Some(slot) = rest.get_mut(k) {
            if slot.as_ref().is_some_and(|t| target.matches(t)) {
                out[k] = slot.take();
            }
        }
    }
    // Then any remaining by value.
    for (k, target) in targets.iter().enumerate() {
        if out[k].is_some() {
            continue;
        }
        if let Some(slot) = rest.iter_mut().find(|s| s.as_ref().is_some_and(|t| target.matches(t))) {
            out[k] = slot.take();
        }
    }
    (out, rest.into_iter().flatten().collect())
}
