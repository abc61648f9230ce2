//! Simple CRUD tables: streams, filters, telescopes, taxonomies, allocations,
//! observing-run assignments.

use super::store::*;
use super::{Sp, auth, err, groups_json, method_not_allowed, ok, page_params};
use crate::util::Pairs;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::{Value, json};

#[derive(Clone, Copy)]
pub(super) enum Tab {
    Streams,
    Filters,
    Telescopes,
    Taxonomies,
    Allocations,
    Assignments,
}

pub(super) fn table(m: &mut More, t: Tab) -> &mut Table {
    match t {
        Tab::Streams => &mut m.streams,
        Tab::Filters => &mut m.filters,
        Tab::Telescopes => &mut m.telescopes,
        Tab::Taxonomies => &mut m.taxonomies,
        Tab::Allocations => &mut m.allocations,
        Tab::Assignments => &mut m.assignments,
    }
}

pub(super) fn not_found_msg(t: Tab, id: i64) -> (u16, String) {
    match t {
        Tab::Streams => (400, format!("Could not retrieve stream with ID {id}.")),
        Tab::Filters => (400, format!("Cannot find a filter with ID: {id}.")),
        Tab::Telescopes => (400, format!("Could not load telescope with ID {id}")),
        Tab::Taxonomies => (400, "Taxonomy does not exist or is not available to user.".into()),
        Tab::Allocations => (400, format!("Could not retrieve allocation with ID {id}")),
        Tab::Assignments => (400, format!("Could not retrieve assignment with ID {id}")),
    }
}

pub(super) fn list_table(sp: &Sp, t: Tab, filter: impl Fn(&Obj) -> bool) -> Response {
    let mut st = sp.lock();
    let rows: Vec<Value> =
        table(&mut st.more, t).rows.values().filter(|r| filter(r)).map(|r| Value::Object(r.clone())).collect();
    ok(Value::Array(rows))
}

pub(super) fn get_row(sp: &Sp, t: Tab, id: i64) -> Response {
    let mut st = sp.lock();
    match table(&mut st.more, t).get(id) {
        Some(r) => ok(Value::Object(r.clone())),
        None => {
            let (s, m) = not_found_msg(t, id);
            err(s, &m)
        }
    }
}

pub(super) fn update_row(sp: &Sp, t: Tab, id: i64, v: &Obj, keys: &[&str]) -> Response {
    let ts = now(sp);
    let mut st = sp.lock();
    let Some(r) = table(&mut st.more, t).rows.get_mut(&id) else {
        let (s, m) = match t {
            Tab::Telescopes => (400, "Invalid telescope ID.".to_string()),
            Tab::Taxonomies => (400, format!("Missing taxonomy with ID {id}")),
            _ => not_found_msg(t, id),
        };
        return err(s, &m);
    };
    for k in keys {
        if let Some(x) = v.get(*k) {
            r.insert((*k).to_string(), x.clone());
        }
    }
    r.insert("modified".into(), json!(ts));
    ok(json!({}))
}

pub(super) fn delete_row(sp: &Sp, t: Tab, id: i64) -> Response {
    let mut st = sp.lock();
    match table(&mut st.more, t).rows.remove(&id) {
        Some(_) => ok(json!({})),
        None => {
            let (s, m) = match t {
                Tab::Telescopes => (400, "Invalid telescope ID.".to_string()),
                _ => not_found_msg(t, id),
            };
            err(s, &m)
        }
    }
}

pub(super) fn insert_row(sp: &Sp, t: Tab, mut row: Obj) -> i64 {
    let ts = now(sp);
    row.insert("created_at".into(), json!(ts));
    row.insert("modified".into(), json!(ts));
    let mut st = sp.lock();
    table(&mut st.more, t).insert(row)
}

pub(super) async fn streams(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            list_table(&sp, Tab::Streams, |_| true)
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(r) = pydantic_missing(&v, &["name"]) {
                return r;
            }
            if let Some(r) = pydantic_extra(&v, &["name", "altdata"]) {
                return r;
            }
            let id = insert_row(&sp, Tab::Streams, obj_fields(&v, &["name", "altdata"]));
            ok(json!({"id": id}))
        }
        _ => method_not_allowed(),
    }
}

pub(super) async fn stream(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let id = try_r!(numeric(&id));
    match method {
        Method::GET => get_row(&sp, Tab::Streams, id),
        Method::PATCH => {
            let v = try_r!(body_obj(&body));
            if let Some(r) = pydantic_extra(&v, &["name", "altdata"]) {
                return r;
            }
            update_row(&sp, Tab::Streams, id, &v, &["name", "altdata"])
        }
        Method::DELETE => delete_row(&sp, Tab::Streams, id),
        _ => method_not_allowed(),
    }
}

pub(super) async fn filters(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            list_table(&sp, Tab::Filters, |_| true)
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(r) = pydantic_missing(&v, &["name", "stream_id", "group_id"]) {
                return r;
            }
            let stream = v.get("stream_id").and_then(Value::as_i64).unwrap_or(-1);
            let group = v.get("group_id").and_then(Value::as_i64).unwrap_or(-1);
            if sp.lock().more.streams.get(stream).is_none() {
                return err(400, &format!("Invalid stream_id: {stream}"));
            }
            if !(1..=3).contains(&group) {
                return err(400, &format!("Invalid group_id: {group}"));
            }
            let id = insert_row(&sp, Tab::Filters, obj_fields(&v, &["name", "stream_id", "group_id"]));
            ok(json!({"id": id}))
        }
        _ => method_not_allowed(),
    }
}

pub(super) async fn filter(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let Ok(id) = id.parse::<i64>() else { return err(400, &format!("Invalid filter_id: {id}")) };
    match method {
        Method::GET => get_row(&sp, Tab::Filters, id),
        Method::PATCH => {
            let v = try_r!(body_obj(&body));
            let current = sp.lock().more.filters.get(id).cloned();
            let Some(cur) = current else { return err(400, &format!("Cannot find a filter with ID: {id}.")) };
            for k in ["group_id", "stream_id"] {
                if v.get(k).is_some_and(|x| Some(x) != cur.get(k)) {
                    return err(400, "Cannot update group_id or stream_id.");
                }
            }
            update_row(&sp, Tab::Filters, id, &v, &["name", "altdata"])
        }
        Method::DELETE => delete_row(&sp, Tab::Filters, id),
        _ => method_not_allowed(),
    }
}

pub(super) const TELESCOPE_FIELDS: [&str; 10] = [
    "name",
    "nickname",
    "lat",
    "lon",
    "elevation",
    "diameter",
    "skycam_link",
    "weather_link",
    "robotic",
    "fixed_location",
];

pub(super) async fn telescopes(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let q = Pairs::from_query(&uri);
            let name = q.last("name").map(str::to_string);
            let f = |k: &str| q.last(k).and_then(|x| x.parse::<f64>().ok());
            let (lat_min, lat_max, lon_min, lon_max) =
                (f("latitudeMin"), f("latitudeMax"), f("longitudeMin"), f("longitudeMax"));
            list_table(&sp, Tab::Telescopes, |r| {
                let lat = r.get("lat").and_then(Value::as_f64).unwrap_or(0.0);
                let lon = r.get("lon").and_then(Value::as_f64).unwrap_or(0.0);
                name.as_deref().is_none_or(|n| {
                    r.get("name").and_then(Value::as_str).is_some_and(|x| x.to_lowercase().contains(&n.to_lowercase()))
                }) && lat_min.is_none_or(|x| lat >= x)
                    && lat_max.is_none_or(|x| lat <= x)
                    && lon_min.is_none_or(|x| lon >= x)
                    && lon_max.is_none_or(|x| lon <= x)
            })
        }
        Method::POST => {
            // `@auth_or_token` only: any valid token may create a telescope.
            try_r!(auth(&sp, &h, false));
            let v = try_r!(body_obj(&body));
            if let Some(r) = pydantic_missing(&v, &["name", "nickname", "diameter"]) {
                return r;
            }
            let name = v.get("name").cloned();
            if sp.lock().more.telescopes.rows.values().any(|t| t.get("name") == name.as_ref()) {
                return err(400, &format!("Telescope with name {} already exists.", name.unwrap_or(Value::Null)));
            }
            let mut row = obj_fields(&v, &TELESCOPE_FIELDS);
            row.entry("robotic").and_modify(|x| {
                if x.is_null() {
                    *x = json!(false)
                }
            });
            row.entry("fixed_location").and_modify(|x| {
                if x.is_null() {
                    *x = json!(true)
                }
            });
            let id = insert_row(&sp, Tab::Telescopes, row);
            ok(json!({"id": id}))
        }
        _ => method_not_allowed(),
    }
}

pub(super) async fn telescope(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let id = try_r!(numeric(&id));
    match method {
        Method::GET => get_row(&sp, Tab::Telescopes, id),
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            update_row(&sp, Tab::Telescopes, id, &v, &TELESCOPE_FIELDS)
        }
        Method::DELETE => delete_row(&sp, Tab::Telescopes, id),
        _ => method_not_allowed(),
    }
}

pub(super) async fn taxonomies(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            list_table(&sp, Tab::Taxonomies, |_| true)
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(r) = pydantic_extra(
                &v,
                &["name", "version", "hierarchy", "hierarchy_file", "provenance", "group_ids", "isLatest"],
            ) {
                return r;
            }
            if let Some(r) = pydantic_missing(&v, &["name", "version"]) {
                return r;
            }
            let Some(hier) = v.get("hierarchy").filter(|h| h.is_object()).cloned() else {
                return err(400, "A JSON of the taxonomy must be given");
            };
            if hier.get("class").and_then(Value::as_str).is_none() {
                return err(400, "Hierarchy does not validate against the schema.");
            }
            let groups = try_r!(group_ids(&v, "group_ids"));
            let latest = v.get("isLatest").and_then(Value::as_bool).unwrap_or(true);
            let name = v.get("name").cloned().unwrap_or(Value::Null);
            if latest {
                let mut st = sp.lock();
                for t in st.more.taxonomies.rows.values_mut().filter(|t| t.get("name") == Some(&name)) {
                    t.insert("isLatest".into(), json!(false));
                }
            }
            let row = obj_from(&[
                ("name", name),
                ("version", v.get("version").cloned().unwrap_or(Value::Null)),
                ("hierarchy", hier),
                ("provenance", v.get("provenance").cloned().unwrap_or(Value::Null)),
                ("isLatest", json!(latest)),
                ("groups", groups_json(&groups)),
            ]);
            let id = insert_row(&sp, Tab::Taxonomies, row);
            ok(json!({"taxonomy_id": id}))
        }
        _ => method_not_allowed(),
    }
}

pub(super) async fn taxonomy(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let Ok(id) = id.parse::<i64>() else { return err(400, &format!("Invalid taxonomy_id: {id}")) };
    match method {
        Method::GET => get_row(&sp, Tab::Taxonomies, id),
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            if let Some(r) =
                pydantic_extra(&v, &["name", "version", "provenance", "group_ids", "isLatest", "hierarchy"])
            {
                return r;
            }
            update_row(&sp, Tab::Taxonomies, id, &v, &["name", "version", "provenance", "isLatest"])
        }
        Method::DELETE => {
            let used = sp
                .lock()
                .more
                .classifications
                .rows
                .values()
                .any(|c| c.get("taxonomy_id").and_then(Value::as_i64) == Some(id));
            if used {
                return err(400, "Taxonomy has associated classifications and cannot be deleted.");
            }
            match sp.lock().more.taxonomies.rows.remove(&id) {
                Some(_) => ok(json!({})),
                None => err(400, &format!("Invalid taxonomy_id: {id}")),
            }
        }
        _ => method_not_allowed(),
    }
}

pub(super) const ALLOCATION_FIELDS: [&str; 8] =
    ["pi", "proposal_id", "start_date", "end_date", "hours_allocated", "group_id", "instrument_id", "_altdata"];

pub(super) fn instrument_known(i: i64) -> bool {
    super::INSTRUMENTS.iter().any(|x| x.0 == i) || i == SPECTROGRAPH
}

pub(super) async fn allocations(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let q = Pairs::from_query(&uri);
            let inst = match q.last("instrument_id") {
                Some(s) => match s.parse::<f64>() {
                    Ok(x) => Some(x as i64),
                    Err(_) => return err(400, &format!("Invalid instrument_id: {s}")),
                },
                None => None,
            };
            list_table(&sp, Tab::Allocations, |r| {
                inst.is_none_or(|i| r.get("instrument_id").and_then(Value::as_i64) == Some(i))
            })
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(m) = missing_fields(&v, &["hours_allocated", "group_id", "instrument_id"]) {
                return err(400, &format!("Invalid/missing parameters: {m}"));
            }
            let inst = v.get("instrument_id").and_then(Value::as_i64).unwrap_or(-1);
            if !instrument_known(inst) {
                return err(400, &format!("Could not find instrument with ID {inst}."));
            }
            let g = v.get("group_id").and_then(Value::as_i64).unwrap_or(-1);
            if !(1..=3).contains(&g) {
                return err(400, &format!("Could not find group with ID {g}."));
            }
            let mut row = obj_fields(&v, &ALLOCATION_FIELDS);
            row.insert("types".into(), v.get("types").cloned().unwrap_or(json!(["triggered"])));
            row.insert(
                "default_share_group_ids".into(),
                v.get("default_share_group_ids").cloned().unwrap_or(json!([])),
            );
            let id = insert_row(&sp, Tab::Allocations, row);
            ok(json!({"id": id}))
        }
        _ => method_not_allowed(),
    }
}

pub(super) async fn allocation(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let Ok(id) = id.parse::<i64>() else { return err(400, "Invalid API endpoint") };
    match method {
        Method::GET => {
            let q = Pairs::from_query(&uri);
            // handlers/api/allocation.py: 50 requests a page by default (the docstring says
            // 10), sortBy/sortOrder checked, and the reply is
            // {"allocation": {..., "requests": [...]}, "totalMatches": N}.
            let (page, n) = try_r!(page_params(&q, 50, MAX_FOLLOWUP));
            if !matches!(q.last("sortBy").unwrap_or("created_at"), "created_at" | "modified" | "status" | "obj") {
                return err(400, "Invalid sortBy value.");
            }
            if !matches!(q.last("sortOrder").unwrap_or("asc"), "asc" | "desc") {
                return err(400, "Invalid sortOrder value.");
            }
            let st = sp.lock();
            let Some(a) = st.more.allocations.get(id) else {
                return err(400, "Could not retrieve allocation.");
            };
            let mut a = a.clone();
            let reqs: Vec<&Obj> = st
                .more
                .followups
                .rows
                .values()
                .filter(|f| f.get("allocation_id").and_then(Value::as_i64) == Some(id))
                .collect();
            let total = reqs.len();
            let page_reqs: Vec<Value> =
                reqs.into_iter().skip((page - 1) * n).take(n).map(|r| Value::Object(r.clone())).collect();
            a.insert("requests".into(), Value::Array(page_reqs));
            ok(json!({"allocation": Value::Object(a), "totalMatches": total}))
        }
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            update_row(&sp, Tab::Allocations, id, &v, &ALLOCATION_FIELDS)
        }
        Method::DELETE => delete_row(&sp, Tab::Allocations, id),
        _ => method_not_allowed(),
    }
}

pub(super) async fn assignments(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            list_table(&sp, Tab::Assignments, |_| true)
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(m) = missing_fields(&v, &["priority", "obj_id", "run_id"]) {
                return err(400, &format!("Invalid/missing parameters: {m}"));
            }
            let prio = v.get("priority").map(|p| p.as_str().map(str::to_string).unwrap_or_else(|| p.to_string()));
            if !prio.as_deref().is_some_and(|p| matches!(p, "1" | "2" | "3" | "4" | "5")) {
                return err(400, "Invalid/missing parameters: {'priority': ['Must be one of: 1, 2, 3, 4, 5.']}");
            }
            let run = v.get("run_id").and_then(Value::as_i64).unwrap_or(-1);
            if sp.lock().more.runs.get(run).is_none() {
                return err(400, &format!("Invalid observing run ID: {run}"));
            }
            let obj = v.get("obj_id").and_then(Value::as_str).unwrap_or_default().to_string();
            if !source_exists(&sp, &obj) {
                return err(400, &format!("Invalid source ID: {obj}"));
            }
            let row = obj_from(&[
                ("requester_id", json!(ADMIN_ID)),
                ("last_modified_by_id", json!(ADMIN_ID)),
                ("obj_id", json!(obj)),
                ("comment", v.get("comment").cloned().unwrap_or(Value::Null)),
                ("status", v.get("status").cloned().unwrap_or(json!("pending"))),
                ("priority", json!(prio)),
                ("run_id", json!(run)),
            ]);
            let id = insert_row(&sp, Tab::Assignments, row);
            ok(json!({"id": id}))
        }
        _ => method_not_allowed(),
    }
}

pub(super) async fn assignment(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let Ok(id) = id.parse::<i64>() else { return err(400, "Invalid API endpoint") };
    match method {
        Method::GET => get_row(&sp, Tab::Assignments, id),
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            if let Some(p) = v.get("priority") {
                let p = p.as_str().map(str::to_string).unwrap_or_else(|| p.to_string());
                if !matches!(p.as_str(), "1" | "2" | "3" | "4" | "5") {
                    return err(400, "Invalid/missing parameters: {'priority': ['Must be one of: 1, 2, 3, 4, 5.']}");
                }
            }
            update_row(&sp, Tab::Assignments, id, &v, &["comment", "status", "priority"])
        }
        Method::DELETE => delete_row(&sp, Tab::Assignments, id),
        _ => method_not_allowed(),
    }
}
