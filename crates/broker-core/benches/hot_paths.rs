//! Criterion micro-benchmarks of the pagination and merge hot paths (`cargo bench -p broker-core`):
//! draining a page-number paginator into an item stream, and merging light curves by MJD.
#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use broker_core::paginate::{Page, PageNumberPaginator, Paginator};
use broker_core::{Band, Lightcurve, PhotometryPoint};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn paginate(c: &mut Criterion) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else { return };
    let (pages, size) = (200u64, 500u64);
    let mut g = c.benchmark_group("paginate");
    g.throughput(Throughput::Elements(pages * size));
    g.bench_function("PageNumberPaginator -> ItemStream, 200 pages x 500", |b| {
        b.iter(|| {
            rt.block_on(async {
                let p = PageNumberPaginator::new(1, size, move |req| async move {
                    let items: Vec<u64> = if req.page <= pages { (0..req.page_size).collect() } else { Vec::new() };
                    Ok(Page::new(items).with_total(Some(pages * size)))
                });
                p.into_stream().collect_all().await.map(|v| v.len()).unwrap_or(0)
            })
        })
    });
    g.finish();
}

fn merge(c: &mut Criterion) {
    let part = |broker: &str, offset: f64, n: usize| {
        Lightcurve::from_points(
            (0..n)
                .map(|i| {
                    let mjd = 59000.0 + offset + i as f64 * 0.7;
                    PhotometryPoint::from_mag(
                        broker,
                        "ztf",
                        "obj",
                        mjd,
                        if i % 2 == 0 { Band::ZtfG } else { Band::ZtfR },
                        18.0,
                        Some(0.05),
                    )
                })
                .collect(),
        )
    };
    let parts = vec![part("alerce", 0.0, 40_000), part("atlas", 0.3, 40_000), part("skyportal", 0.1, 20_000)];
    let mut g = c.benchmark_group("merge");
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("Lightcurve::merge 3 parts, 100k points", |b| {
        b.iter(|| Lightcurve::merge(black_box(parts.clone())).len())
    });
    g.finish();
}

criterion_group!(benches, paginate, merge);
criterion_main!(benches);
