//! Executing a request: rate limits and server quotas, retries and backoff, redirects,
//! auth refresh, throttling, and replies cut short.

use super::*;

impl HttpClient {
    /// Sends a request and decodes the JSON reply.
    pub async fn json<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        self.execute(req).await?.json()
    }

    /// Sends a request with retries, redirects and auth; returns the response when its
    /// status is below 400, and an error otherwise (see [`Error`]).
    pub async fn execute(&self, req: Request) -> Result<Response> {
        match self.run::<()>(req, None).await? {
            Outcome::Body(r) => Ok(r),
            Outcome::Decoded(d) => Err(Error::Decode {
                path: ".".into(),
                message: "a reply was decoded although no decoder was given".into(),
                excerpt: String::new(),
                url: redact_url(&d.url),
            }),
        }
    }

    /// Like [`HttpClient::execute`], but a successful (2xx) reply's body is fed to `decode`
    /// on tokio's blocking pool while it arrives, chunk by chunk, so that decoding overlaps
    /// the transfer; the request's [`Request::wire_slots`] permit is released when the last
    /// byte has arrived, before decoding ends. Other replies (redirects, 401, 429, errors)
    /// are read in full and handled as by `execute`.
    ///
    /// The same guarantees hold: the client's size limit (the decoder then sees an error
    /// instead of the end of the body), retries, and for a retry-safe request a reply cut
    /// short (the connection fails mid-body, a JSON body ends early, or the
    /// [`Request::complete_when`] check fails) is fetched again, within the retry policy.
    /// When the decoder fails on a whole reply, its error is returned.
    pub async fn execute_decoding<T: Send + 'static>(
        &self,
        req: Request,
        decode: BodyDecoder<T>,
    ) -> Result<Decoded<T>> {
        match self.run(req, Some(decode)).await? {
            Outcome::Decoded(d) => Ok(d),
            Outcome::Body(r) => Err(Error::Decode {
                path: ".".into(),
                message: format!("the reply (HTTP {}) was not given to the decoder", r.status),
                excerpt: excerpt(&r.body),
                url: redact_url(&r.url),
            }),
        }
    }

    /// The longest wait the server-announced quotas of `req` ask for at `now`.
    fn server_quota_wait(&self, req: &Request, now: Duration) -> Result<Duration> {
        let mut wait = Duration::ZERO;
        for name in self.inner.default_server_quotas.iter().chain(req.server_quotas.iter()) {
            let Some(q) = self.inner.server_quotas.get(name) else {
                return Err(Error::Config(format!("server quota `{name}` is not registered")));
            };
            wait = wait.max(q.wait(now));
        }
        Ok(wait)
    }

    async fn run<T: Send + 'static>(&self, req: Request, decoder: Option<BodyDecoder<T>>) -> Result<Outcome<T>> {
        let inner = &self.inner;
        if let Some(e) = &req.body_error {
            return Err(Error::invalid("body", e.clone()));
        }
        let mut url = self.url_for(&req.path)?;
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        let clock = inner.clock.clone();
        let mut started = clock.now();
        let policy = &inner.retry;
        let mut method = req.method.clone();
        let mut body = req.body.clone();
        let mut attempt: u32 = 0;
        let mut redirects = 0u32;
        let mut refreshed = false;
        let ctx = AuthContext { http: &inner.http, user_agent: &inner.user_agent };

        loop {
            attempt += 1;
            for name in inner.default_buckets.iter().chain(req.buckets.iter()) {
                let Some(l) = inner.limiters.get(name) else {
                    return Err(Error::Config(format!("rate-limit bucket `{name}` is not registered")));
                };
                // Wait for a client-side slot only up to `max_limiter_wait`; a longer wait
                // fails at once (nothing sent, nothing reserved). Queueing behind our own
                // limiter is not server time: it does not count against `max_elapsed`.
                match l.acquire_within(clock.as_ref(), policy.max_limiter_wait).await {
                    Ok(waited) => started += waited,
                    Err(wait) => return Err(Error::RateLimited { retry_after: Some(wait), url: redact_url(&url) }),
                }
            }
            // The server said a quota of this request is used up: wait for the reset it
            // announced (like a client-side limiter wait, not counted as server time).
            let quota_wait = self.server_quota_wait(&req, wall_now(clock.as_ref()))?;
            if !quota_wait.is_zero() {
                if quota_wait > policy.max_server_wait {
                    return Err(Error::RateLimited { retry_after: Some(quota_wait), url: redact_url(&url) });
                }
                tracing::debug!(wait_s = quota_wait.as_secs_f64(), "server quota used up: waiting for its reset");
                clock.sleep(quota_wait).await;
                started += quota_wait;
            }
            let elapsed = clock.now().saturating_sub(started);
            let remaining = policy.max_elapsed.saturating_sub(elapsed);
            if remaining.is_zero() {
                return Err(Error::Timeout { url: redact_url(&url), elapsed });
            }
            let per_attempt = req.timeout.unwrap_or(inner.timeout).min(remaining);

            let mut headers = inner.headers.clone();
            if let Ok(ua) = HeaderValue::from_str(&inner.user_agent) {
                headers.insert(USER_AGENT, ua);
            }
            for (k, v) in &req.headers {
                headers.insert(k.clone(), v.clone());
            }
            let with_auth = same_origin(&url, &inner.base);
            let stamp = if with_auth { inner.auth.apply(&ctx, &mut headers).await? } else { AuthStamp::default() };

            let span = tracing::debug_span!(
                "http_request",
                method = %method,
                url = %redact_url(&url),
                write = req.write,
                attempt,
                status = tracing::field::Empty,
                elapsed_ms = tracing::field::Empty,
            );
            let t0 = clock.now();
            let sent_at = wall_now(clock.as_ref());
            let outcome = self
                .send_once(&method, &url, headers, &body, per_attempt, req.wire.as_ref(), decoder.as_ref())
                .instrument(span.clone())
                .await;
            let took = clock.now().saturating_sub(t0);
            span.record("elapsed_ms", took.as_millis() as u64);

            let (status, resp_headers, resp_body) = match outcome {
                Attempt::Failed(err, before_send) => {
                    let _g = span.enter();
                    tracing::debug!(error = %err, "request failed");
                    let may_retry = before_send || req.safety == RetrySafety::Safe;
                    if may_retry && attempt < policy.max_attempts {
                        let wait = policy.backoff_delay(attempt);
                        if clock.now().saturating_sub(started) + wait < policy.max_elapsed {
                            clock.sleep(wait).await;
                            continue;
                        }
                    }
                    return Err(err);
                }
                Attempt::Fatal(err) => return Err(err),
                Attempt::Done(s, h, b) => (s, h, Got::Body(b)),
                Attempt::Decoded(s, h, result, chunks) => (s, h, Got::Decoded(result, chunks)),
            };
            span.record("status", status);
            let seen_at = wall_now(clock.as_ref());
            for q in inner.server_quotas.values() {
                q.observe_reply(&resp_headers, sent_at, seen_at);
            }
            let quota_wait = self.server_quota_wait(&req, seen_at)?;
            let quota_hint = (!quota_wait.is_zero()).then_some(quota_wait);
            let resp_body = match resp_body {
                Got::Body(b) => b,
                Got::Decoded(result, chunks) => {
                    let bytes: usize = chunks.iter().map(Bytes::len).sum();
                    {
                        let _g = span.enter();
                        tracing::debug!(status, bytes, decoded = result.is_ok(), "response decoded while it arrived");
                    }
                    // As below for a body read in full: a reply cut short is fetched again.
                    if req.safety == RetrySafety::Safe && attempt < policy.max_attempts {
                        let check = result.is_err() || req.complete.is_some();
                        let cut_short = check && {
                            let whole = join_chunks(&chunks);
                            (result.is_err() && is_json(&resp_headers) && is_truncated_json(&whole))
                                || req.complete.is_some_and(|c| !c(&whole))
                        };
                        let wait = policy.backoff_delay(attempt);
                        if cut_short && clock.now().saturating_sub(started) + wait < policy.max_elapsed {
                            tracing::debug!(bytes, "reply ends early; retrying");
                            clock.sleep(wait).await;
                            continue;
                        }
                    }
                    return result.map(|value| Outcome::Decoded(Decoded { status, headers: resp_headers, url, value }));
                }
            };
            {
                let _g = span.enter();
                tracing::debug!(status, bytes = resp_body.len(), "response");
            }

            // Redirects: followed here so that credentials never go to another origin.
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                if let Some(loc) = resp_headers.get(LOCATION).and_then(|v| v.to_str().ok()) {
                    redirects += 1;
                    if redirects > 10 {
                        return Err(Error::Transport { url: redact_url(&url), message: "too many redirects".into() });
                    }
                    let mut next = url.join(loc).map_err(|e| Error::Transport {
                        url: redact_url(&url),
                        message: format!("bad redirect location: {e}"),
                    })?;
                    if matches!(status, 307 | 308) {
                        if next.query().is_none() && url.query().is_some() {
                            next.set_query(url.query());
                        }
                    } else if method != Method::GET && method != Method::HEAD {
                        method = Method::GET;
                        body = Body::Empty;
                    }
                    url = next;
                    attempt -= 1;
                    continue;
                }
            }

            if status == 401 && with_auth && inner.auth.sends_secret() {
                if !refreshed {
                    refreshed = true;
                    if inner.auth.refresh(&ctx, stamp, &resp_body).await? {
                        attempt -= 1;
                        continue;
                    }
                }
                let message = server_message(&resp_body).unwrap_or_else(|| "the server refused the credentials".into());
                return Err(Error::Auth { status: Some(401), message });
            }

            let retry_after = resp_headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, clock.system_time()));

            if status == 429 {
                let hinted = retry_after
                    .or_else(|| policy.hint.as_ref().and_then(|h| h.wait_from_body(status, &resp_body)))
                    .or(quota_hint);
                let wait = match hinted {
                    Some(w) => w.max(Duration::from_millis(1)),
                    None => policy.backoff_delay(attempt).max(policy.throttle_floor),
                };
                if wait > policy.max_server_wait {
                    tracing::debug!(wait_s = wait.as_secs_f64(), "throttled for longer than allowed; not waiting");
                    return Err(Error::RateLimited { retry_after: Some(wait), url: redact_url(&url) });
                }
                let over_budget = clock.now().saturating_sub(started) + wait >= policy.max_elapsed;
                if attempt < policy.max_attempts && !over_budget {
                    tracing::debug!(wait_s = wait.as_secs_f64(), "throttled; waiting");
                    clock.sleep(wait).await;
                    continue;
                }
                // Out of attempts or time: fall through to an HTTP 429 error that keeps the
                // server's body (nginx HTML pages included) and the wait it asked for.
            }

            if matches!(status, 408 | 500 | 502 | 503 | 504)
                && req.safety == RetrySafety::Safe
                && attempt < policy.max_attempts
            {
                let wait = match retry_after {
                    Some(w) if w <= policy.max_server_wait => w,
                    _ => policy.backoff_delay(attempt),
                };
                if clock.now().saturating_sub(started) + wait < policy.max_elapsed {
                    clock.sleep(wait).await;
                    continue;
                }
            }

            if status >= 400 {
                return Err(Error::Http(Box::new(HttpError {
                    status,
                    message: server_message(&resp_body),
                    excerpt: excerpt(&resp_body),
                    url: redact_url(&url),
                    retry_after: if status == 429 {
                        retry_after
                            .or_else(|| policy.hint.as_ref().and_then(|h| h.wait_from_body(status, &resp_body)))
                            .or(quota_hint)
                    } else {
                        retry_after
                    },
                    body: resp_body,
                })));
            }
            // A JSON reply cut short (a proxy or connection that gave up mid-body while the
            // framing still looked complete) is worth another try for a safe request.
            if req.safety == RetrySafety::Safe
                && attempt < policy.max_attempts
                && ((is_json(&resp_headers) && is_truncated_json(&resp_body))
                    || req.complete.is_some_and(|whole| !whole(&resp_body)))
            {
                let wait = policy.backoff_delay(attempt);
                if clock.now().saturating_sub(started) + wait < policy.max_elapsed {
                    tracing::debug!(bytes = resp_body.len(), "reply ends early; retrying");
                    clock.sleep(wait).await;
                    continue;
                }
            }
            return Ok(Outcome::Body(Response { status, headers: resp_headers, body: resp_body, url }));
        }
    }
}

/// What [`HttpClient::run`] gives back: a body read in full, or the decoder's value.
enum Outcome<T> {
    Body(Response),
    Decoded(Decoded<T>),
}

/// A reply's body as read by an attempt.
enum Got<T> {
    Body(Bytes),
    Decoded(Result<T>, Vec<Bytes>),
}

fn join_chunks(chunks: &[Bytes]) -> Bytes {
    match chunks {
        [one] => one.clone(),
        _ => Bytes::from(chunks.concat()),
    }
}

/// The clock's wall time as time since the Unix epoch: the time base of [`ServerQuota`]s, so
/// that clients with different clocks' origins can share one.
fn wall_now(clock: &dyn Clock) -> Duration {
    clock.system_time().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
}
