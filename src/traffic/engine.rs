//! The load engine (imperative shell): sends a [`Workload`] to a
//! [`Target`] and measures it.
//!
//! Owns: the run — probing the target, preparing request bytes once,
//! starting the load threads (`worker`: each a single-threaded runtime
//! with its share of the connections), and collecting their per-second
//! buckets into [`Window`]s (streamed to the caller as each second ends)
//! and the final [`LoadReport`]. Latency is measured from the intended send
//! time (open model) and from the actual one.
//!
//! [`run`] can be awaited from any tokio runtime (current-thread or
//! multi-thread): the load runs on threads of its own, so the caller's
//! runtime (the console's, say) neither slows it nor is slowed by it.
//! Cancelling the token stops the run at once: queued arrivals are
//! dropped, requests in flight are counted as aborted, and the report
//! covers what happened until then. Dropping the future stops the
//! threads too.

mod closed;
mod conn;
mod open;
mod target;
mod timer;
mod worker;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

pub use target::{ParsedUrl, Target, parse_url};

use super::http1::{HttpError, encode_request};
use super::report::{LoadReport, Model, RunFacts, Window};
use super::stats::Bucket;
use super::workload::{Arrivals, Workload};
use worker::{Feeder, Msg, Plan, Prepared, Role};

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot resolve {host:?}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("cannot connect to {addr} ({reason})")]
    Connect {
        addr: std::net::SocketAddr,
        reason: String,
    },
    #[error("request {index} ({endpoint}): {source}")]
    Request {
        index: usize,
        endpoint: String,
        #[source]
        source: HttpError,
    },
    #[error("the workload has no requests")]
    NoRequests,
    #[error("invalid load options: {0}")]
    Options(String),
    #[error("starting a load thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("a load thread stopped unexpectedly")]
    WorkerLost,
}

/// How to run a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// The load period: arrivals at or after it are not sent (open model);
    /// users stop starting requests (closed model). Answers to requests
    /// already sent are awaited (up to `timeout`).
    pub duration: Duration,
    /// Open model: the connection pool's limit.
    pub concurrency: usize,
    /// Per request, from the actual send (connect included).
    pub timeout: Duration,
    /// Load threads, each a single-threaded runtime (default 1).
    pub threads: usize,
    /// Track every `RequestSpec.endpoint` separately.
    pub per_endpoint: bool,
    /// Open model: arrivals that may wait for a free connection; beyond
    /// that they are dropped.
    pub max_backlog: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            duration: Duration::from_secs(10),
            concurrency: 64,
            timeout: Duration::from_secs(5),
            threads: 1,
            per_endpoint: false,
            max_backlog: 100_000,
        }
    }
}

/// Lead time between starting the threads and the first send.
const START_DELAY: Duration = Duration::from_millis(10);

/// Runs `workload` against `target`. Each finished second is sent on
/// `windows` (if given) as it ends; the report comes at the end, or after
/// `cancel`.
pub async fn run(
    target: &Target,
    workload: Workload,
    options: &EngineOptions,
    windows: Option<UnboundedSender<Window>>,
    cancel: CancellationToken,
) -> Result<LoadReport, EngineError> {
    if workload.requests.is_empty() {
        return Err(EngineError::NoRequests);
    }
    if options.duration.is_zero() || options.timeout.is_zero() {
        return Err(EngineError::Options(
            "the duration and the timeout must be more than 0".to_owned(),
        ));
    }
    let (endpoint_names, requests) = prepare(target, &workload, options.per_endpoint)?;
    let addr = target.probe(options.timeout).await?;
    let (arrivals, connections, think) = match workload.arrivals {
        Arrivals::Open(iter) => (Some(iter), options.concurrency, None),
        Arrivals::Closed { users, think } => (None, users as usize, Some(think)),
    };
    let roles = split(connections, think, options.threads)?;
    let threads = roles.len();
    let model = if arrivals.is_some() {
        Model::Open
    } else {
        Model::Closed
    };
    let feeder = arrivals.map(|arrivals| {
        Mutex::new(Feeder {
            arrivals,
            end: options.duration,
            exhausted: false,
        })
    });
    let start = Instant::now() + START_DELAY;
    let start_unix_ms = crate::domain::units::unix_ms(std::time::SystemTime::now() + START_DELAY);
    let plan = Arc::new(Plan {
        addr,
        requests,
        timeout: options.timeout,
        duration: options.duration,
        start,
        start_unix_ms,
        seconds: options.duration.as_secs_f64().ceil().max(1.0) as u64,
        endpoints: endpoint_names.len(),
        max_backlog: options.max_backlog.max(1),
        feeder,
    });
    // The threads stop when the caller cancels, and also when this future
    // is dropped or fails.
    let stop = cancel.child_token();
    let guard = stop.clone().drop_guard();
    let (tx, rx) = unbounded_channel();
    for (thread, role) in roles.into_iter().enumerate() {
        worker::spawn(thread, Arc::clone(&plan), role, tx.clone(), stop.clone())
            .map_err(EngineError::Thread)?;
    }
    drop(tx);
    let mut collector = Collector::new(threads, model, &endpoint_names, &plan, windows);
    collector.collect(rx).await?;
    guard.disarm();
    let elapsed = start.elapsed();
    let cancelled = cancel.is_cancelled() && elapsed < options.duration;
    let duration_s = if cancelled {
        elapsed.as_secs_f64()
    } else {
        options.duration.as_secs_f64()
    };
    Ok(LoadReport::build(RunFacts {
        target: target.url.clone(),
        model,
        connections: connections as u64,
        think_ms: think.map(|t| t.as_secs_f64() * 1000.0),
        threads: threads as u64,
        duration_s,
        elapsed_s: elapsed.as_secs_f64(),
        aborted: collector.aborted,
        connects: collector.connects,
        cancelled,
        total: &collector.total,
        windows: collector.windows,
        endpoint_names: &endpoint_names,
    }))
}

/// Encodes every request once; names the endpoints when tracked.
fn prepare(
    target: &Target,
    workload: &Workload,
    per_endpoint: bool,
) -> Result<(Vec<String>, Vec<Prepared>), EngineError> {
    let mut names: Vec<String> = Vec::new();
    let mut prepared = Vec::with_capacity(workload.requests.len());
    for (index, spec) in workload.requests.iter().enumerate() {
        let bytes =
            encode_request(spec, &target.authority, &target.base_path).map_err(|source| {
                EngineError::Request {
                    index,
                    endpoint: spec.endpoint.clone(),
                    source,
                }
            })?;
        let endpoint = if per_endpoint {
            names
                .iter()
                .position(|n| *n == spec.endpoint)
                .unwrap_or_else(|| {
                    names.push(spec.endpoint.clone());
                    names.len() - 1
                })
        } else {
            usize::MAX
        };
        prepared.push(Prepared {
            bytes,
            head: spec.method.eq_ignore_ascii_case("HEAD"),
            endpoint,
        });
    }
    Ok((names, prepared))
}

/// Splits the connections (or users) over the threads.
fn split(count: usize, think: Option<Duration>, threads: usize) -> Result<Vec<Role>, EngineError> {
    if count == 0 {
        return Err(EngineError::Options(
            "at least one connection (or user) is needed".to_owned(),
        ));
    }
    let threads = threads.clamp(1, count);
    Ok((0..threads)
        .map(|t| {
            let ids: Vec<usize> = (t..count).step_by(threads).collect();
            match think {
                None => Role::Open {
                    connections: ids.len(),
                },
                Some(think) => Role::Closed { users: ids, think },
            }
        })
        .collect())
}

/// Merges the threads' seconds into windows, in order, as they complete.
struct Collector<'a> {
    model: Model,
    names: &'a [String],
    plan: &'a Plan,
    sink: Option<UnboundedSender<Window>>,
    /// Per thread: the next second it will send, or None once done.
    next: Vec<Option<u64>>,
    pending: BTreeMap<u64, Bucket>,
    emitted: u64,
    total: Bucket,
    windows: Vec<Window>,
    connects: u64,
    aborted: u64,
}

impl<'a> Collector<'a> {
    fn new(
        threads: usize,
        model: Model,
        names: &'a [String],
        plan: &'a Plan,
        sink: Option<UnboundedSender<Window>>,
    ) -> Self {
        Self {
            model,
            names,
            plan,
            sink,
            next: vec![Some(0); threads],
            pending: BTreeMap::new(),
            emitted: 0,
            total: Bucket::new(names.len()),
            windows: Vec::new(),
            connects: 0,
            aborted: 0,
        }
    }

    async fn collect(&mut self, mut rx: UnboundedReceiver<Msg>) -> Result<(), EngineError> {
        while self.next.iter().any(Option::is_some) {
            let Some(msg) = rx.recv().await else {
                return Err(EngineError::WorkerLost);
            };
            match msg {
                Msg::Window { thread, t, bucket } => {
                    self.total.merge(&bucket);
                    match self.pending.get_mut(&t) {
                        Some(b) => b.merge(&bucket),
                        None => {
                            self.pending.insert(t, *bucket);
                        }
                    }
                    self.next[thread] = Some(t + 1);
                }
                Msg::Done {
                    thread,
                    connects,
                    aborted,
                } => {
                    self.next[thread] = None;
                    self.connects += connects;
                    self.aborted += aborted;
                }
            }
            self.emit_ready();
        }
        Ok(())
    }

    /// Emits every second all threads have sent (or that no running
    /// thread can still add to).
    fn emit_ready(&mut self) {
        loop {
            let t = self.emitted;
            let waiting = self.next.iter().any(|n| n.is_some_and(|next| next <= t));
            if waiting {
                return;
            }
            let Some(bucket) = self.pending.remove(&t) else {
                if self.pending.is_empty() {
                    return;
                }
                // A gap (a cancelled thread stopped early): an empty second.
                self.emitted += 1;
                continue;
            };
            let elapsed = self.plan.start.elapsed().as_secs_f64();
            let period = self.plan.duration.as_secs_f64().min(elapsed);
            let mut window =
                Window::from_bucket(t, period - t as f64, &bucket, self.model, self.names);
            window.at_ms = self
                .plan
                .start_unix_ms
                .saturating_add(i64::try_from(t).unwrap_or(i64::MAX).saturating_mul(1000));
            if let Some(sink) = &self.sink {
                let _ = sink.send(window.clone());
            }
            self.windows.push(window);
            self.emitted += 1;
        }
    }
}
