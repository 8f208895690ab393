//! The `api` role: the shop's business tier (JSON).
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /api/products` | the catalog |
//! | `GET /api/products/{id}` | one product, 404 |
//! | `GET /api/search?q=...` | products whose name has every word (2x CPU) |
//! | `GET /api/cart/{user}` | the priced cart (empty if none) |
//! | `POST /api/cart/{user}/items` | `{"product":ID,"qty":N}`; the updated cart |
//! | `POST /api/orders` | `{"user":U}`; the order (the cart is emptied) |
//! | `GET /api/orders/{id}` | one order, 404 |
//!
//! Each request burns `API_CPU_MS` of thread CPU time on a blocking thread
//! inside the bounded work section ([`super::admission`]); a full queue is
//! 503 with `retry-after: 1`. Carts and orders live in the store; a store
//! failure is 502 with the reason.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use serde_json::json;
use tokio::net::TcpListener;

use super::admission::{Admission, burn};
use super::catalog::{self, AddItem, Cart, Catalog, Order, PlaceOrder};
use super::config::ApiConfig;
use super::http::{self, App, Body0, Handler};
use super::prom::Registry;
use super::query::{percent_encode, query_param};
use super::upstream::{Discover, DnsDiscover, Outgoing, Upstream};
use crate::dns::Resolver;

const MAX_BODY: usize = 64 * 1024;

/// A request's place in the api.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Products,
    Product(Option<u32>),
    Search,
    Cart(String),
    CartItems(String),
    Orders,
    Order(String),
    Unknown,
}

impl Route {
    /// Parses an `/api/...` path.
    pub fn parse(path: &str) -> Self {
        let Some(rest) = path.strip_prefix("/api/") else {
            return Self::Unknown;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            ["products"] => Self::Products,
            ["products", id] => Self::Product(id.parse().ok()),
            ["search"] => Self::Search,
            ["cart", user] => Self::Cart((*user).to_owned()),
            ["cart", user, "items"] => Self::CartItems((*user).to_owned()),
            ["orders"] => Self::Orders,
            ["orders", id] => Self::Order((*id).to_owned()),
            _ => Self::Unknown,
        }
    }

    /// The route template (a metrics label).
    pub fn template(&self) -> &'static str {
        match self {
            Self::Products => "/api/products",
            Self::Product(_) => "/api/products/{id}",
            Self::Search => "/api/search",
            Self::Cart(_) => "/api/cart/{user}",
            Self::CartItems(_) => "/api/cart/{user}/items",
            Self::Orders => "/api/orders",
            Self::Order(_) => "/api/orders/{id}",
            Self::Unknown => "unmatched",
        }
    }

    /// The method the route answers.
    fn method(&self) -> Method {
        match self {
            Self::CartItems(_) | Self::Orders => Method::POST,
            _ => Method::GET,
        }
    }
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response<Body0> {
    http::json(status, &json!({ "error": message.to_string() }))
}

/// A store that could not be used, with the reason (answered with 502).
#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreFailure(String);

/// The api's view of the store service.
struct StoreClient {
    upstream: Arc<Upstream>,
}

impl StoreClient {
    async fn call(
        &self,
        method: Method,
        key: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), StoreFailure> {
        let target: Uri = format!("/kv/{}", percent_encode(key))
            .parse()
            .map_err(|e| StoreFailure(format!("bad key {key:?}: {e}")))?;
        let reply = self
            .upstream
            .send(Outgoing::new(method, target, body))
            .await
            .map_err(|e| StoreFailure(e.to_string()))?;
        let (parts, body) = reply.response.into_parts();
        Ok((parts.status, body))
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreFailure> {
        match self.call(Method::GET, key, Bytes::new()).await? {
            (StatusCode::OK, body) => Ok(Some(body)),
            (StatusCode::NOT_FOUND, _) => Ok(None),
            (status, _) => Err(StoreFailure(format!("GET {key} answered {status}"))),
        }
    }

    async fn put(&self, key: &str, value: Bytes) -> Result<(), StoreFailure> {
        match self.call(Method::PUT, key, value).await? {
            (status, _) if status.is_success() => Ok(()),
            (status, _) => Err(StoreFailure(format!("PUT {key} answered {status}"))),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreFailure> {
        match self.call(Method::DELETE, key, Bytes::new()).await? {
            (status, _) if status.is_success() || status == StatusCode::NOT_FOUND => Ok(()),
            (status, _) => Err(StoreFailure(format!("DELETE {key} answered {status}"))),
        }
    }

    async fn cart(&self, user: &str) -> Result<Cart, StoreFailure> {
        match self.get(&catalog::cart_key(user)).await? {
            None => Ok(Cart::default()),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| StoreFailure(format!("unreadable cart of {user:?}: {e}"))),
        }
    }
}

/// The api's handler.
struct Api {
    catalog: Catalog,
    admission: Admission,
    store: StoreClient,
    cpu: Duration,
}

impl Handler for Api {
    fn route(&self, _method: &Method, path: &str) -> &'static str {
        Route::parse(path).template()
    }

    async fn handle(&self, req: Request<Incoming>, _peer: SocketAddr) -> Response<Body0> {
        let route = Route::parse(req.uri().path());
        if route == Route::Unknown {
            return error(
                StatusCode::NOT_FOUND,
                format!("no route {}", req.uri().path()),
            );
        }
        if *req.method() != route.method() {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("use {}", route.method()),
            );
        }
        let query = req.uri().query().map(str::to_owned);
        let seed = req.uri().to_string();
        // Read the body before taking a worker: slow clients hold no worker.
        let body = match http::read_body(req.into_body(), MAX_BODY).await {
            Ok(body) => body,
            Err(e @ http::BodyError::TooLarge { .. }) => {
                return error(StatusCode::PAYLOAD_TOO_LARGE, e);
            }
            Err(e) => return error(StatusCode::BAD_REQUEST, e),
        };
        let Ok(_permit) = self.admission.enter().await else {
            let mut response = error(StatusCode::SERVICE_UNAVAILABLE, "overloaded, retry later");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        };
        let cpu = if route == Route::Search {
            self.cpu * 2
        } else {
            self.cpu
        };
        if tokio::task::spawn_blocking(move || burn(cpu, seed.as_bytes()))
            .await
            .is_err()
        {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "work failed");
        }
        match self.answer(route, query.as_deref(), &body).await {
            Ok(response) => response,
            Err(failure) => {
                tracing::warn!(error = %failure, "store failure");
                http::json(
                    StatusCode::BAD_GATEWAY,
                    &json!({ "error": "store unavailable", "reason": failure.0 }),
                )
            }
        }
    }
}

impl Api {
    async fn answer(
        &self,
        route: Route,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<Response<Body0>, StoreFailure> {
        let ok = |value: serde_json::Value| Ok(http::json(StatusCode::OK, &value));
        match route {
            Route::Products => {
                ok(json!({ "count": self.catalog.all().len(), "products": self.catalog.all() }))
            }
            Route::Product(id) => match id.and_then(|id| self.catalog.get(id)) {
                Some(product) => ok(json!(product)),
                None => Ok(error(StatusCode::NOT_FOUND, "no such product")),
            },
            Route::Search => match query_param(query, "q") {
                Some(q) => ok(json!({ "query": q, "results": self.catalog.search(&q) })),
                None => Ok(error(StatusCode::BAD_REQUEST, "missing query parameter q")),
            },
            Route::Cart(user) | Route::CartItems(user) if !catalog::valid_user(&user) => {
                Ok(error(StatusCode::BAD_REQUEST, "invalid user"))
            }
            Route::Cart(user) => {
                let priced = catalog::price(&self.store.cart(&user).await?, &self.catalog);
                ok(
                    json!({ "user": user, "items": priced.items, "total_cents": priced.total_cents }),
                )
            }
            Route::CartItems(user) => self.add_item(&user, body).await,
            Route::Orders => self.place_order(body).await,
            Route::Order(id) => {
                if !catalog::valid_order_id(&id) {
                    return Ok(error(StatusCode::NOT_FOUND, "no such order"));
                }
                match self.store.get(&catalog::order_key(&id)).await? {
                    Some(bytes) => Ok(json_bytes(bytes)),
                    None => Ok(error(StatusCode::NOT_FOUND, "no such order")),
                }
            }
            Route::Unknown => Ok(error(StatusCode::NOT_FOUND, "no such route")),
        }
    }

    async fn add_item(&self, user: &str, body: &[u8]) -> Result<Response<Body0>, StoreFailure> {
        let item: AddItem = match serde_json::from_slice(body) {
            Ok(item) => item,
            Err(e) => return Ok(error(StatusCode::BAD_REQUEST, format!("bad body: {e}"))),
        };
        let mut cart = self.store.cart(user).await?;
        if let Err(e) = cart.add(&self.catalog, item) {
            let status = match e {
                catalog::CartError::UnknownProduct(_) => StatusCode::NOT_FOUND,
                catalog::CartError::BadQty(_) => StatusCode::BAD_REQUEST,
            };
            return Ok(error(status, e));
        }
        let stored = serde_json::to_vec(&cart).map_err(|e| StoreFailure(e.to_string()))?;
        self.store
            .put(&catalog::cart_key(user), stored.into())
            .await?;
        let priced = catalog::price(&cart, &self.catalog);
        Ok(http::json(
            StatusCode::OK,
            &json!({ "user": user, "items": priced.items, "total_cents": priced.total_cents }),
        ))
    }

    async fn place_order(&self, body: &[u8]) -> Result<Response<Body0>, StoreFailure> {
        let request: PlaceOrder = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(e) => return Ok(error(StatusCode::BAD_REQUEST, format!("bad body: {e}"))),
        };
        if !catalog::valid_user(&request.user) {
            return Ok(error(StatusCode::BAD_REQUEST, "invalid user"));
        }
        let cart = self.store.cart(&request.user).await?;
        let priced = catalog::price(&cart, &self.catalog);
        if priced.items.is_empty() {
            return Ok(error(StatusCode::BAD_REQUEST, "cart is empty"));
        }
        let order = Order {
            id: new_order_id(),
            user: request.user,
            items: priced.items,
            total_cents: priced.total_cents,
        };
        let stored = serde_json::to_vec(&order).map_err(|e| StoreFailure(e.to_string()))?;
        self.store
            .put(&catalog::order_key(&order.id), stored.into())
            .await?;
        self.store.delete(&catalog::cart_key(&order.user)).await?;
        Ok(http::json(StatusCode::OK, &json!(order)))
    }
}

fn json_bytes(bytes: Bytes) -> Response<Body0> {
    let mut response = Response::new(http_body_util::Full::new(bytes));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// 16 hex digits, unique across replicas in practice.
fn new_order_id() -> String {
    format!("{:016x}", http::random_u64())
}

/// Serves with the store found through DNS (`API_STORE`).
pub async fn serve(
    config: ApiConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let discover = Arc::new(DnsDiscover {
        resolver: Resolver::system(),
        target: config.store.clone(),
    });
    serve_with(config, discover, listener, shutdown).await
}

/// Serves with an injected discovery of the store's addresses.
pub async fn serve_with(
    config: ApiConfig,
    store: Arc<dyn Discover>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let registry = Arc::new(Registry::default());
    let upstream = Upstream::start(
        config.store.to_string(),
        store,
        config.resolve_every,
        config.store_timeout,
    )
    .await;
    let api = Api {
        catalog: Catalog::generate(),
        admission: Admission::new(config.workers, config.queue, &registry),
        store: StoreClient { upstream },
        cpu: config.cpu,
    };
    http::serve(
        listener,
        App::new(api, registry),
        config.shutdown_grace,
        shutdown,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_templates() {
        let cases = [
            ("/api/products", Route::Products, "/api/products"),
            (
                "/api/products/42",
                Route::Product(Some(42)),
                "/api/products/{id}",
            ),
            (
                "/api/products/abc",
                Route::Product(None),
                "/api/products/{id}",
            ),
            ("/api/search", Route::Search, "/api/search"),
            (
                "/api/cart/alice",
                Route::Cart("alice".into()),
                "/api/cart/{user}",
            ),
            (
                "/api/cart/alice/items",
                Route::CartItems("alice".into()),
                "/api/cart/{user}/items",
            ),
            ("/api/orders", Route::Orders, "/api/orders"),
            (
                "/api/orders/00ff",
                Route::Order("00ff".into()),
                "/api/orders/{id}",
            ),
            ("/api/nope", Route::Unknown, "unmatched"),
            ("/api/products/1/x", Route::Unknown, "unmatched"),
            ("/other", Route::Unknown, "unmatched"),
        ];
        for (path, route, template) in cases {
            assert_eq!(Route::parse(path), route, "{path}");
            assert_eq!(route.template(), template, "{path}");
        }
        assert_eq!(Route::Orders.method(), Method::POST);
        assert_eq!(Route::Order(String::new()).method(), Method::GET);
    }

    #[test]
    fn order_ids_are_valid_and_distinct() {
        let a = new_order_id();
        let b = new_order_id();
        assert!(catalog::valid_order_id(&a), "{a}");
        assert_ne!(a, b);
    }
}
