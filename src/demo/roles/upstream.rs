//! A client for one upstream service behind a name: the address set is
//! re-discovered periodically (DNS, so replicas that come and go are
//! followed within one period), requests go round-robin over all addresses,
//! and each address keeps a small pool of idle keep-alive connections
//! (hyper's HTTP/1 client connection over a tokio `TcpStream`).
//!
//! Discovery is a trait so tests can hand in address sets directly.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::config::HostPort;
use crate::dns::{DnsError, Resolver};

/// Idle connections kept per address.
const MAX_IDLE_PER_ADDR: usize = 32;
/// Idle connections older than this are closed rather than reused (servers
/// close idle keep-alive connections after a while; racing that fails).
const IDLE_TTL: Duration = Duration::from_secs(10);

/// Finds the current addresses of an upstream.
pub trait Discover: Send + Sync + 'static {
    /// The addresses now; an empty list means "exists nowhere right now".
    fn discover(&self) -> BoxFuture<'_, Result<Vec<SocketAddr>, DnsError>>;
}

/// Discovery of a `host:port` target: an IP literal is itself, a name goes
/// through the DNS client (NXDOMAIN means no addresses).
pub struct DnsDiscover {
    pub resolver: Resolver,
    pub target: HostPort,
}

impl Discover for DnsDiscover {
    fn discover(&self) -> BoxFuture<'_, Result<Vec<SocketAddr>, DnsError>> {
        Box::pin(async move {
            if let Some(addr) = self.target.literal() {
                return Ok(vec![addr]);
            }
            match self.resolver.resolve_ipv4(&self.target.host).await {
                Ok(ips) => Ok(ips
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip.into(), self.target.port))
                    .collect()),
                Err(DnsError::NotFound { .. }) => Ok(Vec::new()),
                Err(e) => Err(e),
            }
        })
    }
}

/// Why an upstream exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("no addresses for {upstream}")]
    NoAddresses { upstream: String },
    #[error("connecting to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{addr} did not answer within {after:?}")]
    Timeout { addr: SocketAddr, after: Duration },
    #[error("exchange with {addr} failed: {source}")]
    Failed {
        addr: SocketAddr,
        #[source]
        source: hyper::Error,
    },
}

impl UpstreamError {
    /// The address the request was sent to, if one was chosen.
    pub fn addr(&self) -> Option<SocketAddr> {
        match self {
            Self::NoAddresses { .. } => None,
            Self::Connect { addr, .. } | Self::Timeout { addr, .. } | Self::Failed { addr, .. } => {
                Some(*addr)
            }
        }
    }
}

/// A request to send (owned parts, so it can be sent again on a fresh
/// connection when a pooled one turns out to be stale).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: Method,
    /// Origin form: path and query.
    pub target: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Outgoing {
    pub fn new(method: Method, target: Uri, body: Bytes) -> Self {
        Self {
            method,
            target,
            headers: HeaderMap::new(),
            body,
        }
    }

    fn build(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.target.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }

    fn idempotent(&self) -> bool {
        matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        )
    }
}

/// An answer and the address that gave it.
#[derive(Debug)]
pub struct Reply {
    pub addr: SocketAddr,
    pub response: Response<Bytes>,
}

struct Idle {
    sender: SendRequest<Full<Bytes>>,
    since: Instant,
}

/// One upstream service: its addresses, round-robin, and connection pools.
pub struct Upstream {
    name: String,
    host: Option<HeaderValue>,
    addrs: RwLock<Arc<[SocketAddr]>>,
    next: AtomicUsize,
    idle: Mutex<HashMap<SocketAddr, Vec<Idle>>>,
    timeout: Duration,
    _refresh: DropGuard,
}

impl Upstream {
    /// Discovers once, then again every `every` in a background task that
    /// stops when the returned handle is dropped.
    pub async fn start(
        name: String,
        discover: Arc<dyn Discover>,
        every: Duration,
        timeout: Duration,
    ) -> Arc<Self> {
        let stop = CancellationToken::new();
        let upstream = Arc::new(Self {
            host: HeaderValue::from_str(&name).ok(),
            name,
            addrs: RwLock::new(Arc::from(Vec::new())),
            next: AtomicUsize::new(0),
            idle: Mutex::default(),
            timeout,
            _refresh: stop.clone().drop_guard(),
        });
        let mut failing = false;
        refresh(&upstream, discover.as_ref(), &mut failing).await;
        tokio::spawn(refresh_loop(
            Arc::downgrade(&upstream),
            discover,
            every,
            stop,
            failing,
        ));
        upstream
    }

    /// The current address set.
    pub fn addrs(&self) -> Arc<[SocketAddr]> {
        self.addrs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_addrs(&self, mut addrs: Vec<SocketAddr>) {
        addrs.sort_unstable();
        addrs.dedup();
        let changed = *self.addrs() != *addrs;
        if !changed {
            return;
        }
        tracing::info!(upstream = %self.name, ?addrs, "upstream addresses changed");
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|addr, _| addrs.contains(addr));
        *self.addrs.write().unwrap_or_else(PoisonError::into_inner) = Arc::from(addrs);
    }

    /// Sends `out` to the next address in turn, within the timeout.
    pub async fn send(&self, mut out: Outgoing) -> Result<Reply, UpstreamError> {
        let addrs = self.addrs();
        if addrs.is_empty() {
            return Err(UpstreamError::NoAddresses {
                upstream: self.name.clone(),
            });
        }
        let addr = addrs[self.next.fetch_add(1, Ordering::Relaxed) % addrs.len()];
        if let (false, Some(host)) = (out.headers.contains_key(header::HOST), &self.host) {
            out.headers.insert(header::HOST, host.clone());
        }
        match tokio::time::timeout(self.timeout, self.exchange(addr, &out)).await {
            Ok(result) => result.map(|response| Reply { addr, response }),
            Err(_) => Err(UpstreamError::Timeout {
                addr,
                after: self.timeout,
            }),
        }
    }

    async fn exchange(
        &self,
        addr: SocketAddr,
        out: &Outgoing,
    ) -> Result<Response<Bytes>, UpstreamError> {
        while let Some(mut sender) = self.checkout(addr).await {
            match sender.try_send_request(out.build()).await {
                Ok(response) => return self.finish(addr, sender, response).await,
                // Not sent at all, or a stale connection that a retry on a
                // fresh one cannot make worse: try the next.
                Err(e) if e.message().is_some() || out.idempotent() && stale(e.error()) => {
                    tracing::debug!(%addr, error = %e.error(), "pooled connection unusable");
                }
                Err(e) => {
                    return Err(UpstreamError::Failed {
                        addr,
                        source: e.into_error(),
                    });
                }
            }
        }
        let mut sender = connect(addr).await?;
        let response = sender
            .send_request(out.build())
            .await
            .map_err(|source| UpstreamError::Failed { addr, source })?;
        self.finish(addr, sender, response).await
    }

    async fn finish(
        &self,
        addr: SocketAddr,
        sender: SendRequest<Full<Bytes>>,
        response: Response<hyper::body::Incoming>,
    ) -> Result<Response<Bytes>, UpstreamError> {
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|source| UpstreamError::Failed { addr, source })?
            .to_bytes();
        self.checkin(addr, sender);
        Ok(Response::from_parts(parts, body))
    }

    /// The most recently used live idle connection to `addr`. A connection
    /// checked in right after its response may still be finishing that
    /// exchange: wait until it can take a request (or turns out closed).
    async fn checkout(&self, addr: SocketAddr) -> Option<SendRequest<Full<Bytes>>> {
        loop {
            let entry = {
                let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                idle.get_mut(&addr)?.pop()?
            };
            if entry.since.elapsed() >= IDLE_TTL || entry.sender.is_closed() {
                continue;
            }
            let mut sender = entry.sender;
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    fn checkin(&self, addr: SocketAddr, sender: SendRequest<Full<Bytes>>) {
        if sender.is_closed() || !self.addrs().contains(&addr) {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let pool = idle.entry(addr).or_default();
        if pool.len() < MAX_IDLE_PER_ADDR {
            pool.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    /// Idle pooled connections to `addr`.
    #[cfg(test)]
    pub fn idle_count(&self, addr: SocketAddr) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&addr)
            .map_or(0, Vec::len)
    }
}

/// A connection error that says the pooled connection was already dead.
fn stale(error: &hyper::Error) -> bool {
    error.is_incomplete_message() || error.is_canceled() || error.is_closed()
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, UpstreamError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| UpstreamError::Connect { addr, source })?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|source| UpstreamError::Failed { addr, source })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(%addr, error = %e, "upstream connection ended");
        }
    });
    Ok(sender)
}

async fn refresh(upstream: &Upstream, discover: &dyn Discover, failing: &mut bool) {
    match discover.discover().await {
        Ok(addrs) => {
            if *failing {
                tracing::info!(upstream = %upstream.name, "discovery works again");
            }
            *failing = false;
            upstream.set_addrs(addrs);
        }
        Err(e) => {
            // Keep the last known set: a flaky resolver is no reason to
            // stop sending to replicas that exist.
            if !*failing {
                tracing::warn!(upstream = %upstream.name, error = %e, "discovery failed; keeping the last addresses");
            }
            *failing = true;
        }
    }
}

async fn refresh_loop(
    upstream: Weak<Upstream>,
    discover: Arc<dyn Discover>,
    every: Duration,
    stop: CancellationToken,
    mut failing: bool,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate; start() already ran it
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let Some(upstream) = upstream.upgrade() else {
            return;
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = refresh(&upstream, discover.as_ref(), &mut failing) => {}
        }
    }
}

/// Discovery from a list the test can change.
#[cfg(test)]
#[derive(Default, Clone)]
pub struct FixedDiscover(pub Arc<Mutex<Vec<SocketAddr>>>);

#[cfg(test)]
impl FixedDiscover {
    pub fn new(addrs: Vec<SocketAddr>) -> Self {
        Self(Arc::new(Mutex::new(addrs)))
    }

    pub fn set(&self, addrs: Vec<SocketAddr>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = addrs;
    }
}

#[cfg(test)]
impl Discover for FixedDiscover {
    fn discover(&self) -> BoxFuture<'_, Result<Vec<SocketAddr>, DnsError>> {
        let addrs = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Box::pin(async move { Ok(addrs) })
    }
}

#[cfg(test)]
mod tests {
    use hyper::StatusCode;

    use super::*;
    use crate::demo::roles::http::{self, App, Body0, Handler};
    use crate::demo::roles::testutil::{Running, signalled};

    /// Echoes its own port and the request body.
    struct Echo(u16);

    impl Handler for Echo {
        fn route(&self, _: &Method, _: &str) -> &'static str {
            "echo"
        }
        async fn handle(
            &self,
            req: Request<hyper::body::Incoming>,
            _: SocketAddr,
        ) -> Response<Body0> {
            let host = req.headers().get(header::HOST).cloned();
            let body = http::read_body(req.into_body(), 1024).await.unwrap();
            let text = format!("{} {:?} {}", self.0, host, String::from_utf8_lossy(&body));
            http::text(StatusCode::OK, text)
        }
    }

    async fn echo() -> Running {
        Running::start(|listener, stop| async move {
            let port = listener.local_addr()?.port();
            let app = App::new(Echo(port), Arc::default());
            http::serve(listener, app, Duration::from_secs(1), signalled(stop)).await?;
            Ok(())
        })
        .await
    }

    fn get() -> Outgoing {
        Outgoing::new(
            Method::GET,
            Uri::from_static("/x"),
            Bytes::from_static(b"hi"),
        )
    }

    #[tokio::test]
    async fn round_robin_pools_and_follows_the_address_set() {
        let (a, b) = (echo().await, echo().await);
        let discover = FixedDiscover::new(vec![a.addr, b.addr]);
        let every = Duration::from_millis(20);
        let up = Upstream::start(
            "svc:80".into(),
            Arc::new(discover.clone()),
            every,
            Duration::from_secs(5),
        )
        .await;
        let mut seen = Vec::new();
        for _ in 0..4 {
            let reply = up.send(get()).await.unwrap();
            let body = String::from_utf8(reply.response.body().to_vec()).unwrap();
            assert!(body.ends_with("Some(\"svc:80\") hi"), "{body}");
            seen.push(reply.addr);
        }
        assert_eq!(seen.iter().filter(|s| **s == a.addr).count(), 2);
        assert_eq!(seen.iter().filter(|s| **s == b.addr).count(), 2);
        assert_eq!((up.idle_count(a.addr), up.idle_count(b.addr)), (1, 1));

        discover.set(vec![b.addr]);
        while up.addrs().len() != 1 {
            tokio::time::sleep(every).await;
        }
        assert_eq!(up.idle_count(a.addr), 0);
        for _ in 0..3 {
            assert_eq!(up.send(get()).await.unwrap().addr, b.addr);
        }

        // b goes away; the set moves back to a; then to nothing at all.
        b.stop().await;
        discover.set(vec![a.addr]);
        while *up.addrs() != [a.addr] {
            tokio::time::sleep(every).await;
        }
        assert_eq!(up.send(get()).await.unwrap().addr, a.addr);
        discover.set(Vec::new());
        while !up.addrs().is_empty() {
            tokio::time::sleep(every).await;
        }
        assert!(matches!(
            up.send(get()).await,
            Err(UpstreamError::NoAddresses { .. })
        ));
        a.stop().await;
    }

    #[tokio::test]
    async fn connect_failures_and_timeouts_are_told_apart() {
        // A port with nothing listening.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let refused = closed.local_addr().unwrap();
        drop(closed);
        let up = Upstream::start(
            "svc:80".into(),
            Arc::new(FixedDiscover::new(vec![refused])),
            Duration::from_secs(60),
            Duration::from_secs(5),
        )
        .await;
        let err = up.send(get()).await.unwrap_err();
        assert!(matches!(err, UpstreamError::Connect { .. }), "{err}");
        assert_eq!(err.addr(), Some(refused));

        // A listener that accepts and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up = Upstream::start(
            "svc:80".into(),
            Arc::new(FixedDiscover::new(vec![silent.local_addr().unwrap()])),
            Duration::from_secs(60),
            Duration::from_millis(100),
        )
        .await;
        let err = up.send(get()).await.unwrap_err();
        assert!(matches!(err, UpstreamError::Timeout { .. }), "{err}");

        // A peer that answers garbage then closes.
        let rude = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let rude_addr = rude.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = rude.accept().await.unwrap();
            let mut buf = [0u8; 256];
            let _ = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
            let _ = tokio::io::AsyncWriteExt::write_all(&mut s, b"garbage\r\n\r\n").await;
        });
        let up = Upstream::start(
            "svc:80".into(),
            Arc::new(FixedDiscover::new(vec![rude_addr])),
            Duration::from_secs(60),
            Duration::from_secs(5),
        )
        .await;
        let err = up.send(get()).await.unwrap_err();
        assert!(matches!(err, UpstreamError::Failed { .. }), "{err}");
    }

    #[tokio::test]
    async fn dns_discovery_of_a_literal_needs_no_server() {
        let d = DnsDiscover {
            resolver: Resolver {
                nameservers: Vec::new(),
                search: Vec::new(),
                hosts_path: None,
                timeout: Duration::from_millis(10),
                attempts: 1,
            },
            target: HostPort::parse("127.0.0.1:9").unwrap(),
        };
        assert_eq!(
            d.discover().await.unwrap(),
            ["127.0.0.1:9".parse().unwrap()]
        );
    }
}
