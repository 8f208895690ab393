//! Replay (pure): a profile becomes a workload. The rate curve is
//! compressed `speed` times in time and scaled `scale` times in height, the
//! biggest observed peak amplified `peak_boost` times, a share of requests
//! drawn from the edge cases, the rest from the mix by share, with concrete
//! paths (and bodies) from the profile's examples so ids stay real and writes
//! are replayed too. Deterministic for a seed.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::workload::{Arrival, Arrivals, RequestSpec, Workload};
use crate::domain::traffic::{EdgeCase, MixEntry, TrafficProfile};

/// How to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// Time compression: 4 plays a minute of production in 15 s.
    pub speed: f64,
    /// Height: 2 sends twice production's rate.
    pub scale: f64,
    /// Extra factor on the seconds of the biggest peak.
    pub peak_boost: f64,
    /// Share of requests drawn from the edge cases, 0..=1.
    pub edge_share: f64,
    pub seed: u64,
    /// Request bodies by `METHOD /template`, for sources without bodies.
    pub bodies: BTreeMap<String, String>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            speed: 1.0,
            scale: 1.0,
            peak_boost: 1.0,
            edge_share: 0.0,
            seed: 1,
            bodies: BTreeMap::new(),
        }
    }
}

/// Why a profile cannot be replayed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplayError {
    #[error("invalid {what} {value}: {reason}")]
    Option {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("the profile has no requests to replay (empty rate curve or mix)")]
    Empty,
}

/// A replay, ready for the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayPlan {
    pub requests: Vec<RequestSpec>,
    /// Sorted by time.
    pub arrivals: Vec<Arrival>,
    /// Intended requests in replay second 0, 1, 2, ...
    pub target: Vec<u32>,
    pub duration: Duration,
    /// Things the operator should know (writes without bodies, ...).
    pub notes: Vec<String>,
}

impl ReplayPlan {
    /// The engine's input: the plan's requests and arrivals as an open
    /// workload, and the load period that sends every arrival (its
    /// duration and a millisecond, so the last one is not cut off).
    pub fn into_workload(self) -> (Workload, Duration) {
        let period = self.duration + Duration::from_millis(1);
        let workload = Workload {
            requests: self.requests,
            arrivals: Arrivals::Open(Box::new(self.arrivals.into_iter())),
        };
        (workload, period)
    }
}

fn check(options: &ReplayOptions) -> Result<(), ReplayError> {
    let bad = |what, value: f64, reason| ReplayError::Option {
        what,
        value: format!("{value:?}"),
        reason,
    };
    if !(options.speed.is_finite() && options.speed >= 0.01 && options.speed <= 1000.0) {
        return Err(bad(
            "--speed",
            options.speed,
            "use a factor from 0.01 to 1000",
        ));
    }
    if !(options.scale.is_finite() && options.scale > 0.0 && options.scale <= 1000.0) {
        return Err(bad(
            "--scale",
            options.scale,
            "use a factor above 0, up to 1000",
        ));
    }
    if !(options.peak_boost.is_finite() && options.peak_boost > 0.0 && options.peak_boost <= 1000.0)
    {
        return Err(bad(
            "--peak-boost",
            options.peak_boost,
            "use a factor above 0, up to 1000",
        ));
    }
    if !(0.0..=1.0).contains(&options.edge_share) {
        return Err(bad(
            "--edge-cases",
            options.edge_share * 100.0,
            "use a share from 0% to 100%",
        ));
    }
    Ok(())
}

/// Requests per profile second after scaling and the peak boost, as exact
/// integers whose running total never drifts from the fractional one.
pub fn scaled_counts(profile: &TrafficProfile, scale: f64, peak_boost: f64) -> Vec<u32> {
    let peak = profile
        .peaks
        .iter()
        .max_by_key(|p| p.peak_rps)
        .map(|p| (p.start_s as usize)..(p.start_s as usize + p.duration_s as usize));
    let mut carry = 0.0f64;
    profile
        .rate
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            let boost = if peak.as_ref().is_some_and(|p| p.contains(&i)) {
                peak_boost
            } else {
                1.0
            };
            carry += f64::from(r) * scale * boost;
            let whole = carry.floor();
            carry -= whole;
            whole as u32
        })
        .collect()
}

struct Picker<'a> {
    mix: &'a [MixEntry],
    cumulative: Vec<f64>,
    edges: &'a [EdgeCase],
    options: &'a ReplayOptions,
    index: BTreeMap<(String, String, Option<String>), usize>,
    requests: Vec<RequestSpec>,
    bodiless_writes: BTreeMap<String, u64>,
}

fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH")
}

impl<'a> Picker<'a> {
    fn new(profile: &'a TrafficProfile, options: &'a ReplayOptions) -> Self {
        let mut total = 0.0;
        let cumulative = profile
            .mix
            .iter()
            .map(|m| {
                total += m.share.max(0.0);
                total
            })
            .collect();
        Self {
            mix: &profile.mix,
            cumulative,
            edges: &profile.edge_cases,
            options,
            index: BTreeMap::new(),
            requests: Vec::new(),
            bodiless_writes: BTreeMap::new(),
        }
    }

    fn intern(
        &mut self,
        method: &str,
        path: &str,
        body: Option<String>,
        endpoint: String,
    ) -> usize {
        let key = (method.to_owned(), path.to_owned(), body.clone());
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        if body.is_none() && is_write(method) {
            *self.bodiless_writes.entry(endpoint.clone()).or_default() += 1;
        }
        let json = body
            .as_deref()
            .is_some_and(|b| b.trim_start().starts_with(['{', '[']));
        let mut headers = Vec::new();
        if json {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        self.requests.push(RequestSpec {
            method: method.to_owned(),
            path: wire_path(path),
            headers,
            body: body.map(Bytes::from),
            endpoint,
        });
        self.index.insert(key, self.requests.len() - 1);
        self.requests.len() - 1
    }

    fn pick(&mut self, rng: &mut StdRng) -> usize {
        if !self.edges.is_empty()
            && self.options.edge_share > 0.0
            && rng.random_bool(self.options.edge_share)
        {
            let e = &self.edges[rng.random_range(0..self.edges.len())];
            let endpoint = format!("{} {} (edge case)", e.method, super_template(&e.path));
            return self.intern(&e.method.clone(), &e.path.clone(), e.body.clone(), endpoint);
        }
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.random_range(0.0..total.max(f64::MIN_POSITIVE));
        let i = self
            .cumulative
            .partition_point(|&c| c <= x)
            .min(self.mix.len() - 1);
        let entry = &self.mix[i];
        let path = if entry.examples.is_empty() {
            entry
                .path
                .replace("{id}", &rng.random_range(1..1000u32).to_string())
        } else {
            entry.examples[rng.random_range(0..entry.examples.len())].clone()
        };
        let key = format!("{} {}", entry.method, entry.path);
        let body = self.options.bodies.get(&key).cloned().or_else(|| {
            (!entry.bodies.is_empty())
                .then(|| entry.bodies[rng.random_range(0..entry.bodies.len())].clone())
        });
        self.intern(&entry.method.clone(), &path, body, key)
    }
}

/// The template of a concrete path, for labelling edge cases.
fn super_template(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .map(|seg| {
            if seg.bytes().any(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Plans a replay of `profile`.
pub fn plan(profile: &TrafficProfile, options: &ReplayOptions) -> Result<ReplayPlan, ReplayError> {
    check(options)?;
    if profile.mix.is_empty() || profile.rate.iter().all(|&r| r == 0) {
        return Err(ReplayError::Empty);
    }
    let counts = scaled_counts(profile, options.scale, options.peak_boost);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut picker = Picker::new(profile, options);
    let second = 1.0 / options.speed;
    let mut arrivals = Vec::new();
    for (i, &k) in counts.iter().enumerate() {
        for j in 0..k {
            // Evenly spread over the profile second's compressed span.
            let offset = (i as f64 + (f64::from(j) + 0.5) / f64::from(k)) * second;
            arrivals.push(Arrival {
                at: Duration::from_secs_f64(offset),
                request: picker.pick(&mut rng),
            });
        }
    }
    let duration = Duration::from_secs_f64(counts.len() as f64 * second);
    let replay_seconds = duration.as_secs_f64().ceil() as usize;
    let mut target = vec![0u32; replay_seconds.max(1)];
    for a in &arrivals {
        let s = (a.at.as_secs_f64() as usize).min(target.len() - 1);
        target[s] += 1;
    }
    let notes = picker
        .bodiless_writes
        .iter()
        .map(|(endpoint, n)| {
            format!("{endpoint}: {n} distinct write(s) replayed without a body (the source records none; give one with --body '{endpoint}=...')")
        })
        .collect();
    Ok(ReplayPlan {
        requests: picker.requests,
        arrivals,
        target,
        duration,
        notes,
    })
}

/// Parses `--body 'POST /api/cart/{id}/items={"product":3,"qty":1}'`.
pub fn parse_body_override(text: &str) -> Result<(String, String), ReplayError> {
    let err = || ReplayError::Option {
        what: "--body",
        value: format!("{text:?}"),
        reason: "expected 'METHOD /path/template=BODY'",
    };
    let (key, body) = text.split_once('=').ok_or_else(err)?;
    let (method, path) = key.trim().split_once(' ').ok_or_else(err)?;
    if method.is_empty() || !path.starts_with('/') {
        return Err(err());
    }
    Ok((
        format!("{} {}", method.to_ascii_uppercase(), path.trim()),
        body.to_owned(),
    ))
}

/// Every `--body` given, by `METHOD /template` (a later one for the same
/// endpoint wins).
pub fn parse_body_overrides(texts: &[String]) -> Result<BTreeMap<String, String>, ReplayError> {
    texts.iter().map(|t| parse_body_override(t)).collect()
}

/// A path as it goes on the wire: spaces, controls and non-ASCII bytes
/// percent-encoded (a log that writes the decoded path, nginx's `$uri` or
/// Apache's `%U`, gives `/a b`; the request line needs `/a%20b`). A `%`
/// already there is kept: the path is taken to be encoded as far as it is.
pub fn wire_path(path: &str) -> String {
    if !path.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return path.to_owned();
    }
    let mut out = String::with_capacity(path.len() + 8);
    for b in path.bytes() {
        if b <= b' ' || b >= 0x7f {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

#[cfg(test)]
mod tests;
