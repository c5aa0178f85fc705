//! `cargo xtask`: spindle's automation, in Rust instead of shell scripts.
fn main() {}
