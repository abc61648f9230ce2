//! The checkpoint and the response cache: one SQLite file, `_harvest.sqlite`, inside the
//! dataset directory (Spark, Hive and DataFusion skip names starting with `_`).
//!
//! Tables:
//!
//! | table | one row per | what |
//! |---|---|---|
//! | `runs` | invocation | start and end time |
//! | `inputs` | distinct input | the target key it resolved to, or why it did not |
//! | `targets` | target key | the target's ids and position |
//! | `parts` | Parquet part file | its path, broker, rows, run |
//! | `fetches` | (target key, broker) | `done` (with rows and part), `not_found` or `failed` (with the reason), attempts |
//! | `cache` | request key | the broker's answer (points as JSON, or not found) and when it was fetched |
//! | `reports` | run | the completeness report as JSON |
//!
//! The store is opened in SQLite's exclusive locking mode: a second harvest on the same
//! directory fails at once instead of interleaving with the first.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

use super::HarvestError;

/// The file name of the store inside the dataset directory.
pub const STORE_FILE: &str = "_harvest.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY AUTOINCREMENT, started_at REAL NOT NULL, finished_at REAL);
CREATE TABLE IF NOT EXISTS inputs(query TEXT PRIMARY KEY, target_key TEXT, error TEXT, resolved_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS targets(key TEXT PRIMARY KEY, target TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parts(file TEXT PRIMARY KEY, broker TEXT NOT NULL, run_id INTEGER NOT NULL,
    rows INTEGER NOT NULL, targets INTEGER NOT NULL, written_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS fetches(target_key TEXT NOT NULL, broker TEXT NOT NULL, status TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0, part TEXT, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    run_id INTEGER NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY(target_key, broker));
CREATE INDEX IF NOT EXISTS fetches_part ON fetches(part);
CREATE TABLE IF NOT EXISTS cache(key TEXT PRIMARY KEY, broker TEXT NOT NULL, status TEXT NOT NULL,
    body TEXT NOT NULL, fetched_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS reports(run_id INTEGER PRIMARY KEY, report TEXT NOT NULL);
";

/// What became of one (target, broker) pair.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchStatus {
    /// The broker's points are in the dataset (`rows` of them; 0 when it had none).
    Done {
        /// Rows written.
        rows: u64,
    },
    /// The broker does not know the target.
    NotFound(String),
    /// The request failed after retries.
    Failed(String),
}

/// A cached answer.
#[derive(Debug, Clone, PartialEq)]
pub enum CachedAnswer {
    /// The points, as JSON (`Vec<PhotometryPoint>`).
    Points(String),
    /// The broker said it does not know the target.
    NotFound(String),
}

pub(crate) fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn db(e: rusqlite::Error) -> HarvestError {
    HarvestError::Store(e.to_string())
}

/// The checkpoint store of one dataset directory.
pub struct Store {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store in `dir` and takes the exclusive lock.
    pub fn open(dir: &Path) -> Result<Store, HarvestError> {
        let path = dir.join(STORE_FILE);
        let conn = Connection::open(&path).map_err(db)?;
        conn.busy_timeout(Duration::from_secs(2)).map_err(db)?;
        let busy = |e: rusqlite::Error| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
            {
                HarvestError::Busy(path.display().to_string())
            }
            e => db(e),
        };
        conn.execute_batch("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(busy)?;
        // The first write takes the exclusive lock and keeps it until the connection closes.
        conn.execute_batch(&format!("BEGIN EXCLUSIVE; {SCHEMA} COMMIT;")).map_err(busy)?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves a consistent database (every change is
        // transactional), so a poisoned lock is taken over.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The id the next [`Store::start_run`] will take (nothing is written: a dry run leaves
    /// no run behind).
    pub fn next_run_id(&self) -> Result<i64, HarvestError> {
        self.conn().query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM runs", [], |r| r.get(0)).map_err(db)
    }

    /// Starts a run; returns its id.
    pub fn start_run(&self) -> Result<i64, HarvestError> {
        let c = self.conn();
        c.execute("INSERT INTO runs(started_at) VALUES (?1)", params![now_secs()]).map_err(db)?;
        Ok(c.last_insert_rowid())
    }

    /// Ends a run, with its report.
    pub fn finish_run(&self, run_id: i64, report_json: &str) -> Result<(), HarvestError> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(db)?;
        tx.execute("UPDATE runs SET finished_at = ?1 WHERE id = ?2", params![now_secs(), run_id]).map_err(db)?;
        tx.execute("INSERT OR REPLACE INTO reports(run_id, report) VALUES (?1, ?2)", params![run_id, report_json])
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The report of a run, as JSON.
    pub fn report_json(&self, run_id: i64) -> Result<Option<String>, HarvestError> {
        self.conn()
            .query_row("SELECT report FROM reports WHERE run_id = ?1", params![run_id], |r| r.get(0))
            .optional()
            .map_err(db)
    }

    /// What an input resolved to before: `Some(Ok(key))`, `Some(Err(reason))`, or `None`.
    pub fn input(&self, query: &str) -> Result<Option<Result<String, String>>, HarvestError> {
        let row: Option<(Option<String>, Option<String>)> = self
            .conn()
            .query_row("SELECT target_key, error FROM inputs WHERE query = ?1", params![query], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(db)?;
        Ok(row.map(|(k, e)| match k {
            Some(k) => Ok(k),
            None => Err(e.unwrap_or_default()),
        }))
    }

    /// Records what an input resolved to (and the target).
    pub fn record_input(
        &self,
        query: &str,
        resolved: Result<(&str, &str), &str>,
        persist_error: bool,
    ) -> Result<(), HarvestError> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(db)?;
        match resolved {
            Ok((key, target_json)) => {
                tx.execute(
                    "INSERT OR REPLACE INTO inputs(query, target_key, error, resolved_at) VALUES (?1, ?2, NULL, ?3)",
                    params![query, key, now_secs()],
                )
                .map_err(db)?;
                tx.execute("INSERT OR IGNORE INTO targets(key, target) VALUES (?1, ?2)", params![key, target_json])
                    .map_err(db)?;
            }
            Err(reason) if persist_error => {
                tx.execute(
                    "INSERT OR REPLACE INTO inputs(query, target_key, error, resolved_at) VALUES (?1, NULL, ?2, ?3)",
                    params![query, reason, now_secs()],
                )
                .map_err(db)?;
            }
            Err(_) => {}
        }
        tx.commit().map_err(db)
    }

    /// The stored target of a key (JSON).
    pub fn target_json(&self, key: &str) -> Result<Option<String>, HarvestError> {
        self.conn()
            .query_row("SELECT target FROM targets WHERE key = ?1", params![key], |r| r.get(0))
            .optional()
            .map_err(db)
    }

    /// The (target key, broker) pairs that need no more work: done or not found.
    pub fn settled(&self) -> Result<std::collections::HashSet<(String, String)>, HarvestError> {
        let c = self.conn();
        let mut st =
            c.prepare("SELECT target_key, broker FROM fetches WHERE status IN ('done', 'not_found')").map_err(db)?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    /// Every fetch row: (target key, broker, status).
    pub fn fetch_rows(&self) -> Result<Vec<(String, String, FetchStatus)>, HarvestError> {
        let c = self.conn();
        let mut st = c.prepare("SELECT target_key, broker, status, rows, reason FROM fetches").map_err(db)?;
        let rows = st
            .query_map([], |r| {
                let status: String = r.get(2)?;
                let rows: i64 = r.get(3)?;
                let reason: Option<String> = r.get(4)?;
                let s = match status.as_str() {
                    "done" => FetchStatus::Done { rows: u64::try_from(rows).unwrap_or(0) },
                    "not_found" => FetchStatus::NotFound(reason.unwrap_or_default()),
                    _ => FetchStatus::Failed(reason.unwrap_or_default()),
                };
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, s))
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    /// The part files the store lists (paths relative to the dataset directory).
    pub fn part_files(&self) -> Result<Vec<String>, HarvestError> {
        let c = self.conn();
        let mut st = c.prepare("SELECT file FROM parts").map_err(db)?;
        let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    /// Forgets a part whose file is gone: its targets become pending again.
    pub fn forget_part(&self, file: &str) -> Result<usize, HarvestError> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(db)?;
        let n = tx.execute("DELETE FROM fetches WHERE part = ?1", params![file]).map_err(db)?;
        tx.execute("DELETE FROM parts WHERE file = ?1", params![file]).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(n)
    }

    /// Commits one batch in one transaction: the part file (when rows were written) and the
    /// status of each of its (target, broker) pairs.
    pub fn commit_batch(
        &self,
        run_id: i64,
        broker: &str,
        part: Option<(&str, u64)>,
        outcomes: &[(String, FetchStatus)],
    ) -> Result<(), HarvestError> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(db)?;
        let now = now_secs();
        if let Some((file, rows)) = part {
            let with_rows = outcomes.iter().filter(|(_, s)| matches!(s, FetchStatus::Done { rows } if *rows > 0));
            tx.execute(
                "INSERT INTO parts(file, broker, run_id, rows, targets, written_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![file, broker, run_id, rows as i64, with_rows.count() as i64, now],
            )
            .map_err(db)?;
        }
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO fetches(target_key, broker, status, rows, part, reason, attempts, run_id, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8)
                     ON CONFLICT(target_key, broker) DO UPDATE SET status = excluded.status, rows = excluded.rows,
                       part = excluded.part, reason = excluded.reason, attempts = fetches.attempts + 1,
                       run_id = excluded.run_id, updated_at = excluded.updated_at",
                )
                .map_err(db)?;
            for (key, status) in outcomes {
                let (s, rows, reason, file) = match status {
                    FetchStatus::Done { rows } => {
                        ("done", *rows as i64, None, if *rows > 0 { part.map(|p| p.0) } else { None })
                    }
                    FetchStatus::NotFound(r) => ("not_found", 0, Some(r.as_str()), None),
                    FetchStatus::Failed(r) => ("failed", 0, Some(r.as_str()), None),
                };
                st.execute(params![key, broker, s, rows, file, reason, run_id, now]).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    /// A cached answer younger than `max_age`.
    pub fn cached(&self, key: &str, max_age: Duration) -> Result<Option<CachedAnswer>, HarvestError> {
        if max_age.is_zero() {
            return Ok(None);
        }
        let oldest = now_secs() - max_age.as_secs_f64();
        let row: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT status, body FROM cache WHERE key = ?1 AND fetched_at >= ?2",
                params![key, oldest],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)?;
        Ok(row.map(|(s, b)| if s == "not_found" { CachedAnswer::NotFound(b) } else { CachedAnswer::Points(b) }))
    }

    /// Keeps answers in the cache (one transaction).
    pub fn put_cache(&self, broker: &str, entries: &[(String, CachedAnswer)]) -> Result<(), HarvestError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut c = self.conn();
        let tx = c.transaction().map_err(db)?;
        let now = now_secs();
        {
            let mut st = tx
                .prepare(
                    "INSERT OR REPLACE INTO cache(key, broker, status, body, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(db)?;
            for (key, answer) in entries {
                let (s, body) = match answer {
                    CachedAnswer::Points(b) => ("found", b),
                    CachedAnswer::NotFound(b) => ("not_found", b),
                };
                st.execute(params![key, broker, s, body, now]).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    /// Number of cache entries.
    pub fn cache_len(&self) -> Result<u64, HarvestError> {
        let n: i64 = self.conn().query_row("SELECT COUNT(*) FROM cache", [], |r| r.get(0)).map_err(db)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_harvest_on_the_same_directory_is_refused() {
        let dir = std::env::temp_dir().join(format!("ab-store-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let first = Store::open(&dir).unwrap();
        let second = Store::open(&dir).unwrap_err();
        assert!(matches!(second, HarvestError::Busy(_)), "{second:?}");
        drop(first);
        let again = Store::open(&dir).unwrap();
        assert_eq!(again.next_run_id().unwrap(), 1);
        assert_eq!(again.next_run_id().unwrap(), 1, "asking for the next id writes no run");
        let run = again.start_run().unwrap();
        assert_eq!((run, again.next_run_id().unwrap()), (1, 2));
        again
            .commit_batch(
                run,
                "alerce",
                Some(("broker=alerce/part-1.parquet", 3)),
                &[("ztf:A".into(), FetchStatus::Done { rows: 3 }), ("ztf:B".into(), FetchStatus::Failed("503".into()))],
            )
            .unwrap();
        assert_eq!(again.settled().unwrap().len(), 1);
        again.commit_batch(run, "alerce", None, &[("ztf:B".into(), FetchStatus::NotFound("no".into()))]).unwrap();
        assert_eq!(again.settled().unwrap().len(), 2);
        assert_eq!(again.forget_part("broker=alerce/part-1.parquet").unwrap(), 1);
        assert_eq!(again.settled().unwrap().len(), 1);
        again.put_cache("alerce", &[("k".into(), CachedAnswer::NotFound("gone".into()))]).unwrap();
        assert_eq!(again.cached("k", Duration::from_secs(60)).unwrap(), Some(CachedAnswer::NotFound("gone".into())));
        assert_eq!(again.cached("k", Duration::ZERO).unwrap(), None);
        drop(again);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
