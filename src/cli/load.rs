//! `understudy load URL ...` (placeholder until the load engine lands).

use std::process::ExitCode;

/// Arguments of `understudy load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Target URL.
    pub url: String,
}

#[allow(clippy::unused_async)]
pub async fn run(_args: LoadArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the load engine is not built yet")
}
