//! Candidate endpoints against a mock SkyPortal.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use httpmock::prelude::*;
use serde_json::json;
use skyportal_client::broker_core::Error;
use skyportal_client::candidates::{AnnotationFilter, NewCandidate, SavedStatus};

/// The objects the server splits on `,(?={)` (`handlers/api/candidate/candidate.py`),
/// each with `origin`, `key` and `value` or `min` and `max`.
const ANNOTATION_FILTERS: &str = r#"{"origin":"kowalski","key":"drb","min":0.5,"max":1.0},{"origin":"kowalski","key":"class","value":"Ia"},{"origin":"sherlock","key":"nuclear","value":true}"#;

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
                ("annotationFilterList", ANNOTATION_FILTERS),
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
                ("annotationFilterList", ANNOTATION_FILTERS),
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
        .annotation_filters([
            AnnotationFilter::range("kowalski", "drb", 0.5, 1.0),
            AnnotationFilter::equals("kowalski", "class", "Ia"),
            AnnotationFilter::equals("sherlock", "nuclear", true),
        ])
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
            when.method(GET).path("/api/candidates/ZTF1").is_true(exact_query(&[
                ("includeComments", "true"),
                ("includePhotometry", "true"),
                ("includeSpectra", "true"),
                ("includeAlerts", "false"),
            ]));
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
    let got = c
        .candidates()
        .get("ZTF1")
        .include_comments(true)
        .include_photometry(true)
        .include_spectra(true)
        .include_alerts(false)
        .send()
        .await
        .unwrap();
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

#[tokio::test]
async fn bad_annotation_filters_and_dropped_parameters_send_nothing() {
    let server = MockServer::start_async().await;
    let any = catch_all(&server).await;
    let (c, _) = client(&server);
    let list = || c.candidates().list();
    let e = list().annotation_filters([AnnotationFilter::equals("a", "b", "x,{y")]).page(1).await.unwrap_err();
    assert!(e.to_string().contains("where the server splits"), "{e}");
    let e = list().annotation_filters([AnnotationFilter::range("a", "b", 1.0, f64::NAN)]).page(1).await.unwrap_err();
    assert!(e.to_string().contains("finite"), "{e}");
    let e = list().annotation_filters([AnnotationFilter::equals("", "b", 1)]).page(1).await.unwrap_err();
    assert!(e.to_string().contains("origin and key"), "{e}");
    // The server answers 400 "annotationExcludeOrigin and annotationExcludeOutdatedDate
    // parameters are no longer supported".
    let e = list().param("annotationExcludeOrigin", "kowalski").page(1).await.unwrap_err();
    assert!(matches!(&e, Error::InvalidInput { message, .. } if message.contains("no longer supported")), "{e}");
    let e = list().param("nameOnly", true).page(1).await.unwrap_err();
    assert!(e.to_string().contains("ids_starting_with"), "{e}");
    assert!(c.candidates().ids_starting_with("", 10).await.is_err());
    assert!(c.candidates().get("ZTF 1").send().await.is_err());
    assert_eq!(any.calls_async().await, 0);
}

/// `nameOnly=true&objID=..` answers `{"candidates": [{"id": ..}]}` with no total and
/// ignores `pageNumber`: one request, never a stream that could ask the same page forever.
#[tokio::test]
async fn ids_starting_with_is_one_request() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/candidates").is_true(exact_query(&[
                ("nameOnly", "true"),
                ("objID", "ZTF21"),
                ("numPerPage", "2"),
            ]));
            then.json_body(ok(json!({"candidates": [{"id": "ZTF21aaa"}, {"id": "ZTF21aab"}]})));
        })
        .await;
    let (c, _) = client(&server);
    assert_eq!(c.candidates().ids_starting_with("ZTF21", 2).await.unwrap(), ["ZTF21aaa", "ZTF21aab"]);
    m.assert_calls_async(1).await;
}

#[tokio::test]
async fn photometry_annotation_filters_use_server_names() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/candidates").is_true(exact_query(&[
                ("photometryAnnotationsFilter", "drb: 0.5: gt,acai_h"),
                ("photometryAnnotationsFilterOrigin", "kowalski,acai"),
                ("photometryAnnotationsFilterBefore", "2024-02-01T00:00:00"),
                ("photometryAnnotationsFilterAfter", "2024-01-01T00:00:00"),
                ("photometryAnnotationsFilterMinCount", "2"),
                ("includeAssociatedObjs", "false"),
                ("pageNumber", "1"),
                ("numPerPage", "500"),
            ]));
            then.json_body(ok(
                json!({"candidates": [], "totalMatches": 0, "pageNumber": 1, "numPerPage": 500, "queryID": "q"}),
            ));
        })
        .await;
    let (c, _) = client(&server);
    let p = c
        .candidates()
        .list()
        .photometry_annotations_filter(["drb: 0.5: gt", "acai_h"])
        .photometry_annotations_filter_origin(["kowalski", "acai"])
        .photometry_annotations_filter_before("2024-02-01T00:00:00")
        .photometry_annotations_filter_after("2024-01-01T00:00:00")
        .photometry_annotations_filter_min_count(2)
        .include_associated_objs(false)
        .page(1)
        .await
        .unwrap();
    assert!(p.items.is_empty());
    m.assert_async().await;
}
