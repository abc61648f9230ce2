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

fn f(name: &str, rows: &[PublicObjectRow], get: impl Fn(&PublicObjectRow) -> Option<f64>) -> Column {
    Column::new(name.into(), rows.iter().map(get).collect::<Vec<Option<f64>>>())
}
fn i(name: &str, rows: &[PublicObjectRow], get: impl Fn(&PublicObjectRow) -> Option<u64>) -> Column {
    Column::new(
        name.into(),
        rows.iter().map(|r| get(r).and_then(|v| i64::try_from(v).ok())).collect::<Vec<Option<i64>>>(),
    )
}
/// A text column copied straight from the rows' strings (no `String` per value).
fn s<'a>(name: &str, rows: &'a [PublicObjectRow], get: impl Fn(&'a PublicObjectRow) -> Option<&'a str>) -> Column {
    StringChunked::from_iter_options(name.into(), rows.iter().map(get)).into_column()
}

/// The rows as a DataFrame (see the module table); extra columns are left out.
pub fn public_objects(objects: &PublicObjects) -> Result<DataFrame> {
    let r = &objects.rows;
    let cols = vec![
        i("objid", r, |x| Some(x.objid)),
        s("name_prefix", r, |x| x.name_prefix.as_deref()),
        s("name", r, |x| Some(x.name.as_str())),
        f("ra", r, |x| x.ra),
        f("declination", r, |x| x.declination),
        f("redshift", r, |x| x.redshift),
        i("typeid", r, |x| x.typeid),
        s("type", r, |x| x.r#type.as_deref()),
        i("reporting_groupid", r, |x| x.reporting_groupid),
        s("reporting_group", r, |x| x.reporting_group.as_deref()),
        i("source_groupid", r, |x| x.source_groupid),
        s("source_group", r, |x| x.source_group.as_deref()),
        s("discoverydate", r, |x| x.discoverydate.as_deref()),
        f("discoverymag", r, |x| x.discoverymag),
        s("discmagfilter", r, |x| x.discmagfilter.as_deref()),
        s("filter", r, |x| x.filter.as_deref()),
        s("reporters", r, |x| x.reporters.as_deref()),
        s("time_received", r, |x| x.time_received.as_deref()),
        s("internal_names", r, |x| x.internal_names.as_deref()),
        s("creationdate", r, |x| x.creationdate.as_deref()),
        s("lastmodified", r, |x| x.lastmodified.as_deref()),
    ];
    DataFrame::new(r.len(), cols).map_err(|e| Error::Core(polars_error(e)))
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
