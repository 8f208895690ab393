//! Fault schedules (pure): timed (at t, for d), recurring (every i), and
//! probabilistic (a Poisson rate per target, or a probability per tick), with
//! a seed, expanded into a timeline over a horizon. The same seed and inputs
//! give the same timeline. Blast-radius limits (maximum concurrent faults,
//! maximum share of a service's replicas hit at once) cut the timeline back
//! and say what was cut and why.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// When a fault fires.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Trigger {
    /// Once, at `at` from the start.
    Timed { at: Duration },
    /// Every `every`, from `start`.
    Recurring { start: Duration, every: Duration },
    /// A Poisson process per target at `per_second` events per second.
    Poisson { per_second: f64 },
    /// Each `tick`, each target is hit with `probability`.
    PerTick { tick: Duration, probability: f64 },
}

/// One schedule line: what, on which targets, when, for how long.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry<F> {
    pub fault: F,
    /// Candidate targets (container names); each event hits one of them
    /// (timed and recurring events hit every target).
    pub targets: Vec<Target>,
    pub trigger: Trigger,
    pub duration: Duration,
}

/// A target and the service it belongs to (for the replica-share limit).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Target {
    pub name: String,
    pub service: String,
}

/// Blast-radius limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    /// At most this many faults active at once.
    pub max_concurrent: usize,
    /// At most this share of a service's replicas hit at once, 0..=1
    /// (at least one replica may always be hit).
    pub max_replica_share: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_concurrent: 4,
            max_replica_share: 0.5,
        }
    }
}

/// A fault in the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event<F> {
    pub at: Duration,
    pub until: Duration,
    pub target: Target,
    pub fault: F,
    /// Index of the schedule entry it came from.
    pub entry: usize,
}

/// An event the limits removed, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cut<F> {
    pub event: Event<F>,
    pub reason: String,
}

/// The expanded schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline<F> {
    pub events: Vec<Event<F>>,
    pub cut: Vec<Cut<F>>,
}

fn raw_events<F: Clone>(
    entries: &[Entry<F>],
    horizon: Duration,
    rng: &mut StdRng,
) -> Vec<Event<F>> {
    let mut out = Vec::new();
    let push = |out: &mut Vec<Event<F>>, i: usize, e: &Entry<F>, at: Duration, t: &Target| {
        if at < horizon {
            out.push(Event {
                at,
                until: (at + e.duration).min(horizon),
                target: t.clone(),
                fault: e.fault.clone(),
                entry: i,
            });
        }
    };
    for (i, e) in entries.iter().enumerate() {
        match &e.trigger {
            Trigger::Timed { at } => {
                for t in &e.targets {
                    push(&mut out, i, e, *at, t);
                }
            }
            Trigger::Recurring { start, every } => {
                let every = (*every).max(Duration::from_millis(1));
                let mut at = *start;
                while at < horizon {
                    for t in &e.targets {
                        push(&mut out, i, e, at, t);
                    }
                    at += every;
                }
            }
            Trigger::Poisson { per_second } => {
                for t in &e.targets {
                    if *per_second <= 0.0 {
                        continue;
                    }
                    let mut at = 0.0f64;
                    loop {
                        let u: f64 = rng.random_range(f64::EPSILON..1.0);
                        at += -u.ln() / per_second;
                        if at >= horizon.as_secs_f64() {
                            break;
                        }
                        push(&mut out, i, e, Duration::from_secs_f64(at), t);
                    }
                }
            }
            Trigger::PerTick { tick, probability } => {
                let tick = (*tick).max(Duration::from_millis(1));
                let mut at = Duration::ZERO;
                while at < horizon {
                    for t in &e.targets {
                        if rng.random_bool(probability.clamp(0.0, 1.0)) {
                            push(&mut out, i, e, at, t);
                        }
                    }
                    at += tick;
                }
            }
        }
    }
    out.sort_by(|a, b| (a.at, a.entry, &a.target).cmp(&(b.at, b.entry, &b.target)));
    out
}

/// Expands `entries` over `horizon` with `seed`, then applies `limits`;
/// `replicas` gives each service's replica count.
pub fn timeline<F: Clone>(
    entries: &[Entry<F>],
    horizon: Duration,
    seed: u64,
    limits: Limits,
    replicas: &BTreeMap<String, usize>,
) -> Timeline<F> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut events = Vec::new();
    let mut cut = Vec::new();
    for ev in raw_events(entries, horizon, &mut rng) {
        let active: Vec<&Event<F>> = events
            .iter()
            .filter(|a: &&Event<F>| a.until > ev.at)
            .collect();
        let same_target = active.iter().any(|a| a.target == ev.target);
        let service_hit = active
            .iter()
            .filter(|a| a.target.service == ev.target.service)
            .map(|a| &a.target.name)
            .collect::<std::collections::BTreeSet<_>>();
        let total = replicas
            .get(&ev.target.service)
            .copied()
            .unwrap_or(1)
            .max(1);
        let allowed = ((total as f64 * limits.max_replica_share).floor() as usize).max(1);
        let reason = if same_target {
            Some(format!(
                "{} already has a fault at {:?}",
                ev.target.name, ev.at
            ))
        } else if active.len() >= limits.max_concurrent {
            Some(format!(
                "{} faults already active (limit {})",
                active.len(),
                limits.max_concurrent
            ))
        } else if service_hit.len() + 1 > allowed {
            Some(format!(
                "{} of {total} {} replicas already hit (limit {:.0}%)",
                service_hit.len(),
                ev.target.service,
                limits.max_replica_share * 100.0
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => cut.push(Cut { event: ev, reason }),
            None => events.push(ev),
        }
    }
    Timeline { events, cut }
}

#[cfg(test)]
mod tests;
