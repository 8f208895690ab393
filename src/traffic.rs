//! Traffic: learn production's pattern and replay it, measured honestly.
//!
//! Owns: the load engine (an HTTP/1.1 keep-alive client, open and closed
//! models, coordinated-omission-corrected latency in HdrHistogram,
//! per-second windows), the capture parsers (access logs, JSON lines, HAR,
//! Prometheus range queries) and profile extraction (pure), and replay of a
//! profile. The data types live in `domain::traffic`.

pub mod workload;
pub mod replay;
