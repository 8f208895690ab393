//! Parameter values with units that only the fault proxy uses: transfer
//! rates (`1mb/s`, `512kb/s`, `8mbit`), shares (`10%`, `0.1`) and client
//! networks (`10.213.0.5`, `10.213.0.0/24`). Durations and sizes come from
//! [`crate::domain::units`]. Pure; errors say what is valid.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// The forms [`parse_rate`] accepts, for error messages.
pub const RATE_FORMS: &str = "bytes per second as SIZE/s (1mb/s, 512kb/s, 100b/s; k = 1024) \
                              or bits per second as Nbit, Nkbit, Nmbit, Ngbit (8mbit; k = 1000)";

/// Parses a transfer rate into bytes per second (never zero).
pub fn parse_rate(input: &str) -> Result<u64, String> {
    let text = input.trim().to_ascii_lowercase();
    let bits = text.strip_suffix("/s").unwrap_or(&text);
    if let Some(number) = bits.strip_suffix("bit") {
        let (number, scale) = match number.chars().last() {
            Some('k') => (&number[..number.len() - 1], 1e3),
            Some('m') => (&number[..number.len() - 1], 1e6),
            Some('g') => (&number[..number.len() - 1], 1e9),
            _ => (number, 1.0),
        };
        let value: f64 = number
            .parse()
            .map_err(|_| format!("{number:?} is not a number; valid: {RATE_FORMS}"))?;
        return positive((value * scale / 8.0).round());
    }
    let Some(size) = text.strip_suffix("/s") else {
        return Err(format!("missing a rate unit; valid: {RATE_FORMS}"));
    };
    let bytes = crate::domain::units::parse_bytes(size)
        .map_err(|e| format!("{}; valid: {RATE_FORMS}", e.reason))?;
    positive(bytes as f64)
}

fn positive(bytes_per_second: f64) -> Result<u64, String> {
    if bytes_per_second.is_finite() && bytes_per_second >= 1.0 {
        Ok(bytes_per_second as u64)
    } else {
        Err("must be at least one byte per second".to_owned())
    }
}

/// Formats bytes per second the way [`parse_rate`] reads it back.
pub fn format_rate(bytes_per_second: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes_per_second >= size && bytes_per_second % size == 0 {
            return format!("{}{unit}/s", bytes_per_second / size);
        }
    }
    format!("{bytes_per_second}b/s")
}

/// Parses a share in `0..=1`: `30%`, `0.3`, `1`.
pub fn parse_share(input: &str) -> Result<f64, String> {
    let text = input.trim();
    let (number, scale) = match text.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (text, 1.0),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| "not a number; write a share such as 30% or 0.3".to_owned())?;
    check_share(value / scale)
}

/// Checks a share is within `0..=1`.
pub fn check_share(value: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err("must be between 0 and 1 (0% and 100%)".to_owned())
    }
}

/// An IPv4 network a fault's `sources` filter names (`10.0.0.5` is `/32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Net {
    addr: Ipv4Addr,
    prefix: u8,
}

/// Why a network did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid source {input:?}: {reason}; write an IPv4 address or CIDR such as 10.213.0.5 or 10.213.0.0/24"
)]
pub struct NetError {
    pub input: String,
    pub reason: &'static str,
}

impl Ipv4Net {
    /// The network of `addr` with `prefix` bits (host bits are kept as given).
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Option<Self> {
        (prefix <= 32).then_some(Self { addr, prefix })
    }

    fn mask(self) -> u32 {
        match self.prefix {
            0 => 0,
            p => u32::MAX << (32 - u32::from(p)),
        }
    }

    /// Whether `ip` lies in this network.
    pub fn contains(self, ip: Ipv4Addr) -> bool {
        let mask = self.mask();
        u32::from(self.addr) & mask == u32::from(ip) & mask
    }
}

impl FromStr for Ipv4Net {
    type Err = NetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| NetError {
            input: s.to_owned(),
            reason,
        };
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((addr, prefix)) => (
                addr,
                prefix
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= 32)
                    .ok_or_else(|| err("the prefix length must be 0 to 32"))?,
            ),
            None => (s.trim(), 32),
        };
        let addr: Ipv4Addr = addr.parse().map_err(|_| err("not an IPv4 address"))?;
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Ipv4Net {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv4Net {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_in_bytes_and_bits() {
        assert_eq!(parse_rate("1mb/s").unwrap(), 1 << 20);
        assert_eq!(parse_rate("512KB/s").unwrap(), 512 * 1024);
        assert_eq!(parse_rate("100b/s").unwrap(), 100);
        assert_eq!(parse_rate("8mbit").unwrap(), 1_000_000);
        assert_eq!(parse_rate("8mbit/s").unwrap(), 1_000_000);
        assert_eq!(parse_rate("64kbit").unwrap(), 8_000);
        assert_eq!(parse_rate("1gbit").unwrap(), 125_000_000);
        for bad in ["1mb", "fast", "0b/s", "-1mb/s", "3 parsecs/s", "xbit"] {
            let e = parse_rate(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
        assert!(parse_rate("1mb").unwrap_err().contains("8mbit"));
    }

    #[test]
    fn rates_format_back() {
        for rate in [1 << 20, 512 * 1024, 100, 1_000_000, 3 << 30] {
            assert_eq!(parse_rate(&format_rate(rate)).unwrap(), rate);
        }
        assert_eq!(format_rate(1 << 20), "1mb/s");
    }

    #[test]
    fn shares() {
        assert!((parse_share("30%").unwrap() - 0.3).abs() < 1e-12);
        assert!((parse_share("0.25").unwrap() - 0.25).abs() < 1e-12);
        assert!((parse_share("100 %").unwrap() - 1.0).abs() < 1e-12);
        assert!(parse_share("130%").is_err());
        assert!(parse_share("-0.1").is_err());
        assert!(parse_share("lots").is_err());
    }

    #[test]
    fn cidr_matching() {
        let net: Ipv4Net = "10.213.0.0/24".parse().unwrap();
        assert!(net.contains(Ipv4Addr::new(10, 213, 0, 5)));
        assert!(net.contains(Ipv4Addr::new(10, 213, 0, 255)));
        assert!(!net.contains(Ipv4Addr::new(10, 213, 1, 5)));
        let host: Ipv4Net = "10.213.0.5".parse().unwrap();
        assert_eq!(host.to_string(), "10.213.0.5/32");
        assert!(host.contains(Ipv4Addr::new(10, 213, 0, 5)));
        assert!(!host.contains(Ipv4Addr::new(10, 213, 0, 6)));
        let all: Ipv4Net = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(Ipv4Addr::new(192, 0, 2, 1)));
        let odd: Ipv4Net = "10.0.0.77/31".parse().unwrap();
        assert!(odd.contains(Ipv4Addr::new(10, 0, 0, 76)));
        for bad in ["10.0.0.0/33", "10.0.0/8", "host", "10.0.0.1/x"] {
            let e = bad.parse::<Ipv4Net>().unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }
}
