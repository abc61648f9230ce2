//! The `astrobrokers` command-line tool.

mod output;
mod plot;

fn main() {}
