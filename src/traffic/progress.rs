//! The live progress line of `understudy load` on a terminal: one line on
//! stderr, redrawn as each second's [`Window`] arrives (elapsed, target vs
//! achieved rate, corrected p50/p99, errors). Formatting is pure
//! ([`line`]); [`show`] draws. Nothing is drawn when stderr is not a
//! terminal — the caller decides (`std::io::IsTerminal`).

use std::fmt::Write as _;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use super::report::{Window, num};

/// The progress line for `window` of a run of `total` (no newline).
pub fn line(window: &Window, total: Duration) -> String {
    let rate = match window.target_rps {
        Some(target) => format!("{:.0}/s of {target:.0}/s", window.rps),
        None => format!("{:.0}/s", window.rps),
    };
    let mut text = format!(
        "{:>4}s/{}s  {rate}  p50 {}ms  p99 {}ms  errors {}",
        window.t + 1,
        total.as_secs_f64().ceil(),
        num(window.p50),
        num(window.p99),
        window.errors.total()
    );
    if window.dropped > 0 || window.late > 0 {
        let _ = write!(text, "  late {}  dropped {}", window.late, window.dropped);
    }
    text
}

/// Draws each window's line over the previous one on `out` until the
/// sender is dropped, then clears the line.
pub async fn show(
    mut windows: UnboundedReceiver<Window>,
    total: Duration,
    mut out: impl std::io::Write,
) {
    while let Some(window) = windows.recv().await {
        let _ = write!(out, "\r\x1b[2K{}", line(&window, total));
        let _ = out.flush();
    }
    let _ = write!(out, "\r\x1b[2K");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::report::Model;
    use crate::traffic::stats::{Bucket, Outcome};

    #[test]
    fn shows_target_achieved_percentiles_and_errors() {
        let mut bucket = Bucket::new(0);
        bucket.intended = 100;
        bucket.late = 3;
        for _ in 0..90 {
            bucket.record_open(
                0,
                Outcome::Status(200),
                Duration::from_millis(12),
                Duration::from_millis(2),
            );
        }
        bucket.record_open(0, Outcome::Status(500), Duration::ZERO, Duration::ZERO);
        let window = Window::from_bucket(4, 1.0, &bucket, Model::Open, &[]);
        let text = line(&window, Duration::from_secs(30));
        assert_eq!(
            text,
            "   5s/30s  91/s of 100/s  p50 12.0ms  p99 12.0ms  errors 1  late 3  dropped 0"
        );
    }
}
