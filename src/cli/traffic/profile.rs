//! `understudy traffic profile`: extract a traffic profile from a log file,
//! stdin, a production container's log stream and/or a Prometheus range
//! query, then print it (JSON or a human summary) or write it to a file.
//!
//! With both a log source and `--prometheus`, the mix, peaks and edge cases
//! come from the logs and the rate curve (and so the peaks) from
//! Prometheus.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::domain::traffic::{Completeness, TrafficProfile};
use crate::domain::units::{format_duration, parse_duration};
use crate::platform::Docker;
use crate::traffic::capture;
use crate::traffic::parse::Format;
use crate::traffic::profile::{self, Extractor, render};
use crate::traffic::prometheus;

/// How long a Prometheus query may take.
const PROMETHEUS_TIMEOUT: Duration = Duration::from_secs(30);

/// Arguments of `understudy traffic profile`.
#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    /// An access log (nginx/Apache combined or common), JSON-lines log or
    /// HAR file; `-` reads stdin.
    #[arg(
        required_unless_present_any = ["from_container", "prometheus"],
        conflicts_with = "from_container"
    )]
    pub source: Option<String>,
    /// Print the profile as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the profile JSON to this file.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The source's format: auto, combined, jsonl, har, or the log format
    /// itself as the server's configuration writes it, an nginx
    /// `log_format` ('$remote_addr [$time_local] "$request" $status
    /// $body_bytes_sent $request_time') or an Apache `LogFormat` ('%h %l %u
    /// %t "%r" %>s %b %D').
    #[arg(long, alias = "log-format", default_value = "auto", value_parser = parse_format)]
    pub format: Format,
    /// Read the log stream (stdout) of this production container.
    #[arg(long, value_name = "NAME")]
    pub from_container: Option<String>,
    /// With --from-container: only the lines of this last period (1h, 30m);
    /// default all.
    // Checked in `run`: clap's `requires` is bypassed when the required
    // argument conflicts with a present one (clap-rs/clap#4520).
    #[arg(long, value_parser = parse_duration_arg)]
    pub since: Option<Duration>,
    /// A Prometheus query_range URL whose values are the request rate in
    /// req/s (e.g. sum(rate(http_requests_total[1m]))): the rate curve.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
        .map_err(|e: crate::traffic::parse::ParseError| e.to_string())
}

fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

pub async fn run(args: ProfileArgs) -> anyhow::Result<ExitCode> {
    if args.since.is_some() && args.from_container.is_none() {
        bail!("--since applies to --from-container NAME only");
    }
    let from_logs = read_logs(&args).await?;
    let profile = match (&args.prometheus, from_logs) {
        (Some(url), logs) => with_prometheus(url, logs).await?,
        (None, Some(p)) => p,
        (None, None) => {
            bail!("give a SOURCE file (or - for stdin), --from-container NAME or --prometheus URL")
        }
    };
    if profile.completeness.parsed == 0 {
        bail!(
            "no request could be read from {}: {}",
            profile.source,
            render::completeness_line(&profile.completeness)
        );
    }
    emit(&args, &profile)?;
    Ok(ExitCode::SUCCESS)
}

/// The profile of the log source, if one was given.
async fn read_logs(args: &ProfileArgs) -> anyhow::Result<Option<TrafficProfile>> {
    if let Some(source) = &args.source {
        let format = args.format.clone();
        let source = source.clone();
        let profile = tokio::task::spawn_blocking(move || capture::profile_source(&source, format))
            .await
            .context("the capture thread failed")??;
        return Ok(Some(profile));
    }
    let Some(name) = &args.from_container else {
        return Ok(None);
    };
    let docker = Docker::connect().await?;
    let mut x = Extractor::new();
    let captured =
        capture::from_container_with(&docker, name, args.since, args.format.clone(), |r| {
            x.push(&r);
        })
        .await?;
    let label = match args.since {
        Some(d) => format!("container {name} (last {})", format_duration(d)),
        None => format!("container {name}"),
    };
    Ok(Some(x.finish(captured.completeness, &label)))
}

/// The curve from Prometheus, on its own or replacing the logs' curve.
async fn with_prometheus(
    url: &str,
    logs: Option<TrafficProfile>,
) -> anyhow::Result<TrafficProfile> {
    let curve = prometheus::fetch(url, PROMETHEUS_TIMEOUT)
        .await
        .with_context(|| format!("querying Prometheus at {url}"))?;
    if let Some(p) = logs {
        let mut p = profile::with_rate(p, curve.start_s, curve.rate);
        p.source = format!("{}; rate from {url}", p.source);
        return Ok(p);
    }
    let mut completeness = Completeness {
        lines: curve.samples,
        parsed: curve.samples - curve.skipped,
        rejected: curve.skipped,
        ..Completeness::default()
    };
    if curve.skipped > 0 {
        completeness
            .reasons
            .insert("not a number".to_owned(), curve.skipped);
    }
    Ok(profile::rate_only(
        curve.start_s,
        curve.rate,
        url,
        completeness,
    ))
}

fn emit(args: &ProfileArgs, profile: &TrafficProfile) -> anyhow::Result<()> {
    let c = &profile.completeness;
    if let Some(path) = &args.output {
        let json = serde_json::to_string_pretty(profile)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
        if !args.json {
            println!(
                "wrote {}: {} requests over {} s, {} endpoints, {} peaks",
                path.display(),
                c.parsed,
                profile.rate.len(),
                profile.mix.len(),
                profile.peaks.len()
            );
        }
    }
    if args.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, profile)?;
        writeln!(out)?;
    }
    if args.json || args.output.is_some() {
        if c.rejected > 0 {
            eprintln!("understudy: {}", render::completeness_line(c));
        }
    } else {
        print!("{}", render::summary(profile));
    }
    Ok(())
}
