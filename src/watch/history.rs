//! The watch history read back (pure): what `understudy history` prints for
//! the runs and alerts SQLite holds.
//!
//! Owns the text of the run list (one line per run: when, how long, what
//! was watched, how many alerts, the judge's last verdicts) and of one run
//! (its verdicts with their reasons, the faults it saw, every alert with
//! when it opened relative to the run's start and how long it lasted).
//! Not owned: reading the database (`store`), the command (`cli::history`).
//!
//! The run's summary is the watch report (`understudy.watch/v1`) as JSON;
//! it is read field by field, so a report written by an older or newer
//! understudy still lists (a field it lacks shows as `–`). A run whose
//! `ended_ms` is empty is either still going or was killed (its alerts were
//! written as they opened, so they are there either way): the process that
//! ran it (its PID and start time, recorded since schema 2) tells which,
//! through [`RunState::of`] with a liveness check the caller supplies.

use std::fmt::Write as _;

use serde_json::Value;

use crate::domain::series::Alert;
use crate::shadow::tracking::Owner;
use crate::store::RunRecord;

/// Where a run is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// It wrote its end and summary.
    Ended,
    /// No end yet, and the process that runs it is alive.
    Running { pid: u32 },
    /// No end, and its process is gone: killed or crashed.
    Killed,
    /// No end, and its process cannot be checked from here: it ran on
    /// another host (named), or before runs recorded their process.
    Unknown { host: Option<String> },
}

impl RunState {
    /// The state of `run`; `alive` says whether an owner still runs (`None`:
    /// it cannot be told from here, e.g. another host).
    pub fn of(run: &RunRecord, alive: impl Fn(&Owner) -> Option<bool>) -> Self {
        if run.ended_ms.is_some() {
            return RunState::Ended;
        }
        let Some(owner) = &run.owner else {
            return RunState::Unknown { host: None };
        };
        match alive(owner) {
            Some(true) => RunState::Running { pid: owner.pid },
            Some(false) => RunState::Killed,
            None => RunState::Unknown {
                host: Some(owner.host.clone()),
            },
        }
    }

    /// What the run list says in place of the verdicts of a run without an
    /// end.
    fn unended(&self) -> String {
        match self {
            RunState::Ended => String::new(),
            RunState::Running { pid } => format!("running (pid {pid})"),
            RunState::Killed => "did not end (killed or crashed)".to_owned(),
            RunState::Unknown { host: Some(host) } => {
                format!("no end yet (runs on {host}, or was killed)")
            }
            RunState::Unknown { host: None } => {
                "no end recorded (still running, or killed)".to_owned()
            }
        }
    }
}

/// One line of the run list: the run, how many alerts it recorded, and
/// whether it is still going.
#[derive(Debug, Clone, PartialEq)]
pub struct RunLine {
    pub run: RunRecord,
    pub alerts: u64,
    pub state: RunState,
}

/// `2026-12-07 05:01:04` (UTC) for Unix milliseconds.
pub fn utc(t_ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(t_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `05:01:04` (UTC) for Unix milliseconds.
pub fn clock(t_ms: i64) -> String {
    utc(t_ms)[11..].to_owned()
}

/// The width of a column: its widest cell, at least its header.
fn column_width<'a>(header: &str, cells: impl Iterator<Item = &'a str>) -> usize {
    cells
        .map(|c| c.chars().count())
        .fold(header.len(), usize::max)
}

/// `45 s`, `12 min 5 s`, `2 h 3 min`.
pub fn length(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 if s % 60 == 0 => format!("{} min", s / 60),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// The shadow the run watched: recorded at its start (schema 3), else
/// named by its summary (written at its end).
pub fn shadow(run: &RunRecord) -> Option<&str> {
    if let Some(s) = &run.shadow {
        return Some(s);
    }
    run.summary.as_ref()?.get("shadow")?.as_str()
}

/// One of the summary's verdicts (`vs_production`, `vs_baseline`), if the
/// run has it.
pub fn verdict_of<'a>(run: &'a RunRecord, which: &str) -> Option<&'a Value> {
    run.summary
        .as_ref()?
        .get("verdicts")?
        .get(which)
        .filter(|v| !v.is_null())
}

/// `PASS 100` for one of the summary's verdicts, `–` when there is none.
fn verdict(run: &RunRecord, which: &str) -> String {
    verdict_of(run, which).map_or_else(
        || "–".to_owned(),
        |v| {
            let outcome = v
                .get("outcome")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_uppercase();
            let score = v.get("score").and_then(Value::as_f64);
            score.map_or(outcome.clone(), |s| format!("{outcome} {s:.0}"))
        },
    )
}

/// The run list, in the order given (the store's: newest first); an empty
/// history is a line that says so, naming the database.
pub fn list(lines: &[RunLine], db: &str) -> String {
    if lines.is_empty() {
        return format!("no runs recorded in {db}\n");
    }
    let mut out = String::new();
    let target_width = column_width("TARGET", lines.iter().map(|l| l.run.target.as_str()));
    let _ = writeln!(
        out,
        "{:>4}  {:<19}  {:>12}  {:<5}  {:<target_width$}  {:<8}  {:>6}  {:<13}  VS BASELINE",
        "RUN", "STARTED (UTC)", "LENGTH", "KIND", "TARGET", "SHADOW", "ALERTS", "JUDGE VS PROD"
    );
    for l in lines {
        let r = &l.run;
        let head = format!(
            "{:>4}  {:<19}  {:>12}  {:<5}  {:<target_width$}  {:<8}  {:>6}",
            r.id,
            utc(r.started_ms),
            r.ended_ms
                .map_or_else(|| "–".to_owned(), |e| length(e - r.started_ms)),
            r.kind,
            r.target,
            shadow(r).unwrap_or("–"),
            l.alerts,
        );
        let tail = if l.state == RunState::Ended {
            format!(
                "{:<13}  {}",
                verdict(r, "vs_production"),
                verdict(r, "vs_baseline")
            )
        } else {
            l.state.unended()
        };
        let _ = writeln!(out, "{head}  {tail}");
    }
    out
}

/// One run in full: its header, verdicts with their reasons, faults seen
/// and alerts.
pub fn detail(run: &RunRecord, state: &RunState, alerts: &[Alert]) -> String {
    let mut out = String::new();
    let beside = shadow(run).map_or_else(String::new, |s| format!(" beside shadow {s}"));
    let _ = writeln!(
        out,
        "run {}: {} of {}{beside}",
        run.id, run.kind, run.target
    );
    let when = match run.ended_ms {
        Some(end) => format!(
            "started {} UTC, lasted {} (ended {})",
            utc(run.started_ms),
            length(end - run.started_ms),
            clock(end)
        ),
        None => format!("started {} UTC, {}", utc(run.started_ms), state.unended()),
    };
    let _ = writeln!(out, "  {when}");
    if run.ended_ms.is_some() {
        let _ = writeln!(
            out,
            "  judge vs production: {}; vs baseline: {}",
            verdict(run, "vs_production"),
            verdict(run, "vs_baseline")
        );
        for which in ["vs_production", "vs_baseline"] {
            for reason in reasons(run, which) {
                let _ = writeln!(out, "    {reason}");
            }
        }
    }
    for f in faults(run) {
        let _ = writeln!(out, "  fault {f}");
    }
    alert_table(&mut out, run, alerts);
    out
}

/// The reasons of one verdict in the summary.
fn reasons<'a>(run: &'a RunRecord, which: &str) -> impl Iterator<Item = &'a str> {
    verdict_of(run, which)
        .and_then(|v| v.get("reasons")?.as_array())
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// `5fd5bb39 latency on 2d2f7c/gateway->api at +40 s` per fault the run saw.
fn faults(run: &RunRecord) -> Vec<String> {
    let Some(list) = run
        .summary
        .as_ref()
        .and_then(|s| s.get("faults")?.as_array())
    else {
        return Vec::new();
    };
    list.iter()
        .map(|f| {
            let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
            let at = f
                .get("start_ms")
                .and_then(Value::as_i64)
                .map_or_else(String::new, |t| {
                    format!(" at {}", offset(t - run.started_ms))
                });
            format!("{} {} on {}{at}", text("id"), text("kind"), text("target"))
        })
        .collect()
}

/// `+41.2 s` from the run's start.
fn offset(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "+" };
    format!("{sign}{:.1} s", ms.unsigned_abs() as f64 / 1000.0)
}

fn alert_table(out: &mut String, run: &RunRecord, alerts: &[Alert]) {
    if alerts.is_empty() {
        let _ = writeln!(out, "no alerts");
        return;
    }
    let _ = writeln!(out, "alerts ({}):", alerts.len());
    let series = alerts
        .iter()
        .map(|a| a.series.to_string())
        .collect::<Vec<_>>();
    let series_width = column_width("SERIES", series.iter().map(String::as_str));
    let _ = writeln!(
        out,
        "  {:>3}  {:<series_width$}  {:<8}  {:>5}  {:>9}  {:>13}  EXPLANATION",
        "#", "SERIES", "SEVERITY", "SCORE", "OPENED", "LASTED"
    );
    for (a, key) in alerts.iter().zip(&series) {
        let lasted = match a.end_ms {
            Some(end) => format!("{:.1} s", (end - a.start_ms).max(0) as f64 / 1000.0),
            None if run.ended_ms.is_some() => "open at end".to_owned(),
            None => "open".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {:>3}  {:<series_width$}  {:<8}  {:>5.2}  {:>9}  {:>13}  {}",
            a.id,
            key,
            a.severity.as_str(),
            a.score,
            offset(a.start_ms - run.started_ms),
            lasted,
            a.explanation
        );
    }
}

pub mod buckets;

#[cfg(test)]
mod tests;
