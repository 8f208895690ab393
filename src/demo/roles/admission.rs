//! The api's bounded concurrency and its CPU work.
//!
//! At most `workers` requests hold a permit (the work + store section);
//! at most `queue` more wait for one, first come first served; anything
//! beyond is rejected at once (the caller answers 503). CPU work burns
//! *thread CPU time*, so under a container CPU quota the wall time grows the
//! way a real service's does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::prom::{Counter, Gauge, Registry};

/// The queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("all workers busy and the queue is full")]
pub struct Rejected;

/// Workers, a waiting line, and their gauges.
pub struct Admission {
    permits: Arc<Semaphore>,
    queue_limit: usize,
    waiting: AtomicUsize,
    queue_depth: Arc<Gauge>,
    busy: Arc<Gauge>,
    rejected: Arc<Counter>,
}

/// Held while a request is in the work + store section.
pub struct Permit {
    _permit: OwnedSemaphorePermit,
    busy: Arc<Gauge>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.busy.dec();
    }
}

/// Leaves the waiting line on drop (also when the client gives up).
struct Waiting<'a>(&'a Admission);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let now = self.0.waiting.fetch_sub(1, Ordering::AcqRel) - 1;
        self.0.queue_depth.set(now as i64);
    }
}

impl Admission {
    pub fn new(workers: usize, queue: usize, registry: &Registry) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(workers)),
            queue_limit: queue,
            waiting: AtomicUsize::new(0),
            queue_depth: registry.register(Gauge::new(
                "api_queue_depth",
                "Requests waiting for a worker.",
            )),
            busy: registry.register(Gauge::new(
                "api_workers_busy",
                "Workers in the work + store section.",
            )),
            rejected: registry.register(Counter::new(
                "api_rejected_total",
                "Requests refused with 503 because the queue was full.",
            )),
        }
    }

    /// A permit now, after waiting in line, or [`Rejected`] when the line
    /// is full.
    pub async fn enter(&self) -> Result<Permit, Rejected> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(self.permit(permit));
        }
        let joined = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                (w < self.queue_limit).then_some(w + 1)
            });
        let Ok(before) = joined else {
            self.rejected.inc();
            return Err(Rejected);
        };
        self.queue_depth.set(before as i64 + 1);
        let waiting = Waiting(self);
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Rejected)?;
        drop(waiting);
        Ok(self.permit(permit))
    }

    fn permit(&self, permit: OwnedSemaphorePermit) -> Permit {
        self.busy.inc();
        Permit {
            _permit: permit,
            busy: self.busy.clone(),
        }
    }
}

/// Hashes `seed` over and over until this thread has used `cpu` of CPU time
/// (wall time if the thread clock is unavailable); returns the last digest
/// so the work cannot be optimised away.
pub fn burn(cpu: Duration, seed: &[u8]) -> [u8; 32] {
    let clock = cpu_time::ThreadTime::try_now().ok();
    let wall = Instant::now();
    let mut digest: [u8; 32] = Sha256::digest(seed).into();
    loop {
        for _ in 0..32 {
            digest = Sha256::digest(digest).into();
        }
        let spent = clock
            .as_ref()
            .and_then(|c| c.try_elapsed().ok())
            .unwrap_or_else(|| wall.elapsed());
        if spent >= cpu {
            return digest;
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt as _;

    use super::*;

    // Rejection is immediate: `now_or_never` makes a broken admission fail
    // the test instead of hanging it.

    #[test]
    fn burn_uses_at_least_the_asked_cpu_time() {
        let before = cpu_time::ThreadTime::now();
        let a = burn(Duration::from_millis(20), b"x");
        assert!(before.elapsed() >= Duration::from_millis(20));
        let b = burn(Duration::ZERO, b"x");
        let c = burn(Duration::ZERO, b"y");
        assert_ne!(b, c);
        assert_ne!(a, [0; 32]);
    }

    #[tokio::test]
    async fn admits_queues_then_rejects() {
        let registry = Registry::default();
        let admission = Arc::new(Admission::new(1, 1, &registry));
        let first = admission.enter().await.unwrap();
        assert_eq!(admission.busy.get(), 1);

        let waiter = {
            let admission = admission.clone();
            tokio::spawn(async move { admission.enter().await.map(|_permit| ()) })
        };
        while admission.queue_depth.get() != 1 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            admission.enter().now_or_never().map(Result::err),
            Some(Some(Rejected))
        );
        assert_eq!(admission.rejected.get(), 1);

        drop(first);
        waiter.await.unwrap().unwrap();
        assert_eq!((admission.queue_depth.get(), admission.busy.get()), (0, 0));
        let text = registry.render();
        assert!(text.contains("api_rejected_total 1\n"), "{text}");
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_the_line() {
        let registry = Registry::default();
        let admission = Arc::new(Admission::new(1, 1, &registry));
        let held = admission.enter().await.unwrap();
        let waiter = {
            let admission = admission.clone();
            tokio::spawn(async move { admission.enter().await.map(|_permit| ()) })
        };
        while admission.queue_depth.get() != 1 {
            tokio::task::yield_now().await;
        }
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(admission.queue_depth.get(), 0);
        // The freed place in line is usable again.
        let again = {
            let admission = admission.clone();
            tokio::spawn(async move { admission.enter().await.map(|_permit| ()) })
        };
        while admission.queue_depth.get() != 1 {
            tokio::task::yield_now().await;
        }
        drop(held);
        again.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn queue_zero_rejects_the_second() {
        let registry = Registry::default();
        let admission = Admission::new(1, 0, &registry);
        let _held = admission.enter().await.unwrap();
        assert_eq!(
            admission.enter().now_or_never().map(Result::err),
            Some(Some(Rejected))
        );
    }
}
