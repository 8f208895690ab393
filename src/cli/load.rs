//! `understudy load URL ...`: one request, sent at a constant rate, along
//! k6-style stages, as Poisson arrivals, by closed-model users, or as fast
//! as possible; a live progress line on a terminal, a summary at the end,
//! the `understudy.load/v1` JSON report on request.
//!
//! Exit codes: 0 when the run completed (HTTP errors are data), 1 on a
//! usage or target error, 130 when interrupted (the report still covers
//! what was done).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use crate::domain::units::format_duration;
use crate::traffic::engine::{self, EngineOptions, Target};
use crate::traffic::report::LoadReport;
use crate::traffic::schedule::{self, RateCurve, Spacing};
use crate::traffic::workload::{Arrivals, RequestSpec, Workload};

/// Arguments of `understudy load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Target URL, sent as given (http://host:port/path?query).
    pub url: String,
    /// Requests per second (open model: sent on schedule whatever the
    /// target does), or `max`: as fast as --concurrency connections go.
    #[arg(long, conflicts_with_all = ["stages", "users"])]
    pub rate: Option<String>,
    /// How long to load [default: 10s].
    #[arg(long, value_parser = super::parse_duration_arg, conflicts_with = "stages")]
    pub duration: Option<Duration>,
    /// Ramping rate, k6 style: DURATION:TARGET,... (linear from the previous
    /// target, starting at 0), e.g. 30s:100,1m:500,30s:0.
    #[arg(long, conflicts_with = "users")]
    pub stages: Option<String>,
    /// Connection limit (open model), or connections of `--rate max`
    /// [default: 64].
    #[arg(long, short = 'c')]
    pub concurrency: Option<usize>,
    /// Write the JSON report (schema understudy.load/v1) here; `-` for stdout.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Per request, from its actual send.
    #[arg(long, default_value = "5s", value_parser = super::parse_duration_arg)]
    pub timeout: Duration,
    /// HTTP method.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// A request header, `Name: value` (repeatable).
    #[arg(long, short = 'H')]
    pub header: Vec<String>,
    /// Request body: the text, or `@FILE` for a file's bytes.
    #[arg(long, short = 'd')]
    pub body: Option<String>,
    /// Poisson arrivals (exponential gaps) instead of evenly spaced ones.
    #[arg(long)]
    pub poisson: bool,
    /// Seed of --poisson (default: random, printed in the report).
    #[arg(long, requires = "poisson")]
    pub seed: Option<u64>,
    /// Closed model: this many users, each waiting for its answer (and
    /// --think) before the next request.
    #[arg(long)]
    pub users: Option<u32>,
    /// Closed model: pause after each answer.
    #[arg(long, requires = "users", value_parser = super::parse_duration_arg)]
    pub think: Option<Duration>,
    /// Statistics per endpoint too.
    #[arg(long)]
    pub per_endpoint: bool,
    /// Load threads, each a single-threaded runtime with its share of the
    /// connections.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Open model: arrivals that may wait for a free connection before
    /// being dropped.
    #[arg(long, default_value_t = 100_000)]
    pub backlog: usize,
}

/// The workload and its description, from the flags.
struct Plan {
    arrivals: Arrivals,
    duration: Duration,
    schedule: String,
    seed: Option<u64>,
}

pub async fn run(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let request = request(&args)?;
    let plan = plan(&args)?;
    let target = Target::origin(&args.url).await?;
    let options = EngineOptions {
        duration: plan.duration,
        concurrency: args.concurrency.unwrap_or(64),
        timeout: args.timeout,
        threads: args.threads,
        per_endpoint: args.per_endpoint,
        max_backlog: args.backlog,
    };
    let workload = Workload {
        requests: vec![request],
        arrivals: plan.arrivals,
    };
    let result = run_on_terminal(&target, workload, &options, plan.duration).await;
    let mut report = result?;
    report.schedule = Some(plan.schedule);
    report.seed = plan.seed;
    finish(&report, args.json.as_deref())
}

/// Writes the summary and, where `--json` says, the report (`-`: stdout,
/// the summary then goes to stderr); the exit code: 130 when interrupted.
/// `traffic replay` ends the same way.
pub(super) fn finish(report: &LoadReport, json: Option<&Path>) -> anyhow::Result<ExitCode> {
    let summary = report.summary();
    match json {
        Some(path) if path.as_os_str() == "-" => {
            eprint!("{summary}");
            println!("{}", report.to_json());
        }
        Some(path) => {
            std::fs::write(path, report.to_json() + "\n")
                .with_context(|| format!("writing the report to {}", path.display()))?;
            print!("{summary}");
        }
        None => print!("{summary}"),
    }
    Ok(if report.cancelled {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}

/// The one request of the run.
fn request(args: &LoadArgs) -> anyhow::Result<RequestSpec> {
    let parsed = engine::parse_url(&args.url)?;
    let mut headers = Vec::new();
    for header in &args.header {
        let Some((name, value)) = header.split_once(':') else {
            bail!("invalid header {header:?}: write 'Name: value'");
        };
        let name = name.trim();
        if name.is_empty() {
            bail!("invalid header {header:?}: the name is empty");
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let body = match args.body.as_deref() {
        None => None,
        Some(text) => Some(match text.strip_prefix('@') {
            Some(file) => Bytes::from(
                std::fs::read(file).with_context(|| format!("reading the body from {file:?}"))?,
            ),
            None => Bytes::from(text.to_owned()),
        }),
    };
    let method = args.method.to_ascii_uppercase();
    Ok(RequestSpec {
        endpoint: format!("{method} {}", parsed.path_and_query),
        method,
        path: parsed.path_and_query,
        headers,
        body,
    })
}

/// Open or closed model, from the flags.
fn plan(args: &LoadArgs) -> anyhow::Result<Plan> {
    let duration = args.duration.unwrap_or(Duration::from_secs(10));
    if duration.is_zero() {
        bail!("invalid duration: must be more than 0");
    }
    let seed = args
        .poisson
        .then(|| args.seed.unwrap_or_else(schedule::fresh_seed));
    let spacing = seed.map_or(Spacing::Even, |seed| Spacing::Poisson { seed });
    let poisson = if args.poisson { ", Poisson" } else { "" };
    let closed = |users: u32, think: Duration, schedule: String| {
        if args.poisson {
            bail!(
                "--poisson applies to an arrival rate (--rate R or --stages), not to --users or --rate max"
            );
        }
        if users == 0 {
            bail!("invalid number of users: must be at least 1");
        }
        Ok(Plan {
            arrivals: Arrivals::Closed { users, think },
            duration,
            schedule,
            seed: None,
        })
    };
    if let Some(users) = args.users {
        let think = args.think.unwrap_or_default();
        return closed(
            users,
            think,
            format!("{users} users, think {}", format_duration(think)),
        );
    }
    if let Some(text) = &args.stages {
        let stages = schedule::parse_stages(text)?;
        let curve = RateCurve::from_stages(&stages)?;
        if curve.duration().is_zero() {
            bail!("invalid stages {text:?}: they last 0s");
        }
        return Ok(Plan {
            arrivals: schedule::open_arrivals(&curve, spacing, 1),
            duration: curve.duration(),
            schedule: format!("stages {text}{poisson}"),
            seed,
        });
    }
    let max = |connections: usize| {
        let users = u32::try_from(connections).unwrap_or(u32::MAX);
        closed(users, Duration::ZERO, "max".to_owned())
    };
    match args.rate.as_deref().map(str::trim) {
        Some(rate) if rate.eq_ignore_ascii_case("max") => max(args.concurrency.unwrap_or(64)),
        Some(text) => {
            let rate: f64 = text
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r > 0.0)
                .with_context(|| {
                    format!(
                        "invalid rate {text:?}: write requests per second (e.g. 100 or 2.5) or max"
                    )
                })?;
            let curve = RateCurve::constant(rate, duration)?;
            Ok(Plan {
                arrivals: schedule::open_arrivals(&curve, spacing, 1),
                duration,
                schedule: format!("constant {rate}/s{poisson}"),
                seed,
            })
        }
        None => match args.concurrency {
            Some(connections) => max(connections),
            None => bail!(
                "nothing says how fast to load: give --rate R, --rate max, --stages, --users N or --concurrency C"
            ),
        },
    }
}

/// Runs the engine as the CLI does: Ctrl-C stops it (the report of what
/// was sent still comes) and, on a terminal, a progress line over `total`
/// goes to stderr.
pub async fn run_on_terminal(
    target: &Target,
    workload: Workload,
    options: &EngineOptions,
    total: Duration,
) -> Result<LoadReport, engine::EngineError> {
    let cancel = CancellationToken::new();
    let interrupt = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        }
    });
    let (windows, progress) = if std::io::stderr().is_terminal() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(crate::traffic::progress::show(rx, total, std::io::stderr()));
        (Some(tx), Some(task))
    } else {
        (None, None)
    };
    let result = engine::run(target, workload, options, windows, cancel).await;
    interrupt.abort();
    if let Some(task) = progress {
        let _ = task.await;
    }
    result
}
