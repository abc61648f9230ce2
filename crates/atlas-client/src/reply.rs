//! The `objects/` reply, decoded while it arrives: the top-level list is split into its
//! elements as their bytes come in, and each complete element is decoded at once (from a
//! slice, so the rows' unknown fields are kept as raw text without building values). One
//! element that does not decode fails only its own id.

use std::collections::HashMap;
use std::sync::Arc;

use broker_core::body::BodyReader;
use broker_core::error::excerpt;
use broker_core::{Error, Result};

use crate::ids::AtlasId;
use crate::models::{ObjectField, RawSource, Source};
use crate::objects::{SourceOutcome, SourceResult};

/// What an `objects/` reply held.
pub(crate) enum ObjectsReply {
    /// The list's elements, each decoded or with its own error.
    Elements {
        /// One per element, in order.
        elements: Vec<Result<RawSource>>,
        /// The start of the body, for errors.
        excerpt: String,
    },
    /// A JSON object instead of a list (the server's `{"info": ...}`), whole.
    Object(Vec<u8>),
}

/// Where the splitter is in the top-level list.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Before the list's `[`.
    Start,
    /// After `[` (an element or `]` next).
    First,
    /// After `,` (an element next).
    Next,
    /// Inside an element that is an object or list, at this nesting depth.
    Nested { depth: u32, in_str: bool, escaped: bool },
    /// Inside an element that is a string.
    Str { escaped: bool },
    /// Inside a number, `true`, `false` or `null`.
    Bare,
    /// After an element (`,` or `]` next).
    After,
    /// After the closing `]`.
    End,
}

/// Splits a JSON list into its elements' byte ranges as bytes arrive. It checks only the
/// structure it needs (brackets, strings, commas); each element is then parsed in full by
/// serde_json.
pub(crate) struct Splitter {
    state: State,
    elem_start: usize,
}

/// What one step of the splitter found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// An element spans `start..end` of the buffer.
    Element { start: usize, end: usize },
    /// The buffer holds an object, not a list.
    Object,
    /// More bytes are needed.
    More,
    /// The list ended (only whitespace may follow).
    End,
}

impl Splitter {
    pub(crate) fn new() -> Self {
        Splitter { state: State::Start, elem_start: 0 }
    }

    /// Scans `buf` from `*pos` (advancing it) to the next complete element, the end of the
    /// list, or the end of the buffer. Fails on bytes that cannot be part of a list.
    pub(crate) fn step(&mut self, buf: &[u8], pos: &mut usize) -> std::result::Result<Found, String> {
        while *pos < buf.len() {
            let b = buf[*pos];
            match self.state {
                State::Start => match b {
                    b'[' => self.state = State::First,
                    b'{' => return Ok(Found::Object),
                    _ if b.is_ascii_whitespace() => {}
                    _ => return Err(format!("expected a JSON list, found {:?}", char::from(b))),
                },
                State::First | State::Next => match b {
                    _ if b.is_ascii_whitespace() => {}
                    b']' if self.state == State::First => self.state = State::End,
                    b'{' | b'[' => {
                        self.elem_start = *pos;
                        self.state = State::Nested { depth: 1, in_str: false, escaped: false };
                    }
                    b'"' => {
                        self.elem_start = *pos;
                        self.state = State::Str { escaped: false };
                    }
                    b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                        self.elem_start = *pos;
                        self.state = State::Bare;
                    }
                    _ => return Err(format!("expected a list element, found {:?}", char::from(b))),
                },
                State::Nested { depth, in_str: true, escaped: true } => {
                    self.state = State::Nested { depth, in_str: true, escaped: false };
                }
                State::Nested { depth, in_str: true, escaped: false } => {
                    // Jump to the next quote or backslash.
                    let Some(i) = memchr::memchr2(b'"', b'\\', &buf[*pos..]) else {
                        *pos = buf.len();
                        continue;
                    };
                    *pos += i;
                    let escaped = buf[*pos] == b'\\';
                    self.state = State::Nested { depth, in_str: escaped, escaped };
                }
                State::Nested { depth, in_str: false, .. } => {
                    // Jump to the next byte that matters.
                    let Some(i) = buf[*pos..].iter().position(|c| matches!(c, b'"' | b'{' | b'}' | b'[' | b']')) else {
                        *pos = buf.len();
                        continue;
                    };
                    *pos += i;
                    match buf[*pos] {
                        b'"' => self.state = State::Nested { depth, in_str: true, escaped: false },
                        b'{' | b'[' => self.state = State::Nested { depth: depth + 1, in_str: false, escaped: false },
                        _ if depth == 1 => {
                            self.state = State::After;
                            *pos += 1;
                            return Ok(Found::Element { start: self.elem_start, end: *pos });
                        }
                        _ => self.state = State::Nested { depth: depth - 1, in_str: false, escaped: false },
                    }
                }
                State::Str { escaped } => {
                    if escaped {
                        self.state = State::Str { escaped: false };
                    } else if b == b'\\' {
                        self.state = State::Str { escaped: true };
                    } else if b == b'"' {
                        self.state = State::After;
                        *pos += 1;
                        return Ok(Found::Element { start: self.elem_start, end: *pos });
                    }
                }
                State::Bare => {
                    if b == b',' || b == b']' || b.is_ascii_whitespace() {
                        self.state = State::After;
                        return Ok(Found::Element { start: self.elem_start, end: *pos });
                    }
                }
                State::After => match b {
                    b',' => self.state = State::Next,
                    b']' => self.state = State::End,
                    _ if b.is_ascii_whitespace() => {}
                    _ => return Err(format!("expected `,` or `]` after a list element, found {:?}", char::from(b))),
                },
                State::End => {
                    if !b.is_ascii_whitespace() {
                        return Err(format!("unexpected {:?} after the end of the list", char::from(b)));
                    }
                }
            }
            *pos += 1;
        }
        Ok(if self.state == State::End { Found::End } else { Found::More })
    }

    /// Where the element being scanned starts, if one is.
    pub(crate) fn pending_start(&self) -> Option<usize> {
        matches!(self.state, State::Nested { .. } | State::Str { .. } | State::Bare).then_some(self.elem_start)
    }

    /// Moves the element being scanned (if any) back by `by` bytes, after the buffer was
    /// compacted.
    pub(crate) fn shift(&mut self, by: usize) {
        self.elem_start = self.elem_start.saturating_sub(by);
    }

    /// Called at the end of the body: a trailing bare element (`[1` cannot end a valid list,
    /// but `1` may be cut short) is complete only if the list was closed.
    pub(crate) fn at_end(&self) -> bool {
        self.state == State::End
    }
}

/// Decodes one element (the `i`-th) with the path of the failing field.
fn decode_element(i: usize, bytes: &[u8], url: &str) -> Result<RawSource> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.path().to_string();
        let path = if inner == "." { format!("[{i}]") } else { format!("[{i}].{inner}") };
        Error::Decode { path, message: e.into_inner().to_string(), excerpt: excerpt(bytes), url: url.to_string() }
    })
}

/// Decodes one element of an `objects/` reply (see [`Source::from_json`]).
pub(crate) fn decode_one(bytes: &[u8]) -> Result<RawSource> {
    decode_element(0, bytes, "objects/").map_err(|e| match e {
        Error::Decode { path, message, excerpt, url } => Error::Decode {
            path: path.trim_start_matches("[0]").trim_start_matches('.').to_string(),
            message,
            excerpt,
            url,
        },
        other => other,
    })
}

/// Reads an `objects/` reply from `body` as it arrives and decodes its elements as they
/// complete. Fails as a whole when the body is not a list or ends before the list does.
pub(crate) fn decode_streaming(body: &mut BodyReader, url: &str) -> Result<ObjectsReply> {
    let whole = |message: String, head: &[u8]| Error::Decode {
        path: ".".into(),
        message,
        excerpt: excerpt(head),
        url: url.to_string(),
    };
    let mut head: Vec<u8> = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = 0usize;
    let mut splitter = Splitter::new();
    let mut elements = Vec::new();
    let mut object = false;
    loop {
        let chunk = body.next_chunk().map_err(|e| Error::Transport { url: url.to_string(), message: e.to_string() })?;
        let Some(chunk) = chunk else { break };
        if head.len() < 1024 {
            head.extend_from_slice(&chunk[..chunk.len().min(1024 - head.len())]);
        }
        // Drop the bytes of decoded elements once they are half the buffer (amortised: each
        // byte moves at most about once).
        let keep_from = splitter.pending_start().unwrap_or(pos).min(pos);
        if keep_from > 0 && keep_from >= buf.len() / 2 {
            buf.drain(..keep_from);
            pos -= keep_from;
            splitter.shift(keep_from);
        }
        buf.extend_from_slice(&chunk);
        if object {
            continue;
        }
        loop {
            match splitter.step(&buf, &mut pos).map_err(|m| whole(m, &head))? {
                Found::Element { start, end } => {
                    elements.push(decode_element(elements.len(), &buf[start..end], url));
                }
                Found::Object => {
                    object = true;
                    break;
                }
                Found::More | Found::End => break,
            }
        }
    }
    if object {
        return Ok(ObjectsReply::Object(buf));
    }
    // A bare last element (a number) ends at the `]`, which was then seen: nothing pending.
    if !splitter.at_end() {
        return Err(whole(
            format!("the reply ends before its list does (after {} elements): it was cut short", elements.len()),
            &head,
        ));
    }
    Ok(ObjectsReply::Elements { elements, excerpt: excerpt(&head) })
}

/// Matches reply elements to the ids asked for: by position (the server answers in
/// request order), checked against each found object's id; by id when that fails.
pub(crate) fn match_reply(
    ids: &[AtlasId],
    elements: Vec<Result<RawSource>>,
    excerpt: &str,
    url: &str,
) -> Vec<SourceResult> {
    let positional = elements.len() == ids.len()
        && elements.iter().zip(ids).all(|(e, id)| match e {
            Ok(raw) => match &raw.object {
                ObjectField::Found(o) => o.id == *id,
                ObjectField::Missing(_) => true,
            },
            Err(_) => true,
        });
    let to_outcome = |e: Result<RawSource>| match e {
        Ok(raw) => match raw.into_source() {
            Ok(s) => SourceOutcome::Found(Box::new(s)),
            Err(msg) => SourceOutcome::NotFound(msg),
        },
        Err(err) => SourceOutcome::Failed(Arc::new(err)),
    };
    if positional {
        return ids.iter().zip(elements).map(|(id, e)| SourceResult { id: *id, outcome: to_outcome(e) }).collect();
    }
    // By id: found objects carry their id; the server's not-found placeholders do not, but
    // when there is exactly one placeholder per id left over, they are those ids.
    let n = elements.len();
    let mut by_id: HashMap<AtlasId, SourceOutcome> = HashMap::new();
    let mut missing: Vec<String> = Vec::new();
    let mut undecodable = 0usize;
    for e in elements {
        match &e {
            Ok(raw) => match &raw.object {
                ObjectField::Found(o) => {
                    let id = o.id;
                    by_id.entry(id).or_insert_with(|| to_outcome(e));
                }
                ObjectField::Missing(m) => missing.push(m.clone()),
            },
            Err(_) => undecodable += 1,
        }
    }
    let left = ids.iter().filter(|id| !by_id.contains_key(id)).count();
    let placeholders_fit = undecodable == 0 && missing.len() == left;
    let mut missing = missing.into_iter();
    ids.iter()
        .map(|id| {
            let outcome = match by_id.remove(id) {
                Some(o) => o,
                None if placeholders_fit => SourceOutcome::NotFound(missing.next().unwrap_or_default()),
                None => SourceOutcome::Failed(Arc::new(Error::Decode {
                    path: ".".into(),
                    message: format!(
                        "the reply of objects/ has no entry for id {id} ({n} entries for {} ids)",
                        ids.len()
                    ),
                    excerpt: excerpt.to_string(),
                    url: url.to_string(),
                })),
            };
            SourceResult { id: *id, outcome }
        })
        .collect()
}

impl Source {
    /// Decodes one element of an `objects/` reply (e.g. one saved to a file), the way the
    /// client does. Fails with the path of the offending field, or when the element is the
    /// server's not-found placeholder (its text is the error message).
    pub fn from_json(bytes: &[u8]) -> Result<Source> {
        decode_one(bytes)?.into_source().map_err(|m| Error::Decode {
            path: "object".into(),
            message: m,
            excerpt: excerpt(bytes),
            url: "objects/".into(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// Splits `body` fed in pieces of `piece` bytes, as `decode_streaming` does.
    fn split(body: &[u8], piece: usize) -> std::result::Result<(Vec<String>, bool), String> {
        let mut s = Splitter::new();
        let (mut buf, mut pos, mut out) = (Vec::new(), 0, Vec::new());
        for c in body.chunks(piece.max(1)) {
            buf.extend_from_slice(c);
            loop {
                match s.step(&buf, &mut pos)? {
                    Found::Element { start, end } => out.push(String::from_utf8_lossy(&buf[start..end]).into_owned()),
                    Found::Object => return Ok((vec!["<object>".into()], true)),
                    Found::More | Found::End => break,
                }
            }
        }
        Ok((out, s.at_end()))
    }

    #[test]
    fn elements_are_found_whatever_the_chunking() {
        let body = br#" [ {"a": "x]}\"\\", "b": [1, {"c": "{"}]}, null ,"s,]\"", -1.5e3, [[]], {} ] "#;
        for piece in [1, 2, 3, 7, 64, 1000] {
            let (els, closed) = split(body, piece).unwrap();
            assert!(closed, "piece {piece}");
            assert_eq!(
                els,
                [r#"{"a": "x]}\"\\", "b": [1, {"c": "{"}]}"#, "null", r#""s,]\"""#, "-1.5e3", "[[]]", "{}"],
                "piece {piece}"
            );
        }
        assert_eq!(split(b"[]", 1).unwrap(), (vec![], true));
        assert_eq!(split(br#"{"info": "Max"}"#, 3).unwrap().0, ["<object>"]);
        assert!(!split(br#"[{"a": 1}, {"b""#, 4).unwrap().1, "cut short: not closed");
        for bad in [&b"[1 2]"[..], b"[,1]", b"[1],", b"x", b"[}"] {
            assert!(split(bad, 1).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_reply_decodes_element_by_element_with_paths() {
        let body = br#"[{"object": "AtlasDiffObjects matching query does not exist.", "lc": null},
            {"object": {"id": 1000005291314656200}, "lc": [{"mjd": 1.5, "x": 3, "filter": 7}]},
            {"object": {"id": 1000005291314656201}, "lc": [{"mjd": "2.5", "pointing": "TA1"}], "new": 1}]"#;
        let mut r = BodyReader::from_bytes(Bytes::from_static(body));
        let ObjectsReply::Elements { elements, .. } = decode_streaming(&mut r, "u").unwrap() else { panic!() };
        assert_eq!(elements.len(), 3);
        assert!(matches!(elements[0].as_ref().unwrap().object, ObjectField::Missing(_)));
        let err = elements[1].as_ref().err().unwrap().to_string();
        assert!(err.contains("[1].lc[0].filter"), "{err}");
        let third = elements.into_iter().nth(2).unwrap().unwrap().into_source().unwrap();
        assert_eq!(third.lc[0].mjd, Some(2.5));
        assert_eq!(third.lc[0].extra.get("pointing"), Some(serde_json::json!("TA1")));
        assert_eq!(third.extra["new"], serde_json::json!(1));
        // The same reply in pieces of every size: the same elements (the buffer is compacted
        // between pieces while an element is pending).
        let big = format!(
            "[{}]",
            (0..40)
                .map(|i| format!(
                    r#"{{"object": {{"id": {}}}, "lc": [{{"mjd": {i}.5, "pointing": "T\"{i}"}}]}}"#,
                    1000005291314656200u64 + i
                ))
                .collect::<Vec<_>>()
                .join(",\n ")
        );
        for piece in [1, 5, 64, 333, 100_000] {
            let chunks: Vec<Bytes> = big.as_bytes().chunks(piece).map(Bytes::copy_from_slice).collect();
            let mut r = BodyReader::from_chunks(chunks);
            let ObjectsReply::Elements { elements, .. } = decode_streaming(&mut r, "u").unwrap() else { panic!() };
            assert_eq!(elements.len(), 40, "piece {piece}");
            for (i, e) in elements.into_iter().enumerate() {
                let s = e.unwrap().into_source().unwrap();
                assert_eq!(s.id().get(), 1000005291314656200u64 + i as u64, "piece {piece}");
                assert_eq!(s.lc[0].mjd, Some(i as f64 + 0.5));
                assert_eq!(s.lc[0].extra.get("pointing"), Some(serde_json::json!(format!("T\"{i}"))));
            }
        }
        let mut cut = BodyReader::from_bytes(Bytes::from_static(&body[..body.len() - 5]));
        let err = decode_streaming(&mut cut, "u").err().unwrap().to_string();
        assert!(err.contains("cut short"), "{err}");
    }
}
