//! The merged event source: one task turns terminal input, a periodic tick
//! and termination signals (SIGINT, SIGTERM, SIGHUP) into [`Msg`]s on the
//! console's channel. The data feed sends on the same channel, so the shell
//! reads one stream of messages.
//!
//! Owns: reading the terminal and the signals, the tick, the clock text. Does
//! not own what a key means (`keymap`, `update`).

use std::future::Future;
use std::io;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::{Stream, StreamExt};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::keymap::Action;
use super::msg::Msg;

/// Starts the event task on the real terminal and signals.
pub fn spawn(tx: Sender<Msg>, cancel: CancellationToken, tick: Duration) -> JoinHandle<()> {
    tokio::spawn(run(
        EventStream::new(),
        tx,
        cancel,
        tick,
        clock_text,
        termination(),
    ))
}

/// The loop, with its sources injected: `input` is the terminal's event
/// stream, `clock` gives the header's clock text, `signal` resolves on a
/// termination signal. Ends on cancel, on a signal (after asking to quit),
/// or when the channel or the input closes.
pub async fn run<S, C, F>(
    mut input: S,
    tx: Sender<Msg>,
    cancel: CancellationToken,
    tick: Duration,
    clock: C,
    signal: F,
) where
    S: Stream<Item = io::Result<Event>> + Unpin,
    C: Fn() -> String,
    F: Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut signal = std::pin::pin!(signal);
    loop {
        let msg = tokio::select! {
            () = cancel.cancelled() => return,
            () = &mut signal => {
                let _ = tx.send(Msg::Action(Action::Quit)).await;
                return;
            }
            _ = ticker.tick() => Msg::Tick(clock()),
            event = input.next() => match translate(event) {
                Some(Input::Msg(msg)) => msg,
                Some(Input::Ignored) => continue,
                None => {
                    // The terminal is gone or unreadable: quitting restores it.
                    let _ = tx.send(Msg::Action(Action::Quit)).await;
                    return;
                }
            },
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

enum Input {
    Msg(Msg),
    Ignored,
}

/// A terminal event as a message; `None` when input ended or failed.
fn translate(event: Option<io::Result<Event>>) -> Option<Input> {
    match event? {
        Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Some(Input::Msg(Msg::Key(key))),
        Ok(Event::Resize(width, height)) => Some(Input::Msg(Msg::Resize(
            ratatui::layout::Size::new(width, height),
        ))),
        Ok(_) => Some(Input::Ignored),
        Err(e) => {
            tracing::error!("reading the terminal: {e}");
            None
        }
    }
}

/// Resolves on SIGINT, SIGTERM or SIGHUP (Ctrl-C in raw mode is a key, but
/// `kill -INT` still arrives as a signal).
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut signals: Vec<_> = [
            SignalKind::interrupt(),
            SignalKind::terminate(),
            SignalKind::hangup(),
        ]
        .into_iter()
        .filter_map(|kind| signal(kind).ok())
        .collect();
        if signals.is_empty() {
            std::future::pending::<()>().await;
        }
        let waits = signals.iter_mut().map(|s| Box::pin(s.recv()));
        futures::future::select_all(waits).await;
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The local wall clock as `HH:MM:SS`; UTC (marked) when the local offset is
/// unknown.
pub fn clock_text() -> String {
    let format = time::macros::format_description!("[hour]:[minute]:[second]");
    if let Some(offset) = crate::telemetry::local_offset() {
        let now = time::OffsetDateTime::now_utc().to_offset(offset);
        now.format(&format).unwrap_or_default()
    } else {
        let now = time::OffsetDateTime::now_utc();
        format!("{} UTC", now.format(&format).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use tokio::sync::{mpsc, oneshot};

    use super::*;

    fn key(c: char) -> Event {
        Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    #[tokio::test(start_paused = true)]
    async fn merges_keys_ticks_and_resizes() {
        let (input_tx, input_rx) = mpsc::unbounded_channel();
        let input = tokio_stream_from(input_rx);
        let (tx, mut rx) = mpsc::channel(16);
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(
            input,
            tx,
            cancel.clone(),
            Duration::from_millis(250),
            || "12:00:00".to_owned(),
            std::future::pending(),
        ));
        assert!(matches!(rx.recv().await, Some(Msg::Tick(t)) if t == "12:00:00"));
        input_tx.send(Ok(key('j'))).unwrap();
        assert!(matches!(rx.recv().await, Some(Msg::Key(k)) if k.code == KeyCode::Char('j')));
        input_tx.send(Ok(Event::Resize(80, 24))).unwrap();
        assert!(matches!(rx.recv().await, Some(Msg::Resize(s)) if (s.width, s.height) == (80, 24)));
        tokio::time::advance(Duration::from_millis(250)).await;
        assert!(matches!(rx.recv().await, Some(Msg::Tick(_))));
        cancel.cancel();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_signal_or_a_broken_terminal_asks_to_quit() {
        let (tx, mut rx) = mpsc::channel(16);
        let (signal_tx, signal_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(run(
            futures::stream::pending(),
            tx,
            CancellationToken::new(),
            Duration::from_secs(3600),
            String::new,
            async {
                let _ = signal_rx.await;
            },
        ));
        assert!(matches!(rx.recv().await, Some(Msg::Tick(_))));
        signal_tx.send(()).unwrap();
        assert!(matches!(rx.recv().await, Some(Msg::Action(Action::Quit))));
        task.await.unwrap();

        let (tx, mut rx) = mpsc::channel(16);
        let broken = futures::stream::iter([Err(io::Error::other("tty gone"))]);
        let task = tokio::spawn(run(
            broken,
            tx,
            CancellationToken::new(),
            Duration::from_secs(3600),
            String::new,
            std::future::pending(),
        ));
        task.await.unwrap();
        let mut last = None;
        while let Some(msg) = rx.recv().await {
            last = Some(msg);
        }
        assert!(matches!(last, Some(Msg::Action(Action::Quit))), "{last:?}");
    }

    fn tokio_stream_from<T: Send + 'static>(
        mut rx: mpsc::UnboundedReceiver<T>,
    ) -> impl Stream<Item = T> + Unpin {
        Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }

    #[test]
    fn clock_text_is_hh_mm_ss() {
        let text = clock_text();
        assert_eq!(text.as_bytes().get(2), Some(&b':'), "{text}");
        assert!(text.len() == 8 || text.ends_with(" UTC"), "{text}");
    }
}
