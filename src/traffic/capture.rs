//! Capture I/O (the shell around `parse`): a log file, stdin (`-`), or the
//! log stream of a production container read through the platform. Lines
//! are streamed through the pure parsers, so a large log never sits in
//! memory whole (a HAR file, one JSON document, does). Each function comes
//! in two forms: one collecting the records, and a `_with` form handing
//! each record to a sink (profile extraction without a record vector).
//!
//! A container's two streams are read, as `docker logs` shows them: nginx
//! and the demo gateway write the access log to stdout and their error
//! log to stderr, Caddy its JSON access log to stderr. Stdout is counted
//! line by line (a line that is not a request is a rejected line); a
//! stderr line counts only when it is a request (the error log's lines
//! are not the access log's rejects).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures::StreamExt;

use crate::domain::traffic::{Completeness, PROFILE_SCHEMA, Record, TrafficProfile};
use crate::platform::{LogOptions, LogStream, Platform, PlatformError};
use crate::traffic::parse::{self, Format, LineParser, ParseError};
use crate::traffic::profile::Extractor;

/// Read buffer for files and stdin.
const BUFFER: usize = 1 << 20;

/// Why a capture failed. The cause is the error's `source` (anyhow's `{:#}`
/// prints the chain), so `exit_code` can find a `PlatformError` in it.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot open {}", .path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("reading {source_name}")]
    Read {
        source_name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}")]
    Parse {
        source_name: String,
        #[source]
        source: ParseError,
    },
    #[error("{}: schema {found:?} is not {PROFILE_SCHEMA}", .path.display())]
    Schema { path: PathBuf, found: String },
    #[error("reading the logs of container {container:?}")]
    Platform {
        container: String,
        #[source]
        source: PlatformError,
    },
}

/// What was read: the completeness and the format used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub completeness: Completeness,
    pub format: Format,
}

/// Reads a file, or stdin for `-`, into records.
pub fn read_source(
    source: &str,
    format: Format,
) -> Result<(Vec<Record>, Completeness), CaptureError> {
    let mut records = Vec::new();
    let captured = read_source_with(source, format, |r| records.push(r))?;
    Ok((records, captured.completeness))
}

/// [`read_source`] handing each record to `sink`.
pub fn read_source_with(
    source: &str,
    format: Format,
    sink: impl FnMut(Record),
) -> Result<Captured, CaptureError> {
    if source == "-" {
        let stdin = std::io::stdin().lock();
        return read_stream(
            BufReader::with_capacity(BUFFER, stdin),
            "stdin",
            format,
            sink,
        );
    }
    let file = std::fs::File::open(source).map_err(|e| CaptureError::Open {
        path: PathBuf::from(source),
        source: e,
    })?;
    read_stream(BufReader::with_capacity(BUFFER, file), source, format, sink)
}

/// A profile file (`understudy.profile/v1` JSON), or the profile of a log or
/// HAR file read in `format`: what `traffic replay`, `watch --replay` and the
/// console's Load tab replay.
pub fn load_profile(path: &Path, format: Format) -> Result<TrafficProfile, CaptureError> {
    let bytes = std::fs::read(path).map_err(|source| CaptureError::Open {
        path: path.to_owned(),
        source,
    })?;
    if let Ok(profile) = serde_json::from_slice::<TrafficProfile>(&bytes) {
        if profile.schema != PROFILE_SCHEMA {
            return Err(CaptureError::Schema {
                path: path.to_owned(),
                found: profile.schema,
            });
        }
        return Ok(profile);
    }
    // A log or HAR: parsed from the bytes already read (a log line that is
    // not UTF-8 is the parser's to reject or repair, not a failure to open).
    let name = path.to_string_lossy();
    let mut x = Extractor::new();
    let captured = read_stream(bytes.as_slice(), &name, format, |r| x.push(&r))?;
    Ok(x.finish(captured.completeness, &name))
}

/// The profile of a file, or stdin for `-`, extracted while reading (no
/// record vector). Its `source` is the path (or `stdin`).
pub fn profile_source(source: &str, format: Format) -> Result<TrafficProfile, CaptureError> {
    let mut x = Extractor::new();
    let captured = read_source_with(source, format, |r| x.push(&r))?;
    let name = if source == "-" { "stdin" } else { source };
    Ok(x.finish(captured.completeness, name))
}

/// Parses a stream. `Auto` decides on the first non-blank line: a JSON
/// object without `log` means JSON lines, other JSON a HAR document (read
/// whole), anything else an access log.
pub fn read_stream(
    mut reader: impl BufRead,
    name: &str,
    format: Format,
    mut sink: impl FnMut(Record),
) -> Result<Captured, CaptureError> {
    let read_err = |source| CaptureError::Read {
        source_name: name.to_owned(),
        source,
    };
    let parse_err = |source| CaptureError::Parse {
        source_name: name.to_owned(),
        source,
    };
    let mut head: Vec<u8> = Vec::new();
    let mut format = format;
    if format == Format::Auto {
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(read_err)? == 0 {
                break;
            }
            head.extend_from_slice(&line);
            if !line.iter().all(u8::is_ascii_whitespace) {
                format = parse::detect(&line);
                break;
            }
        }
    }
    if format == Format::Har {
        reader.read_to_end(&mut head).map_err(read_err)?;
        let completeness = parse::parse_bytes_with(&head, Format::Har, sink).map_err(parse_err)?;
        return Ok(Captured {
            completeness,
            format,
        });
    }
    let mut parser = LineParser::new(format).map_err(parse_err)?;
    let mut feed = |parser: &mut LineParser, line: &[u8]| {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        if let Some(r) = parser.push(line) {
            sink(r);
        }
    };
    for line in head.split_inclusive(|&b| b == b'\n') {
        feed(&mut parser, line);
    }
    let mut line = Vec::with_capacity(512);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(read_err)? == 0 {
            break;
        }
        feed(&mut parser, &line);
    }
    let format = match parser.format() {
        Format::Auto => Format::Combined,
        f => f.clone(),
    };
    Ok(Captured {
        completeness: parser.finish(),
        format,
    })
}

/// Reads the requests in container `name`'s log (its lines from `since` ago,
/// or all) into records.
pub async fn from_container<P: Platform>(
    platform: &P,
    name: &str,
    since: Option<Duration>,
    format: Format,
) -> Result<(Vec<Record>, Completeness), CaptureError> {
    let mut records = Vec::new();
    let captured = from_container_with(platform, name, since, format, |r| records.push(r)).await?;
    Ok((records, captured.completeness))
}

/// [`from_container`] handing each record to `sink`.
pub async fn from_container_with<P: Platform>(
    platform: &P,
    name: &str,
    since: Option<Duration>,
    format: Format,
    mut sink: impl FnMut(Record),
) -> Result<Captured, CaptureError> {
    let parse_err = |source| CaptureError::Parse {
        source_name: format!("container {name}"),
        source,
    };
    let mut parser = LineParser::new(format.clone()).map_err(parse_err)?;
    let mut stderr = match format {
        Format::Auto => LineParser::per_line(),
        _ => LineParser::new(format).map_err(parse_err)?,
    };
    let mut stderr_requests = 0;
    let options = LogOptions {
        follow: false,
        since: since.and_then(|d| SystemTime::now().checked_sub(d)),
        tail: None,
    };
    let mut lines = platform.logs(name, &options);
    while let Some(line) = lines.next().await {
        let line = line.map_err(|source| CaptureError::Platform {
            container: name.to_owned(),
            source,
        })?;
        let request = match line.stream {
            LogStream::Stdout => parser.push_at(line.text.as_bytes(), line.time_ms),
            LogStream::Stderr => stderr
                .push_at(line.text.as_bytes(), line.time_ms)
                .inspect(|_| {
                    stderr_requests += 1;
                }),
        };
        if let Some(r) = request {
            sink(r);
        }
    }
    let format = match parser.format() {
        Format::Auto => Format::Combined,
        f => f.clone(),
    };
    let mut completeness = parser.finish();
    completeness.lines += stderr_requests;
    completeness.parsed += stderr_requests;
    Ok(Captured {
        completeness,
        format,
    })
}

#[cfg(test)]
mod tests;
