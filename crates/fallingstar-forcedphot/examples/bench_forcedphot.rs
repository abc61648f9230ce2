//! Our side of the forced-photometry parsing benchmark run by `cargo xtask bench` (build it
//! with `--release --features polars` for the DataFrame column).
//!
//! ```text
//! bench_forcedphot generate <out.txt> <rows>   # a deterministic 19-column result file
//! bench_forcedphot parse <file> <runs>         # -> columns, typed rows, DataFrame (polars)
//! ```
//!
//! `parse` also measures two bounds over the same file, both on every core: the float
//! parsing alone (`fast-float2` over every numeric field, the fields found beforehand, outside
//! the timing) and a plain `memchr` scan for line feeds.
//!
//! The generated rows use the column layout and number formats of the server's files (the
//! same `format!` as the sandbox's result tables), with pseudo-random values.

use fallingstar_forcedphot::ResultTable;
use fallingstar_forcedphot::columns::ResultColumns;
use serde_json::json;
use std::fmt::Write as _;
use std::time::Instant;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn arg(args: &[String], i: usize) -> Res<&str> {
    args.get(i).map(String::as_str).ok_or_else(|| format!("missing argument {i}; see the file's docs").into())
}

/// xorshift64*: deterministic values without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A result file with `rows` rows (19 columns, the header of the real files).
fn generate(rows: usize) -> String {
    let mut s = String::with_capacity(rows * 160 + 200);
    s.push_str("###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  apfit mag5sig Sky   Obs\n");
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let (ra, dec) = (150.123_45, 2.345_67);
    for i in 0..rows {
        let mjd = 57000.0 + i as f64 * 0.0029 + r.unit() * 0.001;
        let flux = (r.unit() - 0.3) * 2000.0;
        let flux_err = 5.0 + r.unit() * 40.0;
        let ujy = flux.round() as i64;
        let dujy = flux_err.round().max(1.0) as i64;
        let mag = 23.9 - 2.5 * flux.abs().max(1e-3).log10();
        let m = if flux >= 0.0 { mag } else { -mag };
        let dm = (1.0857 * flux_err / flux.abs().max(1e-3)).min(9.999);
        let a = r.next();
        let band = if a % 2 == 0 { 'o' } else { 'c' };
        let x = 100.0 + (a % 1_026_000) as f64 / 100.0;
        let y = 100.0 + ((a >> 20) % 1_026_000) as f64 / 100.0;
        let maj = 1.8 + ((a >> 40) % 80) as f64 / 100.0;
        let min = maj - ((a >> 48) % 20) as f64 / 100.0;
        let phi = ((a >> 8) % 1800) as f64 / 10.0 - 90.0;
        let chi = 0.6 + ((a >> 12) % 400) as f64 / 100.0 + (flux.abs() / 2000.0);
        let sky = 19.8 + ((a >> 30) % 150) as f64 / 100.0;
        let limit = 19.0 + ((a >> 36) % 100) as f64 / 100.0;
        let unit = ["01a", "02a", "03a", "04a"][(a % 4) as usize];
        let night = mjd.floor() as i64;
        let _ = writeln!(
            s,
            "{:.6} {:>7.3} {:>6.3} {:>5} {:>4} {} {:>2} {:>6.2} {:>9.5} {:>9.5} {:>8.2} {:>8.2} {:.2} {:.2} {:>5.1} {:>6.3} {:>5.2} {:>5.2} {unit}{night}o{:04}{band}",
            mjd,
            m,
            dm,
            ujy,
            dujy,
            band,
            0,
            chi,
            ra,
            dec,
            x,
            y,
            maj,
            min,
            phi,
            -0.35 - ((a >> 52) % 10) as f64 / 100.0,
            limit,
            sky,
            i % 10000,
        );
    }
    s
}

/// Runs `f` on `parts` on one thread each; the wall time in seconds and the results.
fn on_threads<T: Sync, R: Send>(parts: &[T], f: impl Fn(&T) -> R + Sync) -> (f64, Vec<R>) {
    let t = Instant::now();
    let out = std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = parts.iter().map(|p| s.spawn(move || f(p))).collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    (t.elapsed().as_secs_f64(), out)
}

/// The byte ranges of the numeric fields of every row (not `F`, not `Obs`), in `threads`
/// groups of whole rows.
fn numeric_fields(text: &str, threads: usize) -> Vec<Vec<(usize, usize)>> {
    let mut all = Vec::new();
    let base = text.as_ptr() as usize;
    for line in text.lines().skip(1) {
        for (i, f) in line.split_ascii_whitespace().enumerate() {
            if i != 5 && i != 18 {
                let start = f.as_ptr() as usize - base;
                all.push((start, start + f.len()));
            }
        }
    }
    let per = all.len().div_ceil(threads.max(1)).max(1);
    all.chunks(per).map(<[_]>::to_vec).collect()
}

fn parse(args: &[String]) -> Res<serde_json::Value> {
    let text = std::fs::read_to_string(arg(args, 1)?)?;
    let runs: usize = arg(args, 2)?.parse()?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (mut columns, mut typed, mut floats, mut scan) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut frame: Vec<f64> = Vec::new();
    let mut rows = 0;
    let fields = numeric_fields(&text, threads);
    let chunk = text.len().div_ceil(threads);
    let pieces: Vec<&[u8]> = text.as_bytes().chunks(chunk.max(1)).collect();
    for _ in 0..runs {
        let t = Instant::now();
        let cols = ResultColumns::parse(&text)?;
        columns.push(t.elapsed().as_secs_f64());
        rows = cols.len();
        drop(cols);

        let t = Instant::now();
        let table = ResultTable::parse(&text)?;
        typed.push(t.elapsed().as_secs_f64());
        if table.len() != rows {
            return Err("the typed rows and the columns differ in length".into());
        }
        drop(table);

        #[cfg(feature = "polars")]
        {
            let t = Instant::now();
            let df = ResultColumns::parse(&text)?.into_dataframe()?;
            frame.push(t.elapsed().as_secs_f64());
            if df.height() != rows {
                return Err("the DataFrame and the columns differ in length".into());
            }
        }

        // Bounds: the float parsing alone, and a line scan, each on every core.
        let (secs, sums) = on_threads(&fields, |fs| {
            let mut sum = 0.0;
            for &(a, b) in fs {
                sum += fast_float2::parse::<f64, _>(&text.as_bytes()[a..b]).unwrap_or(0.0);
            }
            sum
        });
        floats.push(secs);
        std::hint::black_box(sums);
        let (secs, lines) = on_threads(&pieces, |p| memchr::memchr_iter(b'\n', p).count());
        scan.push(secs);
        if lines.iter().sum::<usize>() < rows {
            return Err("the line scan found fewer lines than rows".into());
        }
    }
    let _ = &mut frame;
    let numeric: usize = fields.iter().map(Vec::len).sum();
    Ok(json!({
        "bytes": text.len(), "rows": rows, "threads": threads, "numeric_fields": numeric,
        "columns_secs": columns, "typed_secs": typed, "frame_secs": frame,
        "floats_secs": floats, "scan_secs": scan,
    }))
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.first().map(String::as_str) {
        Some("generate") => {
            let rows: usize = arg(&args, 2)?.parse()?;
            let text = generate(rows);
            std::fs::write(arg(&args, 1)?, &text)?;
            json!({"bytes": text.len(), "rows": rows})
        }
        Some("parse") => parse(&args)?,
        _ => return Err("usage: bench_forcedphot generate|parse ... (see the file's docs)".into()),
    };
    println!("{out}");
    Ok(())
}
