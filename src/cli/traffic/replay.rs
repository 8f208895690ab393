//! `understudy traffic replay` (placeholder until replay lands).

use std::process::ExitCode;

/// Arguments of `understudy traffic replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// A profile file, or a source `traffic profile` reads.
    pub source: String,
}

#[allow(clippy::unused_async)]
pub async fn run(_args: ReplayArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("replay is not built yet")
}
