//! Explicit subnets for shadow networks (pure). Docker's default address
//! pools run out after about 31 live networks and are not reused first, so
//! every shadow network takes a small, explicit subnet from a configured
//! pool (`10.213.0.0/16` by default; `UNDERSTUDY_SUBNET_POOL` or
//! `--subnet-pool` change it) that overlaps no existing network.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// The default pool shadows take their subnets from.
pub const DEFAULT_POOL: &str = "10.213.0.0/16";
/// Prefix length of a shadow's internal network (62 addresses).
pub const INTERNAL_PREFIX: u8 = 26;
/// Prefix length of a shadow's edge network (the ingress relay only).
pub const EDGE_PREFIX: u8 = 28;

/// An IPv4 network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Net {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

/// Why a CIDR did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid IPv4 CIDR {0:?}: expected a.b.c.d/len with len 8..=30 and no host bits set")]
pub struct CidrError(pub String);

impl Ipv4Net {
    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        }
    }

    pub fn first(self) -> u32 {
        u32::from(self.addr)
    }

    pub fn last(self) -> u32 {
        self.first() | !Self::mask(self.prefix)
    }

    pub fn overlaps(self, other: Ipv4Net) -> bool {
        self.first() <= other.last() && other.first() <= self.last()
    }
}

impl FromStr for Ipv4Net {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CidrError(s.to_owned());
        let (addr, prefix) = s.trim().split_once('/').ok_or_else(err)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| err())?;
        let prefix: u8 = prefix.parse().map_err(|_| err())?;
        if !(8..=30).contains(&prefix) || u32::from(addr) & !Self::mask(prefix) != 0 {
            return Err(err());
        }
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The first block of size `prefix` inside `pool` that overlaps none of
/// `taken` (other pools' subnets in any size, IPv6 entries ignored).
pub fn allocate(pool: Ipv4Net, prefix: u8, taken: &[Ipv4Net]) -> Option<Ipv4Net> {
    if prefix < pool.prefix || prefix > 30 {
        return None;
    }
    let step = 1u64 << (32 - u32::from(prefix));
    let mut start = u64::from(pool.first());
    let end = u64::from(pool.last());
    while start + step - 1 <= end {
        let candidate = Ipv4Net {
            addr: Ipv4Addr::from(u32::try_from(start).ok()?),
            prefix,
        };
        match taken
            .iter()
            .filter(|t| t.overlaps(candidate))
            .map(|t| t.last())
            .max()
        {
            None => return Some(candidate),
            Some(last) => {
                // Skip past the blocking network, aligned to the step.
                let next = (u64::from(last) + 1).div_ceil(step) * step;
                start = next.max(start + step);
            }
        }
    }
    None
}

/// Parses the subnets the engine reports, skipping anything not IPv4 CIDR.
pub fn parse_taken(subnets: &[String]) -> Vec<Ipv4Net> {
    subnets.iter().filter_map(|s| s.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(net("10.213.0.0/16").to_string(), "10.213.0.0/16");
        assert!("10.213.0.1/16".parse::<Ipv4Net>().is_err(), "host bits set");
        assert!("10.213.0.0".parse::<Ipv4Net>().is_err());
        assert!("10.213.0.0/31".parse::<Ipv4Net>().is_err());
        let e = "nope".parse::<Ipv4Net>().unwrap_err().to_string();
        assert!(e.contains("\"nope\""), "{e}");
    }

    #[test]
    fn allocates_the_first_free_block() {
        let pool = net("10.213.0.0/16");
        assert_eq!(allocate(pool, 26, &[]), Some(net("10.213.0.0/26")));
        let taken = [net("10.213.0.0/26"), net("10.213.0.64/28")];
        assert_eq!(allocate(pool, 26, &taken), Some(net("10.213.0.128/26")));
        assert_eq!(allocate(pool, 28, &taken), Some(net("10.213.0.80/28")));
        // A big foreign network covering the pool's start.
        assert_eq!(
            allocate(pool, 26, &[net("10.213.0.0/20")]),
            Some(net("10.213.16.0/26"))
        );
    }

    #[test]
    fn a_full_pool_gives_none() {
        let pool = net("10.213.0.0/24");
        let taken = [net("10.0.0.0/8")];
        assert_eq!(allocate(pool, 26, &taken), None);
        assert_eq!(allocate(pool, 16, &[]), None, "block larger than the pool");
    }

    proptest! {
        #[test]
        fn allocation_never_overlaps_and_stays_in_pool(
            taken in proptest::collection::vec((0u32..256, 24u8..=30), 0..20),
            prefix in 26u8..=30,
        ) {
            let pool = net("10.213.0.0/16");
            let taken: Vec<Ipv4Net> = taken
                .into_iter()
                .map(|(third, p)| {
                    let raw = u32::from(Ipv4Addr::new(10, 213, third as u8, 0));
                    Ipv4Net { addr: Ipv4Addr::from(raw & Ipv4Net::mask(p)), prefix: p }
                })
                .collect();
            if let Some(got) = allocate(pool, prefix, &taken) {
                prop_assert!(got.first() >= pool.first() && got.last() <= pool.last());
                prop_assert!(taken.iter().all(|t| !t.overlaps(got)));
                prop_assert_eq!(got.first() % (1u32 << (32 - u32::from(prefix))), 0);
            }
        }
    }
}
