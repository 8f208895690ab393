//! Where an entry's log times sit against the watch's clock (pure).
//!
//! The engine stamps each line of an entry's log as it receives it (and
//! the watch reads it live), so a request's end is seconds at most before
//! its line's stamp. A log whose first request ends further than
//! [`SKEW_TOLERANCE_MS`] from that stamp writes another clock: a local time
//! without its offset (Python `http.server`, a JSON log's bare local time
//! in a container with `TZ` set) or a host clock that is off. Its requests
//! would land outside the watch's windows, beside series of the right
//! time, and the judge would read that environment's load as none. So the
//! watch measures the offset on the first request, moves every request of
//! that log by it (rounded to the quarter hour when within a minute of
//! one: a time zone; else to the second), and says so once.

use crate::domain::traffic::Record;

/// A first request further than this from the clock moves the log.
pub const SKEW_TOLERANCE_MS: i64 = 5 * 60 * 1000;

const QUARTER_HOUR_MS: i64 = 15 * 60 * 1000;

/// One followed log's shift onto the watch's clock.
#[derive(Debug, Default)]
pub struct LogClock {
    /// Added to every record's start; decided by the first record.
    shift_ms: Option<i64>,
}

impl LogClock {
    /// `record` on the watch's clock (`now_ms`: the engine's stamp of its
    /// line, or when it was read), and the notice for `instance` when its
    /// first request decided a shift.
    pub fn place(
        &mut self,
        mut record: Record,
        now_ms: i64,
        instance: &str,
    ) -> (Record, Option<String>) {
        let mut notice = None;
        let shift = *self.shift_ms.get_or_insert_with(|| {
            let end = record.start_ms + record.duration_ms.map_or(0, |d| d.round() as i64);
            let offset = end - now_ms;
            if offset.abs() <= SKEW_TOLERANCE_MS {
                return 0;
            }
            let offset = rounded(offset);
            notice = Some(skew_notice(instance, offset));
            -offset
        });
        record.start_ms += shift;
        (record, notice)
    }
}

/// `offset_ms` to the quarter hour when within a minute of one, else to
/// the second.
fn rounded(offset_ms: i64) -> i64 {
    let quarters = (offset_ms as f64 / QUARTER_HOUR_MS as f64).round() as i64;
    let zone = quarters * QUARTER_HOUR_MS;
    if (offset_ms - zone).abs() <= 60_000 {
        zone
    } else {
        (offset_ms as f64 / 1000.0).round() as i64 * 1000
    }
}

fn skew_notice(instance: &str, offset_ms: i64) -> String {
    let (direction, back) = if offset_ms > 0 {
        ("ahead of", "back")
    } else {
        ("behind", "forward")
    };
    let span = span(offset_ms.unsigned_abs() / 1000);
    let why = if offset_ms % QUARTER_HOUR_MS == 0 {
        "a local time written without its offset?"
    } else {
        "its host's clock is off?"
    };
    format!(
        "the log times of {instance} run {span} {direction} the watch's clock ({why}); \
         the watch moves its requests {back} by {span} to line them up with the other series"
    )
}

/// `1 h`, `5 h 30 min`, `7 min 5 s`, `42 s`.
fn span(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let parts: Vec<String> = [(h, "h"), (m, "min"), (s, "s")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    if parts.is_empty() {
        "0 s".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_773_600_000;

    fn record(start_ms: i64, duration_ms: Option<f64>) -> Record {
        Record {
            line: 1,
            start_ms,
            method: "GET".into(),
            path: "/".into(),
            status: 200,
            bytes: 0,
            request_bytes: None,
            duration_ms,
            body: None,
        }
    }

    #[test]
    fn a_log_on_the_clock_is_left_alone() {
        let mut clock = LogClock::default();
        let (r, notice) = clock.place(record(NOW - 4_000, Some(2.0)), NOW, "gw");
        assert_eq!((r.start_ms, notice), (NOW - 4_000, None));
        // Decided once: a later request far off is not a new verdict.
        let (r, notice) = clock.place(record(NOW - 3_600_000, None), NOW, "gw");
        assert_eq!((r.start_ms, notice), (NOW - 3_600_000, None));
    }

    #[test]
    fn a_local_time_without_its_offset_is_moved_by_its_zone_once() {
        let mut clock = LogClock::default();
        // UTC+1 written as UTC, read 800 ms after it ended.
        let (r, notice) = clock.place(record(NOW + 3_600_000 - 1_000, Some(200.0)), NOW, "gw");
        assert_eq!(r.start_ms, NOW - 1_000);
        assert_eq!(
            notice.unwrap(),
            "the log times of gw run 1 h ahead of the watch's clock (a local time written \
             without its offset?); the watch moves its requests back by 1 h to line them up \
             with the other series"
        );
        let (r, notice) = clock.place(record(NOW + 3_605_000, None), NOW + 5_000, "gw");
        assert_eq!((r.start_ms, notice), (NOW + 5_000, None), "told once");
    }

    #[test]
    fn zones_behind_and_half_hours_and_clocks_that_are_off() {
        let moved = |start: i64| {
            let mut clock = LogClock::default();
            let (r, notice) = clock.place(record(start, None), NOW, "gw");
            (r.start_ms - NOW, notice.unwrap())
        };
        let (left, notice) = moved(NOW - 5 * 3_600_000 - 30 * 60_000 + 20_000);
        assert_eq!(left, 20_000, "UTC-5:30, 20 s after the read: the zone");
        assert!(notice.contains("run 5 h 30 min behind"), "{notice}");
        assert!(
            notice.contains("moves its requests forward by 5 h 30 min"),
            "{notice}"
        );
        let (left, notice) = moved(NOW + 7 * 60_000 + 5_400);
        assert_eq!(left, 400, "a clock 7 min 5.4 s fast: to the second");
        assert!(notice.contains("run 7 min 5 s ahead"), "{notice}");
        assert!(notice.contains("its host's clock is off?"), "{notice}");
        let mut clock = LogClock::default();
        let (_, notice) = clock.place(record(NOW + SKEW_TOLERANCE_MS, None), NOW, "gw");
        assert_eq!(notice, None, "within the tolerance");
    }
}
