//! Download a source's photometry as a light curve and print it as a table (and, with
//! `--features polars`, as a DataFrame).
//!
//! ```sh
//! SKYPORTAL_URL=https://fritz.science SKYPORTAL_TOKEN=... cargo run -p skyportal-client --example lightcurve -- ZTF21aaqjmps
//! ```

use skyportal_client::ClientBuilder;
use skyportal_client::photometry::PhotometryFormat;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let obj_id = std::env::args().nth(1).ok_or("usage: lightcurve <obj_id>")?;
    let client = ClientBuilder::from_env().build()?;
    let records = client.photometry().for_source(&obj_id).format(PhotometryFormat::Both).send().await?;
    let lc = skyportal_client::to_lightcurve(&obj_id, &records);
    println!("{} points ({} detections) in {:?}", lc.len(), lc.detections().count(), lc.bands());
    for p in &lc.points {
        let value = match (p.mag, p.limiting_mag) {
            (Some(m), _) => format!("{m:.3} ± {:.3}", p.mag_err.unwrap_or(f64::NAN)),
            (None, Some(l)) => format!("> {l:.2}"),
            _ => "-".into(),
        };
        println!("{:.5}\t{}\t{}", p.mjd, p.band, value);
    }
    #[cfg(feature = "polars")]
    println!("{}", lc.to_dataframe()?);
    Ok(())
}
