//! Stamps (FITS cutouts) and avro for ZTF and the multisurvey API.

use super::*;

pub(super) fn stamp_image(o: &SkyObject, p: &Point, kind: &str) -> Vec<f32> {
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

pub(super) fn fits_stamp(o: &SkyObject, p: &Point, kind: &str, oid: &str) -> Vec<u8> {
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

pub(super) async fn ztf_stamp(State(sh): S, uri: Uri) -> Response {
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

pub(super) async fn ztf_avro(State(sh): S, uri: Uri) -> Response {
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

pub(super) async fn ms_stamp(State(sh): S, uri: Uri) -> Response {
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

pub(super) async fn ms_avro(State(sh): S, uri: Uri) -> Response {
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
