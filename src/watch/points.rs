//! What each input of the watch becomes as series points (pure).
//!
//! Owns: the series keys and values of a request second (access log), a
//! container stats frame, a host sample, a second of the load engine that
//! drives the shadow (`--replay` or the console's Load tab, placed on the
//! watch's clock by [`client_second`]), and a scraped page; and the
//! `--scrape [ENV[:SERVICE]=]URL` target syntax.
//!
//! Keys: `ENV/SERVICE/METRIC` for request metrics, `ENV/SERVICE/INSTANCE/
//! METRIC` for container stats and scrapes (the instance of a scrape is the
//! target's `host:port`), `host/machine/METRIC` for the host. The load
//! engine's view of the shadow is `shadow/ENTRY/client_*`: it sees what the
//! access log cannot — connections refused, timeouts, resets, and latency
//! corrected for coordinated omission.

use std::fmt;
use std::str::FromStr;

use crate::domain::series::{Environment, SeriesKey, metric};
use crate::domain::stats::ContainerStats;
use crate::http_get::UrlError;
use crate::metrics::host::HostStats;
use crate::metrics::requests::RequestSecond;
use crate::metrics::scrape_series::Converted;
use crate::traffic::report::Window;

use super::collect::Followed;
use super::second_of;

/// The service name of the host's series.
pub const HOST_SERVICE: &str = "machine";

/// Metric names of the load engine's view (`shadow/ENTRY/client_*`).
pub mod client {
    pub const RPS: &str = "client_rps";
    pub const LATENCY_P50_MS: &str = "client_latency_p50_ms";
    pub const LATENCY_P99_MS: &str = "client_latency_p99_ms";
    pub const ERROR_RATE: &str = "client_error_rate";
    /// Errors by kind: `client_errors_connect`, `_timeout`, `_io`, `_4xx`,
    /// `_5xx` (per second).
    pub const ERRORS_PREFIX: &str = "client_errors_";
    /// Arrivals the engine could not send (no free connection).
    pub const DROPPED: &str = "client_dropped";
}

/// A series and its value.
pub type Point = (SeriesKey, f64);

/// The points of one complete request second.
pub fn request_points(env: Environment, service: &str, s: &RequestSecond) -> Vec<Point> {
    let key = |m: &str| SeriesKey::service(env, service, m);
    let mut out = vec![(key(metric::RPS), s.requests as f64)];
    if s.requests > 0 {
        out.push((key(metric::ERROR_RATE), s.error_rate));
    }
    if let Some(p) = s.p50_ms {
        out.push((key(metric::LATENCY_P50_MS), p));
    }
    if let Some(p) = s.p99_ms {
        out.push((key(metric::LATENCY_P99_MS), p));
    }
    out
}

/// The points of one stats frame.
pub fn stats_points(c: &Followed, s: &ContainerStats) -> Vec<Point> {
    let key = |m: &str| SeriesKey::instance(c.environment, &c.service, &c.instance, m);
    vec![
        (key(metric::CPU_PERCENT), s.cpu_percent),
        (key(metric::MEMORY_BYTES), s.mem_bytes as f64),
        (key(metric::NET_RX_BPS), s.net_rx_bps),
        (key(metric::NET_TX_BPS), s.net_tx_bps),
        (key(metric::BLK_READ_BPS), s.blk_read_bps),
        (key(metric::BLK_WRITE_BPS), s.blk_write_bps),
    ]
}

/// The points of one host sample (`host/machine/...`).
pub fn host_points(s: &HostStats) -> Vec<Point> {
    let key = |m: &str| SeriesKey::service(Environment::Host, HOST_SERVICE, m);
    vec![
        (key(metric::CPU_PERCENT), f64::from(s.cpu_percent)),
        (key(metric::MEMORY_BYTES), s.mem_used as f64),
        (key(metric::LOAD1), s.load1),
    ]
}

/// Where a second of a load (the watch's own `--replay`, or the console's
/// Load tab) goes on the watch's clock: the start of that second on the
/// load engine's wall clock (`Window::at_ms`), so windows that arrive late
/// or in a burst keep their own seconds and never land in the future. A
/// window without it (0: a report from before it was recorded) goes to the
/// second that has just ended at `now_ms`.
pub fn client_second(window: &Window, now_ms: i64) -> i64 {
    if window.at_ms > 0 {
        window.at_ms
    } else {
        second_of(now_ms) - 1000
    }
}

/// The points of one second of the load engine driving `entry` on the
/// shadow. Latency and error rate only for a second with finished
/// requests.
pub fn client_points(entry: &str, w: &Window) -> Vec<Point> {
    let key = |m: &str| SeriesKey::service(Environment::Shadow, entry, m);
    let mut out = vec![
        (key(client::RPS), w.rps),
        (key(client::DROPPED), w.dropped as f64),
    ];
    if w.requests == 0 {
        return out;
    }
    let e = &w.errors;
    out.push((key(client::LATENCY_P50_MS), w.p50));
    out.push((key(client::LATENCY_P99_MS), w.p99));
    out.push((
        key(client::ERROR_RATE),
        e.total() as f64 / w.requests as f64,
    ));
    for (kind, n) in [
        ("connect", e.connect),
        ("timeout", e.timeout),
        ("io", e.io),
        ("4xx", e.client),
        ("5xx", e.server),
    ] {
        out.push((key(&format!("{}{kind}", client::ERRORS_PREFIX)), n as f64));
    }
    out
}

/// The points of one converted scrape page of `target`.
pub fn scrape_points(target: &ScrapeTarget, page: Converted) -> Vec<Point> {
    page.points
        .into_iter()
        .map(|(m, v)| {
            let key = SeriesKey::instance(target.environment, &target.service, &target.instance, m);
            (key, v)
        })
        .collect()
}

/// A `--scrape` target: `[ENV[:SERVICE]=]URL`, e.g.
/// `prod:gateway=http://127.0.0.1:8080/metrics`. ENV is `prod` (default),
/// `shadow` or `host`; SERVICE defaults to `scrape`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeTarget {
    pub environment: Environment,
    pub service: String,
    /// `host:port` of the URL.
    pub instance: String,
    pub url: String,
}

/// Why a `--scrape` value did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--scrape {value:?}: {reason} (expected [ENV[:SERVICE]=]http://HOST:PORT/PATH, ENV prod|shadow|host)"
)]
pub struct ScrapeTargetError {
    pub value: String,
    pub reason: String,
}

impl FromStr for ScrapeTarget {
    type Err = ScrapeTargetError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| ScrapeTargetError {
            value: value.to_owned(),
            reason,
        };
        let (scope, url) = match value.find("://") {
            Some(scheme_at) => match value[..scheme_at].rfind('=') {
                Some(eq) => (Some(&value[..eq]), &value[eq + 1..]),
                None => (None, value),
            },
            None => return Err(fail("no http:// URL".to_owned())),
        };
        let (environment, service) = match scope {
            None => (Environment::Prod, "scrape"),
            Some(scope) => {
                let (env, service) = scope.split_once(':').unwrap_or((scope, "scrape"));
                let env = Environment::parse(env)
                    .ok_or_else(|| fail(format!("environment {env:?} is unknown")))?;
                if service.is_empty() || service.contains('/') {
                    return Err(fail(format!("service {service:?} is not a name")));
                }
                (env, service)
            }
        };
        // The scraper's own check, at the command line.
        let target = crate::http_get::Target::parse(url, "http://HOST:PORT/metrics").map_err(
            |e| match e {
                UrlError::Https | UrlError::Scheme(_) => {
                    fail(format!("{url:?} is not plain http://"))
                }
                UrlError::Parse | UrlError::NoHost => fail(format!("{url:?} has no HOST:PORT")),
            },
        )?;
        Ok(ScrapeTarget {
            environment,
            service: service.to_owned(),
            instance: target.authority.to_string(),
            url: url.to_owned(),
        })
    }
}

impl fmt::Display for ScrapeTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}={}", self.environment, self.service, self.url)
    }
}

#[cfg(test)]
mod tests;
