//! Fink REST API emulator (ZTF under `/ztf/api/v1/...`, LSST under `/lsst/api/v1/...`),
//! written from the API notes (`other-brokers.md` §1) and the server's source
//! (astrolabsoftware/fink-object-api `apps/routes/v1/{ztf,lsst}/*`), never from a client.
//!
//! What it does like the server: every route takes `POST` with a JSON body, or `GET` with a
//! query string (forwarded to the POST handler); a `GET` without arguments answers the
//! route's description as text (the LSST `tags` route lists the tags instead); a missing
//! required argument is a 400 whose body is a Python repr (`{'status': 'error', 'text':
//! '...'}`); rows are flat maps of prefixed columns (`i:`/`d:`/`v:` ZTF, `r:`/`f:`/`v:`
//! LSST), sorted newest first; LSST ids are 64-bit JSON integers; `withupperlim` adds
//! `upperlim` rows whose numbers are text (the upper-limit tables are read back through a
//! Gson dump) and `candid = -1`; `latests`/`tags` give the newest `n` (default 10 in the
//! code) in a `startdate`/`stopdate` window read as ISO text; cone radius at most 18,000
//! arcsec; `columns` keeps only the named columns (unknown ones ignored).
//!
//! Not emulated: `output-format` parquet and votable (400; json and csv are served), `sso`,
//! `resolver`, `fp` beyond the synthetic forced photometry, `skymap`, `statistics`,
//! `anomaly`, `tracklet`, and cutout pixels (a PNG signature or a FITS header only).

use crate::middleware::canned;
use crate::sky::{Sky, SkyObject, Survey, flux_to_mag};
use crate::state::Shared;
use crate::util::{Pairs, jf};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::any;
use serde_json::{Map, Value, json};
use std::sync::Arc;

type Row = Map<String, Value>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().route("/{survey}/api/v1/{route}", any(handle)).with_state(shared)
}

/// The Fink class of a synthetic object (names from fink-object-api `assets/fink_types.csv`
/// and SIMBAD cross-match labels).
pub(crate) fn fink_class(o: &SkyObject) -> &'static str {
    use crate::sky::Kind;
    match o.kind {
        Kind::SNIa | Kind::SNII | Kind::SNIbc => "SN candidate",
        Kind::SLSN => "SLSN candidate",
        Kind::CVNova => "Ambiguous",
        Kind::AGN => "(SIMBAD) AGN",
        Kind::QSO => "(SIMBAD) QSO",
        Kind::RRL => "(SIMBAD) RRLyr",
        Kind::E => "(SIMBAD) EB*",
        Kind::LPV => "(SIMBAD) LPV*",
    }
}

/// Synthetic LSST tags (the real list comes from fink-filters; these are the sandbox's).
type Tag = (&'static str, &'static str, fn(&SkyObject) -> bool);
const TAGS: [Tag; 2] = [
    ("sandbox_sn_like", "Synthetic: supernova-like transients", |o| o.kind.is_sn()),
    ("sandbox_variable", "Synthetic: periodic and stochastic variables", |o| !o.kind.is_transient()),
];

fn repr_error(text: &str) -> Response {
    // Python `str({'status': 'error', 'text': '...'})`.
    let q = if text.contains('\'') { '"' } else { '\'' };
    canned::text(
        400,
        "text/html; charset=utf-8",
        format!("{{'status': 'error', 'text': {q}{}{q}}}", text.replace('\n', "\\n")),
    )
}

fn required(args: &Row, names: &[&str]) -> Result<(), Response> {
    for n in names {
        if !args.contains_key(*n) {
            return Err(repr_error(&format!("A value for `{n}` is required. See https://api.ztf.fink-portal.org \n")));
        }
    }
    Ok(())
}

fn s(args: &Row, k: &str) -> Option<String> {
    match args.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn num(args: &Row, k: &str) -> Option<f64> {
    s(args, k).and_then(|v| v.trim().parse().ok())
}

/// astropy `Time(text)` for ISO text, as MJD.
fn iso_mjd(t: &str) -> Option<f64> {
    let t = t.trim();
    let dt = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
        .or_else(|| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))?;
    let ms = dt.and_utc().timestamp_millis() as f64;
    Some(ms / 86_400_000.0 + 40587.0)
}

/// `isoify_time`: ISO, JD or MJD text.
fn any_time_mjd(t: &str) -> Option<f64> {
    iso_mjd(t).or_else(|| {
        let f: f64 = t.trim().parse().ok()?;
        Some(if f >= 2_400_000.0 { f - 2_400_000.5 } else { f })
    })
}

fn ztf_fid(band: &str) -> i64 {
    match band {
        "g" => 1,
        "r" => 2,
        _ => 3,
    }
}

fn candid(o: &SkyObject, seq: usize) -> i64 {
    // 19 digits like ZTF candids, unique per object and point.
    1_000_000_000_000_000_000 + ((o.seed % 1_000_000_000) as i64) * 1_000_000 + seq as i64
}

fn ztf_rows(sky: &Sky, o: &SkyObject, with_upper: bool) -> Vec<Row> {
    let Some(oid) = o.ztf_oid.as_deref() else { return Vec::new() };
    let pts = sky.photometry(o, Survey::Ztf);
    let mut last_mag: [Option<(f64, f64)>; 3] = [None, None, None];
    let mut rows = Vec::new();
    for p in &pts {
        let jd = p.mjd + 2_400_000.5;
        let fid = ztf_fid(p.band);
        if p.detected && p.flux > 0.0 {
            let mag = flux_to_mag(p.flux);
            let sig = 1.085_736 * p.flux_err / p.flux;
            let slot = (fid - 1) as usize;
            let rate = last_mag[slot].map(|(m0, t0)| if p.mjd > t0 { (mag - m0) / (p.mjd - t0) } else { 0.0 });
            last_mag[slot] = Some((mag, p.mjd));
            let mut r = Row::new();
            r.insert("i:objectId".into(), json!(oid));
            r.insert("i:candid".into(), json!(candid(o, p.seq)));
            r.insert("i:jd".into(), jf(jd));
            r.insert("i:fid".into(), json!(fid));
            r.insert("i:magpsf".into(), jf(crate::sky::round(mag, 4)));
            r.insert("i:sigmapsf".into(), jf(crate::sky::round(sig, 4)));
            r.insert("i:diffmaglim".into(), jf(crate::sky::round(p.limit, 3)));
            r.insert("i:ra".into(), jf(o.ra));
            r.insert("i:dec".into(), jf(o.dec));
            r.insert("d:mag_rate".into(), rate.map(jf).unwrap_or(Value::Null));
            r.insert("v:classification".into(), json!(fink_class(o).trim_start_matches("(SIMBAD) ")));
            if with_upper {
                r.insert("d:tag".into(), json!("valid"));
            }
            rows.push(r);
        } else if with_upper {
            // Upper-limit rows come back from HBase as text (Gson dump), candid set to -1.
            let mut r = Row::new();
            r.insert("i:objectId".into(), json!(oid));
            r.insert("i:candid".into(), json!(-1));
            r.insert("i:jd".into(), json!(format!("{jd}")));
            r.insert("i:fid".into(), json!(fid.to_string()));
            r.insert("i:diffmaglim".into(), json!(format!("{:.3}", p.limit)));
            r.insert("i:magpsf".into(), Value::Null);
            r.insert("d:tag".into(), json!("upperlim"));
            rows.push(r);
        }
    }
    rows.sort_by(|a, b| jd_of(b).total_cmp(&jd_of(a)));
    rows
}

fn jd_of(r: &Row) -> f64 {
    r.get("i:jd").and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))).unwrap_or(0.0)
}

fn mjd_of(r: &Row) -> f64 {
    r.get("r:midpointMjdTai").and_then(Value::as_f64).unwrap_or(0.0)
}

fn lsst_rows(sky: &Sky, o: &SkyObject, forced: bool) -> Vec<Row> {
    let Some(oid) = o.lsst_oid else { return Vec::new() };
    let oid = oid as i64;
    let mut rows: Vec<Row> = sky
        .photometry(o, Survey::Lsst)
        .iter()
        .filter(|p| forced || p.detected)
        .map(|p| {
            let mut r = Row::new();
            r.insert("r:diaObjectId".into(), json!(oid));
            let id_key = if forced { "r:diaForcedSourceId" } else { "r:diaSourceId" };
            r.insert(id_key.into(), json!(oid.wrapping_add(p.seq as i64 + 1)));
            r.insert("r:midpointMjdTai".into(), jf(p.mjd));
            r.insert("r:band".into(), json!(p.band));
            // Sky fluxes are µJy; Rubin's are nJy.
            r.insert("r:psfFlux".into(), jf(crate::sky::round(p.flux * 1000.0, 3)));
            r.insert("r:psfFluxErr".into(), jf(crate::sky::round(p.flux_err * 1000.0, 3)));
            r.insert("r:ra".into(), jf(o.ra));
            r.insert("r:dec".into(), jf(o.dec));
            if !forced {
                r.insert("r:snr".into(), jf(crate::sky::round(p.snr(), 2)));
                r.insert("f:firstDiaSourceMjdTaiFink".into(), jf(sky.summary(o, Survey::Lsst).first_mjd));
            }
            r
        })
        .collect();
    rows.sort_by(|a, b| mjd_of(b).total_cmp(&mjd_of(a)));
    rows
}

fn lsst_object_row(sky: &Sky, o: &SkyObject) -> Option<Row> {
    let oid = o.lsst_oid? as i64;
    let sum = sky.summary(o, Survey::Lsst);
    let mut r = Row::new();
    r.insert("r:diaObjectId".into(), json!(oid));
    r.insert("r:ra".into(), jf(o.ra));
    r.insert("r:dec".into(), jf(o.dec));
    r.insert("r:nDiaSources".into(), json!(sum.ndet));
    r.insert("r:firstDiaSourceMjdTai".into(), jf(sum.first_mjd));
    r.insert("r:lastDiaSourceMjdTai".into(), jf(sum.last_mjd));
    Some(r)
}

/// `columns`: keep only the named ones (unknown names are silently ignored, as HBase does).
fn select(rows: Vec<Row>, args: &Row) -> Vec<Row> {
    let Some(cols) = s(args, "columns") else { return rows };
    let want: Vec<String> = cols.replace(' ', "").split(',').map(str::to_string).collect();
    rows.into_iter().map(|r| r.into_iter().filter(|(k, _)| want.iter().any(|w| w == k)).collect()).collect()
}

fn send_rows(rows: Vec<Row>, args: &Row) -> Response {
    let rows = select(rows, args);
    match s(args, "output-format").as_deref().unwrap_or("json") {
        "json" => canned::json(200, Value::Array(rows.into_iter().map(Value::Object).collect())),
        "csv" => {
            let mut cols: Vec<String> = Vec::new();
            for r in &rows {
                for k in r.keys() {
                    if !cols.contains(k) {
                        cols.push(k.clone());
                    }
                }
            }
            let mut out = cols.join(",");
            out.push('\n');
            for r in &rows {
                let line: Vec<String> = cols
                    .iter()
                    .map(|c| match r.get(c) {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                    })
                    .collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
            canned::text(200, "application/csv", out)
        }
        other => repr_error(&format!("output-format {other} is not emulated by the sandbox: use json or csv")),
    }
}

fn ids(args: &Row, key: &str) -> Vec<String> {
    s(args, key).map(|v| v.split(',').map(|i| i.trim().to_string()).collect()).unwrap_or_default()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((survey, route)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    _headers: HeaderMap,
    body: Bytes,
) -> Response {
    let args: Row = if method == Method::GET {
        Pairs::from_query(&uri).0.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
    } else if method == Method::POST {
        if body.is_empty() {
            Row::new()
        } else {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(m)) => m,
                _ => {
                    return canned::text(
                        400,
                        "text/html",
                        "<!doctype html>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n<p>The browser (or proxy) sent a request that this server could not understand.</p>\n".into(),
                    );
                }
            }
        }
    } else {
        return canned::text(405, "text/html", "<h1>Method Not Allowed</h1>".into());
    };
    let sky = &shared.sky;
    match (survey.as_str(), route.as_str()) {
        ("ztf", "classes") => canned::json(
            200,
            json!({
                "Fink classifiers": ["Ambiguous", "Early SN Ia candidate", "Kilonova candidate", "SLSN candidate", "SN candidate"],
                "Cross-match with TNS": ["(TNS) SN Ia", "(TNS) SN II"],
                "Cross-match with SIMBAD (see http://simbad.u-strasbg.fr/simbad/sim-display?data=otypes)":
                    ["(SIMBAD) AGN", "(SIMBAD) EB*", "(SIMBAD) LPV*", "(SIMBAD) QSO", "(SIMBAD) RRLyr"],
            }),
        ),
        ("ztf", "schema") => canned::json(
            200,
            json!({
                "ZTF original fields (i:)": {"jd": {"type": "double", "doc": "Observation Julian date at start of exposure [days]"},
                    "magpsf": {"type": "float", "doc": "Magnitude from PSF-fit photometry [mag]"}},
                "Fink science module outputs (d:)": {"tag": {"type": "string", "doc": "Quality tag among `valid`, `badquality`, and `upper`."}},
                "Fink on-the-fly added values (v:)": {"classification": {"type": "string", "doc": "Fink inferred classification."}},
            }),
        ),
        ("lsst", "tags") if method == Method::GET && args.is_empty() => {
            let out: Map<String, Value> =
                TAGS.iter().map(|(t, d, _)| (t.to_string(), json!({"description": d, "API support": true}))).collect();
            canned::json(200, Value::Object(out))
        }
        (_, _) if method == Method::GET && args.is_empty() => {
            canned::text(200, "text/html; charset=utf-8", format!("Fink {survey} sandbox: api/v1/{route}"))
        }
        ("ztf", "objects") => {
            if let Err(e) = required(&args, &["objectId"]) {
                return e;
            }
            let with_upper = s(&args, "withupperlim").as_deref() == Some("True")
                || args.get("withupperlim") == Some(&Value::Bool(true));
            let mut rows = Vec::new();
            for id in ids(&args, "objectId") {
                if let Some(o) = sky.by_ztf(&id) {
                    rows.extend(ztf_rows(sky, o, with_upper));
                }
            }
            send_rows(rows, &args)
        }
        ("ztf", "latests") => {
            if let Err(e) = required(&args, &["class"]) {
                return e;
            }
            let class = s(&args, "class").unwrap_or_default();
            let trend = s(&args, "trend");
            if let Some(t) = trend.as_deref() {
                if !["rising", "fading", "low_state", "new_low_state"].contains(&t) {
                    return canned::text(
                        400,
                        "text/html; charset=utf-8",
                        format!(
                            "\n        {t} is not a valid trend.\n        Trend must be among: rising, fading, low_state, new_low_state\n        "
                        ),
                    );
                }
            }
            let n = num(&args, "n").map(|v| v as usize).unwrap_or(10);
            let start = s(&args, "startdate").and_then(|t| iso_mjd(&t)).unwrap_or(58788.0);
            let stop = s(&args, "stopdate").and_then(|t| iso_mjd(&t)).unwrap_or(f64::MAX);
            let mut rows: Vec<Row> = sky
                .objects
                .iter()
                .filter(|o| fink_class(o) == class)
                .flat_map(|o| ztf_rows(sky, o, false))
                .filter(|r| {
                    let m = jd_of(r) - 2_400_000.5;
                    m >= start && m <= stop
                })
                .collect();
            rows.sort_by(|a, b| jd_of(b).total_cmp(&jd_of(a)));
            rows.truncate(n);
            // The trend filter runs after the limit, as on the server.
            let rate = |r: &Row| r.get("d:mag_rate").and_then(Value::as_f64);
            match trend.as_deref() {
                Some("rising") => rows.retain(|r| rate(r).is_some_and(|x| x < 0.0)),
                Some("fading") => rows.retain(|r| rate(r).is_some_and(|x| x > 0.0)),
                _ => {}
            }
            send_rows(rows, &args)
        }
        (_, "conesearch") => {
            if let Err(e) = required(&args, &["ra", "dec", "radius"]) {
                return e;
            }
            let (Some(ra), Some(dec), Some(radius)) = (num(&args, "ra"), num(&args, "dec"), num(&args, "radius"))
            else {
                return repr_error("could not read ra, dec and radius as numbers");
            };
            if radius > 18000.0 {
                return repr_error("`radius` cannot be bigger than 18,000 arcseconds (5 degrees).\n");
            }
            let lsst = survey == "lsst";
            if lsst && (args.contains_key("startdate") || args.contains_key("stopdate")) {
                if let Some(c) = s(&args, "columns") {
                    if !c.contains("f:firstDiaSourceMjdTaiFink") {
                        return repr_error(
                            "You need to specify f:firstDiaSourceMjdTaiFink in the columns to filter on dates.\n",
                        );
                    }
                }
            }
            let n = num(&args, "n").map(|v| v as usize).unwrap_or(1000);
            let start = s(&args, "startdate").and_then(|t| any_time_mjd(&t));
            let stop =
                s(&args, "stopdate").and_then(|t| any_time_mjd(&t)).or_else(|| Some(start? + num(&args, "window")?));
            let mut rows = Vec::new();
            for (o, sep) in sky.cone(ra, dec, radius) {
                // Grouped by object: the latest alert of each.
                let latest = if lsst { lsst_rows(sky, o, false) } else { ztf_rows(sky, o, false) };
                let Some(mut r) = latest.into_iter().next() else { continue };
                let first =
                    if lsst { sky.summary(o, Survey::Lsst).first_mjd } else { sky.summary(o, Survey::Ztf).first_mjd };
                if start.is_some_and(|s| first < s) || stop.is_some_and(|s| first > s) {
                    continue;
                }
                r.insert("v:separation_degree".into(), jf(sep / 3600.0));
                rows.push(r);
                if rows.len() >= n {
                    break;
                }
            }
            send_rows(rows, &args)
        }
        ("lsst", "sources") | ("lsst", "fp") => {
            if let Err(e) = required(&args, &["diaObjectId"]) {
                return e;
            }
            let forced = route == "fp";
            let at = num(&args, "midpointMjdTai");
            let mut rows = Vec::new();
            for id in ids(&args, "diaObjectId") {
                if let Some(o) = id.parse::<u64>().ok().and_then(|i| sky.by_lsst(i)) {
                    rows.extend(lsst_rows(sky, o, forced));
                }
            }
            if let Some(t) = at {
                rows.retain(|r| (mjd_of(r) - t).abs() < 1e-9);
            }
            send_rows(rows, &args)
        }
        ("lsst", "objects") => {
            if let Err(e) = required(&args, &["diaObjectId"]) {
                return e;
            }
            let rows = ids(&args, "diaObjectId")
                .iter()
                .filter_map(|id| id.parse::<u64>().ok().and_then(|i| sky.by_lsst(i)))
                .filter_map(|o| lsst_object_row(sky, o))
                .collect();
            send_rows(rows, &args)
        }
        ("lsst", "tags") => {
            if let Err(e) = required(&args, &["tag"]) {
                return e;
            }
            let tag = s(&args, "tag").unwrap_or_default();
            let Some((_, _, pick)) = TAGS.iter().find(|(t, _, _)| *t == tag) else {
                let names: Vec<&str> = TAGS.iter().map(|t| t.0).collect();
                return canned::text(
                    400,
                    "text/html; charset=utf-8",
                    format!(
                        "\n        {tag} is not a valid tag. Here is the list of tags:\n        {names:?}\n        And you can always retrieve available tags at https://api.lsst.fink-portal.org/api/v1/tags\n        "
                    ),
                );
            };
            let n = num(&args, "n").map(|v| v as usize).unwrap_or(10);
            let start = s(&args, "startdate").and_then(|t| iso_mjd(&t)).unwrap_or(58788.0);
            let stop = s(&args, "stopdate").and_then(|t| iso_mjd(&t)).unwrap_or(f64::MAX);
            let mut rows: Vec<Row> = sky
                .objects
                .iter()
                .filter(|o| pick(o))
                .flat_map(|o| lsst_rows(sky, o, false))
                .filter(|r| mjd_of(r) >= start && mjd_of(r) <= stop)
                .collect();
            rows.sort_by(|a, b| mjd_of(b).total_cmp(&mjd_of(a)));
            rows.truncate(n);
            send_rows(rows, &args)
        }
        ("lsst", "schema") => {
            if let Err(e) = required(&args, &["endpoint"]) {
                return e;
            }
            canned::json(
                200,
                json!({"Rubin original fields (r:)": {"midpointMjdTai": {"type": "double", "doc": "Effective mid-visit time for this diaSource, expressed as Modified Julian Date, International Atomic Time."},
                    "psfFlux": {"type": ["null", "float"], "doc": "Flux derived from linear least-squares fit of PSF model. [nJy]"}}}),
            )
        }
        (_, "cutouts") => {
            let key = if survey == "lsst" { "diaSourceId" } else { "objectId" };
            if let Err(e) = required(&args, &[key, "kind"]) {
                return e;
            }
            match s(&args, "output-format").as_deref().unwrap_or("PNG") {
                "PNG" => canned::text(200, "image/png", String::new()).map(|_| {
                    axum::body::Body::from(
                        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x00\x00\x00\x00".to_vec(),
                    )
                }),
                "FITS" => {
                    let mut h = String::new();
                    for card in [
                        "SIMPLE  =                    T",
                        "BITPIX  =                  -32",
                        "NAXIS   =                    0",
                        "END",
                    ] {
                        h.push_str(&format!("{card:<80}"));
                    }
                    canned::text(200, "application/octet-stream", format!("{h:<2880}"))
                }
                _ => repr_error("output-format must be one of: PNG, FITS, or array.\n"),
            }
        }
        _ => canned::json(
            404,
            json!({"message": "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."}),
        ),
    }
}
