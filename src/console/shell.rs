//! The imperative shell: receives messages, applies `update`, turns each
//! `Cmd` into a call on a handle (the feed's, the shadow operations', the
//! load run's, the fault task's, the watch run's), and draws after each batch of messages
//! (the tick guarantees a redraw for the clock) and once more on quitting
//! (the status says what happens on the way out). Drawing reads `&Model`;
//! the tasks never touch the model.
//!
//! Owns: the loop and the mapping from `Cmd` to actions. Does not own the
//! terminal's setup (`terminal`) or any I/O source (`event`, `feed`, `ops`).

use std::collections::VecDeque;

use anyhow::anyhow;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc::Receiver;
use tokio::task::{JoinError, JoinHandle};

use super::faults::FaultsHandle;
use super::feed::FeedHandle;
use super::load::LoadHandle;
use super::model::Model;
use super::msg::{Cmd, FaultEvent, LoadEvent, Msg, ShadowEvent, WatchNews};
use super::ops::OpsHandle;
use super::theme::Theme;
use super::update::update;
use super::view;
use super::watch::WatchHandle;

/// At most this many queued messages are applied before a redraw.
const MAX_BATCH: usize = 512;

/// The handles the shell turns commands into calls on.
pub struct Handles<'a> {
    pub feed: &'a FeedHandle,
    pub ops: &'a OpsHandle,
    pub load: &'a LoadHandle,
    pub faults: &'a FaultsHandle,
    pub watch: &'a WatchHandle,
}

/// Runs until a `Cmd::Quit`, the channel closing, or the feed dying. The
/// model stays with the caller, which reads what was in flight on the way
/// out.
pub async fn run<B>(
    terminal: &mut Terminal<B>,
    rx: &mut Receiver<Msg>,
    model: &mut Model,
    theme: &Theme,
    handles: &Handles<'_>,
    mut feed_task: JoinHandle<()>,
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    if let Ok(size) = terminal.size() {
        update(model, Msg::Resize(size));
    }
    draw(terminal, model, theme)?;
    loop {
        let first = tokio::select! {
            msg = rx.recv() => match msg {
                Some(msg) => msg,
                None => return Ok(()),
            },
            joined = &mut feed_task => return Err(feed_stopped(joined)),
        };
        let mut batch = VecDeque::from([first]);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(msg) => batch.push_back(msg),
                Err(_) => break,
            }
        }
        while let Some(msg) = batch.pop_front() {
            for cmd in update(model, msg) {
                match cmd {
                    Cmd::Quit => {
                        draw(terminal, model, theme)?;
                        return Ok(());
                    }
                    Cmd::WatchGroup(group) => handles.feed.watch(group),
                    Cmd::Refresh => handles.feed.refresh(),
                    Cmd::Shadow(cmd) => {
                        if let Err(cmd) = handles.ops.run(cmd) {
                            let reason = "the console's shadow task is gone (see the log)";
                            batch.push_back(Msg::Shadow(ShadowEvent::failed(&cmd, reason)));
                        }
                    }
                    Cmd::Load(cmd) => {
                        if let Err(cmd) = handles.load.run(cmd) {
                            let reason = "the console's load task is gone (see the log)";
                            batch.push_back(Msg::Load(LoadEvent::failed(&cmd, reason)));
                        }
                    }
                    Cmd::Watch(cmd) => {
                        if let Err(cmd) = handles.watch.run(cmd) {
                            let reason = "the console's watch task is gone (see the log)";
                            batch.push_back(Msg::Watch(WatchNews::failed(&cmd, reason)));
                        }
                    }
                    Cmd::Faults(cmd) => {
                        if let Err(cmd) = handles.faults.run(cmd) {
                            let reason = "the console's fault task is gone (see the log)";
                            if let Some(event) = FaultEvent::failed(&cmd, reason) {
                                batch.push_back(Msg::Faults(event));
                            }
                        }
                    }
                }
            }
        }
        draw(terminal, model, theme)?;
    }
}

fn draw<B>(terminal: &mut Terminal<B>, model: &Model, theme: &Theme) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    terminal
        .draw(|frame| view::draw(frame, model, theme))
        .map_err(|e| anyhow!("drawing the console: {e}"))?;
    Ok(())
}

fn feed_stopped(joined: Result<(), JoinError>) -> anyhow::Error {
    match joined {
        Ok(()) => anyhow!("the console's data feed stopped unexpectedly"),
        Err(e) if e.is_panic() => anyhow!("the console's data feed panicked (see the log)"),
        Err(e) => anyhow!("the console's data feed stopped: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ratatui::backend::TestBackend;
    use tokio::sync::mpsc::{self, UnboundedReceiver};
    use tokio::sync::{Notify, watch};

    use super::*;
    use crate::console::fixtures;
    use crate::console::keymap::Key;
    use crate::console::msg::{FaultCmd, LoadCmd, ShadowCmd, WatchCmd};

    fn key(c: char) -> Msg {
        Msg::Key(Key::char(c).to_event())
    }

    /// The shell's handles with no tasks behind them, and what they were
    /// handed.
    struct Fakes {
        feed: FeedHandle,
        watched: watch::Receiver<Option<String>>,
        _refresh: Arc<Notify>,
        ops: OpsHandle,
        ops_cmds: UnboundedReceiver<ShadowCmd>,
        load: LoadHandle,
        _load_cmds: UnboundedReceiver<LoadCmd>,
        faults: FaultsHandle,
        _fault_cmds: UnboundedReceiver<FaultCmd>,
        watch: WatchHandle,
        watch_cmds: UnboundedReceiver<WatchCmd>,
    }

    impl Fakes {
        fn new() -> Self {
            let (feed, watched, refresh) = FeedHandle::for_tests();
            let (ops, ops_cmds) = OpsHandle::channel();
            let (load, load_cmds) = LoadHandle::channel();
            let (faults, fault_cmds) = FaultsHandle::channel();
            let (watch, watch_cmds) = WatchHandle::channel();
            Self {
                feed,
                watched,
                _refresh: refresh,
                ops,
                ops_cmds,
                load,
                _load_cmds: load_cmds,
                faults,
                _fault_cmds: fault_cmds,
                watch,
                watch_cmds,
            }
        }

        /// [`run`] with these handles and the built-in theme.
        async fn run(
            &self,
            terminal: &mut Terminal<TestBackend>,
            rx: &mut Receiver<Msg>,
            model: &mut Model,
            feed_task: JoinHandle<()>,
        ) -> anyhow::Result<()> {
            let theme = Theme::builtin().unwrap();
            let handles = Handles {
                feed: &self.feed,
                ops: &self.ops,
                load: &self.load,
                faults: &self.faults,
                watch: &self.watch,
            };
            run(terminal, rx, model, &theme, &handles, feed_task).await
        }
    }

    #[tokio::test]
    async fn applies_a_batch_runs_its_commands_and_draws() {
        let mut terminal = Terminal::new(TestBackend::new(100, 20)).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let mut fakes = Fakes::new();
        let feed_task = tokio::spawn(std::future::pending());
        tx.send(Msg::Groups(fixtures::groups())).await.unwrap();
        tx.send(key('j')).await.unwrap();
        drop(tx);
        let mut model = Model::new(None);
        fakes
            .run(&mut terminal, &mut rx, &mut model, feed_task)
            .await
            .unwrap();
        // The first listing selected "blog"; j moved to "payments".
        assert_eq!(
            fakes.watched.borrow_and_update().as_deref(),
            Some("payments")
        );
        let screen = terminal.backend().to_string();
        assert!(screen.contains("Services · payments"), "{screen}");
        assert_eq!(model.screen, ratatui::layout::Size::new(100, 20));
    }

    #[tokio::test]
    async fn q_quits_while_the_channel_is_open() {
        let mut terminal = Terminal::new(TestBackend::new(60, 10)).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let fakes = Fakes::new();
        let feed_task = tokio::spawn(std::future::pending());
        tx.send(key('q')).await.unwrap();
        let mut model = Model::new(None);
        let running = fakes.run(&mut terminal, &mut rx, &mut model, feed_task);
        let quit = tokio::time::timeout(std::time::Duration::from_secs(5), running).await;
        quit.expect("q quits").unwrap();
        drop(tx);
    }

    #[tokio::test]
    async fn a_dead_feed_is_an_error() {
        let mut terminal = Terminal::new(TestBackend::new(60, 10)).unwrap();
        let (_tx, mut rx) = mpsc::channel::<Msg>(1);
        let fakes = Fakes::new();
        let feed_task = tokio::spawn(async { panic!("boom") });
        let err = fakes
            .run(&mut terminal, &mut rx, &mut Model::new(None), feed_task)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("panicked"), "{err}");
    }

    #[tokio::test]
    async fn s_hands_the_plan_to_the_operations_task_and_ctrl_c_still_quits() {
        let mut terminal = Terminal::new(TestBackend::new(100, 20)).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let mut fakes = Fakes::new();
        let feed_task = tokio::spawn(std::future::pending());
        tx.send(Msg::Groups(fixtures::groups())).await.unwrap();
        tx.send(key('s')).await.unwrap();
        tx.send(Msg::Key(Key::ctrl('c').to_event())).await.unwrap();
        let mut model = Model::new(Some("shop".into()));
        fakes
            .run(&mut terminal, &mut rx, &mut model, feed_task)
            .await
            .unwrap();
        assert_eq!(
            fakes.ops_cmds.try_recv().unwrap(),
            ShadowCmd::Plan {
                group: "shop".into()
            }
        );
        assert!(model.op.is_some(), "the caller sees what was in flight");
        drop(tx);
    }

    #[tokio::test]
    async fn four_hands_a_watch_of_the_group_to_the_watch_task() {
        let mut terminal = Terminal::new(TestBackend::new(100, 20)).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let mut fakes = Fakes::new();
        let feed_task = tokio::spawn(std::future::pending());
        tx.send(Msg::Groups(fixtures::groups())).await.unwrap();
        tx.send(key('4')).await.unwrap();
        drop(tx);
        let mut model = Model::new(Some("shop".into()));
        fakes
            .run(&mut terminal, &mut rx, &mut model, feed_task)
            .await
            .unwrap();
        assert_eq!(
            fakes.watch_cmds.try_recv().unwrap(),
            WatchCmd::Start {
                run: 0,
                group: "shop".into(),
                shadow: None,
            }
        );
        let screen = terminal.backend().to_string();
        assert!(screen.contains("Metrics · shop"), "{screen}");
    }

    #[tokio::test]
    async fn a_command_the_task_cannot_take_fails_on_the_status_line() {
        let mut terminal = Terminal::new(TestBackend::new(100, 20)).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let mut fakes = Fakes::new();
        // The operations task is gone.
        fakes.ops_cmds.close();
        let feed_task = tokio::spawn(std::future::pending());
        tx.send(Msg::Groups(fixtures::groups())).await.unwrap();
        tx.send(key('s')).await.unwrap();
        drop(tx);
        let mut model = Model::new(Some("shop".into()));
        fakes
            .run(&mut terminal, &mut rx, &mut model, feed_task)
            .await
            .unwrap();
        assert_eq!(model.op, None, "not stuck in flight");
        let outcome = model.status.outcome.unwrap();
        assert!(!outcome.ok);
        assert!(
            outcome.text.contains("shadow task is gone"),
            "{}",
            outcome.text
        );
    }
}
