//! The fault model of the proxy, as plain serde data: what a fault is
//! ([`FaultSpec`]: a [`FaultKind`] with typed [`Params`], a [`Direction`], a
//! toxicity and a `sources` filter), how it parses from `key=value` strings
//! with units ([`FaultSpec::from_params`]) or from the control API's JSON
//! ([`FaultSpecWire`]), and the catalogue of valid kinds and parameters with
//! their units that error messages list ([`FaultError::valid`]).
//!
//! Pure: no I/O. The injector on the host builds the same types and sends
//! them as JSON.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::quantity::{Ipv4Net, parse_share};

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Delay every chunk (`latency`, `jitter`).
    Latency,
    /// Cap the transfer rate (`rate`).
    Bandwidth,
    /// Stop passing data; close after `timeout` (0 = hold forever).
    Timeout,
    /// Reset the connection (TCP RST) after `timeout`.
    ResetPeer,
    /// Delay the close after the end of the stream (`delay`).
    SlowClose,
    /// Split data into small chunks with delays between them.
    Slicer,
    /// Close the connection after `bytes` bytes.
    LimitData,
    /// Answer requests with an HTTP `status` instead of forwarding them.
    HttpStatus,
    /// Close the client connection mid-request, without a response.
    HttpAbort,
    /// Hold each request for `delay` before forwarding it.
    HttpDelay,
}

impl FaultKind {
    /// Every kind, in catalogue order.
    pub const ALL: [Self; 10] = [
        Self::Latency,
        Self::Bandwidth,
        Self::Timeout,
        Self::ResetPeer,
        Self::SlowClose,
        Self::Slicer,
        Self::LimitData,
        Self::HttpStatus,
        Self::HttpAbort,
        Self::HttpDelay,
    ];

    /// The kebab-case name used in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Latency => "latency",
            Self::Bandwidth => "bandwidth",
            Self::Timeout => "timeout",
            Self::ResetPeer => "reset-peer",
            Self::SlowClose => "slow-close",
            Self::Slicer => "slicer",
            Self::LimitData => "limit-data",
            Self::HttpStatus => "http-status",
            Self::HttpAbort => "http-abort",
            Self::HttpDelay => "http-delay",
        }
    }

    /// Position in [`Self::ALL`] (for per-kind counters).
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// Whether the fault acts on HTTP requests (needs an `http` proxy) rather
    /// than on bytes.
    pub fn is_http(self) -> bool {
        matches!(self, Self::HttpStatus | Self::HttpAbort | Self::HttpDelay)
    }

    /// The kind's own parameters.
    pub fn params(self) -> &'static [ParamInfo] {
        use Unit::{Bytes, Duration as D, Rate, Status};
        const fn p(
            name: &'static str,
            unit: Unit,
            default: Option<&'static str>,
            help: &'static str,
        ) -> ParamInfo {
            ParamInfo {
                name,
                unit,
                default,
                help,
            }
        }
        const LATENCY: &[ParamInfo] = &[
            p("latency", D, None, "added to each chunk"),
            p("jitter", D, Some("0s"), "plus or minus, uniformly"),
        ];
        const BANDWIDTH: &[ParamInfo] = &[p("rate", Rate, None, "the cap")];
        const TIMEOUT: &[ParamInfo] =
            &[p("timeout", D, Some("0s"), "then close; 0 = hold forever")];
        const RESET: &[ParamInfo] = &[p("timeout", D, Some("0s"), "then reset")];
        const SLOW_CLOSE: &[ParamInfo] = &[p("delay", D, None, "before the close goes on")];
        const SLICER: &[ParamInfo] = &[
            p("average_size", Bytes, Some("64b"), "of each slice"),
            p(
                "size_variation",
                Bytes,
                Some("0b"),
                "plus or minus, below average_size",
            ),
            p("delay", D, Some("0s"), "between slices"),
        ];
        const LIMIT: &[ParamInfo] = &[p("bytes", Bytes, None, "then close")];
        const STATUS: &[ParamInfo] = &[p("status", Status, Some("503"), "answered instead")];
        const HTTP_DELAY: &[ParamInfo] = &[p("delay", D, None, "before forwarding")];
        match self {
            Self::Latency => LATENCY,
            Self::Bandwidth => BANDWIDTH,
            Self::Timeout => TIMEOUT,
            Self::ResetPeer => RESET,
            Self::SlowClose => SLOW_CLOSE,
            Self::Slicer => SLICER,
            Self::LimitData => LIMIT,
            Self::HttpStatus => STATUS,
            Self::HttpAbort => &[],
            Self::HttpDelay => HTTP_DELAY,
        }
    }

    /// `latency(latency=<duration ...> (required), jitter=...)`.
    pub fn describe(self) -> String {
        let params: Vec<String> = self.params().iter().map(ParamInfo::describe).collect();
        format!("{}({})", self.name(), params.join(", "))
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FaultKind {
    type Err = FaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().replace('_', "-").to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| FaultError::UnknownKind { kind: s.to_owned() })
    }
}

/// Which bytes a fault acts on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Client to server (requests).
    Upstream,
    /// Server to client (responses).
    #[default]
    Downstream,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Self::Upstream => "upstream",
            Self::Downstream => "downstream",
        }
    }
}

impl FromStr for Direction {
    type Err = FaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "upstream" | "up" => Ok(Self::Upstream),
            "downstream" | "down" => Ok(Self::Downstream),
            _ => Err(FaultError::BadDirection {
                value: s.to_owned(),
            }),
        }
    }
}

/// The unit of a parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Duration,
    Rate,
    Bytes,
    Status,
}

impl Unit {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Duration => "duration, e.g. 200ms, 1.5s",
            Self::Rate => "rate, e.g. 1mb/s, 8mbit",
            Self::Bytes => "size, e.g. 64k, 1mb",
            Self::Status => "HTTP status 200-599",
        }
    }
}

/// One parameter of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamInfo {
    pub name: &'static str,
    pub unit: Unit,
    /// `None` when required.
    pub default: Option<&'static str>,
    pub help: &'static str,
}

impl ParamInfo {
    /// `latency=<duration, e.g. 200ms, 1.5s> (required): added to each chunk`.
    pub fn describe(&self) -> String {
        let default = self
            .default
            .map_or_else(|| "required".to_owned(), |d| format!("default {d}"));
        format!(
            "{}=<{}> ({default}): {}",
            self.name,
            self.unit.describe(),
            self.help
        )
    }
}

/// Keys every kind accepts besides its own parameters.
pub const COMMON_PARAMS: [&str; 3] = [
    "direction=<upstream|downstream> (default downstream)",
    "toxicity=<share of connections or requests hit, e.g. 30% or 0.3> (default 100%)",
    "sources=<client IPv4 addresses or CIDRs, comma-separated> (default all)",
];

/// A kind with its parameter values, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    Latency {
        latency: Duration,
        jitter: Duration,
    },
    Bandwidth {
        /// Bytes per second.
        rate: u64,
    },
    Timeout {
        timeout: Duration,
    },
    ResetPeer {
        timeout: Duration,
    },
    SlowClose {
        delay: Duration,
    },
    Slicer {
        average_size: u64,
        size_variation: u64,
        delay: Duration,
    },
    LimitData {
        bytes: u64,
    },
    HttpStatus {
        status: u16,
    },
    HttpAbort,
    HttpDelay {
        delay: Duration,
    },
}

/// Why a fault did not parse. [`FaultError::valid`] lists what would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("unknown fault kind {kind:?}")]
    UnknownKind { kind: String },
    #[error("unknown parameter {param:?} for {kind}")]
    UnknownParam { kind: FaultKind, param: String },
    #[error("{kind} needs the parameter {param:?}")]
    MissingParam {
        kind: FaultKind,
        param: &'static str,
    },
    #[error("invalid {param} {value:?}: {reason}")]
    BadValue {
        kind: FaultKind,
        param: String,
        value: String,
        reason: String,
    },
    #[error("invalid direction {value:?}")]
    BadDirection { value: String },
    #[error("invalid toxicity {value:?}: {reason}")]
    BadToxicity { value: String, reason: String },
    #[error("{0}")]
    BadSource(#[from] super::quantity::NetError),
}

impl FaultError {
    /// The valid choices, with units, for the error's context.
    pub fn valid(&self) -> Vec<String> {
        let kind_params = |kind: FaultKind| {
            kind.params()
                .iter()
                .map(ParamInfo::describe)
                .chain(COMMON_PARAMS.iter().map(|s| (*s).to_owned()))
                .collect()
        };
        match self {
            Self::UnknownKind { .. } => FaultKind::ALL.iter().map(|k| k.describe()).collect(),
            Self::UnknownParam { kind, .. } | Self::MissingParam { kind, .. } => kind_params(*kind),
            Self::BadValue { kind, param, .. } => {
                let own = kind.params().iter().find(|p| p.name == param);
                own.map_or_else(|| kind_params(*kind), |p| vec![p.describe()])
            }
            Self::BadDirection { .. } => vec!["upstream".to_owned(), "downstream".to_owned()],
            Self::BadToxicity { .. } => vec![COMMON_PARAMS[1].to_owned()],
            Self::BadSource(_) => vec![COMMON_PARAMS[2].to_owned()],
        }
    }
}

/// A fault as requested: what, which bytes, how often, for whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FaultSpecWire", into = "FaultSpecWire")]
pub struct FaultSpec {
    pub params: Params,
    pub direction: Direction,
    /// Share of connections (byte faults) or requests (HTTP faults) hit.
    pub toxicity: f64,
    /// Client networks the fault applies to; empty means every client.
    pub sources: Vec<Ipv4Net>,
}

/// A value in the JSON form: text with units, or a bare number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Int(u64),
    Float(f64),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Self::Int(n) => n.to_string(),
            Self::Float(x) => x.to_string(),
            Self::Text(s) => s.clone(),
        }
    }
}

/// The JSON form of a [`FaultSpec`] (the control API's body):
/// `{"kind":"latency","direction":"downstream","toxicity":1.0,
/// "params":{"latency":"200ms"},"sources":["10.213.0.5/32"]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpecWire {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toxicity: Option<Scalar>,
    #[serde(default)]
    pub params: BTreeMap<String, Scalar>,
    #[serde(default)]
    pub sources: Vec<String>,
}

impl TryFrom<FaultSpecWire> for FaultSpec {
    type Error = FaultError;

    fn try_from(wire: FaultSpecWire) -> Result<Self, FaultError> {
        let kind: FaultKind = wire.kind.parse()?;
        let texts: Vec<(String, String)> = wire
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.text()))
            .collect();
        let mut spec = Self::from_pairs(kind, texts.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        if let Some(direction) = wire.direction {
            spec.direction = direction.parse()?;
        }
        if let Some(toxicity) = wire.toxicity {
            spec.toxicity = parse_toxicity(&toxicity.text())?;
        }
        for source in &wire.sources {
            spec.sources.push(source.parse()?);
        }
        Ok(spec)
    }
}

impl From<FaultSpec> for FaultSpecWire {
    fn from(spec: FaultSpec) -> Self {
        Self {
            kind: spec.kind().name().to_owned(),
            direction: Some(spec.direction.name().to_owned()),
            toxicity: Some(Scalar::Float(spec.toxicity)),
            params: spec
                .param_texts()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Scalar::Text(v)))
                .collect(),
            sources: spec.sources.iter().map(ToString::to_string).collect(),
        }
    }
}

fn parse_toxicity(value: &str) -> Result<f64, FaultError> {
    parse_share(value).map_err(|reason| FaultError::BadToxicity {
        value: value.to_owned(),
        reason,
    })
}

impl FaultSpec {
    /// A fault hitting every connection or request, downstream, any client.
    pub fn new(params: Params) -> Self {
        Self {
            params,
            direction: Direction::Downstream,
            toxicity: 1.0,
            sources: Vec::new(),
        }
    }

    /// Parses `key=value` pairs with units, e.g.
    /// `from_params(FaultKind::Latency, &[("latency", "200ms")])`. Besides
    /// the kind's own parameters, `direction`, `toxicity` (`30%`) and
    /// `sources` (comma-separated CIDRs) are accepted.
    pub fn from_params(kind: FaultKind, pairs: &[(&str, &str)]) -> Result<Self, FaultError> {
        Self::from_pairs(kind, pairs.iter().copied())
    }

    /// [`Self::from_params`] from `key=value` words (the CLI's form).
    pub fn from_words(kind: &str, words: &[String]) -> Result<Self, FaultError> {
        let kind: FaultKind = kind.parse()?;
        let mut pairs = Vec::with_capacity(words.len());
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                return Err(FaultError::UnknownParam {
                    kind,
                    param: word.clone(),
                });
            };
            pairs.push((key.trim(), value.trim()));
        }
        Self::from_params(kind, &pairs)
    }

    fn from_pairs<'a>(
        kind: FaultKind,
        pairs: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, FaultError> {
        let mut own: BTreeMap<&'static str, &'a str> = BTreeMap::new();
        let mut spec = Self::new(Params::HttpAbort);
        for (key, value) in pairs {
            match key {
                "direction" => spec.direction = value.parse()?,
                "toxicity" => spec.toxicity = parse_toxicity(value)?,
                "sources" => {
                    for source in value.split(',').filter(|s| !s.trim().is_empty()) {
                        spec.sources.push(source.parse()?);
                    }
                }
                _ => {
                    let info = kind
                        .params()
                        .iter()
                        .find(|p| p.name == key)
                        .ok_or_else(|| FaultError::UnknownParam {
                            kind,
                            param: key.to_owned(),
                        })?;
                    own.insert(info.name, value);
                }
            }
        }
        spec.params = Params::build(kind, &own)?;
        Ok(spec)
    }

    pub fn kind(&self) -> FaultKind {
        self.params.kind()
    }

    /// The parameters as canonical text (`latency=200ms`).
    pub fn param_texts(&self) -> Vec<(&'static str, String)> {
        self.params.texts()
    }
}

/// An installed fault: its id on the proxy and its spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
}

mod params;

#[cfg(test)]
mod tests;
