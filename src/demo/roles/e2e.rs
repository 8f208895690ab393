//! End-to-end tests of the shop in-process on loopback: store, api replicas
//! and gateway on ephemeral ports, the store in a temporary directory.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use serde_json::json;
use tokio::sync::Notify;

use super::access_log::{AccessLog, AccessLogWriter};
use super::config::{ApiConfig, GatewayConfig, HostPort, StoreConfig};
use super::http::{self, App, Body0, Handler};
use super::testutil::{Running, get, json, request, sample, signalled};
use super::upstream::FixedDiscover;
use super::{api, gateway, store};

async fn start_store(dir: &std::path::Path) -> Running {
    let config = StoreConfig {
        shutdown_grace: Duration::from_secs(5),
        data_dir: dir.to_owned(),
        write_latency: Duration::from_millis(1),
        fsync: false,
    };
    Running::start(|listener, stop| store::serve(config, listener, signalled(stop))).await
}

fn api_config(store: SocketAddr, workers: usize, queue: usize) -> ApiConfig {
    ApiConfig {
        shutdown_grace: Duration::from_secs(5),
        cpu: Duration::from_millis(1),
        workers,
        queue,
        store: HostPort::parse(&store.to_string()).unwrap(),
        store_timeout: Duration::from_secs(5),
        resolve_every: Duration::from_secs(1),
    }
}

/// The api as `understudy shop api` runs it (DNS discovery of an IP literal).
async fn start_api(store: SocketAddr, workers: usize, queue: usize) -> Running {
    let config = api_config(store, workers, queue);
    Running::start(|listener, stop| api::serve(config, listener, signalled(stop))).await
}

fn gateway_config(upstream: &str, resolve_every: Duration) -> GatewayConfig {
    GatewayConfig {
        shutdown_grace: Duration::from_secs(5),
        upstream: HostPort::parse(upstream).unwrap(),
        resolve_every,
        upstream_timeout: Duration::from_secs(5),
    }
}

/// An access-log sink the test can read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

async fn start_gateway(upstream: SocketAddr) -> (Running, AccessLogWriter, Captured) {
    let captured = Captured::default();
    let (log, writer) = AccessLog::spawn(captured.clone()).unwrap();
    let config = gateway_config(&upstream.to_string(), Duration::from_secs(1));
    let running =
        Running::start(|listener, stop| gateway::serve(config, log, listener, signalled(stop)))
            .await;
    (running, writer, captured)
}

async fn post_json(
    addr: SocketAddr,
    path: &str,
    body: &serde_json::Value,
) -> super::testutil::Reply {
    request(addr, Method::POST, path, body.to_string()).await
}

#[tokio::test]
async fn a_cart_and_an_order_through_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let api = start_api(store.addr, 4, 32).await;
    let (gw, writer, captured) = start_gateway(api.addr).await;
    let g = gw.addr;

    let product = get(g, "/api/products/42").await;
    assert_eq!(product.0, StatusCode::OK);
    assert_eq!(product.1["x-upstream"], api.addr.to_string().as_str());
    assert_eq!(product.1["x-request-id"].len(), 16);
    let price = json(&product)["price_cents"].as_u64().unwrap();
    assert_eq!(json(&product)["id"], 42);

    let added = post_json(
        g,
        "/api/cart/alice/items",
        &json!({"product": 42, "qty": 2}),
    )
    .await;
    assert_eq!(added.0, StatusCode::OK, "{:?}", added.2);
    assert_eq!(json(&added)["items"][0]["qty"], 2);
    assert_eq!(json(&added)["total_cents"], 2 * price);

    let order = post_json(g, "/api/orders", &json!({"user": "alice"})).await;
    assert_eq!(order.0, StatusCode::OK, "{:?}", order.2);
    let order = json(&order);
    assert_eq!(order["user"], "alice");
    assert_eq!(order["total_cents"], 2 * price);
    assert_eq!(
        order["items"],
        json!([{
            "product": 42, "name": "Tiny Lamp", "qty": 2,
            "price_cents": price, "line_cents": 2 * price
        }])
    );
    let id = order["id"].as_str().unwrap();
    let fetched = get(g, &format!("/api/orders/{id}")).await;
    assert_eq!((fetched.0, json(&fetched)), (StatusCode::OK, order.clone()));
    let cart = get(g, "/api/cart/alice").await;
    assert_eq!(
        json(&cart),
        json!({"user": "alice", "items": [], "total_cents": 0})
    );

    // Errors are JSON with the right statuses.
    let unknown = get(g, "/api/products/999").await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    assert!(json(&unknown)["error"].is_string());
    let bad = request(g, Method::POST, "/api/cart/alice/items", "{nope").await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST);
    let empty = post_json(g, "/api/orders", &json!({"user": "alice"})).await;
    assert_eq!(empty.0, StatusCode::BAD_REQUEST);
    let search = get(g, "/api/search?q=tiny+lamp").await;
    assert_eq!(json(&search)["results"][0]["id"], 42);
    assert_eq!(get(g, "/").await.0, StatusCode::OK);
    assert_eq!(get(g, "/healthz").await.0, StatusCode::OK);

    // Metrics on every tier count what happened.
    let gm = get(g, "/metrics").await.2;
    let am = get(api.addr, "/metrics").await.2;
    let sm = get(store.addr, "/metrics").await.2;
    check_metrics(&gm, &am, &sm);

    gw.stop().await;
    writer.join();
    check_access_log(&captured.lines(), id);
    api.stop().await;
    store.stop().await;
}

/// A store that holds its first request until released.
struct HeldStore {
    entered: Notify,
    release: Notify,
}

impl Handler for HeldStore {
    fn route(&self, _: &Method, _: &str) -> &'static str {
        "/kv/{key}"
    }
    async fn handle(&self, req: Request<Incoming>, _: std::net::SocketAddr) -> Response<Body0> {
        if *req.method() == Method::GET {
            self.entered.notify_one();
            self.release.notified().await;
            return http::text(StatusCode::NOT_FOUND, "no such key\n");
        }
        let mut response = Response::new(Body0::default());
        *response.status_mut() = StatusCode::NO_CONTENT;
        response
    }
}

#[tokio::test]
async fn a_full_api_answers_503_and_finishes_in_flight_work_on_shutdown() {
    let held = App::new(
        HeldStore {
            entered: Notify::new(),
            release: Notify::new(),
        },
        Arc::default(),
    );
    let app = held.clone();
    let store = Running::start(|listener, stop| async move {
        http::serve(listener, app, Duration::from_secs(5), signalled(stop)).await?;
        Ok(())
    })
    .await;
    let mut api = start_api(store.addr, 1, 0).await;
    let a = api.addr;

    let first = tokio::spawn(async move {
        request(
            a,
            Method::POST,
            "/api/cart/bob/items",
            r#"{"product":1,"qty":1}"#,
        )
        .await
    });
    held.handler.entered.notified().await; // the only worker is busy

    // (Bounded: a broken admission would queue this request forever.)
    let rejected = tokio::time::timeout(Duration::from_secs(10), get(a, "/api/products"))
        .await
        .expect("a full api must answer at once");
    assert_eq!(rejected.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(rejected.1[header::RETRY_AFTER], "1");
    assert!(json(&rejected)["error"].is_string());
    let metrics = get(a, "/metrics").await.2;
    assert_eq!(sample(&metrics, "api_rejected_total"), Some(1.0));
    assert_eq!(sample(&metrics, "api_workers_busy"), Some(1.0));
    assert_eq!(sample(&metrics, "http_requests_in_flight"), Some(1.0));

    // SIGTERM-equivalent while the first request is in flight: it finishes.
    api.signal();
    held.handler.release.notify_one();
    let (status, _, body) = first.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body:?}");
    api.join().await;
    store.stop().await;
}

#[tokio::test]
async fn the_gateway_spreads_over_replicas_and_follows_the_address_set() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let a = start_api(store.addr, 4, 32).await;
    let b = start_api(store.addr, 4, 32).await;
    let discover = FixedDiscover::new(vec![a.addr, b.addr]);
    let captured = Captured::default();
    let (log, writer) = AccessLog::spawn(captured.clone()).unwrap();
    let config = gateway_config("api:8080", Duration::from_millis(250));
    let d = Arc::new(discover.clone());
    let gw = Running::start(|listener, stop| {
        gateway::serve_with(config, d, log, listener, signalled(stop))
    })
    .await;
    let upstream_of =
        |reply: &super::testutil::Reply| reply.1["x-upstream"].to_str().unwrap().to_owned();

    let mut hits = std::collections::HashMap::<String, usize>::new();
    for _ in 0..10 {
        let reply = get(gw.addr, "/api/products/1").await;
        assert_eq!(reply.0, StatusCode::OK);
        *hits.entry(upstream_of(&reply)).or_default() += 1;
    }
    assert_eq!(hits[&a.addr.to_string()], 5);
    assert_eq!(hits[&b.addr.to_string()], 5);

    // A third replica appears: it gets traffic within about a second.
    let c = start_api(store.addr, 4, 32).await;
    discover.set(vec![a.addr, b.addr, c.addr]);
    let changed = Instant::now();
    loop {
        let reply = get(gw.addr, "/api/products/1").await;
        if upstream_of(&reply) == c.addr.to_string() {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_millis(1500),
            "c got no traffic"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // a and b go away: only c is used from the next resolution on.
    discover.set(vec![c.addr]);
    let changed = Instant::now();
    let mut in_a_row = 0;
    while in_a_row < 6 {
        let reply = get(gw.addr, "/api/products/1").await;
        in_a_row = if upstream_of(&reply) == c.addr.to_string() {
            in_a_row + 1
        } else {
            0
        };
        assert!(
            changed.elapsed() < Duration::from_millis(1500),
            "still sending to a or b"
        );
    }

    // Nothing to send to: 503; an address that refuses: 502 naming it.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    discover.set(Vec::new());
    while get(gw.addr, "/api/products/1").await.0 != StatusCode::SERVICE_UNAVAILABLE {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    discover.set(vec![dead]);
    let refused = loop {
        let reply = get(gw.addr, "/api/products/1").await;
        if reply.0 != StatusCode::SERVICE_UNAVAILABLE {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(refused.0, StatusCode::BAD_GATEWAY);
    assert_eq!(upstream_of(&refused), dead.to_string());

    gw.stop().await;
    writer.join();
    assert!(captured.lines().iter().any(|l| l.contains("\" 502 ")));
    for replica in [a, b, c, store] {
        replica.stop().await;
    }
}

fn series(route: &str, method: &str, status: u16) -> String {
    format!("http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}")
}

/// The counts after the cart-and-order scenario, per tier.
fn check_metrics(gm: &Bytes, am: &Bytes, sm: &Bytes) {
    for metrics in [gm, am] {
        assert_eq!(
            sample(metrics, &series("/api/orders", "POST", 200)),
            Some(1.0)
        );
        assert_eq!(
            sample(metrics, &series("/api/orders", "POST", 400)),
            Some(1.0)
        );
        assert_eq!(
            sample(metrics, &series("/api/cart/{user}/items", "POST", 200)),
            Some(1.0)
        );
        assert_eq!(
            sample(metrics, &series("/api/products/{id}", "GET", 200)),
            Some(1.0)
        );
        assert_eq!(
            sample(metrics, &series("/api/products/{id}", "GET", 404)),
            Some(1.0)
        );
        let count = "http_request_duration_seconds_count{route=\"/api/products/{id}\"}";
        assert_eq!(sample(metrics, count), Some(2.0));
    }
    assert_eq!(sample(gm, &series("/healthz", "GET", 200)), Some(1.0));
    assert_eq!(sample(am, "api_rejected_total"), Some(0.0));
    assert_eq!(sample(am, "api_workers_busy"), Some(0.0));
    // Store: cart reads (add: absent, order: found, view and empty order:
    // absent), the order read, cart and order puts, the cart delete.
    let kv = "/kv/{key}";
    assert_eq!(sample(sm, &series(kv, "GET", 404)), Some(3.0));
    assert_eq!(sample(sm, &series(kv, "GET", 200)), Some(2.0));
    assert_eq!(sample(sm, &series(kv, "PUT", 204)), Some(2.0));
    assert_eq!(sample(sm, &series(kv, "DELETE", 204)), Some(1.0));
    assert_eq!(sample(sm, "store_writes_total"), Some(3.0));
    assert_eq!(sample(sm, "store_keys"), Some(1.0));
}

/// One well-formed line per non-builtin request, in order, with its status.
fn check_access_log(lines: &[String], id: &str) {
    let expected = [
        ("GET /api/products/42 HTTP/1.1", 200),
        ("POST /api/cart/alice/items HTTP/1.1", 200),
        ("POST /api/orders HTTP/1.1", 200),
        (&*format!("GET /api/orders/{id} HTTP/1.1"), 200),
        ("GET /api/cart/alice HTTP/1.1", 200),
        ("GET /api/products/999 HTTP/1.1", 404),
        ("POST /api/cart/alice/items HTTP/1.1", 400),
        ("POST /api/orders HTTP/1.1", 400),
        ("GET /api/search?q=tiny+lamp HTTP/1.1", 200),
        ("GET / HTTP/1.1", 200),
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (line, (request, status)) in lines.iter().zip(expected) {
        assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
        let rest = line.split_once("] ").unwrap().1;
        let prefix = format!("\"{request}\" {status} ");
        assert!(rest.starts_with(&prefix), "{line}");
        let fields: Vec<&str> = rest[prefix.len()..].split(' ').collect();
        assert!(fields[0].parse::<u64>().unwrap() > 0, "{line}");
        assert_eq!(&fields[1..3], ["\"-\"", "\"-\""], "{line}");
        let seconds = fields[3];
        assert!(
            seconds.len() >= 5 && seconds.as_bytes()[seconds.len() - 4] == b'.',
            "{line}"
        );
    }
}
