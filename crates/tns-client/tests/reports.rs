#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Reports: the exact bulk-report and bulk-report-reply forms, polling to the outcome, field
//! errors, and a report whose reply is lost that is not sent twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use broker_core::{ManualClock, RetryPolicy};
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};
use serde_json::{Value, json};
use tns_client::{AtReport, ClassificationReport, Error, Report, ReportResult, TnsClient};

const MARKER: &str = r#"tns_marker{"tns_id":77,"type":"bot","name":"rep_bot"}"#;

fn client(server: &MockServer, clock: &ManualClock) -> TnsClient {
    TnsClient::builder()
        .url(server.base_url())
        .api_key("k-123")
        .bot(77, "rep_bot")
        .clock(Arc::new(clock.clone()))
        .retry(RetryPolicy::default().jitter(false))
        .poll_interval(Duration::from_secs(5))
        .max_polls(10)
        .build()
        .unwrap()
}

fn at_report() -> Report {
    let fields = json!({
        "ra": {"value": "210.910674", "units": "deg"},
        "dec": {"value": "54.311651", "units": "deg"},
        "reporting_group_id": "48",
        "discovery_data_source_id": "48",
        "reporter": "A. Astronomer on behalf of ZTF",
        "discovery_datetime": "2023-05-19 17:27:35.000",
        "at_type": "1",
        "internal_name": "ZTF23aaklqou",
        "photometry": {"photometry_group": {"0": {"obsdate": "2460084.227", "flux": "14.9", "flux_units": "1", "filter_value": "111", "instrument_value": "196"}}}
    });
    let Value::Object(m) = fields else { unreachable!() };
    Report::At(AtReport::new(m).unwrap())
}

type Scripted = Vec<(u16, Value)>;

fn script(responses: Scripted) -> impl Fn(&HttpMockRequest) -> HttpMockResponse {
    let n = AtomicUsize::new(0);
    move |_req| {
        let i = n.fetch_add(1, Ordering::SeqCst).min(responses.len() - 1);
        let (status, body) = &responses[i];
        let b = HttpMockResponse::builder().status(*status);
        if body.is_null() {
            b.body("<html>504 Gateway Time-out</html>").build()
        } else {
            b.header("content-type", "application/json").body(body.to_string()).build()
        }
    }
}

#[tokio::test]
async fn at_report_is_sent_as_bulk_report_json_and_polled_to_the_new_name() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let report = at_report();
    let data = report.document().to_string();
    assert!(data.starts_with(r#"{"at_report":{"0":{"#), "{data}");
    let send = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/set/bulk-report")
                .header("user-agent", MARKER)
                .form_urlencoded_tuple("api_key", "k-123")
                .form_urlencoded_tuple("data", data.as_str());
            then.status(200).json_body(json!({"id_code": 200, "id_message": "OK", "data": {"report_id": 123456}}));
        })
        .await;
    let replies = vec![
        (404, json!({"id_code": 404, "id_message": "Report id not found"})),
        (200, json!({"id_code": 200, "id_message": "OK", "data": {"feedback": {"at_report": [{"at_rep": {}}]}}})),
        (
            200,
            json!({"id_code": 200, "id_message": "OK", "data": {"feedback": {"at_report": [{
                "100": {"message": "Transient object was inserted.", "objname": "2023ixf", "message_id": 100},
                "at_rep": {"0": "ok"}
            }]}}}),
        ),
    ];
    let reply = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/get/bulk-report-reply")
                .header("user-agent", MARKER)
                .form_urlencoded_tuple("api_key", "k-123")
                .form_urlencoded_tuple("report_id", "123456")
                .form_urlencoded_tuple_missing("data");
            then.respond_with(script(replies));
        })
        .await;
    let out = tns.report_once(&report).await.unwrap();
    let ReportResult::Processed(o) = out else { panic!("{out:?}") };
    assert_eq!(o.report_id, "123456");
    assert_eq!(o.objname.as_deref(), Some("2023ixf"));
    assert!(o.created && o.accepted() && o.errors.is_empty());
    send.assert_calls_async(1).await;
    reply.assert_calls_async(3).await;
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(5); 2], "polled every poll_interval");
}

#[tokio::test]
async fn a_rejected_report_lists_each_field_error() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/bulk-report-reply").form_urlencoded_tuple("report_id", "9");
            then.status(400).json_body(
                json!({"id_code": 400, "id_message": "Bad request", "data": {"feedback": {"at_report": [{
                    "reporting_groupid": [{"message": "Invalid reporting group id", "message_id": 300}],
                    "ra": [{"message": "RA out of range"}]
                }]}}}),
            );
        })
        .await;
    let o = tns.wait_for_reply("9").await.unwrap();
    assert!(!o.accepted());
    let fields: Vec<(&str, &str)> = o.errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
    assert!(fields.contains(&("reporting_groupid", "Invalid reporting group id")), "{fields:?}");
    assert!(fields.contains(&("ra", "RA out of range")), "{fields:?}");
}

#[tokio::test]
async fn a_report_whose_reply_is_lost_is_reconciled_not_sent_twice() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    // The gateway loses the reply (504, not JSON) after TNS took the report.
    let send = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/set/bulk-report");
            then.status(504).body("<html>504 Gateway Time-out</html>");
        })
        .await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/get/search")
                .form_urlencoded_tuple("data", r#"{"internal_name":"ZTF23aaklqou","internal_name_exact_match":1}"#);
            then.status(200).json_body(json!({"id_code": 200, "id_message": "OK", "data": [{"objname": "2023ixf", "prefix": "AT", "objid": 130454}]}));
        })
        .await;
    let out = tns.report_once(&at_report()).await.unwrap();
    assert!(matches!(out, ReportResult::Reconciled { ref objname, .. } if objname == "2023ixf"), "{out:?}");
    send.assert_calls_async(1).await;
    search.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_lost_reply_with_no_trace_at_tns_is_resent_once() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let send = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/set/bulk-report");
            then.respond_with(script(vec![
                (504, Value::Null),
                (200, json!({"id_code": 200, "id_message": "OK", "data": {"report_id": "77"}})),
            ]));
        })
        .await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.status(200).json_body(json!({"id_code": 200, "id_message": "OK", "data": []}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/bulk-report-reply").form_urlencoded_tuple("report_id", "77");
            then.status(200).json_body(json!({"id_code": 200, "id_message": "OK", "data": {"feedback": {"at_report": [{
                "101": {"message": "Object already exists; report added.", "objname": "2023ixf", "message_id": 101}}]}}}));
        })
        .await;
    let out = tns.report_once(&at_report()).await.unwrap();
    let ReportResult::Processed(o) = out else { panic!("{out:?}") };
    assert_eq!(o.objname.as_deref(), Some("2023ixf"));
    assert!(!o.created);
    send.assert_calls_async(2).await;
    // TNS processes reports in a queue: before the resend, the internal name was looked up
    // for as long as a reply is polled (10 looks, 5 s apart), not once.
    search.assert_calls_async(10).await;
    assert_eq!(clock.sleeps().iter().filter(|d| **d == Duration::from_secs(5)).count(), 9, "{:?}", clock.sleeps());
}

/// TNS processes reports in a queue: a report whose reply was lost may show only a while
/// later. It is reconciled when it shows, not sent a second time.
#[tokio::test]
async fn a_report_that_shows_only_once_processed_is_reconciled_not_resent() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let send = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/set/bulk-report");
            then.status(504).body("<html>504 Gateway Time-out</html>");
        })
        .await;
    let hit =
        json!({"id_code": 200, "id_message": "OK", "data": [{"objname": "2023ixf", "prefix": "AT", "objid": 130454}]});
    let none = json!({"id_code": 200, "id_message": "OK", "data": []});
    let search = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.respond_with(script(vec![(200, none.clone()), (200, none), (200, hit)]));
        })
        .await;
    let out = tns.report_once(&at_report()).await.unwrap();
    assert!(matches!(out, ReportResult::Reconciled { ref objname, .. } if objname == "2023ixf"), "{out:?}");
    send.assert_calls_async(1).await;
    search.assert_calls_async(3).await;
}

/// Found by the TNS fault scenario (`tests/tests/faults.rs`): a 200 to the send cut short in
/// transit (TNS took the report) was an explicit failure, not a lost reply; the user was left
/// to send the report again.
#[tokio::test]
async fn a_success_reply_cut_short_is_reconciled_not_reported_as_a_failure() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let send = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/set/bulk-report");
            then.status(200).header("content-type", "application/json").body(r#"{"id_code":200,"id_message":"OK"#);
        })
        .await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.status(200).json_body(json!({"id_code": 200, "id_message": "OK", "data": [{"objname": "2023ixf", "prefix": "AT", "objid": 130454}]}));
        })
        .await;
    let out = tns.report_once(&at_report()).await.unwrap();
    assert!(matches!(out, ReportResult::Reconciled { ref objname, .. } if objname == "2023ixf"), "{out:?}");
    send.assert_calls_async(1).await;
    search.assert_calls_async(1).await;
}

/// Found by the TNS fault scenario: when the resend's reply was lost too, the report ended as
/// an explicit failure although TNS may have taken it. Each lost reply is now reconciled.
#[tokio::test]
async fn the_lost_reply_of_a_resend_is_reconciled_too() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    // Both sends lose their reply; TNS took the second one.
    let send = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/set/bulk-report");
            then.status(504).body("<html>504 Gateway Time-out</html>");
        })
        .await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            // No trace in the 10 looks after the first send; the second send's report shows.
            let mut replies = vec![(200, json!({"id_code": 200, "id_message": "OK", "data": []})); 10];
            replies.push((200, json!({"id_code": 200, "id_message": "OK", "data": [{"objname": "2023ixf", "prefix": "AT", "objid": 130454}]})));
            then.respond_with(script(replies));
        })
        .await;
    let out = tns.report_once(&at_report()).await.unwrap();
    assert!(matches!(out, ReportResult::Reconciled { ref objname, .. } if objname == "2023ixf"), "{out:?}");
    send.assert_calls_async(2).await;
    search.assert_calls_async(11).await;
}

#[tokio::test]
async fn a_report_is_sent_at_most_report_sends_times() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let send = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/set/bulk-report");
            then.status(502).body("<html>502 Bad Gateway</html>");
        })
        .await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/get/search");
            then.status(200).json_body(json!({"id_code": 200, "id_message": "OK", "data": []}));
        })
        .await;
    let err = tns.report_once(&at_report()).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { status: 502, .. }), "{err:?}");
    let sends = tns_client::report::REPORT_SENDS as usize;
    send.assert_calls_async(sends).await;
    // After each lost reply, 10 looks (`max_polls`) before the next send or the error.
    search.assert_calls_async(sends * 10).await;
}

#[tokio::test]
async fn classification_report_reconciles_on_the_object_type_and_checks_its_name() {
    let server = MockServer::start_async().await;
    let clock = ManualClock::new();
    let tns = client(&server, &clock);
    let fields = json!({"name": "AT 2023ixf", "classifier": "A. Astronomer", "objtypeid": 10, "groupid": "48",
        "spectra": {"spectra-group": {"0": {"obsdate": "2023-05-20 03:00:00", "instrumentid": "10", "spectypeid": "1", "ascii_file": "x.txt"}}}});
    let Value::Object(m) = fields else { unreachable!() };
    let report = Report::Classification(ClassificationReport::new(m).unwrap());
    assert_eq!(report.document()["classification_report"]["0"]["name"], "2023ixf");
    let send = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/set/bulk-report");
            then.status(502).body("Bad Gateway");
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/get/object")
                .form_urlencoded_tuple("data", r#"{"objname":"2023ixf","photometry":"0","spectra":"0"}"#);
            then.status(200).json_body(json!({"id_code": 200, "id_message": "OK", "data": {
                "objname": "2023ixf", "name_prefix": "SN", "objid": 130454, "object_type": {"name": "SN II", "id": 10}}}));
        })
        .await;
    let out = tns.report_once(&report).await.unwrap();
    assert!(matches!(out, ReportResult::Reconciled { ref objname, .. } if objname == "2023ixf"), "{out:?}");
    send.assert_calls_async(1).await;

    let Value::Object(bad) = json!({"name": "ZTF23aaklqou", "objtypeid": 10}) else { unreachable!() };
    let e = ClassificationReport::new(bad).unwrap_err();
    assert!(matches!(e, Error::Core(broker_core::Error::InvalidInput { .. })), "{e:?}");
}
