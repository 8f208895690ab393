//! Access logs in a format the user names (`--format` / `--log-format`):
//! an nginx `log_format` or an Apache `LogFormat`, so a custom format is
//! read as written instead of guessed at. This is also how Apache's `%D`
//! (microseconds) and `%T` (seconds) are read as durations: a bare integer
//! in a guessed line could be either, or Traefik's request count.
//!
//! A format compiles ([`LogTemplate::compile`]) to literals and fields;
//! a line matches when each literal is where the format puts it, each
//! field's text running to the next literal (an occurrence escaped with a
//! backslash does not end it). Fields that follow each other with nothing
//! between cannot be told apart and are refused, except the path-and-query
//! idioms (`$uri$is_args$args`, `%U%q`), which are read as one target.
//!
//! What the fields give: the time (`$time_local`, `$time_iso8601`,
//! `$msec`; `%t`, `%{sec|msec|usec}t`, a strftime `%{%d/%b/%Y %T}t`, whose
//! parts may be spread over several fields with `%{msec_frac}t` or
//! `%{usec_frac}t` for the fraction, see `strftime`), the request (`$request` or
//! `$request_method` with `$request_uri`; `%r` or `%m` with `%U%q`), the
//! status (required), the body size and the duration (`$request_time`, else
//! `$upstream_response_time`, summed over the upstreams tried; `%D`, `%T`,
//! `%{ms}T`). nginx stamps a line when the request ends, Apache when it
//! starts (unless `%{end:...}t`). A format without a time reads container
//! logs only, each line at the engine's stamp. Owns no I/O.

mod strftime;
mod syntax;
mod values;

use std::fmt;

use super::Reason;
use super::clf::{bytes_word, decimal, method_word, request, split_request, status_word};
use crate::domain::traffic::Record;
use strftime::{Gives, Reading, Strftime};
use syntax::MAX_STRFTIMES;
pub use syntax::Syntax;
use values::{LineTime, duration, line_time, start_ms, with_fraction};

/// Whether a time field stamps the start or the end of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    Start,
    End,
}

/// The unit of a number in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
    Micros,
}

impl Unit {
    fn ms(self, v: f64) -> f64 {
        match self {
            Unit::Seconds => v * 1000.0,
            Unit::Millis => v,
            Unit::Micros => v / 1000.0,
        }
    }
}

/// What a field's text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// `27/Nov/2026:10:00:00 +0000`, bracketed (Apache's `%t`) or not.
    ClfTime(Stamp),
    /// RFC 3339.
    IsoTime(Stamp),
    /// A Unix time, possibly fractional.
    Epoch(Unit, Stamp),
    /// A strftime time: the template's strftime by index.
    Strftime(u8, Stamp),
    /// The fraction of the second (`%{msec_frac}t`: 3 digits of ms).
    Fraction(Unit),
    /// `METHOD target PROTOCOL`.
    Request,
    Method,
    /// The path, possibly with its query.
    Path,
    /// nginx's `$uri$is_args$args`: its `$args` writes `-` when there is
    /// no query (`/missing-`), which is not part of the path.
    PathArgs,
    /// A query, with or without its `?` (empty or `-`: none).
    Query,
    Status,
    /// Body bytes (`-`: none).
    Bytes,
    /// Bytes including headers, when the format has no body size.
    BytesSent,
    Duration(Unit),
    /// Comma- or colon-separated upstream times, when there is no request time.
    UpstreamDuration(Unit),
    /// Anything else: read past.
    Other,
}

/// A piece of a compiled format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Field(Field),
}

/// A format that does not compile: where, what, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("log format, column {column}: {text:?} {message}")]
pub struct TemplateError {
    /// 1-based, in the format (after a pasted directive is taken off).
    pub column: usize,
    pub text: String,
    pub message: String,
}

impl TemplateError {
    fn at(index: usize, text: &str, message: &str) -> Self {
        Self {
            column: index + 1,
            text: text.chars().take(24).collect(),
            message: message.to_owned(),
        }
    }
}

/// A compiled log format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTemplate {
    /// The format as given (for messages).
    source: String,
    syntax: Syntax,
    parts: Vec<Part>,
    /// The strftime times the parts name by index.
    strftimes: Vec<Strftime>,
    /// What the first strftime time with a time of day stamps.
    strftime_stamp: Stamp,
}

impl fmt::Display for LogTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl LogTemplate {
    /// Compiles an nginx or Apache format (told apart by `$variable` vs
    /// `%directive`), bare or pasted with its `log_format` / `LogFormat`
    /// directive.
    pub fn compile(text: &str) -> Result<Self, TemplateError> {
        let format = syntax::unwrap(text);
        let syntax = syntax::syntax_of(&format).ok_or_else(|| {
            TemplateError::at(
                0,
                &format,
                "has no $variable (nginx) or %directive (Apache)",
            )
        })?;
        let (parts, strftimes) = match syntax {
            Syntax::Nginx => (syntax::nginx(&format), Vec::new()),
            Syntax::Apache => syntax::apache(&format)?,
        };
        let parts = merge_targets(parts, syntax, &format)?;
        check_complete(&parts, syntax, &format)?;
        let strftime_stamp = strftime_stamp(&parts, &strftimes, &format)?;
        Ok(Self {
            source: format,
            syntax,
            parts,
            strftimes,
            strftime_stamp,
        })
    }

    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// One line (no newline) as a record; `stamp_ms` is the engine's time
    /// of the line, used when the format has no time of its own.
    pub fn parse(
        &self,
        line: &[u8],
        line_no: u64,
        stamp_ms: Option<i64>,
    ) -> Result<Record, Reason> {
        let fields = self.split(line)?;
        let (method, target) = match (fields.request, fields.method, fields.path) {
            (Some(r), _, _) => split_request(r)?,
            (None, Some(m), Some(p)) => (method_word(m)?, p),
            _ => return Err(Reason::NoRequestLine),
        };
        let status = status_word(fields.status.ok_or(Reason::NoStatus)?)?;
        let bytes = match fields.bytes.or(fields.bytes_sent) {
            Some(b) => bytes_word(b)?,
            None => 0,
        };
        let duration_ms = match (fields.duration, fields.upstream) {
            (Some((text, unit)), _) | (None, Some((text, unit))) => duration(text, unit)?,
            (None, None) => None,
        };
        let time = match fields.time {
            Some((text, field)) => Some(line_time(text, field)?),
            None => self.strftime_time(&fields)?,
        };
        let time = time
            .map(|t| with_fraction(t, fields.fraction))
            .transpose()?;
        let start_ms = start_ms(time, stamp_ms, duration_ms)?;
        let mut path = target.to_vec();
        if let Some(q) = fields
            .query
            .filter(|q| !q.is_empty() && *q != b"-" && *q != b"?")
        {
            if q[0] != b'?' {
                path.push(b'?');
            }
            path.extend_from_slice(q);
        }
        Ok(Record {
            bytes,
            duration_ms,
            ..request(line_no, start_ms, (method, &path), status)
        })
    }

    /// The time the line's strftime fields add up to, if the format has any.
    fn strftime_time(&self, fields: &Fields<'_>) -> Result<Option<LineTime>, Reason> {
        if self.strftimes.is_empty() {
            return Ok(None);
        }
        let mut reading = Reading::default();
        for (strftime, text) in self.strftimes.iter().zip(fields.strftime) {
            let text = text.ok_or(Reason::NoTime)?;
            reading = reading.and(strftime.read(text).ok_or(Reason::BadTime)?);
        }
        let ms = reading.unix_ms().ok_or(Reason::BadTime)?;
        Ok(Some(LineTime {
            ms,
            stamp: self.strftime_stamp,
            whole_seconds: true,
        }))
    }

    /// Each field's text, by what it is.
    fn split<'a>(&self, line: &'a [u8]) -> Result<Fields<'a>, Reason> {
        let mut fields = Fields::default();
        let mut budget = SPLIT_BUDGET;
        self.split_from(line, 0, 0, &mut fields, &mut budget)?;
        Ok(fields)
    }

    /// Matches `parts[k..]` against `line[i..]`. A field ends at an
    /// occurrence of the literal after it; when what follows does not fit
    /// (a decoded path with a space before ` $status`), the next occurrence
    /// is tried, at most `budget` times in all. A failure says what did not
    /// fit last (a field's shape, else "not in the log format").
    fn split_from<'a>(
        &self,
        line: &'a [u8],
        k: usize,
        i: usize,
        fields: &mut Fields<'a>,
        budget: &mut u32,
    ) -> Result<(), Reason> {
        let Some(part) = self.parts.get(k) else {
            return if i == line.len() {
                Ok(())
            } else {
                Err(Reason::NotInFormat)
            };
        };
        let field = match part {
            Part::Literal(l) if line[i..].starts_with(l) => {
                return self.split_from(line, k + 1, i + l.len(), fields, budget);
            }
            Part::Literal(_) => return Err(Reason::NotInFormat),
            Part::Field(field) => *field,
        };
        // The last field runs to the end: there is no other end to try, so
        // its value's own check says what is wrong with it.
        let Some(Part::Literal(literal)) = self.parts.get(k + 1) else {
            fields.set(field, &line[i..]);
            return Ok(());
        };
        let mut failure = Reason::NotInFormat;
        let mut from = i;
        while let Some(end) = field_end(line, i, from, field, literal) {
            if *budget == 0 {
                return Err(Reason::NotInFormat);
            }
            *budget -= 1;
            if fits(&self.strftimes, field, &line[i..end]) {
                fields.set(field, &line[i..end]);
                match self.split_from(line, k + 1, end, fields, budget) {
                    Ok(()) => return Ok(()),
                    Err(reason) => failure = reason,
                }
            } else {
                failure = misfit(field);
            }
            from = end + 1;
        }
        Err(failure)
    }
}

/// The reason a line is rejected for when `field` fits no end.
fn misfit(field: Field) -> Reason {
    match field {
        Field::ClfTime(_)
        | Field::IsoTime(_)
        | Field::Epoch(..)
        | Field::Strftime(..)
        | Field::Fraction(_) => Reason::BadTime,
        Field::Status => Reason::BadStatus,
        Field::Bytes | Field::BytesSent => Reason::BadBytes,
        Field::Duration(_) | Field::UpstreamDuration(_) => Reason::BadDuration,
        Field::Method => Reason::BadMethod,
        _ => Reason::NotInFormat,
    }
}

/// Ends of fields tried per line before it is called not in the format.
const SPLIT_BUDGET: u32 = 64;

/// Whether `text` can be a `field`, by the same checks its value gets
/// when read (a time by its shape only: it is read once, later): what lets
/// the matcher try a later end.
fn fits(strftimes: &[Strftime], field: Field, text: &[u8]) -> bool {
    match field {
        Field::Status => status_word(text).is_ok(),
        Field::Bytes | Field::BytesSent => bytes_word(text).is_ok(),
        Field::Duration(unit) | Field::UpstreamDuration(unit) => duration(text, unit).is_ok(),
        Field::Epoch(..) | Field::Fraction(_) => decimal(text).is_some(),
        // Its own conversions say where it ends (`%d/%b/%Y %T` holds a space).
        Field::Strftime(index, _) => strftimes[usize::from(index)].read(text).is_some(),
        // `27/Nov/2026:10:00:00 +0000` holds a space: an end before its
        // zone is no time.
        Field::ClfTime(_) => {
            let t = unbracketed(text);
            t.len() == 26 && t[20] == b' ' && matches!(t[21], b'+' | b'-')
        }
        Field::Method => method_word(text).is_ok(),
        _ => true,
    }
}

/// A CLF time without the brackets Apache's `%t` writes around it.
fn unbracketed(text: &[u8]) -> &[u8] {
    text.strip_prefix(b"[")
        .and_then(|t| t.strip_suffix(b"]"))
        .unwrap_or(text)
}

/// The texts of a line's fields.
#[derive(Debug, Default)]
struct Fields<'a> {
    time: Option<(&'a [u8], Field)>,
    /// The strftime fields' texts, by the template's index.
    strftime: [Option<&'a [u8]>; MAX_STRFTIMES],
    fraction: Option<(&'a [u8], Unit)>,
    request: Option<&'a [u8]>,
    method: Option<&'a [u8]>,
    path: Option<&'a [u8]>,
    query: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    bytes: Option<&'a [u8]>,
    bytes_sent: Option<&'a [u8]>,
    duration: Option<(&'a [u8], Unit)>,
    upstream: Option<(&'a [u8], Unit)>,
}

impl<'a> Fields<'a> {
    fn set(&mut self, field: Field, text: &'a [u8]) {
        match field {
            Field::ClfTime(_) | Field::IsoTime(_) | Field::Epoch(..) => {
                self.time = Some((text, field));
            }
            Field::Strftime(index, _) => self.strftime[usize::from(index)] = Some(text),
            Field::Fraction(unit) => self.fraction = Some((text, unit)),
            Field::Request => self.request = Some(text),
            Field::Method => self.method = Some(text),
            Field::Path => self.path = Some(text),
            Field::PathArgs => {
                let no_query = !text.contains(&b'?');
                self.path = Some(match text.strip_suffix(b"-") {
                    Some(path) if no_query => path,
                    _ => text,
                });
            }
            Field::Query => self.query = Some(text),
            Field::Status => self.status = Some(text),
            Field::Bytes => self.bytes = Some(text),
            Field::BytesSent => self.bytes_sent = Some(text),
            Field::Duration(u) => self.duration = Some((text, u)),
            Field::UpstreamDuration(u) => self.upstream = Some((text, u)),
            Field::Other => {}
        }
    }
}

/// The end of the field starting at `start`, at or after `from`: the next
/// unescaped `literal` (an odd run of backslashes before it escapes it),
/// or, for a bracketed time (Apache's `%t`), after its `]`.
fn field_end(
    line: &[u8],
    start: usize,
    from: usize,
    field: Field,
    literal: &[u8],
) -> Option<usize> {
    if matches!(field, Field::ClfTime(_)) && line.get(start) == Some(&b'[') {
        let close = super::clf::memchr(b']', line, start)? + 1;
        return (close >= from).then_some(close);
    }
    let mut i = from;
    let find = |hay: &[u8]| match literal {
        [byte] => memchr::memchr(*byte, hay),
        _ => memchr::memmem::find(hay, literal),
    };
    while let Some(p) = find(line.get(i..)?) {
        let at = i + p;
        let backslashes = line[start..at]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Fields that follow each other with nothing between: the path-and-query
/// idioms become one target field; any other pair is refused.
fn merge_targets(
    parts: syntax::PlacedParts,
    syntax: Syntax,
    format: &str,
) -> Result<Vec<Part>, TemplateError> {
    let mut out: Vec<Part> = Vec::with_capacity(parts.len());
    let mut previous_column = 0;
    for (part, column) in parts {
        if let (Part::Field(next), Some(Part::Field(last))) = (&part, out.last_mut()) {
            let target = |f: &Field| matches!(f, Field::Path | Field::PathArgs | Field::Query);
            if target(last) && target(next) {
                let nginx_args = syntax == Syntax::Nginx && *next == Field::Query;
                *last = if nginx_args {
                    Field::PathArgs
                } else {
                    Field::Path
                };
                continue;
            }
            let text = &format[previous_column - 1..];
            return Err(TemplateError::at(
                previous_column - 1,
                text,
                "is followed by another field with nothing between them: a line cannot tell where one ends",
            ));
        }
        previous_column = column;
        out.push(part);
    }
    Ok(out)
}

/// What a format's strftime times stamp (the first with a time of day);
/// refused when, together, they give no date or no time of day.
fn strftime_stamp(
    parts: &[Part],
    strftimes: &[Strftime],
    format: &str,
) -> Result<Stamp, TemplateError> {
    let mut gives = Gives::default();
    let mut stamp = None;
    for part in parts {
        if let Part::Field(Field::Strftime(index, field_stamp)) = part {
            let these = strftimes[usize::from(*index)].gives();
            if these.time_of_day && stamp.is_none() {
                stamp = Some(*field_stamp);
            }
            gives = gives.and(these);
        }
    }
    match stamp {
        _ if strftimes.is_empty() => Ok(Stamp::Start),
        Some(stamp) if gives.date => Ok(stamp),
        _ => Err(TemplateError::at(
            0,
            format,
            "has a strftime time (%{...}t) without a full date (%Y or %y, %m or %b, %d) and a time of day (%H or %I): a line would not say when it was",
        )),
    }
}

/// A format must give the request and its status.
fn check_complete(parts: &[Part], syntax: Syntax, format: &str) -> Result<(), TemplateError> {
    let has = |wanted: Field| parts.contains(&Part::Field(wanted));
    let (request, method, path, status) = match syntax {
        Syntax::Nginx => ("$request", "$request_method", "$request_uri", "$status"),
        Syntax::Apache => ("%r", "%m", "%U", "%>s"),
    };
    let has_path = has(Field::Path) || has(Field::PathArgs);
    if !(has(Field::Request) || has(Field::Method) && has_path) {
        return Err(TemplateError::at(
            0,
            format,
            &format!(
                "has no {request} (or {method} with {path}): a line would not say which request it was"
            ),
        ));
    }
    if !has(Field::Status) {
        return Err(TemplateError::at(
            0,
            format,
            &format!("has no {status}: a line would not say how the request ended"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
