//! The kept corpus of the `forcedphot_table` fuzz target, replayed through the same check as
//! the target: the one-pass columnar parser and the reference rules agree exactly (same columns
//! bit for bit, or the same error at the same line), and the typed rows agree with the columns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fallingstar_forcedphot::{Error, ResultColumns, ResultTable};

#[test]
fn fuzz_corpus_fast_path_equals_reference_rules() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/forcedphot_table");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() > 100, "the corpus is kept in the repository: {}", dir.display());
    let (mut ok, mut errors) = (0, 0);
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        let fast = ResultColumns::parse(&text);
        match (&fast, ResultColumns::parse_reference(&text)) {
            (Ok(a), Ok(b)) => assert!(a.bitwise_eq(&b), "{}", f.display()),
            (Err(Error::Parse { line: la, message: ma }), Err(Error::Parse { line: lb, message: mb })) => {
                assert_eq!((la, ma), (&lb, &mb), "{}", f.display());
            }
            (a, b) => panic!("{}: fast {a:?} vs reference {b:?}", f.display()),
        }
        match (fast, ResultTable::parse(&text)) {
            (Ok(c), Ok(t)) => {
                assert_eq!(c.len(), t.len(), "{}", f.display());
                assert!(c.iter().all(|(_, d)| d.len() == c.len()), "{}", f.display());
                ok += 1;
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string(), "{}", f.display());
                errors += 1;
            }
            (a, b) => panic!("{}: columns {a:?} vs rows {b:?}", f.display()),
        }
    }
    // Most of the kept inputs are refused (the corpus is minimized for coverage of the error
    // paths); the parsing branch is covered by the property tests in src/columns.rs.
    assert_eq!(ok + errors, files.len());
}
