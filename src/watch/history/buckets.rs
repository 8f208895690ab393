//! A run's stored series read back (pure): the 10 s or 1 min buckets SQLite
//! kept for the series a pattern names, as a table (offset from the run's
//! start, time, count, mean, min, max, last), or as the `timestamp,value`
//! CSV that `understudy detect` reads (the bucket means), so a past run's
//! series can be scored again or handed to another tool.

use std::fmt::Write as _;

use super::{clock, utc};
use crate::domain::series::{Bucket, Rollup};

/// One series' buckets over a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesBuckets {
    /// The key as written everywhere (`ENV/SERVICE/[INSTANCE/]METRIC`).
    pub key: String,
    pub rollup: Rollup,
    pub buckets: Vec<Bucket>,
}

/// A value with about four significant digits (whole above 1000, so bytes
/// stay readable), in exponent form only from 1e10 on.
fn value(v: f64) -> String {
    let a = v.abs();
    if a >= 1e10 {
        format!("{v:.3e}")
    } else if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// `+41 s`, `-7 s` from the run's start.
fn offset(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "+" };
    format!("{sign}{} s", ms.unsigned_abs() / 1000)
}

/// Every series' buckets as a table, one block per series.
pub fn table(run_start_ms: i64, series: &[SeriesBuckets]) -> String {
    let mut out = String::new();
    for (i, s) in series.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{} · {} s buckets · {}",
            s.key,
            s.rollup.seconds(),
            s.buckets.len()
        );
        let _ = writeln!(
            out,
            "  {:>8}  {:<10}  {:>5}  {:>10}  {:>10}  {:>10}  {:>10}",
            "OFFSET", "TIME (UTC)", "COUNT", "MEAN", "MIN", "MAX", "LAST"
        );
        for b in &s.buckets {
            let _ = writeln!(
                out,
                "  {:>8}  {:<10}  {:>5}  {:>10}  {:>10}  {:>10}  {:>10}",
                offset(b.start_ms - run_start_ms),
                clock(b.start_ms),
                b.count,
                value(b.mean()),
                value(b.min),
                value(b.max),
                value(b.last)
            );
        }
    }
    out
}

/// One series as `timestamp,value` CSV (header first; the bucket means,
/// timestamps in UTC as NAB writes them), the input of `understudy detect`.
pub fn csv(series: &SeriesBuckets) -> String {
    let mut out = String::from("timestamp,value\n");
    for b in &series.buckets {
        let _ = writeln!(out, "{},{}", utc(b.start_ms), b.mean());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 05:01:04 UTC.
    const T0: i64 = 1_796_619_664_000;

    fn bucket(start_ms: i64, values: &[f64]) -> Bucket {
        Bucket {
            start_ms,
            count: values.len() as u32,
            sum: values.iter().sum(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            last: *values.last().unwrap(),
        }
    }

    fn p99() -> SeriesBuckets {
        SeriesBuckets {
            key: "shadow/gateway/latency_p99_ms".into(),
            rollup: Rollup::TenSeconds,
            buckets: vec![
                bucket(T0 - 4_000, &[9.0, 10.0]),
                bucket(T0 + 6_000, &[208.5, 212.25, 209.0]),
            ],
        }
    }

    #[test]
    fn a_table_gives_each_bucket_its_offset_time_and_statistics() {
        let memory = SeriesBuckets {
            key: "prod/api/shop_api_1/memory_bytes".into(),
            rollup: Rollup::OneMinute,
            buckets: vec![bucket(T0 - 4_000, &[14_400_000.0])],
        };
        let text = table(T0, &[p99(), memory]);
        let expected = "\
shadow/gateway/latency_p99_ms · 10 s buckets · 2
    OFFSET  TIME (UTC)  COUNT        MEAN         MIN         MAX        LAST
      -4 s  05:01:00        2       9.500       9.000        10.0        10.0
      +6 s  05:01:10        3       209.9       208.5       212.2       209.0

prod/api/shop_api_1/memory_bytes · 60 s buckets · 1
    OFFSET  TIME (UTC)  COUNT        MEAN         MIN         MAX        LAST
      -4 s  05:01:00        1    14400000    14400000    14400000    14400000
";
        assert_eq!(text, expected);
    }

    #[test]
    fn the_csv_is_what_detect_reads_back() {
        let text = csv(&p99());
        assert_eq!(
            text,
            "timestamp,value\n2026-12-07 05:01:00,9.5\n2026-12-07 05:01:10,209.91666666666666\n"
        );
        let mut detector = crate::detect::Detector::new(
            crate::detect::Series::default(),
            crate::detect::Config::default(),
        );
        let summary =
            crate::detect::csv::score(text.as_bytes(), Vec::new(), &mut detector, |_, _| {})
                .unwrap();
        assert_eq!(summary.rows, 2);
        assert_eq!(summary.odd_counts.iter().sum::<u64>(), 0, "{summary:?}");
    }
}
