//! `cone/`: cone search over the sky's ATLAS objects (count, all, nearest).

use super::*;

pub(super) fn cone(a: &Atlas, d: &Pairs) -> Response {
    let mut v = V::new(d);
    let ra = v.float("ra", true);
    let dec = v.float("dec", true);
    let radius = v.float("radius", true);
    let rt = v.required("requestType");
    if let Some(t) = rt {
        if !matches!(t, "count" | "all" | "nearest") {
            v.errs.insert("requestType".into(), json!([format!("\"{t}\" is not a valid choice.")]));
        }
    }
    if let Err(r) = v.finish() {
        return r;
    }
    let (Some(ra), Some(dec), Some(radius), Some(rt)) = (ra, dec, radius, rt) else { return server_error() };
    if radius > 300.0 {
        return json(400, json!({"error": "Max radius is 300 arcsec."}));
    }
    let hits = a.shared.sky.cone(ra, dec, radius);
    match rt {
        "count" => json(200, json!({"count": hits.len()})),
        "nearest" => match hits.first() {
            Some((o, s)) => {
                json(200, json!({"object": o.atlas_id, "separation": jf(*s), "objectname": o.atlas_designation}))
            }
            None => json(200, json!({})),
        },
        _ => json(
            200,
            Value::Array(
                hits.iter()
                    .map(
                        |(o, s)| json!({"object": o.atlas_id, "separation": jf(*s), "objectname": o.atlas_designation}),
                    )
                    .collect(),
            ),
        ),
    }
}
