//! Emulator stub.

use crate::state::Shared;
use axum::Router;
use std::sync::Arc;

pub(crate) fn router(_shared: Arc<Shared>) -> Router {
    Router::new()
}
