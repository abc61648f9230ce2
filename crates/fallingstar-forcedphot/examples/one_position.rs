//! Forced photometry for one position, cleaned, binned nightly and printed.
//!
//! ```sh
//! export ATLASFORCED_SECRET_KEY=...   # from https://fallingstar-data.com/forcedphot/apiguide/
//! cargo run -p fallingstar-forcedphot --example one_position -- "01:59:26.73 +30:43:36.2" 59100
//! ```

use fallingstar_forcedphot::binning::{BinOptions, Clip, bin};
use fallingstar_forcedphot::{Client, Outcome, QualityCuts, RunOptions, Target, TaskRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let target: Target = args.next().unwrap_or_else(|| "29.86137 30.72672".into()).parse()?;
    let mjd_min: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(59100.0);

    let client = Client::builder().from_env().build()?;
    let opts = RunOptions::new().progress(|p| eprintln!("task {}: {:?}", p.task_id, p.stage));
    let run = client.run(&TaskRequest::new(target).mjd_min(mjd_min), &opts).await?;
    let table = match run.outcome {
        Outcome::Data(t) => t,
        other => {
            println!("no photometry: {other:?}");
            return Ok(());
        }
    };
    let good = QualityCuts::official().apply(&table.rows);
    println!("{} rows, {} pass the FAQ cuts", table.len(), good.len());
    for b in bin(&good, &BinOptions::nightly().clip(Clip::default())) {
        println!(
            "{} {:.5} {:>8.1} ± {:>6.1} µJy (n={}, clipped {})",
            b.filter, b.mjd, b.flux_ujy, b.flux_err_ujy, b.n_used, b.n_clipped
        );
    }
    Ok(())
}
