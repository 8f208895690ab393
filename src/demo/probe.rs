//! Health probe. (Placeholder.)

use std::process::ExitCode;
use std::time::Duration;

#[allow(clippy::unused_async)]
pub async fn run(_url: &str, _timeout: Duration) -> ExitCode {
    ExitCode::FAILURE
}
