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

pub use compact_str::CompactString;

use crate::columns::{ColumnData, ResultColumns, TextColumn};
use crate::error::{Error, Result};

/// The columns every result file must have.
pub const REQUIRED_COLUMNS: [&str; 6] = ["MJD", "m", "dm", "uJy", "duJy", "F"];

/// The known columns, in the order of the 20-column header.
pub const KNOWN_COLUMNS: [&str; 20] = [
    "MJD", "m", "dm", "uJy", "duJy", "F", "err", "chi/N", "RA", "Dec", "x", "y", "maj", "min", "phi", "apfit",
    "mag5sig", "PA_DEG", "Sky", "Obs",
];

/// The former name of the small-string type of [`Measurement::filter`] and
/// [`Measurement::obs`], now [`CompactString`] (the `compact_str` crate: inline up to 24
/// bytes, so the filter letter and the 14-character exposure name cost no allocation).
#[deprecated(note = "use CompactString (re-exported here), which replaced the hand-written InlineStr")]
pub type InlineStr = CompactString;

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
    pub filter: CompactString,
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
    pub obs: Option<CompactString>,
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

impl ResultTable {
    /// Parses a result file into typed rows (built from [`ResultColumns::parse`], which is
    /// the faster way in when columns will do). A file with only the header is an empty
    /// table; an empty file, a missing required column, a row with the wrong number of fields
    /// or a value that is not a number is an [`Error::Parse`] naming the line.
    pub fn parse(text: &str) -> Result<Self> {
        ResultColumns::parse(text).map(|c| ResultTable::from(&c))
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

/// The columns a row is read from (absent ones `None`).
struct RowSources<'a> {
    mjd: &'a [f64],
    m: &'a [f64],
    dm: &'a [f64],
    ujy: &'a [i64],
    dujy: &'a [i64],
    filter: Option<&'a TextColumn>,
    err: Option<&'a [i64]>,
    floats: [Option<&'a [f64]>; 12],
    obs: Option<&'a TextColumn>,
    extra: Vec<(&'a str, &'a TextColumn)>,
}

/// The optional float columns, in the order of [`RowSources::floats`].
const OPTIONAL_FLOATS: [&str; 12] =
    ["chi/N", "RA", "Dec", "x", "y", "maj", "min", "phi", "apfit", "mag5sig", "PA_DEG", "Sky"];

impl<'a> RowSources<'a> {
    fn new(c: &'a ResultColumns) -> Self {
        RowSources {
            mjd: c.floats("MJD").unwrap_or_default(),
            m: c.floats("m").unwrap_or_default(),
            dm: c.floats("dm").unwrap_or_default(),
            ujy: c.ints("uJy").unwrap_or_default(),
            dujy: c.ints("duJy").unwrap_or_default(),
            filter: c.texts("F"),
            err: c.ints("err"),
            floats: OPTIONAL_FLOATS.map(|name| c.floats(name)),
            obs: c.texts("Obs"),
            extra: c
                .iter()
                .filter(|(name, _)| !KNOWN_COLUMNS.contains(name))
                .filter_map(|(name, d)| match d {
                    ColumnData::Text(t) => Some((name, t)),
                    _ => None,
                })
                .collect(),
        }
    }

    fn row(&self, i: usize) -> Measurement {
        let f = |c: &[f64]| c.get(i).copied().unwrap_or(f64::NAN);
        let o = |k: usize| self.floats[k].and_then(|c| c.get(i).copied());
        let text = |c: &TextColumn| CompactString::new(c.get(i).unwrap_or_default());
        Measurement {
            mjd: f(self.mjd),
            m: f(self.m),
            dm: f(self.dm),
            ujy: self.ujy.get(i).copied().unwrap_or(0),
            dujy: self.dujy.get(i).copied().unwrap_or(0),
            filter: self.filter.map(text).unwrap_or_default(),
            err: self.err.and_then(|c| c.get(i).copied()),
            chi_n: o(0),
            ra: o(1),
            dec: o(2),
            x: o(3),
            y: o(4),
            maj: o(5),
            min: o(6),
            phi: o(7),
            apfit: o(8),
            mag5sig: o(9),
            pa_deg: o(10),
            sky: o(11),
            obs: self.obs.map(text),
            extra: self
                .extra
                .iter()
                .map(|(name, c)| (name.to_string(), c.get(i).unwrap_or_default().to_string()))
                .collect(),
        }
    }
}

impl From<&ResultColumns> for ResultTable {
    /// The typed rows of parsed columns.
    fn from(c: &ResultColumns) -> Self {
        let sources = RowSources::new(c);
        let n = c.len();
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).min(8);
        // Large tables: the rows of each range built on its own core, the first range's vector
        // sized for all so that the others are appended without moving it.
        let k = if n >= 50_000 { threads } else { 1 };
        let bounds: Vec<(usize, usize)> = (0..k).map(|j| (n * j / k, n * (j + 1) / k)).collect();
        let build = |(a, b): (usize, usize)| {
            let mut rows = Vec::with_capacity(if a == 0 { n } else { b - a });
            rows.extend((a..b).map(|i| sources.row(i)));
            rows
        };
        let mut parts: Vec<Vec<Measurement>> = if k == 1 {
            bounds.into_iter().map(build).collect()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = bounds.iter().map(|&r| s.spawn(move || build(r))).collect();
                // A thread that panicked (row building reads only checked slices) is built again here.
                handles.into_iter().zip(&bounds).map(|(h, &r)| h.join().unwrap_or_else(|_| build(r))).collect()
            })
        };
        let mut rows = if parts.is_empty() { Vec::new() } else { parts.remove(0) };
        for mut p in parts {
            rows.append(&mut p);
        }
        ResultTable { columns: c.names().to_vec(), rows }
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
    fn large_files_parse_in_parts_with_rows_in_order_and_true_line_numbers() {
        let row = |i: usize| {
            format!(
                "{}.519211 -21.740 1.398 -7 10 o 0 7.69 29.86137 30.72672 9408.51 3841.80 2.04 2.02 26.5 -0.421 19.59 20.43 01a59101o0618o\n",
                50000 + i
            )
        };
        let header = SAMPLE.lines().next().unwrap();
        let n = (2 * crate::columns::PARALLEL_MIN_BYTES) / 120 + 10;
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
    #[allow(deprecated)]
    fn text_fields_behave_as_str_as_before() {
        let t = ResultTable::parse(SAMPLE).unwrap();
        let r = &t.rows[0];
        // What code written for the former InlineStr does still works.
        assert_eq!(r.filter, "o");
        assert_eq!("o", r.filter);
        assert_eq!(r.filter, String::from("o"));
        assert_eq!(r.filter.as_str(), "o");
        assert_eq!(String::from(r.filter.clone()), "o");
        assert_eq!(r.obs.as_deref(), Some("01a59101o0618o"));
        assert_eq!(InlineStr::from("o"), r.filter);
        assert_eq!(serde_json::to_value(r).unwrap()["filter"], "o");
        // The filter letter and the exposure name are kept inline (no allocation per row).
        assert!(!r.filter.is_heap_allocated());
        assert!(!r.obs.as_ref().unwrap().is_heap_allocated());
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
