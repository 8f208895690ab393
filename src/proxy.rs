//! The fault proxy (`understudy proxy`): a standalone L4/L7 fault proxy in
//! the manner of Toxiproxy, run inside shadow containers between services.
//!
//! | module | owns |
//! | --- | --- |
//! | [`model`] | the fault model (serde): kinds, parameters with units, parsing, valid lists |
//! | [`quantity`] | rates, shares and CIDRs as typed (pure) |
//! | [`config`] | proxy definitions and their TOML file (pure) |
//! | [`lane`] | which faults hit a connection direction, and the chunk transforms (pure) |
//! | [`server`] | running proxies: listeners, accept loops, the fault table |
//! | [`tcp`] | a tcp connection: fast pass-through path, fault path |
//! | [`http`] | an http connection: request/response framing, HTTP faults |
//! | [`upstream`] | resolving (built-in DNS) and connecting to the upstream |
//! | [`control`] | the token-protected JSON control API |
//! | [`metrics`] | counters and their Prometheus rendering |
//!
//! Does not own: deciding which edges get which faults (the injector on the
//! host does, through the control API or `understudy proxy ctl`), nor
//! packet-level faults (netns).

pub mod config;
pub mod control;
pub mod http;
pub mod lane;
pub mod metrics;
pub mod model;
pub mod quantity;
pub mod server;
mod tcp;
pub mod upstream;

pub use config::{Protocol, ProxyConfig};
pub use model::{Direction, Fault, FaultError, FaultKind, FaultSpec, FaultSpecWire, Params};
pub use server::{Options, Server, ServerError};

/// Open files the proxy asks for: 10k connections take two each.
pub const WANTED_FILES: u64 = 65_536;

/// Raises the soft limit on open files to the hard limit (each proxied
/// connection takes two descriptors), after trying to raise the hard limit
/// to [`WANTED_FILES`] where that is allowed (root). Returns the new soft
/// limit.
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    use rlimit::Resource;
    let (soft, hard) = Resource::NOFILE.get()?;
    if hard < WANTED_FILES {
        // Permitted only with CAP_SYS_RESOURCE; otherwise the hard limit stays.
        let _ = Resource::NOFILE.set(soft.max(WANTED_FILES), WANTED_FILES);
    }
    rlimit::increase_nofile_limit(u64::MAX)
}

#[cfg(test)]
mod tests;
