//! The ingress relay (`understudy relay PORT=HOST:PORT ...`): a small L4 TCP
//! relay that runs inside a shadow as its only entry. It listens on each
//! PORT and forwards every connection to HOST:PORT, resolving HOST with the
//! built-in DNS client (re-resolved at most every second, spread over all
//! addresses), so it works in a `FROM scratch` image.

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// How long a resolved address set is reused.
const RESOLVE_EVERY: Duration = Duration::from_secs(1);
/// How long a connect to the upstream may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One `LISTEN_PORT=HOST:PORT` route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub listen_port: u16,
    pub host: String,
    pub port: u16,
}

/// Why a route did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid relay route {0:?}: expected LISTEN_PORT=HOST:PORT, e.g. 10000=gateway:8080")]
pub struct RouteError(pub String);

impl FromStr for Route {
    type Err = RouteError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || RouteError(s.to_owned());
        let (listen, upstream) = s.split_once('=').ok_or_else(err)?;
        let (host, port) = upstream.rsplit_once(':').ok_or_else(err)?;
        if host.is_empty() {
            return Err(err());
        }
        Ok(Self {
            listen_port: listen.parse().map_err(|_| err())?,
            host: host.to_owned(),
            port: port.parse().map_err(|_| err())?,
        })
    }
}

/// Upstream addresses of one route, re-resolved at most every second.
struct Upstream {
    route: Route,
    cache: Mutex<(Instant, Vec<Ipv4Addr>)>,
    next: AtomicUsize,
}

impl Upstream {
    fn new(route: Route) -> Self {
        Self {
            route,
            cache: Mutex::new((Instant::now(), Vec::new())),
            next: AtomicUsize::new(0),
        }
    }

    async fn pick(&self) -> Result<SocketAddr, String> {
        let mut cache = self.cache.lock().await;
        if cache.0.elapsed() >= RESOLVE_EVERY || cache.1.is_empty() {
            match crate::dns::resolve_ipv4(&self.route.host).await {
                Ok(addrs) if !addrs.is_empty() => *cache = (Instant::now(), addrs),
                Ok(_) => return Err(format!("{} has no addresses", self.route.host)),
                Err(e) if cache.1.is_empty() => return Err(e.to_string()),
                Err(e) => tracing::warn!(
                    "re-resolving {}: {e}; keeping the last addresses",
                    self.route.host
                ),
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % cache.1.len();
        Ok(SocketAddr::from((cache.1[i], self.route.port)))
    }
}

async fn relay_one(mut client: TcpStream, upstream: Arc<Upstream>) {
    let _ = client.set_nodelay(true);
    let target = match upstream.pick().await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("relay {}: {e}", upstream.route.host);
            return;
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await {
        Ok(Ok(mut server)) => {
            let _ = server.set_nodelay(true);
            if let Err(e) = copy_bidirectional(&mut client, &mut server).await {
                tracing::debug!("relay {target}: {e}");
            }
        }
        Ok(Err(e)) => tracing::warn!("relay connect {target}: {e}"),
        Err(_) => tracing::warn!("relay connect {target}: timed out"),
    }
}

/// Serves one route on an already bound listener until `shutdown`.
pub async fn serve(listener: TcpListener, route: Route, shutdown: CancellationToken) {
    let upstream = Arc::new(Upstream::new(route));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    tokio::spawn(relay_one(client, Arc::clone(&upstream)));
                }
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Runs every route until SIGTERM or SIGINT.
pub async fn run(routes: &[String]) -> anyhow::Result<()> {
    let routes: Vec<Route> = routes.iter().map(|r| r.parse()).collect::<Result<_, _>>()?;
    anyhow::ensure!(
        !routes.is_empty(),
        "give at least one route LISTEN_PORT=HOST:PORT"
    );
    let shutdown = CancellationToken::new();
    let mut tasks = Vec::new();
    for route in routes {
        let listener = TcpListener::bind(("0.0.0.0", route.listen_port)).await?;
        tasks.push(tokio::spawn(serve(listener, route, shutdown.clone())));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    shutdown.cancel();
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn routes_parse_and_reject() {
        let r: Route = "10000=gateway:8080".parse().unwrap();
        assert_eq!(
            r,
            Route {
                listen_port: 10_000,
                host: "gateway".into(),
                port: 8080
            }
        );
        for bad in [
            "gateway:8080",
            "10000=gateway",
            "x=gateway:1",
            "1=:80",
            "1=g:port",
        ] {
            let e = bad.parse::<Route>().unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[tokio::test]
    async fn relays_bytes_both_ways_to_a_loopback_upstream() {
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up_port = upstream.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = upstream.accept().await.unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf.iter().map(u8::to_ascii_uppercase).collect::<Vec<_>>())
                .await
                .unwrap();
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay_port = listener.local_addr().unwrap().port();
        let stop = CancellationToken::new();
        let route = Route {
            listen_port: relay_port,
            host: "127.0.0.1".into(),
            port: up_port,
        };
        let task = tokio::spawn(serve(listener, route, stop.clone()));
        let mut client = TcpStream::connect(("127.0.0.1", relay_port)).await.unwrap();
        client.write_all(b"hello").await.unwrap();
        let mut back = [0u8; 5];
        client.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"HELLO");
        stop.cancel();
        task.await.unwrap();
    }
}
