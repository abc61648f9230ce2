//! Classification, comment and annotation endpoints against a mock SkyPortal.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use httpmock::prelude::*;
use serde_json::json;
use skyportal_client::broker_core::Error;
use skyportal_client::classifications::{ClassificationUpdate, NewClassification};
use skyportal_client::comments::{AnnotationTarget, CommentTarget, NewComment};

fn classification(id: i64) -> serde_json::Value {
    json!({"id": id, "classification": "Ia", "taxonomy_id": 1, "probability": 0.92, "author_id": 2,
           "author_name": "fritz-bot", "obj_id": "ZTF1", "origin": "SCoPe", "ml": true,
           "created_at": "2024-05-01T00:00:00", "groups": [{"id": 4, "name": "Program A"}]})
}

#[tokio::test]
async fn list_is_paged_under_classifications() {
    let server = MockServer::start_async().await;
    let p1 = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/classification").is_true(exact_query(&[
                ("startDate", "2024-01-01"),
                ("includeTaxonomy", "true"),
                ("pageNumber", "1"),
                ("numPerPage", "2"),
            ]));
            then.json_body(ok(json!({"classifications": [classification(1), classification(2)], "totalMatches": 4})));
        })
        .await;
    let p2 = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/classification").query_param("pageNumber", "2").query_param("numPerPage", "2");
            then.json_body(ok(json!({"classifications": [classification(3), classification(4)], "totalMatches": 4})));
        })
        .await;
    let (c, _) = client(&server);
    let all = c
        .classifications()
        .list()
        .start_date("2024-01-01")
        .include_taxonomy(true)
        .page_size(2)
        .stream()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(all.iter().map(|c| c.id.unwrap()).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(all[0].ml, Some(true));
    p1.assert_async().await;
    p2.assert_async().await;
}

#[tokio::test]
async fn for_source_get_create_update_delete() {
    let server = MockServer::start_async().await;
    let s = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF1/classifications");
            then.json_body(ok(json!([classification(1)])));
        })
        .await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/classification/1");
            then.json_body(ok(classification(1)));
        })
        .await;
    let p = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/classification").json_body(json!({"obj_id": "ZTF1", "classification": "Ia", "taxonomy_id": 1, "probability": 0.92, "group_ids": [4]}));
            then.json_body(ok(json!({"classification_id": 17})));
        })
        .await;
    let u = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/classification/17").json_body(json!({"probability": 0.5, "ml": true}));
            then.json_body(ok(json!({})));
        })
        .await;
    let g17 = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/classification/17");
            then.json_body(ok(classification(17)));
        })
        .await;
    let d = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/classification/17");
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    assert_eq!(c.classifications().for_source("ZTF1").await.unwrap()[0].probability, Some(0.92));
    assert_eq!(c.classifications().get(1).await.unwrap().author_name.as_deref(), Some("fritz-bot"));
    let mut n = NewClassification::new("ZTF1", "Ia", 1, Some(0.92));
    n.group_ids = Some(vec![4]);
    assert_eq!(c.classifications().create(&n).await.unwrap(), 17);
    c.classifications()
        .update(17, &ClassificationUpdate { probability: Some(0.5), ..Default::default() })
        .await
        .unwrap();
    c.classifications().delete(17).await.unwrap();
    for m in [&s, &g, &p, &u, &d, &g17] {
        m.assert_async().await;
    }
    let e = c.classifications().create(&NewClassification::new("ZTF1", "Ia", 1, Some(1.5))).await.unwrap_err();
    assert!(e.to_string().contains("[0, 1]"), "{e}");
    let e = c
        .classifications()
        .create_many(&[
            NewClassification::new("ZTF1", "Ia", 1, None),
            NewClassification::new("ZTF2", "II", 1, Some(-0.1)),
        ])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("classifications[1].probability"), "{e}");
    assert!(e.to_string().contains("[0, 1]"), "{e}");
}

#[tokio::test]
async fn comments_on_sources_and_spectra() {
    let server = MockServer::start_async().await;
    let l1 = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF1/comments").is_true(exact_query(&[]));
            then.json_body(ok(json!([
                {"id": 1, "text": "Looks like a SN Ia", "author_id": 2, "obj_id": "ZTF1", "bot": false, "resourceType": "sources", "author": {"username": "ann"}},
                {"id": 2, "text": "agreed", "author_id": 3, "obj_id": "ZTF1", "bot": true},
                {"id": 3, "text": "spectrum soon", "author_id": 2, "obj_id": "ZTF1"}
            ])));
        })
        .await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/spectra/9/comments/5");
            then.json_body(ok(json!({"id": 5, "text": "telluric", "spectrum_id": 9, "author_id": 2})));
        })
        .await;
    let p = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/sources/ZTF1/comments")
                .json_body(json!({"text": "Classified by bot", "group_ids": [4]}));
            then.json_body(ok(json!({"comment_id": 77})));
        })
        .await;
    let u = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/gcn_event/12/comments/78").json_body(json!({"text": "edited"}));
            then.json_body(ok(json!({})));
        })
        .await;
    let d = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/sources/ZTF1/comments/77");
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    let src = CommentTarget::Source("ZTF1".into());
    let all = c.comments().list(&src).await.unwrap();
    assert_eq!(all.iter().map(|c| c.id.unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(all[0].extra["author"]["username"], "ann");
    assert_eq!(c.comments().get(&CommentTarget::Spectrum(9), 5).await.unwrap().spectrum_id, Some(9));
    assert_eq!(c.comments().create(&src, &NewComment::text("Classified by bot").group_ids([4])).await.unwrap(), 77);
    c.comments().update(&CommentTarget::GcnEvent(12), 78, "edited", None).await.unwrap();
    c.comments().delete(&src, 77).await.unwrap();
    for m in [&l1, &g, &p, &u, &d] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn annotations_on_sources_spectra_photometry() {
    let server = MockServer::start_async().await;
    let l = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF1/annotations");
            then.json_body(ok(json!([{"id": 1, "origin": "gaia_dr3", "data": {"Mag_G": 17.3, "Plx": 0.2}, "author_id": 2, "obj_id": "ZTF1"}])));
        })
        .await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/spectra/9/annotations/3");
            then.json_body(ok(json!({"id": 3, "origin": "snid", "data": {"type": "Ia-norm", "z": 0.034}})));
        })
        .await;
    let p = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/photometry/42/annotations")
                .json_body(json!({"origin": "fp_check", "data": {"ok": true}}));
            then.json_body(ok(json!({"annotation_id": 8})));
        })
        .await;
    let u = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/api/sources/ZTF1/annotations/1")
                .json_body(json!({"data": {"Mag_G": 17.4}, "group_ids": [4]}));
            then.json_body(ok(json!({})));
        })
        .await;
    let d = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/sources/ZTF1/annotations/1");
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    let src = AnnotationTarget::Source("ZTF1".into());
    let a = c.annotations().list(&src).await.unwrap();
    assert_eq!(a[0].data.as_ref().unwrap()["Mag_G"], 17.3);
    assert_eq!(c.annotations().get(&AnnotationTarget::Spectrum(9), 3).await.unwrap().origin.as_deref(), Some("snid"));
    assert_eq!(
        c.annotations()
            .create(&AnnotationTarget::Photometry(42), "fp_check", &json!({"ok": true}), None)
            .await
            .unwrap(),
        8
    );
    c.annotations().update(&src, 1, &json!({"Mag_G": 17.4}), Some(&[4])).await.unwrap();
    c.annotations().delete(&src, 1).await.unwrap();
    for m in [&l, &g, &p, &u, &d] {
        m.assert_async().await;
    }
    assert!(c.annotations().create(&src, "-bad", &json!({}), None).await.is_err());
    assert!(c.annotations().create(&src, "ok", &json!([1]), None).await.is_err());
}

#[tokio::test]
async fn several_classifications_in_one_request() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/classification").json_body(json!({"classifications": [
                {"obj_id": "ZTF1", "classification": "Ia", "taxonomy_id": 1, "probability": 0.9},
                {"obj_id": "ZTF2", "classification": "AGN", "taxonomy_id": 1, "ml": true}
            ]}));
            then.json_body(ok(json!({"classification_ids": [31, 32]})));
        })
        .await;
    let (c, _) = client(&server);
    let mut agn = NewClassification::new("ZTF2", "AGN", 1, None);
    agn.ml = Some(true);
    let ids =
        c.classifications().create_many(&[NewClassification::new("ZTF1", "Ia", 1, Some(0.9)), agn]).await.unwrap();
    assert_eq!(ids, vec![31, 32]);
    m.assert_async().await;
}

/// The server writes `ml = data.get("ml", False)` on every PUT
/// (`handlers/api/classification.py`): an update of an ML classification must send
/// `ml: true` back, read from the classification when the caller did not set it.
#[tokio::test]
async fn update_keeps_an_ml_classification_ml() {
    let server = MockServer::start_async().await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/classification/21");
            let mut c = classification(21);
            c["ml"] = json!(true);
            then.json_body(ok(c));
        })
        .await;
    let u = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/classification/21").json_body(json!({"probability": 0.7, "ml": true}));
            then.json_body(ok(json!({})));
        })
        .await;
    let given = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/classification/22").json_body(json!({"classification": "II", "ml": false}));
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    c.classifications()
        .update(21, &ClassificationUpdate { probability: Some(0.7), ..Default::default() })
        .await
        .unwrap();
    // An explicit ml is sent as given, without a read.
    let set = ClassificationUpdate { classification: Some("II".into()), ml: Some(false), ..Default::default() };
    c.classifications().update(22, &set).await.unwrap();
    g.assert_calls_async(1).await;
    u.assert_async().await;
    given.assert_async().await;
}

/// A missing (or unreadable) annotation or comment id is a 403 "Could not find any
/// accessible annotations." (`handlers/api/annotation.py`): a not-found, not an auth error.
#[tokio::test]
async fn missing_annotation_or_comment_is_not_found() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF1/annotations/99");
            then.status(403).json_body(err("Could not find any accessible annotations."));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF1/comments/98");
            then.status(403).json_body(err("Could not find any accessible comments."));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF1/annotations");
            then.status(403).json_body(err("Insufficient permissions"));
        })
        .await;
    let (c, _) = client(&server);
    let src = AnnotationTarget::Source("ZTF1".into());
    let e = c.annotations().get(&src, 99).await.unwrap_err();
    assert!(skyportal_client::is_not_found(&e), "{e:?}");
    assert_eq!(e.status(), Some(403));
    assert!(!matches!(e, Error::Auth { .. }), "{e:?}");
    let e = c.comments().get(&CommentTarget::Source("ZTF1".into()), 98).await.unwrap_err();
    assert!(skyportal_client::is_not_found(&e), "{e:?}");
    // Other 403s stay permission errors.
    let e = c.annotations().list(&src).await.unwrap_err();
    assert!(matches!(e, Error::Auth { status: Some(403), .. }), "{e:?}");
    assert!(!skyportal_client::is_not_found(&e));
}

/// Comments on a source live in its main thread or in a named conversation
/// (`handlers/api/comment.py`: the list filters `Comment.channel == channel` or `IS NULL`;
/// POST reads `data.get("channel")`; `/comments/channels` lists the names).
#[tokio::test]
async fn comment_channels_on_sources() {
    let server = MockServer::start_async().await;
    let post = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/sources/ZTF1/comments")
                .json_body(json!({"text": "seen at Keck", "channel": "followup"}));
            then.json_body(ok(json!({"comment_id": 31})));
        })
        .await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF1/comments").is_true(exact_query(&[("channel", "followup")]));
            then.json_body(ok(json!([{"id": 31, "text": "seen at Keck", "obj_id": "ZTF1", "channel": "followup"}])));
        })
        .await;
    let names = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/sources/ZTF1/comments/channels");
            then.json_body(ok(json!(["classification", "followup"])));
        })
        .await;
    let (c, _) = client(&server);
    let src = CommentTarget::Source("ZTF1".into());
    assert_eq!(c.comments().create(&src, &NewComment::text("seen at Keck").channel("followup")).await.unwrap(), 31);
    let got = c.comments().list_channel("ZTF1", "followup").await.unwrap();
    assert_eq!(got[0].channel.as_deref(), Some("followup"));
    assert_eq!(c.comments().channels("ZTF1").await.unwrap(), ["classification", "followup"]);
    let e = c.comments().create(&CommentTarget::Spectrum(3), &NewComment::text("x").channel("a")).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "channel"), "{e}");
    for m in [&post, &list, &names] {
        m.assert_async().await;
    }
}
