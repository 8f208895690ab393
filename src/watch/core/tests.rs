use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::domain::series::{MetricOutcome, VerdictOutcome};

const P50: &str = metric::LATENCY_P50_MS;

fn watch() -> Watch {
    let judged = judged_metrics(&["gateway".to_owned()], &["api".to_owned()]);
    Watch::new(WatchConfig::new(judged), 0).unwrap()
}

fn key(env: Environment, metric_name: &str) -> SeriesKey {
    SeriesKey::service(env, "gateway", metric_name)
}

/// A p50 latency around 4 ms with the jitter of a lightly loaded service.
fn latency(rng: &mut StdRng) -> f64 {
    4.0 + rng.random_range(-0.8..0.8) + if rng.random_bool(0.03) { 3.0 } else { 0.0 }
}

/// The alerts `events` opened, in order.
fn opened(events: &[AlertEvent]) -> Vec<&Alert> {
    events
        .iter()
        .filter_map(|e| match e {
            AlertEvent::Opened(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// Runs `seconds` of both environments; the shadow gets `extra(t)` ms.
fn run(w: &mut Watch, seconds: i64, extra: impl Fn(i64) -> f64) -> Vec<AlertEvent> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut events = Vec::new();
    for t in 0..seconds {
        let prod = latency(&mut rng);
        let shadow = latency(&mut rng) + extra(t);
        events.extend(w.push(&key(Environment::Prod, P50), t * 1000, prod));
        events.extend(w.push(&key(Environment::Shadow, P50), t * 1000, shadow));
    }
    events
}

#[test]
fn a_200ms_shift_on_the_shadow_alerts_within_10s_and_stays_open_while_it_lasts() {
    let mut w = watch();
    let fault_at = 90;
    let events = run(&mut w, 150, |t| if t >= fault_at { 200.0 } else { 0.0 });
    let opened = opened(&events);
    assert_eq!(opened.len(), 1, "{events:#?}");
    let alert = opened[0];
    assert_eq!(alert.series, key(Environment::Shadow, P50));
    assert!(alert.start_ms >= fault_at * 1000 && alert.start_ms <= (fault_at + 10) * 1000);
    assert!(
        alert.explanation.contains("p50 latency"),
        "{}",
        alert.explanation
    );
    // Still open 60 s into the fault: the condition lasts.
    assert!(w.alerts().iter().all(|a| a.end_ms.is_none()));
}

/// A fault 20 s into a watch (the live warm-up is 30 points) ends the
/// shadow's learning there: its 200 ms shift alerts within 10 s instead of
/// being learned as normal. A series with fewer than
/// [`FAULT_ENDS_LEARNING_AT`] points learns on; production raises nothing.
#[test]
fn a_fault_during_the_warmup_is_scored_against_the_points_before_it() {
    let fault_at = 20;
    let cpu = SeriesKey::instance(Environment::Shadow, "api", "api-1", metric::CPU_PERCENT);
    let watch_with = |announce: bool| {
        let mut w = watch();
        let mut rng = StdRng::seed_from_u64(5);
        let mut at_fault = None;
        let mut events = Vec::new();
        for t in 0..90 {
            if t == fault_at && announce {
                at_fault = Some(w.fault_started(t * 1000));
            }
            let extra = if t >= fault_at { 200.0 } else { 0.0 };
            let (a, b) = (latency(&mut rng), latency(&mut rng) + extra);
            events.extend(w.push(&key(Environment::Prod, P50), t * 1000, a));
            events.extend(w.push(&key(Environment::Shadow, P50), t * 1000, b));
            if t >= fault_at - 5 {
                events.extend(w.push(&cpu, t * 1000, 3.0 + rng.random_range(0.0..0.5)));
            }
        }
        (at_fault, events)
    };
    let (at_fault, events) = watch_with(true);
    assert_eq!(
        at_fault.unwrap(),
        LearningAtFault {
            ended: vec![(key(Environment::Shadow, P50), 20)],
            learning: vec![(cpu.clone(), 5)],
        }
    );
    let opened = opened(&events);
    assert_eq!(opened.len(), 1, "{events:#?}");
    assert_eq!(opened[0].series, key(Environment::Shadow, P50));
    let start = opened[0].start_ms;
    assert!(
        (fault_at * 1000..=(fault_at + 10) * 1000).contains(&start),
        "opened at {start}"
    );
    // Unannounced, the same fault is learned as the series' normal.
    let (_, events) = watch_with(false);
    assert!(self::opened(&events).is_empty(), "{events:#?}");
}

#[test]
fn one_slow_second_does_not_page_two_do_from_the_first() {
    // A stall of the host: one second at 3.5x, then the usual jitter.
    let mut w = watch();
    let events = run(&mut w, 150, |t| if t == 90 { 10.0 } else { 0.0 });
    assert!(opened(&events).is_empty(), "{events:#?}");
    // The same step lasting two seconds opens one alert, dated from its
    // first second.
    let mut w = watch();
    let events = run(&mut w, 150, |t| if t == 90 || t == 91 { 10.0 } else { 0.0 });
    let opened = opened(&events);
    assert_eq!(opened.len(), 1, "{events:#?}");
    assert_eq!(opened[0].series, key(Environment::Shadow, P50));
    assert_eq!(opened[0].start_ms, 90_000);
}

#[test]
fn the_alert_closes_after_the_fault_is_reverted() {
    let mut w = watch();
    let events = run(&mut w, 200, |t| {
        if (90..120).contains(&t) { 200.0 } else { 0.0 }
    });
    let closed = events
        .iter()
        .find_map(|e| match e {
            AlertEvent::Closed(a) => Some(a),
            _ => None,
        })
        .expect("closed");
    let end = closed.end_ms.unwrap();
    assert!((120_000..=135_000).contains(&end), "closed at {end}");
}

#[test]
fn identical_streams_raise_no_alert_and_pass_the_judge_over_many_looks() {
    let mut w = watch();
    let mut rng = StdRng::seed_from_u64(11);
    for t in 0..600 {
        let a = latency(&mut rng);
        let b = latency(&mut rng);
        assert!(
            w.push(&key(Environment::Prod, P50), t * 1000, a).is_none(),
            "prod at {t}"
        );
        assert!(
            w.push(&key(Environment::Shadow, P50), t * 1000, b)
                .is_none(),
            "shadow at {t}"
        );
        let verdict = w.look().vs_production;
        assert_ne!(
            verdict.outcome,
            VerdictOutcome::Fail,
            "look {t}: {:?}",
            verdict.reasons
        );
    }
}

#[test]
fn after_a_fault_the_judges_report_the_divergence_against_production_and_baseline() {
    let mut w = watch();
    let fault_at = 60;
    let mut rng = StdRng::seed_from_u64(3);
    for t in 0..120 {
        if t == fault_at {
            w.fault_started(t * 1000);
        }
        let extra = if t >= fault_at { 200.0 } else { 0.0 };
        let a = latency(&mut rng);
        let b = latency(&mut rng) + extra;
        w.push(&key(Environment::Prod, P50), t * 1000, a);
        w.push(&key(Environment::Shadow, P50), t * 1000, b);
    }
    let v = w.look();
    assert_eq!(v.since_ms, fault_at * 1000);
    let failed = |verdict: &Verdict| {
        verdict
            .metrics
            .iter()
            .find(|m| m.name == format!("gateway/{P50}"))
            .map(|m| (m.outcome, m.n_shadow, m.n_reference))
    };
    assert_eq!(v.vs_production.outcome, VerdictOutcome::Fail);
    assert_eq!(
        failed(&v.vs_production),
        Some((MetricOutcome::Fail, 60, 60))
    );
    let baseline = v.vs_baseline.expect("baseline judge");
    assert_eq!(failed(&baseline), Some((MetricOutcome::Fail, 60, 60)));
}

#[test]
fn not_finite_points_are_counted_not_scored() {
    let mut w = watch();
    let k = key(Environment::Prod, P50);
    for t in 0..50 {
        let v = if t % 5 == 0 { f64::NAN } else { 4.0 };
        assert!(w.push(&k, t * 1000, v).is_none());
    }
    assert_eq!(w.store().stats(&k).unwrap().nan, 10);
}

#[test]
fn a_small_step_on_a_flat_series_is_unusual_but_not_an_alert() {
    let mut w = watch();
    let k = SeriesKey::instance(Environment::Prod, "api", "api-1", metric::MEMORY_BYTES);
    let mut rng = StdRng::seed_from_u64(5);
    for t in 0..200 {
        let step = if t >= 100 { 2.0e6 } else { 0.0 };
        let v = 25.0e6 + step + rng.random_range(-1.0e5..1.0e5);
        assert!(w.push(&k, t * 1000, v).is_none(), "alert at {t}");
    }
}

#[test]
fn a_consistent_but_small_latency_difference_passes_the_judge() {
    let mut w = watch();
    let mut rng = StdRng::seed_from_u64(9);
    for t in 0..300 {
        // The shadow's extra proxy hop: 20 % slower, every second.
        let a = latency(&mut rng);
        let b = latency(&mut rng) * 1.2;
        w.push(&key(Environment::Prod, P50), t * 1000, a);
        w.push(&key(Environment::Shadow, P50), t * 1000, b);
        let v = w.look().vs_production;
        assert_ne!(v.outcome, VerdictOutcome::Fail, "look {t}: {:?}", v.reasons);
    }
}

/// Three 30 s faults of 200 ms, ten minutes apart, in one watch; the
/// alerts that opened on the shadow (start second, explanation).
fn game_day(forget_episodes: bool) -> Vec<(i64, String)> {
    let judged = judged_metrics(&["gateway".to_owned()], &["api".to_owned()]);
    let config = WatchConfig {
        forget_episodes,
        ..WatchConfig::new(judged)
    };
    let mut w = Watch::new(config, 0).unwrap();
    let events = run(&mut w, 1500, |t| {
        if [90, 720, 1350].iter().any(|s| (*s..s + 30).contains(&t)) {
            200.0
        } else {
            0.0
        }
    });
    assert!(
        events
            .iter()
            .all(|e| e.alert().series.environment == Environment::Shadow)
    );
    opened(&events)
        .into_iter()
        .map(|a| (a.start_ms / 1000, a.explanation.clone()))
        .collect()
}

#[test]
fn every_fault_of_a_game_day_alerts_not_only_the_first() {
    // An operator expects three alerts, though the detector has seen the
    // first fault's extremes: it forgets each closed episode, and a series
    // that alerted before alerts again on a like deviation ("(again)").
    for forget in [true, false] {
        let opened = game_day(forget);
        assert_eq!(opened.len(), 3, "forget {forget}: {opened:?}");
        for (at, start) in opened.iter().map(|(t, _)| *t).zip([90, 720, 1350]) {
            assert!((start..=start + 10).contains(&at), "{opened:?}");
        }
        let again = opened
            .iter()
            .filter(|(_, e)| e.ends_with("(again)"))
            .count();
        // Without forgetting, only the recurrence rule sees the later two.
        assert_eq!(again, if forget { 0 } else { 2 }, "{opened:?}");
    }
}

#[test]
fn a_smaller_fault_after_a_large_one_still_alerts() {
    // 200 ms, then 40 ms ten minutes later: the first fault must not
    // leave the detector blind (its spread, its records) to the second.
    let mut w = watch();
    let events = run(&mut w, 800, |t| match t {
        90..120 => 200.0,
        720..750 => 40.0,
        _ => 0.0,
    });
    let opened: Vec<i64> = opened(&events).iter().map(|a| a.start_ms / 1000).collect();
    assert!(opened.iter().any(|o| (90..=100).contains(o)), "{opened:?}");
    assert!(opened.iter().any(|o| (720..=730).contains(o)), "{opened:?}");
    assert_eq!(opened.len(), 2, "{opened:?}");
}

/// A scraped histogram's p99 (ms-scale values in seconds) that jumps
/// tenfold at 120 s; the alerts it raised.
fn scraped_p99_jump(page: &[&str]) -> (Vec<AlertEvent>, Vec<PageUse>) {
    let judged = judged_metrics(&["gateway".to_owned()], &["api".to_owned()]);
    let config = WatchConfig {
        page: page.iter().map(|p| p.parse().unwrap()).collect(),
        ..WatchConfig::new(judged)
    };
    let mut w = Watch::new(config, 0).unwrap();
    let k = SeriesKey::instance(
        Environment::Prod,
        "app",
        "127.0.0.1:9100",
        "http_request_duration_seconds:p99",
    );
    let mut rng = StdRng::seed_from_u64(3);
    let mut events = Vec::new();
    for t in 0..180 {
        let base = 0.02 + rng.random_range(-0.002..0.002);
        let value = if t >= 120 { base * 10.0 } else { base };
        events.extend(w.push(&k, t * 1000, value));
    }
    (events, w.page_uses())
}

#[test]
fn a_scraped_series_alerts_only_when_a_page_pattern_matches_it() {
    let (events, uses) = scraped_p99_jump(&[]);
    assert!(events.is_empty(), "{events:#?}");
    assert!(uses.is_empty());

    let (events, uses) = scraped_p99_jump(&["*:p99", "*/nothing_like_it"]);
    let opened = opened(&events);
    assert_eq!(opened.len(), 1, "{events:#?}");
    assert!(
        (120_000..=130_000).contains(&opened[0].start_ms),
        "{:?}",
        opened[0]
    );
    assert_eq!(
        uses,
        vec![
            PageUse {
                pattern: "*:p99".to_owned(),
                series: 1
            },
            PageUse {
                pattern: "*/nothing_like_it".to_owned(),
                series: 0
            },
        ]
    );
}

/// The shadow's alerting series still learning their baseline are listed
/// with their points until they have `warmup` of them; production's never.
#[test]
fn the_shadow_series_still_learning_are_listed_until_their_warmup_ends() {
    let mut w = watch();
    let warmup = i64::from(w.warmup_points());
    assert_eq!(warmup, 30, "the live detector learns for 30 points");
    run(&mut w, 12, |_| 0.0);
    let cpu = SeriesKey::instance(Environment::Shadow, "api", "api-1", metric::CPU_PERCENT);
    w.push(&cpu, 11_000, 3.0);
    assert_eq!(
        w.still_learning(),
        vec![(key(Environment::Shadow, P50), 12), (cpu.clone(), 1)],
        "the shadow's, its services' first"
    );
    for t in 12..12 + warmup {
        w.push(&cpu, t * 1000, 3.0);
    }
    let shadow = key(Environment::Shadow, P50);
    for t in 12..warmup - 1 {
        w.push(&shadow, t * 1000, 4.0);
    }
    assert_eq!(w.still_learning(), vec![(shadow.clone(), 29)]);
    w.push(&shadow, (warmup - 1) * 1000, 4.0);
    assert!(w.still_learning().is_empty());
}

/// Runs `seconds` of CPU (api: production 2 %, the shadow 10 %) with the
/// gateway serving `prod_rps` and `shadow_rps`; the verdict vs production.
fn cpu_under_load(prod_rps: f64, shadow_rps: f64) -> Verdict {
    cpu_under_load_for(40, prod_rps, shadow_rps)
}

fn cpu_under_load_for(seconds: i64, prod_rps: f64, shadow_rps: f64) -> Verdict {
    let mut w = watch();
    serve(&mut w, 0..seconds, prod_rps, shadow_rps);
    w.look().vs_production
}

/// Pushes `seconds` of CPU (api: production 2 %, the shadow 10 %) with the
/// gateway serving `prod_rps` and `shadow_rps`.
fn serve(w: &mut Watch, seconds: std::ops::Range<i64>, prod_rps: f64, shadow_rps: f64) {
    for t in seconds {
        for (env, rps, cpu) in [
            (Environment::Prod, prod_rps, 2.0),
            (Environment::Shadow, shadow_rps, 10.0),
        ] {
            let jitter = f64::from(u8::try_from(t % 5).unwrap()) * 0.1;
            let instance = SeriesKey::instance(env, "api", "api-1", metric::CPU_PERCENT);
            w.push(&instance, t * 1000, cpu + jitter);
            if rps > 0.0 {
                w.push(&key(env, metric::RPS), t * 1000, rps);
            }
        }
    }
}

/// Loads that differed must come within 1.3x to compare again, so a ratio
/// hovering about the judge's 1.5 does not flip CPU in and out of the
/// verdict (each flip reprints it).
#[test]
fn loads_found_different_compare_again_only_well_under_the_ratio() {
    let cpu_left_out = |w: &mut Watch| {
        w.look()
            .vs_production
            .left_out
            .contains(&"api/cpu_percent".to_owned())
    };
    let mut w = watch();
    serve(&mut w, 0..40, 20.0, 32.0);
    assert!(cpu_left_out(&mut w), "1.6x");
    serve(&mut w, 40..60, 20.0, 20.0);
    assert!(cpu_left_out(&mut w), "1.4x over the window: still out");
    serve(&mut w, 60..120, 20.0, 20.0);
    assert!(!cpu_left_out(&mut w), "1.2x: compared again");
    serve(&mut w, 120..125, 20.0, 20.0);
    assert!(!cpu_left_out(&mut w), "and stays compared");

    let mut fresh = watch();
    serve(&mut fresh, 0..60, 20.0, 28.0);
    assert!(!cpu_left_out(&mut fresh), "1.4x never differed: compared");
}

/// The shadow's CPU is compared with production's only while both serve
/// comparable loads: beside an idle production, or at 4x its rate, it is
/// left out of the verdict, which says why.
#[test]
fn cpu_is_judged_only_under_comparable_loads() {
    let cpu = |v: &Verdict| {
        v.metrics
            .iter()
            .find(|m| m.name == "api/cpu_percent")
            .unwrap()
            .outcome
    };
    let same = cpu_under_load(20.0, 22.0);
    assert_eq!(cpu(&same), MetricOutcome::Fail, "{same:?}");
    assert_eq!(same.outcome, VerdictOutcome::Fail);

    let idle = cpu_under_load(0.0, 20.0);
    assert_eq!(cpu(&idle), MetricOutcome::NoData, "{idle:?}");
    assert_eq!(
        idle.reasons[0],
        "load differs: gateway serves 20.0 req/s on the shadow, 0.0 in production; \
         api/cpu_percent not compared (it scales with load)"
    );
    assert_eq!(
        idle.outcome,
        VerdictOutcome::Marginal,
        "nothing else to judge"
    );
    assert_eq!(idle.reasons.len(), 1, "{:?}", idle.reasons);

    assert_eq!(idle.left_out, vec!["api/cpu_percent".to_owned()]);

    let faster = cpu_under_load(20.0, 80.0);
    assert_eq!(cpu(&faster), MetricOutcome::NoData, "a 4x replay");

    // The first seconds: CPU waits, as if still gathering, until the
    // loads are known (9 s of two instances would be enough to judge it).
    let early = cpu_under_load_for(9, 20.0, 22.0);
    assert_eq!(cpu(&early), MetricOutcome::NoData, "{early:?}");
    assert!(early.left_out.is_empty(), "{early:?}");
    assert!(
        !early.reasons.iter().any(|r| r.contains("load")),
        "{early:?}"
    );
}

/// The judge vs baseline compares the shadow's CPU after a fault with the
/// minute before it only if the shadow's load stayed comparable (a
/// replayed day's peak may triple it).
#[test]
fn cpu_after_a_fault_is_judged_against_the_minute_before_only_under_the_same_load() {
    let after_fault = |fault_s: i64, rps_after: f64| {
        let mut w = watch();
        let shadow = |t: i64, w: &mut Watch, rps: f64, cpu: f64| {
            let jitter = f64::from(u8::try_from(t % 5).unwrap()) * 0.1;
            let instance =
                SeriesKey::instance(Environment::Shadow, "api", "api-1", metric::CPU_PERCENT);
            w.push(&instance, t * 1000, cpu + jitter);
            w.push(&key(Environment::Shadow, metric::RPS), t * 1000, rps);
        };
        for t in 0..fault_s {
            shadow(t, &mut w, 20.0, 2.0);
        }
        w.fault_started(fault_s * 1000);
        for t in fault_s..fault_s + 40 {
            shadow(t, &mut w, rps_after, 10.0);
        }
        w.look().vs_baseline.unwrap()
    };
    let same = after_fault(70, 21.0);
    assert!(same.left_out.is_empty(), "{same:?}");
    assert_eq!(same.outcome, VerdictOutcome::Fail, "{same:?}");
    // A fault 12 s into the watch: the baseline's rate is over those 12 s,
    // not diluted over the minute before the watch began.
    let early = after_fault(12, 21.0);
    assert!(early.left_out.is_empty(), "{early:?}");
    assert_eq!(early.outcome, VerdictOutcome::Fail, "{early:?}");
    let peak = after_fault(70, 60.0);
    assert_eq!(peak.left_out, vec!["api/cpu_percent".to_owned()]);
    assert_eq!(
        peak.reasons[0],
        "load differs: gateway serves 60.0 req/s on the shadow, 20.0 before the fault; \
         api/cpu_percent not compared (it scales with load)"
    );
}
