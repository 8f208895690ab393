//! `understudy watch`: production and a shadow side by side, with alerts
//! and the judge's verdicts as lines, and a JSON report at the end.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::domain::series::{AlertEvent, VerdictOutcome};
use crate::domain::series_pattern::SeriesPattern;
use crate::platform::Docker;
use crate::traffic::parse::{Format, LogTemplate};
use crate::traffic::replay::{self as replay_plan, ReplayOptions};
use crate::watch::points::ScrapeTarget;
use crate::watch::run::{self, RunOptions, WatchEvent, WatchReport};
use crate::watch::sources::Replay;

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
    /// Do not sample the host (`host/machine/*` series).
    #[arg(long)]
    pub no_host: bool,
    /// A Prometheus target, `[ENV[:SERVICE]=]http://HOST:PORT/metrics`
    /// (ENV prod, shadow or host; default prod:scrape); repeatable.
    /// Counters become rates, histograms p50/p99/mean.
    #[arg(long, value_name = "TARGET")]
    pub scrape: Vec<ScrapeTarget>,
    /// How often the targets are scraped.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub scrape_every: Duration,
    /// Let the series whose key (`ENV/SERVICE/[INSTANCE/]METRIC`) matches
    /// this glob raise alerts too (`*` any run of characters, `?` one),
    /// e.g. `'*/http_request_duration_seconds:p99'`; repeatable. By
    /// default only latency, errors, throughput, CPU and memory page.
    #[arg(long, value_name = "GLOB")]
    pub page: Vec<SeriesPattern>,
    /// Drive the shadow's entry with this replay while watching: a profile
    /// (`traffic profile -o`) or a log `traffic profile` reads. The load
    /// engine's view becomes `shadow/ENTRY/client_*` series; without
    /// --duration the watch ends 3 s after the replay.
    #[arg(long, value_name = "PROFILE")]
    pub replay: Option<PathBuf>,
    /// Replay time compression (with --replay).
    #[arg(long, default_value_t = 1.0, requires = "replay")]
    pub speed: f64,
    /// Replay height: 2 sends twice production's rate (with --replay).
    #[arg(long, default_value_t = 1.0, requires = "replay")]
    pub scale: f64,
    /// Replay seed (with --replay).
    #[arg(long, default_value_t = 1, requires = "replay")]
    pub seed: u64,
    /// Replay connection limit (with --replay).
    #[arg(long, default_value_t = 64, requires = "replay")]
    pub concurrency: usize,
    /// A body for a replayed write endpoint, `METHOD /path/template=BODY`
    /// (with --replay; repeatable): access logs record none.
    #[arg(long = "body", value_name = "ENDPOINT=BODY", requires = "replay")]
    pub bodies: Vec<String>,
    /// The entries' access-log format, as their server's configuration
    /// writes it: an nginx `log_format` ('$remote_addr [$time_local]
    /// "$request" $status $body_bytes_sent $request_time') or an Apache
    /// `LogFormat` ('%h %l %u %t "%r" %>s %b %D'). Default: each line's
    /// dialect is recognised (combined, Traefik, Envoy, HAProxy, ...), and
    /// a bare integer is never a latency. Also reads a --replay log.
    #[arg(long, value_name = "FORMAT", value_parser = parse_log_format)]
    pub log_format: Option<Arc<LogTemplate>>,
}

pub fn parse_log_format(s: &str) -> Result<Arc<LogTemplate>, String> {
    LogTemplate::compile(s)
        .map(Arc::new)
        .map_err(|e| e.to_string())
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
    crate::watch::unix_ms(std::time::SystemTime::now())
}

fn print(event: &WatchEvent) {
    match event {
        WatchEvent::Started(t) => {
            let what = match t.shadow.as_deref() {
                Some(shadow) => format!("{} and shadow {shadow}", t.group),
                None => format!("{} (production alone, no shadow)", t.group),
            };
            let count = t.containers.len();
            let plural = if count == 1 { "" } else { "s" };
            println!(
                "watching {what}: entry {}, {count} container{plural}; Ctrl-C ends",
                t.entries.join(", "),
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
    for c in &report.coincident {
        println!("at once: {}", c.describe());
    }
    for t in &report.scrape {
        let not_finite = (t.not_finite > 0)
            .then(|| format!(", {} NaN/infinite sample(s) left out", t.not_finite));
        let over_limit = (t.over_limit > 0)
            .then(|| format!(", {} point(s) over the series limit", t.over_limit));
        let left_out = [not_finite, over_limit]
            .into_iter()
            .flatten()
            .collect::<String>();
        println!(
            "scrape {}: {} scrape(s), {} failed{left_out}{}",
            t.url,
            t.scrapes,
            t.failures,
            if t.stale { ", stale at the end" } else { "" }
        );
    }
    for p in &report.page {
        if p.series == 0 {
            println!("--page '{}' made no series alerting", p.pattern);
        } else {
            println!("--page '{}': {} series may alert", p.pattern, p.series);
        }
    }
    if let Some(r) = &report.replay {
        println!(
            "replay on the shadow: {} requests, {:.1}/s achieved of {}, {} errors, p99 {:.1} ms",
            r.requests,
            r.achieved_rps,
            r.target_rps
                .map_or_else(|| "?".to_owned(), |t| format!("{t:.1}/s")),
            r.errors.total(),
            r.latency_ms.corrected.p99
        );
    }
}

/// The replay of `--replay`, planned before anything starts (a bad profile
/// fails here, with its path).
fn replay(path: &std::path::Path, args: &WatchArgs) -> anyhow::Result<Replay> {
    let format = args
        .log_format
        .clone()
        .map_or(Format::Auto, Format::Template);
    let profile = crate::traffic::capture::load_profile(path, format)?;
    let options = ReplayOptions {
        speed: args.speed,
        scale: args.scale,
        seed: args.seed,
        bodies: replay_plan::parse_body_overrides(&args.bodies)?,
        ..ReplayOptions::default()
    };
    let plan = replay_plan::plan(&profile, &options)
        .with_context(|| format!("planning the replay of {}", path.display()))?;
    crate::cli::traffic::announce(&plan, "production's traffic on the shadow", &options);
    Ok(Replay {
        plan,
        concurrency: args.concurrency,
        timeout: Duration::from_secs(5),
    })
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
    let replay = args
        .replay
        .as_deref()
        .map(|p| replay(p, &args))
        .transpose()?;
    let options = RunOptions {
        shadow: args.shadow.clone(),
        entry: args.entry.clone(),
        duration: args.duration,
        database: (!args.no_history).then(crate::store::default_path),
        host: !args.no_host,
        scrape: args.scrape.clone(),
        scrape_every: args.scrape_every,
        replay,
        page: args.page.clone(),
        log_format: args.log_format.clone(),
        ..RunOptions::new(args.group.clone(), crate::telemetry::state_dir())
    };
    let report = run::run(&docker, &options, &cancel, print).await?;
    summary(&report);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
