#![allow(clippy::float_cmp)] // exact values are the point of these checks

use proptest::prelude::*;

use super::*;
use crate::domain::series::{Environment, metric};

fn key(i: usize) -> SeriesKey {
    SeriesKey::instance(
        Environment::Shadow,
        format!("svc-{}", i / 10),
        format!("svc-{}-{}", i / 10, i % 10),
        metric::STANDARD[i % metric::STANDARD.len()],
    )
}

fn store() -> SeriesStore {
    SeriesStore::new(StoreConfig::default()).unwrap()
}

#[test]
fn counts_bad_input_by_kind() {
    let mut s = store();
    let k = key(0);
    assert_eq!(s.push(&k, Sample::new(10_000, 1.0)), Admit::Accepted);
    assert_eq!(s.push(&k, Sample::new(10_000, 2.0)), Admit::Duplicate);
    assert_eq!(s.push(&k, Sample::new(11_000, f64::NAN)), Admit::NotFinite);
    assert_eq!(
        s.push(&k, Sample::new(11_000, f64::INFINITY)),
        Admit::NotFinite
    );
    assert_eq!(s.push(&k, Sample::new(11_500, 3.0)), Admit::Accepted);
    // Same second, earlier timestamp: merged into the current bucket.
    assert_eq!(s.push(&k, Sample::new(11_100, 5.0)), Admit::Merged);
    // An earlier second: dropped.
    assert_eq!(s.push(&k, Sample::new(10_900, 5.0)), Admit::OutOfOrder);
    let stats = s.stats(&k).unwrap();
    assert_eq!(
        stats,
        Stats {
            accepted: 3,
            nan: 2,
            out_of_order: 1,
            duplicate: 1,
            gaps: 0
        }
    );
    // The merged sample does not become the latest.
    assert_eq!(s.latest(&k), Some(Sample::new(11_500, 3.0)));
    let raw = s.range(&k, 0, 20_000, Resolution::Raw);
    assert_eq!(
        raw,
        vec![Sample::new(10_000, 1.0), Sample::new(11_000, 4.0)]
    );
}

#[test]
fn gaps_are_counted_against_the_typical_interval() {
    let mut s = store();
    let k = key(1);
    for t in 0..20 {
        s.push(&k, Sample::new(t * 1000, 1.0));
    }
    s.push(&k, Sample::new(19_000 + 10_000, 1.0));
    s.push(&k, Sample::new(30_000, 1.0));
    assert_eq!(s.stats(&k).unwrap().gaps, 1);
    // Gap seconds are empty, not zero.
    let raw = s.range(&k, 19_000, 30_000, Resolution::Raw);
    assert_eq!(raw.len(), 2);
}

#[test]
fn rollups_aggregate_their_buckets() {
    let mut s = store();
    let k = key(2);
    for t in 0..120 {
        s.push(&k, Sample::new(t * 1000 + 500, t as f64));
    }
    let ten = s.buckets(&k, 0, 20_000, Rollup::TenSeconds);
    assert_eq!(ten.len(), 2);
    assert_eq!(
        ten[1],
        Bucket {
            start_ms: 10_000,
            count: 10,
            sum: 145.0,
            min: 10.0,
            max: 19.0,
            last: 19.0
        }
    );
    let minute = s.range(&k, 0, 120_000, Resolution::Rollup(Rollup::OneMinute));
    assert_eq!(
        minute,
        vec![Sample::new(0, 29.5), Sample::new(60_000, 89.5)]
    );
    // A query inside a bucket returns the bucket that overlaps it.
    assert_eq!(s.buckets(&k, 15_000, 15_001, Rollup::TenSeconds).len(), 1);
    assert!(s.buckets(&k, 15_000, 15_000, Rollup::TenSeconds).is_empty());
}

#[test]
fn rings_forget_what_is_older_than_their_span() {
    let config = StoreConfig::with_retention(Duration::from_secs(60));
    let mut s = SeriesStore::new(config).unwrap();
    let k = key(3);
    for t in 0..200 {
        s.push(&k, Sample::new(t * 1000, 1.0));
    }
    let raw = s.range(&k, 0, 1_000_000, Resolution::Raw);
    assert_eq!(raw.len(), 60);
    assert_eq!(raw[0].t_ms, 140_000);
    assert_eq!(s.buckets(&k, 0, 1_000_000, Rollup::TenSeconds).len(), 6);
    assert_eq!(s.buckets(&k, 0, 1_000_000, Rollup::OneMinute).len(), 1);
    // A jump far past the span clears everything.
    s.push(&k, Sample::new(10_000_000, 2.0));
    assert_eq!(
        s.range(&k, 0, 20_000_000, Resolution::Raw),
        vec![Sample::new(10_000_000, 2.0)]
    );
}

#[test]
fn take_rollups_hands_out_sealed_buckets_once() {
    let mut s = store();
    let k = key(4);
    for t in 0..25 {
        s.push(&k, Sample::new(t * 1000, 1.0));
    }
    let rows = s.take_rollups(false);
    // Buckets 0 and 10 s are sealed; 20 s and the minute are open.
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.rollup == Rollup::TenSeconds));
    assert!(s.take_rollups(false).is_empty());
    let open = s.take_rollups(true);
    assert_eq!(open.len(), 2);
    assert_eq!(open[0].bucket.count + open[1].bucket.count, 5 + 25);
    // Sealing later hands the open bucket out again (an upsert replaces it).
    s.push(&k, Sample::new(31_000, 1.0));
    let again = s.take_rollups(false);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].bucket.start_ms, 20_000);
    assert_eq!(again[0].bucket.count, 5);
}

#[test]
fn idle_series_are_evicted_and_new_ones_beyond_the_limit_rejected() {
    let config = StoreConfig {
        max_series: 2,
        ..StoreConfig::default()
    };
    let mut s = SeriesStore::new(config).unwrap();
    s.push(&key(0), Sample::new(0, 1.0));
    s.push(&key(1), Sample::new(3_000_000, 1.0));
    assert_eq!(
        s.push(&key(2), Sample::new(3_000_000, 1.0)),
        Admit::Rejected
    );
    assert_eq!(s.evict_idle(3_700_000), vec![key(0)]);
    assert_eq!(
        s.push(&key(2), Sample::new(3_700_000, 1.0)),
        Admit::Accepted
    );
    let totals = s.totals();
    assert_eq!((totals.series, totals.rejected, totals.evicted), (2, 1, 1));
    assert_eq!(s.keys(), vec![key(1), key(2)]);
    assert!(s.remove(&key(1)));
    assert!(!s.remove(&key(1)));
}

#[test]
fn bad_configurations_are_refused() {
    let zero = StoreConfig {
        minute_buckets: 0,
        ..StoreConfig::default()
    };
    assert!(matches!(
        SeriesStore::new(zero),
        Err(SeriesError::ZeroCapacity {
            field: "minute_buckets",
            ..
        })
    ));
    let gap = StoreConfig {
        gap_factor: 0.5,
        ..StoreConfig::default()
    };
    assert!(SeriesStore::new(gap).is_err());
}

/// The documented bound: 500 series x 1 h at 1 s (every bucket filled)
/// fit in 23 MB, i.e. under 46 KB a series with names and map slots.
#[test]
fn five_hundred_series_for_an_hour_fit_in_23_mb() {
    let mut s = store();
    for i in 0..500 {
        let k = key(i);
        for t in 0..3600 {
            s.push(&k, Sample::new(t * 1000, (t % 17) as f64));
        }
    }
    assert_eq!(s.totals().samples.accepted, 500 * 3600);
    let per_series = per_series_bytes(s.config());
    assert_eq!(per_series, 3600 * 8 + (360 + 60) * 36);
    let bytes = s.bytes();
    eprintln!(
        "500 series x 1 h: {bytes} bytes ({:.1} KB a series; rings {per_series})",
        bytes as f64 / 500.0 / 1000.0
    );
    assert!(bytes >= 500 * per_series);
    assert!(bytes <= 23_000_000, "{bytes}");
    // More samples do not grow it: the rings are full.
    for i in 0..500 {
        s.push(&key(i), Sample::new(3_600_000, 1.0));
    }
    assert_eq!(s.bytes(), bytes);
}

#[derive(Debug, Default, Clone, Copy)]
struct Agg {
    count: u32,
    sum: f64,
    min: f64,
    max: f64,
    last: f64,
    last_t: i64,
}

fn recompute(stored: &[Sample], width: i64) -> std::collections::BTreeMap<i64, Agg> {
    let mut out = std::collections::BTreeMap::<i64, Agg>::new();
    for s in stored {
        let b = out.entry(s.t_ms.div_euclid(width)).or_insert(Agg {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            last_t: i64::MIN,
            ..Agg::default()
        });
        b.count += 1;
        b.sum += s.value;
        b.min = b.min.min(s.value);
        b.max = b.max.max(s.value);
        if s.t_ms > b.last_t {
            b.last_t = s.t_ms;
            b.last = s.value;
        }
    }
    out
}

fn arb_samples() -> impl Strategy<Value = Vec<(i64, f64)>> {
    // Mostly forward steps with some jitter back, repeats and NaN.
    prop::collection::vec(
        (
            -1500i64..4000,
            prop_oneof![9 => -100.0f64..100.0, 1 => Just(f64::NAN)],
        ),
        1..400,
    )
    .prop_map(|steps| {
        let mut t = 1_000_000i64;
        steps
            .into_iter()
            .map(|(dt, v)| {
                t = (t + dt).max(0);
                (t, v)
            })
            .collect()
    })
}

proptest! {
    /// Every sample is counted exactly once, and each rollup bucket equals
    /// the recomputation from the stored samples.
    #[test]
    fn rollups_equal_recomputation_from_raw_samples(samples in arb_samples()) {
        let mut s = store();
        let k = key(7);
        let mut stored = Vec::new();
        for &(t, v) in &samples {
            let admit = s.push(&k, Sample::new(t, v));
            if matches!(admit, Admit::Accepted | Admit::Merged) {
                stored.push(Sample::new(t, v));
            }
        }
        let st = s.stats(&k).unwrap();
        prop_assert_eq!(
            st.accepted + st.nan + st.duplicate + st.out_of_order,
            samples.len() as u64
        );
        prop_assert_eq!(st.accepted as usize, stored.len());
        let last = stored.iter().map(|s| s.t_ms).max();
        let Some(last) = last else { return Ok(()); };
        // Everything stored lies within the retained hour for these inputs.
        prop_assert!(last - stored[0].t_ms < 3_600_000);
        for rollup in Rollup::ALL {
            let expected = recompute(&stored, rollup.width_ms());
            let got = s.buckets(&k, i64::MIN / 2, i64::MAX / 2, rollup);
            prop_assert_eq!(got.len(), expected.len());
            for b in got {
                let e = expected[&(b.start_ms / rollup.width_ms())];
                prop_assert_eq!(b.count, e.count);
                prop_assert_eq!(b.sum, e.sum);
                prop_assert_eq!((b.min, b.max, b.last), (e.min, e.max, e.last));
            }
        }
        let raw = s.range(&k, i64::MIN / 2, i64::MAX / 2, Resolution::Raw);
        let expected = recompute(&stored, 1000);
        prop_assert_eq!(raw.len(), expected.len());
        for r in raw {
            let e = expected[&(r.t_ms / 1000)];
            prop_assert!((r.value - e.sum / f64::from(e.count)).abs() < 1e-9);
        }
    }
}
