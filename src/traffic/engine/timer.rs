//! A sub-millisecond sleep for the open model's dispatcher.
//!
//! tokio's timer wheel has millisecond ticks and rounds deadlines up, so a
//! send planned for t would leave anywhere in `[t, t + 1 ms)`: that slop
//! would be added to every corrected latency. On Linux a `timerfd`
//! (nanosecond resolution, woken through the same epoll as the sockets)
//! replaces it; elsewhere, or if the timerfd cannot be made, tokio's timer
//! is used.

use std::time::{Duration, Instant};

/// Sleeps until an instant, as precisely as the platform allows.
pub(super) struct PreciseTimer {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<linux::Fd>>,
}

impl PreciseTimer {
    pub(super) fn new() -> Self {
        #[cfg(target_os = "linux")]
        {
            Self {
                fd: linux::create(),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            Self {}
        }
    }

    /// Sets this thread's timer slack to 1 µs (Linux; best effort), so
    /// the kernel does not batch our wake-ups by its default 50 µs.
    pub(super) fn tighten_thread_slack() {
        #[cfg(target_os = "linux")]
        {
            let _ = nix::sys::prctl::set_timerslack(1_000);
        }
    }

    pub(super) async fn sleep_until(&mut self, when: Instant) {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            linux::sleep_until(fd, when).await;
            return;
        }
        tokio::time::sleep_until(when.into()).await;
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::fd::{AsFd, AsRawFd, RawFd};
    use std::time::Instant;

    use nix::sys::time::TimeSpec;
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    use tokio::io::unix::AsyncFd;

    /// `AsyncFd` wants `AsRawFd`; nix's `TimerFd` offers `AsFd`.
    pub(super) struct Fd(TimerFd);

    impl AsRawFd for Fd {
        fn as_raw_fd(&self) -> RawFd {
            self.0.as_fd().as_raw_fd()
        }
    }

    pub(super) fn create() -> Option<AsyncFd<Fd>> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .ok()?;
        // `AsyncFd::new` is deprecated because it cannot know that the fd
        // outlives the registration; here it does: `Fd` owns it (nix's
        // `TimerFd` holds an `OwnedFd`) and the `AsyncFd` owns `Fd`. The
        // replacement, `AsyncFd::register`, is `unsafe`, which this crate
        // forbids.
        #[allow(deprecated)]
        AsyncFd::new(Fd(fd)).ok()
    }

    pub(super) async fn sleep_until(fd: &AsyncFd<Fd>, when: Instant) {
        loop {
            let now = Instant::now();
            if now >= when {
                return;
            }
            // A relative one-shot timer; re-arming also clears any
            // expiration left from an earlier sleep.
            let wait = TimeSpec::from_duration(when - now);
            if fd
                .get_ref()
                .0
                .set(Expiration::OneShot(wait), TimerSetTimeFlags::empty())
                .is_err()
            {
                tokio::time::sleep_until(when.into()).await;
                return;
            }
            let Ok(mut guard) = fd.readable().await else {
                tokio::time::sleep_until(when.into()).await;
                return;
            };
            guard.clear_ready();
        }
    }
}

/// How early the dispatcher wakes before an arrival: it then sends every
/// arrival due within this much, so wake-up latency (tens of µs on a quiet
/// machine, hundreds on a busy VM) lands before the intended time rather
/// than after it. A send up to this much early is jitter well below the
/// 1 ms of `late`, and corrected latency never counts from before the
/// actual send (`open::connection`).
pub(super) const EARLY: Duration = Duration::from_micros(500);
