//! How a job behaves ([`RunOptions`]) and what it reports on the way ([`Stage`],
//! [`Progress`]).

use super::*;

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

    pub(super) fn emit(&self, index: Option<usize>, task_id: u64, stage: Stage) {
        if let Some(p) = &self.progress {
            p(&Progress { index, task_id, stage });
        }
    }
}
