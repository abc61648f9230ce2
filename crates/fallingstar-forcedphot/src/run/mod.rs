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

mod many;
mod options;
mod outcome;
mod reconcile;
mod single;

pub use options::{Progress, ProgressFn, RunOptions, Stage};
pub use outcome::{Cleanup, Outcome, RunResult, TargetOutcome};
pub use reconcile::MAX_TAGGED_COMMENT;

use reconcile::{match_tasks, rejected_lines, run_tag, tagged, uncertain};

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
