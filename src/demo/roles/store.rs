//! The `store` role: a key-value store over HTTP, persisted to an
//! append-only log (`store_log`) replayed at startup.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /kv/{key}` | 200 with the value, 404 |
//! | `PUT /kv/{key}` | body is the value; 204 |
//! | `DELETE /kv/{key}` | 204, 404 if absent |
//! | `GET /kv?prefix=P` | 200 JSON array of matching keys, sorted |
//!
//! Keys are percent-decoded path segments (1-512 bytes, no control
//! characters); values up to 1 MiB. One thread (an actor) owns the map and
//! the log file; writes wait `STORE_WRITE_LATENCY` first, concurrently, to
//! model a disk.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::config::StoreConfig;
use super::http::{self, App, Body0, Handler};
use super::prom::{Counter, Gauge, Registry};
use super::query::{percent_decode, query_param};
use super::store_log::{LogFile, Op};

/// Largest value accepted.
const MAX_VALUE: usize = 1024 * 1024;
const MAX_KEY: usize = 512;

enum Command {
    Get(String, oneshot::Sender<Option<Bytes>>),
    Write(Op, oneshot::Sender<std::io::Result<bool>>),
    List(String, oneshot::Sender<Vec<String>>),
}

struct StoreMetrics {
    keys: Arc<Gauge>,
    writes: Arc<Counter>,
}

/// The actor: owns the map and the log; serves commands in order.
fn actor(
    mut rx: mpsc::Receiver<Command>,
    mut log: LogFile,
    mut map: BTreeMap<String, Bytes>,
    metrics: &StoreMetrics,
) {
    while let Some(command) = rx.blocking_recv() {
        match command {
            Command::Get(key, reply) => {
                let _ = reply.send(map.get(&key).cloned());
            }
            Command::List(prefix, reply) => {
                let keys = map
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, _)| k.clone())
                    .collect();
                let _ = reply.send(keys);
            }
            Command::Write(op, reply) => {
                let existed = match &op {
                    Op::Put { .. } => true,
                    Op::Delete { key } => map.contains_key(key),
                };
                // Deleting an absent key writes nothing.
                let result = if existed { log.append(&op) } else { Ok(()) };
                if result.is_ok() && existed {
                    match op {
                        Op::Put { key, value } => {
                            map.insert(key, value);
                        }
                        Op::Delete { key } => {
                            map.remove(&key);
                        }
                    }
                    metrics.writes.inc();
                    metrics.keys.set(map.len() as i64);
                }
                if let Err(e) = &result {
                    tracing::error!(path = %log.path().display(), error = %e, "log append failed");
                }
                let _ = reply.send(result.map(|()| existed));
            }
        }
    }
    if let Err(e) = log.sync() {
        tracing::error!(error = %e, "final log sync failed");
    }
}

/// The store's HTTP face; a handle on the actor.
struct Store {
    tx: mpsc::Sender<Command>,
    write_latency: Duration,
}

/// The store's routes, as templates.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Key(String),
    BadKey,
    List,
    NotFound,
}

fn route(path: &str) -> Route {
    if path == "/kv" || path == "/kv/" {
        return Route::List;
    }
    let Some(raw) = path.strip_prefix("/kv/") else {
        return Route::NotFound;
    };
    match percent_decode(raw, false) {
        Some(key)
            if !key.is_empty() && key.len() <= MAX_KEY && !key.chars().any(char::is_control) =>
        {
            Route::Key(key)
        }
        _ => Route::BadKey,
    }
}

impl Store {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    async fn write(&self, op: Op) -> Response<Body0> {
        if !self.write_latency.is_zero() {
            tokio::time::sleep(self.write_latency).await;
        }
        match self.ask(|tx| Command::Write(op, tx)).await {
            Some(Ok(true)) => empty(StatusCode::NO_CONTENT),
            Some(Ok(false)) => http::text(StatusCode::NOT_FOUND, "no such key\n"),
            Some(Err(e)) => http::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("write failed: {e}\n"),
            ),
            None => unavailable(),
        }
    }
}

impl Handler for Store {
    fn route(&self, _method: &Method, path: &str) -> &'static str {
        match route(path) {
            Route::Key(_) | Route::BadKey => "/kv/{key}",
            Route::List => "/kv",
            Route::NotFound => "unmatched",
        }
    }

    async fn handle(&self, req: Request<Incoming>, _peer: SocketAddr) -> Response<Body0> {
        let method = req.method().clone();
        match (route(req.uri().path()), method) {
            (Route::List, Method::GET) => {
                let prefix = query_param(req.uri().query(), "prefix").unwrap_or_default();
                match self.ask(|tx| Command::List(prefix, tx)).await {
                    Some(keys) => http::json(StatusCode::OK, &serde_json::json!(keys)),
                    None => unavailable(),
                }
            }
            (Route::Key(key), Method::GET) => match self.ask(|tx| Command::Get(key, tx)).await {
                Some(Some(value)) => {
                    let mut response = Response::new(http_body_util::Full::new(value));
                    response.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/octet-stream"),
                    );
                    response
                }
                Some(None) => http::text(StatusCode::NOT_FOUND, "no such key\n"),
                None => unavailable(),
            },
            (Route::Key(key), Method::PUT) => {
                match http::read_body(req.into_body(), MAX_VALUE).await {
                    Ok(value) => self.write(Op::Put { key, value }).await,
                    Err(e @ http::BodyError::TooLarge { .. }) => {
                        http::text(StatusCode::PAYLOAD_TOO_LARGE, format!("{e}\n"))
                    }
                    Err(e) => http::text(StatusCode::BAD_REQUEST, format!("{e}\n")),
                }
            }
            (Route::Key(key), Method::DELETE) => self.write(Op::Delete { key }).await,
            (Route::BadKey, _) => http::text(StatusCode::BAD_REQUEST, "invalid key\n"),
            (Route::NotFound, _) => http::text(StatusCode::NOT_FOUND, "not found\n"),
            _ => http::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        }
    }
}

fn empty(status: StatusCode) -> Response<Body0> {
    let mut response = Response::new(Body0::default());
    *response.status_mut() = status;
    response
}

fn unavailable() -> Response<Body0> {
    http::text(StatusCode::SERVICE_UNAVAILABLE, "store is shutting down\n")
}

/// Opens the log in `config.data_dir` and serves until `shutdown`.
pub async fn serve(
    config: StoreConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let dir = config.data_dir.clone();
    let fsync = config.fsync;
    let (log, map, report) = tokio::task::spawn_blocking(move || LogFile::open(&dir, fsync))
        .await?
        .with_context(|| format!("opening the store log in {}", config.data_dir.display()))?;
    tracing::info!(
        path = %log.path().display(),
        records = report.records,
        keys = report.keys,
        truncated_bytes = report.truncated,
        compacted = ?report.compacted,
        "store log replayed"
    );
    if report.truncated > 0 {
        tracing::warn!(
            bytes = report.truncated,
            "cut a torn record from the end of the log"
        );
    }
    let registry = Arc::new(Registry::default());
    let metrics = StoreMetrics {
        keys: registry.register(Gauge::new("store_keys", "Keys in the store.")),
        writes: registry.register(Counter::new(
            "store_writes_total",
            "Writes (puts and deletes) appended to the log.",
        )),
    };
    metrics.keys.set(map.len() as i64);
    let (tx, rx) = mpsc::channel(1024);
    let thread = std::thread::Builder::new()
        .name("store".to_owned())
        .spawn(move || actor(rx, log, map, &metrics))
        .context("starting the store thread")?;
    let app = App::new(
        Store {
            tx,
            write_latency: config.write_latency,
        },
        registry,
    );
    let served = http::serve(listener, app, config.shutdown_grace, shutdown).await;
    // Every handle on the actor is gone once the server has returned (its
    // connections are finished or aborted), so the thread drains and exits.
    let joined = tokio::task::spawn_blocking(move || thread.join()).await?;
    if joined.is_err() {
        anyhow::bail!("the store thread panicked");
    }
    served?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::roles::testutil::{Running, get, json, request, sample, signalled};

    #[test]
    fn routes_decode_keys() {
        assert_eq!(route("/kv/cart:alice"), Route::Key("cart:alice".into()));
        assert_eq!(route("/kv/a%20b"), Route::Key("a b".into()));
        assert_eq!(route("/kv/a%2Fb"), Route::Key("a/b".into()));
        assert_eq!(route("/kv"), Route::List);
        assert_eq!(route("/kv/%0a"), Route::BadKey);
        assert_eq!(route("/kv/%zz"), Route::BadKey);
        assert_eq!(route(&format!("/kv/{}", "k".repeat(513))), Route::BadKey);
        assert_eq!(route("/other"), Route::NotFound);
    }

    pub async fn start(dir: &std::path::Path) -> Running {
        let config = StoreConfig {
            shutdown_grace: Duration::from_secs(5),
            data_dir: dir.to_owned(),
            write_latency: Duration::from_millis(1),
            fsync: false,
        };
        Running::start(|listener, stop| serve(config, listener, signalled(stop))).await
    }

    #[tokio::test]
    async fn crud_list_metrics_and_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = start(dir.path()).await;
        let a = store.addr;
        assert_eq!(get(a, "/kv/missing").await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            request(a, Method::PUT, "/kv/cart:alice", "A").await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            request(a, Method::PUT, "/kv/cart:bob", "B").await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            request(a, Method::PUT, "/kv/order:1", "O").await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            request(a, Method::PUT, "/kv/cart:alice", "A2").await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            request(a, Method::DELETE, "/kv/order:1", "").await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            request(a, Method::DELETE, "/kv/order:1", "").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            request(a, Method::POST, "/kv/x", "").await.0,
            StatusCode::METHOD_NOT_ALLOWED
        );
        let (status, headers, body) = get(a, "/kv/cart:alice").await;
        assert_eq!((status, &body[..]), (StatusCode::OK, &b"A2"[..]));
        assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
        let listed = get(a, "/kv?prefix=cart%3A").await;
        assert_eq!(json(&listed), serde_json::json!(["cart:alice", "cart:bob"]));
        assert_eq!(
            json(&get(a, "/kv").await),
            serde_json::json!(["cart:alice", "cart:bob"])
        );
        let big = vec![b'x'; MAX_VALUE + 1];
        assert_eq!(
            request(a, Method::PUT, "/kv/big", big).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );

        let metrics = get(a, "/metrics").await.2;
        assert_eq!(sample(&metrics, "store_keys"), Some(2.0));
        assert_eq!(sample(&metrics, "store_writes_total"), Some(5.0));
        let put = "http_requests_total{route=\"/kv/{key}\",method=\"PUT\",status=\"204\"}";
        assert_eq!(sample(&metrics, put), Some(4.0));
        store.stop().await;

        // The data survives a restart on the same directory.
        let store = start(dir.path()).await;
        assert_eq!(get(store.addr, "/kv/cart:alice").await.2, Bytes::from("A2"));
        assert_eq!(get(store.addr, "/kv/cart:bob").await.2, Bytes::from("B"));
        assert_eq!(
            get(store.addr, "/kv/order:1").await.0,
            StatusCode::NOT_FOUND
        );
        let metrics = get(store.addr, "/metrics").await.2;
        assert_eq!(sample(&metrics, "store_keys"), Some(2.0));
        store.stop().await;
    }
}
