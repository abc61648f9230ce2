//! The `astrobrokers` command-line tool (work in progress).
fn main() {}
