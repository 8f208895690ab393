//! Alert hysteresis (pure, deterministic): turns a stream of scored points
//! per series — `(series, t, score, explanation)` from a detector or the
//! judge — into [`AlertEvent`]s (opened, severity updated, closed).
//!
//! Owns: when an alert opens (score at or above `open_above` for
//! `open_after` consecutive points), its severity (by the peak score's band:
//! info, warning at `warning_at`, critical at `critical_at`; never lowered
//! while open), and when it closes (score below `close_below` for
//! `close_after` consecutive points; the end is the first of those points).
//! Two thresholds and two run lengths keep a score that hovers around one
//! threshold from flapping. Not owned: scoring (`detect`), publishing the
//! events or persisting alerts (the run and `store`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::series::{Alert, AlertEvent, SeriesKey, Severity};

/// Errors of an alerting configuration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlertingError {
    #[error("alerting: need close_below ({close_below}) <= open_above ({open_above})")]
    Thresholds { open_above: f64, close_below: f64 },
    #[error(
        "alerting: need open_above <= warning_at ({warning_at}) <= critical_at ({critical_at})"
    )]
    Bands { warning_at: f64, critical_at: f64 },
    #[error("alerting: open_after and close_after must be at least 1")]
    Runs,
}

/// Thresholds and run lengths.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlertConfig {
    pub open_above: f64,
    pub close_below: f64,
    /// Consecutive points at or above `open_above` that open an alert.
    pub open_after: u32,
    /// Consecutive points below `close_below` that close it.
    pub close_after: u32,
    pub warning_at: f64,
    pub critical_at: f64,
}

impl Default for AlertConfig {
    /// For scores in 0..1 where 0.5 is "clearly unusual".
    fn default() -> Self {
        AlertConfig {
            open_above: 0.5,
            close_below: 0.25,
            open_after: 3,
            close_after: 10,
            warning_at: 0.6,
            critical_at: 0.85,
        }
    }
}

impl AlertConfig {
    fn validate(&self) -> Result<(), AlertingError> {
        if !matches!(
            self.close_below.partial_cmp(&self.open_above),
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
        ) {
            return Err(AlertingError::Thresholds {
                open_above: self.open_above,
                close_below: self.close_below,
            });
        }
        if !(self.open_above <= self.warning_at && self.warning_at <= self.critical_at) {
            return Err(AlertingError::Bands {
                warning_at: self.warning_at,
                critical_at: self.critical_at,
            });
        }
        if self.open_after == 0 || self.close_after == 0 {
            return Err(AlertingError::Runs);
        }
        Ok(())
    }

    /// The severity band of a score.
    pub fn severity(&self, score: f64) -> Severity {
        if score >= self.critical_at {
            Severity::Critical
        } else if score >= self.warning_at {
            Severity::Warning
        } else {
            Severity::Info
        }
    }
}

#[derive(Debug, Clone)]
enum State {
    Quiet {
        /// Consecutive points at or above `open_above`.
        above: u32,
        start_ms: i64,
        peak: f64,
        explanation: String,
    },
    Open {
        alert: Alert,
        /// Consecutive points below `close_below`, and the first one's time.
        below: u32,
        below_since: i64,
    },
}

impl State {
    fn quiet() -> State {
        State::Quiet {
            above: 0,
            start_ms: 0,
            peak: 0.0,
            explanation: String::new(),
        }
    }
}

/// Hysteresis over every series.
#[derive(Debug, Clone)]
pub struct Alerting {
    config: AlertConfig,
    states: HashMap<SeriesKey, State>,
    next_id: u64,
    /// Points skipped because their score was not finite.
    skipped: u64,
}

impl Alerting {
    pub fn new(config: AlertConfig) -> Result<Self, AlertingError> {
        Self::with_first_id(config, 1)
    }

    /// Ids count up from `first_id` (to continue a run's numbering).
    pub fn with_first_id(config: AlertConfig, first_id: u64) -> Result<Self, AlertingError> {
        config.validate()?;
        Ok(Alerting {
            config,
            states: HashMap::new(),
            next_id: first_id,
            skipped: 0,
        })
    }

    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The open alerts, sorted by id.
    pub fn open_alerts(&self) -> Vec<&Alert> {
        let mut open: Vec<&Alert> = self
            .states
            .values()
            .filter_map(|s| match s {
                State::Open { alert, .. } => Some(alert),
                State::Quiet { .. } => None,
            })
            .collect();
        open.sort_by_key(|a| a.id);
        open
    }

    /// Feeds one scored point; returns the event it causes, if any.
    pub fn push(
        &mut self,
        series: &SeriesKey,
        t_ms: i64,
        score: f64,
        explanation: &str,
    ) -> Option<AlertEvent> {
        self.push_with(series, t_ms, score, || explanation.to_owned())
    }

    /// [`Alerting::push`] with the explanation rendered only when it is
    /// kept: at an opening point that is a new peak, or a new peak while
    /// open.
    pub fn push_with(
        &mut self,
        series: &SeriesKey,
        t_ms: i64,
        score: f64,
        explain: impl FnOnce() -> String,
    ) -> Option<AlertEvent> {
        if !score.is_finite() {
            self.skipped += 1;
            return None;
        }
        let config = self.config;
        let state = match self.states.get_mut(series) {
            Some(state) => state,
            // A quiet point of a new series changes nothing: no state yet.
            None if score < config.open_above => return None,
            None => self
                .states
                .entry(series.clone())
                .or_insert_with(State::quiet),
        };
        match state {
            State::Quiet {
                above,
                start_ms,
                peak,
                explanation: peak_text,
            } => {
                if score < config.open_above {
                    *above = 0;
                    return None;
                }
                if *above == 0 || score > *peak {
                    if *above == 0 {
                        *start_ms = t_ms;
                    }
                    *peak = score;
                    *peak_text = explain();
                }
                *above += 1;
                if *above < config.open_after {
                    return None;
                }
                let alert = Alert {
                    id: self.next_id,
                    series: series.clone(),
                    score: *peak,
                    severity: config.severity(*peak),
                    explanation: std::mem::take(peak_text),
                    start_ms: *start_ms,
                    end_ms: None,
                };
                self.next_id += 1;
                *state = State::Open {
                    alert: alert.clone(),
                    below: 0,
                    below_since: t_ms,
                };
                Some(AlertEvent::Opened(alert))
            }
            State::Open {
                alert,
                below,
                below_since,
            } => {
                if score < config.close_below {
                    if *below == 0 {
                        *below_since = t_ms;
                    }
                    *below += 1;
                    if *below < config.close_after {
                        return None;
                    }
                    let mut closed = alert.clone();
                    closed.end_ms = Some(*below_since);
                    *state = State::quiet();
                    return Some(AlertEvent::Closed(closed));
                }
                *below = 0;
                if score <= alert.score {
                    return None;
                }
                alert.score = score;
                alert.explanation = explain();
                let severity = config.severity(score);
                if severity <= alert.severity {
                    return None;
                }
                alert.severity = severity;
                Some(AlertEvent::Updated(alert.clone()))
            }
        }
    }

    /// Closes the open alert of one series (it was evicted or removed).
    pub fn close(&mut self, series: &SeriesKey, t_ms: i64) -> Option<AlertEvent> {
        match self.states.remove(series)? {
            State::Open { mut alert, .. } => {
                alert.end_ms = Some(t_ms);
                Some(AlertEvent::Closed(alert))
            }
            State::Quiet { .. } => None,
        }
    }

    /// Closes every open alert (the run ended), in id order.
    pub fn close_all(&mut self, t_ms: i64) -> Vec<AlertEvent> {
        let mut keys: Vec<SeriesKey> = self.states.keys().cloned().collect();
        keys.sort();
        let mut events: Vec<AlertEvent> = keys.iter().filter_map(|k| self.close(k, t_ms)).collect();
        events.sort_by_key(|e| e.alert().id);
        events
    }
}

#[cfg(test)]
mod tests;
