//! Criterion micro-benchmarks of the result-file parsers (columns, typed rows) (`cargo bench -p fallingstar-forcedphot`).
#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fallingstar_forcedphot::{ResultColumns, ResultTable};
use std::fmt::Write as _;
use std::hint::black_box;

/// A 19-column result file with `rows` rows in the server's number formats.
fn file(rows: usize) -> String {
    let mut s = String::from(
        "###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  apfit mag5sig Sky   Obs\n",
    );
    let mut a: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..rows {
        a ^= a << 13;
        a ^= a >> 7;
        a ^= a << 17;
        let flux = (a % 4000) as f64 - 1000.0;
        let m = if flux >= 0.0 { 23.9 - 2.5 * flux.max(1e-3).log10() } else { -(23.9 - 2.5 * (-flux).log10()) };
        let _ = writeln!(
            s,
            "{:.6} {:>7.3} {:>6.3} {:>5} {:>4} {} {:>2} {:>6.2} {:>9.5} {:>9.5} {:>8.2} {:>8.2} {:.2} {:.2} {:>5.1} {:>6.3} {:>5.2} {:>5.2} 0{}a{}o{:04}o",
            57000.0 + i as f64 * 0.003,
            m,
            (a % 1000) as f64 / 1000.0,
            flux as i64,
            5 + a % 40,
            if a % 2 == 0 { 'o' } else { 'c' },
            0,
            (a % 500) as f64 / 100.0,
            150.12345,
            2.34567,
            100.0 + (a % 1_026_000) as f64 / 100.0,
            100.0 + ((a >> 20) % 1_026_000) as f64 / 100.0,
            2.1,
            1.9,
            ((a >> 8) % 1800) as f64 / 10.0 - 90.0,
            -0.4,
            19.5,
            20.3,
            1 + a % 4,
            57000 + i / 300,
            i % 10000
        );
    }
    s
}

fn parse(c: &mut Criterion) {
    let text = file(20_000);
    let mut g = c.benchmark_group("forcedphot");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("ResultColumns::parse 20k rows", |b| b.iter(|| ResultColumns::parse(black_box(&text))));
    g.bench_function("ResultTable::parse 20k rows", |b| b.iter(|| ResultTable::parse(black_box(&text))));
    let table = ResultTable::parse(&text).unwrap_or_default();
    g.bench_function("to_lightcurve 20k rows", |b| b.iter(|| black_box(&table).to_lightcurve("bench")));
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
