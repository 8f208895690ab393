//! Peaks in a per-second rate curve (pure).
//!
//! The rule:
//! 1. **Baseline.** The median of each minute of the curve, then, for each
//!    minute, the median of those minute medians over a centred two-hour
//!    window (the whole curve when shorter). A plateau shorter than about an
//!    hour, or any spike, does not move it; a slow daily swing does.
//! 2. **Hot seconds.** A second is hot when its rate exceeds the baseline
//!    `b` by more than `max(3·√b, b/4, 3)` (three Poisson standard
//!    deviations, a quarter above, and at least 3 requests).
//! 3. **Merging.** Hot seconds separated by at most 5 cold ones form one
//!    peak (noise inside a plateau does not split it).
//! 4. **Shape.** A peak of at most 10 s is a `spike` — and only counts if its
//!    height exceeds the baseline by `max(5·√b, b, 5)` (a 1 s blip at 3σ is
//!    noise). A longer peak is a `ramp` when the mean rate of its first
//!    third and of its last third differ by at least 40 % of its height
//!    above the baseline (a climb or a decline), else a `plateau`.
//!
//! At most [`MAX_PEAKS`] peaks are kept (the largest by excess requests),
//! in time order.

use crate::domain::traffic::Peak;

/// The most peaks a profile lists.
pub const MAX_PEAKS: usize = 20;
/// Longest peak that is a spike.
pub const SPIKE_MAX_S: u32 = 10;
/// Cold seconds that still join two hot runs.
pub const MERGE_GAP_S: usize = 5;
/// Half the baseline window, in minutes.
const WINDOW_HALF_MIN: usize = 60;

/// The baseline rate of every second (see the module docs).
pub fn baseline(rate: &[u32]) -> Vec<f64> {
    if rate.is_empty() {
        return Vec::new();
    }
    let minutes: Vec<f64> = rate.chunks(60).map(median_u32).collect();
    let per_minute: Vec<f64> = (0..minutes.len())
        .map(|k| {
            let lo = k.saturating_sub(WINDOW_HALF_MIN);
            let hi = (k + WINDOW_HALF_MIN + 1).min(minutes.len());
            median_f64(&minutes[lo..hi])
        })
        .collect();
    (0..rate.len()).map(|t| per_minute[t / 60]).collect()
}

fn median_u32(v: &[u32]) -> f64 {
    let mut s = v.to_vec();
    s.sort_unstable();
    let n = s.len();
    if n % 2 == 1 {
        f64::from(s[n / 2])
    } else {
        f64::midpoint(f64::from(s[n / 2 - 1]), f64::from(s[n / 2]))
    }
}

fn median_f64(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_unstable_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        f64::midpoint(s[n / 2 - 1], s[n / 2])
    }
}

fn hot_threshold(b: f64) -> f64 {
    b + (3.0 * b.sqrt()).max(b / 4.0).max(3.0)
}

fn spike_threshold(b: f64) -> f64 {
    b + (5.0 * b.sqrt()).max(b).max(5.0)
}

/// The peaks of `rate` (see the module docs).
pub fn detect(rate: &[u32]) -> Vec<Peak> {
    let base = baseline(rate);
    let hot: Vec<bool> = rate
        .iter()
        .zip(&base)
        .map(|(&r, &b)| f64::from(r) > hot_threshold(b))
        .collect();
    let mut peaks: Vec<(f64, Peak)> = runs(&hot)
        .into_iter()
        .filter_map(|(s, e)| classify(&rate[s..e], &base[s..e], s))
        .collect();
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
    peaks.truncate(MAX_PEAKS);
    let mut peaks: Vec<Peak> = peaks.into_iter().map(|(_, p)| p).collect();
    peaks.sort_by_key(|p| p.start_s);
    peaks
}

/// Half-open runs of hot seconds, joined across gaps of ≤ MERGE_GAP_S.
fn runs(hot: &[bool]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut t = 0;
    while t < hot.len() {
        if !hot[t] {
            t += 1;
            continue;
        }
        let start = t;
        while t < hot.len() && hot[t] {
            t += 1;
        }
        match out.last_mut() {
            Some(last) if start - last.1 <= MERGE_GAP_S => last.1 = t,
            _ => out.push((start, t)),
        }
    }
    out
}

/// A peak (with its excess requests, for ranking) or None for noise.
fn classify(rate: &[u32], base: &[f64], start: usize) -> Option<(f64, Peak)> {
    let height = rate.iter().copied().max()?;
    let b = median_f64(base);
    let duration = rate.len() as u32;
    let excess: f64 = rate.iter().map(|&r| (f64::from(r) - b).max(0.0)).sum();
    let shape = if duration <= SPIKE_MAX_S {
        if f64::from(height) <= spike_threshold(b) {
            return None;
        }
        "spike"
    } else {
        let third = rate.len() / 3;
        let mean = |s: &[u32]| s.iter().map(|&r| f64::from(r)).sum::<f64>() / s.len() as f64;
        let first = mean(&rate[..third]);
        let last = mean(&rate[rate.len() - third..]);
        if (last - first).abs() >= 0.4 * (f64::from(height) - b) {
            "ramp"
        } else {
            "plateau"
        }
    };
    Some((
        excess,
        Peak {
            start_s: start as u32,
            duration_s: duration,
            peak_rps: height,
            baseline_rps: (b * 10.0).round() / 10.0,
            shape: shape.to_owned(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise around `level`: level-2 ..= level+2.
    fn noisy(level: u32, t: usize) -> u32 {
        level - 2 + ((t * 7 + t / 3) % 5) as u32
    }

    /// An hour at ~10 rps with a lunch plateau (20:00-30:00 at ~30) and a
    /// 2 s spike at 41:40 (100 rps).
    fn day() -> Vec<u32> {
        (0..3600)
            .map(|t| match t {
                1200..1800 => noisy(30, t),
                2500 | 2501 => 100,
                _ => noisy(10, t),
            })
            .collect()
    }

    #[test]
    fn a_flat_noisy_curve_has_no_peaks() {
        let flat: Vec<u32> = (0..3600).map(|t| noisy(10, t)).collect();
        assert!(detect(&flat).is_empty());
        assert!(detect(&[]).is_empty());
        assert!(detect(&[0, 0, 0]).is_empty());
    }

    #[test]
    fn lunch_plateau_and_spike() {
        let peaks = detect(&day());
        assert_eq!(peaks.len(), 2, "{peaks:?}");
        let lunch = &peaks[0];
        assert_eq!((lunch.start_s, lunch.duration_s), (1200, 600));
        assert_eq!(lunch.shape, "plateau");
        assert_eq!(lunch.peak_rps, 32);
        assert!((lunch.baseline_rps - 10.0).abs() < 1.0, "{lunch:?}");
        let spike = &peaks[1];
        assert_eq!(
            (
                spike.start_s,
                spike.duration_s,
                spike.peak_rps,
                spike.shape.as_str()
            ),
            (2500, 2, 100, "spike")
        );
    }

    #[test]
    fn a_slow_climb_is_a_ramp() {
        let rate: Vec<u32> = (0..1800)
            .map(|t| match t {
                600..900 => 10 + (t as u32 - 600) / 5,
                _ => 10,
            })
            .collect();
        let peaks = detect(&rate);
        assert_eq!(peaks.len(), 1, "{peaks:?}");
        assert_eq!(peaks[0].shape, "ramp");
        assert_eq!(peaks[0].peak_rps, 69);
        assert!(
            peaks[0].start_s > 600 && peaks[0].start_s < 700,
            "{peaks:?}"
        );
        assert_eq!(peaks[0].start_s + peaks[0].duration_s, 900);
    }

    #[test]
    fn a_small_blip_is_not_a_spike() {
        let mut rate = vec![10u32; 600];
        rate[300] = 21; // above the hot threshold (19.5), below the spike one (25.8)
        assert!(detect(&rate).is_empty());
        rate[300] = 30;
        assert_eq!(detect(&rate).len(), 1);
    }

    #[test]
    fn sparse_traffic_needs_a_real_burst() {
        let mut rate = vec![0u32; 300];
        rate[10] = 1;
        rate[20] = 2;
        assert!(detect(&rate).is_empty());
        rate[100] = 40;
        let peaks = detect(&rate);
        assert_eq!(peaks.len(), 1);
        assert_eq!(peaks[0].start_s, 100);
    }

    #[test]
    fn gaps_within_a_plateau_are_bridged() {
        let rate: Vec<u32> = (0..1200)
            .map(|t| match t {
                400..700 if t % 50 == 25 => 10,
                400..700 => 40,
                _ => 10,
            })
            .collect();
        let peaks = detect(&rate);
        assert_eq!(peaks.len(), 1, "{peaks:?}");
        assert_eq!((peaks[0].start_s, peaks[0].duration_s), (400, 300));
    }
}
