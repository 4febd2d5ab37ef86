//! Criterion benches: european (filled in by its module's work).
fn main() {}
