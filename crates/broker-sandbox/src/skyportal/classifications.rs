//! Classifications, and what `GET /api/sources/{id}` embeds of this module's resources
//! (classifications, comments, annotations, candidate filters).

use super::store::*;
use super::{Sp, auth, err, groups_json, method_not_allowed, ok};
use crate::util::Pairs;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::{Value, json};

/// Classifications of an object (what `GET /api/sources/{id}` embeds).
pub(super) fn classifications_of(sp: &Sp, obj: &str) -> Vec<Value> {
    let st = sp.lock();
    st.more
        .classifications
        .rows
        .values()
        .filter(|c| c.get("obj_id").and_then(Value::as_str) == Some(obj))
        .map(|c| Value::Object(c.clone()))
        .collect()
}

/// Comments on a source (what `includeComments=true` embeds).
pub(super) fn comments_of(sp: &Sp, obj: &str) -> Vec<Value> {
    let st = sp.lock();
    comment_rows(&st.more, Res::Sources, obj)
}

/// Annotations on a source (what `GET /api/sources/{id}` embeds).
pub(super) fn annotations_of(sp: &Sp, obj: &str) -> Vec<Value> {
    let st = sp.lock();
    annotation_rows(&st.more, Res::Sources, obj)
}

/// The obj ids that are candidates, in insertion order, without duplicates.
pub(super) fn candidate_ids(sp: &Sp) -> Vec<String> {
    let st = sp.lock();
    let mut seen = std::collections::HashSet::new();
    st.more.candidates.iter().filter(|c| seen.insert(c.obj_id.clone())).map(|c| c.obj_id.clone()).collect()
}

/// One parsed item of the candidates' `annotationFilterList`.
pub(super) enum AnnFilter {
    /// `value`: a boolean compared as a boolean, anything else as text.
    Value { origin: String, key: String, value: Value },
    /// `min` and `max`, numbers.
    Range { origin: String, key: String, min: f64, max: f64 },
}

/// Parses `annotationFilterList` as `handlers/api/candidate/candidate.py` does: split on a
/// comma followed by `{`, each item a JSON object with `origin`, `key`, and `value` or both
/// `min` and `max`; the server's 400 messages otherwise.
pub(super) fn parse_annotation_filters(raw: &str) -> Result<Vec<AnnFilter>, Response> {
    let mut items = Vec::new();
    let mut start = 0;
    let bytes = raw.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b',' && bytes.get(i + 1) == Some(&b'{') {
            items.push(&raw[start..i]);
            start = i + 1;
        }
    }
    items.push(&raw[start..]);
    let mut out = Vec::new();
    for item in items {
        let Ok(Value::Object(f)) = serde_json::from_str::<Value>(item) else {
            return Err(err(400, "Could not parse JSON objects for annotation filtering"));
        };
        let text = |k: &str| f.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        let Some(origin) = text("origin") else {
            return Err(err(400, &format!("Invalid annotation filter list item {item}: \"origin\" is required.")));
        };
        let Some(key) = text("key") else {
            return Err(err(400, &format!("Invalid annotation filter list item {item}: \"key\" is required.")));
        };
        if let Some(v) = f.get("value") {
            if !(v.is_boolean() || v.is_string()) {
                // json.loads(value) on a number raises TypeError: an uncaught 500.
                return Err(err(500, "the JSON object must be str, bytes or bytearray, not int"));
            }
            out.push(AnnFilter::Value { origin, key, value: v.clone() });
        } else if let (Some(a), Some(b)) = (f.get("min"), f.get("max")) {
            let num = |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
            let (Some(min), Some(max)) = (num(a), num(b)) else {
                return Err(err(
                    400,
                    &format!(
                        "Invalid annotation filter list item: {item}. The min/max provided is not a valid number."
                    ),
                ));
            };
            out.push(AnnFilter::Range { origin, key, min, max });
        } else {
            return Err(err(
                400,
                &format!(
                    "Invalid annotation filter list item: {item}. Should have either \"value\" or \"min\" and \"max\""
                ),
            ));
        }
    }
    Ok(out)
}

/// Whether an object's annotations pass every filter.
pub(super) fn passes_annotation_filters(sp: &Sp, obj: &str, filters: &[AnnFilter]) -> bool {
    let anns = annotations_of(sp, obj);
    let datum = |origin: &str, key: &str| -> Vec<Value> {
        anns.iter()
            .filter(|a| a.get("origin").and_then(Value::as_str) == Some(origin))
            .filter_map(|a| a.get("data").and_then(|d| d.get(key)).cloned())
            .collect()
    };
    filters.iter().all(|f| match f {
        AnnFilter::Value { origin, key, value } => datum(origin, key).iter().any(|d| match value {
            Value::Bool(b) => d.as_bool() == Some(*b),
            Value::String(t) => {
                let as_text = d.as_str().map(str::to_string).unwrap_or_else(|| d.to_string());
                let nested = serde_json::from_str::<Value>(t).map(|v| v.to_string()).unwrap_or_else(|_| t.clone());
                as_text == *t || as_text == nested
            }
            _ => false,
        }),
        AnnFilter::Range { origin, key, min, max } => {
            datum(origin, key).iter().filter_map(Value::as_f64).any(|x| x >= *min && x <= *max)
        }
    })
}

/// Filter ids a candidate passed.
pub(super) fn candidate_filters(sp: &Sp, obj: &str) -> Vec<i64> {
    sp.lock().more.candidates.iter().filter(|c| c.obj_id == obj).map(|c| c.filter_id).collect()
}

pub(super) async fn source_classifications(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            ok(Value::Array(classifications_of(&sp, &id)))
        }
        Method::DELETE => {
            try_r!(auth(&sp, &h, true));
            let _ = try_r!(body_obj(&body));
            let mut st = sp.lock();
            st.more.classifications.rows.retain(|_, c| c.get("obj_id").and_then(Value::as_str) != Some(id.as_str()));
            ok(json!({}))
        }
        _ => method_not_allowed(),
    }
}

pub(super) fn post_one_classification(sp: &Sp, v: &Obj) -> Result<i64, String> {
    for k in ["obj_id", "classification", "taxonomy_id"] {
        if !v.contains_key(k) {
            return Err(format!("'{k}'"));
        }
    }
    let obj = v.get("obj_id").and_then(Value::as_str).unwrap_or_default().to_string();
    if !source_exists(sp, &obj) {
        return Err(format!("Cannot find object with ID {obj}."));
    }
    // `post_classification`: anything but a non-empty list means the public group.
    let groups = match v.get("group_ids") {
        Some(Value::Array(a)) if !a.is_empty() => a.iter().filter_map(Value::as_i64).collect(),
        _ => vec![1],
    };
    let ml = classification_ml(v)?;
    let tax = v.get("taxonomy_id").and_then(Value::as_i64).unwrap_or(-1);
    let class = v.get("classification").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut st = sp.lock();
    let Some(t) = st.more.taxonomies.get(tax) else { return Err(format!("Cannot find a taxonomy with ID: {tax}.")) };
    let mut allowed = Vec::new();
    allowed_classes(t.get("hierarchy").unwrap_or(&Value::Null), &mut allowed);
    if !allowed.contains(&class) {
        return Err(format!(
            "That classification ({class}) is not in the allowed classes for the chosen taxonomy (id={tax}"
        ));
    }
    let p = v.get("probability").and_then(Value::as_f64);
    if let Some(p) = p
        && !(0.0..=1.0).contains(&p)
    {
        return Err(format!("That probability ({p}) is outside the allowable range (0-1)."));
    }
    if groups.iter().any(|g| !(1..=3).contains(g)) {
        return Err(format!("Cannot find one or more groups with IDs: {}.", py_list(&groups)));
    }
    let t = now(sp);
    let row = to_obj(json!({"classification": class, "probability": p, "taxonomy_id": tax, "obj_id": obj,
        "origin": v.get("origin").cloned().unwrap_or(Value::Null), "author_id": ADMIN_ID, "author_name": ADMIN_NAME,
        "ml": ml, "groups": groups_json(&groups), "created_at": t, "modified": t}));
    Ok(st.more.classifications.insert(row))
}

/// `ml = data.get("ml", False)` with the server's accepted spellings (POST and PUT alike: a
/// PUT without `ml` resets it to false).
pub(super) fn classification_ml(v: &Obj) -> Result<bool, String> {
    match v.get("ml") {
        None | Some(Value::Bool(false)) => Ok(false),
        Some(Value::Bool(true)) => Ok(true),
        Some(Value::String(s)) if matches!(s.as_str(), "True" | "t" | "true") => Ok(true),
        Some(Value::String(s)) if matches!(s.as_str(), "False" | "f" | "false") => Ok(false),
        Some(x) => Err(format!(
            "If provided, ml must be one of True, False, 'True', 'False', 't', 'f', 'true', 'false' (got {x})"
        )),
    }
}

pub(super) async fn classifications(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let q = Pairs::from_query(&uri);
            let parse = |k: &str, d: usize| q.last(k).map(|v| v.parse::<usize>().ok()).unwrap_or(Some(d));
            let (Some(page), Some(n)) = (parse("pageNumber", 1), parse("numPerPage", 100)) else {
                return err(400, "Cannot parse inputs pageNumber or numPerPage as integers.");
            };
            let n = n.min(MAX_CLASSIFICATIONS);
            let start = q.last("startDate").map(str::to_string);
            let end = q.last("endDate").map(str::to_string);
            let st = sp.lock();
            let rows: Vec<&Obj> = st
                .more
                .classifications
                .rows
                .values()
                .filter(|c| {
                    let t = c.get("created_at").and_then(Value::as_str).unwrap_or_default();
                    start.as_deref().is_none_or(|s| t >= s) && end.as_deref().is_none_or(|e| t <= e)
                })
                .collect();
            let total = rows.len();
            let page_rows: Vec<Value> =
                rows.into_iter().skip(page.saturating_sub(1) * n).take(n).map(|c| Value::Object(c.clone())).collect();
            ok(json!({"classifications": page_rows, "totalMatches": total}))
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(Value::Array(list)) = v.get("classifications") {
                let mut ids = Vec::new();
                for c in list {
                    let c = to_obj(c.clone());
                    match post_one_classification(&sp, &c) {
                        Ok(id) => ids.push(id),
                        Err(e) => return err(400, &format!("Error posting classification: {e}")),
                    }
                }
                return ok(json!({"classification_ids": ids}));
            }
            match post_one_classification(&sp, &v) {
                Ok(id) => ok(json!({"classification_id": id})),
                Err(e) => err(400, &format!("Error posting classification: {e}")),
            }
        }
        _ => method_not_allowed(),
    }
}

pub(super) async fn classification(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let needs = method != Method::GET;
    try_r!(auth(&sp, &h, needs));
    let cid = try_r!(numeric(&id));
    match method {
        Method::GET => match sp.lock().more.classifications.get(cid) {
            Some(c) => ok(Value::Object(c.clone())),
            None => err(400, &format!("Cannot find classification with ID: {cid}.")),
        },
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            let mut st = sp.lock();
            let tax_ok = |st: &super::SpState, t: i64| st.more.taxonomies.get(t).is_some();
            if let Some(t) = v.get("taxonomy_id").and_then(Value::as_i64)
                && !tax_ok(&st, t)
            {
                return err(400, &format!("Cannot find a taxonomy with ID: {t}."));
            }
            let Some(c) = st.more.classifications.rows.get_mut(&cid) else {
                return err(400, &format!("Cannot find a classification with ID: {cid}."));
            };
            let ml = match classification_ml(&v) {
                Ok(ml) => ml,
                Err(m) => return err(400, &m),
            };
            for k in ["classification", "probability", "taxonomy_id", "origin"] {
                if let Some(x) = v.get(k) {
                    c.insert(k.into(), x.clone());
                }
            }
            c.insert("ml".into(), json!(ml));
            if let Some(Value::Array(a)) = v.get("group_ids") {
                let g: Vec<i64> = a.iter().filter_map(Value::as_i64).collect();
                c.insert("groups".into(), groups_json(&g));
            }
            drop(st);
            let t = now(&sp);
            if let Some(c) = sp.lock().more.classifications.rows.get_mut(&cid) {
                c.insert("modified".into(), json!(t));
            }
            ok(json!({}))
        }
        Method::DELETE => match sp.lock().more.classifications.rows.remove(&cid) {
            Some(_) => ok(json!({})),
            None => err(400, &format!("Cannot find a classification with ID: {cid}.")),
        },
        _ => method_not_allowed(),
    }
}
