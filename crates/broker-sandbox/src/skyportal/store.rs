//! The state, shared helpers and routes of the SkyPortal resources beyond sources and
//! photometry. Each resource group has its own file beside this one: classifications,
//! spectra, comments (and annotations), tables (streams, filters, telescopes, taxonomies,
//! allocations, observing-run assignments), followup, gcn (galaxies, GCN events and
//! localizations) and candidates (with `source_groups` and `source_exists`).
//!
//! Written from `shared/api/skyportal.md` (§2.3–2.12, §4.2) and the OpenAPI excerpt; messages
//! and status codes follow the handlers they describe (`handlers/api/*.py`).

use super::{Sp, body_json, err, groups_json, obj_id};
use crate::clock::iso_of_mjd;
use crate::rng::Rng;
use crate::sky::{Kind, round};
use axum::Router;
use axum::response::Response;
use axum::routing::any;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub(super) use super::{candidates::*, classifications::*, comments::*, followup::*, gcn::*, spectra::*, tables::*};

pub(super) type Obj = Map<String, Value>;
/// Wavelengths, fluxes and optional errors of a spectrum.
pub(super) type Arrays = (Vec<f64>, Vec<f64>, Option<Vec<f64>>);

/// Admin user (the `provisioned_admin` of `.tokens.yaml`); every accepted write is authored by it.
pub(super) const ADMIN_ID: i64 = 1;
pub(super) const ADMIN_NAME: &str = "provisioned_admin";
/// Instrument id of the synthetic spectrograph (SEDM on the P60).
pub(super) const SPECTROGRAPH: i64 = 4;
pub(super) const MAX_COMMENTS: usize = 1000;
pub(super) const MAX_FOLLOWUP: usize = 1000;
pub(super) const MAX_GCNEVENTS: usize = 1000;
pub(super) const MAX_GALAXIES: usize = 10_000;
pub(super) const MAX_CLASSIFICATIONS: usize = 500;
pub(super) const SPECTRUM_UNITS: [&str; 3] = ["Jy", "AB", "erg/s/cm/cm/AA"];
pub(super) const SPECTRUM_TYPES: [&str; 3] = ["source", "host", "host_center"];

/// Rows of one table, keyed by integer id.
#[derive(Debug, Default)]
pub(super) struct Table {
    pub(super) rows: BTreeMap<i64, Obj>,
    pub(super) next: i64,
}

impl Table {
    pub(super) fn insert(&mut self, mut row: Obj) -> i64 {
        self.next += 1;
        let id = self.next;
        row.insert("id".into(), json!(id));
        self.rows.insert(id, row);
        id
    }
    pub(super) fn get(&self, id: i64) -> Option<&Obj> {
        self.rows.get(&id)
    }
}

#[derive(Debug, Clone)]
pub(super) enum SpecData {
    Stored { wavelengths: Vec<f64>, fluxes: Vec<f64>, errors: Option<Vec<f64>> },
    Sky(usize),
}

#[derive(Debug, Clone)]
pub(super) struct Spectrum {
    pub(super) meta: Obj,
    pub(super) data: SpecData,
}

#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub(super) obj_id: String,
    pub(super) filter_id: i64,
    pub(super) passed_at: String,
}

/// What comments and annotations are attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Res {
    Sources,
    Spectra,
    GcnEvent,
    Photometry,
}

impl Res {
    pub(super) fn name(self) -> &'static str {
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
    pub(super) spectra: BTreeMap<i64, Spectrum>,
    pub(super) next_spectrum: i64,
    pub(super) classifications: Table,
    pub(super) comments: Table,
    pub(super) annotations: Table,
    pub(super) streams: Table,
    pub(super) filters: Table,
    pub(super) telescopes: Table,
    pub(super) taxonomies: Table,
    pub(super) allocations: Table,
    pub(super) runs: Table,
    pub(super) assignments: Table,
    pub(super) followups: Table,
    pub(super) galaxies: Vec<Obj>,
    pub(super) gcn: Table,
    pub(super) candidates: Vec<Candidate>,
    pub(super) next_candidate: i64,
}

pub(super) fn now(sp: &Sp) -> String {
    crate::clock::iso_z(sp.shared.clock.wall(sp.shared.clock.now())).trim_end_matches('Z').to_string()
}

pub(super) fn naive(mjd: f64) -> String {
    iso_of_mjd(mjd).trim_end_matches('Z').to_string()
}

pub(super) fn author() -> Value {
    json!({"id": ADMIN_ID, "username": ADMIN_NAME, "first_name": null, "last_name": null,
           "contact_email": null, "gravatar_url": "https://www.gravatar.com/avatar/00000000000000000000000000000000?d=identicon"})
}

pub(super) fn class_name(k: Kind) -> &'static str {
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

pub(super) fn sitewide_hierarchy() -> Value {
    let leaf = |c: &str| json!({"class": c});
    json!({"class": "Time-domain Source", "subclasses": [
        {"class": "Supernova", "subclasses": [leaf("Ia"), leaf("II"), leaf("Ib/c"), leaf("SLSN")]},
        {"class": "Active Galactic Nucleus", "subclasses": [leaf("AGN"), leaf("QSO")]},
        {"class": "Variable Star", "subclasses": [leaf("RR Lyrae"), leaf("Eclipsing"), leaf("LPV"), leaf("Cataclysmic")]},
    ]})
}

pub(super) fn allowed_classes(h: &Value, out: &mut Vec<String>) {
    if let Some(c) = h.get("class").and_then(Value::as_str) {
        out.push(c.to_string());
    }
    if let Some(a) = h.get("subclasses").and_then(Value::as_array) {
        for s in a {
            allowed_classes(s, out);
        }
    }
}

pub(super) fn to_obj(v: Value) -> Obj {
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

pub(super) fn py_list(ids: &[i64]) -> String {
    format!("[{}]", ids.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(", "))
}

pub(super) fn group_ids(v: &Obj, key: &str) -> Result<Vec<i64>, Response> {
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

pub(super) fn body_obj(body: &[u8]) -> Result<Obj, Response> {
    match body_json(body)? {
        Value::Object(m) => Ok(m),
        _ => Err(err(400, "Invalid/missing parameters: body: Input should be a valid dictionary")),
    }
}

/// marshmallow's `normalized_messages()` for missing required fields, as Python prints it.
pub(super) fn missing_fields(v: &Obj, required: &[&str]) -> Option<String> {
    let missing: Vec<String> = required
        .iter()
        .filter(|k| v.get(**k).is_none_or(Value::is_null))
        .map(|k| format!("'{k}': ['Missing data for required field.']"))
        .collect();
    (!missing.is_empty()).then(|| format!("{{{}}}", missing.join(", ")))
}

/// pydantic's message for missing required fields (`format_validation_errors`).
pub(super) fn pydantic_missing(v: &Obj, required: &[&str]) -> Option<Response> {
    let missing: Vec<String> =
        required.iter().filter(|k| !v.contains_key(**k)).map(|k| format!("{k}: Field required")).collect();
    (!missing.is_empty()).then(|| err(400, &format!("Invalid/missing parameters: {}", missing.join("; "))))
}

pub(super) fn pydantic_extra(v: &Obj, allowed: &[&str]) -> Option<Response> {
    let extra: Vec<String> = v
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("{k}: Extra inputs are not permitted"))
        .collect();
    (!extra.is_empty()).then(|| err(400, &format!("Invalid/missing parameters: {}", extra.join("; "))))
}

pub(super) fn source_exists(sp: &Sp, id: &str) -> bool {
    sp.lock().index.contains_key(id)
}

/// Tornado routes `/api/x(/[0-9]+)?`: a non-numeric id falls through to `InvalidEndpointHandler`.
pub(super) fn numeric(id: &str) -> Result<i64, Response> {
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
pub(super) use try_r;

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
