//! The Parquet dataset: `<dir>/broker=<name>/part-<run>-<seq>.parquet`, hive-partitioned by
//! broker, one schema for every broker.
//!
//! A part file's columns are the light-curve frame's ([`broker_core::frame`]) without
//! `broker` (the partition gives it), plus the harvest's own:
//!
//! | column | dtype | meaning |
//! |---|---|---|
//! | `target_key` | String | the harvested target ([`super::target_key`]), e.g. `ztf:ZTF18abcdefg` |
//! | `survey` | String | which survey took the point |
//! | `object_id` | String | the object's id at that broker |
//! | `object_id_int` | Int64 (nullable) | the same id as an integer when it is one (ATLAS, LSST ids) |
//! | `mjd` | Float64 | Modified Julian Date |
//! | `band` | String | band name (`ztfg`, `atlaso`, ...) |
//! | `mag`, `mag_err` | Float64 (nullable) | AB magnitude and error |
//! | `flux_ujy`, `flux_err_ujy` | Float64 (nullable) | flux and error in µJy |
//! | `limiting_mag` | Float64 (nullable) | limiting AB magnitude |
//! | `is_detection` | Boolean | detection or limit |
//! | `target_ra`, `target_dec` | Float64 (nullable) | the target's position, when known |
//! | `harvest_run` | Int64 | the run that wrote the row |
//! | `broker` | String (partition) | from the directory name `broker=<name>` |
//!
//! Columns the light-curve frame gains later appear in every part file in the frame's
//! order, after `is_detection`. Every column has a concrete dtype, also when all its values
//! are null.

use std::collections::HashSet;
use std::path::Path;

use broker_core::frame::lightcurve_to_dataframe;
use broker_core::polars::prelude::*;
use broker_core::{Lightcurve, SkyPosition};

use super::HarvestError;

/// Polars' I/O crate, whose `parquet::read::ParquetReader` reads a part file back.
pub use polars_io;

/// The columns the harvest adds to the light-curve frame.
pub const HARVEST_COLUMNS: [&str; 5] = ["target_key", "object_id_int", "target_ra", "target_dec", "harvest_run"];

fn pl(e: PolarsError) -> HarvestError {
    HarvestError::Dataset(e.to_string())
}

/// One target's points for a part file.
#[derive(Debug)]
pub struct PartRows<'a> {
    /// The target's key.
    pub key: &'a str,
    /// The target's position.
    pub position: Option<SkyPosition>,
    /// The points (all from the part's broker).
    pub lightcurve: &'a Lightcurve,
}

/// The DataFrame of one part file (see the module docs for the columns).
pub fn part_frame(rows: &[PartRows<'_>], run_id: i64) -> Result<DataFrame, HarvestError> {
    let n: usize = rows.iter().map(|r| r.lightcurve.len()).sum();
    let mut points = Vec::with_capacity(n);
    let mut keys: Vec<&str> = Vec::with_capacity(n);
    let mut ras: Vec<Option<f64>> = Vec::with_capacity(n);
    let mut decs: Vec<Option<f64>> = Vec::with_capacity(n);
    for r in rows {
        for p in &r.lightcurve.points {
            points.push(p.clone());
            keys.push(r.key);
            ras.push(r.position.map(|p| p.ra()));
            decs.push(r.position.map(|p| p.dec()));
        }
    }
    let ids: Vec<Option<i64>> = points.iter().map(|p| p.object_id.trim().parse::<i64>().ok()).collect();
    let lc = Lightcurve::from_points(points);
    let mut df = lightcurve_to_dataframe(&lc).map_err(|e| HarvestError::Dataset(e.to_string()))?;
    df = df.drop("broker").map_err(pl)?;
    df.insert_column(0, Column::new("target_key".into(), keys)).map_err(pl)?;
    let after_id = df.get_column_index("object_id").map(|i| i + 1).unwrap_or(df.width());
    df.insert_column(after_id, Column::new("object_id_int".into(), ids)).map_err(pl)?;
    df.with_column(Column::new("target_ra".into(), ras)).map_err(pl)?;
    df.with_column(Column::new("target_dec".into(), decs)).map_err(pl)?;
    df.with_column(Column::new("harvest_run".into(), vec![run_id; n])).map_err(pl)?;
    Ok(df)
}

/// The schema every part file has (names and dtypes, in order).
pub fn dataset_schema() -> Result<Schema, HarvestError> {
    Ok(part_frame(&[], 0)?.schema().as_ref().clone())
}

/// Writes a part file safely: to a hidden temporary name, flushed to disk, then renamed into
/// place (and the directory flushed). Returns its path relative to `dir`.
pub(crate) fn write_part(dir: &Path, broker: &str, name: &str, df: &mut DataFrame) -> Result<String, HarvestError> {
    use polars_io::parquet::write::ParquetWriter;
    let sub = format!("broker={broker}");
    let part_dir = dir.join(&sub);
    let io = |what: &str, p: &Path, e: std::io::Error| HarvestError::Io(format!("{what} {}: {e}", p.display()));
    std::fs::create_dir_all(&part_dir).map_err(|e| io("cannot create", &part_dir, e))?;
    let tmp = part_dir.join(format!(".{name}.tmp"));
    let fin = part_dir.join(name);
    {
        let mut f = std::fs::File::create(&tmp).map_err(|e| io("cannot create", &tmp, e))?;
        ParquetWriter::new(&mut f).finish(df).map_err(pl)?;
        f.sync_all().map_err(|e| io("cannot flush", &tmp, e))?;
    }
    std::fs::rename(&tmp, &fin).map_err(|e| io("cannot rename", &tmp, e))?;
    if let Ok(d) = std::fs::File::open(&part_dir) {
        let _ = d.sync_all();
    }
    Ok(format!("{sub}/{name}"))
}

/// What [`cleanup`] found.
#[derive(Debug, Default)]
pub(crate) struct Cleanup {
    /// Part files on disk the store does not list (written by a run killed before its
    /// commit): deleted.
    pub orphans: Vec<String>,
    /// Part files the store lists that are not on disk.
    pub missing: Vec<String>,
}

/// Deletes temporary files and part files the store does not list; reports listed files
/// that are gone.
pub(crate) fn cleanup(dir: &Path, listed: &[String]) -> Result<Cleanup, HarvestError> {
    let mut out = Cleanup::default();
    let listed: HashSet<&str> = listed.iter().map(String::as_str).collect();
    let mut on_disk = HashSet::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(HarvestError::Io(format!("cannot read {}: {e}", dir.display()))),
    };
    for sub in entries.flatten() {
        let name = sub.file_name().to_string_lossy().to_string();
        if !name.starts_with("broker=") || !sub.path().is_dir() {
            continue;
        }
        let files = std::fs::read_dir(sub.path())
            .map_err(|e| HarvestError::Io(format!("cannot read {}: {e}", sub.path().display())))?;
        for f in files.flatten() {
            let fname = f.file_name().to_string_lossy().to_string();
            let rel = format!("{name}/{fname}");
            let is_tmp = fname.starts_with('.') && fname.ends_with(".tmp");
            let is_part = fname.starts_with("part-") && fname.ends_with(".parquet");
            if is_tmp || (is_part && !listed.contains(rel.as_str())) {
                std::fs::remove_file(f.path())
                    .map_err(|e| HarvestError::Io(format!("cannot delete {}: {e}", f.path().display())))?;
                if is_part {
                    out.orphans.push(rel);
                }
            } else if is_part {
                on_disk.insert(rel);
            }
        }
    }
    out.missing = listed.iter().filter(|l| !on_disk.contains(**l)).map(|l| l.to_string()).collect();
    out.missing.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::{Band, PhotometryPoint};

    #[test]
    fn one_schema_with_typed_nulls() {
        let schema = dataset_schema().unwrap();
        let names: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
        assert_eq!(names[0], "target_key");
        assert!(!names.contains(&"broker"));
        for c in HARVEST_COLUMNS {
            assert!(names.contains(&c), "{c} in {names:?}");
        }
        assert!(schema.iter_values().all(|d| d != &DataType::Null), "{schema:?}");
        // ATLAS: integer ids; ALeRCE: string ids; a target without position: null Float64.
        let atlas = Lightcurve::from_points(vec![PhotometryPoint::limit(
            "atlas",
            "atlas",
            "1121846111091548800",
            60000.0,
            Band::AtlasO,
            19.0,
        )]);
        let alerce = Lightcurve::from_points(vec![PhotometryPoint::from_mag(
            "alerce",
            "ztf",
            "ZTF18abcdefg",
            60001.0,
            Band::ZtfG,
            18.0,
            None,
        )]);
        let df = part_frame(
            &[
                PartRows { key: "atlas:1121846111091548800", position: None, lightcurve: &atlas },
                PartRows { key: "ztf:ZTF18abcdefg", position: SkyPosition::new(1.0, 2.0).ok(), lightcurve: &alerce },
            ],
            7,
        )
        .unwrap();
        assert_eq!(df.schema().as_ref(), &schema);
        let ids = df.column("object_id_int").unwrap().i64().unwrap();
        assert_eq!(ids.get(0), Some(1_121_846_111_091_548_800));
        assert_eq!(ids.get(1), None);
        assert_eq!(df.column("target_ra").unwrap().f64().unwrap().get(0), None);
        assert_eq!(df.column("harvest_run").unwrap().i64().unwrap().get(1), Some(7));
    }

    #[test]
    fn cleanup_deletes_unlisted_parts_and_temporaries() {
        let dir = std::env::temp_dir().join(format!("ab-cleanup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let lc = Lightcurve::from_points(vec![PhotometryPoint::limit("a", "s", "x", 1.0, Band::ZtfG, 19.0)]);
        let mut df = part_frame(&[PartRows { key: "k", position: None, lightcurve: &lc }], 1).unwrap();
        let kept = write_part(&dir, "alerce", "part-1-1.parquet", &mut df).unwrap();
        let orphan = write_part(&dir, "alerce", "part-1-2.parquet", &mut df).unwrap();
        std::fs::write(dir.join("broker=alerce/.part-1-3.parquet.tmp"), b"half").unwrap();
        let c = cleanup(&dir, &[kept.clone(), "broker=atlas/part-9-9.parquet".into()]).unwrap();
        assert_eq!(c.orphans, vec![orphan.clone()]);
        assert_eq!(c.missing, vec!["broker=atlas/part-9-9.parquet".to_string()]);
        assert!(dir.join(&kept).exists());
        assert!(!dir.join(&orphan).exists());
        assert!(!dir.join("broker=alerce/.part-1-3.parquet.tmp").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
