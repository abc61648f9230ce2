//! What a job gives: per task ([`Outcome`], [`Cleanup`], [`RunResult`]) and per target of
//! [`Client::run_many`] ([`TargetOutcome`]).

use super::*;

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
