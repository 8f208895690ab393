//! Log frames -> lines: the engine may split one line across frames.
//! Logs are requested with the engine's timestamps: each line arrives as
//! `2026-12-07T12:00:00.123456789Z text`, and the time is taken off into
//! [`LogLine::time_ms`]. (A line over the json-file driver's 16 KiB is
//! stored in parts, each stamped; the stamps of the later parts stay in
//! the joined text.)

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::platform::{LogLine, LogStream};

/// Reassembles lines that the engine split across frames, per stream.
#[derive(Default)]
pub struct LineAssembler {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl LineAssembler {
    pub fn push(&mut self, stream: LogStream, bytes: &[u8]) -> Vec<LogLine> {
        let buffer = match stream {
            LogStream::Stdout => &mut self.stdout,
            LogStream::Stderr => &mut self.stderr,
        };
        buffer.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(pos) = buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]);
            lines.push(stamped(stream, text.trim_end_matches('\r')));
        }
        lines
    }

    pub fn finish(&mut self) -> Vec<LogLine> {
        let mut lines = Vec::new();
        for (stream, buffer) in [
            (LogStream::Stdout, &mut self.stdout),
            (LogStream::Stderr, &mut self.stderr),
        ] {
            if !buffer.is_empty() {
                lines.push(stamped(stream, &String::from_utf8_lossy(buffer)));
                buffer.clear();
            }
        }
        lines
    }
}

/// A line with the engine's timestamp taken off its front (a line
/// without one is kept whole, its time unknown).
fn stamped(stream: LogStream, text: &str) -> LogLine {
    let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
    let time_ms = OffsetDateTime::parse(word, &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok());
    LogLine {
        stream,
        text: if time_ms.is_some() { rest } else { text }.to_owned(),
        time_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_frames_are_joined() {
        let mut a = LineAssembler::default();
        assert!(a.push(LogStream::Stdout, b"GET /a HT").is_empty());
        let lines = a.push(LogStream::Stdout, b"TP/1.1\nsecond\r\nthi");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "GET /a HTTP/1.1");
        assert_eq!(lines[1].text, "second");
        assert!(a.push(LogStream::Stderr, b"err\n")[0].stream == LogStream::Stderr);
        let rest = a.finish();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].text, "thi");
    }

    #[test]
    fn the_engines_timestamps_are_taken_off() {
        let mut a = LineAssembler::default();
        let lines = a.push(
            LogStream::Stdout,
            b"2026-11-27T10:00:00.123456789Z INFO:     1.2.3.4:5 - \"GET / HTTP/1.1\" 200 OK\n\
              2026-11-27T10:00:01Z \n\
              no stamp here\n\
              2026-11-27T10:00:02Z\n",
        );
        assert_eq!(
            lines[0].text,
            r#"INFO:     1.2.3.4:5 - "GET / HTTP/1.1" 200 OK"#
        );
        assert_eq!(lines[0].time_ms, Some(1_795_773_600_123));
        assert_eq!(
            (lines[1].text.as_str(), lines[1].time_ms),
            ("", Some(1_795_773_601_000))
        );
        assert_eq!(
            (lines[2].text.as_str(), lines[2].time_ms),
            ("no stamp here", None)
        );
        assert_eq!(
            (lines[3].text.as_str(), lines[3].time_ms),
            ("", Some(1_795_773_602_000))
        );
    }
}
