//! The `promsnap` command line.
fn main() {}
