//! Batch pricer for researchers (CSV on stdin, CSV on stdout).
fn main() {}
