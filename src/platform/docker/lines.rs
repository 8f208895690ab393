//! Log frames -> lines: the engine may split one line across frames.

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
            lines.push(LogLine {
                stream,
                text: text.trim_end_matches('\r').to_owned(),
            });
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
                lines.push(LogLine {
                    stream,
                    text: String::from_utf8_lossy(buffer).into_owned(),
                });
                buffer.clear();
            }
        }
        lines
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
}
