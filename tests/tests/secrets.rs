#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Secrets: a full scenario through all four clients at trace level with known secrets, then
//! every captured log line, Debug and error string is searched for them. Credentials are
//! refused over plain http to a remote host without opt-in, and never follow a redirect to
//! another host.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use broker_sandbox::{Fault, QueueConfig, Sandbox, Service};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_trace_logs_debug_or_errors() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let sb = Sandbox::builder()
        .seed(301)
        .objects(30)
        .queue(QueueConfig {
            queue_delay: Duration::from_millis(20),
            run_time: Duration::from_millis(30),
            ..Default::default()
        })
        .start()
        .await
        .unwrap();
    let urls = sb.urls().clone();
    let c = sb.credentials().clone();
    let alerce_token = "alerce-bearer-7f3c9a1e5d2b8064";
    let secrets: Vec<(&str, String)> = vec![
        ("atlas token", c.atlas.token.clone()),
        ("atlas expired token", c.atlas.expired_token.clone()),
        ("atlas password", c.atlas.password.clone()),
        ("skyportal token", c.skyportal.token.clone()),
        ("forcedphot token", c.forcedphot.token.clone()),
        ("forcedphot password", c.forcedphot.password.clone()),
        ("alerce token", alerce_token.to_string()),
    ];
    let obj = sb.objects().into_iter().find(|o| o.ztf_oid.is_some()).unwrap();
    let mut texts: Vec<String> = Vec::new();
    let fast = broker_core::RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(20));

    // ALeRCE with a bearer token: a light curve, then a 404 and a 503.
    let b = alerce_client::AlerceClient::builder()
        .host(&urls.alerce.api)
        .bearer_token(alerce_token.to_string())
        .retry(fast.clone().max_attempts(1));
    texts.push(format!("{b:?}"));
    let alerce = b.build().unwrap();
    texts.push(format!("{alerce:?}"));
    alerce.ztf().lightcurve(obj.ztf_oid.as_deref().unwrap()).await.unwrap();
    let e = alerce.ztf().object("ZTF99zzzzzzz").await.unwrap_err();
    texts.push(format!("{e} {e:?}"));
    sb.inject(Service::Alerce, Fault::Status(503));
    let e = alerce.ztf().object(obj.ztf_oid.as_deref().unwrap()).await.unwrap_err();
    texts.push(format!("{e} {e:?}"));

    // ATLAS: an expired token refreshed with username and password, then an error.
    let b = atlas_client::AtlasClient::builder()
        .base_url(&urls.atlas)
        .token(c.atlas.expired_token.clone())
        .credentials(c.atlas.username.clone(), c.atlas.password.clone())
        .retry(fast.clone());
    texts.push(format!("{b:?}"));
    let atlas = b.build().unwrap();
    texts.push(format!("{atlas:?}"));
    let id = atlas_client::AtlasId::new(obj.atlas_id).unwrap();
    let s = atlas.source(id).send().await.unwrap();
    assert!(s.is_some());
    sb.inject(Service::Atlas, Fault::Status(401));
    sb.inject(Service::Atlas, Fault::Status(401));
    let e = atlas.source(id).send().await;
    texts.push(format!("{e:?}"));
    let ro = atlas_client::AtlasClient::builder().base_url(&urls.atlas).token(c.atlas.token.clone()).build().unwrap();
    let e = ro.refresh_token(&c.atlas.username, "wrong-password").await.unwrap_err();
    texts.push(format!("{e} {e:?}"));

    // SkyPortal: a listing, a missing source, a 401 from a bad token.
    let b = skyportal_client::ClientBuilder::new()
        .base_url(&urls.skyportal)
        .token(c.skyportal.token.clone())
        .retry(fast.clone());
    texts.push(format!("{b:?}"));
    let sp = b.build().unwrap();
    texts.push(format!("{sp:?}"));
    let all = sp.sources().list().page_size(10).collect_all().await.unwrap();
    assert!(!all.is_empty());
    let e = sp.sources().get("ZTF00notthere").send().await.unwrap_err();
    texts.push(format!("{e} {e:?}"));
    let wrong = skyportal_client::Client::new(urls.skyportal.clone(), format!("{}x", c.skyportal.token)).unwrap();
    let e = wrong.sources().list().collect_all().await.unwrap_err();
    texts.push(format!("{e} {e:?}"));

    // Forced photometry: login with username and password, one full run, an error.
    let b = fallingstar_forcedphot::Client::builder()
        .base_url(format!("{}/", urls.forcedphot))
        .login(c.forcedphot.username.clone(), c.forcedphot.password.clone())
        .poll_intervals(fallingstar_forcedphot::PollIntervals {
            queued: Duration::from_millis(20),
            running: Duration::from_millis(20),
        });
    texts.push(format!("{b:?}"));
    let fp = b.build().unwrap();
    texts.push(format!("{fp:?}"));
    let run = fp
        .run(
            &fallingstar_forcedphot::TaskRequest::position(obj.ra, obj.dec).unwrap().mjd_min(60000.0),
            &fallingstar_forcedphot::RunOptions::new(),
        )
        .await
        .unwrap();
    texts.push(format!("{:?}", run.task));
    let e = fp.task(999_999).await.unwrap_err();
    texts.push(format!("{e} {e:?}"));
    let pw = broker_core::SecretString::from(c.forcedphot.password.clone());
    let token =
        fallingstar_forcedphot::Client::obtain_token(&format!("{}/", urls.forcedphot), &c.forcedphot.username, &pw)
            .await
            .unwrap();
    texts.push(format!("{token:?}"));
    let e = fallingstar_forcedphot::Client::obtain_token(
        &format!("{}/", urls.forcedphot),
        &c.forcedphot.username,
        &broker_core::SecretString::from("not-the-password".to_string()),
    )
    .await
    .unwrap_err();
    texts.push(format!("{e} {e:?}"));

    // The secrets really went over the wire (so the search below means something).
    let log = sb.requests();
    let sent = |s: &str| {
        log.iter().any(|r| r.authorization.as_deref().is_some_and(|a| a.contains(s)) || r.body_text().contains(s))
    };
    for (name, s) in &secrets {
        assert!(sent(s), "the scenario never sent the {name}");
    }

    let captured = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(captured.lines().count() > 50, "trace output was captured: {} lines", captured.lines().count());
    let all_text = format!("{captured}\n{}", texts.join("\n"));
    for (name, s) in &secrets {
        // The sandbox's own request logging is not a client's output; clients must not log it.
        assert!(!all_text.contains(s.as_str()), "the {name} appears in the output:\n{}", excerpt_around(&all_text, s));
    }
    eprintln!(
        "FIGURES secrets: {} trace lines, {} Debug/error strings, {} requests, 0 secrets found",
        captured.lines().count(),
        texts.len(),
        log.len()
    );
}

fn excerpt_around(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap_or(0);
    let start = text[..at].char_indices().rev().nth(200).map(|(i, _)| i).unwrap_or(0);
    text[start..(at + needle.len() + 50).min(text.len())].replace(needle, "<SECRET>")
}

// ---------------------------------------------------------------- plain http and redirects

#[test]
fn credentials_over_plain_http_to_a_remote_host_need_an_explicit_opt_in() {
    let remote = "http://broker.example.org/";
    let token40 = "0123456789abcdef0123456789abcdef01234567";
    let e = atlas_client::AtlasClient::builder().base_url(remote).token(token40).build().unwrap_err();
    assert!(e.to_string().contains("plain http"), "{e}");
    atlas_client::AtlasClient::builder().base_url(remote).token(token40).allow_insecure_http(true).build().unwrap();

    let e = skyportal_client::Client::new(remote, "a-token".to_string()).unwrap_err();
    assert!(e.to_string().contains("plain http"), "{e}");
    skyportal_client::ClientBuilder::new()
        .base_url(remote)
        .token("a-token".to_string())
        .allow_insecure_http(true)
        .build()
        .unwrap();

    let e =
        fallingstar_forcedphot::Client::builder().base_url(remote).token("a-token".to_string()).build().unwrap_err();
    assert!(e.to_string().contains("plain http"), "{e}");
    fallingstar_forcedphot::Client::builder()
        .base_url(remote)
        .token("a-token".to_string())
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let e =
        fallingstar_forcedphot::Client::builder().base_url(remote).login("me", "pw".to_string()).build().unwrap_err();
    assert!(e.to_string().contains("plain http"), "{e}");

    let e = alerce_client::AlerceClient::builder()
        .host("http://alerce.example.org")
        .bearer_token("t".to_string())
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("plain http"), "{e}");
    // Without a token ALeRCE sends nothing secret: plain http is allowed.
    alerce_client::AlerceClient::builder().host("http://alerce.example.org").build().unwrap();
    // https and loopback need no opt-in.
    atlas_client::AtlasClient::builder().base_url("https://broker.example.org/").token(token40).build().unwrap();
    skyportal_client::Client::new("http://127.0.0.1:5000", "a-token".to_string()).unwrap();
}

/// A server that answers every request with `reply(port)` and records the request heads.
async fn raw_server(reply: impl Fn() -> String + Send + Sync + 'static) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let seen = seen2.clone();
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = sock.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                        let len = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        while buf.len() < end + 4 + len {
                            let Ok(n) = sock.read(&mut chunk).await else { return };
                            if n == 0 {
                                break;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                        }
                        seen.lock().unwrap().push(head);
                        let _ = sock.write_all(reply().as_bytes()).await;
                        let _ = sock.shutdown().await;
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_host() {
    let body = r#"{"status":"error","message":"not here"}"#;
    let (other_port, other_seen) = raw_server(move || {
        format!("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
    })
    .await;
    // The first server (127.0.0.1) sends every request to `localhost` on another port: another
    // origin, though both are loopback.
    let (port, seen) = raw_server(move || {
        format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: http://localhost:{other_port}/moved\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    })
    .await;
    let base = format!("http://127.0.0.1:{port}");
    let token40 = "fedcba9876543210fedcba9876543210fedcba98";
    let no_retry = broker_core::RetryPolicy::none();

    let atlas = atlas_client::AtlasClient::builder()
        .base_url(format!("{base}/api/"))
        .token(token40)
        .retry(no_retry.clone())
        .build()
        .unwrap();
    let _ = atlas.source(atlas_client::AtlasId::new(1_000_000_000_000_000_001).unwrap()).send().await;
    let sp = skyportal_client::ClientBuilder::new()
        .base_url(&base)
        .token("sp-secret-token".to_string())
        .retry(no_retry.clone())
        .build()
        .unwrap();
    let _ = sp.sources().get("ZTF21aaaaaaa").send().await;
    let fp = fallingstar_forcedphot::Client::builder()
        .base_url(format!("{base}/forcedphot/"))
        .token("fp-secret-token".to_string())
        .retry(no_retry.clone())
        .build()
        .unwrap();
    let _ = fp.task(1).await;
    let alerce = alerce_client::AlerceClient::builder()
        .host(&base)
        .bearer_token("alerce-secret".to_string())
        .retry(no_retry)
        .build()
        .unwrap();
    let _ = alerce.ztf().object("ZTF21aaaaaaa").await;

    let first = seen.lock().unwrap().clone();
    let followed = other_seen.lock().unwrap().clone();
    assert_eq!(first.len(), 4, "{first:#?}");
    assert!(
        first.iter().all(|h| h.to_ascii_lowercase().contains("\nauthorization:")),
        "credentials went to the first host"
    );
    assert_eq!(followed.len(), 4, "each redirect was followed: {followed:#?}");
    for h in &followed {
        let lower = h.to_ascii_lowercase();
        assert!(!lower.contains("authorization"), "credentials followed a redirect to another host:\n{h}");
        for s in [token40, "sp-secret-token", "fp-secret-token", "alerce-secret"] {
            assert!(!h.contains(s));
        }
    }
}
