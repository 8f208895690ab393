//! Production's users for the demo (pure): a compressed day as a traffic
//! profile — night, a morning ramp, a lunch peak, an evening decline and a
//! few random bursts — over the shop's real endpoints, with real ids and
//! request bodies. `understudy demo traffic` replays it against the shop's
//! gateway, so production has genuine access logs to learn from.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::traffic::{Completeness, MixEntry, PROFILE_SCHEMA, Summary, TrafficProfile};

/// The shape of a day: (fraction of the day, share of the peak rate),
/// linearly interpolated.
const DAY: [(f64, f64); 10] = [
    (0.00, 0.15),
    (0.20, 0.15),
    (0.35, 0.60),
    (0.43, 0.65),
    (0.47, 1.00),
    (0.55, 1.00),
    (0.60, 0.65),
    (0.75, 0.60),
    (0.95, 0.20),
    (1.00, 0.15),
];

/// The day's rate factor at `x` in 0..=1.
pub fn day_shape(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    DAY.windows(2)
        .find(|w| x <= w[1].0)
        .map_or(DAY[DAY.len() - 1].1, |w| {
            let (x0, y0) = w[0];
            let (x1, y1) = w[1];
            y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        })
}

/// Requests per second over `seconds`, peaking at `peak_rps`, with two or
/// three seeded bursts (2-3 s at 1.8x) outside the lunch peak.
pub fn day_curve(seconds: u32, peak_rps: u32, seed: u64) -> Vec<u32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut factor = vec![1.0f64; seconds as usize];
    let bursts = rng.random_range(2..=3);
    for _ in 0..bursts {
        let len = rng.random_range(2..=3u32);
        let at = loop {
            let x: f64 = rng.random_range(0.05..0.9);
            if !(0.4..0.6).contains(&x) {
                break (x * f64::from(seconds)) as usize;
            }
        };
        for f in factor.iter_mut().skip(at).take(len as usize) {
            *f = 1.8;
        }
    }
    (0..seconds)
        .map(|i| {
            let x = (f64::from(i) + 0.5) / f64::from(seconds.max(1));
            (f64::from(peak_rps) * day_shape(x) * factor[i as usize]).round() as u32
        })
        .collect()
}

fn entry(
    method: &str,
    path: &str,
    share: f64,
    examples: Vec<String>,
    bodies: Vec<String>,
) -> MixEntry {
    MixEntry {
        method: method.to_owned(),
        path: path.to_owned(),
        share,
        count: 0,
        examples,
        bodies,
        status: BTreeMap::new(),
        bytes: Summary::default(),
        latency_ms: None,
    }
}

/// The shop's users: what they do, in what share.
pub fn user_mix(seed: u64) -> Vec<MixEntry> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let users: Vec<String> = (1..=40).map(|n| format!("user-{n}")).collect();
    let products: Vec<String> = (1..=100).map(|n| format!("/api/products/{n}")).collect();
    let terms = [
        "backpack", "lamp", "red", "mug", "socks", "desk", "green", "kettle",
    ];
    let cart_bodies: Vec<String> = (0..20)
        .map(|_| {
            format!(
                r#"{{"product":{},"qty":{}}}"#,
                rng.random_range(1..=100),
                rng.random_range(1..=3)
            )
        })
        .collect();
    vec![
        entry(
            "GET",
            "/api/products",
            0.25,
            vec!["/api/products".into()],
            vec![],
        ),
        entry("GET", "/api/products/{id}", 0.35, products, vec![]),
        entry(
            "GET",
            "/api/search",
            0.10,
            terms.iter().map(|t| format!("/api/search?q={t}")).collect(),
            vec![],
        ),
        entry(
            "POST",
            "/api/cart/{id}/items",
            0.15,
            users
                .iter()
                .map(|u| format!("/api/cart/{u}/items"))
                .collect(),
            cart_bodies,
        ),
        entry(
            "GET",
            "/api/cart/{id}",
            0.10,
            users.iter().map(|u| format!("/api/cart/{u}")).collect(),
            vec![],
        ),
        entry(
            "POST",
            "/api/orders",
            0.05,
            vec!["/api/orders".into()],
            users
                .iter()
                .map(|u| format!(r#"{{"user":"{u}"}}"#))
                .collect(),
        ),
    ]
}

/// The compressed day as a profile, for replay.
pub fn day_profile(seconds: u32, peak_rps: u32, seed: u64) -> TrafficProfile {
    let rate = day_curve(seconds, peak_rps, seed);
    TrafficProfile {
        schema: PROFILE_SCHEMA.to_owned(),
        source: format!("understudy demo traffic (seed {seed})"),
        start: "1970-01-01T00:00:00Z".to_owned(),
        rate,
        mix: user_mix(seed),
        peaks: Vec::new(),
        edge_cases: Vec::new(),
        status: BTreeMap::new(),
        bytes: Summary::default(),
        completeness: Completeness::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_has_a_lunch_peak_and_quiet_ends() {
        assert!((day_shape(0.5) - 1.0).abs() < 1e-9);
        assert!((day_shape(0.0) - 0.15).abs() < 1e-9);
        assert!(day_shape(0.3) > day_shape(0.1), "morning ramp");
        assert!(day_shape(0.9) < day_shape(0.7), "evening decline");
        assert!((day_shape(2.0) - 0.15).abs() < 1e-9);
    }

    #[test]
    fn the_curve_peaks_at_lunch_with_bursts_elsewhere() {
        let curve = day_curve(60, 50, 7);
        assert_eq!(curve.len(), 60);
        assert_eq!(curve[30], 50, "lunch");
        assert!(curve[2] < 15, "night");
        let bursts = curve
            .iter()
            .enumerate()
            .filter(|&(i, &r)| {
                let base = 50.0 * day_shape((i as f64 + 0.5) / 60.0);
                f64::from(r) > base * 1.5
            })
            .count();
        assert!(
            (4..=9).contains(&bursts),
            "two or three bursts of 2-3 s: {bursts}"
        );
        assert_eq!(day_curve(60, 50, 7), curve, "seeded");
        assert_ne!(day_curve(60, 50, 8), curve);
    }

    #[test]
    fn the_mix_covers_the_shop_with_real_bodies() {
        let mix = user_mix(1);
        let total: f64 = mix.iter().map(|m| m.share).sum();
        assert!((total - 1.0).abs() < 1e-9);
        let writes: Vec<_> = mix.iter().filter(|m| m.method == "POST").collect();
        assert!(writes.iter().all(|m| !m.bodies.is_empty()));
        assert!(writes[0].bodies[0].contains("\"product\""));
        assert!(mix.iter().all(|m| !m.examples.is_empty()));
    }

    #[test]
    fn the_day_replays_without_missing_bodies() {
        let profile = day_profile(20, 30, 3);
        let plan = crate::traffic::replay::plan(
            &profile,
            &crate::traffic::replay::ReplayOptions::default(),
        )
        .unwrap();
        assert!(plan.notes.is_empty(), "{:?}", plan.notes);
        assert_eq!(plan.arrivals.len() as u32, profile.rate.iter().sum::<u32>());
    }
}
