//! Object groups (custom lists): `objectgroupslist/`, `objectgroups/`, `objectgroupsdelete/`.

use super::*;

pub(super) fn objectgroupslist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", false);
    let gid = v.int("objectgroupid", false);
    if let Err(r) = v.finish() {
        return r;
    }
    let st = a.lock();
    let rows: Vec<Value> = st
        .group_rows
        .iter()
        .filter(|(_, o, g)| match (oid, gid) {
            (Some(x), None) => *o as i64 == x,
            (None, Some(x)) => *g == x,
            _ => true,
        })
        .map(|(id, o, g)| json!({"id": id, "transient_object_id": o, "object_group_id": g}))
        .collect();
    json(200, Value::Array(rows))
}

pub(super) fn objectgroups(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let gid = v.int("objectgroupid", true);
    if let Err(r) = v.finish() {
        return r;
    }
    let (oid, gid) = (oid.unwrap_or(0), gid.unwrap_or(0));
    if !GROUPS.contains(&gid) {
        return json(201, json!({"objectgroupid": gid, "info": "Object group ID does not exist."}));
    }
    if a.shared.sky.by_atlas(oid as u64).is_none() {
        return json(201, json!({"objectgroupid": oid, "info": "Object does not exist."}));
    }
    let mut st = a.lock();
    if st.group_rows.iter().any(|r| r.1 == oid as u64 && r.2 == gid) {
        return json(201, json!({"objectgroupid": oid, "info": "Duplicate row. Cannot add row."}));
    }
    let id = st.next_group_row;
    st.next_group_row += 1;
    st.group_rows.push((id, oid as u64, gid));
    json(201, json!({"objectgroupid": oid, "info": "Row created."}))
}

pub(super) fn objectgroupsdelete(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let gid = v.int("objectgroupid", true);
    if !v.errs.is_empty() {
        // `message` is unbound in the real view: a missing or invalid field is a 500.
        return server_error();
    }
    let (oid, gid) = (oid.unwrap_or(0), gid.unwrap_or(0));
    let info = if !GROUPS.contains(&gid) {
        Some("Object group ID does not exist.")
    } else if a.shared.sky.by_atlas(oid as u64).is_none() {
        Some("Object does not exist.")
    } else {
        None
    };
    if let Some(info) = info {
        return json(400, json!({"objectid": oid, "objectgroupid": gid, "info": info}));
    }
    let mut st = a.lock();
    let before = st.group_rows.len();
    st.group_rows.retain(|r| !(r.1 == oid as u64 && r.2 == gid));
    if st.group_rows.len() == before {
        return json(
            400,
            json!({"objectid": oid, "objectgroupid": gid, "info": "Object group ID does not exist or object ID does not exist."}),
        );
    }
    StatusCode::NO_CONTENT.into_response()
}
