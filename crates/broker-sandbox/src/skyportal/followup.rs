//! Follow-up requests.

use super::store::*;
use super::{Sp, auth, err, groups_json, method_not_allowed, ok, page_params};
use crate::util::Pairs;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::{Value, json};

pub(super) async fn followups(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let q = Pairs::from_query(&uri);
            let sort_by = q.last("sortBy").unwrap_or("created_at");
            let sort_order = q.last("sortOrder").unwrap_or("asc");
            if !matches!(
                sort_by,
                "created_at" | "modified" | "status" | "obj_id" | "requester" | "instrument" | "priority"
            ) {
                return err(400, "Invalid sortBy value.");
            }
            if !matches!(sort_order, "asc" | "desc") {
                return err(400, "Invalid sortOrder value.");
            }
            let (page, n) = try_r!(page_params(&q, 100, MAX_FOLLOWUP));
            let alloc = match q.last("allocationID") {
                Some(s) => match s.parse::<i64>() {
                    Ok(x) => Some(x),
                    Err(_) => return err(400, "Allocation ID must be an integer."),
                },
                None => None,
            };
            let source = q.last("sourceID").map(|s| s.trim().to_string());
            let status = q.last("status").map(str::to_string);
            let st = sp.lock();
            let mut rows: Vec<&Obj> = st
                .more
                .followups
                .rows
                .values()
                .filter(|r| {
                    alloc.is_none_or(|a| r.get("allocation_id").and_then(Value::as_i64) == Some(a))
                        && source
                            .as_deref()
                            .is_none_or(|s| r.get("obj_id").and_then(Value::as_str).is_some_and(|o| o.contains(s)))
                        && status
                            .as_deref()
                            .is_none_or(|s| r.get("status").and_then(Value::as_str).is_some_and(|x| x.contains(s)))
                })
                .collect();
            let key = |r: &Obj| match sort_by {
                "modified" | "status" | "obj_id" => r.get(sort_by).map(Value::to_string).unwrap_or_default(),
                _ => format!("{:012}", r.get("id").and_then(Value::as_i64).unwrap_or(0)),
            };
            rows.sort_by_key(|r| key(r));
            if sort_order == "desc" {
                rows.reverse();
            }
            let total = rows.len();
            let out: Vec<Value> =
                rows.into_iter().skip((page - 1) * n).take(n).map(|r| Value::Object(r.clone())).collect();
            ok(json!({"followup_requests": out, "totalMatches": total, "pageNumber": page, "numPerPage": n}))
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(m) = missing_fields(&v, &["obj_id", "allocation_id"]) {
                return err(400, &format!("Invalid / missing parameters: {m}"));
            }
            let Some(alloc) = v.get("allocation_id").and_then(|x| x.as_i64().or_else(|| x.as_str()?.parse().ok()))
            else {
                return err(400, "Invalid / missing parameters: {'allocation_id': ['Not a valid integer.']}");
            };
            let obj = v.get("obj_id").and_then(Value::as_str).unwrap_or_default().to_string();
            if sp.lock().more.allocations.get(alloc).is_none() {
                return err(400, &format!("Could not find allocation with ID {alloc}."));
            }
            if !source_exists(&sp, &obj) {
                return err(400, &format!("Could not find object with ID {obj}."));
            }
            let targets = match v.get("target_group_ids") {
                Some(Value::Array(_)) => try_r!(group_ids(&v, "target_group_ids")),
                _ => Vec::new(),
            };
            let status = v.get("status").and_then(Value::as_str).unwrap_or("pending submission").to_string();
            let row = obj_from(&[
                ("obj_id", json!(obj)),
                ("allocation_id", json!(alloc)),
                ("payload", v.get("payload").cloned().unwrap_or(Value::Null)),
                ("status", json!(status)),
                ("requester_id", json!(ADMIN_ID)),
                ("last_modified_by_id", json!(ADMIN_ID)),
                ("target_groups", groups_json(&targets)),
                ("watchers", json!([])),
            ]);
            let ts = now(&sp);
            let mut row = row;
            row.insert("created_at".into(), json!(ts));
            row.insert("modified".into(), json!(ts));
            let id = sp.lock().more.followups.insert(row);
            ok(json!({"id": id, "request_status": status}))
        }
        _ => method_not_allowed(),
    }
}

/// `FOLLOWUP_CONSTRAINT_KEYS` (handlers/api/followup_request.py): read on creation only.
pub(super) const FOLLOWUP_CONSTRAINT_KEYS: [&str; 9] = [
    "not_if_duplicates",
    "source_group_ids",
    "ignore_source_group_ids",
    "not_if_classified",
    "not_if_spectra_exist",
    "not_if_tns_classified",
    "not_if_tns_reported",
    "ignore_allocation_ids",
    "not_if_assignment_exists",
];

pub(super) async fn followup(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let parsed = id.parse::<i64>();
    match method {
        Method::GET => {
            let Ok(id) = parsed else { return err(400, "Could not retrieve followup request.") };
            match sp.lock().more.followups.get(id) {
                Some(r) => ok(Value::Object(r.clone())),
                None => err(400, "Could not retrieve followup request."),
            }
        }
        Method::PUT => {
            let Ok(id) = parsed else { return err(400, "Request id must be an int.") };
            let v = try_r!(body_obj(&body));
            let ts = now(&sp);
            let mut st = sp.lock();
            let Some(r) = st.more.followups.rows.get_mut(&id) else {
                return err(400, &format!("Missing FollowUpRequest with id {id}"));
            };
            // Without `status`, the update loads the body into the FollowupRequest model
            // schema (marshmallow, unknown fields refused): the create-only constraints
            // are unknown fields there.
            if !v.contains_key("status") {
                let unknown: Vec<String> = v
                    .keys()
                    .filter(|k| FOLLOWUP_CONSTRAINT_KEYS.contains(&k.as_str()) || k.as_str() == "radius")
                    .map(|k| format!("'{k}': ['Unknown field.']"))
                    .collect();
                if !unknown.is_empty() {
                    return err(
                        400,
                        &format!("Error parsing followup request submit/update: \"{{{}}}\"", unknown.join(", ")),
                    );
                }
            }
            if let Some(Value::Object(p)) = v.get("payload") {
                let mut merged = r.get("payload").and_then(Value::as_object).cloned().unwrap_or_default();
                merged.extend(p.clone());
                r.insert("payload".into(), Value::Object(merged));
            }
            for k in ["status", "obj_id", "allocation_id"] {
                if let Some(x) = v.get(k) {
                    r.insert(k.into(), x.clone());
                }
            }
            r.insert("last_modified_by_id".into(), json!(ADMIN_ID));
            r.insert("modified".into(), json!(ts));
            ok(json!({}))
        }
        Method::DELETE => {
            let Ok(id) = parsed else { return err(400, "Request id must be an int.") };
            match sp.lock().more.followups.rows.remove(&id) {
                Some(_) => ok(json!({})),
                None => err(400, &format!("Missing FollowUpRequest with id {id}")),
            }
        }
        _ => method_not_allowed(),
    }
}
