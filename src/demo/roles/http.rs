//! The HTTP/1.1 server every role runs: accept loop, keep-alive connections
//! (hyper 1 + `TokioIo`), the built-in `/healthz` and `/metrics`, request
//! metrics by route template, and graceful shutdown (stop accepting, let
//! in-flight requests finish within a grace period).
//!
//! A role plugs in as a [`Handler`]: it names the route template of a
//! request (for metrics), answers it, and may observe each finished exchange
//! (the gateway's access log). Bodies are buffered (`Full<Bytes>`): the
//! shop's messages are small.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::prom::{HttpMetrics, Registry};

/// The response body type of every role.
pub type Body0 = Full<Bytes>;

/// How long a connection may take to send a request head (also closes idle
/// keep-alive connections after this long).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the server stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("listener: {0}")]
    Listener(#[source] std::io::Error),
}

/// A role's request handling.
pub trait Handler: Send + Sync + 'static {
    /// The route template of a request (a bounded set: never the raw path).
    fn route(&self, method: &Method, path: &str) -> &'static str;

    /// Answers a request.
    fn handle(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> impl Future<Output = Response<Body0>> + Send;

    /// Sees each finished exchange except the built-in routes (including
    /// those the client abandoned, with status 499).
    fn completed(&self, _exchange: &Exchange) {}
}

/// A finished request as seen by the server.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub peer: SocketAddr,
    pub method: Method,
    /// Path and query as received.
    pub target: String,
    pub version: Version,
    pub referer: Option<HeaderValue>,
    pub user_agent: Option<HeaderValue>,
    pub route: &'static str,
    pub status: u16,
    pub body_bytes: u64,
    pub elapsed: Duration,
}

/// Status recorded for a request whose client went away first (nginx's).
pub const CLIENT_CLOSED: u16 = 499;

/// What the server shares between connections.
pub struct App<H> {
    pub handler: H,
    pub registry: Arc<Registry>,
    pub http: HttpMetrics,
}

impl<H: Handler> App<H> {
    /// Registers the HTTP metrics in `registry` and wraps `handler`.
    pub fn new(handler: H, registry: Arc<Registry>) -> Arc<Self> {
        let http = HttpMetrics::register(&registry);
        Arc::new(Self {
            handler,
            registry,
            http,
        })
    }
}

/// Serves until `shutdown` completes, then drains for up to `grace`.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    app: Arc<App<H>>,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let local = listener.local_addr().map_err(ServeError::Listener)?;
    tracing::info!(%local, "listening");
    let stop = CancellationToken::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(stream, peer, app.clone(), stop.clone()));
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    stop.cancel();
    tracing::info!(connections = connections.len(), "shutting down");
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            grace = ?grace,
            "grace period over; closing the remaining connections"
        );
        connections.shutdown().await;
    }
    Ok(())
}

async fn connection<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    app: Arc<App<H>>,
    stop: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(dispatch(app, req, peer).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // Malformed requests, resets, timeouts: the client's problem.
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

async fn dispatch<H: Handler>(
    app: Arc<App<H>>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body0> {
    let started = Instant::now();
    let method = req.method().clone();
    let builtin = match req.uri().path() {
        "/healthz" => Some(("/healthz", health(&method))),
        "/metrics" => Some(("/metrics", metrics(&method, &app.registry))),
        _ => None,
    };
    if let Some((route, response)) = builtin {
        app.http
            .requests
            .inc(&[route, method_label(&method), response.status().as_str()]);
        app.http.duration.observe(&[route], started.elapsed());
        return response;
    }
    let route = app.handler.route(&method, req.uri().path());
    let mut guard = InFlight {
        app: app.clone(),
        started,
        exchange: Some(Exchange {
            peer,
            method,
            target: req
                .uri()
                .path_and_query()
                .map_or_else(|| req.uri().to_string(), ToString::to_string),
            version: req.version(),
            referer: req.headers().get(header::REFERER).cloned(),
            user_agent: req.headers().get(header::USER_AGENT).cloned(),
            route,
            status: CLIENT_CLOSED,
            body_bytes: 0,
            elapsed: Duration::ZERO,
        }),
    };
    app.http.in_flight.inc();
    let response = app.handler.handle(req, peer).await;
    guard.finish(
        response.status().as_u16(),
        response.body().size_hint().exact().unwrap_or(0),
    );
    response
}

/// Counts a request while it runs; records it when finished or abandoned.
struct InFlight<H: Handler> {
    app: Arc<App<H>>,
    started: Instant,
    exchange: Option<Exchange>,
}

impl<H: Handler> InFlight<H> {
    fn finish(&mut self, status: u16, body_bytes: u64) {
        if let Some(exchange) = &mut self.exchange {
            exchange.status = status;
            exchange.body_bytes = body_bytes;
        }
        self.record();
    }

    fn record(&mut self) {
        let Some(mut exchange) = self.exchange.take() else {
            return;
        };
        exchange.elapsed = self.started.elapsed();
        let http = &self.app.http;
        http.in_flight.dec();
        http.requests.inc(&[
            exchange.route,
            method_label(&exchange.method),
            &exchange.status.to_string(),
        ]);
        http.duration.observe(&[exchange.route], exchange.elapsed);
        self.app.handler.completed(&exchange);
    }
}

impl<H: Handler> Drop for InFlight<H> {
    fn drop(&mut self) {
        self.record();
    }
}

/// A bounded label for the method (unknown methods share one value).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn health(method: &Method) -> Response<Body0> {
    if *method == Method::GET || *method == Method::HEAD {
        text(StatusCode::OK, "ok\n")
    } else {
        text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
    }
}

fn metrics(method: &Method, registry: &Registry) -> Response<Body0> {
    if *method != Method::GET && *method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    let mut response = Response::new(Full::new(Bytes::from(registry.render())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(super::prom::CONTENT_TYPE),
    );
    response
}

/// A plain-text response.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body0> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A JSON response.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body0> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A request body that failed to arrive whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("reading the request body: {0}")]
    Read(String),
}

/// Reads a whole request body, refusing more than `limit` bytes.
pub async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge { limit }),
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}

/// An unpredictable 64-bit number (SipHash with per-process random keys
/// over a counter, the clock and the pid), for request and order ids.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.write_u128(now.as_nanos());
    hasher.write_u32(std::process::id());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::sync::{Notify, oneshot};

    use super::*;
    use crate::demo::roles::testutil::{get, request};

    /// Answers `/slow` only when released; everything else at once.
    struct Slow {
        entered: Notify,
        release: Notify,
        seen: Mutex<Vec<(String, u16)>>,
    }

    impl Handler for Slow {
        fn route(&self, _method: &Method, path: &str) -> &'static str {
            if path == "/slow" { "/slow" } else { "other" }
        }

        async fn handle(&self, req: Request<Incoming>, _peer: SocketAddr) -> Response<Body0> {
            if req.uri().path() == "/slow" {
                self.entered.notify_one();
                self.release.notified().await;
            }
            text(StatusCode::OK, "done")
        }

        fn completed(&self, exchange: &Exchange) {
            self.seen
                .lock()
                .unwrap()
                .push((exchange.target.clone(), exchange.status));
        }
    }

    async fn start() -> (
        SocketAddr,
        Arc<App<Slow>>,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<Result<(), ServeError>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = App::new(
            Slow {
                entered: Notify::new(),
                release: Notify::new(),
                seen: Mutex::default(),
            },
            Arc::default(),
        );
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            app.clone(),
            Duration::from_secs(10),
            async {
                let _ = rx.await;
            },
        ));
        (addr, app, tx, server)
    }

    #[tokio::test]
    async fn graceful_shutdown_lets_an_in_flight_request_finish() {
        let (addr, app, stop, server) = start().await;
        let slow = tokio::spawn(get(addr, "/slow"));
        app.handler.entered.notified().await;
        stop.send(()).unwrap();
        // New connections are refused once the listener is gone; wait for
        // that rather than sleeping.
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
        assert!(!server.is_finished());
        app.handler.release.notify_one();
        let (status, _, body) = slow.await.unwrap();
        assert_eq!((status, &body[..]), (StatusCode::OK, &b"done"[..]));
        server.await.unwrap().unwrap();
        assert_eq!(
            *app.handler.seen.lock().unwrap(),
            [("/slow".to_owned(), 200)]
        );
    }

    #[tokio::test]
    async fn builtins_metrics_and_abandoned_requests() {
        let (addr, app, stop, server) = start().await;
        let (status, headers, body) = get(addr, "/healthz").await;
        assert_eq!((status, &body[..]), (StatusCode::OK, &b"ok\n"[..]));
        assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
        let (status, ..) = request(addr, Method::POST, "/healthz", Bytes::new()).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        let (status, ..) = get(addr, "/x?y=1").await;
        assert_eq!(status, StatusCode::OK);

        // A client that gives up on /slow is recorded as 499.
        let abandoned = tokio::spawn(get(addr, "/slow"));
        app.handler.entered.notified().await;
        abandoned.abort();
        while app.http.in_flight.get() != 0 {
            tokio::task::yield_now().await;
        }

        // Garbage on the wire does not hurt the server.
        let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut raw, b"NOT HTTP AT ALL\r\n\r\n")
            .await
            .unwrap();
        let mut reply = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut raw, &mut reply)
            .await
            .unwrap();
        assert!(
            reply.starts_with(b"HTTP/1.1 400"),
            "{}",
            String::from_utf8_lossy(&reply)
        );

        let (_, headers, body) = get(addr, "/metrics").await;
        assert_eq!(
            headers[header::CONTENT_TYPE],
            super::super::prom::CONTENT_TYPE
        );
        let text = String::from_utf8(body.to_vec()).unwrap();
        for line in [
            "http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1",
            "http_requests_total{route=\"/healthz\",method=\"POST\",status=\"405\"} 1",
            "http_requests_total{route=\"other\",method=\"GET\",status=\"200\"} 1",
            "http_requests_total{route=\"/slow\",method=\"GET\",status=\"499\"} 1",
            "http_request_duration_seconds_count{route=\"other\"} 1",
            "http_requests_in_flight 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert_eq!(
            *app.handler.seen.lock().unwrap(),
            [("/x?y=1".to_owned(), 200), ("/slow".to_owned(), 499)]
        );
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
