//! Photometry: a source's points, uploads (POST and PUT upserts), single points, and bulk deletes.

use super::*;

/// All photometry of a source: the sky model's ZTF and ATLAS points plus posted points.
pub(super) fn points_of(sp: &Sp, s: &Source) -> Vec<Phot> {
    let mut out = Vec::new();
    if let Some(o) = s.sky.and_then(|i| sp.shared.sky.objects.get(i)) {
        for (survey, inst, prefix) in [(Survey::Ztf, 1i64, "ztf"), (Survey::Atlas, 2, "atlas")] {
            for p in sp.shared.sky.photometry(o, survey) {
                if survey == Survey::Atlas && p.seq % 4 != 0 {
                    continue;
                }
                let id = (o.index as u64 + 1) * 10_000_000 + inst as u64 * 1_000_000 + p.seq as u64;
                let det = survey == Survey::Atlas || p.detected;
                out.push(Phot {
                    id,
                    obj_id: s.id.clone(),
                    instrument_id: inst,
                    mjd: p.mjd,
                    filter: format!("{prefix}{}", p.band),
                    flux: det.then_some(p.flux),
                    fluxerr: p.flux_err,
                    zp: 23.9,
                    magsys: "ab".into(),
                    origin: if survey == Survey::Ztf { "alerce".into() } else { "atlas_fp".into() },
                    limiting_mag: (!det).then_some(p.limit),
                    nsigma: 5.0,
                    ra: Some(o.ra),
                    dec: Some(o.dec),
                    altdata: Value::Null,
                    groups: vec![PUBLIC_GROUP],
                    created: Duration::ZERO,
                    upload_id: None,
                });
            }
        }
    }
    let st = sp.lock();
    if !st.sky_overrides.is_empty() {
        out = out
            .into_iter()
            .filter_map(|p| match st.sky_overrides.get(&p.id) {
                Some(o) => o.clone(),
                None => Some(p),
            })
            .collect();
    }
    out.extend(st.posted.values().filter(|p| p.obj_id == s.id).cloned());
    out.sort_by(|a, b| a.mjd.total_cmp(&b.mjd));
    out
}

pub(super) fn phot_json(sp: &Sp, p: &Phot, format: &str) -> Value {
    let inst = INSTRUMENTS.iter().find(|i| i.0 == p.instrument_id).map(|i| i.1).unwrap_or("unknown");
    let snr = p.flux.map(|f| f / p.fluxerr);
    let mut m = Map::new();
    m.insert("obj_id".into(), json!(p.obj_id));
    m.insert("ra".into(), p.ra.map(jf).unwrap_or(Value::Null));
    m.insert("dec".into(), p.dec.map(jf).unwrap_or(Value::Null));
    m.insert("filter".into(), json!(p.filter));
    m.insert("mjd".into(), jf(p.mjd));
    m.insert("snr".into(), snr.map(jf).unwrap_or(Value::Null));
    m.insert("instrument_id".into(), json!(p.instrument_id));
    m.insert("instrument_name".into(), json!(inst));
    m.insert("ra_unc".into(), Value::Null);
    m.insert("dec_unc".into(), Value::Null);
    m.insert("origin".into(), json!(p.origin));
    m.insert("id".into(), json!(p.id));
    m.insert("altdata".into(), p.altdata.clone());
    m.insert("created_at".into(), json!(crate::clock::iso_z(sp.shared.clock.wall(p.created)).trim_end_matches('Z')));
    m.insert("groups".into(), groups_json(&p.groups));
    m.insert("annotations".into(), json!([]));
    if format == "mag" || format == "both" {
        let det = p.flux.filter(|f| *f > 0.0 && p.flux.map(|f| f / p.fluxerr).unwrap_or(0.0) >= p.nsigma);
        let lim = p.limiting_mag.unwrap_or_else(|| round(-2.5 * (p.nsigma * p.fluxerr).log10() + p.zp, 4));
        m.insert("mag".into(), det.map(|f| jf(round(p.zp - 2.5 * f.log10(), 6))).unwrap_or(Value::Null));
        m.insert("magerr".into(), det.map(|f| jf(round(1.0857 * p.fluxerr / f, 6))).unwrap_or(Value::Null));
        m.insert("magsys".into(), json!(p.magsys));
        m.insert("limiting_mag".into(), jf(lim));
    }
    if format == "flux" || format == "both" {
        m.insert("flux".into(), p.flux.map(|f| jf(round(f, 6))).unwrap_or(Value::Null));
        m.insert("fluxerr".into(), jf(round(p.fluxerr, 6)));
        m.insert("zp".into(), jf(p.zp));
        m.insert("magsys".into(), json!(p.magsys));
    }
    Value::Object(m)
}

pub(super) async fn source_photometry(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    if method == Method::DELETE {
        return delete_source_photometry(&sp, &h, &id);
    }
    if method != Method::GET {
        return method_not_allowed();
    }
    if let Err(r) = auth(&sp, &h, false) {
        return r;
    }
    let found = {
        let st = sp.lock();
        st.index.get(&id).and_then(|i| st.sources.get(*i)).cloned()
    };
    let Some(s) = found else {
        return err(403, &format!("Insufficient permissions for User provisioned_admin to read Obj {id}"));
    };
    let q = Pairs::from_query(&uri);
    let format = q.last("format").unwrap_or("mag");
    if !matches!(format, "mag" | "flux" | "both") {
        return err(400, "Invalid output format.");
    }
    ok(Value::Array(points_of(&sp, &s).iter().map(|p| phot_json(&sp, p, format)).collect()))
}

/// `DELETE /api/sources/{obj_id}/photometry` (`Delete bulk photometry`): every point of the obj.
pub(super) fn delete_source_photometry(sp: &Sp, h: &HeaderMap, id: &str) -> Response {
    if let Err(r) = auth(sp, h, true) {
        return r;
    }
    let found = {
        let st = sp.lock();
        st.index.get(id).and_then(|i| st.sources.get(*i)).cloned()
    };
    let Some(s) = found else { return err(400, "Invalid object id.") };
    let points = points_of(sp, &s);
    let n = points.len();
    let mut st = sp.lock();
    for p in points {
        if st.posted.remove(&p.id).is_none() {
            st.sky_overrides.insert(p.id, None);
        }
    }
    ok(json!(format!("Deleted {n} photometry point(s) of {id}.")))
}

/// Column-oriented body → rows (scalars broadcast to the longest list).
pub(super) fn standardize(v: &Value) -> Result<Vec<Map<String, Value>>, String> {
    let Value::Object(m) = v else { return Err("Invalid/missing parameters: body must be an object".into()) };
    let mut len = 1usize;
    for (k, x) in m {
        if matches!(k.as_str(), "group_ids" | "stream_ids" | "altdata") {
            continue;
        }
        if let Value::Array(a) = x {
            if a.len() != 1 && len != 1 && a.len() != len {
                return Err("Unequal sized columns".into());
            }
            len = len.max(a.len());
        }
    }
    let mut rows = vec![Map::new(); len];
    for (k, x) in m {
        for (i, row) in rows.iter_mut().enumerate() {
            let val = match x {
                Value::Array(a) if !matches!(k.as_str(), "group_ids" | "stream_ids") => {
                    a.get(if a.len() == 1 { 0 } else { i }).cloned().unwrap_or(Value::Null)
                }
                Value::Array(a) if k == "altdata" => a.get(i).cloned().unwrap_or(Value::Null),
                other => other.clone(),
            };
            row.insert(k.clone(), val);
        }
    }
    Ok(rows)
}

pub(super) fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn parse_rows(sp: &Sp, body: &Value) -> Result<Vec<Phot>, Response> {
    // `standardize_photometry_data` calls `.items()` on every entry of an altdata list: a
    // non-object entry raises AttributeError, which no handler catches (500). An empty
    // object, or one whose values are all null or "", is stored as null.
    if let Some(Value::Array(a)) = body.get("altdata") {
        if let Some(bad) = a.iter().find(|x| !x.is_object()) {
            let t = match bad {
                Value::Null => "NoneType",
                Value::Bool(_) => "bool",
                Value::Number(n) if n.is_f64() => "float",
                Value::Number(_) => "int",
                Value::String(_) => "str",
                _ => "list",
            };
            return Err(err(500, &format!("'{t}' object has no attribute 'items'")));
        }
    }
    let rows = standardize(body).map_err(|m| err(400, &m))?;
    if rows.len() > MAX_ROWS {
        return Err(err(
            400,
            &format!(
                "Maximum number of photometry rows to post exceeded: {} > {MAX_ROWS}. Please break up the data into smaller sets and try again",
                rows.len()
            ),
        ));
    }
    let groups: Vec<i64> = match body.get("group_ids") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_i64).collect(),
        Some(Value::String(s)) if s == "all" => vec![PUBLIC_GROUP],
        _ => vec![PUBLIC_GROUP],
    };
    let now = sp.shared.clock.now();
    let st = sp.lock();
    let mut out = Vec::new();
    let mut bad_filters = Vec::new();
    for r in rows {
        let obj =
            r.get("obj_id").and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|n| n.to_string())));
        let inst = num(r.get("instrument_id")).map(|x| x as i64);
        let mjd = num(r.get("mjd"));
        let filter = r.get("filter").and_then(Value::as_str).map(str::to_string);
        let magsys = r.get("magsys").and_then(Value::as_str).map(str::to_string);
        let (Some(obj), Some(inst), Some(mjd), Some(filter), Some(magsys)) = (obj, inst, mjd, filter, magsys) else {
            return Err(err(
                400,
                "Invalid input format: Tried to parse data as PhotometryFlux, got: '{'obj_id': ['Missing data for required field.']}.' Tried to parse data as PhotometryMag, got: '{'obj_id': ['Missing data for required field.']}.'",
            ));
        };
        if !st.index.contains_key(&obj) {
            return Err(err(400, &format!("Invalid object ID: {obj}")));
        }
        if !INSTRUMENTS.iter().any(|i| i.0 == inst) {
            return Err(err(400, &format!("Invalid instrument ID: {inst}")));
        }
        if !FILTERS.contains(&filter.as_str()) && !MORE_FILTERS.contains(&filter.as_str()) {
            bad_filters.push(filter.clone());
            continue;
        }
        if !matches!(magsys.as_str(), "ab" | "vega") {
            return Err(err(400, &format!("Invalid magsys: {magsys}")));
        }
        let has_flux_key = r.contains_key("flux");
        let has_mag_key = r.contains_key("mag");
        let origin = match r.get("origin") {
            None | Some(Value::Null) => "None".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        let (flux, fluxerr, zp, lim, nsigma) = if has_flux_key && !has_mag_key {
            let fe = num(r.get("fluxerr"));
            let zp = num(r.get("zp"));
            let (Some(fe), Some(zp)) = (fe, zp) else {
                return Err(err(
                    400,
                    "Invalid input format: Tried to parse data as PhotometryFlux, got: '{'fluxerr': ['Missing data for required field.'], 'zp': ['Missing data for required field.']}.'",
                ));
            };
            if fe <= 0.0 || !fe.is_finite() {
                return Err(err(400, "Invalid input format: fluxerr must be > 0"));
            }
            let f = num(r.get("flux"));
            // stored at PHOT_ZP = 23.9
            let scale = 10f64.powf(-0.4 * (zp - 23.9));
            (f.map(|x| x * scale), fe * scale, 23.9, None, 5.0)
        } else {
            let mag = num(r.get("mag"));
            let magerr = num(r.get("magerr"));
            let lim = num(r.get("limiting_mag"));
            let nsigma = num(r.get("limiting_mag_nsigma")).unwrap_or(3.0);
            match (mag, magerr) {
                (Some(m), Some(e)) => {
                    let f = mag_to_flux(m);
                    (Some(f), (e * f / 1.0857).max(1e-9), 23.9, lim, nsigma)
                }
                (None, None) => {
                    let Some(l) = lim else { return Err(err(400, "Non-detections (mag=null) require a limiting_mag")) };
                    (None, mag_to_flux(l) / nsigma, 23.9, Some(l), nsigma)
                }
                _ => return Err(err(400, "Invalid input format: mag and magerr must both be null or both be set")),
            }
        };
        if flux.is_some_and(|f| !f.is_finite()) || !mjd.is_finite() {
            return Err(err(400, "Invalid input format: values must be finite"));
        }
        out.push(Phot {
            id: 0,
            obj_id: obj,
            instrument_id: inst,
            mjd,
            filter,
            flux,
            fluxerr,
            zp,
            magsys,
            origin,
            limiting_mag: lim,
            nsigma,
            ra: num(r.get("ra")),
            dec: num(r.get("dec")),
            altdata: match r.get("altdata") {
                Some(Value::Object(m)) => {
                    let kept: Map<String, Value> = m
                        .iter()
                        .filter(|(_, v)| !(v.is_null() || v.as_str() == Some("")))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    if kept.is_empty() { Value::Null } else { Value::Object(kept) }
                }
                _ => Value::Null,
            },
            groups: groups.clone(),
            created: now,
            upload_id: None,
        });
    }
    if !bad_filters.is_empty() {
        bad_filters.sort();
        bad_filters.dedup();
        return Err(err(400, &format!("Filter(s) {{'{}'}} is not allowed", bad_filters.join("', '"))));
    }
    Ok(out)
}

pub(super) fn dedup_key(p: &Phot) -> (String, i64, String, u64, u64, Option<u64>) {
    (
        p.obj_id.clone(),
        p.instrument_id,
        p.origin.clone(),
        p.mjd.to_bits(),
        (round(p.fluxerr, 9)).to_bits(),
        p.flux.map(|f| round(f, 9).to_bits()),
    )
}

pub(super) async fn photometry(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
    match method {
        Method::GET => {
            if let Err(r) = auth(&sp, &h, false) {
                return r;
            }
            return err(400, "Missing required photometry_id.");
        }
        Method::POST | Method::PUT => {}
        _ => return method_not_allowed(),
    }
    if let Err(r) = auth(&sp, &h, true) {
        return r;
    }
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rows = match parse_rows(&sp, &v) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut st = sp.lock();
    let existing: HashMap<_, u64> = st.posted.values().map(|p| (dedup_key(p), p.id)).collect();
    let mut ids = Vec::new();
    if method == Method::POST {
        let dups: Vec<String> = rows
            .iter()
            .filter(|p| existing.contains_key(&dedup_key(p)))
            .map(|p| format!("{}@{}", p.obj_id, p.mjd))
            .collect();
        if !dups.is_empty() {
            return err(400, &format!("The following photometry already exists in the database: {}", dups.join(", ")));
        }
    }
    let mut r = Rng::new(&[sp.shared.config.seed, st.next_phot, 0x0701]);
    let h = r.hex(32);
    let upload_id = format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32]);
    for mut p in rows {
        if let Some(id) = existing.get(&dedup_key(&p)) {
            ids.push(*id);
            continue;
        }
        st.next_phot += 1;
        p.id = st.next_phot;
        p.upload_id = Some(upload_id.clone());
        ids.push(p.id);
        st.posted.insert(p.id, p);
    }
    if method == Method::PUT { ok(json!({"ids": ids})) } else { ok(json!({"ids": ids, "upload_id": upload_id})) }
}

pub(super) async fn photometry_one(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let needs = method != Method::GET;
    if let Err(r) = auth(&sp, &h, needs) {
        return r;
    }
    let Ok(pid) = id.parse::<u64>() else { return err(400, &format!("Cannot find photometry point with ID: {id}")) };
    match method {
        Method::GET => {
            let p = sp.lock().posted.get(&pid).cloned();
            let p = p.or_else(|| sky_point(&sp, pid));
            let q = Pairs::from_query(&uri);
            match p {
                Some(p) => ok(phot_json(&sp, &p, q.last("format").unwrap_or("mag"))),
                None => err(400, &format!("Cannot find photometry point with ID: {pid}")),
            }
        }
        Method::DELETE => {
            if sp.lock().posted.remove(&pid).is_some() {
                return ok(json!({}));
            }
            match sky_point(&sp, pid) {
                Some(_) => {
                    sp.lock().sky_overrides.insert(pid, None);
                    ok(json!({}))
                }
                None => err(400, &format!("Cannot find photometry point with ID: {pid}")),
            }
        }
        Method::PATCH => patch_point(&sp, pid, &body),
        _ => method_not_allowed(),
    }
}

/// The obj id of a photometry point (posted or from the sky model), if it exists.
pub(super) fn photometry_obj(sp: &Sp, pid: u64) -> Option<String> {
    if let Some(p) = sp.lock().posted.get(&pid) {
        return Some(p.obj_id.clone());
    }
    sky_point(sp, pid).map(|p| p.obj_id)
}

/// A sky-model point (id = (index + 1) * 1e7 + instrument * 1e6 + seq), as patched, unless deleted.
pub(super) fn sky_point(sp: &Sp, pid: u64) -> Option<Phot> {
    let idx = (pid / 10_000_000).checked_sub(1).map(|x| x as usize)?;
    let id = sp.shared.sky.objects.get(idx).map(obj_id)?;
    let s = {
        let st = sp.lock();
        st.index.get(&id).and_then(|i| st.sources.get(*i)).cloned()
    }?;
    points_of(sp, &s).into_iter().find(|p| p.id == pid && p.upload_id.is_none())
}

/// `PATCH /api/photometry/{id}`: partial `PhotometryFlux` / `PhotometryMag` update of one point.
pub(super) fn patch_point(sp: &Sp, pid: u64, body: &[u8]) -> Response {
    let v = match body_json(body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return err(400, "Invalid input format: body must be an object"),
        Err(r) => return r,
    };
    let current = sp.lock().posted.get(&pid).cloned();
    let from_sky = current.is_none();
    let Some(mut p) = current.or_else(|| sky_point(sp, pid)) else {
        return err(400, &format!("Cannot find photometry point with ID: {pid}."));
    };
    let bad = |what: &str| {
        err(
            400,
            &format!(
                "Invalid input format: Tried to parse {} as PhotometryFlux, got: \"{{'{what}': ['Not a valid number.']}}.\" Tried to parse {} as PhotometryMag, got: \"{{'{what}': ['Not a valid number.']}}.\"",
                Value::Object(v.clone()),
                Value::Object(v.clone())
            ),
        )
    };
    for k in ["mjd", "fluxerr", "zp", "ra", "dec", "limiting_mag"] {
        if v.get(k).is_some_and(|x| !x.is_null() && num(Some(x)).is_none_or(|f| !f.is_finite())) {
            return bad(k);
        }
    }
    if let Some(m) = v.get("mjd").and_then(|x| num(Some(x))) {
        p.mjd = m;
    }
    if let Some(f) = v.get("filter").and_then(Value::as_str) {
        if !FILTERS.contains(&f) && !MORE_FILTERS.contains(&f) {
            return err(400, &format!("Filter(s) {{'{f}'}} is not allowed"));
        }
        p.filter = f.to_string();
    }
    if let Some(m) = v.get("magsys").and_then(Value::as_str) {
        if !matches!(m, "ab" | "vega") {
            return err(400, &format!("Invalid magsys: {m}"));
        }
        p.magsys = m.to_string();
    }
    if let Some(o) = v.get("origin") {
        p.origin = o.as_str().map(str::to_string).unwrap_or_else(|| "None".into());
    }
    for (k, slot) in [("ra", &mut p.ra), ("dec", &mut p.dec)] {
        if let Some(x) = v.get(k) {
            *slot = num(Some(x));
        }
    }
    if let Some(a) = v.get("altdata") {
        p.altdata = a.clone();
    }
    if v.contains_key("flux") && !v.contains_key("mag") {
        let zp = num(v.get("zp")).unwrap_or(23.9);
        let scale = 10f64.powf(-0.4 * (zp - 23.9));
        let fe = num(v.get("fluxerr")).map(|e| e * scale).unwrap_or(p.fluxerr);
        if fe <= 0.0 {
            return err(400, "Invalid input format: fluxerr must be > 0");
        }
        p.flux = num(v.get("flux")).map(|f| f * scale);
        p.fluxerr = fe;
        p.limiting_mag = None;
    } else if v.contains_key("mag") || v.contains_key("magerr") {
        match (num(v.get("mag")), num(v.get("magerr"))) {
            (Some(m), Some(e)) => {
                let f = mag_to_flux(m);
                p.flux = Some(f);
                p.fluxerr = (e * f / 1.0857).max(1e-9);
                p.limiting_mag = num(v.get("limiting_mag")).or(p.limiting_mag);
            }
            (None, None) => {
                let Some(l) = num(v.get("limiting_mag")).or(p.limiting_mag) else {
                    return err(400, "Non-detections (mag=null) require a limiting_mag");
                };
                p.flux = None;
                p.fluxerr = mag_to_flux(l) / p.nsigma;
                p.limiting_mag = Some(l);
            }
            _ => return err(400, "Invalid input format: mag and magerr must both be null or both be set"),
        }
    }
    if let Some(g) = v.get("group_ids") {
        let ids: Vec<i64> = g
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).filter(|x| (1..=3).contains(x)).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            return err(400, "Invalid group_ids field. Specify at least one valid group ID.");
        }
        p.groups = ids;
    }
    let mut st = sp.lock();
    if from_sky {
        st.sky_overrides.insert(pid, Some(p));
    } else {
        st.posted.insert(pid, p);
    }
    ok(json!({}))
}

/// `DELETE /api/photometry/bulk_delete/{upload_id}` (`Delete bulk photometry`).
pub(super) async fn bulk_delete(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(upload_id): Path<String>,
) -> Response {
    if let Err(r) = auth(&sp, &h, method != Method::GET) {
        return r;
    }
    if method != Method::DELETE {
        return method_not_allowed();
    }
    let mut st = sp.lock();
    let before = st.posted.len();
    st.posted.retain(|_, p| p.upload_id.as_deref() != Some(upload_id.as_str()));
    let n = before - st.posted.len();
    if n == 0 {
        return err(400, "Invalid bulk upload id.");
    }
    ok(json!(format!("Deleted {n} photometry point(s).")))
}
