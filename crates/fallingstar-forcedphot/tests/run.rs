//! Whole-job scenarios: throttled submits, queued -> running -> finished, no data, expiry,
//! 404s, deadlines, cancellation, and a 250-target bulk run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use broker_core::{Clock, ManualClock};
use common::*;
use fallingstar_forcedphot::{
    CancellationToken, Cleanup, Error, Outcome, Progress, RunOptions, Stage, Target, TaskOptions, TaskRequest,
};
use httpmock::prelude::*;
use serde_json::json;

fn request() -> TaskRequest {
    TaskRequest::position(29.86137, 30.72672).unwrap().mjd_min(59100.0)
}

async fn submit_mock(server: &MockServer) -> httpmock::Mock<'_> {
    let base = server.base_url();
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/queue/")
                .header("authorization", format!("Token {TOKEN}"))
                .body("ra=29.86137&dec=30.72672&mjd_min=59100&use_reduced=false&send_email=false");
            then.status(201).json_body(task_json(&base, 1088, 29.86137, 30.72672));
        })
        .await
}

fn recorder() -> (Arc<Mutex<Vec<Progress>>>, RunOptions) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    (seen, RunOptions::new().progress(move |p| s2.lock().unwrap().push(p.clone())))
}

#[tokio::test]
async fn queued_running_finished_with_etag_then_download_and_delete() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    let clock = PhaseClock::default();
    let submit = submit_mock(&server).await;
    let t = task_json(&base, 1088, 29.86137, 30.72672);
    let p0 = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/").header_missing("if-none-match").is_true(clock.phase_is(0));
            then.status(200).header("ETag", "\"e1\"").json_body(queued(t.clone(), 3));
        })
        .await;
    let p1 = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/").header("if-none-match", "\"e1\"").is_true(clock.phase_is(1));
            then.status(304);
        })
        .await;
    let p2 = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/").is_true(clock.phase_is(2));
            then.status(200).header("ETag", "\"e2\"").json_body(running(t.clone()));
        })
        .await;
    let p3 = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/").header("if-none-match", "\"e2\"").is_true(clock.phase_at_least(3));
            then.status(200).json_body(finished(t.clone(), Some(format!("{base}/static/results/job01088.txt")), None));
        })
        .await;
    let file = server
        .mock_async(|when, then| {
            when.method(GET).path("/static/results/job01088.txt");
            then.status(200).body(SAMPLE);
        })
        .await;
    let del = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/queue/1088/").header("authorization", format!("Token {TOKEN}"));
            then.status(204);
        })
        .await;
    let client = client(&server, Arc::new(clock.clone()));
    let (seen, opts) = recorder();
    let run = client.run(&request(), &opts).await.unwrap();

    assert_eq!(clock.sleeps(), secs(&[4, 4, 2]), "4 s while queued, 2 s while running");
    let table = run.outcome.data().unwrap();
    assert_eq!(table.len(), 3);
    assert_eq!(run.cleanup, Cleanup::Deleted);
    assert_eq!(run.task.error_msg, None);
    let stages: Vec<Stage> = seen.lock().unwrap().iter().map(|p| p.stage.clone()).collect();
    assert_eq!(
        stages,
        vec![
            Stage::Submitted,
            Stage::Queued { position: Some(3) },
            Stage::Running,
            Stage::Finished,
            Stage::Downloaded { rows: 3 },
            Stage::Deleted
        ]
    );
    for m in [&submit, &p0, &p1, &p2, &p3, &file, &del] {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn throttled_submit_waits_retry_after_then_body_hint_then_floor() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    let clock = PhaseClock::default();
    let a = server
        .mock_async(|when, then| {
            when.method(POST).path("/queue/").is_true(clock.phase_is(0));
            then.status(429)
                .header("Retry-After", "37")
                .json_body(json!({"detail": "Request was throttled. Expected available in 37 seconds."}));
        })
        .await;
    let b = server
        .mock_async(|when, then| {
            when.method(POST).path("/queue/").is_true(clock.phase_is(1));
            then.status(429).json_body(json!({"detail": "Request was throttled. Expected available in 1 second."}));
        })
        .await;
    let c = server
        .mock_async(|when, then| {
            when.method(POST).path("/queue/").is_true(clock.phase_is(2));
            then.status(429).json_body(json!({"detail": "Request was throttled."}));
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/queue/")
                .body("ra=29.86137&dec=30.72672&mjd_min=59100&use_reduced=false&send_email=false")
                .is_true(clock.phase_is(3));
            then.status(201).json_body(task_json(&base, 1088, 29.86137, 30.72672));
        })
        .await;
    let client = client(&server, Arc::new(clock.clone()));
    let task = client.submit(&request()).await.unwrap();
    assert_eq!(task.id, 1088);
    assert_eq!(clock.sleeps(), secs(&[37, 1, 10]));
    for m in [&a, &b, &c, &ok] {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn finished_with_no_data_is_a_normal_outcome_and_is_deleted() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    submit_mock(&server).await;
    let t = task_json(&base, 1088, 29.86137, 30.72672);
    server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/");
            then.status(200).json_body(finished(t.clone(), None, Some("No data returned")));
        })
        .await;
    let files = server
        .mock_async(|when, then| {
            when.method(GET).path_prefix("/static/");
            then.status(200).body(HEADER_ONLY);
        })
        .await;
    let del = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/queue/1088/");
            then.status(204);
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let run = client.run(&request(), &RunOptions::new()).await.unwrap();
    assert_eq!(run.outcome, Outcome::NoData { message: "No data returned".into() });
    assert_eq!(run.cleanup, Cleanup::Deleted);
    files.assert_calls_async(0).await;
    del.assert_calls_async(1).await;
}

#[tokio::test]
async fn other_error_msg_is_failed_with_the_reason() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    submit_mock(&server).await;
    let t = task_json(&base, 1088, 29.86137, 30.72672);
    server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/");
            then.status(200).json_body(finished(t.clone(), None, Some("Could not parse the result file")));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/queue/1088/");
            then.status(204);
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let run = client.run(&request(), &RunOptions::new()).await.unwrap();
    assert_eq!(run.outcome, Outcome::Failed { reason: "Could not parse the result file".into() });
}

#[tokio::test]
async fn expired_results_null_url_or_404_file() {
    for with_url in [false, true] {
        let server = MockServer::start_async().await;
        let base = server.base_url();
        submit_mock(&server).await;
        let t = task_json(&base, 1088, 29.86137, 30.72672);
        let url = with_url.then(|| format!("{base}/static/results/job01088.txt"));
        server
            .mock_async(|when, then| {
                when.method(GET).path("/queue/1088/");
                then.status(200).json_body(finished(t.clone(), url.clone(), None));
            })
            .await;
        let file = server
            .mock_async(|when, then| {
                when.method(GET).path("/static/results/job01088.txt");
                then.status(404)
                    .header("content-type", "text/html")
                    .body("<html><head><title>404 Not Found</title></head><body>Not Found</body></html>");
            })
            .await;
        let del = server
            .mock_async(|when, then| {
                when.method(DELETE).path("/queue/1088/");
                then.status(404).header("content-type", "text/html").body("Page not found");
            })
            .await;
        let client = client(&server, Arc::new(ManualClock::new()));
        let run = client.run(&request(), &RunOptions::new()).await.unwrap();
        assert_eq!(run.outcome, Outcome::Expired, "with_url={with_url}");
        assert_eq!(run.cleanup, Cleanup::AlreadyGone);
        file.assert_calls_async(usize::from(with_url)).await;
        del.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn task_gone_while_polling_is_an_error() {
    let server = MockServer::start_async().await;
    submit_mock(&server).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/");
            then.status(404).header("content-type", "text/html; charset=utf-8").body("Page not found");
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let e = client.run(&request(), &RunOptions::new()).await.unwrap_err();
    assert!(matches!(&e, Error::TaskGone { url, .. } if url.ends_with("/queue/1088/")), "{e:?}");
}

#[tokio::test]
async fn deadline_deletes_the_abandoned_task() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    submit_mock(&server).await;
    let t = task_json(&base, 1088, 29.86137, 30.72672);
    let poll = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/");
            then.status(200).json_body(queued(t.clone(), 7));
        })
        .await;
    let del = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/queue/1088/");
            then.status(204);
        })
        .await;
    let clock = ManualClock::new();
    let client = client(&server, Arc::new(clock.clone()));
    let e = client.run(&request(), &RunOptions::new().deadline(Duration::from_secs(10))).await.unwrap_err();
    assert!(
        matches!(e, Error::DeadlineExceeded { task_id: Some(1088), deleted: true, deadline } if deadline == Duration::from_secs(10)),
        "{e:?}"
    );
    assert_eq!(clock.sleeps(), secs(&[4, 4, 2]), "the last wait is cut to the deadline");
    poll.assert_calls_async(3).await;
    del.assert_calls_async(1).await;
}

#[tokio::test]
async fn cancellation_token_stops_and_deletes_or_keeps() {
    for keep in [false, true] {
        let server = MockServer::start_async().await;
        let base = server.base_url();
        submit_mock(&server).await;
        let t = task_json(&base, 1088, 29.86137, 30.72672);
        server
            .mock_async(|when, then| {
                when.method(GET).path("/queue/1088/");
                then.status(200).json_body(queued(t.clone(), 2));
            })
            .await;
        let del = server
            .mock_async(|when, then| {
                when.method(DELETE).path("/queue/1088/");
                then.status(204);
            })
            .await;
        let client = client(&server, Arc::new(ManualClock::new()));
        let token = CancellationToken::new();
        let t2 = token.clone();
        let mut opts = RunOptions::new().cancel(token).progress(move |p| {
            if matches!(p.stage, Stage::Queued { .. }) {
                t2.cancel();
            }
        });
        opts.keep_abandoned = keep;
        let e = client.run(&request(), &opts).await.unwrap_err();
        assert!(matches!(e, Error::Cancelled { task_id: Some(1088), deleted } if deleted != keep), "{e:?}");
        del.assert_calls_async(usize::from(!keep)).await;
    }
}

#[tokio::test]
async fn keep_tasks_and_unparseable_results_are_not_deleted() {
    for (body, keep) in [(SAMPLE, true), ("###MJD m dm uJy duJy F\n59000.1 x 0 1 1 o\n", false)] {
        let server = MockServer::start_async().await;
        let base = server.base_url();
        submit_mock(&server).await;
        let t = task_json(&base, 1088, 29.86137, 30.72672);
        server
            .mock_async(|when, then| {
                when.method(GET).path("/queue/1088/");
                then.status(200).json_body(finished(
                    t.clone(),
                    Some(format!("{base}/static/results/job01088.txt")),
                    None,
                ));
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET).path("/static/results/job01088.txt");
                then.status(200).body(body);
            })
            .await;
        let del = server
            .mock_async(|when, then| {
                when.method(DELETE).path("/queue/1088/");
                then.status(204);
            })
            .await;
        let client = client(&server, Arc::new(ManualClock::new()));
        let r = client.run(&request(), &RunOptions::new().keep_tasks(keep)).await;
        if keep {
            assert_eq!(r.unwrap().cleanup, Cleanup::Kept);
        } else {
            let e = r.unwrap_err();
            match &e {
                Error::TaskKept { task_id: 1088, source } => {
                    assert!(matches!(**source, Error::Parse { line: 2, .. }), "{source:?}")
                }
                other => panic!("{other:?}"),
            }
        }
        del.assert_calls_async(0).await;
    }
}

fn windows_ok(times: &[Duration], max: usize, per: Duration) -> bool {
    let mut t = times.to_vec();
    t.sort();
    t.windows(max + 1).all(|w| w[max] - w[0] >= per)
}

#[tokio::test]
async fn run_many_250_targets_in_order_with_one_failure_and_one_no_data() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let fake = Fake::start(&server, clock.clone(), 500).await;
    let targets: Vec<Target> =
        (0..250).map(|i| Target::position(10.0 + i as f64 * 0.25, -20.0 + i as f64 * 0.01).unwrap()).collect();
    {
        let mut s = fake.state.lock().unwrap();
        s.errors.insert(targets[137].radeclist_line(), "Could not parse the result file".into());
        s.errors.insert(targets[42].radeclist_line(), "No data returned".into());
        let mut other = task_json(&fake.base, 99, 1.0, 1.0);
        other["comment"] = json!("someone else's");
        s.foreign.push(other);
    }
    let client = client(&server, Arc::new(clock.clone()));
    let (seen, mut opts) = recorder();
    // One download at a time: the virtual clock adds up concurrent sleeps, which would blur
    // the write timeline this test checks.
    opts.download_concurrency = 1;
    let out = client.run_many(targets.clone(), &TaskOptions::new().mjd_min(60000.0), &opts).await.unwrap();

    assert_eq!(out.len(), 250);
    for (i, o) in out.iter().enumerate() {
        assert_eq!(o.index, i);
        assert_eq!(o.target, targets[i]);
        assert_eq!(o.cleanup, Cleanup::Deleted, "target {i}");
        match i {
            42 => assert_eq!(o.outcome, Outcome::NoData { message: "No data returned".into() }),
            137 => assert_eq!(o.outcome, Outcome::Failed { reason: "Could not parse the result file".into() }),
            _ => assert_eq!(o.outcome.data().map(|t| t.len()), Some(3), "target {i}: {:?}", o.outcome),
        }
    }
    let s = fake.state.lock().unwrap();
    assert_eq!(s.posts, vec![100, 100, 50], "batches of 100, one POST each");
    assert_eq!(s.deletes.len(), 250);
    assert!(s.deletes.values().all(|n| *n == 1), "each task deleted exactly once");
    assert!(!s.deletes.contains_key(&99), "someone else's task is left alone");
    assert_eq!(s.downloads.len(), 248);
    assert!(s.downloads.values().all(|n| *n == 1), "each result downloaded exactly once");
    assert_eq!(s.writes_at.len(), 253);
    assert!(windows_ok(&s.writes_at, 60, Duration::from_secs(60)), "at most 60 writes in any minute");
    assert!(clock.now() >= Duration::from_secs(240), "253 writes take over 4 minutes: {:?}", clock.now());
    let task_ids: std::collections::BTreeSet<u64> = out.iter().filter_map(|o| o.task_id).collect();
    assert_eq!(task_ids.len(), 250);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.iter().filter(|p| p.stage == Stage::Submitted).count(), 250);
    assert_eq!(seen.iter().filter(|p| p.stage == Stage::Deleted).count(), 250);
    assert_eq!(seen.iter().filter(|p| p.stage == Stage::Running).count(), 250);
}

#[tokio::test]
async fn run_many_waits_when_the_queue_is_full() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let fake = Fake::start(&server, clock.clone(), 150).await;
    let targets: Vec<Target> = (0..250).map(|i| Target::position(i as f64, 5.0).unwrap()).collect();
    let client = client(&server, Arc::new(clock.clone()));
    let out = client.run_many(targets, &TaskOptions::new().mjd_min(60000.0), &RunOptions::new()).await.unwrap();
    assert_eq!(out.len(), 250);
    assert!(out.iter().all(|o| o.outcome.data().is_some()), "{:?}", out.iter().find(|o| o.outcome.data().is_none()));
    let s = fake.state.lock().unwrap();
    assert!(s.queue_full_answers >= 1);
    assert_eq!(s.posts.iter().sum::<usize>(), 250);
    assert!(s.deletes.values().all(|n| *n == 1) && s.deletes.len() == 250);
}

#[tokio::test]
async fn run_many_cancelled_reports_every_target() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let fake = Fake::start(&server, clock.clone(), 500).await;
    let targets: Vec<Target> = (0..120).map(|i| Target::position(i as f64, 5.0).unwrap()).collect();
    let client = client(&server, Arc::new(clock.clone()));
    let token = CancellationToken::new();
    let t2 = token.clone();
    let opts = RunOptions::new().max_in_flight(100).cancel(token).progress(move |p| {
        if p.stage == Stage::Submitted {
            t2.cancel();
        }
    });
    let out = client.run_many(targets, &TaskOptions::new().mjd_min(60000.0), &opts).await.unwrap();
    assert_eq!(out.len(), 120);
    for o in &out[..100] {
        assert!(o.task_id.is_some());
        assert_eq!(o.cleanup, Cleanup::Deleted);
        assert!(matches!(&o.outcome, Outcome::Failed { reason } if reason.starts_with("cancelled")), "{o:?}");
    }
    for o in &out[100..] {
        assert_eq!((o.task_id, &o.cleanup), (None, &Cleanup::NotSubmitted));
        assert!(matches!(o.error.as_deref(), Some(Error::Cancelled { task_id: None, .. })));
    }
    let s = fake.state.lock().unwrap();
    assert_eq!(s.posts, vec![100]);
    assert_eq!(s.deletes.len(), 100);
    assert!(s.tasks.is_empty(), "nothing left on the server");
}

#[tokio::test]
async fn dropping_the_future_stops_all_requests() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    submit_mock(&server).await;
    let t = task_json(&base, 1088, 29.86137, 30.72672);
    let poll = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/");
            then.status(200).json_body(queued(t.clone(), 5));
        })
        .await;
    // Every sleep of the run waits on this clock until the test releases it. The future is
    // dropped only while it waits there: then every request it made has had its whole reply
    // (and so has been counted by the mock), and none is in flight. Dropping it in the middle
    // of a poll instead would leave that poll to be counted after the drop, whatever the run
    // does, and the count would depend on timing.
    let (clock, mut entered) = GateClock::new();
    let client = client(&server, clock.clone());
    let (req, opts) = (request(), RunOptions::new());
    let mut fut = Box::pin(client.run(&req, &opts));
    let mut sleeps = 0;
    loop {
        tokio::select! {
            r = &mut fut => panic!("the run ended while the task was queued: {r:?}"),
            d = entered.recv() => assert!(d.is_some(), "the clock's channel closed"),
        }
        sleeps += 1;
        if poll.calls_async().await >= 1 {
            break;
        }
        assert!(sleeps < 100, "the task was never polled");
        clock.release();
    }
    let polled = poll.calls_async().await;
    drop(fut);
    drop(client);
    // Nothing of the run is left anywhere (no spawned task still holds the client's clock),
    // so nothing can send another request; and none was sent at or after the drop.
    assert_eq!(Arc::strong_count(&clock), 1, "a part of the run outlived the dropped future");
    clock.release();
    assert_eq!(poll.calls_async().await, polled, "no request after the future was dropped");
    assert!(entered.try_recv().is_err(), "no sleep after the future was dropped");
}

#[tokio::test]
async fn run_many_a_refused_line_fails_only_its_target() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let fake = Fake::start(&server, clock.clone(), 500).await;
    let targets: Vec<Target> = (0..150).map(|i| Target::position(i as f64 + 0.5, -5.0).unwrap()).collect();
    fake.state.lock().unwrap().reject.push(targets[70].radeclist_line());
    let client = client(&server, Arc::new(clock.clone()));
    let out = client.run_many(targets, &TaskOptions::new().mjd_min(60000.0), &RunOptions::new()).await.unwrap();
    assert_eq!(out.len(), 150);
    for o in &out {
        if o.index == 70 {
            assert_eq!(o.cleanup, Cleanup::NotSubmitted);
            assert!(
                matches!(&o.outcome, Outcome::Failed { reason } if reason.contains("Error on line 71: Could not parse RA/Dec")),
                "{o:?}"
            );
            assert!(matches!(o.error.as_deref(), Some(Error::Rejected { .. })));
        } else {
            assert_eq!(o.outcome.data().map(|t| t.len()), Some(3), "{o:?}");
        }
    }
    let s = fake.state.lock().unwrap();
    assert_eq!(s.rejected_posts, 1);
    assert_eq!(s.posts.iter().sum::<usize>(), 149);
    assert_eq!(s.deletes.len(), 149);
}

#[tokio::test]
async fn a_long_throttle_while_polling_is_waited_out_not_fatal() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    let clock = PhaseClock::default();
    submit_mock(&server).await;
    let t = task_json(&base, 1088, 29.86137, 30.72672);
    let throttled = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/").is_true(clock.phase_is(0));
            then.status(429)
                .header("Retry-After", "600")
                .json_body(json!({"detail": "Request was throttled. Expected available in 600 seconds."}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1088/").is_true(clock.phase_at_least(1));
            then.status(200).json_body(finished(t.clone(), None, Some("No data returned")));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/queue/1088/");
            then.status(204);
        })
        .await;
    let client = client(&server, Arc::new(clock.clone()));
    let run = client.run(&request(), &RunOptions::new()).await.unwrap();
    assert!(matches!(run.outcome, Outcome::NoData { .. }));
    assert_eq!(clock.sleeps(), secs(&[600]), "the server's long wait is honoured once, outside the HTTP retries");
    throttled.assert_calls_async(1).await;
}
