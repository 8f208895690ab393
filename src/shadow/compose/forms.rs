//! Single values as compose writes them: strings, numbers and booleans that
//! carry a unit or a vocabulary (`0.5` CPUs, `256m`, `1m30s`,
//! `on-failure:3`). Each parses while the file is deserialized, so an error
//! carries the path of the value; messages end with the value in quotes.
//!
//! Owns [`Scalar`] and the [`FromScalar`] types. Lists and maps of values
//! live in `lists`, ports in `ports`, volumes in `volumes`.

use std::marker::PhantomData;
use std::time::Duration;

use serde::de::{Deserialize, Deserializer, Visitor};

use crate::domain::spec::RestartPolicy;
use crate::domain::units;

/// A YAML scalar as it was written.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    /// The value as text (`0.5`, `true`, `256m`).
    pub fn text(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            Self::Int(n) => n.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }
}

/// `problem "value"`: the shape of every value error.
pub fn invalid(problem: &str, value: &str) -> String {
    format!("{problem} {value:?}")
}

/// A type read from one scalar.
pub trait FromScalar: Sized {
    /// What serde says it expected when the value is a list or mapping.
    const EXPECTING: &'static str;
    fn from_scalar(value: Scalar) -> Result<Self, String>;
}

/// Expands to the `visit_*` methods of a serde visitor for scalars, each
/// handing a [`Scalar`] to the visitor's inherent `convert`.
macro_rules! visit_scalars {
    () => {
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            self.convert($crate::shadow::compose::forms::Scalar::Bool(v))
                .map_err(E::custom)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.convert($crate::shadow::compose::forms::Scalar::Int(i128::from(v)))
                .map_err(E::custom)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.convert($crate::shadow::compose::forms::Scalar::Int(i128::from(v)))
                .map_err(E::custom)
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            self.convert($crate::shadow::compose::forms::Scalar::Float(v))
                .map_err(E::custom)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            self.convert($crate::shadow::compose::forms::Scalar::Str(v.to_owned()))
                .map_err(E::custom)
        }
    };
}
pub(crate) use visit_scalars;

struct ScalarVisitor<T>(PhantomData<T>);

impl<T: FromScalar> ScalarVisitor<T> {
    #[allow(clippy::unused_self)] // the shape `visit_scalars!` calls
    fn convert(self, value: Scalar) -> Result<T, String> {
        T::from_scalar(value)
    }
}

impl<T: FromScalar> Visitor<'_> for ScalarVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(T::EXPECTING)
    }

    visit_scalars!();
}

/// Deserializes a [`FromScalar`] type.
pub fn scalar<'de, D: Deserializer<'de>, T: FromScalar>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(ScalarVisitor(PhantomData))
}

macro_rules! scalar_types {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                scalar(d)
            }
        }
    )*};
}

scalar_types!(
    Text,
    Count,
    Int,
    Cpus,
    Bytes,
    SwapBytes,
    Dur,
    Restart,
    RestartCondition
);

/// Any scalar, kept as text (compose accepts `user: 1000` for `"1000"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl FromScalar for Text {
    const EXPECTING: &'static str = "a string or number";
    fn from_scalar(value: Scalar) -> Result<Self, String> {
        Ok(Self(value.text()))
    }
}

/// A whole number, 0 or more (`replicas`, `retries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub u32);

impl FromScalar for Count {
    const EXPECTING: &'static str = "a whole number, 0 or more";
    fn from_scalar(value: Scalar) -> Result<Self, String> {
        let n = match &value {
            Scalar::Int(n) => u32::try_from(*n).ok(),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        };
        n.map(Self)
            .ok_or_else(|| invalid("not a whole number, 0 or more:", &value.text()))
    }
}

/// A whole number (`cpu_shares`, `pids_limit`, `cpu_quota`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl FromScalar for Int {
    const EXPECTING: &'static str = "a whole number";
    fn from_scalar(value: Scalar) -> Result<Self, String> {
        let n = match &value {
            Scalar::Int(n) => i64::try_from(*n).ok(),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        };
        n.map(Self)
            .ok_or_else(|| invalid("not a whole number:", &value.text()))
    }
}

/// CPUs as billionths (`cpus: 0.5` is 500 000 000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpus(pub i64);

impl FromScalar for Cpus {
    const EXPECTING: &'static str = "a number of CPUs";
    fn from_scalar(value: Scalar) -> Result<Self, String> {
        let cpus = match &value {
            Scalar::Int(n) => Some(*n as f64),
            Scalar::Float(f) => Some(*f),
            Scalar::Str(s) => s.trim().parse::<f64>().ok(),
            Scalar::Bool(_) => None,
        };
        match cpus {
            Some(c) if (0.0..1.0e9).contains(&c) => Ok(Self((c * 1e9).round() as i64)),
            _ => Err(invalid(
                "not a number of CPUs (like 0.5 or 2):",
                &value.text(),
            )),
        }
    }
}

/// A size in bytes: a number, or text with a binary unit (`256m`, `1g`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub i64);

impl FromScalar for Bytes {
    const EXPECTING: &'static str = "a size like 256m";
    fn from_scalar(value: Scalar) -> Result<Self, String> {
        let size = match &value {
            Scalar::Int(n) => u64::try_from(*n).map_err(|_| "cannot be negative".to_owned()),
            Scalar::Str(s) => units::parse_bytes(s).map_err(|e| e.reason),
            Scalar::Float(_) | Scalar::Bool(_) => Err("not a size".to_owned()),
        };
        size.and_then(|b| i64::try_from(b).map_err(|_| "too large".to_owned()))
            .map(Self)
            .map_err(|reason| {
                invalid(
                    &format!("not a size like 256m or 1g; {reason}:"),
                    &value.text(),
                )
            })
    }
}

/// A size, or -1 for unlimited (`memswap_limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapBytes(pub i64);

impl FromScalar for SwapBytes {
    const EXPECTING: &'static str = "a size like 1g, or -1";
    fn from_scalar(value: Scalar) -> Result<Self, String> {
        match &value {
            Scalar::Int(-1) => Ok(Self(-1)),
            Scalar::Str(s) if s.trim() == "-1" => Ok(Self(-1)),
            _ => Bytes::from_scalar(value).map(|Bytes(b)| Self(b)),
        }
    }
}

/// A compose duration (`1m30s`, `2s`, `500ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl FromScalar for Dur {
    const EXPECTING: &'static str = "a duration like 1m30s";
    fn from_scalar(value: Scalar) -> Result<Self, String> {
        let text = value.text();
        units::parse_duration(&text).map(Self).map_err(|e| {
            invalid(
                &format!("not a duration like 1m30s or 500ms; {}:", e.reason),
                &text,
            )
        })
    }
}

/// `restart:` — `no`, `always`, `unless-stopped`, `on-failure[:N]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restart {
    pub policy: RestartPolicy,
    pub max_retries: Option<u32>,
}

impl FromScalar for Restart {
    const EXPECTING: &'static str = "a restart policy";
    fn from_scalar(value: Scalar) -> Result<Self, String> {
        let text = match &value {
            Scalar::Bool(false) => "no".to_owned(),
            other => other.text(),
        };
        let bad = || {
            invalid(
                "unknown restart policy (use no, always, unless-stopped or on-failure[:N]):",
                &text,
            )
        };
        if let Some(n) = text.strip_prefix("on-failure:") {
            let max = n.trim().parse().map_err(|_| bad())?;
            return Ok(Self {
                policy: RestartPolicy::OnFailure,
                max_retries: Some(max),
            });
        }
        match RestartPolicy::parse(text.trim()) {
            Some(policy) if !text.trim().is_empty() => Ok(Self {
                policy,
                max_retries: None,
            }),
            _ => Err(bad()),
        }
    }
}

/// `deploy.restart_policy.condition` — `none`, `on-failure`, `any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartCondition(pub RestartPolicy);

impl FromScalar for RestartCondition {
    const EXPECTING: &'static str = "a restart condition";
    fn from_scalar(value: Scalar) -> Result<Self, String> {
        match value.text().trim() {
            "none" => Ok(Self(RestartPolicy::No)),
            "on-failure" => Ok(Self(RestartPolicy::OnFailure)),
            "any" => Ok(Self(RestartPolicy::Always)),
            _ => Err(invalid(
                "unknown restart condition (use none, on-failure or any):",
                &value.text(),
            )),
        }
    }
}

/// Splits a command written as one string into words, as a shell would
/// for simple quoting: `'...'` literal, `"..."` with `\"` and `\\`, and `\`
/// escaping the next character outside quotes.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(invalid("unterminated ' quote in", text)),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(invalid("unterminated \" quote in", text)),
                        },
                        Some(c) => w.push(c),
                        None => return Err(invalid("unterminated \" quote in", text)),
                    }
                }
            }
            '\\' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.next());
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Scalar {
        Scalar::Str(text.to_owned())
    }

    #[test]
    fn cpus_from_numbers_and_text() {
        assert_eq!(Cpus::from_scalar(Scalar::Float(0.5)), Ok(Cpus(500_000_000)));
        assert_eq!(Cpus::from_scalar(Scalar::Int(2)), Ok(Cpus(2_000_000_000)));
        assert_eq!(Cpus::from_scalar(s("1.25")), Ok(Cpus(1_250_000_000)));
        assert_eq!(
            Cpus::from_scalar(s("lots")),
            Err("not a number of CPUs (like 0.5 or 2): \"lots\"".to_owned())
        );
        assert!(Cpus::from_scalar(Scalar::Float(-1.0)).is_err());
    }

    #[test]
    fn bytes_with_units_and_swap() {
        assert_eq!(Bytes::from_scalar(s("256m")), Ok(Bytes(268_435_456)));
        assert_eq!(Bytes::from_scalar(s("1g")), Ok(Bytes(1 << 30)));
        assert_eq!(Bytes::from_scalar(s("512k")), Ok(Bytes(512 * 1024)));
        assert_eq!(Bytes::from_scalar(Scalar::Int(1024)), Ok(Bytes(1024)));
        let e = Bytes::from_scalar(s("12 parsecs")).unwrap_err();
        assert!(e.ends_with("\"12 parsecs\""), "{e}");
        assert!(Bytes::from_scalar(Scalar::Int(-1)).is_err());
        assert_eq!(SwapBytes::from_scalar(Scalar::Int(-1)), Ok(SwapBytes(-1)));
        assert_eq!(SwapBytes::from_scalar(s("1g")), Ok(SwapBytes(1 << 30)));
    }

    #[test]
    fn counts_ints_and_durations() {
        assert_eq!(Count::from_scalar(Scalar::Int(3)), Ok(Count(3)));
        assert_eq!(Count::from_scalar(s("2")), Ok(Count(2)));
        assert_eq!(
            Count::from_scalar(Scalar::Int(-1)),
            Err("not a whole number, 0 or more: \"-1\"".to_owned())
        );
        assert_eq!(Int::from_scalar(Scalar::Int(-5)), Ok(Int(-5)));
        assert!(Int::from_scalar(Scalar::Float(1.5)).is_err());
        assert_eq!(
            Dur::from_scalar(s("1m30s")),
            Ok(Dur(Duration::from_secs(90)))
        );
        assert_eq!(
            Dur::from_scalar(s("500ms")),
            Ok(Dur(Duration::from_millis(500)))
        );
        assert!(
            Dur::from_scalar(Scalar::Int(10))
                .unwrap_err()
                .ends_with("\"10\"")
        );
    }

    #[test]
    fn restart_policies() {
        let r = |t: &str| Restart::from_scalar(s(t)).map(|r| (r.policy, r.max_retries));
        assert_eq!(r("no"), Ok((RestartPolicy::No, None)));
        assert_eq!(r("always"), Ok((RestartPolicy::Always, None)));
        assert_eq!(
            r("unless-stopped"),
            Ok((RestartPolicy::UnlessStopped, None))
        );
        assert_eq!(r("on-failure"), Ok((RestartPolicy::OnFailure, None)));
        assert_eq!(r("on-failure:5"), Ok((RestartPolicy::OnFailure, Some(5))));
        assert!(r("").is_err());
        assert!(r("on-failure:x").is_err());
        assert!(r("sometimes").unwrap_err().ends_with("\"sometimes\""));
        assert_eq!(
            Restart::from_scalar(Scalar::Bool(false)).map(|r| r.policy),
            Ok(RestartPolicy::No)
        );
        assert_eq!(
            RestartCondition::from_scalar(s("any")),
            Ok(RestartCondition(RestartPolicy::Always))
        );
        assert!(RestartCondition::from_scalar(s("never")).is_err());
    }

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(split_words("shop  api").unwrap(), ["shop", "api"]);
        assert_eq!(
            split_words(r#"sh -c 'echo "hi there"' x"y z"\ w"#).unwrap(),
            ["sh", "-c", "echo \"hi there\"", "xy z w"]
        );
        assert_eq!(split_words(r#""a\"b" '' c"#).unwrap(), ["a\"b", "", "c"]);
        assert!(
            split_words("echo 'open")
                .unwrap_err()
                .contains("unterminated")
        );
        assert!(split_words("").unwrap().is_empty());
    }
}
