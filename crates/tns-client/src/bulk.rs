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
pub fn parse_csv_records(text: &str) -> Result<Vec<Vec<String>>> {
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

/// Parses a public-objects file: the stamp line, the header (found by its `objid` column),
/// then the rows. A row without a numeric `objid` or a `name` is an error naming its line.
pub fn parse_public_objects(text: &str) -> Result<PublicObjects> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = parse_csv_records(text)?;
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
    let mut rows = Vec::with_capacity(records.len().saturating_sub(h + 1));
    for (n, rec) in records.iter().enumerate().skip(h + 1) {
        let get = |k: usize| -> Option<String> {
            idx[k].and_then(|i| rec.get(i)).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
        };
        let num = |k: usize| get(k).and_then(|s| s.parse::<f64>().ok()).filter(|x| x.is_finite());
        let int = |k: usize| get(k).and_then(|s| s.parse::<u64>().ok());
        let bad =
            |what: &str| Error::Format { what: "public-objects CSV", message: format!("record {}: {what}", n + 1) };
        let objid = get(0).ok_or_else(|| bad("no objid"))?.parse::<u64>().map_err(|_| bad("objid is not a number"))?;
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
