//! SkyPortal client (work in progress).

mod client;
pub mod models;
mod params;
pub mod sources;
mod validate;
pub mod photometry;

pub use client::{Client, ClientBuilder, ListPage, is_not_found};
