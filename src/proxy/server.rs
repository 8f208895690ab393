//! The running proxies: each one's listener and accept loop, its shared
//! state (upstream, counters, the watch channel its connections read the
//! current faults from) and the fault table behind the control API.
//!
//! A fault change is one `watch` send: every connection of the proxy sees
//! it before its next chunk (tcp) or request (http), and idle connections
//! are woken, so `timeout` and `reset-peer` act on them too.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::config::{ConfigError, Protocol, ProxyConfig};
use super::lane::ConnInfo;
use super::metrics::{ActiveGuard, ProxyView, Stats};
use super::model::{Fault, FaultKind, FaultSpec};
use super::upstream::Upstream;

/// Server-wide settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long an HTTP request head may take from its first byte.
    pub header_timeout: Duration,
    /// The largest HTTP request or response head accepted.
    pub max_head: usize,
    /// Seeds every toxicity draw (reproducible runs).
    pub seed: u64,
    /// How long connections may drain at shutdown.
    pub grace: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            max_head: 64 * 1024,
            seed: 0,
            grace: Duration::from_secs(2),
        }
    }
}

/// Why a control operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("a proxy named {0:?} exists already")]
    Exists(String),
    #[error("no proxy named {0:?}")]
    NoProxy(String),
    #[error("no fault {id} on proxy {proxy:?}")]
    NoFault { proxy: String, id: u64 },
    #[error("{kind} needs a proxy with protocol \"http\"; {proxy:?} is \"tcp\"")]
    NeedsHttp { kind: FaultKind, proxy: String },
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// What one proxy's connections share.
pub(crate) struct Shared {
    pub name: String,
    pub protocol: Protocol,
    pub upstream: Upstream,
    pub faults: watch::Sender<Arc<Vec<Fault>>>,
    pub stats: Stats,
    pub conn_seq: AtomicU64,
    pub req_seq: AtomicU64,
    pub seed: u64,
    pub header_timeout: Duration,
    pub max_head: usize,
    /// Cancelled when the proxy stops; http connections close when idle.
    pub stop: CancellationToken,
    grace_ms: AtomicU64,
}

struct Running {
    config: ProxyConfig,
    local: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// A proxy as the control API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyInfo {
    pub name: String,
    /// The address actually bound.
    pub listen: String,
    pub upstream: String,
    pub protocol: Protocol,
    pub faults: Vec<Fault>,
}

/// A fault with the proxy it is on (`GET /faults`).
#[derive(Debug, Clone, Serialize)]
pub struct ProxyFault {
    pub proxy: String,
    #[serde(flatten)]
    pub fault: Fault,
}

/// Every proxy and fault of this process.
pub struct Server {
    options: Options,
    proxies: Mutex<BTreeMap<String, Running>>,
    next_fault: AtomicU64,
}

impl Server {
    pub fn new(options: Options) -> Arc<Self> {
        Arc::new(Self {
            options,
            proxies: Mutex::default(),
            next_fault: AtomicU64::new(1),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Running>> {
        self.proxies.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Binds and starts a proxy.
    pub async fn add_proxy(&self, config: ProxyConfig) -> Result<ProxyInfo, ServerError> {
        config.validate()?;
        if self.lock().contains_key(&config.name) {
            return Err(ServerError::Exists(config.name));
        }
        let addr = config.listen_addr()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let (host, port) = config.upstream_parts()?;
        let shared = Arc::new(Shared {
            name: config.name.clone(),
            protocol: config.protocol,
            upstream: Upstream::new(host, port),
            faults: watch::Sender::new(Arc::new(Vec::new())),
            stats: Stats::default(),
            conn_seq: AtomicU64::new(0),
            req_seq: AtomicU64::new(0),
            seed: self.options.seed,
            header_timeout: self.options.header_timeout,
            max_head: self.options.max_head,
            stop: CancellationToken::new(),
            grace_ms: AtomicU64::new(0),
        });
        let mut proxies = self.lock();
        if proxies.contains_key(&config.name) {
            return Err(ServerError::Exists(config.name));
        }
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        tracing::info!(proxy = %config.name, %local, upstream = %config.upstream, "proxy listening");
        let running = Running {
            config,
            local,
            shared,
            task,
        };
        let info = running.info();
        proxies.insert(info.name.clone(), running);
        Ok(info)
    }

    /// Stops a proxy and closes its connections at once.
    pub async fn remove_proxy(&self, name: &str) -> Result<(), ServerError> {
        let running = self
            .lock()
            .remove(name)
            .ok_or_else(|| ServerError::NoProxy(name.to_owned()))?;
        running.shared.stop.cancel();
        let _ = running.task.await;
        Ok(())
    }

    /// Stops every proxy, letting connections drain for the grace period.
    pub async fn shutdown(&self) {
        let running: Vec<Running> = std::mem::take(&mut *self.lock()).into_values().collect();
        let grace = u64::try_from(self.options.grace.as_millis()).unwrap_or(u64::MAX);
        for r in &running {
            r.shared.grace_ms.store(grace, Ordering::Relaxed);
            r.shared.stop.cancel();
        }
        for r in running {
            let _ = r.task.await;
        }
    }

    pub fn proxies(&self) -> Vec<ProxyInfo> {
        self.lock().values().map(Running::info).collect()
    }

    pub fn proxy(&self, name: &str) -> Result<ProxyInfo, ServerError> {
        self.lock()
            .get(name)
            .map(Running::info)
            .ok_or_else(|| ServerError::NoProxy(name.to_owned()))
    }

    /// The address a proxy listens on.
    pub fn local_addr(&self, name: &str) -> Result<SocketAddr, ServerError> {
        self.lock()
            .get(name)
            .map(|r| r.local)
            .ok_or_else(|| ServerError::NoProxy(name.to_owned()))
    }

    /// Installs a fault; it applies to new and open connections at once.
    pub fn add_fault(&self, proxy: &str, spec: FaultSpec) -> Result<Fault, ServerError> {
        let proxies = self.lock();
        let running = proxies
            .get(proxy)
            .ok_or_else(|| ServerError::NoProxy(proxy.to_owned()))?;
        if spec.kind().is_http() && running.config.protocol != Protocol::Http {
            return Err(ServerError::NeedsHttp {
                kind: spec.kind(),
                proxy: proxy.to_owned(),
            });
        }
        let fault = Fault {
            id: self.next_fault.fetch_add(1, Ordering::Relaxed),
            spec,
        };
        running
            .shared
            .faults
            .send_modify(|faults| Arc::make_mut(faults).push(fault.clone()));
        tracing::info!(proxy, id = fault.id, kind = %fault.spec.kind(), "fault added");
        Ok(fault)
    }

    /// Removes a fault; its connections pass bytes through again.
    pub fn remove_fault(&self, proxy: &str, id: u64) -> Result<(), ServerError> {
        let proxies = self.lock();
        let running = proxies
            .get(proxy)
            .ok_or_else(|| ServerError::NoProxy(proxy.to_owned()))?;
        let mut found = false;
        running.shared.faults.send_if_modified(|faults| {
            found = faults.iter().any(|f| f.id == id);
            if found {
                Arc::make_mut(faults).retain(|f| f.id != id);
            }
            found
        });
        if found {
            tracing::info!(proxy, id, "fault removed");
            Ok(())
        } else {
            Err(ServerError::NoFault {
                proxy: proxy.to_owned(),
                id,
            })
        }
    }

    /// Removes every fault of every proxy; returns how many there were.
    pub fn reset(&self) -> usize {
        let proxies = self.lock();
        let mut removed = 0;
        for running in proxies.values() {
            running.shared.faults.send_if_modified(|faults| {
                removed += faults.len();
                let had = !faults.is_empty();
                *faults = Arc::new(Vec::new());
                had
            });
        }
        tracing::info!(removed, "faults reset");
        removed
    }

    /// The faults of one proxy, or of all.
    pub fn faults(&self, proxy: Option<&str>) -> Result<Vec<ProxyFault>, ServerError> {
        let proxies = self.lock();
        if let Some(name) = proxy {
            if !proxies.contains_key(name) {
                return Err(ServerError::NoProxy(name.to_owned()));
            }
        }
        Ok(proxies
            .values()
            .filter(|r| proxy.is_none_or(|p| p == r.config.name))
            .flat_map(|r| {
                let faults: Vec<Fault> = r.shared.faults.borrow().as_ref().clone();
                faults.into_iter().map(|fault| ProxyFault {
                    proxy: r.config.name.clone(),
                    fault,
                })
            })
            .collect())
    }

    /// `/metrics` text.
    pub fn metrics(&self) -> String {
        let shared: Vec<Arc<Shared>> = self
            .lock()
            .values()
            .map(|r| Arc::clone(&r.shared))
            .collect();
        let views: Vec<ProxyView<'_>> = shared
            .iter()
            .map(|s| ProxyView {
                name: &s.name,
                http: s.protocol == Protocol::Http,
                faults_active: s.faults.borrow().len(),
                stats: &s.stats,
            })
            .collect();
        super::metrics::render(&views)
    }
}

impl Running {
    fn info(&self) -> ProxyInfo {
        ProxyInfo {
            name: self.config.name.clone(),
            listen: self.local.to_string(),
            upstream: self.config.upstream.clone(),
            protocol: self.config.protocol,
            faults: self.shared.faults.borrow().as_ref().clone(),
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = shared.stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(stream, peer, Arc::clone(&shared)));
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(proxy = %shared.name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let grace = Duration::from_millis(shared.grace_ms.load(Ordering::Relaxed));
    if !grace.is_zero() && !connections.is_empty() {
        let _ = tokio::time::timeout(grace, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
    }
    connections.shutdown().await;
}

async fn connection(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let _active = ActiveGuard::new(&shared.stats);
    let _ = stream.set_nodelay(true);
    let client = match peer.ip() {
        IpAddr::V4(ip) => Some(ip),
        IpAddr::V6(ip) => ip.to_ipv4_mapped(),
    };
    let conn = ConnInfo {
        seed: shared.seed,
        seq: shared.conn_seq.fetch_add(1, Ordering::Relaxed),
        client,
    };
    match shared.protocol {
        Protocol::Tcp => super::tcp::serve(stream, conn, &shared).await,
        Protocol::Http => super::http::serve(stream, conn, &shared).await,
    }
}
