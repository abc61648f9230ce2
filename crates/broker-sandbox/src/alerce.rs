//! ALeRCE emulator: ZTF v1 API (Flask-RESTX), v2 lightcurve (FastAPI), multisurvey (LSST)
//! APIs (FastAPI), ZTF and LSST stamps, catsHTM.

use crate::config::CatsHtmFormat;
use crate::middleware::canned::{self, json};
use crate::rng::mix;
use crate::sky::{LC_CLASSES, Point, STAMP_CLASSES, SkyObject, Survey, flux_to_mag, round, separation_arcsec};
use crate::state::Shared;
use crate::util::{Pairs, accepts_gzip, gzip, header, jf, parse_bool};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use std::sync::Arc;

const LC_CLASSIFIER: &str = "lc_classifier";
const LC_VERSION: &str = "hierarchical_random_forest_1.1.0";
const STAMP_CLASSIFIER: &str = "stamp_classifier";
const STAMP_VERSION: &str = "stamp_classifier_1.0.4";
const LSST_CLASSIFIER: &str = "stamp_classifier_rubin";
const STEP_CORR: &str = "correction_1.0.6";

type S = State<Arc<Shared>>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/ztf/v1/objects", get(redirect_slash))
        .route("/ztf/v1/objects/", get(ztf_list))
        .route("/ztf/v1/objects/limit_values", get(ztf_limit_values))
        .route("/ztf/v1/objects/{oid}", get(ztf_object))
        .route("/ztf/v1/objects/{oid}/lightcurve", get(ztf_lightcurve))
        .route("/ztf/v1/objects/{oid}/detections", get(ztf_detections))
        .route("/ztf/v1/objects/{oid}/non_detections", get(ztf_non_detections))
        .route("/ztf/v1/objects/{oid}/magstats", get(ztf_magstats))
        .route("/ztf/v1/objects/{oid}/probabilities", get(ztf_probabilities))
        .route("/ztf/v1/objects/{oid}/features", get(ztf_features))
        .route("/ztf/v1/objects/{oid}/features/{name}", get(ztf_feature))
        .route("/ztf/v1/classifiers", get(redirect_slash))
        .route("/ztf/v1/classifiers/", get(ztf_classifiers))
        .route("/ztf/v1/classifiers/{name}/{version}/classes", get(ztf_classes))
        .route("/v2/lightcurve/forced-photometry/{oid}", get(v2_forced))
        .route("/v2/lightcurve/detections/{oid}", get(v2_detections))
        .route("/v2/lightcurve/non_detections/{oid}", get(v2_non_detections))
        .route("/v2/lightcurve/lightcurve/{oid}", get(v2_lightcurve))
        .route("/object_api/list_objects", get(ms_list))
        .route("/object_api/object", get(ms_object))
        .route("/lightcurve_api/{kind}", get(ms_lightcurve))
        .route("/probability_api/probability", get(ms_probability))
        .route("/stamps_api/stamp", get(ms_stamp))
        .route("/stamps_api/avro", get(ms_avro))
        .route("/get_stamp", get(ztf_stamp))
        .route("/get_avro", get(ztf_avro))
        .route("/conesearch", get(cats_cone))
        .route("/conesearch_all", get(cats_cone_all))
        .route("/crossmatch", get(cats_xmatch))
        .route("/crossmatch_all", get(cats_xmatch_all))
        .fallback(fallback)
        .with_state(shared)
}

fn flask_404() -> Response {
    json(
        404,
        json!({"message": "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."}),
    )
}

fn fastapi_prefix(path: &str) -> bool {
    ["/object_api", "/lightcurve_api", "/probability_api", "/stamps_api", "/v2/", "/conesearch", "/crossmatch"]
        .iter()
        .any(|p| path.starts_with(p))
}

async fn fallback(uri: Uri) -> Response {
    if fastapi_prefix(uri.path()) { json(404, json!({"detail": "Not Found"})) } else { flask_404() }
}

/// Flask's 308 from `/objects` to `/objects/`, keeping the query and the external host.
async fn redirect_slash(h: HeaderMap, uri: Uri) -> Response {
    let host = header(&h, header::HOST).unwrap_or("localhost");
    let mut loc = format!("http://{host}{}/", uri.path());
    if let Some(q) = uri.query() {
        loc.push('?');
        loc.push_str(q);
    }
    let body = format!(
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href=\"{loc}\">{loc}</a>. If not, click the link.\n"
    );
    let mut r = canned::text(308, "text/html; charset=utf-8", body);
    if let Ok(v) = HeaderValue::from_str(&loc) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn flask_400(field: &str, msg: String) -> Response {
    let mut errs = Map::new();
    errs.insert(field.into(), Value::String(msg));
    json(400, json!({"errors": errs, "message": "Input payload validation failed"}))
}

fn ztf_not_found(path: &str) -> Response {
    let p = path.trim_start_matches("/ztf/v1");
    json(
        404,
        json!({"message": format!("Object not found. You have requested this URI [{p}] but did you mean /objects/<id> ?")}),
    )
}

// ---------- ZTF model helpers ----------

fn ztf_obj<'a>(sh: &'a Shared, oid: &str) -> Option<&'a SkyObject> {
    let o = sh.sky.by_ztf(oid)?;
    (sh.sky.summary(o, Survey::Ztf).ndet > 0).then_some(o)
}

fn fid(band: &str) -> u8 {
    match band {
        "g" => 1,
        "r" => 2,
        "i" => 3,
        _ => 0,
    }
}

/// 19-digit ZTF candid: unique per detection, encodes the object index.
pub(crate) fn candid(o: &SkyObject, p: &Point) -> u64 {
    1_000_000_000_000_000_000
        + ((p.mjd * 1e5).round() as u64 % 1_000_000_000_000) * 1_000_000
        + o.index as u64 % 1_000_000
}

fn top(probs: &[(&'static str, f64)]) -> (&'static str, f64) {
    probs.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or(("", 0.0))
}

fn ranked(probs: &[(&'static str, f64)]) -> Vec<(&'static str, f64, usize)> {
    let mut sorted: Vec<(&'static str, f64)> = probs.to_vec();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    probs.iter().map(|(c, p)| (*c, *p, sorted.iter().position(|x| x.0 == *c).unwrap_or(0) + 1)).collect()
}

fn detection_json(o: &SkyObject, p: &Point) -> Value {
    let c = candid(o, p);
    let mag = flux_to_mag(p.flux);
    let sig = 1.0857 * p.flux_err / p.flux.abs();
    let variable = !o.kind.is_transient();
    let mut m = Map::new();
    m.insert("tid".into(), json!("ztf"));
    m.insert("mjd".into(), jf(p.mjd));
    m.insert("candid".into(), json!(c.to_string()));
    m.insert("fid".into(), json!(fid(p.band)));
    m.insert("pid".into(), json!(c / 1_000_000));
    m.insert("diffmaglim".into(), jf(round(p.limit, 5)));
    m.insert("isdiffpos".into(), json!(if p.flux >= 0.0 { 1 } else { -1 }));
    m.insert("nid".into(), json!(p.night - 58_119 + 1000));
    m.insert("distnr".into(), jf(round((o.host_offset.0.powi(2) + o.host_offset.1.powi(2)).sqrt(), 4)));
    m.insert("magpsf".into(), jf(round(mag, 6)));
    m.insert("sigmapsf".into(), jf(round(sig, 6)));
    if variable {
        let tot = p.ref_flux + p.flux;
        m.insert("magpsf_corr".into(), jf(round(flux_to_mag(tot), 6)));
        m.insert("sigmapsf_corr".into(), jf(round(1.0857 * p.flux_err / tot.abs(), 6)));
        m.insert("sigmapsf_corr_ext".into(), jf(round(1.0857 * p.flux_err / tot.abs() * 1.6, 6)));
    }
    m.insert("magap".into(), jf(round(mag + 0.05, 4)));
    m.insert("sigmagap".into(), jf(round(sig * 1.1, 4)));
    m.insert("ra".into(), jf(round(o.ra + ((p.aux % 200) as f64 - 100.0) * 2e-7, 7)));
    m.insert("dec".into(), jf(round(o.dec + (((p.aux >> 8) % 200) as f64 - 100.0) * 2e-7, 7)));
    m.insert("rb".into(), jf(round(0.6 + ((p.aux >> 16) % 400) as f64 / 1000.0, 6)));
    m.insert("rbversion".into(), json!("t17_f5_c3"));
    m.insert("drb".into(), jf(round(0.9 + ((p.aux >> 24) % 100) as f64 / 1000.0, 6)));
    m.insert("rfid".into(), json!(470_000_000 + (o.seed % 9_000_000)));
    m.insert("has_stamp".into(), json!(true));
    m.insert("corrected".into(), json!(variable));
    m.insert("dubious".into(), json!(false));
    m.insert("step_id_corr".into(), json!(STEP_CORR));
    m.insert("phase".into(), json!(0.0));
    // parent_candid is null for alert detections: omitted (skip_none).
    Value::Object(m)
}

fn ztf_points(sh: &Shared, o: &SkyObject) -> Vec<Point> {
    sh.sky.photometry(o, Survey::Ztf)
}

fn detections(sh: &Shared, o: &SkyObject) -> Vec<Value> {
    ztf_points(sh, o).iter().filter(|p| p.detected).map(|p| detection_json(o, p)).collect()
}

fn non_detections(sh: &Shared, o: &SkyObject) -> Vec<Value> {
    let pts = ztf_points(sh, o);
    pts.iter()
        .filter(|p| !p.detected)
        .map(|p| json!({"tid": "ztf", "mjd": jf(p.mjd), "fid": fid(p.band), "diffmaglim": jf(round(p.limit, 4))}))
        .collect()
}

fn object_item(sh: &Shared, o: &SkyObject, with_class: Option<(&str, &str, f64)>) -> Value {
    let s = sh.sky.summary(o, Survey::Ztf);
    let gmean = s.bands.iter().find(|b| b.0 == "g").map(|b| b.2);
    let rmean = s.bands.iter().find(|b| b.0 == "r").map(|b| b.2);
    let gmin = s.bands.iter().find(|b| b.0 == "g").map(|b| b.3);
    let rmin = s.bands.iter().find(|b| b.0 == "r").map(|b| b.3);
    let gr = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => jf(round(a - b, 4)),
        _ => Value::Null,
    };
    let variable = !o.kind.is_transient();
    let mut m = Map::new();
    m.insert("oid".into(), json!(o.ztf_oid));
    m.insert("ndethist".into(), json!((s.ndet + (o.seed % 7) as usize).to_string()));
    m.insert("ncovhist".into(), json!(s.ndet + s.nnondet));
    m.insert("mjdstarthist".into(), jf(s.first_mjd));
    m.insert("mjdendhist".into(), jf(s.last_mjd));
    m.insert("corrected".into(), json!(variable));
    m.insert("stellar".into(), json!(matches!(o.kind.stamp_class(), "VS")));
    m.insert("ndet".into(), json!(s.ndet));
    m.insert("g_r_max".into(), gr(gmin, rmin));
    m.insert("g_r_max_corr".into(), if variable { gr(gmin, rmin) } else { Value::Null });
    m.insert("g_r_mean".into(), gr(gmean, rmean));
    m.insert("g_r_mean_corr".into(), if variable { gr(gmean, rmean) } else { Value::Null });
    m.insert("firstmjd".into(), jf(s.first_mjd));
    m.insert("lastmjd".into(), jf(s.last_mjd));
    m.insert("deltajd".into(), jf(s.last_mjd - s.first_mjd));
    m.insert("meanra".into(), jf(round(o.ra, 7)));
    m.insert("meandec".into(), jf(round(o.dec, 7)));
    m.insert("sigmara".into(), jf(0.00012));
    m.insert("sigmadec".into(), jf(0.0001));
    if let Some((class, classifier, prob)) = with_class {
        m.insert("class".into(), json!(class));
        m.insert("classifier".into(), json!(classifier));
        m.insert("probability".into(), jf(prob));
    }
    m.insert("step_id_corr".into(), json!(STEP_CORR));
    Value::Object(m)
}

// ---------- ZTF v1 handlers ----------

const ORDER_BY: [&str; 18] = [
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

fn parse_int(q: &Pairs, k: &str, what: &str) -> Result<Option<i64>, Response> {
    match q.first(k) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| flask_400(k, format!("{what} invalid literal for int() with base 10: '{v}'"))),
    }
}

fn parse_floats(q: &Pairs, k: &str, what: &str) -> Result<Vec<f64>, Response> {
    q.all(k)
        .iter()
        .map(|v| v.parse::<f64>().map_err(|_| flask_400(k, format!("{what} could not convert string to float: '{v}'"))))
        .collect()
}

async fn ztf_list(State(sh): S, uri: Uri) -> Response {
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

async fn ztf_limit_values(State(sh): S) -> Response {
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

async fn ztf_object(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    match ztf_obj(&sh, &oid) {
        Some(o) => json(200, object_item(&sh, o, None)),
        None => ztf_not_found(uri.path()),
    }
}

async fn ztf_lightcurve(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
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

async fn ztf_detections(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    let q = Pairs::from_query(&uri);
    match (ztf_obj(&sh, &oid), q.first("survey_id").unwrap_or("ztf")) {
        (Some(o), "ztf") => json(200, Value::Array(detections(&sh, o))),
        _ => json(200, json!([])),
    }
}

async fn ztf_non_detections(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    let q = Pairs::from_query(&uri);
    match (ztf_obj(&sh, &oid), q.first("survey_id").unwrap_or("ztf")) {
        (Some(o), "ztf") => json(200, Value::Array(non_detections(&sh, o))),
        _ => json(200, json!([])),
    }
}

async fn ztf_magstats(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
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

fn probability_rows(o: &SkyObject, classifier: Option<&str>, version: Option<&str>) -> Vec<Value> {
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

async fn ztf_probabilities(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
    let q = Pairs::from_query(&uri);
    let Some(o) = ztf_obj(&sh, &oid) else { return ztf_not_found(uri.path()) };
    json(200, Value::Array(probability_rows(o, q.first("classifier"), q.first("classifier_version"))))
}

fn features(sh: &Shared, o: &SkyObject) -> Vec<Value> {
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

async fn ztf_features(State(sh): S, uri: Uri, Path(oid): Path<String>) -> Response {
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

async fn ztf_feature(State(sh): S, Path((oid, name)): Path<(String, String)>) -> Response {
    let Some(o) = ztf_obj(&sh, &oid) else { return json(200, json!([])) };
    json(200, Value::Array(features(&sh, o).into_iter().filter(|r| r["name"] == json!(name)).collect()))
}

async fn ztf_classifiers() -> Response {
    json(
        200,
        json!([
            {"classifier_name": LC_CLASSIFIER, "classifier_version": LC_VERSION, "classes": LC_CLASSES},
            {"classifier_name": STAMP_CLASSIFIER, "classifier_version": STAMP_VERSION, "classes": STAMP_CLASSES}
        ]),
    )
}

async fn ztf_classes(Path((name, version)): Path<(String, String)>) -> Response {
    let classes: &[&str] = match (name.as_str(), version.as_str()) {
        (LC_CLASSIFIER, LC_VERSION) => &LC_CLASSES,
        (STAMP_CLASSIFIER, STAMP_VERSION) => &STAMP_CLASSES,
        _ => return json(404, json!({"message": "Classifier not found"})),
    };
    json(200, Value::Array(classes.iter().map(|c| json!({"name": c})).collect()))
}

// ---------- v2 lightcurve (FastAPI) ----------

fn maybe_gzip(h: &HeaderMap, v: Value) -> Response {
    let body = v.to_string();
    if body.len() >= 1000 && accepts_gzip(h) {
        let mut r = (StatusCode::OK, gzip(body.as_bytes())).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        r
    } else {
        json(200, v)
    }
}

fn v2_check(sh: &Shared, uri: &Uri, oid: &str) -> Result<Option<&'static str>, Response> {
    let q = Pairs::from_query(uri);
    let survey = match q.first("survey_id").unwrap_or("all") {
        "all" => "all",
        "ztf" => "ztf",
        "atlas" => "atlas",
        other => {
            return Err(json(
                400,
                json!({"detail": format!("Invalid survey id '{other}'. Allowed surveys are: all, ztf, atlas")}),
            ));
        }
    };
    if sh.sky.by_ztf(oid).is_none() {
        return Err(json(404, json!({"detail": format!("Object {oid} not found on the database")})));
    }
    Ok(Some(survey))
}

async fn v2_forced(State(sh): S, h: HeaderMap, uri: Uri, Path(oid): Path<String>) -> Response {
    let survey = match v2_check(&sh, &uri, &oid) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(o) = sh.sky.by_ztf(&oid) else {
        return json(404, json!({"detail": format!("Object {oid} not found on the database")}));
    };
    if survey == Some("atlas") {
        return maybe_gzip(&h, json!([]));
    }
    let rows: Vec<Value> = ztf_points(&sh, o)
        .iter()
        .map(|p| {
            let c = candid(o, p);
            let tot = p.flux + p.ref_flux;
            json!({
                "candid": c.to_string(), "tid": "ztf", "sid": "ztf", "aid": format!("AL{}", o.seed % 100_000_000), "pid": c / 1_000_000,
                "oid": oid, "mjd": jf(p.mjd), "fid": fid(p.band), "ra": jf(o.ra), "e_ra": 0.0, "dec": jf(o.dec), "e_dec": 0.0,
                "mag": jf(round(flux_to_mag(p.flux), 5)), "e_mag": jf(round(1.0857 * p.flux_err / p.flux.abs(), 5)),
                "mag_corr": if tot > 0.0 { jf(round(flux_to_mag(tot), 5)) } else { Value::Null },
                "e_mag_corr": if tot > 0.0 { jf(round(1.0857 * p.flux_err / tot, 5)) } else { Value::Null },
                "e_mag_corr_ext": if tot > 0.0 { jf(round(1.0857 * p.flux_err / tot, 5)) } else { Value::Null },
                "isdiffpos": if p.flux >= 0.0 { 1 } else { -1 }, "corrected": !o.kind.is_transient(), "dubious": false,
                "parent_candid": null, "has_stamp": false,
                "extra_fields": {
                    "diffmaglim": jf(round(p.limit, 4)), "field": 500 + (o.seed % 300), "rcid": o.seed % 64, "rfid": 470_000_000 + (o.seed % 9_000_000),
                    "sciinpseeing": jf(round(1.5 + (p.aux % 200) as f64 / 100.0, 3)), "magzpsci": jf(round(26.0 + (p.aux % 50) as f64 / 100.0, 4)),
                    "exptime": 30.0, "programid": 1, "procstatus": "0", "distnr": jf(round((o.host_offset.0.powi(2) + o.host_offset.1.powi(2)).sqrt(), 3)),
                    "forcediffimflux": jf(round(p.flux, 3)), "forcediffimfluxunc": jf(round(p.flux_err, 3))
                }
            })
        })
        .collect();
    maybe_gzip(&h, Value::Array(rows))
}

async fn v2_detections(State(sh): S, h: HeaderMap, uri: Uri, Path(oid): Path<String>) -> Response {
    if let Err(r) = v2_check(&sh, &uri, &oid) {
        return r;
    }
    let Some(o) = sh.sky.by_ztf(&oid) else { return json(404, json!({"detail": "Not Found"})) };
    maybe_gzip(&h, Value::Array(detections(&sh, o)))
}

async fn v2_non_detections(State(sh): S, h: HeaderMap, uri: Uri, Path(oid): Path<String>) -> Response {
    if let Err(r) = v2_check(&sh, &uri, &oid) {
        return r;
    }
    let Some(o) = sh.sky.by_ztf(&oid) else { return json(404, json!({"detail": "Not Found"})) };
    maybe_gzip(&h, Value::Array(non_detections(&sh, o)))
}

async fn v2_lightcurve(State(sh): S, h: HeaderMap, uri: Uri, Path(oid): Path<String>) -> Response {
    if let Err(r) = v2_check(&sh, &uri, &oid) {
        return r;
    }
    let Some(o) = sh.sky.by_ztf(&oid) else { return json(404, json!({"detail": "Not Found"})) };
    maybe_gzip(
        &h,
        json!({"detections": detections(&sh, o), "non_detections": non_detections(&sh, o), "forced_photometry": []}),
    )
}

// ---------- multisurvey (LSST) ----------

fn missing(loc: &str, name: &str) -> Response {
    json(422, json!({"detail": [{"type": "missing", "loc": [loc, name], "msg": "Field required", "input": null}]}))
}

fn band_code(b: &str) -> u8 {
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

fn lsst_band_map() -> Value {
    json!({"6": "u", "1": "g", "2": "r", "3": "i", "4": "z", "5": "y"})
}

pub(crate) fn measurement_id(o: &SkyObject, p: &Point) -> u64 {
    (1u64 << 58) + mix(o.seed ^ (p.seq as u64).wrapping_mul(0x9E37)) % (1u64 << 58)
}

fn lsst_class(o: &SkyObject) -> (&'static str, f64) {
    top(&o.stamp_probs)
}

fn lsst_item(sh: &Shared, o: &SkyObject, oid: u64) -> Value {
    let pts = sh.sky.photometry(o, Survey::Lsst);
    let det: Vec<&Point> = pts.iter().filter(|p| p.detected).collect();
    let first = det.first().map(|p| p.mjd).unwrap_or(0.0);
    let last = det.last().map(|p| p.mjd).unwrap_or(0.0);
    let (c, p) = lsst_class(o);
    json!({"oid": oid, "tid": 1, "sid": 1, "meanra": jf(round(o.ra, 7)), "meandec": jf(round(o.dec, 7)), "sigmara": null, "sigmadec": null,
           "firstmjd": jf(first), "lastmjd": jf(last), "deltamjd": jf(last - first), "n_det": det.len(), "n_forced": pts.len(), "n_non_det": 0,
           "stellar": null, "class_name": c, "classifier_name": LSST_CLASSIFIER, "classifier_version": "1", "probability": jf(p), "ranking": 1})
}

async fn ms_list(State(sh): S, uri: Uri) -> Response {
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

async fn ms_object(State(sh): S, uri: Uri) -> Response {
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

async fn ms_lightcurve(State(sh): S, uri: Uri, Path(kind): Path<String>) -> Response {
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

async fn ms_probability(State(sh): S, uri: Uri) -> Response {
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

// ---------- stamps ----------

fn stamp_image(o: &SkyObject, p: &Point, kind: &str) -> Vec<f32> {
    let n = 63usize;
    let mut r = crate::rng::Rng::new(&[o.seed, p.seq as u64, kind.len() as u64]);
    let (src, host) = match kind {
        "template" | "cutoutTemplate" => (p.ref_flux, 1.0),
        "difference" | "cutoutDifference" => (p.flux, 0.0),
        _ => (p.flux + p.ref_flux, 1.0),
    };
    let sky = if host > 0.0 { 100.0 } else { 0.0 };
    let sigma_psf = 1.6f64;
    let (hx, hy) = (31.0 - o.host_offset.0 / 1.0, 31.0 + o.host_offset.1 / 1.0);
    let host_flux = if o.kind.is_sn() { crate::sky::mag_to_flux(o.host_mag) * host } else { 0.0 };
    let mut v = Vec::with_capacity(n * n);
    for y in 0..n {
        for x in 0..n {
            let dx = x as f64 - 31.0;
            let dy = y as f64 - 31.0;
            let psf = (-(dx * dx + dy * dy) / (2.0 * sigma_psf * sigma_psf)).exp()
                / (std::f64::consts::TAU * sigma_psf * sigma_psf);
            let gx = x as f64 - hx;
            let gy = y as f64 - hy;
            let gal = (-(gx * gx + gy * gy) / (2.0 * 16.0)).exp() / (std::f64::consts::TAU * 16.0);
            let val = sky + src * psf * 10.0 + host_flux * gal * 10.0 + r.normal() * p.flux_err.max(1.0) * 0.3;
            v.push(val as f32);
        }
    }
    v
}

fn fits_stamp(o: &SkyObject, p: &Point, kind: &str, oid: &str) -> Vec<u8> {
    let data = stamp_image(o, p, kind);
    crate::fits::image_f32(
        63,
        63,
        &data,
        &[
            ("OBJECT", crate::fits::fits_str(oid)),
            ("FILTER", crate::fits::fits_str(p.band)),
            ("MJD-OBS", format!("{:.6}", p.mjd)),
            ("ORIGIN", crate::fits::fits_str("broker-sandbox (synthetic)")),
        ],
    )
}

async fn ztf_stamp(State(sh): S, uri: Uri) -> Response {
    let q = Pairs::from_query(&uri);
    let Some(cid) = q.first("candid") else {
        return flask_400("candid", "Candid of the alert Missing required parameter in the query string".into());
    };
    let Some(kind) = q.first("type") else {
        return flask_400("type", "Stamp type Missing required parameter in the query string".into());
    };
    if !matches!(kind, "science" | "template" | "difference") {
        return flask_400("type", format!("Stamp type The value '{kind}' is not a valid choice for 'type'."));
    }
    let Some(format) = q.first("format") else {
        return flask_400("format", "Stamp file format Missing required parameter in the query string".into());
    };
    if !matches!(format, "fits" | "png") {
        return flask_400(
            "format",
            format!("Stamp file format The value '{format}' is not a valid choice for 'format'."),
        );
    }
    let not_found = || json(404, json!({"message": "AVRO not found"}));
    let Ok(cid) = cid.parse::<u64>() else { return not_found() };
    let index = (cid % 1_000_000) as usize;
    let Some(o) = sh.sky.objects.get(index) else { return not_found() };
    let Some(p) = ztf_points(&sh, o).into_iter().find(|p| p.detected && candid(o, p) == cid) else {
        return not_found();
    };
    let oid = o.ztf_oid.clone().unwrap_or_default();
    if format == "png" {
        let png = crate::fits::png_gray(63, 63, &stamp_image(o, &p, kind));
        return (StatusCode::OK, [(header::CONTENT_TYPE, "image/png")], png).into_response();
    }
    let body = gzip(&fits_stamp(o, &p, kind, &oid));
    let disp = format!("attachment; filename={oid}_{cid}_{kind}.fits.gz");
    let mut r = (StatusCode::OK, [(header::CONTENT_TYPE, "application/fits+gzip")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&disp) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

async fn ztf_avro(State(sh): S, uri: Uri) -> Response {
    let q = Pairs::from_query(&uri);
    let not_found = || json(404, json!({"message": "AVRO not found"}));
    let Some(cid) = q.first("candid").and_then(|c| c.parse::<u64>().ok()) else { return not_found() };
    let Some(o) = sh.sky.objects.get((cid % 1_000_000) as usize) else { return not_found() };
    let Some(p) = ztf_points(&sh, o).into_iter().find(|p| p.detected && candid(o, p) == cid) else {
        return not_found();
    };
    let oid = o.ztf_oid.clone().unwrap_or_default();
    let body = crate::fits::avro_alert(&oid, cid, &p, o.ra, o.dec, &gzip(&fits_stamp(o, &p, "science", &oid)));
    (StatusCode::OK, [(header::CONTENT_TYPE, "app/avro+binary")], body).into_response()
}

async fn ms_stamp(State(sh): S, uri: Uri) -> Response {
    let q = Pairs::from_query(&uri);
    let survey = q.first("survey_id").unwrap_or("lsst");
    if survey != "lsst" {
        return json(400, json!({"detail": format!("Invalid survey_id '{survey}'")}));
    }
    let Some(mid) = q.first("measurement_id") else { return missing("query", "measurement_id") };
    let kind = q.first("stamp_type").unwrap_or("cutoutScience");
    if !matches!(kind, "cutoutScience" | "cutoutTemplate" | "cutoutDifference") {
        return canned::text(500, "text/plain; charset=utf-8", "Internal Server Error".into());
    }
    let format = q.first("file_format").unwrap_or("fits");
    let compressed = q.first("is_compressed").and_then(parse_bool).unwrap_or(true);
    let mid: u64 = mid.parse().unwrap_or(0);
    let candidates: Vec<&SkyObject> =
        match q.first("oid").and_then(|v| v.parse::<u64>().ok()).and_then(|id| sh.sky.by_lsst(id)) {
            Some(o) => vec![o],
            None => sh.sky.objects.iter().filter(|o| o.lsst_oid.is_some()).collect(),
        };
    for o in candidates {
        if let Some(p) = sh.sky.photometry(o, Survey::Lsst).into_iter().find(|p| measurement_id(o, p) == mid) {
            let name = o.lsst_oid.unwrap_or(0).to_string();
            if format == "png" {
                return (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "image/png")],
                    crate::fits::png_gray(63, 63, &stamp_image(o, &p, kind)),
                )
                    .into_response();
            }
            let fits = fits_stamp(o, &p, kind, &name);
            return if compressed {
                (StatusCode::OK, [(header::CONTENT_TYPE, "application/gzip")], gzip(&fits)).into_response()
            } else {
                (StatusCode::OK, [(header::CONTENT_TYPE, "application/fits")], fits).into_response()
            };
        }
    }
    json(404, json!({"detail": "Stamp not found"}))
}

async fn ms_avro(State(sh): S, uri: Uri) -> Response {
    let q = Pairs::from_query(&uri);
    let Some(mid) = q.first("measurement_id").and_then(|v| v.parse::<u64>().ok()) else {
        return missing("query", "measurement_id");
    };
    for o in sh.sky.objects.iter().filter(|o| o.lsst_oid.is_some()) {
        if let Some(p) = sh.sky.photometry(o, Survey::Lsst).into_iter().find(|p| measurement_id(o, p) == mid) {
            return json(
                200,
                json!({"diaSourceId": mid, "diaObjectId": o.lsst_oid, "midpointMjdTai": jf(p.mjd), "band": p.band, "ra": jf(o.ra), "dec": jf(o.dec),
                       "psfFlux": jf(p.flux * 1000.0), "psfFluxErr": jf(p.flux_err * 1000.0)}),
            );
        }
    }
    json(404, json!({"detail": "Avro not found"}))
}

// ---------- catsHTM ----------

/// (request id, legacy display name, columns)
const CATALOGS: [(&str, &str); 4] =
    [("GAIADR2", "GAIA/DR2"), ("TMASS", "2MASS"), ("NEDz", "NEDz"), ("SDSSDR10", "SDSS/DR10")];

struct CatRow {
    cols: Vec<(&'static str, &'static str, Value)>,
    dist: f64,
}

fn catalog_rows(sh: &Shared, cat: &str, ra: f64, dec: f64, radius: f64) -> Vec<CatRow> {
    let mut out = Vec::new();
    for (o, _) in sh.sky.cone(ra, dec, radius + 10.0) {
        let galaxy = o.kind.is_sn() || matches!(o.kind.stamp_class(), "AGN");
        let (cra, cdec) =
            (o.ra - o.host_offset.0 / 3600.0 / o.dec.to_radians().cos().max(0.01), o.dec - o.host_offset.1 / 3600.0);
        let dist = separation_arcsec(ra, dec, cra, cdec);
        if dist > radius {
            continue;
        }
        let base = |m: f64| {
            vec![("RA", "deg", jf(round(cra, 7))), ("Dec", "deg", jf(round(cdec, 7))), ("Mag", "mag", jf(round(m, 3)))]
        };
        let cols = match cat {
            "GAIADR2" if !galaxy || matches!(o.kind.stamp_class(), "AGN") => {
                let m = if galaxy { o.mean_mag.max(o.host_mag) } else { o.mean_mag };
                let mut c = base(m);
                c[2].0 = "Mag_G";
                c.push(("Plx", "mas", jf(round(if galaxy { 0.0 } else { 0.3 + (o.seed % 300) as f64 / 100.0 }, 3))));
                c
            }
            "TMASS" => {
                let m = if galaxy { o.host_mag - 1.8 } else { o.mean_mag - 1.2 };
                let mut c = base(m);
                c[2].0 = "Mag_J";
                c.push(("Mag_H", "mag", jf(round(m - 0.5, 3))));
                c.push(("Mag_K", "mag", jf(round(m - 0.7, 3))));
                c
            }
            "NEDz" if galaxy && o.redshift.is_some() => {
                let mut c = base(o.host_mag);
                c.truncate(2);
                c.push(("z", " ", o.redshift.map(jf).unwrap_or(Value::Null)));
                c.push(("zErr", " ", jf(0.0001)));
                c
            }
            "SDSSDR10" if galaxy => {
                let mut c = base(o.host_mag);
                c[2].0 = "modelMag_r";
                c.push(("modelMag_g", "mag", jf(round(o.host_mag + 0.6, 3))));
                c
            }
            _ => continue,
        };
        out.push(CatRow { cols, dist });
    }
    out.sort_by(|a, b| a.dist.total_cmp(&b.dist));
    out
}

fn cats_params(q: &Pairs) -> Result<(String, f64, f64, f64), Response> {
    let f = |k: &str| q.first(k).and_then(|v| v.parse::<f64>().ok());
    let cat = q.first("catalog").unwrap_or("all").to_string();
    match (f("ra"), f("dec")) {
        (Some(ra), Some(dec)) => Ok((cat, ra, dec, f("radius").unwrap_or(10.0))),
        _ => Err(missing("query", "ra")),
    }
}

fn display(cat: &str) -> Option<&'static str> {
    CATALOGS.iter().find(|c| c.0 == cat).map(|c| c.1)
}

fn cone_legacy(rows: &[CatRow]) -> Value {
    let mut m = Map::new();
    if let Some(first) = rows.first() {
        for (i, (name, unit, _)) in first.cols.iter().enumerate() {
            let values: Vec<Value> =
                rows.iter().map(|r| r.cols.get(i).map(|c| c.2.clone()).unwrap_or(Value::Null)).collect();
            m.insert((*name).into(), json!({"units": unit, "values": values}));
        }
    }
    Value::Object(m)
}

fn cone_current(rows: &[CatRow]) -> Value {
    let Some(first) = rows.first() else { return json!([]) };
    Value::Array(
        first
            .cols
            .iter()
            .enumerate()
            .map(|(i, (name, unit, _))| {
                json!({"attribute_name": name, "unit": unit, "values": rows.iter().map(|r| r.cols.get(i).map(|c| c.2.clone()).unwrap_or(Value::Null)).collect::<Vec<_>>()})
            })
            .collect(),
    )
}

fn xmatch_legacy(r: &CatRow) -> Value {
    let mut m = Map::new();
    for (name, unit, v) in &r.cols {
        m.insert((*name).into(), json!({"unit": unit, "value": v}));
    }
    m.insert("distance".into(), json!({"unit": "arcsec", "value": jf(r.dist)}));
    Value::Object(m)
}

fn xmatch_current(r: &CatRow) -> Value {
    let mut v: Vec<Value> =
        r.cols.iter().map(|(n, u, x)| json!({"attribute_name": n, "unit": u, "value": x})).collect();
    v.push(json!({"attribute_name": "distance", "unit": "arcsec", "value": jf(r.dist)}));
    Value::Array(v)
}

fn unknown_catalog(cat: &str) -> Response {
    json(400, json!({"detail": format!("Catalog {cat} not available")}))
}

async fn cats_cone(State(sh): S, uri: Uri) -> Response {
    let (cat, ra, dec, radius) = match cats_params(&Pairs::from_query(&uri)) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(name) = display(&cat) else { return unknown_catalog(&cat) };
    let rows = catalog_rows(&sh, &cat, ra, dec, radius);
    match sh.config.catshtm_format {
        CatsHtmFormat::Legacy if rows.is_empty() => json(200, json!({})),
        CatsHtmFormat::Legacy => json(200, json!({ name: cone_legacy(&rows) })),
        CatsHtmFormat::Current => json(200, cone_current(&rows)),
    }
}

async fn cats_cone_all(State(sh): S, uri: Uri) -> Response {
    let (_, ra, dec, radius) = match cats_params(&Pairs::from_query(&uri)) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut legacy = Vec::new();
    let mut current = Map::new();
    for (id, name) in CATALOGS {
        let rows = catalog_rows(&sh, id, ra, dec, radius);
        if rows.is_empty() {
            continue;
        }
        legacy.push(json!({ name: cone_legacy(&rows) }));
        current.insert(id.into(), cone_current(&rows));
    }
    match sh.config.catshtm_format {
        CatsHtmFormat::Legacy => json(200, json!({"catalogs": legacy})),
        CatsHtmFormat::Current => json(200, Value::Object(current)),
    }
}

async fn cats_xmatch(State(sh): S, uri: Uri) -> Response {
    let (cat, ra, dec, radius) = match cats_params(&Pairs::from_query(&uri)) {
        Ok(p) => p,
        Err(r) => return r,
    };
    if display(&cat).is_none() {
        return unknown_catalog(&cat);
    }
    let rows = catalog_rows(&sh, &cat, ra, dec, radius);
    match (rows.first(), sh.config.catshtm_format) {
        (None, CatsHtmFormat::Legacy) => json(200, json!({})),
        (None, CatsHtmFormat::Current) => json(200, json!([])),
        (Some(r), CatsHtmFormat::Legacy) => json(200, xmatch_legacy(r)),
        (Some(r), CatsHtmFormat::Current) => json(200, xmatch_current(r)),
    }
}

async fn cats_xmatch_all(State(sh): S, uri: Uri) -> Response {
    let (_, ra, dec, radius) = match cats_params(&Pairs::from_query(&uri)) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut legacy = Vec::new();
    let mut current = Map::new();
    for (id, name) in CATALOGS {
        if let Some(r) = catalog_rows(&sh, id, ra, dec, radius).first() {
            legacy.push(json!({ name: xmatch_legacy(r) }));
            current.insert(id.into(), xmatch_current(r));
        }
    }
    match sh.config.catshtm_format {
        CatsHtmFormat::Legacy => json(200, Value::Array(legacy)),
        CatsHtmFormat::Current => json(200, Value::Object(current)),
    }
}
