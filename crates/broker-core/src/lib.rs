//! broker-core
