//! Candidates, `source_groups` and `source_exists`.

use super::store::*;
use super::*;
use crate::sky::separation_arcsec;
use crate::util::{Pairs, parse_bool};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(super) async fn candidate(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    match method {
        Method::HEAD => {
            try_r!(auth(&sp, &h, false));
            if candidate_filters(&sp, &id).is_empty() {
                err(404, &format!("No candidate with object ID {id}"))
            } else {
                ok(json!({}))
            }
        }
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let filters = candidate_filters(&sp, &id);
            let src = {
                let st = sp.lock();
                st.index.get(&id).and_then(|i| st.sources.get(*i)).cloned()
            };
            let (Some(s), false) = (src, filters.is_empty()) else { return err(400, "Invalid ID") };
            let q = Pairs::from_query(&uri);
            let mut v = super::source_json(&sp, &s, false);
            if let Value::Object(m) = &mut v {
                m.insert("filter_ids".into(), json!(filters));
                m.insert("passing_alerts".into(), json!([]));
                m.insert("is_source".into(), json!(!s.groups.is_empty()));
                m.insert("saved_groups".into(), groups_json(&s.groups));
                if q.last("includeComments").and_then(parse_bool).unwrap_or(false) {
                    m.insert("comments".into(), Value::Array(comments_of(&sp, &id)));
                }
                // `include_requested_obj_data`: photometry and spectra on request.
                if q.last("includePhotometry").and_then(parse_bool).unwrap_or(false) {
                    if let Value::Object(with) = super::source_json(&sp, &s, true) {
                        if let Some(p) = with.get("photometry") {
                            m.insert("photometry".into(), p.clone());
                        }
                    }
                }
                if q.last("includeSpectra").and_then(parse_bool).unwrap_or(false) {
                    let st = sp.lock();
                    let spectra: Vec<Value> = st
                        .more
                        .spectra
                        .values()
                        .filter(|x| x.meta.get("obj_id").and_then(Value::as_str) == Some(id.as_str()))
                        .map(|x| spectrum_json(&sp, &st.more, x, false, None))
                        .collect();
                    m.insert("spectra".into(), Value::Array(spectra));
                }
            }
            ok(v)
        }
        Method::DELETE => {
            try_r!(auth(&sp, &h, true));
            err(400, "Invalid API endpoint")
        }
        _ => method_not_allowed(),
    }
}

/// `POST /api/candidates` (called from the parent's `/api/candidates` handler).
pub(super) fn post_candidate(sp: &Sp, h: &HeaderMap, body: &[u8]) -> Response {
    try_r!(auth(sp, h, true));
    let v = try_r!(body_obj(body));
    let Some(id) =
        v.get("id").and_then(|x| x.as_str().map(str::to_string).or_else(|| x.as_i64().map(|n| n.to_string())))
    else {
        return err(400, "Missing required parameter: `id`.");
    };
    let exists = source_exists(sp, &id);
    if !exists {
        if v.get("ra").is_none_or(Value::is_null) {
            return err(400, "RA must not be null for a new Obj");
        }
        if v.get("dec").is_none_or(Value::is_null) {
            return err(400, "Dec must not be null for a new Obj");
        }
    }
    let Some(passed_at) = v.get("passed_at").filter(|x| !x.is_null()) else {
        return err(400, "Missing required parameter: `passed_at`.");
    };
    let Some(passed) = passed_at.as_str().and_then(parse_time) else {
        return err(
            400,
            &format!("Invalid passedAt value: Could not match input '{}' to any of the supported formats.", passed_at),
        );
    };
    let Some(Value::Array(fids)) = v.get("filter_ids") else {
        return err(400, "Missing required filter_ids parameter.");
    };
    let fids: Vec<i64> = fids.iter().filter_map(Value::as_i64).collect();
    let valid: Vec<i64> = {
        let st = sp.lock();
        fids.iter().copied().filter(|f| st.more.filters.get(*f).is_some()).collect()
    };
    if valid.is_empty() {
        return err(400, "At least one valid filter ID must be provided.");
    }
    let (ra, dec) = match (v.get("ra").and_then(Value::as_f64), v.get("dec").and_then(Value::as_f64)) {
        (Some(a), Some(d)) => (a, d),
        _ => (0.0, 0.0),
    };
    let mut st = sp.lock();
    if !exists {
        let n = st.sources.len();
        st.index.insert(id.clone(), n);
        st.sources.push(super::Source {
            id: id.clone(),
            ra,
            dec,
            redshift: v.get("redshift").and_then(Value::as_f64),
            groups: Vec::new(),
            saved: std::time::Duration::from_secs(20_000_000),
            sky: None,
            tns: None,
        });
    }
    let passed = passed.format("%Y-%m-%dT%H:%M:%S").to_string();
    let mut ids = Vec::new();
    for f in valid {
        if st.more.candidates.iter().any(|c| c.obj_id == id && c.filter_id == f && c.passed_at == passed) {
            continue;
        }
        st.more.next_candidate += 1;
        let cid = st.more.next_candidate;
        st.more.candidates.push(Candidate { obj_id: id.clone(), filter_id: f, passed_at: passed.clone() });
        ids.push(cid);
    }
    ok(json!({"ids": ids}))
}

pub(super) async fn candidate_filter(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path((id, fid)): Path<(String, String)>,
) -> Response {
    if method != Method::DELETE {
        try_r!(auth(&sp, &h, false));
        return if method == Method::GET { err(400, "Invalid ID") } else { method_not_allowed() };
    }
    try_r!(auth(&sp, &h, true));
    let Ok(fid) = fid.parse::<i64>() else { return err(400, "Invalid API endpoint") };
    let mut st = sp.lock();
    let before = st.more.candidates.len();
    st.more.candidates.retain(|c| !(c.obj_id == id && c.filter_id == fid));
    if st.more.candidates.len() == before {
        return err(400, "Invalid (obj_id, filter_id) pairing - no matching candidates");
    }
    ok(json!({}))
}

pub(super) async fn source_groups_of(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let st = sp.lock();
    let Some(s) = st.index.get(&id).and_then(|i| st.sources.get(*i)) else {
        return err(400, &format!("Invalid object ID: {id}"));
    };
    let mut g = groups_json(&s.groups);
    if let Value::Array(a) = &mut g {
        for x in a.iter_mut() {
            if let Value::Object(m) = x {
                m.insert("description".into(), Value::Null);
                m.insert("private".into(), json!(false));
            }
        }
    }
    ok(g)
}

pub(super) async fn source_groups(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    if method != Method::POST {
        try_r!(auth(&sp, &h, false));
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let v = try_r!(body_obj(&body));
    if let Some(r) = pydantic_extra(&v, &["objId", "inviteGroupIds", "unsaveGroupIds"]) {
        return r;
    }
    if let Some(r) = pydantic_missing(&v, &["objId"]) {
        return r;
    }
    let list = |k: &str| -> Result<Vec<i64>, Response> {
        match v.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    x.as_i64().ok_or_else(|| {
                        err(400, &format!("Invalid/missing parameters: {k}.{i}: Input should be a valid integer"))
                    })
                })
                .collect(),
            Some(_) => Err(err(400, &format!("Invalid/missing parameters: {k}: Input should be a valid list"))),
        }
    };
    let invite = try_r!(list("inviteGroupIds"));
    let unsave = try_r!(list("unsaveGroupIds"));
    let obj = v.get("objId").and_then(Value::as_str).unwrap_or_default().to_string();
    if invite.is_empty() && unsave.is_empty() {
        return err(400, "Missing required parameters: inviteGroupIds or unsaveGroupIds");
    }
    let mut st = sp.lock();
    let Some(i) = st.index.get(&obj).copied() else { return err(404, &format!("Obj {obj} not found")) };
    let Some(s) = st.sources.get_mut(i) else { return err(404, &format!("Obj {obj} not found")) };
    for g in &invite {
        if !(1..=3).contains(g) {
            return err(400, &format!("Invalid group ID: {g}"));
        }
        if s.groups.contains(g) {
            return err(400, &format!("Source already saved to group w/ ID {g}"));
        }
    }
    for g in &unsave {
        if !s.groups.contains(g) {
            return err(400, "Specified source is not saved to group from which it was to be unsaved.");
        }
    }
    s.groups.extend(invite.iter().copied());
    s.groups.retain(|g| !unsave.contains(g));
    ok(json!({}))
}

pub(super) fn source_exists_impl(sp: &Sp, method: Method, h: &HeaderMap, uri: &Uri, id: Option<&str>) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(sp, h, false));
    let q = Pairs::from_query(uri);
    let raw = (q.last("ra"), q.last("dec"), q.last("radius"));
    let f = |x: Option<&str>| x.and_then(|s| s.parse::<f64>().ok()).filter(|v| *v != 0.0);
    let (ra, dec, radius) = (f(raw.0), f(raw.1), f(raw.2));
    let all = ra.is_some() && dec.is_some() && radius.is_some();
    if !all && id.is_none() {
        return err(400, "Provide an obj_id, or either ra, dec, and radius for spatial filtering.");
    }
    let st = sp.lock();
    if let Some(id) = id {
        if st.index.contains_key(id) {
            return ok(
                json!({"source_exists": true, "message": format!("A source with the name {id} already exists.")}),
            );
        }
        if !all {
            return ok(json!({"source_exists": false, "message": format!("No sources exist with the name {id}.")}));
        }
    }
    let (Some(ra), Some(dec), Some(radius)) = (ra, dec, radius) else {
        return err(400, "Invalid values for ra, dec or radius - could not convert to float");
    };
    let mut names: Vec<&str> = st
        .sources
        .iter()
        .filter(|s| !s.groups.is_empty() && separation_arcsec(ra, dec, s.ra, s.dec) <= radius * 3600.0)
        .map(|s| s.id.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    match names.len() {
        0 => ok(json!({"source_exists": false, "message": format!("No sources exist at this location{}.",
            id.map(|i| format!(" or with the name {i}")).unwrap_or_default())})),
        1 => ok(
            json!({"source_exists": true, "message": format!("A source at that location already exists: {}.", names[0])}),
        ),
        _ => ok(
            json!({"source_exists": true, "message": format!("Sources at that location already exist: {}.", names.join(","))}),
        ),
    }
}

pub(super) async fn source_exists_root(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri) -> Response {
    source_exists_impl(&sp, method, &h, &uri, None)
}

pub(super) async fn source_exists_one(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    source_exists_impl(&sp, method, &h, &uri, Some(&id))
}

/// `HEAD` answers with an empty 404 (Tornado `set_status(404); finish()`).
pub(super) fn empty_404() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

pub(super) async fn candidates(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {}
        Method::POST => return store::post_candidate(&sp, &h, &body),
        _ => return method_not_allowed(),
    }
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let q = Pairs::from_query(&uri);
    // The toolbar's quick search (`nameOnly=true&objID=...`): ids starting with objID, at
    // most numPerPage (not clamped), no paging and no total.
    let name_only = q.last("nameOnly").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if let (true, Some(prefix)) = (name_only, q.last("objID").filter(|p| !p.is_empty())) {
        let limit = match q.last("numPerPage").unwrap_or("25").trim().parse::<usize>() {
            Ok(n) => n,
            Err(e) => return err(500, &format!("invalid literal for int() with base 10: {e}")),
        };
        let prefix = prefix.to_lowercase();
        let mut ids: Vec<String> =
            store::candidate_ids(&sp).into_iter().filter(|id| id.to_lowercase().starts_with(&prefix)).collect();
        ids.sort();
        ids.truncate(limit);
        return ok(json!({"candidates": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()}));
    }
    let (page, n) = match page_params(&q, 25, MAX_PER_PAGE) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if q.last("annotationExcludeOrigin").is_some_and(|v| !v.is_empty())
        || q.last("annotationExcludeOutdatedDate").is_some_and(|v| !v.is_empty())
    {
        return err(
            400,
            "annotationExcludeOrigin and annotationExcludeOutdatedDate parameters are no longer supported",
        );
    }
    let filters = match q.last("annotationFilterList").map(store::parse_annotation_filters) {
        None => Vec::new(),
        Some(Ok(f)) => f,
        Some(Err(r)) => return r,
    };
    let mut all = store::candidate_ids(&sp);
    if !filters.is_empty() {
        all.retain(|id| store::passes_annotation_filters(&sp, id, &filters));
    }
    let mut st = sp.lock();
    let ids: Vec<String> = match q.last("queryID").and_then(|id| st.queries.get(id).cloned()) {
        Some(v) => v,
        None => all,
    };
    let qid = query_id(&ids);
    st.queries.insert(qid.clone(), ids.clone());
    let total = ids.len();
    if (page - 1) * n >= total && total > 0 {
        return err(400, "Page number out of range.");
    }
    let rows: Vec<Source> = ids
        .iter()
        .skip((page - 1) * n)
        .take(n)
        .filter_map(|id| st.index.get(id).and_then(|i| st.sources.get(*i)).cloned())
        .collect();
    drop(st);
    let out: Vec<Value> = rows
        .iter()
        .map(|s| {
            let mut v = source_json(&sp, s, false);
            if let Value::Object(m) = &mut v {
                m.insert("is_source".into(), json!(!s.groups.is_empty()));
                m.insert("passing_alerts".into(), json!([]));
                m.insert("filter_ids".into(), json!(store::candidate_filters(&sp, &s.id)));
            }
            v
        })
        .collect();
    ok(json!({"candidates": out, "totalMatches": total, "pageNumber": page, "numPerPage": n, "queryID": qid}))
}
