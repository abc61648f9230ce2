//! The ALeRCE client documentation's recipes, against the real services (or any
//! deployment named by the `ALERCE_*` environment variables).
//!
//! ```text
//! cargo run -p alerce-client --example recipes -- ZTF18abbuksn
//! ```

use alerce_client::ztf::{ObjectQuery, OrderMode, ZtfOrderBy};
use alerce_client::{AlerceClient, stamps::StampKind};
use broker_core::SkyPosition;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let oid = std::env::args().nth(1).unwrap_or_else(|| "ZTF18abbuksn".to_string());
    let alerce = AlerceClient::builder().from_env().build()?;

    // Objects classified as SN with probability > 0.7.
    let query = ObjectQuery::new()
        .classifier("stamp_classifier")
        .class_name("SN")
        .probability(0.7)
        .page_size(10)
        .order_by(ZtfOrderBy::Probability, OrderMode::Desc);
    for o in alerce.ztf().query_objects(&query).await?.items {
        println!("{:<14} {:?} p={:?} ndet={:?}", o.oid, o.class_name, o.probability, o.ndet);
    }

    // A light curve.
    let lc = alerce.ztf().lightcurve(&oid).await?;
    println!("{oid}: {} detections, {} non-detections", lc.detections.len(), lc.non_detections.len());
    for p in lc.to_lightcurve(&oid).points.iter().take(5) {
        println!("  {:.5} {:<5} mag={:?} lim={:?}", p.mjd, p.band, p.mag, p.limiting_mag);
    }

    // Probabilities.
    for p in alerce.ztf().probabilities(&oid).await? {
        println!("  {:?} {:?}: {:?}", p.classifier_name, p.class_name, p.probability);
    }

    // Stamps of the first alert with stamps.
    match alerce.stamps().ztf_stamps(&oid, None).await {
        Ok(t) => {
            for kind in StampKind::ALL {
                if let Some(img) = t.get(kind).image() {
                    println!("  {kind:?} stamp {}x{} (candid {})", img.width, img.height, t.alert_id);
                }
            }
        }
        Err(e) => println!("  no stamps: {e}"),
    }

    // A crossmatch around the object.
    let obj = alerce.ztf().object(&oid).await?;
    if let (Some(ra), Some(dec)) = (obj.meanra, obj.meandec) {
        let tables = alerce.catshtm().crossmatch_all(SkyPosition::new(ra, dec)?, 20.0).await?;
        for t in tables {
            println!("  {}: distance {:?} arcsec", t.catalog, t.first_f64("distance"));
        }
    }
    Ok(())
}
