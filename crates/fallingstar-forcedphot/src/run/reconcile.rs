//! Matching a batch submit to its targets: the run tag in each task's comment, which
//! failures leave open whether the server acted, rejected lines, and pairing the tasks of a
//! reply with the batch's targets.

use super::*;

/// The longest comment of yours [`Client::run_many`] accepts: the server keeps 300
/// characters, and the run tag takes the rest.
pub const MAX_TAGGED_COMMENT: usize = 300 - RUN_TAG_LEN - 1;
/// `[astrobrokers-run ` + 16 hex digits + `]`.
const RUN_TAG_LEN: usize = 18 + 16 + 1;

/// A tag that tells this run's tasks from any other's: 64 random bits (std's per-process
/// random hash keys, mixed with the time and a counter).
pub(super) fn run_tag() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.write_u32(std::process::id());
    format!("[astrobrokers-run {:016x}]", h.finish())
}

/// The options with the run tag appended to the comment.
pub(super) fn tagged(options: &TaskOptions, tag: &str) -> Result<TaskOptions> {
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
pub(super) fn uncertain(e: &Error) -> bool {
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
pub(super) fn rejected_lines(messages: &[String], n: usize) -> Vec<(usize, String)> {
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
pub(super) fn match_tasks(batch: &[usize], targets: &[Target], tasks: Vec<Task>) -> (Vec<Option<Task>>, Vec<Task>) {
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
