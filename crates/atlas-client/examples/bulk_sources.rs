//! Many sources at once: chunked, throttled, every id accounted for.
//!
//! ```text
//! ATLAS_API_TOKEN=... cargo run -p atlas-client --example bulk_sources -- ids.txt
//! ```
//!
//! `ids.txt` holds one 19-digit ATLAS id per line.

use atlas_client::{AtlasClient, AtlasId, SourceOutcome};
use futures::StreamExt;

#[tokio::main]
async fn main() -> atlas_client::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bulk_sources <file with one ATLAS id per line>");
        return Ok(());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| atlas_client::Error::Config(format!("{path}: {e}")))?;
    let ids = AtlasId::parse_many(text.lines().map(str::trim).filter(|l| !l.is_empty()))?;
    let client = match AtlasClient::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Ok(());
        }
    };
    // Only the last 100 days of photometry, 1,000 ids per request, 2 requests in flight.
    let since = broker_core::Mjd::now().0 - 100.0;
    let mut stream = client.sources(ids).mjd_threshold(since).chunk_size(1000).concurrency(2).stream()?;
    let total = stream.total().unwrap_or(0);
    let (mut found, mut missing, mut failed) = (0, 0, 0);
    while let Some(item) = stream.next().await {
        let r = item?;
        match &r.outcome {
            SourceOutcome::Found(s) => {
                found += 1;
                println!("{} {} {} detections", r.id, s.object.atlas_designation.as_deref().unwrap_or("?"), s.lc.len());
            }
            SourceOutcome::NotFound(_) => missing += 1,
            SourceOutcome::Failed(e) => {
                failed += 1;
                eprintln!("{}: {e}", r.id);
            }
        }
    }
    println!("{total} ids: {found} found, {missing} unknown, {failed} failed (retry those later)");
    Ok(())
}
