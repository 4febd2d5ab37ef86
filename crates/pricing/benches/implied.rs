//! Criterion benches: implied (filled in by its module's work).
fn main() {}
