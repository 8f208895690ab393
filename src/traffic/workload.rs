//! What the load engine sends: a set of requests and when to send them.
//! Built by `load` (one request, a rate or stages), by replay (a profile's
//! curve and mix) and by `demo traffic`; consumed by the engine.

use std::time::Duration;

use bytes::Bytes;

/// One request the engine can send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    pub method: String,
    /// Path and query (`/api/products/7`).
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
    /// Label for per-endpoint statistics (`GET /api/products/{id}`).
    pub endpoint: String,
}

impl RequestSpec {
    /// A bodiless GET.
    pub fn get(path: &str) -> Self {
        Self {
            method: "GET".to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
            endpoint: format!("GET {path}"),
        }
    }
}

/// One send the open model intends: when (from the start) and which request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    pub at: Duration,
    pub request: usize,
}

/// When requests are sent.
pub enum Arrivals {
    /// Open model: intended send times, non-decreasing, each with the index
    /// of the request to send. Latency is measured from the intended time.
    Open(Box<dyn Iterator<Item = Arrival> + Send>),
    /// Closed model: `users` concurrent users, each sending its next request
    /// (round-robin over the requests) `think` after its previous response.
    /// `think` zero is "as fast as possible" (`--rate max`).
    Closed { users: u32, think: Duration },
}

impl std::fmt::Debug for Arrivals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Open(_) => f.write_str("Open(..)"),
            Self::Closed { users, think } => f
                .debug_struct("Closed")
                .field("users", users)
                .field("think", think)
                .finish(),
        }
    }
}

/// Requests plus arrivals.
#[derive(Debug)]
pub struct Workload {
    pub requests: Vec<RequestSpec>,
    pub arrivals: Arrivals,
}
