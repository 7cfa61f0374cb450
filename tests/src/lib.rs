//! Test-only crate: see `tests/` and `benches/`.
