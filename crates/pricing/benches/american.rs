//! Criterion benches: american (filled in by its module's work).
fn main() {}
