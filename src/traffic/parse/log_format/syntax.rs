//! A log format as the user writes it, to the fields and literals it is
//! made of (pure): an nginx `log_format` (`$remote_addr - [$time_local]
//! "$request" $status ...`) or an Apache `LogFormat` (`%h %l %u %t \"%r\"
//! %>s %b %D`), as a bare string or pasted with its directive
//! (`log_format main '...' '...';`, `LogFormat "..." combined`).
//!
//! Owns the two syntaxes and what each variable or directive means; not
//! how a line is matched against the result (`log_format`).

use super::strftime::Strftime;
use super::{Field, Part, Stamp, TemplateError, Unit};

/// A format's parts, each with the column (1-based) it starts at.
pub type PlacedParts = Vec<(Part, usize)>;

/// Which syntax a format is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Nginx,
    Apache,
}

/// The format's text without a pasted directive around it: nginx's
/// `log_format NAME [escape=...] 'a' 'b';` gives `ab` (the quoted pieces
/// joined, as nginx joins them), Apache's `LogFormat "..." [NICK]` gives
/// the quoted string with `\"` undone. Anything else is the format itself.
pub fn unwrap(text: &str) -> String {
    let trimmed = text.trim();
    if let Some(rest) = trimmed.strip_prefix("log_format") {
        let rest = rest.trim_start();
        let after_name = rest.find(['\'', '"']).map_or("", |i| &rest[i..]);
        return join_quoted(after_name.trim_end().trim_end_matches(';'));
    }
    if let Some(rest) = trimmed.strip_prefix("LogFormat") {
        let rest = rest.trim_start();
        if let Some(body) = rest.strip_prefix('"') {
            return apache_string(body);
        }
    }
    trimmed.to_owned()
}

/// `'a' "b"` (quoted pieces separated by blanks) joined; unquoted text is
/// kept as it is.
fn join_quoted(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                    out.push(d);
                }
            }
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// An Apache config string after its opening quote, up to the closing one,
/// with `\"` and `\\` undone.
fn apache_string(body: &str) -> String {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('"' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '"' => break,
            c => out.push(c),
        }
    }
    out
}

/// The syntax of `format`: nginx when it names a `$variable`, Apache when
/// it has a `%` directive, else neither.
pub fn syntax_of(format: &str) -> Option<Syntax> {
    let b = format.as_bytes();
    let nginx = b
        .windows(2)
        .any(|w| w[0] == b'$' && (w[1].is_ascii_alphabetic() || w[1] == b'_' || w[1] == b'{'));
    if nginx {
        return Some(Syntax::Nginx);
    }
    b.windows(2)
        .any(|w| w[0] == b'%' && w[1] != b'%' && !w[1].is_ascii_whitespace())
        .then_some(Syntax::Apache)
}

/// The parts of an nginx format. Every variable is a field; those that do
/// not describe the request (`$remote_addr`, `$http_user_agent`, ...) are
/// read past. `\"` in a format pasted from a double-quoted string is a
/// quote.
pub fn nginx(format: &str) -> PlacedParts {
    let b = format.as_bytes();
    let mut parts = Vec::new();
    let mut literal = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let braced = b[i] == b'$' && b.get(i + 1) == Some(&b'{');
        let start = if braced { i + 2 } else { i + 1 };
        let len = b[start.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        if b[i] != b'$' || len == 0 || (braced && b.get(start + len) != Some(&b'}')) {
            if b[i] == b'\\' && b.get(i + 1) == Some(&b'"') {
                i += 1;
            }
            literal.push(b[i]);
            i += 1;
            continue;
        }
        let name = &format[start..start + len];
        flush(&mut literal, &mut parts, i);
        parts.push((Part::Field(nginx_field(name)), i + 1));
        i = start + len + usize::from(braced);
    }
    flush(&mut literal, &mut parts, b.len());
    parts
}

fn nginx_field(name: &str) -> Field {
    match name {
        "time_local" => Field::ClfTime(Stamp::End),
        "time_iso8601" => Field::IsoTime(Stamp::End),
        "msec" => Field::Epoch(Unit::Seconds, Stamp::End),
        "request" => Field::Request,
        "request_method" => Field::Method,
        "request_uri" | "uri" | "document_uri" => Field::Path,
        "args" | "query_string" | "is_args" => Field::Query,
        "status" => Field::Status,
        "body_bytes_sent" => Field::Bytes,
        "bytes_sent" => Field::BytesSent,
        "request_time" => Field::Duration(Unit::Seconds),
        "upstream_response_time" => Field::UpstreamDuration(Unit::Seconds),
        _ => Field::Other,
    }
}

/// The parts of an Apache format (mod_log_config's directives, with their
/// `<`/`>`, status-code and `{...}` modifiers).
/// The strftime times (`%{%d/%b/%Y %T}t`) come back beside the parts,
/// which name them by their index.
pub fn apache(format: &str) -> Result<(PlacedParts, Vec<Strftime>), TemplateError> {
    let b = format.as_bytes();
    let mut parts = Vec::new();
    let mut strftimes = Vec::new();
    let mut literal = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            (b'%', Some(b'%')) => {
                literal.push(b'%');
                i += 2;
            }
            (b'%', _) => {
                flush(&mut literal, &mut parts, i);
                let (field, next) = apache_directive(format, i, &mut strftimes)?;
                parts.push((Part::Field(field), i + 1));
                i = next;
            }
            (b'\\', Some(&c)) => {
                literal.push(match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    c => c,
                });
                i += 2;
            }
            (c, _) => {
                literal.push(c);
                i += 1;
            }
        }
    }
    flush(&mut literal, &mut parts, b.len());
    Ok((parts, strftimes))
}

/// The directive starting at the `%` at `at`, and the index after it.
fn apache_directive(
    format: &str,
    at: usize,
    strftimes: &mut Vec<Strftime>,
) -> Result<(Field, usize), TemplateError> {
    let b = format.as_bytes();
    let mut i = at + 1;
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b'<' | b'>' | b'!' | b',') || c.is_ascii_digit())
    {
        i += 1;
    }
    let mut argument = None;
    if b.get(i) == Some(&b'{') {
        let close = format[i..]
            .find('}')
            .ok_or_else(|| TemplateError::at(at, &format[at..], "has no closing '}'"))?;
        argument = Some(&format[i + 1..i + close]);
        i += close + 1;
    }
    if format[i..].starts_with("^ti") || format[i..].starts_with("^to") {
        return Ok((Field::Other, i + 3));
    }
    let Some(&letter) = b.get(i) else {
        return Err(TemplateError::at(
            at,
            &format[at..],
            "ends the format without a directive letter",
        ));
    };
    // The directive as written, up to its letter (which may be a
    // multi-byte character: the text then runs to the end).
    let text = format.get(at..=i).unwrap_or(&format[at..]);
    let field = match letter {
        b't' => apache_time(argument, text, at, strftimes)?,
        b'T' => match argument.unwrap_or("s") {
            "s" => Field::Duration(Unit::Seconds),
            "ms" => Field::Duration(Unit::Millis),
            "us" => Field::Duration(Unit::Micros),
            _ => return Err(TemplateError::at(at, text, "takes s, ms or us")),
        },
        b'D' => Field::Duration(Unit::Micros),
        b'r' => Field::Request,
        b'm' => Field::Method,
        b'U' => Field::Path,
        b'q' => Field::Query,
        b's' => Field::Status,
        b'b' | b'B' => Field::Bytes,
        b'O' => Field::BytesSent,
        b'a' | b'A' | b'C' | b'e' | b'f' | b'h' | b'H' | b'i' | b'I' | b'k' | b'l' | b'L'
        | b'n' | b'o' | b'p' | b'P' | b'R' | b'S' | b'u' | b'v' | b'V' | b'X' | b'x' => {
            Field::Other
        }
        _ => {
            return Err(TemplateError::at(
                at,
                text,
                "is not an Apache log directive",
            ));
        }
    };
    Ok((field, i + 1))
}

/// `%t` (`[27/Nov/2026:10:00:00 +0000]`), `%{[begin:|end:]sec|msec|usec}t`,
/// `%{msec_frac}t` / `%{usec_frac}t` (the second's fraction) or
/// `%{[begin:|end:]FORMAT}t` with a strftime FORMAT; Apache stamps the
/// start of the request unless told `end:`.
fn apache_time(
    argument: Option<&str>,
    text: &str,
    at: usize,
    strftimes: &mut Vec<Strftime>,
) -> Result<Field, TemplateError> {
    let Some(argument) = argument else {
        return Ok(Field::ClfTime(Stamp::Start));
    };
    let (stamp, unit) = match argument.split_once(':') {
        Some(("begin", unit)) => (Stamp::Start, unit),
        Some(("end", unit)) => (Stamp::End, unit),
        _ => (Stamp::Start, argument),
    };
    match unit {
        "sec" => Ok(Field::Epoch(Unit::Seconds, stamp)),
        "msec" => Ok(Field::Epoch(Unit::Millis, stamp)),
        "usec" => Ok(Field::Epoch(Unit::Micros, stamp)),
        "msec_frac" => Ok(Field::Fraction(Unit::Millis)),
        "usec_frac" => Ok(Field::Fraction(Unit::Micros)),
        _ if unit.contains('%') => {
            let strftime = Strftime::compile(unit).map_err(|e| {
                TemplateError::at(
                    at,
                    text,
                    &format!("holds {:?}, which {}", e.conversion, e.message),
                )
            })?;
            let index = u8::try_from(strftimes.len())
                .ok()
                .filter(|&i| usize::from(i) < MAX_STRFTIMES)
                .ok_or_else(|| {
                    TemplateError::at(
                        at,
                        text,
                        &format!(
                            "is one strftime time too many: a line's time is read from at most {MAX_STRFTIMES}"
                        ),
                    )
                })?;
            strftimes.push(strftime);
            Ok(Field::Strftime(index, stamp))
        }
        _ => Err(TemplateError::at(
            at,
            text,
            "is neither sec, msec, usec, msec_frac, usec_frac nor a strftime format",
        )),
    }
}

/// strftime times in one format, at most (a line holds their texts inline).
pub const MAX_STRFTIMES: usize = 4;

/// Ends the literal being gathered (if any) before the field at `at`.
fn flush(literal: &mut Vec<u8>, parts: &mut PlacedParts, at: usize) {
    if !literal.is_empty() {
        let len = literal.len();
        parts.push((Part::Literal(std::mem::take(literal)), at - len + 1));
    }
}
