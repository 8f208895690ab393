//! The Prometheus text exposition format (0.0.4) parser (pure).
//!
//! Owns: reading a `/metrics` page into samples (name, labels, value,
//! optional timestamp, the family and its TYPE), HELP and TYPE lines,
//! label escapes (`\\`, `\"`, `\n`), `+Inf`/`-Inf`/`NaN`, the UTF-8 quoted
//! name form `{"my.metric", a="b"}`, and reporting every line it cannot
//! read by line and column without giving up on the rest. [`histogram`]
//! groups classic histograms and computes quantiles and counter rates.
//! Not owned: fetching the page (`scrape`), mapping Prometheus names to
//! series (`run`).

pub mod histogram;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

pub use histogram::{Histogram, counter_rate, histogram_quantile, histograms};

/// The `Accept` header of a scrape: the text format, anything else last.
pub const ACCEPT: &str = "text/plain;version=0.0.4;q=1.0,*/*;q=0.1";

/// A family's TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

impl MetricType {
    fn parse(word: &str) -> Option<MetricType> {
        match word {
            "counter" => Some(MetricType::Counter),
            "gauge" => Some(MetricType::Gauge),
            "histogram" => Some(MetricType::Histogram),
            "summary" => Some(MetricType::Summary),
            "untyped" | "unknown" => Some(MetricType::Untyped),
            _ => None,
        }
    }
}

/// One sample line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromSample {
    /// As written, e.g. `http_request_duration_seconds_bucket`.
    pub name: String,
    /// In the order written; `le` and `quantile` included.
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
    /// The family, e.g. `http_request_duration_seconds`.
    pub family: String,
    pub kind: MetricType,
}

impl PromSample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A family declared by HELP or TYPE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Family {
    pub name: String,
    pub kind: MetricType,
    pub help: Option<String>,
}

/// What was wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineErrorKind {
    #[error("expected a metric name")]
    Name,
    #[error("expected a label name")]
    LabelName,
    #[error("expected '=' after label name")]
    Equals,
    #[error("expected '\"' to open the label value")]
    Quote,
    #[error("label value not closed")]
    Unterminated,
    #[error("expected ',' or '}}' after a label")]
    LabelSeparator,
    #[error("missing value")]
    MissingValue,
    #[error("value {0:?} is not a number")]
    Value(String),
    #[error("timestamp {0:?} is not an integer of milliseconds")]
    Timestamp(String),
    #[error("unexpected text {0:?} after the timestamp")]
    Trailing(String),
    #[error("unknown metric type {0:?}")]
    Type(String),
    #[error("second TYPE line for {0:?}")]
    DuplicateType(String),
}

/// A line that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}: {text:?}")]
pub struct LineError {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub kind: LineErrorKind,
    pub text: String,
}

/// A parsed page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exposition {
    pub samples: Vec<PromSample>,
    /// In order of first mention.
    pub families: Vec<Family>,
    #[serde(skip)]
    pub errors: Vec<LineError>,
}

impl Exposition {
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// Samples of one family.
    pub fn of_family<'a>(&'a self, family: &'a str) -> impl Iterator<Item = &'a PromSample> {
        self.samples.iter().filter(move |s| s.family == family)
    }
}

/// Parses a whole page; bad lines are reported in `errors` and skipped.
pub fn parse(text: &str) -> Exposition {
    let mut page = Page::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() {
            continue;
        }
        let result = if let Some(comment) = trimmed.strip_prefix('#') {
            page.comment_line(comment)
                .map_err(|(at, kind)| (line.len() - at, kind))
        } else {
            sample_line(line).map(|s| page.push_sample(s))
        };
        if let Err((at, kind)) = result {
            page.out.errors.push(LineError {
                line: i + 1,
                column: line.get(..at).map_or(0, |p| p.chars().count()) + 1,
                kind,
                text: line.to_owned(),
            });
        }
    }
    page.out
}

/// A page being parsed, with its families indexed by name (a page has
/// hundreds of families and thousands of samples).
#[derive(Default)]
struct Page {
    out: Exposition,
    /// Index in `out.families`.
    by_name: HashMap<String, usize>,
    /// Families with a TYPE line.
    typed: HashSet<String>,
}

impl Page {
    fn family(&self, name: &str) -> Option<&Family> {
        self.by_name.get(name).map(|&i| &self.out.families[i])
    }

    fn family_mut(&mut self, name: &str) -> &mut Family {
        let families = &mut self.out.families;
        let i = *self.by_name.entry(name.to_owned()).or_insert_with(|| {
            families.push(Family {
                name: name.to_owned(),
                kind: MetricType::Untyped,
                help: None,
            });
            families.len() - 1
        });
        &mut families[i]
    }

    /// HELP and TYPE; any other comment is ignored. Errors carry the length
    /// of the line's remainder from the offending word on (the caller turns
    /// it into a column).
    fn comment_line(&mut self, comment: &str) -> Result<(), Failure> {
        let mut words = comment
            .trim_start_matches([' ', '\t'])
            .splitn(3, [' ', '\t']);
        let (Some(keyword), Some(name)) = (words.next(), words.next()) else {
            return Ok(());
        };
        let rest = words.next().unwrap_or("").trim_start_matches([' ', '\t']);
        match keyword {
            "HELP" => self.family_mut(name).help = Some(unescape_help(rest)),
            "TYPE" => {
                let word = rest.trim_end();
                let Some(kind) = MetricType::parse(word) else {
                    return Err((rest.len(), LineErrorKind::Type(word.to_owned())));
                };
                if !self.typed.insert(name.to_owned()) {
                    let from_name = rest.len() + name.len() + 1;
                    return Err((from_name, LineErrorKind::DuplicateType(name.to_owned())));
                }
                self.family_mut(name).kind = kind;
            }
            _ => {}
        }
        Ok(())
    }

    fn push_sample(&mut self, parsed: Parsed) {
        let (family, kind) = self.resolve_family(&parsed.name);
        self.out.samples.push(PromSample {
            name: parsed.name,
            labels: parsed.labels,
            value: parsed.value,
            timestamp_ms: parsed.timestamp_ms,
            family,
            kind,
        });
    }

    /// The family of a sample name: itself when declared, else the declared
    /// histogram or summary it is a `_bucket`/`_sum`/`_count` of, or the
    /// counter it is a `_total`/`_created` of; else itself, untyped.
    fn resolve_family(&self, name: &str) -> (String, MetricType) {
        if let Some(f) = self.family(name) {
            return (f.name.clone(), f.kind);
        }
        for suffix in ["_bucket", "_sum", "_count", "_total", "_created"] {
            let Some(stem) = name.strip_suffix(suffix) else {
                continue;
            };
            if let Some(f) = self.family(stem) {
                let fits = match suffix {
                    "_bucket" => f.kind == MetricType::Histogram,
                    "_sum" | "_count" => {
                        matches!(f.kind, MetricType::Histogram | MetricType::Summary)
                    }
                    _ => f.kind == MetricType::Counter,
                };
                if fits {
                    return (f.name.clone(), f.kind);
                }
            }
        }
        (name.to_owned(), MetricType::Untyped)
    }
}

fn unescape_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some('\\')) => {
                out.push('\\');
                chars.next();
            }
            ('\\', Some('n')) => {
                out.push('\n');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

struct Parsed {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
    timestamp_ms: Option<i64>,
}

type Failure = (usize, LineErrorKind);

/// A byte cursor over one line.
struct Cursor<'a> {
    line: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.at).copied()
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn fail<T>(&self, kind: LineErrorKind) -> Result<T, Failure> {
        Err((self.at, kind))
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*` (no colon in label names).
    fn identifier(&mut self, colon: bool, kind: LineErrorKind) -> Result<String, Failure> {
        let start = self.at;
        while let Some(b) = self.peek() {
            let ok = b.is_ascii_alphabetic()
                || b == b'_'
                || (colon && b == b':')
                || (self.at > start && b.is_ascii_digit());
            if !ok {
                break;
            }
            self.at += 1;
        }
        if self.at == start {
            return self.fail(kind);
        }
        Ok(self.line[start..self.at].to_owned())
    }

    /// A double-quoted string with `\\`, `\"` and `\n` escapes; the cursor
    /// is on the opening quote.
    fn quoted(&mut self) -> Result<String, Failure> {
        if self.peek() != Some(b'"') {
            return self.fail(LineErrorKind::Quote);
        }
        let open = self.at;
        self.at += 1;
        let mut value = String::new();
        let mut chars = self.line[self.at..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Ok(value);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => value.push(other),
                    None => break,
                },
                c => value.push(c),
            }
        }
        Err((open, LineErrorKind::Unterminated))
    }

    /// A whitespace-delimited token (possibly empty).
    fn token(&mut self) -> &str {
        let start = self.at;
        while matches!(self.peek(), Some(b) if b != b' ' && b != b'\t') {
            self.at += 1;
        }
        &self.line[start..self.at]
    }
}

/// Label name and value pairs in exposition order.
type LabelPairs = Vec<(String, String)>;

/// `{a="x", b="y",}`; the cursor is on `{`. A leading bare quoted string
/// is the metric name (UTF-8 names) and is returned separately.
fn labels(cur: &mut Cursor<'_>) -> Result<(Option<String>, LabelPairs), Failure> {
    cur.at += 1;
    let mut name = None;
    let mut pairs = Vec::new();
    loop {
        cur.skip_blanks();
        match cur.peek() {
            Some(b'}') => {
                cur.at += 1;
                return Ok((name, pairs));
            }
            None => return cur.fail(LineErrorKind::LabelSeparator),
            _ => {}
        }
        let label = if cur.peek() == Some(b'"') {
            cur.quoted()?
        } else {
            cur.identifier(false, LineErrorKind::LabelName)?
        };
        cur.skip_blanks();
        if name.is_none() && pairs.is_empty() && matches!(cur.peek(), Some(b',' | b'}')) {
            name = Some(label);
        } else {
            if cur.peek() != Some(b'=') {
                return cur.fail(LineErrorKind::Equals);
            }
            cur.at += 1;
            cur.skip_blanks();
            let value = cur.quoted()?;
            pairs.push((label, value));
            cur.skip_blanks();
        }
        match cur.peek() {
            Some(b',') => cur.at += 1,
            Some(b'}') => {}
            _ => return cur.fail(LineErrorKind::LabelSeparator),
        }
    }
}

fn sample_line(line: &str) -> Result<Parsed, Failure> {
    let mut cur = Cursor { line, at: 0 };
    cur.skip_blanks();
    let (name, labels) = if cur.peek() == Some(b'{') {
        match labels(&mut cur)? {
            (Some(name), labels) => (name, labels),
            (None, _) => return Err((0, LineErrorKind::Name)),
        }
    } else {
        let name = cur.identifier(true, LineErrorKind::Name)?;
        cur.skip_blanks();
        let labels = if cur.peek() == Some(b'{') {
            labels(&mut cur)?.1
        } else {
            Vec::new()
        };
        (name, labels)
    };
    cur.skip_blanks();
    let at = cur.at;
    let token = cur.token();
    if token.is_empty() {
        return Err((at, LineErrorKind::MissingValue));
    }
    let value: f64 = token
        .parse()
        .map_err(|_| (at, LineErrorKind::Value(token.to_owned())))?;
    cur.skip_blanks();
    let at = cur.at;
    let token = cur.token();
    let timestamp_ms = if token.is_empty() {
        None
    } else {
        Some(
            token
                .parse::<i64>()
                .map_err(|_| (at, LineErrorKind::Timestamp(token.to_owned())))?,
        )
    };
    cur.skip_blanks();
    if cur.at < line.len() {
        return Err((cur.at, LineErrorKind::Trailing(line[cur.at..].to_owned())));
    }
    Ok(Parsed {
        name,
        labels,
        value,
        timestamp_ms,
    })
}

#[cfg(test)]
mod tests;
