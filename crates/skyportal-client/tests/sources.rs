//! Source endpoints against a mock SkyPortal.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::json;
use skyportal_client::broker_core::Error;
use skyportal_client::sources::{NewSource, SourceUpdate};

#[tokio::test]
async fn list_streams_three_pages_carrying_query_id() {
    let server = MockServer::start_async().await;
    let page = |ids: &[&str]| ids.iter().map(|i| source_json(i, 10.0)).collect::<Vec<_>>();
    let mut mocks = Vec::new();
    for (n, ids, qid) in
        [(1, vec!["ZTF1", "ZTF2"], None), (2, vec!["ZTF3", "ZTF4"], Some("q-abc")), (3, vec!["ZTF5"], Some("q-abc"))]
    {
        let n_s = n.to_string();
        let mut want =
            vec![("group_ids", "4,71"), ("pageNumber", n_s.as_str()), ("numPerPage", "2"), ("useCache", "true")];
        if let Some(q) = qid {
            want.push(("queryID", q));
        }
        let matcher = exact_query(&want);
        let body = ok(json!({
            "sources": page(&ids), "totalMatches": 5, "pageNumber": n, "numPerPage": 2, "queryID": "q-abc", "group_id": 4
        }));
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(GET).path("/api/sources").header("Authorization", AUTH).is_true(matcher);
                    then.status(200).json_body(body);
                })
                .await,
        );
    }
    let (c, _) = client(&server);
    let mut s = c.sources().list().group_ids([4, 71]).page_size(2).stream();
    let mut got = Vec::new();
    while let Some(src) = s.next().await {
        got.push(src.unwrap());
    }
    let ids: Vec<&str> = got.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["ZTF1", "ZTF2", "ZTF3", "ZTF4", "ZTF5"]);
    assert_eq!(s.total(), Some(5));
    let first = &got[0];
    assert_eq!(first.redshift, Some(0.0345));
    assert_eq!(first.tns_name.as_deref(), Some("2021abc"));
    assert_eq!(first.groups.as_ref().unwrap()[0].id, Some(4));
    assert_eq!(first.classifications.as_ref().unwrap()[0].classification.as_deref(), Some("Ia"));
    assert_eq!(first.extra["healpix"], 1234567);
    for m in &mocks {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn list_filters_use_server_names_and_never_total_matches() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources").query_param_missing("totalMatches").is_true(exact_query(&[
                ("ra", "353.36647"),
                ("dec", "33.646149"),
                ("radius", "0.01"),
                ("classifications", "Sitewide Taxonomy: Type II,Sitewide Taxonomy: AGN"),
                ("savedAfter", "2024-01-01T00:00:00"),
                ("hasTNSname", "true"),
                ("minRedshift", "0.01"),
                ("sortBy", "saved_at"),
                ("sortOrder", "desc"),
                ("sourceID", "ZTF21"),
                ("pageNumber", "1"),
                ("numPerPage", "500"),
            ]));
            then.status(200)
                .json_body(ok(json!({"sources": [], "totalMatches": 0, "pageNumber": 1, "numPerPage": 500})));
        })
        .await;
    let (c, _) = client(&server);
    let all = c
        .sources()
        .list()
        .cone(353.36647, 33.646149, 0.01)
        .classifications(["Sitewide Taxonomy: Type II", "Sitewide Taxonomy: AGN"])
        .saved_after("2024-01-01T00:00:00")
        .has_tns_name(true)
        .min_redshift(0.01)
        .sort_by("saved_at")
        .sort_order("desc")
        .source_id("ZTF21")
        .use_cache(false)
        .collect_all()
        .await
        .unwrap();
    assert!(all.is_empty());
    m.assert_async().await;
}

#[tokio::test]
async fn list_stops_on_short_page_when_server_clamps() {
    // The server says it used numPerPage=2 although 3 were asked: a page of 2 is full.
    let server = MockServer::start_async().await;
    let p1 = server
        .mock_async(|when, then| {
            when.path("/api/sources").query_param("pageNumber", "1");
            then.json_body(ok(json!({"sources": [source_json("A", 1.0), source_json("B", 1.0)], "pageNumber": 1, "numPerPage": 2, "queryID": "q"})));
        })
        .await;
    let p2 = server
        .mock_async(|when, then| {
            when.path("/api/sources").query_param("pageNumber", "2").query_param("queryID", "q");
            then.json_body(ok(
                json!({"sources": [source_json("C", 1.0)], "pageNumber": 2, "numPerPage": 2, "queryID": "q"}),
            ));
        })
        .await;
    let (c, _) = client(&server);
    let all = c.sources().list().page_size(3).collect_all().await.unwrap();
    assert_eq!(all.len(), 3);
    p1.assert_async().await;
    p2.assert_async().await;
}

#[tokio::test]
async fn one_page_reports_metadata() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/api/sources").is_true(exact_query(&[
                ("group_ids", "4"),
                ("pageNumber", "3"),
                ("numPerPage", "100"),
                ("useCache", "true"),
                ("queryID", "abc"),
            ]));
            then.json_body(ok(json!({"sources": [source_json("ZTF9", 2.0)], "totalMatches": 201, "pageNumber": 3, "numPerPage": 100, "queryID": "abc", "group_id": 4})));
        })
        .await;
    let (c, _) = client(&server);
    let p = c.sources().list().group_ids([4]).page_size(100).query_id("abc").page(3).await.unwrap();
    assert_eq!(
        (p.total_matches, p.page_number, p.num_per_page, p.query_id.as_deref()),
        (Some(201), Some(3), Some(100), Some("abc"))
    );
    assert_eq!(p.items[0].id, "ZTF9");
    m.assert_async().await;
}

#[tokio::test]
async fn bad_filters_fail_before_any_request() {
    let server = MockServer::start_async().await;
    let any = catch_all(&server).await;
    let (c, _) = client(&server);
    let e = c.sources().list().page_size(1000).collect_all().await.unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { field, message } if field == "num_per_page" && message.contains("1 to 500")),
        "{e}"
    );
    let e = c.sources().list().cone(10.0, 95.0, 0.1).collect_all().await.unwrap_err();
    assert!(e.to_string().contains("[-90, 90]"), "{e}");
    let e = c.sources().list().param("totalMatches", 5).collect_all().await.unwrap_err();
    assert!(e.to_string().contains("never send"), "{e}");
    let e = c.sources().list().group_ids([]).page(1).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }));
    let e = c.sources().get("ZTF/../x").send().await.unwrap_err();
    assert!(e.to_string().contains("not a valid object id"), "{e}");
    assert!(c.sources().exists("a b").await.is_err());
    assert!(c.sources().create(&NewSource::new("ZTF1", 400.0, 0.0)).await.is_err());
    assert!(c.sources().update("ZTF1", &SourceUpdate::default()).await.is_err());
    assert!(c.sources().save_to_groups("ZTF1", &[], &[]).await.is_err());
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn get_with_options() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF21aaqjmps").header("Authorization", AUTH).is_true(exact_query(&[
                ("includePhotometry", "true"),
                ("includeComments", "true"),
                ("includeThumbnails", "false"),
                ("includeRequested", "true"),
                ("pendingOnly", "false"),
                ("includeGCNCrossmatches", "true"),
                ("includeGCNNotes", "true"),
                ("includeAssociatedObjs", "false"),
                ("includeSuperObjs", "true"),
            ]));
            let mut s = source_json("ZTF21aaqjmps", 353.36647);
            s["photometry"] = json!([phot_json(7, 59410.3, "ztfr", Some(19.2))]);
            s["comments"] = json!([{"id": 3, "text": "nice", "author_id": 2, "obj_id": "ZTF21aaqjmps", "bot": true,
                                    "author": {"username": "bot"}}]);
            then.status(200).json_body(ok(s));
        })
        .await;
    let (c, _) = client(&server);
    let s = c
        .sources()
        .get("ZTF21aaqjmps")
        .include_photometry(true)
        .include_comments(true)
        .include_thumbnails(false)
        .include_requested(true)
        .pending_only(false)
        .include_gcn_crossmatches(true)
        .include_gcn_notes(true)
        .include_associated_objs(false)
        .include_super_objs(true)
        .send()
        .await
        .unwrap();
    assert_eq!(s.ra, Some(353.36647));
    assert_eq!(s.photometry.as_ref().unwrap()[0].mag, Some(19.2));
    assert_eq!(s.comments.as_ref().unwrap()[0].text.as_deref(), Some("nice"));
    assert_eq!(s.comments.as_ref().unwrap()[0].extra["author"]["username"], "bot");
    m.assert_async().await;
}

#[tokio::test]
async fn get_missing_is_404_not_found() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/sources/ZTF00nope");
            then.status(404).json_body(err("Source not found"));
        })
        .await;
    let (c, _) = client(&server);
    let e = c.sources().get("ZTF00nope").send().await.unwrap_err();
    assert!(skyportal_client::is_not_found(&e), "{e}");
    assert_eq!(e.as_http().unwrap().message.as_deref(), Some("Source not found"));
}

#[tokio::test]
async fn exists_uses_head_and_empty_404() {
    let server = MockServer::start_async().await;
    let yes = server
        .mock_async(|when, then| {
            when.method("HEAD").path("/api/sources/ZTF1").header("Authorization", AUTH);
            then.status(200);
        })
        .await;
    let no = server
        .mock_async(|when, then| {
            when.method("HEAD").path("/api/sources/ZTF2");
            then.status(404);
        })
        .await;
    let (c, _) = client(&server);
    assert!(c.sources().exists("ZTF1").await.unwrap());
    assert!(!c.sources().exists("ZTF2").await.unwrap());
    yes.assert_async().await;
    no.assert_async().await;
}

#[tokio::test]
async fn create_posts_obj_with_groups() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/sources")
                .header("Authorization", AUTH)
                .header("content-type", "application/json")
                .json_body(json!({
                    "id": "14gqr", "ra": 353.36647, "dec": 33.646149, "group_ids": [52, 97]
                }));
            then.json_body(ok(json!({"id": "14gqr", "saved_to_groups": [52, 97]})));
        })
        .await;
    let (c, _) = client(&server);
    let r = c.sources().create(&NewSource::new("14gqr", 353.36647, 33.646149).group_ids([52, 97])).await.unwrap();
    assert_eq!(r.id, "14gqr");
    assert_eq!(r.saved_to_groups, Some(vec![52, 97]));
    m.assert_async().await;
}

#[tokio::test]
async fn update_patches_only_given_fields() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path("/api/sources/ZTF1")
                .json_body(json!({"redshift": 0.05, "redshift_origin": "host"}));
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    let u = SourceUpdate { redshift: Some(0.05), redshift_origin: Some("host".into()), ..Default::default() };
    c.sources().update("ZTF1", &u).await.unwrap();
    m.assert_async().await;
}

#[tokio::test]
async fn unsave_sends_group_id_in_json_body() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/sources/ZTF1").json_body(json!({"group_id": 4})).is_true(exact_query(&[]));
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    c.sources().unsave_from_group("ZTF1", 4).await.unwrap();
    m.assert_async().await;
}

#[tokio::test]
async fn save_and_unsave_via_source_groups() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/source_groups")
                .json_body(json!({"objId": "ZTF1", "inviteGroupIds": [4, 71], "unsaveGroupIds": [3]}));
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    c.sources().save_to_groups("ZTF1", &[4, 71], &[3]).await.unwrap();
    m.assert_async().await;
}

#[tokio::test]
async fn groups_of_a_source() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF1/groups");
            then.json_body(ok(json!([{"id": 4, "name": "Program A", "nickname": "progA", "description": null, "private": false, "single_user_group": false}])));
        })
        .await;
    let (c, _) = client(&server);
    let g = c.sources().groups("ZTF1").await.unwrap();
    assert_eq!((g[0].id, g[0].nickname.as_deref()), (Some(4), Some("progA")));
    m.assert_async().await;
}

#[tokio::test]
async fn save_summary_streams_free_json() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/api/sources").query_param("saveSummary", "true").query_param("group_ids", "4");
            then.json_body(ok(json!({"sources": [{"obj_id": "ZTF1", "group_id": 4, "saved_at": "2024-01-01T00:00:00"}], "totalMatches": 1, "pageNumber": 1, "numPerPage": 500})));
        })
        .await;
    let (c, _) = client(&server);
    let rows: Vec<_> = c.sources().list().group_ids([4]).save_summary().collect_all().await.unwrap();
    assert_eq!(rows[0]["obj_id"], "ZTF1");
    m.assert_async().await;
}

/// The server (`get_sources`, `handlers/api/sources.py`) answers 400 "Cannot use cache and
/// not specify a query_id when requesting a page number > 1" and "... specify a query_id
/// when requesting the first page": both are refused before any request.
#[tokio::test]
async fn cached_pages_follow_the_server_query_id_rules() {
    let server = MockServer::start_async().await;
    let any = catch_all(&server).await;
    let (c, _) = client(&server);
    let e = c.sources().list().page(2).await.unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { field, message } if field == "page_number" && message.contains("needs its queryID")),
        "{e}"
    );
    let e = c.sources().list().query_id("abc").page(1).await.unwrap_err();
    assert!(e.to_string().contains("page 1 of a cached query is asked without a queryID"), "{e}");
    let e = c.sources().list().query_id("abc").start_page(1).collect_all().await.unwrap_err();
    assert!(e.to_string().contains("page 1 of a cached query"), "{e}");
    let e = c.sources().list().start_page(3).collect_all().await.unwrap_err();
    assert!(e.to_string().contains("page 3 of a cached query needs its queryID"), "{e}");
    let e = c.sources().list().use_cache(false).query_id("abc").page(2).await.unwrap_err();
    assert!(matches!(&e, Error::InvalidInput { field, .. } if field == "query_id"), "{e}");
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn a_page_without_the_cache_needs_no_query_id() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.path("/api/sources").is_true(exact_query(&[("pageNumber", "2"), ("numPerPage", "10")]));
            then.json_body(ok(
                json!({"sources": [source_json("ZTF11", 2.0)], "totalMatches": 11, "pageNumber": 2, "numPerPage": 10}),
            ));
        })
        .await;
    let (c, _) = client(&server);
    let p = c.sources().list().use_cache(false).page_size(10).page(2).await.unwrap();
    assert_eq!(p.items[0].id, "ZTF11");
    m.assert_async().await;
}

/// A stream given a query id starts at page 2 with it, and stops at `totalMatches` although
/// it never saw page 1 (the last page here is full, so no short page ends it).
#[tokio::test]
async fn a_stream_continuing_a_query_id_starts_at_page_2_and_stops_at_the_total() {
    let server = MockServer::start_async().await;
    let mut mocks = Vec::new();
    for (n, ids) in [(2, ["ZTF3", "ZTF4"]), (3, ["ZTF5", "ZTF6"])] {
        let n_s = n.to_string();
        let matcher =
            exact_query(&[("pageNumber", &n_s), ("numPerPage", "2"), ("useCache", "true"), ("queryID", "q-abc")]);
        let body = ok(json!({
            "sources": ids.iter().map(|i| source_json(i, 1.0)).collect::<Vec<_>>(),
            "totalMatches": 6, "pageNumber": n, "numPerPage": 2, "queryID": "q-abc"
        }));
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(GET).path("/api/sources").is_true(matcher);
                    then.json_body(body);
                })
                .await,
        );
    }
    let other = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(400).json_body(err("Cannot retrieve sources: unexpected page"));
        })
        .await;
    let (c, _) = client(&server);
    let mut s = c.sources().list().page_size(2).query_id("q-abc").stream();
    let mut got = Vec::new();
    while let Some(src) = s.next().await {
        got.push(src.unwrap().id);
    }
    assert_eq!(got, ["ZTF3", "ZTF4", "ZTF5", "ZTF6"]);
    assert_eq!(s.total(), Some(6));
    for m in &mocks {
        m.assert_async().await;
    }
    assert_eq!(other.calls_async().await, 0, "no page 1, no page 4");

    // A chosen start page.
    let got: Vec<String> = c
        .sources()
        .list()
        .page_size(2)
        .query_id("q-abc")
        .start_page(3)
        .collect_all()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(got, ["ZTF5", "ZTF6"]);
}

#[tokio::test]
async fn source_exists_by_name_and_position_and_tns_refresh() {
    let server = MockServer::start_async().await;
    let named = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/source_exists/ZTF21abc").is_true(exact_query(&[]));
            then.json_body(ok(
                json!({"source_exists": true, "message": "A source with the name ZTF21abc already exists."}),
            ));
        })
        .await;
    let near = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/source_exists").is_true(exact_query(&[
                ("ra", "10.5"),
                ("dec", "-20.25"),
                ("radius", "0.001"),
            ]));
            then.json_body(ok(json!({"source_exists": false, "message": "No sources exist at this location."})));
        })
        .await;
    let tns = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF21abc/tns").is_true(exact_query(&[("radius", "5")]));
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    let e = c.sources().exists_named("ZTF21abc").await.unwrap();
    assert!(e.source_exists);
    assert!(e.message.unwrap().contains("already exists"));
    assert!(!c.sources().exists_near(10.5, -20.25, 0.001).await.unwrap().source_exists);
    c.sources().refresh_tns("ZTF21abc", Some(5.0)).await.unwrap();
    // The server takes a coordinate of 0 as missing (`all([ra, dec, radius])`): refused here.
    let e = c.sources().exists_near(10.5, 0.0, 0.001).await.unwrap_err();
    assert!(matches!(&e, Error::InvalidInput { field, .. } if field == "dec"), "{e}");
    assert!(c.sources().exists_near(10.5, 95.0, 0.001).await.is_err());
    assert!(c.sources().refresh_tns("ZTF21abc", Some(-1.0)).await.is_err());
    for m in [&named, &near, &tns] {
        m.assert_calls_async(1).await;
    }
}
