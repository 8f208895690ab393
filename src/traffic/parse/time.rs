//! Timestamps as logs write them, to Unix milliseconds: the access-log
//! `27/Nov/2026:10:00:00 +0000` (parsed by hand, it is on every line),
//! RFC 3339 (`2026-11-27T10:00:00.123Z`, also with a space for the `T` or no
//! offset, read as UTC) and epoch numbers in seconds, milliseconds,
//! microseconds or nanoseconds (told apart by magnitude).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    if b.is_empty() {
        return None;
    }
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// `27/Nov/2026:10:00:00 +0000` (optionally `:00.123` fractional seconds)
/// to Unix milliseconds; also Python `http.server`'s `27/Nov/2026 10:00:00`
/// (a space after the date and no offset: the container's local time,
/// read as UTC, which is what a container's clock is unless its image sets
/// `TZ`).
pub fn parse_clf(b: &[u8]) -> Option<i64> {
    let (wall, separator, rest) = wall_clock(b)?;
    match (separator, rest) {
        (b' ', []) => Some(wall),
        (b':', zone) => Some(wall - zone_offset(zone)? * 1000),
        _ => None,
    }
}

/// HAProxy's `27/Nov/2026:10:00:00.655`: local time without an offset,
/// read as UTC.
pub fn parse_clf_local(b: &[u8]) -> Option<i64> {
    let (wall, separator, rest) = wall_clock(b)?;
    (separator == b':' && rest.is_empty()).then_some(wall)
}

/// `27/Nov/2026:10:00:00[.123]` (a `:` or a space after the date): the
/// wall-clock time as Unix ms were it UTC, the separator, and what follows.
fn wall_clock(b: &[u8]) -> Option<(i64, u8, &[u8])> {
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[14] != b':' || b[17] != b':' {
        return None;
    }
    let separator = b[11];
    if separator != b':' && separator != b' ' {
        return None;
    }
    let day = digits(&b[0..2])?;
    let month = MONTHS.iter().position(|m| m[..] == b[3..6])? as u32 + 1;
    let year = digits(&b[7..11])?;
    let hms = [
        digits(&b[12..14])?,
        digits(&b[15..17])?,
        digits(&b[18..20])?,
    ];
    let mut i = 20;
    let mut millis: i64 = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &b[start..i];
        if frac.is_empty() {
            return None;
        }
        let mut scale = 100;
        for &c in frac.iter().take(3) {
            millis += i64::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    Some((
        civil_ms(year, month, day, hms)? + millis,
        separator,
        &b[i..],
    ))
}

/// ` +0130`: seconds east of UTC.
fn zone_offset(zone: &[u8]) -> Option<i64> {
    utc_offset(zone.strip_prefix(b" ")?)
}

/// `+0130` or `+01:30` (all of `b`): seconds east of UTC.
pub fn utc_offset(b: &[u8]) -> Option<i64> {
    let sign: i64 = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hh, mm) = match b.len() {
        5 => (&b[1..3], &b[3..5]),
        6 if b[3] == b':' => (&b[1..3], &b[4..6]),
        _ => return None,
    };
    let (zh, zm) = (digits(hh)?, digits(mm)?);
    (zm <= 59).then(|| sign * i64::from(zh * 3600 + zm * 60))
}

/// Unix milliseconds of a civil date and time of day (checked), in UTC.
fn civil_ms(year: u32, month: u32, day: u32, [h, m, s]: [u32; 3]) -> Option<i64> {
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    Some((days * 86_400 + i64::from(h * 3600 + m * 60 + s)) * 1000)
}

/// RFC 3339 to Unix milliseconds; also `2026-11-27 10:00:00` (space) and a
/// missing offset (UTC).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let to_ms = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(to_ms(t));
    }
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (date, clock) = (s.get(..10)?, s.get(11..)?);
    let mut fixed = String::with_capacity(s.len() + 1);
    fixed.push_str(date);
    fixed.push('T');
    fixed.push_str(clock);
    if OffsetDateTime::parse(&fixed, &Rfc3339).is_err() && !has_offset(clock.get(8..).unwrap_or(""))
    {
        fixed.push('Z');
    }
    OffsetDateTime::parse(&fixed, &Rfc3339).ok().map(to_ms)
}

fn has_offset(tail: &str) -> bool {
    tail.contains(['Z', 'z', '+', '-'])
}

/// An epoch number to Unix milliseconds, by magnitude: below 1e11 seconds,
/// below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
pub fn epoch_ms(v: f64) -> Option<i64> {
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let ms = if v < 1e11 {
        v * 1e3
    } else if v < 1e14 {
        v
    } else if v < 1e17 {
        v / 1e3
    } else {
        v / 1e6
    };
    Some(ms.round() as i64)
}

/// A time as text: RFC 3339, an epoch number, or the access-log format.
pub fn parse_text(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        if let Ok(v) = s.parse::<f64>() {
            return epoch_ms(v);
        }
    }
    parse_rfc3339(s)
        .or_else(|| parse_clf(s.as_bytes()))
        .or_else(|| parse_clf(s.trim_start_matches('[').trim_end_matches(']').as_bytes()))
}

/// Unix seconds as RFC 3339 (`2026-11-27T10:00:00Z`).
pub fn format_rfc3339(unix_s: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_s)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix_s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-27T10:00:00Z.
    const T0: i64 = 1_795_773_600_000;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn access_log_times() {
        assert_eq!(parse_clf(b"27/Nov/2026:10:00:00 +0000"), Some(T0));
        assert_eq!(parse_clf(b"27/Nov/2026:11:30:00 +0130"), Some(T0));
        assert_eq!(parse_clf(b"27/Nov/2026:08:00:00 -0200"), Some(T0));
        assert_eq!(parse_clf(b"27/Nov/2026:10:00:00.250 +0000"), Some(T0 + 250));
        assert_eq!(parse_clf(b"27/Nov/2026 10:00:00"), Some(T0), "http.server");
        assert_eq!(
            parse_clf_local(b"27/Nov/2026:10:00:00.655"),
            Some(T0 + 655),
            "HAProxy"
        );
        assert_eq!(parse_clf_local(b"27/Nov/2026:10:00:00 +0000"), None);
        for bad in [
            &b"27/Nov/2026 10:00:00 +0000"[..],
            b"27/Nov/2026 25:00:00",
            b"27/Nov/2026:10:00:00",
            b"27/Foo/2026:10:00:00 +0000",
            b"27/Nov/2026:25:00:00 +0000",
            b"2026-11-27T10:00:00Z",
            b"27/Nov/2026:10:00:00 Z0000",
            b"",
        ] {
            assert_eq!(parse_clf(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn rfc3339_and_variants() {
        assert_eq!(parse_rfc3339("2026-11-27T10:00:00Z"), Some(T0));
        assert_eq!(parse_rfc3339("2026-11-27T10:00:00.123Z"), Some(T0 + 123));
        assert_eq!(parse_rfc3339("2026-11-27T11:00:00+01:00"), Some(T0));
        assert_eq!(parse_rfc3339("2026-11-27 10:00:00Z"), Some(T0));
        assert_eq!(parse_rfc3339("2026-11-27 10:00:00.5"), Some(T0 + 500));
        assert_eq!(parse_rfc3339("2026-11-27T10:00:00"), Some(T0));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn epochs_by_magnitude() {
        assert_eq!(epoch_ms(1_795_773_600.0), Some(T0));
        assert_eq!(epoch_ms(1_795_773_600_000.0), Some(T0));
        assert_eq!(epoch_ms(1_795_773_600_000_000.0), Some(T0));
        assert_eq!(epoch_ms(1.795_773_6e18), Some(T0));
        assert_eq!(epoch_ms(-1.0), None);
        assert_eq!(parse_text("1795773600.25"), Some(T0 + 250));
        assert_eq!(parse_text("27/Nov/2026:10:00:00 +0000"), Some(T0));
        assert_eq!(parse_text("[27/Nov/2026:10:00:00 +0000]"), Some(T0));
        assert_eq!(parse_text("2026-11-27T10:00:00Z"), Some(T0));
        assert_eq!(parse_text("soon"), None);
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(format_rfc3339(T0 / 1000), "2026-11-27T10:00:00Z");
    }
}
