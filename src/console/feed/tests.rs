//! The feed against a fake platform, in paused time.

use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

use tokio::sync::mpsc;

use super::*;
use crate::console::fixtures;
use crate::console::fixtures::fake::Fake;
use crate::console::model::Shadow;
use crate::domain::RunState;

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
                Msg::Stats(_) | Msg::Engine(_) | Msg::Shadows(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// The next shadows listing, skipping everything else.
    async fn shadows(&mut self) -> Vec<Shadow> {
        loop {
            if let Msg::Shadows(shadows) = self.next().await {
                return shadows;
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

#[tokio::test(start_paused = true)]
async fn shadows_are_listed_and_streamed_beside_their_group() {
    let fake = Fake::with_shadow();
    let mut feed = start(&fake);
    feed.handle.watch(Some("shop".into()));
    let groups = feed.groups().await;
    assert_eq!(groups.len(), 3, "shadow containers never form a group");
    let shadows = feed.shadows().await;
    assert_eq!(shadows.len(), 1);
    let shadow = &shadows[0];
    assert_eq!((shadow.id(), shadow.state.ready), ("a1b2c3", true));
    assert_eq!(shadow.state.group, "shop");
    assert_eq!(shadow.entry_text(), "gateway http://127.0.0.1:40000");
    assert_eq!(shadow.containers().count(), 4);

    // Production's four and the shadow's four (three clones and the relay).
    until_open(&fake, 8).await;
    let sampled = feed.sampled(32).await;
    let mut want = ids(&["shop-gateway-1", "shop-api-1", "shop-api-2", "shop-store-1"]);
    want.extend(fixtures::shadow_containers().into_iter().map(|c| c.id));
    assert_eq!(sampled, want);

    // Another group: neither production's nor the shadow's streams remain.
    feed.handle.watch(Some("payments".into()));
    until_open(&fake, 3).await;

    // Back on shop, then the shadow goes: its streams end.
    feed.handle.watch(Some("shop".into()));
    until_open(&fake, 8).await;
    fake.with(|s| {
        s.containers
            .retain(|c| c.label(crate::domain::labels::SHADOW).is_none());
        s.networks.clear();
        s.volumes.clear();
    });
    feed.handle.refresh();
    assert!(feed.shadows().await.is_empty());
    until_open(&fake, 4).await;
    feed.stop().await;
    until_open(&fake, 0).await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_shadow_listing_is_reported_after_the_groups() {
    let fake = Fake::with_shadow();
    fake.with(|s| s.networks_fail = true);
    let mut feed = start(&fake);
    assert!(matches!(feed.next().await, Msg::Engine(_)));
    assert!(matches!(feed.next().await, Msg::Groups(g) if g.len() == 3));
    match feed.next().await {
        Msg::FeedError(text) => assert_eq!(
            text,
            "listing shadows failed: Docker API error 500 during list networks: boom"
        ),
        other => panic!("unexpected {other:?}"),
    }
    fake.with(|s| s.networks_fail = false);
    feed.handle.refresh();
    assert_eq!(feed.shadows().await.len(), 1);
    feed.stop().await;
}
