//! The roles of the demo shop, run as `understudy shop gateway|api|store`
//! inside `FROM scratch` containers: gateway -> api (replicas) -> store.
//!
//! Owns: the three HTTP services, their configuration, metrics, access log
//! and connection handling. Does not own: the image, the compose project or
//! its lifecycle (`demo::{image,project,lifecycle}`), name resolution
//! (`crate::dns`; glibc's resolver does not work in a scratch image, so no
//! role ever resolves a name through libc).
//!
//! Every role listens on 0.0.0.0:`PORT`, serves `GET /healthz` (200 `ok`)
//! and `GET /metrics` (Prometheus text: `http_requests_total{route,method,
//! status}`, `http_request_duration_seconds{route}` with buckets 1ms..10s,
//! `http_requests_in_flight`, plus the role's own), and shuts down
//! gracefully on SIGTERM or SIGINT: it stops accepting, lets in-flight
//! requests finish within `SHUTDOWN_GRACE`, and exits 0. Logs go to stderr;
//! stdout carries only the gateway's access log.
//!
//! Configuration is by environment variable only. Durations take units
//! (`250ms`, `2s`, `1m`); an invalid value stops the role at startup with an
//! error naming the variable and quoting the value.
//!
//! | variable | role | default | meaning |
//! | --- | --- | --- | --- |
//! | `PORT` | all | `8080` | TCP port to listen on (all interfaces) |
//! | `SHUTDOWN_GRACE` | all | `5s` | time in-flight requests get to finish after SIGTERM/SIGINT |
//! | `GATEWAY_UPSTREAM` | gateway | `api:8080` | `host:port` that `/api/*` is forwarded to; host is a DNS name or an IP |
//! | `GATEWAY_RESOLVE_EVERY` | gateway | `1s` | how often the upstream name is resolved again; requests go round-robin over all its addresses |
//! | `GATEWAY_UPSTREAM_TIMEOUT` | gateway | `2s` | limit for one upstream exchange; exceeded -> 504 (connect failure/reset -> 502, no addresses -> 503) |
//! | `API_CPU_MS` | api | `5ms` | thread CPU time burnt per request (`/api/search` burns twice this); a bare number means milliseconds |
//! | `API_WORKERS` | api | `4` | requests in the work + store section at once (at least 1) |
//! | `API_QUEUE` | api | `32` | requests waiting for a worker; beyond this -> 503 with `retry-after: 1` |
//! | `API_STORE` | api | `store:8080` | `host:port` of the store |
//! | `API_STORE_TIMEOUT` | api | `2s` | limit for one store exchange; a store failure -> 502 |
//! | `API_RESOLVE_EVERY` | api | `1s` | how often the store name is resolved again |
//! | `STORE_DATA` | store | `/data` | directory of the append-only log `store.log` (created if missing) |
//! | `STORE_WRITE_LATENCY` | store | `2ms` | modelled disk latency added to every write |
//! | `STORE_FSYNC` | store | `false` | fsync the log after every write (`true`/`false`) |
//!
//! Role metrics beyond the HTTP ones: api `api_queue_depth`,
//! `api_workers_busy` (gauges), `api_rejected_total`; store `store_keys`
//! (gauge), `store_writes_total`.
//!
//! The gateway's access log (stdout) has one line per request in nginx
//! "combined" format plus `$request_time` (seconds, millisecond precision);
//! `/healthz` and `/metrics` are not logged, so health probes and scrapes do
//! not pollute captured traffic.
//!
//! Each role's `serve` takes its config, a bound listener and a shutdown
//! future, so tests run all three in-process on loopback.

mod access_log;
mod admission;
mod api;
mod catalog;
mod config;
mod gateway;
mod http;
mod prom;
mod query;
mod store;
mod store_log;
mod upstream;

#[cfg(test)]
mod e2e;
#[cfg(test)]
mod testutil;

use std::net::Ipv4Addr;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

pub use config::{ApiConfig, Common, ConfigError, GatewayConfig, HostPort, StoreConfig};

/// Which service this process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Gateway,
    Api,
    Store,
}

/// A role's own configuration, parsed before anything starts.
enum RoleConfig {
    Gateway(GatewayConfig),
    Api(ApiConfig),
    Store(StoreConfig),
}

/// Runs `role` with configuration from the environment until SIGTERM or
/// SIGINT.
pub async fn run(role: Role) -> anyhow::Result<()> {
    let env = |key: &str| std::env::var(key).ok();
    let common = Common::from_env(env)?;
    let config = match role {
        Role::Gateway => RoleConfig::Gateway(GatewayConfig::from_env(env)?),
        Role::Api => RoleConfig::Api(ApiConfig::from_env(env)?),
        Role::Store => RoleConfig::Store(StoreConfig::from_env(env)?),
    };
    // Register the handlers before serving so an early SIGTERM is not lost.
    let shutdown = shutdown_signal().context("installing signal handlers")?;
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, common.port))
        .await
        .with_context(|| format!("listening on 0.0.0.0:{}", common.port))?;
    tracing::info!(?role, port = common.port, "starting");
    match config {
        RoleConfig::Gateway(config) => {
            let (log, writer) =
                access_log::AccessLog::stdout().context("starting the access log")?;
            let served = gateway::serve(config, log, listener, shutdown).await;
            // Every handle on the log is gone with the server: flush it.
            writer.join();
            served?;
        }
        RoleConfig::Api(config) => api::serve(config, listener, shutdown).await?,
        RoleConfig::Store(config) => store::serve(config, listener, shutdown).await?,
    }
    tracing::info!(?role, "stopped");
    Ok(())
}

/// Completes on the first SIGTERM or SIGINT.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
    })
}
