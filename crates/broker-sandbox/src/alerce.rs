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

mod catshtm;
mod multisurvey;
mod stamps;
mod v2;
mod ztf;

use catshtm::*;
use multisurvey::*;
use stamps::*;
use v2::*;
use ztf::*;

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
