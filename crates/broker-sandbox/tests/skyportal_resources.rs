//! SkyPortal resources beyond sources and photometry, with reqwest as a plain HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use broker_sandbox::{RateLimits, Sandbox};
use reqwest::Method;
use serde_json::{Value, json};

struct Sp {
    sb: Sandbox,
    c: reqwest::Client,
}

impl Sp {
    async fn new() -> Sp {
        let sb = Sandbox::builder().seed(5).objects(60).limits(RateLimits::unlimited()).start().await.unwrap();
        Sp { sb, c: reqwest::Client::new() }
    }
    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.sb.urls().skyportal)
    }
    async fn call_as(&self, token: &str, m: Method, p: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.c.request(m, self.url(p)).header("Authorization", format!("token {token}"));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let s = r.status().as_u16();
        let t = r.text().await.unwrap();
        (s, serde_json::from_str(&t).unwrap_or(Value::String(t)))
    }
    async fn call(&self, m: Method, p: &str, body: Option<Value>) -> (u16, Value) {
        let t = self.sb.credentials().skyportal.token.clone();
        self.call_as(&t, m, p, body).await
    }
    async fn get(&self, p: &str) -> Value {
        let (s, v) = self.call(Method::GET, p, None).await;
        assert_eq!(s, 200, "GET {p}: {v}");
        assert_eq!(v["status"], "success");
        assert!(v.get("message").is_none());
        v["data"].clone()
    }
    async fn ok(&self, m: Method, p: &str, body: Value) -> Value {
        let (s, v) = self.call(m.clone(), p, Some(body)).await;
        assert_eq!(s, 200, "{m} {p}: {v}");
        assert_eq!(v["status"], "success");
        v["data"].clone()
    }
    async fn fails(&self, m: Method, p: &str, body: Option<Value>, status: u16) -> String {
        let (s, v) = self.call(m.clone(), p, body).await;
        assert_eq!(s, status, "{m} {p}: {v}");
        assert_eq!(v["status"], "error", "{v}");
        assert_eq!(v["version"], "1.4.0");
        v["message"].as_str().unwrap().to_string()
    }
    fn transient(&self) -> String {
        self.sb.objects().iter().find(|o| o.transient && o.redshift.is_some()).unwrap().skyportal_id.clone()
    }
}

#[tokio::test]
async fn spectra_list_get_post_and_ascii() {
    let t = Sp::new().await;
    let obj = t.transient();
    let d = t.get(&format!("/api/sources/{obj}/spectra")).await;
    assert_eq!(d["obj_id"], obj.as_str());
    let specs = d["spectra"].as_array().unwrap();
    assert_eq!(specs.len(), 1);
    let s = &specs[0];
    let (w, f) = (s["wavelengths"].as_array().unwrap(), s["fluxes"].as_array().unwrap());
    assert_eq!(w.len(), f.len());
    assert!(w.len() > 1000 && s["errors"].as_array().unwrap().len() == w.len());
    assert_eq!(s["instrument_name"], "SEDM");
    assert_eq!(s["units"], "erg/s/cm/cm/AA");
    assert!(s["observed_at"].as_str().unwrap().contains('T'));
    // Median normalization: the median flux becomes 1.
    let n = t.get(&format!("/api/sources/{obj}/spectra?normalization=median")).await;
    let mut fl: Vec<f64> = n["spectra"][0]["fluxes"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    fl.sort_by(f64::total_cmp);
    assert!((fl[fl.len() / 2] - 1.0).abs() < 1e-9);
    t.fails(Method::GET, &format!("/api/sources/{obj}/spectra?sortOrder=up"), None, 400).await;
    let id = s["id"].as_i64().unwrap();
    let one = t.get(&format!("/api/spectra/{id}")).await;
    assert_eq!(one["obj_id"], obj.as_str());
    // `/api/spectrum` is an alias.
    assert_eq!(t.get(&format!("/api/spectrum/{id}")).await["id"], id);
    assert_eq!(t.fails(Method::GET, "/api/spectra/99999", None, 403).await, "Could not access spectrum 99999.");
    assert_eq!(t.fails(Method::GET, "/api/spectra/abc", None, 400).await, "Invalid API endpoint");

    // POST: required fields, then a stored spectrum that reads back.
    let m = t.fails(Method::POST, "/api/spectra", Some(json!({"obj_id": obj})), 400).await;
    assert!(
        m.starts_with("Invalid / missing parameters; {")
            && m.contains("'fluxes': ['Missing data for required field.']"),
        "{m}"
    );
    let body = json!({"obj_id": obj, "instrument_id": 4, "observed_at": "2023-05-01T03:04:05", "wavelengths": [4000, 5000, 6000],
        "fluxes": [1.0, 2.0, 3.0], "errors": [0.1, 0.1, 0.2], "units": "Jy", "origin": "test", "group_ids": [1]});
    let new = t.ok(Method::POST, "/api/spectra", body.clone()).await["id"].as_i64().unwrap();
    let back = t.get(&format!("/api/spectra/{new}")).await;
    assert_eq!(back["fluxes"], json!([1.0, 2.0, 3.0]));
    assert_eq!(back["owner_id"], 1);
    let mut bad = body.clone();
    bad["units"] = json!("mJy");
    assert!(
        t.fails(Method::POST, "/api/spectra", Some(bad), 400).await.contains("units must be Jy, AB, or erg/s/cm/cm/AA")
    );
    let mut bad = body.clone();
    bad["instrument_id"] = json!(77);
    assert!(t.fails(Method::POST, "/api/spectra", Some(bad), 400).await.contains("Cannot find instrument with ID: 77"));
    // List filters.
    let l = t.get(&format!("/api/spectra?objID={obj}&instrumentIDs=4&minimalPayload=true")).await;
    assert_eq!(l.as_array().unwrap().len(), 2);
    assert!(l[0].get("fluxes").is_none());
    // PUT, DELETE.
    t.ok(Method::PUT, &format!("/api/spectra/{new}"), json!({"label": "relabelled"})).await;
    assert_eq!(t.get(&format!("/api/spectra/{new}")).await["label"], "relabelled");
    // A partial update; its group_ids are added to the spectrum's groups.
    let before: Vec<Value> = t.get(&format!("/api/spectra/{new}")).await["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].clone())
        .collect();
    t.ok(Method::PUT, &format!("/api/spectra/{new}"), json!({"group_ids": [3]})).await;
    let after: Vec<Value> = t.get(&format!("/api/spectra/{new}")).await["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].clone())
        .collect();
    assert!(before.iter().all(|g| after.contains(g)) && after.contains(&json!(3)), "{before:?} -> {after:?}");
    assert_eq!(t.get(&format!("/api/spectra/{new}")).await["label"], "relabelled");
    t.ok(Method::DELETE, &format!("/api/spectra/{new}"), json!({})).await;
    t.fails(Method::DELETE, &format!("/api/spectra/{new}"), None, 403).await;

    // ASCII: parse only, then upload.
    let ascii = "# OBJECT = 'SN test' / target\n# EXPTIME: 600\n4000 1.5 0.1\n4010 1.6 0.1\n4020 1.7 0.2\n";
    let p = t.ok(Method::POST, "/api/spectra/parse/ascii", json!({"ascii": ascii, "fluxerr_column": 2})).await;
    assert_eq!(p["wavelengths"], json!([4000.0, 4010.0, 4020.0]));
    assert_eq!(p["errors"], json!([0.1, 0.1, 0.2]));
    assert_eq!(p["altdata"]["OBJECT"], "SN test");
    assert_eq!(p["altdata"]["EXPTIME"], 600.0);
    let m =
        t.fails(Method::POST, "/api/spectra/parse/ascii", Some(json!({"ascii": ascii, "flux_column": 5})), 400).await;
    assert_eq!(m, "Error parsing spectrum: index flux_column (5) is greater than the maximum allowed value (2)");
    let up = json!({"ascii": ascii, "obj_id": obj, "instrument_id": 4, "observed_at": "2023-05-02T00:00:00", "filename": "sn.txt"});
    let aid = t.ok(Method::POST, "/api/spectra/ascii", up).await["id"].as_i64().unwrap();
    let s = t.get(&format!("/api/spectra/{aid}")).await;
    assert_eq!(s["original_file_filename"], "sn.txt");
    assert_eq!(s["errors"], Value::Null);
    // The view-only token may read but not write.
    let vo = t.sb.credentials().skyportal.view_only_token.clone();
    let (st, _) = t.call_as(&vo, Method::POST, "/api/spectra", Some(body)).await;
    assert_eq!(st, 401);
    t.sb.shutdown().await;
}

#[tokio::test]
async fn classifications_paged_and_crud() {
    let t = Sp::new().await;
    let obj = t.transient();
    let d = t.get("/api/classification?numPerPage=7&pageNumber=2").await;
    assert_eq!(d["totalMatches"], 60);
    assert_eq!(d["classifications"].as_array().unwrap().len(), 7);
    assert!(d.get("pageNumber").is_none());
    let d = t.get("/api/classification?numPerPage=100000").await;
    assert_eq!(d["classifications"].as_array().unwrap().len(), 60); // clamped to 500
    assert_eq!(t.get("/api/classification?pageNumber=99").await["classifications"], json!([]));
    assert_eq!(
        t.fails(Method::GET, "/api/classification?numPerPage=x", None, 400).await,
        "Cannot parse inputs pageNumber or numPerPage as integers."
    );
    let of_obj = t.get(&format!("/api/sources/{obj}/classifications")).await;
    assert_eq!(of_obj.as_array().unwrap().len(), 1);
    assert_eq!(of_obj[0]["taxonomy_id"], 1);
    let tax = t.get("/api/taxonomy").await;
    assert_eq!(tax[0]["name"], "Sitewide Taxonomy");
    // POST errors in the real wording, then a post.
    let m = t.fails(Method::POST, "/api/classification", Some(json!({"obj_id": obj, "taxonomy_id": 1})), 400).await;
    assert_eq!(m, "Error posting classification: 'classification'");
    let m = t
        .fails(
            Method::POST,
            "/api/classification",
            Some(json!({"obj_id": obj, "taxonomy_id": 1, "classification": "Kilonova"})),
            400,
        )
        .await;
    assert!(m.contains("That classification (Kilonova) is not in the allowed classes"), "{m}");
    let body = json!({"obj_id": obj, "taxonomy_id": 1, "classification": "II", "probability": 0.7});
    let id = t.ok(Method::POST, "/api/classification", body).await["classification_id"].as_i64().unwrap();
    let c = t.get(&format!("/api/classification/{id}")).await;
    assert_eq!(c["classification"], "II");
    assert_eq!(c["author_name"], "provisioned_admin");
    assert_eq!(t.get(&format!("/api/sources/{obj}/classifications")).await.as_array().unwrap().len(), 2);
    assert_eq!(t.get(&format!("/api/sources/{obj}")).await["classifications"].as_array().unwrap().len(), 2);
    // Several at once.
    let many = json!({"classifications": [{"obj_id": obj, "taxonomy_id": 1, "classification": "Ia"},
                                          {"obj_id": obj, "taxonomy_id": 1, "classification": "SLSN"}]});
    assert_eq!(
        t.ok(Method::POST, "/api/classification", many).await["classification_ids"].as_array().unwrap().len(),
        2
    );
    // PUT (not PATCH), DELETE.
    t.ok(Method::PUT, &format!("/api/classification/{id}"), json!({"probability": 0.9})).await;
    assert_eq!(t.get(&format!("/api/classification/{id}")).await["probability"], 0.9);
    // The server writes `ml = data.get("ml", False)` on every PUT: an ML classification
    // updated without `ml` becomes a human one. The default groups are the public group.
    let ml = json!({"obj_id": obj, "taxonomy_id": 1, "classification": "Ia", "ml": true, "group_ids": []});
    let mid = t.ok(Method::POST, "/api/classification", ml).await["classification_id"].as_i64().unwrap();
    let c = t.get(&format!("/api/classification/{mid}")).await;
    assert_eq!((c["ml"].clone(), c["groups"][0]["id"].clone()), (json!(true), json!(1)));
    t.ok(Method::PUT, &format!("/api/classification/{mid}"), json!({"probability": 0.8, "ml": true})).await;
    assert_eq!(t.get(&format!("/api/classification/{mid}")).await["ml"], true);
    t.ok(Method::PUT, &format!("/api/classification/{mid}"), json!({"probability": 0.8})).await;
    assert_eq!(t.get(&format!("/api/classification/{mid}")).await["ml"], false);
    assert_eq!(
        t.fails(Method::PATCH, &format!("/api/classification/{id}"), Some(json!({})), 405).await,
        "HTTP 405: Method Not Allowed"
    );
    t.ok(Method::DELETE, &format!("/api/classification/{id}"), json!({})).await;
    assert_eq!(
        t.fails(Method::GET, &format!("/api/classification/{id}"), None, 400).await,
        format!("Cannot find classification with ID: {id}.")
    );
    // There is no plural `/api/classifications` route.
    assert_eq!(t.fails(Method::GET, "/api/classifications", None, 400).await, "Invalid API endpoint");
    t.sb.shutdown().await;
}

#[tokio::test]
async fn comments_and_annotations_on_sources_spectra_photometry() {
    let t = Sp::new().await;
    let obj = t.transient();
    let base = format!("/api/sources/{obj}/comments");
    let cid = t.ok(Method::POST, &base, json!({"text": "looks like a SN Ia"})).await["comment_id"].as_i64().unwrap();
    // Posting the same text again returns the existing comment.
    let again = t.ok(Method::POST, &base, json!({"text": "looks like a SN Ia"})).await;
    assert_eq!(again["comment_id"], cid);
    assert_eq!(again["message"], "Same comment already exists.");
    t.ok(Method::POST, &base, json!({"text": "second", "attachment": {"body": "aGVsbG8=", "name": "n.txt"}})).await;
    let list = t.get(&base).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["resourceType"], "sources");
    assert_eq!(list[0]["bot"], true);
    assert_eq!(list[0]["author"]["username"], "provisioned_admin");
    assert_eq!(t.get(&format!("{base}?numPerPage=1&pageNumber=2")).await.as_array().unwrap().len(), 1);
    assert_eq!(t.get(&format!("{base}?text=SN")).await.as_array().unwrap().len(), 1);
    assert_eq!(t.get(&format!("{base}/{cid}")).await["text"], "looks like a SN Ia");
    t.ok(Method::PUT, &format!("{base}/{cid}"), json!({"text": "edited"})).await;
    assert_eq!(t.get(&format!("{base}/{cid}")).await["text"], "edited");
    assert_eq!(
        t.get(&format!("/api/sources/{obj}?includeComments=true")).await["comments"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        t.fails(Method::GET, &format!("{base}/999999"), None, 403).await,
        "Could not find any accessible comments."
    );
    assert!(
        t.fails(Method::POST, &base, Some(json!({"text": "x", "attachment": "nope"})), 400).await.contains("Malformed")
    );
    t.ok(Method::DELETE, &format!("{base}/{cid}"), json!({})).await;
    assert_eq!(t.get(&base).await.as_array().unwrap().len(), 1);
    // Named conversations: kept out of the main thread, listed with ?channel=, named by
    // /comments/channels.
    t.ok(Method::POST, &base, json!({"text": "Keck tonight?", "channel": "followup"})).await;
    t.ok(Method::POST, &base, json!({"text": "Keck tonight?", "channel": "classification"})).await;
    assert_eq!(t.get(&base).await.as_array().unwrap().len(), 1);
    let ch = t.get(&format!("{base}?channel=followup")).await;
    assert_eq!((ch.as_array().unwrap().len(), ch[0]["channel"].clone()), (1, json!("followup")));
    assert_eq!(t.get(&format!("{base}/channels")).await, json!(["classification", "followup"]));
    // The TNS lookup is queued (nothing to see in the sandbox); origins are deprecated.
    assert_eq!(t.get(&format!("/api/sources/{obj}/tns?radius=3")).await, json!({}));
    assert_eq!(t.fails(Method::GET, "/api/sources/NOPE/tns", None, 400).await, "No object available with ID NOPE");
    assert_eq!(t.fails(Method::GET, "/api/photometry/origins", None, 400).await, "This feature is deprecated");

    // Spectra comments.
    let spec = t.get(&format!("/api/sources/{obj}/spectra")).await["spectra"][0]["id"].as_i64().unwrap();
    let sbase = format!("/api/spectra/{spec}/comments");
    let sc = t.ok(Method::POST, &sbase, json!({"text": "Si II visible"})).await["comment_id"].as_i64().unwrap();
    let got = t.get(&format!("{sbase}/{sc}")).await;
    assert_eq!(got["spectrum_id"], spec);
    assert_eq!(got["obj_id"], obj.as_str());
    assert_eq!(t.get(&format!("/api/spectra/{spec}")).await["comments"].as_array().unwrap().len(), 1);
    assert!(
        t.fails(Method::POST, "/api/spectra/424242/comments", Some(json!({"text": "x"})), 400).await.contains("424242")
    );

    // Annotations: one per origin; update with PUT.
    let abase = format!("/api/sources/{obj}/annotations");
    let aid =
        t.ok(Method::POST, &abase, json!({"origin": "sandbox_ml", "data": {"score": 0.93}})).await["annotation_id"]
            .as_i64()
            .unwrap();
    assert!(
        t.fails(Method::POST, &abase, Some(json!({"origin": "sandbox_ml", "data": {"score": 1}})), 400)
            .await
            .starts_with("Annotation already exists")
    );
    assert_eq!(
        t.fails(Method::POST, &abase, Some(json!({"data": {}})), 400).await,
        "Invalid/missing parameters: origin: Field required"
    );
    assert!(t.fails(Method::POST, &abase, Some(json!({"origin": "-x", "data": {}})), 400).await.contains("pattern"));
    assert_eq!(
        t.fails(Method::POST, "/api/sources/NOPE123/annotations", Some(json!({"origin": "a", "data": {}})), 404).await,
        "Obj NOPE123 not found"
    );
    t.ok(Method::PUT, &format!("{abase}/{aid}"), json!({"data": {"score": 0.5}})).await;
    assert_eq!(t.get(&format!("{abase}/{aid}")).await["data"]["score"], 0.5);
    assert_eq!(t.get(&format!("/api/sources/{obj}")).await["annotations"][0]["origin"], "sandbox_ml");
    t.ok(Method::DELETE, &format!("{abase}/{aid}"), json!({})).await;
    assert_eq!(t.get(&abase).await, json!([]));
    // Spectra and photometry annotations.
    let sa = format!("/api/spectra/{spec}/annotations");
    t.ok(Method::POST, &sa, json!({"origin": "fit", "data": {"z": 0.05}})).await;
    assert_eq!(t.get(&sa).await[0]["obj_id"], obj.as_str());
    let phot = t.get(&format!("/api/sources/{obj}/photometry")).await[0]["id"].as_u64().unwrap();
    let pa = format!("/api/photometry/{phot}/annotations");
    t.ok(Method::POST, &pa, json!({"origin": "qa", "data": {"flag": "ok"}})).await;
    assert_eq!(t.get(&pa).await[0]["photometry_id"], phot);
    t.fails(Method::POST, "/api/photometry/1/annotations", Some(json!({"origin": "qa", "data": {}})), 403).await;
    // View-only: writes refused (401 at HEAD's baselayer).
    let vo = t.sb.credentials().skyportal.view_only_token.clone();
    assert_eq!(t.call_as(&vo, Method::POST, &base, Some(json!({"text": "x"}))).await.0, 401);
    t.sb.shutdown().await;
}

#[tokio::test]
async fn streams_filters_telescopes_taxonomies_allocations_assignments() {
    let t = Sp::new().await;
    let obj = t.transient();
    assert_eq!(t.get("/api/streams").await.as_array().unwrap().len(), 2);
    let sid = t.ok(Method::POST, "/api/streams", json!({"name": "New stream"})).await["id"].as_i64().unwrap();
    t.ok(Method::PATCH, &format!("/api/streams/{sid}"), json!({"name": "Renamed"})).await;
    assert_eq!(t.get(&format!("/api/streams/{sid}")).await["name"], "Renamed");
    assert!(t.fails(Method::POST, "/api/streams", Some(json!({"name": "x", "bogus": 1})), 400).await.contains("bogus"));
    t.ok(Method::DELETE, &format!("/api/streams/{sid}"), json!({})).await;
    assert_eq!(
        t.fails(Method::GET, &format!("/api/streams/{sid}"), None, 400).await,
        format!("Could not retrieve stream with ID {sid}.")
    );

    let fid = t.ok(Method::POST, "/api/filters", json!({"name": "f", "stream_id": 1, "group_id": 2})).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        t.fails(Method::PATCH, &format!("/api/filters/{fid}"), Some(json!({"group_id": 3})), 400).await,
        "Cannot update group_id or stream_id."
    );
    t.ok(Method::PATCH, &format!("/api/filters/{fid}"), json!({"name": "g"})).await;
    assert_eq!(t.get(&format!("/api/filters/{fid}")).await["name"], "g");
    t.ok(Method::DELETE, &format!("/api/filters/{fid}"), json!({})).await;
    assert_eq!(
        t.fails(Method::GET, &format!("/api/filters/{fid}"), None, 400).await,
        format!("Cannot find a filter with ID: {fid}.")
    );

    let tels = t.get("/api/telescope?name=palomar").await;
    assert_eq!(tels.as_array().unwrap().len(), 2);
    let tid = t
        .ok(
            Method::POST,
            "/api/telescope",
            json!({"name": "Test 1m", "nickname": "T1", "diameter": 1.0, "lat": 10.0, "lon": 20.0}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    t.ok(Method::PUT, &format!("/api/telescope/{tid}"), json!({"diameter": 1.2})).await;
    assert_eq!(t.get(&format!("/api/telescope/{tid}")).await["diameter"], 1.2);
    t.ok(Method::DELETE, &format!("/api/telescope/{tid}"), json!({})).await;
    assert_eq!(t.fails(Method::DELETE, &format!("/api/telescope/{tid}"), None, 400).await, "Invalid telescope ID.");

    let hier = json!({"class": "Root", "subclasses": [{"class": "A"}, {"class": "B"}]});
    let m = t
        .fails(
            Method::POST,
            "/api/taxonomy",
            Some(json!({"name": "T", "version": "1", "hierarchy": hier, "x": 1})),
            400,
        )
        .await;
    assert_eq!(m, "Invalid/missing parameters: x: Extra inputs are not permitted");
    let tx = t.ok(Method::POST, "/api/taxonomy", json!({"name": "T", "version": "1", "hierarchy": hier})).await["taxonomy_id"]
        .as_i64()
        .unwrap();
    assert_eq!(t.get(&format!("/api/taxonomy/{tx}")).await["hierarchy"]["class"], "Root");
    t.ok(Method::POST, "/api/classification", json!({"obj_id": obj, "taxonomy_id": tx, "classification": "B"})).await;
    t.fails(Method::DELETE, &format!("/api/taxonomy/{tx}"), None, 400).await;

    let allocs = t.get("/api/allocation?instrument_id=4").await;
    assert_eq!(allocs.as_array().unwrap().len(), 1);
    let aid = t
        .ok(
            Method::POST,
            "/api/allocation",
            json!({"pi": "me", "hours_allocated": 5, "group_id": 2, "instrument_id": 1}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    t.ok(Method::PUT, &format!("/api/allocation/{aid}"), json!({"hours_allocated": 6})).await;
    // The server wraps one allocation: {"allocation": {...}, "totalMatches": N}.
    let one = t.get(&format!("/api/allocation/{aid}")).await;
    assert_eq!(one["allocation"]["hours_allocated"], 6);
    assert_eq!(one["totalMatches"], 0);
    t.ok(Method::DELETE, &format!("/api/allocation/{aid}"), json!({})).await;

    let m =
        t.fails(Method::POST, "/api/assignment", Some(json!({"obj_id": obj, "run_id": 1, "priority": "9"})), 400).await;
    assert!(m.contains("priority"));
    let asg = t
        .ok(Method::POST, "/api/assignment", json!({"obj_id": obj, "run_id": 1, "priority": "3", "comment": "spec"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let a = t.get(&format!("/api/assignment/{asg}")).await;
    assert_eq!((a["priority"].as_str(), a["status"].as_str()), (Some("3"), Some("pending")));
    t.ok(Method::PUT, &format!("/api/assignment/{asg}"), json!({"status": "done"})).await;
    assert_eq!(t.get("/api/assignment").await[0]["status"], "done");
    t.ok(Method::DELETE, &format!("/api/assignment/{asg}"), json!({})).await;
    t.sb.shutdown().await;
}

#[tokio::test]
async fn followup_requests_paged_with_their_own_limit() {
    let t = Sp::new().await;
    let objs: Vec<String> = t.sb.objects().iter().map(|o| o.skyportal_id.clone()).collect();
    let mut ids = Vec::new();
    for o in objs.iter().take(12) {
        let d = t
            .ok(
                Method::POST,
                "/api/followup_request",
                json!({"obj_id": o, "allocation_id": 1, "payload": {"priority": 3}}),
            )
            .await;
        assert_eq!(d["request_status"], "pending submission");
        ids.push(d["id"].as_i64().unwrap());
    }
    let d = t.get("/api/followup_request?numPerPage=5&pageNumber=3").await;
    assert_eq!(d["totalMatches"], 12);
    assert_eq!((d["pageNumber"].as_u64(), d["numPerPage"].as_u64()), (Some(3), Some(5)));
    assert_eq!(d["followup_requests"].as_array().unwrap().len(), 2);
    // Its maximum page size is 1000, not 500.
    assert_eq!(t.get("/api/followup_request?numPerPage=5000").await["numPerPage"], 1000);
    assert_eq!(t.get("/api/followup_request?numPerPage=700").await["numPerPage"], 700);
    assert_eq!(
        t.fails(Method::GET, "/api/followup_request?pageNumber=0", None, 400).await,
        "Page number must be greater than 0."
    );
    let src = &objs[0];
    assert_eq!(t.get(&format!("/api/followup_request?sourceID={src}")).await["totalMatches"], 1);
    let m = t.fails(Method::POST, "/api/followup_request", Some(json!({"obj_id": src})), 400).await;
    assert!(m.starts_with("Invalid / missing parameters: {'allocation_id'"), "{m}");
    let id = ids[0];
    t.ok(Method::PUT, &format!("/api/followup_request/{id}"), json!({"payload": {"exposure_time": 300}})).await;
    // The create-only constraints are unknown fields to the update.
    assert_eq!(
        t.fails(
            Method::PUT,
            &format!("/api/followup_request/{id}"),
            Some(json!({"payload": {"exposure_time": 300}, "not_if_duplicates": true})),
            400
        )
        .await,
        "Error parsing followup request submit/update: \"{'not_if_duplicates': ['Unknown field.']}\""
    );
    let r = t.get(&format!("/api/followup_request/{id}")).await;
    assert_eq!(r["payload"], json!({"priority": 3, "exposure_time": 300}));
    t.ok(Method::DELETE, &format!("/api/followup_request/{id}"), json!({})).await;
    assert_eq!(
        t.fails(Method::DELETE, &format!("/api/followup_request/{id}"), None, 400).await,
        format!("Missing FollowUpRequest with id {id}")
    );
    let alloc = t.get("/api/allocation/1?numPerPage=4").await;
    assert_eq!(alloc["allocation"]["requests"].as_array().unwrap().len(), 4);
    assert!(alloc["totalMatches"].as_u64().unwrap() > 4);
    assert_eq!(t.fails(Method::GET, "/api/allocation/1?sortBy=priority", None, 400).await, "Invalid sortBy value.");
    t.sb.shutdown().await;
}

#[tokio::test]
async fn galaxies_gcn_events_and_localizations() {
    let t = Sp::new().await;
    let g = t.get("/api/galaxy_catalog?catalog_name=sandbox_glade&numPerPage=3").await;
    assert!(g["totalMatches"].as_u64().unwrap() > 3);
    assert_eq!(g["galaxies"].as_array().unwrap().len(), 3);
    assert_eq!(g["page"], 1);
    let host = &g["galaxies"][0];
    let near = t.get(&format!("/api/galaxy_catalog?ra={}&dec={}&radius=0.001", host["ra"], host["dec"])).await;
    assert!(near["galaxies"].as_array().unwrap().iter().any(|x| x["name"] == host["name"]));
    let ev = t.get("/api/gcn_event").await;
    assert_eq!(ev["totalMatches"], 2);
    let e0 = &ev["events"][0];
    let dateobs = e0["dateobs"].as_str().unwrap().to_string();
    let e = t.get(&format!("/api/gcn_event/{dateobs}")).await;
    assert_eq!(e["dateobs"], dateobs.as_str());
    let loc_name = e["localizations"][0]["localization_name"].as_str().unwrap().to_string();
    let loc = t.get(&format!("/api/localization/{dateobs}/name/{loc_name}")).await;
    assert_eq!(loc["localization_name"], loc_name.as_str());
    assert_eq!(
        t.fails(Method::GET, &format!("/api/localization/{dateobs}/name/other.fits"), None, 404).await,
        "Localization not found"
    );
    assert_eq!(t.fails(Method::GET, "/api/gcn_event/2001-01-01T00:00:00", None, 404).await, "GCN event not found");
    assert!(t.fails(Method::GET, "/api/gcn_event/notadate", None, 400).await.starts_with("Invalid dateobs"));
    let gid = e["id"].as_i64().unwrap();
    t.ok(Method::POST, &format!("/api/gcn_event/{gid}/comments"), json!({"text": "covered"})).await;
    assert_eq!(t.get(&format!("/api/gcn_event/{dateobs}")).await["comments"][0]["text"], "covered");
    t.sb.shutdown().await;
}

#[tokio::test]
async fn sources_candidates_source_groups_and_exists() {
    let t = Sp::new().await;
    let obj = t.transient();
    // HEAD: 200 or 404 with an empty body.
    let tok = t.sb.credentials().skyportal.token.clone();
    let r =
        t.c.head(t.url(&format!("/api/sources/{obj}")))
            .header("Authorization", format!("token {tok}"))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let r = t.c.head(t.url("/api/sources/NOPE")).header("Authorization", format!("token {tok}")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.bytes().await.unwrap().is_empty());
    // Groups of a source; save and unsave with source_groups.
    let g = t.get(&format!("/api/sources/{obj}/groups")).await;
    let before: Vec<i64> = g.as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect();
    assert!(before.contains(&2) && !before.contains(&3));
    t.ok(Method::POST, "/api/source_groups", json!({"objId": obj, "inviteGroupIds": [3], "unsaveGroupIds": [2]})).await;
    let after: Vec<i64> = t
        .get(&format!("/api/sources/{obj}/groups"))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert!(after.contains(&3) && !after.contains(&2));
    assert_eq!(
        t.fails(Method::POST, "/api/source_groups", Some(json!({"objId": obj, "inviteGroupIds": [3]})), 400).await,
        "Source already saved to group w/ ID 3"
    );
    assert_eq!(
        t.fails(Method::POST, "/api/source_groups", Some(json!({"objId": "NOPE", "inviteGroupIds": [3]})), 404).await,
        "Obj NOPE not found"
    );
    // DELETE from a group reads the JSON body.
    t.ok(Method::DELETE, &format!("/api/sources/{obj}"), json!({"group_id": 3})).await;
    assert!(!t.get(&format!("/api/sources/{obj}/groups")).await.as_array().unwrap().iter().any(|x| x["id"] == 3));
    // source_exists.
    let e = t.get(&format!("/api/source_exists/{obj}")).await;
    assert_eq!(e["source_exists"], true);
    assert_eq!(t.get("/api/source_exists/NOPE").await["message"], "No sources exist with the name NOPE.");
    t.fails(Method::GET, "/api/source_exists", None, 400).await;

    // Candidates: post, get, head, delete.
    let c = json!({"id": "SBXCAND1", "ra": 10.0, "dec": 20.0, "filter_ids": [1], "passed_at": "2023-03-01T00:00:00"});
    let ids = t.ok(Method::POST, "/api/candidates", c).await["ids"].clone();
    assert_eq!(ids.as_array().unwrap().len(), 1);
    let got = t.get("/api/candidates/SBXCAND1").await;
    assert_eq!(got["filter_ids"], json!([1]));
    assert_eq!(got["is_source"], false);
    let r =
        t.c.head(t.url("/api/candidates/SBXCAND1"))
            .header("Authorization", format!("token {tok}"))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let total = t.get("/api/candidates?numPerPage=1").await["totalMatches"].as_u64().unwrap();
    assert_eq!(total, 61);
    // includePhotometry / includeSpectra on one candidate.
    let one = t.get(&format!("/api/candidates/{obj}?includePhotometry=true&includeSpectra=true")).await;
    assert!(one["photometry"].as_array().is_some_and(|p| !p.is_empty()), "{one}");
    assert!(one["spectra"].is_array());
    assert!(t.get(&format!("/api/candidates/{obj}")).await.get("photometry").is_none());
    // The quick name search: ids only, no total, pageNumber ignored.
    let names = t.get("/api/candidates?nameOnly=true&objID=sbxcand&numPerPage=5&pageNumber=7").await;
    assert_eq!(names, json!({"candidates": [{"id": "SBXCAND1"}]}));
    // annotationFilterList: JSON objects split on ",{"; the old exclusion parameters are refused.
    t.ok(
        Method::POST,
        "/api/sources/SBXCAND1/annotations",
        json!({"origin": "kowalski", "data": {"drb": 0.9, "class": "Ia", "real": true}}),
    )
    .await;
    let f = |list: &str| format!("/api/candidates?annotationFilterList={}", urlencode(list));
    let hit = t.get(&f(r#"{"origin":"kowalski","key":"drb","min":0.5,"max":1.0},{"origin":"kowalski","key":"class","value":"Ia"},{"origin":"kowalski","key":"real","value":true}"#)).await;
    assert_eq!(hit["totalMatches"], 1, "{hit}");
    assert_eq!(hit["candidates"][0]["id"], "SBXCAND1");
    assert_eq!(t.get(&f(r#"{"origin":"kowalski","key":"drb","min":0.95,"max":1.0}"#)).await["totalMatches"], 0);
    assert_eq!(
        t.fails(Method::GET, &f(r#"{"origin":"kowalski","key":"drb"}"#), None, 400).await,
        r#"Invalid annotation filter list item: {"origin":"kowalski","key":"drb"}. Should have either "value" or "min" and "max""#
    );
    assert_eq!(
        t.fails(Method::GET, &f("kowalski"), None, 400).await,
        "Could not parse JSON objects for annotation filtering"
    );
    assert_eq!(
        t.fails(Method::GET, "/api/candidates?annotationExcludeOrigin=kowalski", None, 400).await,
        "annotationExcludeOrigin and annotationExcludeOutdatedDate parameters are no longer supported"
    );
    assert_eq!(
        t.fails(
            Method::POST,
            "/api/candidates",
            Some(json!({"id": "X2", "ra": 1.0, "dec": 2.0, "filter_ids": [1]})),
            400
        )
        .await,
        "Missing required parameter: `passed_at`."
    );
    assert_eq!(
        t.fails(
            Method::POST,
            "/api/candidates",
            Some(json!({"id": "X2", "ra": 1.0, "dec": 2.0, "filter_ids": [99], "passed_at": "2023-01-01"})),
            400
        )
        .await,
        "At least one valid filter ID must be provided."
    );
    t.ok(Method::DELETE, "/api/candidates/SBXCAND1/1", json!({})).await;
    assert_eq!(t.fails(Method::GET, "/api/candidates/SBXCAND1", None, 400).await, "Invalid ID");
    assert_eq!(
        t.fails(Method::DELETE, "/api/candidates/SBXCAND1/1", None, 400).await,
        "Invalid (obj_id, filter_id) pairing - no matching candidates"
    );
    // Instruments by id, including the spectrograph spectra are taken with.
    assert_eq!(t.get("/api/instrument/4").await["type"], "spectrograph");
    assert_eq!(t.get("/api/groups/2").await["nickname"], "transients");
    assert_eq!(t.fails(Method::GET, "/api/groups/9", None, 400).await, "Cannot find Group with id 9");
    t.sb.shutdown().await;
}

#[tokio::test]
async fn photometry_patch_and_bulk_deletes() {
    let t = Sp::new().await;
    let obj = t.transient();
    let pts = t.get(&format!("/api/sources/{obj}/photometry")).await;
    let n0 = pts.as_array().unwrap().len();
    // Patch a sky-model point: it changes in place.
    let pid = pts[0]["id"].as_u64().unwrap();
    t.ok(Method::PATCH, &format!("/api/photometry/{pid}"), json!({"mag": 18.5, "magerr": 0.05, "origin": "recal"}))
        .await;
    let p = t.get(&format!("/api/photometry/{pid}")).await;
    assert!((p["mag"].as_f64().unwrap() - 18.5).abs() < 1e-6);
    assert_eq!(p["origin"], "recal");
    assert_eq!(t.get(&format!("/api/sources/{obj}/photometry")).await.as_array().unwrap().len(), n0);
    assert!(
        t.fails(Method::PATCH, &format!("/api/photometry/{pid}"), Some(json!({"mjd": "soon"})), 400)
            .await
            .starts_with("Invalid input format")
    );
    assert_eq!(
        t.fails(Method::PATCH, "/api/photometry/1", Some(json!({"mjd": 60000})), 400).await,
        "Cannot find photometry point with ID: 1."
    );
    // Two uploads; bulk-delete the first by its upload_id.
    let up = |mjd: f64| {
        json!({"obj_id": obj, "instrument_id": 1, "mjd": [mjd, mjd + 1.0], "mag": [19.0, 19.1],
        "magerr": [0.1, 0.1], "limiting_mag": 21.0, "magsys": "ab", "filter": "ztfr"})
    };
    // altdata: a null entry in the list is a 500 (the server calls `.items()` on it); `{}`
    // is stored as null.
    let mut with_null = up(60400.5);
    with_null["altdata"] = json!([{"exptime": 30}, null]);
    assert_eq!(
        t.fails(Method::POST, "/api/photometry", Some(with_null), 500).await,
        "'NoneType' object has no attribute 'items'"
    );
    let mut with_empty = up(60400.5);
    with_empty["altdata"] = json!([{"exptime": 30}, {}]);
    let ids = t.ok(Method::POST, "/api/photometry", with_empty).await["ids"].clone();
    assert_eq!(t.get(&format!("/api/photometry/{}", ids[0])).await["altdata"], json!({"exptime": 30}));
    assert_eq!(t.get(&format!("/api/photometry/{}", ids[1])).await["altdata"], Value::Null);
    let a = t.ok(Method::POST, "/api/photometry", up(60500.5)).await;
    t.ok(Method::POST, "/api/photometry", up(60600.5)).await;
    let uid = a["upload_id"].as_str().unwrap();
    let d = t.ok(Method::DELETE, &format!("/api/photometry/bulk_delete/{uid}"), json!({})).await;
    assert_eq!(d, "Deleted 2 photometry point(s).");
    assert_eq!(
        t.fails(Method::DELETE, &format!("/api/photometry/bulk_delete/{uid}"), None, 400).await,
        "Invalid bulk upload id."
    );
    assert_eq!(t.get(&format!("/api/sources/{obj}/photometry")).await.as_array().unwrap().len(), n0 + 4);
    // Delete everything of the source.
    let d = t.ok(Method::DELETE, &format!("/api/sources/{obj}/photometry"), json!({})).await;
    assert_eq!(d, format!("Deleted {} photometry point(s) of {obj}.", n0 + 4));
    assert_eq!(t.get(&format!("/api/sources/{obj}/photometry")).await, json!([]));
    t.fails(Method::GET, &format!("/api/photometry/{pid}"), None, 400).await;
    assert_eq!(t.fails(Method::DELETE, "/api/sources/NOPE/photometry", None, 400).await, "Invalid object id.");
    let vo = t.sb.credentials().skyportal.view_only_token.clone();
    assert_eq!(t.call_as(&vo, Method::DELETE, &format!("/api/sources/{obj}/photometry"), None).await.0, 401);
    t.sb.shutdown().await;
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
