//! The fault catalog (pure): every kind, the level it works at, what it can
//! target, its parameters with units and defaults, and parsing of
//! `--set key=value` into a validated request. Edge kinds (through the fault
//! proxy) take their parameters from `proxy::model`. Unknown kinds or
//! parameters list the valid ones with units; bad values are quoted.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::units::{format_duration, parse_bytes, parse_duration};
use crate::proxy::model::{FaultKind as EdgeKind, FaultSpec};
use crate::proxy::quantity::{parse_rate, parse_share};

/// Where a fault acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// One container: the Engine API.
    Instance,
    /// All (or a share of) a service's replicas.
    Service,
    /// A service edge, through the fault proxy.
    Edge,
    /// Inside a container's network namespace (root, iptables, tc).
    Packet,
    /// Security drills.
    Breach,
}

/// What a kind may be aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aim {
    /// Containers: `SHADOW/SERVICE`, `SHADOW/SERVICE/N`, `--container`.
    Containers,
    /// A whole service: `SHADOW/SERVICE`.
    Service,
    /// An edge: `SHADOW/FROM->TO`.
    Edge,
}

/// A parameter's type, which decides its units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Duration,
    Bytes,
    /// A share: `30%` or `0.3`.
    Share,
    /// A transfer rate: `1mb/s`, `8mbit`.
    Rate,
    /// CPUs as a decimal (`0.25`).
    Cpus,
    /// A signal name (`SIGKILL`, `SIGTERM`, ...).
    Signal,
    /// Free text (a path, an environment variable name, a service).
    Text,
    /// One of a fixed set.
    Choice(&'static [&'static str]),
}

impl ParamType {
    fn units(self) -> String {
        match self {
            Self::Duration => "duration: 250ms, 2s, 1m".to_owned(),
            Self::Bytes => "size: 512k, 64m, 1g".to_owned(),
            Self::Share => "share: 30% or 0.3".to_owned(),
            Self::Rate => "rate: 1mb/s, 512kb/s, 8mbit".to_owned(),
            Self::Cpus => "CPUs: 0.1, 0.5, 2".to_owned(),
            Self::Signal => {
                "signal: SIGKILL, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2".to_owned()
            }
            Self::Text => "text".to_owned(),
            Self::Choice(options) => format!("one of {}", options.join(", ")),
        }
    }
}

/// A parameter of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamDef {
    pub name: &'static str,
    pub kind: ParamType,
    /// `None`: required.
    pub default: Option<&'static str>,
    pub help: &'static str,
}

impl ParamDef {
    /// `latency=DURATION (duration: 250ms, 2s, 1m; default 200ms): ...`.
    pub fn describe(&self) -> String {
        let default = self
            .default
            .map_or_else(|| "required".to_owned(), |d| format!("default {d}"));
        format!(
            "{} ({}; {default}): {}",
            self.name,
            self.kind.units(),
            self.help
        )
    }
}

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindDef {
    pub name: &'static str,
    pub level: Level,
    pub aim: Aim,
    pub params: &'static [ParamDef],
    pub help: &'static str,
}

const fn p(
    name: &'static str,
    kind: ParamType,
    default: Option<&'static str>,
    help: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind,
        default,
        help,
    }
}

const SIGNALS: [&str; 7] = [
    "SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2",
];
const OUTAGE_MODES: &[&str] = &["stop", "kill", "pause"];
const DNS_MODES: &[&str] = &["alias", "disconnect"];
const PARTITION_MODES: &[&str] = &["drop", "reject"];
const DEGRADE_FAULTS: &[&str] = &[
    "kill",
    "stop",
    "restart",
    "pause",
    "cpu-throttle",
    "memory-pressure",
];

/// Every non-edge kind. Edge kinds come from `proxy::model::FaultKind`.
pub const KINDS: &[KindDef] = &[
    KindDef {
        name: "kill",
        level: Level::Instance,
        aim: Aim::Containers,
        help: "send a signal to the container's init; started again on revert if still down",
        params: &[p(
            "signal",
            ParamType::Signal,
            Some("SIGKILL"),
            "the signal",
        )],
    },
    KindDef {
        name: "stop",
        level: Level::Instance,
        aim: Aim::Containers,
        help: "stop the container; started again on revert",
        params: &[p(
            "grace",
            ParamType::Duration,
            Some("2s"),
            "time between SIGTERM and SIGKILL",
        )],
    },
    KindDef {
        name: "restart",
        level: Level::Instance,
        aim: Aim::Containers,
        help: "restart the container",
        params: &[p(
            "grace",
            ParamType::Duration,
            Some("1s"),
            "time between SIGTERM and SIGKILL",
        )],
    },
    KindDef {
        name: "pause",
        level: Level::Instance,
        aim: Aim::Containers,
        help: "freeze every process (cgroup freezer); unpaused on revert",
        params: &[],
    },
    KindDef {
        name: "cpu-throttle",
        level: Level::Instance,
        aim: Aim::Containers,
        help: "lower the CPU limit live; restored on revert",
        params: &[p("cpus", ParamType::Cpus, Some("0.1"), "the new limit")],
    },
    KindDef {
        name: "memory-pressure",
        level: Level::Instance,
        aim: Aim::Containers,
        help: "lower the memory limit live (an OOM kill is a possible outcome and is reported); restored on revert",
        params: &[p(
            "memory",
            ParamType::Bytes,
            Some("32m"),
            "the new limit (at least 6m)",
        )],
    },
    KindDef {
        name: "disk-fill",
        level: Level::Instance,
        aim: Aim::Containers,
        help: "write a file of SIZE into PATH through the archive API; emptied on revert",
        params: &[
            p("size", ParamType::Bytes, Some("100m"), "how much to write"),
            p(
                "path",
                ParamType::Text,
                Some("/tmp"),
                "directory inside the container",
            ),
        ],
    },
    KindDef {
        name: "outage",
        level: Level::Service,
        aim: Aim::Service,
        help: "take every replica down (stop, kill or pause); restored on revert",
        params: &[p(
            "mode",
            ParamType::Choice(OUTAGE_MODES),
            Some("stop"),
            "how replicas go down",
        )],
    },
    KindDef {
        name: "dns-loss",
        level: Level::Service,
        aim: Aim::Service,
        help: "the service's name stops resolving in the shadow (alias dropped, or containers disconnected)",
        params: &[p(
            "mode",
            ParamType::Choice(DNS_MODES),
            Some("alias"),
            "drop the alias, or disconnect the replicas",
        )],
    },
    KindDef {
        name: "degrade",
        level: Level::Service,
        aim: Aim::Service,
        help: "an instance fault on a share of the replicas",
        params: &[
            p(
                "fault",
                ParamType::Choice(DEGRADE_FAULTS),
                Some("cpu-throttle"),
                "the instance fault",
            ),
            p(
                "share",
                ParamType::Share,
                Some("50%"),
                "share of replicas hit (at least one)",
            ),
            p("cpus", ParamType::Cpus, Some("0.1"), "for cpu-throttle"),
            p(
                "memory",
                ParamType::Bytes,
                Some("32m"),
                "for memory-pressure",
            ),
        ],
    },
    KindDef {
        name: "packet-drop",
        level: Level::Packet,
        aim: Aim::Containers,
        help: "drop a share of incoming packets (iptables statistic)",
        params: &[p(
            "percent",
            ParamType::Share,
            Some("10%"),
            "share of packets dropped",
        )],
    },
    KindDef {
        name: "partition",
        level: Level::Packet,
        aim: Aim::Edge,
        help: "cut FROM and TO off each other, both directions (iptables)",
        params: &[p(
            "mode",
            ParamType::Choice(PARTITION_MODES),
            Some("drop"),
            "drop (callers wait for timeouts) or reject (immediate errors)",
        )],
    },
    KindDef {
        name: "rate-limit",
        level: Level::Packet,
        aim: Aim::Containers,
        help: "shape egress with a token bucket (tc tbf)",
        params: &[
            p("rate", ParamType::Rate, Some("1mb/s"), "the rate"),
            p("burst", ParamType::Bytes, Some("32k"), "bucket size"),
            p(
                "latency",
                ParamType::Duration,
                Some("50ms"),
                "longest a packet may wait",
            ),
        ],
    },
    KindDef {
        name: "packet-latency",
        level: Level::Packet,
        aim: Aim::Containers,
        help: "delay egress packets (tc netem; where the kernel lacks netem use the edge fault `latency`)",
        params: &[
            p("latency", ParamType::Duration, Some("100ms"), "the delay"),
            p(
                "jitter",
                ParamType::Duration,
                Some("0ms"),
                "random variation",
            ),
        ],
    },
    KindDef {
        name: "quarantine",
        level: Level::Breach,
        aim: Aim::Containers,
        help: "cut an instance off every network, as a responder would; reconnected on revert",
        params: &[],
    },
    KindDef {
        name: "credential-revocation",
        level: Level::Breach,
        aim: Aim::Containers,
        help: "recreate an instance with a secret environment variable changed or removed; recreated as it was on revert",
        params: &[
            p("var", ParamType::Text, None, "the environment variable"),
            p(
                "value",
                ParamType::Text,
                Some(""),
                "the new value; empty removes the variable",
            ),
        ],
    },
    KindDef {
        name: "resource-hijack",
        level: Level::Breach,
        aim: Aim::Containers,
        help: "CPU stolen: throttle to a share of its limit, plus a CPU burner inside the container when its image has understudy",
        params: &[
            p(
                "share",
                ParamType::Share,
                Some("10%"),
                "share of its CPU left to the service",
            ),
            p(
                "burner",
                ParamType::Choice(&["true", "false"]),
                Some("true"),
                "run a CPU burner inside",
            ),
        ],
    },
];

/// A validated parameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Text(String),
}

/// A validated fault request (without its target).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRequest {
    pub kind: String,
    /// Every parameter, defaults filled in, in canonical text form.
    pub params: BTreeMap<String, String>,
}

/// Why a request is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("unknown fault {kind:?}; valid kinds:\n  {}", .valid.join("\n  "))]
    UnknownKind { kind: String, valid: Vec<String> },
    #[error("{kind} has no parameter {param:?}; valid parameters:\n  {}", .valid.join("\n  "))]
    UnknownParam {
        kind: String,
        param: String,
        valid: Vec<String>,
    },
    #[error("{kind}: {param}={value:?} is not valid: {reason} (expected {units})")]
    BadValue {
        kind: String,
        param: String,
        value: String,
        reason: String,
        units: String,
    },
    #[error("{kind}: the parameter {param} is required ({units})")]
    Missing {
        kind: String,
        param: String,
        units: String,
    },
    #[error("{kind}: {message}")]
    Edge { kind: String, message: String },
    #[error("invalid --set {0:?}: write key=value, e.g. latency=200ms")]
    Syntax(String),
}

/// Every kind as `name (level): help`, edge kinds included.
pub fn all_kinds() -> Vec<String> {
    let mut out: Vec<String> = KINDS
        .iter()
        .map(|k| {
            format!("{} ({:?}): {}", k.name, k.level, k.help)
                .replace("(Instance)", "(instance)")
                .replace("(Service)", "(service)")
                .replace("(Packet)", "(packet)")
                .replace("(Breach)", "(breach)")
        })
        .collect();
    out.extend(
        EdgeKind::ALL
            .iter()
            .map(|k| format!("{} (edge): {}", k.name(), k.describe())),
    );
    out
}

/// The definition of a non-edge kind.
pub fn kind(name: &str) -> Option<&'static KindDef> {
    KINDS.iter().find(|k| k.name == name)
}

/// The edge kind of that name, if it is one.
pub fn edge_kind(name: &str) -> Option<EdgeKind> {
    EdgeKind::ALL.iter().copied().find(|k| k.name() == name)
}

fn canonical(kind: &str, def: &ParamDef, value: &str) -> Result<String, CatalogError> {
    let bad = |reason: String| CatalogError::BadValue {
        kind: kind.to_owned(),
        param: def.name.to_owned(),
        value: value.to_owned(),
        reason,
        units: def.kind.units(),
    };
    match def.kind {
        ParamType::Duration => parse_duration(value)
            .map(format_duration)
            .map_err(|e| bad(e.reason)),
        ParamType::Bytes => parse_bytes(value)
            .map(|b| b.to_string())
            .map_err(|e| bad(e.reason)),
        ParamType::Share => parse_share(value).map(|s| s.to_string()).map_err(bad),
        ParamType::Rate => parse_rate(value).map(|r| r.to_string()).map_err(bad),
        ParamType::Cpus => match value.trim().parse::<f64>() {
            Ok(c) if c > 0.0 && c <= 1024.0 => Ok(c.to_string()),
            _ => Err(bad("a positive number of CPUs".to_owned())),
        },
        ParamType::Signal => {
            let s = value.trim().to_ascii_uppercase();
            let s = if s.starts_with("SIG") {
                s
            } else {
                format!("SIG{s}")
            };
            if SIGNALS.contains(&s.as_str()) {
                Ok(s)
            } else {
                Err(bad("an unknown signal".to_owned()))
            }
        }
        ParamType::Text => Ok(value.to_owned()),
        ParamType::Choice(options) => {
            if options.contains(&value) {
                Ok(value.to_owned())
            } else {
                Err(bad("not one of the choices".to_owned()))
            }
        }
    }
}

/// Splits `key=value` words.
pub fn split_sets(words: &[String]) -> Result<Vec<(String, String)>, CatalogError> {
    words
        .iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| CatalogError::Syntax(w.clone()))
        })
        .collect()
}

/// Validates `kind` with `sets`, filling defaults.
pub fn request(kind_name: &str, sets: &[(String, String)]) -> Result<FaultRequest, CatalogError> {
    if let Some(edge) = edge_kind(kind_name) {
        let pairs: Vec<(&str, &str)> = sets.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let spec = FaultSpec::from_params(edge, &pairs).map_err(|e| CatalogError::Edge {
            kind: kind_name.to_owned(),
            message: format!("{e}; valid: {}", e.valid().join("; ")),
        })?;
        let mut params: BTreeMap<String, String> = spec
            .param_texts()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        params.insert("direction".to_owned(), spec.direction.name().to_owned());
        params.insert("toxicity".to_owned(), spec.toxicity.to_string());
        return Ok(FaultRequest {
            kind: kind_name.to_owned(),
            params,
        });
    }
    let def = kind(kind_name).ok_or_else(|| CatalogError::UnknownKind {
        kind: kind_name.to_owned(),
        valid: all_kinds(),
    })?;
    let mut params = BTreeMap::new();
    for (k, v) in sets {
        let pd =
            def.params
                .iter()
                .find(|p| p.name == k)
                .ok_or_else(|| CatalogError::UnknownParam {
                    kind: def.name.to_owned(),
                    param: k.clone(),
                    valid: if def.params.is_empty() {
                        vec!["(none)".to_owned()]
                    } else {
                        def.params.iter().map(ParamDef::describe).collect()
                    },
                })?;
        params.insert(k.clone(), canonical(def.name, pd, v)?);
    }
    for pd in def.params {
        if !params.contains_key(pd.name) {
            let d = pd.default.ok_or_else(|| CatalogError::Missing {
                kind: def.name.to_owned(),
                param: pd.name.to_owned(),
                units: pd.kind.units(),
            })?;
            params.insert(pd.name.to_owned(), canonical(def.name, pd, d)?);
        }
    }
    Ok(FaultRequest {
        kind: def.name.to_owned(),
        params,
    })
}

impl FaultRequest {
    pub fn number(&self, key: &str) -> Option<f64> {
        self.params.get(key)?.parse().ok()
    }

    pub fn duration(&self, key: &str) -> Option<Duration> {
        parse_duration(self.params.get(key)?).ok()
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
}

impl fmt::Display for FaultRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        for (k, v) in &self.params {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
