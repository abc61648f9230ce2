//! Spectra: `/api/spectra`, ASCII upload and parsing, a source's spectra.

use super::store::*;
use super::{Sp, auth, err, groups_json, method_not_allowed, ok};
use crate::rng::Rng;
use crate::sky::{Kind, SkyObject, mag_to_flux, round};
use crate::util::{Pairs, jf, parse_bool};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::{Map, Value, json};

pub(super) fn sky_spectrum(o: &SkyObject) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
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

pub(super) fn spectrum_arrays(sp: &Sp, s: &Spectrum) -> Arrays {
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

pub(super) fn spectrum_json(sp: &Sp, more: &More, s: &Spectrum, minimal: bool, normalization: Option<&str>) -> Value {
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

pub(super) fn float_list(v: Option<&Value>) -> Option<Vec<f64>> {
    v?.as_array()?.iter().map(|x| x.as_f64().or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))).collect()
}

/// Validates a `SpectrumPost`-like body and stores it; `Err` is the full reply.
pub(super) fn store_spectrum(sp: &Sp, v: &Obj, arrays: Arrays, extra: Obj, fail_prefix: &str) -> Result<i64, Response> {
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

pub(super) fn obj_fields(v: &Obj, keys: &[&str]) -> Obj {
    keys.iter().map(|k| ((*k).to_string(), v.get(*k).cloned().unwrap_or(Value::Null))).collect()
}

pub(super) fn check_spectrum_body(v: &Obj, with_arrays: bool) -> Result<Arrays, String> {
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
pub(super) fn parse_time(s: &str) -> Option<chrono::NaiveDateTime> {
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

pub(super) async fn spectra(State(sp): State<Sp>, method: Method, h: HeaderMap, uri: Uri, body: Bytes) -> Response {
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

pub(super) async fn spectrum(
    State(sp): State<Sp>,
    method: Method,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
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
pub(super) fn parse_ascii(v: &Obj) -> Result<(Arrays, Value), String> {
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

pub(super) async fn spectrum_parse_ascii(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
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

pub(super) async fn spectrum_ascii(State(sp): State<Sp>, method: Method, h: HeaderMap, body: Bytes) -> Response {
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

pub(super) async fn source_spectra(
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
