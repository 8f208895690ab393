//! Tracing setup. While the console owns the screen, logs go to a file
//! (`--log-file`, else `$XDG_STATE_HOME/understudy/understudy.log`, else
//! `~/.local/state/understudy/understudy.log`); otherwise to stderr.
//! `RUST_LOG` overrides the level chosen by `-v`.

use std::path::PathBuf;
use std::sync::OnceLock;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::cli::Cli;

/// The directory for understudy's state (logs, journals, history).
pub fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("UNDERSTUDY_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("understudy");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".local/state/understudy");
    }
    std::env::temp_dir().join("understudy")
}

fn filter(verbose: u8) -> EnvFilter {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},hyper=warn,bollard=warn,h2=warn")))
}

static LOCAL_OFFSET: OnceLock<Option<time::UtcOffset>> = OnceLock::new();

/// The local UTC offset, read once while the process was single-threaded
/// (the `time` crate refuses to read it later); `None` if unknown.
pub fn local_offset() -> Option<time::UtcOffset> {
    *LOCAL_OFFSET.get_or_init(|| time::UtcOffset::current_local_offset().ok())
}

/// Installs the subscriber; keep the guard alive until exit so buffered
/// lines are flushed. Call before any thread starts.
pub fn init(cli: &Cli) -> Option<WorkerGuard> {
    let _ = local_offset();
    let path = cli.log_file.clone().or_else(|| {
        cli.opens_console()
            .then(|| state_dir().join("understudy.log"))
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter(cli.verbose));
    let Some(path) = path else {
        let _ = builder.with_writer(std::io::stderr).try_init();
        return None;
    };
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    let name = path
        .file_name()
        .map_or_else(|| "understudy.log".into(), PathBuf::from);
    if std::fs::create_dir_all(&dir).is_err() {
        return None;
    }
    let appender = tracing_appender::rolling::never(dir, name);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let _ = builder.with_writer(writer).with_ansi(false).try_init();
    Some(guard)
}
