//! The terminal console. (Placeholder until the console lands.)

use crate::platform::Platform;

#[derive(Debug, Default, Clone)]
pub struct Options {}

#[allow(clippy::unused_async)]
pub async fn run<P: Platform>(_platform: P, _options: Options) -> anyhow::Result<()> {
    anyhow::bail!("the console is not built yet")
}
