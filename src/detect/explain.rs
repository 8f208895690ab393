//! Explanations: why a point scored what it did, in numbers (cheap, `Copy`,
//! built for every point) and, on demand, in words with the series' name and
//! unit ("p99 latency 310 ms, 3.1x its baseline 100 ms, for 20 s").
//!
//! Owns the rendering only; the numbers come from `detector`.

use std::fmt::Write as _;

use super::Series;

/// Which detector raised the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Not scored: NaN / infinite value or timestamp, or out of order.
    Skipped,
    /// Still learning the baseline.
    Warmup,
    /// Nothing unusual.
    Normal,
    /// One point far from its baseline, beyond this series' usual extremes.
    Spike,
    /// A sustained shift over the last dozen points.
    Shift,
    /// A slow drift over the last ~60 points.
    Drift,
    /// Large swings from point to point over the last ~50 points (an
    /// oscillation or a burst of noise), beyond this series' usual ones.
    Flapping,
    /// The value has not changed for 1.5x longer than this series stayed
    /// unchanged before (a record that decays; at least 30 points): a stuck
    /// sensor, a frozen exporter, a flatline.
    Still,
}

/// The numbers behind a score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Explanation {
    pub cause: Cause,
    /// The observed value.
    pub value: f64,
    /// What the baseline predicted (NaN when skipped).
    pub baseline: f64,
    /// The baseline's usual deviation.
    pub spread: f64,
    /// `(value - baseline) / spread`.
    pub z: f64,
    /// Seconds the value has been on this side of its baseline by more than
    /// two spreads (0 if it is not); for [`Cause::Still`], seconds it has
    /// not changed.
    pub duration: f64,
    /// Whether the baseline is the time-of-day profile.
    pub seasonal: bool,
}

impl Explanation {
    /// One line for a person, e.g. `p99 latency 310 ms, 3.1x its baseline
    /// 100 ms, for 20 s (spike)`.
    pub fn render(&self, series: &Series) -> String {
        let name = if series.name.is_empty() {
            "value"
        } else {
            series.name.as_str()
        };
        let mut line = format!("{name} {}", quantity(self.value, &series.unit));
        match self.cause {
            Cause::Skipped => line.push_str(" skipped (not finite or out of order)"),
            Cause::Warmup => line.push_str(" (still learning its baseline)"),
            Cause::Still => {
                let _ = write!(line, ", unchanged for {} (stuck)", duration(self.duration));
            }
            _ => self.compare(&mut line, &series.unit),
        }
        line
    }

    fn compare(&self, line: &mut String, unit: &str) {
        let which = if self.seasonal {
            "its usual level for this time of day"
        } else {
            "its baseline"
        };
        let base = quantity(self.baseline, unit);
        let ratio = self.value / self.baseline;
        if self.baseline > 0.0 && self.value >= 0.0 && !(0.9..=1.1).contains(&ratio) {
            let _ = write!(line, ", {} {which} {base}", factor(ratio));
        } else {
            let diff = self.value - self.baseline;
            let side = if diff >= 0.0 { "above" } else { "below" };
            let _ = write!(
                line,
                ", {} {side} {which} {base}",
                quantity(diff.abs(), unit)
            );
        }
        if self.spread.is_finite() && self.spread > 0.0 {
            let _ = write!(line, " ({:.1} spreads)", self.z.abs());
        }
        if self.duration > 0.0 {
            let _ = write!(line, ", for {}", duration(self.duration));
        }
        let what = match self.cause {
            Cause::Spike => " (spike)",
            Cause::Shift => " (sustained shift)",
            Cause::Drift => " (slow drift)",
            Cause::Flapping => " (flapping)",
            _ => "",
        };
        line.push_str(what);
    }
}

fn factor(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{ratio:.0}x")
    } else if ratio >= 0.1 {
        format!("{ratio:.1}x")
    } else {
        format!("{ratio:.2}x")
    }
}

/// Binary prefixes for byte quantities (`B`, `B/s`).
const BYTE_PREFIXES: [&str; 5] = ["", "Ki", "Mi", "Gi", "Ti"];

/// A number with 3 significant digits (no exponent for everyday sizes) and
/// its unit; bytes (`B`, `B/s`) scale to KiB, MiB, GiB, TiB as the console
/// shows them, and seconds under one to ms or µs (a scraped
/// `_seconds` histogram's p99).
fn quantity(v: f64, unit: &str) -> String {
    if let Some(rest) = unit
        .strip_prefix('B')
        .filter(|r| r.is_empty() || r.starts_with('/'))
    {
        let mut scaled = v;
        let mut prefix = 0;
        while scaled.abs() >= 1024.0 && prefix + 1 < BYTE_PREFIXES.len() {
            scaled /= 1024.0;
            prefix += 1;
        }
        if prefix > 0 {
            return format!("{} {}B{rest}", number(scaled), BYTE_PREFIXES[prefix]);
        }
    }
    if unit == "s" && v != 0.0 && v.abs() < 1.0 {
        return if v.abs() < 1e-3 {
            format!("{} µs", number(v * 1e6))
        } else {
            format!("{} ms", number(v * 1e3))
        };
    }
    let number = number(v);
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

/// `v` with 3 significant digits, in exponent form only outside 0.01 - 1e6.
fn number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || (0.01..1e6).contains(&a) {
        let decimals = if a >= 100.0 {
            0
        } else if a >= 10.0 {
            1
        } else {
            2
        };
        format!("{v:.decimals$}")
    } else {
        format!("{v:.2e}")
    }
}

/// Seconds as `45 s`, `12 min`, `3.5 h`, `2.0 d`.
fn duration(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Series {
        Series::new("p99 latency", "ms")
    }

    fn spike() -> Explanation {
        Explanation {
            cause: Cause::Spike,
            value: 310.0,
            baseline: 100.0,
            spread: 10.0,
            z: 21.0,
            duration: 20.0,
            seasonal: false,
        }
    }

    #[test]
    fn a_spike_reads_as_a_ratio_with_its_duration() {
        assert_eq!(
            spike().render(&series()),
            "p99 latency 310 ms, 3.1x its baseline 100 ms (21.0 spreads), for 20 s (spike)"
        );
    }

    #[test]
    fn near_or_negative_baselines_read_as_differences() {
        let e = Explanation {
            value: -3.0,
            baseline: 1.5,
            z: -4.5,
            duration: 0.0,
            seasonal: true,
            cause: Cause::Shift,
            ..spike()
        };
        assert_eq!(
            e.render(&Series::new("temperature", "C")),
            "temperature -3.00 C, 4.50 C below its usual level for this time of day 1.50 C (4.5 spreads) (sustained shift)"
        );
    }

    #[test]
    fn skipped_and_warmup_points_say_so() {
        let e = Explanation {
            cause: Cause::Warmup,
            ..spike()
        };
        assert_eq!(
            e.render(&Series::new("", "")),
            "value 310 (still learning its baseline)"
        );
        let e = Explanation {
            cause: Cause::Skipped,
            value: f64::NAN,
            ..spike()
        };
        assert!(e.render(&series()).contains("skipped"));
    }

    #[test]
    fn durations_and_quantities_scale() {
        assert_eq!(duration(30.0), "30 s");
        assert_eq!(duration(900.0), "15 min");
        assert_eq!(duration(5.0 * 3600.0), "5.0 h");
        assert_eq!(duration(3.0 * 86_400.0), "3.0 d");
        assert_eq!(quantity(2.5e8, ""), "2.50e8");
        assert_eq!(quantity(0.0, ""), "0.00");
        assert_eq!(quantity(2.5e8, "B"), "238 MiB");
        assert_eq!(quantity(14_400_000.0, "B"), "13.7 MiB");
        assert_eq!(quantity(512.0, "B"), "512 B");
        assert_eq!(quantity(-3.0 * 1024.0, "B/s"), "-3.00 KiB/s");
        assert_eq!(quantity(2e15, "B"), "1819 TiB");
        assert_eq!(quantity(5e6, "Bq"), "5.00e6 Bq", "only bytes scale");
        assert_eq!(quantity(0.0023, "s"), "2.30 ms");
        assert_eq!(quantity(0.25, "s"), "250 ms");
        assert_eq!(quantity(4.2e-5, "s"), "42.0 µs");
        assert_eq!(quantity(3.5, "s"), "3.50 s");
        assert_eq!(quantity(0.0, "s"), "0.00 s");
        assert_eq!(
            quantity(0.0023, "s/s"),
            "2.30e-3 s/s",
            "a rate of seconds stays"
        );
    }
}
