use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn t(name: &str, service: &str) -> Target {
    Target {
        name: name.into(),
        service: service.into(),
    }
}

fn replicas() -> BTreeMap<String, usize> {
    BTreeMap::from([("api".to_owned(), 2), ("store".to_owned(), 1)])
}

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

#[test]
fn timed_and_recurring_fire_on_schedule() {
    let entries = vec![
        Entry {
            fault: "pause",
            targets: vec![t("api-1", "api")],
            trigger: Trigger::Timed { at: s(5) },
            duration: s(10),
        },
        Entry {
            fault: "kill",
            targets: vec![t("store-1", "store")],
            trigger: Trigger::Recurring {
                start: s(0),
                every: s(20),
            },
            duration: s(2),
        },
    ];
    let tl = timeline(&entries, s(60), 1, Limits::default(), &replicas());
    let at: Vec<(u64, &str)> = tl
        .events
        .iter()
        .map(|e| (e.at.as_secs(), e.fault))
        .collect();
    assert_eq!(at, [(0, "kill"), (5, "pause"), (20, "kill"), (40, "kill")]);
    assert_eq!(tl.events[1].until, s(15));
    assert!(tl.cut.is_empty());
}

#[test]
fn events_end_at_the_horizon() {
    let entries = vec![Entry {
        fault: (),
        targets: vec![t("a", "api")],
        trigger: Trigger::Timed { at: s(55) },
        duration: s(30),
    }];
    let tl = timeline(&entries, s(60), 1, Limits::default(), &replicas());
    assert_eq!(tl.events[0].until, s(60));
}

#[test]
fn poisson_rate_is_about_right() {
    let entries = vec![Entry {
        fault: (),
        targets: vec![t("a", "x"), t("b", "y")],
        trigger: Trigger::Poisson { per_second: 0.5 },
        duration: Duration::from_millis(1),
    }];
    let limits = Limits {
        max_concurrent: 100,
        max_replica_share: 1.0,
    };
    let tl = timeline(&entries, s(2000), 9, limits, &BTreeMap::new());
    let n = tl.events.len() as f64;
    assert!(
        (n - 2000.0).abs() < 200.0,
        "{n} events, expected about 2 x 0.5/s x 2000 s"
    );
}

#[test]
fn blast_radius_cuts_back_and_says_why() {
    let entries = vec![Entry {
        fault: "pause",
        targets: vec![t("api-1", "api"), t("api-2", "api")],
        trigger: Trigger::Timed { at: s(1) },
        duration: s(10),
    }];
    let tl = timeline(
        &entries,
        s(30),
        1,
        Limits {
            max_concurrent: 4,
            max_replica_share: 0.5,
        },
        &replicas(),
    );
    assert_eq!(tl.events.len(), 1, "half of 2 api replicas");
    assert_eq!(tl.cut.len(), 1);
    assert!(
        tl.cut[0]
            .reason
            .contains("1 of 2 api replicas already hit (limit 50%)"),
        "{}",
        tl.cut[0].reason
    );

    let many = vec![Entry {
        fault: "kill",
        targets: (0..6)
            .map(|i| t(&format!("w{i}"), &format!("s{i}")))
            .collect(),
        trigger: Trigger::Timed { at: s(0) },
        duration: s(5),
    }];
    let tl = timeline(
        &many,
        s(30),
        1,
        Limits {
            max_concurrent: 4,
            max_replica_share: 1.0,
        },
        &BTreeMap::new(),
    );
    assert_eq!(tl.events.len(), 4);
    assert!(tl.cut.iter().all(|c| c.reason.contains("limit 4")));
}

#[test]
fn a_target_is_not_hit_twice_at_once() {
    let entries = vec![Entry {
        fault: "x",
        targets: vec![t("a", "s")],
        trigger: Trigger::Recurring {
            start: s(0),
            every: s(1),
        },
        duration: s(3),
    }];
    let tl = timeline(
        &entries,
        s(10),
        1,
        Limits {
            max_concurrent: 10,
            max_replica_share: 1.0,
        },
        &BTreeMap::new(),
    );
    let starts: Vec<u64> = tl.events.iter().map(|e| e.at.as_secs()).collect();
    assert_eq!(starts, [0, 3, 6, 9]);
}

fn trigger() -> impl Strategy<Value = Trigger> {
    prop_oneof![
        (0u64..100).prop_map(|a| Trigger::Timed { at: s(a) }),
        (0u64..10, 1u64..20).prop_map(|(a, e)| Trigger::Recurring {
            start: s(a),
            every: s(e)
        }),
        (0.01f64..1.0).prop_map(|r| Trigger::Poisson { per_second: r }),
        (1u64..10, 0.0f64..1.0).prop_map(|(k, p)| Trigger::PerTick {
            tick: s(k),
            probability: p
        }),
    ]
}

proptest! {
    #[test]
    fn the_same_seed_gives_the_same_timeline(
        triggers in proptest::collection::vec(trigger(), 1..5),
        seed in any::<u64>(),
        max_concurrent in 1usize..6,
    ) {
        let entries: Vec<Entry<u8>> = triggers
            .into_iter()
            .enumerate()
            .map(|(i, trigger)| Entry {
                fault: i as u8,
                targets: vec![t("api-1", "api"), t("api-2", "api"), t("store-1", "store")],
                trigger,
                duration: s(4),
            })
            .collect();
        let limits = Limits { max_concurrent, max_replica_share: 0.5 };
        let a = timeline(&entries, s(120), seed, limits, &replicas());
        let b = timeline(&entries, s(120), seed, limits, &replicas());
        prop_assert_eq!(&a, &b);
        // The limits hold at every event start.
        for e in &a.events {
            let active = a.events.iter().filter(|o| o.at <= e.at && o.until > e.at).count();
            prop_assert!(active <= max_concurrent);
        }
    }
}
