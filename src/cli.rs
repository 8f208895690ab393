//! Command-line interface: the clap definitions, dispatch to the handlers in
//! `cli/`, and the mapping from errors to exit codes.
//!
//! Exit codes: 0 success, 1 failure, 2 usage error (clap), 69 the Docker
//! daemon cannot be reached (`EX_UNAVAILABLE`).

mod demo;
mod detect;
mod fault;
mod gc;
mod groups;
mod history;
mod load;
mod proxy;
mod shadow;
mod traffic;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::platform::{Docker, PlatformError};

/// Exit code when the Docker daemon does not answer.
pub const EXIT_UNAVAILABLE: u8 = 69;

/// understudy: rehearse failure on an understudy of production.
#[derive(Debug, Parser)]
#[command(name = "understudy", version, about, long_about = None)]
pub struct Cli {
    /// Write logs to this file (default: a file under the state directory
    /// while the console runs, stderr otherwise).
    #[arg(long, global = true, env = "UNDERSTUDY_LOG_FILE")]
    pub log_file: Option<PathBuf>,

    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the console (the default when no command is given).
    Console(ConsoleArgs),
    /// List the groups (compose projects) on the engine.
    Groups(GroupsArgs),
    /// The built-in sample production "shop": build, bring up, show, remove.
    Demo(DemoArgs),
    /// Write a group's Spec (its declarative capture) as TOML.
    Snapshot(SnapshotArgs),
    /// Shadow deployments: plan, up, ls, down, gc.
    Shadow(ShadowArgs),
    /// Load a URL: constant rate, stages, Poisson or closed-model users;
    /// latency corrected for coordinated omission.
    Load(load::LoadArgs),
    /// Traffic profiles from production, and their replay.
    Traffic(traffic::TrafficArgs),
    /// Failure injection into shadows: list, apply, revert, stop-all, schedule.
    Fault(fault::FaultArgs),
    /// Revert faults and remove shadows that a dead process left behind.
    Gc(JsonArg),
    /// CPU burner for the resource-hijack drill (runs inside a shadow container).
    #[command(hide = true)]
    Burn(BurnArgs),
    /// Score a `timestamp,value` CSV with the streaming anomaly detector.
    Detect(detect::DetectArgs),
    /// Watch production and a shadow side by side: alerts and the judge.
    Watch(watch::WatchArgs),
    /// The watch runs SQLite kept: list them, or one in full with its alerts.
    History(history::HistoryArgs),
    /// Run one role of the demo application (used inside its containers).
    #[command(hide = true)]
    Shop(ShopArgs),
    /// HTTP health probe: exit 0 when URL answers 2xx (used by healthchecks).
    Probe(ProbeArgs),
    /// L4 relay, a shadow's ingress (runs inside its container).
    #[command(hide = true)]
    Relay(RelayArgs),
    /// The fault proxy (L4/L7, like Toxiproxy): run it, or drive one with `proxy ctl`.
    Proxy(proxy::ProxyArgs),
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Routes `LISTEN_PORT=HOST:PORT`, e.g. `10000=gateway:8080`.
    #[arg(required = true)]
    pub routes: Vec<String>,
}

/// Which group to capture: exactly one of these.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct SourceArgs {
    /// A compose project on the engine (see `understudy groups`).
    #[arg(long, short = 'g')]
    pub group: Option<String>,
    /// Running containers matching labels, e.g. `app=shop,tier=web`.
    #[arg(long, value_parser = parse_selector)]
    pub selector: Option<crate::domain::Selector>,
    /// A compose file whose images are already on the engine.
    #[arg(long)]
    pub compose: Option<PathBuf>,
    /// A Spec file written by `understudy snapshot`.
    #[arg(long)]
    pub spec: Option<PathBuf>,
}

fn parse_selector(s: &str) -> Result<crate::domain::Selector, String> {
    s.parse()
        .map_err(|e: crate::domain::selector::SelectorError| e.to_string())
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Project name for --compose (default: the file's `name:` or directory).
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// Write the Spec here instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ShadowArgs {
    #[command(subcommand)]
    pub command: ShadowCommand,
}

#[derive(Debug, Subcommand)]
pub enum ShadowCommand {
    /// Show what `shadow up` would create and every rewrite, without side effects.
    Plan(ShadowPlanArgs),
    /// Create (or converge) a shadow and wait until it is ready.
    Up(ShadowUpArgs),
    /// List shadows.
    #[command(visible_alias = "list")]
    Ls(JsonArg),
    /// Remove a shadow (or all) and everything it created.
    Down(ShadowDownArgs),
    /// Remove shadows nobody tracks any more (after a crash or SIGKILL).
    Gc(JsonArg),
}

#[derive(Debug, Clone, Args)]
pub struct PlanChoiceArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Project name for --compose.
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// Entry service(s) reached through the ingress (default: those that publish ports).
    #[arg(long)]
    pub entry: Vec<String>,
    /// What to do with volumes and bind mounts.
    #[arg(long, value_enum, default_value = "snapshot")]
    pub volumes: crate::shadow::plan::VolumeMode,
    /// Accept a setting that is refused by default.
    #[arg(long, value_enum)]
    pub allow: Vec<crate::shadow::plan::Allowance>,
    /// Pause each production container while its data is copied.
    #[arg(long)]
    pub consistent: bool,
    /// Address pool for shadow subnets (default 10.213.0.0/16, or UNDERSTUDY_SUBNET_POOL).
    #[arg(long, value_parser = parse_cidr)]
    pub subnet_pool: Option<crate::shadow::subnet::Ipv4Net>,
    /// Converge this shadow id.
    #[arg(long)]
    pub id: Option<String>,
    /// Always create another shadow, even if the group has one.
    #[arg(long, conflicts_with = "id")]
    pub new: bool,
    /// No fault proxies on the service edges (edge faults then need them back).
    #[arg(long)]
    pub no_proxies: bool,
}

fn parse_cidr(s: &str) -> Result<crate::shadow::subnet::Ipv4Net, String> {
    s.parse()
        .map_err(|e: crate::shadow::subnet::CidrError| e.to_string())
}

#[derive(Debug, Args)]
pub struct ShadowPlanArgs {
    #[command(flatten)]
    pub choices: PlanChoiceArgs,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShadowUpArgs {
    #[command(flatten)]
    pub choices: PlanChoiceArgs,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// How long every clone may take to become ready.
    #[arg(long, default_value = "60s", value_parser = parse_duration_arg)]
    pub timeout: std::time::Duration,
    /// Keep what was created when a clone never becomes ready.
    #[arg(long)]
    pub keep_failed: bool,
}

#[derive(Debug, Args)]
pub struct ShadowDownArgs {
    /// The shadow id (see `understudy shadow ls`).
    #[arg(required_unless_present = "all")]
    pub id: Option<String>,
    /// Every shadow.
    #[arg(long, conflicts_with = "id")]
    pub all: bool,
}

#[derive(Debug, Args, Default)]
pub struct ConsoleArgs {
    /// Select this group (compose project) first.
    #[arg(long, short = 'g')]
    pub group: Option<String>,
    /// A theme file (see themes/); else UNDERSTUDY_THEME; else the built-in one.
    #[arg(long)]
    pub theme: Option<PathBuf>,
    /// A body for a write endpoint the Load tab replays, `METHOD
    /// /path/template=BODY` (repeatable): access logs record none.
    #[arg(long = "body", value_name = "ENDPOINT=BODY")]
    pub bodies: Vec<String>,
    /// The entries' access-log format, for the Metrics tab's watch and a
    /// replayed log (see `watch --log-format`).
    #[arg(long, value_name = "FORMAT", value_parser = watch::parse_log_format)]
    pub log_format: Option<std::sync::Arc<crate::traffic::parse::LogTemplate>>,
}

#[derive(Debug, Args)]
pub struct GroupsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Compose project name of the demo production.
    #[arg(
        long,
        short = 'p',
        global = true,
        default_value = "shop",
        env = "UNDERSTUDY_DEMO_PROJECT"
    )]
    pub project: String,

    #[command(subcommand)]
    pub command: Option<DemoCommand>,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Build the image (`understudy:latest`) from this binary, offline.
    Build,
    /// Build if needed, then create the project and wait until healthy.
    Up(DemoUpArgs),
    /// Print the project's containers and gateway URL.
    Status(JsonArg),
    /// Remove the project's containers, network and volume.
    Down(DemoDownArgs),
    /// Play production's users against the gateway: a compressed day.
    Traffic(DemoTrafficArgs),
}

#[derive(Debug, Args)]
pub struct DemoUpArgs {
    /// Seconds to wait for every container to become healthy.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Print the status as JSON when ready.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoTrafficArgs {
    /// How long the compressed day lasts.
    #[arg(long, default_value = "60s", value_parser = parse_duration_arg)]
    pub duration: std::time::Duration,
    /// Requests per second at the lunch peak.
    #[arg(long, default_value_t = 40)]
    pub peak: u32,
    /// Seed for the bursts and the users' choices.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Write what was sent (the load report plus the intended curve and
    /// mix, aligned to wall-clock seconds) here; `-` for stdout.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoDownArgs {
    /// Also remove the images the demo built.
    #[arg(long)]
    pub images: bool,
}

#[derive(Debug, Args)]
pub struct BurnArgs {
    /// The fault id (its stop file is `/.understudy-burn-stop-<ID>`).
    #[arg(long)]
    pub id: String,
    /// Stop after this long at the latest.
    #[arg(long = "for", default_value = "1h", value_parser = parse_duration_arg)]
    pub duration: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShopArgs {
    #[arg(value_enum)]
    pub role: crate::demo::roles::Role,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// URL to GET, e.g. http://127.0.0.1:8080/healthz (IP literal hosts only).
    pub url: String,
    /// Give up after this long.
    #[arg(long, default_value = "2s", value_parser = parse_duration_arg)]
    pub timeout: std::time::Duration,
}

fn parse_duration_arg(s: &str) -> Result<std::time::Duration, String> {
    crate::domain::units::parse_duration(s).map_err(|e| e.to_string())
}

impl Cli {
    /// Whether this invocation hands the terminal to the console.
    pub fn opens_console(&self) -> bool {
        use std::io::IsTerminal;
        match &self.command {
            None | Some(Command::Console(_)) => true,
            Some(Command::Demo(d)) => d.command.is_none() && std::io::stdout().is_terminal(),
            _ => false,
        }
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(dispatch(cli))
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => console(ConsoleArgs::default()).await,
        Some(Command::Console(args)) => console(args).await,
        Some(Command::Groups(args)) => groups::run(&args).await,
        Some(Command::Demo(args)) => demo::run(args).await,
        Some(Command::Snapshot(args)) => shadow::snapshot(args).await,
        Some(Command::Shadow(args)) => shadow::run(args).await,
        Some(Command::Load(args)) => load::run(args).await,
        Some(Command::Traffic(args)) => traffic::run(args).await,
        Some(Command::Detect(args)) => detect::run(&args),
        Some(Command::Watch(args)) => watch::run(args).await,
        Some(Command::History(args)) => history::run(args).await,
        Some(Command::Fault(args)) => fault::run(args).await,
        Some(Command::Gc(args)) => gc::run(args.json).await,
        Some(Command::Burn(args)) => {
            crate::fault::burn::run(&args.id, args.duration, std::path::Path::new("/"))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Shop(args)) => {
            crate::demo::roles::run(args.role).await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Probe(args)) => Ok(crate::demo::probe::run(&args.url, args.timeout).await),
        Some(Command::Proxy(args)) => proxy::run(args).await,
        Some(Command::Relay(args)) => {
            crate::relay::run(&args.routes).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn console(args: ConsoleArgs) -> anyhow::Result<ExitCode> {
    let docker = Docker::connect().await?;
    let options = crate::console::Options {
        group: args.group,
        theme: args.theme,
        bodies: crate::traffic::replay::parse_body_overrides(&args.bodies)?,
        log_format: args.log_format,
    };
    crate::console::run(docker, options).await?;
    Ok(ExitCode::SUCCESS)
}

/// The error chain as one line.
pub fn describe(error: &anyhow::Error) -> String {
    if let Some(p) = error.downcast_ref::<PlatformError>() {
        if matches!(p, PlatformError::Unreachable { .. }) {
            return p.to_string();
        }
    }
    format!("{error:#}")
}

/// The exit code an error maps to.
pub fn exit_code(error: &anyhow::Error) -> ExitCode {
    let unreachable = error.chain().any(|e| {
        matches!(
            e.downcast_ref::<PlatformError>(),
            Some(PlatformError::Unreachable { .. })
        )
    });
    if unreachable {
        ExitCode::from(EXIT_UNAVAILABLE)
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::{Cli, Command, ShadowCommand};
    use crate::cli::fault::FaultCommand;

    /// `ls` and `list` both list, under `shadow` and `fault` alike: an
    /// operator should not have to remember which spelling each one took.
    #[test]
    fn both_listing_spellings_parse_under_shadow_and_fault() {
        for word in ["ls", "list"] {
            let shadow = Cli::try_parse_from(["understudy", "shadow", word, "--json"]).unwrap();
            assert!(
                matches!(&shadow.command, Some(Command::Shadow(a)) if matches!(&a.command, ShadowCommand::Ls(j) if j.json)),
                "shadow {word}: {shadow:?}"
            );
            let fault = Cli::try_parse_from(["understudy", "fault", word]).unwrap();
            assert!(
                matches!(&fault.command, Some(Command::Fault(a)) if matches!(a.command, FaultCommand::List(_))),
                "fault {word}: {fault:?}"
            );
        }
    }
}
