//! `objects/`: full sources (object row, light curve, non-detections, forced photometry,
//! crossmatches) as typed rows serialized in the server's key order.

use super::*;

pub(super) fn objects(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let ids = v.required("objects");
    let mjd = v.float("mjd", false);
    if let Err(r) = v.finish() {
        return r;
    }
    let ids: Vec<&str> = ids.unwrap_or("").split(',').map(str::trim).collect();
    if ids.len() > MAX_OBJECTS {
        return json(200, json!({"info": "Max number of objects for each requests is 50,000"}));
    }
    // Serialized straight from typed rows (the same bytes as building a `Value` tree first,
    // which cost most of the CPU of large replies: one map per point).
    let mut out = Vec::new();
    for id in ids {
        let Ok(n) = id.parse::<u64>() else { return server_error() };
        match a.shared.sky.by_atlas(n) {
            Some(o) => out.push(SourceReply::Found(source_out(a, o, mjd))),
            None => out.push(SourceReply::Missing(missing_source())),
        }
    }
    match serde_json::to_vec(&out) {
        Ok(body) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => server_error(),
    }
}

fn missing_source() -> Value {
    json!({
        "object": "AtlasDiffObjects matching query does not exist.",
        "lc": null, "lcnondets": null, "fp": null, "sherlock_crossmatches": null,
        "sherlock_classifications": null, "tns_crossmatches": null, "external_crossmatches": null
    })
}

/// One element of the `objects/` reply.
#[derive(Serialize)]
#[serde(untagged)]
enum SourceReply {
    Found(SourceOut),
    Missing(Value),
}

/// A found source, in the server's key order.
#[derive(Serialize)]
struct SourceOut {
    object: Value,
    lc: Vec<LcRow>,
    lcnondets: Vec<NonDetRow>,
    fp: Vec<FpRow>,
    sherlock_crossmatches: Vec<Value>,
    sherlock_classifications: Vec<Value>,
    tns_crossmatches: Vec<Value>,
    external_crossmatches: Vec<Value>,
}

#[derive(Serialize)]
struct LcRow {
    id: u64,
    mag: f64,
    magerr: f64,
    mjd: f64,
    exptime: f64,
    filter: &'static str,
    zp: f64,
    expname: String,
    ra: f64,
    dec: f64,
    atlas_metadata_id: u64,
    pointing: String,
    mag5sig: f64,
    x: f64,
    y: f64,
    major: f64,
    minor: f64,
    phi: f64,
    det: i64,
    chin: f64,
    pvr: i64,
    ptr: i64,
    pmv: i64,
    pkn: i64,
    pno: i64,
    pbn: i64,
    pcr: i64,
    pxt: i64,
    psc: i64,
    dup: i64,
    wpflx: f64,
    dflx: f64,
    date_inserted: String,
}

#[derive(Serialize)]
struct NonDetRow {
    id: u64,
    mjd: f64,
    exptime: f64,
    filter: &'static str,
    zp: f64,
    expname: String,
    filename: String,
    input: Option<()>,
    reference: Option<()>,
    pointing: String,
    mag5sig: f64,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct FpRow {
    id: u64,
    atlas_object_id: u64,
    expname: String,
    mjd_obs: f64,
    ra: f64,
    dec: f64,
    filter: &'static str,
    mag: f64,
    dm: f64,
    snr: f64,
    zp: f64,
    x: f64,
    y: f64,
    peakval: f64,
    skyval: f64,
    peakfit: f64,
    dpeak: f64,
    skyfit: f64,
    flux: f64,
    dflux: f64,
    chin: f64,
    major: f64,
    minor: f64,
    snrdet: f64,
    snrlimit: f64,
    apfit: f64,
    date_inserted: String,
    limiting_mag: bool,
    redo_photometry: bool,
    uJy: f64,
    duJy: f64,
    texp: f64,
}

fn pointing(o: &SkyObject) -> String {
    format!("TA{:03}N{:02}", (o.ra as u64) % 360, (o.dec.abs() as u64) % 90)
}

fn zp_of(p: &Point) -> f64 {
    round(22.2 + (p.aux % 30) as f64 / 100.0, 3)
}

/// The typed form of one found source (see `source_json` in the tests for the `Value` form
/// it must serialize identically to).
fn source_out(a: &Atlas, o: &SkyObject, mjd: Option<f64>) -> SourceOut {
    let pts = a.shared.sky.photometry(o, Survey::Atlas);
    let object = object_row(a, o, &pts);
    let thr = mjd.unwrap_or(f64::MIN);
    let lc = pts
        .iter()
        .filter(|p| p.detected && p.mjd > thr)
        .map(|p| {
            let m = if p.flux >= 0.0 { flux_to_mag(p.flux) } else { -flux_to_mag(p.flux) };
            let x = (p.aux >> 8) % 10_000;
            LcRow {
                id: o.atlas_id,
                mag: round(m, 3),
                magerr: round(1.0857 * p.flux_err / p.flux.abs(), 3),
                mjd: round(p.mjd, 8),
                exptime: 30.0,
                filter: p.band,
                zp: zp_of(p),
                expname: expname(p),
                ra: round(o.ra + ((x % 100) as f64 - 50.0) * 1e-6, 6),
                dec: round(o.dec + ((x / 100) as f64 - 50.0) * 1e-6, 6),
                atlas_metadata_id: 100_000 + p.seq as u64 * 7 + o.index as u64,
                pointing: pointing(o),
                mag5sig: round(p.limit, 2),
                x: round(100.0 + (p.aux % 10_300) as f64, 2),
                y: round(100.0 + ((p.aux >> 16) % 10_300) as f64, 2),
                major: 2.1,
                minor: 1.9,
                phi: round(((p.aux >> 24) % 180) as f64, 1),
                det: 5,
                chin: round(1.0 + ((p.aux >> 32) % 100) as f64 / 100.0, 2),
                pvr: 0,
                ptr: 999,
                pmv: 0,
                pkn: 0,
                pno: 0,
                pbn: 0,
                pcr: 0,
                pxt: 0,
                psc: 0,
                dup: 0,
                wpflx: round(p.flux * 0.9, 1),
                dflx: round(p.flux_err, 1),
                date_inserted: iso_of_mjd(p.mjd + 0.05),
            }
        })
        .collect();
    let lcnondets = pts
        .iter()
        .filter(|p| !p.detected && p.mjd > thr)
        .map(|p| {
            let expname = expname(p);
            NonDetRow {
                id: 4_000 + p.seq as u64 * 13 + o.index as u64,
                mjd: round(p.mjd, 8),
                exptime: 30.0,
                filter: p.band,
                zp: zp_of(p),
                filename: format!("{expname}.ddc"),
                expname,
                input: None,
                reference: None,
                pointing: pointing(o),
                mag5sig: round(p.limit, 2),
            }
        })
        .collect();
    let fp = match first_det_mjd(&pts) {
        None => Vec::new(),
        Some(f0) => pts
            .iter()
            .filter(|p| p.mjd >= f0 - 30.0 && p.mjd <= f0 + 150.0 && p.mjd >= thr)
            .enumerate()
            .map(|(i, p)| {
                let snr = p.flux / p.flux_err;
                let (mag, limiting) =
                    if snr >= 3.0 { (flux_to_mag(p.flux), false) } else { (flux_to_mag(3.0 * p.flux_err), true) };
                let zpv = zp_of(p);
                let (major, minor, apfit, texp) = (1.87, 1.73, -0.4287, 30.0);
                let conv = 10f64.powf(-0.4 * (zpv + apfit - 23.9)) * major * minor / texp;
                FpRow {
                    id: 18_000_000 + o.index as u64 * 10_000 + i as u64,
                    atlas_object_id: o.atlas_id,
                    expname: expname(p),
                    mjd_obs: round(p.mjd, 8),
                    ra: o.ra,
                    dec: o.dec,
                    filter: p.band,
                    mag: round(mag, 2),
                    dm: round(if limiting { 0.0 } else { 1.0857 / snr }, 3),
                    snr: round(snr, 2),
                    zp: zpv,
                    x: round(100.0 + (p.aux % 10_300) as f64, 2),
                    y: round(100.0 + ((p.aux >> 16) % 10_300) as f64, 2),
                    peakval: round(190.0 + p.flux / 10.0, 1),
                    skyval: 180.7,
                    peakfit: round(p.flux / conv, 2),
                    dpeak: round(p.flux_err / conv, 2),
                    skyfit: 176.4,
                    flux: round(p.flux / conv * major * minor, 1),
                    dflux: round(p.flux_err / conv * major * minor, 1),
                    chin: round(0.8 + ((p.aux >> 32) % 60) as f64 / 100.0, 2),
                    major,
                    minor,
                    snrdet: round(snr.abs(), 1),
                    snrlimit: 3.0,
                    apfit,
                    date_inserted: iso_of_mjd(p.mjd + 0.3),
                    limiting_mag: limiting,
                    redo_photometry: false,
                    uJy: round(p.flux, 1),
                    duJy: round(p.flux_err, 1),
                    texp,
                }
            })
            .collect(),
    };
    let (sherlock_crossmatches, sherlock_classifications) = sherlock(o);
    SourceOut {
        object,
        lc,
        lcnondets,
        fp,
        sherlock_crossmatches,
        sherlock_classifications,
        tns_crossmatches: tns_rows(o),
        external_crossmatches: Vec::new(),
    }
}

pub(super) fn first_det_mjd(pts: &[Point]) -> Option<f64> {
    pts.iter().find(|p| p.detected && p.flux > 0.0).map(|p| p.mjd)
}

pub(super) fn object_row(a: &Atlas, o: &SkyObject, pts: &[Point]) -> Value {
    let first = first_det_mjd(pts).unwrap_or(a.shared.sky.cfg.start_mjd);
    let ndet = pts.iter().filter(|p| p.detected).count();
    let (list, modified) = {
        let st = a.lock();
        (
            st.detection_lists.get(&o.atlas_id).copied().unwrap_or(o.atlas_list),
            st.date_modified.get(&o.atlas_id).cloned().unwrap_or_else(|| iso_of_mjd(first + 1.2)),
        )
    };
    let trend = match pts.iter().rev().filter(|p| p.detected).take(8).map(|p| p.flux).collect::<Vec<_>>().as_slice() {
        [last, .., old] if last > old => "rising",
        [_, ..] => "fading",
        [] => "flat",
    };
    json!({
        "id": o.atlas_id, "followup_id": 38_000_000 + o.index as u64, "followup_flag_date": iso_of_mjd(first.floor()),
        "detection_id": 21_000_000_000u64 + o.index as u64 * 1000, "ra": round(o.ra, 6), "dec": round(o.dec, 6),
        "object_classification": null, "sherlockClassification": o.kind.sherlock(), "observation_status": null,
        "htm16id": 67_000_000_000u64 + (o.seed % 1_000_000_000), "jtindex": o.seed % 1000, "images_id": 9_000_000 + o.index as u64,
        "date_inserted": iso_of_mjd(first + 0.3), "date_modified": modified, "processing_flags": 5832,
        "updated_by": "sandbox", "followup_priority": null, "external_reference_id": null, "detection_list_id": list,
        "survey_field": "ATLAS", "followup_counter": 18000 + o.index as u64, "atlas_designation": o.atlas_designation,
        "other_designation": o.tns_name, "current_trend": trend, "local_comments": null, "ndetections": ndet,
        "vra": o.vra, "rb_pix": o.rb_pix
    })
}

fn expname(p: &Point) -> String {
    format!("{}{}o{:04}{}", ["01a", "02a", "03a", "04a"][(p.aux % 4) as usize], p.night, p.seq % 10000, p.band)
}

/// The original `Value`-tree form of one found source: the reference the typed rows are
/// tested against.
#[cfg(test)]
fn source_json(a: &Atlas, o: &SkyObject, mjd: Option<f64>) -> Value {
    let pts = a.shared.sky.photometry(o, Survey::Atlas);
    let object = object_row(a, o, &pts);
    let thr = mjd.unwrap_or(f64::MIN);
    let zp = |p: &Point| round(22.2 + (p.aux % 30) as f64 / 100.0, 3);
    let lc: Vec<Value> = pts
        .iter()
        .filter(|p| p.detected && p.mjd > thr)
        .map(|p| {
            let m = if p.flux >= 0.0 { flux_to_mag(p.flux) } else { -flux_to_mag(p.flux) };
            let x = (p.aux >> 8) % 10_000;
            json!({
                "id": o.atlas_id, "mag": round(m, 3), "magerr": round(1.0857 * p.flux_err / p.flux.abs(), 3), "mjd": round(p.mjd, 8),
                "exptime": 30.0, "filter": p.band, "zp": zp(p), "expname": expname(p),
                "ra": round(o.ra + ((x % 100) as f64 - 50.0) * 1e-6, 6), "dec": round(o.dec + ((x / 100) as f64 - 50.0) * 1e-6, 6),
                "atlas_metadata_id": 100_000 + p.seq as u64 * 7 + o.index as u64, "pointing": format!("TA{:03}N{:02}", (o.ra as u64) % 360, (o.dec.abs() as u64) % 90),
                "mag5sig": round(p.limit, 2), "x": round(100.0 + (p.aux % 10_300) as f64, 2), "y": round(100.0 + ((p.aux >> 16) % 10_300) as f64, 2),
                "major": 2.1, "minor": 1.9, "phi": round(((p.aux >> 24) % 180) as f64, 1), "det": 5, "chin": round(1.0 + ((p.aux >> 32) % 100) as f64 / 100.0, 2),
                "pvr": 0, "ptr": 999, "pmv": 0, "pkn": 0, "pno": 0, "pbn": 0, "pcr": 0, "pxt": 0, "psc": 0, "dup": 0,
                "wpflx": round(p.flux * 0.9, 1), "dflx": round(p.flux_err, 1), "date_inserted": iso_of_mjd(p.mjd + 0.05)
            })
        })
        .collect();
    let nondets: Vec<Value> = pts
        .iter()
        .filter(|p| !p.detected && p.mjd > thr)
        .map(|p| {
            json!({
                "id": 4_000 + p.seq as u64 * 13 + o.index as u64, "mjd": round(p.mjd, 8), "exptime": 30.0, "filter": p.band, "zp": zp(p),
                "expname": expname(p), "filename": format!("{}.ddc", expname(p)), "input": null, "reference": null,
                "pointing": format!("TA{:03}N{:02}", (o.ra as u64) % 360, (o.dec.abs() as u64) % 90), "mag5sig": round(p.limit, 2)
            })
        })
        .collect();
    let first = first_det_mjd(&pts);
    let fp: Vec<Value> = match first {
        None => Vec::new(),
        Some(f0) => pts
            .iter()
            .filter(|p| p.mjd >= f0 - 30.0 && p.mjd <= f0 + 150.0 && p.mjd >= thr)
            .enumerate()
            .map(|(i, p)| {
                let snr = p.flux / p.flux_err;
                let (mag, limiting) = if snr >= 3.0 { (flux_to_mag(p.flux), false) } else { (flux_to_mag(3.0 * p.flux_err), true) };
                let zpv = zp(p);
                let (major, minor, apfit, texp) = (1.87, 1.73, -0.4287, 30.0);
                let conv = 10f64.powf(-0.4 * (zpv + apfit - 23.9)) * major * minor / texp;
                json!({
                    "id": 18_000_000 + o.index as u64 * 10_000 + i as u64, "atlas_object_id": o.atlas_id, "expname": expname(p),
                    "mjd_obs": round(p.mjd, 8), "ra": o.ra, "dec": o.dec, "filter": p.band, "mag": round(mag, 2),
                    "dm": round(if limiting { 0.0 } else { 1.0857 / snr }, 3), "snr": round(snr, 2), "zp": zpv,
                    "x": round(100.0 + (p.aux % 10_300) as f64, 2), "y": round(100.0 + ((p.aux >> 16) % 10_300) as f64, 2),
                    "peakval": round(190.0 + p.flux / 10.0, 1), "skyval": 180.7, "peakfit": round(p.flux / conv, 2), "dpeak": round(p.flux_err / conv, 2),
                    "skyfit": 176.4, "flux": round(p.flux / conv * major * minor, 1), "dflux": round(p.flux_err / conv * major * minor, 1),
                    "chin": round(0.8 + ((p.aux >> 32) % 60) as f64 / 100.0, 2), "major": major, "minor": minor,
                    "snrdet": round(snr.abs(), 1), "snrlimit": 3.0, "apfit": apfit, "date_inserted": iso_of_mjd(p.mjd + 0.3),
                    "limiting_mag": limiting, "redo_photometry": false,
                    "uJy": round(p.flux, 1), "duJy": round(p.flux_err, 1), "texp": texp
                })
            })
            .collect(),
    };
    let (sx, sc) = sherlock(o);
    let tns: Vec<Value> = tns_rows(o);
    json!({
        "object": object, "lc": lc, "lcnondets": nondets, "fp": fp,
        "sherlock_crossmatches": sx, "sherlock_classifications": sc,
        "tns_crossmatches": tns, "external_crossmatches": []
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SandboxConfig;

    fn atlas(objects: usize) -> Atlas {
        let mut cfg = SandboxConfig::default();
        cfg.sky.objects = objects;
        Atlas {
            shared: Arc::new(Shared::new(cfg)),
            state: Arc::new(Mutex::new(AtlasState::default())),
            user_limit: Arc::new(SlidingWindow::default()),
            anon_limit: Arc::new(SlidingWindow::default()),
        }
    }

    /// The typed rows serialize to exactly the bytes of the `Value` tree they replaced.
    #[test]
    fn typed_source_serializes_as_the_value_tree() {
        let a = atlas(60);
        let mut checked = 0;
        for o in &a.shared.sky.objects {
            for mjd in [None, Some(a.shared.sky.cfg.start_mjd + 300.0), Some(1e9)] {
                let typed = serde_json::to_vec(&SourceReply::Found(source_out(&a, o, mjd))).unwrap();
                let tree = serde_json::to_vec(&source_json(&a, o, mjd)).unwrap();
                assert_eq!(String::from_utf8(typed).unwrap(), String::from_utf8(tree).unwrap());
                checked += 1;
            }
        }
        assert_eq!(checked, 180);
        let missing = serde_json::to_vec(&SourceReply::Missing(missing_source())).unwrap();
        assert!(missing.starts_with(b"{\"object\":\"AtlasDiffObjects matching query does not exist.\",\"lc\":null"));
    }
}
