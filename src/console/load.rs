//! The load run off the drawing path: a task that takes [`LoadCmd`]s and
//! runs one replay at a time on a shadow's entry URL — the demo's
//! compressed day or a profile file — with the load engine, streaming each
//! measured second to the console as a `LoadEvent::Window` and the summary
//! (or the failure, one line) at the end. It needs no platform: the entry
//! point is a loopback URL.
//!
//! Each run holds a child of the console's cancellation token: `Stop`
//! cancels it (the engine stops at once and still reports what it sent),
//! quitting cancels them all. A `Start` while a run goes stops that run
//! first.
//!
//! Owns: running load and its lifetime. Does not own whether a run may
//! start (`update`) or drawing it (`view::load`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{self, Sender, UnboundedReceiver};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::domain::traffic::TrafficProfile;
use crate::traffic::engine::{self, EngineOptions, Target};
use crate::traffic::parse::{Format, LogTemplate};
use crate::traffic::replay::{self, ReplayOptions};
use crate::traffic::report::Window;

use super::model::load::{DEMO_PEAK_RPS, DEMO_SECONDS, DEMO_SEED, LoadSummary, ProfileSource};
use super::msg::{LoadCmd, LoadEvent, LoadSpec, Msg, TaskHandle, first_line};

/// The connection pool of a run.
pub const CONCURRENCY: usize = 64;
/// Per request.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// The shell's side: hands commands to the task without waiting.
pub type LoadHandle = TaskHandle<LoadCmd>;

/// What every replay of this console uses, from its command line.
#[derive(Debug, Clone, Default)]
pub struct ReplaySetup {
    /// `--body`: bodies of replayed write endpoints, by `METHOD /template`.
    pub bodies: BTreeMap<String, String>,
    /// `--log-format`: how a profile file that is a log is read.
    pub log_format: Option<Arc<LogTemplate>>,
}

/// Starts the task; it runs until `cancel` fires (stopping the run) or the
/// handle drops.
pub fn spawn(
    setup: ReplaySetup,
    tx: Sender<Msg>,
    cancel: CancellationToken,
) -> (LoadHandle, JoinHandle<()>) {
    let (handle, cmds) = LoadHandle::channel();
    let task = tokio::spawn(run(Arc::new(setup), cmds, tx, cancel));
    (handle, task)
}

/// The run going on: its id, its token and its task.
struct Current {
    run: u64,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Current {
    /// Stops the run and waits for its report to be sent.
    async fn finish(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

async fn run(
    setup: Arc<ReplaySetup>,
    mut cmds: UnboundedReceiver<LoadCmd>,
    tx: Sender<Msg>,
    cancel: CancellationToken,
) {
    let mut current: Option<Current> = None;
    while let Some(cmd) = cancel.run_until_cancelled(cmds.recv()).await.flatten() {
        match cmd {
            LoadCmd::Start(spec) => {
                if let Some(previous) = current.take() {
                    previous.finish().await;
                }
                let stop = cancel.child_token();
                let run = spec.run;
                let task = tokio::spawn(drive(setup.clone(), spec, tx.clone(), stop.clone()));
                current = Some(Current { run, stop, task });
            }
            LoadCmd::Stop { run } => {
                if let Some(c) = current.as_ref().filter(|c| c.run == run) {
                    c.stop.cancel();
                }
            }
        }
    }
    if let Some(c) = current.take() {
        c.stop.cancel();
        // The engine stops at once on cancel; do not hang the way out.
        let _ = tokio::time::timeout(Duration::from_secs(2), c.task).await;
    }
}

/// One run, start to report.
async fn drive(setup: Arc<ReplaySetup>, spec: LoadSpec, tx: Sender<Msg>, stop: CancellationToken) {
    let run = spec.run;
    let result = replay_on(&setup, &spec, &tx, stop).await;
    if let Err(e) = &result {
        tracing::warn!("load run {run} on {}: {e}", spec.url);
    }
    let _ = tx
        .send(Msg::Load(LoadEvent::Finished { run, result }))
        .await;
}

async fn replay_on(
    setup: &ReplaySetup,
    spec: &LoadSpec,
    tx: &Sender<Msg>,
    stop: CancellationToken,
) -> Result<LoadSummary, String> {
    let source = spec.source.clone();
    let format = setup
        .log_format
        .clone()
        .map_or(Format::Auto, Format::Template);
    let profile = tokio::task::spawn_blocking(move || profile(&source, format))
        .await
        .map_err(|e| format!("reading the profile: {e}"))??;
    let options = ReplayOptions {
        seed: DEMO_SEED,
        bodies: setup.bodies.clone(),
        ..ReplayOptions::default()
    };
    let plan = replay::plan(&profile, &options).map_err(|e| e.to_string())?;
    let target = Target::resolve(&spec.url)
        .await
        .map_err(|e| first_line(&e))?;
    let duration = plan.duration;
    let requests = plan.arrivals.len();
    let (workload, period) = plan.into_workload();
    let options = EngineOptions {
        duration: period,
        concurrency: CONCURRENCY,
        timeout: TIMEOUT,
        ..EngineOptions::default()
    };
    let _ = tx
        .send(Msg::Load(LoadEvent::Started {
            run: spec.run,
            requests,
            duration_s: duration.as_secs_f64(),
        }))
        .await;
    let (windows_tx, windows_rx) = mpsc::unbounded_channel();
    let (report, ()) = tokio::join!(
        engine::run(&target, workload, &options, Some(windows_tx), stop),
        forward(spec.run, windows_rx, tx.clone()),
    );
    report
        .map(|r| LoadSummary::from_report(&r))
        .map_err(|e| first_line(&e))
}

/// Sends each second to the console as it ends; done when the engine
/// drops its sender (every window is sent before the summary).
async fn forward(run: u64, mut windows: UnboundedReceiver<Window>, tx: Sender<Msg>) {
    while let Some(window) = windows.recv().await {
        let msg = Msg::Load(LoadEvent::Window {
            run,
            window: Box::new(window),
        });
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

/// The profile a run replays; a file that is a log is read in `format`.
fn profile(source: &ProfileSource, format: Format) -> Result<TrafficProfile, String> {
    match source {
        ProfileSource::Demo => Ok(crate::demo::traffic::day_profile(
            DEMO_SECONDS,
            DEMO_PEAK_RPS,
            DEMO_SEED,
        )),
        ProfileSource::File(path) => crate::traffic::capture::load_profile(path, format)
            .map_err(|e| first_line(&format!("{:#}", anyhow::Error::from(e)))),
    }
}

#[cfg(test)]
mod tests;
