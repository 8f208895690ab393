//! Quantities with units, as people type them: durations (`250ms`, `2s`,
//! `1m30s`, `1.5h`) and byte sizes (`64m`, `512MiB`, `1g`). Parse errors name
//! the offending text and the valid units.

use std::fmt;
use std::time::Duration;

/// Why a quantity did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}: {reason}")]
pub struct UnitError {
    pub what: &'static str,
    pub input: String,
    pub reason: String,
}

const DURATION_UNITS: &str = "ns, us, ms, s, m, h";

/// Unix milliseconds of `t` (0 before the epoch).
pub fn unix_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Parses `250ms`, `2s`, `1m30s`, `1.5s`, `100us`, `3h`. A bare `0` is zero.
pub fn parse_duration(input: &str) -> Result<Duration, UnitError> {
    let err = |reason: String| UnitError {
        what: "duration",
        input: input.to_owned(),
        reason,
    };
    let text = input.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(err(format!(
            "empty; write a number and a unit ({DURATION_UNITS})"
        )));
    }
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(err(format!("expected a number at {rest:?}")));
        }
        let number = &rest[..num_len];
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let nanos_per_unit: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" | "min" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(err(format!("missing unit; valid units: {DURATION_UNITS}"))),
            other => {
                return Err(err(format!(
                    "unknown unit {other:?}; valid units: {DURATION_UNITS}"
                )));
            }
        };
        let part = if let Ok(whole) = number.parse::<u128>() {
            whole.saturating_mul(nanos_per_unit)
        } else {
            let value: f64 = number
                .parse()
                .map_err(|_| err(format!("{number:?} is not a number")))?;
            (value * nanos_per_unit as f64).round() as u128
        };
        total = total.saturating_add(part);
    }
    let nanos = u64::try_from(total).map_err(|_| err("too large".to_owned()))?;
    Ok(Duration::from_nanos(nanos))
}

/// Formats a duration in the largest unit that keeps it exact
/// (`2s`, `1500ms`, `90s` stays `90s`, `2m` for 120 s, `1h`).
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    for (unit, size) in [
        ("h", 3_600_000_000_000u128),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
    ] {
        if nanos % size == 0 {
            return format!("{}{unit}", nanos / size);
        }
    }
    format!("{nanos}ns")
}

/// Parses a byte size: `1048576`, `64m`, `64mb`, `64MiB`, `1.5g`, `512k`.
/// Suffixes are binary (k = 1024), as Docker reads them.
pub fn parse_bytes(input: &str) -> Result<u64, UnitError> {
    let err = |reason: &str| UnitError {
        what: "size",
        input: input.to_owned(),
        reason: reason.to_owned(),
    };
    let text = input.trim();
    let num_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    if num_len == 0 {
        return Err(err("expected a number first"));
    }
    let value: f64 = text[..num_len]
        .parse()
        .map_err(|_| err("the number does not parse"))?;
    let unit = text[num_len..].trim().to_ascii_lowercase();
    let scale: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(err("unknown unit; valid units: b, k, m, g, t (binary)")),
    };
    Ok((value * scale).round() as u64)
}

/// Formats bytes for humans: `512B`, `1.5KiB`, `64.0MiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}

/// Lowercase hex of bytes (digests, ids).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A rate in bytes per second for humans: `0B/s`, `12.3KiB/s`.
pub struct ByteRate(pub f64);

impl fmt::Display for ByteRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", format_bytes(self.0.max(0.0).round() as u64))
    }
}

/// Serde adapter: a `Duration` as its text form (`"2s"`); also accepts an
/// integer number of milliseconds.
pub mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*d))
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Str(String),
        Millis(u64),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Text::deserialize(d)? {
            Text::Str(s) => super::parse_duration(&s).map_err(de::Error::custom),
            Text::Millis(ms) => Ok(Duration::from_millis(ms)),
        }
    }

    /// The same for `Option<Duration>`.
    pub mod option {
        use std::time::Duration;

        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => super::serialize(d, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            #[derive(Deserialize)]
            struct Wrap(#[serde(with = "super")] Duration);
            Option::<Wrap>::deserialize(d).map(|w| w.map(|Wrap(d)| d))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_common_durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
    }

    #[test]
    fn duration_errors_name_the_value_and_units() {
        let e = parse_duration("5 parsecs").unwrap_err().to_string();
        assert!(e.contains("\"5 parsecs\""), "{e}");
        assert!(e.contains("ms, s, m, h"), "{e}");
        assert!(
            parse_duration("10")
                .unwrap_err()
                .to_string()
                .contains("missing unit")
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn formats_in_the_largest_exact_unit() {
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_nanos(7)), "7ns");
    }

    #[test]
    fn parses_and_formats_bytes() {
        assert_eq!(parse_bytes("64m").unwrap(), 64 * 1024 * 1024);
        assert_eq!(parse_bytes("64MiB").unwrap(), 64 * 1024 * 1024);
        assert_eq!(parse_bytes("512").unwrap(), 512);
        assert_eq!(parse_bytes("1.5k").unwrap(), 1536);
        assert!(
            parse_bytes("12 parsecs")
                .unwrap_err()
                .to_string()
                .contains("\"12 parsecs\"")
        );
        assert_eq!(format_bytes(512), "512B");
        assert_eq!(format_bytes(1536), "1.5KiB");
        assert_eq!(ByteRate(2048.0).to_string(), "2.0KiB/s");
    }

    proptest! {
        #[test]
        fn duration_text_round_trips(nanos in 0u64..10_000_000_000_000) {
            let d = Duration::from_nanos(nanos);
            prop_assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }
}
