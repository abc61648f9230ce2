#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! `objectlist/`, `objectgroupslist/`, `objectgroups/`, `objectgroupsdelete/`,
//! `objectdetectionlist/` against a mock ATLAS server.

mod common;

use atlas_client::{AtlasId, CustomList, DateThreshold, DetectionList, Error, ListRef, WriteOutcome};
use chrono::{NaiveDate, TimeZone};
use common::*;
use httpmock::prelude::*;
use serde_json::json;

fn id(s: &str) -> AtlasId {
    s.parse().unwrap()
}

#[tokio::test]
async fn detection_list_by_name_exact_body() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/objectlist/")
                .header("authorization", AUTH)
                .header("content-type", FORM)
                .body("objectlistid=4&getcustomlist=False");
            then.status(200).json_body(json!([list_row(ID_U64), list_row(ID2_U64)]));
        })
        .await;
    let (client, _) = client(&server);
    let rows = client.object_list(ListRef::by_name("eyeball").unwrap()).send().await.unwrap();
    m.assert_async().await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].id.get(), ID_U64);
    assert_eq!(rows[1].id.get(), ID2_U64);
    assert_eq!(rows[0].sherlock_classification.as_deref(), Some("SN"));
    assert_eq!(rows[0].vra, Some(0.8));
    assert_eq!(rows[0].detection_list_id, Some(4));
    assert_eq!(rows[0].extra["catalogue"], json!("NED"));
}

#[tokio::test]
async fn custom_list_with_date_and_every_filter() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objectlist/").body(
                "objectlistid=14&getcustomlist=True&datethreshold=2026-04-11&vra_gte=0.5&vra_lte=1&rb_pix_gte=0.2\
                 &rb_pix_lte=0.99&ra_gte=10&ra_lte=200.5&dec_gte=-30&dec_lte=10&sherlock_class=SN&spec_type=SN+Ia",
            );
            let mut row = list_row(ID_U64);
            row["local_comments"] = json!("nice");
            row["object_group_id"] = json!(14);
            row.as_object_mut().unwrap().remove("images_id");
            then.status(200).json_body(json!([row]));
        })
        .await;
    let (client, _) = client(&server);
    let rows = client
        .object_list(ListRef::by_name("salt").unwrap())
        .date_threshold(NaiveDate::from_ymd_opt(2026, 4, 11).unwrap())
        .spec_type("SN Ia")
        .sherlock_class("SN")
        .dec_lte(10.0)
        .dec_gte(-30.0)
        .ra_lte(200.5)
        .ra_gte(10.0)
        .rb_pix_lte(0.99)
        .rb_pix_gte(0.2)
        .vra_lte(1.0)
        .vra_gte(0.5)
        .send()
        .await
        .unwrap();
    m.assert_async().await;
    assert_eq!(rows[0].object_group_id, Some(14));
    assert_eq!(rows[0].extra["local_comments"], json!("nice"));
}

#[tokio::test]
async fn raw_custom_list_id_and_bad_filters_refused() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objectlist/").body("objectlistid=321&getcustomlist=True");
            then.status(200).json_body(json!([]));
        })
        .await;
    let (client, _) = client(&server);
    assert!(client.object_list(ListRef::custom(321)).send().await.unwrap().is_empty());
    m.assert_async().await;
    let e = client.object_list(DetectionList::Good).dec_gte(-95.0).send().await.unwrap_err();
    assert!(e.to_string().contains("[-90, 90]"), "{e}");
    assert!(client.object_list(DetectionList::Good).vra_gte(f64::NAN).send().await.is_err());
    assert!(client.object_list(DetectionList::Good).spec_type("  ").send().await.is_err());
    m.assert_calls_async(1).await;
}

#[tokio::test]
async fn object_groups_list_three_ways() {
    let server = MockServer::start_async().await;
    let row = json!({"id": 77, "transient_object_id": ID_U64, "object_group_id": 73});
    let by_group = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objectgroupslist/").header("authorization", AUTH).body("objectgroupid=73");
            then.status(200).json_body(json!([row]));
        })
        .await;
    let by_object = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objectgroupslist/").body(format!("objectid={ID}"));
            then.status(200).json_body(json!([row, {"id": 78, "transient_object_id": ID_U64, "object_group_id": 2}]));
        })
        .await;
    let all = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objectgroupslist/").body("");
            then.status(200).json_body(json!([row]));
        })
        .await;
    let (client, _) = client(&server);
    let v = client.custom_list_rows(CustomList::by_name("vra").unwrap()).await.unwrap();
    assert_eq!(v[0].transient_object_id.get(), ID_U64);
    assert_eq!(v[0].object_group_id, Some(73));
    let v = client.custom_lists_of(id(ID)).await.unwrap();
    assert_eq!(v.iter().map(|r| r.object_group_id.unwrap()).collect::<Vec<_>>(), vec![73, 2]);
    assert_eq!(client.all_custom_list_rows().await.unwrap().len(), 1);
    by_group.assert_async().await;
    by_object.assert_async().await;
    all.assert_async().await;
}

#[tokio::test]
async fn add_to_custom_list_one_id_per_request_with_typed_outcomes() {
    let server = MockServer::start_async().await;
    let a = 1_000_000_000_000_000_001u64;
    let b = 1_000_000_000_000_000_002u64;
    let c = 1_000_000_000_000_000_003u64;
    let d = 1_000_000_000_000_000_004u64;
    let mut mocks = Vec::new();
    // The server's replies: 201 whatever happened (the key `objectgroupid` holds the object id).
    for (obj, reply, status) in [
        (a, json!({"objectgroupid": a, "info": "Row created."}), 201),
        (b, json!({"objectgroupid": b, "info": "Duplicate row. Cannot add row."}), 201),
        (c, json!({"objectid": c, "info": "Object does not exist."}), 201),
        (d, json!({"detail": "Request was throttled."}), 500),
    ] {
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(POST)
                        .path("/api/objectgroups/")
                        .header("authorization", AUTH)
                        .header("content-type", FORM)
                        .body(format!("objectid={obj}&objectgroupid=73"));
                    then.status(status).json_body(reply);
                })
                .await,
        );
    }
    let (client, _) = client(&server);
    let ids = [a, b, c, d, a].map(|n| AtlasId::new(n).unwrap());
    let out = client.add_to_custom_list(CustomList::by_name("vra").unwrap(), ids).await.unwrap();
    for m in &mocks {
        m.assert_calls_async(1).await; // writes are not retried on 5xx, and `a` once
    }
    assert_eq!(out.iter().map(|w| w.id.get()).collect::<Vec<_>>(), vec![a, b, c, d]);
    assert_eq!(*out[0].result.as_ref().unwrap(), WriteOutcome::Created);
    assert!(out[0].is_success());
    assert_eq!(*out[1].result.as_ref().unwrap(), WriteOutcome::Duplicate);
    assert!(!out[1].is_success(), "a 201 with a failure text is not a success");
    assert_eq!(*out[2].result.as_ref().unwrap(), WriteOutcome::ObjectNotFound);
    assert_eq!(out[3].result.as_ref().unwrap_err().status(), Some(500));
}

#[tokio::test]
async fn unknown_group_is_reported() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objectgroups/").body(format!("objectid={ID}&objectgroupid=999"));
            then.status(201).json_body(json!({"objectgroupid": 999, "info": "Object group ID does not exist."}));
        })
        .await;
    let (client, _) = client(&server);
    let out = client.add_to_custom_list(999, [id(ID)]).await.unwrap();
    assert_eq!(*out[0].result.as_ref().unwrap(), WriteOutcome::GroupNotFound);
}

#[tokio::test]
async fn remove_from_custom_list_204_400_500() {
    let server = MockServer::start_async().await;
    let a = 1_000_000_000_000_000_001u64;
    let b = 1_000_000_000_000_000_002u64;
    let c = 1_000_000_000_000_000_003u64;
    let m_a = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/objectgroupsdelete/")
                .header("authorization", AUTH)
                .body(format!("objectid={a}&objectgroupid=2"));
            then.status(204);
        })
        .await;
    let m_b = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objectgroupsdelete/").body(format!("objectid={b}&objectgroupid=2"));
            then.status(400).json_body(json!({"objectgroupid": 2, "objectid": b,
                "info": "Object group ID does not exist or object ID does not exist."}));
        })
        .await;
    let m_c = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objectgroupsdelete/").body(format!("objectid={c}&objectgroupid=2"));
            then.status(500).body("<h1>Server Error (500)</h1>");
        })
        .await;
    let (client, _) = client(&server);
    let out = client
        .remove_from_custom_list(CustomList::by_name("mookodi").unwrap(), [a, b, c].map(|n| AtlasId::new(n).unwrap()))
        .await
        .unwrap();
    m_a.assert_async().await;
    m_b.assert_async().await;
    m_c.assert_calls_async(1).await;
    assert_eq!(*out[0].result.as_ref().unwrap(), WriteOutcome::Removed);
    assert_eq!(*out[1].result.as_ref().unwrap(), WriteOutcome::NotInList);
    assert!(!out[1].is_success());
    assert_eq!(out[2].result.as_ref().unwrap_err().status(), Some(500));
}

#[tokio::test]
async fn remove_field_errors_are_errors_and_empty_input_refused() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objectgroupsdelete/");
            then.status(400).json_body(json!({"objectid": ["A valid integer is required."]}));
        })
        .await;
    let (client, _) = client(&server);
    let out = client.remove_from_custom_list(2, [id(ID)]).await.unwrap();
    let e = out[0].result.as_ref().unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains("A valid integer is required."), "{e}");
    assert!(matches!(client.remove_from_custom_list(2, Vec::new()).await, Err(Error::InvalidInput { .. })));
    assert!(CustomList::by_name("eyeball").is_err());
    m.assert_calls_async(1).await;
}

#[tokio::test]
async fn set_detection_list_allowed_lists_only() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/objectdetectionlist/")
                .header("authorization", AUTH)
                .body(format!("objectid={ID}&objectlist=4"));
            then.status(200).json_body(json!({"objectid": ID_U64, "info": "Row created."}));
        })
        .await;
    let m2 = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/objectdetectionlist/").body(format!("objectid={ID2}&objectlist=12"));
            then.status(200).json_body(json!({"objectid": ID2_U64, "info": "Object does not exist."}));
        })
        .await;
    let (client, _) = client(&server);
    assert_eq!(client.set_detection_list(id(ID), DetectionList::Eyeball, None).await.unwrap(), WriteOutcome::Created);
    assert_eq!(
        client.set_detection_list(id(ID2), DetectionList::Galcand, None).await.unwrap(),
        WriteOutcome::ObjectNotFound
    );
    let e = client.set_detection_list(id(ID), DetectionList::Good, None).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }));
    assert!(e.to_string().contains("possible (3), eyeball (4) or galcand (12)"), "{e}");
    m.assert_calls_async(1).await;
    m2.assert_calls_async(1).await;
}

/// `insertdate` (the object's new `date_modified`) goes in the form as ISO 8601 UTC; the
/// move is retried after a 503 because it is an idempotent write (a plain write is not:
/// see `add_to_custom_list_one_id_per_request_with_typed_outcomes`).
#[tokio::test]
async fn set_detection_list_sends_insertdate_and_retries_a_503() {
    let server = MockServer::start_async().await;
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n2 = n.clone();
    let m = server
        .mock_async(move |when, then| {
            when.method(POST)
                .path("/api/objectdetectionlist/")
                .header("authorization", AUTH)
                .header("content-type", FORM)
                .body(format!("objectid={ID}&objectlist=3&insertdate=2026-07-01T12%3A30%3A00Z"));
            then.respond_with(move |_req: &httpmock::HttpMockRequest| {
                if n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    httpmock::HttpMockResponse::builder().status(503).body("busy").build()
                } else {
                    httpmock::HttpMockResponse::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .body(json!({"objectid": ID_U64, "info": "Row created."}).to_string())
                        .build()
                }
            });
        })
        .await;
    let (client, clock) = client(&server);
    let at = chrono::Utc.with_ymd_and_hms(2026, 7, 1, 12, 30, 0).unwrap();
    let out = client.set_detection_list(id(ID), DetectionList::Possible, Some(at)).await.unwrap();
    assert_eq!(out, WriteOutcome::Created);
    m.assert_calls_async(2).await;
    assert_eq!(clock.sleeps().len(), 1, "one backoff wait before the retry");
}

#[test]
fn date_threshold_forms() {
    assert_eq!(DateThreshold::parse("2024-02-22").unwrap().to_form(), "2024-02-22");
}
