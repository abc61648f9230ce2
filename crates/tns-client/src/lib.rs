//! # tns-client
//!
//! A typed async client for the [Transient Name Server](https://www.wis-tns.org/) (TNS), the
//! IAU's register of transient names, on `broker-core`.
//!
//! - every call is a `POST` with the form fields `api_key` and `data` (a JSON document as a
//!   string), and the `tns_marker{"tns_id":...,"type":"bot","name":"..."}` User-Agent
//!   ([`Identity`]); the key never prints;
//! - reads: [`TnsClient::search`] (name, internal name, cone, objid, `public_timestamp`),
//!   [`TnsClient::object`] with photometry and spectra, [`TnsClient::download_file`];
//! - quotas: both header families (`x-rate-limit-*`, `x-cone-rate-limit-*`) hold back the
//!   next call of their family until the announced reset when `-remaining` reaches 0, even
//!   after a 200 ([`broker_core::ServerQuota`]); 429s are waited out and retried;
//! - bulk: the staged public-objects CSV files ([`Staged`], [`PublicObjects`]) and a local
//!   [`Mirror`] kept current with `public_timestamp` searches;
//! - reports: AT and classification reports polled to their outcome, sent exactly once
//!   ([`TnsClient::report_once`]);
//! - names: [`TnsName`] reads "SN 2023ixf", "AT2023ixf" and "2023ixf" as one object and
//!   refuses malformed names before any request; [`InternalNames`] sorts `internal_names` by
//!   survey.
//!
//! ```
//! use tns_client::{TnsClient, ObjectQuery, Survey};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> tns_client::Result<()> {
//! # let server = httpmock::MockServer::start_async().await;
//! # server.mock_async(|when, then| {
//! #     when.method("POST").path("/api/get/object")
//! #         .header("user-agent", r#"tns_marker{"tns_id":1234,"type":"bot","name":"my_bot"}"#)
//! #         .form_urlencoded_tuple("api_key", "my-key")
//! #         .form_urlencoded_tuple("data", r#"{"objname":"2024ggi","photometry":"1","spectra":"1"}"#);
//! #     then.status(200).json_body(serde_json::json!({"id_code": 200, "id_message": "OK", "data": {
//! #         "objname": "2024ggi", "name_prefix": "SN", "objid": 143009, "radeg": 169.59, "decdeg": -32.84,
//! #         "internal_names": ",ATLAS24fsk, ZTF24aaiycfu", "photometry": [], "spectra": []}}));
//! # }).await;
//! # let url = server.base_url();
//! // url = tns_client::DEFAULT_URL in real life
//! let tns = TnsClient::builder().url(url).api_key("my-key").bot(1234, "my_bot").build()?;
//! let obj = tns.object_full("SN 2024ggi").await?;
//! assert_eq!(obj.name()?.to_string(), "SN 2024ggi");
//! assert_eq!(obj.internal_names().first(Survey::Atlas), Some("ATLAS24fsk"));
//! assert!(obj.position().is_some());
//! # Ok(()) }
//! ```

pub mod bulk;
mod client;
mod de;
pub mod error;
#[cfg(feature = "polars")]
pub mod frame;
pub mod names;
pub mod object;
pub mod report;
pub mod search;

pub use bulk::{Mirror, MirrorUpdate, PublicObjectRow, PublicObjects, Staged};
pub use client::{
    CONE_QUOTA, DEFAULT_URL, ENV_VARS, GENERAL_QUOTA, Identity, SANDBOX_URL, TnsClient, TnsClientBuilder,
    unwrap_envelope,
};
pub use error::{Error, Result};
pub use names::{InternalNames, Survey, TnsName};
pub use object::{IdName, ObjectQuery, TnsObject, TnsPhotometry, TnsSpectrum};
pub use report::{AtReport, ClassificationReport, ReplyStatus, Report, ReportOutcome, ReportResult};
pub use search::{RadiusUnit, SearchHit, SearchQuery};
