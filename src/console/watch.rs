//! The watch run off the drawing path: a task that takes [`WatchCmd`]s and
//! runs one watch at a time ([`crate::watch::run::run`]) on a production
//! group and its shadow, forwarding what it reports as
//! `Msg::Watch(WatchNews)`: samples (of the charted metrics only, queued
//! ones batched into one message), alerts, the judges' looks, faults,
//! notices, and the end (stopped, or failed with one line). The watch's
//! history goes to the SQLite store and faults are read from the journal,
//! as `understudy watch` does ([`WatchSetup`]).
//!
//! The Load tab's seconds on the watched shadow arrive as
//! [`WatchCmd::Client`] and go into the run
//! ([`crate::watch::run::run_with_client`]), which scores them as
//! `shadow/ENTRY/client_*` series like its own `--replay`.
//!
//! A group without a shadow is watched alone: when no shadow was asked for
//! and the group has none, the run says so in a notice and follows
//! production by itself (shadow `none`), so the tab still charts it.
//!
//! Each run holds a child of the console's cancellation token: `Stop`
//! cancels it, quitting cancels them all. A `Start` while a run goes stops
//! that run first.
//!
//! Owns: running the watch and its lifetime. Does not own when a watch
//! runs (`update::watch`) or drawing it (`view::metrics`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{self, Sender, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::platform::Platform;
use crate::traffic::parse::LogTemplate;
use crate::watch::collect::CollectError;
use crate::watch::run::{self as watch_run, RunError, RunOptions, WatchEvent};
use crate::watch::sources::ClientWindow;

use super::model::watch::charted;
use super::msg::{Msg, Point, TaskHandle, WatchCmd, WatchNews, first_line};

/// At most this many samples go in one message.
pub const MAX_BATCH: usize = 1024;
/// How long a stopped run gets to report before it is left behind.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// Where a run finds the fault journal and keeps its history, and how it
/// reads the entries' access logs.
#[derive(Debug, Clone)]
pub struct WatchSetup {
    pub state_dir: PathBuf,
    /// The SQLite file; `None`: no history.
    pub database: Option<PathBuf>,
    /// `console --log-format`; `None`: each line's dialect is recognised.
    pub log_format: Option<Arc<LogTemplate>>,
}

impl WatchSetup {
    /// The paths `understudy watch` uses, reading logs in `log_format`.
    pub fn standard(log_format: Option<Arc<LogTemplate>>) -> Self {
        Self {
            state_dir: crate::telemetry::state_dir(),
            database: Some(crate::store::default_path()),
            log_format,
        }
    }
}

/// The shell's side: hands commands to the task without waiting.
pub type WatchHandle = TaskHandle<WatchCmd>;

/// Starts the task; it runs until `cancel` fires (stopping the run) or the
/// handle drops.
pub fn spawn<P: Platform>(
    platform: P,
    setup: WatchSetup,
    tx: Sender<Msg>,
    cancel: CancellationToken,
) -> (WatchHandle, JoinHandle<()>) {
    let (handle, cmds) = WatchHandle::channel();
    let task = tokio::spawn(run(platform, setup, cmds, tx, cancel));
    (handle, task)
}

/// The run going on: its id, its token, its task, and where the Load
/// tab's seconds go.
struct Current {
    run: u64,
    stop: CancellationToken,
    task: JoinHandle<()>,
    client: UnboundedSender<ClientWindow>,
}

impl Current {
    /// Stops the run and waits (a little) for its end to be reported.
    async fn finish(self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(STOP_TIMEOUT, self.task).await;
    }
}

async fn run<P: Platform>(
    platform: P,
    setup: WatchSetup,
    mut cmds: UnboundedReceiver<WatchCmd>,
    tx: Sender<Msg>,
    cancel: CancellationToken,
) {
    let mut current: Option<Current> = None;
    while let Some(cmd) = cancel.run_until_cancelled(cmds.recv()).await.flatten() {
        match cmd {
            WatchCmd::Start { run, group, shadow } => {
                if let Some(previous) = current.take() {
                    previous.finish().await;
                }
                let stop = cancel.child_token();
                let spec = Spec {
                    run,
                    group,
                    shadow,
                    setup: setup.clone(),
                };
                let (client, windows) = mpsc::unbounded_channel();
                let task = tokio::spawn(drive(
                    platform.clone(),
                    spec,
                    windows,
                    tx.clone(),
                    stop.clone(),
                ));
                current = Some(Current {
                    run,
                    stop,
                    task,
                    client,
                });
            }
            WatchCmd::Stop { run } => {
                if let Some(c) = current.take_if(|c| c.run == run) {
                    c.finish().await;
                }
            }
            WatchCmd::Client { run, entry, window } => {
                if let Some(c) = current.as_ref().filter(|c| c.run == run) {
                    let _ = c.client.send(ClientWindow {
                        entry,
                        window: *window,
                    });
                }
            }
        }
    }
    if let Some(c) = current.take() {
        c.finish().await;
    }
}

/// One run's parameters.
struct Spec {
    run: u64,
    group: String,
    shadow: Option<String>,
    setup: WatchSetup,
}

/// One run, start to end.
async fn drive<P: Platform>(
    platform: P,
    spec: Spec,
    windows: UnboundedReceiver<ClientWindow>,
    tx: Sender<Msg>,
    stop: CancellationToken,
) {
    let (news_tx, news_rx) = mpsc::unbounded_channel();
    let (result, ()) = tokio::join!(
        watch(&platform, &spec, windows, news_tx, &stop),
        forward(news_rx, tx.clone()),
    );
    if let Err(e) = &result {
        tracing::warn!("watch {} of {}: {e}", spec.run, spec.group);
    }
    let _ = tx
        .send(Msg::Watch(WatchNews::Ended {
            run: spec.run,
            result,
        }))
        .await;
}

/// Runs the watch, sending its news to `news` (dropped at the end, which
/// ends [`forward`]). The Load tab's seconds (`windows`) matter only with
/// a shadow: a watch of production alone drops them.
async fn watch<P: Platform>(
    platform: &P,
    spec: &Spec,
    windows: UnboundedReceiver<ClientWindow>,
    news: UnboundedSender<WatchNews>,
    stop: &CancellationToken,
) -> Result<(), String> {
    let run = spec.run;
    let on_event = |event: &WatchEvent| {
        if let Some(n) = news_of(run, event) {
            let _ = news.send(n);
        }
    };
    let mut options = RunOptions {
        shadow: spec.shadow.clone(),
        database: spec.setup.database.clone(),
        log_format: spec.setup.log_format.clone(),
        ..RunOptions::new(spec.group.clone(), spec.setup.state_dir.clone())
    };
    match watch_run::run_with_client(platform, &options, stop, on_event, Some(windows)).await {
        Ok(_) => Ok(()),
        Err(RunError::Collect(CollectError::NoShadow { group })) if spec.shadow.is_none() => {
            let _ = news.send(WatchNews::Notice {
                run,
                text: format!("{group} has no shadow: watching production alone (s creates one)"),
            });
            options.shadow = Some("none".to_owned());
            watch_run::run(platform, &options, stop, on_event)
                .await
                .map(|_| ())
                .map_err(|e| first_line(&e))
        }
        Err(e) => Err(first_line(&e)),
    }
}

/// The console's news of a watch event; `None` for what the pane does not
/// keep (samples of metrics it does not chart, verdict changes: the looks
/// carry them).
pub fn news_of(run: u64, event: &WatchEvent) -> Option<WatchNews> {
    Some(match event {
        WatchEvent::Started(targets) => WatchNews::Started {
            run,
            group: targets.group.clone(),
            shadow: targets.shadow.clone(),
            entries: targets.entries.clone(),
            services: targets.services.clone(),
        },
        WatchEvent::Sample {
            key,
            t_ms,
            value,
            score,
        } => {
            if !charted(&key.metric) {
                return None;
            }
            WatchNews::Samples {
                run,
                points: vec![Point {
                    key: key.clone(),
                    t_ms: *t_ms,
                    value: *value,
                    score: *score,
                }],
            }
        }
        WatchEvent::Alert(event) => WatchNews::Alert {
            run,
            event: event.clone(),
        },
        WatchEvent::Looked(verdicts) => WatchNews::Looked {
            run,
            verdicts: verdicts.clone(),
        },
        WatchEvent::Fault {
            kind, target, t_ms, ..
        } => WatchNews::Fault {
            run,
            kind: kind.clone(),
            target: target.clone(),
            t_ms: *t_ms,
        },
        WatchEvent::Notice(text) => WatchNews::Notice {
            run,
            text: text.clone(),
        },
        WatchEvent::Verdict { .. } => return None,
    })
}

/// Sends the news to the console as it comes, the samples queued behind
/// each other as one message; done when the watch drops its sender.
async fn forward(mut news: UnboundedReceiver<WatchNews>, tx: Sender<Msg>) {
    let mut pending = None;
    loop {
        let item = match pending.take() {
            Some(item) => item,
            None => match news.recv().await {
                Some(item) => item,
                None => return,
            },
        };
        let item = match item {
            WatchNews::Samples { run, mut points } => {
                while points.len() < MAX_BATCH {
                    match news.try_recv() {
                        Ok(WatchNews::Samples { points: more, .. }) => points.extend(more),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                WatchNews::Samples { run, points }
            }
            other => other,
        };
        if tx.send(Msg::Watch(item)).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
