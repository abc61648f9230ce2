//! Groups and instruments.

use super::*;

pub(super) async fn groups(State(sp): State<Sp>, h: HeaderMap) -> Response {
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let all = groups_json(&[1, 2, 3]);
    ok(json!({"user_groups": all, "user_accessible_groups": all, "all_groups": all}))
}

pub(super) async fn group_one(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = auth(&sp, &h, method != Method::GET) {
        return r;
    }
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return err(400, "Invalid API endpoint");
    }
    if method != Method::GET {
        return method_not_allowed();
    }
    let Ok(gid) = id.parse::<i64>() else { return err(400, &format!("Invalid group_id: {id}")) };
    if !(1..=3).contains(&gid) {
        return err(400, &format!("Cannot find Group with id {gid}"));
    }
    let mut g = groups_json(&[gid]).get(0).cloned().unwrap_or(Value::Null);
    if let Value::Object(m) = &mut g {
        m.insert("description".into(), Value::Null);
        m.insert("private".into(), json!(false));
        m.insert("streams".into(), json!([]));
        m.insert("filters".into(), json!([]));
        m.insert("users".into(), json!([{"id": 1, "username": "provisioned_admin", "admin": true}]));
    }
    ok(g)
}

pub(super) async fn instruments(State(sp): State<Sp>, h: HeaderMap, uri: Uri) -> Response {
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let q = Pairs::from_query(&uri);
    let name = q.last("name");
    let out: Vec<Value> = INSTRUMENTS.iter().filter(|i| name.is_none_or(|n| n == i.1)).map(instrument_json).collect();
    ok(Value::Array(out))
}

pub(super) fn instrument_json(i: &(i64, &str, &str, &[&str])) -> Value {
    let (id, name, tel, filters) = *i;
    let kind = if filters.is_empty() { "spectrograph" } else { "imager" };
    json!({"id": id, "name": name, "type": kind, "band": "optical", "telescope_id": id, "filters": filters,
           "telescope": {"id": id, "name": tel, "nickname": tel}})
}

pub(super) async fn instrument(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = auth(&sp, &h, method != Method::GET) {
        return r;
    }
    if !id.bytes().all(|b| b.is_ascii_digit()) || id.is_empty() {
        return err(400, "Invalid API endpoint");
    }
    if method != Method::GET {
        return method_not_allowed();
    }
    match INSTRUMENTS.iter().find(|i| i.0.to_string() == id) {
        Some(i) => ok(instrument_json(i)),
        None => err(400, &format!("Could not load instrument with ID {id}")),
    }
}
