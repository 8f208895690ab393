//! Patterns over series keys (pure): which series `watch --page` lets
//! raise alerts beyond the built-in set.
//!
//! A pattern is matched against the key as written everywhere else
//! (`ENV/SERVICE/[INSTANCE/]METRIC`, e.g.
//! `prod/app/127.0.0.1:9100/http_requests_total{code="500"}:rate`), as a
//! shell glob: `*` stands for any run of characters, `/` included (so
//! `*:p99` is every scraped histogram's p99), `?` for one character; every
//! other character stands for itself. The whole key must match.

use std::fmt;
use std::str::FromStr;

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("series pattern \"{0}\": empty")]
    Empty(String),
    #[error("series pattern \"{0}\": only wildcards and slashes, it would page on every series")]
    Everything(String),
}

/// A glob over series keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesPattern {
    text: String,
}

impl FromStr for SeriesPattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(PatternError::Empty(text.to_owned()));
        }
        if trimmed.chars().all(|c| matches!(c, '*' | '?' | '/')) {
            return Err(PatternError::Everything(text.to_owned()));
        }
        Ok(SeriesPattern {
            text: trimmed.to_owned(),
        })
    }
}

impl fmt::Display for SeriesPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl SeriesPattern {
    /// Whether the whole of `key` matches (asked once per new series).
    pub fn matches(&self, key: &str) -> bool {
        let (p, k): (Vec<char>, Vec<char>) = (self.text.chars().collect(), key.chars().collect());
        let (mut pi, mut ki) = (0, 0);
        // The last `*` seen, and where in the key it stood then: on a
        // mismatch the `*` takes one more character and matching resumes.
        let mut star: Option<(usize, usize)> = None;
        while ki < k.len() {
            match p.get(pi) {
                Some('*') => {
                    star = Some((pi, ki));
                    pi += 1;
                }
                Some(&c) if c == '?' || c == k[ki] => {
                    pi += 1;
                    ki += 1;
                }
                _ => match star {
                    Some((sp, sk)) => {
                        pi = sp + 1;
                        ki = sk + 1;
                        star = Some((sp, sk + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|&c| c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> SeriesPattern {
        text.parse().unwrap()
    }

    #[test]
    fn a_star_spans_any_run_of_characters_slashes_included() {
        let p = pattern("*:p99");
        assert!(p.matches("prod/app/127.0.0.1:9100/http_request_duration_seconds:p99"));
        assert!(p.matches(":p99"));
        assert!(!p.matches("prod/app/127.0.0.1:9100/http_request_duration_seconds:p50"));
        assert!(!p.matches("prod/app/x:p99/more"));
    }

    #[test]
    fn the_whole_key_must_match() {
        let p = pattern("prod/app/cpu_percent");
        assert!(p.matches("prod/app/cpu_percent"));
        assert!(!p.matches("prod/app/cpu_percent_total"));
        assert!(!p.matches("xprod/app/cpu_percent"));
        assert!(!p.matches("prod/app"));
    }

    #[test]
    fn stars_and_question_marks_backtrack() {
        let p = pattern("*/http_requests_total{code=\"5??\"*:rate");
        assert!(p.matches("prod/app/127.0.0.1:9100/http_requests_total{code=\"503\"}:rate"));
        assert!(p.matches(
            "shadow/app/127.0.0.1:9100/http_requests_total{code=\"500\",route=\"%2F\"}:rate"
        ));
        assert!(!p.matches("prod/app/127.0.0.1:9100/http_requests_total{code=\"404\"}:rate"));
        assert!(pattern("a*b*c").matches("a-b-b-c"));
        assert!(!pattern("a*b*c").matches("a-c-b"));
        assert!(pattern("**x").matches("yyx"));
    }

    #[test]
    fn empty_and_match_everything_patterns_are_refused_with_the_value() {
        let e = "  ".parse::<SeriesPattern>().unwrap_err();
        assert_eq!(e.to_string(), "series pattern \"  \": empty");
        for everything in ["**", "?*", "*?*", "*/*"] {
            let e = everything.parse::<SeriesPattern>().unwrap_err();
            assert!(e.to_string().contains(&format!("\"{everything}\"")), "{e}");
        }
    }

    #[test]
    fn shown_as_given_without_surrounding_blanks() {
        assert_eq!(pattern(" *:p99 ").to_string(), "*:p99");
    }
}
