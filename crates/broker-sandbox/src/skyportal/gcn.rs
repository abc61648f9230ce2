//! Galaxy catalogs, GCN events and localizations.

use super::store::*;
use super::{Sp, auth, err, method_not_allowed, ok, page_params};
use crate::sky::separation_arcsec;
use crate::util::Pairs;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::{Value, json};

pub(super) fn galaxies_impl(sp: &Sp, method: Method, h: &HeaderMap, uri: &Uri, path_name: Option<&str>) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(sp, h, false));
    let q = Pairs::from_query(uri);
    let page = match q.last("pageNumber").unwrap_or("1").parse::<usize>() {
        Ok(p) if p >= 1 => p,
        _ => return err(400, "pageNumber fails: Invalid page number value."),
    };
    let n = match q.last("numPerPage").unwrap_or("1000").parse::<usize>() {
        Ok(n) if n >= 1 => n.min(MAX_GALAXIES),
        _ => return err(400, "numPerPage fails: Invalid numPerPage value."),
    };
    let catalog = path_name.or(q.last("catalog_name")).map(str::to_string);
    let f = |k: &str| q.last(k).and_then(|x| x.parse::<f64>().ok());
    let cone = match (q.last("ra"), q.last("dec"), q.last("radius")) {
        (None, None, None) => None,
        _ => match (f("ra"), f("dec"), f("radius")) {
            (Some(a), Some(d), Some(r)) => Some((a, d, r)),
            _ => {
                return err(
                    400,
                    "get_galaxies fails: Invalid values for ra, dec or radius - could not convert to float",
                );
            }
        },
    };
    let (zmin, zmax) = (f("minRedshift"), f("maxRedshift"));
    let st = sp.lock();
    let rows: Vec<&Obj> = st
        .more
        .galaxies
        .iter()
        .filter(|g| {
            let ra = g.get("ra").and_then(Value::as_f64).unwrap_or(0.0);
            let dec = g.get("dec").and_then(Value::as_f64).unwrap_or(0.0);
            let z = g.get("redshift").and_then(Value::as_f64);
            catalog.as_deref().is_none_or(|c| g.get("catalog_name").and_then(Value::as_str) == Some(c))
                && cone.is_none_or(|(a, d, r)| separation_arcsec(a, d, ra, dec) <= r * 3600.0)
                && zmin.is_none_or(|m| z.is_some_and(|z| z >= m))
                && zmax.is_none_or(|m| z.is_some_and(|z| z <= m))
        })
        .collect();
    let total = rows.len();
    let out: Vec<Value> = rows.into_iter().skip((page - 1) * n).take(n).map(|g| Value::Object(g.clone())).collect();
    ok(json!({"galaxies": out, "totalMatches": total, "page": page, "numPerPage": n}))
}

pub(super) async fn galaxies(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri) -> Response {
    galaxies_impl(&sp, method, &h, &uri, None)
}

pub(super) async fn galaxies_named(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
) -> Response {
    galaxies_impl(&sp, method, &h, &uri, Some(&name))
}

pub(super) fn find_event<'a>(more: &'a More, dateobs: &chrono::NaiveDateTime) -> Option<&'a Obj> {
    more.gcn.rows.values().find(|e| {
        e.get("dateobs")
            .and_then(Value::as_str)
            .and_then(parse_time)
            .is_some_and(|t| (t - *dateobs).num_milliseconds().abs() < 1000)
    })
}

pub(super) async fn gcn_events(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let q = Pairs::from_query(&uri);
    let (page, n) = try_r!(page_params(&q, 10, MAX_GCNEVENTS));
    let start = q.last("startDate").and_then(parse_time);
    let end = q.last("endDate").and_then(parse_time);
    let st = sp.lock();
    let rows: Vec<&Obj> = st
        .more
        .gcn
        .rows
        .values()
        .filter(|e| {
            let t = e.get("dateobs").and_then(Value::as_str).and_then(parse_time);
            start.is_none_or(|s| t.is_some_and(|t| t >= s)) && end.is_none_or(|x| t.is_some_and(|t| t <= x))
        })
        .collect();
    let total = rows.len();
    let out: Vec<Value> = rows.into_iter().skip((page - 1) * n).take(n).map(|e| Value::Object(e.clone())).collect();
    ok(json!({"events": out, "totalMatches": total}))
}

pub(super) async fn gcn_event(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(dateobs): Path<String>,
) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let Some(t) = parse_time(&dateobs) else {
        return err(
            400,
            &format!("Invalid dateobs: Could not match input '{dateobs}' to any of the supported formats."),
        );
    };
    let st = sp.lock();
    match find_event(&st.more, &t) {
        Some(e) => {
            let mut e = e.clone();
            let id = e.get("id").and_then(Value::as_i64).unwrap_or(0);
            let comments: Vec<Value> = comment_rows(&st.more, Res::GcnEvent, &id.to_string())
                .into_iter()
                .map(|mut c| {
                    if let Value::Object(m) = &mut c {
                        m.insert("author".into(), author());
                        m.insert("resourceType".into(), json!("gcn_event"));
                    }
                    c
                })
                .collect();
            e.insert("comments".into(), Value::Array(comments));
            e.insert("event_users".into(), json!([]));
            e.insert("summaries".into(), json!([]));
            ok(Value::Object(e))
        }
        None => err(404, "GCN event not found"),
    }
}

pub(super) async fn localization(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path((dateobs, name)): Path<(String, String)>,
) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let Some(t) = parse_time(&dateobs) else {
        return err(
            400,
            &format!("Invalid dateobs: Could not match input '{dateobs}' to any of the supported formats."),
        );
    };
    let st = sp.lock();
    let loc = find_event(&st.more, &t).and_then(|e| {
        e.get("localizations")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|l| l.get("localization_name").and_then(Value::as_str) == Some(name.as_str())))
            .cloned()
    });
    match loc {
        Some(l) => ok(l),
        None => err(404, "Localization not found"),
    }
}
