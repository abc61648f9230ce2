//! Virtual Research Assistant tables: scores, to-do list and ranks (`vrascores*/`,
//! `vratodo*/`, `vrarank*/`).

use super::*;

fn ids_of(s: Option<&str>) -> Option<Vec<u64>> {
    s.filter(|s| !s.trim().is_empty()).map(|s| s.split(',').filter_map(|x| x.trim().parse::<u64>().ok()).collect())
}

pub(super) fn vrascoreslist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let debug = v.boolean("debug", false);
    let thr = v.datetime("datethreshold");
    let idthr = v.int("idthreshold", false).unwrap_or(0);
    let objs = ids_of(v.raw("objects"));
    if let Err(r) = v.finish() {
        return r;
    }
    let st = a.lock();
    let rows: Vec<Value> = st
        .vra_scores
        .iter()
        .filter(|r| match &objs {
            Some(ids) => {
                ids.contains(&r["transient_object_id"].as_u64().unwrap_or(0)) && r["debug"].as_bool() == Some(debug)
            }
            None => {
                r["id"].as_i64().unwrap_or(0) >= idthr && thr.is_none_or(|t| r["_mjd"].as_f64().unwrap_or(0.0) >= t)
            }
        })
        .map(|r| {
            let mut r = r.clone();
            if let Value::Object(m) = &mut r {
                m.remove("_mjd");
            }
            r
        })
        .collect();
    json(200, Value::Array(rows))
}

pub(super) fn vratodolist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let thr = v.datetime("datethreshold");
    let _ = v.int("idthreshold", false);
    let objs = ids_of(v.raw("objects"));
    if let Err(r) = v.finish() {
        return r;
    }
    let st = a.lock();
    let rows: Vec<Value> = st
        .todo
        .iter()
        .filter(|(id, t)| match &objs {
            Some(ids) => ids.contains(id),
            None => thr.is_none_or(|m| crate::clock::mjd_of(a.shared.clock.wall(*t)) >= m),
        })
        .map(|(id, t)| json!({"transient_object_id": id, "timestamp": ts(a, *t)}))
        .collect();
    json(200, Value::Array(rows))
}

pub(super) fn vraranklist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let _ = v.datetime("datethreshold");
    let objs = ids_of(v.raw("objects"));
    if let Err(r) = v.finish() {
        return r;
    }
    let st = a.lock();
    let rows: Vec<Value> = st
        .ranks
        .iter()
        .filter(|(id, _)| objs.as_ref().is_none_or(|ids| ids.contains(id)))
        .map(|(_, r)| r.clone())
        .collect();
    json(200, Value::Array(rows))
}

fn created(objectid: i64, info: &str) -> Response {
    json(201, json!({"objectid": objectid, "info": info}))
}

pub(super) fn vrascores(a: &Atlas, d: &Pairs, user: usize) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let fields: Vec<(&str, Option<f64>)> =
        ["preal", "pgal", "pfast", "rank", "rank_alt1"].iter().map(|k| (*k, v.float(k, false))).collect();
    let gal = v.int("is_gal_cand", false);
    let debug = v.boolean("debug", false);
    let _ = v.datetime("insertdate");
    if let Err(r) = v.finish() {
        return r;
    }
    let oid = oid.unwrap_or(0);
    if a.shared.sky.by_atlas(oid as u64).is_none() {
        return created(oid, "Object does not exist.");
    }
    let now = a.shared.clock.now();
    let mut st = a.lock();
    let id = st.vra_scores.len() as i64 + 1;
    let mut row = json!({"id": id, "transient_object_id": oid});
    if let Value::Object(m) = &mut row {
        for (k, x) in fields {
            m.insert(k.into(), x.map(jf).unwrap_or(Value::Null));
        }
        m.insert("is_gal_cand".into(), json!(gal));
        m.insert("timestamp".into(), json!(ts(a, now)));
        m.insert("apiusername".into(), json!(USERS[user]));
        m.insert("username".into(), Value::Null);
        m.insert("debug".into(), json!(debug));
        m.insert("_mjd".into(), jf(crate::clock::mjd_of(a.shared.clock.wall(now))));
    }
    st.vra_scores.push(row);
    created(oid, "Row created.")
}

pub(super) fn vratodo(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let _ = v.datetime("insertdate");
    if let Err(r) = v.finish() {
        return r;
    }
    let oid = oid.unwrap_or(0);
    if a.shared.sky.by_atlas(oid as u64).is_none() {
        return created(oid, "Object does not exist.");
    }
    let now = a.shared.clock.now();
    let mut st = a.lock();
    if st.todo.iter().any(|(o, _)| *o == oid as u64) {
        return created(oid, "Duplicate row. Cannot add row.");
    }
    st.todo.push((oid as u64, now));
    created(oid, "Row created.")
}

pub(super) fn vrarank(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let rank = v.float("rank", true);
    let alt = v.float("rank_alt1", false);
    let gal = v.int("is_gal_cand", false);
    let insert = v.datetime("insertdate");
    if let Err(r) = v.finish() {
        return r;
    }
    let oid = oid.unwrap_or(0);
    if a.shared.sky.by_atlas(oid as u64).is_none() {
        return created(oid, "Object does not exist.");
    }
    // The server saves a `TcsVraRank` keyed by the object id: an upsert whose `timestamp`
    // is `insertdate` (default now), answered "Row created." whether it inserted or updated.
    let stamp = match insert.and(v_insertdate(d)) {
        Some(t) => iso_z(t),
        None => ts(a, a.shared.clock.now()),
    };
    let row = json!({"transient_object_id": oid, "rank": rank.map(jf), "rank_alt1": alt.map(jf), "is_gal_cand": gal, "timestamp": stamp});
    a.lock().ranks.insert(oid as u64, row);
    created(oid, "Row created.")
}
