//! Snapshots of the metrics pane from a fixture watch (two minutes of shop
//! and its shadow, a latency step on the shadow flagged and alerted, the
//! judge failing), and checks that snapshots (text only) cannot see.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use crate::console::fixtures;
use crate::console::keymap::Key;
use crate::console::model::Model;
use crate::console::msg::{Msg, Point, WatchNews};
use crate::console::theme::Theme;
use crate::console::update::update;
use crate::domain::series::{
    Alert, AlertEvent, Environment, MetricOutcome, MetricResult, SeriesKey, Severity, Shift,
    Verdict, VerdictOutcome, metric,
};
use crate::watch::core::Verdicts;

/// The fixture's seconds: 120, ending at t = 1 000 120 s.
const START_S: i64 = 1_000_000;
const SECONDS: i64 = 120;

fn theme() -> Theme {
    Theme::builtin().unwrap()
}

fn screen(model: &Model, theme: &Theme, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| crate::console::view::draw(frame, model, theme))
        .unwrap();
    terminal
}

fn news(model: &mut Model, news: WatchNews) {
    update(model, Msg::Watch(news));
}

fn result(name: &str, outcome: MetricOutcome) -> MetricResult {
    MetricResult {
        name: name.into(),
        critical: false,
        outcome,
        shift: Shift::Higher,
        n_shadow: 60,
        n_reference: 60,
        u: 0.0,
        z: 0.0,
        p_fixed: 0.5,
        p_anytime: 0.5,
        cliffs_delta: 0.0,
        median_ratio: 1.0,
    }
}

fn verdicts() -> Verdicts {
    Verdicts {
        since_ms: START_S * 1000,
        vs_production: Verdict {
            outcome: VerdictOutcome::Fail,
            score: 0.0,
            metrics: vec![result("gateway/latency_p99_ms", MetricOutcome::Fail)],
            reasons: vec!["gateway/latency_p99_ms is higher on the shadow (x17.7)".into()],
            left_out: Vec::new(),
        },
        vs_baseline: Some(Verdict {
            outcome: VerdictOutcome::Pass,
            score: 100.0,
            metrics: vec![result("gateway/cpu_percent", MetricOutcome::Pass)],
            reasons: Vec::new(),
            left_out: Vec::new(),
        }),
    }
}

/// One side's samples of second `t` (relative): request metrics of the
/// gateway, CPU and memory of each of its instances (and api's).
fn second(env: Environment, t: i64) -> Vec<Point> {
    let shadow = env == Environment::Shadow;
    let stepped = shadow && t >= 90;
    let wave = [0.0, 1.0, 2.0, 1.0][(t % 4) as usize];
    let at = (START_S + t) * 1000;
    let point = |key: SeriesKey, value: f64, score: f64| Point {
        key,
        t_ms: at,
        value,
        score,
    };
    let service = |name: &str| SeriesKey::service(env, "gateway", name);
    let instance = |service: &str, n: u32, name: &str| {
        let prefix = if shadow { "us-a1b2c3" } else { "shop" };
        SeriesKey::instance(env, service, format!("{prefix}-{service}-{n}"), name)
    };
    let p99 = if stepped { 212.0 + wave } else { 12.0 + wave };
    let score = if stepped && t < 95 { 0.93 } else { 0.1 };
    let mut out = vec![
        point(service(metric::LATENCY_P99_MS), p99, score),
        point(
            service(metric::ERROR_RATE),
            if t % 30 == 0 { 0.02 } else { 0.0 },
            0.0,
        ),
        point(service(metric::RPS), 20.0 + wave, 0.0),
        point(service(metric::LATENCY_P50_MS), 3.0, 0.0),
    ];
    for (svc, n) in [("gateway", 1), ("api", 1), ("api", 2)] {
        let cpu = if shadow { 14.0 } else { 10.0 } + wave;
        out.push(point(instance(svc, n, metric::CPU_PERCENT), cpu, 0.0));
        out.push(point(
            instance(svc, n, metric::MEMORY_BYTES),
            f64::from(64 + n * 8) * 1024.0 * 1024.0,
            0.0,
        ));
    }
    out
}

/// shop with its shadow on the metrics tab, two minutes watched.
fn watched() -> Model {
    let mut model = fixtures::model_with_shadow();
    update(&mut model, Msg::Key(Key::char('4').to_event()));
    news(
        &mut model,
        WatchNews::Started {
            run: 0,
            group: "shop".into(),
            shadow: Some(fixtures::SHADOW_ID.into()),
            entries: vec!["gateway".into()],
            services: vec!["gateway".into(), "api".into(), "store".into()],
        },
    );
    for t in 0..SECONDS {
        let mut points = second(Environment::Prod, t);
        points.extend(second(Environment::Shadow, t));
        news(&mut model, WatchNews::Samples { run: 0, points });
    }
    let latency = Alert {
        id: 2,
        series: SeriesKey::service(Environment::Shadow, "gateway", metric::LATENCY_P99_MS),
        score: 0.93,
        severity: Severity::Critical,
        explanation: "p99 latency 212 ms, usually 12-14 ms (score 0.93)".into(),
        start_ms: (START_S + 90) * 1000,
        end_ms: None,
    };
    let cpu = Alert {
        id: 1,
        series: SeriesKey::instance(Environment::Prod, "api", "shop-api-2", metric::CPU_PERCENT),
        score: 0.7,
        severity: Severity::Warning,
        explanation: "CPU 48 %, usually 10-12 % (score 0.70)".into(),
        start_ms: (START_S + 20) * 1000,
        end_ms: Some((START_S + 34) * 1000),
    };
    for event in [
        AlertEvent::Opened(cpu.clone()),
        AlertEvent::Closed(cpu),
        AlertEvent::Opened(latency),
    ] {
        news(&mut model, WatchNews::Alert { run: 0, event });
    }
    news(
        &mut model,
        WatchNews::Looked {
            run: 0,
            verdicts: Box::new(verdicts()),
        },
    );
    news(
        &mut model,
        WatchNews::Fault {
            run: 0,
            kind: "latency".into(),
            target: "gateway".into(),
            t_ms: (START_S + 89) * 1000,
        },
    );
    model
}

/// The first cell whose row contains `needle`.
fn find(buffer: &Buffer, needle: &str) -> (u16, u16) {
    for y in 0..buffer.area.height {
        let text: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol())
            .collect();
        if let Some(byte) = text.find(needle) {
            return (text[..byte].chars().count() as u16, y);
        }
    }
    panic!("{needle:?} not on screen");
}

#[test]
fn wide_charts_beside_the_alerts() {
    let terminal = screen(&watched(), &theme(), 180, 40);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn narrow_alerts_below_the_charts() {
    let terminal = screen(&watched(), &theme(), 100, 40);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn short_terminal_charts_give_way_to_lines() {
    let terminal = screen(&watched(), &theme(), 150, 18);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn a_service_that_is_not_an_entry_has_no_request_charts() {
    let mut model = watched();
    update(&mut model, Msg::Key(Key::char('j').to_event()));
    let terminal = screen(&model, &theme(), 180, 30);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn starting_and_failing_say_so() {
    let mut model = fixtures::model();
    update(&mut model, Msg::Key(Key::char('4').to_event()));
    let starting = screen(&model, &theme(), 120, 10);
    insta::assert_snapshot!("starting", starting.backend());
    news(
        &mut model,
        WatchNews::Ended {
            run: 0,
            result: Err("group \"shop\" publishes no port, so its entry is unknown".into()),
        },
    );
    let failed = screen(&model, &theme(), 120, 10);
    insta::assert_snapshot!("failed", failed.backend());
}

/// A verdict that left CPU out (production idle beside a replayed shadow)
/// shows as marginal with its reason, not as still gathering.
#[test]
fn a_verdict_that_left_metrics_out_says_why() {
    let mut model = watched();
    let why = "load differs: gateway serves 22.3 req/s on the shadow, 0.0 in production; \
               api/cpu_percent not compared (it scales with load)";
    let mut left_out = verdicts();
    left_out.vs_production = Verdict {
        outcome: VerdictOutcome::Marginal,
        score: 100.0,
        metrics: vec![result("api/cpu_percent", MetricOutcome::NoData)],
        reasons: vec![why.into()],
        left_out: vec!["api/cpu_percent".into()],
    };
    left_out.vs_baseline = None;
    news(
        &mut model,
        WatchNews::Looked {
            run: 0,
            verdicts: Box::new(left_out),
        },
    );
    let terminal = screen(&model, &theme(), 200, 40);
    let buffer = terminal.backend().buffer();
    let theme = theme();
    assert_eq!(
        buffer[find(buffer, "marginal 100")].fg,
        theme.warn.fg.unwrap()
    );
    find(buffer, "load differs: gateway");
}

#[test]
fn sides_and_flags_use_the_theme_roles() {
    let theme = theme();
    let terminal = screen(&watched(), &theme, 180, 40);
    let buffer = terminal.backend().buffer();
    let (x, y) = find(buffer, "prod 13");
    assert_eq!(buffer[(x, y)].fg, theme.prod.fg.unwrap());
    let (x, y) = find(buffer, "shadow 213");
    assert_eq!(buffer[(x, y)].fg, theme.shadow.fg.unwrap());
    assert_eq!(
        buffer[find(buffer, "• 5 flagged")].fg,
        theme.crit.fg.unwrap()
    );
    assert_eq!(buffer[find(buffer, "FAIL 0")].fg, theme.crit.fg.unwrap());
    assert_eq!(buffer[find(buffer, "pass 100")].fg, theme.ok.fg.unwrap());
    let crit = theme.crit.fg.unwrap();
    let prod = theme.prod.fg.unwrap();
    let shadow = theme.shadow.fg.unwrap();
    let plotted = |colour| buffer.content.iter().filter(|c| c.fg == colour).count();
    assert!(plotted(prod) > 100 && plotted(shadow) > 100);
    assert!(plotted(crit) > 5, "the flagged points are drawn");
}

#[test]
fn tiny_terminals_do_not_panic_and_no_color_has_no_colour() {
    let model = watched();
    for (w, h) in [
        (0, 0),
        (1, 1),
        (10, 3),
        (20, 5),
        (40, 8),
        (60, 12),
        (200, 2),
        (200, 7),
    ] {
        screen(&model, &theme(), w, h);
    }
    let mono = Theme::load(None, true).unwrap();
    let terminal = screen(&model, &mono, 180, 40);
    for cell in &terminal.backend().buffer().content {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
    }
}

/// While the Load tab drives the shadow, the load engine's p99 (through
/// the watch news, as the console's watch sends it) is a third, dim line of
/// the p99 chart, `client` in its legend, flagged like the others.
#[test]
fn the_load_engines_p99_is_drawn_on_the_latency_chart_as_client() {
    let theme = theme();
    let mut model = watched();
    let muted = theme.muted.fg.unwrap();
    let dim = |buffer: &Buffer| buffer.content.iter().filter(|c| c.fg == muted).count();
    let before = screen(&model, &theme, 180, 40);
    let plain: String = before
        .backend()
        .buffer()
        .content
        .iter()
        .map(ratatui::buffer::Cell::symbol)
        .collect();
    assert!(!plain.contains("client"), "no load: no client line");
    let dim_before = dim(before.backend().buffer());
    let key = SeriesKey::service(
        Environment::Shadow,
        "gateway",
        crate::watch::points::client::LATENCY_P99_MS,
    );
    let points = (60..SECONDS)
        .map(|t| Point {
            key: key.clone(),
            t_ms: (START_S + t) * 1000,
            value: if t >= 90 { 240.0 } else { 15.0 },
            score: if t == 90 { 0.8 } else { 0.0 },
        })
        .collect();
    news(&mut model, WatchNews::Samples { run: 0, points });
    let after = screen(&model, &theme, 180, 40);
    let buffer = after.backend().buffer();
    let (x, y) = find(buffer, "client 240");
    assert_eq!(buffer[(x, y)].fg, muted);
    assert!(
        find(buffer, "p99 latency ms").1 == y,
        "in the p99 chart's legend"
    );
    assert!(
        find(buffer, "• 6 flagged").1 == y,
        "its flagged point counts"
    );
    assert!(
        dim(buffer) >= dim_before + 20,
        "its line is drawn: {dim_before} then {} dim cells",
        dim(buffer)
    );
}

/// A stall felt on both sides: production's and the shadow's p99 alerts
/// opened a second apart, and each names the other as a shared cause; the
/// fault's own alert, later, names none.
#[test]
fn alerts_that_opened_at_once_on_both_sides_name_each_other() {
    let mut model = watched();
    let stall = |id, env| Alert {
        id,
        series: SeriesKey::service(env, "gateway", metric::LATENCY_P99_MS),
        score: 0.6,
        severity: Severity::Warning,
        explanation: format!("stall {id}"),
        start_ms: (START_S + 50 + i64::try_from(id).unwrap() - 3) * 1000,
        end_ms: Some((START_S + 56) * 1000),
    };
    for event in [
        AlertEvent::Closed(stall(3, Environment::Prod)),
        AlertEvent::Closed(stall(4, Environment::Shadow)),
    ] {
        news(&mut model, WatchNews::Alert { run: 0, event });
    }
    let terminal = screen(&model, &theme(), 180, 40);
    let buffer = terminal.backend().buffer();
    // The second line of the alert whose first line shows `series`.
    let under = |series: &str| {
        let (x, y) = find(buffer, series);
        (x..buffer.area.width)
            .map(|x| buffer[(x, y + 1)].symbol())
            .collect::<String>()
    };
    let prod = under("○ warning prod/gateway/latency_p99_ms");
    assert!(
        prod.contains("shared cause with shadow #4? · closed"),
        "{prod}"
    );
    let shadow = under("○ warning shadow/gateway/latency_p99_ms");
    assert!(
        shadow.contains("shared cause with prod #3? · closed"),
        "{shadow}"
    );
    let fault = under("● critical shadow/gateway/latency_p99_ms");
    assert!(!fault.contains("shared"), "{fault}");
}

/// A long notice (a fault during the warm-up) wraps over a few rows under
/// the state line, whole in a 180-column console, instead of being cut at
/// the end of the state line; the charts keep the rest, and a short
/// terminal gives it one row.
#[test]
fn a_long_notice_wraps_under_the_state_line() {
    let mut model = watched();
    let text = "fault 82698795 began while 16 shadow series still learned their baseline: \
                shadow/gateway/client_error_rate (20 of 30), shadow/gateway/client_latency_p50_ms \
                (20 of 30), shadow/gateway/client_latency_p99_ms (20 of 30) and 13 more score it \
                against the points they had, a thinner baseline than usual. The judge vs baseline \
                compares with the time before it; for full baselines, start faults once the \
                shadow's series have 30 points (about 30 s into a watch)";
    news(
        &mut model,
        WatchNews::Notice {
            run: 0,
            text: text.into(),
        },
    );
    let terminal = screen(&model, &theme(), 180, 40);
    let buffer = terminal.backend().buffer();
    let (_, state_y) = find(buffer, "◆ watching shop");
    let (_, first_y) = find(buffer, "fault 82698795 began");
    let (_, last_y) = find(buffer, "(about 30 s into a watch)");
    assert_eq!(first_y, state_y + 1, "under the state line");
    assert!(
        last_y > first_y && last_y < first_y + super::NOTICE_ROWS,
        "{first_y}..{last_y}"
    );
    let (_, services_y) = find(buffer, " service ");
    assert_eq!(services_y, last_y + 1);
    find(buffer, "p99 latency");
    // 12 rows: the notice gets one, cut, and the services line still shows.
    let terminal = screen(&model, &theme(), 100, 12);
    let buffer = terminal.backend().buffer();
    let (_, first_y) = find(buffer, "fault 82698795 began");
    let (_, services_y) = find(buffer, " service ");
    assert_eq!(services_y, first_y + 1);
}
