//! Traffic: learn production's pattern and replay it, measured honestly.
//!
//! Owns: the load engine (an HTTP/1.1 keep-alive client, open and closed
//! models, coordinated-omission-corrected latency in HdrHistogram,
//! per-second windows), the capture parsers (access logs, JSON lines, HAR,
//! Prometheus range queries) and profile extraction (pure), and replay of a
//! profile. The data types live in `domain::traffic`.

pub mod capture;
pub mod engine;
pub mod http1;
pub mod parse;
pub mod profile;
pub mod progress;
pub mod prometheus;
pub mod replay;
pub mod report;
pub mod schedule;
pub mod stats;
pub mod template;
pub mod workload;
