//! Comments and annotations on sources, spectra, GCN events and photometry.

use super::store::*;
use super::{Sp, auth, err, groups_json, method_not_allowed, ok, page_params};
use crate::util::Pairs;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::{Value, json};

pub(super) fn key_of(r: Res) -> &'static str {
    match r {
        Res::Sources => "obj_id",
        Res::Spectra => "spectrum_id",
        Res::GcnEvent => "gcn_id",
        Res::Photometry => "photometry_id",
    }
}

pub(super) fn matches_resource(row: &Obj, r: Res, rid: &str) -> bool {
    row.get("_resource").and_then(Value::as_str) == Some(r.name())
        && row.get(key_of(r)).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).as_deref()
            == Some(rid)
}

pub(super) fn public_row(row: &Obj) -> Value {
    let mut m = row.clone();
    m.remove("_resource");
    Value::Object(m)
}

pub(super) fn comment_rows(more: &More, r: Res, rid: &str) -> Vec<Value> {
    more.comments
        .rows
        .values()
        .filter(|c| matches_resource(c, r, rid))
        .map(|c| {
            let mut v = public_row(c);
            if let Value::Object(m) = &mut v {
                m.remove("attachment_bytes");
            }
            v
        })
        .collect()
}

pub(super) fn annotation_rows(more: &More, r: Res, rid: &str) -> Vec<Value> {
    more.annotations.rows.values().filter(|c| matches_resource(c, r, rid)).map(public_row).collect()
}

/// The obj id behind a resource, or the reply when it cannot be accessed.
pub(super) fn resolve(sp: &Sp, r: Res, rid: &str, annotation: bool) -> Result<(Value, Option<String>), Response> {
    match r {
        Res::Sources => {
            if source_exists(sp, rid) {
                Ok((json!(rid), Some(rid.to_string())))
            } else if annotation {
                Err(err(404, &format!("Obj {rid} not found")))
            } else {
                Err(err(400, &format!("Invalid object ID: {rid}")))
            }
        }
        Res::Spectra => {
            let Ok(id) = rid.parse::<i64>() else { return Err(err(400, &format!("Invalid spectrum id: {rid}"))) };
            let st = sp.lock();
            match st.more.spectra.get(&id) {
                Some(s) => Ok((json!(id), s.meta.get("obj_id").and_then(Value::as_str).map(str::to_string))),
                None if annotation => Err(err(403, &format!("Could not access spectrum {rid}."))),
                None => Err(err(400, &format!("Could not find any accessible spectra with ID {id}."))),
            }
        }
        Res::GcnEvent => {
            let Ok(id) = rid.parse::<i64>() else { return Err(err(400, &format!("Invalid gcn event id: {rid}"))) };
            if sp.lock().more.gcn.get(id).is_some() {
                Ok((json!(id), None))
            } else {
                Err(err(400, &format!("Could not find any accessible gcn events with ID {id}.")))
            }
        }
        Res::Photometry => {
            let Ok(id) = rid.parse::<u64>() else { return Err(err(400, &format!("Invalid photometry id: {rid}"))) };
            match super::photometry_obj(sp, id) {
                Some(obj) => Ok((json!(id), Some(obj))),
                None => Err(err(403, &format!("Could not access photometry {rid}."))),
            }
        }
    }
}

pub(super) fn comments_impl(
    sp: &Sp,
    r: Res,
    method: Method,
    h: &HeaderMap,
    uri: &Uri,
    (rid, cid): (&str, Option<&str>),
    body: &[u8],
) -> Response {
    let needs = method != Method::GET;
    try_r!(auth(sp, h, needs));
    let cid = match cid {
        Some(c) => Some(try_r!(numeric(c))),
        None => None,
    };
    match (method, cid) {
        (Method::GET, None) => {
            let q = Pairs::from_query(uri);
            let (page, n) = try_r!(page_params(&q, 25, MAX_COMMENTS));
            let text = q.last("text").map(str::to_lowercase);
            if matches!(r, Res::Spectra | Res::GcnEvent) && rid.parse::<i64>().is_err() {
                return err(400, &format!("Invalid resource_id: {rid}"));
            }
            // Source comments: the main thread (channel IS NULL) unless `channel` names one.
            let channel = q.last("channel").filter(|c| !c.is_empty()).map(|c| json!(c)).unwrap_or(Value::Null);
            let st = sp.lock();
            let rows: Vec<Value> = comment_rows(&st.more, r, rid)
                .into_iter()
                .filter(|c| r != Res::Sources || c.get("channel").unwrap_or(&Value::Null) == &channel)
                .filter(|c| {
                    text.as_deref().is_none_or(|t| {
                        c.get("text").and_then(Value::as_str).is_some_and(|x| x.to_lowercase().contains(t))
                    })
                })
                .skip((page - 1) * n)
                .take(n)
                .map(|mut c| {
                    if let Value::Object(m) = &mut c {
                        m.insert("author".into(), author());
                        m.insert("resourceType".into(), json!(r.name()));
                    }
                    c
                })
                .collect();
            ok(Value::Array(rows))
        }
        (Method::GET, Some(cid)) => {
            let st = sp.lock();
            let Some(c) =
                st.more.comments.get(cid).filter(|c| c.get("_resource").and_then(Value::as_str) == Some(r.name()))
            else {
                return err(403, "Could not find any accessible comments.");
            };
            if !matches_resource(c, r, rid) {
                return err(400, &format!("Comment resource ID does not match resource ID given in path ({rid})"));
            }
            let mut v = public_row(c);
            if let Value::Object(m) = &mut v {
                m.insert("author".into(), author());
                m.insert("resourceType".into(), json!(r.name()));
            }
            ok(v)
        }
        (Method::POST, None) => {
            let v = try_r!(body_obj(body));
            let (rid_v, obj) = try_r!(resolve(sp, r, rid, false));
            let text = v.get("text").and_then(Value::as_str).map(str::to_string);
            let (att_name, att_bytes) = match v.get("attachment") {
                None | Some(Value::Null) => (Value::Null, Value::Null),
                Some(Value::Object(a)) if a.contains_key("body") && a.contains_key("name") => {
                    let b = a.get("body").and_then(Value::as_str).unwrap_or_default();
                    if b.is_empty() {
                        return err(400, "Comment attachment body is empty");
                    }
                    (a.get("name").cloned().unwrap_or(Value::Null), json!(b))
                }
                Some(_) => return err(400, "Malformed comment attachment"),
            };
            let Some(text) = text else { return err(400, "Missing required field: text") };
            let groups = try_r!(group_ids(&v, "group_ids"));
            // `data.get("channel") or None`, on sources only.
            let channel = match v.get("channel") {
                Some(Value::String(c)) if r == Res::Sources && !c.is_empty() => json!(c),
                _ => Value::Null,
            };
            let mut st = sp.lock();
            if let Some((id, _)) = st.more.comments.rows.iter().find(|(_, c)| {
                matches_resource(c, r, rid)
                    && c.get("text").and_then(Value::as_str) == Some(text.as_str())
                    && c.get("channel").unwrap_or(&Value::Null) == &channel
            }) {
                return ok(json!({"comment_id": id, "message": "Same comment already exists."}));
            }
            drop(st);
            let t = now(sp);
            let mut row = to_obj(json!({"text": text, "attachment_name": att_name, "attachment_bytes": att_bytes,
                "origin": v.get("origin").cloned().unwrap_or(Value::Null), "bot": true, "author_id": ADMIN_ID,
                "groups": groups_json(&groups), "created_at": t, "modified": t, "_resource": r.name()}));
            row.insert(key_of(r).into(), rid_v);
            if r == Res::Sources {
                row.insert("channel".into(), channel);
            }
            if let Some(o) = obj
                && r != Res::Sources
            {
                row.insert("obj_id".into(), json!(o));
            }
            st = sp.lock();
            let id = st.more.comments.insert(row);
            ok(json!({"comment_id": id}))
        }
        (Method::PUT, Some(cid)) => {
            let v = try_r!(body_obj(body));
            let t = now(sp);
            let mut st = sp.lock();
            let Some(c) = st.more.comments.rows.get_mut(&cid).filter(|c| matches_resource(c, r, rid)) else {
                return err(403, "Could not find any accessible comments.");
            };
            if let Some(x) = v.get("text") {
                c.insert("text".into(), x.clone());
            }
            if let Some(Value::Array(g)) = v.get("group_ids") {
                let g: Vec<i64> = g.iter().filter_map(Value::as_i64).collect();
                c.insert("groups".into(), groups_json(&g));
            }
            if let Some(Value::Object(a)) = v.get("attachment") {
                c.insert("attachment_name".into(), a.get("name").cloned().unwrap_or(Value::Null));
                c.insert("attachment_bytes".into(), a.get("body").cloned().unwrap_or(Value::Null));
            }
            c.insert("modified".into(), json!(t));
            ok(json!({}))
        }
        (Method::DELETE, Some(cid)) => {
            let mut st = sp.lock();
            let found = st.more.comments.get(cid).map(|c| matches_resource(c, r, rid));
            match found {
                None => err(403, "Could not find any accessible comments."),
                Some(false) => {
                    err(400, &format!("Comment resource ID does not match resource ID given in path ({rid})"))
                }
                Some(true) => {
                    st.more.comments.rows.remove(&cid);
                    ok(json!({}))
                }
            }
        }
        (Method::PUT | Method::DELETE, None) => err(400, "Must provide a valid (scalar integer) comment ID. "),
        _ => method_not_allowed(),
    }
}

pub(super) fn annotations_impl(
    sp: &Sp,
    r: Res,
    method: Method,
    h: &HeaderMap,
    rid: &str,
    aid: Option<&str>,
    body: &[u8],
) -> Response {
    let needs = method != Method::GET;
    try_r!(auth(sp, h, needs));
    let aid = match aid {
        Some(a) => Some(try_r!(numeric(a))),
        None => None,
    };
    match (method, aid) {
        (Method::GET, None) => {
            if r != Res::Sources && rid.parse::<i64>().is_err() {
                return err(400, &format!("Invalid resource_id: {rid}"));
            }
            ok(Value::Array(annotation_rows(&sp.lock().more, r, rid)))
        }
        (Method::GET, Some(aid)) => {
            let st = sp.lock();
            let Some(a) =
                st.more.annotations.get(aid).filter(|a| a.get("_resource").and_then(Value::as_str) == Some(r.name()))
            else {
                return err(403, "Could not find any accessible annotations.");
            };
            if !matches_resource(a, r, rid) {
                return err(400, &format!("Annotation resource ID does not match resource ID given in path ({rid})"));
            }
            ok(public_row(a))
        }
        (Method::POST, None) => {
            let v = try_r!(body_obj(body));
            if let Some(r) = pydantic_missing(&v, &["origin", "data"]) {
                return r;
            }
            let origin = match v.get("origin") {
                Some(Value::String(s)) if s.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_') => {
                    s.clone()
                }
                Some(Value::String(_)) => {
                    return err(400, "Invalid/missing parameters: origin: String should match pattern '^\\w+'");
                }
                _ => return err(400, "Invalid/missing parameters: origin: Input should be a valid string"),
            };
            let Some(Value::Object(data)) = v.get("data") else {
                return err(400, "Invalid/missing parameters: data: Input should be a valid dictionary");
            };
            let groups = try_r!(group_ids(&v, "group_ids"));
            let (rid_v, obj) = try_r!(resolve(sp, r, rid, true));
            let t = now(sp);
            let mut st = sp.lock();
            if st.more.annotations.rows.values().any(|a| {
                matches_resource(a, r, rid) && a.get("origin").and_then(Value::as_str) == Some(origin.as_str())
            }) {
                return err(
                    400,
                    &format!(
                        "Annotation already exists: duplicate key value violates unique constraint: ({}, origin)=({rid}, {origin}) already exists.",
                        key_of(r)
                    ),
                );
            }
            let mut row = obj_from(&[
                ("data", Value::Object(data.clone())),
                ("origin", json!(origin)),
                ("author_id", json!(ADMIN_ID)),
                ("groups", groups_json(&groups)),
                ("created_at", json!(t)),
                ("modified", json!(t)),
                ("_resource", json!(r.name())),
            ]);
            row.insert(key_of(r).into(), rid_v);
            if let Some(o) = obj {
                row.insert("obj_id".into(), json!(o));
            }
            let id = st.more.annotations.insert(row);
            ok(json!({"annotation_id": id}))
        }
        (Method::PUT, Some(aid)) => {
            let v = try_r!(body_obj(body));
            if v.get("data").is_some_and(|d| !d.is_object() && !d.is_null()) {
                return err(400, "Invalid/missing parameters: data: Input should be a valid dictionary");
            }
            let groups = match v.get("group_ids") {
                Some(Value::Array(_)) => Some(try_r!(group_ids(&v, "group_ids"))),
                _ => None,
            };
            let t = now(sp);
            let mut st = sp.lock();
            let Some(a) = st
                .more
                .annotations
                .rows
                .get_mut(&aid)
                .filter(|a| a.get("_resource").and_then(Value::as_str) == Some(r.name()))
            else {
                return err(403, "Could not find any accessible annotations.");
            };
            if !matches_resource(a, r, rid) {
                return err(400, &format!("Annotation resource ID does not match resource ID given in path ({rid})"));
            }
            for k in ["data", "origin"] {
                if let Some(x) = v.get(k).filter(|x| !x.is_null()) {
                    a.insert(k.into(), x.clone());
                }
            }
            if let Some(g) = groups {
                a.insert("groups".into(), groups_json(&g));
            }
            a.insert("modified".into(), json!(t));
            ok(json!({}))
        }
        (Method::DELETE, Some(aid)) => {
            let mut st = sp.lock();
            let found = st
                .more
                .annotations
                .get(aid)
                .filter(|a| a.get("_resource").and_then(Value::as_str) == Some(r.name()))
                .map(|a| matches_resource(a, r, rid));
            match found {
                None => err(403, "Could not find any accessible annotations."),
                Some(false) => {
                    err(400, &format!("Annotation resource ID does not match resource ID given in path ({rid})"))
                }
                Some(true) => {
                    st.more.annotations.rows.remove(&aid);
                    ok(json!({}))
                }
            }
        }
        (Method::PUT, None) => err(400, "Must provide a valid (scalar integer) annotation ID. "),
        (Method::DELETE, None) => err(400, "Must provide a valid annotation ID. "),
        _ => method_not_allowed(),
    }
}

pub(super) fn obj_from(pairs: &[(&str, Value)]) -> Obj {
    pairs.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect()
}

macro_rules! comment_handlers {
    ($list:ident, $one:ident, $res:expr) => {
        pub(super) async fn $list(
            State(sp): State<Sp>,
            m: Method,
            h: HeaderMap,
            u: Uri,
            Path(rid): Path<String>,
            b: Bytes,
        ) -> Response {
            comments_impl(&sp, $res, m, &h, &u, (&rid, None), &b)
        }
        pub(super) async fn $one(
            State(sp): State<Sp>,
            m: Method,
            h: HeaderMap,
            u: Uri,
            Path((rid, cid)): Path<(String, String)>,
            b: Bytes,
        ) -> Response {
            comments_impl(&sp, $res, m, &h, &u, (&rid, Some(&cid)), &b)
        }
    };
}

macro_rules! annotation_handlers {
    ($list:ident, $one:ident, $res:expr) => {
        pub(super) async fn $list(
            State(sp): State<Sp>,
            m: Method,
            h: HeaderMap,
            Path(rid): Path<String>,
            b: Bytes,
        ) -> Response {
            annotations_impl(&sp, $res, m, &h, &rid, None, &b)
        }
        pub(super) async fn $one(
            State(sp): State<Sp>,
            m: Method,
            h: HeaderMap,
            Path((rid, aid)): Path<(String, String)>,
            b: Bytes,
        ) -> Response {
            annotations_impl(&sp, $res, m, &h, &rid, Some(&aid), &b)
        }
    };
}

comment_handlers!(src_comments, src_comment, Res::Sources);

/// `CommentChannelHandler.get`: the names of a source's conversations, sorted.
pub(super) async fn src_comment_channels(
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
    let mut names: Vec<String> = comment_rows(&st.more, Res::Sources, &id)
        .iter()
        .filter_map(|c| c.get("channel").and_then(Value::as_str).map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    ok(json!(names))
}

/// `ObjTNSHandler.get` (handlers/api/tns/obj_tns.py): checks the radius (arcsec, default
/// 2) and the object, queues a TNS lookup and answers an empty success. The sandbox has
/// no TNS: nothing changes.
pub(super) async fn source_tns(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let q = Pairs::from_query(&uri);
    let radius = match q.last("radius") {
        None => 2.0,
        Some(r) => match r.trim().parse::<f64>() {
            Ok(v) => v,
            Err(_) => return err(400, "radius must be a number"),
        },
    };
    if radius < 0.0 {
        return err(400, "radius must be non-negative");
    }
    if !source_exists(&sp, &id) {
        return err(400, &format!("No object available with ID {id}"));
    }
    ok(json!({}))
}

/// `PhotometryOriginHandler.get`: the route is kept but deprecated.
pub(super) async fn photometry_origins(State(sp): State<Sp>, method: Method, h: HeaderMap) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    err(400, "This feature is deprecated")
}
comment_handlers!(spec_comments, spec_comment, Res::Spectra);
comment_handlers!(gcn_comments, gcn_comment, Res::GcnEvent);
annotation_handlers!(src_annotations, src_annotation, Res::Sources);
annotation_handlers!(spec_annotations, spec_annotation, Res::Spectra);
annotation_handlers!(phot_annotations, phot_annotation, Res::Photometry);
