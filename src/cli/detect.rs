//! `understudy detect` (placeholder until the detectors land).

use std::process::ExitCode;

/// Arguments of `understudy detect`.
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// A `timestamp,value` CSV file (header first).
    pub file: Option<std::path::PathBuf>,
    /// Read the CSV from stdin.
    #[arg(long)]
    pub stdin: bool,
}

pub fn run(_args: &DetectArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the detectors are not built yet")
}
