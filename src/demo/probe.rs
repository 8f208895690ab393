//! The HTTP health probe behind `understudy probe URL`: the exec-form
//! healthcheck of the demo's `FROM scratch` containers (no shell, no curl).
//!
//! GETs the URL and exits 0 on a 2xx answer within the timeout; otherwise it
//! prints one line to stderr and exits 1. The host must be an IP literal
//! (`http://127.0.0.1:8080/healthz`): a healthcheck should not depend on DNS.
//!
//! `tcp://HOST:PORT` only connects (readiness of services without a
//! healthcheck, and isolation probes from inside a shadow); HOST may be a
//! name, resolved with the built-in DNS client (a scratch image has no libc
//! resolver).

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::domain::units::format_duration;

/// Why a probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("invalid URL: {0}")]
    BadUrl(String),
    #[error("connecting to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("HTTP exchange failed: {0}")]
    Http(#[from] hyper::Error),
    #[error("no answer within {}", format_duration(*.0))]
    Timeout(Duration),
    #[error("answered {0}")]
    Status(StatusCode),
    #[error("resolving {host:?}: {message}")]
    Resolve { host: String, message: String },
}

/// Connects to `tcp://HOST:PORT` within `timeout`.
pub async fn check_tcp(url: &str, timeout: Duration) -> Result<SocketAddr, ProbeError> {
    let bad = |reason: &str| ProbeError::BadUrl(format!("{url:?}: {reason}"));
    let rest = url
        .strip_prefix("tcp://")
        .ok_or_else(|| bad("expected tcp://HOST:PORT"))?;
    let (host, port) = rest.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    let port: u16 = port.parse().map_err(|_| bad("the port is not a number"))?;
    let connect = async {
        let ips = crate::dns::resolve_ipv4(host)
            .await
            .map_err(|e| ProbeError::Resolve {
                host: host.to_owned(),
                message: e.to_string(),
            })?;
        let ip = ips.first().copied().ok_or_else(|| ProbeError::Resolve {
            host: host.to_owned(),
            message: "no addresses".to_owned(),
        })?;
        let addr = SocketAddr::from((ip, port));
        TcpStream::connect(addr)
            .await
            .map(|_| addr)
            .map_err(|source| ProbeError::Connect { addr, source })
    };
    tokio::time::timeout(timeout, connect)
        .await
        .map_err(|_| ProbeError::Timeout(timeout))?
}

/// Where to connect and what to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: SocketAddr,
    /// The `Host` header value.
    pub authority: String,
    /// Path and query.
    pub path: String,
}

/// Parses `http://IP[:port][/path]` (the checks of
/// [`crate::http_get::Target::parse`], and an IP literal for a host).
pub fn parse_url(url: &str) -> Result<Target, ProbeError> {
    let bad = |reason: &str| ProbeError::BadUrl(format!("{url:?}: {reason}"));
    let parsed = crate::http_get::Target::parse(url, "http://IP:PORT/path")
        .map_err(|e| bad(&e.to_string()))?;
    let ip: IpAddr = parsed
        .host()
        .parse()
        .map_err(|_| bad("the host must be an IP literal"))?;
    Ok(Target {
        addr: SocketAddr::new(ip, parsed.port()),
        authority: parsed.authority.as_str().to_owned(),
        path: parsed.path.as_str().to_owned(),
    })
}

/// GETs `url`; Ok with the status when it is 2xx.
pub async fn check(url: &str, timeout: Duration) -> Result<StatusCode, ProbeError> {
    let target = parse_url(url)?;
    let status = tokio::time::timeout(timeout, get(&target))
        .await
        .map_err(|_| ProbeError::Timeout(timeout))??;
    if status.is_success() {
        Ok(status)
    } else {
        Err(ProbeError::Status(status))
    }
}

async fn get(target: &Target) -> Result<StatusCode, ProbeError> {
    let stream = TcpStream::connect(target.addr)
        .await
        .map_err(|source| ProbeError::Connect {
            addr: target.addr,
            source,
        })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut request = Request::new(Empty::<Bytes>::new());
    *request.uri_mut() = target
        .path
        .parse()
        .map_err(|_| ProbeError::BadUrl(format!("{:?}: bad path", target.path)))?;
    let headers = request.headers_mut();
    if let Ok(host) = HeaderValue::from_str(&target.authority) {
        headers.insert(header::HOST, host);
    }
    headers.insert(
        header::USER_AGENT,
        HeaderValue::from_static("understudy-probe"),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    let response = sender.send_request(request).await?;
    Ok(response.status())
}

/// Runs the probe: exit 0 on 2xx within `timeout`, else one line on stderr
/// and exit 1.
pub async fn run(url: &str, timeout: Duration) -> ExitCode {
    let result = if url.starts_with("tcp://") {
        check_tcp(url, timeout).await.map(|_| ())
    } else {
        check(url, timeout).await.map(|_| ())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("probe {url}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn parses_ip_literal_urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/healthz").unwrap(),
            Target {
                addr: "127.0.0.1:8080".parse().unwrap(),
                authority: "127.0.0.1:8080".into(),
                path: "/healthz".into(),
            }
        );
        let v6 = parse_url("http://[::1]/x?y=1").unwrap();
        assert_eq!(v6.addr, "[::1]:80".parse().unwrap());
        assert_eq!(v6.path, "/x?y=1");
        assert_eq!(parse_url("http://10.0.0.1").unwrap().path, "/");
        for bad in [
            "https://127.0.0.1/",
            "http://localhost:8080/healthz",
            "127.0.0.1:8080",
            "",
        ] {
            let e = parse_url(bad).unwrap_err();
            assert!(matches!(e, ProbeError::BadUrl(_)), "{bad}: {e}");
        }
    }

    /// Answers every connection with `reply` after reading the request head
    /// (or never, if `reply` is empty); returns the URL.
    async fn server(reply: &'static [u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 512];
                    while !head.ends_with(b"\r\n\r\n") {
                        let n = stream.read(&mut buf).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        head.extend_from_slice(&buf[..n]);
                    }
                    assert!(head.starts_with(b"GET /healthz HTTP/1.1\r\n"));
                    if reply.is_empty() {
                        std::future::pending::<()>().await;
                    }
                    stream.write_all(reply).await.unwrap();
                });
            }
        });
        format!("http://{addr}/healthz")
    }

    #[tokio::test]
    async fn tcp_probes_connect_or_fail() {
        let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("tcp://{}", open.local_addr().unwrap());
        assert_eq!(run(&url, Duration::from_secs(2)).await, ExitCode::SUCCESS);
        let localhost = format!("tcp://localhost:{}", open.local_addr().unwrap().port());
        assert!(check_tcp(&localhost, Duration::from_secs(2)).await.is_ok());
        drop(open);
        assert_eq!(run(&url, Duration::from_secs(2)).await, ExitCode::FAILURE);
        let e = check_tcp("tcp://127.0.0.1", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no port"), "{e}");
    }

    #[tokio::test]
    async fn two_hundred_is_healthy() {
        let url = server(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n").await;
        assert_eq!(
            check(&url, Duration::from_secs(5)).await.unwrap(),
            StatusCode::OK
        );
        assert_eq!(run(&url, Duration::from_secs(5)).await, ExitCode::SUCCESS);
    }

    #[tokio::test]
    async fn errors_refusals_and_silence_are_unhealthy() {
        let url = server(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n").await;
        let e = check(&url, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(e.to_string(), "answered 503 Service Unavailable");
        assert_eq!(run(&url, Duration::from_secs(5)).await, ExitCode::FAILURE);

        let silent = server(b"").await;
        let e = check(&silent, Duration::from_millis(100))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "no answer within 100ms");

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/healthz", closed.local_addr().unwrap());
        drop(closed);
        let e = check(&url, Duration::from_secs(5)).await.unwrap_err();
        assert!(matches!(e, ProbeError::Connect { .. }), "{e}");
    }
}
