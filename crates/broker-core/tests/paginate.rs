#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Pagination strategies against multi-page httpmock servers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use broker_core::paginate::{CursorPaginator, Page, PageNumberPaginator, Paginator, StopRules, id_chunks};
use broker_core::{HttpClient, ListStyle, ManualClock, Request, Result};
use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::{Value, json};

fn http(server: &MockServer) -> HttpClient {
    HttpClient::builder(server.base_url()).clock(Arc::new(ManualClock::new())).build().unwrap()
}

/// Mocks pages 1..=pages of `/items` with `per` items each (the last one `last` items), and
/// the given totals per page.
async fn mock_pages<'a>(
    server: &'a MockServer,
    per: usize,
    sizes: &[usize],
    totals: &[Option<u64>],
    has_next: bool,
) -> Vec<httpmock::Mock<'a>> {
    let mut mocks = Vec::new();
    let mut start = 0;
    for (i, &n) in sizes.iter().enumerate() {
        let page = i + 1;
        let items: Vec<Value> = (start..start + n).map(|k| json!({"id": k})).collect();
        start += n;
        let mut body = json!({"items": items, "total": totals[i]});
        if has_next {
            body["has_next"] = json!(page < sizes.len());
        }
        let m = server
            .mock_async(|when, then| {
                when.path("/items").query_param("page", page.to_string()).query_param("page_size", per.to_string());
                then.status(200).json_body(body);
            })
            .await;
        mocks.push(m);
    }
    mocks
}

fn page_number(http: HttpClient, per: u64) -> PageNumberPaginator<Value> {
    PageNumberPaginator::new(1, per, move |p| {
        let http = http.clone();
        async move {
            let v: Value =
                http.json(Request::get("items").query("page", p.page).query("page_size", p.page_size)).await?;
            let items = v["items"].as_array().cloned().unwrap_or_default();
            Ok(Page::new(items).with_total(v["total"].as_u64()).with_has_next(v["has_next"].as_bool()))
        }
    })
}

fn ids(v: &[Value]) -> Vec<u64> {
    v.iter().map(|x| x["id"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn stops_when_total_reached_without_an_extra_request() {
    let server = MockServer::start_async().await;
    // 3 full pages and a total of 9: no 4th request.
    let mocks = mock_pages(&server, 3, &[3, 3, 3], &[Some(9), Some(9), Some(9)], false).await;
    let stray = server
        .mock_async(|when, then| {
            when.path("/items").query_param("page", "4");
            then.status(200).json_body(json!({"items": [], "total": 9}));
        })
        .await;
    let stream =
        page_number(http(&server), 3).stop_rules(StopRules { short_page: false, ..StopRules::default() }).into_stream();
    let items = stream.collect_all().await.unwrap();
    assert_eq!(ids(&items), (0..9).collect::<Vec<_>>());
    for m in &mocks {
        m.assert_calls_async(1).await;
    }
    stray.assert_calls_async(0).await;
}

#[tokio::test]
async fn stops_on_a_short_page() {
    let server = MockServer::start_async().await;
    let mocks = mock_pages(&server, 4, &[4, 4, 2], &[None, None, None], false).await;
    let items = page_number(http(&server), 4).into_stream().collect_all().await.unwrap();
    assert_eq!(items.len(), 10);
    for m in &mocks {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn stops_on_has_next_false() {
    let server = MockServer::start_async().await;
    // Full pages, no total: only has_next ends it.
    let mocks = mock_pages(&server, 2, &[2, 2, 2], &[None, None, None], true).await;
    let rules = StopRules { short_page: false, total: false, has_next: true };
    let items = page_number(http(&server), 2).stop_rules(rules).into_stream().collect_all().await.unwrap();
    assert_eq!(ids(&items), vec![0, 1, 2, 3, 4, 5]);
    for m in &mocks {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn a_total_that_changes_midway_uses_the_latest_value() {
    let server = MockServer::start_async().await;
    // The total grows from 4 to 6 while paging: all 6 are read, and the stream reports 6.
    let mocks = mock_pages(&server, 2, &[2, 2, 2], &[Some(4), Some(6), Some(6)], false).await;
    let rules = StopRules { short_page: false, ..StopRules::default() };
    let mut stream = page_number(http(&server), 2).stop_rules(rules).into_stream();
    assert_eq!(stream.total(), None);
    let mut got = Vec::new();
    let mut totals = Vec::new();
    while let Some(item) = stream.next().await {
        got.push(item.unwrap());
        totals.push(stream.total());
    }
    assert_eq!(ids(&got), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(totals.first().copied().flatten(), Some(4));
    assert_eq!(stream.total(), Some(6));
    for m in &mocks {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn an_empty_first_page_is_an_empty_listing() {
    let server = MockServer::start_async().await;
    mock_pages(&server, 5, &[0], &[Some(0)], false).await;
    let items = page_number(http(&server), 5).into_stream().collect_all().await.unwrap();
    assert!(items.is_empty());
}

#[tokio::test]
async fn errors_end_the_stream_with_the_error() {
    let server = MockServer::start_async().await;
    mock_pages(&server, 2, &[2], &[Some(10)], false).await;
    server
        .mock_async(|when, then| {
            when.path("/items").query_param("page", "2");
            then.status(404).json_body(json!({"detail": "gone"}));
        })
        .await;
    let mut stream = page_number(http(&server), 2).into_stream();
    assert!(stream.next().await.unwrap().is_ok());
    assert!(stream.next().await.unwrap().is_ok());
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn cursor_pagination_follows_next_urls() {
    let server = MockServer::start_async().await;
    let p2 = server.url("/queue/?cursor=abc");
    let p3 = server.url("/queue/?cursor=def");
    let m1 = server
        .mock_async(|when, then| {
            when.path("/queue/").query_param_missing("cursor");
            then.status(200)
                .json_body(json!({"next": p2, "previous": null, "results": [{"id": 1}, {"id": 2}], "taskcount": 5}));
        })
        .await;
    let m2 = server
        .mock_async(|when, then| {
            when.path("/queue/").query_param("cursor", "abc");
            then.status(200).json_body(json!({"next": p3, "results": [{"id": 3}, {"id": 4}], "taskcount": 5}));
        })
        .await;
    let m3 = server
        .mock_async(|when, then| {
            when.path("/queue/").query_param("cursor", "def");
            then.status(200).json_body(json!({"next": null, "results": [{"id": 5}], "taskcount": 5}));
        })
        .await;
    let h = http(&server);
    let pager = CursorPaginator::new(move |cursor: Option<String>| {
        let h = h.clone();
        async move {
            let v: Value = h.json(Request::get(cursor.unwrap_or_else(|| "queue/".into()))).await?;
            Ok(Page::new(v["results"].as_array().cloned().unwrap_or_default())
                .with_total(v["taskcount"].as_u64())
                .with_next(v["next"].as_str().map(String::from)))
        }
    });
    let stream = pager.into_stream();
    let items = stream.collect_all().await.unwrap();
    assert_eq!(ids(&items), vec![1, 2, 3, 4, 5]);
    m1.assert_calls_async(1).await;
    m2.assert_calls_async(1).await;
    m3.assert_calls_async(1).await;
}

#[tokio::test]
async fn id_chunks_in_input_order_each_fetched_once() {
    let server = MockServer::start_async().await;
    // Echo the ids back, with later chunks answering faster than earlier ones.
    let m = server
        .mock_async(|when, then| {
            when.path("/objects/");
            then.respond_with(|req: &httpmock::HttpMockRequest| {
                let q = req.query_params();
                let ids: Vec<u64> = q.iter().filter(|(k, _)| k == "oid").map(|(_, v)| v.parse().unwrap()).collect();
                std::thread::sleep(Duration::from_millis(if ids[0] < 10 { 60 } else { 5 }));
                httpmock::HttpMockResponse::builder()
                    .status(200)
                    .body(serde_json::to_string(&ids.iter().map(|i| json!({"oid": i})).collect::<Vec<_>>()).unwrap())
                    .build()
            });
        })
        .await;
    let h = http(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let input: Vec<u64> = (0..25).collect();
    let chunks: Vec<_> = id_chunks(input.clone(), 10, 3, move |chunk: Vec<u64>| {
        let h = h.clone();
        c2.fetch_add(1, Ordering::SeqCst);
        async move {
            let v: Vec<Value> = h.json(Request::get("objects/").query_list("oid", chunk, ListStyle::Repeated)).await?;
            Result::Ok(v)
        }
    })
    .collect()
    .await;
    assert_eq!(chunks.iter().map(|c| c.index).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(chunks.iter().map(|c| c.ids.len()).collect::<Vec<_>>(), vec![10, 10, 5]);
    let out: Vec<u64> =
        chunks.into_iter().flat_map(|c| c.result.unwrap()).map(|v| v["oid"].as_u64().unwrap()).collect();
    assert_eq!(out, input);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    m.assert_calls_async(3).await;
}

#[tokio::test]
async fn a_failed_chunk_is_reported_not_dropped() {
    let chunks: Vec<_> = id_chunks((0..6).collect::<Vec<u32>>(), 2, 2, |chunk: Vec<u32>| async move {
        if chunk.contains(&3) {
            Err(broker_core::Error::Transport { url: "u".into(), message: "reset".into() })
        } else {
            Ok(chunk.len())
        }
    })
    .collect()
    .await;
    assert_eq!(chunks.len(), 3);
    assert!(chunks[0].result.is_ok() && chunks[2].result.is_ok());
    assert_eq!(chunks[1].ids, vec![2, 3]);
    assert!(chunks[1].result.is_err());
}

/// A paginator over `pages` (items per page) that reports `clamp` as the page size it used,
/// counting the fetches.
fn clamped(pages: Vec<usize>, asked: u64, clamp: Option<u64>, fetches: Arc<AtomicUsize>) -> PageNumberPaginator<u64> {
    PageNumberPaginator::new(1, asked, move |p| {
        fetches.fetch_add(1, Ordering::SeqCst);
        let n = pages.get((p.page - 1) as usize).copied().unwrap_or(0);
        let start = (p.page - 1) * clamp.unwrap_or(asked);
        let items: Vec<u64> = (start..start + n as u64).collect();
        async move { Ok(Page::new(items).with_page_size(clamp)) }
    })
    .stop_rules(StopRules { total: false, short_page: true, has_next: false })
}

#[tokio::test]
async fn a_server_clamped_page_size_does_not_end_the_listing_early() {
    // Asked for 500 a page, the server clamps to 100 and says so: full pages of 100 are not
    // short, and the listing goes on until the short page of 30.
    let fetches = Arc::new(AtomicUsize::new(0));
    let items = clamped(vec![100, 100, 30], 500, Some(100), fetches.clone()).into_stream().collect_all().await.unwrap();
    assert_eq!(items.len(), 230);
    assert_eq!(items, (0..230).collect::<Vec<u64>>());
    assert_eq!(fetches.load(Ordering::SeqCst), 3, "no request after the short page");
}

#[tokio::test]
async fn without_a_reported_size_the_asked_size_judges_short_pages() {
    // The same clamping server that does not report its size: the first page (100 < 500)
    // looks short, so only it is read. This is why servers' reported sizes matter.
    let fetches = Arc::new(AtomicUsize::new(0));
    let items = clamped(vec![100, 100, 30], 500, None, fetches.clone()).into_stream().collect_all().await.unwrap();
    assert_eq!(items.len(), 100);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    // A reported size of 0 is ignored (falls back to the ask).
    let fetches = Arc::new(AtomicUsize::new(0));
    let items = clamped(vec![2, 2], 2, Some(0), fetches.clone()).into_stream().collect_all().await.unwrap();
    assert_eq!(items.len(), 4);
}

mod time_window {
    use broker_core::Error;
    use broker_core::paginate::{Paginator, TimeWindow, TimeWindowPaginator};
    use std::sync::{Arc, Mutex};

    /// A "last N between two times" server over `(time, id)` rows: the newest `limit`
    /// rows with `start <= time <= stop`, newest first; `keep` filters after the limit.
    fn server(
        rows: Vec<(f64, &'static str)>,
        keep: fn(&(f64, &'static str)) -> bool,
        asked: Arc<Mutex<Vec<TimeWindow>>>,
    ) -> impl FnMut(TimeWindow) -> std::future::Ready<broker_core::Result<Vec<(f64, &'static str)>>> + Send {
        move |w: TimeWindow| {
            asked.lock().unwrap().push(w);
            let mut hit: Vec<_> = rows.iter().copied().filter(|(t, _)| *t >= w.start && *t <= w.stop).collect();
            hit.sort_by(|a, b| b.0.total_cmp(&a.0));
            hit.truncate(w.limit as usize);
            std::future::ready(Ok(hit.into_iter().filter(keep).collect()))
        }
    }

    fn key(r: &(f64, &'static str)) -> Option<(f64, String)> {
        Some((r.0, r.1.to_string()))
    }

    #[tokio::test]
    async fn walks_back_through_full_windows_without_loss_or_repeats() {
        // Two rows share t = 7 across the first window's boundary.
        let rows = vec![(10.0, "a"), (9.0, "b"), (7.0, "c"), (7.0, "d"), (5.0, "e"), (3.0, "f"), (1.0, "g")];
        let asked = Arc::new(Mutex::new(Vec::new()));
        let p = TimeWindowPaginator::new(0.0, 100.0, 3, key, server(rows, |_| true, asked.clone()));
        let got: Vec<_> = p.into_stream().collect_all().await.unwrap();
        let ids: Vec<_> = got.iter().map(|r| r.1).collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e", "f", "g"]);
        let stops: Vec<f64> = asked.lock().unwrap().iter().map(|w| w.stop).collect();
        // 100 -> oldest of [a,b,c]=7 -> oldest of [c,d,e]=5 -> [e,f,g] full: 1 -> [g] short: done.
        assert_eq!(stops, [100.0, 7.0, 5.0, 1.0]);
        assert!(asked.lock().unwrap().iter().all(|w| w.start == 0.0 && w.limit == 3));
    }

    #[tokio::test]
    async fn a_short_answer_ends_the_walk_without_another_request() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let p =
            TimeWindowPaginator::new(0.0, 100.0, 5, key, server(vec![(3.0, "x"), (2.0, "y")], |_| true, asked.clone()));
        let got = p.into_stream().collect_all().await.unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(asked.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn more_items_at_one_time_than_the_limit_is_an_error_not_a_loop() {
        let rows = vec![(5.0, "a"), (5.0, "b"), (5.0, "c"), (1.0, "d")];
        let asked = Arc::new(Mutex::new(Vec::new()));
        let p = TimeWindowPaginator::new(0.0, 10.0, 2, key, server(rows, |_| true, asked.clone()));
        let err = p.into_stream().collect_all().await.unwrap_err();
        assert!(matches!(&err, Error::InvalidInput { field, .. } if field == "limit"), "{err}");
        assert!(asked.lock().unwrap().len() <= 3);
    }

    #[tokio::test]
    async fn a_server_that_filters_after_the_limit_is_walked_to_the_end() {
        // The server drops odd ids after limiting: pages come back short although more rows exist.
        let rows: Vec<(f64, &'static str)> =
            vec![(9.0, "0"), (8.0, "1"), (7.0, "2"), (6.0, "3"), (5.0, "4"), (4.0, "5"), (3.0, "6"), (2.0, "7")];
        let asked = Arc::new(Mutex::new(Vec::new()));
        let keep: fn(&(f64, &'static str)) -> bool = |r| r.1.parse::<u32>().unwrap() % 2 == 0;
        let p = TimeWindowPaginator::new(0.0, 10.0, 3, key, server(rows.clone(), keep, asked.clone()));
        let short = p.into_stream().collect_all().await.unwrap();
        assert_eq!(short.len(), 2, "the default rule stops at the first short answer");
        let p = TimeWindowPaginator::new(0.0, 10.0, 3, key, server(rows, keep, asked.clone())).short_page_ends(false);
        let all: Vec<_> = p.into_stream().collect_all().await.unwrap().into_iter().map(|r| r.1).collect();
        assert_eq!(all, ["0", "2", "4", "6"]);
    }

    #[tokio::test]
    async fn an_empty_or_inverted_window_sends_nothing() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let p = TimeWindowPaginator::new(10.0, 5.0, 3, key, server(vec![(7.0, "a")], |_| true, asked.clone()));
        assert!(p.into_stream().collect_all().await.unwrap().is_empty());
        assert!(asked.lock().unwrap().is_empty());
    }
}
