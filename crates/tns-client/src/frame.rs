//! DataFrames (feature `polars`): the public-objects rows with the file's column names.
//!
//! | column | dtype |
//! |---|---|
//! | `objid` `typeid` `reporting_groupid` `source_groupid` | i64 |
//! | `ra` `declination` `redshift` `discoverymag` | f64 |
//! | `name_prefix` `name` `type` `reporting_group` `source_group` `discoverydate` `discmagfilter` `filter` `reporters` `time_received` `internal_names` `creationdate` `lastmodified` | str |

use broker_core::frame::polars_error;
use polars::prelude::*;

use crate::bulk::{PublicObjectRow, PublicObjects};
use crate::error::{Error, Result};

type Row = PublicObjectRow;

/// How a column is read from a row.
enum Get {
    Int(fn(&Row) -> Option<u64>),
    Float(fn(&Row) -> Option<f64>),
    Text(for<'a> fn(&'a Row) -> Option<&'a str>),
}

/// A column being filled.
enum Build {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Text(StringChunkedBuilder),
}

/// The columns in the file's order.
const SPEC: [(&str, Get); 21] = [
    ("objid", Get::Int(|x| Some(x.objid))),
    ("name_prefix", Get::Text(|x| x.name_prefix.as_deref())),
    ("name", Get::Text(|x| Some(x.name.as_str()))),
    ("ra", Get::Float(|x| x.ra)),
    ("declination", Get::Float(|x| x.declination)),
    ("redshift", Get::Float(|x| x.redshift)),
    ("typeid", Get::Int(|x| x.typeid)),
    ("type", Get::Text(|x| x.r#type.as_deref())),
    ("reporting_groupid", Get::Int(|x| x.reporting_groupid)),
    ("reporting_group", Get::Text(|x| x.reporting_group.as_deref())),
    ("source_groupid", Get::Int(|x| x.source_groupid)),
    ("source_group", Get::Text(|x| x.source_group.as_deref())),
    ("discoverydate", Get::Text(|x| x.discoverydate.as_deref())),
    ("discoverymag", Get::Float(|x| x.discoverymag)),
    ("discmagfilter", Get::Text(|x| x.discmagfilter.as_deref())),
    ("filter", Get::Text(|x| x.filter.as_deref())),
    ("reporters", Get::Text(|x| x.reporters.as_deref())),
    ("time_received", Get::Text(|x| x.time_received.as_deref())),
    ("internal_names", Get::Text(|x| x.internal_names.as_deref())),
    ("creationdate", Get::Text(|x| x.creationdate.as_deref())),
    ("lastmodified", Get::Text(|x| x.lastmodified.as_deref())),
];

/// The rows as a DataFrame (see the module table); extra columns are left out.
///
/// One pass over the rows fills every column (text copied straight from the rows' strings).
pub fn public_objects(objects: &PublicObjects) -> Result<DataFrame> {
    let rows = &objects.rows;
    let n = rows.len();
    let mut builds: Vec<Build> = SPEC
        .iter()
        .map(|(name, get)| match get {
            Get::Int(_) => Build::Int(Vec::with_capacity(n)),
            Get::Float(_) => Build::Float(Vec::with_capacity(n)),
            Get::Text(_) => Build::Text(StringChunkedBuilder::new((*name).into(), n)),
        })
        .collect();
    for x in rows {
        for (b, (_, get)) in builds.iter_mut().zip(SPEC.iter()) {
            match (b, get) {
                (Build::Int(v), Get::Int(g)) => v.push(g(x).and_then(|v| i64::try_from(v).ok())),
                (Build::Float(v), Get::Float(g)) => v.push(g(x)),
                (Build::Text(v), Get::Text(g)) => v.append_option(g(x)),
                _ => {}
            }
        }
    }
    let cols = builds
        .into_iter()
        .zip(SPEC.iter())
        .map(|(b, (name, _))| match b {
            Build::Int(v) => Column::new((*name).into(), v),
            Build::Float(v) => Column::new((*name).into(), v),
            Build::Text(v) => v.finish().into_column(),
        })
        .collect();
    DataFrame::new(n, cols).map_err(|e| Error::Core(polars_error(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::parse_public_objects;

    #[test]
    fn the_frame_holds_the_rows_values() {
        let text = "\"2021-03-15 00:00:00\"\n\"objid\",\"name_prefix\",\"name\",\"ra\",\"typeid\",\"type\",\"internal_names\"\n\
                    \"1\",\"SN\",\"2023ixf\",\"210.9\",\"1\",\"SN II\",\"ZTF23aaklqou, ATLAS23abc\"\n\
                    \"2\",\"\",\"2023abc\",\"\",\"\",\"\",\"\"\n";
        let objs = parse_public_objects(text).unwrap();
        let df = public_objects(&objs).unwrap();
        assert_eq!(df.height(), 2);
        assert_eq!(df.width(), 21);
        assert_eq!(df.column("objid").unwrap().i64().unwrap().get(1), Some(2));
        let name = df.column("name").unwrap();
        let name = name.str().unwrap();
        assert_eq!((name.get(0), name.get(1)), (Some("2023ixf"), Some("2023abc")));
        let prefix = df.column("name_prefix").unwrap();
        assert_eq!((prefix.str().unwrap().get(0), prefix.str().unwrap().get(1)), (Some("SN"), None));
        let ra = df.column("ra").unwrap();
        assert_eq!((ra.f64().unwrap().get(0), ra.f64().unwrap().get(1)), (Some(210.9), None));
        let internal = df.column("internal_names").unwrap();
        assert_eq!(internal.str().unwrap().get(0), Some("ZTF23aaklqou, ATLAS23abc"));
        assert_eq!(df.column("redshift").unwrap().null_count(), 2);
    }
}
