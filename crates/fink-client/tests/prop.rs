//! Parsers never panic on server text, and ids survive any i64.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fink_client::columns::{Column, repr_text};
use fink_client::lsst::LsstSource;
use proptest::prelude::*;

proptest! {
    #[test]
    fn repr_text_never_panics(body in ".{0,200}") {
        let _ = repr_text(&body);
    }

    #[test]
    fn repr_text_reads_what_python_str_writes(text in "[a-zA-Z0-9 `.,:/-]{0,80}") {
        let body = format!("{{'status': 'error', 'text': '{text}'}}");
        prop_assert_eq!(repr_text(&body), Some(text.trim().to_string()));
    }

    #[test]
    fn column_parse_never_panics(s in ".{0,40}") {
        let _ = Column::parse(&s);
    }

    #[test]
    fn any_i64_id_round_trips_through_a_row(id in any::<i64>()) {
        let body = format!(r#"{{"r:diaObjectId": {id}, "r:diaSourceId": "{id}"}}"#);
        let row: LsstSource = serde_json::from_str(&body).unwrap();
        prop_assert_eq!(row.dia_object_id, Some(id));
        prop_assert_eq!(row.dia_source_id, Some(id));
        let back: LsstSource = serde_json::from_str(&serde_json::to_string(&row).unwrap()).unwrap();
        prop_assert_eq!(back.dia_object_id, Some(id));
    }
}
