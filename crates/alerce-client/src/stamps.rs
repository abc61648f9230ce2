//! Stamps (image cutouts) and avro alert packets.
//!
//! | method | request |
//! |---|---|
//! | [`Stamps::ztf_stamp`] | `GET {ztf stamps}get_stamp?oid&candid&type=science\|template\|difference&format=fits` |
//! | [`Stamps::ztf_stamp_png`] | the same with `format=png` |
//! | [`Stamps::ztf_stamps`] | the three types; without a candid, first `objects/{oid}/detections` |
//! | [`Stamps::ztf_avro`] | `GET {ztf stamps}get_avro?oid&candid` |
//! | [`Stamps::ztf_avro_info`] | `GET {ztf stamps}get_avro_info?oid&candid` (JSON, no cutouts) |
//! | [`Stamps::lsst_stamp`] | `GET {lsst stamps}stamp?oid&measurement_id&stamp_type=cutoutScience\|…&file_format=fits&survey_id` |
//! | [`Stamps::lsst_stamp_png`] | the same with `file_format=png` |
//! | [`Stamps::lsst_stamp_uncompressed`] | `file_format=fits&is_compressed=false` (plain FITS) |
//! | [`Stamps::lsst_stamps`] | the three types; without a measurement id, first `lightcurve_api/detections` |
//! | [`Stamps::lsst_avro`] | `GET {lsst stamps}avro?oid&measurement_id&survey_id` (JSON) |
//!
//! FITS stamps arrive gzip-compressed. Unlike the Python client, the HTTP status is
//! checked first (a 404 is [`Error::NotFound`], not a gzip error), then the body is
//! decompressed and read (see [`crate::fits`]).

use broker_core::Request;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::client::{AlerceClient, get_json, get_raw};
use crate::error::{Error, Result};
use crate::fits::{FitsImage, gunzip_fits, read_images};

/// Which image of the triplet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StampKind {
    /// The science image.
    Science,
    /// The reference (template) image.
    Template,
    /// The difference image.
    Difference,
}

impl StampKind {
    /// The three kinds, in the order the Python client fetches them.
    pub const ALL: [StampKind; 3] = [StampKind::Science, StampKind::Template, StampKind::Difference];

    /// The ZTF `type` value (`science`, `template`, `difference`).
    pub fn ztf_name(&self) -> &'static str {
        match self {
            StampKind::Science => "science",
            StampKind::Template => "template",
            StampKind::Difference => "difference",
        }
    }
    /// The multisurvey `stamp_type` value and the avro field name (`cutoutScience`, ...).
    pub fn cutout_name(&self) -> &'static str {
        match self {
            StampKind::Science => "cutoutScience",
            StampKind::Template => "cutoutTemplate",
            StampKind::Difference => "cutoutDifference",
        }
    }
}

/// One stamp: the FITS bytes (decompressed) and the images read from them.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    /// Which image.
    pub kind: StampKind,
    /// The FITS file, gunzipped.
    pub fits: Bytes,
    /// Its image HDUs (ZTF: one 63×63 float32 image; LSST may add variance and PSF).
    pub images: Vec<FitsImage>,
}

impl Stamp {
    /// Reads a stamp from a gzip-compressed (or plain) FITS body.
    pub fn from_body(kind: StampKind, body: &[u8]) -> Result<Stamp> {
        let fits = gunzip_fits(body)?;
        let images = read_images(&fits)?;
        Ok(Stamp { kind, fits: Bytes::from(fits), images })
    }
    /// The first image (the cutout itself).
    pub fn image(&self) -> Option<&FitsImage> {
        self.images.first()
    }
}

/// The science, template and difference stamps of one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct StampTriplet {
    /// The alert (`candid` for ZTF, `measurement_id` for LSST) the stamps belong to.
    pub alert_id: String,
    /// The science stamp.
    pub science: Stamp,
    /// The template stamp.
    pub template: Stamp,
    /// The difference stamp.
    pub difference: Stamp,
}

impl StampTriplet {
    /// The stamp of one kind.
    pub fn get(&self, kind: StampKind) -> &Stamp {
        match kind {
            StampKind::Science => &self.science,
            StampKind::Template => &self.template,
            StampKind::Difference => &self.difference,
        }
    }
}

/// Stamps and avro packets. Get it with [`AlerceClient::stamps`].
#[derive(Debug, Clone, Copy)]
pub struct Stamps<'a> {
    client: &'a AlerceClient,
}

impl AlerceClient {
    /// Stamps and avro packets (ZTF and multisurvey).
    pub fn stamps(&self) -> Stamps<'_> {
        Stamps { client: self }
    }
}

fn check_id(field: &str, v: &str) -> Result<String> {
    let t = v.trim();
    if t.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    Ok(t.to_string())
}

fn check_png(body: Bytes) -> Result<Bytes> {
    if body.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(body)
    } else {
        let head = broker_core::error::excerpt(&body[..body.len().min(120)]);
        Err(Error::format("PNG stamp", format!("the body is not a PNG image (starts: {head:?})")))
    }
}

impl<'a> Stamps<'a> {
    fn ztf_req(oid: &str, candid: &str, kind: StampKind, format: &str) -> Result<Request> {
        Ok(Request::get("get_stamp")
            .query("oid", check_id("oid", oid)?)
            .query("candid", check_id("candid", candid)?)
            .query("type", kind.ztf_name())
            .query("format", format))
    }

    /// One ZTF stamp as FITS (`format=fits`), gunzipped and read.
    pub async fn ztf_stamp(&self, oid: &str, candid: &str, kind: StampKind) -> Result<Stamp> {
        let resp = get_raw(&self.client.inner.ztf_stamps, Self::ztf_req(oid, candid, kind, "fits")?).await?;
        Stamp::from_body(kind, &resp.body)
    }

    /// One ZTF stamp as a PNG rendered by the server (`format=png`).
    pub async fn ztf_stamp_png(&self, oid: &str, candid: &str, kind: StampKind) -> Result<Bytes> {
        let resp = get_raw(&self.client.inner.ztf_stamps, Self::ztf_req(oid, candid, kind, "png")?).await?;
        check_png(resp.body)
    }

    /// The three ZTF stamps of an alert. Without a `candid`, the detections are fetched
    /// and the alert with the smallest candid among those with `has_stamp` is used (as
    /// the Python client does; candids grow with time, so it is the earliest);
    /// [`Error::NoStamps`] when none has stamps.
    pub async fn ztf_stamps(&self, oid: &str, candid: Option<&str>) -> Result<StampTriplet> {
        let candid = match candid {
            Some(c) => check_id("candid", c)?,
            None => {
                let dets = self.client.ztf().detections(oid).await?;
                dets.iter()
                    .filter(|d| d.has_stamp == Some(true))
                    .filter_map(|d| d.candid.as_deref().and_then(|c| c.trim().parse::<i64>().ok()))
                    .min()
                    .map(|c| c.to_string())
                    .ok_or_else(|| Error::NoStamps { oid: oid.trim().to_string() })?
            }
        };
        let (s, t, d) = futures::try_join!(
            self.ztf_stamp(oid, &candid, StampKind::Science),
            self.ztf_stamp(oid, &candid, StampKind::Template),
            self.ztf_stamp(oid, &candid, StampKind::Difference),
        )?;
        Ok(StampTriplet { alert_id: candid, science: s, template: t, difference: d })
    }

    /// The raw avro packet of a ZTF alert (`get_avro`). Decode it with
    /// [`crate::avro::AvroPacket::parse`] (feature `avro`).
    pub async fn ztf_avro(&self, oid: &str, candid: &str) -> Result<Bytes> {
        let req =
            Request::get("get_avro").query("oid", check_id("oid", oid)?).query("candid", check_id("candid", candid)?);
        let resp = get_raw(&self.client.inner.ztf_stamps, req).await?;
        if !resp.body.starts_with(b"Obj\x01") {
            let head = broker_core::error::excerpt(&resp.body[..resp.body.len().min(120)]);
            return Err(Error::format(
                "avro packet",
                format!("the body is not an avro object container file (starts: {head:?})"),
            ));
        }
        Ok(resp.body)
    }

    /// The ZTF alert as JSON without its cutouts (`GET get_avro_info?oid&candid`; a route
    /// of the stamp service, `stamp_service/resources.py::GetAVROInfoResource`, that the
    /// Python client does not call). `candidate.candid` comes as a string. 404 when the
    /// alert is in neither of the server's stores.
    pub async fn ztf_avro_info(&self, oid: &str, candid: &str) -> Result<serde_json::Value> {
        let req = Request::get("get_avro_info")
            .query("oid", check_id("oid", oid)?)
            .query("candid", check_id("candid", candid)?);
        get_json(&self.client.inner.ztf_stamps, req).await
    }

    /// The ZTF alert packet, decoded (feature `avro`).
    #[cfg(feature = "avro")]
    pub async fn ztf_alert(&self, oid: &str, candid: &str) -> Result<crate::avro::AvroPacket> {
        crate::avro::AvroPacket::parse(&self.ztf_avro(oid, candid).await?)
    }

    fn lsst_req(&self, oid: i64, measurement_id: i64, kind: StampKind, format: &str) -> Request {
        Request::get("stamp")
            .query("oid", oid)
            .query("measurement_id", measurement_id)
            .query("stamp_type", kind.cutout_name())
            .query("file_format", format)
            .query("survey_id", &self.client.inner.survey)
    }

    /// One multisurvey stamp as plain FITS: `file_format=fits&is_compressed=false` (the
    /// server's `is_compressed` defaults to true, `stamps_api/routes/rest.py`; without
    /// compression it answers `application/fits`).
    pub async fn lsst_stamp_uncompressed(&self, oid: i64, measurement_id: i64, kind: StampKind) -> Result<Stamp> {
        let req = self.lsst_req(oid, measurement_id, kind, "fits").query("is_compressed", "false");
        let resp = get_raw(&self.client.inner.lsst_stamps, req).await?;
        Stamp::from_body(kind, &resp.body)
    }

    /// One multisurvey stamp as FITS (`file_format=fits`), gunzipped and read. With the
    /// server's default compression the body is gzip; uncompressed FITS is accepted too.
    pub async fn lsst_stamp(&self, oid: i64, measurement_id: i64, kind: StampKind) -> Result<Stamp> {
        let resp = get_raw(&self.client.inner.lsst_stamps, self.lsst_req(oid, measurement_id, kind, "fits")).await?;
        Stamp::from_body(kind, &resp.body)
    }

    /// One multisurvey stamp as PNG (`file_format=png`).
    pub async fn lsst_stamp_png(&self, oid: i64, measurement_id: i64, kind: StampKind) -> Result<Bytes> {
        let resp = get_raw(&self.client.inner.lsst_stamps, self.lsst_req(oid, measurement_id, kind, "png")).await?;
        check_png(resp.body)
    }

    /// The three multisurvey stamps of a measurement. Without a measurement id, the
    /// detections are fetched and the earliest (by MJD) with `has_stamp` is used;
    /// [`Error::NoStamps`] when none has stamps.
    pub async fn lsst_stamps(&self, oid: i64, measurement_id: Option<i64>) -> Result<StampTriplet> {
        let mid = match measurement_id {
            Some(m) => m,
            None => {
                let dets = self.client.lsst().detections(&[crate::lsst::MultisurveyOid::Lsst(oid)]).await?;
                dets.iter()
                    .filter(|d| d.has_stamp == Some(true) && d.oid.lsst_id() == Some(oid))
                    .filter_map(|d| Some((d.mjd.filter(|m| m.is_finite())?, d.measurement_id?)))
                    .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                    .map(|(_, m)| m)
                    .ok_or_else(|| Error::NoStamps { oid: oid.to_string() })?
            }
        };
        let (s, t, d) = futures::try_join!(
            self.lsst_stamp(oid, mid, StampKind::Science),
            self.lsst_stamp(oid, mid, StampKind::Template),
            self.lsst_stamp(oid, mid, StampKind::Difference),
        )?;
        Ok(StampTriplet { alert_id: mid.to_string(), science: s, template: t, difference: d })
    }

    /// The alert record of a multisurvey measurement without cutouts, as JSON
    /// (`GET avro?oid&measurement_id&survey_id`; the Python client calls a wrong route).
    pub async fn lsst_avro(&self, oid: i64, measurement_id: i64) -> Result<serde_json::Value> {
        let req = Request::get("avro")
            .query("oid", oid)
            .query("measurement_id", measurement_id)
            .query("survey_id", &self.client.inner.survey);
        get_json(&self.client.inner.lsst_stamps, req).await
    }
}
