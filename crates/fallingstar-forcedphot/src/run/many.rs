//! The job for many targets ([`Client::run_many`]): batched submits within the in-flight
//! limit, following the tasks through the task list, downloads, and stopping cleanly.

use super::*;

impl Client {
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
