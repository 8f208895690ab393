//! The open model: a dispatcher releases each arrival at its intended
//! time into a FIFO; pooled connections take from it as they become free.
//!
//! When no connection is free the arrival waits in the FIFO and its
//! corrected latency still counts from its intended time; if the FIFO is
//! full (`max_backlog`) the arrival is dropped. Arrivals still queued at
//! the end of the load period are dropped too: every intended arrival is
//! either sent (and finished, or aborted by a cancel) or dropped.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use super::conn::{Conn, Watchdog};
use super::timer::{EARLY, PreciseTimer};
use super::worker::{Local, elapsed};
use crate::traffic::workload::Arrival;

/// Sent later than this after the intended time counts as late.
const LATE: Duration = Duration::from_millis(1);
/// A thread takes arrivals from the shared feeder this far ahead.
const LOOKAHEAD: Duration = Duration::from_millis(20);
const BATCH: usize = 1024;

/// An arrival released by the dispatcher.
#[derive(Debug, Clone, Copy)]
struct Job {
    request: usize,
    intended: Instant,
}

/// The FIFO between the dispatcher and the pool, with the wakers of idle
/// connections (a stack: the most recently idle connection is reused
/// first, so a light load keeps few connections busy).
#[derive(Default)]
pub(super) struct Queue {
    jobs: VecDeque<Job>,
    idle: Vec<usize>,
    wakers: Vec<Option<Waker>>,
    closed: bool,
}

impl Queue {
    fn push(&mut self, job: Job) {
        self.jobs.push_back(job);
        while let Some(id) = self.idle.pop() {
            if let Some(waker) = self.wakers[id].take() {
                waker.wake();
                break;
            }
        }
    }

    /// No more jobs: wakes every idle connection; returns how many queued
    /// jobs are dropped.
    pub(super) fn close(&mut self) -> u64 {
        self.closed = true;
        let dropped = self.jobs.len() as u64;
        self.jobs.clear();
        for id in self.idle.drain(..) {
            if let Some(waker) = self.wakers[id].take() {
                waker.wake();
            }
        }
        dropped
    }
}

/// The next job for connection `id`, or None when the queue is closed.
async fn next_job(queue: &RefCell<Queue>, id: usize) -> Option<Job> {
    poll_fn(|cx| {
        let mut q = queue.borrow_mut();
        if let Some(job) = q.jobs.pop_front() {
            // Woken by something else while registered idle: unregister,
            // so the next job wakes a connection that is really idle.
            if q.wakers.get_mut(id).is_some_and(|w| w.take().is_some())
                && let Some(pos) = q.idle.iter().rposition(|&i| i == id)
            {
                q.idle.remove(pos);
            }
            return Poll::Ready(Some(job));
        }
        if q.closed {
            return Poll::Ready(None);
        }
        if q.wakers.len() <= id {
            q.wakers.resize(id + 1, None);
        }
        if q.wakers[id].is_none() {
            q.idle.push(id);
        }
        q.wakers[id] = Some(cx.waker().clone());
        Poll::Pending
    })
    .await
}

pub(super) async fn run(local: Rc<Local>, queue: Rc<RefCell<Queue>>, connections: usize) {
    let pool: Vec<_> = (0..connections)
        .map(|id| tokio::task::spawn_local(connection(Rc::clone(&local), Rc::clone(&queue), id)))
        .collect();
    dispatch(&local, &queue).await;
    let end = local.plan.start + local.plan.duration;
    PreciseTimer::new().sleep_until(end).await;
    local.stop.set(true);
    let unsent = queue.borrow_mut().close();
    let now = elapsed(&local, Instant::now());
    local.ring.borrow_mut().at_elapsed(now).dropped += unsent;
    for task in pool {
        let _ = task.await;
    }
}

/// Releases arrivals at their intended times until the feeder runs dry.
async fn dispatch(local: &Local, queue: &RefCell<Queue>) {
    let plan = Arc::clone(&local.plan);
    let Some(feeder) = plan.feeder.as_ref() else {
        return;
    };
    let mut timer = PreciseTimer::new();
    let mut pending: VecDeque<Arrival> = VecDeque::with_capacity(BATCH);
    loop {
        if pending.is_empty() {
            let horizon = elapsed(local, Instant::now()) + LOOKAHEAD;
            let more = match feeder.lock() {
                Ok(mut f) => f.refill(&mut pending, horizon, BATCH),
                Err(_) => false,
            };
            if !more {
                return;
            }
        }
        let Some(front) = pending.front() else {
            continue;
        };
        let due = plan.start + front.at;
        if due > Instant::now() + EARLY {
            timer
                .sleep_until(due.checked_sub(EARLY).unwrap_or(due))
                .await;
        }
        if release(local, queue, &mut pending) > 0 {
            // Let the connections send before releasing more.
            tokio::task::yield_now().await;
        }
    }
}

/// Queues every pending arrival due by now (and up to `EARLY` ahead);
/// returns how many.
fn release(local: &Local, queue: &RefCell<Queue>, pending: &mut VecDeque<Arrival>) -> usize {
    let plan = &local.plan;
    let now = Instant::now();
    let mut released = 0;
    let mut ring = local.ring.borrow_mut();
    let mut q = queue.borrow_mut();
    while let Some(a) = pending.front().copied() {
        let intended = plan.start + a.at;
        if intended > now + EARLY {
            break;
        }
        pending.pop_front();
        ring.at(a.at.as_secs()).intended += 1;
        if q.jobs.len() >= plan.max_backlog {
            ring.at_elapsed(elapsed(local, now)).dropped += 1;
        } else {
            q.push(Job {
                request: a.request,
                intended,
            });
        }
        released += 1;
    }
    released
}

/// One pooled connection: takes the oldest released arrival, sends it,
/// records it.
async fn connection(local: Rc<Local>, queue: Rc<RefCell<Queue>>, id: usize) {
    let plan = Arc::clone(&local.plan);
    let mut conn = Conn::new(plan.addr);
    let mut watchdog = Watchdog::new(plan.timeout);
    while let Some(job) = next_job(&queue, id).await {
        let request = &plan.requests[job.request % plan.requests.len()];
        let (sent, done, outcome) = local.exchange(&mut conn, &mut watchdog, request).await;
        // Sent early by at most EARLY: never report less than uncorrected.
        let from = job.intended.min(sent);
        let mut ring = local.ring.borrow_mut();
        if sent > job.intended + LATE {
            ring.at_elapsed(elapsed(&local, sent)).late += 1;
        }
        ring.at_elapsed(elapsed(&local, done)).record_open(
            request.endpoint,
            outcome,
            done - from,
            done - sent,
        );
    }
}
