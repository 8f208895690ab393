use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::domain::traffic::{Completeness, EdgeKind, PROFILE_SCHEMA, Peak, Summary};

fn entry(method: &str, path: &str, share: f64, examples: &[&str], bodies: &[&str]) -> MixEntry {
    MixEntry {
        method: method.into(),
        path: path.into(),
        share,
        count: 0,
        examples: examples.iter().map(|s| (*s).to_owned()).collect(),
        bodies: bodies.iter().map(|s| (*s).to_owned()).collect(),
        status: BTreeMap::new(),
        bytes: Summary::default(),
        latency_ms: None,
    }
}

fn profile(rate: Vec<u32>) -> TrafficProfile {
    TrafficProfile {
        schema: PROFILE_SCHEMA.into(),
        source: "test".into(),
        start: "2026-11-27T10:00:00Z".into(),
        rate,
        mix: vec![
            entry(
                "GET",
                "/api/products/{id}",
                0.7,
                &["/api/products/1", "/api/products/2"],
                &[],
            ),
            entry(
                "POST",
                "/api/cart/{id}/items",
                0.3,
                &["/api/cart/u1/items"],
                &[],
            ),
        ],
        peaks: vec![Peak {
            start_s: 2,
            duration_s: 2,
            peak_rps: 40,
            baseline_rps: 10.0,
            shape: "plateau".into(),
        }],
        edge_cases: vec![EdgeCase {
            kind: EdgeKind::Slowest,
            method: "GET".into(),
            path: "/api/search?q=everything".into(),
            status: 200,
            bytes: 10,
            duration_ms: Some(900.0),
            body: None,
            line: 7,
        }],
        status: BTreeMap::new(),
        bytes: Summary::default(),
        completeness: Completeness::default(),
    }
}

#[test]
fn counts_follow_the_curve_scaled_and_boosted() {
    let p = profile(vec![10, 10, 40, 40, 10]);
    assert_eq!(scaled_counts(&p, 1.0, 1.0), [10, 10, 40, 40, 10]);
    assert_eq!(scaled_counts(&p, 0.5, 1.0), [5, 5, 20, 20, 5]);
    assert_eq!(
        scaled_counts(&p, 1.0, 2.0),
        [10, 10, 80, 80, 10],
        "only the peak is boosted"
    );
    // Fractions carry over: 3 x 0.5 = 1.5 requests over three seconds.
    let q = profile(vec![1, 1, 1]);
    let c = scaled_counts(&q, 0.5, 1.0);
    assert_eq!(c.iter().sum::<u32>(), 1);
}

#[test]
fn speed_compresses_time_and_keeps_the_total() {
    let p = profile(vec![10, 10, 40, 40, 10, 10, 10, 10]);
    let options = ReplayOptions {
        speed: 4.0,
        ..ReplayOptions::default()
    };
    let r = plan(&p, &options).unwrap();
    assert_eq!(r.arrivals.len(), 140);
    assert_eq!(r.duration, Duration::from_secs(2));
    assert_eq!(r.target, [100, 40], "4 profile seconds per replay second");
    assert!(r.arrivals.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(r.arrivals.last().unwrap().at < r.duration);
}

#[test]
fn the_mix_is_preserved_and_paths_are_real() {
    let p = profile(vec![1000; 5]);
    let r = plan(&p, &ReplayOptions::default()).unwrap();
    let gets = r
        .arrivals
        .iter()
        .filter(|a| r.requests[a.request].method == "GET")
        .count();
    let share = gets as f64 / r.arrivals.len() as f64;
    assert!((share - 0.7).abs() < 0.02, "{share}");
    for req in &r.requests {
        assert!(!req.path.contains("{id}"), "{}", req.path);
    }
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("POST /api/cart/{id}/items")),
        "{:?}",
        r.notes
    );
}

#[test]
fn bodies_come_from_overrides_or_the_profile() {
    let mut p = profile(vec![100; 3]);
    let mut options = ReplayOptions::default();
    options.bodies.insert(
        "POST /api/cart/{id}/items".into(),
        r#"{"product":3,"qty":1}"#.into(),
    );
    let r = plan(&p, &options).unwrap();
    let post = r.requests.iter().find(|q| q.method == "POST").unwrap();
    assert_eq!(post.body.as_deref(), Some(&br#"{"product":3,"qty":1}"#[..]));
    assert!(
        post.headers
            .contains(&("content-type".to_owned(), "application/json".to_owned()))
    );
    assert!(r.notes.is_empty());
    p.mix[1].bodies = vec![r#"{"product":9,"qty":2}"#.into()];
    let r = plan(&p, &ReplayOptions::default()).unwrap();
    assert!(
        r.requests
            .iter()
            .any(|q| q.body.as_deref() == Some(&br#"{"product":9,"qty":2}"#[..]))
    );
}

#[test]
fn a_share_of_requests_are_edge_cases() {
    let p = profile(vec![1000; 4]);
    let options = ReplayOptions {
        edge_share: 0.1,
        ..ReplayOptions::default()
    };
    let r = plan(&p, &options).unwrap();
    let edges = r
        .arrivals
        .iter()
        .filter(|a| r.requests[a.request].path == "/api/search?q=everything")
        .count();
    let share = edges as f64 / r.arrivals.len() as f64;
    assert!((share - 0.1).abs() < 0.02, "{share}");
}

#[test]
fn bad_options_and_empty_profiles_are_refused() {
    let p = profile(vec![1]);
    let e = plan(
        &p,
        &ReplayOptions {
            speed: 0.0,
            ..ReplayOptions::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("--speed"), "{e}");
    let e = plan(
        &p,
        &ReplayOptions {
            edge_share: 1.5,
            ..ReplayOptions::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("150"), "{e}");
    assert_eq!(
        plan(&profile(vec![0, 0]), &ReplayOptions::default()).unwrap_err(),
        ReplayError::Empty
    );
}

#[test]
fn body_overrides_parse() {
    assert_eq!(
        parse_body_override(r#"post /api/cart/{id}/items={"qty":1}"#).unwrap(),
        (
            "POST /api/cart/{id}/items".to_owned(),
            r#"{"qty":1}"#.to_owned()
        )
    );
    assert!(parse_body_override("nonsense").is_err());
    let all = parse_body_overrides(&[
        "POST /a={\"v\":1}".to_owned(),
        "PUT /b=x=y".to_owned(),
        "post /a={\"v\":2}".to_owned(),
    ])
    .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all["POST /a"], r#"{"v":2}"#, "the later one wins");
    assert_eq!(all["PUT /b"], "x=y", "the body keeps its own '='");
    let err = parse_body_overrides(&["POST /a=1".to_owned(), "GET".to_owned()]).unwrap_err();
    assert!(err.to_string().contains("\"GET\""), "{err}");
}

proptest! {
    #[test]
    fn the_same_seed_gives_the_same_replay(
        rate in proptest::collection::vec(0u32..50, 1..20),
        seed in any::<u64>(),
        speed in 0.5f64..8.0,
        edge in 0.0f64..0.5,
    ) {
        prop_assume!(rate.iter().any(|&r| r > 0));
        let p = profile(rate);
        let options = ReplayOptions { seed, speed, edge_share: edge, ..ReplayOptions::default() };
        let a = plan(&p, &options).unwrap();
        let b = plan(&p, &options).unwrap();
        prop_assert_eq!(&a, &b);
        let total: u32 = scaled_counts(&p, 1.0, 1.0).iter().sum();
        prop_assert_eq!(a.arrivals.len() as u32, total);
        prop_assert_eq!(a.target.iter().sum::<u32>(), total);
    }
}

#[test]
fn a_decoded_path_goes_on_the_wire_encoded() {
    assert_eq!(wire_path("/api/products/1?x=1"), "/api/products/1?x=1");
    assert_eq!(wire_path("/a b"), "/a%20b");
    assert_eq!(wire_path("/caf\u{e9}\t"), "/caf%C3%A9%09");
    assert_eq!(wire_path("/already%20encoded"), "/already%20encoded");
    // A profile whose example paths were decoded by the log (Apache `%U`)
    // plans requests the engine can send.
    let mut p = profile(vec![50; 2]);
    p.mix = vec![entry("GET", "/files/{id}", 1.0, &["/files/a b"], &[])];
    let r = plan(&p, &ReplayOptions::default()).unwrap();
    assert!(
        r.requests.iter().all(|q| q.path == "/files/a%20b"),
        "{:?}",
        r.requests
    );
    for q in &r.requests {
        crate::traffic::http1::encode_request(q, "127.0.0.1:1", "").unwrap();
    }
}
