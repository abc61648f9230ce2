//! Source endpoints against a mock SkyPortal.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::json;
use skyportal_client::sources::{NewSource, SourceUpdate};

#[tokio::test]
async fn list_streams_three_pages_carrying_query_id() {
    let server = MockServer::start_async().await;
    let page = |n: usize, ids: &[&str]| {
        let sources: Vec<_> = ids.iter().map(|i| source_json(i, 10.0)).collect();
        let _ = n;
        sources
    };
    let p1 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/sources")
                .header("Authorization", AUTH)
                .is_true(exact_query(&[
                    ("group_ids", "4,71"),
                    ("includePhotometry", "false"),
                    ("pageNumber", "1"),
                    ("numPerPage", "2"),
                    ("useCache", "true"),
                ]));
            then.status(200).json_body(ok(json!({
                "sources": page(1, &["ZTF1", "ZTF2"]), "totalMatches": 5, "pageNumber": 1,
                "numPerPage": 2, "queryID": "q-abc", "group_id": 4
            })));
        })
        .await;
    let p2 = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources").is_true(exact_query(&[
                ("group_ids", "4,71"),
                ("includePhotometry", "false"),
                ("pageNumber", "2"),
                ("numPerPage", "2"),
                ("useCache", "true"),
                ("queryID", "q-abc"),
            ]));
            then.status(200).json_body(ok(json!({
                "sources": page(2, &["ZTF3", "ZTF4"]), "totalMatches": 5, "pageNumber": 2,
                "numPerPage": 2, "queryID": "q-abc"
            })));
        })
        .await;
    let p3 = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources").is_true(exact_query(&[
                ("group_ids", "4,71"),
                ("includePhotometry", "false"),
                ("pageNumber", "3"),
                ("numPerPage", "2"),
                ("useCache", "true"),
                ("queryID", "q-abc"),
            ]));
            then.status(200).json_body(ok(json!({
                "sources": page(3, &["ZTF5"]), "totalMatches": 5, "pageNumber": 3,
                "numPerPage": 2, "queryID": "q-abc"
            })));
        })
        .await;
    let (c, _) = client(&server);
    let mut s = c.sources().list().group_ids([4, 71]).include_photometry(false).page_size(2).stream();
    let mut ids = Vec::new();
    while let Some(src) = s.next().await {
        ids.push(src.unwrap().id);
    }
    assert_eq!(ids, ["ZTF1", "ZTF2", "ZTF3", "ZTF4", "ZTF5"]);
    assert_eq!(s.total(), Some(5));
    p1.assert_async().await;
    p2.assert_async().await;
    p3.assert_async().await;
}
