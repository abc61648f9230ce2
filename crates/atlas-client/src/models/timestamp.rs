//! [`Timestamp`]: a date-time as the server wrote it, and parsing the server's date-time
//! shapes.

use super::*;

/// A date-time as the server wrote it (`2025-09-13T00:19:14Z`, or naive
/// `2020-09-15T00:00:00`, with or without fractional seconds). The text is kept as is;
/// [`Timestamp::utc`] interprets it (naive values are UTC, as the server's `TIME_ZONE`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub String);

impl Timestamp {
    /// The text as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The instant in UTC, when the text is an ISO 8601 date-time or date.
    pub fn utc(&self) -> Option<DateTime<Utc>> {
        parse_server_datetime(&self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses the server's date-times: RFC 3339 (`Z` or an offset), naive ISO (UTC), or a date.
pub fn parse_server_datetime(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(n.and_utc());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| n.and_utc())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_in_all_server_shapes() {
        let z = Timestamp("2025-09-13T00:19:14Z".into()).utc().unwrap();
        assert_eq!(z.to_rfc3339(), "2025-09-13T00:19:14+00:00");
        let naive = Timestamp("2020-09-15T00:00:00".into()).utc().unwrap();
        assert_eq!(naive.to_rfc3339(), "2020-09-15T00:00:00+00:00");
        let frac = Timestamp("2024-02-22T10:11:12.345678".into()).utc().unwrap();
        assert_eq!(frac.timestamp_subsec_micros(), 345_678);
        assert!(Timestamp("2024-02-22T10:11:12.5Z".into()).utc().is_some());
        assert!(Timestamp("2024-02-22".into()).utc().is_some());
        assert!(Timestamp("yesterday".into()).utc().is_none());
    }
}
