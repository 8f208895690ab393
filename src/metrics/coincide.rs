//! Alerts production and the shadow raise at once (pure).
//!
//! Owns [`coincidences`]: pairs of alerts on the same service and metric,
//! one on production and one on the shadow, that opened within
//! [`WITHIN_MS`] of each other, with the host's alerts that opened in the
//! same span. A fault is injected into the shadow only, and the shadow has
//! no way to production, so such a pair points at a cause both
//! environments share — the machine they run on (a stall of its CPUs), its
//! disk, a dependency outside both — rather than at the fault: an SRE reads
//! the shadow's alert with that in mind, and production's too. (The watch
//! drill saw one: a one-second stall of the two shared cores raised
//! production's and the shadow's p99 latency alerts in the same second.)
//! Not owned: when an alert opens (`alerting`), what the judge concludes
//! (it compares the two environments, so a shared cause moves both sides
//! alike and is not a divergence).

use serde::{Deserialize, Serialize};

use crate::domain::series::{Alert, Environment};

/// Two alerts opened at most this far apart are "at once": the detectors
/// see a stall within a sample or two (1 s samples) on either side, and an
/// alert opens after a few points in a row.
pub const WITHIN_MS: i64 = 3_000;

/// A production alert and a shadow alert on the same service and metric
/// that opened at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coincidence {
    pub service: String,
    pub metric: String,
    /// The production alert's id.
    pub prod: u64,
    /// The shadow alert's id.
    pub shadow: u64,
    /// How far apart they opened, ms (0 or more).
    pub apart_ms: i64,
    /// Host alerts that opened within [`WITHIN_MS`] of either.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host: Vec<u64>,
}

impl Coincidence {
    /// `prod #3 and shadow #4 (api latency_p99_ms) opened 0.8 s apart`,
    /// with the host's alerts when there are any.
    pub fn describe(&self) -> String {
        let host = if self.host.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = self.host.iter().map(|id| format!("#{id}")).collect();
            format!(", host {} too", ids.join(", "))
        };
        format!(
            "prod #{} and shadow #{} ({} {}) opened {:.1} s apart{host}: a cause both share \
             (the host, a dependency), not the shadow's fault",
            self.prod,
            self.shadow,
            self.service,
            self.metric,
            self.apart_ms as f64 / 1000.0
        )
    }
}

/// Every production/shadow pair of `alerts` on the same service and
/// metric (any instance) that opened within [`WITHIN_MS`]; each alert is in
/// at most one pair, the nearest pairs first; in the order of the shadow
/// alerts' ids.
pub fn coincidences<'a>(alerts: impl IntoIterator<Item = &'a Alert>) -> Vec<Coincidence> {
    let alerts: Vec<&Alert> = alerts.into_iter().collect();
    let of = |env: Environment| {
        alerts
            .iter()
            .copied()
            .filter(move |a| a.series.environment == env)
    };
    let mut candidates: Vec<(i64, &Alert, &Alert)> = of(Environment::Shadow)
        .flat_map(|s| {
            of(Environment::Prod)
                .filter(move |p| {
                    p.series.service == s.series.service && p.series.metric == s.series.metric
                })
                .map(move |p| ((p.start_ms - s.start_ms).abs(), p, s))
        })
        .filter(|(apart, _, _)| *apart <= WITHIN_MS)
        .collect();
    candidates.sort_by_key(|(apart, p, s)| (*apart, s.id, p.id));
    let mut taken: Vec<u64> = Vec::new();
    let mut out = Vec::new();
    for (apart_ms, p, s) in candidates {
        if taken.contains(&p.id) || taken.contains(&s.id) {
            continue;
        }
        taken.extend([p.id, s.id]);
        let (from, to) = (
            p.start_ms.min(s.start_ms) - WITHIN_MS,
            p.start_ms.max(s.start_ms) + WITHIN_MS,
        );
        let mut host: Vec<u64> = of(Environment::Host)
            .filter(|h| (from..=to).contains(&h.start_ms))
            .map(|h| h.id)
            .collect();
        host.sort_unstable();
        out.push(Coincidence {
            service: s.series.service.clone(),
            metric: s.series.metric.clone(),
            prod: p.id,
            shadow: s.id,
            apart_ms,
            host,
        });
    }
    out.sort_by_key(|c| c.shadow);
    out
}

/// The alert `id` forms a pair with, as `prod #3` or `shadow #4`.
pub fn partner_of(pairs: &[Coincidence], id: u64) -> Option<String> {
    pairs.iter().find_map(|c| {
        if c.prod == id {
            Some(format!("shadow #{}", c.shadow))
        } else if c.shadow == id {
            Some(format!("prod #{}", c.prod))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::series::{SeriesKey, Severity, metric};

    fn alert(id: u64, env: Environment, service: &str, metric: &str, start_ms: i64) -> Alert {
        Alert {
            id,
            series: SeriesKey::service(env, service, metric),
            score: 0.7,
            severity: Severity::Warning,
            explanation: String::new(),
            start_ms,
            end_ms: None,
        }
    }

    #[test]
    fn a_stall_felt_on_both_sides_pairs_their_alerts_with_the_hosts() {
        let p99 = metric::LATENCY_P99_MS;
        let alerts = [
            alert(1, Environment::Prod, "api", p99, 10_000),
            alert(2, Environment::Shadow, "api", p99, 10_800),
            alert(3, Environment::Host, "host", "cpu_percent", 9_500),
            // Far from the pair: the fault's own alert, later.
            alert(4, Environment::Shadow, "api", p99, 60_000),
            alert(5, Environment::Host, "host", "cpu_percent", 40_000),
        ];
        let pairs = coincidences(&alerts);
        assert_eq!(
            pairs,
            [Coincidence {
                service: "api".into(),
                metric: p99.into(),
                prod: 1,
                shadow: 2,
                apart_ms: 800,
                host: vec![3],
            }]
        );
        let text = pairs[0].describe();
        assert!(
            text.starts_with(
                "prod #1 and shadow #2 (api latency_p99_ms) opened 0.8 s apart, host #3 too"
            ),
            "{text}"
        );
        assert_eq!(partner_of(&pairs, 1).as_deref(), Some("shadow #2"));
        assert_eq!(partner_of(&pairs, 2).as_deref(), Some("prod #1"));
        assert_eq!(
            partner_of(&pairs, 4),
            None,
            "the fault's alert stands alone"
        );
    }

    #[test]
    fn only_the_same_service_and_metric_within_the_span_pair_once() {
        let p99 = metric::LATENCY_P99_MS;
        let alerts = [
            alert(1, Environment::Prod, "api", p99, 0),
            alert(2, Environment::Shadow, "web", p99, 0),
            alert(3, Environment::Shadow, "api", metric::CPU_PERCENT, 0),
            alert(4, Environment::Shadow, "api", p99, WITHIN_MS + 1),
        ];
        assert!(coincidences(&alerts).is_empty());
        // Two shadow alerts near one production alert: the nearer pairs.
        let alerts = [
            alert(1, Environment::Prod, "api", p99, 1_000),
            alert(2, Environment::Shadow, "api", p99, 3_500),
            alert(3, Environment::Shadow, "api", p99, 1_200),
        ];
        let pairs = coincidences(&alerts);
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        assert_eq!((pairs[0].prod, pairs[0].shadow), (1, 3));
    }
}
