//! Spectra: `/api/spectra`, `/api/sources/{obj_id}/spectra`, ASCII parse and upload.

use broker_core::{Error, Request, Result, RetrySafety};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::models::{IdReply, Spectrum};
use crate::params::{QueryParams, query_setters};
use crate::validate;

/// Spectrum endpoints; from [`Client::spectra`].
#[derive(Debug, Clone)]
pub struct Spectra {
    client: Client,
}

impl Client {
    /// Spectrum endpoints.
    pub fn spectra(&self) -> Spectra {
        Spectra { client: self.clone() }
    }
}

/// What [`Spectra::for_source_sorted`] orders by (the two the server accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpectrumSort {
    /// `observed_at` (the server default).
    ObservedAt,
    /// `created_at`.
    CreatedAt,
}

impl SpectrumSort {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            SpectrumSort::ObservedAt => "observed_at",
            SpectrumSort::CreatedAt => "created_at",
        }
    }
}

/// The reply of `GET /api/sources/{obj_id}/spectra`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SourceSpectra {
    /// The object id.
    #[serde(default)]
    pub obj_id: String,
    /// Its spectra.
    #[serde(default)]
    pub spectra: Vec<Spectrum>,
}

impl Spectra {
    /// Spectra matching filters: `GET /api/spectra` (not paginated); see [`SpectrumList`].
    pub fn list(&self) -> SpectrumList {
        SpectrumList { client: self.client.clone(), q: QueryParams::default() }
    }

    /// A source's spectra: `GET /api/sources/{obj_id}/spectra`, optionally normalized
    /// (`normalization=median`).
    pub async fn for_source(&self, obj_id: &str, normalization: Option<&str>) -> Result<SourceSpectra> {
        let id = validate::obj_id(obj_id)?;
        let req = Request::get(format!("api/sources/{id}/spectra")).query_opt("normalization", normalization);
        self.client.data(req).await
    }

    /// A source's spectra in a chosen order: `GET /api/sources/{obj_id}/spectra` with
    /// `sortBy` and `sortOrder` (server default: `observed_at`, ascending).
    pub async fn for_source_sorted(
        &self,
        obj_id: &str,
        normalization: Option<&str>,
        sort_by: SpectrumSort,
        descending: bool,
    ) -> Result<SourceSpectra> {
        let id = validate::obj_id(obj_id)?;
        let req = Request::get(format!("api/sources/{id}/spectra"))
            .query_opt("normalization", normalization)
            .query("sortBy", sort_by.as_str())
            .query("sortOrder", if descending { "desc" } else { "asc" });
        self.client.data(req).await
    }

    /// One spectrum: `GET /api/spectra/{id}`.
    pub async fn get(&self, id: i64) -> Result<Spectrum> {
        self.client.data(Request::get(format!("api/spectra/{id}"))).await
    }

    /// Uploads a spectrum: `POST /api/spectra` → its id.
    pub async fn create(&self, spectrum: &NewSpectrum) -> Result<i64> {
        spectrum.validate()?;
        let r: IdReply = self.client.data(Request::post("api/spectra").json(spectrum)).await?;
        Ok(r.id)
    }

    /// Updates a spectrum: `PUT /api/spectra/{id}`. The server loads the body as a
    /// partial `SpectrumPost`: only the fields sent change (it is not a replacement), and
    /// `group_ids` are **added** to the spectrum's groups, never removed (`"all"` adds
    /// every group the user can access). `pi`, `reduced_by` and `observed_by` lists do
    /// replace the current people.
    pub async fn update(&self, id: i64, spectrum: &NewSpectrum) -> Result<()> {
        spectrum.validate()?;
        self.client.ok(Request::put(format!("api/spectra/{id}")).json(spectrum)).await
    }

    /// Deletes a spectrum: `DELETE /api/spectra/{id}`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client.ok(Request::delete(format!("api/spectra/{id}"))).await
    }

    /// Parses an ASCII spectrum on the server without storing it:
    /// `POST /api/spectra/parse/ascii`. It changes nothing on the server, so unlike other
    /// POSTs it is also retried after a 5xx.
    pub async fn parse_ascii(&self, ascii: &AsciiSpectrum) -> Result<Spectrum> {
        ascii.validate()?;
        let req = Request::post("api/spectra/parse/ascii").json(ascii).retry_safety(RetrySafety::Safe);
        self.client.data(req).await
    }

    /// Uploads an ASCII spectrum: `POST /api/spectra/ascii` → its id.
    pub async fn upload_ascii(&self, upload: &AsciiSpectrumUpload) -> Result<i64> {
        upload.validate()?;
        let r: IdReply = self.client.data(Request::post("api/spectra/ascii").json(upload)).await?;
        Ok(r.id)
    }
}

/// `GET /api/spectra` and its filters (multi-valued ones comma-joined).
#[derive(Debug, Clone)]
pub struct SpectrumList {
    client: Client,
    q: QueryParams,
}

impl SpectrumList {
    query_setters! {
        /// Object id (partial match).
        obj_id: str = "objID";
        /// Instruments.
        instrument_ids: ids = "instrumentIDs";
        /// Groups.
        group_ids: ids = "groupIDs";
        /// Follow-up requests.
        followup_request_ids: ids = "followupRequestIDs";
        /// Assignments.
        assignment_ids: ids = "assignmentIDs";
        /// Observed before this date (Arrow-parseable).
        observed_before: str = "observedBefore";
        /// Observed after this date.
        observed_after: str = "observedAfter";
        /// Modified before this date.
        modified_before: str = "modifiedBefore";
        /// Modified after this date.
        modified_after: str = "modifiedAfter";
        /// Origins (partial match).
        origin: strs = "origin";
        /// Labels (partial match).
        label: strs = "label";
        /// Types (`source`, `host`, `host_center`).
        spectrum_type: strs = "type";
        /// Only metadata, no wavelengths or fluxes.
        minimal_payload: bool = "minimalPayload";
        /// Include the original file.
        include_original_file: bool = "includeOriginalFile";
        /// Comment texts to match.
        comments_filter: strs = "commentsFilter";
        /// Comment authors.
        comments_filter_author: strs = "commentsFilterAuthor";
        /// Comments before this date.
        comments_filter_before: str = "commentsFilterBefore";
        /// Comments after this date.
        comments_filter_after: str = "commentsFilterAfter";
    }

    /// Sends the request.
    pub async fn send(self) -> Result<Vec<Spectrum>> {
        self.q.check()?;
        let mut req = Request::get("api/spectra");
        for (k, v) in &self.q.pairs {
            req = req.query(k, v);
        }
        self.client.data(req).await
    }
}

/// The body of `POST /api/spectra` (`SpectrumPost`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewSpectrum {
    /// Object id.
    pub obj_id: String,
    /// Instrument id.
    pub instrument_id: i64,
    /// Observation time (UTC ISO 8601).
    pub observed_at: String,
    /// Wavelengths (Å).
    pub wavelengths: Vec<f64>,
    /// Fluxes.
    pub fluxes: Vec<f64>,
    /// Flux errors (same length).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<f64>>,
    /// Units (`Jy`, `AB`, `erg/s/cm/cm/AA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Type (`source`, `host`, `host_center`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub spectrum_type: Option<String>,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Groups to share with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<i64>>,
    /// Free-form metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub altdata: Option<Value>,
    /// Any other field (`pi`, `reduced_by`, `observed_by`, `followup_request_id`, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl NewSpectrum {
    fn validate(&self) -> Result<()> {
        validate::obj_id(&self.obj_id)?;
        validate::non_empty("observed_at", &self.observed_at)?;
        if self.wavelengths.is_empty() {
            return Err(Error::invalid("wavelengths", "give at least one wavelength"));
        }
        if self.fluxes.len() != self.wavelengths.len() {
            return Err(Error::invalid(
                "fluxes",
                format!(
                    "{} fluxes for {} wavelengths: give one flux per wavelength",
                    self.fluxes.len(),
                    self.wavelengths.len()
                ),
            ));
        }
        if let Some(e) = &self.errors {
            if e.len() != self.wavelengths.len() {
                return Err(Error::invalid("errors", "give one error per wavelength"));
            }
        }
        for (name, v) in [("wavelengths", &self.wavelengths), ("fluxes", &self.fluxes)] {
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error::invalid(format!("{name}[{i}]"), "not a finite number"));
            }
        }
        Ok(())
    }
}

/// The body of `POST /api/spectra/parse/ascii`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsciiSpectrum {
    /// The file's text.
    pub ascii: String,
    /// 0-based wavelength column (default 0).
    pub wave_column: u32,
    /// 0-based flux column (default 1).
    pub flux_column: u32,
    /// 0-based flux-error column, if any.
    pub fluxerr_column: Option<u32>,
}

impl AsciiSpectrum {
    /// Two or more columns: wavelength, flux.
    pub fn new(ascii: impl Into<String>) -> Self {
        AsciiSpectrum { ascii: ascii.into(), wave_column: 0, flux_column: 1, fluxerr_column: None }
    }

    fn validate(&self) -> Result<()> {
        validate::non_empty("ascii", &self.ascii)?;
        if self.wave_column == self.flux_column {
            return Err(Error::invalid("flux_column", "must differ from wave_column"));
        }
        Ok(())
    }
}

/// The body of `POST /api/spectra/ascii`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsciiSpectrumUpload {
    /// Object id.
    pub obj_id: String,
    /// Instrument id.
    pub instrument_id: i64,
    /// Observation time (UTC ISO 8601).
    pub observed_at: String,
    /// The original file name.
    pub filename: String,
    /// The file and its columns.
    #[serde(flatten)]
    pub ascii: AsciiSpectrum,
    /// Groups to share with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<i64>>,
    /// Any other field (`label`, `type`, `observed_by`, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl AsciiSpectrumUpload {
    fn validate(&self) -> Result<()> {
        validate::obj_id(&self.obj_id)?;
        validate::non_empty("observed_at", &self.observed_at)?;
        validate::non_empty("filename", &self.filename)?;
        self.ascii.validate()
    }
}
