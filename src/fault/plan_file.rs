//! Schedule files (TOML), pure: what `understudy fault schedule FILE` and
//! game-day scenarios read.
//!
//! ```toml
//! seed = 7
//! horizon = "5m"
//! [limits]
//! max_concurrent = 2
//! max_replica_share = "50%"
//! [[fault]]
//! kind = "pause"
//! target = "a1b2c3/api"
//! at = "30s"                 # or: every = "1m" (start = "10s"), poisson = "2/min",
//! duration = "10s"           #     or: tick = "10s" with probability = "10%"
//! set = { }
//! ```
//!
//! Errors name the file, line and column, and quote the value.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::catalog::{self, FaultRequest};
use super::schedule::{Entry, Limits, Trigger};
use super::target::TargetSpec;
use crate::domain::units::parse_duration;
use crate::proxy::quantity::parse_share;

/// A parsed schedule file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleFile {
    pub seed: u64,
    pub horizon: Duration,
    pub limits: Limits,
    pub entries: Vec<Entry<(FaultRequest, TargetSpec)>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    seed: Option<u64>,
    horizon: String,
    #[serde(default)]
    limits: Option<RawLimits>,
    #[serde(default, rename = "fault")]
    faults: Vec<RawFault>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_concurrent: Option<usize>,
    max_replica_share: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    kind: String,
    target: String,
    duration: String,
    at: Option<String>,
    every: Option<String>,
    start: Option<String>,
    poisson: Option<String>,
    tick: Option<String>,
    probability: Option<String>,
    #[serde(default)]
    set: BTreeMap<String, toml::Value>,
}

/// Why a schedule file is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct FileError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses `5/min`, `0.5/s`, `10/h` into events per second.
pub fn parse_per_second(text: &str) -> Result<f64, String> {
    let (n, unit) = text
        .trim()
        .split_once('/')
        .ok_or_else(|| format!("{text:?}: write a rate like 5/min, 0.5/s or 10/h"))?;
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("{text:?}: {n:?} is not a number"))?;
    let per = match unit.trim() {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" | "hour" => 3600.0,
        other => return Err(format!("{text:?}: unknown unit {other:?}; use s, min or h")),
    };
    if n.is_finite() && n >= 0.0 {
        Ok(n / per)
    } else {
        Err(format!("{text:?}: must be a non-negative rate"))
    }
}

fn locate(text: &str, needle: &str, from: usize) -> (usize, usize) {
    let at = text[from.min(text.len())..]
        .find(needle)
        .map_or(0, |i| i + from);
    crate::shadow::prepare::line_column(text, at)
}

fn trigger(f: &RawFault) -> Result<Trigger, String> {
    let d = |s: &str| parse_duration(s).map_err(|e| e.to_string());
    match (&f.at, &f.every, &f.poisson, &f.tick) {
        (Some(at), None, None, None) => Ok(Trigger::Timed { at: d(at)? }),
        (None, Some(every), None, None) => Ok(Trigger::Recurring {
            start: f.start.as_deref().map(d).transpose()?.unwrap_or_default(),
            every: d(every)?,
        }),
        (None, None, Some(rate), None) => Ok(Trigger::Poisson {
            per_second: parse_per_second(rate)?,
        }),
        (None, None, None, Some(tick)) => Ok(Trigger::PerTick {
            tick: d(tick)?,
            probability: parse_share(f.probability.as_deref().unwrap_or("10%"))
                .map_err(|e| format!("probability: {e}"))?,
        }),
        _ => Err("give exactly one of at, every, poisson or tick".to_owned()),
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses a schedule file's text.
pub fn parse(file: &str, text: &str) -> Result<ScheduleFile, FileError> {
    let fail = |(line, column): (usize, usize), message: String| FileError {
        file: file.to_owned(),
        line,
        column,
        message,
    };
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let pos = e.span().map_or((1, 1), |s| {
            crate::shadow::prepare::line_column(text, s.start)
        });
        fail(pos, e.message().to_owned())
    })?;
    let horizon = parse_duration(&raw.horizon)
        .map_err(|e| fail(locate(text, "horizon", 0), e.to_string()))?;
    let mut limits = Limits::default();
    if let Some(l) = &raw.limits {
        if let Some(m) = l.max_concurrent {
            limits.max_concurrent = m.max(1);
        }
        if let Some(s) = &l.max_replica_share {
            limits.max_replica_share = parse_share(s).map_err(|e| {
                fail(
                    locate(text, "max_replica_share", 0),
                    format!("max_replica_share {s:?}: {e}"),
                )
            })?;
        }
    }
    let mut entries = Vec::new();
    let mut cursor = 0;
    for f in &raw.faults {
        let here = text[cursor..]
            .find("[[fault]]")
            .map_or(cursor, |i| i + cursor);
        cursor = here + 1;
        let sets: Vec<(String, String)> = f
            .set
            .iter()
            .map(|(k, v)| (k.clone(), value_text(v)))
            .collect();
        let request = catalog::request(&f.kind, &sets).map_err(|e| {
            let key = match &e {
                catalog::CatalogError::BadValue { param, .. }
                | catalog::CatalogError::UnknownParam { param, .. } => param.as_str(),
                _ => f.kind.as_str(),
            };
            fail(locate(text, key, here), e.to_string())
        })?;
        let target: TargetSpec = f.target.parse().map_err(|e: super::target::TargetError| {
            fail(locate(text, &f.target, here), e.to_string())
        })?;
        let trigger = trigger(f).map_err(|e| fail(locate(text, "[[fault]]", here), e))?;
        let duration = parse_duration(&f.duration)
            .map_err(|e| fail(locate(text, "duration", here), e.to_string()))?;
        entries.push(Entry {
            fault: (request, target),
            targets: Vec::new(),
            trigger,
            duration,
        });
    }
    Ok(ScheduleFile {
        seed: raw.seed.unwrap_or(1),
        horizon,
        limits,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
seed = 7
horizon = "5m"

[limits]
max_concurrent = 2
max_replica_share = "50%"

[[fault]]
kind = "pause"
target = "a1b2c3/api"
at = "30s"
duration = "10s"

[[fault]]
kind = "cpu-throttle"
target = "a1b2c3/api/1"
poisson = "2/min"
duration = "20s"
set = { cpus = 0.2 }
"#;

    #[test]
    fn parses_triggers_limits_and_params() {
        let s = parse("game.toml", GOOD).unwrap();
        assert_eq!(s.seed, 7);
        assert_eq!(s.horizon, Duration::from_secs(300));
        assert_eq!(s.limits.max_concurrent, 2);
        assert_eq!(s.entries.len(), 2);
        assert_eq!(
            s.entries[0].trigger,
            Trigger::Timed {
                at: Duration::from_secs(30)
            }
        );
        assert!(
            matches!(s.entries[1].trigger, Trigger::Poisson { per_second } if (per_second - 2.0 / 60.0).abs() < 1e-12)
        );
        assert_eq!(s.entries[1].fault.0.number("cpus"), Some(0.2));
    }

    #[test]
    fn errors_point_into_the_file() {
        let bad = GOOD.replace("cpus = 0.2", "cpus = \"lots\"");
        let e = parse("game.toml", &bad).unwrap_err().to_string();
        assert!(e.starts_with("game.toml:20:9: "), "{e}");
        assert!(e.contains("\"lots\""), "{e}");
        let e = parse("game.toml", "horizon = \"5m\"\nsurprise = 1\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1), "{e}");
        let e = parse(
            "g.toml",
            &GOOD.replace("at = \"30s\"", "at = \"30s\"\nevery = \"1m\""),
        )
        .unwrap_err();
        assert!(e.message.contains("exactly one of"), "{e}");
    }

    #[test]
    fn rates_with_units() {
        assert!((parse_per_second("5/min").unwrap() - 5.0 / 60.0).abs() < 1e-12);
        assert!((parse_per_second("0.5/s").unwrap() - 0.5).abs() < 1e-12);
        assert!(parse_per_second("5 per minute").is_err());
        assert!(
            parse_per_second("5/fortnight")
                .unwrap_err()
                .contains("unknown unit")
        );
    }
}
