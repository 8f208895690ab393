use super::*;
use crate::traffic::stats::ErrorCounts;

fn window(requests: u64, errors: ErrorCounts) -> Window {
    Window {
        target_rps: Some(20.0),
        errors,
        dropped: 2,
        ..Window::steady(3, requests, 250.0)
    }
}

fn get(points: &[Point], key: &str) -> Option<f64> {
    points
        .iter()
        .find(|(k, _)| k.to_string() == key)
        .map(|(_, v)| *v)
}

#[test]
fn a_load_engine_second_shows_what_the_access_log_cannot() {
    let errors = ErrorCounts {
        connect: 3,
        timeout: 1,
        ..ErrorCounts::default()
    };
    let points = client_points("gateway", &window(20, errors));
    assert_eq!(get(&points, "shadow/gateway/client_rps"), Some(20.0));
    assert_eq!(
        get(&points, "shadow/gateway/client_latency_p99_ms"),
        Some(250.0)
    );
    assert_eq!(get(&points, "shadow/gateway/client_error_rate"), Some(0.2));
    assert_eq!(
        get(&points, "shadow/gateway/client_errors_connect"),
        Some(3.0)
    );
    assert_eq!(
        get(&points, "shadow/gateway/client_errors_timeout"),
        Some(1.0)
    );
    assert_eq!(get(&points, "shadow/gateway/client_errors_5xx"), Some(0.0));
    assert_eq!(get(&points, "shadow/gateway/client_dropped"), Some(2.0));
    // A second where nothing finished has no latency to chart.
    let idle = client_points("gateway", &window(0, ErrorCounts::default()));
    assert_eq!(get(&idle, "shadow/gateway/client_rps"), Some(0.0));
    assert_eq!(get(&idle, "shadow/gateway/client_latency_p50_ms"), None);
}

#[test]
fn host_samples_are_host_series_that_parse_back() {
    let s = HostStats {
        cpu_percent: 40.5,
        cpus: 2,
        mem_used: 1 << 30,
        mem_total: 4 << 30,
        load1: 1.25,
    };
    let points = host_points(&s);
    assert_eq!(get(&points, "host/machine/cpu_percent"), Some(40.5));
    assert_eq!(
        get(&points, "host/machine/memory_bytes"),
        Some(f64::from(1u32 << 30))
    );
    assert_eq!(get(&points, "host/machine/load1"), Some(1.25));
    for (key, _) in &points {
        assert_eq!(key.to_string().parse::<SeriesKey>().unwrap(), *key);
    }
}

#[test]
fn scrape_targets_parse_with_their_scope() {
    let t: ScrapeTarget = "http://127.0.0.1:9100/metrics".parse().unwrap();
    assert_eq!(
        (t.environment, t.service.as_str(), t.instance.as_str()),
        (Environment::Prod, "scrape", "127.0.0.1:9100")
    );
    let t: ScrapeTarget = "shadow:api=http://127.0.0.1:4000/metrics".parse().unwrap();
    assert_eq!(
        (t.environment, t.service.as_str(), t.url.as_str()),
        (Environment::Shadow, "api", "http://127.0.0.1:4000/metrics")
    );
    // As the report names it; it reads back as the same target.
    assert_eq!(t.to_string(), "shadow:api=http://127.0.0.1:4000/metrics");
    assert_eq!(t.to_string().parse::<ScrapeTarget>().unwrap(), t);
    let t: ScrapeTarget = "host=http://localhost:9100/metrics?x=1".parse().unwrap();
    assert_eq!(
        (t.environment, t.service.as_str()),
        (Environment::Host, "scrape")
    );
    assert_eq!(t.url, "http://localhost:9100/metrics?x=1");
    let points = scrape_points(
        &t,
        Converted {
            points: vec![("up".to_owned(), 1.0)],
            ..Converted::default()
        },
    );
    assert_eq!(get(&points, "host/scrape/localhost:9100/up"), Some(1.0));
}

#[test]
fn bad_scrape_targets_name_the_value_and_the_reason() {
    for (value, reason) in [
        ("127.0.0.1:9100/metrics", "no http:// URL"),
        (
            "staging=http://127.0.0.1:1/metrics",
            "environment \"staging\" is unknown",
        ),
        (
            "prod:=http://127.0.0.1:1/metrics",
            "service \"\" is not a name",
        ),
        ("https://127.0.0.1:1/metrics", "is not plain http://"),
        ("prod=http:///metrics", "has no HOST:PORT"),
    ] {
        let e = value.parse::<ScrapeTarget>().unwrap_err().to_string();
        assert!(e.contains(&format!("{value:?}")), "{e}");
        assert!(e.contains(reason), "{value}: {e}");
    }
}

#[test]
fn a_load_second_goes_to_its_own_wall_clock_second() {
    let mut w = window(10, ErrorCounts::default());
    // A burst: three seconds arriving at one instant keep their own seconds,
    // none in the future.
    for (t, at) in [(0, 9_000), (1, 10_000), (2, 11_000)] {
        w.t = t;
        w.at_ms = at;
        assert_eq!(client_second(&w, 12_450), at);
    }
    // Without a recorded start: the second that has just ended.
    w.at_ms = 0;
    assert_eq!(client_second(&w, 30_100), 29_000);
}
