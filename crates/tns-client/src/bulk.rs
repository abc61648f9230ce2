//! The public-objects CSV files and a local mirror kept current.
//!
//! TNS stages zipped CSV files under `system/files/tns_public_objects/` (TNS "Daily CSV
//! Staging" text): `tns_public_objects.csv.zip`, the whole catalogue, rewritten every day
//! after UT midnight, whose first line is the time it was made (`"2021-03-15 00:00:00"`);
//! and `tns_public_objects_YYYYMMDD.csv.zip`, the objects added or changed that day (first
//! line `"2021-03-14 00:00:00 - 23:59:59"`), kept for a month. Third-party mirrors also
//! fetch hourly files `tns_public_objects_HH.csv.zip`. Each is downloaded with a `POST` of
//! the `api_key`. The second line names the columns: `objid`, `name_prefix`, `name`, `ra`,
//! `declination`, `redshift`, `typeid`, `type`, `reporting_groupid`, `reporting_group`,
//! `source_groupid`, `source_group`, `discoverydate`, `discoverymag`, `discmagfilter`,
//! `filter`, `reporters`, `time_received`, `internal_names`, `creationdate`,
//! `lastmodified`; columns added later are kept in [`PublicObjectRow::extra`].
//!
//! A [`Mirror`] keeps a local copy current: the full file once, then the daily files of the
//! whole days since the last sync, then `public_timestamp` searches for the rest (one
//! `get/object` per changed object, up to a bound; beyond it, the full file again).
//! Resolving many names then costs no request.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::client::{TnsClient, safe};
use crate::error::{Error, Result};
use crate::names::{InternalNames, TnsName};
use crate::object::{ObjectQuery, TnsObject};
use crate::search::SearchQuery;

/// Where the CSV files live, relative to the server root.
pub const PUBLIC_OBJECTS_DIR: &str = "system/files/tns_public_objects/";
/// The whole catalogue.
pub const PUBLIC_OBJECTS_FILE: &str = "tns_public_objects.csv.zip";

/// The columns of the files, in their order.
pub const COLUMNS: [&str; 21] = [
    "objid",
    "name_prefix",
    "name",
    "ra",
    "declination",
    "redshift",
    "typeid",
    "type",
    "reporting_groupid",
    "reporting_group",
    "source_groupid",
    "source_group",
    "discoverydate",
    "discoverymag",
    "discmagfilter",
    "filter",
    "reporters",
    "time_received",
    "internal_names",
    "creationdate",
    "lastmodified",
];

/// One row of a public-objects file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PublicObjectRow {
    /// TNS object id.
    pub objid: u64,
    /// `AT`, `SN`, ...
    pub name_prefix: Option<String>,
    /// The name without prefix (`2023ixf`).
    pub name: String,
    /// RA, degrees.
    pub ra: Option<f64>,
    /// Dec, degrees.
    pub declination: Option<f64>,
    /// Redshift.
    pub redshift: Option<f64>,
    /// Object type id.
    pub typeid: Option<u64>,
    /// Object type (`SN Ia`).
    pub r#type: Option<String>,
    /// Reporting group id.
    pub reporting_groupid: Option<u64>,
    /// Reporting group.
    pub reporting_group: Option<String>,
    /// Source group id.
    pub source_groupid: Option<u64>,
    /// Source group.
    pub source_group: Option<String>,
    /// Discovery date (`2023-05-19 17:27:35.000`).
    pub discoverydate: Option<String>,
    /// Discovery magnitude.
    pub discoverymag: Option<f64>,
    /// Discovery filter id.
    pub discmagfilter: Option<String>,
    /// Discovery filter name.
    pub filter: Option<String>,
    /// Reporters.
    pub reporters: Option<String>,
    /// When the discovery report was received.
    pub time_received: Option<String>,
    /// Survey names, comma-separated.
    pub internal_names: Option<String>,
    /// Created.
    pub creationdate: Option<String>,
    /// Last modified.
    pub lastmodified: Option<String>,
    /// Columns not listed in [`COLUMNS`], by name.
    pub extra: Vec<(String, String)>,
}

impl PublicObjectRow {
    /// The name with its prefix.
    pub fn tns_name(&self) -> Option<TnsName> {
        TnsName::parse(&self.name).ok().map(|n| n.with_prefix(self.name_prefix.as_deref()))
    }
    /// The survey names by survey.
    pub fn internal(&self) -> InternalNames {
        InternalNames::parse(self.internal_names.as_deref().unwrap_or_default())
    }

    /// A row from an object reply (for mirror updates).
    pub fn from_object(o: &TnsObject) -> Option<Self> {
        Some(PublicObjectRow {
            objid: o.objid?,
            name_prefix: o.name_prefix.clone(),
            name: o.objname.clone(),
            ra: o.radeg,
            declination: o.decdeg,
            redshift: o.redshift,
            typeid: o.object_type.as_ref().and_then(|t| t.id),
            r#type: o.object_type.as_ref().and_then(|t| t.name.clone()),
            reporting_groupid: o.reporting_group.as_ref().and_then(|g| g.groupid),
            reporting_group: o.reporting_group.as_ref().and_then(|g| g.group_name.clone()),
            source_groupid: o.discovery_data_source.as_ref().and_then(|g| g.groupid),
            source_group: o.discovery_data_source.as_ref().and_then(|g| g.group_name.clone()),
            discoverydate: o.discoverydate.clone(),
            discoverymag: o.discoverymag,
            discmagfilter: o.discmagfilter.as_ref().and_then(|f| f.id).map(|i| i.to_string()),
            filter: o.discmagfilter.as_ref().and_then(|f| f.name.clone()),
            internal_names: o.internal_names_raw.clone(),
            ..Default::default()
        })
    }

    fn values(&self) -> Vec<String> {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let f = |v: &Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        let u = |v: &Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
        vec![
            self.objid.to_string(),
            s(&self.name_prefix),
            self.name.clone(),
            f(&self.ra),
            f(&self.declination),
            f(&self.redshift),
            u(&self.typeid),
            s(&self.r#type),
            u(&self.reporting_groupid),
            s(&self.reporting_group),
            u(&self.source_groupid),
            s(&self.source_group),
            s(&self.discoverydate),
            f(&self.discoverymag),
            s(&self.discmagfilter),
            s(&self.filter),
            s(&self.reporters),
            s(&self.time_received),
            s(&self.internal_names),
            s(&self.creationdate),
            s(&self.lastmodified),
        ]
    }
}

/// A parsed public-objects file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PublicObjects {
    /// The first line: when the file was made (or the span a daily file covers).
    pub stamp: String,
    /// The rows, in file order.
    pub rows: Vec<PublicObjectRow>,
}

impl PublicObjects {
    /// An index for fast lookups by name (any spelling) and by survey name.
    pub fn index(&self) -> NameIndex<'_> {
        let mut by_name = HashMap::new();
        let mut by_internal = HashMap::new();
        for (i, r) in self.rows.iter().enumerate() {
            if let Ok(n) = TnsName::parse(&r.name) {
                by_name.insert(n.objname(), i);
            }
            for (_, n) in r.internal().all() {
                by_internal.insert(n.clone(), i);
            }
        }
        NameIndex { rows: &self.rows, by_name, by_internal }
    }

    /// Inserts or replaces rows by `objid`.
    pub fn upsert(&mut self, rows: impl IntoIterator<Item = PublicObjectRow>) -> usize {
        let mut at: HashMap<u64, usize> = self.rows.iter().enumerate().map(|(i, r)| (r.objid, i)).collect();
        let mut n = 0;
        for r in rows {
            n += 1;
            match at.get(&r.objid) {
                Some(&i) => self.rows[i] = r,
                None => {
                    at.insert(r.objid, self.rows.len());
                    self.rows.push(r);
                }
            }
        }
        n
    }

    /// Writes the file back as CSV (the stamp line, the header, the rows; every field quoted).
    pub fn to_csv(&self) -> String {
        let mut extra_cols: Vec<String> = Vec::new();
        for r in &self.rows {
            for (k, _) in &r.extra {
                if !extra_cols.contains(k) {
                    extra_cols.push(k.clone());
                }
            }
        }
        let mut out = String::new();
        push_record(&mut out, std::slice::from_ref(&self.stamp));
        let header: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).chain(extra_cols.iter().cloned()).collect();
        push_record(&mut out, &header);
        for r in &self.rows {
            let mut v = r.values();
            for c in &extra_cols {
                v.push(r.extra.iter().find(|(k, _)| k == c).map(|(_, x)| x.clone()).unwrap_or_default());
            }
            push_record(&mut out, &v);
        }
        out
    }
}

/// Lookups into a [`PublicObjects`] without requests.
#[derive(Debug)]
pub struct NameIndex<'a> {
    rows: &'a [PublicObjectRow],
    by_name: HashMap<String, usize>,
    by_internal: HashMap<String, usize>,
}

impl<'a> NameIndex<'a> {
    /// By TNS name in any spelling (`SN 2023ixf`, `2023ixf`); `None` for unknown or
    /// malformed names.
    pub fn get(&self, name: &str) -> Option<&'a PublicObjectRow> {
        let n = TnsName::parse(name).ok()?;
        self.by_name.get(&n.objname()).map(|&i| &self.rows[i])
    }
    /// By survey name (`ZTF23aaklqou`).
    pub fn get_internal(&self, name: &str) -> Option<&'a PublicObjectRow> {
        self.by_internal.get(name.trim()).map(|&i| &self.rows[i])
    }
}

fn push_record(out: &mut String, fields: &[String]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(&f.replace('"', "\"\""));
        out.push('"');
    }
    out.push('\n');
}

/// Splits CSV text into records (RFC 4180: quoted fields may hold commas, doubled quotes
/// and line breaks; `\r\n` and `\n` both end a record; blank lines are skipped).
///
/// Every field is copied into its own `String`; [`CsvRecords`] gives the same fields
/// borrowed from the text instead.
pub fn parse_csv_records(text: &str) -> Result<Vec<Vec<String>>> {
    let mut records = Vec::new();
    let mut reader = CsvRecords::new(text);
    let mut fields = Vec::new();
    while reader.next_into(&mut fields)? {
        records.push(fields.drain(..).map(Cow::into_owned).collect());
    }
    Ok(records)
}

/// The records of CSV text one at a time, with the rules and the errors of
/// [`parse_csv_records`], the fields borrowed from the text: only a field that holds a doubled
/// quote (or text after its closing quote) is copied.
#[derive(Debug, Clone)]
pub struct CsvRecords<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> CsvRecords<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        CsvRecords { text, pos: 0 }
    }

    /// Reads the next record into `fields` (cleared first); `false` at the end of the text.
    /// After an error the reader is at an unspecified place.
    pub fn next_into(&mut self, fields: &mut Vec<Cow<'a, str>>) -> Result<bool> {
        fields.clear();
        let len = self.text.len();
        loop {
            let (field, end, started) = self.field(self.pos)?;
            match self.text.as_bytes().get(end) {
                Some(b',') => {
                    fields.push(field);
                    self.pos = end + 1;
                }
                Some(_) => {
                    // A line break: the end of a record, or a blank line.
                    self.pos = end + 1;
                    if started || !fields.is_empty() {
                        fields.push(field);
                        return Ok(true);
                    }
                }
                None => {
                    self.pos = len;
                    if started || !fields.is_empty() {
                        fields.push(field);
                        return Ok(true);
                    }
                    return Ok(false);
                }
            }
        }
    }

    /// The field starting at `start`: its value, where it ends (the `,` or `\n` after it, or
    /// the end of the text), and whether it counts as present on a line of its own (quoted,
    /// or not empty).
    fn field(&self, start: usize) -> Result<(Cow<'a, str>, usize, bool)> {
        let b = self.text.as_bytes();
        if b.get(start) == Some(&b'"') {
            let inner = start + 1;
            let Some(q) = b[inner..].iter().position(|&c| c == b'"').map(|q| q + inner) else {
                return Err(self.unclosed());
            };
            return match b.get(q + 1) {
                None | Some(b',' | b'\n') => Ok((Cow::Borrowed(&self.text[inner..q]), q + 1, true)),
                Some(b'\r') if b.get(q + 2) == Some(&b'\n') => Ok((Cow::Borrowed(&self.text[inner..q]), q + 2, true)),
                // A doubled quote, or text after the closing quote.
                _ => self.slow_field(start),
            };
        }
        let mut i = start;
        while let Some(&c) = b.get(i) {
            match c {
                b',' | b'\n' => break,
                // Not at the start (that would be a quoted field): the field has begun.
                b'"' => return Err(self.quote_inside(i)),
                _ => i += 1,
            }
        }
        // `\r\n` ends a record as `\n` does.
        let content_end = if b.get(i) == Some(&b'\n') && i > start && b[i - 1] == b'\r' { i - 1 } else { i };
        Ok((Cow::Borrowed(&self.text[start..content_end]), i, content_end > start))
    }

    /// A field that needs unescaping, read one character at a time.
    fn slow_field(&self, start: usize) -> Result<(Cow<'a, str>, usize, bool)> {
        let mut out = String::new();
        let mut in_quotes = false;
        let mut started = false;
        let mut chars = self.text[start..].char_indices().peekable();
        while let Some((j, c)) = chars.next() {
            if in_quotes {
                match c {
                    '"' if chars.peek().map(|p| p.1) == Some('"') => {
                        chars.next();
                        out.push('"');
                    }
                    '"' => in_quotes = false,
                    _ => out.push(c),
                }
                continue;
            }
            match c {
                '"' if !started => {
                    in_quotes = true;
                    started = true;
                }
                '"' => return Err(self.quote_inside(start + j)),
                ',' | '\n' => return Ok((Cow::Owned(out), start + j, started)),
                '\r' if chars.peek().map(|p| p.1) == Some('\n') => {}
                _ => {
                    out.push(c);
                    started = true;
                }
            }
        }
        if in_quotes {
            return Err(self.unclosed());
        }
        Ok((Cow::Owned(out), self.text.len(), started))
    }

    /// The line (from 1) of the byte at `pos`.
    fn line_at(&self, pos: usize) -> usize {
        1 + self.text.as_bytes()[..pos.min(self.text.len())].iter().filter(|&&c| c == b'\n').count()
    }
    fn quote_inside(&self, pos: usize) -> Error {
        Error::Format { what: "CSV", message: format!("line {}: a quote inside an unquoted field", self.line_at(pos)) }
    }
    fn unclosed(&self) -> Error {
        let line = self.line_at(self.text.len());
        Error::Format { what: "CSV", message: format!("line {line}: a quoted field is not closed") }
    }
}

/// Parses a public-objects file: the stamp line, the header (found by its `objid` column),
/// then the rows. A row without a numeric `objid` or a `name` is an error naming its line.
pub fn parse_public_objects(text: &str) -> Result<PublicObjects> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = CsvRecords::new(text);
    let mut rec: Vec<Cow<'_, str>> = Vec::new();
    // `n`: how many records were read (the index of the next one).
    let mut n = 0usize;
    let mut first = String::new();
    let header: Vec<String> = loop {
        if !reader.next_into(&mut rec)? {
            return Err(Error::Format {
                what: "public-objects CSV",
                message: "no header line with an `objid` column".into(),
            });
        }
        if n == 0 {
            first = rec.join(",");
        }
        n += 1;
        if rec.iter().any(|f| f.trim() == "objid") {
            break rec.iter().map(|s| s.trim().to_string()).collect();
        }
    };
    let stamp = if n > 1 { first } else { String::new() };
    let col = |name: &str| header.iter().position(|c| c == name);
    let idx: Vec<Option<usize>> = COLUMNS.iter().map(|c| col(c)).collect();
    let known: Vec<usize> = idx.iter().flatten().copied().collect();
    let extra_cols: Vec<(usize, &String)> = header.iter().enumerate().filter(|(i, _)| !known.contains(i)).collect();
    // Room for every line left: no copy of the rows as they grow.
    let lines = text.as_bytes()[reader.pos..].iter().filter(|&&c| c == b'\n').count() + 1;
    let mut rows = Vec::with_capacity(lines);
    // The first bad row; the rest of the text is still read, as a CSV error comes first.
    let mut bad_row = None;
    while reader.next_into(&mut rec)? {
        n += 1;
        if bad_row.is_some() {
            continue;
        }
        match typed_row(&rec, &idx, &extra_cols, n) {
            Ok(r) => rows.push(r),
            Err(e) => bad_row = Some(e),
        }
    }
    if let Some(e) = bad_row {
        return Err(e);
    }
    Ok(PublicObjects { stamp, rows })
}

/// One row from its fields; `number` (from 1) names the record in errors.
fn typed_row(
    rec: &[Cow<'_, str>],
    idx: &[Option<usize>],
    extra_cols: &[(usize, &String)],
    number: usize,
) -> Result<PublicObjectRow> {
    let get = |k: usize| -> Option<&str> {
        idx.get(k).copied().flatten().and_then(|i| rec.get(i)).map(|s| s.trim()).filter(|s| !s.is_empty())
    };
    let text = |k: usize| get(k).map(str::to_string);
    let num = |k: usize| get(k).and_then(|s| s.parse::<f64>().ok()).filter(|x| x.is_finite());
    let int = |k: usize| get(k).and_then(|s| s.parse::<u64>().ok());
    let bad = |what: &str| Error::Format { what: "public-objects CSV", message: format!("record {number}: {what}") };
    let objid = get(0).ok_or_else(|| bad("no objid"))?.parse::<u64>().map_err(|_| bad("objid is not a number"))?;
    let name = text(2).ok_or_else(|| bad("no name"))?;
    let extra =
        extra_cols.iter().map(|&(i, c)| (c.clone(), rec.get(i).map(|s| s.to_string()).unwrap_or_default())).collect();
    Ok(PublicObjectRow {
        objid,
        name_prefix: text(1),
        name,
        ra: num(3),
        declination: num(4),
        redshift: num(5),
        typeid: int(6),
        r#type: text(7),
        reporting_groupid: int(8),
        reporting_group: text(9),
        source_groupid: int(10),
        source_group: text(11),
        discoverydate: text(12),
        discoverymag: num(13),
        discmagfilter: text(14),
        filter: text(15),
        reporters: text(16),
        time_received: text(17),
        internal_names: text(18),
        creationdate: text(19),
        lastmodified: text(20),
        extra,
    })
}

/// The text of the first `.csv` member of a zip archive.
pub fn unzip_csv(bytes: &[u8]) -> Result<String> {
    let bad = |m: String| Error::Format { what: "zip archive", message: m };
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let mut name = None;
    for i in 0..z.len() {
        let f = z.by_index(i).map_err(|e| bad(e.to_string()))?;
        if f.name().to_ascii_lowercase().ends_with(".csv") {
            name = Some(i);
            break;
        }
    }
    let i = name.ok_or_else(|| bad("no .csv file inside".into()))?;
    let mut f = z.by_index(i).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    f.read_to_end(&mut out).map_err(|e| bad(e.to_string()))?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Which staged file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staged {
    /// The whole catalogue (`tns_public_objects.csv.zip`).
    Full,
    /// One day's changes (`tns_public_objects_YYYYMMDD.csv.zip`).
    Day(NaiveDate),
    /// One hour's changes (`tns_public_objects_HH.csv.zip`, hour 0-23).
    Hour(u8),
}

impl Staged {
    /// The file name.
    pub fn file_name(self) -> Result<String> {
        Ok(match self {
            Staged::Full => PUBLIC_OBJECTS_FILE.to_string(),
            Staged::Day(d) => format!("tns_public_objects_{}.csv.zip", d.format("%Y%m%d")),
            Staged::Hour(h) if h < 24 => format!("tns_public_objects_{h:02}.csv.zip"),
            Staged::Hour(h) => return Err(Error::invalid("hour", format!("{h} is not an hour: use 0 to 23"))),
        })
    }
}

impl TnsClient {
    /// Downloads a staged file, still zipped.
    pub async fn download_staged_zip(&self, which: Staged) -> Result<Bytes> {
        let path = format!("{PUBLIC_OBJECTS_DIR}{}", which.file_name()?);
        Ok(self.raw(safe(self.keyed(&path))).await?.body)
    }
    /// Downloads and parses a staged file.
    pub async fn public_objects(&self, which: Staged) -> Result<PublicObjects> {
        let zip = self.download_staged_zip(which).await?;
        parse_public_objects(&unzip_csv(&zip)?)
    }
}

/// The state of a local mirror (`mirror.json` beside the CSV).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MirrorState {
    /// When the mirror was last brought up to date (UTC).
    pub synced_at: DateTime<Utc>,
    /// The stamp line of the full file it started from.
    pub stamp: String,
}

/// What a mirror update did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MirrorUpdate {
    /// Whether the full file was downloaded.
    pub full_download: bool,
    /// How many objects changed since the last sync were fetched and upserted.
    pub updated: usize,
    /// Rows in the mirror now.
    pub rows: usize,
    /// The new sync time.
    pub synced_at: DateTime<Utc>,
}

/// A local copy of the public objects in a directory (`tns_public_objects.csv` and
/// `mirror.json`).
#[derive(Debug, Clone)]
pub struct Mirror {
    dir: PathBuf,
    /// The most changed objects fetched one by one in an update; more than this downloads
    /// the full file again (default 200).
    pub max_object_fetches: usize,
}

impl Mirror {
    /// A mirror in `dir` (created on first update).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Mirror { dir: dir.into(), max_object_fetches: 200 }
    }
    /// The CSV path.
    pub fn csv_path(&self) -> PathBuf {
        self.dir.join("tns_public_objects.csv")
    }
    fn state_path(&self) -> PathBuf {
        self.dir.join("mirror.json")
    }
    /// The mirrored objects.
    pub fn load(&self) -> Result<PublicObjects> {
        let p = self.csv_path();
        let text = std::fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
        parse_public_objects(&text)
    }
    /// The mirror's state, if it has been synced.
    pub fn state(&self) -> Result<Option<MirrorState>> {
        let p = self.state_path();
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| io_err(&p, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&p, e)),
        }
    }
    fn save(&self, objects: &PublicObjects, state: &MirrorState) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io_err(&self.dir, e))?;
        let csv = self.csv_path();
        let tmp = self.dir.join("tns_public_objects.csv.tmp");
        std::fs::write(&tmp, objects.to_csv()).map_err(|e| io_err(&tmp, e))?;
        std::fs::rename(&tmp, &csv).map_err(|e| io_err(&csv, e))?;
        let st = self.state_path();
        let body = serde_json::to_vec_pretty(state).map_err(|e| io_err(&st, e))?;
        std::fs::write(&st, body).map_err(|e| io_err(&st, e))
    }

    /// Brings the mirror up to date: the full file when there is no mirror, when it is older
    /// than the month the daily files are kept, or when too much changed; else the daily
    /// files of the whole UTC days since the last sync (one request a day), then a
    /// `public_timestamp` search for the rest (an hour of overlap) and one `get/object` per
    /// changed object.
    pub async fn update(&self, tns: &TnsClient) -> Result<MirrorUpdate> {
        let now: DateTime<Utc> = tns.http().clock().system_time().into();
        let current = match self.state()? {
            Some(s) if self.csv_path().exists() && now - s.synced_at < chrono::Duration::days(30) => {
                Some((s, self.load()?))
            }
            _ => None,
        };
        if let Some((state, mut objects)) = current {
            let mut updated = 0;
            // Whole days since the last sync: the staged daily files.
            let today = now.date_naive();
            let mut day = state.synced_at.date_naive();
            let mut covered_until = state.synced_at;
            while day < today {
                let delta = tns.public_objects(Staged::Day(day)).await?;
                updated += objects.upsert(delta.rows);
                day = day.succ_opt().unwrap_or(today);
                covered_until = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
            }
            let since = covered_until - chrono::Duration::hours(1);
            let hits = tns.search(&SearchQuery::new().public_since(since)).await?;
            if hits.len() <= self.max_object_fetches {
                let mut fresh = Vec::new();
                for h in &hits {
                    let q = match h.objid {
                        Some(id) => ObjectQuery::objid(id),
                        None => ObjectQuery::name(&h.objname)?,
                    };
                    match tns.object(&q).await {
                        Ok(o) => fresh.extend(PublicObjectRow::from_object(&o)),
                        Err(Error::NotFound(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                updated += objects.upsert(fresh);
                let state = MirrorState { synced_at: now, stamp: state.stamp };
                self.save(&objects, &state)?;
                return Ok(MirrorUpdate { full_download: false, updated, rows: objects.rows.len(), synced_at: now });
            }
        }
        let objects = tns.public_objects(Staged::Full).await?;
        let state = MirrorState { synced_at: now, stamp: objects.stamp.clone() };
        self.save(&objects, &state)?;
        Ok(MirrorUpdate { full_download: true, updated: 0, rows: objects.rows.len(), synced_at: now })
    }
}

fn io_err(p: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io { path: p.display().to_string(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    //! The borrowing reader against the first implementation (one `String` per field, one
    //! character at a time), kept here as the reference.
    use super::*;
    use proptest::prelude::*;

    fn reference_records(text: &str) -> Result<Vec<Vec<String>>> {
        let mut records = Vec::new();
        let mut record: Vec<String> = Vec::new();
        let mut field = String::new();
        let mut in_quotes = false;
        let mut field_started = false;
        let mut line = 1usize;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if in_quotes {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => in_quotes = false,
                    '\n' => {
                        line += 1;
                        field.push(c);
                    }
                    _ => field.push(c),
                }
                continue;
            }
            match c {
                '"' if !field_started => {
                    in_quotes = true;
                    field_started = true;
                }
                '"' => {
                    return Err(Error::Format {
                        what: "CSV",
                        message: format!("line {line}: a quote inside an unquoted field"),
                    });
                }
                ',' => {
                    record.push(std::mem::take(&mut field));
                    field_started = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    if field_started || !record.is_empty() || !field.is_empty() {
                        record.push(std::mem::take(&mut field));
                        records.push(std::mem::take(&mut record));
                    }
                    field_started = false;
                }
                _ => {
                    field.push(c);
                    field_started = true;
                }
            }
        }
        if in_quotes {
            return Err(Error::Format { what: "CSV", message: format!("line {line}: a quoted field is not closed") });
        }
        if field_started || !record.is_empty() || !field.is_empty() {
            record.push(field);
            records.push(record);
        }
        Ok(records)
    }

    fn reference_public_objects(text: &str) -> Result<PublicObjects> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let records = reference_records(text)?;
        let Some(h) = records.iter().position(|r| r.iter().any(|f| f.trim() == "objid")) else {
            return Err(Error::Format {
                what: "public-objects CSV",
                message: "no header line with an `objid` column".into(),
            });
        };
        let stamp = if h > 0 { records[0].join(",") } else { String::new() };
        let header: Vec<String> = records[h].iter().map(|s| s.trim().to_string()).collect();
        let col = |name: &str| header.iter().position(|c| c == name);
        let idx: Vec<Option<usize>> = COLUMNS.iter().map(|c| col(c)).collect();
        let known: Vec<usize> = idx.iter().flatten().copied().collect();
        let mut rows = Vec::new();
        for (n, rec) in records.iter().enumerate().skip(h + 1) {
            let get = |k: usize| -> Option<String> {
                idx[k].and_then(|i| rec.get(i)).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
            };
            let num = |k: usize| get(k).and_then(|s| s.parse::<f64>().ok()).filter(|x| x.is_finite());
            let int = |k: usize| get(k).and_then(|s| s.parse::<u64>().ok());
            let bad =
                |what: &str| Error::Format { what: "public-objects CSV", message: format!("record {}: {what}", n + 1) };
            let objid =
                get(0).ok_or_else(|| bad("no objid"))?.parse::<u64>().map_err(|_| bad("objid is not a number"))?;
            let name = get(2).ok_or_else(|| bad("no name"))?;
            let extra = header
                .iter()
                .enumerate()
                .filter(|(i, _)| !known.contains(i))
                .map(|(i, c)| (c.clone(), rec.get(i).cloned().unwrap_or_default()))
                .collect();
            rows.push(PublicObjectRow {
                objid,
                name_prefix: get(1),
                name,
                ra: num(3),
                declination: num(4),
                redshift: num(5),
                typeid: int(6),
                r#type: get(7),
                reporting_groupid: int(8),
                reporting_group: get(9),
                source_groupid: int(10),
                source_group: get(11),
                discoverydate: get(12),
                discoverymag: num(13),
                discmagfilter: get(14),
                filter: get(15),
                reporters: get(16),
                time_received: get(17),
                internal_names: get(18),
                creationdate: get(19),
                lastmodified: get(20),
                extra,
            });
        }
        Ok(PublicObjects { stamp, rows })
    }

    fn same<T: PartialEq + std::fmt::Debug>(new: Result<T>, old: Result<T>) -> std::result::Result<(), TestCaseError> {
        prop_assert_eq!(new.map_err(|e| e.to_string()), old.map_err(|e| e.to_string()));
        Ok(())
    }

    /// Pieces of CSV text: delimiters, quotes, line breaks, values the typed pass reads.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "\"", "\"\"", ",", "\n", "\r\n", "\r", " ", "a", "é", "objid", "name", "ra", "extra", "12", " 7 ", "2.5",
            "-1e3", "inf", "NaN", "SN", "\u{feff}", "x\"y", "\t",
        ])
    }

    /// A field written as CSV: bare, or quoted with its quotes doubled.
    fn field() -> impl Strategy<Value = String> {
        let content = prop::collection::vec(piece(), 0..4).prop_map(|p| p.concat());
        (any::<bool>(), content).prop_map(|(quoted, c)| {
            if quoted { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.replace(['"', ',', '\n', '\r'], "") }
        })
    }

    /// A well-formed file: an optional stamp, a header of known and other columns, rows.
    fn file() -> impl Strategy<Value = String> {
        let names = prop::collection::vec(
            prop::sample::select(vec!["objid", "name", "name_prefix", "ra", "typeid", "type", "extra", " objid"]),
            1..6,
        );
        let row = prop::collection::vec(field(), 0..7);
        (
            any::<bool>(),
            any::<bool>(),
            names,
            prop::collection::vec(row, 0..6),
            prop::sample::select(vec!["\n", "\r\n", "\n\n", "\r\n\r\n"]),
            any::<bool>(),
        )
            .prop_map(|(bom, stamp, names, rows, eol, last_eol)| {
                let mut s = String::new();
                if bom {
                    s.push('\u{feff}');
                }
                if stamp {
                    s.push_str("\"2021-03-15 00:00:00\"");
                    s.push_str(eol);
                }
                let header: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                s.push_str(&header.join(","));
                for r in rows {
                    s.push_str(eol);
                    s.push_str(&r.join(","));
                }
                if last_eol {
                    s.push_str(eol);
                }
                s
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn records_match_the_reference_on_any_text(p in prop::collection::vec(piece(), 0..40)) {
            let text = p.concat();
            same(parse_csv_records(&text), reference_records(&text))?;
            same(parse_public_objects(&text), reference_public_objects(&text))?;
        }

        #[test]
        fn files_match_the_reference(text in file()) {
            same(parse_csv_records(&text), reference_records(&text))?;
            same(parse_public_objects(&text), reference_public_objects(&text))?;
        }

        #[test]
        fn numbered_rows_match_the_reference(
            rows in prop::collection::vec((0u64..1000, prop::option::of(-1e3f64..1e3), field()), 0..20),
        ) {
            let mut text = String::from("\"stamp\"\n\"objid\",\"name\",\"ra\",\"other\"\n");
            for (id, ra, f) in rows {
                let ra = ra.map(|x| x.to_string()).unwrap_or_default();
                text.push_str(&format!("\"{id}\",\"2023abc\",\"{ra}\",{f}\n"));
            }
            same(parse_public_objects(&text), reference_public_objects(&text))?;
        }
    }
}
