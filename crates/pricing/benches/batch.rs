//! Criterion benches: batch (filled in by its module's work).
fn main() {}
