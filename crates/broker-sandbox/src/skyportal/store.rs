//! SkyPortal resources beyond sources and photometry: spectra, classifications, comments,
//! annotations, streams, filters, telescopes, taxonomies, allocations, observing-run
//! assignments, follow-up requests, galaxies, GCN events and localizations, candidates,
//! `source_groups` and `source_exists`.
//!
//! Written from `shared/api/skyportal.md` (§2.3–2.12, §4.2) and the OpenAPI excerpt; messages
//! and status codes follow the handlers they describe (`handlers/api/*.py`).

use super::{Sp, auth, body_json, err, groups_json, method_not_allowed, obj_id, ok, page_params};
use crate::clock::iso_of_mjd;
use crate::rng::Rng;
use crate::sky::{Kind, SkyObject, mag_to_flux, round, separation_arcsec};
use crate::util::{Pairs, jf, parse_bool};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

type Obj = Map<String, Value>;
/// Wavelengths, fluxes and optional errors of a spectrum.
type Arrays = (Vec<f64>, Vec<f64>, Option<Vec<f64>>);

/// Admin user (the `provisioned_admin` of `.tokens.yaml`); every accepted write is authored by it.
const ADMIN_ID: i64 = 1;
const ADMIN_NAME: &str = "provisioned_admin";
/// Instrument id of the synthetic spectrograph (SEDM on the P60).
pub(super) const SPECTROGRAPH: i64 = 4;
const MAX_COMMENTS: usize = 1000;
const MAX_FOLLOWUP: usize = 1000;
const MAX_GCNEVENTS: usize = 1000;
const MAX_GALAXIES: usize = 10_000;
const MAX_CLASSIFICATIONS: usize = 500;
const SPECTRUM_UNITS: [&str; 3] = ["Jy", "AB", "erg/s/cm/cm/AA"];
const SPECTRUM_TYPES: [&str; 3] = ["source", "host", "host_center"];

/// Rows of one table, keyed by integer id.
#[derive(Debug, Default)]
struct Table {
    rows: BTreeMap<i64, Obj>,
    next: i64,
}

impl Table {
    fn insert(&mut self, mut row: Obj) -> i64 {
        self.next += 1;
        let id = self.next;
        row.insert("id".into(), json!(id));
        self.rows.insert(id, row);
        id
    }
    fn get(&self, id: i64) -> Option<&Obj> {
        self.rows.get(&id)
    }
}

#[derive(Debug, Clone)]
enum SpecData {
    Stored { wavelengths: Vec<f64>, fluxes: Vec<f64>, errors: Option<Vec<f64>> },
    Sky(usize),
}

#[derive(Debug, Clone)]
struct Spectrum {
    meta: Obj,
    data: SpecData,
}

#[derive(Debug, Clone)]
struct Candidate {
    obj_id: String,
    filter_id: i64,
    passed_at: String,
}

/// What comments and annotations are attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    Sources,
    Spectra,
    GcnEvent,
    Photometry,
}

impl Res {
    fn name(self) -> &'static str {
        match self {
            Res::Sources => "sources",
            Res::Spectra => "spectra",
            Res::GcnEvent => "gcn_event",
            Res::Photometry => "photometry",
        }
    }
}

/// State of the resources in this module.
#[derive(Debug, Default)]
pub(super) struct More {
    spectra: BTreeMap<i64, Spectrum>,
    next_spectrum: i64,
    classifications: Table,
    comments: Table,
    annotations: Table,
    streams: Table,
    filters: Table,
    telescopes: Table,
    taxonomies: Table,
    allocations: Table,
    runs: Table,
    assignments: Table,
    followups: Table,
    galaxies: Vec<Obj>,
    gcn: Table,
    candidates: Vec<Candidate>,
    next_candidate: i64,
}

fn now(sp: &Sp) -> String {
    crate::clock::iso_z(sp.shared.clock.wall(sp.shared.clock.now())).trim_end_matches('Z').to_string()
}

fn naive(mjd: f64) -> String {
    iso_of_mjd(mjd).trim_end_matches('Z').to_string()
}

fn author() -> Value {
    json!({"id": ADMIN_ID, "username": ADMIN_NAME, "first_name": null, "last_name": null,
           "contact_email": null, "gravatar_url": "https://www.gravatar.com/avatar/00000000000000000000000000000000?d=identicon"})
}

fn class_name(k: Kind) -> &'static str {
    match k {
        Kind::SNIa => "Ia",
        Kind::SNII => "II",
        Kind::SNIbc => "Ib/c",
        Kind::SLSN => "SLSN",
        Kind::AGN => "AGN",
        Kind::QSO => "QSO",
        Kind::RRL => "RR Lyrae",
        Kind::E => "Eclipsing",
        Kind::LPV => "LPV",
        Kind::CVNova => "Cataclysmic",
    }
}

fn sitewide_hierarchy() -> Value {
    let leaf = |c: &str| json!({"class": c});
    json!({"class": "Time-domain Source", "subclasses": [
        {"class": "Supernova", "subclasses": [leaf("Ia"), leaf("II"), leaf("Ib/c"), leaf("SLSN")]},
        {"class": "Active Galactic Nucleus", "subclasses": [leaf("AGN"), leaf("QSO")]},
        {"class": "Variable Star", "subclasses": [leaf("RR Lyrae"), leaf("Eclipsing"), leaf("LPV"), leaf("Cataclysmic")]},
    ]})
}

fn allowed_classes(h: &Value, out: &mut Vec<String>) {
    if let Some(c) = h.get("class").and_then(Value::as_str) {
        out.push(c.to_string());
    }
    if let Some(a) = h.get("subclasses").and_then(Value::as_array) {
        for s in a {
            allowed_classes(s, out);
        }
    }
}

fn to_obj(v: Value) -> Obj {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Seeds the synthetic resources consistent with the sky.
pub(super) fn seed(sp_shared: &crate::state::Shared) -> More {
    let sky = &sp_shared.sky;
    let created =
        crate::clock::iso_z(sp_shared.clock.wall(std::time::Duration::ZERO)).trim_end_matches('Z').to_string();
    let mut m = More::default();
    for (name, nick, lat, lon, elev, diam) in [
        ("Palomar 48 inch", "P48", 33.3563, -116.8594, 1706.0, 1.2),
        ("ATLAS Haleakala", "ATLAS", 20.7075, -156.2561, 3055.0, 0.5),
        ("Vera C. Rubin Observatory", "Rubin", -30.2446, -70.7494, 2663.0, 8.4),
        ("Palomar 60 inch", "P60", 33.3533, -116.8595, 1870.0, 1.5),
    ] {
        m.telescopes.insert(to_obj(json!({"name": name, "nickname": nick, "lat": lat, "lon": lon,
            "elevation": elev, "diameter": diam, "skycam_link": null, "weather_link": null,
            "robotic": true, "fixed_location": true, "created_at": created, "modified": created})));
    }
    for (name, altdata) in
        [("ZTF Public", json!({"collection": "ZTF_alerts", "selector": [1]})), ("ATLAS", json!(null))]
    {
        m.streams.insert(to_obj(json!({"name": name, "altdata": altdata, "created_at": created, "modified": created})));
    }
    m.filters.insert(to_obj(json!({"name": "Sandbox transients", "stream_id": 1, "group_id": 2, "created_at": created, "modified": created})));
    m.filters.insert(to_obj(
        json!({"name": "Sandbox variables", "stream_id": 1, "group_id": 3, "created_at": created, "modified": created}),
    ));
    m.taxonomies.insert(to_obj(json!({"name": "Sitewide Taxonomy", "hierarchy": sitewide_hierarchy(),
        "provenance": "broker-sandbox (synthetic, tdtax-like)", "version": "1.0.0", "isLatest": true,
        "groups": groups_json(&[1]), "created_at": created, "modified": created})));
    let start = sp_shared.config.sky.start_mjd;
    let end = sp_shared.config.sky.end_mjd;
    m.allocations.insert(to_obj(
        json!({"pi": "Sandbox PI", "proposal_id": "SBX-2023A-001", "start_date": naive(start),
        "end_date": naive(end), "hours_allocated": 100.0, "group_id": 2, "instrument_id": SPECTROGRAPH,
        "_altdata": null, "types": ["triggered", "forced_photometry"], "default_share_group_ids": [],
        "created_at": created, "modified": created}),
    ));
    m.allocations.insert(to_obj(json!({"pi": "Sandbox PI", "proposal_id": "SBX-2023A-002", "start_date": naive(start),
        "end_date": naive(end), "hours_allocated": 20.0, "group_id": 2, "instrument_id": 1,
        "_altdata": null, "types": ["triggered"], "default_share_group_ids": [], "created_at": created, "modified": created})));
    m.runs.insert(to_obj(json!({"instrument_id": SPECTROGRAPH, "calendar_date": naive(start + 30.0).get(..10),
        "pi": "Sandbox PI", "observers": "sandbox", "group_id": 2, "owner_id": ADMIN_ID})));
    // Classifications: one per sky object (ids 1001..), with the true class.
    m.classifications.next = 1000;
    for o in &sky.objects {
        let p = o.lc_probs.iter().find(|c| c.0 == o.kind.class_name()).map(|c| c.1).unwrap_or(0.5);
        let mut row =
            to_obj(json!({"classification": class_name(o.kind), "probability": round(p, 4), "taxonomy_id": 1,
            "obj_id": obj_id(o), "origin": "sandbox", "author_id": ADMIN_ID, "author_name": ADMIN_NAME, "ml": true,
            "groups": groups_json(&[1]), "created_at": created, "modified": created}));
        row.insert("id".into(), json!(1001 + o.index as i64));
        m.classifications.rows.insert(1001 + o.index as i64, row);
    }
    m.classifications.next = 1000 + sky.objects.len() as i64 + 1000;
    // One classification spectrum per transient with a redshift, a few days after peak.
    for o in sky.objects.iter().filter(|o| o.kind.is_transient() && o.redshift.is_some()) {
        m.next_spectrum += 1;
        let id = m.next_spectrum;
        let meta = to_obj(json!({"id": id, "obj_id": obj_id(o), "instrument_id": SPECTROGRAPH,
            "observed_at": naive(o.peak_mjd + 3.0), "units": "erg/s/cm/cm/AA", "origin": "sandbox", "type": "source",
            "label": null, "followup_request_id": null, "assignment_id": null, "altdata": null,
            "original_file_string": null, "original_file_filename": null, "owner_id": ADMIN_ID,
            "groups": [1, if o.kind.is_transient() { 2 } else { 3 }], "created_at": created, "modified": created}));
        m.spectra.insert(id, Spectrum { meta, data: SpecData::Sky(o.index) });
    }
    // Candidates: every sky object passed filter 1 (transients) or 2 (variables).
    for o in &sky.objects {
        m.next_candidate += 1;
        m.candidates.push(Candidate {
            obj_id: obj_id(o),
            filter_id: if o.kind.is_transient() { 1 } else { 2 },
            passed_at: naive(if o.kind.is_transient() { o.peak_mjd - o.rise } else { start + 1.0 }),
        });
    }
    // Galaxies: a host for each transient with a redshift, a few arcsec away.
    for o in sky.objects.iter().filter(|o| o.kind.is_transient()) {
        let Some(z) = o.redshift else { continue };
        let mut r = Rng::new(&[o.seed, 0x6A1A]);
        let d_ra = r.range(-4.0, 4.0) / 3600.0 / o.dec.to_radians().cos().max(0.05);
        let d_dec = r.range(-4.0, 4.0) / 3600.0;
        let dist = 299_792.458 * z / 70.0;
        m.galaxies.push(to_obj(
            json!({"id": m.galaxies.len() + 1, "catalog_name": "sandbox_glade", "name": format!("SBXG{:06}", o.index),
            "alt_name": null, "ra": round((o.ra + d_ra).rem_euclid(360.0), 6), "dec": round(o.dec + d_dec, 6),
            "distmpc": round(dist, 3), "distmpc_unc": round(dist * 0.1, 3), "redshift": z, "redshift_error": 0.001,
            "sfr_fuv": round(r.range(0.01, 5.0), 4), "mstar": round(10f64.powf(r.range(8.5, 11.5)), 0),
            "magb": round(r.range(15.0, 21.0), 3), "magk": round(r.range(12.0, 18.0), 3),
            "a": null, "b2a": null, "pa": null, "btc": null, "mag_fuv": null, "mag_nuv": null, "mag_w1": null,
            "mag_w2": null, "mag_w3": null, "mag_w4": null}),
        ));
    }
    // Two GCN events inside the survey window, each with one skymap.
    for (i, (name, mjd, kind)) in
        [("bayestar.fits.gz", start + 123.456_789, "gw"), ("glg_healpix_all_bn.fit", start + 321.25, "grb")]
            .iter()
            .enumerate()
    {
        let dateobs = naive(*mjd);
        let loc_id = i as i64 + 1;
        m.gcn.insert(to_obj(json!({"dateobs": dateobs, "trigger_id": 1_000_000 + i as i64, "aliases": [format!("LVC#S{}", 230_000 + i)],
            "tach_id": null, "gcn_notices": [], "tags": [if *kind == "gw" { "GW" } else { "GRB" }],
            "lightcurve": null, "created_at": created, "modified": created,
            "localizations": [{"id": loc_id, "dateobs": dateobs, "localization_name": name,
                "notice_id": null, "contour": null, "created_at": created, "modified": created,
                "center": {"ra": round((start * 7.0 + i as f64 * 97.0).rem_euclid(360.0), 3), "dec": 12.5 - 30.0 * i as f64},
                "tags": [], "properties": []}]})));
    }
    m
}

fn py_list(ids: &[i64]) -> String {
    format!("[{}]", ids.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(", "))
}

fn group_ids(v: &Obj, key: &str) -> Result<Vec<i64>, Response> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(vec![1, 2, 3]),
        Some(Value::String(s)) if s == "all" => Ok(vec![1]),
        Some(Value::Array(a)) => {
            let ids: Vec<i64> = a.iter().filter_map(Value::as_i64).collect();
            if ids.len() != a.len() || ids.iter().any(|g| !(1..=3).contains(g)) {
                let shown: Vec<i64> = a.iter().map(|x| x.as_i64().unwrap_or(-1)).collect();
                return Err(err(400, &format!("Cannot find one or more groups with IDs: {}.", py_list(&shown))));
            }
            Ok(ids)
        }
        Some(_) => Err(err(400, "Invalid group_ids: must be a list of integers")),
    }
}

fn body_obj(body: &[u8]) -> Result<Obj, Response> {
    match body_json(body)? {
        Value::Object(m) => Ok(m),
        _ => Err(err(400, "Invalid/missing parameters: body: Input should be a valid dictionary")),
    }
}

/// marshmallow's `normalized_messages()` for missing required fields, as Python prints it.
fn missing_fields(v: &Obj, required: &[&str]) -> Option<String> {
    let missing: Vec<String> = required
        .iter()
        .filter(|k| v.get(**k).is_none_or(Value::is_null))
        .map(|k| format!("'{k}': ['Missing data for required field.']"))
        .collect();
    (!missing.is_empty()).then(|| format!("{{{}}}", missing.join(", ")))
}

/// pydantic's message for missing required fields (`format_validation_errors`).
fn pydantic_missing(v: &Obj, required: &[&str]) -> Option<Response> {
    let missing: Vec<String> =
        required.iter().filter(|k| !v.contains_key(**k)).map(|k| format!("{k}: Field required")).collect();
    (!missing.is_empty()).then(|| err(400, &format!("Invalid/missing parameters: {}", missing.join("; "))))
}

fn pydantic_extra(v: &Obj, allowed: &[&str]) -> Option<Response> {
    let extra: Vec<String> = v
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("{k}: Extra inputs are not permitted"))
        .collect();
    (!extra.is_empty()).then(|| err(400, &format!("Invalid/missing parameters: {}", extra.join("; "))))
}

fn source_exists(sp: &Sp, id: &str) -> bool {
    sp.lock().index.contains_key(id)
}

/// Tornado routes `/api/x(/[0-9]+)?`: a non-numeric id falls through to `InvalidEndpointHandler`.
fn numeric(id: &str) -> Result<i64, Response> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(400, "Invalid API endpoint"));
    }
    id.parse().map_err(|_| err(400, "Invalid API endpoint"))
}

macro_rules! try_r {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

/// Adds this module's routes.
pub(super) fn routes(r: Router<Sp>) -> Router<Sp> {
    r.route("/api/sources/{obj_id}/spectra", any(source_spectra))
        .route("/api/sources/{obj_id}/classifications", any(source_classifications))
        .route("/api/sources/{obj_id}/groups", any(source_groups_of))
        .route("/api/sources/{obj_id}/comments", any(src_comments))
        .route("/api/sources/{obj_id}/comments/channels", any(src_comment_channels))
        .route("/api/sources/{obj_id}/comments/{cid}", any(src_comment))
        .route("/api/sources/{obj_id}/tns", any(source_tns))
        .route("/api/photometry/origins", any(photometry_origins))
        .route("/api/spectra/{id}/comments", any(spec_comments))
        .route("/api/spectra/{id}/comments/{cid}", any(spec_comment))
        .route("/api/gcn_event/{id}/comments", any(gcn_comments))
        .route("/api/gcn_event/{id}/comments/{cid}", any(gcn_comment))
        .route("/api/sources/{obj_id}/annotations", any(src_annotations))
        .route("/api/sources/{obj_id}/annotations/{aid}", any(src_annotation))
        .route("/api/spectra/{id}/annotations", any(spec_annotations))
        .route("/api/spectra/{id}/annotations/{aid}", any(spec_annotation))
        .route("/api/photometry/{id}/annotations", any(phot_annotations))
        .route("/api/photometry/{id}/annotations/{aid}", any(phot_annotation))
        .route("/api/spectra", any(spectra))
        .route("/api/spectrum", any(spectra))
        .route("/api/spectra/{id}", any(spectrum))
        .route("/api/spectrum/{id}", any(spectrum))
        .route("/api/spectra/ascii", any(spectrum_ascii))
        .route("/api/spectrum/ascii", any(spectrum_ascii))
        .route("/api/spectra/parse/ascii", any(spectrum_parse_ascii))
        .route("/api/spectrum/parse/ascii", any(spectrum_parse_ascii))
        .route("/api/classification", any(classifications))
        .route("/api/classification/{id}", any(classification))
        .route("/api/streams", any(streams))
        .route("/api/streams/{id}", any(stream))
        .route("/api/filters", any(filters))
        .route("/api/filters/{id}", any(filter))
        .route("/api/telescope", any(telescopes))
        .route("/api/telescope/{id}", any(telescope))
        .route("/api/taxonomy", any(taxonomies))
        .route("/api/taxonomy/{id}", any(taxonomy))
        .route("/api/allocation", any(allocations))
        .route("/api/allocation/{id}", any(allocation))
        .route("/api/assignment", any(assignments))
        .route("/api/assignment/{id}", any(assignment))
        .route("/api/followup_request", any(followups))
        .route("/api/followup_request/{id}", any(followup))
        .route("/api/galaxy_catalog", any(galaxies))
        .route("/api/galaxy_catalog/{name}", any(galaxies_named))
        .route("/api/gcn_event", any(gcn_events))
        .route("/api/gcn_event/{dateobs}", any(gcn_event))
        .route("/api/localization/{dateobs}/name/{name}", any(localization))
        .route("/api/candidates/{obj_id}", any(candidate))
        .route("/api/candidates/{obj_id}/{filter_id}", any(candidate_filter))
        .route("/api/source_groups", any(source_groups))
        .route("/api/source_exists", any(source_exists_root))
        .route("/api/source_exists/{obj_id}", any(source_exists_one))
}

// ---------------------------------------------------------------- classifications

/// Classifications of an object (what `GET /api/sources/{id}` embeds).
pub(super) fn classifications_of(sp: &Sp, obj: &str) -> Vec<Value> {
    let st = sp.lock();
    st.more
        .classifications
        .rows
        .values()
        .filter(|c| c.get("obj_id").and_then(Value::as_str) == Some(obj))
        .map(|c| Value::Object(c.clone()))
        .collect()
}

/// Comments on a source (what `includeComments=true` embeds).
pub(super) fn comments_of(sp: &Sp, obj: &str) -> Vec<Value> {
    let st = sp.lock();
    comment_rows(&st.more, Res::Sources, obj)
}

/// Annotations on a source (what `GET /api/sources/{id}` embeds).
pub(super) fn annotations_of(sp: &Sp, obj: &str) -> Vec<Value> {
    let st = sp.lock();
    annotation_rows(&st.more, Res::Sources, obj)
}

/// The obj ids that are candidates, in insertion order, without duplicates.
pub(super) fn candidate_ids(sp: &Sp) -> Vec<String> {
    let st = sp.lock();
    let mut seen = std::collections::HashSet::new();
    st.more.candidates.iter().filter(|c| seen.insert(c.obj_id.clone())).map(|c| c.obj_id.clone()).collect()
}

/// One parsed item of the candidates' `annotationFilterList`.
pub(super) enum AnnFilter {
    /// `value`: a boolean compared as a boolean, anything else as text.
    Value { origin: String, key: String, value: Value },
    /// `min` and `max`, numbers.
    Range { origin: String, key: String, min: f64, max: f64 },
}

/// Parses `annotationFilterList` as `handlers/api/candidate/candidate.py` does: split on a
/// comma followed by `{`, each item a JSON object with `origin`, `key`, and `value` or both
/// `min` and `max`; the server's 400 messages otherwise.
pub(super) fn parse_annotation_filters(raw: &str) -> Result<Vec<AnnFilter>, Response> {
    let mut items = Vec::new();
    let mut start = 0;
    let bytes = raw.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b',' && bytes.get(i + 1) == Some(&b'{') {
            items.push(&raw[start..i]);
            start = i + 1;
        }
    }
    items.push(&raw[start..]);
    let mut out = Vec::new();
    for item in items {
        let Ok(Value::Object(f)) = serde_json::from_str::<Value>(item) else {
            return Err(err(400, "Could not parse JSON objects for annotation filtering"));
        };
        let text = |k: &str| f.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        let Some(origin) = text("origin") else {
            return Err(err(400, &format!("Invalid annotation filter list item {item}: \"origin\" is required.")));
        };
        let Some(key) = text("key") else {
            return Err(err(400, &format!("Invalid annotation filter list item {item}: \"key\" is required.")));
        };
        if let Some(v) = f.get("value") {
            if !(v.is_boolean() || v.is_string()) {
                // json.loads(value) on a number raises TypeError: an uncaught 500.
                return Err(err(500, "the JSON object must be str, bytes or bytearray, not int"));
            }
            out.push(AnnFilter::Value { origin, key, value: v.clone() });
        } else if let (Some(a), Some(b)) = (f.get("min"), f.get("max")) {
            let num = |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
            let (Some(min), Some(max)) = (num(a), num(b)) else {
                return Err(err(
                    400,
                    &format!(
                        "Invalid annotation filter list item: {item}. The min/max provided is not a valid number."
                    ),
                ));
            };
            out.push(AnnFilter::Range { origin, key, min, max });
        } else {
            return Err(err(
                400,
                &format!(
                    "Invalid annotation filter list item: {item}. Should have either \"value\" or \"min\" and \"max\""
                ),
            ));
        }
    }
    Ok(out)
}

/// Whether an object's annotations pass every filter.
pub(super) fn passes_annotation_filters(sp: &Sp, obj: &str, filters: &[AnnFilter]) -> bool {
    let anns = annotations_of(sp, obj);
    let datum = |origin: &str, key: &str| -> Vec<Value> {
        anns.iter()
            .filter(|a| a.get("origin").and_then(Value::as_str) == Some(origin))
            .filter_map(|a| a.get("data").and_then(|d| d.get(key)).cloned())
            .collect()
    };
    filters.iter().all(|f| match f {
        AnnFilter::Value { origin, key, value } => datum(origin, key).iter().any(|d| match value {
            Value::Bool(b) => d.as_bool() == Some(*b),
            Value::String(t) => {
                let as_text = d.as_str().map(str::to_string).unwrap_or_else(|| d.to_string());
                let nested = serde_json::from_str::<Value>(t).map(|v| v.to_string()).unwrap_or_else(|_| t.clone());
                as_text == *t || as_text == nested
            }
            _ => false,
        }),
        AnnFilter::Range { origin, key, min, max } => {
            datum(origin, key).iter().filter_map(Value::as_f64).any(|x| x >= *min && x <= *max)
        }
    })
}

/// Filter ids a candidate passed.
pub(super) fn candidate_filters(sp: &Sp, obj: &str) -> Vec<i64> {
    sp.lock().more.candidates.iter().filter(|c| c.obj_id == obj).map(|c| c.filter_id).collect()
}

async fn source_classifications(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            ok(Value::Array(classifications_of(&sp, &id)))
        }
        Method::DELETE => {
            try_r!(auth(&sp, &h, true));
            let _ = try_r!(body_obj(&body));
            let mut st = sp.lock();
            st.more.classifications.rows.retain(|_, c| c.get("obj_id").and_then(Value::as_str) != Some(id.as_str()));
            ok(json!({}))
        }
        _ => method_not_allowed(),
    }
}

fn post_one_classification(sp: &Sp, v: &Obj) -> Result<i64, String> {
    for k in ["obj_id", "classification", "taxonomy_id"] {
        if !v.contains_key(k) {
            return Err(format!("'{k}'"));
        }
    }
    let obj = v.get("obj_id").and_then(Value::as_str).unwrap_or_default().to_string();
    if !source_exists(sp, &obj) {
        return Err(format!("Cannot find object with ID {obj}."));
    }
    // `post_classification`: anything but a non-empty list means the public group.
    let groups = match v.get("group_ids") {
        Some(Value::Array(a)) if !a.is_empty() => a.iter().filter_map(Value::as_i64).collect(),
        _ => vec![1],
    };
    let ml = classification_ml(v)?;
    let tax = v.get("taxonomy_id").and_then(Value::as_i64).unwrap_or(-1);
    let class = v.get("classification").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut st = sp.lock();
    let Some(t) = st.more.taxonomies.get(tax) else { return Err(format!("Cannot find a taxonomy with ID: {tax}.")) };
    let mut allowed = Vec::new();
    allowed_classes(t.get("hierarchy").unwrap_or(&Value::Null), &mut allowed);
    if !allowed.contains(&class) {
        return Err(format!(
            "That classification ({class}) is not in the allowed classes for the chosen taxonomy (id={tax}"
        ));
    }
    let p = v.get("probability").and_then(Value::as_f64);
    if let Some(p) = p
        && !(0.0..=1.0).contains(&p)
    {
        return Err(format!("That probability ({p}) is outside the allowable range (0-1)."));
    }
    if groups.iter().any(|g| !(1..=3).contains(g)) {
        return Err(format!("Cannot find one or more groups with IDs: {}.", py_list(&groups)));
    }
    let t = now(sp);
    let row = to_obj(json!({"classification": class, "probability": p, "taxonomy_id": tax, "obj_id": obj,
        "origin": v.get("origin").cloned().unwrap_or(Value::Null), "author_id": ADMIN_ID, "author_name": ADMIN_NAME,
        "ml": ml, "groups": groups_json(&groups), "created_at": t, "modified": t}));
    Ok(st.more.classifications.insert(row))
}

/// `ml = data.get("ml", False)` with the server's accepted spellings (POST and PUT alike: a
/// PUT without `ml` resets it to false).
fn classification_ml(v: &Obj) -> Result<bool, String> {
    match v.get("ml") {
        None | Some(Value::Bool(false)) => Ok(false),
        Some(Value::Bool(true)) => Ok(true),
        Some(Value::String(s)) if matches!(s.as_str(), "True" | "t" | "true") => Ok(true),
        Some(Value::String(s)) if matches!(s.as_str(), "False" | "f" | "false") => Ok(false),
        Some(x) => Err(format!(
            "If provided, ml must be one of True, False, 'True', 'False', 't', 'f', 'true', 'false' (got {x})"
        )),
    }
}

async fn classifications(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let q = Pairs::from_query(&uri);
            let parse = |k: &str, d: usize| q.last(k).map(|v| v.parse::<usize>().ok()).unwrap_or(Some(d));
            let (Some(page), Some(n)) = (parse("pageNumber", 1), parse("numPerPage", 100)) else {
                return err(400, "Cannot parse inputs pageNumber or numPerPage as integers.");
            };
            let n = n.min(MAX_CLASSIFICATIONS);
            let start = q.last("startDate").map(str::to_string);
            let end = q.last("endDate").map(str::to_string);
            let st = sp.lock();
            let rows: Vec<&Obj> = st
                .more
                .classifications
                .rows
                .values()
                .filter(|c| {
                    let t = c.get("created_at").and_then(Value::as_str).unwrap_or_default();
                    start.as_deref().is_none_or(|s| t >= s) && end.as_deref().is_none_or(|e| t <= e)
                })
                .collect();
            let total = rows.len();
            let page_rows: Vec<Value> =
                rows.into_iter().skip(page.saturating_sub(1) * n).take(n).map(|c| Value::Object(c.clone())).collect();
            ok(json!({"classifications": page_rows, "totalMatches": total}))
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(Value::Array(list)) = v.get("classifications") {
                let mut ids = Vec::new();
                for c in list {
                    let c = to_obj(c.clone());
                    match post_one_classification(&sp, &c) {
                        Ok(id) => ids.push(id),
                        Err(e) => return err(400, &format!("Error posting classification: {e}")),
                    }
                }
                return ok(json!({"classification_ids": ids}));
            }
            match post_one_classification(&sp, &v) {
                Ok(id) => ok(json!({"classification_id": id})),
                Err(e) => err(400, &format!("Error posting classification: {e}")),
            }
        }
        _ => method_not_allowed(),
    }
}

async fn classification(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let needs = method != Method::GET;
    try_r!(auth(&sp, &h, needs));
    let cid = try_r!(numeric(&id));
    match method {
        Method::GET => match sp.lock().more.classifications.get(cid) {
            Some(c) => ok(Value::Object(c.clone())),
            None => err(400, &format!("Cannot find classification with ID: {cid}.")),
        },
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            let mut st = sp.lock();
            let tax_ok = |st: &super::SpState, t: i64| st.more.taxonomies.get(t).is_some();
            if let Some(t) = v.get("taxonomy_id").and_then(Value::as_i64)
                && !tax_ok(&st, t)
            {
                return err(400, &format!("Cannot find a taxonomy with ID: {t}."));
            }
            let Some(c) = st.more.classifications.rows.get_mut(&cid) else {
                return err(400, &format!("Cannot find a classification with ID: {cid}."));
            };
            let ml = match classification_ml(&v) {
                Ok(ml) => ml,
                Err(m) => return err(400, &m),
            };
            for k in ["classification", "probability", "taxonomy_id", "origin"] {
                if let Some(x) = v.get(k) {
                    c.insert(k.into(), x.clone());
                }
            }
            c.insert("ml".into(), json!(ml));
            if let Some(Value::Array(a)) = v.get("group_ids") {
                let g: Vec<i64> = a.iter().filter_map(Value::as_i64).collect();
                c.insert("groups".into(), groups_json(&g));
            }
            drop(st);
            let t = now(&sp);
            if let Some(c) = sp.lock().more.classifications.rows.get_mut(&cid) {
                c.insert("modified".into(), json!(t));
            }
            ok(json!({}))
        }
        Method::DELETE => match sp.lock().more.classifications.rows.remove(&cid) {
            Some(_) => ok(json!({})),
            None => err(400, &format!("Cannot find a classification with ID: {cid}.")),
        },
        _ => method_not_allowed(),
    }
}

// ---------------------------------------------------------------- spectra

fn sky_spectrum(o: &SkyObject) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let z = o.redshift.unwrap_or(0.0);
    let temp = match o.kind {
        Kind::SNIa => 11_000.0,
        Kind::SNII => 9_000.0,
        Kind::SNIbc => 10_000.0,
        Kind::SLSN => 15_000.0,
        _ => 7_000.0,
    };
    // (rest wavelength, relative depth (<0 absorption, >0 emission), sigma in Angstrom)
    let features: &[(f64, f64, f64)] = match o.kind {
        Kind::SNIa => &[(6150.0, -0.35, 90.0), (3800.0, -0.4, 110.0), (5450.0, -0.15, 70.0), (4900.0, -0.2, 90.0)],
        Kind::SNII => &[(6563.0, 0.6, 45.0), (6400.0, -0.2, 40.0), (4861.0, 0.25, 35.0)],
        Kind::SNIbc => &[(5700.0, -0.3, 70.0), (6550.0, -0.1, 60.0), (7700.0, -0.25, 90.0)],
        Kind::SLSN => &[(4200.0, -0.1, 60.0), (4450.0, -0.1, 60.0)],
        _ => &[],
    };
    let planck = |l_rest: f64| l_rest.powi(-5) / ((1.4388e8 / (l_rest * temp)).exp() - 1.0);
    // F_lambda at 6200 A (observed) from the peak r magnitude (uJy -> erg/s/cm2/A).
    let f_ref = mag_to_flux(o.peak_mag + 0.1) * 1e-29 * 2.998e18 / (6200.0 * 6200.0);
    let norm = f_ref / planck(6200.0 / (1.0 + z));
    let mut r = Rng::new(&[o.seed, 0x5EC7]);
    let (mut w, mut f, mut e) = (Vec::new(), Vec::new(), Vec::new());
    let mut l = 3600.0;
    while l <= 9400.0 {
        let rest = l / (1.0 + z);
        let mut shape = 1.0;
        for (c, d, s) in features {
            shape += d * (-0.5 * ((rest - c) / s).powi(2)).exp();
        }
        let flux = norm * planck(rest) * shape;
        let sigma = f_ref * 0.03;
        w.push(round(l, 1));
        f.push(flux + sigma * r.normal());
        e.push(sigma);
        l += 5.0;
    }
    (w, f, e)
}

fn spectrum_arrays(sp: &Sp, s: &Spectrum) -> Arrays {
    match &s.data {
        SpecData::Stored { wavelengths, fluxes, errors } => (wavelengths.clone(), fluxes.clone(), errors.clone()),
        SpecData::Sky(i) => match sp.shared.sky.objects.get(*i) {
            Some(o) => {
                let (w, f, e) = sky_spectrum(o);
                (w, f, Some(e))
            }
            None => (Vec::new(), Vec::new(), None),
        },
    }
}

fn spectrum_json(sp: &Sp, more: &More, s: &Spectrum, minimal: bool, normalization: Option<&str>) -> Value {
    let mut m = s.meta.clone();
    let inst = m.get("instrument_id").and_then(Value::as_i64).unwrap_or(0);
    let (iname, tid, tname) = super::INSTRUMENTS
        .iter()
        .find(|i| i.0 == inst)
        .map(|i| (i.1, i.0, i.2))
        .unwrap_or(if inst == SPECTROGRAPH { ("SEDM", 4, "P60") } else { ("unknown", 0, "unknown") });
    m.insert("instrument_name".into(), json!(iname));
    if minimal {
        return Value::Object(m);
    }
    let groups: Vec<i64> = m
        .get("groups")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    let (w, mut f, mut e) = spectrum_arrays(sp, s);
    if normalization == Some("median") {
        let mut sorted: Vec<f64> = f.iter().copied().filter(|x| x.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let med = sorted.get(sorted.len() / 2).copied().unwrap_or(1.0);
        if med != 0.0 {
            f.iter_mut().for_each(|x| *x /= med);
            if let Some(e) = e.as_mut() {
                e.iter_mut().for_each(|x| *x /= med.abs());
            }
        }
    }
    let id = m.get("id").and_then(Value::as_i64).unwrap_or(0);
    m.insert("wavelengths".into(), Value::Array(w.into_iter().map(jf).collect()));
    m.insert("fluxes".into(), Value::Array(f.into_iter().map(jf).collect()));
    m.insert("errors".into(), e.map(|e| Value::Array(e.into_iter().map(jf).collect())).unwrap_or(Value::Null));
    m.insert("telescope_id".into(), json!(tid));
    m.insert("telescope_name".into(), json!(tname));
    m.insert("groups".into(), groups_json(&groups));
    m.insert("reducers".into(), json!([]));
    m.insert("observers".into(), json!([]));
    m.insert("pis".into(), json!([]));
    m.insert("owner".into(), author());
    m.insert("comments".into(), Value::Array(comment_rows(more, Res::Spectra, &id.to_string())));
    m.insert("annotations".into(), Value::Array(annotation_rows(more, Res::Spectra, &id.to_string())));
    Value::Object(m)
}

fn float_list(v: Option<&Value>) -> Option<Vec<f64>> {
    v?.as_array()?.iter().map(|x| x.as_f64().or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))).collect()
}

/// Validates a `SpectrumPost`-like body and stores it; `Err` is the full reply.
fn store_spectrum(sp: &Sp, v: &Obj, arrays: Arrays, extra: Obj, fail_prefix: &str) -> Result<i64, Response> {
    let obj = v.get("obj_id").and_then(Value::as_str).unwrap_or_default().to_string();
    let inst = v.get("instrument_id").and_then(Value::as_i64).unwrap_or(-1);
    if !super::INSTRUMENTS.iter().any(|i| i.0 == inst) && inst != SPECTROGRAPH {
        return Err(err(400, &format!("{fail_prefix}Cannot find instrument with ID: {inst}")));
    }
    if let Some(u) = v.get("units").and_then(Value::as_str)
        && !SPECTRUM_UNITS.contains(&u)
    {
        return Err(err(400, &format!("{fail_prefix}units must be Jy, AB, or erg/s/cm/cm/AA")));
    }
    if !source_exists(sp, &obj) {
        return Err(err(400, &format!("{fail_prefix}Cannot find object with ID: {obj}")));
    }
    let groups = group_ids(v, "group_ids").map_err(|_| {
        err(
            400,
            &format!(
                "{fail_prefix}Cannot find one or more groups with IDs: {}.",
                v.get("group_ids").cloned().unwrap_or(Value::Null)
            ),
        )
    })?;
    let t = now(sp);
    let mut meta = obj_fields(
        v,
        &[
            "obj_id",
            "instrument_id",
            "observed_at",
            "units",
            "origin",
            "label",
            "followup_request_id",
            "assignment_id",
            "altdata",
        ],
    );
    meta.insert("type".into(), v.get("type").cloned().filter(|x| !x.is_null()).unwrap_or(json!("source")));
    meta.insert("owner_id".into(), json!(ADMIN_ID));
    meta.insert("groups".into(), json!(groups));
    meta.insert("created_at".into(), json!(t));
    meta.insert("modified".into(), json!(t));
    meta.entry("original_file_string").or_insert(Value::Null);
    meta.entry("original_file_filename").or_insert(Value::Null);
    meta.extend(extra);
    let mut st = sp.lock();
    st.more.next_spectrum += 1;
    let id = st.more.next_spectrum;
    meta.insert("id".into(), json!(id));
    let (wavelengths, fluxes, errors) = arrays;
    st.more.spectra.insert(id, Spectrum { meta, data: SpecData::Stored { wavelengths, fluxes, errors } });
    Ok(id)
}

fn obj_fields(v: &Obj, keys: &[&str]) -> Obj {
    keys.iter().map(|k| ((*k).to_string(), v.get(*k).cloned().unwrap_or(Value::Null))).collect()
}

fn check_spectrum_body(v: &Obj, with_arrays: bool) -> Result<Arrays, String> {
    let mut required = vec!["obj_id", "instrument_id", "observed_at"];
    if with_arrays {
        required.extend(["wavelengths", "fluxes"]);
    }
    if let Some(m) = missing_fields(v, &required) {
        return Err(m);
    }
    if let Some(t) = v.get("type").and_then(Value::as_str)
        && !SPECTRUM_TYPES.contains(&t)
    {
        return Err(format!("{{'type': ['Must be one of: {}.']}}", SPECTRUM_TYPES.join(", ")));
    }
    if v.get("observed_at").and_then(Value::as_str).is_none_or(|s| parse_time(s).is_none()) {
        return Err("{'observed_at': ['Not a valid datetime.']}".into());
    }
    if !with_arrays {
        return Ok((Vec::new(), Vec::new(), None));
    }
    let Some(w) = float_list(v.get("wavelengths")) else { return Err("{'wavelengths': ['Not a valid list.']}".into()) };
    let Some(f) = float_list(v.get("fluxes")) else { return Err("{'fluxes': ['Not a valid list.']}".into()) };
    let e = match v.get("errors") {
        None | Some(Value::Null) => None,
        x => Some(float_list(x).ok_or("{'errors': ['Not a valid list.']}")?),
    };
    if w.len() != f.len() || e.as_ref().is_some_and(|e| e.len() != w.len()) {
        return Err("{'_schema': ['Wavelengths, fluxes and errors must have the same length.']}".into());
    }
    Ok((w, f, e))
}

/// Accepts the date forms clients send (`2020-01-01`, ISO with or without `T`, offset or `Z`).
fn parse_time(s: &str) -> Option<chrono::NaiveDateTime> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0))
}

async fn spectra(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let q = Pairs::from_query(&uri);
            let before = match q.last("observedBefore") {
                Some(s) => match parse_time(s) {
                    Some(t) => Some(t),
                    None => return err(400, &format!("Cannot parse time input value \"{s}\".")),
                },
                None => None,
            };
            let after = match q.last("observedAfter") {
                Some(s) => match parse_time(s) {
                    Some(t) => Some(t),
                    None => return err(400, &format!("Cannot parse time input value \"{s}\".")),
                },
                None => None,
            };
            let ints = |k: &str| -> Result<Option<Vec<i64>>, Response> {
                match q.last(k) {
                    None => Ok(None),
                    Some(s) => s
                        .split(',')
                        .filter(|x| !x.trim().is_empty())
                        .map(|x| x.trim().parse::<i64>())
                        .collect::<Result<Vec<_>, _>>()
                        .map(Some)
                        .map_err(|_| err(400, &format!("Invalid {k}: {s}"))),
                }
            };
            let instruments = try_r!(ints("instrumentIDs"));
            let groups = try_r!(ints("groupIDs"));
            let obj = q.last("objID").map(str::to_string);
            let types: Option<Vec<String>> =
                q.last("type").map(|t| t.split(',').map(|x| x.trim().to_string()).collect());
            let origins: Option<Vec<String>> =
                q.last("origin").map(|t| t.split(',').map(|x| x.trim().to_string()).collect());
            let minimal = q.last("minimalPayload").and_then(parse_bool).unwrap_or(false);
            let st = sp.lock();
            let out: Vec<Value> = st
                .more
                .spectra
                .values()
                .filter(|s| {
                    let m = &s.meta;
                    let t = m.get("observed_at").and_then(Value::as_str).and_then(parse_time);
                    let o = m.get("obj_id").and_then(Value::as_str).unwrap_or_default();
                    let i = m.get("instrument_id").and_then(Value::as_i64).unwrap_or(0);
                    let g: Vec<i64> = m
                        .get("groups")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_i64).collect())
                        .unwrap_or_default();
                    let ty = m.get("type").and_then(Value::as_str).unwrap_or_default();
                    let or = m.get("origin").and_then(Value::as_str).unwrap_or_default();
                    before.is_none_or(|b| t.is_some_and(|t| t <= b))
                        && after.is_none_or(|a| t.is_some_and(|t| t >= a))
                        && obj.as_deref().is_none_or(|x| o.contains(x))
                        && instruments.as_ref().is_none_or(|l| l.contains(&i))
                        && groups.as_ref().is_none_or(|l| g.iter().any(|x| l.contains(x)))
                        && types.as_ref().is_none_or(|l| l.iter().any(|x| x == ty))
                        && origins.as_ref().is_none_or(|l| l.iter().any(|x| or.contains(x.as_str())))
                })
                .map(|s| spectrum_json(&sp, &st.more, s, minimal, None))
                .collect();
            ok(Value::Array(out))
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            let arrays = match check_spectrum_body(&v, true) {
                Ok(a) => a,
                Err(m) => return err(400, &format!("Invalid / missing parameters; {m}")),
            };
            match store_spectrum(&sp, &v, arrays, Map::new(), "Failed to post spectrum: ") {
                Ok(id) => ok(json!({"id": id})),
                Err(r) => r,
            }
        }
        _ => method_not_allowed(),
    }
}

async fn spectrum(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let needs = method != Method::GET;
    try_r!(auth(&sp, &h, needs));
    let sid = try_r!(numeric(&id));
    match method {
        Method::GET => {
            let st = sp.lock();
            match st.more.spectra.get(&sid) {
                Some(s) => ok(spectrum_json(&sp, &st.more, s, false, None)),
                None => err(403, &format!("Could not access spectrum {sid}.")),
            }
        }
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            if !sp.lock().more.spectra.contains_key(&sid) {
                return err(400, &format!("Invalid spectrum_id: {sid}"));
            }
            if let Some(u) = v.get("units").and_then(Value::as_str)
                && !SPECTRUM_UNITS.contains(&u)
            {
                return err(400, "Invalid/missing parameters: {'units': ['units must be Jy, AB, or erg/s/cm/cm/AA']}");
            }
            let w = float_list(v.get("wavelengths"));
            let f = float_list(v.get("fluxes"));
            let e = float_list(v.get("errors"));
            let t = now(&sp);
            let mut st = sp.lock();
            let Some(s) = st.more.spectra.get_mut(&sid) else {
                return err(400, &format!("Invalid spectrum_id: {sid}"));
            };
            if w.is_some() || f.is_some() || e.is_some() {
                let (cw, cf, ce) = match &s.data {
                    SpecData::Stored { wavelengths, fluxes, errors } => {
                        (wavelengths.clone(), fluxes.clone(), errors.clone())
                    }
                    SpecData::Sky(i) => match sp.shared.sky.objects.get(*i) {
                        Some(o) => {
                            let (a, b, c) = sky_spectrum(o);
                            (a, b, Some(c))
                        }
                        None => (Vec::new(), Vec::new(), None),
                    },
                };
                let nw = w.unwrap_or(cw);
                let nf = f.unwrap_or(cf);
                let ne = e.or(ce);
                if nw.len() != nf.len() || ne.as_ref().is_some_and(|e| e.len() != nw.len()) {
                    return err(
                        400,
                        "Invalid/missing parameters: {'_schema': ['Wavelengths, fluxes and errors must have the same length.']}",
                    );
                }
                s.data = SpecData::Stored { wavelengths: nw, fluxes: nf, errors: ne };
            }
            for k in [
                "observed_at",
                "units",
                "origin",
                "type",
                "label",
                "altdata",
                "followup_request_id",
                "assignment_id",
                "obj_id",
                "instrument_id",
            ] {
                if let Some(x) = v.get(k) {
                    s.meta.insert(k.into(), x.clone());
                }
            }
            // `SpectrumHandler.put`: new groups are added to the current ones, never removed.
            if let Some(Value::Array(g)) = v.get("group_ids") {
                let mut groups: Vec<i64> = s
                    .meta
                    .get("groups")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_i64).collect())
                    .unwrap_or_default();
                for id in g.iter().filter_map(Value::as_i64) {
                    if !groups.contains(&id) {
                        groups.push(id);
                    }
                }
                s.meta.insert("groups".into(), json!(groups));
            }
            s.meta.insert("modified".into(), json!(t));
            ok(json!({}))
        }
        Method::DELETE => match sp.lock().more.spectra.remove(&sid) {
            Some(_) => ok(json!({})),
            None => err(403, "Could not find spectrum."),
        },
        _ => method_not_allowed(),
    }
}

/// `Spectrum.from_ascii`: `#` lines are the header (YAML `KEY: value` or FITS cards), data
/// lines are whitespace-separated columns.
fn parse_ascii(v: &Obj) -> Result<(Arrays, Value), String> {
    let text = v.get("ascii").and_then(Value::as_str).unwrap_or_default();
    if text.len() > 10_000_000 {
        return Err("File must be smaller than 10MB.".into());
    }
    let col = |k: &str, d: Option<i64>| -> Result<Option<usize>, String> {
        match v.get(k) {
            None => Ok(d.map(|x| x as usize)),
            Some(Value::Null) if k == "fluxerr_column" => Ok(None),
            Some(x) => match x.as_i64() {
                Some(i) if i >= 0 => Ok(Some(i as usize)),
                _ if k == "fluxerr_column" => Err(format!("invalid type for {k}")),
                _ => Err(format!("{k} must be an int")),
            },
        }
    };
    let wc = col("wave_column", Some(0))?.unwrap_or(0);
    let fc = col("flux_column", Some(1))?.unwrap_or(1);
    let ec = col("fluxerr_column", None)?;
    let mut header = Map::new();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix('#') {
            let h = h.trim();
            if let Some((k, val)) = h.split_once('=') {
                let val = val.split('/').next().unwrap_or("").trim().trim_matches('\'').trim();
                header.insert(k.trim().to_string(), val.parse::<f64>().map(jf).unwrap_or(json!(val)));
            } else if let Some((k, val)) = h.split_once(':') {
                let val = val.trim();
                header.insert(k.trim().to_string(), val.parse::<f64>().map(jf).unwrap_or(json!(val)));
            }
            continue;
        }
        let cells: Result<Vec<f64>, _> = line.split_whitespace().map(str::parse::<f64>).collect();
        match cells {
            Ok(c) => rows.push(c),
            Err(_) => return Err(format!("Could not parse data line: {line}")),
        }
    }
    let ncol = rows.iter().map(Vec::len).min().unwrap_or(0);
    if ncol < 2 {
        return Err("Input data must have at least 2 columns (wavelength, flux, and optionally flux error).".into());
    }
    for (i, name) in [(Some(wc), "wave_column"), (Some(fc), "flux_column"), (ec, "fluxerr_column")] {
        if let Some(i) = i
            && i >= ncol
        {
            return Err(format!("index {name} ({i}) is greater than the maximum allowed value ({})", ncol - 1));
        }
    }
    let pick = |c: usize| rows.iter().map(|r| r[c]).collect::<Vec<f64>>();
    let header = if header.is_empty() { Value::Null } else { Value::Object(header) };
    Ok(((pick(wc), pick(fc), ec.map(pick)), header))
}

async fn spectrum_parse_ascii(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    if method != Method::POST {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, true));
    let v = try_r!(body_obj(&body));
    if let Some(m) = missing_fields(&v, &["ascii"]) {
        return err(400, &format!("Error parsing spectrum: Invalid/missing parameters: {m}"));
    }
    match parse_ascii(&v) {
        Ok(((w, f, e), header)) => ok(json!({"wavelengths": w, "fluxes": f, "errors": e, "units": null,
            "obj_id": v.get("obj_id").cloned().unwrap_or(Value::Null),
            "observed_at": v.get("observed_at").cloned().unwrap_or(Value::Null), "origin": null,
            "type": v.get("type").cloned().unwrap_or(Value::Null), "label": v.get("label").cloned().unwrap_or(Value::Null),
            "instrument_id": v.get("instrument_id").cloned().unwrap_or(Value::Null), "followup_request_id": null,
            "assignment_id": null, "altdata": header, "original_file_string": v.get("ascii").cloned().unwrap_or(Value::Null),
            "original_file_filename": null, "owner_id": ADMIN_ID})),
        Err(e) => err(400, &format!("Error parsing spectrum: {e}")),
    }
}

async fn spectrum_ascii(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    if method != Method::POST {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, true));
    let v = try_r!(body_obj(&body));
    if let Some(m) = missing_fields(&v, &["ascii", "obj_id", "instrument_id", "observed_at", "filename"]) {
        return err(400, &format!("Error parsing spectrum: Invalid/missing parameters: {m}"));
    }
    if let Err(m) = check_spectrum_body(&v, false) {
        return err(400, &format!("Error parsing spectrum: Invalid/missing parameters: {m}"));
    }
    let ((w, f, e), header) = match parse_ascii(&v) {
        Ok(x) => x,
        Err(e) => return err(400, &format!("Error parsing spectrum: {e}")),
    };
    let obj = v.get("obj_id").and_then(Value::as_str).unwrap_or_default().to_string();
    if !source_exists(&sp, &obj) {
        return err(400, &format!("Cannot find object with ID: {obj}"));
    }
    let mut extra = Map::new();
    extra.insert("original_file_string".into(), v.get("ascii").cloned().unwrap_or(Value::Null));
    extra.insert("original_file_filename".into(), v.get("filename").cloned().unwrap_or(Value::Null));
    extra.insert("altdata".into(), header);
    match store_spectrum(&sp, &v, (w, f, e), extra, "") {
        Ok(id) => ok(json!({"id": id})),
        Err(r) => r,
    }
}

async fn source_spectra(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let q = Pairs::from_query(&uri);
    let sort_by = q.last("sortBy").unwrap_or("observed_at");
    let sort_order = q.last("sortOrder").unwrap_or("asc");
    // `ObjSpectraHandler.get` (handlers/api/spectrum.py) takes only these two.
    if !matches!(sort_by, "observed_at" | "created_at") {
        return err(400, "Invalid sortBy, must be one of: observed_at, created_at.");
    }
    if !matches!(sort_order, "asc" | "desc") {
        return err(400, "Invalid sortOrder, must be one of: asc, desc.");
    }
    let normalization = q.last("normalization");
    if normalization.is_some_and(|n| n != "median") {
        return err(400, &format!("Invalid normalization: {}", normalization.unwrap_or_default()));
    }
    if !source_exists(&sp, &id) {
        return err(400, "Invalid object ID.");
    }
    let st = sp.lock();
    let mut rows: Vec<&Spectrum> = st
        .more
        .spectra
        .values()
        .filter(|s| s.meta.get("obj_id").and_then(Value::as_str) == Some(id.as_str()))
        .collect();
    let key = |s: &Spectrum| s.meta.get(sort_by).map(|v| v.to_string()).unwrap_or_default();
    rows.sort_by_key(|s| key(s));
    if sort_order == "desc" {
        rows.reverse();
    }
    let out: Vec<Value> = rows.into_iter().map(|s| spectrum_json(&sp, &st.more, s, false, normalization)).collect();
    ok(json!({"obj_id": id, "spectra": out}))
}

// ---------------------------------------------------------------- comments and annotations

fn key_of(r: Res) -> &'static str {
    match r {
        Res::Sources => "obj_id",
        Res::Spectra => "spectrum_id",
        Res::GcnEvent => "gcn_id",
        Res::Photometry => "photometry_id",
    }
}

fn matches_resource(row: &Obj, r: Res, rid: &str) -> bool {
    row.get("_resource").and_then(Value::as_str) == Some(r.name())
        && row.get(key_of(r)).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).as_deref()
            == Some(rid)
}

fn public_row(row: &Obj) -> Value {
    let mut m = row.clone();
    m.remove("_resource");
    Value::Object(m)
}

fn comment_rows(more: &More, r: Res, rid: &str) -> Vec<Value> {
    more.comments
        .rows
        .values()
        .filter(|c| matches_resource(c, r, rid))
        .map(|c| {
            let mut v = public_row(c);
            if let Value::Object(m) = &mut v {
                m.remove("attachment_bytes");
            }
            v
        })
        .collect()
}

fn annotation_rows(more: &More, r: Res, rid: &str) -> Vec<Value> {
    more.annotations.rows.values().filter(|c| matches_resource(c, r, rid)).map(public_row).collect()
}

/// The obj id behind a resource, or the reply when it cannot be accessed.
fn resolve(sp: &Sp, r: Res, rid: &str, annotation: bool) -> Result<(Value, Option<String>), Response> {
    match r {
        Res::Sources => {
            if source_exists(sp, rid) {
                Ok((json!(rid), Some(rid.to_string())))
            } else if annotation {
                Err(err(404, &format!("Obj {rid} not found")))
            } else {
                Err(err(400, &format!("Invalid object ID: {rid}")))
            }
        }
        Res::Spectra => {
            let Ok(id) = rid.parse::<i64>() else { return Err(err(400, &format!("Invalid spectrum id: {rid}"))) };
            let st = sp.lock();
            match st.more.spectra.get(&id) {
                Some(s) => Ok((json!(id), s.meta.get("obj_id").and_then(Value::as_str).map(str::to_string))),
                None if annotation => Err(err(403, &format!("Could not access spectrum {rid}."))),
                None => Err(err(400, &format!("Could not find any accessible spectra with ID {id}."))),
            }
        }
        Res::GcnEvent => {
            let Ok(id) = rid.parse::<i64>() else { return Err(err(400, &format!("Invalid gcn event id: {rid}"))) };
            if sp.lock().more.gcn.get(id).is_some() {
                Ok((json!(id), None))
            } else {
                Err(err(400, &format!("Could not find any accessible gcn events with ID {id}.")))
            }
        }
        Res::Photometry => {
            let Ok(id) = rid.parse::<u64>() else { return Err(err(400, &format!("Invalid photometry id: {rid}"))) };
            match super::photometry_obj(sp, id) {
                Some(obj) => Ok((json!(id), Some(obj))),
                None => Err(err(403, &format!("Could not access photometry {rid}."))),
            }
        }
    }
}

fn comments_impl(
    sp: &Sp,
    r: Res,
    method: Method,
    h: &HeaderMap,
    uri: &Uri,
    (rid, cid): (&str, Option<&str>),
    body: &[u8],
) -> Response {
    let needs = method != Method::GET;
    try_r!(auth(sp, h, needs));
    let cid = match cid {
        Some(c) => Some(try_r!(numeric(c))),
        None => None,
    };
    match (method, cid) {
        (Method::GET, None) => {
            let q = Pairs::from_query(uri);
            let (page, n) = try_r!(page_params(&q, 25, MAX_COMMENTS));
            let text = q.last("text").map(str::to_lowercase);
            if matches!(r, Res::Spectra | Res::GcnEvent) && rid.parse::<i64>().is_err() {
                return err(400, &format!("Invalid resource_id: {rid}"));
            }
            // Source comments: the main thread (channel IS NULL) unless `channel` names one.
            let channel = q.last("channel").filter(|c| !c.is_empty()).map(|c| json!(c)).unwrap_or(Value::Null);
            let st = sp.lock();
            let rows: Vec<Value> = comment_rows(&st.more, r, rid)
                .into_iter()
                .filter(|c| r != Res::Sources || c.get("channel").unwrap_or(&Value::Null) == &channel)
                .filter(|c| {
                    text.as_deref().is_none_or(|t| {
                        c.get("text").and_then(Value::as_str).is_some_and(|x| x.to_lowercase().contains(t))
                    })
                })
                .skip((page - 1) * n)
                .take(n)
                .map(|mut c| {
                    if let Value::Object(m) = &mut c {
                        m.insert("author".into(), author());
                        m.insert("resourceType".into(), json!(r.name()));
                    }
                    c
                })
                .collect();
            ok(Value::Array(rows))
        }
        (Method::GET, Some(cid)) => {
            let st = sp.lock();
            let Some(c) =
                st.more.comments.get(cid).filter(|c| c.get("_resource").and_then(Value::as_str) == Some(r.name()))
            else {
                return err(403, "Could not find any accessible comments.");
            };
            if !matches_resource(c, r, rid) {
                return err(400, &format!("Comment resource ID does not match resource ID given in path ({rid})"));
            }
            let mut v = public_row(c);
            if let Value::Object(m) = &mut v {
                m.insert("author".into(), author());
                m.insert("resourceType".into(), json!(r.name()));
            }
            ok(v)
        }
        (Method::POST, None) => {
            let v = try_r!(body_obj(body));
            let (rid_v, obj) = try_r!(resolve(sp, r, rid, false));
            let text = v.get("text").and_then(Value::as_str).map(str::to_string);
            let (att_name, att_bytes) = match v.get("attachment") {
                None | Some(Value::Null) => (Value::Null, Value::Null),
                Some(Value::Object(a)) if a.contains_key("body") && a.contains_key("name") => {
                    let b = a.get("body").and_then(Value::as_str).unwrap_or_default();
                    if b.is_empty() {
                        return err(400, "Comment attachment body is empty");
                    }
                    (a.get("name").cloned().unwrap_or(Value::Null), json!(b))
                }
                Some(_) => return err(400, "Malformed comment attachment"),
            };
            let Some(text) = text else { return err(400, "Missing required field: text") };
            let groups = try_r!(group_ids(&v, "group_ids"));
            // `data.get("channel") or None`, on sources only.
            let channel = match v.get("channel") {
                Some(Value::String(c)) if r == Res::Sources && !c.is_empty() => json!(c),
                _ => Value::Null,
            };
            let mut st = sp.lock();
            if let Some((id, _)) = st.more.comments.rows.iter().find(|(_, c)| {
                matches_resource(c, r, rid)
                    && c.get("text").and_then(Value::as_str) == Some(text.as_str())
                    && c.get("channel").unwrap_or(&Value::Null) == &channel
            }) {
                return ok(json!({"comment_id": id, "message": "Same comment already exists."}));
            }
            drop(st);
            let t = now(sp);
            let mut row = to_obj(json!({"text": text, "attachment_name": att_name, "attachment_bytes": att_bytes,
                "origin": v.get("origin").cloned().unwrap_or(Value::Null), "bot": true, "author_id": ADMIN_ID,
                "groups": groups_json(&groups), "created_at": t, "modified": t, "_resource": r.name()}));
            row.insert(key_of(r).into(), rid_v);
            if r == Res::Sources {
                row.insert("channel".into(), channel);
            }
            if let Some(o) = obj
                && r != Res::Sources
            {
                row.insert("obj_id".into(), json!(o));
            }
            st = sp.lock();
            let id = st.more.comments.insert(row);
            ok(json!({"comment_id": id}))
        }
        (Method::PUT, Some(cid)) => {
            let v = try_r!(body_obj(body));
            let t = now(sp);
            let mut st = sp.lock();
            let Some(c) = st.more.comments.rows.get_mut(&cid).filter(|c| matches_resource(c, r, rid)) else {
                return err(403, "Could not find any accessible comments.");
            };
            if let Some(x) = v.get("text") {
                c.insert("text".into(), x.clone());
            }
            if let Some(Value::Array(g)) = v.get("group_ids") {
                let g: Vec<i64> = g.iter().filter_map(Value::as_i64).collect();
                c.insert("groups".into(), groups_json(&g));
            }
            if let Some(Value::Object(a)) = v.get("attachment") {
                c.insert("attachment_name".into(), a.get("name").cloned().unwrap_or(Value::Null));
                c.insert("attachment_bytes".into(), a.get("body").cloned().unwrap_or(Value::Null));
            }
            c.insert("modified".into(), json!(t));
            ok(json!({}))
        }
        (Method::DELETE, Some(cid)) => {
            let mut st = sp.lock();
            let found = st.more.comments.get(cid).map(|c| matches_resource(c, r, rid));
            match found {
                None => err(403, "Could not find any accessible comments."),
                Some(false) => {
                    err(400, &format!("Comment resource ID does not match resource ID given in path ({rid})"))
                }
                Some(true) => {
                    st.more.comments.rows.remove(&cid);
                    ok(json!({}))
                }
            }
        }
        (Method::PUT | Method::DELETE, None) => err(400, "Must provide a valid (scalar integer) comment ID. "),
        _ => method_not_allowed(),
    }
}

fn annotations_impl(
    sp: &Sp,
    r: Res,
    method: Method,
    h: &HeaderMap,
    rid: &str,
    aid: Option<&str>,
    body: &[u8],
) -> Response {
    let needs = method != Method::GET;
    try_r!(auth(sp, h, needs));
    let aid = match aid {
        Some(a) => Some(try_r!(numeric(a))),
        None => None,
    };
    match (method, aid) {
        (Method::GET, None) => {
            if r != Res::Sources && rid.parse::<i64>().is_err() {
                return err(400, &format!("Invalid resource_id: {rid}"));
            }
            ok(Value::Array(annotation_rows(&sp.lock().more, r, rid)))
        }
        (Method::GET, Some(aid)) => {
            let st = sp.lock();
            let Some(a) =
                st.more.annotations.get(aid).filter(|a| a.get("_resource").and_then(Value::as_str) == Some(r.name()))
            else {
                return err(403, "Could not find any accessible annotations.");
            };
            if !matches_resource(a, r, rid) {
                return err(400, &format!("Annotation resource ID does not match resource ID given in path ({rid})"));
            }
            ok(public_row(a))
        }
        (Method::POST, None) => {
            let v = try_r!(body_obj(body));
            if let Some(r) = pydantic_missing(&v, &["origin", "data"]) {
                return r;
            }
            let origin = match v.get("origin") {
                Some(Value::String(s)) if s.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_') => {
                    s.clone()
                }
                Some(Value::String(_)) => {
                    return err(400, "Invalid/missing parameters: origin: String should match pattern '^\\w+'");
                }
                _ => return err(400, "Invalid/missing parameters: origin: Input should be a valid string"),
            };
            let Some(Value::Object(data)) = v.get("data") else {
                return err(400, "Invalid/missing parameters: data: Input should be a valid dictionary");
            };
            let groups = try_r!(group_ids(&v, "group_ids"));
            let (rid_v, obj) = try_r!(resolve(sp, r, rid, true));
            let t = now(sp);
            let mut st = sp.lock();
            if st.more.annotations.rows.values().any(|a| {
                matches_resource(a, r, rid) && a.get("origin").and_then(Value::as_str) == Some(origin.as_str())
            }) {
                return err(
                    400,
                    &format!(
                        "Annotation already exists: duplicate key value violates unique constraint: ({}, origin)=({rid}, {origin}) already exists.",
                        key_of(r)
                    ),
                );
            }
            let mut row = obj_from(&[
                ("data", Value::Object(data.clone())),
                ("origin", json!(origin)),
                ("author_id", json!(ADMIN_ID)),
                ("groups", groups_json(&groups)),
                ("created_at", json!(t)),
                ("modified", json!(t)),
                ("_resource", json!(r.name())),
            ]);
            row.insert(key_of(r).into(), rid_v);
            if let Some(o) = obj {
                row.insert("obj_id".into(), json!(o));
            }
            let id = st.more.annotations.insert(row);
            ok(json!({"annotation_id": id}))
        }
        (Method::PUT, Some(aid)) => {
            let v = try_r!(body_obj(body));
            if v.get("data").is_some_and(|d| !d.is_object() && !d.is_null()) {
                return err(400, "Invalid/missing parameters: data: Input should be a valid dictionary");
            }
            let groups = match v.get("group_ids") {
                Some(Value::Array(_)) => Some(try_r!(group_ids(&v, "group_ids"))),
                _ => None,
            };
            let t = now(sp);
            let mut st = sp.lock();
            let Some(a) = st
                .more
                .annotations
                .rows
                .get_mut(&aid)
                .filter(|a| a.get("_resource").and_then(Value::as_str) == Some(r.name()))
            else {
                return err(403, "Could not find any accessible annotations.");
            };
            if !matches_resource(a, r, rid) {
                return err(400, &format!("Annotation resource ID does not match resource ID given in path ({rid})"));
            }
            for k in ["data", "origin"] {
                if let Some(x) = v.get(k).filter(|x| !x.is_null()) {
                    a.insert(k.into(), x.clone());
                }
            }
            if let Some(g) = groups {
                a.insert("groups".into(), groups_json(&g));
            }
            a.insert("modified".into(), json!(t));
            ok(json!({}))
        }
        (Method::DELETE, Some(aid)) => {
            let mut st = sp.lock();
            let found = st
                .more
                .annotations
                .get(aid)
                .filter(|a| a.get("_resource").and_then(Value::as_str) == Some(r.name()))
                .map(|a| matches_resource(a, r, rid));
            match found {
                None => err(403, "Could not find any accessible annotations."),
                Some(false) => {
                    err(400, &format!("Annotation resource ID does not match resource ID given in path ({rid})"))
                }
                Some(true) => {
                    st.more.annotations.rows.remove(&aid);
                    ok(json!({}))
                }
            }
        }
        (Method::PUT, None) => err(400, "Must provide a valid (scalar integer) annotation ID. "),
        (Method::DELETE, None) => err(400, "Must provide a valid annotation ID. "),
        _ => method_not_allowed(),
    }
}

fn obj_from(pairs: &[(&str, Value)]) -> Obj {
    pairs.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect()
}

macro_rules! comment_handlers {
    ($list:ident, $one:ident, $res:expr) => {
        async fn $list(
            State(sp): State<Sp>,
            m: Method,
            h: HeaderMap,
            u: Uri,
            Path(rid): Path<String>,
            b: Bytes,
        ) -> Response {
            comments_impl(&sp, $res, m, &h, &u, (&rid, None), &b)
        }
        async fn $one(
            State(sp): State<Sp>,
            m: Method,
            h: HeaderMap,
            u: Uri,
            Path((rid, cid)): Path<(String, String)>,
            b: Bytes,
        ) -> Response {
            comments_impl(&sp, $res, m, &h, &u, (&rid, Some(&cid)), &b)
        }
    };
}

macro_rules! annotation_handlers {
    ($list:ident, $one:ident, $res:expr) => {
        async fn $list(State(sp): State<Sp>, m: Method, h: HeaderMap, Path(rid): Path<String>, b: Bytes) -> Response {
            annotations_impl(&sp, $res, m, &h, &rid, None, &b)
        }
        async fn $one(
            State(sp): State<Sp>,
            m: Method,
            h: HeaderMap,
            Path((rid, aid)): Path<(String, String)>,
            b: Bytes,
        ) -> Response {
            annotations_impl(&sp, $res, m, &h, &rid, Some(&aid), &b)
        }
    };
}

comment_handlers!(src_comments, src_comment, Res::Sources);

/// `CommentChannelHandler.get`: the names of a source's conversations, sorted.
async fn src_comment_channels(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let st = sp.lock();
    let mut names: Vec<String> = comment_rows(&st.more, Res::Sources, &id)
        .iter()
        .filter_map(|c| c.get("channel").and_then(Value::as_str).map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    ok(json!(names))
}

/// `ObjTNSHandler.get` (handlers/api/tns/obj_tns.py): checks the radius (arcsec, default
/// 2) and the object, queues a TNS lookup and answers an empty success. The sandbox has
/// no TNS: nothing changes.
async fn source_tns(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, Path(id): Path<String>) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let q = Pairs::from_query(&uri);
    let radius = match q.last("radius") {
        None => 2.0,
        Some(r) => match r.trim().parse::<f64>() {
            Ok(v) => v,
            Err(_) => return err(400, "radius must be a number"),
        },
    };
    if radius < 0.0 {
        return err(400, "radius must be non-negative");
    }
    if !source_exists(&sp, &id) {
        return err(400, &format!("No object available with ID {id}"));
    }
    ok(json!({}))
}

/// `PhotometryOriginHandler.get`: the route is kept but deprecated.
async fn photometry_origins(State(sp): State<Sp>, method: Method, h: HeaderMap) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    err(400, "This feature is deprecated")
}
comment_handlers!(spec_comments, spec_comment, Res::Spectra);
comment_handlers!(gcn_comments, gcn_comment, Res::GcnEvent);
annotation_handlers!(src_annotations, src_annotation, Res::Sources);
annotation_handlers!(spec_annotations, spec_annotation, Res::Spectra);
annotation_handlers!(phot_annotations, phot_annotation, Res::Photometry);

// ---------------------------------------------------------------- simple CRUD tables

#[derive(Clone, Copy)]
enum Tab {
    Streams,
    Filters,
    Telescopes,
    Taxonomies,
    Allocations,
    Assignments,
}

fn table(m: &mut More, t: Tab) -> &mut Table {
    match t {
        Tab::Streams => &mut m.streams,
        Tab::Filters => &mut m.filters,
        Tab::Telescopes => &mut m.telescopes,
        Tab::Taxonomies => &mut m.taxonomies,
        Tab::Allocations => &mut m.allocations,
        Tab::Assignments => &mut m.assignments,
    }
}

fn not_found_msg(t: Tab, id: i64) -> (u16, String) {
    match t {
        Tab::Streams => (400, format!("Could not retrieve stream with ID {id}.")),
        Tab::Filters => (400, format!("Cannot find a filter with ID: {id}.")),
        Tab::Telescopes => (400, format!("Could not load telescope with ID {id}")),
        Tab::Taxonomies => (400, "Taxonomy does not exist or is not available to user.".into()),
        Tab::Allocations => (400, format!("Could not retrieve allocation with ID {id}")),
        Tab::Assignments => (400, format!("Could not retrieve assignment with ID {id}")),
    }
}

fn list_table(sp: &Sp, t: Tab, filter: impl Fn(&Obj) -> bool) -> Response {
    let mut st = sp.lock();
    let rows: Vec<Value> =
        table(&mut st.more, t).rows.values().filter(|r| filter(r)).map(|r| Value::Object(r.clone())).collect();
    ok(Value::Array(rows))
}

fn get_row(sp: &Sp, t: Tab, id: i64) -> Response {
    let mut st = sp.lock();
    match table(&mut st.more, t).get(id) {
        Some(r) => ok(Value::Object(r.clone())),
        None => {
            let (s, m) = not_found_msg(t, id);
            err(s, &m)
        }
    }
}

fn update_row(sp: &Sp, t: Tab, id: i64, v: &Obj, keys: &[&str]) -> Response {
    let ts = now(sp);
    let mut st = sp.lock();
    let Some(r) = table(&mut st.more, t).rows.get_mut(&id) else {
        let (s, m) = match t {
            Tab::Telescopes => (400, "Invalid telescope ID.".to_string()),
            Tab::Taxonomies => (400, format!("Missing taxonomy with ID {id}")),
            _ => not_found_msg(t, id),
        };
        return err(s, &m);
    };
    for k in keys {
        if let Some(x) = v.get(*k) {
            r.insert((*k).to_string(), x.clone());
        }
    }
    r.insert("modified".into(), json!(ts));
    ok(json!({}))
}

fn delete_row(sp: &Sp, t: Tab, id: i64) -> Response {
    let mut st = sp.lock();
    match table(&mut st.more, t).rows.remove(&id) {
        Some(_) => ok(json!({})),
        None => {
            let (s, m) = match t {
                Tab::Telescopes => (400, "Invalid telescope ID.".to_string()),
                _ => not_found_msg(t, id),
            };
            err(s, &m)
        }
    }
}

fn insert_row(sp: &Sp, t: Tab, mut row: Obj) -> i64 {
    let ts = now(sp);
    row.insert("created_at".into(), json!(ts));
    row.insert("modified".into(), json!(ts));
    let mut st = sp.lock();
    table(&mut st.more, t).insert(row)
}

async fn streams(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            list_table(&sp, Tab::Streams, |_| true)
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(r) = pydantic_missing(&v, &["name"]) {
                return r;
            }
            if let Some(r) = pydantic_extra(&v, &["name", "altdata"]) {
                return r;
            }
            let id = insert_row(&sp, Tab::Streams, obj_fields(&v, &["name", "altdata"]));
            ok(json!({"id": id}))
        }
        _ => method_not_allowed(),
    }
}

async fn stream(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let id = try_r!(numeric(&id));
    match method {
        Method::GET => get_row(&sp, Tab::Streams, id),
        Method::PATCH => {
            let v = try_r!(body_obj(&body));
            if let Some(r) = pydantic_extra(&v, &["name", "altdata"]) {
                return r;
            }
            update_row(&sp, Tab::Streams, id, &v, &["name", "altdata"])
        }
        Method::DELETE => delete_row(&sp, Tab::Streams, id),
        _ => method_not_allowed(),
    }
}

async fn filters(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            list_table(&sp, Tab::Filters, |_| true)
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(r) = pydantic_missing(&v, &["name", "stream_id", "group_id"]) {
                return r;
            }
            let stream = v.get("stream_id").and_then(Value::as_i64).unwrap_or(-1);
            let group = v.get("group_id").and_then(Value::as_i64).unwrap_or(-1);
            if sp.lock().more.streams.get(stream).is_none() {
                return err(400, &format!("Invalid stream_id: {stream}"));
            }
            if !(1..=3).contains(&group) {
                return err(400, &format!("Invalid group_id: {group}"));
            }
            let id = insert_row(&sp, Tab::Filters, obj_fields(&v, &["name", "stream_id", "group_id"]));
            ok(json!({"id": id}))
        }
        _ => method_not_allowed(),
    }
}

async fn filter(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let Ok(id) = id.parse::<i64>() else { return err(400, &format!("Invalid filter_id: {id}")) };
    match method {
        Method::GET => get_row(&sp, Tab::Filters, id),
        Method::PATCH => {
            let v = try_r!(body_obj(&body));
            let current = sp.lock().more.filters.get(id).cloned();
            let Some(cur) = current else { return err(400, &format!("Cannot find a filter with ID: {id}.")) };
            for k in ["group_id", "stream_id"] {
                if v.get(k).is_some_and(|x| Some(x) != cur.get(k)) {
                    return err(400, "Cannot update group_id or stream_id.");
                }
            }
            update_row(&sp, Tab::Filters, id, &v, &["name", "altdata"])
        }
        Method::DELETE => delete_row(&sp, Tab::Filters, id),
        _ => method_not_allowed(),
    }
}

const TELESCOPE_FIELDS: [&str; 10] = [
    "name",
    "nickname",
    "lat",
    "lon",
    "elevation",
    "diameter",
    "skycam_link",
    "weather_link",
    "robotic",
    "fixed_location",
];

async fn telescopes(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let q = Pairs::from_query(&uri);
            let name = q.last("name").map(str::to_string);
            let f = |k: &str| q.last(k).and_then(|x| x.parse::<f64>().ok());
            let (lat_min, lat_max, lon_min, lon_max) =
                (f("latitudeMin"), f("latitudeMax"), f("longitudeMin"), f("longitudeMax"));
            list_table(&sp, Tab::Telescopes, |r| {
                let lat = r.get("lat").and_then(Value::as_f64).unwrap_or(0.0);
                let lon = r.get("lon").and_then(Value::as_f64).unwrap_or(0.0);
                name.as_deref().is_none_or(|n| {
                    r.get("name").and_then(Value::as_str).is_some_and(|x| x.to_lowercase().contains(&n.to_lowercase()))
                }) && lat_min.is_none_or(|x| lat >= x)
                    && lat_max.is_none_or(|x| lat <= x)
                    && lon_min.is_none_or(|x| lon >= x)
                    && lon_max.is_none_or(|x| lon <= x)
            })
        }
        Method::POST => {
            // `@auth_or_token` only: any valid token may create a telescope.
            try_r!(auth(&sp, &h, false));
            let v = try_r!(body_obj(&body));
            if let Some(r) = pydantic_missing(&v, &["name", "nickname", "diameter"]) {
                return r;
            }
            let name = v.get("name").cloned();
            if sp.lock().more.telescopes.rows.values().any(|t| t.get("name") == name.as_ref()) {
                return err(400, &format!("Telescope with name {} already exists.", name.unwrap_or(Value::Null)));
            }
            let mut row = obj_fields(&v, &TELESCOPE_FIELDS);
            row.entry("robotic").and_modify(|x| {
                if x.is_null() {
                    *x = json!(false)
                }
            });
            row.entry("fixed_location").and_modify(|x| {
                if x.is_null() {
                    *x = json!(true)
                }
            });
            let id = insert_row(&sp, Tab::Telescopes, row);
            ok(json!({"id": id}))
        }
        _ => method_not_allowed(),
    }
}

async fn telescope(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let id = try_r!(numeric(&id));
    match method {
        Method::GET => get_row(&sp, Tab::Telescopes, id),
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            update_row(&sp, Tab::Telescopes, id, &v, &TELESCOPE_FIELDS)
        }
        Method::DELETE => delete_row(&sp, Tab::Telescopes, id),
        _ => method_not_allowed(),
    }
}

async fn taxonomies(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            list_table(&sp, Tab::Taxonomies, |_| true)
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(r) = pydantic_extra(
                &v,
                &["name", "version", "hierarchy", "hierarchy_file", "provenance", "group_ids", "isLatest"],
            ) {
                return r;
            }
            if let Some(r) = pydantic_missing(&v, &["name", "version"]) {
                return r;
            }
            let Some(hier) = v.get("hierarchy").filter(|h| h.is_object()).cloned() else {
                return err(400, "A JSON of the taxonomy must be given");
            };
            if hier.get("class").and_then(Value::as_str).is_none() {
                return err(400, "Hierarchy does not validate against the schema.");
            }
            let groups = try_r!(group_ids(&v, "group_ids"));
            let latest = v.get("isLatest").and_then(Value::as_bool).unwrap_or(true);
            let name = v.get("name").cloned().unwrap_or(Value::Null);
            if latest {
                let mut st = sp.lock();
                for t in st.more.taxonomies.rows.values_mut().filter(|t| t.get("name") == Some(&name)) {
                    t.insert("isLatest".into(), json!(false));
                }
            }
            let row = obj_from(&[
                ("name", name),
                ("version", v.get("version").cloned().unwrap_or(Value::Null)),
                ("hierarchy", hier),
                ("provenance", v.get("provenance").cloned().unwrap_or(Value::Null)),
                ("isLatest", json!(latest)),
                ("groups", groups_json(&groups)),
            ]);
            let id = insert_row(&sp, Tab::Taxonomies, row);
            ok(json!({"taxonomy_id": id}))
        }
        _ => method_not_allowed(),
    }
}

async fn taxonomy(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let Ok(id) = id.parse::<i64>() else { return err(400, &format!("Invalid taxonomy_id: {id}")) };
    match method {
        Method::GET => get_row(&sp, Tab::Taxonomies, id),
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            if let Some(r) =
                pydantic_extra(&v, &["name", "version", "provenance", "group_ids", "isLatest", "hierarchy"])
            {
                return r;
            }
            update_row(&sp, Tab::Taxonomies, id, &v, &["name", "version", "provenance", "isLatest"])
        }
        Method::DELETE => {
            let used = sp
                .lock()
                .more
                .classifications
                .rows
                .values()
                .any(|c| c.get("taxonomy_id").and_then(Value::as_i64) == Some(id));
            if used {
                return err(400, "Taxonomy has associated classifications and cannot be deleted.");
            }
            match sp.lock().more.taxonomies.rows.remove(&id) {
                Some(_) => ok(json!({})),
                None => err(400, &format!("Invalid taxonomy_id: {id}")),
            }
        }
        _ => method_not_allowed(),
    }
}

const ALLOCATION_FIELDS: [&str; 8] =
    ["pi", "proposal_id", "start_date", "end_date", "hours_allocated", "group_id", "instrument_id", "_altdata"];

fn instrument_known(i: i64) -> bool {
    super::INSTRUMENTS.iter().any(|x| x.0 == i) || i == SPECTROGRAPH
}

async fn allocations(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let q = Pairs::from_query(&uri);
            let inst = match q.last("instrument_id") {
                Some(s) => match s.parse::<f64>() {
                    Ok(x) => Some(x as i64),
                    Err(_) => return err(400, &format!("Invalid instrument_id: {s}")),
                },
                None => None,
            };
            list_table(&sp, Tab::Allocations, |r| {
                inst.is_none_or(|i| r.get("instrument_id").and_then(Value::as_i64) == Some(i))
            })
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(m) = missing_fields(&v, &["hours_allocated", "group_id", "instrument_id"]) {
                return err(400, &format!("Invalid/missing parameters: {m}"));
            }
            let inst = v.get("instrument_id").and_then(Value::as_i64).unwrap_or(-1);
            if !instrument_known(inst) {
                return err(400, &format!("Could not find instrument with ID {inst}."));
            }
            let g = v.get("group_id").and_then(Value::as_i64).unwrap_or(-1);
            if !(1..=3).contains(&g) {
                return err(400, &format!("Could not find group with ID {g}."));
            }
            let mut row = obj_fields(&v, &ALLOCATION_FIELDS);
            row.insert("types".into(), v.get("types").cloned().unwrap_or(json!(["triggered"])));
            row.insert(
                "default_share_group_ids".into(),
                v.get("default_share_group_ids").cloned().unwrap_or(json!([])),
            );
            let id = insert_row(&sp, Tab::Allocations, row);
            ok(json!({"id": id}))
        }
        _ => method_not_allowed(),
    }
}

async fn allocation(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let Ok(id) = id.parse::<i64>() else { return err(400, "Invalid API endpoint") };
    match method {
        Method::GET => {
            let q = Pairs::from_query(&uri);
            // handlers/api/allocation.py: 50 requests a page by default (the docstring says
            // 10), sortBy/sortOrder checked, and the reply is
            // {"allocation": {..., "requests": [...]}, "totalMatches": N}.
            let (page, n) = try_r!(page_params(&q, 50, MAX_FOLLOWUP));
            if !matches!(q.last("sortBy").unwrap_or("created_at"), "created_at" | "modified" | "status" | "obj") {
                return err(400, "Invalid sortBy value.");
            }
            if !matches!(q.last("sortOrder").unwrap_or("asc"), "asc" | "desc") {
                return err(400, "Invalid sortOrder value.");
            }
            let st = sp.lock();
            let Some(a) = st.more.allocations.get(id) else {
                return err(400, "Could not retrieve allocation.");
            };
            let mut a = a.clone();
            let reqs: Vec<&Obj> = st
                .more
                .followups
                .rows
                .values()
                .filter(|f| f.get("allocation_id").and_then(Value::as_i64) == Some(id))
                .collect();
            let total = reqs.len();
            let page_reqs: Vec<Value> =
                reqs.into_iter().skip((page - 1) * n).take(n).map(|r| Value::Object(r.clone())).collect();
            a.insert("requests".into(), Value::Array(page_reqs));
            ok(json!({"allocation": Value::Object(a), "totalMatches": total}))
        }
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            update_row(&sp, Tab::Allocations, id, &v, &ALLOCATION_FIELDS)
        }
        Method::DELETE => delete_row(&sp, Tab::Allocations, id),
        _ => method_not_allowed(),
    }
}

async fn assignments(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            list_table(&sp, Tab::Assignments, |_| true)
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(m) = missing_fields(&v, &["priority", "obj_id", "run_id"]) {
                return err(400, &format!("Invalid/missing parameters: {m}"));
            }
            let prio = v.get("priority").map(|p| p.as_str().map(str::to_string).unwrap_or_else(|| p.to_string()));
            if !prio.as_deref().is_some_and(|p| matches!(p, "1" | "2" | "3" | "4" | "5")) {
                return err(400, "Invalid/missing parameters: {'priority': ['Must be one of: 1, 2, 3, 4, 5.']}");
            }
            let run = v.get("run_id").and_then(Value::as_i64).unwrap_or(-1);
            if sp.lock().more.runs.get(run).is_none() {
                return err(400, &format!("Invalid observing run ID: {run}"));
            }
            let obj = v.get("obj_id").and_then(Value::as_str).unwrap_or_default().to_string();
            if !source_exists(&sp, &obj) {
                return err(400, &format!("Invalid source ID: {obj}"));
            }
            let row = obj_from(&[
                ("requester_id", json!(ADMIN_ID)),
                ("last_modified_by_id", json!(ADMIN_ID)),
                ("obj_id", json!(obj)),
                ("comment", v.get("comment").cloned().unwrap_or(Value::Null)),
                ("status", v.get("status").cloned().unwrap_or(json!("pending"))),
                ("priority", json!(prio)),
                ("run_id", json!(run)),
            ]);
            let id = insert_row(&sp, Tab::Assignments, row);
            ok(json!({"id": id}))
        }
        _ => method_not_allowed(),
    }
}

async fn assignment(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let Ok(id) = id.parse::<i64>() else { return err(400, "Invalid API endpoint") };
    match method {
        Method::GET => get_row(&sp, Tab::Assignments, id),
        Method::PUT => {
            let v = try_r!(body_obj(&body));
            if let Some(p) = v.get("priority") {
                let p = p.as_str().map(str::to_string).unwrap_or_else(|| p.to_string());
                if !matches!(p.as_str(), "1" | "2" | "3" | "4" | "5") {
                    return err(400, "Invalid/missing parameters: {'priority': ['Must be one of: 1, 2, 3, 4, 5.']}");
                }
            }
            update_row(&sp, Tab::Assignments, id, &v, &["comment", "status", "priority"])
        }
        Method::DELETE => delete_row(&sp, Tab::Assignments, id),
        _ => method_not_allowed(),
    }
}

// ---------------------------------------------------------------- follow-up requests

async fn followups(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
    match method {
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let q = Pairs::from_query(&uri);
            let sort_by = q.last("sortBy").unwrap_or("created_at");
            let sort_order = q.last("sortOrder").unwrap_or("asc");
            if !matches!(
                sort_by,
                "created_at" | "modified" | "status" | "obj_id" | "requester" | "instrument" | "priority"
            ) {
                return err(400, "Invalid sortBy value.");
            }
            if !matches!(sort_order, "asc" | "desc") {
                return err(400, "Invalid sortOrder value.");
            }
            let (page, n) = try_r!(page_params(&q, 100, MAX_FOLLOWUP));
            let alloc = match q.last("allocationID") {
                Some(s) => match s.parse::<i64>() {
                    Ok(x) => Some(x),
                    Err(_) => return err(400, "Allocation ID must be an integer."),
                },
                None => None,
            };
            let source = q.last("sourceID").map(|s| s.trim().to_string());
            let status = q.last("status").map(str::to_string);
            let st = sp.lock();
            let mut rows: Vec<&Obj> = st
                .more
                .followups
                .rows
                .values()
                .filter(|r| {
                    alloc.is_none_or(|a| r.get("allocation_id").and_then(Value::as_i64) == Some(a))
                        && source
                            .as_deref()
                            .is_none_or(|s| r.get("obj_id").and_then(Value::as_str).is_some_and(|o| o.contains(s)))
                        && status
                            .as_deref()
                            .is_none_or(|s| r.get("status").and_then(Value::as_str).is_some_and(|x| x.contains(s)))
                })
                .collect();
            let key = |r: &Obj| match sort_by {
                "modified" | "status" | "obj_id" => r.get(sort_by).map(Value::to_string).unwrap_or_default(),
                _ => format!("{:012}", r.get("id").and_then(Value::as_i64).unwrap_or(0)),
            };
            rows.sort_by_key(|r| key(r));
            if sort_order == "desc" {
                rows.reverse();
            }
            let total = rows.len();
            let out: Vec<Value> =
                rows.into_iter().skip((page - 1) * n).take(n).map(|r| Value::Object(r.clone())).collect();
            ok(json!({"followup_requests": out, "totalMatches": total, "pageNumber": page, "numPerPage": n}))
        }
        Method::POST => {
            try_r!(auth(&sp, &h, true));
            let v = try_r!(body_obj(&body));
            if let Some(m) = missing_fields(&v, &["obj_id", "allocation_id"]) {
                return err(400, &format!("Invalid / missing parameters: {m}"));
            }
            let Some(alloc) = v.get("allocation_id").and_then(|x| x.as_i64().or_else(|| x.as_str()?.parse().ok()))
            else {
                return err(400, "Invalid / missing parameters: {'allocation_id': ['Not a valid integer.']}");
            };
            let obj = v.get("obj_id").and_then(Value::as_str).unwrap_or_default().to_string();
            if sp.lock().more.allocations.get(alloc).is_none() {
                return err(400, &format!("Could not find allocation with ID {alloc}."));
            }
            if !source_exists(&sp, &obj) {
                return err(400, &format!("Could not find object with ID {obj}."));
            }
            let targets = match v.get("target_group_ids") {
                Some(Value::Array(_)) => try_r!(group_ids(&v, "target_group_ids")),
                _ => Vec::new(),
            };
            let status = v.get("status").and_then(Value::as_str).unwrap_or("pending submission").to_string();
            let row = obj_from(&[
                ("obj_id", json!(obj)),
                ("allocation_id", json!(alloc)),
                ("payload", v.get("payload").cloned().unwrap_or(Value::Null)),
                ("status", json!(status)),
                ("requester_id", json!(ADMIN_ID)),
                ("last_modified_by_id", json!(ADMIN_ID)),
                ("target_groups", groups_json(&targets)),
                ("watchers", json!([])),
            ]);
            let ts = now(&sp);
            let mut row = row;
            row.insert("created_at".into(), json!(ts));
            row.insert("modified".into(), json!(ts));
            let id = sp.lock().more.followups.insert(row);
            ok(json!({"id": id, "request_status": status}))
        }
        _ => method_not_allowed(),
    }
}

/// `FOLLOWUP_CONSTRAINT_KEYS` (handlers/api/followup_request.py): read on creation only.
const FOLLOWUP_CONSTRAINT_KEYS: [&str; 9] = [
    "not_if_duplicates",
    "source_group_ids",
    "ignore_source_group_ids",
    "not_if_classified",
    "not_if_spectra_exist",
    "not_if_tns_classified",
    "not_if_tns_reported",
    "ignore_allocation_ids",
    "not_if_assignment_exists",
];

async fn followup(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    try_r!(auth(&sp, &h, method != Method::GET));
    let parsed = id.parse::<i64>();
    match method {
        Method::GET => {
            let Ok(id) = parsed else { return err(400, "Could not retrieve followup request.") };
            match sp.lock().more.followups.get(id) {
                Some(r) => ok(Value::Object(r.clone())),
                None => err(400, "Could not retrieve followup request."),
            }
        }
        Method::PUT => {
            let Ok(id) = parsed else { return err(400, "Request id must be an int.") };
            let v = try_r!(body_obj(&body));
            let ts = now(&sp);
            let mut st = sp.lock();
            let Some(r) = st.more.followups.rows.get_mut(&id) else {
                return err(400, &format!("Missing FollowUpRequest with id {id}"));
            };
            // Without `status`, the update loads the body into the FollowupRequest model
            // schema (marshmallow, unknown fields refused): the create-only constraints
            // are unknown fields there.
            if !v.contains_key("status") {
                let unknown: Vec<String> = v
                    .keys()
                    .filter(|k| FOLLOWUP_CONSTRAINT_KEYS.contains(&k.as_str()) || k.as_str() == "radius")
                    .map(|k| format!("'{k}': ['Unknown field.']"))
                    .collect();
                if !unknown.is_empty() {
                    return err(
                        400,
                        &format!("Error parsing followup request submit/update: \"{{{}}}\"", unknown.join(", ")),
                    );
                }
            }
            if let Some(Value::Object(p)) = v.get("payload") {
                let mut merged = r.get("payload").and_then(Value::as_object).cloned().unwrap_or_default();
                merged.extend(p.clone());
                r.insert("payload".into(), Value::Object(merged));
            }
            for k in ["status", "obj_id", "allocation_id"] {
                if let Some(x) = v.get(k) {
                    r.insert(k.into(), x.clone());
                }
            }
            r.insert("last_modified_by_id".into(), json!(ADMIN_ID));
            r.insert("modified".into(), json!(ts));
            ok(json!({}))
        }
        Method::DELETE => {
            let Ok(id) = parsed else { return err(400, "Request id must be an int.") };
            match sp.lock().more.followups.rows.remove(&id) {
                Some(_) => ok(json!({})),
                None => err(400, &format!("Missing FollowUpRequest with id {id}")),
            }
        }
        _ => method_not_allowed(),
    }
}

// ---------------------------------------------------------------- galaxies, GCN, localizations

fn galaxies_impl(sp: &Sp, method: Method, h: &HeaderMap, uri: &Uri, path_name: Option<&str>) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(sp, h, false));
    let q = Pairs::from_query(uri);
    let page = match q.last("pageNumber").unwrap_or("1").parse::<usize>() {
        Ok(p) if p >= 1 => p,
        _ => return err(400, "pageNumber fails: Invalid page number value."),
    };
    let n = match q.last("numPerPage").unwrap_or("1000").parse::<usize>() {
        Ok(n) if n >= 1 => n.min(MAX_GALAXIES),
        _ => return err(400, "numPerPage fails: Invalid numPerPage value."),
    };
    let catalog = path_name.or(q.last("catalog_name")).map(str::to_string);
    let f = |k: &str| q.last(k).and_then(|x| x.parse::<f64>().ok());
    let cone = match (q.last("ra"), q.last("dec"), q.last("radius")) {
        (None, None, None) => None,
        _ => match (f("ra"), f("dec"), f("radius")) {
            (Some(a), Some(d), Some(r)) => Some((a, d, r)),
            _ => {
                return err(
                    400,
                    "get_galaxies fails: Invalid values for ra, dec or radius - could not convert to float",
                );
            }
        },
    };
    let (zmin, zmax) = (f("minRedshift"), f("maxRedshift"));
    let st = sp.lock();
    let rows: Vec<&Obj> = st
        .more
        .galaxies
        .iter()
        .filter(|g| {
            let ra = g.get("ra").and_then(Value::as_f64).unwrap_or(0.0);
            let dec = g.get("dec").and_then(Value::as_f64).unwrap_or(0.0);
            let z = g.get("redshift").and_then(Value::as_f64);
            catalog.as_deref().is_none_or(|c| g.get("catalog_name").and_then(Value::as_str) == Some(c))
                && cone.is_none_or(|(a, d, r)| separation_arcsec(a, d, ra, dec) <= r * 3600.0)
                && zmin.is_none_or(|m| z.is_some_and(|z| z >= m))
                && zmax.is_none_or(|m| z.is_some_and(|z| z <= m))
        })
        .collect();
    let total = rows.len();
    let out: Vec<Value> = rows.into_iter().skip((page - 1) * n).take(n).map(|g| Value::Object(g.clone())).collect();
    ok(json!({"galaxies": out, "totalMatches": total, "page": page, "numPerPage": n}))
}

async fn galaxies(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri) -> Response {
    galaxies_impl(&sp, method, &h, &uri, None)
}

async fn galaxies_named(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
) -> Response {
    galaxies_impl(&sp, method, &h, &uri, Some(&name))
}

fn find_event<'a>(more: &'a More, dateobs: &chrono::NaiveDateTime) -> Option<&'a Obj> {
    more.gcn.rows.values().find(|e| {
        e.get("dateobs")
            .and_then(Value::as_str)
            .and_then(parse_time)
            .is_some_and(|t| (t - *dateobs).num_milliseconds().abs() < 1000)
    })
}

async fn gcn_events(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let q = Pairs::from_query(&uri);
    let (page, n) = try_r!(page_params(&q, 10, MAX_GCNEVENTS));
    let start = q.last("startDate").and_then(parse_time);
    let end = q.last("endDate").and_then(parse_time);
    let st = sp.lock();
    let rows: Vec<&Obj> = st
        .more
        .gcn
        .rows
        .values()
        .filter(|e| {
            let t = e.get("dateobs").and_then(Value::as_str).and_then(parse_time);
            start.is_none_or(|s| t.is_some_and(|t| t >= s)) && end.is_none_or(|x| t.is_some_and(|t| t <= x))
        })
        .collect();
    let total = rows.len();
    let out: Vec<Value> = rows.into_iter().skip((page - 1) * n).take(n).map(|e| Value::Object(e.clone())).collect();
    ok(json!({"events": out, "totalMatches": total}))
}

async fn gcn_event(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(dateobs): Path<String>) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let Some(t) = parse_time(&dateobs) else {
        return err(
            400,
            &format!("Invalid dateobs: Could not match input '{dateobs}' to any of the supported formats."),
        );
    };
    let st = sp.lock();
    match find_event(&st.more, &t) {
        Some(e) => {
            let mut e = e.clone();
            let id = e.get("id").and_then(Value::as_i64).unwrap_or(0);
            let comments: Vec<Value> = comment_rows(&st.more, Res::GcnEvent, &id.to_string())
                .into_iter()
                .map(|mut c| {
                    if let Value::Object(m) = &mut c {
                        m.insert("author".into(), author());
                        m.insert("resourceType".into(), json!("gcn_event"));
                    }
                    c
                })
                .collect();
            e.insert("comments".into(), Value::Array(comments));
            e.insert("event_users".into(), json!([]));
            e.insert("summaries".into(), json!([]));
            ok(Value::Object(e))
        }
        None => err(404, "GCN event not found"),
    }
}

async fn localization(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path((dateobs, name)): Path<(String, String)>,
) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let Some(t) = parse_time(&dateobs) else {
        return err(
            400,
            &format!("Invalid dateobs: Could not match input '{dateobs}' to any of the supported formats."),
        );
    };
    let st = sp.lock();
    let loc = find_event(&st.more, &t).and_then(|e| {
        e.get("localizations")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|l| l.get("localization_name").and_then(Value::as_str) == Some(name.as_str())))
            .cloned()
    });
    match loc {
        Some(l) => ok(l),
        None => err(404, "Localization not found"),
    }
}

// ---------------------------------------------------------------- candidates, source groups

async fn candidate(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, Path(id): Path<String>) -> Response {
    match method {
        Method::HEAD => {
            try_r!(auth(&sp, &h, false));
            if candidate_filters(&sp, &id).is_empty() {
                err(404, &format!("No candidate with object ID {id}"))
            } else {
                ok(json!({}))
            }
        }
        Method::GET => {
            try_r!(auth(&sp, &h, false));
            let filters = candidate_filters(&sp, &id);
            let src = {
                let st = sp.lock();
                st.index.get(&id).and_then(|i| st.sources.get(*i)).cloned()
            };
            let (Some(s), false) = (src, filters.is_empty()) else { return err(400, "Invalid ID") };
            let q = Pairs::from_query(&uri);
            let mut v = super::source_json(&sp, &s, false);
            if let Value::Object(m) = &mut v {
                m.insert("filter_ids".into(), json!(filters));
                m.insert("passing_alerts".into(), json!([]));
                m.insert("is_source".into(), json!(!s.groups.is_empty()));
                m.insert("saved_groups".into(), groups_json(&s.groups));
                if q.last("includeComments").and_then(parse_bool).unwrap_or(false) {
                    m.insert("comments".into(), Value::Array(comments_of(&sp, &id)));
                }
                // `include_requested_obj_data`: photometry and spectra on request.
                if q.last("includePhotometry").and_then(parse_bool).unwrap_or(false) {
                    if let Value::Object(with) = super::source_json(&sp, &s, true) {
                        if let Some(p) = with.get("photometry") {
                            m.insert("photometry".into(), p.clone());
                        }
                    }
                }
                if q.last("includeSpectra").and_then(parse_bool).unwrap_or(false) {
                    let st = sp.lock();
                    let spectra: Vec<Value> = st
                        .more
                        .spectra
                        .values()
                        .filter(|x| x.meta.get("obj_id").and_then(Value::as_str) == Some(id.as_str()))
                        .map(|x| spectrum_json(&sp, &st.more, x, false, None))
                        .collect();
                    m.insert("spectra".into(), Value::Array(spectra));
                }
            }
            ok(v)
        }
        Method::DELETE => {
            try_r!(auth(&sp, &h, true));
            err(400, "Invalid API endpoint")
        }
        _ => method_not_allowed(),
    }
}

/// `POST /api/candidates` (called from the parent's `/api/candidates` handler).
pub(super) fn post_candidate(sp: &Sp, h: &HeaderMap, body: &[u8]) -> Response {
    try_r!(auth(sp, h, true));
    let v = try_r!(body_obj(body));
    let Some(id) =
        v.get("id").and_then(|x| x.as_str().map(str::to_string).or_else(|| x.as_i64().map(|n| n.to_string())))
    else {
        return err(400, "Missing required parameter: `id`.");
    };
    let exists = source_exists(sp, &id);
    if !exists {
        if v.get("ra").is_none_or(Value::is_null) {
            return err(400, "RA must not be null for a new Obj");
        }
        if v.get("dec").is_none_or(Value::is_null) {
            return err(400, "Dec must not be null for a new Obj");
        }
    }
    let Some(passed_at) = v.get("passed_at").filter(|x| !x.is_null()) else {
        return err(400, "Missing required parameter: `passed_at`.");
    };
    let Some(passed) = passed_at.as_str().and_then(parse_time) else {
        return err(
            400,
            &format!("Invalid passedAt value: Could not match input '{}' to any of the supported formats.", passed_at),
        );
    };
    let Some(Value::Array(fids)) = v.get("filter_ids") else {
        return err(400, "Missing required filter_ids parameter.");
    };
    let fids: Vec<i64> = fids.iter().filter_map(Value::as_i64).collect();
    let valid: Vec<i64> = {
        let st = sp.lock();
        fids.iter().copied().filter(|f| st.more.filters.get(*f).is_some()).collect()
    };
    if valid.is_empty() {
        return err(400, "At least one valid filter ID must be provided.");
    }
    let (ra, dec) = match (v.get("ra").and_then(Value::as_f64), v.get("dec").and_then(Value::as_f64)) {
        (Some(a), Some(d)) => (a, d),
        _ => (0.0, 0.0),
    };
    let mut st = sp.lock();
    if !exists {
        let n = st.sources.len();
        st.index.insert(id.clone(), n);
        st.sources.push(super::Source {
            id: id.clone(),
            ra,
            dec,
            redshift: v.get("redshift").and_then(Value::as_f64),
            groups: Vec::new(),
            saved: std::time::Duration::from_secs(20_000_000),
            sky: None,
            tns: None,
        });
    }
    let passed = passed.format("%Y-%m-%dT%H:%M:%S").to_string();
    let mut ids = Vec::new();
    for f in valid {
        if st.more.candidates.iter().any(|c| c.obj_id == id && c.filter_id == f && c.passed_at == passed) {
            continue;
        }
        st.more.next_candidate += 1;
        let cid = st.more.next_candidate;
        st.more.candidates.push(Candidate { obj_id: id.clone(), filter_id: f, passed_at: passed.clone() });
        ids.push(cid);
    }
    ok(json!({"ids": ids}))
}

async fn candidate_filter(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path((id, fid)): Path<(String, String)>,
) -> Response {
    if method != Method::DELETE {
        try_r!(auth(&sp, &h, false));
        return if method == Method::GET { err(400, "Invalid ID") } else { method_not_allowed() };
    }
    try_r!(auth(&sp, &h, true));
    let Ok(fid) = fid.parse::<i64>() else { return err(400, "Invalid API endpoint") };
    let mut st = sp.lock();
    let before = st.more.candidates.len();
    st.more.candidates.retain(|c| !(c.obj_id == id && c.filter_id == fid));
    if st.more.candidates.len() == before {
        return err(400, "Invalid (obj_id, filter_id) pairing - no matching candidates");
    }
    ok(json!({}))
}

async fn source_groups_of(State(sp): State<Sp>, method: Method, h: HeaderMap, Path(id): Path<String>) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let st = sp.lock();
    let Some(s) = st.index.get(&id).and_then(|i| st.sources.get(*i)) else {
        return err(400, &format!("Invalid object ID: {id}"));
    };
    let mut g = groups_json(&s.groups);
    if let Value::Array(a) = &mut g {
        for x in a.iter_mut() {
            if let Value::Object(m) = x {
                m.insert("description".into(), Value::Null);
                m.insert("private".into(), json!(false));
            }
        }
    }
    ok(g)
}

async fn source_groups(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    if method != Method::POST {
        try_r!(auth(&sp, &h, false));
        return method_not_allowed();
    }
    try_r!(auth(&sp, &h, false));
    let v = try_r!(body_obj(&body));
    if let Some(r) = pydantic_extra(&v, &["objId", "inviteGroupIds", "unsaveGroupIds"]) {
        return r;
    }
    if let Some(r) = pydantic_missing(&v, &["objId"]) {
        return r;
    }
    let list = |k: &str| -> Result<Vec<i64>, Response> {
        match v.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    x.as_i64().ok_or_else(|| {
                        err(400, &format!("Invalid/missing parameters: {k}.{i}: Input should be a valid integer"))
                    })
                })
                .collect(),
            Some(_) => Err(err(400, &format!("Invalid/missing parameters: {k}: Input should be a valid list"))),
        }
    };
    let invite = try_r!(list("inviteGroupIds"));
    let unsave = try_r!(list("unsaveGroupIds"));
    let obj = v.get("objId").and_then(Value::as_str).unwrap_or_default().to_string();
    if invite.is_empty() && unsave.is_empty() {
        return err(400, "Missing required parameters: inviteGroupIds or unsaveGroupIds");
    }
    let mut st = sp.lock();
    let Some(i) = st.index.get(&obj).copied() else { return err(404, &format!("Obj {obj} not found")) };
    let Some(s) = st.sources.get_mut(i) else { return err(404, &format!("Obj {obj} not found")) };
    for g in &invite {
        if !(1..=3).contains(g) {
            return err(400, &format!("Invalid group ID: {g}"));
        }
        if s.groups.contains(g) {
            return err(400, &format!("Source already saved to group w/ ID {g}"));
        }
    }
    for g in &unsave {
        if !s.groups.contains(g) {
            return err(400, "Specified source is not saved to group from which it was to be unsaved.");
        }
    }
    s.groups.extend(invite.iter().copied());
    s.groups.retain(|g| !unsave.contains(g));
    ok(json!({}))
}

fn source_exists_impl(sp: &Sp, method: Method, h: &HeaderMap, uri: &Uri, id: Option<&str>) -> Response {
    if method != Method::GET {
        return method_not_allowed();
    }
    try_r!(auth(sp, h, false));
    let q = Pairs::from_query(uri);
    let raw = (q.last("ra"), q.last("dec"), q.last("radius"));
    let f = |x: Option<&str>| x.and_then(|s| s.parse::<f64>().ok()).filter(|v| *v != 0.0);
    let (ra, dec, radius) = (f(raw.0), f(raw.1), f(raw.2));
    let all = ra.is_some() && dec.is_some() && radius.is_some();
    if !all && id.is_none() {
        return err(400, "Provide an obj_id, or either ra, dec, and radius for spatial filtering.");
    }
    let st = sp.lock();
    if let Some(id) = id {
        if st.index.contains_key(id) {
            return ok(
                json!({"source_exists": true, "message": format!("A source with the name {id} already exists.")}),
            );
        }
        if !all {
            return ok(json!({"source_exists": false, "message": format!("No sources exist with the name {id}.")}));
        }
    }
    let (Some(ra), Some(dec), Some(radius)) = (ra, dec, radius) else {
        return err(400, "Invalid values for ra, dec or radius - could not convert to float");
    };
    let mut names: Vec<&str> = st
        .sources
        .iter()
        .filter(|s| !s.groups.is_empty() && separation_arcsec(ra, dec, s.ra, s.dec) <= radius * 3600.0)
        .map(|s| s.id.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    match names.len() {
        0 => ok(json!({"source_exists": false, "message": format!("No sources exist at this location{}.",
            id.map(|i| format!(" or with the name {i}")).unwrap_or_default())})),
        1 => ok(
            json!({"source_exists": true, "message": format!("A source at that location already exists: {}.", names[0])}),
        ),
        _ => ok(
            json!({"source_exists": true, "message": format!("Sources at that location already exist: {}.", names.join(","))}),
        ),
    }
}

async fn source_exists_root(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri) -> Response {
    source_exists_impl(&sp, method, &h, &uri, None)
}

async fn source_exists_one(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    source_exists_impl(&sp, method, &h, &uri, Some(&id))
}

/// `HEAD` answers with an empty 404 (Tornado `set_status(404); finish()`).
pub(super) fn empty_404() -> Response {
    StatusCode::NOT_FOUND.into_response()
}
