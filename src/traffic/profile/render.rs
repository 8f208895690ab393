//! The human summary of a profile (pure text): source, span, totals, a
//! sparkline of the curve, the top of the mix, peaks, edge cases and
//! completeness with the first rejected lines.

use std::fmt::Write as _;

use crate::domain::traffic::{Completeness, EdgeKind, TrafficProfile};

/// Mix entries listed.
pub const TOP_MIX: usize = 10;
/// Columns of the sparkline.
pub const SPARK_WIDTH: usize = 60;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `rate` in at most `width` columns, each the highest second of its
/// bucket; empty buckets are blank. Returns the line and the bucket size.
pub fn sparkline(rate: &[u32], width: usize) -> (String, usize) {
    if rate.is_empty() || width == 0 {
        return (String::new(), 1);
    }
    let bucket = rate.len().div_ceil(width);
    let maxes: Vec<u32> = rate
        .chunks(bucket)
        .map(|c| c.iter().copied().max().unwrap_or(0))
        .collect();
    let top = maxes.iter().copied().max().unwrap_or(0).max(1);
    let line = maxes
        .iter()
        .map(|&m| {
            if m == 0 {
                ' '
            } else {
                BARS[((u64::from(m) * 8).div_ceil(u64::from(top)) as usize).clamp(1, 8) - 1]
            }
        })
        .collect();
    (line, bucket)
}

/// `3h02m05s`, `4m10s`, `42s`.
pub fn human_secs(s: u64) -> String {
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

/// `153 B`, `12.3 KB`, `1.2 MB` (powers of 1000).
pub fn human_bytes(b: f64) -> String {
    if b < 1000.0 {
        format!("{b:.0} B")
    } else if b < 1e6 {
        format!("{:.1} KB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.1} GB", b / 1e9)
    }
}

fn kind_name(k: EdgeKind) -> &'static str {
    match k {
        EdgeKind::LargestBody => "largest body",
        EdgeKind::Slowest => "slowest",
        EdgeKind::RareEndpoint => "rare endpoint",
        EdgeKind::Error => "error",
    }
}

/// One line about completeness.
pub fn completeness_line(c: &Completeness) -> String {
    let mut s = format!(
        "{} lines, {} parsed, {} rejected",
        c.lines, c.parsed, c.rejected
    );
    if c.rejected > 0 {
        let reasons: Vec<String> = c.reasons.iter().map(|(r, n)| format!("{r}: {n}")).collect();
        let lines: Vec<String> = c.first_rejected.iter().map(u64::to_string).collect();
        let _ = write!(
            s,
            " ({}); first rejected lines: {}",
            reasons.join(", "),
            lines.join(", ")
        );
    }
    s
}

/// The top of the mix as a table.
fn write_mix(out: &mut String, p: &TrafficProfile) {
    let shown = &p.mix[..p.mix.len().min(TOP_MIX)];
    let endpoint = |m: &crate::domain::traffic::MixEntry| format!("{} {}", m.method, m.path);
    let width = shown
        .iter()
        .map(|m| endpoint(m).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 56);
    let plural = if p.mix.len() == 1 { "" } else { "s" };
    let _ = writeln!(out, "mix          {} endpoint{plural}", p.mix.len());
    let _ = writeln!(
        out,
        "  {:>7} {:>8}  {:<width$}  {:>9}  {:>20}  status",
        "share", "count", "endpoint", "body p50", "latency p50 / p99"
    );
    for m in shown {
        let statuses: Vec<String> = m.status.iter().map(|(s, n)| format!("{s}×{n}")).collect();
        let latency = m.latency_ms.map_or_else(
            || "-".to_owned(),
            |l| format!("{:.1} / {:.1} ms", l.p50, l.p99),
        );
        let _ = writeln!(
            out,
            "  {:>6.2}% {:>8}  {:<width$}  {:>9}  {:>20}  {}",
            m.share * 100.0,
            m.count,
            endpoint(m),
            human_bytes(m.bytes.p50),
            latency,
            statuses.join(" "),
        );
    }
    if p.mix.len() > TOP_MIX {
        let _ = writeln!(out, "  ... {} more", p.mix.len() - TOP_MIX);
    }
}

/// The summary `traffic profile` prints without `--json` or `-o`.
pub fn summary(p: &TrafficProfile) -> String {
    let mut out = String::new();
    let total: u64 = p.rate.iter().map(|&r| u64::from(r)).sum();
    let secs = p.rate.len() as u64;
    let _ = writeln!(out, "source       {}", p.source);
    let _ = writeln!(
        out,
        "span         {} + {} ({secs} s)",
        p.start,
        human_secs(secs)
    );
    if let Some((at, peak)) = p
        .rate
        .iter()
        .enumerate()
        .max_by_key(|(i, r)| (**r, std::cmp::Reverse(*i)))
    {
        let _ = writeln!(
            out,
            "requests     {total}, mean {:.1} rps, peak {peak} rps at +{}",
            total as f64 / secs.max(1) as f64,
            human_secs(at as u64)
        );
    }
    let (line, bucket) = sparkline(&p.rate, SPARK_WIDTH);
    if !line.is_empty() {
        let _ = writeln!(
            out,
            "rate         {line}  (max of each {})",
            human_secs(bucket as u64)
        );
    }
    if !p.mix.is_empty() {
        write_mix(&mut out, p);
    }
    if !p.peaks.is_empty() {
        let _ = writeln!(out, "peaks        (start, duration, shape, height)");
        for k in &p.peaks {
            let _ = writeln!(
                out,
                "  +{:<9} {:<8} {:<8} {} rps (baseline {:.1})",
                human_secs(u64::from(k.start_s)),
                human_secs(u64::from(k.duration_s)),
                k.shape,
                k.peak_rps,
                k.baseline_rps
            );
        }
    }
    if !p.edge_cases.is_empty() {
        let _ = writeln!(out, "edge cases");
        for e in &p.edge_cases {
            let time = e
                .duration_ms
                .map(|d| format!(", {d:.1} ms"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<14} {} {} -> {}, {}{time} (line {})",
                kind_name(e.kind),
                e.method,
                e.path,
                e.status,
                human_bytes(e.bytes as f64),
                e.line
            );
        }
    }
    let _ = writeln!(out, "completeness {}", completeness_line(&p.completeness));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines() {
        assert_eq!(sparkline(&[], 60).0, "");
        assert_eq!(sparkline(&[0, 1, 2, 4, 8], 60).0, " ▁▂▄█");
        let (line, bucket) = sparkline(&vec![5; 600], 60);
        assert_eq!((line.chars().count(), bucket), (60, 10));
    }

    #[test]
    fn human_units() {
        assert_eq!(human_secs(42), "42s");
        assert_eq!(human_secs(250), "4m10s");
        assert_eq!(human_secs(3600 * 3 + 125), "3h02m05s");
        assert_eq!(human_bytes(153.0), "153 B");
        assert_eq!(human_bytes(1_234_567.0), "1.2 MB");
    }

    #[test]
    fn completeness_lists_reasons_and_lines() {
        let c = Completeness {
            lines: 5,
            parsed: 3,
            rejected: 2,
            reasons: [("bad status".to_owned(), 1), ("no time".to_owned(), 1)].into(),
            first_rejected: vec![2, 5],
        };
        assert_eq!(
            completeness_line(&c),
            "5 lines, 3 parsed, 2 rejected (bad status: 1, no time: 1); first rejected lines: 2, 5"
        );
    }
}
