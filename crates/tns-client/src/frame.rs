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
fn s(name: &str, rows: &[PublicObjectRow], get: impl Fn(&PublicObjectRow) -> Option<String>) -> Column {
    Column::new(name.into(), rows.iter().map(get).collect::<Vec<Option<String>>>())
}

/// The rows as a DataFrame (see the module table); extra columns are left out.
pub fn public_objects(objects: &PublicObjects) -> Result<DataFrame> {
    let r = &objects.rows;
    let cols = vec![
        i("objid", r, |x| Some(x.objid)),
        s("name_prefix", r, |x| x.name_prefix.clone()),
        s("name", r, |x| Some(x.name.clone())),
        f("ra", r, |x| x.ra),
        f("declination", r, |x| x.declination),
        f("redshift", r, |x| x.redshift),
        i("typeid", r, |x| x.typeid),
        s("type", r, |x| x.r#type.clone()),
        i("reporting_groupid", r, |x| x.reporting_groupid),
        s("reporting_group", r, |x| x.reporting_group.clone()),
        i("source_groupid", r, |x| x.source_groupid),
        s("source_group", r, |x| x.source_group.clone()),
        s("discoverydate", r, |x| x.discoverydate.clone()),
        f("discoverymag", r, |x| x.discoverymag),
        s("discmagfilter", r, |x| x.discmagfilter.clone()),
        s("filter", r, |x| x.filter.clone()),
        s("reporters", r, |x| x.reporters.clone()),
        s("time_received", r, |x| x.time_received.clone()),
        s("internal_names", r, |x| x.internal_names.clone()),
        s("creationdate", r, |x| x.creationdate.clone()),
        s("lastmodified", r, |x| x.lastmodified.clone()),
    ];
    DataFrame::new(r.len(), cols).map_err(|e| Error::Core(polars_error(e)))
}
