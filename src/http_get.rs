//! One HTTP/1.1 GET over plain TCP (hyper's client connection, no pool):
//! what the Prometheus range query (`traffic::prometheus`) and the
//! `/metrics` scraper (`metrics::scrape`) both need: checking the URL
//! ([`Target::parse`], also the load engine's and the demo probe's URL
//! check) and the GET itself. The body is read up to a limit;
//! the caller judges the status.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{self, HeaderValue};
use hyper::http::uri::{Authority, PathAndQuery};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why a URL is not one [`get`] can fetch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("does not parse")]
    Parse,
    #[error("https is not supported; use plain http://")]
    Https,
    /// Another scheme or none; the expected form, e.g. `http://HOST:PORT/metrics`.
    #[error("expected {0}")]
    Scheme(&'static str),
    #[error("no host")]
    NoHost,
}

/// A plain `http://` URL with a host: what [`get`] fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub authority: Authority,
    pub path: PathAndQuery,
}

impl Target {
    /// Checks `url`; `form` is the shape the caller expects, for the
    /// message of another scheme.
    pub fn parse(url: &str, form: &'static str) -> Result<Target, UrlError> {
        let uri: Uri = url.parse().map_err(|_| UrlError::Parse)?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(UrlError::Https),
            _ => return Err(UrlError::Scheme(form)),
        }
        let authority = uri.authority().ok_or(UrlError::NoHost)?.clone();
        // Always there with a scheme; `/` when the URL has no path.
        let path = uri
            .path_and_query()
            .filter(|pq| !pq.as_str().is_empty())
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        let target = Target { authority, path };
        if target.host().is_empty() {
            return Err(UrlError::NoHost);
        }
        Ok(target)
    }

    /// The host, an IPv6 literal without its brackets.
    pub fn host(&self) -> &str {
        self.authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
    }

    /// The port, 80 when the URL has none.
    pub fn port(&self) -> u16 {
        self.authority.port_u16().unwrap_or(80)
    }
}

/// Why a GET failed before there was an answer.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    #[error("resolving {host:?}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("connecting to {addr}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("HTTP exchange with {addr} failed: {message}")]
    Http { addr: String, message: String },
}

/// An answer: its status and its body (lossy UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// GETs `target` (port 80 when none), asking for `accept`, reading at most
/// `max_bytes` of body.
pub async fn get(
    target: &Target,
    accept: &'static str,
    max_bytes: usize,
) -> Result<Answer, GetError> {
    let authority = &target.authority;
    let (host, port) = (target.host(), target.port());
    let addr = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| GetError::Resolve {
            host: host.to_owned(),
            source,
        })?
        .next()
        .ok_or_else(|| GetError::Resolve {
            host: host.to_owned(),
            source: std::io::Error::other("no addresses"),
        })?;
    let http_err = |e: &dyn std::fmt::Display| GetError::Http {
        addr: addr.to_string(),
        message: e.to_string(),
    };
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| GetError::Connect {
            addr: addr.to_string(),
            source,
        })?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| http_err(&e))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut request = Request::new(Empty::<Bytes>::new());
    *request.uri_mut() = target.path.clone().into();
    let headers = request.headers_mut();
    if let Ok(h) = HeaderValue::from_str(authority.as_str()) {
        headers.insert(header::HOST, h);
    }
    headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
    headers.insert(header::USER_AGENT, HeaderValue::from_static("understudy"));
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| http_err(&e))?;
    let status = response.status().as_u16();
    let body = Limited::new(response.into_body(), max_bytes)
        .collect()
        .await
        .map_err(|e| http_err(&e))?
        .to_bytes();
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A loopback server for tests: answers every request with 200 and `body`.
#[cfg(test)]
pub async fn serve_for_tests(body: &'static str) -> std::net::SocketAddr {
    use hyper::service::service_fn;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = service_fn(move |_req| async move {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(
                        http_body_util::Full::new(Bytes::from_static(body.as_bytes())),
                    ))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_gives_host_port_and_path() {
        let t = Target::parse("http://127.0.0.1:8080/api/x?q=1", "").unwrap();
        assert_eq!((t.host(), t.port()), ("127.0.0.1", 8080));
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("127.0.0.1:8080", "/api/x?q=1")
        );
        let t = Target::parse("http://[::1]", "").unwrap();
        assert_eq!((t.host(), t.port(), t.path.as_str()), ("::1", 80, "/"));
    }

    #[test]
    fn bad_urls_say_why() {
        let cases = [
            ("https://x/", UrlError::Https),
            ("ftp://x", UrlError::Scheme("http://HOST")),
            ("127.0.0.1:80", UrlError::Scheme("http://HOST")),
            ("http://", UrlError::Parse),
            ("not a url", UrlError::Parse),
        ];
        for (url, want) in cases {
            assert_eq!(Target::parse(url, "http://HOST"), Err(want), "{url}");
        }
    }
}
