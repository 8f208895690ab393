//! The metrics pane's state: the watch run on the selected group and its
//! shadow (starting, watching, stopped, failed with one line), what it
//! follows, per series a ring of the last [`WINDOW_MS`] of samples with
//! their detector scores (only the [`CHARTED`] metrics and the load
//! engine's p99, [`charted`]; at most
//! [`MAX_SERIES`] series of [`RING_CAP`] points), the latest [`MAX_ALERTS`]
//! alerts, the judges' latest looks, the last notice and fault, and the
//! service the charts show.
//!
//! Owns: that state and its derivations (a service's chart series, with
//! instance series summed per second; the services in display order).
//! Does not own running the watch (`console::watch`) or drawing it
//! (`view::metrics`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::domain::series::{Alert, AlertEvent, Environment, SeriesKey, metric};
use crate::watch::core::Verdicts;
use crate::watch::points::client;

use crate::console::msg::Point;

/// How much of each series is kept: the last five minutes.
pub const WINDOW_MS: i64 = 300_000;
/// At most this many points per series (1 Hz over the window, with room).
pub const RING_CAP: usize = 360;
/// At most this many series (a group's worth; later ones are dropped).
pub const MAX_SERIES: usize = 1024;
/// At most this many alerts (closed ones go first).
pub const MAX_ALERTS: usize = 50;
/// A point with a detector score at least this is flagged on the charts
/// (the watch opens alerts from the same level).
pub const ANOMALY: f64 = 0.5;
/// An instance's last value counts in a per-second sum for this long (its
/// stats do not land on every second exactly).
pub const CARRY_MS: i64 = 2_000;

/// The metrics the pane keeps and charts, in chart order.
pub const CHARTED: [&str; 5] = [
    metric::CPU_PERCENT,
    metric::MEMORY_BYTES,
    metric::LATENCY_P99_MS,
    metric::ERROR_RATE,
    metric::RPS,
];

/// Whether the pane keeps a metric: the charted ones, and the load
/// engine's p99 of the shadow's entry (`client_latency_p99_ms`, while the
/// Load tab drives it), drawn on the p99 latency chart beside the access
/// log's.
pub fn charted(name: &str) -> bool {
    CHARTED.contains(&name) || name == client::LATENCY_P99_MS
}

/// Whether a metric is a service-level series of the entry (from its
/// access log, or the load engine's view); the others are per instance,
/// from container stats.
pub fn per_request(name: &str) -> bool {
    matches!(
        name,
        metric::LATENCY_P99_MS | metric::ERROR_RATE | metric::RPS | client::LATENCY_P99_MS
    )
}

/// One kept sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub t_ms: i64,
    pub value: f64,
    pub score: f64,
}

impl Reading {
    pub fn anomalous(&self) -> bool {
        self.score >= ANOMALY
    }
}

/// A series' last [`WINDOW_MS`], oldest first, at most [`RING_CAP`] points.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ring {
    points: VecDeque<Reading>,
}

impl Ring {
    /// Keeps a reading; drops what falls out of the window or the cap. A
    /// reading older than the window's start is dropped.
    pub fn push(&mut self, reading: Reading) {
        let newest = self.points.back().map_or(reading.t_ms, |b| b.t_ms);
        if reading.t_ms < newest - WINDOW_MS {
            return;
        }
        self.points.push_back(reading);
        let newest = newest.max(reading.t_ms);
        while self.points.len() > RING_CAP
            || self
                .points
                .front()
                .is_some_and(|f| f.t_ms < newest - WINDOW_MS)
        {
            self.points.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Reading> {
        self.points.iter()
    }

    pub fn last(&self) -> Option<&Reading> {
        self.points.back()
    }
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchState {
    /// Asked for; the containers are being found.
    Starting,
    /// Following (see [`WatchPane::watched`]).
    Watching,
    /// Stopped (the tab or the group was left) or ended.
    Stopped,
    /// Could not start or failed; one line.
    Failed(String),
}

/// A watch run of the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRun {
    /// Counts runs in this console; news of an older run is dropped.
    pub id: u64,
    pub group: String,
    /// The shadow asked for (`None`: the group's only one, if any).
    pub shadow: Option<String>,
    pub state: WatchState,
}

impl WatchRun {
    /// Starting or watching.
    pub fn active(&self) -> bool {
        matches!(self.state, WatchState::Starting | WatchState::Watching)
    }
}

/// What the run follows, as it reported on starting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub group: String,
    /// `None`: production alone.
    pub shadow: Option<String>,
    /// The services whose access logs carry request metrics.
    pub entries: Vec<String>,
    pub services: Vec<String>,
}

/// A fault the watch saw start on the shadow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSeen {
    pub kind: String,
    pub target: String,
    pub t_ms: i64,
}

/// The metrics pane.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WatchPane {
    /// The current or last run.
    pub run: Option<WatchRun>,
    /// The id the next run gets.
    pub next_id: u64,
    pub watched: Option<Watched>,
    pub series: BTreeMap<SeriesKey, Ring>,
    /// Newest first, at most [`MAX_ALERTS`].
    pub alerts: VecDeque<Alert>,
    pub verdicts: Option<Box<Verdicts>>,
    /// The run's last notice.
    pub notice: Option<String>,
    /// The last fault seen starting.
    pub fault: Option<FaultSeen>,
    /// The newest sample's time: the charts' right edge.
    pub latest_ms: i64,
    /// The service the charts show, as an index into [`Self::services`].
    pub cursor: usize,
}

impl WatchPane {
    /// Whether a run is starting or watching.
    pub fn active(&self) -> bool {
        self.run.as_ref().is_some_and(WatchRun::active)
    }

    /// Forgets the last run's data (the cursor stays where it was, within
    /// the new run's services once they are known).
    pub fn reset(&mut self) {
        self.watched = None;
        self.series.clear();
        self.alerts.clear();
        self.verdicts = None;
        self.notice = None;
        self.fault = None;
        self.latest_ms = 0;
    }

    /// Keeps the charted samples.
    pub fn record(&mut self, points: Vec<Point>) {
        for p in points {
            if !charted(&p.key.metric) {
                continue;
            }
            let reading = Reading {
                t_ms: p.t_ms,
                value: p.value,
                score: p.score,
            };
            if let Some(ring) = self.series.get_mut(&p.key) {
                ring.push(reading);
            } else if self.series.len() < MAX_SERIES {
                let mut ring = Ring::default();
                ring.push(reading);
                self.series.insert(p.key, ring);
            } else {
                continue;
            }
            self.latest_ms = self.latest_ms.max(p.t_ms);
        }
    }

    /// Applies an alert's change: a new alert goes first; a known one is
    /// replaced where it is.
    pub fn alert(&mut self, event: AlertEvent) {
        let alert = match event {
            AlertEvent::Opened(a) | AlertEvent::Updated(a) | AlertEvent::Closed(a) => a,
        };
        if let Some(slot) = self.alerts.iter_mut().find(|a| a.id == alert.id) {
            *slot = alert;
            return;
        }
        self.alerts.push_front(alert);
        while self.alerts.len() > MAX_ALERTS {
            match self.alerts.iter().rposition(|a| a.end_ms.is_some()) {
                Some(oldest_closed) => {
                    self.alerts.remove(oldest_closed);
                }
                None => {
                    self.alerts.pop_back();
                }
            }
        }
    }

    /// How many alerts are open.
    pub fn open_alerts(&self) -> usize {
        self.alerts.iter().filter(|a| a.end_ms.is_none()).count()
    }

    /// The services the cursor moves over: the entries first (they carry
    /// request metrics), then the others in the group's order.
    pub fn services(&self) -> Vec<&str> {
        let Some(w) = &self.watched else {
            return Vec::new();
        };
        let mut out: Vec<&str> = w.entries.iter().map(String::as_str).collect();
        for s in &w.services {
            if !out.contains(&s.as_str()) {
                out.push(s);
            }
        }
        out
    }

    /// The service the charts show.
    pub fn selected_service(&self) -> Option<&str> {
        let services = self.services();
        services
            .get(self.cursor.min(services.len().saturating_sub(1)))
            .copied()
    }

    /// Whether `service` carries request metrics.
    pub fn is_entry(&self, service: &str) -> bool {
        self.watched
            .as_ref()
            .is_some_and(|w| w.entries.iter().any(|e| e == service))
    }

    /// A service's chart series for one side: the service-level series of
    /// a request metric, or its instances' series summed per second.
    pub fn chart(&self, env: Environment, service: &str, name: &str) -> Vec<Reading> {
        if per_request(name) {
            let key = SeriesKey::service(env, service, name);
            return self
                .series
                .get(&key)
                .map(|r| r.iter().copied().collect())
                .unwrap_or_default();
        }
        let rings: Vec<&Ring> = self
            .series
            .iter()
            .filter(|(k, _)| {
                k.environment == env
                    && k.service == service
                    && k.metric == name
                    && k.instance.is_some()
            })
            .map(|(_, r)| r)
            .collect();
        summed(&rings)
    }
}

/// Per second, the sum of each series' last value (if at most
/// [`CARRY_MS`] old); the score is the highest of the points on that
/// second.
fn summed(rings: &[&Ring]) -> Vec<Reading> {
    if let [one] = rings {
        return one.iter().copied().collect();
    }
    let seconds: BTreeSet<i64> = rings
        .iter()
        .flat_map(|r| r.iter().map(|p| p.t_ms))
        .collect();
    let points: Vec<Vec<Reading>> = rings.iter().map(|r| r.iter().copied().collect()).collect();
    let mut next = vec![0usize; points.len()];
    let mut out = Vec::with_capacity(seconds.len());
    for t in seconds {
        let mut value = 0.0;
        let mut score: f64 = 0.0;
        for (series, pos) in points.iter().zip(next.iter_mut()) {
            while *pos < series.len() && series[*pos].t_ms <= t {
                *pos += 1;
            }
            let Some(last) = pos.checked_sub(1).and_then(|i| series.get(i)) else {
                continue;
            };
            if t - last.t_ms <= CARRY_MS {
                value += last.value;
                if last.t_ms == t {
                    score = score.max(last.score);
                }
            }
        }
        out.push(Reading {
            t_ms: t,
            value,
            score,
        });
    }
    out
}

#[cfg(test)]
mod tests;
