//! Test fixtures: a one-shot HTTP client and a role runner on loopback.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A response as the tests look at it.
pub type Reply = (StatusCode, HeaderMap, Bytes);

/// Sends one request on a fresh connection.
pub async fn send(addr: SocketAddr, request: Request<Full<Bytes>>) -> Reply {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let response = sender.send_request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, body)
}

/// `method path` with a body.
pub async fn request(
    addr: SocketAddr,
    method: Method,
    path: &str,
    body: impl Into<Bytes>,
) -> Reply {
    let mut request = Request::new(Full::new(body.into()));
    *request.method_mut() = method;
    *request.uri_mut() = path.parse().unwrap();
    request.headers_mut().insert(
        header::HOST,
        HeaderValue::from_str(&addr.to_string()).unwrap(),
    );
    send(addr, request).await
}

pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, Method::GET, path, Bytes::new()).await
}

/// The JSON of a reply body.
pub fn json(reply: &Reply) -> serde_json::Value {
    serde_json::from_slice(&reply.2)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&reply.2)))
}

/// The value of one sample line in a `/metrics` text (`None` if absent).
pub fn sample(metrics: &Bytes, series: &str) -> Option<f64> {
    let text = std::str::from_utf8(metrics).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

/// A role serving on a loopback port until stopped.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Binds 127.0.0.1:0 and runs `serve(listener, shutdown)` in a task.
    pub async fn start<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(TcpListener, oneshot::Receiver<()>) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(serve(listener, rx));
        Self {
            addr,
            stop: Some(tx),
            task,
        }
    }

    /// Signals shutdown and waits for a clean exit.
    pub async fn stop(mut self) {
        self.signal();
        self.join().await;
    }

    /// Signals shutdown (like SIGTERM) without waiting.
    pub fn signal(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits for the role to exit and checks it exited cleanly.
    pub async fn join(self) {
        self.task.await.unwrap().unwrap();
    }
}

/// A shutdown future from a oneshot receiver (completes when sent or dropped).
pub async fn signalled(rx: oneshot::Receiver<()>) {
    let _ = rx.await;
}
