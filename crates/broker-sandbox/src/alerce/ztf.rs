//! The ZTF v1 API (Flask): the object list, objects, light curves, magstats, probabilities, features and classifiers.

use super::*;

pub(super) const ORDER_BY: [&str; 18] = [
    "oid",
    "ndet",
    "g_r_max",
    "g_r_max_corr",
    "g_r_mean",
    "g_r_mean_corr",
    "meanra",
    "meandec",
    "sigmara",
    "sigmadec",
    "deltajd",
    "firstmjd",
    "lastmjd",
    "class_name",
    "classifier_name",
    "classifier_version",
    "probability",
    "ranking",
];

pub(super) fn parse_int(q: &Pairs, k: &str, what: &str) -> Result<Option<i64>, Response> {
    match q.first(k) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| flask_400(k, format!("{what} invalid literal for int() with base 10: '{v}'"))),
    }
}

pub(super) fn parse_floats(q: &Pairs, k: &str, what: &str) -> Result<Vec<f64>, Response> {
    q.all(k)
        .iter()
        .map(|v| v.parse::<f64>().map_err(|_| flask_400(k, format!("{what} could not convert string to float: '{v}'"))))
        .collect()
}

pub(super) async fn ztf_list(State(sh): S, uri: Uri) -> Response {
    let q = Pairs::from_query(&uri);
    let page = match parse_int(&q, "page", "Page or offset to retrieve") {
        Ok(p) => p.unwrap_or(1).max(1) as usize,
        Err(r) => return r,
    };
    let page_size = match parse_int(&q, "page_size", "Number of objects to retrieve in each page") {
        Ok(p) => p.unwrap_or(10).max(1) as usize,
        Err(r) => return r,
    };
    let count = match q.first("count") {
        None => false,
        Some(v) => match parse_bool(v) {
            Some(b) => b,
            None => {
                return flask_400(
                    "count",
                    format!("Whether to count total objects or not. Boolean type must be non-null, got '{v}'"),
                );
            }
        },
    };
    let ranking = match parse_int(&q, "ranking", "Class ordering by probability from highest to lowest") {
        Ok(r) => r,
        Err(r) => return r,
    };
    if let Some(ob) = q.first("order_by") {
        if !ORDER_BY.contains(&ob) {
            return flask_400(
                "order_by",
                format!("Column used for ordering The value '{ob}' is not a valid choice for 'order_by'."),
            );
        }
    }
    if let Some(om) = q.first("order_mode") {
        if !matches!(om, "ASC" | "DESC") {
            return flask_400(
                "order_mode",
                format!(
                    "Ordering could be ascendent or descendent The value '{om}' is not a valid choice for 'order_mode'."
                ),
            );
        }
    }
    let ndet = match parse_floats(&q, "ndet", "Range of detections.") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let firstmjd = match parse_floats(&q, "firstmjd", "First detection date range in mjd.") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lastmjd = match parse_floats(&q, "lastmjd", "Last detection date range in mjd.") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let probability = match q.first("probability").map(|v| v.parse::<f64>()) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => {
            return flask_400(
                "probability",
                "Minimum probability of belonging to specified classes could not convert string to float".into(),
            );
        }
    };
    let floats = |k: &str| q.first(k).and_then(|v| v.parse::<f64>().ok());
    // As the server: the cone applies only when `ra and dec and radius` are all truthy in
    // Python (`astro_object_service.py::_create_conesearch_statement`), so an `ra` or
    // `dec` of 0 (or a radius of 0) silently gives objects from the whole sky.
    let radius = floats("radius").unwrap_or(30.0);
    let truthy = |v: Option<f64>| v.filter(|x| *x != 0.0);
    let (ra, dec) = match (truthy(floats("ra")), truthy(floats("dec")), radius != 0.0) {
        (Some(ra), Some(dec), true) => (Some(ra), Some(dec)),
        _ => (None, None),
    };
    let classifier = q.first("classifier");
    let class = q.first("class");
    let oids = q.all("oid");
    let custom_class = classifier.is_some()
        || q.has("classifier_version")
        || ranking.is_some()
        || probability.is_some()
        || class.is_some();
    let classifier_name = classifier.unwrap_or(LC_CLASSIFIER);
    let rank = ranking.unwrap_or(1) as usize;
    let range_ok = |v: f64, r: &[f64]| match r {
        [] => true,
        [lo] => v >= *lo,
        [lo, hi, ..] => v >= *lo && v <= *hi,
    };
    let wildcard = |pat: &str, s: &str| {
        let parts: Vec<&str> = pat.split('*').collect();
        if parts.len() == 1 {
            return pat == s;
        }
        let mut pos = 0;
        for (i, part) in parts.iter().enumerate() {
            if i == 0 {
                if !s.starts_with(part) {
                    return false;
                }
                pos = part.len();
            } else if i == parts.len() - 1 {
                return s.len() >= pos + part.len() && s.ends_with(part);
            } else {
                match s[pos..].find(part) {
                    Some(k) => pos += k + part.len(),
                    None => return false,
                }
            }
        }
        true
    };
    let sky = &sh.sky;
    let mut rows: Vec<(&SkyObject, &'static str, f64, f64)> = Vec::new();
    for o in &sky.objects {
        let Some(oid) = o.ztf_oid.as_deref() else { continue };
        if !oids.is_empty() && !oids.iter().any(|p| wildcard(p, oid)) {
            continue;
        }
        let s = sky.summary(o, Survey::Ztf);
        if s.ndet == 0
            || !range_ok(s.ndet as f64, &ndet)
            || !range_ok(s.first_mjd, &firstmjd)
            || !range_ok(s.last_mjd, &lastmjd)
        {
            continue;
        }
        let mut sep = 0.0;
        if let (Some(ra), Some(dec)) = (ra, dec) {
            sep = separation_arcsec(ra, dec, o.ra, o.dec);
            if sep > radius {
                continue;
            }
        }
        let probs = match classifier_name {
            LC_CLASSIFIER => &o.lc_probs,
            STAMP_CLASSIFIER => &o.stamp_probs,
            _ => continue,
        };
        let Some((c, p, _)) = ranked(probs).into_iter().find(|x| x.2 == rank) else { continue };
        if class.is_some_and(|k| k != c) || probability.is_some_and(|m| p < m) {
            continue;
        }
        rows.push((o, c, p, sep));
    }
    let _ = custom_class;
    if let Some(ob) = q.first("order_by") {
        let key = |r: &(&SkyObject, &'static str, f64, f64)| -> f64 {
            let s = sky.summary(r.0, Survey::Ztf);
            match ob {
                "ndet" => s.ndet as f64,
                "firstmjd" => s.first_mjd,
                "lastmjd" => s.last_mjd,
                "deltajd" => s.last_mjd - s.first_mjd,
                "meanra" => r.0.ra,
                "meandec" => r.0.dec,
                "probability" => r.2,
                _ => 0.0,
            }
        };
        if ob == "oid" || ob == "class_name" {
            rows.sort_by(|a, b| if ob == "oid" { a.0.ztf_oid.cmp(&b.0.ztf_oid) } else { a.1.cmp(b.1) });
        } else {
            rows.sort_by(|a, b| key(a).total_cmp(&key(b)));
        }
        if q.first("order_mode").unwrap_or("DESC") == "DESC" {
            rows.reverse();
        }
    } else if !oids.is_empty() {
        rows.sort_by_key(|r| oids.iter().position(|p| r.0.ztf_oid.as_deref() == Some(*p)).unwrap_or(usize::MAX));
    } else if ra.is_some() {
        rows.sort_by(|a, b| a.3.total_cmp(&b.3));
    }
    let total = rows.len().min(50_001);
    let items: Vec<Value> = rows
        .iter()
        .skip((page - 1) * page_size)
        .take(page_size)
        .map(|(o, c, p, _)| object_item(&sh, o, Some((c, classifier_name, *p))))
        .collect();
    let (total_v, has_next, next) = if count {
        let pages = total.div_ceil(page_size);
        let hn = page < pages;
        (json!(total), hn, if hn { json!(page + 1) } else { Value::Null })
    } else {
        (Value::Null, false, Value::Null)
    };
    json(
        200,
        json!({"total": total_v, "page": null, "next": next, "has_next": has_next, "prev": if page > 1 { json!(page - 1) } else { Value::Null }, "has_prev": page > 1, "items": items}),
    )
}

pub(super) async fn ztf_limit_values(State(sh): S) -> Response {
    let sums: Vec<_> = sh
        .sky
        .objects
        .iter()
        .filter(|o| o.ztf_oid.is_some())
        .map(|o| sh.sky.summary(o, Survey::Ztf))
        .filter(|s| s.ndet > 0)
        .collect();
    let min_ndet = sums.iter().map(|s| s.ndet).min().unwrap_or(0);
    let max_ndet = sums.iter().map(|s| s.ndet).max().unwrap_or(0);
    let min_f = sums.iter().map(|s| s.first_mjd).fold(f64::MAX, f64::min);
    let max_f = sums.iter().map(|s| s.first_mjd).fold(f64::MIN, f64::max);
    json(200, json!({"min_ndet": min_ndet, "max_ndet": max_ndet, "min_firstmjd": jf(min_f), "max_firstmjd": jf(max_f)}))
}

pub(super) async fn ztf_object(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    match ztf_obj(&sh, &oid) {
        Some(o) => json(200, object_item(&sh, o, None)),
        None => ztf_not_found(uri.path()),
    }
}

pub(super) async fn ztf_lightcurve(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    let q = Pairs::from_query(&uri);
    match (ztf_obj(&sh, &oid), q.first("survey_id").unwrap_or("ztf")) {
        (Some(o), "ztf") => {
            let body = o.ztf_lightcurve_reply.get_or_init(|| {
                let v = json!({"detections": detections(&sh, o), "non_detections": non_detections(&sh, o)});
                axum::body::Bytes::from(v.to_string())
            });
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
        }
        _ => json(200, json!({"detections": [], "non_detections": []})),
    }
}

pub(super) async fn ztf_detections(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    let q = Pairs::from_query(&uri);
    match (ztf_obj(&sh, &oid), q.first("survey_id").unwrap_or("ztf")) {
        (Some(o), "ztf") => json(200, Value::Array(detections(&sh, o))),
        _ => json(200, json!([])),
    }
}

pub(super) async fn ztf_non_detections(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    let q = Pairs::from_query(&uri);
    match (ztf_obj(&sh, &oid), q.first("survey_id").unwrap_or("ztf")) {
        (Some(o), "ztf") => json(200, Value::Array(non_detections(&sh, o))),
        _ => json(200, json!([])),
    }
}

pub(super) async fn ztf_magstats(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    let Some(o) = ztf_obj(&sh, &oid) else { return ztf_not_found(uri.path()) };
    let pts = ztf_points(&sh, o);
    let s = sh.sky.summary(o, Survey::Ztf);
    let out: Vec<Value> = s
        .bands
        .iter()
        .map(|(b, n, mean, min, max, first, last)| {
            let mags: Vec<f64> = pts.iter().filter(|p| p.detected && p.band == *b).map(|p| flux_to_mag(p.flux)).collect();
            let mut sorted = mags.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted.get(sorted.len() / 2).copied().unwrap_or(*mean);
            let sd = (mags.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / mags.len().max(1) as f64).sqrt();
            let det: Vec<&Point> = pts.iter().filter(|p| p.detected && p.band == *b).collect();
            json!({"fid": fid(b), "stellar": !o.kind.is_transient(), "corrected": !o.kind.is_transient(), "ndet": n, "ndubious": 0,
                   "magmean": jf(round(*mean, 4)), "magmedian": jf(round(median, 4)), "magmax": jf(round(*max, 4)), "magmin": jf(round(*min, 4)),
                   "magsigma": jf(round(sd, 4)), "maglast": jf(round(*last, 4)), "magfirst": jf(round(*first, 4)),
                   "firstmjd": det.first().map(|p| jf(p.mjd)), "lastmjd": det.last().map(|p| jf(p.mjd)), "step_id_corr": STEP_CORR})
        })
        .collect();
    json(200, Value::Array(out))
}

pub(super) fn probability_rows(o: &SkyObject, classifier: Option<&str>, version: Option<&str>) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, ver, probs) in
        [(LC_CLASSIFIER, LC_VERSION, &o.lc_probs), (STAMP_CLASSIFIER, STAMP_VERSION, &o.stamp_probs)]
    {
        if classifier.is_some_and(|c| c != name) || version.is_some_and(|v| v != ver) {
            continue;
        }
        for (c, p, r) in ranked(probs) {
            out.push(json!({"classifier_name": name, "classifier_version": ver, "class_name": c, "probability": jf(p), "ranking": r}));
        }
    }
    out
}

pub(super) async fn ztf_probabilities(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    let q = Pairs::from_query(&uri);
    let Some(o) = ztf_obj(&sh, &oid) else { return ztf_not_found(uri.path()) };
    json(200, Value::Array(probability_rows(o, q.first("classifier"), q.first("classifier_version"))))
}

pub(super) fn features(sh: &Shared, o: &SkyObject) -> Vec<Value> {
    let s = sh.sky.summary(o, Survey::Ztf);
    let mut out = vec![
        json!({"name": "Multiband_period", "value": jf(round(if o.kind.is_transient() { 0.1 + (o.seed % 1000) as f64 / 100.0 } else { o.period }, 6)), "fid": 12, "version": "1.0.0"}),
    ];
    for (b, n, mean, min, max, _, _) in &s.bands {
        out.push(
            json!({"name": "Amplitude", "value": jf(round((max - min) / 2.0, 6)), "fid": fid(b), "version": "1.0.0"}),
        );
        out.push(json!({"name": "Mean", "value": jf(round(*mean, 6)), "fid": fid(b), "version": "1.0.0"}));
        out.push(json!({"name": "n_det", "value": n, "fid": fid(b), "version": "1.0.0"}));
    }
    out
}

pub(super) async fn ztf_features(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    let q = Pairs::from_query(&uri);
    let Some(o) = ztf_obj(&sh, &oid) else { return json(200, json!([])) };
    let f = q.first("fid").and_then(|v| v.parse::<i64>().ok());
    let v = q.first("version");
    let rows: Vec<Value> = features(&sh, o)
        .into_iter()
        .filter(|r| f.is_none_or(|f| r["fid"] == json!(f)) && v.is_none_or(|v| r["version"] == json!(v)))
        .collect();
    json(200, Value::Array(rows))
}

pub(super) async fn ztf_feature(State(sh): S, Path((oid, name)): Path<(String, String)>) -> Response {
    let Some(o) = ztf_obj(&sh, &oid) else { return json(200, json!([])) };
    json(200, Value::Array(features(&sh, o).into_iter().filter(|r| r["name"] == json!(name)).collect()))
}

pub(super) async fn ztf_classifiers() -> Response {
    json(
        200,
        json!([
            {"classifier_name": LC_CLASSIFIER, "classifier_version": LC_VERSION, "classes": LC_CLASSES},
            {"classifier_name": STAMP_CLASSIFIER, "classifier_version": STAMP_VERSION, "classes": STAMP_CLASSES}
        ]),
    )
}

pub(super) async fn ztf_classes(Path((name, version)): Path<(String, String)>) -> Response {
    let classes: &[&str] = match (name.as_str(), version.as_str()) {
        (LC_CLASSIFIER, LC_VERSION) => &LC_CLASSES,
        (STAMP_CLASSIFIER, STAMP_VERSION) => &STAMP_CLASSES,
        _ => return json(404, json!({"message": "Classifier not found"})),
    };
    json(200, Value::Array(classes.iter().map(|c| json!({"name": c})).collect()))
}
