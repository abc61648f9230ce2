//! One attempt on the wire: sending, reading the body within the size limit, or streaming
//! it to a decoder while it arrives; transport errors described without the URL.

use super::*;

pub(super) enum Attempt<T> {
    Done(u16, HeaderMap, Bytes),
    /// A 2xx reply fed to the decoder: its result, and the body's chunks (kept for the
    /// checks of a reply cut short).
    Decoded(u16, HeaderMap, Result<T>, Vec<Bytes>),
    /// A failed attempt, and whether it failed before anything was sent.
    Failed(Error, bool),
    /// A failure that another attempt would only repeat (a body over the size limit).
    Fatal(Error),
}

impl HttpClient {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn send_once<T: Send + 'static>(
        &self,
        method: &Method,
        url: &Url,
        headers: HeaderMap,
        body: &Body,
        timeout: Duration,
        wire: Option<&Arc<tokio::sync::Semaphore>>,
        decoder: Option<&BodyDecoder<T>>,
    ) -> Attempt<T> {
        let inner = &self.inner;
        let mut rb = inner.http.request(method.clone(), url.clone()).headers(headers).timeout(timeout);
        match body {
            Body::Empty => {}
            Body::Json(b) => {
                rb = rb.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            Body::Form(pairs) => {
                rb = rb.form(pairs);
            }
            Body::Raw { bytes, content_type } => {
                rb = rb.header(CONTENT_TYPE, content_type.as_str()).body(bytes.clone());
            }
        }
        let redacted = || redact_url(url);
        let clock = inner.clock.clone();
        // The semaphore is never closed; if it were, the request would go without a permit.
        let wire_permit = match wire {
            Some(slots) => slots.clone().acquire_owned().await.ok(),
            None => None,
        };
        let t0 = clock.now();
        let mut resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                let before_send = e.is_connect();
                let err = if e.is_timeout() {
                    Error::Timeout { url: redacted(), elapsed: clock.now().saturating_sub(t0) }
                } else {
                    Error::Transport { url: redacted(), message: describe_reqwest(&e) }
                };
                return Attempt::Failed(err, before_send);
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if let Some(len) = resp.content_length() {
            if len > inner.max_response_bytes as u64 {
                return Attempt::Fatal(Error::Transport {
                    url: redacted(),
                    message: format!("response of {len} bytes exceeds the limit of {} bytes", inner.max_response_bytes),
                });
            }
        }
        if let Some(decode) = decoder.filter(|_| (200..300).contains(&status)) {
            return self.stream_body(resp, status, headers, url, decode.clone(), wire_permit, t0).await;
        }
        let mut buf = bytes::BytesMut::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if buf.len() + chunk.len() > inner.max_response_bytes {
                        return Attempt::Fatal(Error::Transport {
                            url: redacted(),
                            message: format!("response exceeds the limit of {} bytes", inner.max_response_bytes),
                        });
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let err = if e.is_timeout() {
                        Error::Timeout { url: redacted(), elapsed: clock.now().saturating_sub(t0) }
                    } else {
                        Error::Transport { url: redacted(), message: describe_reqwest(&e) }
                    };
                    return Attempt::Failed(err, false);
                }
            }
        }
        drop(wire_permit);
        Attempt::Done(status, headers, buf.freeze())
    }

    /// Feeds a 2xx body to `decode` on the blocking pool while it arrives; keeps the chunks
    /// for the checks of a reply cut short. The wire permit goes when the last byte is in.
    #[allow(clippy::too_many_arguments)]
    async fn stream_body<T: Send + 'static>(
        &self,
        mut resp: reqwest::Response,
        status: u16,
        headers: HeaderMap,
        url: &Url,
        decode: BodyDecoder<T>,
        wire_permit: Option<tokio::sync::OwnedSemaphorePermit>,
        t0: Duration,
    ) -> Attempt<T> {
        let inner = &self.inner;
        let (tx, mut reader) = BodyReader::channel();
        let task = tokio::task::spawn_blocking(move || decode(&mut reader));
        let mut chunks = Vec::new();
        let mut total = 0usize;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    total += chunk.len();
                    if total > inner.max_response_bytes {
                        let message = format!("response exceeds the limit of {} bytes", inner.max_response_bytes);
                        let _ = tx.send(Err(std::io::Error::other(message.clone())));
                        return Attempt::Fatal(Error::Transport { url: redact_url(url), message });
                    }
                    chunks.push(chunk.clone());
                    // A decoder that stopped early dropped its end: the body is still read
                    // to its end, for the checks below and to keep the connection.
                    let _ = tx.send(Ok(chunk));
                }
                Ok(None) => break,
                Err(e) => {
                    let err = if e.is_timeout() {
                        Error::Timeout { url: redact_url(url), elapsed: inner.clock.now().saturating_sub(t0) }
                    } else {
                        Error::Transport { url: redact_url(url), message: describe_reqwest(&e) }
                    };
                    let _ = tx.send(Err(std::io::Error::other(err.to_string())));
                    return Attempt::Failed(err, false);
                }
            }
        }
        drop(tx);
        drop(wire_permit);
        let result = match task.await {
            Ok(r) => r,
            Err(e) => Err(Error::Decode {
                path: ".".into(),
                message: format!("the decoding task failed: {e}"),
                excerpt: chunks.first().map(|c| excerpt(c)).unwrap_or_default(),
                url: redact_url(url),
            }),
        };
        Attempt::Decoded(status, headers, result, chunks)
    }
}

/// Describes a reqwest error without its URL (which may carry a secret), with its causes.
pub fn describe_reqwest(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = Vec::new();
    let kind = if e.is_connect() {
        "connection failed"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "could not read the body"
    } else if e.is_request() {
        "request failed"
    } else {
        "HTTP error"
    };
    parts.push(kind.to_string());
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p == &t) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}
