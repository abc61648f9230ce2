//! One test per endpoint: the exact request the server sees, and the decoded reply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use broker_core::{ManualClock, SecretString};
use common::*;
use fallingstar_forcedphot::{Client, Error, ListOptions, Poll, Target, TaskOptions, TaskRequest};
use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::json;

const AUTH: &str = "Token 0123456789abcdef0123456789abcdef01234567";

#[tokio::test]
async fn obtain_token_posts_the_form_and_reads_the_token() {
    let server = MockServer::start_async().await;
    let ok = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api-token-auth/")
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .header_missing("authorization")
                .body("username=astro&password=s3cret%21");
            then.status(200).json_body(json!({"token": TOKEN}));
        })
        .await;
    let token = Client::obtain_token(&server.base_url(), "astro", &SecretString::from("s3cret!")).await.unwrap();
    use broker_core::ExposeSecret;
    assert_eq!(token.expose_secret(), TOKEN);
    ok.assert_async().await;
}

#[tokio::test]
async fn bad_login_is_a_clear_auth_error_without_the_password() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api-token-auth/");
            then.status(400).json_body(json!({"non_field_errors": ["Unable to log in with provided credentials."]}));
        })
        .await;
    let err = Client::obtain_token(&server.base_url(), "astro", &SecretString::from("hunter2-pw")).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(matches!(err, Error::Core(broker_core::Error::Auth { status: Some(400), .. })), "{err:?}");
    assert!(text.contains("Unable to log in with provided credentials."), "{text}");
    assert!(!text.contains("hunter2-pw"), "{text}");

    // The same through the builder's login flow, on the first real request.
    let client =
        Client::builder().base_url(server.base_url()).login("astro", SecretString::from("hunter2-pw")).build().unwrap();
    let err = client.task(7).await.unwrap_err();
    let text = format!("{err} {err:?} {client:?}");
    assert!(text.contains("Unable to log in"), "{text}");
    assert!(!text.contains("hunter2-pw"), "{text}");
}

#[tokio::test]
async fn login_flow_then_token_on_every_request() {
    let server = MockServer::start_async().await;
    let login = server
        .mock_async(|when, then| {
            when.method(POST).path("/api-token-auth/").body("username=astro&password=pw");
            then.status(200).json_body(json!({"token": TOKEN}));
        })
        .await;
    let detail = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/7/").header("authorization", AUTH).header("accept", "application/json");
            then.status(200).json_body(task_json(&server.base_url(), 7, 1.0, 2.0));
        })
        .await;
    let client =
        Client::builder().base_url(server.base_url()).login("astro", SecretString::from("pw")).build().unwrap();
    client.task(7).await.unwrap();
    client.task(7).await.unwrap();
    login.assert_calls_async(1).await;
    detail.assert_calls_async(2).await;
}

#[tokio::test]
async fn submit_one_position_sends_the_exact_form() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/queue/")
                .header("authorization", AUTH)
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("ra=44&dec=22.5&mjd_min=59248&mjd_max=59300.5&use_reduced=false&send_email=false");
            then.status(201).json_body(task_json(&base, 1088, 44.0, 22.5));
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let req = TaskRequest::position(44.0, 22.5).unwrap().mjd_min(59248.0).mjd_max(59300.5);
    let task = client.submit(&req).await.unwrap();
    m.assert_async().await;
    assert_eq!(task.id, 1088);
    assert_eq!(task.url, format!("{base}/queue/1088/"));
    assert_eq!(task.radec_epoch_year, Some(2000.0), "decimal sent as a string");
    assert_eq!(task.timestamp.unwrap().to_rfc3339(), "2024-05-15T12:34:56+00:00");
    assert_eq!(task.queuepos, Some(3));
    assert_eq!(task.request_type.as_deref(), Some("FP"));
    assert_eq!(task.send_email, Some(false));
    assert_eq!(task.attempt_count, Some(0));
    assert_eq!(task.extra.get("country_code"), Some(&json!("GB")), "unknown fields are kept");
    assert!(!task.is_finished());
}

#[tokio::test]
async fn submit_mpc_name_with_every_option() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/queue/").header("authorization", AUTH).body(
                "mpc_name=Makemake&mjd_min=&use_reduced=true&send_email=true&comment=dwarf+planet&radec_epoch_year=2016.0&propermotion_ra=1.5&propermotion_dec=-2",
            );
            let mut t = task_json(&base, 9, 0.0, 0.0);
            t["ra"] = json!(null);
            t["dec"] = json!(null);
            t["mpc_name"] = json!("Makemake");
            t["mjd_min"] = json!(null);
            t["radec_epoch_year"] = json!("2016.0");
            then.status(201).json_body(t);
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let opts = TaskOptions::new()
        .full_history()
        .use_reduced(true)
        .send_email(true)
        .comment("dwarf planet")
        .radec_epoch_year(2016.0)
        .proper_motion(1.5, -2.0);
    let task = client.submit(&TaskRequest::new(Target::mpc("Makemake").unwrap()).options(opts)).await.unwrap();
    m.assert_async().await;
    assert_eq!(task.mpc_name.as_deref(), Some("Makemake"));
    assert_eq!(task.ra, None);
    assert_eq!(task.mjd_min, None);
    assert_eq!(task.radec_epoch_year, Some(2016.0));
}

#[tokio::test]
async fn submit_batch_sends_one_radeclist_and_decodes_the_array() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/queue/")
                .header("authorization", AUTH)
                .form_urlencoded_tuple("radeclist", "150.1 2.2\n150.1 2.2\nmpc 14916")
                .form_urlencoded_tuple("mjd_min", "60000")
                .form_urlencoded_tuple("send_email", "false")
                .form_urlencoded_tuple("use_reduced", "false")
                .form_urlencoded_tuple_missing("ra")
                .form_urlencoded_tuple_missing("dec");
            let mut mpc = task_json(&base, 12, 0.0, 0.0);
            mpc["mpc_name"] = json!("14916");
            then.status(201).json_body(json!([
                task_json(&base, 10, 150.1, 2.2),
                task_json(&base, 11, 150.1, 2.2),
                mpc
            ]));
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let targets = Target::parse_list(["150.1 2.2", "10:00:24.0 +02:12:00", "mpc 14916"]).unwrap();
    let tasks = client.submit_batch(&targets, &TaskOptions::new().mjd_min(60000.0)).await.unwrap();
    m.assert_async().await;
    assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), vec![10, 11, 12]);
    assert_eq!(tasks[2].mpc_name.as_deref(), Some("14916"));
}

#[tokio::test]
async fn submit_many_splits_into_posts_of_100() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    let first_lines: Vec<String> = (0..100).map(|i| format!("{} 1", i as f64 + 0.5)).collect();
    let second_lines: Vec<String> = (100..150).map(|i| format!("{} 1", i as f64 + 0.5)).collect();
    let (b1, b2) = (base.clone(), base.clone());
    let m1 = server
        .mock_async(|when, then| {
            when.method(POST).path("/queue/").form_urlencoded_tuple("radeclist", first_lines.join("\n"));
            let tasks: Vec<_> = (0..100).map(|i| task_json(&b1, 100 + i, i as f64 + 0.5, 1.0)).collect();
            then.status(201).json_body(json!(tasks));
        })
        .await;
    let m2 = server
        .mock_async(|when, then| {
            when.method(POST).path("/queue/").form_urlencoded_tuple("radeclist", second_lines.join("\n"));
            let tasks: Vec<_> = (100..150).map(|i| task_json(&b2, 100 + i, i as f64 + 0.5, 1.0)).collect();
            then.status(201).json_body(json!(tasks));
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let targets: Vec<Target> = (0..150).map(|i| Target::position(i as f64 + 0.5, 1.0).unwrap()).collect();
    let (tasks, err) = client.submit_many(&targets, &TaskOptions::new()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(tasks.len(), 150);
    m1.assert_calls_async(1).await;
    m2.assert_calls_async(1).await;
}

#[tokio::test]
async fn invalid_input_is_rejected_before_any_request() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    assert!(Target::position(10.0, 95.0).unwrap_err().is_invalid_input());
    assert!(Target::position(f64::NAN, 0.0).is_err());
    let bad_range = TaskRequest::position(10.0, 20.0).unwrap().mjd_min(60000.0).mjd_max(59000.0);
    let e = client.submit(&bad_range).await.unwrap_err();
    assert!(e.is_invalid_input() && e.to_string().contains("mjd_max"), "{e}");
    let e = client.submit_batch(&[], &TaskOptions::new()).await.unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let many: Vec<Target> = (0..101).map(|i| Target::position(i as f64, 0.0).unwrap()).collect();
    let e = client.submit_batch(&many, &TaskOptions::new()).await.unwrap_err();
    assert!(e.to_string().contains("at most 100"), "{e}");
    let e = client.run_many(vec![], &TaskOptions::new(), &fallingstar_forcedphot::RunOptions::new()).await.unwrap_err();
    assert!(e.is_invalid_input(), "{e}");
    let e = client
        .run_many(
            vec![Target::position(1.0, 1.0).unwrap()],
            &TaskOptions::new().mjd_min(f64::NAN),
            &fallingstar_forcedphot::RunOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(e.is_invalid_input(), "{e}");
    let e = client
        .run(&TaskRequest::new(Target::MpcName("a'b".into())), &fallingstar_forcedphot::RunOptions::new())
        .await
        .unwrap_err();
    assert!(e.is_invalid_input(), "{e}");
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn validation_400_collects_every_message() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/queue/");
            then.status(400).json_body(json!({
                "radeclist": "Error on line 2: Could not find two columns.",
                "mjd_max": ["mjd_max must be greater than mjd_min (… was applied)."],
                "non_field_errors": ["Either an mpc_name or (ra, dec) must be specified."]
            }));
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let e = client.submit(&TaskRequest::position(1.0, 2.0).unwrap()).await.unwrap_err();
    match &e {
        Error::Rejected { status, messages, .. } => {
            assert_eq!(*status, 400);
            assert_eq!(
                messages,
                &vec![
                    "radeclist: Error on line 2: Could not find two columns.".to_string(),
                    "mjd_max: mjd_max must be greater than mjd_min (… was applied).".to_string(),
                    "Either an mpc_name or (ra, dec) must be specified.".to_string(),
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn many_400_list_of_item_dicts() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/queue/");
            then.status(400).json_body(json!([{}, {"dec": ["ra was set but dec is missing."]}]));
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let e = client.submit_batch(&[Target::position(1.0, 2.0).unwrap()], &TaskOptions::new()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Rejected { messages, .. } if messages == &vec!["dec: ra was set but dec is missing.".to_string()]),
        "{e:?}"
    );
}

#[tokio::test]
async fn queue_full_is_its_own_error_with_the_numbers() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/queue/");
            then.status(400).json_body(json!({
                "non_field_errors": "ERROR: You have too many queued tasks (450 queued + 100 requested > 500)."
            }));
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let e = client.submit(&TaskRequest::position(1.0, 2.0).unwrap()).await.unwrap_err();
    match &e {
        Error::QueueFull { queued, requested, limit, message } => {
            assert_eq!((*queued, *requested, *limit), (Some(450), Some(100), Some(500)));
            assert!(message.starts_with("ERROR: You have too many queued tasks"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_retryable());
}

#[tokio::test]
async fn task_detail_404_json_and_plain_text_are_task_gone() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/1/");
            then.status(404).header("content-type", "text/html; charset=utf-8").body("Page not found");
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/2/");
            then.status(404).json_body(json!({"detail": "No Task matches the given query."}));
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let e1 = client.task(1).await.unwrap_err();
    assert!(matches!(&e1, Error::TaskGone { message: Some(m), .. } if m == "Page not found"), "{e1:?}");
    let e2 = client.task(2).await.unwrap_err();
    assert!(matches!(&e2, Error::TaskGone { message: Some(m), .. } if m.contains("No Task matches")), "{e2:?}");
}

#[tokio::test]
async fn poll_sends_if_none_match_and_accepts_304() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    let first = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/5/").header_missing("if-none-match");
            then.status(200).header("ETag", "\"abc123\"").json_body(task_json(&base, 5, 1.0, 2.0));
        })
        .await;
    let cond = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/5/").header("if-none-match", "\"abc123\"");
            then.status(304);
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let Poll::Changed { task, etag } = client.poll(5, None).await.unwrap() else { panic!("expected a task") };
    assert_eq!(task.id, 5);
    assert_eq!(etag.as_deref(), Some("\"abc123\""));
    assert_eq!(client.poll(5, etag.as_deref()).await.unwrap(), Poll::NotModified);
    first.assert_calls_async(1).await;
    cond.assert_calls_async(1).await;
}

#[tokio::test]
async fn download_and_delete() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    let file = server
        .mock_async(|when, then| {
            when.method(GET).path("/static/results/job01088.txt");
            then.status(200).header("content-type", "text/plain").body(SAMPLE);
        })
        .await;
    let del = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/queue/1088/").header("authorization", AUTH).header("accept", "application/json");
            then.status(204);
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let task: fallingstar_forcedphot::Task = serde_json::from_value(finished(
        task_json(&base, 1088, 29.86137, 30.72672),
        Some(format!("{base}/static/results/job01088.txt")),
        None,
    ))
    .unwrap();
    let table = client.result(&task).await.unwrap();
    assert_eq!(table.len(), 3);
    assert_eq!(table.rows[2].ujy, 912);
    client.delete(1088).await.unwrap();
    file.assert_async().await;
    del.assert_async().await;
    // Not finished, failed, expired: no request, a clear error.
    let queued: fallingstar_forcedphot::Task = serde_json::from_value(task_json(&base, 1, 1.0, 1.0)).unwrap();
    assert!(client.result(&queued).await.unwrap_err().to_string().contains("not finished"));
    let nodata: fallingstar_forcedphot::Task =
        serde_json::from_value(finished(task_json(&base, 2, 1.0, 1.0), None, Some("No data returned"))).unwrap();
    assert!(client.result(&nodata).await.unwrap_err().to_string().contains("No data returned"));
    let expired: fallingstar_forcedphot::Task =
        serde_json::from_value(finished(task_json(&base, 3, 1.0, 1.0), None, None)).unwrap();
    assert!(matches!(client.result(&expired).await.unwrap_err(), Error::TaskGone { .. }));
    file.assert_calls_async(1).await;
}

#[tokio::test]
async fn delete_of_someone_elses_task_is_an_auth_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/queue/3/");
            then.status(403).json_body(json!({"detail": "You must be the owner of this object."}));
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let e = client.delete(3).await.unwrap_err();
    assert!(
        matches!(&e, Error::Core(broker_core::Error::Auth { status: Some(403), message }) if message.contains("owner")),
        "{e:?}"
    );
}

#[tokio::test]
async fn list_follows_next_urls() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    let next = format!("{base}/queue/?cursor=cD0yMDI0&pagesize=100");
    let p1 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/queue/")
                .query_param("pagesize", "100")
                .query_param("ordering", "-timestamp")
                .query_param("started", "false")
                .query_param_missing("cursor")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({
                "next": next, "previous": null, "pagefirsttaskposition": 0, "taskcount": 3,
                "results": [task_json(&base, 3, 1.0, 1.0), task_json(&base, 2, 1.0, 1.0)]
            }));
        })
        .await;
    let p2 = server
        .mock_async(|when, then| {
            when.method(GET).path("/queue/").query_param("cursor", "cD0yMDI0").header("authorization", AUTH);
            then.status(200).json_body(json!({
                "next": null, "previous": base.clone() + "/queue/", "pagefirsttaskposition": 2, "taskcount": 3,
                "results": [task_json(&base, 1, 1.0, 1.0)]
            }));
        })
        .await;
    let client = client(&server, Arc::new(ManualClock::new()));
    let mut stream = client.list_with(ListOptions {
        page_size: Some(100),
        ordering: Some("-timestamp".into()),
        started: Some(false),
    });
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.id, 3);
    assert_eq!(stream.total(), Some(3));
    let rest = stream.collect_all().await.unwrap();
    assert_eq!(rest.iter().map(|t| t.id).collect::<Vec<_>>(), vec![2, 1]);
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(1).await;
}

#[tokio::test]
async fn secrets_never_show_in_debug() {
    let b = Client::builder().token(TOKEN.to_string());
    assert!(!format!("{b:?}").contains(TOKEN));
    let c = b.build().unwrap();
    assert!(!format!("{c:?}").contains(TOKEN));
    let b = Client::builder().login("astro", SecretString::from("pa55word"));
    assert!(!format!("{b:?}").contains("pa55word"));
    assert!(!format!("{:?}", b.build().unwrap()).contains("pa55word"));
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_with_credentials() {
    let e = Client::builder().base_url("http://example.org/forcedphot").token("t".to_string()).build().unwrap_err();
    assert!(e.to_string().contains("plain http"), "{e}");
}
