#![no_main]
use astrobrokers::resolve::Query;
use libfuzzer_sys::fuzz_target;

// A user's query (`astrobrokers resolve <query>`, harvest input lines): any text must parse or
// fail with an error, never panic; what it accepts must be well-formed and stable when the
// normalised form is given back.
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(q) = Query::parse(&text) else { return };
    match &q {
        Query::Position(p) => {
            assert!(p.ra().is_finite() && (0.0..360.0).contains(&p.ra()), "ra {}", p.ra());
            assert!(p.dec().is_finite() && (-90.0..=90.0).contains(&p.dec()), "dec {}", p.dec());
        }
        Query::Tns(n) => assert_eq!(Query::parse(&format!("tns:{n}")).ok(), Some(q.clone())),
        Query::Ztf(z) => {
            assert_eq!(z.len(), 12, "{z:?}");
            assert_eq!(Query::parse(z).ok(), Some(q.clone()));
        }
        Query::AtlasDesignation(d) => assert_eq!(Query::parse(d).ok(), Some(q.clone())),
        Query::AtlasId(id) => assert!(id.len() == 19 && id.bytes().all(|b| b.is_ascii_digit())),
        Query::Lsst(v) => assert!(*v > 0),
        Query::SkyPortal(s) => assert!(!s.trim().is_empty()),
    }
});
