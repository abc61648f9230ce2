//! The v2 light-curve service (FastAPI): forced photometry, detections, non-detections and light curves by survey.

use super::*;

pub(super) fn maybe_gzip(h: &HeaderMap, v: Value) -> Response {
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

pub(super) fn v2_check(sh: &Shared, uri: &Uri, oid: &str) -> Result<Option<&'static str>, Response> {
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

pub(super) async fn v2_forced(State(sh): S, h: HeaderMap, uri: Uri, Path(oid): Path<String>) -> Response {
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

pub(super) async fn v2_detections(State(sh): S, h: HeaderMap, uri: Uri, Path(oid): Path<String>) -> Response {
    if let Err(r) = v2_check(&sh, &uri, &oid) {
        return r;
    }
    let Some(o) = sh.sky.by_ztf(&oid) else { return json(404, json!({"detail": "Not Found"})) };
    maybe_gzip(&h, Value::Array(detections(&sh, o)))
}

pub(super) async fn v2_non_detections(State(sh): S, h: HeaderMap, uri: Uri, Path(oid): Path<String>) -> Response {
    if let Err(r) = v2_check(&sh, &uri, &oid) {
        return r;
    }
    let Some(o) = sh.sky.by_ztf(&oid) else { return json(404, json!({"detail": "Not Found"})) };
    maybe_gzip(&h, Value::Array(non_detections(&sh, o)))
}

pub(super) async fn v2_lightcurve(State(sh): S, h: HeaderMap, uri: Uri, Path(oid): Path<String>) -> Response {
    if let Err(r) = v2_check(&sh, &uri, &oid) {
        return r;
    }
    let Some(o) = sh.sky.by_ztf(&oid) else { return json(404, json!({"detail": "Not Found"})) };
    maybe_gzip(
        &h,
        json!({"detections": detections(&sh, o), "non_detections": non_detections(&sh, o), "forced_photometry": []}),
    )
}
