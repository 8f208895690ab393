//! `understudy traffic profile` (placeholder until capture lands).

use std::process::ExitCode;

/// Arguments of `understudy traffic profile`.
#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    /// A log file, HAR file or `-` for stdin.
    pub source: Option<String>,
}

#[allow(clippy::unused_async)]
pub async fn run(_args: ProfileArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("traffic profiles are not built yet")
}
