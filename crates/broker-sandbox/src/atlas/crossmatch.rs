//! Sherlock and TNS crossmatch rows, and `externalxmlist/` (TNS crossmatches by external name).

use super::*;

pub(super) fn sherlock(o: &SkyObject) -> (Vec<Value>, Vec<Value>) {
    let sep = (o.host_offset.0.powi(2) + o.host_offset.1.powi(2)).sqrt();
    let class = o.kind.sherlock();
    let (xm, summary) = if o.kind.is_sn() || matches!(class, "AGN") {
        let row = |id: u64, cat: &str| {
            json!({
                "transient_object_id": o.atlas_id, "catalogue_object_id": format!("{}", 1_237_660_000_000_000_000u64 + o.seed % 1_000_000_000),
                "catalogue_table_id": 2, "separationarcsec": round(sep, 2), "northseparationarcsec": round(o.host_offset.1, 4),
                "eastseparationarcsec": round(o.host_offset.0, 4), "id": id, "z": o.redshift, "photoz": o.redshift.map(|z| round(z * 1.03, 6)),
                "photozerr": 0.0108, "association_type": class, "catalogue_object_type": "galaxy", "catalogue_table_name": cat,
                "rank": 1, "rankscore": 2005.0, "radeg": round(o.ra - o.host_offset.0 / 3600.0, 6), "decdeg": round(o.dec - o.host_offset.1 / 3600.0, 6),
                "j": null, "field_g": round(o.host_mag, 3), "classificationreliability": 2, "transientabsmag": null
            })
        };
        (
            vec![row(396_000_000 + o.index as u64 * 2, "SDSS/2MASS/PS1"), row(396_000_001 + o.index as u64 * 2, "PS1")],
            format!("{sep:.1}\" from galaxy in SDSS/2MASS/PS1"),
        )
    } else {
        (Vec::new(), format!("{sep:.1}\" match to a synthetic star"))
    };
    let sc = vec![json!({
        "transient_object_id": o.atlas_id, "classification": class, "annotation": format!("Synthetic sandbox object: {}", o.kind.class_name()),
        "summary": summary, "matchverified": null, "developmentcomment": null, "datelastmodified": "2025-01-01T00:00:00Z",
        "datecreated": "2025-01-01T00:00:00Z", "updated": "0"
    })];
    (xm, sc)
}

pub(super) fn tns_rows(o: &SkyObject) -> Vec<Value> {
    match &o.tns_name {
        Some(n) => vec![json!({
            "id": 500_000_000 + o.index as u64, "transient_object_id": o.atlas_id, "external_designation": n,
            "type": if o.kind.is_sn() { json!(format!("SN {}", o.kind.class_name().trim_start_matches("SN"))) } else { Value::Null },
            "host_galaxy": null, "mag": round(o.peak_mag + 0.5, 3), "discoverer": "ATLAS", "matched_list": "Transient Name Server",
            "other_info": o.atlas_designation, "separation": 0.29, "comments": null, "url": format!("https://wis-tns.org/object/{n}"),
            "host_z": null, "object_z": o.redshift, "disc_date": iso_of_mjd(o.peak_mjd - o.rise * 2.0), "disc_filter": "orange-ATLAS"
        })],
        None => Vec::new(),
    }
}

pub(super) fn externalxmlist(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let names = v.required("externalObjects");
    if let Err(r) = v.finish() {
        return r;
    }
    let out: Vec<Value> = names
        .unwrap_or("")
        .split(',')
        .map(|n| {
            let n = n.trim().trim_start_matches("AT").trim_start_matches("SN").trim();
            Value::Array(
                a.shared.sky.objects.iter().filter(|o| o.tns_name.as_deref() == Some(n)).flat_map(tns_rows).collect(),
            )
        })
        .collect();
    json(200, Value::Array(out))
}
