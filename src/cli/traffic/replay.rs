//! `understudy traffic replay PROFILE|SOURCE --target URL [--speed N]
//! [--scale K] [--peak-boost K] [--edge-cases P%] [--seed S]`: a profile (or
//! a source `traffic profile` reads) replayed against a target — its curve
//! compressed and scaled, the biggest peak amplified, a share drawn from the
//! edge cases, the mix preserved, deterministic for a seed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::domain::traffic::TrafficProfile;
use crate::traffic::engine::{EngineOptions, Target};
use crate::traffic::replay::{self, ReplayOptions, ReplayPlan};
use crate::traffic::report::LoadReport;

/// Arguments of `understudy traffic replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// A profile file (`understudy.profile/v1` JSON), or a log / HAR file
    /// `traffic profile` reads.
    pub source: PathBuf,
    /// The base URL to replay against (e.g. a shadow's entry URL).
    #[arg(long)]
    pub target: String,
    /// Time compression: 4 plays a minute of production in 15 s.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Height: 2 sends twice production's rate.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Extra factor on the biggest peak's seconds.
    #[arg(long, default_value_t = 1.0)]
    pub peak_boost: f64,
    /// Share of requests drawn from the profile's edge cases, e.g. 5%.
    #[arg(long, default_value = "0%", value_parser = parse_share)]
    pub edge_cases: f64,
    /// Seed for the request choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A body for a write endpoint, `METHOD /path/template=BODY` (repeatable).
    #[arg(long = "body")]
    pub bodies: Vec<String>,
    /// Connection pool limit.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Per-request timeout.
    #[arg(long, default_value = "5s", value_parser = crate::cli::parse_duration_arg)]
    pub timeout: Duration,
    /// Write the load report (`understudy.load/v1`) here; `-` for stdout.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Format of a non-profile source: auto, combined, jsonl, har, or an
    /// nginx `log_format` / Apache `LogFormat` (see `traffic profile`).
    #[arg(long, alias = "log-format", default_value = "auto")]
    pub format: String,
}

fn parse_share(text: &str) -> Result<f64, String> {
    crate::proxy::quantity::parse_share(text)
}

/// Loads a profile file, or extracts one from a log source.
pub fn load_profile(path: &Path, format: &str) -> anyhow::Result<TrafficProfile> {
    let format: crate::traffic::parse::Format = format.parse()?;
    Ok(crate::traffic::capture::load_profile(path, format)?)
}

/// Runs a replay plan against `url`, with a live line on a terminal.
pub async fn drive(
    url: &str,
    plan: ReplayPlan,
    concurrency: usize,
    timeout: Duration,
) -> anyhow::Result<LoadReport> {
    let target = Target::resolve(url).await?;
    let duration = plan.duration;
    let (workload, period) = plan.into_workload();
    let options = EngineOptions {
        duration: period,
        concurrency,
        timeout,
        per_endpoint: true,
        ..EngineOptions::default()
    };
    Ok(crate::cli::load::run_on_terminal(&target, workload, &options, duration).await?)
}

/// Prints the plan's notes and what it sends (`what`: whose traffic), on
/// stderr.
pub fn announce(plan: &ReplayPlan, what: &str, options: &ReplayOptions) {
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "replaying {} requests over {:.1}s ({what} at speed {}, scale {})",
        plan.arrivals.len(),
        plan.duration.as_secs_f64(),
        options.speed,
        options.scale
    );
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let profile = load_profile(&args.source, &args.format)?;
    let bodies = replay::parse_body_overrides(&args.bodies)?;
    let options = ReplayOptions {
        speed: args.speed,
        scale: args.scale,
        peak_boost: args.peak_boost,
        edge_share: args.edge_cases,
        seed: args.seed,
        bodies,
    };
    let plan = replay::plan(&profile, &options)?;
    announce(
        &plan,
        &format!("{} of production", profile.source),
        &options,
    );
    let report = drive(&args.target, plan, args.concurrency, args.timeout).await?;
    super::super::load::finish(&report, args.json.as_deref())
}
