//! The closed model: each user owns one connection, sends, waits for the
//! answer, thinks, and sends again until the end of the load period. There
//! is no intended schedule, so there is nothing to correct: one latency is
//! recorded (it is both the corrected and the uncorrected one).

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::conn::{Conn, Watchdog};
use super::worker::{Local, elapsed};
use crate::traffic::stats::{Failure, Outcome};

/// A user whose connection was refused waits this long before retrying,
/// so a dead target is not hammered in a tight loop.
const CONNECT_BACKOFF: Duration = Duration::from_millis(10);

pub(super) async fn run(local: Rc<Local>, users: Vec<usize>, think: Duration) {
    let tasks: Vec<_> = users
        .into_iter()
        .map(|id| tokio::task::spawn_local(user(Rc::clone(&local), id, think)))
        .collect();
    let end = local.plan.start + local.plan.duration;
    tokio::time::sleep_until(end.into()).await;
    local.stop.set(true);
    for task in tasks {
        let _ = task.await;
    }
}

async fn user(local: Rc<Local>, id: usize, think: Duration) {
    let plan = Arc::clone(&local.plan);
    let count = plan.requests.len();
    let end = plan.start + plan.duration;
    let mut next = id % count;
    let mut conn = Conn::new(plan.addr);
    let mut watchdog = Watchdog::new(plan.timeout);
    loop {
        if think.is_zero() {
            // As fast as possible: let every user whose answer came in this
            // turn of the event loop read it before any sends again, so
            // the server gets its requests in bursts (as wrk's
            // read-then-write event loop does); measured a little faster
            // and with fewer wake-ups. Latency is timed from the actual
            // send below, so this wait is not measured.
            tokio::task::yield_now().await;
        }
        if local.stop.get() {
            break;
        }
        let request = &plan.requests[next];
        next = if next + 1 == count { 0 } else { next + 1 };
        let (sent, done, outcome) = local.exchange(&mut conn, &mut watchdog, request).await;
        local
            .ring
            .borrow_mut()
            .at_elapsed(elapsed(&local, done))
            .record_closed(request.endpoint, outcome, done - sent);
        let pause = if outcome == Outcome::Failed(Failure::Connect) {
            think.max(CONNECT_BACKOFF)
        } else {
            think
        };
        if !pause.is_zero() {
            let wake = done + pause;
            if wake >= end {
                break;
            }
            tokio::time::sleep_until(wake.into()).await;
        }
    }
}
