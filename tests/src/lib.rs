//! Workspace-level scenarios across brokers live in `tests/`.
