//! A proxy's upstream: `HOST:PORT` resolved with the built-in DNS client
//! (never libc: the proxy runs in `FROM scratch` images), re-resolved at
//! most every second, connections spread round-robin over every address.
//! An IP literal is used as is, without locking.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

/// How long a resolved address set is reused.
const RESOLVE_EVERY: Duration = Duration::from_secs(1);
/// How long a connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Why no upstream connection was made.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("resolving {host:?}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: crate::dns::DnsError,
    },
    #[error("connecting to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("connecting to {addr}: timed out after {CONNECT_TIMEOUT:?}")]
    Timeout { addr: SocketAddr },
}

/// Where a proxy forwards to.
#[derive(Debug)]
pub struct Upstream {
    host: String,
    port: u16,
    literal: Option<Ipv4Addr>,
    cache: Mutex<(Option<Instant>, Vec<Ipv4Addr>)>,
    refreshing: tokio::sync::Mutex<()>,
    next: AtomicUsize,
}

impl Upstream {
    pub fn new(host: String, port: u16) -> Self {
        Self {
            literal: host.parse().ok(),
            host,
            port,
            cache: Mutex::new((None, Vec::new())),
            refreshing: tokio::sync::Mutex::new(()),
            next: AtomicUsize::new(0),
        }
    }

    fn cached(&self) -> (bool, Vec<Ipv4Addr>) {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = cache.0.is_some_and(|t| t.elapsed() < RESOLVE_EVERY);
        (fresh, cache.1.clone())
    }

    /// The next address of a fresh cache, picked under the lock: the http
    /// proxy asks for every request, so the common case copies nothing.
    fn next_cached(&self) -> Option<Ipv4Addr> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let (resolved, addrs) = &*cache;
        if !resolved.is_some_and(|t| t.elapsed() < RESOLVE_EVERY) || addrs.is_empty() {
            return None;
        }
        addrs
            .get(self.next.fetch_add(1, Ordering::Relaxed) % addrs.len())
            .copied()
    }

    /// The address for the next connection (or request).
    pub async fn pick(&self) -> Result<SocketAddr, UpstreamError> {
        if let Some(ip) = self.literal.or_else(|| self.next_cached()) {
            return Ok(SocketAddr::from((ip, self.port)));
        }
        let (fresh, mut addrs) = self.cached();
        if !fresh {
            // One resolution at a time; the others reuse the last addresses.
            let refresh = if addrs.is_empty() {
                Some(self.refreshing.lock().await)
            } else {
                self.refreshing.try_lock().ok()
            };
            if let Some(_guard) = refresh {
                let (fresh_now, latest) = self.cached();
                addrs = if fresh_now {
                    latest
                } else {
                    self.resolve(latest).await?
                };
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % addrs.len().max(1);
        let ip = addrs
            .get(i)
            .copied()
            .ok_or_else(|| UpstreamError::Resolve {
                host: self.host.clone(),
                source: crate::dns::DnsError::NotFound {
                    name: self.host.clone(),
                },
            })?;
        Ok(SocketAddr::from((ip, self.port)))
    }

    async fn resolve(&self, last: Vec<Ipv4Addr>) -> Result<Vec<Ipv4Addr>, UpstreamError> {
        match crate::dns::resolve_ipv4(&self.host).await {
            Ok(addrs) if !addrs.is_empty() => {
                *self.cache.lock().unwrap_or_else(PoisonError::into_inner) =
                    (Some(Instant::now()), addrs.clone());
                Ok(addrs)
            }
            Ok(_) if last.is_empty() => Err(UpstreamError::Resolve {
                host: self.host.clone(),
                source: crate::dns::DnsError::NotFound {
                    name: self.host.clone(),
                },
            }),
            Err(source) if last.is_empty() => Err(UpstreamError::Resolve {
                host: self.host.clone(),
                source,
            }),
            Ok(_) | Err(_) => {
                tracing::warn!(host = %self.host, "re-resolving failed; keeping the last addresses");
                Ok(last)
            }
        }
    }

    /// Connects to the next address (with `TCP_NODELAY`).
    pub async fn connect(&self) -> Result<TcpStream, UpstreamError> {
        let addr = self.pick().await?;
        Self::connect_to(addr).await
    }

    /// Connects to one address (with `TCP_NODELAY`).
    pub async fn connect_to(addr: SocketAddr) -> Result<TcpStream, UpstreamError> {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                Ok(stream)
            }
            Ok(Err(source)) => Err(UpstreamError::Connect { addr, source }),
            Err(_) => Err(UpstreamError::Timeout { addr }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literals_and_localhost_round_robin() {
        let up = Upstream::new("127.0.0.1".into(), 9);
        assert_eq!(
            up.pick().await.unwrap(),
            SocketAddr::from(([127, 0, 0, 1], 9))
        );
        let local = Upstream::new("localhost".into(), 10);
        assert_eq!(
            local.pick().await.unwrap(),
            SocketAddr::from(([127, 0, 0, 1], 10))
        );
        assert_eq!(local.pick().await.unwrap().port(), 10, "cached");
    }

    /// A name with several addresses (a service's replicas): each pick, a
    /// connection or an http request, goes to the next one.
    #[tokio::test]
    async fn several_addresses_are_taken_in_turn() {
        let up = Upstream::new("api".into(), 8080);
        *up.cache.lock().unwrap() = (
            Some(Instant::now()),
            vec![Ipv4Addr::new(10, 9, 0, 2), Ipv4Addr::new(10, 9, 0, 3)],
        );
        let mut picked = Vec::new();
        for _ in 0..4 {
            picked.push(up.pick().await.unwrap().ip().to_string());
        }
        assert_eq!(picked, ["10.9.0.2", "10.9.0.3", "10.9.0.2", "10.9.0.3"]);
    }
}
