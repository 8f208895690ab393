//! In-process integration tests of the proxy on 127.0.0.1 (ephemeral
//! ports): an echo server, a tiny HTTP upstream, the control API. Faults
//! are applied through the control API; a fault is in force when the API
//! answers, so nothing here sleeps to synchronise. Time bounds are loose.

mod http;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::{Options, Protocol, ProxyConfig, Server};

const TOKEN: &str = "t0ken";

/// A proxy server with its control API running.
struct Harness {
    server: Arc<Server>,
    control: SocketAddr,
    stop: CancellationToken,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Harness {
    async fn start(options: Options) -> Self {
        let server = Server::new(options);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let control = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        tokio::spawn(super::control::serve(
            listener,
            Arc::clone(&server),
            Arc::from(TOKEN),
            Duration::from_millis(500),
            stop.clone(),
        ));
        Self {
            server,
            control,
            stop,
        }
    }

    async fn default() -> Self {
        Self::start(Options {
            seed: 7,
            ..Options::default()
        })
        .await
    }

    /// Starts a proxy to `upstream`; returns its address.
    async fn proxy(&self, name: &str, upstream: SocketAddr, protocol: Protocol) -> SocketAddr {
        let (status, body) = self
            .call(
                Method::POST,
                "/proxies",
                Some(json!({"name": name, "listen": "127.0.0.1:0",
                    "upstream": upstream.to_string(), "protocol": protocol.name()})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["listen"].as_str().unwrap().parse().unwrap()
    }

    /// Adds a fault through the API; returns its id.
    async fn fault(&self, proxy: &str, spec: Value) -> u64 {
        let path = format!("/proxies/{proxy}/faults");
        let (status, body) = self.call(Method::POST, &path, Some(spec)).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_u64().unwrap()
    }

    async fn remove(&self, proxy: &str, id: u64) {
        let path = format!("/proxies/{proxy}/faults/{id}");
        let (status, body) = self.call(Method::DELETE, &path, None).await;
        assert_eq!(status, 200, "{body}");
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        control_call(self.control, Some(TOKEN), method, path, body).await
    }
}

/// One control request; the status and the body (JSON, or a JSON string).
async fn control_call(
    control: SocketAddr,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let stream = TcpStream::connect(control).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "proxy");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let bytes = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
    let response = sender
        .send_request(request.body(Full::new(bytes)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)));
    (status, value)
}

/// An echo server: every connection gets its bytes back, and its close.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    addr
}

/// Writes `msg` and reads as many bytes back; the round trip time.
async fn round_trip(stream: &mut TcpStream, msg: &[u8]) -> Duration {
    let started = Instant::now();
    stream.write_all(msg).await.unwrap();
    let mut back = vec![0u8; msg.len()];
    stream.read_exact(&mut back).await.unwrap();
    assert_eq!(back, msg);
    started.elapsed()
}

#[tokio::test]
async fn passes_bytes_exactly_both_ways() {
    let h = Harness::default().await;
    let addr = h.proxy("echo", echo_server().await, Protocol::Tcp).await;
    let data: Vec<u8> = (0..1_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let mut back = Vec::new();
    r.read_to_end(&mut back).await.unwrap();
    writer.await.unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "bytes differ");
}

#[tokio::test]
async fn latency_applies_to_open_connections_and_removal_restores() {
    let h = Harness::default().await;
    let addr = h.proxy("lat", echo_server().await, Protocol::Tcp).await;
    let mut open = TcpStream::connect(addr).await.unwrap();
    let before = round_trip(&mut open, b"ping").await;
    let id = h
        .fault(
            "lat",
            json!({"kind": "latency", "params": {"latency": "200ms", "jitter": "10ms"}}),
        )
        .await;
    let slow = round_trip(&mut open, b"ping").await;
    assert!(
        slow >= Duration::from_millis(190),
        "{slow:?} (before {before:?})"
    );
    let mut fresh = TcpStream::connect(addr).await.unwrap();
    let slow_new = round_trip(&mut fresh, b"pong").await;
    assert!(slow_new >= Duration::from_millis(190), "{slow_new:?}");
    h.remove("lat", id).await;
    let after = round_trip(&mut open, b"ping").await;
    assert!(after < Duration::from_millis(150), "{after:?}");
}

#[tokio::test]
async fn timeout_holds_then_closes() {
    let h = Harness::default().await;
    let addr = h.proxy("hold", echo_server().await, Protocol::Tcp).await;
    let id = h.fault("hold", json!({"kind": "timeout"})).await;
    let mut held = TcpStream::connect(addr).await.unwrap();
    held.write_all(b"anyone?").await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_millis(300), held.read(&mut buf)).await;
    assert!(
        read.is_err(),
        "timeout=0 holds: nothing comes back and nothing closes"
    );
    h.remove("hold", id).await;
    h.fault(
        "hold",
        json!({"kind": "timeout", "params": {"timeout": "100ms"}}),
    )
    .await;
    let mut closing = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    closing.write_all(b"anyone?").await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), closing.read(&mut buf))
        .await
        .unwrap();
    assert!(matches!(n, Ok(0) | Err(_)), "closed without data: {n:?}");
    assert!(started.elapsed() >= Duration::from_millis(90));
}

#[tokio::test]
async fn reset_peer_resets_the_client() {
    let h = Harness::default().await;
    let addr = h.proxy("rst", echo_server().await, Protocol::Tcp).await;
    h.fault(
        "rst",
        json!({"kind": "reset-peer", "params": {"timeout": "20ms"}}),
    )
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(b"hello").await;
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap();
    let err = read.expect_err("a reset, not data or a clean close");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn limit_data_closes_after_n_bytes() {
    let h = Harness::default().await;
    let addr = h.proxy("lim", echo_server().await, Protocol::Tcp).await;
    h.fault(
        "lim",
        json!({"kind": "limit-data", "params": {"bytes": "10"}}),
    )
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&[b'x'; 100]).await.unwrap();
    let mut back = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut back))
        .await
        .unwrap();
    assert_eq!(back.len(), 10);
}

#[tokio::test]
async fn bandwidth_paces_a_megabyte() {
    let h = Harness::default().await;
    let addr = h.proxy("bw", echo_server().await, Protocol::Tcp).await;
    h.fault(
        "bw",
        json!({"kind": "bandwidth", "params": {"rate": "4mb/s"}}),
    )
    .await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    let started = Instant::now();
    tokio::spawn(async move {
        w.write_all(&vec![1u8; 1 << 20]).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let mut back = Vec::new();
    r.read_to_end(&mut back).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(back.len(), 1 << 20);
    // 1 MiB at 4 MiB/s is 250 ms.
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn slow_close_delays_the_close() {
    let h = Harness::default().await;
    let addr = h.proxy("slow", echo_server().await, Protocol::Tcp).await;
    h.fault(
        "slow",
        json!({"kind": "slow-close", "params": {"delay": "300ms"}}),
    )
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    round_trip(&mut stream, b"bye").await;
    let started = Instant::now();
    stream.shutdown().await.unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(280),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_fault_for_other_sources_leaves_the_client_alone() {
    let h = Harness::default().await;
    let addr = h.proxy("src", echo_server().await, Protocol::Tcp).await;
    h.fault(
        "src",
        json!({"kind": "timeout", "sources": ["10.213.0.5/32"], "direction": "upstream"}),
    )
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let rtt = tokio::time::timeout(Duration::from_secs(2), round_trip(&mut stream, b"free")).await;
    assert!(rtt.is_ok());
    h.fault(
        "src",
        json!({"kind": "timeout", "sources": ["127.0.0.0/8"]}),
    )
    .await;
    stream.write_all(b"held").await.unwrap();
    let mut buf = [0u8; 4];
    let read = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await;
    assert!(read.is_err(), "a matching source is held");
}

#[tokio::test]
async fn thousands_of_idle_connections_are_all_served() {
    const N: usize = 2_000;
    let _ = super::raise_nofile_limit();
    let h = Harness::default().await;
    let addr = h.proxy("many", echo_server().await, Protocol::Tcp).await;
    let mut streams = Vec::with_capacity(N);
    for _ in 0..N {
        streams.push(TcpStream::connect(addr).await.unwrap());
    }
    let tasks: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            tokio::spawn(async move {
                let msg = (i as u32).to_be_bytes();
                round_trip(&mut s, &msg).await;
                s
            })
        })
        .collect();
    let mut served = Vec::with_capacity(N);
    for t in tasks {
        served.push(t.await.unwrap());
    }
    assert_eq!(served.len(), N);
    let (_, metrics) = h.call(Method::GET, "/metrics", None).await;
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains(&format!(
            "understudy_proxy_connections_active{{proxy=\"many\"}} {N}"
        )),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_count_connections_bytes_and_faults() {
    let h = Harness::default().await;
    let addr = h.proxy("m", echo_server().await, Protocol::Tcp).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    round_trip(&mut stream, b"12345").await;
    h.fault(
        "m",
        json!({"kind": "latency", "params": {"latency": "1ms"}}),
    )
    .await;
    round_trip(&mut stream, b"678").await;
    let (status, metrics) = control_call(h.control, None, Method::GET, "/metrics", None).await;
    assert_eq!(status, 200, "no token needed");
    let text = metrics.as_str().unwrap();
    for line in [
        "understudy_proxy_connections_total{proxy=\"m\"} 1",
        "understudy_proxy_connections_active{proxy=\"m\"} 1",
        "understudy_proxy_bytes_total{proxy=\"m\",direction=\"upstream\"} 8",
        "understudy_proxy_bytes_total{proxy=\"m\",direction=\"downstream\"} 8",
        "understudy_proxy_faults_active{proxy=\"m\"} 1",
        "understudy_proxy_fault_hits_total{proxy=\"m\",kind=\"latency\"} 1",
        "understudy_proxy_upstream_connect_errors_total{proxy=\"m\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
    }
    let _ = &h.server;
}

#[tokio::test]
async fn config_proxies_start_and_upstream_errors_count() {
    let h = Harness::default().await;
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let config = ProxyConfig {
        name: "dead".into(),
        listen: "127.0.0.1:0".into(),
        upstream: closed.to_string(),
        protocol: Protocol::Tcp,
    };
    h.server.add_proxy(config).await.unwrap();
    let addr = h.server.local_addr("dead").unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 1];
    let n = stream.read(&mut buf).await;
    assert!(matches!(n, Ok(0) | Err(_)));
    let text = h.server.metrics();
    assert!(
        text.contains("understudy_proxy_upstream_connect_errors_total{proxy=\"dead\"} 1"),
        "{text}"
    );
}
