//! One load thread: a single-threaded tokio runtime of its own, running
//! its share of the connections (open model) or users (closed model).
//!
//! Everything a request touches lives on this thread (`Rc`, `Cell`,
//! `RefCell`): no lock and no allocation per request. Each finished second
//! of recordings is handed to the collector over a channel; the last one
//! after the stragglers, then `Done`.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::LocalSet;
use tokio_util::sync::CancellationToken;

use super::conn::{Conn, Watchdog};
use super::timer::PreciseTimer;
use super::{closed, open};
use crate::traffic::stats::{Bucket, Outcome, WindowRing};
use crate::traffic::workload::Arrival;

/// A request ready to send.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    pub bytes: Bytes,
    pub head: bool,
    /// Index into the endpoint names.
    pub endpoint: usize,
}

/// The open model's arrivals, shared by the threads.
pub(super) struct Feeder {
    pub arrivals: Box<dyn Iterator<Item = Arrival> + Send>,
    /// Arrivals at or after this are not part of the run.
    pub end: Duration,
    pub exhausted: bool,
}

impl Feeder {
    /// Moves the next arrivals due before `horizon` (at least one, at most
    /// `max`) into `out`; false when there are no more.
    pub(super) fn refill(
        &mut self,
        out: &mut std::collections::VecDeque<Arrival>,
        horizon: Duration,
        max: usize,
    ) -> bool {
        let before = out.len();
        while !self.exhausted && out.len() - before < max {
            match self.arrivals.next() {
                Some(a) if a.at < self.end => {
                    let past_horizon = a.at > horizon;
                    out.push_back(a);
                    if past_horizon {
                        break;
                    }
                }
                _ => self.exhausted = true,
            }
        }
        out.len() > before
    }
}

/// What every thread of a run shares (read-only but the feeder).
pub(super) struct Plan {
    pub addr: SocketAddr,
    pub requests: Vec<Prepared>,
    pub timeout: Duration,
    pub duration: Duration,
    pub start: Instant,
    /// `start` on the wall clock, ms since the Unix epoch.
    pub start_unix_ms: i64,
    pub seconds: u64,
    pub endpoints: usize,
    pub max_backlog: usize,
    pub feeder: Option<Mutex<Feeder>>,
}

/// This thread's share of the work.
#[derive(Debug, Clone)]
pub(super) enum Role {
    /// Open model: this many pooled connections.
    Open { connections: usize },
    /// Closed model: these user ids (their first request is `id % n`).
    Closed { users: Vec<usize>, think: Duration },
}

/// From a thread to the collector.
pub(super) enum Msg {
    Window {
        thread: usize,
        t: u64,
        bucket: Box<Bucket>,
    },
    Done {
        thread: usize,
        connects: u64,
        aborted: u64,
    },
}

/// Per-thread state shared by its tasks.
pub(super) struct Local {
    pub plan: Arc<Plan>,
    pub ring: RefCell<WindowRing>,
    /// Set at the end of the load period: no new request starts.
    pub stop: Cell<bool>,
    pub in_flight: Cell<u64>,
    pub connects: Cell<u64>,
    thread: usize,
    tx: UnboundedSender<Msg>,
}

impl Local {
    /// Sends `request` on `conn` now, within the timeout, counted in
    /// flight meanwhile: when it was sent, when it ended (its answer's
    /// arrival, or the failure) and how.
    pub(super) async fn exchange(
        &self,
        conn: &mut Conn,
        watchdog: &mut Watchdog,
        request: &Prepared,
    ) -> (Instant, Instant, Outcome) {
        let sent = Instant::now();
        self.in_flight.set(self.in_flight.get() + 1);
        let result = watchdog
            .run(
                sent,
                conn.exchange(&request.bytes, request.head, &self.connects),
            )
            .await;
        let done = conn.done_at(result.as_ref());
        let outcome = conn.outcome(result);
        self.in_flight.set(self.in_flight.get() - 1);
        (sent, done, outcome)
    }

    fn send_through(&self, index: u64) {
        let windows = self.ring.borrow_mut().take_through(index);
        for (t, bucket) in windows {
            let _ = self.tx.send(Msg::Window {
                thread: self.thread,
                t,
                bucket: Box::new(bucket),
            });
        }
    }
}

/// Starts thread number `thread`.
pub(super) fn spawn(
    thread: usize,
    plan: Arc<Plan>,
    role: Role,
    tx: UnboundedSender<Msg>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("understudy-load-{thread}"))
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("load thread {thread}: no runtime: {e}");
                    return;
                }
            };
            PreciseTimer::tighten_thread_slack();
            let local = Rc::new(Local {
                ring: RefCell::new(WindowRing::new(plan.seconds, plan.endpoints)),
                plan,
                stop: Cell::new(false),
                in_flight: Cell::new(0),
                connects: Cell::new(0),
                thread,
                tx,
            });
            LocalSet::new().block_on(&runtime, work(local, role, cancel));
        })
        .map(drop)
}

async fn work(local: Rc<Local>, role: Role, cancel: CancellationToken) {
    let plan = Arc::clone(&local.plan);
    tokio::time::sleep_until(plan.start.into()).await;
    tokio::task::spawn_local(tick(Rc::clone(&local)));
    let queue = Rc::new(RefCell::new(open::Queue::default()));
    let load = async {
        match role {
            Role::Open { connections } => {
                open::run(Rc::clone(&local), Rc::clone(&queue), connections).await;
            }
            Role::Closed { users, think } => closed::run(Rc::clone(&local), users, think).await,
        }
    };
    let cancelled = tokio::select! {
        () = load => false,
        () = cancel.cancelled() => true,
    };
    let now = Instant::now().saturating_duration_since(plan.start);
    if cancelled {
        let unsent = queue.borrow_mut().close();
        local.ring.borrow_mut().at_elapsed(now).dropped += unsent;
        let index = local.ring.borrow().index_of(now);
        local.send_through(index);
    } else {
        local.send_through(u64::MAX);
    }
    let _ = local.tx.send(Msg::Done {
        thread: local.thread,
        connects: local.connects.get(),
        aborted: if cancelled { local.in_flight.get() } else { 0 },
    });
}

/// Hands over second k shortly after it ends; the last second is handed
/// over by `work` after the stragglers.
async fn tick(local: Rc<Local>) {
    let start = local.plan.start;
    let last = local.ring.borrow().last();
    for k in 0..last {
        let at = start + Duration::from_secs(k + 1) + Duration::from_millis(2);
        tokio::time::sleep_until(at.into()).await;
        local.send_through(k);
    }
}

/// Time since the start of the run (zero before it).
pub(super) fn elapsed(local: &Local, at: Instant) -> Duration {
    at.saturating_duration_since(local.plan.start)
}
