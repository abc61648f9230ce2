//! Property tests: ALeRCE's decoders (ZTF JSON, both catsHTM formats, gzip/FITS stamps) never
//! panic on hostile bytes, never allocate without bound, and fail with a typed error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alerce_client::catshtm::parse_tables;
use alerce_client::fits::{gunzip_fits, read_images, write_f32_fits};
use alerce_client::stamps::{Stamp, StampKind};
use alerce_client::ztf::{ZtfLightcurve, ZtfObjectPage};
use broker_core::http::decode_json_lenient;
use proptest::prelude::*;
use std::io::Write;

const LIGHTCURVE: &str = r#"{"detections": [{"mjd": 59149.11, "candid": "1", "fid": 1, "magpsf": 18.2, "sigmapsf": 0.05, "has_stamp": true}], "non_detections": [{"mjd": 59148.1, "fid": 2, "diffmaglim": NaN}]}"#;
const PAGE: &str = r#"{"total": 1, "page": 1, "next": null, "has_next": false, "prev": null, "has_prev": false, "items": [{"oid": "ZTF18abbuksn", "ndethist": "12", "class": "SN", "probability": 0.93, "firstmjd": 59149.11}]}"#;
const CATS_LEGACY: &str = r#"{"GAIA/DR1": {"RA": {"units": "deg", "values": [10.0, 10.1]}, "Dec": {"units": "deg", "values": [20.0, 20.1]}}}"#;
const CATS_CURRENT: &str = r#"[{"attribute_name": "RA", "unit": "deg", "values": [10.0, 10.1]}, {"attribute_name": "Dec", "unit": "deg", "values": [20.0, 20.1]}]"#;

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Arbitrary bytes, a valid sample cut anywhere, or a valid sample with bytes overwritten.
fn hostile(sample: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let n = sample.len();
    let s1 = sample.clone();
    let s2 = sample;
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..1024),
        (0..=n).prop_map(move |cut| s1[..cut].to_vec()),
        proptest::collection::vec((0..n.max(1), any::<u8>()), 1..8).prop_map(move |edits| {
            let mut v = s2.clone();
            for (i, b) in edits {
                if i < v.len() {
                    v[i] = b;
                }
            }
            v
        }),
    ]
}

fn url() -> url::Url {
    url::Url::parse("https://api.alerce.online/ztf/v1/objects/x").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn ztf_json_decoders_give_typed_errors(body in hostile(LIGHTCURVE.as_bytes().to_vec()), page in hostile(PAGE.as_bytes().to_vec())) {
        if let Err(e) = decode_json_lenient::<ZtfLightcurve>(&body, &url()) {
            prop_assert!(matches!(e, broker_core::Error::Decode { .. }), "{e:?}");
        }
        if let Err(e) = decode_json_lenient::<ZtfObjectPage>(&page, &url()) {
            prop_assert!(matches!(e, broker_core::Error::Decode { .. }), "{e:?}");
        }
    }

    #[test]
    fn catshtm_both_formats_never_panic(legacy in hostile(CATS_LEGACY.as_bytes().to_vec()), current in hostile(CATS_CURRENT.as_bytes().to_vec())) {
        for body in [legacy, current] {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
                let _ = parse_tables(&v, "GAIA/DR1");
                let _ = parse_tables(&v, "all");
            }
        }
    }

    #[test]
    fn catshtm_arbitrary_json_values_never_panic(v in arb_json()) {
        let _ = parse_tables(&v, "GAIA/DR1");
        let _ = parse_tables(&v, "all");
    }

    #[test]
    fn stamps_from_hostile_bytes_give_typed_errors(
        fits in hostile(write_f32_fits(8, 8, &[1.5; 64], &[])),
        raw in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        // Plain FITS, gzip of the mutated FITS, gzip of noise, and noise.
        for body in [fits.clone(), gz(&fits), gz(&raw), raw.clone()] {
            match Stamp::from_body(StampKind::Science, &body) {
                Ok(s) => prop_assert!(s.images.iter().all(|i| i.data.len() == i.width * i.height)),
                Err(e) => prop_assert!(matches!(e, alerce_client::Error::Format { .. }), "{e:?}"),
            }
        }
        // A gzip stream cut anywhere.
        let g = gz(&fits);
        let cut = raw.len() % (g.len() + 1);
        let _ = gunzip_fits(&g[..cut]);
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(|f| json!(f)),
        any::<i64>().prop_map(|i| json!(i)),
        prop_oneof![Just("RA".to_string()), Just("values".to_string()), Just("value".to_string()), "[a-z]{0,6}"]
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        let key = prop_oneof![
            Just("RA".to_string()),
            Just("Dec".to_string()),
            Just("units".to_string()),
            Just("unit".to_string()),
            Just("values".to_string()),
            Just("value".to_string()),
            Just("attribute_name".to_string()),
            Just("GAIA/DR1".to_string()),
            "[a-z]{0,5}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn a_gzip_bomb_is_refused_without_decompressing_it_all() {
    // 300 MB of zeros compress to a few hundred KB.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        e.write_all(&zeros).unwrap();
    }
    let bomb = e.finish().unwrap();
    let err = gunzip_fits(&bomb).unwrap_err();
    assert!(err.to_string().contains("decompressed"), "{err}");
}

#[test]
fn a_fits_header_claiming_a_huge_image_is_refused() {
    // NAXIS1 x NAXIS2 = 10^10 pixels announced, a few bytes of data.
    let mut header = String::new();
    for card in [
        "SIMPLE  =                    T",
        "BITPIX  =                  -32",
        "NAXIS   =                    2",
        "NAXIS1  =               100000",
        "NAXIS2  =               100000",
        "END",
    ] {
        header.push_str(&format!("{card:<80}"));
    }
    while header.len() % 2880 != 0 {
        header.push(' ');
    }
    let mut fits = header.into_bytes();
    fits.extend_from_slice(&[0u8; 2880]);
    assert!(read_images(&fits).is_err());
    assert!(Stamp::from_body(StampKind::Science, &gz(&fits)).is_err());
}
