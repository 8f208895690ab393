//! `understudy demo ...` handlers. (Placeholder.)

use std::process::ExitCode;

use super::DemoArgs;

#[allow(clippy::unused_async)]
pub async fn run(_args: DemoArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
