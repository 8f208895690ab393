//! The `detect` file format: `timestamp,value` CSV in (header first),
//! `timestamp,value,anomaly_score` out, one row per input row, in order.
//!
//! Owns parsing, echoing and the record of odd rows. A row whose timestamp
//! or value cannot be used still gets an output row (score 0) so the output
//! stays aligned with the input; it is listed in the [`Summary`] with its
//! line number. Blank lines are not rows. Opening files and printing the
//! summary is the CLI's job.

use std::io::{BufRead, Write};

use super::{DetectError, Detector, Scored, timestamp};

/// At most this many odd rows are kept with their text (all are counted).
pub const KEEP_ODD: usize = 20;

/// Why a row is odd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OddKind {
    /// Skipped: the timestamp does not parse.
    BadTimestamp,
    /// Skipped: the value is missing or not a number.
    BadValue,
    /// Skipped: the value is NaN or infinite.
    NotFinite,
    /// Skipped: the timestamp is earlier than the previous row's.
    OutOfOrder,
    /// Scored: the timestamp equals the previous row's.
    Duplicate,
}

/// One odd row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Odd {
    /// 1-based line number in the input (the header is line 1).
    pub line: u64,
    pub kind: OddKind,
    /// The offending field, as written.
    pub text: String,
}

/// What a run saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Output rows written (= input rows).
    pub rows: u64,
    /// Odd rows by kind, in the order of [`OddKind`]'s variants.
    pub odd_counts: [u64; 5],
    /// The first [`KEEP_ODD`] odd rows.
    pub odd: Vec<Odd>,
    /// The detector's own counts at the end.
    pub counts: super::Counts,
}

impl Summary {
    /// Odd rows of one kind.
    pub fn count(&self, kind: OddKind) -> u64 {
        self.odd_counts[kind as usize]
    }

    fn note(&mut self, line: u64, kind: OddKind, text: &str) {
        self.odd_counts[kind as usize] += 1;
        if self.odd.len() < KEEP_ODD {
            self.odd.push(Odd {
                line,
                kind,
                text: text.to_owned(),
            });
        }
    }
}

/// Reads the CSV from `input`, scores every row with `detector`, writes the
/// scored CSV to `output`, and calls `on_row(line, &scored)` for every row
/// that reached the detector.
pub fn score<R: BufRead, W: Write>(
    mut input: R,
    mut output: W,
    detector: &mut Detector,
    mut on_row: impl FnMut(u64, &Scored),
) -> Result<Summary, DetectError> {
    let mut summary = Summary::default();
    let mut buf = String::new();
    let mut line = 0u64;
    let mut first = true;
    let io = |line: u64| move |source| DetectError::Io { line, source };
    writeln!(output, "timestamp,value,anomaly_score").map_err(io(0))?;
    loop {
        buf.clear();
        if input.read_line(&mut buf).map_err(io(line + 1))? == 0 {
            break;
        }
        line += 1;
        let row = buf.trim_end_matches(['\n', '\r']);
        if row.trim().is_empty() {
            continue;
        }
        let mut fields = row.splitn(3, ',').map(|f| f.trim().trim_matches('"'));
        let ts_text = fields.next().unwrap_or("");
        let value_text = fields.next().unwrap_or("");
        let t = timestamp::parse(ts_text);
        if std::mem::take(&mut first) && t.is_none() {
            continue; // the header
        }
        let score = match (t, value_text.parse::<f64>()) {
            (None, _) => {
                summary.note(line, OddKind::BadTimestamp, ts_text);
                0.0
            }
            (Some(_), Err(_)) => {
                summary.note(line, OddKind::BadValue, value_text);
                0.0
            }
            (Some(t), Ok(v)) => {
                let before = detector.counts();
                let scored = detector.push(t, v);
                let after = detector.counts();
                if after.not_finite > before.not_finite {
                    summary.note(line, OddKind::NotFinite, value_text);
                } else if after.out_of_order > before.out_of_order {
                    summary.note(line, OddKind::OutOfOrder, ts_text);
                } else if after.duplicates > before.duplicates {
                    summary.note(line, OddKind::Duplicate, ts_text);
                }
                on_row(line, &scored);
                scored.score
            }
        };
        writeln!(output, "{ts_text},{value_text},{score:.6}").map_err(io(line))?;
        summary.rows += 1;
    }
    output.flush().map_err(io(line))?;
    summary.counts = detector.counts();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::detect::{Config, Series};

    fn run(input: &str) -> (String, Summary) {
        let mut detector = Detector::new(Series::new("x", ""), Config::default());
        let mut out = Vec::new();
        let summary = score(input.as_bytes(), &mut out, &mut detector, |_, _| {}).unwrap();
        (String::from_utf8(out).unwrap(), summary)
    }

    #[test]
    fn writes_the_exact_format_one_row_per_input_row() {
        let (out, summary) =
            run("timestamp,value\n2014-02-14 14:30:00,0.132\n2014-02-14 14:35:00,0.134\n");
        assert_eq!(
            out,
            "timestamp,value,anomaly_score\n2014-02-14 14:30:00,0.132,0.000000\n2014-02-14 14:35:00,0.134,0.000000\n"
        );
        assert_eq!(summary.rows, 2);
        assert!(summary.odd.is_empty());
    }

    #[test]
    fn bad_rows_stay_aligned_and_are_listed_with_line_numbers() {
        let input = "timestamp,value\r\n\
                     2014-02-14 14:30:00,1\r\n\
                     2014-02-14 14:35:00,abc\r\n\
                     yesterday,2\r\n\
                     2014-02-14 14:40:00,NaN\r\n\
                     2014-02-14 14:20:00,3\r\n\
                     2014-02-14 14:45:00\r\n\
                     \r\n\
                     2014-02-14 14:45:00,4\r\n\
                     2014-02-14 14:45:00,5\r\n";
        let (out, summary) = run(input);
        let rows: Vec<&str> = out.lines().collect();
        assert_eq!(rows.len(), 1 + 8);
        assert_eq!(rows[2], "2014-02-14 14:35:00,abc,0.000000");
        assert_eq!(rows[3], "yesterday,2,0.000000");
        assert_eq!(rows[6], "2014-02-14 14:45:00,,0.000000");
        let kinds: Vec<(u64, OddKind)> = summary.odd.iter().map(|o| (o.line, o.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (3, OddKind::BadValue),
                (4, OddKind::BadTimestamp),
                (5, OddKind::NotFinite),
                (6, OddKind::OutOfOrder),
                (7, OddKind::BadValue),
                (10, OddKind::Duplicate),
            ]
        );
        assert_eq!(summary.counts.points, 3);
        assert_eq!(summary.count(OddKind::BadValue), 2);
    }

    #[test]
    fn a_file_without_header_keeps_its_first_row() {
        let (out, summary) = run("2014-02-14 14:30:00,1\n2014-02-14 14:35:00,2\n");
        assert_eq!(out.lines().count(), 3);
        assert_eq!(summary.rows, 2);
    }

    #[test]
    fn only_the_first_few_odd_rows_are_kept() {
        let mut input = String::from("timestamp,value\n");
        for i in 0..50 {
            writeln!(input, "bad{i},1").unwrap();
        }
        let (_, summary) = run(&input);
        assert_eq!(summary.odd.len(), KEEP_ODD);
        assert_eq!(summary.count(OddKind::BadTimestamp), 50);
    }
}
