//! The watch's state machine (pure): points in, alerts and verdicts out.
//!
//! Owns: one streaming [`Detector`] per series (the same configuration for
//! every series, [`live_detector`]), alert hysteresis over their scores, the
//! series store (1 s ring with rollups), and two judges: the shadow against
//! production over the same period, and, once a fault starts, the shadow
//! against its own last minute before the fault. Not owned: where points
//! come from (`watch::collect`), persisting and printing (`watch::run`).
//!
//! # From scores to alerts
//!
//! The detector is built for onsets: a sustained shift scores high on its
//! first points, then its refractory hold quiets it (one alarm per event,
//! which is what NAB rewards). An SRE expects an alert to stay open while
//! the condition lasts, so an *open* alert is also held open while the
//! value stays [`WatchConfig::sustain_z`] spreads or more from the baseline
//! and spread the detector had learned when the alert opened (frozen: the
//! detector's own baseline slowly absorbs a lasting shift). An alert opens
//! on a point at or above `open_above` (the detector has already demanded
//! that the point beat the series' own record) confirmed by the next one:
//! still [`WatchConfig::sustain_z`] spreads, and relevant, away from the
//! baseline learned before the first (`open_after` 2). One deviating
//! second does not page: on two shared cores a stall of the host can
//! double a second's p50 (seen in CI: production's p50 1.7x for the one
//! second in which a shadow fault was applied). It closes after
//! `close_after` quiet points.
//!
//! The detector's novelty has a price on a game day: once a series has
//! seen a 200 ms fault, the same fault ten minutes later no longer beats
//! its record (and the spread it learned during the first one is still
//! wide), and would pass in silence. So a series remembers how far from its
//! baseline, in its own unit and direction, its alerts opened; a later
//! deviation the same way at least half as far (and
//! [`WatchConfig::sustain_z`] spreads, and relevant), lasting
//! [`WatchConfig::recur_after_s`] seconds, opens a new alert, explained as
//! "(again)". Series that never alerted are untouched by this: it adds no
//! false alarm to a quiet or a noisy series. Besides, when an alert closes
//! its series' detector returns to its state from before the episode
//! (`tracked`): the fault's points do not stay in its spread and records,
//! so a smaller fault after a large one alerts too.
//!
//! A fault that starts while the shadow's series still learn their
//! baseline would be learned as their normal and never alert. So
//! [`Watch::fault_started`] ends the warm-up of every shadow series with
//! [`FAULT_ENDS_LEARNING_AT`] points or more (and of its pre-episode copy,
//! see `tracked`): they score the fault against the points before it.
//! Production's series are not touched: nothing was done to production.
//!
//! # Judges
//!
//! Judge metrics are `SERVICE/METRIC` (instances pooled). Both windows grow
//! from a fixed start (the watch's start, then each fault's start), which is
//! what the judge's anytime-valid test needs.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use self::names::series_of;
use self::tracked::Tracked;
use super::points::client;
use crate::detect::judge::{Judge, JudgeConfig, JudgeError, Side};
use crate::detect::{self, Detector};
use crate::domain::series::{
    Alert, AlertEvent, Direction, Environment, MetricConfig, Resolution, Sample, SeriesKey,
    Verdict, metric,
};
use crate::domain::series_pattern::SeriesPattern;
use crate::metrics::alerting::{AlertConfig, Alerting, AlertingError};
use crate::metrics::series::{SeriesError, SeriesStore, StoreConfig};

/// Why a watch could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Judge(#[from] JudgeError),
    #[error(transparent)]
    Alerting(#[from] AlertingError),
    #[error(transparent)]
    Series(#[from] SeriesError),
}

/// The watch's constants.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub detector: detect::Config,
    pub alerting: AlertConfig,
    /// An open alert stays open while the value is at least this many
    /// spreads from the baseline learned before its onset.
    pub sustain_z: f64,
    /// Metrics judged, as `SERVICE/METRIC`.
    pub judged: Vec<MetricConfig>,
    /// A point raises or extends an alert only when it is at least this
    /// share away from its baseline (a 2 % memory step can be 15 spreads
    /// on a flat series: unusual, but nothing to page about).
    pub min_relative: f64,
    /// Seconds of the shadow before a fault that form its baseline.
    pub baseline_s: i64,
    /// A series that alerted before alerts again on a deviation at least
    /// half its earlier alerts' that lasts this long (seconds).
    pub recur_after_s: f64,
    /// When an alert closes, the series' detector returns to its state from
    /// before the episode (`tracked`).
    pub forget_episodes: bool,
    /// Series that alert beyond [`ALERTING`] (`watch --page`), e.g.
    /// scraped ones: `*/http_request_duration_seconds:p99`.
    pub page: Vec<SeriesPattern>,
    pub store: StoreConfig,
}

/// The detector configuration for every live series at 1 s resolution: the
/// NAB-tuned defaults, learning for 30 points instead of 200 (a watch is
/// useful after half a minute, not after three), without the still run (at
/// 1 s an idle container's CPU is 0.0 and its memory the same for minutes:
/// ordinary, not stuck; a dead scrape target is reported stale instead),
/// and without the decorrelation chart: it measures a series' lag-1
/// autocorrelation against its long-run value (2000 points, half an hour
/// at 1 s), which a watch's first minutes have not learned; and a 1 s
/// container gauge alternates between busy and idle seconds as a matter of
/// course.
pub fn live_detector() -> detect::Config {
    detect::Config {
        warmup: 30,
        still_floor: 0.0,
        decorrelation_span: 0.0,
        ..detect::Config::default()
    }
}

/// A fault that starts while a shadow series learns its baseline ends the
/// learning of a series with at least this many points (a third of the
/// live warm-up): its detector scores the fault against those points, a
/// thinner baseline than usual, instead of learning the fault as normal.
/// With fewer, the series has no baseline to speak of and goes on learning.
pub const FAULT_ENDS_LEARNING_AT: u64 = 10;

/// The shadow's series that were learning their baseline when a fault
/// started, each with the points it had learned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LearningAtFault {
    /// Scored from the fault on, against the points they had.
    pub ended: Vec<(SeriesKey, u64)>,
    /// Too few points: they go on learning, the fault included.
    pub learning: Vec<(SeriesKey, u64)>,
}

/// The alerting constants for detector scores (see the module docs).
pub fn live_alerting() -> AlertConfig {
    AlertConfig {
        open_above: 0.5,
        close_below: 0.25,
        open_after: 2,
        close_after: 10,
        warning_at: 0.6,
        critical_at: 0.85,
    }
}

/// Medians must differ by this factor for a metric to fail: a shadow's
/// extra proxy hop makes it consistently, but not meaningfully, slower.
pub const MIN_RATIO: f64 = 1.5;

/// Metrics that raise alerts (also the load engine's view of the shadow,
/// `client_*`); the others (network and block I/O rates, scraped metrics)
/// are stored, charted and scored, but byte rates near zero spike too
/// easily to page, and an exporter's hundreds of series would flood the
/// alerts pane; [`WatchConfig::page`] names more (`watch --page`).
pub const ALERTING: [&str; 10] = [
    metric::LATENCY_P50_MS,
    metric::LATENCY_P99_MS,
    metric::ERROR_RATE,
    metric::RPS,
    metric::CPU_PERCENT,
    metric::MEMORY_BYTES,
    client::LATENCY_P50_MS,
    client::LATENCY_P99_MS,
    client::ERROR_RATE,
    client::RPS,
];

/// The judged metrics for a group whose entry services carry request
/// metrics: latency p50 (critical) and p99, error rate (critical) and
/// throughput of each entry, CPU of every service.
pub fn judged_metrics(entries: &[String], services: &[String]) -> Vec<MetricConfig> {
    let judged = |service: &str, name: &str| {
        MetricConfig::new(format!("{service}/{name}"), Direction::Increase).min_ratio(MIN_RATIO)
    };
    let mut out = Vec::new();
    for e in entries {
        out.push(judged(e, metric::LATENCY_P50_MS).critical());
        out.push(judged(e, metric::LATENCY_P99_MS));
        out.push(judged(e, metric::ERROR_RATE).critical());
    }
    for s in services {
        out.push(judged(s, metric::CPU_PERCENT));
    }
    out
}

impl WatchConfig {
    pub fn new(judged: Vec<MetricConfig>) -> Self {
        WatchConfig {
            detector: live_detector(),
            alerting: live_alerting(),
            sustain_z: 4.0,
            min_relative: 0.2,
            judged,
            baseline_s: 60,
            recur_after_s: 3.0,
            forget_episodes: true,
            page: Vec::new(),
            store: StoreConfig::default(),
        }
    }
}

/// What one sample did: the detector's score and the alert event, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Pushed {
    pub score: f64,
    pub event: Option<AlertEvent>,
}

/// Both judges' latest looks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    /// Unix ms the windows start at.
    pub since_ms: i64,
    pub vs_production: Verdict,
    /// After a fault: the shadow against its own pre-fault minute.
    pub vs_baseline: Option<Verdict>,
}

/// The baseline and spread the detector had learned before an episode's
/// first scored point: pending until the next point confirms it and the
/// alert opens, then held until the alert closes.
#[derive(Debug, Clone, Copy)]
struct Onset {
    baseline: f64,
    spread: f64,
    open: bool,
}

/// Whether `value` is at least `min_relative` of `baseline` away from it
/// (always, when the baseline is zero or unknown).
fn relevant(value: f64, baseline: f64, min_relative: f64) -> bool {
    !baseline.is_finite()
        || baseline.abs() < f64::MIN_POSITIVE
        || (value - baseline).abs() >= min_relative * baseline.abs()
}

/// What a judge compares the shadow with.
#[derive(Debug, Clone, Copy)]
enum Reference {
    Production,
    BeforeFault,
}

/// The watch's state.
pub struct Watch {
    config: WatchConfig,
    store: SeriesStore,
    detectors: HashMap<SeriesKey, Tracked>,
    alerting: Alerting,
    /// Every alert by id, latest state.
    alerts: BTreeMap<u64, Alert>,
    /// Per series with an open alert, or a scored point waiting for its
    /// confirmation: the episode's onset.
    onsets: HashMap<SeriesKey, Onset>,
    /// Per series that alerted: the smallest distance from the baseline
    /// its alerts opened at, above and below (infinite: none that way).
    alerted_at: HashMap<SeriesKey, [f64; 2]>,
    since_ms: i64,
    vs_production: Judge,
    vs_baseline: Option<Judge>,
    /// The metric part of every judged `SERVICE/METRIC`: a point of any
    /// other metric skips the judges without building its name.
    judged_metrics: HashSet<String>,
    /// Per `config.page` pattern: the series it made alerting.
    paged: Vec<usize>,
    points: u64,
    /// The latest sample time pushed, Unix ms.
    latest_ms: i64,
    /// When the watch began, Unix ms.
    start_ms: i64,
    /// Whether the loads differed at the last look: vs production, vs
    /// the baseline (see [`load::differ_at`]).
    loads_differed: [bool; 2],
}

/// One `--page` pattern and how many series it made alerting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageUse {
    pub pattern: String,
    pub series: usize,
}

impl Watch {
    pub fn new(config: WatchConfig, start_ms: i64) -> Result<Self, WatchError> {
        let judge = Judge::new(JudgeConfig::new(config.judged.clone()))?;
        Ok(Watch {
            store: SeriesStore::new(config.store)?,
            alerting: Alerting::new(config.alerting)?,
            detectors: HashMap::new(),
            alerts: BTreeMap::new(),
            onsets: HashMap::new(),
            alerted_at: HashMap::new(),
            start_ms,
            since_ms: start_ms,
            vs_production: judge,
            vs_baseline: None,
            judged_metrics: config
                .judged
                .iter()
                .filter_map(|m| m.name.rsplit_once('/').map(|(_, metric)| metric.to_owned()))
                .collect(),
            paged: vec![0; config.page.len()],
            points: 0,
            latest_ms: start_ms,
            loads_differed: [false; 2],
            config,
        })
    }

    pub fn store(&self) -> &SeriesStore {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut SeriesStore {
        &mut self.store
    }

    /// Points pushed so far.
    pub fn points(&self) -> u64 {
        self.points
    }

    /// Bytes held by the detectors' state.
    pub fn detector_bytes(&self) -> usize {
        self.detectors.values().map(Tracked::state_bytes).sum()
    }

    /// Every alert, latest state, by id.
    pub fn alerts(&self) -> Vec<Alert> {
        self.alerts.values().cloned().collect()
    }

    /// One sample of a series: stored, scored, judged; the alert event it
    /// causes, if any.
    pub fn push(&mut self, key: &SeriesKey, t_ms: i64, value: f64) -> Option<AlertEvent> {
        self.push_scored(key, t_ms, value).event
    }

    /// [`Watch::push`], also giving the detector's score (for charts).
    pub fn push_scored(&mut self, key: &SeriesKey, t_ms: i64, value: f64) -> Pushed {
        self.points += 1;
        self.latest_ms = self.latest_ms.max(t_ms);
        self.store.push(key, Sample::new(t_ms, value));
        self.judge(key, t_ms, value);
        if !self.detectors.contains_key(key) {
            let alerting = self.may_alert(key);
            let detector = Detector::new(series_of(&key.metric), self.config.detector);
            self.detectors
                .insert(key.clone(), Tracked::new(detector, alerting));
        }
        let Some(tracked) = self.detectors.get_mut(key) else {
            return Pushed {
                score: 0.0,
                event: None,
            };
        };
        let alerting = tracked.alerting;
        // Only a series that can alert has episodes worth a copy.
        let run_z = if alerting {
            self.config.sustain_z
        } else {
            f64::INFINITY
        };
        let scored = tracked.push(t_ms as f64 / 1000.0, value, run_z);
        let quiet = Pushed {
            score: scored.score,
            event: None,
        };
        if !alerting {
            return quiet;
        }
        let min_relative = self.config.min_relative;
        // Still away from the onset's baseline: an open alert's value, or
        // the point after a scored one, confirming it.
        let onset = self.onsets.get(key).copied();
        let sustained = onset.is_some_and(|o| {
            (value - o.baseline).abs() >= self.config.sustain_z * o.spread
                && relevant(value, o.baseline, min_relative)
        });
        let open = onset.is_some_and(|o| o.open);
        let e = &scored.explanation;
        let deviation = value - e.baseline;
        // `duration` is time beyond two spreads, except for a still run's.
        let recurring = e.cause != detect::Cause::Still
            && !open
            && self.alerted_at.get(key).is_some_and(|at| {
                deviation.abs() >= at[usize::from(deviation < 0.0)] / 2.0
                    && e.z.abs() >= self.config.sustain_z
                    && e.duration >= self.config.recur_after_s
                    && relevant(value, e.baseline, min_relative)
            });
        let score = if sustained || recurring {
            scored.score.max(self.config.alerting.open_above)
        } else if relevant(value, e.baseline, min_relative) {
            scored.score
        } else {
            0.0
        };
        if !open {
            if score < self.config.alerting.open_above {
                self.onsets.remove(key);
            } else if onset.is_none() && e.baseline.is_finite() && e.spread.is_finite() {
                let pending = Onset {
                    baseline: e.baseline,
                    spread: e.spread,
                    open: false,
                };
                self.onsets.insert(key.clone(), pending);
            }
        }
        // Rendered only when alerting keeps the text, not for every point.
        let detector = &tracked.detector;
        let explain = || {
            let text = detector.explain(&scored);
            if recurring { text + " (again)" } else { text }
        };
        let Some(event) = self.alerting.push_with(key, t_ms, score, explain) else {
            return quiet;
        };
        match &event {
            AlertEvent::Opened(_) => {
                tracked.alert_opened();
                self.note_opened(key, &scored.explanation);
            }
            AlertEvent::Closed(_) => {
                if self.config.forget_episodes {
                    tracked.alert_closed();
                }
                self.onsets.remove(key);
            }
            AlertEvent::Updated(_) => {}
        }
        let alert = event.alert().clone();
        self.alerts.insert(alert.id, alert);
        Pushed {
            score: scored.score,
            event: Some(event),
        }
    }

    /// An alert of `key` opened at a point explained by `e`: its onset
    /// (from before the point that scored) is held open, and how far from
    /// the baseline the value was is remembered.
    fn note_opened(&mut self, key: &SeriesKey, e: &detect::Explanation) {
        if let Some(onset) = self.onsets.get_mut(key) {
            onset.open = true;
        }
        let deviation = e.value - e.baseline;
        if deviation.is_finite() {
            let at = self
                .alerted_at
                .entry(key.clone())
                .or_insert([f64::INFINITY; 2]);
            let side = &mut at[usize::from(deviation < 0.0)];
            *side = side.min(deviation.abs());
        }
    }

    /// Whether a new series may raise alerts: a built-in alerting metric,
    /// or a key one of `config.page` matches (each match counted, only
    /// where it made the difference).
    fn may_alert(&mut self, key: &SeriesKey) -> bool {
        let mut alerting = ALERTING.contains(&key.metric.as_str());
        if !alerting && !self.config.page.is_empty() {
            let text = key.to_string();
            for (pattern, hits) in self.config.page.iter().zip(&mut self.paged) {
                if pattern.matches(&text) {
                    *hits += 1;
                    alerting = true;
                }
            }
        }
        alerting
    }

    /// Every `config.page` pattern and the series it made alerting so far.
    pub fn page_uses(&self) -> Vec<PageUse> {
        self.config
            .page
            .iter()
            .zip(&self.paged)
            .map(|(p, &series)| PageUse {
                pattern: p.to_string(),
                series,
            })
            .collect()
    }

    fn judge(&mut self, key: &SeriesKey, t_ms: i64, value: f64) {
        if t_ms < self.since_ms || !self.judged_metrics.contains(&key.metric) {
            return;
        }
        let side = match key.environment {
            Environment::Shadow => Side::Shadow,
            Environment::Prod => Side::Reference,
            // The host is shared by both sides: charted and alerted on, not judged.
            Environment::Host => return,
        };
        let name = format!("{}/{}", key.service, key.metric);
        // Unknown metrics are simply not judged.
        let _ = self.vs_production.push(&name, side, value);
        if side == Side::Shadow
            && let Some(judge) = &mut self.vs_baseline
        {
            let _ = judge.push(&name, Side::Shadow, value);
        }
    }

    /// Points a series' detector learns before it scores.
    pub fn warmup_points(&self) -> u32 {
        self.config.detector.warmup
    }

    /// The shadow's alerting series whose detectors are still learning
    /// their baseline, with the points each has learned: services' series
    /// (requests: what a fault moves first) before containers', each sorted.
    pub fn still_learning(&self) -> Vec<(SeriesKey, u64)> {
        let mut out: Vec<(SeriesKey, u64)> = self
            .detectors
            .iter()
            .filter(|(key, t)| {
                key.environment == Environment::Shadow && t.alerting && t.detector.learning()
            })
            .map(|(key, t)| (key.clone(), t.detector.counts().points))
            .collect();
        out.sort_by(|(a, _), (b, _)| (a.instance.is_some(), a).cmp(&(b.instance.is_some(), b)));
        out
    }

    /// A fault started at `t_ms`: both judges start over from there; the
    /// shadow's last `baseline_s` seconds become the baseline's reference.
    /// The shadow's series still learning their baseline stop learning
    /// when they have [`FAULT_ENDS_LEARNING_AT`] points, so the fault is
    /// scored against the time before it instead of learned as normal;
    /// what became of each is returned.
    pub fn fault_started(&mut self, t_ms: i64) -> LearningAtFault {
        let mut at_fault = LearningAtFault::default();
        for (key, n) in self.still_learning() {
            let ended = self
                .detectors
                .get_mut(&key)
                .is_some_and(|t| t.end_warmup(FAULT_ENDS_LEARNING_AT));
            if ended {
                at_fault.ended.push((key, n));
            } else {
                at_fault.learning.push((key, n));
            }
        }
        self.restart_judges(t_ms);
        at_fault
    }

    /// Both judges start over at `t_ms`, the baseline's with the shadow's
    /// last `baseline_s` seconds as its reference.
    fn restart_judges(&mut self, t_ms: i64) {
        let config = JudgeConfig::new(self.config.judged.clone());
        let (Ok(mut baseline), Ok(vs_production)) =
            (Judge::new(config.clone()), Judge::new(config))
        else {
            return;
        };
        let from = t_ms - self.config.baseline_s * 1000;
        for key in self.store.keys() {
            if key.environment != Environment::Shadow {
                continue;
            }
            let name = format!("{}/{}", key.service, key.metric);
            for s in self.store.range(&key, from, t_ms, Resolution::Raw) {
                let _ = baseline.push(&name, Side::Reference, s.value);
            }
        }
        self.since_ms = t_ms;
        self.vs_production = vs_production;
        self.vs_baseline = Some(baseline);
        self.loads_differed = [false; 2];
    }

    /// Looks at both judges. While the shadow serves a load unlike its
    /// reference's (production's; its own before the fault), the verdict
    /// leaves out the metrics that scale with load (see `load`).
    pub fn look(&mut self) -> Verdicts {
        let scaled: Vec<String> = self
            .config
            .judged
            .iter()
            .filter(|m| m.name.ends_with(&format!("/{}", metric::CPU_PERCENT)))
            .map(|m| m.name.clone())
            .collect();
        let why = |loads: Option<Vec<load::Load>>, reference: &str, differed: &mut bool| {
            let Some(loads) = loads else {
                // Loads not known yet: the scaled metrics wait, silently
                // (the verdict reads as still gathering them).
                return Some(String::new());
            };
            let ratio = load::differ_at(MIN_RATIO, *differed);
            let why = load::mismatch(&loads, ratio, reference, &scaled);
            *differed = why.is_some();
            why
        };
        let look = |judge: &mut Judge, why: Option<String>| match why {
            Some(why) => judge.look_except(&scaled, &why),
            None => judge.look(),
        };
        let production_loads = self.loads(Reference::Production);
        let baseline_loads = self
            .vs_baseline
            .is_some()
            .then(|| self.loads(Reference::BeforeFault));
        let [production_differed, baseline_differed] = &mut self.loads_differed;
        let production_why = why(production_loads, "in production", production_differed);
        let vs_production = look(&mut self.vs_production, production_why);
        let baseline_why =
            baseline_loads.and_then(|loads| why(loads, "before the fault", baseline_differed));
        let vs_baseline = self
            .vs_baseline
            .as_mut()
            .map(|judge| look(judge, baseline_why));
        Verdicts {
            since_ms: self.since_ms,
            vs_production,
            vs_baseline,
        }
    }

    /// Each judged entry's request rate on the shadow over the judges'
    /// window, its last [`load::RATE_WINDOW_S`] at most, and the
    /// reference's: production's over the same span, or the shadow's over
    /// the baseline's `baseline_s` before the fault, since the watch began
    /// (seconds without requests count as none). `None` while the window
    /// is shorter than [`load::MIN_WINDOW_S`] and there are entries to
    /// compare, or when a fault began with the watch (no baseline).
    fn loads(&self, reference: Reference) -> Option<Vec<load::Load>> {
        let from = self
            .since_ms
            .max(self.latest_ms - (load::RATE_WINDOW_S * 1000.0) as i64);
        let suffix = format!("/{}", metric::LATENCY_P50_MS);
        let mut entries = self
            .config
            .judged
            .iter()
            .filter_map(|m| m.name.strip_suffix(&suffix))
            .peekable();
        let young = (self.latest_ms - self.since_ms) as f64 / 1000.0 + 1.0 < load::MIN_WINDOW_S;
        if young && entries.peek().is_some() {
            return None;
        }
        // Requests per second in `[from_ms, to_ms]` (both ends' seconds).
        let rate = |env: Environment, entry: &str, from_ms: i64, to_ms: i64| {
            let key = SeriesKey::service(env, entry, metric::RPS);
            // A fold from +0.0: an empty `sum` of floats is -0.0.
            let requests = self
                .store
                .range(&key, from_ms, to_ms + 1, Resolution::Raw)
                .iter()
                .fold(0.0, |total, s| total + s.value);
            requests / ((to_ms - from_ms) as f64 / 1000.0 + 1.0)
        };
        // The baseline: its `baseline_s` before the fault, but none before
        // the watch began (no samples there to count).
        let before = (self.since_ms - self.config.baseline_s * 1000).max(self.start_ms);
        if matches!(reference, Reference::BeforeFault) && before >= self.since_ms {
            return None;
        }
        Some(
            entries
                .map(|entry| load::Load {
                    entry: entry.to_owned(),
                    reference: match reference {
                        Reference::Production => {
                            rate(Environment::Prod, entry, from, self.latest_ms)
                        }
                        Reference::BeforeFault => {
                            rate(Environment::Shadow, entry, before, self.since_ms - 1000)
                        }
                    },
                    shadow: rate(Environment::Shadow, entry, from, self.latest_ms),
                })
                .collect(),
        )
    }

    /// Closes every open alert (at the end of the watch).
    pub fn finish(&mut self, t_ms: i64) -> Vec<AlertEvent> {
        let events = self.alerting.close_all(t_ms);
        for e in &events {
            let alert = e.alert().clone();
            self.alerts.insert(alert.id, alert);
        }
        events
    }
}

mod load;
mod names;
mod tracked;

#[cfg(test)]
mod tests;
