//! The result file parsed straight into columns: one `Vec` per column, in file order.
//!
//! [`ResultColumns::parse`] is the fast way in: no per-row struct, floats parsed by
//! `fast-float2` (bit-identical to `str::parse::<f64>`, property-tested), large files on every
//! core (cut at line starts; rows stay in file order and errors name the true line). The typed
//! rows of [`ResultTable`](crate::ResultTable) and, with the `polars` feature, the DataFrame
//! ([`ResultColumns::into_dataframe`]) are built from these columns.
//!
//! Column types follow the names of the header: `uJy`, `duJy` and `err` are integers
//! ([`ColumnData::Int`]), `F`, `Obs` and any column this crate does not know are text
//! ([`ColumnData::Text`]), every other known column is a float ([`ColumnData::Float`]). Every
//! row must have a value in every column (the file has no notation for a missing value), so
//! columns carry no validity mask; a known column missing from the header is simply absent.
//!
//! ```
//! use fallingstar_forcedphot::columns::ResultColumns;
//! let text = "###MJD m dm uJy duJy F Obs\n\
//!             59101.519211 -21.740 1.398 -7 10 o 01a59101o0618o\n\
//!             59103.552116 16.499 0.011 912 10 c 02a59103o0723c\n";
//! let cols = ResultColumns::parse(text)?;
//! assert_eq!(cols.len(), 2);
//! assert_eq!(cols.floats("MJD"), Some(&[59101.519211, 59103.552116][..]));
//! assert_eq!(cols.ints("uJy"), Some(&[-7, 912][..]));
//! let filters: Vec<&str> = cols.texts("F").map(|c| c.iter().collect()).unwrap_or_default();
//! assert_eq!(filters, ["o", "c"]);
//! assert_eq!(cols.floats("RA"), None, "not in this header");
//! # Ok::<(), fallingstar_forcedphot::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::result::REQUIRED_COLUMNS;

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// A float column (`MJD`, `m`, `dm`, `chi/N`, `RA`, `Dec`, `x`, `y`, `maj`, `min`, `phi`,
    /// `apfit`, `mag5sig`, `PA_DEG`, `Sky`).
    Float(Vec<f64>),
    /// An integer column (`uJy`, `duJy`, `err`).
    Int(Vec<i64>),
    /// A text column (`F`, `Obs`, any unknown column).
    Text(TextColumn),
}

impl ColumnData {
    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Float(v) => v.len(),
            ColumnData::Int(v) => v.len(),
            ColumnData::Text(v) => v.len(),
        }
    }
    /// Whether the column has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A text column: all values in one `String`, with the end offset of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextColumn {
    text: String,
    ends: Vec<usize>,
}

impl TextColumn {
    /// An empty column with room for `rows` values of about `bytes` bytes in all.
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        TextColumn { text: String::with_capacity(bytes), ends: Vec::with_capacity(rows) }
    }
    /// The number of values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    /// Whether the column has no values.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// The value of row `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }
    /// The values in row order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let s = self.text.get(start..end).unwrap_or_default();
            start = end;
            s
        })
    }
    /// All values back to back, and the end offset of each in it.
    pub fn as_parts(&self) -> (&str, &[usize]) {
        (&self.text, &self.ends)
    }
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }
    fn truncate(&mut self, rows: usize) {
        self.ends.truncate(rows);
        self.text.truncate(self.ends.last().copied().unwrap_or(0));
    }
    fn append(&mut self, other: TextColumn) {
        let shift = self.text.len();
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|e| e + shift));
    }
}

/// A result file as columns, in the header's order (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultColumns {
    names: Vec<String>,
    data: Vec<ColumnData>,
    rows: usize,
}

impl ResultColumns {
    /// Parses a result file. Errors are those of [`ResultTable::parse`](crate::ResultTable::parse):
    /// an empty file, a missing required column, a row with the wrong number of fields or a
    /// value that is not a number is an [`Error::Parse`] naming the line.
    pub fn parse(text: &str) -> Result<Self> {
        parse(text, true)
    }

    /// Parses by the reference rules alone: each line trimmed and split at ASCII whitespace,
    /// every value through the general parsers. The same result as [`Self::parse`] (which
    /// takes plain lines in one pass and falls back to these rules for the rest), only
    /// slower: for differential tests and fuzzing.
    pub fn parse_reference(text: &str) -> Result<Self> {
        parse(text, false)
    }

    /// Whether both have the same names and values, floats compared bit for bit (so a NaN
    /// equals the same NaN, and `0.0` differs from `-0.0`).
    pub fn bitwise_eq(&self, other: &Self) -> bool {
        let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        self.names == other.names
            && self.rows == other.rows
            && self.data.len() == other.data.len()
            && self.data.iter().zip(&other.data).all(|(a, b)| match (a, b) {
                (ColumnData::Float(a), ColumnData::Float(b)) => bits(a) == bits(b),
                _ => a == b,
            })
    }

    /// The header's column names, in file order, without the leading `#`s.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }
    /// Whether there are no rows (a header-only file: no data).
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
    /// The columns as `(name, values)` in file order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &ColumnData)> + '_ {
        self.names.iter().map(String::as_str).zip(&self.data)
    }
    /// The columns as `(name, values)` in file order, by value.
    pub fn into_columns(self) -> impl ExactSizeIterator<Item = (String, ColumnData)> {
        self.names.into_iter().zip(self.data)
    }
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnData> {
        self.iter().find(|(n, _)| *n == name).map(|(_, c)| c)
    }
    /// The float column called `name` (`None` when absent or not a float column).
    pub fn floats(&self, name: &str) -> Option<&[f64]> {
        match self.column(name)? {
            ColumnData::Float(v) => Some(v),
            _ => None,
        }
    }
    /// The integer column called `name` (`None` when absent or not an integer column).
    pub fn ints(&self, name: &str) -> Option<&[i64]> {
        match self.column(name)? {
            ColumnData::Int(v) => Some(v),
            _ => None,
        }
    }
    /// The text column called `name` (`None` when absent or not a text column).
    pub fn texts(&self, name: &str) -> Option<&TextColumn> {
        match self.column(name)? {
            ColumnData::Text(v) => Some(v),
            _ => None,
        }
    }
}

/// The kind of values a column holds, from its header name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Float,
    Int,
    Text,
}

fn kind_of(name: &str) -> Kind {
    match name {
        "uJy" | "duJy" | "err" => Kind::Int,
        "MJD" | "m" | "dm" | "chi/N" | "RA" | "Dec" | "x" | "y" | "maj" | "min" | "phi" | "apfit" | "mag5sig"
        | "PA_DEG" | "Sky" => Kind::Float,
        _ => Kind::Text,
    }
}

/// Where a file column's values go: the index into the builder's vectors of its kind.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// A float column; `finite` when non-finite values are refused (MJD).
    Float {
        k: usize,
        finite: bool,
    },
    Int(usize),
    Text(usize),
}

/// The header: column names, the header's line number and the byte offset of the body.
struct Header {
    names: Vec<String>,
    line: usize,
    body_start: usize,
}

fn header(text: &str) -> Result<Header> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (line, header) = loop {
        match lines.next() {
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((n, l)) => break (n, l),
            None => return Err(Error::Parse { line: 0, message: "the result file is empty (no header line)".into() }),
        }
    };
    let names: Vec<String> = header.trim().trim_start_matches('#').split_whitespace().map(str::to_string).collect();
    for (i, c) in names.iter().enumerate() {
        if names[..i].contains(c) {
            return Err(Error::Parse { line, message: format!("column {c} appears twice") });
        }
    }
    for req in REQUIRED_COLUMNS {
        if !names.iter().any(|c| c == req) {
            return Err(Error::Parse {
                line,
                message: format!(
                    "the header has no {req} column (found: {}); expected a header like \"###MJD m dm uJy duJy F ...\"",
                    names.join(" ")
                ),
            });
        }
    }
    // `header` is a slice of `text`: its end is the offset of the header line's end.
    let header_end = (header.as_ptr() as usize).saturating_sub(text.as_ptr() as usize) + header.len();
    let body_start = text.get(header_end..).and_then(|r| r.find('\n')).map_or(text.len(), |i| header_end + i + 1);
    Ok(Header { names, line, body_start })
}

/// Bodies larger than this are parsed on several threads.
pub(crate) const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// Tables with more rows than this build their DataFrame's text columns on several threads.
#[cfg(feature = "polars")]
pub(crate) const PARALLEL_MIN_ROWS: usize = 1 << 16;

/// Cuts `body` at line starts into up to one part per core, each of at least
/// [`PARALLEL_MIN_BYTES`].
fn split_lines(body: &str) -> Vec<&str> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let k = (body.len() / PARALLEL_MIN_BYTES).clamp(1, threads);
    let mut parts = Vec::with_capacity(k);
    let mut start = 0;
    for j in 1..k {
        let target = (body.len() * j / k).max(start);
        let Some(nl) = memchr::memchr(b'\n', &body.as_bytes()[target..]) else { break };
        let end = target + nl + 1;
        parts.extend(body.get(start..end));
        start = end;
    }
    parts.extend(body.get(start..));
    parts
}

/// A float as `str::parse::<f64>` reads it (`fast-float2` first, which agrees bit for bit on
/// what it accepts; the standard parser for the rest), or the error naming the column.
pub(crate) fn float(line: usize, col: &str, s: &str) -> Result<f64> {
    fast_float2::parse::<f64, _>(s)
        .or_else(|_| s.parse::<f64>())
        .map_err(|_| Error::Parse { line, message: format!("column {col}: {s:?} is not a number") })
}

/// An integer; `12.0` is tolerated, fractions, NaN and infinities are refused.
pub(crate) fn integer(line: usize, col: &str, s: &str) -> Result<i64> {
    if let Ok(v) = s.parse::<i64>() {
        return Ok(v);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(v as i64),
        _ => Err(Error::Parse { line, message: format!("column {col}: {s:?} is not an integer") }),
    }
}

/// ASCII whitespace other than the line feed: what separates fields on a line.
#[inline]
fn is_blank(b: u8) -> bool {
    b.is_ascii_whitespace() && b != b'\n'
}

/// An optional sign at `b[i]`: whether it is `-`, and where the digits start.
#[inline]
fn sign(b: &[u8], i: usize) -> (bool, usize) {
    match b.get(i) {
        Some(b'-') => (true, i + 1),
        Some(b'+') => (false, i + 1),
        _ => (false, i),
    }
}

/// A plain integer (optional sign, 1 to 18 digits) at `b[i..]` ending at whitespace or the
/// end: the value and the end. `None` for anything else (which the reference rules judge).
#[inline]
fn fast_int(b: &[u8], i: usize) -> Option<(i64, usize)> {
    let (neg, mut i) = sign(b, i);
    let start = i;
    let mut v: i64 = 0;
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        if i - start == 18 {
            // A 19th digit may overflow: the reference rules decide.
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
        i += 1;
    }
    let ends_field = b.get(i).is_none_or(|c| c.is_ascii_whitespace());
    (i > start && ends_field).then_some((if neg { -v } else { v }, i))
}

/// Powers of ten that are exact as `f64`.
const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// A plain decimal (optional sign, digits with at most one `.`, 15 digits at most, no
/// exponent) at `b[i..]` ending at whitespace or the end: the value and the end. `None` for
/// anything else, which `fast-float2` or the reference rules then judge.
///
/// Exact by Clinger's fast path: the digits as an integer below 10^15 < 2^53 and a power of
/// ten up to 10^15 are both exact in `f64`, so their IEEE quotient is the correctly rounded
/// value, the same bits as `str::parse::<f64>` (property-tested against it).
#[inline]
fn fast_decimal(b: &[u8], i: usize) -> Option<(f64, usize)> {
    let (neg, mut i) = sign(b, i);
    let (mut m, mut digits, mut frac, mut dot) = (0u64, 0usize, 0usize, false);
    while let Some(&c) = b.get(i) {
        if c.is_ascii_digit() {
            m = m * 10 + u64::from(c - b'0');
            digits += 1;
            frac += usize::from(dot);
            if digits > 15 {
                return None;
            }
        } else if c == b'.' && !dot {
            dot = true;
        } else {
            break;
        }
        i += 1;
    }
    let ends_field = b.get(i).is_none_or(|c| c.is_ascii_whitespace());
    if digits == 0 || !ends_field {
        return None;
    }
    let v = m as f64 / *POW10.get(frac)?;
    Some((if neg { -v } else { v }, i))
}

/// The rows of one part of the body, written in place into the part's own slices of the
/// final number columns (sized beforehand from the part's line count, so no row is pushed,
/// appended or moved); text goes to the part's own text columns, joined afterwards.
struct Part<'p, 'c> {
    names: &'p [String],
    plan: &'p [Slot],
    floats: Vec<&'c mut [f64]>,
    ints: Vec<&'c mut [i64]>,
    texts: Vec<TextColumn>,
    rows: usize,
}

/// What one part gave: its rows, its lines (line feeds) and its text columns.
struct PartDone {
    rows: usize,
    lines: usize,
    texts: Vec<TextColumn>,
}

impl<'p, 'c> Part<'p, 'c> {
    fn new(
        names: &'p [String],
        plan: &'p [Slot],
        floats: Vec<&'c mut [f64]>,
        ints: Vec<&'c mut [i64]>,
        len: usize,
    ) -> Self {
        // About 140 bytes per row in real files, 8 of them text; the columns grow if short.
        let rows = len / 100 + 1;
        let texts =
            plan.iter().filter(|s| matches!(s, Slot::Text(_))).map(|_| TextColumn::with_capacity(rows, rows * 8));
        Part { names, plan, floats, ints, texts: texts.collect(), rows: 0 }
    }

    /// Sets float column `k` of the current row; `None` if the row is past the part's room
    /// (it cannot be: the room is the part's line count).
    #[inline]
    fn set_float(&mut self, k: usize, v: f64) -> Option<()> {
        *self.floats.get_mut(k)?.get_mut(self.rows)? = v;
        Some(())
    }

    #[inline]
    fn set_int(&mut self, k: usize, v: i64) -> Option<()> {
        *self.ints.get_mut(k)?.get_mut(self.rows)? = v;
        Some(())
    }

    /// Drops text values past the first `rows` (a row the fast path gave up half-way; its
    /// numbers are simply written again).
    fn truncate(&mut self) {
        let rows = self.rows;
        self.texts.iter_mut().for_each(|c| c.truncate(rows));
    }

    /// Parses the rows of `s`; `Err` carries the line number counted from 0 at `s`'s first
    /// line.
    fn parse(mut self, s: &str, reference_only: bool) -> Result<PartDone> {
        let b = s.as_bytes();
        let n = b.len();
        let (mut i, mut line) = (0, 0);
        while i < n {
            let start = i;
            while i < n && is_blank(b[i]) {
                i += 1;
            }
            if i == n {
                break;
            }
            if b[i] == b'\n' {
                i += 1;
                line += 1;
                continue;
            }
            if !reference_only && b[i] != b'#' {
                if let Some(end) = self.fast_row(s, i) {
                    self.rows += 1;
                    i = end + 1;
                    line += 1;
                    continue;
                }
                self.truncate();
            }
            // A comment, or a line the fast path could not take: the reference rules.
            let end = memchr::memchr(b'\n', &b[start..]).map_or(n, |k| start + k);
            self.reference_row(s.get(start..end).unwrap_or_default(), line)?;
            i = end + 1;
            line += 1;
        }
        Ok(PartDone { rows: self.rows, lines: line, texts: self.texts })
    }

    /// One row from `s[i..]` (the first field starts at `i`) in a single pass: `Some(end)`,
    /// the offset of its line feed (or of the end), when every field is plain (numbers as
    /// `fast-float2` reads them, text without odd whitespace at its ends) and the count is
    /// right; `None` otherwise, leaving partial text values for [`Part::truncate`].
    #[inline]
    fn fast_row(&mut self, s: &str, mut i: usize) -> Option<usize> {
        let b = s.as_bytes();
        let n = b.len();
        for (c, slot) in self.plan.iter().enumerate() {
            if c > 0 {
                while i < n && is_blank(b[i]) {
                    i += 1;
                }
            }
            if i >= n || b[i] == b'\n' {
                return None;
            }
            match *slot {
                Slot::Float { k, finite } => {
                    let v = if let Some((v, end)) = fast_decimal(b, i) {
                        i = end;
                        v
                    } else {
                        let (v, len) = fast_float2::parse_partial::<f64, _>(&b[i..]).ok()?;
                        i += len;
                        if (i < n && !b[i].is_ascii_whitespace()) || (finite && !v.is_finite()) {
                            return None;
                        }
                        v
                    };
                    self.set_float(k, v)?;
                }
                Slot::Int(k) => {
                    let (v, end) = fast_int(b, i)?;
                    i = end;
                    self.set_int(k, v)?;
                }
                Slot::Text(k) => {
                    let start = i;
                    while i < n && !b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    // Text that begins or ends with a byte of non-ASCII text or a vertical tab
                    // may begin or end with whitespace that the reference rules trim.
                    let odd = |c: u8| c >= 0x80 || c == 0x0b;
                    if odd(b[start]) || odd(b[i - 1]) {
                        return None;
                    }
                    self.texts.get_mut(k)?.push(s.get(start..i)?);
                }
            }
        }
        while i < n && is_blank(b[i]) {
            i += 1;
        }
        (i == n || b[i] == b'\n').then_some(i)
    }

    /// One line by the reference rules: trimmed; blank and `#` lines skipped; fields split at
    /// ASCII whitespace, as many as header columns; each value as [`float`] or [`integer`]
    /// reads it. `line` is the line's number within the part.
    fn reference_row(&mut self, text: &str, line: usize) -> Result<()> {
        let t = text.trim();
        if t.is_empty() || t.starts_with('#') {
            return Ok(());
        }
        let fields: Vec<&str> = t.split_ascii_whitespace().collect();
        if fields.len() != self.names.len() {
            return Err(Error::Parse {
                line,
                message: format!("expected {} fields as in the header, found {}", self.names.len(), fields.len()),
            });
        }
        let no_room = || Error::Parse { line, message: "more rows than lines in the file".into() };
        let (plan, names) = (self.plan, self.names);
        for ((slot, name), s) in plan.iter().zip(names).zip(fields) {
            match *slot {
                Slot::Float { k, finite } => {
                    let v = float(line, name, s)?;
                    if finite && !v.is_finite() {
                        return Err(Error::Parse { line, message: format!("column {name}: {s:?} is not finite") });
                    }
                    self.set_float(k, v).ok_or_else(no_room)?;
                }
                Slot::Int(k) => self.set_int(k, integer(line, name, s)?).ok_or_else(no_room)?,
                Slot::Text(k) => self.texts.get_mut(k).ok_or_else(no_room)?.push(s),
            }
        }
        self.rows += 1;
        Ok(())
    }
}

/// Cuts each column into one slice per part, of the part's room, in order.
fn slices_per_part<'c, T>(columns: &'c mut [Vec<T>], room: &[usize]) -> Vec<Vec<&'c mut [T]>> {
    let mut per_part: Vec<Vec<&'c mut [T]>> = room.iter().map(|_| Vec::with_capacity(columns.len())).collect();
    for col in columns.iter_mut() {
        let mut rest: &'c mut [T] = col.as_mut_slice();
        for (slices, &r) in per_part.iter_mut().zip(room) {
            let (this, after) = std::mem::take(&mut rest).split_at_mut_checked(r).unwrap_or_default();
            slices.push(this);
            rest = after;
        }
    }
    per_part
}

/// Runs `f` on each part, on its own thread when there are several.
fn on_parts<I: Send, R: Send>(inputs: Vec<I>, f: impl Fn(I) -> R + Sync) -> Option<Vec<R>> {
    if inputs.len() <= 1 {
        return Some(inputs.into_iter().map(f).collect());
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = inputs.into_iter().map(|i| s.spawn(move || f(i))).collect();
        // A thread cannot panic here (no indexing or unwrap on input); if one did, the parse fails.
        handles.into_iter().map(|h| h.join().ok()).collect()
    })
}

/// Parses `text`; `fast` false takes every line by the reference rules (for tests that
/// compare the two).
fn parse(text: &str, fast: bool) -> Result<ResultColumns> {
    let Header { names, line: header_line, body_start } = header(text)?;
    let mut counts = [0usize; 3];
    let plan: Vec<Slot> = names
        .iter()
        .map(|name| {
            let kind = kind_of(name);
            let k = &mut counts[kind as usize];
            *k += 1;
            match kind {
                Kind::Float => Slot::Float { k: *k - 1, finite: name == "MJD" },
                Kind::Int => Slot::Int(*k - 1),
                Kind::Text => Slot::Text(*k - 1),
            }
        })
        .collect();
    let [n_float, n_int, _] = counts;
    let parts = split_lines(text.get(body_start..).unwrap_or_default());
    let thread_failed = || Error::Parse { line: 0, message: "a parser thread failed".into() };
    // Pass 1: the room of each part, its line count (a last line without a line feed counts).
    let room = on_parts(parts.clone(), |p: &str| {
        memchr::memchr_iter(b'\n', p.as_bytes()).count() + usize::from(!p.is_empty() && !p.ends_with('\n'))
    })
    .ok_or_else(thread_failed)?;
    let total: usize = room.iter().sum();
    // Zeroed memory comes fresh from the system, so only the pages written are ever touched,
    // each by the thread that fills it.
    let mut floats: Vec<Vec<f64>> = (0..n_float).map(|_| vec![0.0; total]).collect();
    let mut ints: Vec<Vec<i64>> = (0..n_int).map(|_| vec![0; total]).collect();
    // Pass 2: every part fills its slices.
    let done = {
        let inputs: Vec<_> = parts
            .iter()
            .zip(slices_per_part(&mut floats, &room))
            .zip(slices_per_part(&mut ints, &room))
            .map(|((&p, f), i)| (p, f, i))
            .collect();
        on_parts(inputs, |(p, f, i)| Part::new(&names, &plan, f, i, p.len()).parse(p, !fast))
            .ok_or_else(thread_failed)?
    };
    // The first error in file order, with the part's first line added to its line number;
    // then each part's rows moved up behind the previous part's (only when a part held lines
    // that were not rows: blank lines or comments).
    let mut first_line = header_line + 1;
    let (mut rows, mut start) = (0, 0);
    let mut texts: Option<Vec<TextColumn>> = None;
    for (r, room) in done.into_iter().zip(&room) {
        match r {
            Ok(d) => {
                first_line += d.lines;
                if start != rows {
                    floats.iter_mut().for_each(|c| c.copy_within(start..start + d.rows, rows));
                    ints.iter_mut().for_each(|c| c.copy_within(start..start + d.rows, rows));
                }
                rows += d.rows;
                start += room;
                match &mut texts {
                    None => texts = Some(d.texts),
                    Some(t) => t.iter_mut().zip(d.texts).for_each(|(a, b)| a.append(b)),
                }
            }
            Err(Error::Parse { line, message }) => return Err(Error::Parse { line: first_line + line, message }),
            Err(e) => return Err(e),
        }
    }
    floats.iter_mut().for_each(|c| c.truncate(rows));
    ints.iter_mut().for_each(|c| c.truncate(rows));
    let mut texts = texts
        .unwrap_or_else(|| plan.iter().filter(|s| matches!(s, Slot::Text(_))).map(|_| TextColumn::default()).collect());
    let data = plan
        .iter()
        .map(|slot| match *slot {
            Slot::Float { k, .. } => ColumnData::Float(floats.get_mut(k).map(std::mem::take).unwrap_or_default()),
            Slot::Int(k) => ColumnData::Int(ints.get_mut(k).map(std::mem::take).unwrap_or_default()),
            Slot::Text(k) => ColumnData::Text(texts.get_mut(k).map(std::mem::take).unwrap_or_default()),
        })
        .collect();
    Ok(ResultColumns { names, data, rows })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const HEADER: &str = "###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  apfit mag5sig Sky   Obs";
    const ROW: &str = "59101.519211 -21.740  1.398    -7   10 o  0   7.69  29.86137  30.72672  9408.51  3841.80 2.04 2.02  26.5 -0.421 19.59 20.43 01a59101o0618o";

    /// Both paths give the same columns, bit for bit, or the same error.
    fn same_both_ways(text: &str) -> Result<ResultColumns> {
        let (fast, reference) = (ResultColumns::parse(text), ResultColumns::parse_reference(text));
        match (&fast, &reference) {
            (Ok(a), Ok(b)) => assert!(a.bitwise_eq(b), "{text:?}:\n{a:?}\n{b:?}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text:?}"),
            _ => panic!("fast {fast:?} vs reference {reference:?} for {text:?}"),
        }
        fast
    }

    #[test]
    fn columns_by_kind_in_file_order() {
        let c = same_both_ways(&format!("{HEADER}\n{ROW}\n{ROW}\n")).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.names().len(), 19);
        assert_eq!(c.floats("MJD"), Some(&[59101.519211, 59101.519211][..]));
        assert_eq!(c.floats("m"), Some(&[-21.74, -21.74][..]));
        assert_eq!(c.ints("uJy"), Some(&[-7, -7][..]));
        assert_eq!(c.ints("err"), Some(&[0, 0][..]));
        assert_eq!(c.floats("chi/N"), Some(&[7.69, 7.69][..]));
        assert_eq!(c.texts("Obs").unwrap().get(1), Some("01a59101o0618o"));
        assert_eq!(c.texts("F").unwrap().iter().collect::<Vec<_>>(), ["o", "o"]);
        assert_eq!(c.floats("uJy"), None, "an integer column is not a float column");
        assert!(c.column("PA_DEG").is_none());
        let kinds: Vec<&str> = c
            .iter()
            .map(|(_, d)| match d {
                ColumnData::Float(_) => "f",
                ColumnData::Int(_) => "i",
                ColumnData::Text(_) => "t",
            })
            .collect();
        assert_eq!(kinds.concat(), "fffiitiffffffffffft");
    }

    #[test]
    fn odd_lines_take_the_reference_rules() {
        let odd = [
            // CRLF, tabs, blank and comment lines, a header preceded by a blank line.
            format!("\n{HEADER}\r\n{ROW}\r\n\t\r\n# a comment\n  {ROW}  \n"),
            // Non-ASCII whitespace at the ends of a line is trimmed by the reference rules.
            format!("{HEADER}\n\u{a0}{ROW}\u{a0}\n"),
            format!("{HEADER}\n{ROW}\u{2003}\n\u{0b}\n"),
            // Exponents, signs, nan and inf, "12.0" as an integer.
            format!("{HEADER}\n{}\n", ROW.replace("7.69", "7.69e0").replace("29.86137", "+2.986137E1")),
            format!("{HEADER}\n{}\n", ROW.replace("7.69", "nan").replace("20.43", "-inf")),
            format!("{HEADER}\n{}\n", ROW.replace("   -7", " -7.0").replace("10 o", "+10 o")),
            // Long mantissas and integers past 18 digits.
            format!("{HEADER}\n{}\n", ROW.replace("7.69", "7.6900000000000000000001")),
            format!("{HEADER}\n{}\n", ROW.replace("   -7", " -1234567890123456789")),
            // No final line feed.
            format!("{HEADER}\n{ROW}"),
        ];
        for text in &odd {
            let r = same_both_ways(text);
            assert!(r.is_ok() || text.contains("-1234567890123456789"), "{text:?}: {r:?}");
        }
        let c = same_both_ways(&odd[0]).unwrap();
        assert_eq!(c.len(), 2);
        let c = same_both_ways(&odd[1]).unwrap();
        assert_eq!(c.texts("Obs").unwrap().get(0), Some("01a59101o0618o"), "NBSP trimmed as before");
        let c = same_both_ways(&odd[5]).unwrap();
        assert_eq!(c.ints("uJy"), Some(&[-7][..]));
        assert_eq!(c.ints("duJy"), Some(&[10][..]));
    }

    #[test]
    fn bad_rows_report_their_line_as_before() {
        let cases = [
            (
                format!("{HEADER}\n{ROW}\n{}\n", ROW.replace("7.69", "7.6x")),
                3,
                "column chi/N: \"7.6x\" is not a number",
            ),
            (format!("{HEADER}\n\n{}\n", ROW.replace("   -7", " 1.5")), 3, "column uJy: \"1.5\" is not an integer"),
            (format!("{HEADER}\n{ROW} extra\n"), 2, "expected 19 fields as in the header, found 20"),
            (format!("{HEADER}\n{ROW}\n59101.5 17.0\n"), 3, "expected 19 fields as in the header, found 2"),
            (format!("{HEADER}\n{}\n", ROW.replace("59101.519211", "inf")), 2, "column MJD: \"inf\" is not finite"),
            (format!("{HEADER}\n{}\n", ROW.replace("59101.519211", "1e")), 2, "column MJD: \"1e\" is not a number"),
        ];
        for (text, line, message) in cases {
            match same_both_ways(&text) {
                Err(Error::Parse { line: l, message: m }) => {
                    assert_eq!((l, m.as_str()), (line, message), "{text:?}");
                }
                other => panic!("{other:?} for {text:?}"),
            }
        }
    }

    #[test]
    fn parts_keep_row_order_and_true_line_numbers() {
        let row = |i: usize| ROW.replacen("59101", &(50000 + i).to_string(), 1);
        let n = (2 * PARALLEL_MIN_BYTES) / ROW.len() + 10;
        let mut text = format!("\n{HEADER}\n");
        for i in 0..n {
            text.push_str(&row(i));
            text.push('\n');
            if i % 1000 == 0 {
                text.push_str("# a comment line\n\n");
            }
        }
        assert!(split_lines(&text).len() > 1 || std::thread::available_parallelism().map_or(1, |n| n.get()) == 1);
        let c = same_both_ways(&text).unwrap();
        assert_eq!(c.len(), n);
        let mjd = c.floats("MJD").unwrap();
        assert!(mjd.iter().enumerate().all(|(i, &v)| v == (50000 + i) as f64 + 0.519211));
        let obs = c.texts("Obs").unwrap();
        assert_eq!(obs.len(), n);
        assert!(obs.iter().all(|o| o == "01a59101o0618o"));
        // A bad value in the last row is reported at its own line: 1 blank + header + rows +
        // two extra lines per 1000 rows.
        let comments = n.div_ceil(1000);
        text.push_str(&row(n).replace("7.69", "x"));
        let err = same_both_ways(&text).unwrap_err();
        assert!(matches!(err, Error::Parse { line, .. } if line == n + 3 + 2 * comments), "{err}");
    }

    #[test]
    fn fast_decimal_is_exact_or_declines() {
        for t in [
            "0",
            "-0.000",
            "0.1",
            "59101.519211",
            "-21.740",
            "1.398",
            ".5",
            "5.",
            "+5",
            "123456789012345",
            "0.00000000000001",
            "99999.9999999999",
            "1.79769313486231",
            "-9.99999999999999",
        ] {
            let (v, end) = fast_decimal(t.as_bytes(), 0).unwrap_or_else(|| panic!("{t} declined"));
            assert_eq!(end, t.len());
            assert_eq!(v.to_bits(), t.parse::<f64>().unwrap().to_bits(), "{t}");
        }
        // 16 digits, an exponent, two dots, no digits, text after: left to the general parsers.
        for t in ["1234567890123456", "0.0000000000000001", "1e5", "1.2.3", ".", "-", "", "1.5x", "nan", "inf"] {
            assert_eq!(fast_decimal(t.as_bytes(), 0), None, "{t}");
        }
        assert_eq!(fast_decimal(b"x -7.25 ", 2), Some((-7.25, 7)));
    }

    #[test]
    fn fast_int_reads_plain_integers_only() {
        assert_eq!(fast_int(b"-7 ", 0), Some((-7, 2)));
        assert_eq!(fast_int(b"+10\n", 0), Some((10, 3)));
        assert_eq!(fast_int(b"x 123456789012345678", 2), Some((123_456_789_012_345_678, 20)));
        assert_eq!(fast_int(b"-999999999999999999", 0), Some((-999_999_999_999_999_999, 19)));
        for bad in [&b"1234567890123456789"[..], b"9999999999999999999", b"-", b"", b"1.0", b"12a", b"--1"] {
            assert_eq!(fast_int(bad, 0), None, "{:?}", std::str::from_utf8(bad));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Any mix of tokens and separators: the fast path agrees with the reference rules.
        #[test]
        fn fast_path_agrees_with_the_reference_rules(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    (proptest::prop_oneof![
                        proptest::strategy::Just("59101.519211".to_string()),
                        proptest::strategy::Just("-7".to_string()),
                        proptest::strategy::Just("o".to_string()),
                        "[-+]?[0-9]{0,20}(\\.[0-9]{0,20})?([eE][-+]?[0-9]{0,4})?",
                        "(?i)[-+]?(nan|inf|infinity)",
                        "\\PC{0,3}",
                    ], "[ \t\r\u{0b}\u{0c}\u{a0}]{1,2}"),
                    17..21),
                0..6),
        ) {
            let mut text = format!("{HEADER}\n");
            for r in &rows {
                for (tok, sep) in r {
                    text.push_str(tok);
                    text.push_str(sep);
                }
                text.push('\n');
            }
            let _ = same_both_ways(&text);
        }

        /// The plain-decimal path, when it takes a token, reads it as the standard parser does,
        /// to the bit (sign of zero included), and takes every plain decimal of up to 15 digits.
        #[test]
        fn fast_decimal_is_the_standard_parser(t in "[-+]?[0-9]{0,17}(\\.[0-9]{0,17})?") {
            let digits = t.bytes().filter(u8::is_ascii_digit).count();
            match fast_decimal(t.as_bytes(), 0) {
                Some((v, end)) => {
                    proptest::prop_assert_eq!(end, t.len());
                    proptest::prop_assert_eq!(Some(v.to_bits()), t.parse::<f64>().ok().map(f64::to_bits), "{}", t);
                }
                None => proptest::prop_assert!(digits == 0 || digits > 15, "{} declined", t),
            }
        }

        /// fast-float2 reads what the standard parser reads, to the bit, and refuses what it
        /// refuses.
        #[test]
        fn fast_float2_is_the_standard_parser(
            t in proptest::prop_oneof![
                "[-+]?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][-+]?[0-9]{0,5})?",
                "(?i)[-+]?(nan|inf|infinity|in|na|infinit)",
                "[-+.eE0-9a-z_]{0,6}",
            ],
            v in proptest::num::f64::ANY,
        ) {
            for t in [t, v.to_string(), format!("{v:e}"), format!("{v:.3}")] {
                let ours = fast_float2::parse::<f64, _>(&t).ok();
                let std = t.parse::<f64>().ok();
                proptest::prop_assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits), "{:?}", t);
            }
        }

        /// Real rows with a few fields replaced by number-like tokens: most still parse, and
        /// the fast path agrees with the reference rules on all.
        #[test]
        fn fast_path_agrees_on_near_real_rows(
            edits in proptest::collection::vec(
                (0usize..19, "[-+]?[0-9]{0,19}(\\.[0-9]{0,19})?([eE][-+]?[0-9]{1,3})?"), 0..4),
            rows in 1usize..5,
        ) {
            let mut fields: Vec<String> = ROW.split_ascii_whitespace().map(str::to_string).collect();
            for (i, t) in edits {
                fields[i] = t;
            }
            let row = fields.join(" ");
            let text = format!("{HEADER}\n{}", format!("{row}\n").repeat(rows));
            let _ = same_both_ways(&text);
        }
    }
}
