//! The control API: HTTP/1.1 JSON on its own listener (loopback or the
//! shadow's internal network). Every route but `GET /healthz` and
//! `GET /metrics` needs `Authorization: Bearer <token>` (compared in
//! constant time); errors are `{"error": "...", "valid": [...]}`.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /proxies`, `POST /proxies` | list, create (`{"name","listen","upstream","protocol"}`) |
//! | `GET`, `DELETE /proxies/{name}` | show (with faults), remove |
//! | `GET`, `POST /proxies/{name}/faults` | list, add (a `FaultSpecWire`) -> `{"id": N}` |
//! | `DELETE /proxies/{name}/faults/{id}` | remove one fault |
//! | `POST /reset` | remove every fault |
//! | `GET /faults` | every fault with its proxy |
//!
//! Routing ([`route`]) and the token check ([`authorized`]) are pure; hyper
//! parses the requests (malformed ones get its 400), with a header read
//! timeout and a small head cap against slowloris.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::config::ProxyConfig;
use super::model::{FaultError, FaultKind, FaultSpec, FaultSpecWire};
use super::server::{Server, ServerError};

/// The largest request body accepted.
const BODY_LIMIT: usize = 64 * 1024;
/// hyper's read buffer cap, which bounds a request head (its minimum).
const HEAD_LIMIT: usize = 16 * 1024;

/// A control request, routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    Metrics,
    ListProxies,
    CreateProxy,
    GetProxy(String),
    DeleteProxy(String),
    ListFaults(String),
    AddFault(String),
    RemoveFault(String, u64),
    Reset,
    AllFaults,
}

/// Why a request has no route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("no route for {0:?}")]
    NotFound(String),
    #[error("method {method} not allowed on {path:?}")]
    Method {
        method: String,
        path: String,
        allowed: &'static [&'static str],
    },
    #[error("invalid fault id {0:?}: expected a number")]
    BadId(String),
}

/// Every route, for 404 answers.
pub const ROUTES: [&str; 11] = [
    "GET /healthz",
    "GET /metrics",
    "GET /proxies",
    "POST /proxies",
    "GET /proxies/{name}",
    "DELETE /proxies/{name}",
    "GET /proxies/{name}/faults",
    "POST /proxies/{name}/faults",
    "DELETE /proxies/{name}/faults/{id}",
    "POST /reset",
    "GET /faults",
];

/// Maps a method and path to a route.
pub fn route(method: &Method, path: &str) -> Result<Route, RouteError> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let m = method.as_str();
    let wrong = |allowed: &'static [&'static str]| RouteError::Method {
        method: m.to_owned(),
        path: path.to_owned(),
        allowed,
    };
    let name = |s: &str| s.to_owned();
    match (segments.as_slice(), m) {
        (["healthz"], "GET") => Ok(Route::Health),
        (["faults"], "GET") => Ok(Route::AllFaults),
        (["metrics"], "GET") => Ok(Route::Metrics),
        (["healthz" | "metrics" | "faults"], _) => Err(wrong(&["GET"])),
        (["proxies"], "GET") => Ok(Route::ListProxies),
        (["proxies"], "POST") => Ok(Route::CreateProxy),
        (["proxies", p, "faults"], "GET") => Ok(Route::ListFaults(name(p))),
        (["proxies", p, "faults"], "POST") => Ok(Route::AddFault(name(p))),
        (["proxies"] | ["proxies", _, "faults"], _) => Err(wrong(&["GET", "POST"])),
        (["proxies", p], "GET") => Ok(Route::GetProxy(name(p))),
        (["proxies", p], "DELETE") => Ok(Route::DeleteProxy(name(p))),
        (["proxies", _], _) => Err(wrong(&["GET", "DELETE"])),
        (["proxies", p, "faults", id], "DELETE") => id
            .parse()
            .map(|id| Route::RemoveFault(name(p), id))
            .map_err(|_| RouteError::BadId((*id).to_owned())),
        (["proxies", _, "faults", _], _) => Err(wrong(&["DELETE"])),
        (["reset"], "POST") => Ok(Route::Reset),
        (["reset"], _) => Err(wrong(&["POST"])),
        _ => Err(RouteError::NotFound(path.to_owned())),
    }
}

/// Whether a route is open without a token.
pub fn is_public(route: &Route) -> bool {
    matches!(route, Route::Health | Route::Metrics)
}

/// Whether an `Authorization` header carries `token` as a bearer token.
/// Compares digests, so the time taken says nothing about the token.
pub fn authorized(header: Option<&HeaderValue>, token: &str) -> bool {
    let presented = header
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, t)| t.trim());
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(token.as_bytes());
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0 && !presented.is_empty()
}

fn respond(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn error(
    status: StatusCode,
    message: impl std::fmt::Display,
    valid: &[String],
) -> Response<Full<Bytes>> {
    respond(
        status,
        &json!({ "error": message.to_string(), "valid": valid }),
    )
}

fn fault_error(e: &FaultError) -> Response<Full<Bytes>> {
    error(StatusCode::BAD_REQUEST, e, &e.valid())
}

fn server_error(e: &ServerError) -> Response<Full<Bytes>> {
    let status = match e {
        ServerError::Config(_) | ServerError::NeedsHttp { .. } => StatusCode::BAD_REQUEST,
        ServerError::Exists(_) | ServerError::Bind { .. } => StatusCode::CONFLICT,
        ServerError::NoProxy(_) | ServerError::NoFault { .. } => StatusCode::NOT_FOUND,
    };
    let valid = match e {
        ServerError::NeedsHttp { .. } => FaultKind::ALL
            .iter()
            .filter(|k| !k.is_http())
            .map(|k| k.describe())
            .collect(),
        _ => Vec::new(),
    };
    error(status, e, &valid)
}

fn route_error(e: &RouteError) -> Response<Full<Bytes>> {
    match e {
        RouteError::NotFound(_) => error(StatusCode::NOT_FOUND, e, &ROUTES.map(str::to_owned)),
        RouteError::Method { allowed, .. } => {
            let mut r = error(
                StatusCode::METHOD_NOT_ALLOWED,
                e,
                &allowed.iter().map(|m| (*m).to_owned()).collect::<Vec<_>>(),
            );
            if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                r.headers_mut().insert(header::ALLOW, v);
            }
            r
        }
        RouteError::BadId(_) => error(StatusCode::BAD_REQUEST, e, &[]),
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    body: Incoming,
) -> Result<T, Response<Full<Bytes>>> {
    let bytes = match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let message = format!("reading the body (at most {BODY_LIMIT} bytes): {e}");
            return Err(error(StatusCode::BAD_REQUEST, message, &[]));
        }
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid JSON: {e}"), &[]))
}

fn to_value(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Answers one control request.
pub async fn handle(server: &Server, token: &str, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let route = match route(req.method(), req.uri().path()) {
        Ok(route) => route,
        Err(e) if authorized(req.headers().get(header::AUTHORIZATION), token) => {
            return route_error(&e);
        }
        Err(_) => return unauthorized(),
    };
    if !is_public(&route) && !authorized(req.headers().get(header::AUTHORIZATION), token) {
        return unauthorized();
    }
    let ok = |value: Value| respond(StatusCode::OK, &value);
    match route {
        Route::Health => ok(json!({ "status": "ok" })),
        Route::Metrics => {
            let mut r = Response::new(Full::new(Bytes::from(server.metrics())));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(super::metrics::CONTENT_TYPE),
            );
            r
        }
        Route::ListProxies => ok(to_value(&server.proxies())),
        Route::CreateProxy => match read_json::<ProxyConfig>(req.into_body()).await {
            Ok(config) => match server.add_proxy(config).await {
                Ok(info) => respond(StatusCode::CREATED, &to_value(&info)),
                Err(e) => server_error(&e),
            },
            Err(r) => r,
        },
        Route::GetProxy(name) => server
            .proxy(&name)
            .map_or_else(|e| server_error(&e), |p| ok(to_value(&p))),
        Route::DeleteProxy(name) => match server.remove_proxy(&name).await {
            Ok(()) => ok(json!({ "deleted": name })),
            Err(e) => server_error(&e),
        },
        Route::ListFaults(name) => match server.faults(Some(&name)) {
            Ok(faults) => ok(to_value(
                &faults.into_iter().map(|f| f.fault).collect::<Vec<_>>(),
            )),
            Err(e) => server_error(&e),
        },
        Route::AddFault(name) => match read_json::<FaultSpecWire>(req.into_body()).await {
            Ok(wire) => match FaultSpec::try_from(wire) {
                Ok(spec) => match server.add_fault(&name, spec) {
                    Ok(fault) => respond(StatusCode::CREATED, &json!({ "id": fault.id })),
                    Err(e) => server_error(&e),
                },
                Err(e) => fault_error(&e),
            },
            Err(r) => r,
        },
        Route::RemoveFault(name, id) => match server.remove_fault(&name, id) {
            Ok(()) => ok(json!({ "removed": id })),
            Err(e) => server_error(&e),
        },
        Route::Reset => ok(json!({ "removed": server.reset() })),
        Route::AllFaults => match server.faults(None) {
            Ok(faults) => ok(to_value(&faults)),
            Err(e) => server_error(&e),
        },
    }
}

fn unauthorized() -> Response<Full<Bytes>> {
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token",
        &["Authorization: Bearer <token>".to_owned()],
    );
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// Serves the control API on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    server: Arc<Server>,
    token: Arc<str>,
    header_timeout: Duration,
    shutdown: CancellationToken,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let (server, token, stop) = (Arc::clone(&server), Arc::clone(&token), shutdown.clone());
                    connections.spawn(async move {
                        let service = service_fn(move |req| {
                            let (server, token) = (Arc::clone(&server), Arc::clone(&token));
                            async move { Ok::<_, Infallible>(handle(&server, &token, req).await) }
                        });
                        let mut builder = http1::Builder::new();
                        builder
                            .timer(TokioTimer::new())
                            .header_read_timeout(header_timeout)
                            .max_buf_size(HEAD_LIMIT)
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
                            tracing::debug!(error = %e, "control connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "control accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let get = Method::GET;
        assert_eq!(route(&get, "/healthz"), Ok(Route::Health));
        assert_eq!(route(&get, "/proxies/"), Ok(Route::ListProxies));
        assert_eq!(route(&Method::POST, "/proxies"), Ok(Route::CreateProxy));
        assert_eq!(
            route(&get, "/proxies/api"),
            Ok(Route::GetProxy("api".into()))
        );
        assert_eq!(
            route(&Method::DELETE, "/proxies/api"),
            Ok(Route::DeleteProxy("api".into()))
        );
        assert_eq!(
            route(&Method::POST, "/proxies/api/faults"),
            Ok(Route::AddFault("api".into()))
        );
        assert_eq!(
            route(&Method::DELETE, "/proxies/api/faults/7"),
            Ok(Route::RemoveFault("api".into(), 7))
        );
        assert_eq!(route(&Method::POST, "/reset"), Ok(Route::Reset));
        assert_eq!(route(&get, "/faults"), Ok(Route::AllFaults));
        assert!(matches!(
            route(&get, "/reset"),
            Err(RouteError::Method {
                allowed: ["POST"],
                ..
            })
        ));
        assert!(matches!(route(&get, "/nope"), Err(RouteError::NotFound(_))));
        assert_eq!(
            route(&Method::DELETE, "/proxies/api/faults/x"),
            Err(RouteError::BadId("x".into()))
        );
        assert!(is_public(&Route::Metrics) && !is_public(&Route::Reset));
    }

    #[test]
    fn bearer_tokens() {
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert!(authorized(Some(&h("Bearer s3cret")), "s3cret"));
        assert!(authorized(Some(&h("bearer s3cret")), "s3cret"));
        assert!(!authorized(Some(&h("Bearer s3cre")), "s3cret"));
        assert!(!authorized(Some(&h("Basic s3cret")), "s3cret"));
        assert!(!authorized(Some(&h("s3cret")), "s3cret"));
        assert!(!authorized(None, "s3cret"));
        assert!(
            !authorized(Some(&h("Bearer ")), ""),
            "an empty token never matches"
        );
    }
}
