//! Medians and the formatting of table cells: times, ratios, rates, sizes, CPU time.

use serde_json::Value;

pub(super) fn s<T: ToString>(v: T) -> String {
    v.to_string()
}

/// The median of a JSON array of seconds.
pub(super) fn median(v: &Value) -> Option<f64> {
    let mut xs: Vec<f64> = v.as_array()?.iter().filter_map(Value::as_f64).collect();
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 })
}

pub(super) fn secs(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.1} s")
    } else if x >= 0.1 {
        format!("{x:.2} s")
    } else {
        format!("{:.1} ms", x * 1e3)
    }
}

pub(super) fn ratio(peer: Option<f64>, ours: Option<f64>) -> String {
    match (peer, ours) {
        (Some(p), Some(o)) if o > 0.0 => format!("{:.1}x", p / o),
        _ => "—".into(),
    }
}

pub(super) fn mb_s(bytes: f64, secs: f64) -> String {
    format!("{:.0} MB/s", bytes / secs / 1e6)
}

pub(super) fn rows_s(rows: f64, secs: f64) -> String {
    let r = rows / secs;
    if r >= 1e6 { format!("{:.1} M rows/s", r / 1e6) } else { format!("{:.0} k rows/s", r / 1e3) }
}

/// A size in KiB (a JSON number) in MiB; 0 when absent.
pub(super) fn kib_as_mib(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0) / 1024.0
}

/// "CPU: client X s + sandbox Y s": the medians of a run's CPU time on each side (from
/// `cpu_secs` / `server_cpu_secs`), and the floor they put on the wall time of 2 cores.
pub(super) fn cpu_split(r: &Value) -> String {
    match (median(&r["cpu_secs"]), median(&r["server_cpu_secs"])) {
        (Some(c), Some(sv)) => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            format!(
                "CPU: client {c:.1} s + sandbox {sv:.1} s = {:.1} s, floor {:.1} s on {cores:.0} cores",
                c + sv,
                (c + sv) / cores
            )
        }
        _ => "CPU: not measured".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median(&serde_json::json!([3.0, 1.0, 2.0])), Some(2.0));
        assert_eq!(median(&serde_json::json!([4.0, 1.0, 2.0, 3.0])), Some(2.5));
        assert_eq!(median(&serde_json::json!([])), None);
    }
}
