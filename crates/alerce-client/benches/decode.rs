//! Criterion micro-benchmarks of ALeRCE JSON decoding (`cargo bench -p alerce-client`): the
//! client's path (NaN tolerance + serde with field paths) against serde_json's own
//! `Value` parse of the same bytes.
#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use alerce_client::ztf::{ZtfDetection, ZtfLightcurve};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;

/// `n` detections shaped like the server's (and the sandbox's) replies.
fn detections(n: usize) -> Vec<u8> {
    let rows: Vec<Value> = (0..n)
        .map(|i| {
            let x = i as f64;
            json!({"tid": "ztf", "mjd": 59000.0 + x * 0.01, "candid": (1_500_000_000_000_000_000u64 + i as u64).to_string(),
                "fid": 1 + i % 2, "pid": 1_500_000_000_000u64 + i as u64, "diffmaglim": 20.5 + (x * 0.37).sin(),
                "isdiffpos": 1, "nid": 1500 + i / 10, "distnr": 0.52, "magpsf": 18.0 + (x * 0.11).cos(),
                "sigmapsf": 0.05, "magap": 18.1, "sigmagap": 0.06, "ra": 150.123_456_7, "dec": 2.345_678_9,
                "rb": 0.81, "rbversion": "t17_f5_c3", "drb": 0.99, "rfid": 470_123_456, "has_stamp": true,
                "corrected": false, "dubious": false, "step_id_corr": "correction_1.0.6", "phase": 0.0})
        })
        .collect();
    serde_json::to_vec(&rows).unwrap_or_default()
}

fn decode(c: &mut Criterion) {
    let url = url::Url::parse("http://bench.invalid/").ok();
    let body = detections(5_000);
    let lc = {
        let mut v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        serde_json::to_vec(&json!({"detections": v.take(), "non_detections": []})).unwrap_or_default()
    };
    let mut g = c.benchmark_group("alerce");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("serde_json Value, 5k detections", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&body)).ok())
    });
    if let Some(url) = url {
        g.bench_function("Vec<ZtfDetection> via decode_json_lenient, 5k", |b| {
            b.iter(|| broker_core::http::decode_json_lenient::<Vec<ZtfDetection>>(black_box(&body), &url).ok())
        });
        g.bench_function("ZtfLightcurve via decode_json_lenient, 5k", |b| {
            b.iter(|| broker_core::http::decode_json_lenient::<ZtfLightcurve>(black_box(&lc), &url).ok())
        });
    }
    g.bench_function("replace_nonfinite_json scan, 5k", |b| {
        b.iter(|| broker_core::http::replace_nonfinite_json(black_box(&body)).len())
    });
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
