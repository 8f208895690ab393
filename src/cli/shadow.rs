//! `understudy snapshot` and `understudy shadow plan|up|ls|down|gc`.

use std::process::ExitCode;

use anyhow::Context;

use super::{PlanChoiceArgs, ShadowArgs, ShadowCommand, SnapshotArgs, SourceArgs};
use crate::demo::image;
use crate::platform::Docker;
use crate::shadow::prepare::{self, Choices, Source};
use crate::shadow::{apply, plan, teardown};

fn source(args: &SourceArgs, project: Option<&String>) -> Source {
    if let Some(g) = &args.group {
        Source::Group(g.clone())
    } else if let Some(s) = &args.selector {
        Source::Selector(s.clone())
    } else if let Some(path) = &args.compose {
        Source::Compose {
            path: path.clone(),
            project: project.cloned(),
        }
    } else {
        Source::SpecFile(args.spec.clone().unwrap_or_default())
    }
}

fn choices(args: &PlanChoiceArgs) -> Choices {
    Choices {
        id: args.id.clone(),
        new: args.new,
        entry: args.entry.clone(),
        volumes: args.volumes,
        allow: args.allow.clone(),
        consistent: args.consistent,
        pool: args.subnet_pool,
        no_proxies: args.no_proxies,
    }
}

async fn captured(
    docker: &Docker,
    args: &PlanChoiceArgs,
) -> anyhow::Result<crate::domain::GroupSpec> {
    let captured =
        prepare::capture_spec(docker, &source(&args.source, args.project.as_ref())).await?;
    for w in &captured.warnings {
        eprintln!("warning: {w}");
    }
    Ok(captured.spec)
}

pub async fn snapshot(args: SnapshotArgs) -> anyhow::Result<ExitCode> {
    let source = source(&args.source, args.project.as_ref());
    prepare::check_offline(&source)?;
    let docker = Docker::connect().await?;
    let captured = prepare::capture_spec(&docker, &source).await?;
    for w in &captured.warnings {
        eprintln!("warning: {w}");
    }
    let text = toml::to_string_pretty(&captured.spec).context("serializing the Spec")?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "wrote the Spec of {} ({} services) to {}",
                captured.spec.group,
                captured.spec.services.len(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(args: ShadowArgs) -> anyhow::Result<ExitCode> {
    if let ShadowCommand::Plan(super::ShadowPlanArgs { choices, .. })
    | ShadowCommand::Up(super::ShadowUpArgs { choices, .. }) = &args.command
    {
        prepare::check_offline(&source(&choices.source, choices.project.as_ref()))?;
    }
    let docker = Docker::connect().await?;
    match args.command {
        ShadowCommand::Plan(p) => {
            let spec = captured(&docker, &p.choices).await?;
            let plan = prepare::plan_for(&docker, &spec, &choices(&p.choices)).await?;
            if p.json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                print!("{}", plan::render_text(&plan));
            }
            Ok(if plan.is_refused() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        ShadowCommand::Up(u) => {
            let spec = captured(&docker, &u.choices).await?;
            let plan = prepare::plan_for(&docker, &spec, &choices(&u.choices)).await?;
            if plan.is_refused() {
                eprint!("{}", plan::render_text(&plan));
                anyhow::bail!("the plan is refused; see above (use --allow to accept a setting)");
            }
            if plan.ingress.is_some() {
                image::ensure(&docker, false)
                    .await
                    .context("preparing the ingress image")?;
            }
            if !u.json {
                eprintln!("shadow {} of {}: creating ...", plan.id, plan.group);
            }
            let options = apply::ApplyOptions {
                timeout: u.timeout,
                keep_failed: u.keep_failed,
            };
            let report = apply::apply(&docker, &plan, &options)
                .await
                .with_context(|| format!("shadow {} of {}", plan.id, plan.group))?;
            if u.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            Ok(ExitCode::SUCCESS)
        }
        ShadowCommand::Ls(l) => ls(&docker, l.json).await,
        ShadowCommand::Down(d) => {
            let ids: Vec<String> = if d.all {
                teardown::shadows(&docker)
                    .await?
                    .into_iter()
                    .map(|s| s.id)
                    .collect()
            } else {
                vec![d.id.unwrap_or_default()]
            };
            if ids.is_empty() {
                println!("no shadows");
            }
            for id in ids {
                let removed = teardown::down(&docker, &id).await?;
                println!(
                    "shadow {id}: removed {} containers, {} networks, {} volumes",
                    removed.containers.len(),
                    removed.networks.len(),
                    removed.volumes.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ShadowCommand::Gc(g) => gc(&docker, g.json).await,
    }
}

/// Says on stderr which shadows `gc` could not remove; exit 1 if any,
/// everything else having been done.
pub(super) fn gc_status(report: &teardown::GcReport) -> ExitCode {
    for e in &report.errors {
        eprintln!("gc: {e}");
    }
    if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `shadow gc`: removes abandoned shadows; exit 1 if one could not be removed.
async fn gc(docker: &Docker, json: bool) -> anyhow::Result<ExitCode> {
    let report = teardown::gc(docker).await?;
    let status = gc_status(&report);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if report.removed.is_empty() && report.errors.is_empty() {
        println!("nothing to collect");
    } else {
        for (removed, reason) in &report.removed {
            println!(
                "shadow {}: {reason}; removed {} containers, {} networks, {} volumes",
                removed.id,
                removed.containers.len(),
                removed.networks.len(),
                removed.volumes.len()
            );
        }
    }
    Ok(status)
}

fn print_report(report: &apply::ApplyReport) {
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    for c in &report.containers {
        println!(
            "  {:<40} ready in {:>5} ms ({}, {:?})",
            c.name, c.ready_ms, c.action, c.via
        );
    }
    println!(
        "shadow {} of {} ready in {} ms",
        report.id, report.group, report.ready_ms
    );
    for (service, url) in &report.entry {
        println!("{service}: {url}");
    }
}

async fn ls(docker: &Docker, json: bool) -> anyhow::Result<ExitCode> {
    let shadows = teardown::shadows(docker).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&shadows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if shadows.is_empty() {
        println!("no shadows");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<8} {:<20} {:<9} {:<8} ENTRY",
        "ID", "GROUP", "STATUS", "RUNNING"
    );
    for s in shadows {
        let status = if s.ready { "ready" } else { "partial" };
        let entry: Vec<String> = s.entry.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "{:<8} {:<20} {:<9} {:<8} {}",
            s.id,
            s.group,
            status,
            format!("{}/{}", s.running, s.containers),
            entry.join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
