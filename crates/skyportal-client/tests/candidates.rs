//! Candidate endpoints against a mock SkyPortal.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use httpmock::prelude::*;
use serde_json::json;
use skyportal_client::candidates::{NewCandidate, SavedStatus};

fn cand(id: &str) -> serde_json::Value {
    let mut c = source_json(id, 10.0);
    c["is_source"] = json!(false);
    c["passing_alerts"] = json!([{"filter_id": 3, "passing_alert_id": 1234, "passed_at": "2021-03-04T05:06:07"}]);
    c
}

#[tokio::test]
async fn list_pages_carry_query_id_and_camel_case_filters() {
    let server = MockServer::start_async().await;
    let p1 = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/candidates").header("Authorization", AUTH).is_true(exact_query(&[
                ("groupIDs", "1,2"),
                ("filterIDs", "3"),
                ("savedStatus", "notSavedToAnyAccessible"),
                ("startDate", "2024-01-01"),
                ("annotationFilterList", "{\"origin\": \"kowalski\"}"),
                ("pageNumber", "1"),
                ("numPerPage", "2"),
            ]));
            then.json_body(ok(json!({"candidates": [cand("ZTF1"), cand("ZTF2")], "totalMatches": 3, "pageNumber": 1, "numPerPage": 2, "queryID": "c-77"})));
        })
        .await;
    let p2 = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/candidates").is_true(exact_query(&[
                ("groupIDs", "1,2"),
                ("filterIDs", "3"),
                ("savedStatus", "notSavedToAnyAccessible"),
                ("startDate", "2024-01-01"),
                ("annotationFilterList", "{\"origin\": \"kowalski\"}"),
                ("pageNumber", "2"),
                ("numPerPage", "2"),
                ("queryID", "c-77"),
            ]));
            then.json_body(ok(json!({"candidates": [cand("ZTF3")], "totalMatches": 3, "pageNumber": 2, "numPerPage": 2, "queryID": "c-77"})));
        })
        .await;
    let (c, _) = client(&server);
    let all = c
        .candidates()
        .list()
        .group_ids([1, 2])
        .filter_ids([3])
        .saved_status(SavedStatus::NotSavedToAnyAccessible)
        .start_date("2024-01-01")
        .annotation_filter_list(["{\"origin\": \"kowalski\"}"])
        .page_size(2)
        .stream()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["ZTF1", "ZTF2", "ZTF3"]);
    assert_eq!(all[0].is_source, Some(false));
    assert_eq!(all[0].passing_alerts.as_ref().unwrap()[0]["filter_id"], 3);
    p1.assert_async().await;
    p2.assert_async().await;
}

#[tokio::test]
async fn get_exists_create_delete() {
    let server = MockServer::start_async().await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/candidates/ZTF1").is_true(exact_query(&[("includeComments", "true")]));
            let mut c = cand("ZTF1");
            c["filter_ids"] = json!([3, 4]);
            then.json_body(ok(c));
        })
        .await;
    let h = server
        .mock_async(|when, then| {
            when.method("HEAD").path("/api/candidates/ZTF1");
            then.status(200);
        })
        .await;
    let h404 = server
        .mock_async(|when, then| {
            when.method("HEAD").path("/api/candidates/ZTF9");
            then.status(404).json_body(err("No candidate with object ID ZTF9"));
        })
        .await;
    let p = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/candidates").json_body(json!({
                "id": "ZTF1", "ra": 10.5, "dec": -5.25, "filter_ids": [3, 4], "passed_at": "2021-03-04T05:06:07", "passing_alert_id": 1234, "origin": "Kowalski"
            }));
            then.json_body(ok(json!({"ids": [55, 56]})));
        })
        .await;
    let d = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/candidates/ZTF1/3");
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    let got = c.candidates().get("ZTF1", true, false).await.unwrap();
    assert_eq!(got.filter_ids, Some(vec![3, 4]));
    assert!(c.candidates().exists("ZTF1").await.unwrap());
    assert!(!c.candidates().exists("ZTF9").await.unwrap());
    let mut extra = serde_json::Map::new();
    extra.insert("origin".into(), json!("Kowalski"));
    let new = NewCandidate {
        id: "ZTF1".into(),
        ra: 10.5,
        dec: -5.25,
        filter_ids: vec![3, 4],
        passed_at: "2021-03-04T05:06:07".into(),
        passing_alert_id: Some(1234),
        extra,
    };
    assert_eq!(c.candidates().create(&new).await.unwrap(), vec![55, 56]);
    c.candidates().delete("ZTF1", 3).await.unwrap();
    for m in [&g, &h, &h404, &p, &d] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn bad_candidate_input_sends_nothing() {
    let server = MockServer::start_async().await;
    let any = catch_all(&server).await;
    let (c, _) = client(&server);
    let new =
        NewCandidate { id: "ZTF1".into(), ra: 1.0, dec: 1.0, passed_at: "2021-01-01".into(), ..Default::default() };
    let e = c.candidates().create(&new).await.unwrap_err();
    assert!(e.to_string().contains("filter_ids"), "{e}");
    assert!(c.candidates().list().page_size(501).stream().collect_all().await.is_err());
    assert_eq!(any.calls_async().await, 0);
}
