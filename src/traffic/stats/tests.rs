use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn percentiles_are_in_milliseconds() {
    let mut latency = Latency::new();
    for n in 1..=100 {
        latency.record(ms(n));
    }
    let p = latency.summary();
    assert!((p.p50 - 50.0).abs() < 0.1, "{p:?}");
    assert!((p.p99 - 99.0).abs() < 0.1, "{p:?}");
    assert!((p.max - 100.0).abs() < 0.1, "{p:?}");
    assert_eq!(Latency::new().summary(), Percentiles::default());
}

#[test]
fn latencies_beyond_sixty_seconds_are_clamped() {
    let mut latency = Latency::new();
    latency.record(Duration::from_secs(3600));
    assert_eq!(latency.count(), 1);
    assert!((latency.summary().max - 60_000.0).abs() < 60.0);
}

#[test]
fn outcomes_count_by_kind() {
    let mut bucket = Bucket::new(2);
    bucket.record_open(0, Outcome::Status(200), ms(3), ms(2));
    bucket.record_open(1, Outcome::Status(404), ms(3), ms(2));
    bucket.record_open(1, Outcome::Status(503), ms(3), ms(2));
    bucket.record_open(0, Outcome::Failed(Failure::Timeout), ms(3), ms(2));
    bucket.record_open(0, Outcome::Failed(Failure::Connect), ms(3), ms(2));
    bucket.record_open(0, Outcome::Failed(Failure::Io), ms(3), ms(2));
    bucket.record_open(0, Outcome::Status(42), ms(3), ms(2));
    assert_eq!(bucket.requests, 7);
    assert_eq!(
        bucket.errors,
        ErrorCounts {
            connect: 1,
            timeout: 1,
            client: 1,
            server: 1,
            io: 2,
        }
    );
    // Latency only for responses (the bogus status 42 is an io error).
    assert_eq!(bucket.corrected.count(), 3);
    assert_eq!(bucket.endpoints[1].requests, 2);
    assert_eq!(bucket.endpoints[1].errors.total(), 2);
    assert_eq!(
        bucket.status_counts().collect::<Vec<_>>(),
        vec![(200, 1), (404, 1), (503, 1)]
    );
}

#[test]
fn closed_model_records_one_latency() {
    let mut bucket = Bucket::new(0);
    bucket.record_closed(0, Outcome::Status(200), ms(5));
    assert_eq!(bucket.uncorrected.count(), 1);
    assert_eq!(bucket.corrected.count(), 0);
}

#[test]
fn the_ring_hands_over_every_second_once_in_order() {
    let mut ring = WindowRing::new(3, 0);
    ring.at_elapsed(ms(100)).requests += 1;
    ring.at_elapsed(ms(1500)).requests += 1;
    let first = ring.take_through(0);
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].0, first[0].1.requests), (0, 1));
    // A record for a second already handed over joins the oldest held one.
    ring.at_elapsed(ms(200)).requests += 1;
    // Stragglers after the end join the last second.
    ring.at_elapsed(ms(9000)).requests += 1;
    let rest = ring.take_through(u64::MAX);
    let counts: Vec<_> = rest.iter().map(|(t, b)| (*t, b.requests)).collect();
    assert_eq!(counts, vec![(1, 2), (2, 1)]);
    assert!(ring.take_through(u64::MAX).is_empty());
}

fn record_all(bucket: &mut Bucket, values: &[(u64, u64, u16)]) {
    for &(corrected, uncorrected, status) in values {
        bucket.record_open(
            (status % 2) as usize,
            Outcome::Status(status),
            Duration::from_micros(corrected),
            Duration::from_micros(uncorrected),
        );
    }
}

proptest! {
    /// Merging buckets recorded separately equals recording everything in
    /// one: histograms, counts, statuses and endpoints.
    #[test]
    fn merged_buckets_equal_one_bucket(
        parts in proptest::collection::vec(
            proptest::collection::vec((0u64..120_000_000, 0u64..5_000_000, 100u16..600), 0..50),
            1..5,
        ),
    ) {
        let mut whole = Bucket::new(2);
        let mut merged = Bucket::new(2);
        for part in &parts {
            record_all(&mut whole, part);
            let mut piece = Bucket::new(2);
            record_all(&mut piece, part);
            merged.merge(&piece);
        }
        prop_assert_eq!(&merged.corrected, &whole.corrected);
        prop_assert_eq!(&merged.uncorrected, &whole.uncorrected);
        prop_assert_eq!(merged.corrected.summary(), whole.corrected.summary());
        prop_assert_eq!(merged.requests, whole.requests);
        prop_assert_eq!(merged.errors, whole.errors);
        prop_assert_eq!(&merged.status, &whole.status);
        for (m, w) in merged.endpoints.iter().zip(&whole.endpoints) {
            prop_assert_eq!(m.requests, w.requests);
            prop_assert_eq!(&m.corrected, &w.corrected);
        }
    }
}
