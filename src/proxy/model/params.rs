//! Typed parameters: building them from `key=value` text with units, and
//! writing them back as canonical text.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{FaultError, FaultKind, Params};
use crate::domain::units::{format_duration, parse_bytes, parse_duration};
use crate::proxy::quantity::{format_rate, parse_rate};

impl Params {
    /// The parameters as canonical text (`latency=200ms`).
    pub fn texts(&self) -> Vec<(&'static str, String)> {
        let d = |d: &Duration| format_duration(*d);
        match self {
            Params::Latency { latency, jitter } => {
                vec![("latency", d(latency)), ("jitter", d(jitter))]
            }
            Params::Bandwidth { rate } => vec![("rate", format_rate(*rate))],
            Params::Timeout { timeout } | Params::ResetPeer { timeout } => {
                vec![("timeout", d(timeout))]
            }
            Params::SlowClose { delay } | Params::HttpDelay { delay } => vec![("delay", d(delay))],
            Params::Slicer {
                average_size,
                size_variation,
                delay,
            } => vec![
                ("average_size", format!("{average_size}b")),
                ("size_variation", format!("{size_variation}b")),
                ("delay", d(delay)),
            ],
            Params::LimitData { bytes } => vec![("bytes", format!("{bytes}b"))],
            Params::HttpStatus { status } => vec![("status", status.to_string())],
            Params::HttpAbort => Vec::new(),
        }
    }

    pub fn kind(&self) -> FaultKind {
        match self {
            Self::Latency { .. } => FaultKind::Latency,
            Self::Bandwidth { .. } => FaultKind::Bandwidth,
            Self::Timeout { .. } => FaultKind::Timeout,
            Self::ResetPeer { .. } => FaultKind::ResetPeer,
            Self::SlowClose { .. } => FaultKind::SlowClose,
            Self::Slicer { .. } => FaultKind::Slicer,
            Self::LimitData { .. } => FaultKind::LimitData,
            Self::HttpStatus { .. } => FaultKind::HttpStatus,
            Self::HttpAbort => FaultKind::HttpAbort,
            Self::HttpDelay { .. } => FaultKind::HttpDelay,
        }
    }

    pub(super) fn build(
        kind: FaultKind,
        given: &BTreeMap<&'static str, &str>,
    ) -> Result<Self, FaultError> {
        let get = |name: &'static str| -> Result<&str, FaultError> {
            let info = kind.params().iter().find(|p| p.name == name);
            given
                .get(name)
                .copied()
                .or_else(|| info.and_then(|i| i.default))
                .ok_or(FaultError::MissingParam { kind, param: name })
        };
        let bad = |param: &str, value: &str, reason: String| FaultError::BadValue {
            kind,
            param: param.to_owned(),
            value: value.to_owned(),
            reason,
        };
        let duration = |name: &'static str| {
            let value = get(name)?;
            parse_duration(value).map_err(|e| bad(name, value, e.reason))
        };
        let bytes = |name: &'static str| {
            let value = get(name)?;
            parse_bytes(value).map_err(|e| bad(name, value, e.reason))
        };
        Ok(match kind {
            FaultKind::Latency => Self::Latency {
                latency: duration("latency")?,
                jitter: duration("jitter")?,
            },
            FaultKind::Bandwidth => {
                let value = get("rate")?;
                Self::Bandwidth {
                    rate: parse_rate(value).map_err(|e| bad("rate", value, e))?,
                }
            }
            FaultKind::Timeout => Self::Timeout {
                timeout: duration("timeout")?,
            },
            FaultKind::ResetPeer => Self::ResetPeer {
                timeout: duration("timeout")?,
            },
            FaultKind::SlowClose => Self::SlowClose {
                delay: duration("delay")?,
            },
            FaultKind::Slicer => {
                let (average_size, size_variation) =
                    (bytes("average_size")?, bytes("size_variation")?);
                if average_size == 0 {
                    return Err(bad(
                        "average_size",
                        get("average_size")?,
                        "must be at least 1 byte".into(),
                    ));
                }
                if size_variation >= average_size {
                    let reason = "must be smaller than average_size".into();
                    return Err(bad("size_variation", get("size_variation")?, reason));
                }
                Self::Slicer {
                    average_size,
                    size_variation,
                    delay: duration("delay")?,
                }
            }
            FaultKind::LimitData => Self::LimitData {
                bytes: bytes("bytes")?,
            },
            FaultKind::HttpStatus => {
                let value = get("status")?;
                let status = value
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|s| (200..=599).contains(s))
                    .ok_or_else(|| {
                        bad("status", value, "must be a number from 200 to 599".into())
                    })?;
                Self::HttpStatus { status }
            }
            FaultKind::HttpAbort => Self::HttpAbort,
            FaultKind::HttpDelay => Self::HttpDelay {
                delay: duration("delay")?,
            },
        })
    }
}
