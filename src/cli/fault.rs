//! `understudy fault list|apply|revert|stop-all|resume|schedule`.
//!
//! `fault apply` holds the fault in the foreground until its TTL or Ctrl-C
//! and reverts on exit (like pumba); `--detach` leaves it journalled for
//! `fault revert`, the console or `gc` (which reverts it once expired).
//! Every fault command first reverts what a dead process left.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;

use super::JsonArg;
use crate::domain::{Selector, labels};
use crate::fault::catalog::{self, FaultRequest};
use crate::fault::inject::{Applied, Injector};
use crate::fault::journal::Status;
use crate::fault::plan_targets::{self, Planned};
use crate::fault::target::TargetSpec;
use crate::fault::{netns, plan_file, schedule};
use crate::platform::{Docker, Platform};

/// Arguments of `understudy fault`.
#[derive(Debug, clap::Args)]
pub struct FaultArgs {
    #[command(subcommand)]
    pub command: FaultCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum FaultCommand {
    /// The catalog (kinds, parameters with units), what this host can do, and active faults.
    #[command(visible_alias = "ls")]
    List(JsonArg),
    /// Apply a fault to shadow containers; held until --ttl or Ctrl-C, then reverted.
    Apply(ApplyArgs),
    /// Revert faults by id (see `fault list`), or all.
    Revert(RevertArgs),
    /// Revert every fault and block new ones until `fault resume`.
    StopAll,
    /// Allow faults again after `stop-all`.
    Resume,
    /// Expand a schedule file into its timeline (with --dry-run), or run it.
    Schedule(ScheduleArgs),
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The fault kind (see `understudy fault list`).
    pub kind: String,
    /// SHADOW/SERVICE, SHADOW/SERVICE/N or SHADOW/FROM->TO.
    #[arg(
        long,
        required_unless_present = "container",
        conflicts_with = "container"
    )]
    pub target: Option<String>,
    /// A shadow container by name.
    #[arg(long)]
    pub container: Option<String>,
    /// Parameters with units, e.g. --set latency=200ms (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// How long the fault lasts.
    #[arg(long, default_value = "60s", value_parser = super::parse_duration_arg)]
    pub ttl: Duration,
    /// Leave the fault in place and exit (journalled; reverted by `fault revert`, or by `gc` once expired).
    #[arg(long)]
    pub detach: bool,
    /// Show the resolved targets and the exact operations; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RevertArgs {
    /// Fault ids.
    #[arg(required_unless_present = "all")]
    pub ids: Vec<String>,
    /// Every fault in the journal.
    #[arg(long, conflicts_with = "ids")]
    pub all: bool,
}

#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    /// The schedule file (TOML).
    pub file: std::path::PathBuf,
    /// Print the timeline and the operations of each entry; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Override the file's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn injector(docker: &Docker) -> Injector<Docker> {
    Injector::new(docker.clone(), &crate::telemetry::state_dir())
}

fn target(args: &ApplyArgs) -> anyhow::Result<TargetSpec> {
    match (&args.target, &args.container) {
        (Some(t), _) => Ok(t.parse()?),
        (None, Some(name)) => Ok(TargetSpec::Container { name: name.clone() }),
        (None, None) => anyhow::bail!("give --target or --container"),
    }
}

fn request(kind: &str, sets: &[String]) -> anyhow::Result<FaultRequest> {
    let sets = catalog::split_sets(sets)?;
    Ok(catalog::request(kind, &sets)?)
}

pub async fn run(args: FaultArgs) -> anyhow::Result<ExitCode> {
    // Validate what needs no engine first.
    if let FaultCommand::Apply(a) = &args.command {
        request(&a.kind, &a.sets)?;
        target(a)?;
    }
    let docker = Docker::connect().await?;
    let inj = injector(&docker);
    for r in inj.recover().await {
        eprintln!(
            "reverted fault {} ({} on {}) left by a process that is gone or expired",
            r.id, r.request.kind, r.target
        );
    }
    match args.command {
        FaultCommand::List(l) => list(&inj, l.json).await,
        FaultCommand::Apply(a) => apply(&docker, &inj, &a).await,
        FaultCommand::Revert(r) => {
            let ids = (!r.all).then_some(r.ids);
            let results = inj.revert_ids(ids.as_deref()).await;
            if results.is_empty() {
                println!("no active faults to revert");
            }
            let mut failed = false;
            for result in results {
                match result {
                    Ok(rec) => println!(
                        "reverted {} ({} on {})",
                        rec.id, rec.request.kind, rec.target
                    ),
                    Err((rec, e)) => {
                        failed = true;
                        eprintln!("revert of {} failed: {e}", rec.id);
                    }
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        FaultCommand::StopAll => {
            inj.set_stopped(true).context("writing the stop flag")?;
            let reverted = inj.recover().await;
            let swept = inj.sweep().await;
            println!(
                "faults stopped: {} reverted; new faults are refused until `understudy fault resume`",
                reverted.len()
            );
            for held in &swept.held_elsewhere {
                println!("left {held} (another state directory's live fault)");
            }
            for e in &swept.errors {
                eprintln!("sweep: {e}");
            }
            Ok(ExitCode::SUCCESS)
        }
        FaultCommand::Resume => {
            inj.set_stopped(false).context("clearing the stop flag")?;
            println!("faults allowed again");
            Ok(ExitCode::SUCCESS)
        }
        FaultCommand::Schedule(s) => schedule_cmd(&docker, &inj, &s).await,
    }
}

async fn list(inj: &Injector<Docker>, json: bool) -> anyhow::Result<ExitCode> {
    let caps = netns::detect();
    let active: Vec<_> = inj
        .journal()
        .records()
        .into_iter()
        .filter(|r| r.status.needs_revert())
        .collect();
    let elsewhere = inj
        .leases_elsewhere()
        .await
        .context("listing the fault leases on the engine")?;
    if json {
        let kinds: Vec<serde_json::Value> = catalog::KINDS
            .iter()
            .map(|k| serde_json::json!({"kind": k.name, "level": k.level, "help": k.help, "params": k.params.iter().map(catalog::ParamDef::describe).collect::<Vec<_>>()}))
            .chain(crate::proxy::model::FaultKind::ALL.iter().map(|k| serde_json::json!({"kind": k.name(), "level": "edge", "help": k.describe()})))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"kinds": kinds, "packet": caps, "stopped": inj.stopped(), "active": active, "elsewhere": elsewhere})
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("Fault kinds (parameters with units and defaults):");
    for k in catalog::KINDS {
        println!(
            "  {:<22} {:<9} {}",
            k.name,
            format!("{:?}", k.level).to_lowercase(),
            k.help
        );
        for p in k.params {
            println!("      {}", p.describe());
        }
    }
    for k in crate::proxy::model::FaultKind::ALL {
        println!("  {:<22} {:<9} {}", k.name(), "edge", k.describe());
    }
    match &caps.unavailable {
        None => println!(
            "Packet faults: available ({}; netem {})",
            caps.iptables.as_deref().unwrap_or("iptables"),
            if caps.netem {
                "available"
            } else {
                "missing: packet-latency falls back to the edge fault `latency`"
            }
        ),
        Some(why) => println!("Packet faults: unavailable here ({why})"),
    }
    if inj.stopped() {
        println!("Faults are STOPPED (`understudy fault resume` allows them again)");
    }
    if active.is_empty() {
        println!("No active faults.");
    }
    let now = crate::fault::inject::now_ms();
    for r in active {
        let left = time_left(r.expires_ms, now);
        println!(
            "  {} {:<14} {:<28} {:?} {left}{}",
            r.id,
            r.request.kind,
            r.target,
            r.status,
            if r.detached { " (detached)" } else { "" }
        );
    }
    if !elsewhere.is_empty() {
        println!("Faults other state directories hold on this engine (their leases):");
    }
    for l in elsewhere {
        let left = time_left(l.expires_ms, now);
        println!(
            "  {} {:<14} {:<28} {} by {}, {left}{}",
            l.fault_id,
            l.kind,
            l.target,
            l.containers.join(","),
            l.holder_text(),
            if l.detached { " (detached)" } else { "" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `42s left`, or `until reverted` for a fault without a TTL.
fn time_left(expires_ms: Option<u64>, now_ms: u64) -> String {
    expires_ms.map_or("until reverted".to_owned(), |e| {
        format!("{}s left", e.saturating_sub(now_ms) / 1000)
    })
}

async fn apply(docker: &Docker, inj: &Injector<Docker>, a: &ApplyArgs) -> anyhow::Result<ExitCode> {
    let req = request(&a.kind, &a.sets)?;
    let target = target(a)?;
    if a.dry_run {
        let dry = inj.dry_run(&req, &target).await?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&dry)?);
        } else {
            println!("{req} on {target}:");
            for s in &dry.compiled.steps {
                println!("  apply:  {s}");
            }
            for r in &dry.compiled.reverts {
                println!("  revert: {}", serde_json::to_string(r)?);
            }
            for n in &dry.compiled.notes {
                println!("  note:   {n}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let applied = inj.apply(&req, &target, Some(a.ttl), a.detach).await?;
    let r = &applied.record;
    if a.json {
        println!("{}", serde_json::to_string_pretty(r)?);
    } else {
        println!(
            "fault {}: {} on {} ({})",
            r.id,
            req,
            target,
            r.containers.join(", ")
        );
    }
    if a.detach {
        eprintln!(
            "detached: revert with `understudy fault revert {}` (or `understudy gc` after {}s)",
            r.id,
            a.ttl.as_secs()
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("holding for {}s; Ctrl-C reverts now", a.ttl.as_secs());
    hold(docker, inj, &applied, a.ttl).await;
    let mut record = applied.record.clone();
    if let Some(latest) = inj
        .journal()
        .records()
        .into_iter()
        .find(|x| x.id == record.id)
    {
        record.notes = latest.notes;
    }
    inj.revert(&mut record).await?;
    for n in &record.notes {
        eprintln!("note: {n}");
    }
    println!("fault {} reverted", record.id);
    Ok(ExitCode::SUCCESS)
}

/// Waits for the TTL or a signal; meanwhile re-applies packet rules when a
/// target restarts (a new network namespace) and reports OOM kills.
async fn hold(docker: &Docker, inj: &Injector<Docker>, applied: &Applied, ttl: Duration) {
    let selector = Selector::label(labels::SHADOW, &applied.record.shadow);
    let mut events = docker.events(Some(&selector), &["start", "oom", "die"]);
    let deadline = tokio::time::sleep(ttl);
    tokio::pin!(deadline);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        tokio::select! {
            () = &mut deadline => break,
            _ = tokio::signal::ctrl_c() => break,
            Some(()) = async { match term.as_mut() { Some(t) => t.recv().await, None => std::future::pending().await } } => break,
            Some(Ok(event)) = events.next() => {
                let name = event.attributes.get("name").cloned().unwrap_or_default();
                if !applied.record.containers.contains(&name) {
                    continue;
                }
                match event.action.as_str() {
                    "oom" => eprintln!("note: {name} was OOM-killed"),
                    "start" => {
                        if let Err(e) = inj.reapply_netns(&applied.steps, &name).await {
                            eprintln!("note: re-applying packet rules on restarted {name} failed: {e}");
                        } else if applied.steps.iter().any(|s| matches!(s, crate::fault::inject::compile::Step::Netns { .. })) {
                            eprintln!("note: {name} restarted; its packet rules were applied again");
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

fn print_timeline(
    timeline: &schedule::Timeline<Planned>,
    horizon: Duration,
    seed: u64,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        let events: Vec<_> = timeline.events.iter().map(|e| serde_json::json!({"at_ms": e.at.as_millis(), "until_ms": e.until.as_millis(), "target": e.target.name, "fault": e.fault.0.to_string()})).collect();
        let cut: Vec<_> = timeline.cut.iter().map(|c| serde_json::json!({"at_ms": c.event.at.as_millis(), "target": c.event.target.name, "fault": c.event.fault.0.to_string(), "reason": c.reason})).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"seed": seed, "events": events, "cut": cut})
            )?
        );
        return Ok(());
    }
    println!("timeline over {}s (seed {seed}):", horizon.as_secs());
    for e in &timeline.events {
        println!(
            "  {:>7.1}s - {:>7.1}s  {:<40} {}",
            e.at.as_secs_f64(),
            e.until.as_secs_f64(),
            e.target.name,
            e.fault.0
        );
    }
    for c in &timeline.cut {
        println!(
            "  cut at {:.1}s: {} on {}: {}",
            c.event.at.as_secs_f64(),
            c.event.fault.0,
            c.event.target.name,
            c.reason
        );
    }
    Ok(())
}

async fn schedule_cmd(
    docker: &Docker,
    inj: &Injector<Docker>,
    s: &ScheduleArgs,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&s.file)
        .with_context(|| format!("reading {}", s.file.display()))?;
    let file = plan_file::parse(&s.file.to_string_lossy(), &text)?;
    let listing = docker.list_containers(None).await?;
    let (entries, replicas) = plan_targets::resolve(&file, &listing)?;
    let seed = s.seed.unwrap_or(file.seed);
    let timeline = schedule::timeline(&entries, file.horizon, seed, file.limits, &replicas);
    print_timeline(&timeline, file.horizon, seed, s.json)?;
    if !s.dry_run {
        return run_timeline(inj, &timeline).await;
    }
    if !s.json {
        for e in &entries {
            let dry = inj.dry_run(&e.fault.0, &e.fault.1).await?;
            println!("{} on {}:", e.fault.0, e.fault.1);
            for step in &dry.compiled.steps {
                println!("  {step}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The concrete target of one timeline event.
fn event_target(e: &schedule::Event<Planned>) -> TargetSpec {
    if e.target.name == e.fault.1.to_string() {
        e.fault.1.clone()
    } else {
        TargetSpec::Container {
            name: e.target.name.clone(),
        }
    }
}

async fn run_timeline(
    inj: &Injector<Docker>,
    timeline: &schedule::Timeline<Planned>,
) -> anyhow::Result<ExitCode> {
    let start = tokio::time::Instant::now();
    let mut active: Vec<(tokio::time::Instant, crate::fault::journal::Record)> = Vec::new();
    let mut pending = timeline.events.iter().peekable();
    loop {
        let next_start = pending.peek().map(|e| start + e.at);
        let next_end = active.iter().map(|(until, _)| *until).min();
        let Some(wake) = [next_start, next_end].into_iter().flatten().min() else {
            break;
        };
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        let now = tokio::time::Instant::now();
        let (due, keep): (Vec<_>, Vec<_>) =
            active.into_iter().partition(|(until, _)| *until <= now);
        active = keep;
        for (_, mut r) in due {
            let _ = inj.revert(&mut r).await;
            println!(
                "{:>7.1}s reverted {} ({})",
                now.duration_since(start).as_secs_f64(),
                r.id,
                r.request.kind
            );
        }
        while let Some(e) = pending.peek() {
            if start + e.at > now {
                break;
            }
            let single = event_target(e);
            match inj
                .apply(
                    &e.fault.0,
                    &single,
                    Some(e.until.saturating_sub(e.at)),
                    false,
                )
                .await
            {
                Ok(applied) => {
                    println!(
                        "{:>7.1}s applied {} {} on {}",
                        now.duration_since(start).as_secs_f64(),
                        applied.record.id,
                        e.fault.0,
                        single
                    );
                    active.push((start + e.until, applied.record));
                }
                Err(err) => eprintln!(
                    "{:>7.1}s {} on {} failed: {err}",
                    now.duration_since(start).as_secs_f64(),
                    e.fault.0,
                    single
                ),
            }
            pending.next();
        }
    }
    for (_, mut r) in active {
        let _ = inj.revert(&mut r).await;
        println!("reverted {} ({})", r.id, r.request.kind);
    }
    let left = inj
        .journal()
        .records()
        .into_iter()
        .filter(|r| r.status == Status::Active)
        .count();
    Ok(if left == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
