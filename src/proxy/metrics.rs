//! The proxy's counters (lock-free atomics, one set per proxy) and their
//! rendering in the Prometheus text format for `GET /metrics`.
//!
//! Owns the metric names; rendering is pure over a snapshot.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use super::model::FaultKind;

/// The content type of [`render`].
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const STATUS_MIN: u16 = 100;
const STATUS_COUNT: usize = 500;

/// Counters of one proxy.
#[derive(Debug)]
pub struct Stats {
    pub connections: AtomicU64,
    pub active: AtomicI64,
    pub bytes_upstream: AtomicU64,
    pub bytes_downstream: AtomicU64,
    pub upstream_errors: AtomicU64,
    pub bad_requests: AtomicU64,
    fault_hits: [AtomicU64; FaultKind::ALL.len()],
    statuses: Box<[AtomicU64]>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            connections: AtomicU64::new(0),
            active: AtomicI64::new(0),
            bytes_upstream: AtomicU64::new(0),
            bytes_downstream: AtomicU64::new(0),
            upstream_errors: AtomicU64::new(0),
            bad_requests: AtomicU64::new(0),
            fault_hits: std::array::from_fn(|_| AtomicU64::new(0)),
            statuses: (0..STATUS_COUNT).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Stats {
    pub fn hit(&self, kind: FaultKind) {
        self.fault_hits[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn hits(&self, kind: FaultKind) -> u64 {
        self.fault_hits[kind.index()].load(Ordering::Relaxed)
    }

    /// Counts an HTTP response (status 100-599; others are not counted).
    pub fn status(&self, status: u16) {
        if let Some(slot) = status
            .checked_sub(STATUS_MIN)
            .and_then(|i| self.statuses.get(usize::from(i)))
        {
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(status, count)` for every status seen.
    pub fn statuses(&self) -> Vec<(u16, u64)> {
        self.statuses
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let n = n.load(Ordering::Relaxed);
                (n > 0).then(|| (STATUS_MIN + i as u16, n))
            })
            .collect()
    }
}

/// Counts a live connection; decrements the gauge when dropped.
pub struct ActiveGuard<'a>(&'a Stats);

impl<'a> ActiveGuard<'a> {
    pub fn new(stats: &'a Stats) -> Self {
        stats.connections.fetch_add(1, Ordering::Relaxed);
        stats.active.fetch_add(1, Ordering::Relaxed);
        Self(stats)
    }
}

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What [`render`] needs of one proxy.
pub struct ProxyView<'a> {
    pub name: &'a str,
    pub http: bool,
    pub faults_active: usize,
    pub stats: &'a Stats,
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A one-sample-per-proxy family: name, type, help, value.
type Family = (&'static str, &'static str, &'static str, fn(&Stats) -> i64);

/// Every proxy's counters in the text exposition format (0.0.4).
pub fn render(proxies: &[ProxyView<'_>]) -> String {
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let mut out = String::new();
    let simple: [Family; 4] = [
        (
            "understudy_proxy_connections_total",
            "counter",
            "Connections accepted.",
            |s| s.connections.load(Ordering::Relaxed) as i64,
        ),
        (
            "understudy_proxy_connections_active",
            "gauge",
            "Connections open now.",
            |s| s.active.load(Ordering::Relaxed),
        ),
        (
            "understudy_proxy_upstream_connect_errors_total",
            "counter",
            "Failed connects to (or resolutions of) the upstream.",
            |s| s.upstream_errors.load(Ordering::Relaxed) as i64,
        ),
        (
            "understudy_proxy_http_bad_requests_total",
            "counter",
            "Malformed, oversized or too slow HTTP request heads (http mode).",
            |s| s.bad_requests.load(Ordering::Relaxed) as i64,
        ),
    ];
    for (name, kind, help, get) in simple {
        family(&mut out, name, kind, help);
        for p in proxies {
            let _ = writeln!(
                out,
                "{name}{{proxy=\"{}\"}} {}",
                escape(p.name),
                get(p.stats)
            );
        }
    }
    let name = "understudy_proxy_bytes_total";
    family(&mut out, name, "counter", "Bytes passed, by direction.");
    for p in proxies {
        let proxy = escape(p.name);
        for (dir, n) in [
            ("upstream", load(&p.stats.bytes_upstream)),
            ("downstream", load(&p.stats.bytes_downstream)),
        ] {
            let _ = writeln!(out, "{name}{{proxy=\"{proxy}\",direction=\"{dir}\"}} {n}");
        }
    }
    let name = "understudy_proxy_faults_active";
    family(&mut out, name, "gauge", "Faults installed.");
    for p in proxies {
        let _ = writeln!(
            out,
            "{name}{{proxy=\"{}\"}} {}",
            escape(p.name),
            p.faults_active
        );
    }
    let name = "understudy_proxy_fault_hits_total";
    family(
        &mut out,
        name,
        "counter",
        "Connections (byte faults) or requests (HTTP faults) a fault hit, by kind.",
    );
    for p in proxies {
        for kind in FaultKind::ALL {
            let _ = writeln!(
                out,
                "{name}{{proxy=\"{}\",kind=\"{kind}\"}} {}",
                escape(p.name),
                p.stats.hits(kind)
            );
        }
    }
    let name = "understudy_proxy_http_requests_total";
    family(
        &mut out,
        name,
        "counter",
        "HTTP responses sent to clients, by status (http mode).",
    );
    for p in proxies.iter().filter(|p| p.http) {
        for (status, n) in p.stats.statuses() {
            let _ = writeln!(
                out,
                "{name}{{proxy=\"{}\",status=\"{status}\"}} {n}",
                escape(p.name)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_per_proxy() {
        let stats = Stats::default();
        {
            let _guard = ActiveGuard::new(&stats);
            stats.bytes_upstream.fetch_add(10, Ordering::Relaxed);
            stats.hit(FaultKind::HttpStatus);
            stats.status(503);
            stats.status(503);
            stats.status(200);
            stats.status(42);
        }
        let _open = ActiveGuard::new(&stats);
        let text = render(&[ProxyView {
            name: "api\"x",
            http: true,
            faults_active: 2,
            stats: &stats,
        }]);
        for line in [
            "understudy_proxy_connections_total{proxy=\"api\\\"x\"} 2",
            "understudy_proxy_connections_active{proxy=\"api\\\"x\"} 1",
            "understudy_proxy_bytes_total{proxy=\"api\\\"x\",direction=\"upstream\"} 10",
            "understudy_proxy_faults_active{proxy=\"api\\\"x\"} 2",
            "understudy_proxy_fault_hits_total{proxy=\"api\\\"x\",kind=\"http-status\"} 1",
            "understudy_proxy_http_requests_total{proxy=\"api\\\"x\",status=\"503\"} 2",
            "understudy_proxy_http_requests_total{proxy=\"api\\\"x\",status=\"200\"} 1",
            "# TYPE understudy_proxy_bytes_total counter",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
        assert_eq!(stats.statuses().len(), 2);
    }
}
