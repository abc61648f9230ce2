//! One source: its object row, TNS name, light curve and forced photometry.
//!
//! ```text
//! ATLAS_API_TOKEN=... cargo run -p atlas-client --example single_source -- 1161600211221604900
//! ATLAS_API_CONFIG=~/api_config_MINE.yaml cargo run -p atlas-client --example single_source
//! ```

use atlas_client::{AtlasClient, AtlasId};

#[tokio::main]
async fn main() -> atlas_client::Result<()> {
    let id: AtlasId = std::env::args().nth(1).as_deref().unwrap_or("1161600211221604900").parse()?;
    let client = match AtlasClient::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}\n(set ATLAS_API_TOKEN, or ATLAS_API_CONFIG to your api_config_MINE.yaml)");
            return Ok(());
        }
    };
    let Some(source) = client.source(id).send().await? else {
        println!("{id}: the server does not know this object");
        return Ok(());
    };
    let o = &source.object;
    println!(
        "{id} {} (TNS {}) at ra={:?} dec={:?}, Sherlock {:?}, VRA {:?}",
        o.atlas_designation.as_deref().unwrap_or("?"),
        source.tns_name().unwrap_or("-"),
        o.ra,
        o.dec,
        o.sherlock_classification,
        o.vra
    );
    let lc = source.lightcurve();
    println!("{} detections, {} limits", lc.detections().count(), lc.limits().count());
    for p in lc.points.iter().rev().take(5) {
        match p.mag {
            Some(m) => println!("  MJD {:.4} {} {:.2} ± {:.2}", p.mjd, p.band, m, p.mag_err.unwrap_or(f64::NAN)),
            None if p.is_detection() => {
                println!("  MJD {:.4} {} negative flux {:.1} µJy", p.mjd, p.band, p.flux_ujy.unwrap_or(f64::NAN))
            }
            None => println!("  MJD {:.4} {} > {:.2}", p.mjd, p.band, p.limiting_mag.unwrap_or(f64::NAN)),
        }
    }
    println!("{} forced-photometry points", source.forced_lightcurve().len());
    Ok(())
}
