//! A minimal IPv4 DNS client for `FROM scratch` containers.
//!
//! Owns: resolving a host name to IPv4 addresses without libc's resolver
//! (glibc's `getaddrinfo` finds nothing in a scratch image: no NSS modules,
//! no `/etc/nsswitch.conf`). Order: an IP literal is itself, `localhost` is
//! 127.0.0.1, then `/etc/hosts`, then an `A` query over UDP to the
//! nameservers of `/etc/resolv.conf` (Docker's embedded DNS, 127.0.0.11, on a
//! user-defined network). `search` domains are tried only for names without
//! dots and only after the bare name was not found. Each server gets a
//! one-second try, twice; answers must carry our random id and our question;
//! CNAME chains inside an answer are followed.
//!
//! Does not own: IPv6, TCP fallback for truncated answers (the `A` records
//! that fit are used), caching (callers re-resolve on purpose, to follow
//! replicas coming and going).
//!
//! The wire codec ([`encode_query`], [`parse_response`]) and the file parsers
//! ([`parse_resolv_conf`], [`parse_hosts`]) are pure; [`Resolver`] is the I/O
//! shell around them, with its files and servers injectable for tests.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

/// Why a name did not resolve.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// The name does not exist or has no `A` record (NXDOMAIN or NODATA).
    #[error("{name:?} not found")]
    NotFound { name: String },
    /// The name cannot be put in a query.
    #[error("invalid host name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    /// No nameserver answered in time.
    #[error("no answer for {name:?} from {servers} nameserver(s) within {attempts} tries")]
    Timeout {
        name: String,
        servers: usize,
        attempts: u32,
    },
    /// A nameserver answered with an error code (SERVFAIL, REFUSED, ...).
    #[error("nameserver answered {rcode} for {name:?}")]
    ServerFailure { name: String, rcode: Rcode },
    /// A packet that is not a well-formed answer to our question.
    #[error("malformed DNS response: {0}")]
    Malformed(&'static str),
    /// Socket trouble.
    #[error("DNS socket: {0}")]
    Io(#[from] std::io::Error),
}

/// A response code (RFC 1035 section 4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcode {
    NoError,
    FormErr,
    ServFail,
    NxDomain,
    NotImp,
    Refused,
    Other(u8),
}

impl Rcode {
    fn from_bits(bits: u8) -> Self {
        match bits {
            0 => Self::NoError,
            1 => Self::FormErr,
            2 => Self::ServFail,
            3 => Self::NxDomain,
            4 => Self::NotImp,
            5 => Self::Refused,
            other => Self::Other(other),
        }
    }
}

impl std::fmt::Display for Rcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoError => f.write_str("NOERROR"),
            Self::FormErr => f.write_str("FORMERR"),
            Self::ServFail => f.write_str("SERVFAIL"),
            Self::NxDomain => f.write_str("NXDOMAIN"),
            Self::NotImp => f.write_str("NOTIMP"),
            Self::Refused => f.write_str("REFUSED"),
            Self::Other(code) => write!(f, "rcode {code}"),
        }
    }
}

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const CLASS_IN: u16 = 1;
const HEADER_LEN: usize = 12;
const MAX_CNAME_HOPS: usize = 8;

/// Encodes a recursive `A`/`IN` query for `name` (a trailing dot is allowed).
pub fn encode_query(id: u16, name: &str) -> Result<Vec<u8>, DnsError> {
    let invalid = |reason| DnsError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.is_empty() {
        return Err(invalid("empty"));
    }
    if bare.len() > 253 {
        return Err(invalid("longer than 253 bytes"));
    }
    let mut packet = Vec::with_capacity(HEADER_LEN + bare.len() + 6);
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&[0x01, 0x00]); // RD
    packet.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QD=1, AN=NS=AR=0
    for label in bare.split('.') {
        if label.is_empty() {
            return Err(invalid("empty label"));
        }
        let len = u8::try_from(label.len())
            .ok()
            .filter(|l| *l <= 63)
            .ok_or_else(|| invalid("label longer than 63 bytes"))?;
        packet.push(len);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&TYPE_A.to_be_bytes());
    packet.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(packet)
}

/// What an answer to an `A` query says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub rcode: Rcode,
    /// The `A` records of the name (after following CNAMEs), in answer order.
    pub addrs: Vec<Ipv4Addr>,
    /// The server set TC: more records exist than fit in the datagram.
    pub truncated: bool,
}

/// Parses a response to the query `id` for `name`. Checks the id, that it is
/// a response, and that the question is ours; follows CNAMEs within it.
pub fn parse_response(packet: &[u8], id: u16, name: &str) -> Result<Answer, DnsError> {
    let mut reader = Reader { packet, pos: 0 };
    let got_id = reader.u16()?;
    let flags = reader.u16()?;
    let qdcount = reader.u16()?;
    let ancount = reader.u16()?;
    reader.u16()?; // NSCOUNT
    reader.u16()?; // ARCOUNT
    if got_id != id {
        return Err(DnsError::Malformed("id does not match the query"));
    }
    if flags & 0x8000 == 0 {
        return Err(DnsError::Malformed("not a response"));
    }
    let rcode = Rcode::from_bits((flags & 0x000f) as u8);
    let truncated = flags & 0x0200 != 0;
    if qdcount != 1 {
        return Err(DnsError::Malformed("expected exactly one question"));
    }
    let question = reader.name()?;
    let (qtype, qclass) = (reader.u16()?, reader.u16()?);
    let wanted = name.strip_suffix('.').unwrap_or(name);
    if !question.eq_ignore_ascii_case(wanted) || qtype != TYPE_A || qclass != CLASS_IN {
        return Err(DnsError::Malformed("question does not match the query"));
    }
    let mut records = Vec::with_capacity(usize::from(ancount));
    for _ in 0..ancount {
        match reader.record() {
            Ok(record) => records.push(record),
            // A truncated answer may end mid-record; keep what is whole.
            Err(_) if truncated => break,
            Err(e) => return Err(e),
        }
    }
    Ok(Answer {
        rcode,
        addrs: follow_chain(&records, wanted),
        truncated,
    })
}

enum Rdata {
    A(Ipv4Addr),
    Cname(String),
    Other,
}

struct Record {
    owner: String,
    data: Rdata,
}

/// The `A` addresses of `name`, following CNAMEs (bounded hops).
fn follow_chain(records: &[Record], name: &str) -> Vec<Ipv4Addr> {
    let mut current = name.to_owned();
    for _ in 0..=MAX_CNAME_HOPS {
        let owned_by = |r: &&Record| r.owner.eq_ignore_ascii_case(&current);
        let addrs: Vec<Ipv4Addr> = records
            .iter()
            .filter(owned_by)
            .filter_map(|r| match r.data {
                Rdata::A(ip) => Some(ip),
                _ => None,
            })
            .collect();
        if !addrs.is_empty() {
            return addrs;
        }
        let next = records.iter().filter(owned_by).find_map(|r| match &r.data {
            Rdata::Cname(target) => Some(target.clone()),
            _ => None,
        });
        match next {
            Some(target) => current = target,
            None => break,
        }
    }
    Vec::new()
}

struct Reader<'a> {
    packet: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DnsError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.packet.len());
        let end = end.ok_or(DnsError::Malformed("packet ends early"))?;
        let bytes = &self.packet[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u16(&mut self) -> Result<u16, DnsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn name(&mut self) -> Result<String, DnsError> {
        let (name, end) = read_name(self.packet, self.pos)?;
        self.pos = end;
        Ok(name)
    }

    fn record(&mut self) -> Result<Record, DnsError> {
        let owner = self.name()?;
        let rtype = self.u16()?;
        let class = self.u16()?;
        self.take(4)?; // TTL
        let rdlength = usize::from(self.u16()?);
        let start = self.pos;
        let rdata = self.take(rdlength)?;
        let data = match (rtype, class) {
            (TYPE_A, CLASS_IN) => {
                let octets: [u8; 4] = rdata
                    .try_into()
                    .map_err(|_| DnsError::Malformed("A record is not 4 bytes"))?;
                Rdata::A(Ipv4Addr::from(octets))
            }
            (TYPE_CNAME, CLASS_IN) => Rdata::Cname(read_name(self.packet, start)?.0),
            _ => Rdata::Other,
        };
        Ok(Record { owner, data })
    }
}

/// Reads a possibly compressed name at `pos`; returns it (dotted, no
/// trailing dot) and the position after it in the original sequence.
fn read_name(packet: &[u8], mut pos: usize) -> Result<(String, usize), DnsError> {
    let mut name = String::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *packet
            .get(pos)
            .ok_or(DnsError::Malformed("name runs past the packet"))?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                return Ok((name, end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let label = packet
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or(DnsError::Malformed("label runs past the packet"))?;
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(&String::from_utf8_lossy(label));
                if name.len() > 255 {
                    return Err(DnsError::Malformed("name longer than 255 bytes"));
                }
                pos += 1 + usize::from(len);
            }
            0xc0 => {
                let low = *packet
                    .get(pos + 1)
                    .ok_or(DnsError::Malformed("pointer runs past the packet"))?;
                jumps += 1;
                if jumps > 32 {
                    return Err(DnsError::Malformed("compression pointer loop"));
                }
                end.get_or_insert(pos + 2);
                pos = (usize::from(len & 0x3f) << 8) | usize::from(low);
            }
            _ => return Err(DnsError::Malformed("unknown label type")),
        }
    }
}

/// The parts of `/etc/resolv.conf` this client honours.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResolvConf {
    pub nameservers: Vec<IpAddr>,
    pub search: Vec<String>,
}

/// Parses resolv.conf text: `nameserver` lines (IP literals; others are
/// skipped), and the last `search` or `domain` line. Comments start with `#`
/// or `;`.
pub fn parse_resolv_conf(text: &str) -> ResolvConf {
    let mut conf = ResolvConf::default();
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or_default();
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(ip) = words.next().and_then(|w| w.parse().ok()) {
                    conf.nameservers.push(ip);
                }
            }
            Some("search" | "domain") => {
                conf.search = words
                    .map(|d| d.trim_end_matches('.').to_owned())
                    .filter(|d| !d.is_empty())
                    .collect();
            }
            _ => {}
        }
    }
    conf
}

/// Parses hosts-file text into (address, names) entries, skipping comments
/// and lines whose address does not parse.
pub fn parse_hosts(text: &str) -> Vec<(IpAddr, Vec<String>)> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default();
            let mut words = line.split_whitespace();
            let ip: IpAddr = words.next()?.parse().ok()?;
            let names: Vec<String> = words.map(str::to_owned).collect();
            (!names.is_empty()).then_some((ip, names))
        })
        .collect()
}

/// The IPv4 addresses `hosts` gives `name` (case-insensitive), in file order.
fn hosts_lookup(hosts: &[(IpAddr, Vec<String>)], name: &str) -> Vec<Ipv4Addr> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let mut found = Vec::new();
    for (ip, names) in hosts {
        if let IpAddr::V4(v4) = ip {
            if names.iter().any(|n| n.eq_ignore_ascii_case(name)) && !found.contains(v4) {
                found.push(*v4);
            }
        }
    }
    found
}

/// A resolver with its configuration spelled out (see [`Resolver::system`]).
#[derive(Debug, Clone)]
pub struct Resolver {
    /// Servers to ask, in order.
    pub nameservers: Vec<SocketAddr>,
    /// Domains to append to dotless names that are not found bare.
    pub search: Vec<String>,
    /// A hosts file consulted before DNS (re-read on every lookup).
    pub hosts_path: Option<PathBuf>,
    /// How long to wait for each server on each try.
    pub timeout: Duration,
    /// Rounds over all servers.
    pub attempts: u32,
}

impl Resolver {
    /// From `/etc/resolv.conf` and `/etc/hosts`. Without a resolv.conf (or
    /// with no usable nameserver) it asks 127.0.0.1, as glibc does.
    pub fn system() -> Self {
        let conf = std::fs::read_to_string("/etc/resolv.conf")
            .map(|text| parse_resolv_conf(&text))
            .unwrap_or_default();
        let mut nameservers: Vec<SocketAddr> = conf
            .nameservers
            .into_iter()
            .map(|ip| SocketAddr::new(ip, 53))
            .collect();
        if nameservers.is_empty() {
            nameservers.push(SocketAddr::from((Ipv4Addr::LOCALHOST, 53)));
        }
        Self {
            nameservers,
            search: conf.search,
            hosts_path: Some(PathBuf::from("/etc/hosts")),
            timeout: Duration::from_secs(1),
            attempts: 2,
        }
    }

    /// Resolves `name` to IPv4 addresses (never empty on success).
    pub async fn resolve_ipv4(&self, name: &str) -> Result<Vec<Ipv4Addr>, DnsError> {
        let name = name.trim();
        if let Ok(ip) = name.parse::<Ipv4Addr>() {
            return Ok(vec![ip]);
        }
        if name.eq_ignore_ascii_case("localhost") || name.eq_ignore_ascii_case("localhost.") {
            return Ok(vec![Ipv4Addr::LOCALHOST]);
        }
        if let Some(path) = &self.hosts_path {
            if let Ok(text) = tokio::fs::read_to_string(path).await {
                let found = hosts_lookup(&parse_hosts(&text), name);
                if !found.is_empty() {
                    return Ok(found);
                }
            }
        }
        match self.query_all(name).await {
            Err(DnsError::NotFound { .. }) if !name.contains('.') && !self.search.is_empty() => {
                for domain in &self.search {
                    match self.query_all(&format!("{name}.{domain}")).await {
                        Err(DnsError::NotFound { .. }) => {}
                        other => return other,
                    }
                }
                Err(DnsError::NotFound {
                    name: name.to_owned(),
                })
            }
            other => other,
        }
    }

    /// Asks the nameservers in turn, `attempts` rounds.
    async fn query_all(&self, name: &str) -> Result<Vec<Ipv4Addr>, DnsError> {
        let mut last_failure = None;
        for _ in 0..self.attempts {
            for server in &self.nameservers {
                match self.query_one(*server, name).await {
                    Ok(answer) => match answer.rcode {
                        Rcode::NoError if !answer.addrs.is_empty() => return Ok(answer.addrs),
                        Rcode::NoError | Rcode::NxDomain => {
                            return Err(DnsError::NotFound {
                                name: name.to_owned(),
                            });
                        }
                        rcode => {
                            last_failure = Some(DnsError::ServerFailure {
                                name: name.to_owned(),
                                rcode,
                            });
                        }
                    },
                    Err(e @ DnsError::InvalidName { .. }) => return Err(e),
                    Err(DnsError::Timeout { .. }) => {}
                    Err(e) => last_failure = Some(e),
                }
            }
        }
        Err(last_failure.unwrap_or_else(|| DnsError::Timeout {
            name: name.to_owned(),
            servers: self.nameservers.len(),
            attempts: self.attempts,
        }))
    }

    /// One query to one server; ignores stray datagrams until the timeout.
    async fn query_one(&self, server: SocketAddr, name: &str) -> Result<Answer, DnsError> {
        let id = random_id();
        let query = encode_query(id, name)?;
        let local: SocketAddr = if server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(server).await?;
        socket.send(&query).await?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut buf = [0u8; 1500];
        loop {
            let received = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await;
            let Ok(received) = received else {
                return Err(DnsError::Timeout {
                    name: name.to_owned(),
                    servers: 1,
                    attempts: 1,
                });
            };
            let len = match received {
                Ok(len) => len,
                // ICMP port unreachable surfaces as ECONNREFUSED on a
                // connected socket: the server is not there.
                Err(e) => return Err(DnsError::Io(e)),
            };
            match parse_response(&buf[..len], id, name) {
                Ok(answer) => return Ok(answer),
                Err(e) => tracing::debug!(%server, error = %e, "ignoring DNS datagram"),
            }
        }
    }
}

/// Resolves with the system configuration ([`Resolver::system`]).
pub async fn resolve_ipv4(name: &str) -> Result<Vec<Ipv4Addr>, DnsError> {
    Resolver::system().resolve_ipv4(name).await
}

/// An unpredictable 16-bit query id (SipHash with per-process random keys
/// over a counter and the clock).
fn random_id() -> u16 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(START.get_or_init(Instant::now).elapsed().as_nanos());
    hasher.write_u32(std::process::id());
    (hasher.finish() & 0xffff) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `api` answered by Docker's DNS with two A records, both owners
    /// compressed to a pointer at the question (0xc00c).
    const TWO_A: [u8; 53] = [
        0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, // header
        0x03, b'a', b'p', b'i', 0x00, 0x00, 0x01, 0x00, 0x01, // question
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x58, 0x00, 0x04, 172, 18, 0, 3,
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x58, 0x00, 0x04, 172, 18, 0, 4,
    ];

    #[test]
    fn encodes_a_query_in_wire_format() {
        let packet = encode_query(0x1234, "api").unwrap();
        assert_eq!(
            packet,
            [
                0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'a', b'p', b'i', 0, 0, 1, 0, 1
            ]
        );
        let dotted = encode_query(7, "shop.internal.").unwrap();
        assert_eq!(&dotted[12..], b"\x04shop\x08internal\x00\x00\x01\x00\x01");
    }

    #[test]
    fn rejects_names_that_do_not_fit_a_query() {
        for name in ["", ".", "a..b", &"x".repeat(64), &"a.".repeat(130)] {
            assert!(
                matches!(encode_query(1, name), Err(DnsError::InvalidName { .. })),
                "{name:?}"
            );
        }
    }

    #[test]
    fn parses_two_a_records_with_compressed_owners() {
        let answer = parse_response(&TWO_A, 0x1234, "api").unwrap();
        assert_eq!(answer.rcode, Rcode::NoError);
        assert!(!answer.truncated);
        assert_eq!(
            answer.addrs,
            [Ipv4Addr::new(172, 18, 0, 3), Ipv4Addr::new(172, 18, 0, 4)]
        );
        // The question matches case-insensitively and with a trailing dot.
        assert_eq!(
            parse_response(&TWO_A, 0x1234, "API.").unwrap().addrs.len(),
            2
        );
    }

    #[test]
    fn rejects_a_foreign_id_or_question() {
        assert!(matches!(
            parse_response(&TWO_A, 0x1235, "api"),
            Err(DnsError::Malformed(_))
        ));
        assert!(matches!(
            parse_response(&TWO_A, 0x1234, "store"),
            Err(DnsError::Malformed(_))
        ));
        let mut query_not_response = TWO_A;
        query_not_response[2] = 0x01;
        assert!(parse_response(&query_not_response, 0x1234, "api").is_err());
    }

    #[test]
    fn follows_a_cname_chain_inside_the_answer() {
        let mut packet = vec![0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        packet.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
        // www.example.com CNAME web.<pointer to example.com at offset 16>
        packet.extend_from_slice(&[0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6]);
        packet.extend_from_slice(b"\x03web\xc0\x10");
        // web.example.com (pointer to the CNAME's rdata at offset 45) A
        packet.extend_from_slice(&[0xc0, 45, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
        packet.extend_from_slice(&[93, 184, 216, 34]);
        let answer = parse_response(&packet, 0xbeef, "www.example.com").unwrap();
        assert_eq!(answer.addrs, [Ipv4Addr::new(93, 184, 216, 34)]);
    }

    #[test]
    fn nxdomain_has_no_addresses() {
        let mut packet = vec![0x00, 0x09, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0];
        packet.extend_from_slice(b"\x05nosvc\x00\x00\x01\x00\x01");
        let answer = parse_response(&packet, 9, "nosvc").unwrap();
        assert_eq!(answer.rcode, Rcode::NxDomain);
        assert!(answer.addrs.is_empty());
    }

    #[test]
    fn truncated_or_garbage_packets_are_errors_not_panics() {
        for len in 0..TWO_A.len() {
            assert!(
                parse_response(&TWO_A[..len], 0x1234, "api").is_err(),
                "{len}"
            );
        }
        let mut looping = TWO_A;
        looping[21] = 0xc0;
        looping[22] = 21; // a pointer to itself
        assert!(parse_response(&looping, 0x1234, "api").is_err());
        assert!(parse_response(&[0xff; 40], 0xffff, "api").is_err());
    }

    #[test]
    fn a_truncated_flag_keeps_the_whole_records() {
        let mut packet = TWO_A[..45].to_vec(); // second record cut
        packet[2] |= 0x02; // TC
        let answer = parse_response(&packet, 0x1234, "api").unwrap();
        assert!(answer.truncated);
        assert_eq!(answer.addrs, [Ipv4Addr::new(172, 18, 0, 3)]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(0u8..=255, 0..200)) {
            let _ = parse_response(&bytes, 0x1234, "api");
        }
    }

    #[test]
    fn parses_docker_resolv_conf() {
        let conf = parse_resolv_conf(
            "# Generated by Docker Engine.\nnameserver 127.0.0.11\nsearch corp.example. lab\n\
             options ndots:0\nnameserver not-an-ip\n; comment\nnameserver ::1 # v6\n",
        );
        assert_eq!(
            conf.nameservers,
            [
                IpAddr::from(Ipv4Addr::new(127, 0, 0, 11)),
                "::1".parse::<IpAddr>().unwrap()
            ]
        );
        assert_eq!(conf.search, ["corp.example", "lab"]);
        assert_eq!(parse_resolv_conf(""), ResolvConf::default());
    }

    #[test]
    fn parses_hosts_and_looks_up_ipv4() {
        let hosts = parse_hosts(
            "127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n# 10.0.0.9 hidden\n\
             172.18.0.5\t3f2a1b9c8d7e  shop-api-1 # self\nbad line\n172.18.0.6 Shop-Api-1\n",
        );
        assert_eq!(hosts.len(), 4);
        assert_eq!(
            hosts_lookup(&hosts, "shop-api-1"),
            [Ipv4Addr::new(172, 18, 0, 5), Ipv4Addr::new(172, 18, 0, 6)]
        );
        assert_eq!(
            hosts_lookup(&hosts, "3f2a1b9c8d7e."),
            [Ipv4Addr::new(172, 18, 0, 5)]
        );
        assert!(hosts_lookup(&hosts, "hidden").is_empty());
    }

    /// A fake DNS server on loopback answering from a table; unknown names
    /// get NXDOMAIN. With `decoy`, every real answer is preceded by one with
    /// a wrong id, which the client must ignore.
    async fn fake_server(
        table: Vec<(&'static str, Vec<Ipv4Addr>)>,
        decoy: bool,
    ) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 512];
            loop {
                let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                let query = &buf[..len];
                let (qname, _) = read_name(query, 12).unwrap();
                let addrs = table
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&qname))
                    .map(|(_, a)| a.clone());
                let rcode = if addrs.is_some() { 0 } else { 3 };
                let addrs = addrs.unwrap_or_default();
                let mut reply = query[..2].to_vec();
                reply.extend_from_slice(&[
                    0x81,
                    0x80 | rcode,
                    0,
                    1,
                    0,
                    addrs.len() as u8,
                    0,
                    0,
                    0,
                    0,
                ]);
                reply.extend_from_slice(&query[12..]);
                for ip in &addrs {
                    reply.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4]);
                    reply.extend_from_slice(&ip.octets());
                }
                if decoy {
                    let mut wrong = reply.clone();
                    wrong[0] ^= 0xff;
                    socket.send_to(&wrong, peer).await.unwrap();
                }
                socket.send_to(&reply, peer).await.unwrap();
            }
        });
        (addr, task)
    }

    fn resolver(servers: Vec<SocketAddr>, hosts: Option<PathBuf>) -> Resolver {
        Resolver {
            nameservers: servers,
            search: vec!["corp".to_owned()],
            hosts_path: hosts,
            timeout: Duration::from_millis(200),
            attempts: 2,
        }
    }

    #[tokio::test]
    async fn resolves_over_udp_and_ignores_a_decoy() {
        let ips = vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)];
        let (addr, task) = fake_server(vec![("api", ips.clone())], true).await;
        let got = resolver(vec![addr], None)
            .resolve_ipv4("api")
            .await
            .unwrap();
        assert_eq!(got, ips);
        task.abort();
    }

    #[tokio::test]
    async fn search_domains_apply_only_after_the_bare_name_fails() {
        let (addr, task) = fake_server(
            vec![
                ("store.corp", vec![Ipv4Addr::new(10, 0, 0, 9)]),
                ("api", vec![Ipv4Addr::new(10, 0, 0, 1)]),
                ("api.corp", vec![Ipv4Addr::new(10, 0, 0, 66)]),
            ],
            false,
        )
        .await;
        let r = resolver(vec![addr], None);
        assert_eq!(
            r.resolve_ipv4("store").await.unwrap(),
            [Ipv4Addr::new(10, 0, 0, 9)]
        );
        assert_eq!(
            r.resolve_ipv4("api").await.unwrap(),
            [Ipv4Addr::new(10, 0, 0, 1)]
        );
        // A dotted name is never extended.
        assert!(matches!(
            r.resolve_ipv4("store.other").await,
            Err(DnsError::NotFound { .. })
        ));
        assert!(matches!(
            r.resolve_ipv4("nothing").await,
            Err(DnsError::NotFound { .. })
        ));
        task.abort();
    }

    #[tokio::test]
    async fn literals_localhost_and_hosts_file_need_no_server() {
        let dir = tempfile::tempdir().unwrap();
        let hosts = dir.path().join("hosts");
        std::fs::write(&hosts, "172.18.0.7 self-host\n").unwrap();
        // A server that never answers: any DNS query would time out.
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let r = resolver(vec![silent.local_addr().unwrap()], Some(hosts));
        assert_eq!(
            r.resolve_ipv4("10.1.2.3").await.unwrap(),
            [Ipv4Addr::new(10, 1, 2, 3)]
        );
        assert_eq!(
            r.resolve_ipv4("localhost").await.unwrap(),
            [Ipv4Addr::LOCALHOST]
        );
        assert_eq!(
            r.resolve_ipv4("self-host").await.unwrap(),
            [Ipv4Addr::new(172, 18, 0, 7)]
        );
        assert!(matches!(
            r.resolve_ipv4("elsewhere.example").await,
            Err(DnsError::Timeout { attempts: 2, .. })
        ));
    }

    #[tokio::test]
    async fn falls_over_to_the_next_nameserver() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let (addr, task) =
            fake_server(vec![("api", vec![Ipv4Addr::new(10, 0, 0, 1)])], false).await;
        let r = resolver(vec![silent.local_addr().unwrap(), addr], None);
        assert_eq!(
            r.resolve_ipv4("api").await.unwrap(),
            [Ipv4Addr::new(10, 0, 0, 1)]
        );
        task.abort();
    }

    #[test]
    fn ids_vary() {
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| random_id()).collect();
        assert!(ids.len() > 32);
    }
}
