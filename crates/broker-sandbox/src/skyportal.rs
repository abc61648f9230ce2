//! Emulator stub.

use crate::sky::SkyObject;
use crate::state::Shared;
use axum::Router;
use std::sync::Arc;

pub(crate) const VERSION: &str = "1.4.0";

pub(crate) fn obj_id(o: &SkyObject) -> String {
    o.ztf_oid.clone().unwrap_or_else(|| o.atlas_designation.clone())
}

pub(crate) fn router(_shared: Arc<Shared>) -> Router {
    Router::new()
}
