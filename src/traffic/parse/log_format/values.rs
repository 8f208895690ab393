//! A named log format's field texts to values (pure): the request's start
//! from its time field (or the engine's stamp) and the duration, each
//! refused with the reason a line is rejected for. The method, status and
//! size are read as the access-log dialects read them (`clf`'s words).

use super::{Field, Stamp, Unit, unbracketed};
use crate::traffic::parse::clf::decimal;
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
            let ms = time::parse_clf(unbracketed(text)).ok_or(Reason::BadTime)?;
            (ms, stamp, ms % 1000 == 0)
        }
        Some((text, Field::IsoTime(stamp))) => {
            let text = std::str::from_utf8(text).map_err(|_| Reason::BadTime)?;
            let ms = time::parse_rfc3339(text).ok_or(Reason::BadTime)?;
            (ms, stamp, ms % 1000 == 0)
        }
        Some((text, Field::Epoch(unit, stamp))) => {
            let v = decimal(text).ok_or(Reason::BadTime)?;
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
        total += decimal(word).ok_or(Reason::BadDuration)?;
        any = true;
    }
    Ok(any.then_some(unit.ms(total)))
}
