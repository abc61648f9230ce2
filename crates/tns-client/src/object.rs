//! `api/get/object` (one object, with photometry and spectra on request) and file downloads.
//!
//! The `data` document is `{"objname": "2023ixf", "photometry": "0"|"1", "spectra": "0"|"1"}`
//! (or `objid` instead of `objname`), as in the TNS sample code. The reply's fields follow
//! the object replies seen in SkyPortal (`radeg`, `decdeg`, `internal_names`, `photometry[]`
//! with `jd`, `flux`, `fluxerr`, `limflux`, `flux_unit`, `filters`, `instrument`; `spectra[]`
//! with `jd`, `asciifile`, `instrument`) and in AMPEL's TNS test data (`objid`,
//! `name_prefix`, `object_type{name,id}`, `discoverydate`, `discoverymag`,
//! `discmagfilter{id,name,family}`, `reporting_group{groupid,group_name}`, ...). Every other
//! field is kept in `extra`.

use broker_core::{Band, Lightcurve, Measurement, Origin, PhotometryPoint, SkyPosition};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::client::TnsClient;
use crate::de::{opt_f64_lenient, opt_string_lenient, opt_u64_lenient};
use crate::error::{Error, Result};
use crate::names::{InternalNames, TnsName};

/// The object path.
pub const OBJECT_PATH: &str = "api/get/object";

/// What to ask `get/object` for.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ObjectQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    objname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objid: Option<String>,
    photometry: &'static str,
    spectra: &'static str,
}

impl ObjectQuery {
    /// By name (`"SN 2023ixf"`, `"2023ixf"`): the name is checked before any request.
    pub fn name(name: &str) -> Result<Self> {
        let n = TnsName::parse(name)?;
        Ok(ObjectQuery { objname: Some(n.objname()), objid: None, photometry: "0", spectra: "0" })
    }
    /// By TNS object id.
    pub fn objid(objid: u64) -> Self {
        ObjectQuery { objname: None, objid: Some(objid.to_string()), photometry: "0", spectra: "0" }
    }
    /// Includes the photometry.
    pub fn photometry(mut self, on: bool) -> Self {
        self.photometry = if on { "1" } else { "0" };
        self
    }
    /// Includes the spectra.
    pub fn spectra(mut self, on: bool) -> Self {
        self.spectra = if on { "1" } else { "0" };
        self
    }
    fn label(&self) -> String {
        self.objname.clone().or_else(|| self.objid.as_ref().map(|i| format!("objid {i}"))).unwrap_or_default()
    }
}

/// A `{ "id": ..., "name": ... }` reference (object type, filter, instrument, unit).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct IdName {
    /// The TNS id.
    #[serde(default, deserialize_with = "opt_u64_lenient")]
    pub id: Option<u64>,
    /// The name.
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub name: Option<String>,
    /// Other keys (`family` of a filter, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A group reference (`{"groupid": 48, "group_name": "ZTF"}`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct GroupRef {
    /// The group id.
    #[serde(default, deserialize_with = "opt_u64_lenient")]
    pub groupid: Option<u64>,
    /// The group name.
    #[serde(default)]
    pub group_name: Option<String>,
}

/// One photometry point of an object.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct TnsPhotometry {
    /// Julian date of the observation.
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    pub jd: Option<f64>,
    /// The measurement (a magnitude when `flux_unit.name` is `ABMag`).
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    pub flux: Option<f64>,
    /// Its error.
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    pub fluxerr: Option<f64>,
    /// The limit of a non-detection.
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    pub limflux: Option<f64>,
    /// The unit (`{"id": 1, "name": "ABMag"}`).
    #[serde(default)]
    pub flux_unit: Option<IdName>,
    /// The filter.
    #[serde(default)]
    pub filters: Option<IdName>,
    /// The instrument.
    #[serde(default)]
    pub instrument: Option<IdName>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One spectrum of an object.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct TnsSpectrum {
    /// Julian date of the observation.
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    pub jd: Option<f64>,
    /// The URL of the ASCII file (download with [`TnsClient::download_file`]).
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub asciifile: Option<String>,
    /// The URL of the FITS file, when there is one.
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub fitsfile: Option<String>,
    /// The instrument.
    #[serde(default)]
    pub instrument: Option<IdName>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One TNS object.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct TnsObject {
    /// The name without prefix (`2023ixf`).
    pub objname: String,
    /// `AT`, `SN`, ...
    #[serde(default)]
    pub name_prefix: Option<String>,
    /// The TNS object id.
    #[serde(default, deserialize_with = "opt_u64_lenient")]
    pub objid: Option<u64>,
    /// RA in degrees.
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    pub radeg: Option<f64>,
    /// Dec in degrees.
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    pub decdeg: Option<f64>,
    /// RA sexagesimal.
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub ra: Option<String>,
    /// Dec sexagesimal.
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub dec: Option<String>,
    /// The classification (`{"name": "SN II", "id": 10}`; nulls while unclassified).
    #[serde(default)]
    pub object_type: Option<IdName>,
    /// Redshift.
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    pub redshift: Option<f64>,
    /// Host galaxy.
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub hostname: Option<String>,
    /// Host redshift.
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    pub host_redshift: Option<f64>,
    /// Discovery date (`2023-05-19 17:27:35.000` or ISO).
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub discoverydate: Option<String>,
    /// Discovery magnitude.
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    pub discoverymag: Option<f64>,
    /// Discovery filter.
    #[serde(default)]
    pub discmagfilter: Option<IdName>,
    /// The survey-internal names, comma-separated (see [`TnsObject::internal_names`]).
    #[serde(default, rename = "internal_names", deserialize_with = "opt_string_lenient")]
    pub internal_names_raw: Option<String>,
    /// The reporting group.
    #[serde(default)]
    pub reporting_group: Option<GroupRef>,
    /// The discovery data source.
    #[serde(default)]
    pub discovery_data_source: Option<GroupRef>,
    /// Photometry (when asked for).
    #[serde(default)]
    pub photometry: Vec<TnsPhotometry>,
    /// Spectra (when asked for).
    #[serde(default)]
    pub spectra: Vec<TnsSpectrum>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl TnsObject {
    /// The name with its prefix.
    pub fn name(&self) -> Result<TnsName> {
        Ok(TnsName::parse(&self.objname)?.with_prefix(self.name_prefix.as_deref()))
    }
    /// The position, when the reply has valid degrees.
    pub fn position(&self) -> Option<SkyPosition> {
        SkyPosition::new(self.radeg?, self.decdeg?).ok()
    }
    /// The survey-internal names by survey.
    pub fn internal_names(&self) -> InternalNames {
        InternalNames::parse(self.internal_names_raw.as_deref().unwrap_or_default())
    }
    /// The photometry as a [`Lightcurve`] (detections, and limits from `limflux`), for
    /// points in AB magnitudes with a date; others are skipped. Bands come from the TNS
    /// filter id where SkyPortal maps it (110/111/112 ZTF g/r/i, 71/72 ATLAS c/o, 160-165
    /// LSST u-y), else from the filter name. Points have origin `reported`.
    pub fn lightcurve(&self) -> Lightcurve {
        let mut lc = Lightcurve::new();
        let object_id = self.objname.as_str();
        for p in &self.photometry {
            let Some(jd) = p.jd else { continue };
            let unit = p.flux_unit.as_ref().and_then(|u| u.name.as_deref()).unwrap_or("ABMag");
            if !unit.eq_ignore_ascii_case("ABMag") {
                continue;
            }
            let band = band_of(p.filters.as_ref());
            let mjd = jd - 2_400_000.5;
            let point = match (p.flux, p.limflux) {
                (Some(m), _) => PhotometryPoint::from_mag("tns", "TNS", object_id, mjd, band, m, p.fluxerr),
                (None, Some(lim)) => PhotometryPoint::limit("tns", "TNS", object_id, mjd, band, lim),
                _ => continue,
            };
            // Reported by a person or a survey's bot; TNS does not say whether a magnitude
            // is a difference-image one: the surveys' discovery reports are, so that is
            // the default kept here.
            lc.push(point.with_origin(Origin::Reported).with_measurement(Measurement::Difference));
        }
        lc.sort_by_mjd();
        lc
    }
}

/// The band of a TNS filter reference.
pub fn band_of(filter: Option<&IdName>) -> Band {
    let by_id = filter.and_then(|f| f.id).and_then(|id| match id {
        110 => Some(Band::ZtfG),
        111 => Some(Band::ZtfR),
        112 => Some(Band::ZtfI),
        71 => Some(Band::AtlasC),
        72 => Some(Band::AtlasO),
        160 => Some(Band::LsstU),
        161 => Some(Band::LsstG),
        162 => Some(Band::LsstR),
        163 => Some(Band::LsstI),
        164 => Some(Band::LsstZ),
        165 => Some(Band::LsstY),
        _ => None,
    });
    by_id.unwrap_or_else(|| Band::from_name(filter.and_then(|f| f.name.as_deref()).unwrap_or("unknown")))
}

impl TnsClient {
    /// Gets one object.
    pub async fn object(&self, query: &ObjectQuery) -> Result<TnsObject> {
        let req = crate::client::safe(self.api_request(crate::object::OBJECT_PATH, query));
        let data = self.call(req).await?;
        let empty = match &data {
            serde_json::Value::Null => true,
            serde_json::Value::Object(o) => o.is_empty() || o.get("objname").is_none_or(|v| v.is_null()),
            serde_json::Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if empty {
            return Err(Error::NotFound(query.label()));
        }
        serde_json::from_value(data).map_err(|e| Error::Format { what: "object reply", message: e.to_string() })
    }

    /// Everything about one object by name (`"SN 2024ggi"`): position, internal names,
    /// photometry and spectra, in one call.
    pub async fn object_full(&self, name: &str) -> Result<TnsObject> {
        self.object(&ObjectQuery::name(name)?.photometry(true).spectra(true)).await
    }

    /// Downloads a file TNS serves (a spectrum's `asciifile`/`fitsfile`, a report
    /// attachment): a `POST` of the `api_key` alone to the file's URL, as the TNS sample
    /// code does. The URL must be on the client's server (the key never goes elsewhere).
    pub async fn download_file(&self, url: &str) -> Result<Bytes> {
        let base = self.http().base_url();
        let target = self.http().url_for(url)?;
        if target.scheme() != base.scheme()
            || target.host_str() != base.host_str()
            || target.port_or_known_default() != base.port_or_known_default()
        {
            return Err(Error::invalid(
                "url",
                format!(
                    "{} is not on {}: TNS files are downloaded from the TNS server only",
                    broker_core::redact_url(&target),
                    broker_core::redact_url(base)
                ),
            ));
        }
        let req = crate::client::safe(self.keyed(target.as_str()));
        Ok(self.raw(req).await?.body)
    }
}
