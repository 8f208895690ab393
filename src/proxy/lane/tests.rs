use super::*;
use crate::proxy::model::FaultSpec;

fn fault(id: u64, kind: FaultKind, pairs: &[(&str, &str)]) -> Fault {
    Fault {
        id,
        spec: FaultSpec::from_params(kind, pairs).unwrap(),
    }
}

fn conn(seq: u64) -> ConnInfo {
    ConnInfo {
        seed: 42,
        seq,
        client: Some(Ipv4Addr::new(10, 213, 0, 5)),
    }
}

fn chunk(len: usize) -> Bytes {
    Bytes::from(vec![7u8; len])
}

#[test]
fn sampling_is_deterministic_for_a_seed_and_near_the_toxicity() {
    let a: Vec<bool> = (0..1000).map(|n| hits(0.3, 7, 1, n)).collect();
    let b: Vec<bool> = (0..1000).map(|n| hits(0.3, 7, 1, n)).collect();
    assert_eq!(a, b);
    let share = a.iter().filter(|h| **h).count() as f64 / 1000.0;
    assert!((0.25..0.35).contains(&share), "{share}");
    let other: Vec<bool> = (0..1000).map(|n| hits(0.3, 8, 1, n)).collect();
    assert_ne!(a, other, "another seed draws differently");
    assert!((0..100).all(|n| hits(1.0, 1, 1, n)));
    assert!((0..100).all(|n| !hits(0.0, 1, 1, n)));
    assert!((0..1000).all(|n| (0.0..1.0).contains(&sample(3, 4, n))));
}

#[test]
fn sources_filter_clients() {
    let nets: Vec<Ipv4Net> = vec!["10.213.0.0/24".parse().unwrap()];
    assert!(source_matches(&nets, Some(Ipv4Addr::new(10, 213, 0, 9))));
    assert!(!source_matches(&nets, Some(Ipv4Addr::new(10, 213, 1, 9))));
    assert!(!source_matches(&nets, None));
    assert!(source_matches(&[], None));
    let f = fault(
        1,
        FaultKind::Latency,
        &[("latency", "1s"), ("sources", "10.9.9.9")],
    );
    assert!(!applies(&f, Direction::Downstream, &conn(0)));
    let f = fault(
        1,
        FaultKind::Latency,
        &[("latency", "1s"), ("sources", "10.213.0.5")],
    );
    assert!(applies(&f, Direction::Downstream, &conn(0)));
    assert!(!applies(&f, Direction::Upstream, &conn(0)), "direction");
    let http = fault(2, FaultKind::HttpAbort, &[]);
    assert!(
        !applies(&http, Direction::Downstream, &conn(0)),
        "http faults are not byte faults"
    );
}

#[test]
fn slicer_sizes_stay_in_range_and_sum_up() {
    let mut x = 1u64;
    let sizes = slice_sizes(10_000, 64, 16, || {
        x = splitmix(x);
        x
    });
    assert_eq!(sizes.iter().sum::<usize>(), 10_000);
    let (last, body) = sizes.split_last().unwrap();
    assert!(body.iter().all(|s| (48..=80).contains(s)), "{sizes:?}");
    assert!(*last >= 1 && *last <= 80);
    assert_eq!(slice_sizes(10, 4, 0, || 0), [4, 4, 2]);
    assert!(slice_sizes(0, 4, 0, || 0).is_empty());
}

#[test]
fn limit_data_cuts_at_the_limit() {
    assert_eq!(cut(100, 30), (30, true));
    assert_eq!(cut(10, 30), (10, false));
    assert_eq!(cut(30, 30), (30, true));
    let t0 = Instant::now();
    let mut lane = Lane::new(Direction::Downstream, &conn(0));
    lane.sync(
        &[fault(1, FaultKind::LimitData, &[("bytes", "25")])],
        &conn(0),
        t0,
    );
    let first = lane.on_chunk(chunk(10), t0);
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].data.len(), first[0].then), (10, None));
    let second = lane.on_chunk(chunk(40), t0);
    assert_eq!(second.len(), 1);
    assert_eq!(
        (second[0].data.len(), second[0].then),
        (15, Some(Then::Close))
    );
    let mut zero = Lane::new(Direction::Downstream, &conn(0));
    zero.sync(
        &[fault(1, FaultKind::LimitData, &[("bytes", "0")])],
        &conn(0),
        t0,
    );
    let out = zero.on_chunk(chunk(5), t0);
    assert_eq!(out.len(), 1);
    assert!(out[0].data.is_empty());
    assert_eq!(out[0].then, Some(Then::Close));
}

#[test]
fn bandwidth_pacing_math() {
    let t0 = Instant::now();
    assert_eq!(pacing_quantum(1_000_000), 10_000);
    assert_eq!(pacing_quantum(50), 1);
    assert_eq!(pacing_quantum(1 << 40), 64 * 1024);
    let (plan, free) = pace(25_000, 1_000_000, t0, 10_000);
    let sizes: Vec<usize> = plan.iter().map(|p| p.0).collect();
    assert_eq!(sizes, [10_000, 10_000, 5_000]);
    let offsets: Vec<Duration> = plan.iter().map(|p| p.1 - t0).collect();
    assert_eq!(
        offsets,
        [
            Duration::ZERO,
            Duration::from_millis(10),
            Duration::from_millis(20)
        ]
    );
    assert_eq!(free - t0, Duration::from_millis(25));
    // Through a lane: a second chunk queues behind the first.
    let mut lane = Lane::new(Direction::Downstream, &conn(0));
    lane.sync(
        &[fault(1, FaultKind::Bandwidth, &[("rate", "1mb/s")])],
        &conn(0),
        t0,
    );
    let a = lane.on_chunk(chunk(1 << 19), t0);
    let b = lane.on_chunk(chunk(1 << 19), t0);
    assert_eq!(
        a.iter().chain(&b).map(|p| p.data.len()).sum::<usize>(),
        1 << 20
    );
    let last = b.last().unwrap().at - t0;
    assert!(
        last > Duration::from_millis(990) && last < Duration::from_secs(1),
        "{last:?}"
    );
}

#[test]
fn latency_shifts_and_keeps_order() {
    let t0 = Instant::now();
    let mut lane = Lane::new(Direction::Downstream, &conn(0));
    let started = lane.sync(
        &[fault(
            3,
            FaultKind::Latency,
            &[("latency", "200ms"), ("jitter", "50ms")],
        )],
        &conn(0),
        t0,
    );
    assert_eq!(started, [FaultKind::Latency]);
    let mut last = t0;
    for i in 0..50u32 {
        let arrival = t0 + Duration::from_millis(u64::from(i));
        let out = lane.on_chunk(chunk(3), arrival);
        let delay = out[0].at - arrival;
        assert!(out[0].at >= last, "order kept");
        assert!(delay <= Duration::from_millis(250), "{delay:?}");
        last = out[0].at;
    }
    assert_eq!(
        jittered(Duration::from_millis(10), Duration::from_millis(20), 0.0),
        Duration::ZERO
    );
    // Syncing again keeps the state and reports nothing new; removal clears.
    assert!(
        lane.sync(
            &[fault(3, FaultKind::Latency, &[("latency", "200ms")])],
            &conn(0),
            t0
        )
        .is_empty()
    );
    lane.sync(&[], &conn(0), t0);
    assert!(lane.is_clear());
    let out = lane.on_chunk(chunk(3), t0 + Duration::from_secs(1));
    assert_eq!(out[0].at, t0 + Duration::from_secs(1));
}

#[test]
fn slicer_spreads_pieces_by_the_delay() {
    let t0 = Instant::now();
    let mut lane = Lane::new(Direction::Upstream, &conn(0));
    let f = fault(
        1,
        FaultKind::Slicer,
        &[
            ("average_size", "4"),
            ("delay", "1ms"),
            ("direction", "upstream"),
        ],
    );
    lane.sync(&[f], &conn(0), t0);
    let out = lane.on_chunk(chunk(10), t0);
    let sizes: Vec<usize> = out.iter().map(|p| p.data.len()).collect();
    assert_eq!(sizes, [4, 4, 2]);
    assert_eq!(out[2].at - t0, Duration::from_millis(2));
    let next = lane.on_chunk(chunk(1), t0);
    assert_eq!(next[0].at - t0, Duration::from_millis(3));
}

#[test]
fn timeout_and_reset_hold_data_and_set_deadlines() {
    let t0 = Instant::now();
    let mut lane = Lane::new(Direction::Downstream, &conn(0));
    lane.sync(&[fault(1, FaultKind::Timeout, &[])], &conn(0), t0);
    assert!(lane.holds());
    assert_eq!(lane.deadline(), None, "0 holds forever");
    assert!(lane.on_chunk(chunk(5), t0).is_empty());
    lane.sync(
        &[fault(2, FaultKind::Timeout, &[("timeout", "1s")])],
        &conn(0),
        t0,
    );
    assert_eq!(
        lane.deadline(),
        Some((t0 + Duration::from_secs(1), Then::Close))
    );
    let mut reset = Lane::new(Direction::Downstream, &conn(0));
    reset.sync(
        &[fault(4, FaultKind::ResetPeer, &[("timeout", "50ms")])],
        &conn(0),
        t0,
    );
    assert_eq!(
        reset.deadline(),
        Some((t0 + Duration::from_millis(50), Then::Reset))
    );
    let mut slow = Lane::new(Direction::Downstream, &conn(0));
    slow.sync(
        &[fault(5, FaultKind::SlowClose, &[("delay", "2s")])],
        &conn(0),
        t0,
    );
    assert_eq!(slow.close_delay(), Duration::from_secs(2));
    assert!(!slow.holds());
}

#[test]
fn toxicity_picks_connections_deterministically() {
    let t0 = Instant::now();
    let f = fault(
        9,
        FaultKind::Latency,
        &[("latency", "1s"), ("toxicity", "50%")],
    );
    let hit: Vec<bool> = (0..200)
        .map(|seq| {
            let mut lane = Lane::new(Direction::Downstream, &conn(seq));
            !lane
                .sync(std::slice::from_ref(&f), &conn(seq), t0)
                .is_empty()
        })
        .collect();
    let again: Vec<bool> = (0..200)
        .map(|seq| applies(&f, Direction::Downstream, &conn(seq)))
        .collect();
    assert_eq!(hit, again);
    let share = hit.iter().filter(|h| **h).count();
    assert!((70..130).contains(&share), "{share}");
}
