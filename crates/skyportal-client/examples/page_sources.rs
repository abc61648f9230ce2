//! The pagination script of SkyPortal's API documentation, in Rust: every source saved to
//! groups 4 and 71, 500 per page, with `queryID` paging and 429 handling built in.
//!
//! ```sh
//! SKYPORTAL_URL=https://fritz.science SKYPORTAL_TOKEN=... cargo run -p skyportal-client --example page_sources -- 4 71
//! ```

use futures::TryStreamExt;
use skyportal_client::ClientBuilder;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let group_ids: Vec<i64> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let client = ClientBuilder::from_env().build()?;
    let mut list = client.sources().list();
    if !group_ids.is_empty() {
        list = list.group_ids(group_ids);
    }
    let mut sources = list.page_size(500).stream();
    let mut n = 0;
    while let Some(source) = sources.try_next().await? {
        n += 1;
        println!("{}\t{:?}\t{:?}\t{:?}", source.id, source.ra, source.dec, source.redshift);
    }
    eprintln!("Fetched {n} of {:?} sources.", sources.total());
    Ok(())
}
