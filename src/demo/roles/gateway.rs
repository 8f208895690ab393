//! The `gateway` role: the shop's entry. `/api/*` is forwarded to the
//! upstream (`GATEWAY_UPSTREAM`, re-resolved every `GATEWAY_RESOLVE_EVERY`,
//! round-robin over every address, keep-alive pools); `GET /` lists the
//! routes. Every request except `/healthz` and `/metrics` gets one line in
//! the access log (so health probes and scrapes don't pollute captured
//! traffic).
//!
//! Forwarding keeps method, path and query, body, and headers minus the
//! hop-by-hop ones; it adds `x-request-id` when absent and appends the
//! client to `x-forwarded-for`. Responses carry `x-upstream: ip:port`.
//! Upstream timeout is 504, connect failure or reset 502, no addresses 503.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri, Version};
use tokio::net::TcpListener;

use super::access_log::{AccessLog, AccessRecord, format_line};
use super::api;
use super::config::GatewayConfig;
use super::http::{self, App, Body0, Exchange, Handler};
use super::prom::Registry;
use super::upstream::{Discover, DnsDiscover, Outgoing, Upstream, UpstreamError};
use crate::dns::Resolver;

const MAX_BODY: usize = 1024 * 1024;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static X_UPSTREAM: HeaderName = HeaderName::from_static("x-upstream");
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Headers that describe one connection, never forwarded (RFC 9110 7.6.1).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers, including those `Connection` names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// `x-forwarded-for` with `client` appended.
pub fn forwarded_for(existing: Option<&HeaderValue>, client: IpAddr) -> HeaderValue {
    let value = match existing.and_then(|v| v.to_str().ok()) {
        Some(before) if !before.trim().is_empty() => format!("{before}, {client}"),
        _ => client.to_string(),
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// The route template of a gateway request (api templates under `/api/`).
pub fn route_template(path: &str) -> &'static str {
    if path == "/" {
        "/"
    } else if path.starts_with("/api/") {
        match api::Route::parse(path) {
            api::Route::Unknown => "/api/{other}",
            route => route.template(),
        }
    } else {
        "unmatched"
    }
}

/// The status and text for an upstream failure.
pub fn failure_status(error: &UpstreamError) -> StatusCode {
    match error {
        UpstreamError::NoAddresses { .. } => StatusCode::SERVICE_UNAVAILABLE,
        UpstreamError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        UpstreamError::Connect { .. } | UpstreamError::Failed { .. } => StatusCode::BAD_GATEWAY,
    }
}

/// The access-log record of an exchange finished at `time`.
pub fn access_record(exchange: &Exchange, time: time::OffsetDateTime) -> AccessRecord<'_> {
    AccessRecord {
        remote: exchange.peer.ip(),
        time,
        method: exchange.method.as_str(),
        target: exchange.target.as_bytes(),
        protocol: match exchange.version {
            Version::HTTP_09 => "HTTP/0.9",
            Version::HTTP_10 => "HTTP/1.0",
            Version::HTTP_2 => "HTTP/2.0",
            _ => "HTTP/1.1",
        },
        status: exchange.status,
        body_bytes: exchange.body_bytes,
        referer: exchange.referer.as_ref().map(HeaderValue::as_bytes),
        user_agent: exchange.user_agent.as_ref().map(HeaderValue::as_bytes),
        request_time: exchange.elapsed,
    }
}

fn index(upstream: &str) -> String {
    format!(
        "understudy shop gateway (upstream {upstream})\n\n\
         GET  /api/products\n\
         GET  /api/products/{{id}}\n\
         GET  /api/search?q=...\n\
         GET  /api/cart/{{user}}\n\
         POST /api/cart/{{user}}/items   {{\"product\":ID,\"qty\":N}}\n\
         POST /api/orders               {{\"user\":\"...\"}}\n\
         GET  /api/orders/{{id}}\n\
         GET  /healthz\n\
         GET  /metrics\n"
    )
}

struct Gateway {
    upstream: Arc<Upstream>,
    upstream_name: String,
    access_log: AccessLog,
}

impl Handler for Gateway {
    fn route(&self, _method: &Method, path: &str) -> &'static str {
        route_template(path)
    }

    async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Body0> {
        let path = req.uri().path();
        if path.starts_with("/api/") {
            return self.forward(req, peer).await;
        }
        match (path, req.method()) {
            ("/", &Method::GET | &Method::HEAD) => {
                http::text(StatusCode::OK, index(&self.upstream_name))
            }
            ("/", _) => http::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
            _ => http::text(StatusCode::NOT_FOUND, "not found; see /\n"),
        }
    }

    fn completed(&self, exchange: &Exchange) {
        let now = time::OffsetDateTime::now_utc();
        self.access_log
            .write(format_line(&access_record(exchange, now)));
    }
}

impl Gateway {
    async fn forward(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Body0> {
        let (parts, body) = req.into_parts();
        let body = match http::read_body(body, MAX_BODY).await {
            Ok(body) => body,
            Err(e @ http::BodyError::TooLarge { .. }) => {
                return http::text(StatusCode::PAYLOAD_TOO_LARGE, format!("{e}\n"));
            }
            Err(e) => return http::text(StatusCode::BAD_REQUEST, format!("{e}\n")),
        };
        let mut headers = parts.headers;
        strip_hop_by_hop(&mut headers);
        // The body is already here: the upstream need not invite it.
        headers.remove(header::EXPECT);
        let request_id = headers.get(&X_REQUEST_ID).cloned().unwrap_or_else(|| {
            let id = HeaderValue::from_str(&format!("{:016x}", http::random_u64()))
                .unwrap_or_else(|_| HeaderValue::from_static("0"));
            headers.insert(X_REQUEST_ID.clone(), id.clone());
            id
        });
        let xff = forwarded_for(headers.get(&X_FORWARDED_FOR), peer.ip());
        headers.insert(X_FORWARDED_FOR.clone(), xff);
        let target = parts
            .uri
            .path_and_query()
            .and_then(|pq| pq.as_str().parse::<Uri>().ok())
            .unwrap_or_else(|| Uri::from_static("/"));
        let out = Outgoing {
            method: parts.method,
            target,
            headers,
            body,
        };
        let mut response = match self.upstream.send(out).await {
            Ok(reply) => {
                let (mut parts, body) = reply.response.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                set_upstream(&mut parts.headers, reply.addr);
                Response::from_parts(parts, Full::new(body))
            }
            Err(error) => {
                tracing::warn!(%error, "upstream failure");
                let mut response = http::text(failure_status(&error), format!("{error}\n"));
                if let Some(addr) = error.addr() {
                    set_upstream(response.headers_mut(), addr);
                }
                response
            }
        };
        response
            .headers_mut()
            .entry(X_REQUEST_ID.clone())
            .or_insert(request_id);
        response
    }
}

fn set_upstream(headers: &mut HeaderMap, addr: SocketAddr) {
    if let Ok(value) = HeaderValue::from_str(&addr.to_string()) {
        headers.insert(X_UPSTREAM.clone(), value);
    }
}

/// Serves with the upstream found through DNS (`GATEWAY_UPSTREAM`).
pub async fn serve(
    config: GatewayConfig,
    access_log: AccessLog,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let discover = Arc::new(DnsDiscover {
        resolver: Resolver::system(),
        target: config.upstream.clone(),
    });
    serve_with(config, discover, access_log, listener, shutdown).await
}

/// Serves with an injected discovery of the upstream's addresses.
pub async fn serve_with(
    config: GatewayConfig,
    discover: Arc<dyn Discover>,
    access_log: AccessLog,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let name = config.upstream.to_string();
    let upstream = Upstream::start(
        name.clone(),
        discover,
        config.resolve_every,
        config.upstream_timeout,
    )
    .await;
    let gateway = Gateway {
        upstream,
        upstream_name: name,
        access_log,
    };
    let app = App::new(gateway, Arc::new(Registry::default()));
    http::serve(listener, app, config.shutdown_grace, shutdown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::demo::roles::http::CLIENT_CLOSED;

    #[test]
    fn strips_hop_by_hop_and_connection_named_headers() {
        let mut headers = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, X-Secret"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("te", "trailers"),
            ("x-secret", "1"),
            ("content-type", "application/json"),
            ("x-request-id", "abc"),
        ] {
            headers.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["content-type", "x-request-id"]);
    }

    #[test]
    fn forwarded_for_appends() {
        let client: IpAddr = "172.18.0.1".parse().unwrap();
        assert_eq!(forwarded_for(None, client), "172.18.0.1");
        let before = HeaderValue::from_static("10.0.0.1");
        assert_eq!(forwarded_for(Some(&before), client), "10.0.0.1, 172.18.0.1");
    }

    #[test]
    fn routes_are_bounded_templates() {
        assert_eq!(route_template("/"), "/");
        assert_eq!(route_template("/api/products/7"), "/api/products/{id}");
        assert_eq!(
            route_template("/api/cart/bob/items"),
            "/api/cart/{user}/items"
        );
        assert_eq!(route_template("/api/whatever/1/2"), "/api/{other}");
        assert_eq!(route_template("/favicon.ico"), "unmatched");
    }

    #[test]
    fn failures_map_to_statuses() {
        let addr: SocketAddr = "10.0.0.1:8080".parse().unwrap();
        let none = UpstreamError::NoAddresses {
            upstream: "api:8080".into(),
        };
        let slow = UpstreamError::Timeout {
            addr,
            after: Duration::from_secs(2),
        };
        let refused = UpstreamError::Connect {
            addr,
            source: std::io::ErrorKind::ConnectionRefused.into(),
        };
        assert_eq!(failure_status(&none), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(failure_status(&slow), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(failure_status(&refused), StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn access_records_come_from_exchanges() {
        let exchange = Exchange {
            peer: "172.18.0.1:51234".parse().unwrap(),
            method: Method::POST,
            target: "/api/orders".into(),
            version: Version::HTTP_10,
            referer: Some(HeaderValue::from_static("http://shop/")),
            user_agent: None,
            route: "/api/orders",
            status: CLIENT_CLOSED,
            body_bytes: 0,
            elapsed: Duration::from_millis(1500),
        };
        let line = format_line(&access_record(
            &exchange,
            time::macros::datetime!(2026-11-27 10:00:00 UTC),
        ));
        assert_eq!(
            line,
            "172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] \"POST /api/orders HTTP/1.0\" 499 0 \"http://shop/\" \"-\" 1.500"
        );
    }

    #[test]
    fn the_index_lists_routes() {
        let page = index("api:8080");
        assert!(page.contains("POST /api/cart/{user}/items"));
        assert!(page.contains("(upstream api:8080)"));
    }
}
