//! `understudy traffic profile|replay`.

mod profile;
mod replay;

pub use replay::{announce, drive};

use std::process::ExitCode;

pub use profile::ProfileArgs;
pub use replay::ReplayArgs;

/// Arguments of `understudy traffic`.
#[derive(Debug, clap::Args)]
pub struct TrafficArgs {
    #[command(subcommand)]
    pub command: TrafficCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TrafficCommand {
    /// Extract a traffic profile (rate curve, mix, peaks, edge cases) from
    /// access logs, JSON lines, HAR, a container's log stream or Prometheus.
    Profile(ProfileArgs),
    /// Replay a profile (or a source) against a target, faster or bigger.
    Replay(ReplayArgs),
}

pub async fn run(args: TrafficArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TrafficCommand::Profile(a) => profile::run(a).await,
        TrafficCommand::Replay(a) => replay::run(a).await,
    }
}
