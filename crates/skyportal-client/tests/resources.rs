//! Groups, streams, filters, instruments, telescopes, taxonomies, allocations,
//! assignments, follow-up requests, GCN events, galaxies and config against a mock SkyPortal.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use httpmock::prelude::*;
use serde_json::json;
use skyportal_client::followup::NewFollowupRequest;
use skyportal_client::resources::NewAssignment;

#[tokio::test]
async fn groups_streams_filters() {
    let server = MockServer::start_async().await;
    let gl = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/groups").is_true(exact_query(&[("includeSingleUserGroups", "true")]));
            then.json_body(ok(json!({
                "user_groups": [{"id": 4, "name": "Program A", "nickname": "progA", "private": false, "single_user_group": false}],
                "user_accessible_groups": [{"id": 4, "name": "Program A"}, {"id": 1, "name": "Sitewide Group"}],
                "all_groups": null})));
        })
        .await;
    let gn = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/groups").is_true(exact_query(&[("name", "Program A")]));
            then.json_body(ok(json!([{"id": 4, "name": "Program A"}])));
        })
        .await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/groups/4").is_true(exact_query(&[("includeGroupUsers", "false")]));
            then.json_body(ok(json!({"id": 4, "name": "Program A", "streams": [{"id": 2}], "filters": []})));
        })
        .await;
    let sl = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/streams");
            then.json_body(ok(
                json!([{"id": 2, "name": "ZTF Public", "altdata": {"collection": "ZTF_alerts", "selector": [1]}}]),
            ));
        })
        .await;
    let s = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/streams/2");
            then.json_body(ok(json!({"id": 2, "name": "ZTF Public"})));
        })
        .await;
    let fl = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/filters");
            then.json_body(ok(json!([{"id": 3, "name": "bright transients", "stream_id": 2, "group_id": 4}])));
        })
        .await;
    let f = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/filters/3");
            then.json_body(ok(
                json!({"id": 3, "name": "bright transients", "stream_id": 2, "group_id": 4, "altdata": null}),
            ));
        })
        .await;
    let (c, _) = client(&server);
    let r = c.resources();
    let listing = r.groups(true).await.unwrap();
    assert_eq!(
        (listing.user_groups.len(), listing.user_accessible_groups.len(), listing.all_groups.is_none()),
        (1, 2, true)
    );
    assert_eq!(r.groups_named("Program A").await.unwrap()[0].id, Some(4));
    assert_eq!(r.group(4, false).await.unwrap().extra["streams"][0]["id"], 2);
    assert_eq!(r.streams().await.unwrap()[0].altdata.as_ref().unwrap()["collection"], "ZTF_alerts");
    assert_eq!(r.stream(2).await.unwrap().name.as_deref(), Some("ZTF Public"));
    assert_eq!(r.filters().await.unwrap()[0].group_id, Some(4));
    assert_eq!(r.filter(3).await.unwrap().stream_id, Some(2));
    for m in [&gl, &gn, &g, &sl, &s, &fl, &f] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn instruments_telescopes_taxonomies_allocations() {
    let server = MockServer::start_async().await;
    let il = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/instrument").is_true(exact_query(&[("name", "ZTF")]));
            then.json_body(ok(json!([{"id": 1, "name": "ZTF", "type": "imager", "band": "optical", "telescope_id": 1,
                "filters": ["ztfg", "ztfr", "ztfi"], "api_classname": "ZTFAPI", "telescope": {"id": 1, "name": "Palomar 48 inch"}}])));
        })
        .await;
    let i = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/instrument/1").is_true(exact_query(&[]));
            then.json_body(ok(json!({"id": 1, "name": "ZTF", "type": "imager"})));
        })
        .await;
    let tl = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/telescope").is_true(exact_query(&[]));
            then.json_body(ok(
                json!([{"id": 1, "name": "Palomar 48 inch", "nickname": "P48", "lat": 33.3563, "lon": -116.8594,
                "elevation": 1712.0, "diameter": 1.2, "robotic": true, "fixed_location": true}]),
            ));
        })
        .await;
    let t = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/telescope/1");
            then.json_body(ok(json!({"id": 1, "name": "Palomar 48 inch"})));
        })
        .await;
    let xl = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/taxonomy");
            then.json_body(ok(json!([{"id": 1, "name": "Sitewide Taxonomy", "version": "0.1.3", "hierarchy": {"class": "Time-domain Source", "subclasses": []},
                "provenance": "tdtax", "isLatest": true}])));
        })
        .await;
    let x = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/taxonomy/1");
            then.json_body(ok(json!({"id": 1, "name": "Sitewide Taxonomy"})));
        })
        .await;
    let al = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/allocation").is_true(exact_query(&[("instrument_id", "7")]));
            then.json_body(ok(json!([{"id": 5, "pi": "Kasliwal", "proposal_id": "ZTF-SEDM-1", "start_date": "2024-01-01T00:00:00",
                "end_date": "2024-12-31T00:00:00", "hours_allocated": 100.0, "group_id": 4, "instrument_id": 7, "_altdata": null, "types": ["triggered"]}])));
        })
        .await;
    let a = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/allocation/5").is_true(exact_query(&[]));
            // handlers/api/allocation.py wraps one allocation with the count of its requests.
            then.json_body(ok(json!({"allocation": {"id": 5, "pi": "Kasliwal", "hours_allocated": 100.0, "instrument_id": 7,
                "requests": [{"id": 9, "status": "submitted"}], "ephemeris": {}, "telescope": {"id": 1}}, "totalMatches": 31})));
        })
        .await;
    let (c, _) = client(&server);
    let r = c.resources();
    let ztf = r.instruments(Some("ZTF")).await.unwrap();
    assert_eq!((ztf[0].id, ztf[0].instrument_type.as_deref()), (Some(1), Some("imager")));
    assert_eq!(ztf[0].filters.as_deref(), Some(&["ztfg".to_string(), "ztfr".into(), "ztfi".into()][..]));
    assert_eq!(r.instrument(1).await.unwrap().name.as_deref(), Some("ZTF"));
    assert_eq!(r.telescopes(None).await.unwrap()[0].nickname.as_deref(), Some("P48"));
    assert_eq!(r.telescope(1).await.unwrap().id, Some(1));
    let tax = r.taxonomies().await.unwrap();
    assert_eq!((tax[0].version.as_deref(), tax[0].extra["isLatest"].as_bool()), (Some("0.1.3"), Some(true)));
    assert_eq!(r.taxonomy(1).await.unwrap().name.as_deref(), Some("Sitewide Taxonomy"));
    assert_eq!(r.allocations(Some(7)).await.unwrap()[0].hours_allocated, Some(100.0));
    let one = r.allocation(5).await.unwrap();
    assert_eq!(
        (one.id, one.pi.as_deref(), one.hours_allocated, one.instrument_id),
        (Some(5), Some("Kasliwal"), Some(100.0), Some(7))
    );
    assert_eq!(one.extra["requests"][0]["id"], 9);
    for m in [&il, &i, &tl, &t, &xl, &x, &al, &a] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn observing_run_assignments() {
    let server = MockServer::start_async().await;
    let l = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/assignment");
            then.json_body(ok(json!([{"id": 1, "requester_id": 2, "obj_id": "ZTF1", "comment": "high priority", "status": "pending", "priority": "5", "run_id": 3}])));
        })
        .await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/assignment/1");
            then.json_body(ok(json!({"id": 1, "obj_id": "ZTF1", "priority": "5", "run_id": 3})));
        })
        .await;
    let p = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/assignment")
                .json_body(json!({"obj_id": "ZTF1", "run_id": 3, "priority": "3", "comment": "classify"}));
            then.json_body(ok(json!({"id": 2})));
        })
        .await;
    let d = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/assignment/2");
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    let r = c.resources();
    assert_eq!(r.assignments().await.unwrap()[0].status.as_deref(), Some("pending"));
    assert_eq!(r.assignment(1).await.unwrap().run_id, Some(3));
    let n = NewAssignment {
        obj_id: "ZTF1".into(),
        run_id: 3,
        priority: "3".into(),
        comment: Some("classify".into()),
        status: None,
    };
    assert_eq!(r.create_assignment(&n).await.unwrap(), 2);
    r.delete_assignment(2).await.unwrap();
    for m in [&l, &g, &p, &d] {
        m.assert_async().await;
    }
    let bad = NewAssignment { priority: "9".into(), ..n };
    assert!(r.create_assignment(&bad).await.unwrap_err().to_string().contains("\"1\""));
}

#[tokio::test]
async fn followup_requests() {
    let server = MockServer::start_async().await;
    let p1 = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/followup_request").is_true(exact_query(&[
                ("sourceID", "ZTF1"),
                ("status", "submitted"),
                ("allocationID", "5"),
                ("requesters", "2,3"),
                ("pageNumber", "1"),
                ("numPerPage", "1000"),
            ]));
            then.json_body(ok(json!({"followup_requests": [{"id": 9, "obj_id": "ZTF1", "allocation_id": 5, "status": "submitted",
                "payload": {"priority": 5, "observation_type": "IFU"}, "requester_id": 2, "obj": {"id": "ZTF1"}}], "totalMatches": 1})));
        })
        .await;
    let g = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/followup_request/9");
            then.json_body(ok(json!({"id": 9, "obj_id": "ZTF1", "status": "submitted"})));
        })
        .await;
    let body = json!({"obj_id": "ZTF1", "allocation_id": 5, "payload": {"priority": 5, "observation_type": "IFU"}, "target_group_ids": [4], "not_if_duplicates": true});
    let p = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/followup_request").json_body(body.clone());
            then.json_body(ok(json!({"id": 10, "request_status": "submitted"})));
        })
        .await;
    let u = server
        .mock_async(|when, then| {
            // The create-only constraints are not sent on PUT: the server's update loads
            // the body into the FollowupRequest model schema, which refuses them.
            when.method(PUT).path("/api/followup_request/10").json_body(json!({"obj_id": "ZTF1", "allocation_id": 5,
                "payload": {"priority": 5, "observation_type": "IFU"}, "target_group_ids": [4]}));
            then.json_body(ok(json!({})));
        })
        .await;
    let d = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/followup_request/10");
            then.json_body(ok(json!({})));
        })
        .await;
    let (c, _) = client(&server);
    let f = c.followup_requests();
    let list = f
        .list()
        .source_id("ZTF1")
        .status("submitted")
        .allocation_id(5)
        .requesters([2, 3])
        .stream()
        .collect_all()
        .await
        .unwrap();
    assert_eq!((list[0].id, list[0].payload.as_ref().unwrap()["observation_type"].as_str()), (Some(9), Some("IFU")));
    assert_eq!(f.get(9).await.unwrap().status.as_deref(), Some("submitted"));
    let req = NewFollowupRequest {
        obj_id: "ZTF1".into(),
        allocation_id: 5,
        payload: json!({"priority": 5, "observation_type": "IFU"}),
        target_group_ids: Some(vec![4]),
        not_if_duplicates: Some(true),
        ..Default::default()
    };
    let created = f.create(&req).await.unwrap();
    assert_eq!((created.id, created.request_status.as_deref()), (Some(10), Some("submitted")));
    let mut upd = req.clone();
    upd.source_group_ids = Some(vec![4]);
    upd.extra.insert("ignore_source_group_ids".into(), json!([7]));
    upd.extra.insert("radius".into(), json!(2.0));
    f.update(10, &upd).await.unwrap();
    f.delete(10).await.unwrap();
    for m in [&p1, &g, &p, &u, &d] {
        m.assert_async().await;
    }
    assert!(f.list().page_size(1001).stream().collect_all().await.is_err());
}

#[tokio::test]
async fn gcn_events_localizations_galaxies() {
    let server = MockServer::start_async().await;
    let el = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/gcn_event").is_true(exact_query(&[
                ("startDate", "2019-04-01"),
                ("groupIds", "4,5"),
                ("gcnTagKeep", "GW,BNS"),
                ("pageNumber", "1"),
                ("numPerPage", "1000"),
            ]));
            then.json_body(ok(json!({"events": [{"id": 12, "dateobs": "2019-04-25T08:18:05", "aliases": ["LVC#S190425z"], "tags": ["GW", "BNS"],
                "localizations": [{"localization_name": "bayestar.fits.gz"}]}], "totalMatches": 1})));
        })
        .await;
    let e = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/gcn_event/2019-04-25T08:18:05");
            then.json_body(ok(json!({"id": 12, "dateobs": "2019-04-25T08:18:05", "aliases": ["LVC#S190425z"],
                "gcn_notices": [{"id": 1, "ivorn": "ivo://gwnet/LVC#S190425z-1-Preliminary", "notice_type": "LVC_PRELIMINARY"}]})));
        })
        .await;
    let l = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/localization/2019-04-25T08:18:05/name/bayestar.fits.gz%2C1")
                .is_true(exact_query(&[("include2DMap", "true")]));
            then.json_body(ok(
                json!({"id": 3, "dateobs": "2019-04-25T08:18:05", "localization_name": "bayestar.fits.gz,1",
                "contour": {"type": "FeatureCollection", "features": []}, "flat_2d": [0.1, 0.2]}),
            ));
        })
        .await;
    let gl = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/galaxy_catalog").is_true(exact_query(&[
                ("catalog_name", "GLADE"),
                ("ra", "197.45"),
                ("dec", "-23.38"),
                ("radius", "0.5"),
                ("maxDistance", "50"),
                ("pageNumber", "1"),
                ("numPerPage", "1000"),
            ]));
            then.json_body(ok(json!({"galaxies": [{"id": 1, "name": "NGC 4993", "catalog_name": "GLADE", "ra": 197.448, "dec": -23.384,
                "distmpc": 40.4, "redshift": 0.0098, "mstar": 1e10}], "totalMatches": 1, "page": 1, "numPerPage": 1000})));
        })
        .await;
    let cf = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/config").header("Authorization", AUTH);
            then.json_body(ok(json!({"allowedSpectrumTypes": ["source", "host", "host_center"],
                "bandpassesWavelengths": {"ztfg": 4746.0, "atlaso": 6629.8}, "publicGroupName": "Sitewide Group",
                "cosmology": "Planck18", "maxNumDaysUsingLocalization": 31})));
        })
        .await;
    let (c, _) = client(&server);
    let g = c.gcn();
    let events = g
        .events()
        .start_date("2019-04-01")
        .group_ids([4, 5])
        .gcn_tag_keep(["GW", "BNS"])
        .stream()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(events[0].aliases.as_deref(), Some(&["LVC#S190425z".to_string()][..]));
    assert_eq!(g.event("2019-04-25T08:18:05").await.unwrap().gcn_notices.as_ref().unwrap().len(), 1);
    let loc = g.localization("2019-04-25T08:18:05", "bayestar.fits.gz,1", true).await.unwrap();
    assert_eq!(loc.extra["flat_2d"][1], 0.2);
    let gal = g
        .galaxies()
        .catalog_name("GLADE")
        .cone(197.45, -23.38, 0.5)
        .max_distance(50.0)
        .stream()
        .collect_all()
        .await
        .unwrap();
    assert_eq!((gal[0].name.as_deref(), gal[0].distmpc), (Some("NGC 4993"), Some(40.4)));
    let conf = c.config().await.unwrap();
    assert_eq!(conf.bandpasses_wavelengths.as_ref().unwrap()["atlaso"], 6629.8);
    assert_eq!(conf.public_group_name.as_deref(), Some("Sitewide Group"));
    assert_eq!(conf.extra["cosmology"], "Planck18");
    for m in [&el, &e, &l, &gl, &cf] {
        m.assert_async().await;
    }
    assert!(g.event("2019-04-25 08:18:05").await.is_err());
}

#[tokio::test]
async fn allocation_page_sends_paging_and_reports_the_request_count() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/allocation/5")
                .is_true(exact_query(&[("pageNumber", "2"), ("numPerPage", "10")]));
            then.json_body(ok(json!({"allocation": {"id": 5, "requests": [{"id": 19}]}, "totalMatches": 11})));
        })
        .await;
    let (c, _) = client(&server);
    let d = c.resources().allocation_page(5, 2, 10).await.unwrap();
    assert_eq!((d.allocation.id, d.total_matches), (Some(5), Some(11)));
    assert_eq!(d.allocation.extra["requests"][0]["id"], 19);
    assert!(c.resources().allocation_page(5, 1, 1001).await.is_err());
    m.assert_async().await;
}
