//! `understudy demo [build|up|status|down]`.
//!
//! `demo` alone builds the image, brings the project up and opens the console
//! on it; without a terminal on stdout it prints the status and exits 0.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use super::{DemoArgs, DemoCommand};
use crate::demo::{image, lifecycle};
use crate::platform::Docker;

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let project = args.project;
    crate::demo::project::validate_project(&project)?;
    let docker = Docker::connect().await?;
    match args.command {
        Some(DemoCommand::Build) => {
            let image = image::ensure(&docker, true).await?;
            println!(
                "image: {} {} built in {:.2}s",
                image.reference,
                short(&image.id),
                image.elapsed.as_secs_f64()
            );
        }
        Some(DemoCommand::Up(up)) => {
            let report = bring_up(&docker, &project, Duration::from_secs(up.timeout)).await?;
            if up.json {
                println!("{}", serde_json::to_string_pretty(&report.status)?);
            }
        }
        Some(DemoCommand::Status(s)) => {
            let status = lifecycle::status(&docker, &project).await?;
            if s.json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print_status(&status);
            }
        }
        Some(DemoCommand::Traffic(t)) => return traffic(&docker, &project, &t).await,
        Some(DemoCommand::Down(d)) => {
            let removed = lifecycle::down(&docker, &project, d.images).await?;
            if removed.is_empty() {
                println!("{project}: nothing to remove");
            }
            for r in removed {
                println!("removed {r}");
            }
        }
        None => {
            bring_up(&docker, &project, Duration::from_secs(60)).await?;
            if std::io::stdout().is_terminal() {
                let options = crate::console::Options {
                    group: Some(project),
                    ..crate::console::Options::default()
                };
                crate::console::run(docker, options).await?;
            } else {
                // `bring_up` printed the gateway already.
                print_containers(&lifecycle::status(&docker, &project).await?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `demo traffic`: the compressed day against the project's gateway. The
/// run starts on a whole second, so second k of the run is wall-clock
/// second `start_unix + k`, as access logs count it.
async fn traffic(
    docker: &Docker,
    project: &str,
    args: &super::DemoTrafficArgs,
) -> anyhow::Result<ExitCode> {
    let status = lifecycle::status(docker, project).await?;
    let gateway = status.gateway.with_context(|| {
        format!("{project} is not running (start it with `understudy demo up`)")
    })?;
    let seconds = u32::try_from(args.duration.as_secs().max(1)).unwrap_or(u32::MAX);
    let profile = crate::demo::traffic::day_profile(seconds, args.peak, args.seed);
    let plan = crate::traffic::replay::plan(
        &profile,
        &crate::traffic::replay::ReplayOptions {
            seed: args.seed,
            ..Default::default()
        },
    )?;
    let mut mix: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for a in &plan.arrivals {
        *mix.entry(plan.requests[a.request].endpoint.clone())
            .or_default() += 1;
    }
    let target = plan.target.clone();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let start_unix = now.as_secs() + 1;
    let wait = Duration::from_secs(start_unix)
        .saturating_sub(now)
        .saturating_sub(Duration::from_millis(10));
    tokio::time::sleep(wait).await;
    eprintln!(
        "{project}: a {seconds}s day peaking at {} rps against {gateway}",
        args.peak
    );
    let report = super::traffic::drive(&gateway, plan, 64, Duration::from_secs(5)).await?;
    let sent =
        serde_json::json!({"start_unix": start_unix, "rate": target, "mix": mix, "report": report});
    match args.json.as_deref() {
        Some(p) if p.as_os_str() == "-" => println!("{}", serde_json::to_string_pretty(&sent)?),
        Some(p) => std::fs::write(p, serde_json::to_string_pretty(&sent)?)
            .with_context(|| format!("writing {}", p.display()))?,
        None => {}
    }
    eprint!("{}", report.summary());
    Ok(ExitCode::SUCCESS)
}

fn short(id: &str) -> &str {
    let id = id.trim_start_matches("sha256:");
    id.get(..12).unwrap_or(id)
}

async fn bring_up(
    docker: &Docker,
    project: &str,
    timeout: Duration,
) -> anyhow::Result<lifecycle::UpReport> {
    eprintln!("{project}: preparing image {} ...", image::IMAGE);
    let report = lifecycle::up(docker, project, timeout)
        .await
        .with_context(|| format!("bringing up the demo project {project:?}"))?;
    let verb = if report.image.built {
        "built"
    } else {
        "up to date"
    };
    eprintln!(
        "image: {} {} {verb} ({:.2}s)",
        report.image.reference,
        short(&report.image.id),
        report.image.elapsed.as_secs_f64()
    );
    eprintln!(
        "{project}: {} containers healthy in {:.2}s ({} created, {} kept)",
        report.status.containers.len(),
        report.ready_after.as_secs_f64(),
        report.created,
        report.kept
    );
    match &report.status.gateway {
        Some(url) => println!("gateway: {url}"),
        None => anyhow::bail!("the gateway of {project:?} publishes no port on 127.0.0.1"),
    }
    Ok(report)
}

fn print_status(status: &lifecycle::DemoStatus) {
    if status.containers.is_empty() {
        println!(
            "{}: not running (start it with `understudy demo up`)",
            status.project
        );
        return;
    }
    if let Some(url) = &status.gateway {
        println!("gateway: {url}");
    }
    print_containers(status);
}

fn print_containers(status: &lifecycle::DemoStatus) {
    for c in &status.containers {
        println!(
            "{:<24} {:<10} {:<9} {}",
            c.name, c.service, c.state, c.health
        );
    }
}
