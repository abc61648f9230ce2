//! Targets, task requests and the server's task JSON.

use std::fmt;
use std::str::FromStr;

use broker_core::SkyPosition;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// The most targets one `radeclist` POST may carry (the server's limit).
pub const MAX_BATCH: usize = 100;

/// What to measure: a fixed sky position or a solar-system object by its MPC designation.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A position (validated: RA in [0, 360), Dec in [-90, 90], both finite).
    Position(SkyPosition),
    /// A minor planet or comet by MPC name or number (`"Makemake"`, `"14916"`).
    MpcName(String),
}

impl Target {
    /// A position in decimal degrees; invalid ranges or non-finite values are rejected.
    pub fn position(ra_deg: f64, dec_deg: f64) -> Result<Self> {
        Ok(Target::Position(SkyPosition::new(ra_deg, dec_deg)?))
    }

    /// An MPC designation. It may not be blank, longer than 300 characters, or contain quotes,
    /// semicolons or line breaks (the server refuses them).
    pub fn mpc(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Err(Error::invalid("mpc_name", "the MPC name is blank: give a designation such as \"Makemake\""));
        }
        if trimmed.chars().count() > 300 {
            return Err(Error::invalid("mpc_name", "the MPC name is longer than 300 characters"));
        }
        if trimmed.chars().any(|c| matches!(c, '\'' | '"' | ';' | '\n' | '\r')) {
            return Err(Error::invalid(
                "mpc_name",
                format!("{trimmed:?} is not valid: an MPC name may not contain quotes, semicolons or line breaks"),
            ));
        }
        Ok(Target::MpcName(trimmed.to_string()))
    }

    /// Parses one target as a `radeclist` line is written: `"mpc Makemake"` / `"mpc_Makemake"`,
    /// decimal degrees `"150.1 2.2"` / `"150.1, 2.2"`, or sexagesimal
    /// `"10:00:24.0 +02:12:00"` / `"10 00 24.0 +02 12 00"` (RA in hours).
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if let (Some(prefix), Some(rest)) = (t.get(..4), t.get(4..)) {
            if matches!(prefix, "mpc " | "MPC " | "mpc_" | "MPC_") {
                return Self::mpc(rest);
            }
        }
        Ok(Target::Position(SkyPosition::parse(t)?))
    }

    /// Parses many targets, one per item; an error names the (1-based) item that failed.
    pub fn parse_list<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>> {
        let mut out = Vec::new();
        for (i, line) in lines.into_iter().enumerate() {
            let t = Self::parse(line).map_err(|e| match e {
                Error::Core(broker_core::Error::InvalidInput { field, message }) => {
                    Error::invalid(format!("targets[{}].{field}", i + 1), message)
                }
                other => other,
            })?;
            out.push(t);
        }
        Ok(out)
    }

    /// The line this target becomes in a `radeclist` (`"150.1 2.2"` or `"mpc Makemake"`).
    pub fn radeclist_line(&self) -> String {
        match self {
            Target::Position(p) => format!("{} {}", p.ra(), p.dec()),
            Target::MpcName(n) => format!("mpc {n}"),
        }
    }

    /// Whether a task the server created is for this target.
    pub(crate) fn matches(&self, task: &Task) -> bool {
        match self {
            Target::Position(p) => match (task.ra, task.dec) {
                (Some(ra), Some(dec)) => (ra - p.ra()).abs() < 1e-6 && (dec - p.dec()).abs() < 1e-6,
                _ => false,
            },
            Target::MpcName(n) => task.mpc_name.as_deref().map(str::trim) == Some(n.as_str()),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Position(p) => write!(f, "{p}"),
            Target::MpcName(n) => write!(f, "mpc {n}"),
        }
    }
}

impl FromStr for Target {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl From<SkyPosition> for Target {
    fn from(p: SkyPosition) -> Self {
        Target::Position(p)
    }
}

/// The lower MJD bound of a request.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum MjdMin {
    /// Not sent: the server uses its default, **the last 30 days**.
    #[default]
    ServerDefault,
    /// Sent empty (null): no lower bound, the whole ATLAS history (slow: minutes per target).
    Unbounded,
    /// From this MJD.
    Mjd(f64),
}

/// Everything about a task except its target. The same options apply to every target of a
/// batch (the server copies them to each row of a `radeclist`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskOptions {
    /// The lower MJD bound (default: the server's last 30 days; see [`MjdMin`]).
    pub mjd_min: MjdMin,
    /// The upper MJD bound (none: up to now).
    pub mjd_max: Option<f64>,
    /// Photometry on reduced images instead of difference images (default `false`).
    pub use_reduced: bool,
    /// Whether the server e-mails on completion (default `false`; always sent explicitly).
    pub send_email: bool,
    /// A free-text comment (at most 300 characters).
    pub comment: Option<String>,
    /// The epoch of the coordinates, as a year with at most one decimal (e.g. 2000.0).
    pub radec_epoch_year: Option<f64>,
    /// Proper motion in RA, mas/yr.
    pub propermotion_ra: Option<f64>,
    /// Proper motion in Dec, mas/yr.
    pub propermotion_dec: Option<f64>,
}

impl TaskOptions {
    /// Default options (last 30 days, difference images, no e-mail).
    pub fn new() -> Self {
        Self::default()
    }
    /// From this MJD.
    pub fn mjd_min(mut self, mjd: f64) -> Self {
        self.mjd_min = MjdMin::Mjd(mjd);
        self
    }
    /// No lower MJD bound: the whole history.
    pub fn full_history(mut self) -> Self {
        self.mjd_min = MjdMin::Unbounded;
        self
    }
    /// Up to this MJD.
    pub fn mjd_max(mut self, mjd: f64) -> Self {
        self.mjd_max = Some(mjd);
        self
    }
    /// Reduced (`true`) or difference (`false`) images.
    pub fn use_reduced(mut self, yes: bool) -> Self {
        self.use_reduced = yes;
        self
    }
    /// Ask for an e-mail on completion.
    pub fn send_email(mut self, yes: bool) -> Self {
        self.send_email = yes;
        self
    }
    /// A comment.
    pub fn comment(mut self, c: impl Into<String>) -> Self {
        self.comment = Some(c.into());
        self
    }
    /// The epoch of the coordinates (year).
    pub fn radec_epoch_year(mut self, year: f64) -> Self {
        self.radec_epoch_year = Some(year);
        self
    }
    /// Proper motion in mas/yr (RA, Dec).
    pub fn proper_motion(mut self, ra_mas_yr: f64, dec_mas_yr: f64) -> Self {
        self.propermotion_ra = Some(ra_mas_yr);
        self.propermotion_dec = Some(dec_mas_yr);
        self
    }

    /// Checks the options as the server would, before any request.
    pub fn validate(&self) -> Result<()> {
        let min = match self.mjd_min {
            MjdMin::Mjd(m) => {
                if !m.is_finite() || m < 0.0 {
                    return Err(Error::invalid("mjd_min", format!("{m} is not valid: use a finite MJD >= 0")));
                }
                Some(m)
            }
            _ => None,
        };
        if let Some(max) = self.mjd_max {
            if !max.is_finite() || max <= 0.0 {
                return Err(Error::invalid("mjd_max", format!("{max} is not valid: use a finite MJD > 0")));
            }
            if let Some(min) = min {
                if max <= min {
                    return Err(Error::invalid(
                        "mjd_max",
                        format!("mjd_max ({max}) must be greater than mjd_min ({min})"),
                    ));
                }
            }
        }
        if let Some(c) = &self.comment {
            if c.chars().count() > 300 {
                return Err(Error::invalid("comment", "the comment is longer than 300 characters"));
            }
        }
        if let Some(y) = self.radec_epoch_year {
            if !y.is_finite() || !(0.0..100_000.0).contains(&y) {
                return Err(Error::invalid(
                    "radec_epoch_year",
                    format!("{y} is not valid: use a year in [0, 100000), e.g. 2000.0"),
                ));
            }
        }
        for (field, v) in [("propermotion_ra", self.propermotion_ra), ("propermotion_dec", self.propermotion_dec)] {
            if let Some(v) = v {
                if !v.is_finite() {
                    return Err(Error::invalid(field, format!("{v} is not valid: use a finite number of mas/yr")));
                }
            }
        }
        Ok(())
    }

    /// The form fields after the target, in the order the server documents them.
    pub(crate) fn form_fields(&self) -> Vec<(&'static str, String)> {
        let mut f = Vec::new();
        match self.mjd_min {
            MjdMin::ServerDefault => {}
            MjdMin::Unbounded => f.push(("mjd_min", String::new())),
            MjdMin::Mjd(m) => f.push(("mjd_min", m.to_string())),
        }
        if let Some(m) = self.mjd_max {
            f.push(("mjd_max", m.to_string()));
        }
        f.push(("use_reduced", self.use_reduced.to_string()));
        f.push(("send_email", self.send_email.to_string()));
        if let Some(c) = &self.comment {
            f.push(("comment", c.clone()));
        }
        if let Some(y) = self.radec_epoch_year {
            // A Decimal(7, 1) on the server: more decimals are refused.
            f.push(("radec_epoch_year", format!("{y:.1}")));
        }
        if let Some(v) = self.propermotion_ra {
            f.push(("propermotion_ra", v.to_string()));
        }
        if let Some(v) = self.propermotion_dec {
            f.push(("propermotion_dec", v.to_string()));
        }
        f
    }
}

/// One forced-photometry request: a target and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    /// What to measure.
    pub target: Target,
    /// How.
    pub options: TaskOptions,
}

impl TaskRequest {
    /// A request with default options (see [`TaskOptions`]).
    pub fn new(target: impl Into<Target>) -> Self {
        TaskRequest { target: target.into(), options: TaskOptions::default() }
    }
    /// A request for a position in decimal degrees (validated).
    pub fn position(ra_deg: f64, dec_deg: f64) -> Result<Self> {
        Ok(Self::new(Target::position(ra_deg, dec_deg)?))
    }
    /// Replaces the options.
    pub fn options(mut self, options: TaskOptions) -> Self {
        self.options = options;
        self
    }
    /// From this MJD.
    pub fn mjd_min(mut self, mjd: f64) -> Self {
        self.options = self.options.mjd_min(mjd);
        self
    }
    /// Up to this MJD.
    pub fn mjd_max(mut self, mjd: f64) -> Self {
        self.options = self.options.mjd_max(mjd);
        self
    }
    /// Reduced (`true`) or difference (`false`) images.
    pub fn use_reduced(mut self, yes: bool) -> Self {
        self.options = self.options.use_reduced(yes);
        self
    }
    /// A comment.
    pub fn comment(mut self, c: impl Into<String>) -> Self {
        self.options = self.options.comment(c);
        self
    }
    /// Checks target and options before any request.
    pub fn validate(&self) -> Result<()> {
        if let Target::MpcName(n) = &self.target {
            Target::mpc(n.clone())?;
        }
        self.options.validate()
    }

    /// The form of a single-task `POST /queue/`.
    pub(crate) fn form_fields(&self) -> Vec<(&'static str, String)> {
        let mut f = Vec::new();
        match &self.target {
            Target::Position(p) => {
                f.push(("ra", p.ra().to_string()));
                f.push(("dec", p.dec().to_string()));
            }
            Target::MpcName(n) => f.push(("mpc_name", n.clone())),
        }
        f.extend(self.options.form_fields());
        f
    }
}

/// Where a task is in its life.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    /// Waiting; `position` 0 is next (not monotonic: the queue is round-robin across users).
    Queued {
        /// The queue position, when the server gives one.
        position: Option<i64>,
    },
    /// Started at this time (overwritten when the server retries a run).
    Running {
        /// When the current attempt started.
        started: DateTime<Utc>,
    },
    /// Finished at this time; see [`Task::error_msg`] and [`Task::result_url`].
    Finished {
        /// When it finished.
        finished: DateTime<Utc>,
    },
}

fn de_opt_decimal<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        S(String),
        F(f64),
    }
    match Option::<Num>::deserialize(d)? {
        None => Ok(None),
        Some(Num::F(f)) => Ok(Some(f)),
        Some(Num::S(s)) if s.trim().is_empty() => Ok(None),
        Some(Num::S(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a decimal number"))),
    }
}

/// A task as the server serialises it (`GET /queue/<id>/`, the items of `GET /queue/`, the
/// 201 reply of `POST /queue/`). Fields the server adds later are kept in [`Task::extra`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The task's absolute URL (`https://fallingstar-data.com/forcedphot/queue/<id>/`).
    #[serde(default)]
    pub url: String,
    /// The task id.
    pub id: u64,
    /// The owner's user id.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// The owner's user name.
    #[serde(default)]
    pub username: Option<String>,
    /// When it was submitted.
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
    /// The MPC designation, for solar-system targets.
    #[serde(default)]
    pub mpc_name: Option<String>,
    /// RA in degrees.
    #[serde(default)]
    pub ra: Option<f64>,
    /// Dec in degrees.
    #[serde(default)]
    pub dec: Option<f64>,
    /// The lower MJD bound (null: none).
    #[serde(default)]
    pub mjd_min: Option<f64>,
    /// The upper MJD bound (null: none).
    #[serde(default)]
    pub mjd_max: Option<f64>,
    /// The coordinates' epoch year (the server sends a decimal string such as `"2000.0"`).
    #[serde(default, deserialize_with = "de_opt_decimal")]
    pub radec_epoch_year: Option<f64>,
    /// Proper motion in RA, mas/yr.
    #[serde(default)]
    pub propermotion_ra: Option<f64>,
    /// Proper motion in Dec, mas/yr.
    #[serde(default)]
    pub propermotion_dec: Option<f64>,
    /// Reduced (`true`) or difference (`false`) images.
    #[serde(default)]
    pub use_reduced: bool,
    /// Whether the task has finished.
    #[serde(default)]
    pub finished: bool,
    /// The result text file: set only when finished without error and not yet expired.
    #[serde(default)]
    pub result_url: Option<String>,
    /// The comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Whether an e-mail is sent on completion.
    #[serde(default)]
    pub send_email: Option<bool>,
    /// A completion webhook (newer servers).
    #[serde(default)]
    pub callback_url: Option<String>,
    /// When the current run attempt started.
    #[serde(default)]
    pub starttimestamp: Option<DateTime<Utc>>,
    /// When it finished (the completion test).
    #[serde(default)]
    pub finishtimestamp: Option<DateTime<Utc>>,
    /// Why a finished task has no result (`"No data returned"`, ...).
    #[serde(default)]
    pub error_msg: Option<String>,
    /// A preview image.
    #[serde(default)]
    pub previewimage_url: Option<String>,
    /// The parent task (image requests).
    #[serde(default)]
    pub parent_task_id: Option<u64>,
    /// The parent task's URL.
    #[serde(default)]
    pub parent_task_url: Option<String>,
    /// `"FP"`, `"IMGZIP"` or `"SSOSTACK"`.
    #[serde(default)]
    pub request_type: Option<String>,
    /// A PDF plot of the result.
    #[serde(default)]
    pub pdfplot_url: Option<String>,
    /// The queue position (0 = next; null once finished).
    #[serde(default)]
    pub queuepos: Option<i64>,
    /// The image-request child task.
    #[serde(default)]
    pub imagerequest_task_id: Option<u64>,
    /// The image-request child task's URL.
    #[serde(default)]
    pub imagerequest_url: Option<String>,
    /// Whether the image request finished.
    #[serde(default)]
    pub imagerequest_finished: Option<bool>,
    /// The stacked image result.
    #[serde(default)]
    pub result_imagestack_url: Option<String>,
    /// The image zip result.
    #[serde(default)]
    pub result_imagezip_url: Option<String>,
    /// How many of the user's tasks were queued when this one was submitted (newer servers).
    #[serde(default)]
    pub userqueuedtasks_on_submit: Option<i64>,
    /// Seconds spent queued (newer servers).
    #[serde(default)]
    pub waittime: Option<f64>,
    /// Seconds spent running (newer servers).
    #[serde(default)]
    pub runtime: Option<f64>,
    /// Run attempts so far (newer servers).
    #[serde(default)]
    pub attempt_count: Option<u32>,
    /// Every other field the server sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Task {
    /// Where the task is in its life: finished when `finishtimestamp` is set, running when
    /// `starttimestamp` is, queued otherwise.
    pub fn state(&self) -> TaskState {
        if let Some(finished) = self.finishtimestamp {
            TaskState::Finished { finished }
        } else if let Some(started) = self.starttimestamp {
            TaskState::Running { started }
        } else {
            TaskState::Queued { position: self.queuepos }
        }
    }
    /// Whether the task has finished (`finishtimestamp` set).
    pub fn is_finished(&self) -> bool {
        self.finishtimestamp.is_some()
    }
    /// The server's error message, if non-empty.
    pub fn error(&self) -> Option<&str> {
        self.error_msg.as_deref().map(str::trim).filter(|m| !m.is_empty())
    }
    /// The path of this task relative to the API base (`queue/<id>/`).
    pub fn path(&self) -> String {
        task_path(self.id)
    }
}

pub(crate) fn task_path(id: u64) -> String {
    format!("queue/{id}/")
}

/// One page of `GET /queue/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskPage {
    /// The next page's URL (with an opaque `cursor`), or null.
    #[serde(default)]
    pub next: Option<String>,
    /// The previous page's URL, or null.
    #[serde(default)]
    pub previous: Option<String>,
    /// The position of the first task of this page (opaque).
    #[serde(default)]
    pub pagefirsttaskposition: Option<i64>,
    /// How many tasks the listing has in all.
    #[serde(default)]
    pub taskcount: Option<u64>,
    /// The tasks of this page.
    pub results: Vec<Task>,
    /// Every other field the server sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_validate() {
        assert_eq!(Target::parse("mpc Makemake").unwrap(), Target::MpcName("Makemake".into()));
        assert_eq!(Target::parse("MPC_14916").unwrap(), Target::MpcName("14916".into()));
        let t = Target::parse("10:00:24.0 +02:12:00").unwrap();
        assert!(matches!(t, Target::Position(p) if (p.ra() - 150.1).abs() < 1e-9));
        assert!(Target::parse("mpc  ").unwrap_err().is_invalid_input());
        assert!(Target::parse("abc€def").unwrap_err().is_invalid_input(), "no panic on a non-ASCII prefix");
        assert!(Target::mpc("a;b").unwrap_err().to_string().contains("semicolons"));
        assert!(Target::position(10.0, 91.0).is_err());
        assert!(Target::position(f64::NAN, 1.0).is_err());
        let e = Target::parse_list(["1 2", "3 95"]).unwrap_err().to_string();
        assert!(e.contains("targets[2]"), "{e}");
        assert_eq!(Target::position(110.0, -11.5).unwrap().radeclist_line(), "110 -11.5");
    }

    #[test]
    fn options_validate() {
        assert!(TaskOptions::new().mjd_min(60000.0).mjd_max(60010.0).validate().is_ok());
        let e = TaskOptions::new().mjd_min(60000.0).mjd_max(59000.0).validate().unwrap_err().to_string();
        assert!(e.contains("must be greater than mjd_min"), "{e}");
        assert!(TaskOptions::new().mjd_min(f64::INFINITY).validate().is_err());
        assert!(TaskOptions::new().mjd_max(0.0).validate().is_err());
        assert!(TaskOptions::new().radec_epoch_year(f64::NAN).validate().is_err());
        assert!(TaskOptions::new().proper_motion(1.0, f64::NAN).validate().is_err());
        assert!(TaskOptions::new().comment("x".repeat(301)).validate().is_err());
    }

    #[test]
    fn form_fields_in_order() {
        let r = TaskRequest::position(44.0, 22.5)
            .unwrap()
            .mjd_min(59248.0)
            .options(TaskOptions::new().mjd_min(59248.0).radec_epoch_year(2000.0).comment("sn"));
        let f: Vec<(&str, String)> = r.form_fields();
        let keys: Vec<&str> = f.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["ra", "dec", "mjd_min", "use_reduced", "send_email", "comment", "radec_epoch_year"]);
        assert_eq!(f[0].1, "44");
        assert_eq!(f[2].1, "59248");
        assert_eq!(f[6].1, "2000.0");
        let u = TaskOptions::new().full_history().form_fields();
        assert_eq!(u[0], ("mjd_min", String::new()));
    }
}
