//! Criterion benches: peers (filled in by its module's work).
fn main() {}
