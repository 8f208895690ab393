//! The data feed: a task that owns the platform handle and sends the console
//! what it shows. It re-lists containers every period (and soon after an
//! engine lifecycle event, debounced), sends `Groups`, lists the shadows on
//! the engine (`shadow::teardown::shadows`, their containers taken from the
//! same listing) and sends `Shadows`, and keeps one stats stream per
//! *running* container of the watched group and of the shadow shown beside
//! it (only those: stats cost one engine stream per container), deriving
//! `Stats` samples. Failures become `FeedError` messages; the feed retries
//! on its period and recovers when the engine answers again.
//!
//! Owns: polling, the per-container stats tasks, their lifetimes (a stream
//! ends when its container stops, disappears or the group changes; all are
//! aborted on cancel). Does not own the state the console keeps (`model`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc::Sender;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::domain::group::discover_compose_groups;
use crate::domain::units::format_duration;
use crate::domain::{ContainerSummary, Group};
use crate::metrics::container_stats::StatsDeriver;
use crate::platform::{EngineEvent, Platform, PlatformError};
use crate::shadow::teardown;

use super::model::{Shadow, running_ids, shadow_of};
use super::msg::Msg;

/// Timing of the feed.
#[derive(Debug, Clone, Copy)]
pub struct FeedConfig {
    /// How often containers are re-listed.
    pub period: Duration,
    /// How long after an engine event to re-list (events come in bursts).
    pub debounce: Duration,
    /// How long one engine call may take before it counts as unreachable.
    pub timeout: Duration,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            period: Duration::from_secs(2),
            debounce: Duration::from_millis(250),
            timeout: Duration::from_secs(5),
        }
    }
}

/// What went wrong listing containers, as the status line says it.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("Docker daemon unreachable: {detail}")]
    Unreachable { detail: String },
    #[error("listing containers failed: {0}")]
    List(#[source] PlatformError),
}

impl From<PlatformError> for FeedError {
    fn from(e: PlatformError) -> Self {
        match e {
            PlatformError::Unreachable { endpoint, reason } => Self::Unreachable {
                detail: format!("{reason} ({endpoint})"),
            },
            other => Self::List(other),
        }
    }
}

/// The console's side of the feed. Never blocks: the watched group is a
/// latest-value channel and a refresh is a notification.
#[derive(Debug)]
pub struct FeedHandle {
    group: watch::Sender<Option<String>>,
    refresh: Arc<Notify>,
}

impl FeedHandle {
    /// Stream stats for this group's running containers (or for none).
    pub fn watch(&self, group: Option<String>) {
        self.group.send_replace(group);
    }

    /// Re-list now.
    pub fn refresh(&self) {
        self.refresh.notify_one();
    }
}

#[cfg(test)]
impl FeedHandle {
    /// A handle with no feed behind it, and what it would tell the feed.
    pub fn for_tests() -> (Self, watch::Receiver<Option<String>>, Arc<Notify>) {
        let (group, watched) = watch::channel(None);
        let refresh = Arc::new(Notify::new());
        let handle = Self {
            group,
            refresh: Arc::clone(&refresh),
        };
        (handle, watched, refresh)
    }
}

/// Starts the feed; it sends on `tx` until `cancel` fires.
pub fn spawn<P: Platform>(
    platform: P,
    tx: Sender<Msg>,
    cancel: CancellationToken,
    config: FeedConfig,
) -> (FeedHandle, JoinHandle<()>) {
    let (group_tx, group_rx) = watch::channel(None);
    let refresh = Arc::new(Notify::new());
    let feed = Feed {
        platform,
        tx,
        config,
        group: group_rx,
        groups: Vec::new(),
        shadows: Vec::new(),
        streams: HashMap::new(),
        events: None,
        answering: false,
    };
    let task = tokio::spawn(feed.run(cancel, Arc::clone(&refresh)));
    let handle = FeedHandle {
        group: group_tx,
        refresh,
    };
    (handle, task)
}

type Events = BoxStream<'static, crate::platform::Result<EngineEvent>>;

struct Feed<P> {
    platform: P,
    tx: Sender<Msg>,
    config: FeedConfig,
    group: watch::Receiver<Option<String>>,
    /// The last listing.
    groups: Vec<Group>,
    /// The last listing of shadows.
    shadows: Vec<Shadow>,
    /// One stats task per streamed container id.
    streams: HashMap<String, JoinHandle<()>>,
    /// Lifecycle events, subscribed after the first good listing.
    events: Option<Events>,
    /// Whether the engine answered the last listing.
    answering: bool,
}

enum Wake {
    Refresh,
    GroupChanged,
}

impl<P: Platform> Feed<P> {
    async fn run(mut self, cancel: CancellationToken, refresh: Arc<Notify>) {
        let mut ticker = tokio::time::interval(self.config.period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut due: Option<Instant> = None;
        loop {
            let wake = tokio::select! {
                () = cancel.cancelled() => break,
                _ = ticker.tick() => Wake::Refresh,
                () = refresh.notified() => Wake::Refresh,
                () = sleep_until(due) => Wake::Refresh,
                changed = self.group.changed() => match changed {
                    Ok(()) => Wake::GroupChanged,
                    Err(_) => break,
                },
                event = next_event(&mut self.events) => {
                    match event {
                        Some(Ok(e)) => {
                            tracing::debug!(action = %e.action, id = %e.container_id, "engine event");
                            due.get_or_insert_with(|| Instant::now() + self.config.debounce);
                        }
                        Some(Err(e)) => {
                            tracing::debug!("engine events ended: {e}");
                            self.events = None;
                        }
                        None => self.events = None,
                    }
                    continue;
                }
            };
            match wake {
                Wake::Refresh => {
                    due = None;
                    if cancel.run_until_cancelled(self.refresh()).await.is_none() {
                        break;
                    }
                    ticker.reset();
                }
                Wake::GroupChanged => self.sync_streams(),
            }
        }
    }

    async fn refresh(&mut self) {
        match self.list().await {
            Ok(containers) => {
                if !self.answering {
                    self.answering = true;
                    self.send_engine().await;
                }
                let groups = discover_compose_groups(&containers);
                self.groups.clone_from(&groups);
                let shadows = list_shadows(&self.platform, self.config.timeout, &containers).await;
                if let Ok(shadows) = &shadows {
                    self.shadows.clone_from(shadows);
                }
                self.sync_streams();
                if self.events.is_none() {
                    self.events = Some(self.platform.events(None, &[]));
                }
                self.send(Msg::Groups(groups)).await;
                match shadows {
                    Ok(shadows) => self.send(Msg::Shadows(shadows)).await,
                    // The groups stand; the last shadows stay on screen.
                    Err(e) => {
                        tracing::warn!("console feed: {e}");
                        self.send(Msg::FeedError(e)).await;
                    }
                }
            }
            Err(e) => {
                self.answering = false;
                tracing::warn!("console feed: {e}");
                self.send(Msg::FeedError(e.to_string())).await;
            }
        }
    }

    async fn list(&mut self) -> Result<Vec<ContainerSummary>, FeedError> {
        let timeout = self.config.timeout;
        match tokio::time::timeout(timeout, self.platform.list_containers(None)).await {
            Ok(listing) => Ok(listing?),
            Err(_) => Err(FeedError::Unreachable {
                detail: format!("no answer within {}", format_duration(timeout)),
            }),
        }
    }

    async fn send_engine(&mut self) {
        match tokio::time::timeout(self.config.timeout, self.platform.engine()).await {
            Ok(Ok(info)) => self.send(Msg::Engine(info)).await,
            Ok(Err(e)) => tracing::warn!("console feed: engine info: {e}"),
            Err(_) => tracing::warn!("console feed: engine info timed out"),
        }
    }

    async fn send(&mut self, msg: Msg) {
        // A closed channel means the console is leaving; cancel follows.
        let _ = self.tx.send(msg).await;
    }

    /// Makes the stats tasks match the running containers of the watched
    /// group and of its shadow: ends the others, restarts ended ones, starts
    /// missing ones.
    fn sync_streams(&mut self) {
        let watched = self.group.borrow_and_update().clone();
        let mut wanted: HashSet<String> = HashSet::new();
        if let Some(name) = watched.as_deref() {
            if let Some(group) = self.groups.iter().find(|g| g.name == name) {
                wanted.extend(running_ids(group).map(str::to_owned));
            }
            if let Some(shadow) = shadow_of(&self.shadows, name) {
                wanted.extend(shadow.running_ids().map(str::to_owned));
            }
        }
        self.streams.retain(|id, task| {
            let keep = wanted.contains(id) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for id in wanted {
            if !self.streams.contains_key(&id) {
                let task = spawn_stats(&self.platform, id.clone(), self.tx.clone());
                self.streams.insert(id, task);
            }
        }
    }
}

impl<P> Drop for Feed<P> {
    fn drop(&mut self) {
        for task in self.streams.values() {
            task.abort();
        }
    }
}

/// One container's stats: frames in, samples out, until the stream ends.
fn spawn_stats<P: Platform>(platform: &P, id: String, tx: Sender<Msg>) -> JoinHandle<()> {
    let mut frames = platform.stats(&id);
    tokio::spawn(async move {
        let mut deriver = StatsDeriver::new();
        while let Some(frame) = frames.next().await {
            let raw = match frame {
                Ok(raw) => raw,
                Err(e) => {
                    // Restarted by the next listing if still running.
                    tracing::debug!(container = %id, "stats stream failed: {e}");
                    return;
                }
            };
            if let Some(mut sample) = deriver.push(raw) {
                sample.container_id.clone_from(&id);
                if tx.send(Msg::Stats(sample)).await.is_err() {
                    return;
                }
            }
        }
    })
}

/// The shadows on the engine, with their containers from `containers`.
async fn list_shadows<P: Platform>(
    platform: &P,
    timeout: Duration,
    containers: &[ContainerSummary],
) -> Result<Vec<Shadow>, String> {
    match tokio::time::timeout(timeout, teardown::shadows(platform)).await {
        Ok(Ok(states)) => Ok(Shadow::collect(states, containers)),
        Ok(Err(e)) => Err(format!("listing shadows failed: {e}")),
        Err(_) => Err(format!(
            "listing shadows failed: no answer within {}",
            format_duration(timeout)
        )),
    }
}

async fn next_event(events: &mut Option<Events>) -> Option<crate::platform::Result<EngineEvent>> {
    match events {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
