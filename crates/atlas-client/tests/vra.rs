#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The VRA endpoints against a mock ATLAS server.

mod common;

use atlas_client::{AtlasId, DateThreshold, Error, VraListQuery, VraRank, VraScores, WriteOutcome};
use chrono::{TimeZone, Utc};
use common::*;
use httpmock::prelude::*;
use serde_json::json;

fn id(s: &str) -> AtlasId {
    s.parse().unwrap()
}

#[tokio::test]
async fn write_vra_scores_exact_body_and_info_outcomes() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/vrascores/").header("authorization", AUTH).header("content-type", FORM).body(
                format!(
                    "objectid={ID}&preal=0.9&pgal=0.1&pfast=0.25&rank=7.5&rank_alt1=6&is_gal_cand=1&debug=True\
                     &insertdate=2026-07-01T12%3A30%3A00Z"
                ),
            );
            then.status(201).json_body(json!({"objectid": ID_U64, "info": "Row created."}));
        })
        .await;
    let m2 = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/vrascores/").body(format!("objectid={UNKNOWN}&preal=0.5&debug=False"));
            then.status(201).json_body(json!({"objectid": 1000000000000000501u64, "info": "Object does not exist."}));
        })
        .await;
    let (client, _) = client(&server);
    let row = VraScores::new(id(ID))
        .preal(0.9)
        .pgal(0.1)
        .pfast(0.25)
        .rank(7.5)
        .rank_alt1(6.0)
        .is_gal_cand(1)
        .debug(true)
        .insertdate(Utc.with_ymd_and_hms(2026, 7, 1, 12, 30, 0).unwrap());
    assert_eq!(client.write_vra_scores(&row).await.unwrap(), WriteOutcome::Created);
    let out = client.write_vra_scores(&VraScores::new(id(UNKNOWN)).preal(0.5).debug(false)).await.unwrap();
    assert_eq!(out, WriteOutcome::ObjectNotFound);
    assert!(!out.is_success(), "201 with 'Object does not exist.' is not a success");
    m.assert_async().await;
    m2.assert_async().await;
    // A probability outside [0, 1] never leaves the machine.
    let e = client.write_vra_scores(&VraScores::new(id(ID)).preal(1.5)).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "preal"), "{e}");
    m.assert_calls_async(1).await;
}

#[tokio::test]
async fn vra_scores_list_by_objects_and_thresholds() {
    let server = MockServer::start_async().await;
    let row = json!({"id": 1234, "transient_object_id": ID_U64, "preal": 0.9, "pgal": 0.1, "pfast": 0.2,
        "rank": 7.5, "rank_alt1": null, "is_gal_cand": 0, "timestamp": "2026-07-01T12:30:00Z",
        "apiusername": "vra_bot", "username": null, "debug": false});
    let by_objects = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/vrascoreslist/")
                .header("authorization", AUTH)
                .body(format!("objects={ID}%2C{ID2}&debug=False"));
            then.status(200).json_body(json!([row]));
        })
        .await;
    let by_threshold = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/vrascoreslist/").body("datethreshold=2024-02-22&idthreshold=1000");
            then.status(200).json_body(json!([row, row]));
        })
        .await;
    let (client, _) = client(&server);
    let rows = client.vra_scores_list(&VraListQuery::new().objects([id(ID), id(ID2)]).debug(false)).await.unwrap();
    assert_eq!(rows[0].transient_object_id.get(), ID_U64);
    assert_eq!(rows[0].id, Some(1234));
    assert_eq!(rows[0].rank, Some(7.5));
    assert_eq!(rows[0].apiusername.as_deref(), Some("vra_bot"));
    assert_eq!(rows[0].extra["username"], json!(null));
    let q = VraListQuery::new().date_threshold(DateThreshold::parse("2024-02-22").unwrap()).id_threshold(1000);
    assert_eq!(client.vra_scores_list(&q).await.unwrap().len(), 2);
    by_objects.assert_async().await;
    by_threshold.assert_async().await;
}

#[tokio::test]
async fn vra_todo_write_and_list() {
    let server = MockServer::start_async().await;
    let w = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/vratodo/").header("authorization", AUTH).body(format!("objectid={ID}"));
            then.status(201).json_body(json!({"objectid": ID_U64, "info": "Duplicate row. Cannot add row."}));
        })
        .await;
    let l = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/vratodolist/").body("datethreshold=2026-07-01T00%3A00%3A00Z");
            then.status(200).json_body(json!([{"transient_object_id": ID_U64, "timestamp": "2026-07-02T01:02:03"}]));
        })
        .await;
    let (client, _) = client(&server);
    assert_eq!(client.add_vra_todo(id(ID), None).await.unwrap(), WriteOutcome::Duplicate);
    let q = VraListQuery::new().date_threshold(Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap());
    let rows = client.vra_todo_list(&q).await.unwrap();
    assert_eq!(rows[0].transient_object_id.get(), ID_U64);
    assert_eq!(rows[0].timestamp.as_ref().unwrap().utc().unwrap().to_rfc3339(), "2026-07-02T01:02:03+00:00");
    w.assert_async().await;
    l.assert_async().await;
    // vratodolist/ has no debug filter: refused before sending.
    assert!(matches!(client.vra_todo_list(&VraListQuery::new().debug(true)).await, Err(Error::InvalidInput { .. })));
    l.assert_calls_async(1).await;
}

#[tokio::test]
async fn vra_rank_write_and_list() {
    let server = MockServer::start_async().await;
    let w = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/vrarank/")
                .header("authorization", AUTH)
                .body(format!("objectid={ID}&rank=8.25&rank_alt1=3&is_gal_cand=0"));
            then.status(201).json_body(json!({"objectid": ID_U64, "info": "Row created."}));
        })
        .await;
    let l = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/vraranklist/").body(format!("objects={ID}"));
            then.status(200).json_body(json!([{"transient_object_id": ID_U64, "rank": 8.25, "rank_alt1": 3.0,
                "is_gal_cand": 0, "timestamp": "2026-07-01T12:30:00.123456Z"}]));
        })
        .await;
    let (client, _) = client(&server);
    let r = VraRank::new(id(ID), 8.25).rank_alt1(3.0).is_gal_cand(0);
    assert_eq!(client.write_vra_rank(&r).await.unwrap(), WriteOutcome::Created);
    let rows = client.vra_rank_list(&VraListQuery::new().objects([id(ID)])).await.unwrap();
    assert_eq!(rows[0].rank, Some(8.25));
    assert!(rows[0].timestamp.as_ref().unwrap().utc().is_some());
    w.assert_async().await;
    l.assert_async().await;
    assert!(client.write_vra_rank(&VraRank::new(id(ID), f64::INFINITY)).await.is_err());
    assert!(client.vra_rank_list(&VraListQuery::new().id_threshold(3)).await.is_err());
    w.assert_calls_async(1).await;
    l.assert_calls_async(1).await;
}
