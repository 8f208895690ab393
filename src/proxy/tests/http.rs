//! The `http` proxy and the control API over real sockets.

use std::convert::Infallible;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};

use super::*;
use crate::proxy::http::head::{Body, parse_response};

/// A tiny HTTP upstream: answers every request with its path, keep-alive.
async fn http_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let path = req.uri().path().to_owned();
                    let _ = req.into_body().collect().await;
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(path))))
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A keep-alive client speaking raw HTTP/1.1.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    /// Sends raw bytes and reads one response: `Some((status, body))`, or
    /// `None` when the connection closed (or reset) first.
    async fn exchange(&mut self, request: &[u8]) -> Option<(u16, String)> {
        self.stream.write_all(request).await.ok()?;
        self.response().await
    }

    async fn get(&mut self, path: &str) -> Option<(u16, String)> {
        self.exchange(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .await
    }

    async fn response(&mut self) -> Option<(u16, String)> {
        loop {
            if let Some(head) = parse_response(&self.buf, 1 << 16, false).unwrap() {
                let len = match head.body {
                    Body::Length(n) => usize::try_from(n).unwrap(),
                    Body::None => 0,
                    other => panic!("unexpected framing {other:?}"),
                };
                while self.buf.len() < head.len + len {
                    self.fill().await?;
                }
                let body =
                    String::from_utf8_lossy(&self.buf[head.len..head.len + len]).into_owned();
                self.buf.drain(..head.len + len);
                return Some((head.status, body));
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Option<()> {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) => None,
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Some(())
            }
            Err(elapsed) => panic!("no response within 5s: {elapsed}"),
        }
    }
}

#[tokio::test]
async fn passes_requests_through_with_keep_alive_and_pipelining() {
    let h = Harness::default().await;
    let addr = h.proxy("web", http_upstream().await, Protocol::Http).await;
    let mut c = Client::connect(addr).await;
    assert_eq!(c.get("/a").await, Some((200, "/a".into())));
    assert_eq!(c.get("/b").await, Some((200, "/b".into())));
    let post =
        b"POST /p HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    assert_eq!(c.exchange(post).await, Some((200, "/p".into())));
    let two = b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n";
    assert_eq!(c.exchange(two).await, Some((200, "/1".into())));
    assert_eq!(c.response().await, Some((200, "/2".into())));
    let text = h.server.metrics();
    assert!(
        text.contains("understudy_proxy_http_requests_total{proxy=\"web\",status=\"200\"} 5"),
        "{text}"
    );
    assert!(text.contains("understudy_proxy_connections_total{proxy=\"web\"} 1"));
}

#[tokio::test]
async fn status_for_every_request_then_for_a_seeded_share() {
    let h = Harness::default().await;
    let addr = h.proxy("st", http_upstream().await, Protocol::Http).await;
    let all = h
        .fault(
            "st",
            json!({"kind": "http-status", "params": {"status": 503}}),
        )
        .await;
    let mut c = Client::connect(addr).await;
    for _ in 0..5 {
        assert_eq!(c.get("/x").await.map(|r| r.0), Some(503));
    }
    h.remove("st", all).await;
    h.fault(
        "st",
        json!({"kind": "http-status", "toxicity": "30%", "params": {"status": "503"}}),
    )
    .await;
    let mut failed = 0;
    for _ in 0..200 {
        match c.get("/y").await.map(|r| r.0) {
            Some(503) => failed += 1,
            Some(200) => {}
            other => panic!("{other:?}"),
        }
    }
    // 30 % of 200 is 60; more than four standard deviations either side fails.
    assert!((35..=85).contains(&failed), "{failed}");
}

#[tokio::test]
async fn abort_closes_mid_request() {
    let h = Harness::default().await;
    let addr = h.proxy("ab", http_upstream().await, Protocol::Http).await;
    h.fault("ab", json!({"kind": "http-abort"})).await;
    let mut c = Client::connect(addr).await;
    assert_eq!(c.get("/x").await, None);
    let text = h.server.metrics();
    assert!(text.contains("understudy_proxy_fault_hits_total{proxy=\"ab\",kind=\"http-abort\"} 1"));
}

#[tokio::test]
async fn faults_reach_an_open_keep_alive_connection_and_sources_filter() {
    let h = Harness::default().await;
    let addr = h.proxy("ka", http_upstream().await, Protocol::Http).await;
    let mut c = Client::connect(addr).await;
    assert_eq!(c.get("/1").await.map(|r| r.0), Some(200));
    let other = h
        .fault(
            "ka",
            json!({"kind": "http-status", "sources": ["10.213.0.5"]}),
        )
        .await;
    assert_eq!(
        c.get("/2").await.map(|r| r.0),
        Some(200),
        "another client's fault"
    );
    h.remove("ka", other).await;
    let mine = h
        .fault(
            "ka",
            json!({"kind": "http-status", "params": {"status": 502}}),
        )
        .await;
    assert_eq!(c.get("/3").await.map(|r| r.0), Some(502));
    h.remove("ka", mine).await;
    assert_eq!(c.get("/4").await, Some((200, "/4".into())));
    let delay = h
        .fault(
            "ka",
            json!({"kind": "http-delay", "params": {"delay": "150ms"}}),
        )
        .await;
    let started = Instant::now();
    assert_eq!(c.get("/5").await.map(|r| r.0), Some(200));
    assert!(started.elapsed() >= Duration::from_millis(140));
    h.remove("ka", delay).await;
    h.fault(
        "ka",
        json!({"kind": "latency", "params": {"latency": "150ms"}}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(c.get("/6").await, Some((200, "/6".into())));
    assert!(
        started.elapsed() >= Duration::from_millis(140),
        "byte faults in http mode"
    );
}

#[tokio::test]
async fn malformed_requests_get_400_on_the_proxy_and_the_control_port() {
    let h = Harness::default().await;
    let addr = h.proxy("bad", http_upstream().await, Protocol::Http).await;
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ] {
        let mut c = Client::connect(addr).await;
        assert_eq!(c.exchange(garbage).await.map(|r| r.0), Some(400));
    }
    let mut huge = Client::connect(addr).await;
    let long = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(70_000));
    assert_eq!(huge.exchange(long.as_bytes()).await.map(|r| r.0), Some(431));
    let mut control = Client::connect(h.control).await;
    assert_eq!(
        control.exchange(b"GARBAGE\r\n\r\n").await.map(|r| r.0),
        Some(400)
    );
    let text = h.server.metrics();
    assert!(
        text.contains("understudy_proxy_http_bad_requests_total{proxy=\"bad\"} 4"),
        "{text}"
    );
}

#[tokio::test]
async fn a_slowloris_is_cut_off_at_the_header_timeout() {
    let h = Harness::start(Options {
        header_timeout: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    let addr = h.proxy("slow", http_upstream().await, Protocol::Http).await;
    let mut c = Client::connect(addr).await;
    let started = Instant::now();
    c.stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    c.stream.write_all(b"X-A: 1\r\n").await.unwrap();
    assert_eq!(c.response().await.map(|r| r.0), Some(408));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert_eq!(c.fill().await, None, "closed after the 408");
    // The control port closes a slow head too (its timeout here: 500 ms).
    let mut control = Client::connect(h.control).await;
    control
        .stream
        .write_all(b"GET /proxies HTTP/1.1\r\n")
        .await
        .unwrap();
    let answer = control.response().await;
    assert!(matches!(answer, None | Some((408, _))), "{answer:?}");
}

#[tokio::test]
async fn control_api_auth_and_errors() {
    let h = Harness::default().await;
    h.proxy("tcp", echo_server().await, Protocol::Tcp).await;
    let (status, _) = control_call(h.control, None, Method::GET, "/proxies", None).await;
    assert_eq!(status, 401);
    let (status, body) = control_call(h.control, Some("wrong"), Method::POST, "/reset", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["valid"][0], "Authorization: Bearer <token>");
    let (status, _) = control_call(h.control, None, Method::GET, "/nothing", None).await;
    assert_eq!(status, 401, "no route hints without a token");
    let (status, body) = control_call(h.control, None, Method::GET, "/healthz", None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = h
        .call(
            Method::POST,
            "/proxies/tcp/faults",
            Some(json!({"kind": "lag"})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unknown fault kind \"lag\"");
    assert!(
        body["valid"][0]
            .as_str()
            .unwrap()
            .starts_with("latency(latency=<duration")
    );
    let bad = json!({"kind": "latency", "params": {"latency": "soon"}});
    let (status, body) = h.call(Method::POST, "/proxies/tcp/faults", Some(bad)).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("\"soon\""),
        "{body}"
    );
    let http_on_tcp = json!({"kind": "http-abort"});
    let (status, body) = h
        .call(Method::POST, "/proxies/tcp/faults", Some(http_on_tcp))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = h
        .call(
            Method::POST,
            "/proxies/none/faults",
            Some(json!({"kind": "timeout"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = h.call(Method::DELETE, "/proxies/tcp/faults/99", None).await;
    assert_eq!(status, 404);
    let (status, body) = h.call(Method::GET, "/reset", None).await;
    assert_eq!(status, 405, "{body}");
    // Listing, reset and deletion.
    h.fault(
        "tcp",
        json!({"kind": "latency", "params": {"latency": "1ms"}}),
    )
    .await;
    h.fault("tcp", json!({"kind": "timeout"})).await;
    let (_, all) = h.call(Method::GET, "/faults", None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["proxy"], "tcp");
    assert_eq!(all[0]["params"]["latency"], "1ms");
    let (_, listed) = h.call(Method::GET, "/proxies/tcp/faults", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let (status, reset) = h.call(Method::POST, "/reset", None).await;
    assert_eq!((status, reset["removed"].as_u64()), (200, Some(2)));
    let (_, proxy) = h.call(Method::GET, "/proxies/tcp", None).await;
    assert_eq!(proxy["faults"].as_array().unwrap().len(), 0);
    let (status, _) = h.call(Method::DELETE, "/proxies/tcp", None).await;
    assert_eq!(status, 200);
    let (_, proxies) = h.call(Method::GET, "/proxies", None).await;
    assert_eq!(proxies, json!([]));
    let _ = StatusCode::OK;
}
