//! Detection and custom lists: `objectlist/` and `objectdetectionlist/` (moving an object
//! between detection lists).

use super::*;

fn list_row(a: &Atlas, o: &SkyObject, rank: usize, group: Option<i64>) -> Value {
    let pts = a.shared.sky.photometry(o, Survey::Atlas);
    let mut row = object_row(a, o, &pts);
    let det: Vec<&Point> = pts.iter().filter(|p| p.detected).collect();
    let first = det.first();
    let last = det.last();
    let extra = json!({
        "rank": rank, "ra_avg": round(o.ra, 6), "dec_avg": round(o.dec, 6),
        "earliest_mjd": first.map(|p| round(p.mjd, 6)), "earliest_mag": first.map(|p| round(flux_to_mag(p.flux), 3)), "earliest_filter": first.map(|p| p.band),
        "latest_mjd": last.map(|p| round(p.mjd, 6)), "latest_mag": last.map(|p| round(flux_to_mag(p.flux), 3)), "latest_filter": last.map(|p| p.band),
        "catalogue": if o.kind.is_sn() { json!("SDSS/2MASS/PS1") } else { Value::Null }, "catalogue_object_id": null,
        "separation": round((o.host_offset.0.powi(2) + o.host_offset.1.powi(2)).sqrt(), 2),
        "external_crossmatches": o.tns_name, "discovery_target": null, "rms": null
    });
    if let (Value::Object(r), Value::Object(e)) = (&mut row, extra) {
        for k in [
            "followup_id",
            "detection_id",
            "htm16id",
            "jtindex",
            "date_inserted",
            "processing_flags",
            "updated_by",
            "followup_priority",
            "external_reference_id",
            "survey_field",
            "followup_counter",
            "local_comments",
            "ndetections",
        ] {
            r.remove(k);
        }
        for (k, v) in e {
            r.insert(k, v);
        }
        if let Some(g) = group {
            r.remove("images_id");
            r.insert("local_comments".into(), Value::Null);
            r.insert("object_group_id".into(), json!(g));
        }
    }
    row
}

pub(super) fn objectlist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let id = v.int("objectlistid", true);
    let custom = v.boolean("getcustomlist", false);
    let thr = v.datetime("datethreshold");
    if let Err(r) = v.finish() {
        return r;
    }
    let id = id.unwrap_or(0);
    let thr = thr.unwrap_or(f64::MIN);
    let sky = &a.shared.sky;
    let members: Vec<&SkyObject> = if custom {
        let st = a.lock();
        st.group_rows.iter().filter(|r| r.2 == id).filter_map(|r| sky.by_atlas(r.1)).collect()
    } else {
        if !(0..=13).contains(&id) {
            return server_error();
        }
        let overrides = a.lock().detection_lists.clone();
        sky.objects.iter().filter(|o| overrides.get(&o.atlas_id).copied().unwrap_or(o.atlas_list) == id).collect()
    };
    let rows: Vec<Value> = members
        .into_iter()
        .filter(|o| {
            let f = first_det_mjd(&sky.photometry(o, Survey::Atlas)).unwrap_or(sky.cfg.start_mjd).floor();
            f > thr
        })
        .enumerate()
        .map(|(i, o)| list_row(a, o, i + 1, custom.then_some(id)))
        .collect();
    json(200, Value::Array(rows))
}

pub(super) fn objectdetectionlist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let oid = v.int("objectid", true);
    let list = v.int("objectlist", true);
    let insert = v.datetime("insertdate");
    if let Err(r) = v.finish() {
        return r;
    }
    let (oid, list) = (oid.unwrap_or(0), list.unwrap_or(0));
    // As the server's `ObjectDetectionListSerializer`: the object is looked up first, then
    // only lists 3, 4 and 12 may be set; `insertdate` (default now) becomes the object's
    // `date_modified`. Every reply is 200 with the object id.
    if a.shared.sky.by_atlas(oid as u64).is_none() {
        return json(200, json!({"objectid": oid, "info": "Object does not exist."}));
    }
    if !matches!(list, 3 | 4 | 12) {
        return json(200, json!({"objectid": oid, "info": "Error updating row."}));
    }
    let modified = match insert.and(v_insertdate(d)) {
        Some(t) => iso_z(t),
        None => ts(a, a.shared.clock.now()),
    };
    let mut st = a.lock();
    st.detection_lists.insert(oid as u64, list);
    st.date_modified.insert(oid as u64, modified);
    json(200, json!({"objectid": oid, "info": "Row created."}))
}
