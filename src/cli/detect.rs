//! `understudy detect`: score a `timestamp,value` CSV with the streaming
//! anomaly detector (`crate::detect`), writing `timestamp,value,anomaly_score`
//! rows in input order to stdout and a summary of odd rows to stderr.
//!
//! The contract of `../shared/bench/nab/run_detector.sh`: one process per
//! file, one output row per input row, no look-ahead.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::detect::csv::{self, OddKind, Summary};
use crate::detect::{Config, Detector, Series};

/// Arguments of `understudy detect`.
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// A `timestamp,value` CSV file (header first).
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    pub file: Option<PathBuf>,
    /// Read the CSV from stdin.
    #[arg(long)]
    pub stdin: bool,
    /// The series' name in explanations (default: the file's stem).
    #[arg(long)]
    pub name: Option<String>,
    /// The series' unit in explanations, e.g. `ms`.
    #[arg(long, default_value = "")]
    pub unit: String,
    /// Explain every row scoring at least this much, on stderr.
    #[arg(long, value_name = "SCORE")]
    pub explain: Option<f64>,
}

pub fn run(args: &DetectArgs) -> anyhow::Result<ExitCode> {
    let (input, label): (Box<dyn BufRead>, String) = match &args.file {
        Some(path) if !args.stdin => {
            let file =
                File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            (Box::new(BufReader::new(file)), path.display().to_string())
        }
        _ => (Box::new(io::stdin().lock()), "stdin".to_owned()),
    };
    let name = args.name.clone().unwrap_or_else(|| {
        args.file
            .as_ref()
            .and_then(|p| p.file_stem())
            .map_or_else(|| "value".to_owned(), |s| s.to_string_lossy().into_owned())
    });
    let series = Series::new(name, args.unit.clone());
    let mut detector = Detector::new(series.clone(), Config::default());
    let stdout = io::stdout().lock();
    let mut stderr = io::stderr().lock();
    let summary = csv::score(
        input,
        BufWriter::new(stdout),
        &mut detector,
        |line, scored| {
            if args.explain.is_some_and(|at| scored.score >= at) {
                let text = scored.explanation.render(&series);
                let _ = writeln!(stderr, "line {line}: score {:.3}: {text}", scored.score);
            }
        },
    )
    .with_context(|| format!("scoring {label}"))?;
    drop(stderr);
    if let Some(text) = describe(&label, &summary) {
        eprint!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The stderr summary, when some row was odd or the series had gaps.
fn describe(label: &str, s: &Summary) -> Option<String> {
    let odd: u64 = s.odd_counts.iter().sum();
    if odd == 0 && s.counts.gaps == 0 {
        return None;
    }
    let skipped = odd - s.count(OddKind::Duplicate);
    let mut text = format!(
        "understudy detect: {label}: {} rows, {skipped} skipped (scored 0), {} duplicate timestamps, {} gaps\n",
        s.rows,
        s.count(OddKind::Duplicate),
        s.counts.gaps
    );
    for o in &s.odd {
        let what = match o.kind {
            OddKind::BadTimestamp => "timestamp does not parse",
            OddKind::BadValue => "value is missing or not a number",
            OddKind::NotFinite => "value is not finite",
            OddKind::OutOfOrder => "timestamp is earlier than the previous row's",
            OddKind::Duplicate => "timestamp repeats the previous row's (scored)",
        };
        let _ = writeln!(text, "  line {}: {what}: {:?}", o.line, o.text);
    }
    if odd > s.odd.len() as u64 {
        let _ = writeln!(text, "  ... and {} more", odd - s.odd.len() as u64);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_lists_odd_rows_with_line_numbers() {
        let input = "timestamp,value\n2014-02-14 14:30:00,1\n2014-02-14 14:35:00,x\n\
                     2014-02-14 14:35:00,2\n2014-02-14 14:35:00,3\n";
        let mut d = Detector::new(Series::default(), Config::default());
        let s = csv::score(input.as_bytes(), Vec::new(), &mut d, |_, _| {}).unwrap();
        let text = describe("f.csv", &s).unwrap();
        assert_eq!(
            text,
            "understudy detect: f.csv: 4 rows, 1 skipped (scored 0), 1 duplicate timestamps, 0 gaps\n  \
             line 3: value is missing or not a number: \"x\"\n  \
             line 5: timestamp repeats the previous row's (scored): \"2014-02-14 14:35:00\"\n"
        );
    }

    #[test]
    fn a_clean_file_needs_no_summary() {
        let mut d = Detector::new(Series::default(), Config::default());
        let s = csv::score(
            "timestamp,value\n1,1\n2,2\n".as_bytes(),
            Vec::new(),
            &mut d,
            |_, _| {},
        )
        .unwrap();
        assert_eq!(describe("f.csv", &s), None);
    }
}
