//! The terminal console (`understudy` with no arguments): the groups on the
//! engine on the left; on the right, by tab (`1` `2` `3` `4`), the selected
//! group's services with replicas, state, health and live CPU / memory /
//! network / block I/O; the load pane (replay traffic on its shadow: target
//! vs achieved rate, latency percentiles, errors); the faults pane (the
//! catalog, active faults with their TTL, the global stop, the timeline);
//! the metrics pane (a watch of production and its shadow side by side:
//! charts with anomalies flagged, alerts, the judges' outcome).
//!
//! Faults this console applies are held by it: reverted when their TTL
//! ends and, on a normal quit, before the terminal is given back.
//!
//! Elm architecture on one channel (STYLE §3):
//!
//! | module | owns |
//! | --- | --- |
//! | [`event`] | the task merging terminal input, the tick and signals into `Msg`s |
//! | `feed` | the task owning the platform: listings (groups, shadows), engine events, stats streams |
//! | `ops` | the task running shadow operations (plan, apply, tear down) with a platform clone |
//! | `load` | the task running replay traffic on a shadow's entry point |
//! | `faults` | the task holding the fault injector: apply, hold, revert, the journal, the global stop |
//! | `watch` | the task running a watch (prod and shadow metrics, alerts, judges) for the metrics tab |
//! | `msg` | `Msg` (everything that happens) and `Cmd` (what update asks for) |
//! | `model` | the state, and the rows the panes show |
//! | `update` | `update(&mut Model, Msg) -> Vec<Cmd>`: pure, nested per pane |
//! | [`keymap`] | the one key table: dispatch, the key bar, the help overlay |
//! | `view` | drawing from `&Model` (per pane under `view/`) |
//! | [`theme`] | semantic styles from `themes/*.toml`, `NO_COLOR` |
//! | `terminal` | the guard restoring the terminal on quit, error and panic |
//! | `shell` | the loop: receive, update, run commands, draw |
//!
//! The only module that names ratatui or crossterm.

pub mod event;
mod faults;
mod feed;
pub mod keymap;
mod load;
mod model;
mod msg;
mod ops;
mod shell;
mod terminal;
pub mod theme;
mod update;
mod view;
mod watch;

#[cfg(test)]
mod fixtures;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::platform::Platform;
use crate::traffic::parse::LogTemplate;

pub use feed::FeedConfig;
pub use theme::{Theme, ThemeError};

/// How often the clock ticks (and the screen redraws when nothing else
/// happens).
pub const TICK: Duration = Duration::from_millis(250);

/// How often the host (CPU, memory, load) is sampled.
pub const HOST_EVERY: Duration = Duration::from_secs(2);

/// How long quitting waits for the faults this console holds to be
/// reverted (after that, the journal and `understudy gc` take over).
pub const RELEASE_TIMEOUT: Duration = Duration::from_secs(60);

/// How the console starts.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The group to select first (a compose project name).
    pub group: Option<String>,
    /// A theme file; else `UNDERSTUDY_THEME`; else the built-in theme.
    pub theme: Option<PathBuf>,
    /// Bodies for replayed write endpoints (`--body`), by `METHOD /template`.
    pub bodies: BTreeMap<String, String>,
    /// The entries' access-log format (`--log-format`).
    pub log_format: Option<Arc<LogTemplate>>,
}

/// Runs the console until the user quits (q, Ctrl-C, a termination signal).
/// The terminal is restored on every way out. A shadow operation still
/// running is aborted, and what to run to clean up is printed (see `ops`);
/// a load run and a watch are stopped; the faults this console applied are reverted
/// before the terminal is restored (see `faults`).
pub async fn run<P: Platform>(platform: P, options: Options) -> anyhow::Result<()> {
    let theme = load_theme(&options)?;
    let cancel = CancellationToken::new();
    // Every way out of this function stops the feed, the operations and the
    // event task.
    let _stop_tasks = cancel.clone().drop_guard();
    let (tx, mut rx) = mpsc::channel(256);
    let (ops, ops_task) = ops::spawn(platform.clone(), tx.clone(), cancel.child_token());
    let replay = load::ReplaySetup {
        bodies: options.bodies,
        log_format: options.log_format.clone(),
    };
    let (load, load_task) = load::spawn(replay, tx.clone(), cancel.child_token());
    let (watch, watch_task) = watch::spawn(
        platform.clone(),
        watch::WatchSetup::standard(options.log_format),
        tx.clone(),
        cancel.child_token(),
    );
    // Not cancelled with the rest: it ends when its handle drops, after
    // reverting what it holds.
    let (faults, faults_task) = faults::spawn(
        platform.clone(),
        &crate::telemetry::state_dir(),
        tx.clone(),
        faults::REFRESH,
    );
    let (feed, feed_task) = feed::spawn(
        platform,
        tx.clone(),
        cancel.child_token(),
        FeedConfig::default(),
    );
    let mut guard = terminal::TerminalGuard::enter().context("cannot take over the terminal")?;
    let host_tx = tx.clone();
    let host_sampler =
        crate::metrics::host::spawn_sampler(HOST_EVERY, cancel.child_token(), move |s| {
            host_tx.blocking_send(msg::Msg::Host(s)).is_ok()
        });
    if let Err(e) = host_sampler {
        tracing::warn!("host metrics unavailable: {e}");
    }
    let events_task = event::spawn(tx, cancel.child_token(), TICK);
    let mut model = model::Model::new(options.group);
    let handles = shell::Handles {
        feed: &feed,
        ops: &ops,
        load: &load,
        faults: &faults,
        watch: &watch,
    };
    let result = shell::run(
        guard.terminal(),
        &mut rx,
        &mut model,
        &theme,
        &handles,
        feed_task,
    )
    .await;
    cancel.cancel();
    // Nobody reads any more: the tasks' news fails fast instead of waiting.
    drop(rx);
    drop(faults);
    let released = tokio::time::timeout(RELEASE_TIMEOUT, faults_task).await;
    drop(guard);
    report_release(released);
    for (name, task) in [
        ("event", events_task),
        ("shadow operations", ops_task),
        ("load", load_task),
        ("watch", watch_task),
    ] {
        if tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .is_err()
        {
            tracing::warn!("the console's {name} task did not stop in time");
        }
    }
    if let Some(note) = model
        .op
        .as_ref()
        .and_then(model::Operation::interrupted_note)
    {
        tracing::warn!("{note}");
        eprintln!("{note}");
    }
    result
}

/// Says on the way out what happened to the faults this console held.
fn report_release(
    released: Result<Result<Vec<String>, tokio::task::JoinError>, tokio::time::error::Elapsed>,
) {
    let lines = match released {
        Ok(Ok(lines)) => lines,
        Ok(Err(e)) => vec![format!(
            "the fault task failed ({e}); `understudy gc` reverts what this console applied"
        )],
        Err(_) => vec![format!(
            "reverting this console's faults took longer than {} s; `understudy gc` reverts what is left",
            RELEASE_TIMEOUT.as_secs()
        )],
    };
    for line in lines {
        tracing::info!("{line}");
        eprintln!("understudy: {line}");
    }
}

/// The theme the options, `UNDERSTUDY_THEME` and `NO_COLOR` ask for.
fn load_theme(options: &Options) -> Result<Theme, ThemeError> {
    let path = options.theme.clone().or_else(|| {
        std::env::var_os("UNDERSTUDY_THEME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let no_color = theme::no_color(std::env::var_os("NO_COLOR").as_deref());
    Theme::load(path.as_deref(), no_color)
}
