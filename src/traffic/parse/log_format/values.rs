//! A named log format's field texts to values (pure): the request's start
//! from its time field (or the engine's stamp) and the duration, each
//! refused with the reason a line is rejected for. The method, status and
//! size are read as the access-log dialects read them (`clf`'s words).

use super::{Field, Stamp, Unit, unbracketed};
use crate::traffic::parse::clf::decimal;
use crate::traffic::parse::{Reason, time};

/// A line's time: when, whether it stamps the start or the end of the
/// request, and whether it is to the whole second only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LineTime {
    pub ms: i64,
    pub stamp: Stamp,
    pub whole_seconds: bool,
}

/// The time in a time field's text.
pub(super) fn line_time(text: &[u8], field: Field) -> Result<LineTime, Reason> {
    let (ms, stamp, whole_seconds) = match field {
        Field::ClfTime(stamp) => {
            let ms = time::parse_clf(unbracketed(text)).ok_or(Reason::BadTime)?;
            (ms, stamp, ms % 1000 == 0)
        }
        Field::IsoTime(stamp) => {
            let text = std::str::from_utf8(text).map_err(|_| Reason::BadTime)?;
            let ms = time::parse_rfc3339(text).ok_or(Reason::BadTime)?;
            (ms, stamp, ms % 1000 == 0)
        }
        Field::Epoch(unit, stamp) => {
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
        _ => return Err(Reason::NoTime),
    };
    Ok(LineTime {
        ms,
        stamp,
        whole_seconds,
    })
}

/// A time to the whole second with the fraction Apache writes apart
/// (`%{msec_frac}t`, `%{usec_frac}t`) added; a time that has its own
/// fraction keeps it.
pub(super) fn with_fraction(
    time: LineTime,
    fraction: Option<(&[u8], Unit)>,
) -> Result<LineTime, Reason> {
    let Some((text, unit)) = fraction.filter(|_| time.whole_seconds) else {
        return Ok(time);
    };
    let ms = unit.ms(decimal(text).ok_or(Reason::BadTime)?);
    if !(0.0..1000.0).contains(&ms) {
        return Err(Reason::BadTime);
    }
    Ok(LineTime {
        ms: time.ms + ms.floor() as i64,
        whole_seconds: false,
        ..time
    })
}

/// The request's start: a time that stamps the start is it; one that stamps
/// the end (or the engine's stamp) less the duration, from the middle of
/// the second when the time is to the second only.
pub(super) fn start_ms(
    time: Option<LineTime>,
    stamp_ms: Option<i64>,
    duration_ms: Option<f64>,
) -> Result<i64, Reason> {
    let LineTime {
        ms,
        stamp,
        whole_seconds,
    } = match time {
        Some(time) => time,
        None => LineTime {
            ms: stamp_ms.ok_or(Reason::NoTime)?,
            stamp: Stamp::End,
            whole_seconds: false,
        },
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
