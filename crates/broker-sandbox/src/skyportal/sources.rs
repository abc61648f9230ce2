//! Sources: list (with the cached `queryID` paging), create, read, update and delete.

use super::*;

pub(super) fn source_json(sp: &Sp, s: &Source, include_phot: bool) -> Value {
    let o = s.sky.and_then(|i| sp.shared.sky.objects.get(i));
    let created = crate::clock::iso_z(sp.shared.clock.wall(Duration::ZERO)).trim_end_matches('Z').to_string();
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    m.insert("ra".into(), jf(s.ra));
    m.insert("dec".into(), jf(s.dec));
    m.insert("ra_dis".into(), Value::Null);
    m.insert("dec_dis".into(), Value::Null);
    m.insert("ra_err".into(), Value::Null);
    m.insert("dec_err".into(), Value::Null);
    m.insert("offset".into(), json!(0.0));
    m.insert("redshift".into(), s.redshift.map(jf).unwrap_or(Value::Null));
    m.insert("redshift_error".into(), Value::Null);
    m.insert("origin".into(), json!(if o.is_some() { "broker-sandbox" } else { "broker-sandbox-extra" }));
    m.insert("alias".into(), o.map(|o| json!([o.atlas_designation])).unwrap_or(Value::Null));
    m.insert("healpix".into(), json!(mix(s.id.len() as u64 ^ (s.ra * 1e6) as u64) % (12 * (1u64 << 26))));
    m.insert("transient".into(), json!(o.map(|o| o.kind.is_transient()).unwrap_or(false)));
    m.insert("varstar".into(), json!(o.map(|o| !o.kind.is_transient()).unwrap_or(false)));
    m.insert("is_roid".into(), json!(false));
    m.insert("score".into(), Value::Null);
    m.insert("tns_name".into(), s.tns.as_ref().map(|t| json!(t)).unwrap_or(Value::Null));
    m.insert("created_at".into(), json!(created));
    m.insert("internal_key".into(), json!(format!("{:016x}", mix(s.ra.to_bits()))));
    m.insert("altdata".into(), Value::Null);
    m.insert("classifications".into(), Value::Array(store::classifications_of(sp, &s.id)));
    m.insert("groups".into(), groups_json(&s.groups));
    m.insert("annotations".into(), Value::Array(store::annotations_of(sp, &s.id)));
    m.insert("thumbnails".into(), json!([]));
    if include_phot {
        m.insert("photometry".into(), Value::Array(points_of(sp, s).iter().map(|p| phot_json(sp, p, "mag")).collect()));
    }
    Value::Object(m)
}

pub(super) fn query_id(ids: &[String]) -> String {
    let mut h = 0xCBF2_9CE4_8422_2325u64;
    for id in ids {
        for b in id.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        h = mix(h);
    }
    format!("{:016x}{:016x}{:016x}{:016x}", h, mix(h), mix(h ^ 1), mix(h ^ 2))
}

pub(super) async fn sources(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {}
        Method::POST => return post_source(&sp, &h, &body),
        _ => return method_not_allowed(),
    }
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let q = Pairs::from_query(&uri);
    let (page, n) = match page_params(&q, 100, MAX_PER_PAGE) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let use_cache = q.last("useCache").and_then(parse_bool).unwrap_or(false);
    // `get_sources` (handlers/api/sources.py): with the cache, page 1 is asked without a
    // queryID and every later page with one; without the cache a queryID is ignored.
    let given_qid = q.last("queryID").filter(|_| use_cache);
    if use_cache && given_qid.is_none() && page > 1 {
        return err(
            400,
            "Cannot retrieve sources: Cannot use cache and not specify a query_id when requesting a page number > 1",
        );
    }
    if given_qid.is_some() && page == 1 {
        return err(
            400,
            "Cannot retrieve sources: Cannot use cache and specify a query_id when requesting the first page",
        );
    }
    let mut group_ids = Vec::new();
    if let Some(g) = q.last("group_ids") {
        for x in g.split(',').filter(|x| !x.trim().is_empty()) {
            match x.trim().parse::<i64>() {
                Ok(v) => group_ids.push(v),
                Err(_) => return err(400, &format!("Cannot retrieve sources: Invalid group_ids value: {g}")),
            }
        }
    }
    let f = |k: &str| q.last(k).and_then(|v| v.parse::<f64>().ok());
    let cone = match (f("ra"), f("dec"), f("radius")) {
        (Some(a), Some(d), Some(r)) => Some((a, d, r)),
        (None, None, None) => None,
        _ => {
            return err(
                400,
                "Cannot retrieve sources: If any of 'ra', 'dec' or 'radius' are provided, all three are required.",
            );
        }
    };
    let source_id = q.last("sourceID").map(str::to_lowercase);
    let min_z = f("minRedshift");
    let max_z = f("maxRedshift");
    let has_tns = q.last("hasTNSname").and_then(parse_bool);
    let sort_by = q.last("sortBy").unwrap_or("saved_at");
    let desc = q.last("sortOrder").map(|s| s.eq_ignore_ascii_case("desc")).unwrap_or(true);
    let mut st = sp.lock();
    let cached = given_qid.and_then(|id| st.queries.get(id).cloned().map(|v| (id.to_string(), v)));
    let (ids, qid) = match cached {
        Some((id, v)) => (v, Some(id)),
        None => {
            let mut rows: Vec<&Source> = st
                .sources
                .iter()
                .filter(|s| group_ids.is_empty() || s.groups.iter().any(|g| group_ids.contains(g)))
                .filter(|s| source_id.as_ref().is_none_or(|p| s.id.to_lowercase().contains(p)))
                .filter(|s| cone.is_none_or(|(a, d, r)| separation_arcsec(a, d, s.ra, s.dec) <= r * 3600.0))
                .filter(|s| {
                    min_z.is_none_or(|z| s.redshift.is_some_and(|x| x >= z))
                        && max_z.is_none_or(|z| s.redshift.is_some_and(|x| x <= z))
                })
                .filter(|s| has_tns.is_none_or(|t| s.tns.is_some() == t))
                .collect();
            match sort_by {
                "id" => rows.sort_by(|a, b| a.id.cmp(&b.id)),
                "ra" => rows.sort_by(|a, b| a.ra.total_cmp(&b.ra)),
                "dec" => rows.sort_by(|a, b| a.dec.total_cmp(&b.dec)),
                "redshift" => rows.sort_by(|a, b| a.redshift.unwrap_or(-1.0).total_cmp(&b.redshift.unwrap_or(-1.0))),
                _ => rows.sort_by_key(|s| s.saved),
            }
            if desc {
                rows.reverse();
            }
            let ids: Vec<String> = rows.iter().map(|s| s.id.clone()).collect();
            let qid = use_cache.then(|| query_id(&ids));
            if let Some(q) = &qid {
                st.queries.insert(q.clone(), ids.clone());
            }
            (ids, qid)
        }
    };
    let total = ids.len();
    let page_ids: Vec<String> = ids.iter().skip((page - 1) * n).take(n).cloned().collect();
    let page_sources: Vec<Source> =
        page_ids.iter().filter_map(|id| st.index.get(id).and_then(|i| st.sources.get(*i)).cloned()).collect();
    drop(st);
    // The list reads `includePhotometry` but never passes it on: no photometry here.
    let out: Vec<Value> = page_sources.iter().map(|s| source_json(&sp, s, false)).collect();
    let mut data = json!({"sources": out, "totalMatches": total, "pageNumber": page, "numPerPage": n});
    if let (Some(q), Value::Object(m)) = (qid, &mut data) {
        m.insert("queryID".into(), json!(q));
    }
    if let (1, Value::Object(m)) = (group_ids.len(), &mut data) {
        m.insert("group_id".into(), json!(group_ids[0]));
    }
    ok(data)
}

pub(super) fn post_source(sp: &Sp, h: &HeaderMap, body: &[u8]) -> Response {
    if let Err(r) = auth(sp, h, true) {
        return r;
    }
    let v = match body_json(body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = v.get("id").and_then(|x| x.as_str().map(str::to_string).or_else(|| x.as_i64().map(|n| n.to_string())));
    let ra = v.get("ra").and_then(Value::as_f64);
    let dec = v.get("dec").and_then(Value::as_f64);
    let (Some(id), Some(ra), Some(dec)) = (id, ra, dec) else {
        return err(
            400,
            "Invalid/missing parameters: {'id': ['Missing data for required field.'], 'ra': ['Missing data for required field.'], 'dec': ['Missing data for required field.']}",
        );
    };
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c)) {
        return err(400, "Invalid source ID");
    }
    let groups: Vec<i64> = v
        .get("group_ids")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_else(|| vec![PUBLIC_GROUP]);
    if let Some(g) = groups.iter().find(|g| !(1..=3).contains(*g)) {
        return err(400, &format!("Invalid group IDs: {g}"));
    }
    let now = sp.shared.clock.now();
    let offset = Duration::from_secs(10_000_000);
    let mut st = sp.lock();
    match st.index.get(&id).copied() {
        Some(i) => {
            if let Some(s) = st.sources.get_mut(i) {
                for g in &groups {
                    if !s.groups.contains(g) {
                        s.groups.push(*g);
                    }
                }
                s.saved = offset + now;
                if let Some(z) = v.get("redshift").and_then(Value::as_f64) {
                    s.redshift = Some(z);
                }
            }
        }
        None => {
            let n = st.sources.len();
            st.index.insert(id.clone(), n);
            st.sources.push(Source {
                id: id.clone(),
                ra,
                dec,
                redshift: v.get("redshift").and_then(Value::as_f64),
                groups: groups.clone(),
                saved: offset + now,
                sky: None,
                tns: None,
            });
        }
    }
    ok(json!({"id": id, "saved_to_groups": groups}))
}

pub(super) async fn source(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let needs = !matches!(method, Method::GET | Method::HEAD);
    if let Err(r) = auth(&sp, &h, needs) {
        return r;
    }
    let found = {
        let st = sp.lock();
        st.index.get(&id).and_then(|i| st.sources.get(*i)).cloned()
    };
    match method {
        Method::HEAD => match found {
            Some(_) => ok(json!({})),
            None => store::empty_404(),
        },
        Method::GET => match found {
            Some(s) => {
                let q = Pairs::from_query(&uri);
                let mut v = source_json(&sp, &s, q.last("includePhotometry").and_then(parse_bool).unwrap_or(false));
                if let (true, Value::Object(m)) =
                    (q.last("includeComments").and_then(parse_bool).unwrap_or(false), &mut v)
                {
                    m.insert("comments".into(), Value::Array(store::comments_of(&sp, &s.id)));
                }
                ok(v)
            }
            None => err(404, "Source not found"),
        },
        Method::PATCH => {
            let Some(_) = found else { return err(400, &format!("Invalid source ID: {id}")) };
            let v = match body_json(&body) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let mut st = sp.lock();
            if let Some(s) = st.index.get(&id).copied().and_then(|i| st.sources.get_mut(i)) {
                if let Some(z) = v.get("redshift").and_then(Value::as_f64) {
                    s.redshift = Some(z);
                }
                if let Some(a) = v.get("ra").and_then(Value::as_f64) {
                    s.ra = a;
                }
                if let Some(d) = v.get("dec").and_then(Value::as_f64) {
                    s.dec = d;
                }
            }
            ok(json!({}))
        }
        Method::DELETE => {
            let Some(_) = found else { return err(400, &format!("Invalid source ID: {id}")) };
            let v = match body_json(&body) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let Some(g) = v.get("group_id").and_then(Value::as_i64) else {
                return err(400, "Missing required parameter: group_id");
            };
            let mut st = sp.lock();
            if let Some(s) = st.index.get(&id).copied().and_then(|i| st.sources.get_mut(i)) {
                s.groups.retain(|x| *x != g);
            }
            ok(json!({}))
        }
        _ => method_not_allowed(),
    }
}
