//! Property tests: the parser and the binning never panic, and well-formed files round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fallingstar_forcedphot::binning::{BinOptions, Clip, ClipScale, Weighting, bin};
use fallingstar_forcedphot::{Error, ResultTable};
use proptest::prelude::*;

const HEADER: &str = "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs";

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("-".to_string()),
        Just("#".to_string()),
        Just("1e309".to_string()),
        Just("9223372036854775808".to_string()),
        Just("-0".to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        "[a-zA-Z0-9./#_-]{0,8}",
        "\\PC{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_text(s in "\\PC*") {
        let _ = ResultTable::parse(&s);
        // Targets too: anything is either a valid target or invalid input, never a panic.
        if let Err(e) = fallingstar_forcedphot::Target::parse(&s) {
            prop_assert!(e.is_invalid_input(), "{e:?}");
        }
    }

    #[test]
    fn never_panics_on_rows_of_odd_tokens(rows in prop::collection::vec(prop::collection::vec(token(), 0..22), 0..12)) {
        let mut text = String::from(HEADER);
        text.push('\n');
        for r in &rows {
            text.push_str(&r.join(" "));
            text.push('\n');
        }
        match ResultTable::parse(&text) {
            Ok(t) => {
                prop_assert!(t.len() <= rows.len());
                let _ = bin(&t.rows, &BinOptions::nightly().clip(Clip::default()));
                let _ = t.to_lightcurve("x");
            }
            Err(Error::Parse { line, .. }) => prop_assert!(line >= 2 && line <= rows.len() + 1),
            Err(e) => prop_assert!(false, "unexpected error kind: {e:?}"),
        }
    }

    #[test]
    fn well_formed_rows_round_trip(
        rows in prop::collection::vec(
            (50000.0f64..70000.0, -25.0f64..25.0, 0.0f64..5.0, -100000i64..100000, 0i64..10000, prop::bool::ANY, 0.0f64..10000.0),
            0..40),
        pad in 1usize..4,
    ) {
        let sep = " ".repeat(pad);
        let mut text = format!("{HEADER}\n");
        for (mjd, m, dm, ujy, dujy, c, x) in &rows {
            let f = if *c { "c" } else { "o" };
            let fields = [
                mjd.to_string(), m.to_string(), dm.to_string(), ujy.to_string(), dujy.to_string(), f.to_string(),
                "0".into(), "1.5".into(), "10.0".into(), "-5.0".into(), x.to_string(), "200.0".into(), "2.0".into(),
                "1.9".into(), "12.0".into(), "-0.4".into(), "19.5".into(), "20.5".into(), "01a59101o0618o".into(),
            ];
            text.push_str(&fields.join(&sep));
            text.push_str("\r\n");
        }
        let t = ResultTable::parse(&text).unwrap();
        prop_assert_eq!(t.len(), rows.len());
        for (r, (mjd, m, dm, ujy, dujy, c, x)) in t.rows.iter().zip(&rows) {
            prop_assert_eq!(r.mjd, *mjd);
            prop_assert_eq!(r.m, *m);
            prop_assert_eq!(r.dm, *dm);
            prop_assert_eq!(r.ujy, *ujy);
            prop_assert_eq!(r.dujy, *dujy);
            prop_assert_eq!(r.filter.as_str(), if *c { "c" } else { "o" });
            prop_assert_eq!(r.x, Some(*x));
            prop_assert_eq!(r.obs.as_deref(), Some("01a59101o0618o"));
        }
    }

    #[test]
    fn binning_invariants(
        rows in prop::collection::vec((60000.0f64..60005.0, -5000i64..5000, 0i64..300, prop::bool::ANY), 1..60),
        weighted in prop::bool::ANY,
        clip in prop::bool::ANY,
        scatter in prop::bool::ANY,
    ) {
        let mut text = String::from("###MJD m dm uJy duJy F\n");
        for (mjd, f, e, c) in &rows {
            text.push_str(&format!("{mjd} 0 0 {f} {e} {}\n", if *c { "c" } else { "o" }));
        }
        let t = ResultTable::parse(&text).unwrap();
        let mut opts = BinOptions::nightly().weighting(if weighted { Weighting::InverseVariance } else { Weighting::Unweighted });
        if clip {
            opts = opts.clip(Clip { scale: if scatter { ClipScale::Scatter } else { ClipScale::PointError }, ..Clip::default() });
        }
        let bins = bin(&t.rows, &opts);
        let usable = rows.iter().filter(|r| r.2 > 0).count();
        let accounted: usize = bins.iter().map(|b| b.n_used + b.n_clipped).sum();
        prop_assert_eq!(accounted, usable, "every usable point is used or clipped");
        for b in &bins {
            prop_assert!(b.n_used >= 1);
            prop_assert!(b.flux_err_ujy > 0.0 && b.flux_err_ujy.is_finite());
            prop_assert!(b.mjd >= b.mjd_start && b.mjd < b.mjd_start + 1.0);
            let fluxes: Vec<f64> = t.rows.iter()
                .filter(|r| r.filter == b.filter && r.dujy > 0 && r.mjd.floor() == b.mjd_start)
                .map(|r| r.ujy as f64).collect();
            let (lo, hi) = fluxes.iter().fold((f64::MAX, f64::MIN), |(l, h), f| (l.min(*f), h.max(*f)));
            prop_assert!(b.flux_ujy >= lo - 1e-9 && b.flux_ujy <= hi + 1e-9);
        }
    }
}
