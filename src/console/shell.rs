//! The imperative shell: receives messages, applies `update`, turns each
//! `Cmd` into a call on a handle, and draws after each batch of messages
//! (the tick guarantees a redraw for the clock). Drawing reads `&Model`; the
//! feed and the event task never touch the model.
//!
//! Owns: the loop and the mapping from `Cmd` to actions. Does not own the
//! terminal's setup (`terminal`) or any I/O source (`event`, `feed`).

use anyhow::anyhow;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc::Receiver;
use tokio::task::{JoinError, JoinHandle};

use super::feed::FeedHandle;
use super::model::Model;
use super::msg::{Cmd, Msg};
use super::theme::Theme;
use super::update::update;
use super::view;

/// At most this many queued messages are applied before a redraw.
const MAX_BATCH: usize = 512;

/// Runs until a `Cmd::Quit`, the channel closing, or the feed dying.
pub async fn run<B>(
    terminal: &mut Terminal<B>,
    rx: &mut Receiver<Msg>,
    mut model: Model,
    theme: &Theme,
    feed: &FeedHandle,
    mut feed_task: JoinHandle<()>,
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    draw(terminal, &model, theme)?;
    loop {
        let first = tokio::select! {
            msg = rx.recv() => match msg {
                Some(msg) => msg,
                None => return Ok(()),
            },
            joined = &mut feed_task => return Err(feed_stopped(joined)),
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(msg) => batch.push(msg),
                Err(_) => break,
            }
        }
        for msg in batch {
            for cmd in update(&mut model, msg) {
                match cmd {
                    Cmd::Quit => return Ok(()),
                    Cmd::WatchGroup(group) => feed.watch(group),
                    Cmd::Refresh => feed.refresh(),
                }
            }
        }
        draw(terminal, &model, theme)?;
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
    use ratatui::backend::TestBackend;
    use tokio::sync::mpsc;

    use super::*;
    use crate::console::fixtures;
    use crate::console::keymap::Key;

    fn key(c: char) -> Msg {
        Msg::Key(Key::char(c).to_event())
    }

    #[tokio::test]
    async fn applies_a_batch_runs_its_commands_and_draws() {
        let mut terminal = Terminal::new(TestBackend::new(100, 20)).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let (feed, mut watched, _refresh) = FeedHandle::for_tests();
        let feed_task = tokio::spawn(std::future::pending());
        tx.send(Msg::Groups(fixtures::groups())).await.unwrap();
        tx.send(key('j')).await.unwrap();
        drop(tx);
        let theme = Theme::builtin().unwrap();
        run(
            &mut terminal,
            &mut rx,
            Model::new(None),
            &theme,
            &feed,
            feed_task,
        )
        .await
        .unwrap();
        // The first listing selected "blog"; j moved to "payments".
        assert_eq!(watched.borrow_and_update().as_deref(), Some("payments"));
        let screen = terminal.backend().to_string();
        assert!(screen.contains("Services · payments"), "{screen}");
    }

    #[tokio::test]
    async fn q_quits_while_the_channel_is_open() {
        let mut terminal = Terminal::new(TestBackend::new(60, 10)).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let (feed, _watched, _refresh) = FeedHandle::for_tests();
        let feed_task = tokio::spawn(std::future::pending());
        tx.send(key('q')).await.unwrap();
        let theme = Theme::builtin().unwrap();
        let model = Model::new(None);
        let running = run(&mut terminal, &mut rx, model, &theme, &feed, feed_task);
        let quit = tokio::time::timeout(std::time::Duration::from_secs(5), running).await;
        quit.expect("q quits").unwrap();
        drop(tx);
    }

    #[tokio::test]
    async fn a_dead_feed_is_an_error() {
        let mut terminal = Terminal::new(TestBackend::new(60, 10)).unwrap();
        let (_tx, mut rx) = mpsc::channel::<Msg>(1);
        let (feed, _watched, _refresh) = FeedHandle::for_tests();
        let feed_task = tokio::spawn(async { panic!("boom") });
        let theme = Theme::builtin().unwrap();
        let err = run(
            &mut terminal,
            &mut rx,
            Model::new(None),
            &theme,
            &feed,
            feed_task,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("panicked"), "{err}");
    }
}
