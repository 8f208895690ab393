//! One direction of one connection under byte-level faults: which faults
//! apply to it ([`applies`]: direction, `sources`, seeded toxicity), their
//! per-connection state, and the transform of each chunk read into the
//! pieces to write and when ([`Lane::on_chunk`]).
//!
//! Pure: time comes in as `Instant`s, randomness from a seeded splitmix64,
//! so the transforms are tested without sockets. The I/O that waits for
//! `Piece::at` and writes lives in `tcp.rs` and `http.rs`.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::model::{Direction, Fault, FaultKind, Params};
use super::quantity::Ipv4Net;

/// The splitmix64 finaliser: a well-mixed 64-bit hash of `x`.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A uniform number in `[0, 1)` fixed by `(seed, fault_id, n)`, where `n`
/// numbers the connection or request on its proxy.
pub fn sample(seed: u64, fault_id: u64, n: u64) -> f64 {
    let h = splitmix(splitmix(seed ^ splitmix(fault_id)) ^ n);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether the `n`th connection or request is hit by a fault of `toxicity`.
pub fn hits(toxicity: f64, seed: u64, fault_id: u64, n: u64) -> bool {
    toxicity >= 1.0 || sample(seed, fault_id, n) < toxicity
}

/// Whether a client matches a `sources` filter (empty matches everyone; a
/// client without an IPv4 address matches only the empty filter).
pub fn source_matches(sources: &[Ipv4Net], client: Option<Ipv4Addr>) -> bool {
    sources.is_empty() || client.is_some_and(|ip| sources.iter().any(|n| n.contains(ip)))
}

/// What identifies a connection for sampling and filtering.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    pub seed: u64,
    /// The connection's number on its proxy.
    pub seq: u64,
    pub client: Option<Ipv4Addr>,
}

/// Whether a byte-level fault applies to direction `dir` of a connection.
pub fn applies(fault: &Fault, dir: Direction, conn: &ConnInfo) -> bool {
    let spec = &fault.spec;
    !spec.kind().is_http()
        && spec.direction == dir
        && source_matches(&spec.sources, conn.client)
        && hits(spec.toxicity, conn.seed, fault.id, conn.seq)
}

/// What to do with the connection after a piece is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    Close,
    Reset,
}

/// Bytes to write no earlier than `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub at: Instant,
    pub data: Bytes,
    pub then: Option<Then>,
}

#[derive(Debug)]
enum Effect {
    Latency {
        latency: Duration,
        jitter: Duration,
    },
    Bandwidth {
        rate: u64,
        next_free: Option<Instant>,
    },
    Hold {
        until: Option<Instant>,
    },
    Reset {
        at: Instant,
    },
    SlowClose {
        delay: Duration,
    },
    Slicer {
        average: u64,
        variation: u64,
        delay: Duration,
        next: Option<Instant>,
    },
    Limit {
        remaining: u64,
    },
}

impl Effect {
    fn new(params: &Params, now: Instant) -> Option<Self> {
        Some(match *params {
            Params::Latency { latency, jitter } => Self::Latency { latency, jitter },
            Params::Bandwidth { rate } => Self::Bandwidth {
                rate,
                next_free: None,
            },
            Params::Timeout { timeout } => Self::Hold {
                until: (!timeout.is_zero()).then(|| now + timeout),
            },
            Params::ResetPeer { timeout } => Self::Reset { at: now + timeout },
            Params::SlowClose { delay } => Self::SlowClose { delay },
            Params::Slicer {
                average_size,
                size_variation,
                delay,
            } => Self::Slicer {
                average: average_size,
                variation: size_variation,
                delay,
                next: None,
            },
            Params::LimitData { bytes } => Self::Limit { remaining: bytes },
            Params::HttpStatus { .. } | Params::HttpAbort | Params::HttpDelay { .. } => {
                return None;
            }
        })
    }
}

#[derive(Debug)]
struct Active {
    id: u64,
    effect: Effect,
}

/// The byte-level faults acting on one direction of one connection.
#[derive(Debug)]
pub struct Lane {
    dir: Direction,
    active: Vec<Active>,
    rng: u64,
    /// No piece is scheduled before the last one handed out (keeps order).
    floor: Option<Instant>,
}

impl Lane {
    pub fn new(dir: Direction, conn: &ConnInfo) -> Self {
        let salt = match dir {
            Direction::Upstream => 1,
            Direction::Downstream => 2,
        };
        Self {
            dir,
            active: Vec::new(),
            rng: splitmix(conn.seed ^ splitmix(conn.seq) ^ salt),
            floor: None,
        }
    }

    /// Brings the lane in line with the proxy's faults (ordered by id):
    /// keeps the state of those still present, starts new ones at `now`.
    /// Returns the kinds that started applying (for hit counters).
    pub fn sync(&mut self, faults: &[Fault], conn: &ConnInfo, now: Instant) -> Vec<FaultKind> {
        let mut started = Vec::new();
        let mut old = std::mem::take(&mut self.active);
        for fault in faults.iter().filter(|f| applies(f, self.dir, conn)) {
            if let Some(i) = old.iter().position(|a| a.id == fault.id) {
                self.active.push(old.swap_remove(i));
            } else if let Some(effect) = Effect::new(&fault.spec.params, now) {
                started.push(fault.spec.kind());
                self.active.push(Active {
                    id: fault.id,
                    effect,
                });
            }
        }
        started
    }

    /// No fault applies: bytes pass as they are.
    pub fn is_clear(&self) -> bool {
        self.active.is_empty()
    }

    fn next_random(&mut self) -> u64 {
        self.rng = splitmix(self.rng);
        self.rng
    }

    fn unit_random(&mut self) -> f64 {
        (self.next_random() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Whether data is being dropped (a `timeout` or `reset-peer` holds).
    pub fn holds(&self) -> bool {
        self.active
            .iter()
            .any(|a| matches!(a.effect, Effect::Hold { .. } | Effect::Reset { .. }))
    }

    /// When the connection must end, and how: the earliest `timeout` close
    /// or `reset-peer` reset.
    pub fn deadline(&self) -> Option<(Instant, Then)> {
        self.active
            .iter()
            .filter_map(|a| match a.effect {
                Effect::Hold { until } => until.map(|t| (t, Then::Close)),
                Effect::Reset { at } => Some((at, Then::Reset)),
                _ => None,
            })
            .min_by_key(|(t, _)| *t)
    }

    /// How long to wait before passing on the end of the stream.
    pub fn close_delay(&self) -> Duration {
        self.active
            .iter()
            .filter_map(|a| match a.effect {
                Effect::SlowClose { delay } => Some(delay),
                _ => None,
            })
            .max()
            .unwrap_or_default()
    }

    /// Transforms a chunk read at `arrival` into pieces to write, in order.
    pub fn on_chunk(&mut self, data: Bytes, arrival: Instant) -> Vec<Piece> {
        if self.holds() {
            return Vec::new();
        }
        let mut pieces = vec![Piece {
            at: arrival,
            data,
            then: None,
        }];
        let mut active = std::mem::take(&mut self.active);
        for a in &mut active {
            pieces = match &mut a.effect {
                Effect::Latency { latency, jitter } => {
                    let delay = jittered(*latency, *jitter, self.unit_random());
                    pieces
                        .into_iter()
                        .map(|p| Piece {
                            at: p.at + delay,
                            ..p
                        })
                        .collect()
                }
                Effect::Bandwidth { rate, next_free } => bandwidth(pieces, *rate, next_free),
                Effect::Slicer {
                    average,
                    variation,
                    delay,
                    next,
                } => {
                    let (average, variation, delay) = (*average, *variation, *delay);
                    let mut out = Vec::new();
                    for p in pieces {
                        let sizes =
                            slice_sizes(p.data.len(), average, variation, || self.next_random());
                        let mut at = next.map_or(p.at, |n| n.max(p.at));
                        let mut data = p.data;
                        for size in sizes {
                            out.push(Piece {
                                at,
                                data: data.split_to(size),
                                then: None,
                            });
                            at += delay;
                        }
                        *next = Some(at);
                        if let (Some(then), Some(last)) = (p.then, out.last_mut()) {
                            last.then = Some(then);
                        }
                    }
                    out
                }
                Effect::Limit { remaining } => limit(pieces, remaining, arrival),
                Effect::Hold { .. } | Effect::Reset { .. } | Effect::SlowClose { .. } => pieces,
            };
        }
        self.active = active;
        for p in &mut pieces {
            if let Some(floor) = self.floor {
                p.at = p.at.max(floor);
            }
            self.floor = Some(p.at);
        }
        pieces
    }
}

/// `latency` plus or minus up to `jitter`, from a uniform `u` in `[0, 1)`.
pub fn jittered(latency: Duration, jitter: Duration, u: f64) -> Duration {
    if jitter.is_zero() {
        return latency;
    }
    let offset = jitter.as_secs_f64() * (2.0 * u - 1.0);
    Duration::from_secs_f64((latency.as_secs_f64() + offset).max(0.0))
}

/// Slice sizes for `len` bytes: `average` plus or minus up to `variation`
/// (drawn from `random`), never zero, summing to `len`.
pub fn slice_sizes(
    len: usize,
    average: u64,
    variation: u64,
    mut random: impl FnMut() -> u64,
) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut left = len;
    while left > 0 {
        let size = if variation == 0 {
            average
        } else {
            let span = 2 * variation + 1;
            average - variation + random() % span
        };
        let size = usize::try_from(size.max(1)).unwrap_or(usize::MAX).min(left);
        sizes.push(size);
        left -= size;
    }
    sizes
}

/// Bytes per piece when pacing at `rate`: about 10 ms worth, 1 B to 64 KiB.
pub fn pacing_quantum(rate: u64) -> usize {
    usize::try_from((rate / 100).clamp(1, 64 * 1024)).unwrap_or(64 * 1024)
}

/// When each `quantum`-sized piece of `len` bytes may go at `rate` bytes/s
/// starting at `start`: piece k goes once the bytes before it have had their
/// time. Returns the sizes with their times, and when the link is free again.
pub fn pace(
    len: usize,
    rate: u64,
    start: Instant,
    quantum: usize,
) -> (Vec<(usize, Instant)>, Instant) {
    let per_byte = 1.0 / rate as f64;
    let mut out = Vec::with_capacity(len.div_ceil(quantum.max(1)));
    let mut sent = 0usize;
    while sent < len {
        let size = quantum.max(1).min(len - sent);
        out.push((
            size,
            start + Duration::from_secs_f64(sent as f64 * per_byte),
        ));
        sent += size;
    }
    (out, start + Duration::from_secs_f64(len as f64 * per_byte))
}

fn bandwidth(pieces: Vec<Piece>, rate: u64, next_free: &mut Option<Instant>) -> Vec<Piece> {
    let mut out = Vec::new();
    for p in pieces {
        let start = next_free.map_or(p.at, |n| n.max(p.at));
        let (plan, free) = pace(p.data.len(), rate, start, pacing_quantum(rate));
        *next_free = Some(free);
        let mut data = p.data;
        for (size, at) in plan {
            out.push(Piece {
                at,
                data: data.split_to(size),
                then: None,
            });
        }
        if let (Some(then), Some(last)) = (p.then, out.last_mut()) {
            last.then = Some(then);
        }
    }
    out
}

/// How many of `len` bytes pass when `remaining` may, and whether the limit
/// is reached with them.
pub fn cut(len: usize, remaining: u64) -> (usize, bool) {
    let keep = usize::try_from(remaining).unwrap_or(usize::MAX).min(len);
    (keep, keep as u64 == remaining)
}

fn limit(pieces: Vec<Piece>, remaining: &mut u64, arrival: Instant) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut at = arrival;
    for mut p in pieces {
        if *remaining == 0 {
            break;
        }
        at = p.at;
        let (keep, reached) = cut(p.data.len(), *remaining);
        p.data.truncate(keep);
        *remaining -= keep as u64;
        if reached {
            p.then = Some(Then::Close);
            out.push(p);
            return out;
        }
        out.push(p);
    }
    if *remaining == 0 {
        out.push(Piece {
            at,
            data: Bytes::new(),
            then: Some(Then::Close),
        });
    }
    out
}

#[cfg(test)]
mod tests;
