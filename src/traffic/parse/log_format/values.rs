//! A named log format's field texts to values (pure): the request's start
//! from its time field (or the engine's stamp), the method, status, size
//! and duration, each refused with the reason a line is rejected for.

use super::{Field, Stamp, Unit};
use crate::traffic::parse::{Reason, time};

/// The request's start: a time that stamps the start is it; one that stamps
/// the end (or the engine's stamp) less the duration, from the middle of
/// the second when the time is to the second only.
pub(super) fn start_ms(
    time: Option<(&[u8], Field)>,
    stamp_ms: Option<i64>,
    duration_ms: Option<f64>,
) -> Result<i64, Reason> {
    let (ms, stamp, whole_seconds) = match time {
        Some((text, Field::ClfTime(stamp))) => {
            let inner = text.strip_prefix(b"[").and_then(|t| t.strip_suffix(b"]"));
            let ms = time::parse_clf(inner.unwrap_or(text)).ok_or(Reason::BadTime)?;
            (ms, stamp, ms % 1000 == 0)
        }
        Some((text, Field::IsoTime(stamp))) => {
            let text = std::str::from_utf8(text).map_err(|_| Reason::BadTime)?;
            let ms = time::parse_rfc3339(text).ok_or(Reason::BadTime)?;
            (ms, stamp, ms % 1000 == 0)
        }
        Some((text, Field::Epoch(unit, stamp))) => {
            let v = number(text).ok_or(Reason::BadTime)?;
            let ms = unit.ms(v);
            if !(0.0..4e12).contains(&ms) {
                return Err(Reason::BadTime);
            }
            (
                ms.round() as i64,
                stamp,
                !text.contains(&b'.') && unit == Unit::Seconds,
            )
        }
        _ => (stamp_ms.ok_or(Reason::NoTime)?, Stamp::End, false),
    };
    Ok(match (stamp, duration_ms) {
        (Stamp::Start, _) | (Stamp::End, None) => ms,
        (Stamp::End, Some(d)) => ms + if whole_seconds { 500 } else { 0 } - d.round() as i64,
    })
}

/// A method: letters, `-` or `_`, at most 24.
pub(super) fn method(text: &[u8]) -> Result<&[u8], Reason> {
    let ok = !text.is_empty()
        && text.len() <= 24
        && text
            .iter()
            .all(|b| b.is_ascii_alphabetic() || *b == b'-' || *b == b'_');
    if ok { Ok(text) } else { Err(Reason::BadMethod) }
}

/// Three digits, 100..=599.
pub(super) fn status(text: &[u8]) -> Result<u16, Reason> {
    if text.len() != 3 || !text.iter().all(u8::is_ascii_digit) {
        return Err(Reason::BadStatus);
    }
    let v = text.iter().fold(0u16, |v, d| v * 10 + u16::from(d - b'0'));
    if (100..=599).contains(&v) {
        Ok(v)
    } else {
        Err(Reason::BadStatus)
    }
}

/// Digits, or `-` for nothing sent.
pub(super) fn bytes(text: &[u8]) -> Result<u64, Reason> {
    if text == b"-" {
        return Ok(0);
    }
    if text.is_empty() || text.len() > 19 || !text.iter().all(u8::is_ascii_digit) {
        return Err(Reason::BadBytes);
    }
    Ok(text.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0')))
}

/// A duration in `unit` as ms; several (`0.010, 0.004` or `0.010 : 0.004`,
/// the upstreams nginx tried) add up; `-` (none measured: the request is
/// kept without a latency) among them counts nothing. Anything else is not
/// a duration: the line is not in the format.
pub(super) fn duration(text: &[u8], unit: Unit) -> Result<Option<f64>, Reason> {
    let mut total = 0.0;
    let mut any = false;
    for word in text.split(|b| matches!(b, b',' | b':' | b' ')) {
        if word.is_empty() || word == b"-" {
            continue;
        }
        total += number(word).ok_or(Reason::BadDuration)?;
        any = true;
    }
    Ok(any.then_some(unit.ms(total)))
}

fn number(text: &[u8]) -> Option<f64> {
    if text.is_empty() || !text.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}
