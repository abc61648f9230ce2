//! The multisurvey (LSST) API: object list, objects, light curves, probabilities.

use super::*;

pub(super) fn missing(loc: &str, name: &str) -> Response {
    json(422, json!({"detail": [{"type": "missing", "loc": [loc, name], "msg": "Field required", "input": null}]}))
}

pub(super) fn band_code(b: &str) -> u8 {
    match b {
        "g" => 1,
        "r" => 2,
        "i" => 3,
        "z" => 4,
        "y" => 5,
        "u" => 6,
        _ => 0,
    }
}

pub(super) fn lsst_band_map() -> Value {
    json!({"6": "u", "1": "g", "2": "r", "3": "i", "4": "z", "5": "y"})
}

pub(crate) fn measurement_id(o: &SkyObject, p: &Point) -> u64 {
    (1u64 << 58) + mix(o.seed ^ (p.seq as u64).wrapping_mul(0x9E37)) % (1u64 << 58)
}

pub(super) fn lsst_class(o: &SkyObject) -> (&'static str, f64) {
    top(&o.stamp_probs)
}

pub(super) fn lsst_item(sh: &Shared, o: &SkyObject, oid: u64) -> Value {
    let pts = sh.sky.photometry(o, Survey::Lsst);
    let det: Vec<&Point> = pts.iter().filter(|p| p.detected).collect();
    let first = det.first().map(|p| p.mjd).unwrap_or(0.0);
    let last = det.last().map(|p| p.mjd).unwrap_or(0.0);
    let (c, p) = lsst_class(o);
    json!({"oid": oid, "tid": 1, "sid": 1, "meanra": jf(round(o.ra, 7)), "meandec": jf(round(o.dec, 7)), "sigmara": null, "sigmadec": null,
           "firstmjd": jf(first), "lastmjd": jf(last), "deltamjd": jf(last - first), "n_det": det.len(), "n_forced": pts.len(), "n_non_det": 0,
           "stellar": null, "class_name": c, "classifier_name": LSST_CLASSIFIER, "classifier_version": "1", "probability": jf(p), "ranking": 1})
}

pub(super) async fn ms_list(State(sh): S, uri: Uri) -> Response {
    let q = Pairs::from_query(&uri);
    let page = q.first("page").and_then(|v| v.parse::<usize>().ok()).unwrap_or(1).max(1);
    let page_size = q.first("page_size").and_then(|v| v.parse::<usize>().ok()).unwrap_or(10).max(1);
    let oids: Vec<&str> = q.all("oid");
    // The REST route runs only the n_det and order_mode checks
    // (`object_api/routes/rest.py`); the 200-oid cap, "probability needs a class" and the
    // radius check belong to the HTMX routes.
    let ndet: Vec<f64> = q.all("n_det").iter().filter_map(|v| v.parse().ok()).collect();
    if let [lo, hi, ..] = ndet.as_slice() {
        if lo > hi {
            return json(422, json!({"detail": {"detections_container": "Min value can't be greater than max."}}));
        }
    }
    if let Some(om) = q.first("order_mode") {
        if !matches!(om, "ASC" | "DESC") {
            return json(422, json!({"detail": {"search_filters": "Order can be only DESC or ASC."}}));
        }
    }
    let radius = q.first("radius").and_then(|v| v.parse::<f64>().ok());
    let prob = q.first("probability").and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let class = q.first("class_name");
    let ra = q.first("ra").and_then(|v| v.parse::<f64>().ok());
    let dec = q.first("dec").and_then(|v| v.parse::<f64>().ok());
    let radius = radius.unwrap_or(30.0);
    let oid_nums: Vec<u64> = oids.iter().filter_map(|v| v.parse().ok()).collect();
    let mut rows: Vec<(&SkyObject, u64)> = Vec::new();
    for o in &sh.sky.objects {
        let Some(id) = o.lsst_oid else { continue };
        if !oids.is_empty() && !oid_nums.contains(&id) {
            continue;
        }
        let (c, p) = lsst_class(o);
        if class.is_some_and(|k| k != c) || p < prob {
            continue;
        }
        if let (Some(ra), Some(dec)) = (ra, dec) {
            if separation_arcsec(ra, dec, o.ra, o.dec) > radius {
                continue;
            }
        }
        if !ndet.is_empty() {
            let n = sh.sky.photometry(o, Survey::Lsst).iter().filter(|p| p.detected).count() as f64;
            if n < ndet[0] || ndet.get(1).is_some_and(|hi| n > *hi) {
                continue;
            }
        }
        rows.push((o, id));
    }
    let desc = q.first("order_mode").unwrap_or("DESC") == "DESC";
    rows.sort_by(|a, b| lsst_class(a.0).1.total_cmp(&lsst_class(b.0).1));
    if desc {
        rows.reverse();
    }
    let fetched: Vec<&(&SkyObject, u64)> = rows.iter().skip((page - 1) * page_size).take(page_size + 1).collect();
    let has_next = fetched.len() > page_size;
    let items: Vec<Value> = fetched.iter().take(page_size).map(|(o, id)| lsst_item(&sh, o, *id)).collect();
    json(
        200,
        json!({"total": fetched.len(), "next": if has_next { json!(page + 1) } else { Value::Null }, "has_next": has_next,
               "prev": if page > 1 { json!(page - 1) } else { Value::Null }, "has_prev": page > 1, "current_page": page,
               "items": items, "info_message": if items.is_empty() { "No objects found" } else { "" }}),
    )
}

pub(super) async fn ms_object(State(sh): S, uri: Uri) -> Response {
    let q = Pairs::from_query(&uri);
    let Some(oid) = q.first("oid") else { return missing("query", "oid") };
    let Some(_) = q.first("survey_id") else { return missing("query", "survey_id") };
    let Some(o) = oid.parse::<u64>().ok().and_then(|id| sh.sky.by_lsst(id)) else {
        return json(500, json!({"detail": "An error occurred"}));
    };
    let id = o.lsst_oid.unwrap_or(0);
    let it = lsst_item(&sh, o, id);
    let mut m = Map::new();
    for k in [
        "oid",
        "tid",
        "sid",
        "meanra",
        "meandec",
        "sigmara",
        "sigmadec",
        "firstmjd",
        "lastmjd",
        "deltamjd",
        "n_det",
        "n_forced",
        "n_non_det",
    ] {
        m.insert(k.into(), it[k].clone());
    }
    m.insert("created_date".into(), json!("2025-06-01T00:00:00"));
    m.insert("updated_date".into(), json!("2025-06-01T00:00:00"));
    if q.first("return_survey_extra").and_then(parse_bool).unwrap_or(false) {
        let pts = sh.sky.photometry(o, Survey::Lsst);
        m.insert("validityStartMjdTai".into(), it["firstmjd"].clone());
        m.insert("ra".into(), jf(o.ra));
        m.insert("raErr".into(), jf(0.00003));
        m.insert("dec".into(), jf(o.dec));
        m.insert("decErr".into(), jf(0.00003));
        for b in ["u", "g", "r", "i", "z", "y"] {
            let f: Vec<f64> = pts.iter().filter(|p| p.band == b && p.detected).map(|p| p.flux * 1000.0).collect();
            let mean = if f.is_empty() { Value::Null } else { jf(round(f.iter().sum::<f64>() / f.len() as f64, 3)) };
            m.insert(format!("{b}_psfFluxMean"), mean);
            m.insert(format!("{b}_psfFluxNdata"), json!(f.len()));
        }
        m.insert("nDiaSources".into(), it["n_det"].clone());
    }
    json(200, Value::Object(m))
}

pub(super) async fn ms_lightcurve(State(sh): S, uri: Uri, Path(kind): Path<String>) -> Response {
    if !matches!(kind.as_str(), "lightcurve" | "detections" | "non_detections" | "forced-photometry") {
        return json(404, json!({"detail": "Not Found"}));
    }
    let q = Pairs::from_query(&uri);
    let Some(survey) = q.first("survey_id") else { return missing("query", "survey_id") };
    if !matches!(survey, "ztf" | "lsst") {
        return json(400, json!({"detail": format!("Invalid survey ID '{survey}'. Allowed surveys are: ztf, lsst")}));
    }
    let oids = q.all("oid");
    if oids.is_empty() {
        return missing("query", "oid");
    }
    let mut dets = Vec::new();
    let mut forced = Vec::new();
    for oid in oids {
        let o = match survey {
            "lsst" => oid.parse::<u64>().ok().and_then(|id| sh.sky.by_lsst(id)),
            _ => None,
        };
        let Some(o) = o else { continue };
        let id = o.lsst_oid.unwrap_or(0);
        for p in sh.sky.photometry(o, Survey::Lsst) {
            let mid = measurement_id(o, &p);
            // LSST fluxes are nJy.
            let (f, fe) = (round(p.flux * 1000.0, 3), round(p.flux_err * 1000.0, 3));
            let (sf, sfe) = (round((p.flux + p.ref_flux) * 1000.0, 3), fe);
            forced.push(json!({"oid": id, "survey_id": "lsst", "measurement_id": mid, "mjd": jf(p.mjd), "ra": jf(o.ra), "dec": jf(o.dec),
                                "band": band_code(p.band), "band_map": lsst_band_map(), "visit": 2_025_000_000_000u64 + p.night as u64 * 100 + (p.seq % 100) as u64,
                                "detector": p.aux % 189, "psfFlux": jf(f), "psfFluxErr": jf(fe), "scienceFlux": jf(sf), "scienceFluxErr": jf(sfe)}));
            if p.detected {
                dets.push(json!({"oid": id, "survey_id": "lsst", "measurement_id": mid, "parentDiaSourceId": null, "diaObjectId": id,
                                  "psfFlux": jf(f), "psfFluxErr": jf(fe), "psfFlux_flag": 0, "psfFlux_flag_edge": 0, "psfFlux_flag_noGoodPixels": 0,
                                  "scienceFlux": jf(sf), "scienceFluxErr": jf(sfe), "mjd": jf(p.mjd), "ra": jf(o.ra), "dec": jf(o.dec),
                                  "band": band_code(p.band), "band_map": lsst_band_map(), "has_stamp": true,
                                  "visit": 2_025_000_000_000u64 + p.night as u64 * 100 + (p.seq % 100) as u64, "detector": p.aux % 189,
                                  "ssObjectId": null, "raErr": 0.00003, "decErr": 0.00003, "x": jf(round((p.aux % 4000) as f64 + 0.3, 1)),
                                  "y": jf(round(((p.aux >> 12) % 4000) as f64 + 0.8, 1)), "apFlux": jf(round(f * 1.05, 3)), "snr": jf(round(p.snr(), 2))}));
            }
        }
    }
    match kind.as_str() {
        "detections" => json(200, Value::Array(dets)),
        "non_detections" => json(200, json!([])),
        "forced-photometry" => json(200, Value::Array(forced)),
        _ => json(200, json!({"detections": dets, "non_detections": [], "forced_photometry": forced})),
    }
}

pub(super) async fn ms_probability(State(sh): S, uri: Uri) -> Response {
    let q = Pairs::from_query(&uri);
    let Some(oid) = q.first("oid") else { return missing("query", "oid") };
    if let Some(c) = q.first("classifier") {
        if c != LSST_CLASSIFIER {
            return json(404, json!({"detail": "Classifier not found"}));
        }
    }
    let Some(o) = oid.parse::<u64>().ok().and_then(|id| sh.sky.by_lsst(id)) else {
        return json(404, json!({"detail": "Probability not found for the given OID"}));
    };
    let rows: Vec<Value> = ranked(&o.stamp_probs)
        .into_iter()
        .map(|(c, p, r)| json!({"classifier_name": LSST_CLASSIFIER, "classifier_version": 1, "class_name": c, "probability": jf(p), "ranking": r}))
        .collect();
    json(200, Value::Array(rows))
}
