//! Errors of the forced-photometry client: the core [`broker_core::Error`] plus the kinds this
//! server adds (validation messages, a full queue, a task that is gone, a malformed result
//! file, cancellation and deadlines).

use std::time::Duration;

use broker_core::error::collect_strings;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with the forced-photometry server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the shared HTTP layer: invalid input (before any request), auth,
    /// throttling beyond the configured wait, transport, timeouts, decoding, other statuses.
    #[error(transparent)]
    Core(#[from] broker_core::Error),

    /// The server rejected the request (HTTP 400) with these messages, collected from every
    /// list, string and nested per-item map of the body (`"dec: ra was set but dec is
    /// missing."`, `"radeclist: Error on line 3: MPC name is blank"`).
    #[error("the server rejected the request ({url}): {}", messages.join("; "))]
    Rejected {
        /// The HTTP status (400).
        status: u16,
        /// Every message in the body, prefixed by its field name.
        messages: Vec<String>,
        /// The redacted URL of the request.
        url: String,
    },

    /// The per-user queue limit was reached (`ERROR: You have too many queued tasks (N
    /// queued + k requested > 500).`, or the older `(N >= 500)` form). Wait for queued tasks
    /// to start or delete some, then submit again.
    #[error("the forced-photometry queue is full: {message}")]
    QueueFull {
        /// Tasks of yours already counted, when the server said.
        queued: Option<u64>,
        /// Tasks this request asked for, when the server said.
        requested: Option<u64>,
        /// The limit, when the server said.
        limit: Option<u64>,
        /// The server's message.
        message: String,
    },

    /// The task (or its result file) does not exist any more: deleted, archived, or removed by
    /// the server's retention sweep (HTTP 404 as JSON, plain text or an HTML page).
    #[error("not found (deleted or expired): {url}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    TaskGone {
        /// The redacted URL that answered 404.
        url: String,
        /// What the server said, if anything.
        message: Option<String>,
    },

    /// A result file could not be parsed.
    #[error("result file, line {line}: {message}")]
    Parse {
        /// The 1-based line number (0 when the file has no lines at all).
        line: usize,
        /// What was wrong.
        message: String,
    },

    /// The caller cancelled the work (through a [`CancellationToken`](tokio_util::sync::CancellationToken)).
    #[error("cancelled{}", task_note(*task_id, *deleted))]
    Cancelled {
        /// The task that was in flight, if one was submitted.
        task_id: Option<u64>,
        /// Whether that task was deleted from the server on the way out.
        deleted: bool,
    },

    /// The overall deadline passed before the task finished.
    #[error("deadline of {:.0} s exceeded{}", deadline.as_secs_f64(), task_note(*task_id, *deleted))]
    DeadlineExceeded {
        /// The deadline that was set.
        deadline: Duration,
        /// The task that was in flight, if one was submitted.
        task_id: Option<u64>,
        /// Whether that task was deleted from the server on the way out.
        deleted: bool,
    },

    /// The task finished but its result could not be fetched or parsed, so the task was kept
    /// on the server (not deleted): resume with
    /// [`Client::finish`](crate::Client::finish) once the cause is fixed.
    #[error("task {task_id} was kept on the server because its result could not be read: {source}")]
    TaskKept {
        /// The task's id.
        task_id: u64,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },
}

fn task_note(task_id: Option<u64>, deleted: bool) -> String {
    match (task_id, deleted) {
        (Some(id), true) => format!(" (task {id} was deleted)"),
        (Some(id), false) => format!(" (task {id} is still on the server)"),
        (None, _) => String::new(),
    }
}

impl Error {
    /// Shorthand for the core [`broker_core::Error::InvalidInput`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Core(broker_core::Error::invalid(field, message))
    }

    /// Whether trying again later could succeed (throttling, server and network trouble, a
    /// full queue).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Core(e) => e.is_retryable(),
            Error::QueueFull { .. } => true,
            Error::TaskKept { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// The HTTP status behind the error, when there is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Core(e) => e.status(),
            Error::Rejected { status, .. } => Some(*status),
            Error::QueueFull { .. } => Some(400),
            Error::TaskGone { .. } => Some(404),
            Error::TaskKept { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Whether this is invalid input rejected before any request.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::Core(broker_core::Error::InvalidInput { .. }))
    }
}

/// Maps an HTTP-layer error to this crate's kinds: 400 to [`Error::Rejected`] or
/// [`Error::QueueFull`], 404 to [`Error::TaskGone`], 403 to an auth error.
pub(crate) fn classify(err: broker_core::Error) -> Error {
    let broker_core::Error::Http(h) = err else {
        return Error::Core(err);
    };
    match h.status {
        400 => {
            let messages = match h.json() {
                Some(v) => {
                    let mut out = Vec::new();
                    collect_field_messages(&v, &mut out);
                    out
                }
                None => Vec::new(),
            };
            let messages = if messages.is_empty() {
                vec![h.message.clone().unwrap_or_else(|| h.excerpt.clone())]
            } else {
                messages
            };
            if let Some(m) = messages.iter().find(|m| m.to_ascii_lowercase().contains("too many queued tasks")) {
                let (queued, requested, limit) = queue_numbers(m);
                let message = m.strip_prefix("non_field_errors: ").unwrap_or(m).to_string();
                return Error::QueueFull { queued, requested, limit, message };
            }
            Error::Rejected { status: 400, messages, url: h.url.clone() }
        }
        404 => Error::TaskGone { url: h.url.clone(), message: h.message.clone() },
        403 => Error::Core(broker_core::Error::Auth {
            status: Some(403),
            message: h.message.clone().unwrap_or_else(|| "permission denied".into()),
        }),
        _ => Error::Core(broker_core::Error::Http(h)),
    }
}

/// Collects every string of a DRF error body; `non_field_errors` and `detail` are not used
/// as prefixes (they name no field).
fn collect_field_messages(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, inner) in map {
                let key = (k != "non_field_errors" && k != "detail").then_some(k.as_str());
                collect_strings(inner, key, out);
            }
        }
        other => collect_strings(other, None, out),
    }
}

/// Reads the numbers of `(N queued + k requested > 500)` or `(N >= 500)`.
fn queue_numbers(message: &str) -> (Option<u64>, Option<u64>, Option<u64>) {
    let inside = message
        .find('(')
        .and_then(|a| message[a + 1..].find(')').map(|b| &message[a + 1..a + 1 + b]))
        .unwrap_or_default();
    let nums: Vec<u64> =
        inside.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect();
    match nums.as_slice() {
        [q, r, l] => (Some(*q), Some(*r), Some(*l)),
        [q, l] => (Some(*q), None, Some(*l)),
        _ => (None, None, None),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn queue_numbers_both_forms() {
        assert_eq!(
            queue_numbers("ERROR: You have too many queued tasks (498 queued + 100 requested > 500)."),
            (Some(498), Some(100), Some(500))
        );
        assert_eq!(queue_numbers("ERROR: You have too many queued tasks (500 >= 500)."), (Some(500), None, Some(500)));
        assert_eq!(queue_numbers("too many queued tasks"), (None, None, None));
    }

    #[test]
    fn messages_from_lists_strings_and_items() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"mjd_max":["mjd_max must be greater than mjd_min."],"radeclist":"Error on line 2: MPC name is blank","non_field_errors":["Either an mpc_name or (ra, dec) must be specified."]}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        collect_field_messages(&v, &mut out);
        assert_eq!(
            out,
            vec![
                "mjd_max: mjd_max must be greater than mjd_min.",
                "radeclist: Error on line 2: MPC name is blank",
                "Either an mpc_name or (ra, dec) must be specified."
            ]
        );
        let v: serde_json::Value = serde_json::from_str(r#"[{}, {"dec": ["bad dec"]}]"#).unwrap();
        let mut out = Vec::new();
        collect_field_messages(&v, &mut out);
        assert_eq!(out, vec!["dec: bad dec"]);
    }
}
