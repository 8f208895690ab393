//! The feed against a fake platform, in paused time.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::SystemTime;

use futures::StreamExt;
use tokio::sync::mpsc;

use super::*;
use crate::console::fixtures;
use crate::domain::stats::RawStats;
use crate::domain::{ContainerSpec, NetworkSpec, RunState, Selector, VolumeSpec};
use crate::platform::{
    ContainerDetails, EngineInfo, ImageSummary, LogLine, LogOptions, NetworkSummary, Result,
    VolumeSummary,
};

#[derive(Default)]
struct State {
    containers: Vec<ContainerSummary>,
    down: bool,
    hang: bool,
    lists: usize,
    open_streams: usize,
    events: Option<mpsc::UnboundedSender<Result<EngineEvent>>>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<State>>);

impl Fake {
    fn new() -> Self {
        let fake = Self::default();
        fake.0.lock().unwrap().containers = fixtures::containers();
        fake
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.0.lock().unwrap())
    }

    fn set_state(&self, name: &str, state: RunState) {
        self.with(|s| {
            for c in &mut s.containers {
                if c.name == name {
                    c.state = state;
                }
            }
        });
    }

    fn open_streams(&self) -> usize {
        self.with(|s| s.open_streams)
    }
}

/// Counts a stats stream as open until the stream is dropped.
struct Open(Fake);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.with(|s| s.open_streams -= 1);
    }
}

/// Frame `n` of a container using half a CPU.
fn frame(id: &str, n: u64) -> RawStats {
    RawStats {
        container_id: id.to_owned(),
        read: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(n)),
        cpu_total_ns: n * 500_000_000,
        precpu_total_ns: Some((n - 1) * 500_000_000),
        system_ns: Some(n * 2_000_000_000),
        presystem_ns: Some((n - 1) * 2_000_000_000),
        online_cpus: Some(2),
        mem_usage: 64 << 20,
        mem_limit: 256 << 20,
        ..RawStats::default()
    }
}

fn unsupported<T>() -> Result<T> {
    Err(PlatformError::Other {
        operation: "fake".into(),
        message: "not supported".into(),
    })
}

impl Platform for Fake {
    async fn engine(&self) -> Result<EngineInfo> {
        Ok(fixtures::engine())
    }

    async fn list_containers(&self, _: Option<&Selector>) -> Result<Vec<ContainerSummary>> {
        let (down, hang) = self.with(|s| (s.down, s.hang));
        if hang {
            std::future::pending::<()>().await;
        }
        if down {
            return Err(PlatformError::Unreachable {
                endpoint: "unix:///var/run/docker.sock".into(),
                reason: "connection refused".into(),
            });
        }
        Ok(self.with(|s| {
            s.lists += 1;
            s.containers.clone()
        }))
    }

    async fn inspect_container(&self, _: &str) -> Result<ContainerDetails> {
        unsupported()
    }
    async fn create_container(&self, _: &ContainerSpec) -> Result<String> {
        unsupported()
    }
    async fn start_container(&self, _: &str) -> Result<()> {
        unsupported()
    }
    async fn stop_container(&self, _: &str, _: Duration) -> Result<()> {
        unsupported()
    }
    async fn remove_container(&self, _: &str, _: bool) -> Result<()> {
        unsupported()
    }
    async fn create_network(&self, _: &NetworkSpec) -> Result<String> {
        unsupported()
    }
    async fn list_networks(&self, _: Option<&Selector>) -> Result<Vec<NetworkSummary>> {
        unsupported()
    }
    async fn remove_network(&self, _: &str) -> Result<()> {
        unsupported()
    }
    async fn create_volume(&self, _: &VolumeSpec) -> Result<String> {
        unsupported()
    }
    async fn list_volumes(&self, _: Option<&Selector>) -> Result<Vec<VolumeSummary>> {
        unsupported()
    }
    async fn remove_volume(&self, _: &str) -> Result<()> {
        unsupported()
    }
    async fn build_image(
        &self,
        _: Vec<u8>,
        _: &str,
        _: &BTreeMap<String, String>,
    ) -> Result<String> {
        unsupported()
    }
    async fn inspect_image(&self, _: &str) -> Result<Option<ImageSummary>> {
        unsupported()
    }
    async fn list_images(&self, _: Option<&Selector>) -> Result<Vec<ImageSummary>> {
        unsupported()
    }
    async fn remove_image(&self, _: &str) -> Result<()> {
        unsupported()
    }

    fn stats(&self, id: &str) -> BoxStream<'static, Result<RawStats>> {
        self.with(|s| s.open_streams += 1);
        let open = Open(self.clone());
        let id = id.to_owned();
        futures::stream::unfold((2u64, open), move |(n, open)| {
            let frame = frame(&id, n);
            async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Some((Ok(frame), (n + 1, open)))
            }
        })
        .boxed()
    }

    fn events(&self, _: Option<&Selector>, _: &[&str]) -> BoxStream<'static, Result<EngineEvent>> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.with(|s| s.events = Some(tx));
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
    }

    fn logs(&self, _: &str, _: &LogOptions) -> BoxStream<'static, Result<LogLine>> {
        futures::stream::empty().boxed()
    }
}

struct Running {
    handle: FeedHandle,
    task: JoinHandle<()>,
    rx: mpsc::Receiver<Msg>,
    cancel: CancellationToken,
}

fn start(fake: &Fake) -> Running {
    let (tx, rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let (handle, task) = spawn(fake.clone(), tx, cancel.clone(), FeedConfig::default());
    Running {
        handle,
        task,
        rx,
        cancel,
    }
}

impl Running {
    async fn next(&mut self) -> Msg {
        self.rx.recv().await.unwrap()
    }

    /// The next listing, skipping stats.
    async fn groups(&mut self) -> Vec<Group> {
        loop {
            match self.next().await {
                Msg::Groups(groups) => return groups,
                Msg::Stats(_) | Msg::Engine(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// The containers of the next `n` samples, after dropping queued ones.
    async fn sampled(&mut self, n: usize) -> HashSet<String> {
        while self.rx.try_recv().is_ok() {}
        let mut ids = HashSet::new();
        let mut seen = 0;
        while seen < n {
            if let Msg::Stats(s) = self.next().await {
                assert!((s.cpu_percent - 50.0).abs() < 1e-9, "{s:?}");
                ids.insert(s.container_id);
                seen += 1;
            }
        }
        ids
    }

    async fn stop(self) {
        self.cancel.cancel();
        self.task.await.unwrap();
    }
}

/// Waits (in paused time) until the fake has `n` open streams.
async fn until_open(fake: &Fake, n: usize) {
    for _ in 0..200 {
        if fake.open_streams() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} streams open, wanted {n}", fake.open_streams());
}

fn ids(names: &[&str]) -> HashSet<String> {
    names.iter().map(|n| fixtures::id(n)).collect()
}

#[tokio::test(start_paused = true)]
async fn lists_groups_then_streams_stats_of_the_watched_group_only() {
    let fake = Fake::new();
    fake.set_state("shop-store-1", RunState::Exited);
    let mut feed = start(&fake);
    assert!(matches!(feed.next().await, Msg::Engine(e) if e.version == "27.5.1"));
    let groups = feed.groups().await;
    assert_eq!(groups.len(), 3);
    assert_eq!(fake.open_streams(), 0, "nothing is watched yet");

    feed.handle.watch(Some("shop".into()));
    let sampled = feed.sampled(12).await;
    assert_eq!(
        sampled,
        ids(&["shop-gateway-1", "shop-api-1", "shop-api-2"])
    );
    assert_eq!(fake.open_streams(), 3, "no stream for the exited store");

    feed.stop().await;
    until_open(&fake, 0).await;
}

#[tokio::test(start_paused = true)]
async fn streams_end_when_a_container_stops_or_the_group_changes() {
    let fake = Fake::new();
    let mut feed = start(&fake);
    feed.handle.watch(Some("shop".into()));
    feed.groups().await;
    until_open(&fake, 4).await;

    fake.set_state("shop-api-2", RunState::Exited);
    feed.handle.refresh();
    until_open(&fake, 3).await;

    feed.handle.watch(Some("payments".into()));
    until_open(&fake, 3).await;
    let sampled = feed.sampled(9).await;
    assert_eq!(
        sampled,
        ids(&["payments-ledger-1", "payments-ledger-2", "payments-db-1"])
    );

    feed.handle.watch(None);
    until_open(&fake, 0).await;
    feed.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_daemon_is_reported_and_recovery_lists_again() {
    let fake = Fake::new();
    fake.with(|s| s.down = true);
    let mut feed = start(&fake);
    match feed.next().await {
        Msg::FeedError(text) => assert_eq!(
            text,
            "Docker daemon unreachable: connection refused (unix:///var/run/docker.sock)"
        ),
        other => panic!("unexpected {other:?}"),
    }
    fake.with(|s| s.down = false);
    assert!(matches!(feed.next().await, Msg::Engine(_)));
    assert!(matches!(feed.next().await, Msg::Groups(g) if g.len() == 3));
    feed.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_hung_engine_times_out_and_cancel_still_stops_the_feed() {
    let fake = Fake::new();
    fake.with(|s| s.hang = true);
    let mut feed = start(&fake);
    match feed.next().await {
        Msg::FeedError(text) => {
            assert_eq!(text, "Docker daemon unreachable: no answer within 5s");
        }
        other => panic!("unexpected {other:?}"),
    }
    // The feed is inside the next (hanging) listing by now, or soon.
    tokio::time::sleep(Duration::from_secs(3)).await;
    feed.stop().await;
}

#[tokio::test(start_paused = true)]
async fn engine_events_trigger_one_debounced_relisting() {
    let fake = Fake::new();
    let mut feed = start(&fake);
    feed.groups().await;
    assert_eq!(fake.with(|s| s.lists), 1);
    let events = fake.with(|s| s.events.clone()).unwrap();
    for action in ["die", "start", "health_status: healthy"] {
        let event = EngineEvent {
            time: SystemTime::UNIX_EPOCH,
            action: action.into(),
            container_id: fixtures::id("shop-api-1"),
            attributes: BTreeMap::new(),
        };
        events.send(Ok(event)).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        fake.with(|s| s.lists),
        2,
        "three events, one relisting, before the period"
    );
    feed.groups().await;
    feed.stop().await;
}
