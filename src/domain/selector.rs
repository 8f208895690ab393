//! Label selectors: `app=shop,tier=web` (every term must match) and `key`
//! alone (the label must exist), as `docker ps --filter label=` understands.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One `key=value` or `key` term.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Term {
    pub key: String,
    pub value: Option<String>,
}

/// A conjunction of label terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Selector {
    pub terms: Vec<Term>,
}

/// Why a selector string was rejected; `column` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector {input:?} at column {column}: {reason}")]
pub struct SelectorError {
    pub input: String,
    pub column: usize,
    pub reason: &'static str,
}

impl Selector {
    /// A selector for one `key=value` pair.
    pub fn label(key: &str, value: &str) -> Self {
        Self {
            terms: vec![Term {
                key: key.to_owned(),
                value: Some(value.to_owned()),
            }],
        }
    }

    /// Whether a label set satisfies every term.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.terms
            .iter()
            .all(|t| match (&t.value, labels.get(&t.key)) {
                (Some(want), Some(have)) => want == have,
                (None, Some(_)) => true,
                (_, None) => false,
            })
    }

    /// The terms as the engine's `label` filter values (`k=v` or `k`).
    pub fn engine_filters(&self) -> Vec<String> {
        self.terms.iter().map(Term::to_string).collect()
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}={v}", self.key),
            None => f.write_str(&self.key),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.terms.iter().map(Term::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl From<Selector> for String {
    fn from(s: Selector) -> Self {
        s.to_string()
    }
}

impl TryFrom<String> for Selector {
    type Error = SelectorError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

fn valid_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |column: usize, reason: &'static str| SelectorError {
            input: input.to_owned(),
            column,
            reason,
        };
        if input.trim().is_empty() {
            return Err(err(1, "the selector is empty"));
        }
        let mut terms = Vec::new();
        let mut offset = 0;
        for part in input.split(',') {
            let start = offset + 1;
            offset += part.len() + 1;
            if part.is_empty() {
                return Err(err(start, "empty term (two commas, or a trailing comma)"));
            }
            let (key, value) = match part.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (part, None),
            };
            if key.is_empty() {
                return Err(err(start, "the label key is empty"));
            }
            if let Some(pos) = key.find(|c| !valid_key_char(c)) {
                return Err(err(
                    start + pos,
                    "label keys may hold letters, digits, '.', '-', '_' and '/'",
                ));
            }
            terms.push(Term {
                key: key.to_owned(),
                value: value.map(str::to_owned),
            });
        }
        Ok(Self { terms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_pairs_and_bare_keys() {
        let s: Selector = "app=shop,tier=web,canary".parse().unwrap();
        assert_eq!(s.terms.len(), 3);
        assert_eq!(s.terms[2].value, None);
        assert_eq!(s.to_string(), "app=shop,tier=web,canary");
    }

    #[test]
    fn matches_requires_every_term() {
        let s: Selector = "app=shop,tier=web".parse().unwrap();
        assert!(s.matches(&labels(&[("app", "shop"), ("tier", "web"), ("x", "y")])));
        assert!(!s.matches(&labels(&[("app", "shop"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "shop")])));
        let exists: Selector = "canary".parse().unwrap();
        assert!(exists.matches(&labels(&[("canary", "")])));
    }

    #[test]
    fn errors_point_at_the_column() {
        let e = "app=shop,,tier=web".parse::<Selector>().unwrap_err();
        assert_eq!(e.column, 10);
        let e = "app=shop,=web".parse::<Selector>().unwrap_err();
        assert_eq!(e.column, 10);
        let e = "app=shop,ti er=web".parse::<Selector>().unwrap_err();
        assert_eq!(e.column, 12);
        assert!(e.to_string().contains("\"app=shop,ti er=web\""));
        assert!("".parse::<Selector>().is_err());
    }

    #[test]
    fn values_may_hold_equals_signs() {
        let s: Selector = "k=a=b".parse().unwrap();
        assert_eq!(s.terms[0].value.as_deref(), Some("a=b"));
    }
}
