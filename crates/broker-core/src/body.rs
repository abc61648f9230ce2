//! Reply bodies decoded while they arrive (see [`HttpClient::execute_decoding`]).
//!
//! A large reply (tens of MB of JSON) costs more CPU to decode than to transfer. Read in full
//! and then decoded, the two add up. Fed to a decoder on tokio's blocking pool chunk by chunk
//! as the chunks come off the connection, decoding overlaps the transfer, and the request's
//! connection is free for the next request as soon as the last byte has arrived.
//!
//! [`HttpClient::execute_decoding`]: crate::HttpClient::execute_decoding

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::sync::mpsc;
use url::Url;

use crate::error::Result;

/// A decoder of a successful reply's body, run on tokio's blocking pool while the body
/// arrives. It may be run again on a later attempt (the core retries a reply cut short).
pub type BodyDecoder<T> = Arc<dyn Fn(&mut BodyReader) -> Result<T> + Send + Sync>;

/// The body of a reply as it arrives: chunks in order ([`BodyReader::next_chunk`]), or a
/// [`std::io::Read`]. Reading blocks until the next chunk arrives, so use it only off the
/// async runtime (the core runs decoders on the blocking pool).
///
/// A body that cannot be read to its end (the connection failed, or the body is over the
/// client's size limit) ends with an [`io::Error`] instead of the end of the body.
#[derive(Debug)]
pub struct BodyReader {
    rx: Option<mpsc::UnboundedReceiver<io::Result<Bytes>>>,
    current: Bytes,
}

impl BodyReader {
    /// A reader fed by the core: the sender side and the reader.
    pub(crate) fn channel() -> (mpsc::UnboundedSender<io::Result<Bytes>>, BodyReader) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, BodyReader { rx: Some(rx), current: Bytes::new() })
    }

    /// A reader over a body already in memory (to decode a saved reply, or in tests).
    pub fn from_bytes(body: impl Into<Bytes>) -> Self {
        BodyReader { rx: None, current: body.into() }
    }

    /// A reader over a body already in memory, in these chunks (to test a decoder against
    /// any chunking).
    pub fn from_chunks(chunks: impl IntoIterator<Item = Bytes>) -> Self {
        let (tx, reader) = Self::channel();
        for c in chunks {
            let _ = tx.send(Ok(c));
        }
        reader
    }

    /// The next chunk of the body (never empty), `None` at its end, or the error that cut
    /// it short.
    pub fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if !self.current.is_empty() {
            return Ok(Some(std::mem::take(&mut self.current)));
        }
        let Some(rx) = self.rx.as_mut() else { return Ok(None) };
        loop {
            match rx.blocking_recv() {
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                Some(Ok(chunk)) => return Ok(Some(chunk)),
                Some(Err(e)) => {
                    self.rx = None;
                    return Err(e);
                }
                None => {
                    self.rx = None;
                    return Ok(None);
                }
            }
        }
    }
}

impl io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.current.is_empty() {
            match self.next_chunk()? {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// A successful reply whose body was decoded while it arrived.
#[derive(Debug, Clone)]
pub struct Decoded<T> {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The final URL, after redirects.
    pub url: Url,
    /// What the decoder made of the body.
    pub value: T,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn chunks_come_out_in_order_then_the_end() {
        let (tx, mut r) = BodyReader::channel();
        for c in ["ab", "", "cde"] {
            tx.send(Ok(Bytes::from(c))).unwrap();
        }
        drop(tx);
        let mut all = String::new();
        r.read_to_string(&mut all).unwrap();
        assert_eq!(all, "abcde");
        assert!(r.next_chunk().unwrap().is_none());
    }

    #[test]
    fn a_body_cut_short_ends_with_its_error() {
        let (tx, mut r) = BodyReader::channel();
        tx.send(Ok(Bytes::from_static(b"[1,"))).unwrap();
        tx.send(Err(io::Error::other("connection reset"))).unwrap();
        assert_eq!(r.next_chunk().unwrap().unwrap(), Bytes::from_static(b"[1,"));
        assert_eq!(r.next_chunk().unwrap_err().to_string(), "connection reset");
        let mut chunked = BodyReader::from_chunks([Bytes::from_static(b"x"), Bytes::from_static(b"yz")]);
        let mut all = Vec::new();
        chunked.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"xyz");
        let mut from_mem = BodyReader::from_bytes(Bytes::from_static(b"xyz"));
        let mut two = [0u8; 2];
        assert_eq!(from_mem.read(&mut two).unwrap(), 2);
        assert_eq!(&two, b"xy");
        assert_eq!(from_mem.next_chunk().unwrap().unwrap(), Bytes::from_static(b"z"));
        assert!(from_mem.next_chunk().unwrap().is_none());
    }
}
