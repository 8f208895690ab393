//! Timestamps as seconds since the Unix epoch (UTC, naive times taken as UTC).
//!
//! Owns parsing of the forms the `detect` CSV accepts: `YYYY-MM-DD HH:MM:SS`
//! (NAB), ISO 8601 / RFC 3339 with `T`, optional fraction and `Z` or an
//! offset, a bare date, and plain numbers (Unix seconds). Hand-written: the
//! hot path of `understudy detect` parses one per row.

/// Parses a timestamp into Unix seconds; `None` when it is not one.
pub fn parse(text: &str) -> Option<f64> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        return parse_iso(b);
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

fn parse_iso(b: &[u8]) -> Option<f64> {
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = (days_from_civil(year, month, day) * 86_400) as f64;
    let rest = &b[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    if !(rest[0] == b' ' || rest[0] == b'T' || rest[0] == b't') || rest.len() < 6 {
        return None;
    }
    let (clock, tail) = parse_clock(&rest[1..])?;
    secs += clock;
    secs -= parse_offset(tail)?;
    Some(secs)
}

/// `HH:MM[:SS[.frac]]` -> (seconds of the day, the unparsed rest).
fn parse_clock(b: &[u8]) -> Option<(f64, &[u8])> {
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let hour = digits(&b[0..2])?;
    let minute = digits(&b[3..5])?;
    let mut rest = &b[5..];
    let mut second = 0.0;
    if rest.len() >= 3 && rest[0] == b':' {
        second = digits(&rest[1..3])? as f64;
        rest = &rest[3..];
        if let Some((&b'.', frac)) = rest.split_first() {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut scale = 0.1;
            for &c in &frac[..n] {
                second += f64::from(c - b'0') * scale;
                scale *= 0.1;
            }
            rest = &frac[n..];
        }
    }
    if hour > 23 || minute > 59 || second >= 61.0 {
        return None;
    }
    Some(((hour * 3600 + minute * 60) as f64 + second, rest))
}

/// `""`, `Z`, `+HH:MM`, `-HHMM` -> offset in seconds east of UTC.
fn parse_offset(b: &[u8]) -> Option<f64> {
    match b {
        [] | [b'Z' | b'z'] => Some(0.0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                _ => return None,
            };
            let off = (h * 3600 + m * 60) as f64;
            Some(if *sign == b'-' { -off } else { off })
        }
        _ => None,
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn nab_format_is_utc_seconds() {
        assert_eq!(parse("1970-01-01 00:00:00"), Some(0.0));
        assert_eq!(parse("2014-02-14 14:30:00"), Some(1_392_388_200.0));
        assert_eq!(parse("2011-07-01 00:00:01"), Some(1_309_478_401.0));
    }

    #[test]
    fn iso_variants_and_numbers() {
        assert_eq!(parse("2014-02-14T14:30:00Z"), Some(1_392_388_200.0));
        assert_eq!(parse("2014-02-14T15:30:00+01:00"), Some(1_392_388_200.0));
        assert_eq!(parse("2014-02-14 14:30:00.500000"), Some(1_392_388_200.5));
        assert_eq!(parse("2014-02-14"), Some(1_392_336_000.0));
        assert_eq!(parse("2000-02-29 00:00"), Some(951_782_400.0));
        assert_eq!(parse(" 1392388200 "), Some(1_392_388_200.0));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "yesterday",
            "2014-13-01 00:00:00",
            "2014-02-30",
            "2014-02-14 25:00:00",
            "NaN",
            "2014-02-14 14:30:00 junk",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
