use crossterm::event::KeyCode;

use super::*;
use crate::console::fixtures;
use crate::console::keymap::Key;
use crate::console::model::Pane;
use crate::console::model::watch::RING_CAP;
use crate::console::msg::{Msg, Point};
use crate::console::update::update;
use crate::domain::series::{Alert, AlertEvent, Environment, SeriesKey, Severity, metric};

fn press(model: &mut Model, key: Key) -> Vec<Cmd> {
    update(model, Msg::Key(key.to_event()))
}

fn news(model: &mut Model, news: WatchNews) -> Vec<Cmd> {
    update(model, Msg::Watch(news))
}

fn started(run: u64) -> WatchNews {
    WatchNews::Started {
        run,
        group: "shop".into(),
        shadow: Some(fixtures::SHADOW_ID.into()),
        entries: vec!["gateway".into()],
        services: vec!["gateway".into(), "api".into(), "store".into()],
    }
}

fn start(group: &str, shadow: Option<&str>, run: u64) -> Cmd {
    Cmd::Watch(WatchCmd::Start {
        run,
        group: group.into(),
        shadow: shadow.map(str::to_owned),
    })
}

/// shop with its shadow, the metrics tab shown and the run started.
fn watching() -> Model {
    let mut model = fixtures::model_with_shadow();
    press(&mut model, Key::char('4'));
    news(&mut model, started(0));
    model
}

#[test]
fn opening_the_tab_starts_a_watch_of_the_group_and_its_shadow() {
    let mut model = fixtures::model_with_shadow();
    let cmds = press(&mut model, Key::char('4'));
    assert_eq!(cmds, [start("shop", Some(fixtures::SHADOW_ID), 0)]);
    assert_eq!(model.tab, Tab::Metrics);
    assert_eq!(
        model.watch.run.as_ref().map(|r| &r.state),
        Some(&WatchState::Starting)
    );
    // Asking again while it runs does nothing; other messages neither.
    assert!(press(&mut model, Key::char('4')).is_empty());
    assert!(update(&mut model, Msg::Tick("12:00:01".into())).is_empty());
}

#[test]
fn a_group_without_a_shadow_asks_for_none() {
    let mut model = fixtures::model();
    assert_eq!(press(&mut model, Key::char('4')), [start("shop", None, 0)]);
}

#[test]
fn leaving_the_tab_stops_the_watch_and_coming_back_starts_another() {
    let mut model = watching();
    assert_eq!(
        press(&mut model, Key::char('1')),
        [Cmd::Watch(WatchCmd::Stop { run: 0 })]
    );
    assert_eq!(
        model.watch.run.as_ref().map(|r| &r.state),
        Some(&WatchState::Stopped)
    );
    assert!(press(&mut model, Key::char('2')).is_empty());
    assert_eq!(
        press(&mut model, Key::char('4')),
        [start("shop", Some(fixtures::SHADOW_ID), 1)]
    );
    assert!(model.watch.watched.is_none(), "the last run's data is gone");
}

#[test]
fn another_group_restarts_the_watch_on_it() {
    let mut model = watching();
    press(&mut model, Key::char('h'));
    assert_eq!(model.focus, Pane::Groups);
    let cmds = press(&mut model, Key::char('k'));
    assert_eq!(
        cmds,
        [
            Cmd::WatchGroup(Some("payments".into())),
            Cmd::Watch(WatchCmd::Stop { run: 0 }),
            start("payments", None, 1),
        ]
    );
}

#[test]
fn a_failed_run_stays_failed_until_the_tab_is_asked_for_again() {
    let mut model = fixtures::model();
    press(&mut model, Key::char('4'));
    news(
        &mut model,
        WatchNews::Ended {
            run: 0,
            result: Err("group \"shop\" publishes no port".into()),
        },
    );
    assert!(matches!(
        model.watch.run.as_ref().map(|r| &r.state),
        Some(WatchState::Failed(e)) if e.contains("publishes no port")
    ));
    assert!(update(&mut model, Msg::Groups(fixtures::groups())).is_empty());
    assert!(press(&mut model, Key::char('j')).is_empty());
    assert_eq!(press(&mut model, Key::char('4')), [start("shop", None, 1)]);
}

#[test]
fn a_shadow_appearing_restarts_the_watch_beside_it() {
    let mut model = fixtures::model();
    press(&mut model, Key::char('4'));
    news(
        &mut model,
        WatchNews::Started {
            run: 0,
            group: "shop".into(),
            shadow: None,
            entries: vec!["gateway".into()],
            services: vec!["gateway".into()],
        },
    );
    let cmds = update(&mut model, Msg::Shadows(fixtures::shadows()));
    assert_eq!(
        cmds,
        [
            Cmd::Watch(WatchCmd::Stop { run: 0 }),
            start("shop", Some(fixtures::SHADOW_ID), 1)
        ]
    );
    // The same listing again changes nothing.
    news(&mut model, started(1));
    assert!(update(&mut model, Msg::Shadows(fixtures::shadows())).is_empty());
}

#[test]
fn quitting_stops_the_watch_before_quitting() {
    let mut model = watching();
    let cmds = press(&mut model, Key::char('q'));
    assert_eq!(cmds, [Cmd::Watch(WatchCmd::Stop { run: 0 }), Cmd::Quit]);
}

#[test]
fn samples_fill_the_rings_and_stale_runs_are_ignored() {
    let mut model = watching();
    let key = SeriesKey::service(Environment::Shadow, "gateway", metric::LATENCY_P99_MS);
    let points = |from: i64, to: i64| {
        (from..to)
            .map(|t| Point {
                key: key.clone(),
                t_ms: t * 1000,
                value: 10.0,
                score: 0.0,
            })
            .collect()
    };
    news(
        &mut model,
        WatchNews::Samples {
            run: 0,
            points: points(0, 1000),
        },
    );
    let ring = &model.watch.series[&key];
    assert!(
        ring.len() <= RING_CAP && ring.len() == 301,
        "{}",
        ring.len()
    );
    assert_eq!(model.watch.latest_ms, 999_000);
    // News of another run is dropped.
    news(
        &mut model,
        WatchNews::Samples {
            run: 7,
            points: points(1000, 1010),
        },
    );
    assert_eq!(model.watch.latest_ms, 999_000);
    news(
        &mut model,
        WatchNews::Notice {
            run: 0,
            text: "api-2 is gone".into(),
        },
    );
    assert_eq!(model.watch.notice.as_deref(), Some("api-2 is gone"));
}

#[test]
fn alerts_open_and_close() {
    let mut model = watching();
    let alert = Alert {
        id: 3,
        series: SeriesKey::service(Environment::Shadow, "gateway", metric::LATENCY_P99_MS),
        score: 0.93,
        severity: Severity::Critical,
        explanation: "p99 latency 212 ms, usually 12 ms".into(),
        start_ms: 5_000,
        end_ms: None,
    };
    news(
        &mut model,
        WatchNews::Alert {
            run: 0,
            event: AlertEvent::Opened(alert.clone()),
        },
    );
    assert_eq!(model.watch.open_alerts(), 1);
    let closed = Alert {
        end_ms: Some(20_000),
        ..alert
    };
    news(
        &mut model,
        WatchNews::Alert {
            run: 0,
            event: AlertEvent::Closed(closed),
        },
    );
    assert_eq!(model.watch.alerts.len(), 1);
    assert_eq!(model.watch.open_alerts(), 0);
}

#[test]
fn j_and_k_pick_the_service_on_the_tab() {
    let mut model = watching();
    assert_eq!(model.focus, Pane::Services);
    assert_eq!(model.watch.selected_service(), Some("gateway"));
    press(&mut model, Key::char('j'));
    assert_eq!(model.watch.selected_service(), Some("api"));
    press(&mut model, Key::plain(KeyCode::End));
    assert_eq!(model.watch.selected_service(), Some("store"));
    press(&mut model, Key::char('j'));
    assert_eq!(model.watch.selected_service(), Some("store"));
    press(&mut model, Key::char('g'));
    assert_eq!(model.watch.selected_service(), Some("gateway"));
}

#[test]
fn the_end_of_a_stopped_run_keeps_it_stopped() {
    let mut model = watching();
    press(&mut model, Key::char('1'));
    news(
        &mut model,
        WatchNews::Ended {
            run: 0,
            result: Ok(()),
        },
    );
    assert_eq!(
        model.watch.run.as_ref().map(|r| &r.state),
        Some(&WatchState::Stopped)
    );
}
