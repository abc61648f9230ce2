//! Keep a custom list in step with a filtered detection list.
//!
//! ```text
//! ATLAS_API_TOKEN=... cargo run -p atlas-client --example custom_list -- mookodi
//! ```
//!
//! Reads the `eyeball` list (VRA score at least 0.7, Sherlock class SN), adds what is new
//! to the custom list, and prints what the server did with each id.

use atlas_client::{AtlasClient, CustomList, DetectionList, WriteOutcome};

#[tokio::main]
async fn main() -> atlas_client::Result<()> {
    let list: CustomList = std::env::args().nth(1).as_deref().unwrap_or("vra").parse()?;
    let client = match AtlasClient::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Ok(());
        }
    };
    let candidates = client.object_list(DetectionList::Eyeball).vra_gte(0.7).sherlock_class("SN").send().await?;
    let already: std::collections::HashSet<u64> =
        client.custom_list_rows(list).await?.iter().map(|r| r.transient_object_id.get()).collect();
    let new: Vec<_> = candidates.iter().map(|r| r.id).filter(|id| !already.contains(&id.get())).collect();
    println!("{} candidates, {} new for list {}", candidates.len(), new.len(), list.id());
    if new.is_empty() {
        return Ok(());
    }
    for w in client.add_to_custom_list(list, new).await? {
        match w.result {
            Ok(WriteOutcome::Created) => println!("{} added", w.id),
            Ok(other) => println!("{} not added: {other:?}", w.id),
            Err(e) => eprintln!("{} failed: {e}", w.id),
        }
    }
    Ok(())
}
