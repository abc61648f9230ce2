//! The result text file: parsing by header names, typed rows, and conversion into the core
//! [`Lightcurve`].
//!
//! The file is whitespace-separated with one header line such as
//! `###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs` (19
//! columns) or the 20-column form with `PA_DEG` before `Sky`. Every leading `#` of the
//! header is stripped and columns are found by name, so any order works and unknown columns
//! are kept in [`Measurement::extra`]. `MJD`, `m`, `dm`, `uJy`, `duJy` and `F` are required;
//! the other known columns are optional.

use std::collections::BTreeMap;

use broker_core::astro::upper_limit_mag;
use broker_core::{Band, Lightcurve, Measurement as CoreMeasurement, Origin, PhotometryPoint};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The columns every result file must have.
pub const REQUIRED_COLUMNS: [&str; 6] = ["MJD", "m", "dm", "uJy", "duJy", "F"];

/// The known columns, in the order of the 20-column header.
pub const KNOWN_COLUMNS: [&str; 20] = [
    "MJD", "m", "dm", "uJy", "duJy", "F", "err", "chi/N", "RA", "Dec", "x", "y", "maj", "min", "phi", "apfit",
    "mag5sig", "PA_DEG", "Sky", "Obs",
];

/// Longest text an [`InlineStr`] keeps inline (without a heap allocation).
pub const INLINE_CAPACITY: usize = 22;

/// A short immutable string kept inline when it has at most [`INLINE_CAPACITY`] bytes (the
/// filter letter and the exposure name of a result row always are), on the heap otherwise.
/// Rows of a million-line file then cost no allocation for their text columns.
///
/// It dereferences to `str`, compares with `str`, `&str` and `String`, and serializes as a
/// string.
///
/// ```
/// use fallingstar_forcedphot::result::InlineStr;
/// let f = InlineStr::from("o");
/// assert_eq!(f, "o");
/// assert_eq!(f.as_str(), "o");
/// assert_eq!(f.len(), 1);
/// assert_eq!(String::from(f), "o");
/// ```
#[derive(Clone)]
pub struct InlineStr(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE_CAPACITY] },
    Heap(Box<str>),
}

impl InlineStr {
    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always valid: the bytes are a whole `str` copied in `From<&str>`.
            Repr::Inline { len, buf } => std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or_default(),
            Repr::Heap(s) => s,
        }
    }
}

impl Default for InlineStr {
    fn default() -> Self {
        InlineStr(Repr::Inline { len: 0, buf: [0; INLINE_CAPACITY] })
    }
}

impl From<&str> for InlineStr {
    fn from(s: &str) -> Self {
        if s.len() <= INLINE_CAPACITY {
            let mut buf = [0; INLINE_CAPACITY];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            // s.len() <= 22 fits in a u8.
            InlineStr(Repr::Inline { len: s.len() as u8, buf })
        } else {
            InlineStr(Repr::Heap(s.into()))
        }
    }
}

impl From<String> for InlineStr {
    fn from(s: String) -> Self {
        if s.len() <= INLINE_CAPACITY { InlineStr::from(s.as_str()) } else { InlineStr(Repr::Heap(s.into_boxed_str())) }
    }
}

impl From<InlineStr> for String {
    fn from(s: InlineStr) -> Self {
        match s.0 {
            Repr::Heap(b) => b.into_string(),
            Repr::Inline { .. } => s.as_str().to_string(),
        }
    }
}

impl std::ops::Deref for InlineStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for InlineStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for InlineStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for InlineStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for InlineStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for InlineStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for InlineStr {}

impl PartialOrd for InlineStr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InlineStr {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for InlineStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialEq<str> for InlineStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for InlineStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for InlineStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<InlineStr> for str {
    fn eq(&self, other: &InlineStr) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<InlineStr> for &str {
    fn eq(&self, other: &InlineStr) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<InlineStr> for String {
    fn eq(&self, other: &InlineStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for InlineStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for InlineStr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(InlineStr::from)
    }
}

/// One row of a result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// MJD of the start of the 30 s exposure (not barycentric).
    pub mjd: f64,
    /// AB magnitude from the flux; **negative when the flux is negative** (the magnitude of
    /// −flux with a minus sign). Use [`Measurement::magnitude`] for a plain magnitude.
    pub m: f64,
    /// Error on `m`.
    pub dm: f64,
    /// Flux in µJy (an integer in the file; may be negative).
    pub ujy: i64,
    /// Flux error in µJy.
    pub dujy: i64,
    /// The filter: `c` (cyan), `o` (orange), or another letter (`w`, `H`, ...).
    pub filter: InlineStr,
    /// The tphot error code (normally 0).
    pub err: Option<i64>,
    /// Reduced χ² of the PSF fit (`chi/N`).
    pub chi_n: Option<f64>,
    /// RA where the PSF was forced (deg).
    pub ra: Option<f64>,
    /// Dec where the PSF was forced (deg).
    pub dec: Option<f64>,
    /// Pixel x.
    pub x: Option<f64>,
    /// Pixel y.
    pub y: Option<f64>,
    /// PSF semi-major axis (pixels).
    pub maj: Option<f64>,
    /// PSF semi-minor axis (pixels).
    pub min: Option<f64>,
    /// PSF orientation (deg).
    pub phi: Option<f64>,
    /// Aperture correction (mag).
    pub apfit: Option<f64>,
    /// 5σ limiting magnitude of the image.
    pub mag5sig: Option<f64>,
    /// Position angle of the detector Y axis (20-column files).
    pub pa_deg: Option<f64>,
    /// Sky magnitude per arcsec².
    pub sky: Option<f64>,
    /// The exposure name, e.g. `01a59101o0618o`.
    pub obs: Option<InlineStr>,
    /// Columns this crate does not know, by header name, as text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl Measurement {
    /// The ATLAS band (`atlasc`, `atlaso`, or `atlas<letter>`).
    pub fn band(&self) -> Band {
        Band::from_atlas_filter(&self.filter)
    }
    /// Signal to noise, `uJy / duJy` (`None` when `duJy` is 0).
    pub fn snr(&self) -> Option<f64> {
        (self.dujy > 0).then(|| self.ujy as f64 / self.dujy as f64)
    }
    /// The magnitude when the flux is positive (`m` as printed), else `None`.
    pub fn magnitude(&self) -> Option<f64> {
        (self.ujy > 0 && self.m.is_finite() && self.m > 0.0).then_some(self.m)
    }
    /// The telescope unit from the exposure name (`01a`, `02a`, `03a`, ...).
    pub fn telescope(&self) -> Option<&str> {
        self.obs.as_deref().and_then(|o| o.get(..3))
    }

    /// As a core photometry point: a detection (with the file's `m`/`dm`) when `uJy/duJy >=
    /// snr_min` and the flux is positive, else a limit at `limit_sigma × duJy`
    /// (`23.9 − 2.5 log10(limit_sigma · duJy)`), keeping the measured flux. The point has
    /// origin `forced` and measurement `difference` (the server's default); for a task run
    /// on reduced images (`use_reduced`) set it with
    /// [`ResultTable::to_lightcurve_for`] or [`PhotometryPoint::with_measurement`].
    pub fn to_point(&self, object_id: &str, snr_min: f64, limit_sigma: f64) -> PhotometryPoint {
        let mut p = PhotometryPoint::from_flux(
            "forcedphot",
            "atlas",
            object_id,
            self.mjd,
            self.band(),
            self.ujy as f64,
            self.dujy as f64,
            snr_min,
            limit_sigma,
        )
        .with_origin(Origin::Forced)
        .with_measurement(CoreMeasurement::Difference);
        if p.is_detection() {
            if let Some(m) = self.magnitude() {
                p.mag = Some(m);
                if self.dm.is_finite() && self.dm >= 0.0 {
                    p.mag_err = Some(self.dm);
                }
            }
        } else {
            p.limiting_mag = upper_limit_mag(self.dujy as f64, limit_sigma);
        }
        p
    }
}

/// A parsed result file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResultTable {
    /// The header's column names, in file order, without the leading `#`s.
    pub columns: Vec<String>,
    /// The rows, in file order.
    pub rows: Vec<Measurement>,
}

enum Col {
    Mjd,
    M,
    Dm,
    Ujy,
    Dujy,
    F,
    Err,
    ChiN,
    Ra,
    Dec,
    X,
    Y,
    Maj,
    Min,
    Phi,
    Apfit,
    Mag5sig,
    PaDeg,
    Sky,
    Obs,
    Extra(String),
}

fn col_kind(name: &str) -> Col {
    match name {
        "MJD" => Col::Mjd,
        "m" => Col::M,
        "dm" => Col::Dm,
        "uJy" => Col::Ujy,
        "duJy" => Col::Dujy,
        "F" => Col::F,
        "err" => Col::Err,
        "chi/N" => Col::ChiN,
        "RA" => Col::Ra,
        "Dec" => Col::Dec,
        "x" => Col::X,
        "y" => Col::Y,
        "maj" => Col::Maj,
        "min" => Col::Min,
        "phi" => Col::Phi,
        "apfit" => Col::Apfit,
        "mag5sig" => Col::Mag5sig,
        "PA_DEG" => Col::PaDeg,
        "Sky" => Col::Sky,
        "Obs" => Col::Obs,
        other => Col::Extra(other.to_string()),
    }
}

fn float(line: usize, col: &str, s: &str) -> Result<f64> {
    if let Some(v) = fast_decimal(s) {
        return Ok(v);
    }
    s.parse::<f64>().map_err(|_| Error::Parse { line, message: format!("column {col}: {s:?} is not a number") })
}

/// Exact powers of ten representable in an f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// A plain decimal such as `-21.740` (sign, at most 15 digits, one optional point), parsed
/// as `digits / 10^decimals`: both are exact in an f64, so the one division is correctly
/// rounded and the result equals `str::parse::<f64>`'s. `None` for anything else (exponents,
/// `nan`, long mantissas), which takes the general parser.
fn fast_decimal(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.len() > 16 {
        return None;
    }
    let (mut mantissa, mut n, mut decimals) = (0u64, 0usize, None);
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                n += 1;
            }
            b'.' if decimals.is_none() => decimals = Some(digits.len() - i - 1),
            _ => return None,
        }
    }
    if n == 0 || n > 15 {
        return None;
    }
    let v = mantissa as f64 / POW10[decimals.unwrap_or(0)];
    Some(if neg { -v } else { v })
}

/// Bodies larger than this are parsed on several threads.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// Cuts `body` at line starts into up to one part per core (parts of at least
/// [`PARALLEL_MIN_BYTES`]), each with the file line number of its first line.
fn split_lines(body: &str, first_line: usize) -> Vec<(&str, usize)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let k = (body.len() / PARALLEL_MIN_BYTES).clamp(1, threads);
    let mut parts = Vec::with_capacity(k);
    let (mut start, mut line) = (0, first_line);
    for j in 1..k {
        let target = (body.len() * j / k).max(start);
        let Some(nl) = body[target..].find('\n') else { break };
        let end = target + nl + 1;
        let part = &body[start..end];
        parts.push((part, line));
        line += part.bytes().filter(|&b| b == b'\n').count();
        start = end;
    }
    parts.push((&body[start..], line));
    parts
}

fn integer(line: usize, col: &str, s: &str) -> Result<i64> {
    if let Ok(v) = s.parse::<i64>() {
        return Ok(v);
    }
    // Tolerate "12.0"; refuse fractions, NaN and infinities.
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(v as i64),
        _ => Err(Error::Parse { line, message: format!("column {col}: {s:?} is not an integer") }),
    }
}

impl ResultTable {
    /// Parses a result file. A file with only the header is an empty table; an empty file, a
    /// missing required column, a row with the wrong number of fields or a value that is not a
    /// number is an [`Error::Parse`] naming the line.
    pub fn parse(text: &str) -> Result<Self> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let (header_line, header) = loop {
            match lines.next() {
                Some((_, l)) if l.trim().is_empty() => continue,
                Some((n, l)) => break (n, l),
                None => {
                    return Err(Error::Parse { line: 0, message: "the result file is empty (no header line)".into() });
                }
            }
        };
        let columns: Vec<String> =
            header.trim().trim_start_matches('#').split_whitespace().map(str::to_string).collect();
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].contains(c) {
                return Err(Error::Parse { line: header_line, message: format!("column {c} appears twice") });
            }
        }
        for req in REQUIRED_COLUMNS {
            if !columns.iter().any(|c| c == req) {
                return Err(Error::Parse {
                    line: header_line,
                    message: format!(
                        "the header has no {req} column (found: {}); expected a header like \"###MJD m dm uJy duJy F ...\"",
                        columns.join(" ")
                    ),
                });
            }
        }
        let kinds: Vec<Col> = columns.iter().map(|c| col_kind(c)).collect();
        // The body after the header line, cut at line starts into parts parsed in parallel
        // when the file is large (row order and the first error's line number are kept).
        let header_end = (header.as_ptr() as usize - text.as_ptr() as usize) + header.len();
        let body_start = text[header_end..].find('\n').map_or(text.len(), |i| header_end + i + 1);
        let parts = split_lines(&text[body_start..], header_line + 1);
        let parse_part = |(body, first): (&str, usize)| Self::rows(body, first, &columns, &kinds);
        let results: Vec<Result<Vec<Measurement>>> = if parts.len() == 1 {
            parts.into_iter().map(parse_part).collect()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = parts.iter().map(|&p| s.spawn(move || parse_part(p))).collect();
                handles.into_iter().zip(&parts).map(|(h, &p)| h.join().unwrap_or_else(|_| parse_part(p))).collect()
            })
        };
        let mut rows = Vec::new();
        for r in results {
            let mut part = r?;
            if rows.is_empty() {
                rows = part;
            } else {
                rows.append(&mut part);
            }
        }
        Ok(ResultTable { columns, rows })
    }

    /// The rows of one part of the body; `first` is the file line number of its first line.
    fn rows(body: &str, first: usize, columns: &[String], kinds: &[Col]) -> Result<Vec<Measurement>> {
        let mut rows = Vec::with_capacity(body.len() / 128 + 1);
        let mut fields: Vec<&str> = Vec::with_capacity(columns.len() + 1);
        for (i, line) in body.lines().enumerate() {
            let n = first + i;
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            fields.clear();
            fields.extend(t.split_ascii_whitespace());
            if fields.len() != columns.len() {
                return Err(Error::Parse {
                    line: n,
                    message: format!("expected {} fields as in the header, found {}", columns.len(), fields.len()),
                });
            }
            rows.push(Self::row(n, columns, kinds, &fields)?);
        }
        Ok(rows)
    }

    fn row(n: usize, names: &[String], kinds: &[Col], fields: &[&str]) -> Result<Measurement> {
        let mut m = Measurement {
            mjd: f64::NAN,
            m: f64::NAN,
            dm: f64::NAN,
            ujy: 0,
            dujy: 0,
            filter: InlineStr::default(),
            err: None,
            chi_n: None,
            ra: None,
            dec: None,
            x: None,
            y: None,
            maj: None,
            min: None,
            phi: None,
            apfit: None,
            mag5sig: None,
            pa_deg: None,
            sky: None,
            obs: None,
            extra: BTreeMap::new(),
        };
        for ((kind, name), s) in kinds.iter().zip(names).zip(fields) {
            let s = *s;
            let f = |s: &str| float(n, name, s);
            match kind {
                Col::Mjd => {
                    let v = f(s)?;
                    if !v.is_finite() {
                        return Err(Error::Parse { line: n, message: format!("column MJD: {s:?} is not finite") });
                    }
                    m.mjd = v;
                }
                Col::M => m.m = f(s)?,
                Col::Dm => m.dm = f(s)?,
                Col::Ujy => m.ujy = integer(n, name, s)?,
                Col::Dujy => m.dujy = integer(n, name, s)?,
                Col::F => m.filter = InlineStr::from(s),
                Col::Err => m.err = Some(integer(n, name, s)?),
                Col::ChiN => m.chi_n = Some(f(s)?),
                Col::Ra => m.ra = Some(f(s)?),
                Col::Dec => m.dec = Some(f(s)?),
                Col::X => m.x = Some(f(s)?),
                Col::Y => m.y = Some(f(s)?),
                Col::Maj => m.maj = Some(f(s)?),
                Col::Min => m.min = Some(f(s)?),
                Col::Phi => m.phi = Some(f(s)?),
                Col::Apfit => m.apfit = Some(f(s)?),
                Col::Mag5sig => m.mag5sig = Some(f(s)?),
                Col::PaDeg => m.pa_deg = Some(f(s)?),
                Col::Sky => m.sky = Some(f(s)?),
                Col::Obs => m.obs = Some(InlineStr::from(s)),
                Col::Extra(c) => {
                    m.extra.insert(c.clone(), s.to_string());
                }
            }
        }
        Ok(m)
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    /// Whether there are no rows (a header-only file: no data).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// The distinct filters, sorted.
    pub fn filters(&self) -> Vec<String> {
        let mut f: Vec<String> = self.rows.iter().map(|r| r.filter.to_string()).collect();
        f.sort();
        f.dedup();
        f
    }

    /// The rows as a core [`Lightcurve`]: detections where `uJy/duJy >= 3`, otherwise 3σ
    /// upper limits from `duJy` (the convention of the server's docs, TOM Toolkit and
    /// SkyPortal). Points carry broker `forcedphot`, survey `atlas` and `object_id`.
    pub fn to_lightcurve(&self, object_id: &str) -> Lightcurve {
        self.to_lightcurve_with(object_id, 3.0, 3.0)
    }

    /// [`Self::to_lightcurve`] with a chosen S/N threshold and limit sigma.
    pub fn to_lightcurve_with(&self, object_id: &str, snr_min: f64, limit_sigma: f64) -> Lightcurve {
        Lightcurve::from_points(self.rows.iter().map(|r| r.to_point(object_id, snr_min, limit_sigma)).collect())
    }

    /// [`Self::to_lightcurve`] for a task whose `use_reduced` is known: points of a task on
    /// reduced images are apparent (total) fluxes, the others difference-image fluxes.
    pub fn to_lightcurve_for(&self, object_id: &str, use_reduced: bool) -> Lightcurve {
        let m = if use_reduced { CoreMeasurement::Apparent } else { CoreMeasurement::Difference };
        Lightcurve::from_points(self.rows.iter().map(|r| r.to_point(object_id, 3.0, 3.0).with_measurement(m)).collect())
    }
}

impl std::str::FromStr for ResultTable {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// Whether a result file looks whole: its last row has at least as many fields as its
/// `###` header line. A file cut short in transit usually ends mid-row; this is the cheap
/// check [`Client::download_url`](crate::Client::download_url) gives the core, which then
/// fetches the file again. A file with no header or no rows is not judged (true).
pub fn looks_whole(body: &[u8]) -> bool {
    let mut lines = body.split(|&b| b == b'\n').map(<[u8]>::trim_ascii).filter(|l| !l.is_empty());
    let Some(header) = lines.next().filter(|l| l.starts_with(b"#")) else {
        return true;
    };
    let fields = |l: &[u8]| l.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty()).count();
    let want = fields(&header[header.iter().position(|&b| b != b'#').unwrap_or(header.len())..]);
    match body.split(|&b| b == b'\n').map(<[u8]>::trim_ascii).rfind(|l| !l.is_empty()) {
        Some(last) if !last.starts_with(b"#") => fields(last) >= want,
        _ => true,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn looks_whole_compares_the_last_row_with_the_header() {
        let h = "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs\n";
        let row = "59000.1 17.1 0.02 500 10 o 0 1.1 10.0 20.0 100 100 2 2 0 -0.4 19.5 20.1 02a59000o0001o\n";
        assert!(looks_whole(format!("{h}{row}{row}").as_bytes()));
        assert!(looks_whole(format!("{h}{row}").trim_end().as_bytes()), "no trailing newline is fine");
        assert!(!looks_whole(format!("{h}{row}59000.2 17.0 0.0").as_bytes()), "cut mid-row");
        assert!(looks_whole(h.as_bytes()) && looks_whole(b"") && looks_whole(b"no header"));
        assert!(looks_whole(b"### MJD m\n1 2\n"), "a space after ### is not a field");
        assert!(ResultTable::parse(&format!("{h}{row}59000.2 17.0 0.0")).is_err(), "what the check spares the parser");
    }

    const SAMPLE: &str = "\
###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  apfit mag5sig Sky   Obs
59101.519211 -21.740  1.398    -7   10 o  0   7.69  29.86137  30.72672  9408.51  3841.80 2.04 2.02  26.5 -0.421 19.59 20.43 01a59101o0618o
59101.549941  20.756  0.760    18   14 o  0   4.79  29.86137  30.72672  9463.88  3767.21 2.22 2.12 -32.3 -0.409 19.53 20.39 01a59101o0679o
59103.552116  16.499  0.011   912   10 o  0 613.69  29.86137  30.72672  6239.87  2027.06 1.95 1.88  39.8 -0.438 19.59 20.81 02a59103o0723o
";

    #[test]
    fn parses_the_real_19_column_sample() {
        let t = ResultTable::parse(SAMPLE).unwrap();
        assert_eq!(t.columns.len(), 19);
        assert_eq!(t.columns[0], "MJD");
        assert_eq!(t.len(), 3);
        let r = &t.rows[0];
        assert_eq!(r.mjd, 59101.519211);
        assert_eq!(r.m, -21.740);
        assert_eq!((r.ujy, r.dujy), (-7, 10));
        assert_eq!(r.filter, "o");
        assert_eq!(r.err, Some(0));
        assert_eq!(r.chi_n, Some(7.69));
        assert_eq!(r.pa_deg, None);
        assert_eq!(r.sky, Some(20.43));
        assert_eq!(r.obs.as_deref(), Some("01a59101o0618o"));
        assert_eq!(r.magnitude(), None, "negative m means negative flux");
        assert_eq!(t.rows[2].magnitude(), Some(16.499));
        assert_eq!(t.rows[2].telescope(), Some("02a"));
        assert!(r.extra.is_empty());
    }

    #[test]
    fn twenty_columns_with_pa_deg_and_unknown_extras() {
        let text = "##MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig PA_DEG Sky Obs Mask\n\
59226.235875  16.177  0.012  1228   15 c  0  54.64 342.45960  51.26340  7768.79  7767.00 2.53 2.39 -63.4 -0.375 19.58 179.8 21.54 01a59226o0051c 0\n";
        let t = ResultTable::parse(text).unwrap();
        assert_eq!(t.columns.len(), 21);
        let r = &t.rows[0];
        assert_eq!(r.pa_deg, Some(179.8));
        assert_eq!(r.sky, Some(21.54));
        assert_eq!(r.filter, "c");
        assert_eq!(r.extra.get("Mask").map(String::as_str), Some("0"));
    }

    #[test]
    fn header_only_is_empty_and_bad_lines_name_their_number() {
        let t = ResultTable::parse("###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs\n")
            .unwrap();
        assert!(t.is_empty());
        let e = ResultTable::parse("").unwrap_err();
        assert!(matches!(e, Error::Parse { line: 0, .. }));
        let bad = format!("{SAMPLE}59104.1 16.0 0.01 9x 10 o 0 1 1 1 1 1 1 1 1 1 1 1 x\n");
        match ResultTable::parse(&bad).unwrap_err() {
            Error::Parse { line, message } => {
                assert_eq!(line, 5);
                assert!(message.contains("uJy"), "{message}");
            }
            e => panic!("{e}"),
        }
        let short = format!("{SAMPLE}59104.1 16.0\n");
        assert!(matches!(ResultTable::parse(&short), Err(Error::Parse { line: 5, .. })));
        let e = ResultTable::parse("###MJD m dm uJy F\n").unwrap_err().to_string();
        assert!(e.contains("no duJy column"), "{e}");
    }

    #[test]
    fn lightcurve_detections_and_limits() {
        let t = ResultTable::parse(SAMPLE).unwrap();
        let lc = t.to_lightcurve("AT2020wol");
        assert_eq!(lc.len(), 3);
        let p0 = &lc.points[0];
        assert!(!p0.is_detection());
        assert_eq!(p0.flux_ujy, Some(-7.0));
        assert!((p0.limiting_mag.unwrap() - (23.9 - 2.5 * 30f64.log10())).abs() < 1e-12);
        // S/N 18/14 < 3: a limit too.
        assert!(!lc.points[1].is_detection());
        let p2 = &lc.points[2];
        assert!(p2.is_detection());
        assert_eq!(p2.mag, Some(16.499));
        assert_eq!(p2.mag_err, Some(0.011));
        assert_eq!(p2.band, Band::AtlasO);
        assert_eq!(p2.broker, "forcedphot");
        assert_eq!(p2.object_id, "AT2020wol");
    }

    #[test]
    fn fast_decimal_agrees_with_the_standard_parser() {
        for t in [
            "0",
            "-0.000",
            "1.",
            ".5",
            "59101.519211",
            "-21.740",
            "+3.25",
            "999999999999999",
            "0.00000000000001",
            "123456789012.345",
            "7.69",
            "-0.421",
        ] {
            assert_eq!(fast_decimal(t).map(f64::to_bits), Some(t.parse::<f64>().unwrap().to_bits()), "{t}");
        }
        for t in ["", "-", ".", "1e5", "nan", "inf", "1.2.3", "12a", "1234567890123456", "--1"] {
            assert_eq!(fast_decimal(t), None, "{t}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_decimal_is_exact(int in 0u64..10_000_000_000, frac in 0u64..100_000, places in 0usize..6, neg: bool) {
            let t = format!("{}{int}.{frac:0places$}", if neg { "-" } else { "" });
            if let Some(v) = fast_decimal(&t) {
                proptest::prop_assert_eq!(v.to_bits(), t.parse::<f64>().unwrap().to_bits());
            }
        }
    }

    #[test]
    fn large_files_parse_in_parts_with_rows_in_order_and_true_line_numbers() {
        let row = |i: usize| {
            format!(
                "{}.519211 -21.740 1.398 -7 10 o 0 7.69 29.86137 30.72672 9408.51 3841.80 2.04 2.02 26.5 -0.421 19.59 20.43 01a59101o0618o\n",
                50000 + i
            )
        };
        let header = SAMPLE.lines().next().unwrap();
        let n = (2 * PARALLEL_MIN_BYTES) / 120 + 10;
        let mut text = format!("\n{header}\n");
        for i in 0..n {
            text.push_str(&row(i));
        }
        let t = ResultTable::parse(&text).unwrap();
        assert_eq!(t.len(), n);
        assert!(t.rows.iter().enumerate().all(|(i, r)| r.mjd == (50000 + i) as f64 + 0.519211));
        // A bad value in the last row is reported at its own line (blank line 1, header 2).
        text.push_str(&row(n).replace("7.69", "x"));
        let err = ResultTable::parse(&text).unwrap_err().to_string();
        assert!(err.contains(&format!("{}", n + 3)), "{err}");
        assert!(err.contains("chi/N"), "{err}");
    }

    #[test]
    fn inline_str_inline_and_heap_behave_as_str() {
        let cases =
            ["", "o", "01a59101o0618o", "abcdefghijklmnopqrstuv", "abcdefghijklmnopqrstuvw", "é—ü✓ double-byte text"];
        for t in cases {
            let a = InlineStr::from(t);
            let b = InlineStr::from(t.to_string());
            assert_eq!(a.as_str(), t);
            assert_eq!(&*b, t);
            assert_eq!(a, b);
            assert_eq!(a, t);
            assert_eq!(t, a);
            assert_eq!(a, t.to_string());
            assert_eq!(format!("{a}"), t);
            assert_eq!(format!("{a:?}"), format!("{t:?}"));
            assert_eq!(String::from(b.clone()), t);
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, serde_json::to_string(t).unwrap());
            assert_eq!(serde_json::from_str::<InlineStr>(&json).unwrap(), a);
        }
        assert!(matches!(InlineStr::from("abcdefghijklmnopqrstuv").0, Repr::Inline { len: 22, .. }));
        assert!(matches!(InlineStr::from("abcdefghijklmnopqrstuvw").0, Repr::Heap(_)));
        assert!(InlineStr::default().is_empty());
        let (c, o) = (InlineStr::from("c"), InlineStr::from("o"));
        assert!(c < o);
    }

    #[test]
    fn long_text_columns_round_trip_through_the_parser() {
        let long_obs = "a-very-long-exposure-name-beyond-the-inline-capacity";
        let text = format!(
            "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs\n\
             59101.5 17.5 0.01 1000 10 o 0 1.1 10.0 20.0 100.0 200.0 2.0 1.9 30.0 -0.4 19.5 20.1 {long_obs}\n"
        );
        let t = ResultTable::parse(&text).unwrap();
        assert_eq!(t.rows[0].obs.as_deref(), Some(long_obs));
        assert_eq!(t.rows[0].filter, "o");
        assert_eq!(t.filters(), vec!["o".to_string()]);
        let back: Measurement = serde_json::from_str(&serde_json::to_string(&t.rows[0]).unwrap()).unwrap();
        assert_eq!(back, t.rows[0]);
    }
}
