//! `understudy watch`: production and a shadow side by side, with alerts
//! and the judge's verdicts as lines, and a JSON report at the end.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::domain::series::{AlertEvent, VerdictOutcome};
use crate::platform::Docker;
use crate::watch::run::{self, RunOptions, WatchEvent, WatchReport};

/// Arguments of `understudy watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The production group (compose project).
    #[arg(long, short = 'g')]
    pub group: String,
    /// The shadow to watch beside it (default: the group's only shadow;
    /// `none`: production alone).
    #[arg(long)]
    pub shadow: Option<String>,
    /// Entry service(s) whose access log carries request metrics
    /// (default: the services publishing ports).
    #[arg(long)]
    pub entry: Vec<String>,
    /// Stop after this long (`90s`, `5m`); default: until Ctrl-C.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Write the report (schema `understudy.watch/v1`) to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Do not record the run in the SQLite history.
    #[arg(long)]
    pub no_history: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::domain::units::parse_duration(s).map_err(|e| e.to_string())
}

fn clock(t_ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(t_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

fn now_ms() -> i64 {
    i64::try_from(crate::fault::inject::now_ms()).unwrap_or(i64::MAX)
}

fn print(event: &WatchEvent) {
    match event {
        WatchEvent::Started(t) => {
            let shadow = t.shadow.as_deref().unwrap_or("none");
            println!(
                "watching {} and shadow {shadow}: entry {}, {} containers; Ctrl-C ends",
                t.group,
                t.entries.join(", "),
                t.containers.len()
            );
        }
        WatchEvent::Alert(e) => {
            let (what, a) = match e {
                AlertEvent::Opened(a) => ("OPEN  ", a),
                AlertEvent::Updated(a) => ("UPDATE", a),
                AlertEvent::Closed(a) => ("CLOSED", a),
            };
            let at = a.end_ms.unwrap_or(a.start_ms);
            println!(
                "{} {what} {:<8} {}  score {:.2}  {}",
                clock(at),
                a.severity.as_str(),
                a.series,
                a.score,
                a.explanation
            );
        }
        WatchEvent::Fault {
            id,
            kind,
            target,
            t_ms,
        } => println!(
            "{} fault {id} ({kind} on {target}) is active: judging from its start",
            clock(*t_ms)
        ),
        WatchEvent::Verdict {
            vs,
            outcome,
            score,
            reasons,
        } => {
            let outcome = match outcome {
                VerdictOutcome::Pass => "PASS",
                VerdictOutcome::Marginal => "MARGINAL",
                VerdictOutcome::Fail => "FAIL",
            };
            println!(
                "{} judge vs {vs}: {outcome} (score {score:.0})",
                clock(now_ms())
            );
            for r in reasons {
                println!("           {r}");
            }
        }
        WatchEvent::Notice(text) => eprintln!("{} {text}", clock(now_ms())),
        WatchEvent::Sample { .. } | WatchEvent::Looked(_) => {}
    }
}

fn summary(report: &WatchReport) {
    println!(
        "watched {:.0} s: {} points in {} series ({} KiB), {} alert(s), {} fault(s) seen",
        report.duration_s,
        report.points,
        report.series,
        report.memory_bytes / 1024,
        report.alerts.len(),
        report.faults.len()
    );
}

pub async fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let docker = Docker::connect().await?;
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    let options = RunOptions {
        group: args.group.clone(),
        shadow: args.shadow.clone(),
        entry: args.entry.clone(),
        duration: args.duration,
        state_dir: crate::telemetry::state_dir(),
        database: (!args.no_history).then(crate::store::default_path),
    };
    let report = run::run(&docker, &options, &cancel, print).await?;
    summary(&report);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
