//! Upload photometry from a CSV file (`mjd,filter,mag,magerr,limiting_mag`; an empty `mag`
//! marks a non-detection) with the idempotent `PUT /api/photometry`, 10,000 rows a request.
//!
//! ```sh
//! SKYPORTAL_URL=... SKYPORTAL_TOKEN=... cargo run -p skyportal-client --example upload_photometry -- ZTF21aaqjmps ZTF points.csv 4
//! ```

use skyportal_client::ClientBuilder;
use skyportal_client::photometry::{MagRow, PhotometryUpload};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [obj_id, instrument, path, group] = args.as_slice() else {
        return Err("usage: upload_photometry <obj_id> <instrument name> <file.csv> <group id>".into());
    };
    let client = ClientBuilder::from_env().build()?;
    let instruments = client.resources().instruments(Some(instrument)).await?;
    let instrument_id = instruments.first().and_then(|i| i.id).ok_or("no such instrument")?;
    let mut rows = Vec::new();
    for (i, line) in std::fs::read_to_string(path)?.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let num = |k: usize| -> Result<Option<f64>, String> {
            match f.get(k).copied().unwrap_or("") {
                "" => Ok(None),
                s => s.parse().map(Some).map_err(|e| format!("line {}: column {}: {e}", i + 1, k + 1)),
            }
        };
        let mjd = num(0)?.ok_or(format!("line {}: no mjd", i + 1))?;
        let filter = f.get(1).copied().unwrap_or("");
        let mut row = match (num(2)?, num(3)?) {
            (Some(m), Some(e)) => MagRow::detection(obj_id.as_str(), instrument_id, mjd, filter, m, e),
            _ => MagRow::non_detection(obj_id.as_str(), instrument_id, mjd, filter, f64::NAN),
        };
        row.limiting_mag = num(4)?;
        rows.push(row);
    }
    let upload = PhotometryUpload::mags(rows).group_ids([group.parse()?]);
    match client.photometry().upsert(&upload).await {
        Ok(r) => println!("stored {} points in {} request(s)", r.ids.len(), r.requests),
        Err(f) => {
            eprintln!("{f}");
            eprintln!("re-run to upsert rows {}..{} again", f.failed_rows.start, f.failed_rows.end);
            std::process::exit(1);
        }
    }
    Ok(())
}
