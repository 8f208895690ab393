//! Accuracy of the load engine against in-process servers on 127.0.0.1
//! (ephemeral ports), with loose bounds: what it measures is what the
//! server did. The servers are plain threads with blocking sockets and a
//! precise wait (sleep, then spin the last 100 µs) so their own timing is
//! not in question. Timing-sensitive tests take a global lock so they do
//! not compete for the two cores. Figures are printed (`--nocapture`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, MutexGuard};
use tokio_util::sync::CancellationToken;
use understudy::traffic::engine::{self, EngineOptions, Target};
use understudy::traffic::report::LoadReport;
use understudy::traffic::schedule::{RateCurve, Spacing, open_arrivals};
use understudy::traffic::workload::{Arrivals, RequestSpec, Workload};

/// One at a time: the measurements need the CPU.
async fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::const_new(());
    LOCK.lock().await
}

/// What the test server does with a request.
enum Reply {
    /// Answer with this status once `Instant` has come.
    At(u16, Instant),
    /// Close the connection without answering.
    Close,
}

type Handler = dyn Fn(&str, Instant) -> Reply + Send + Sync;

/// Serves keep-alive HTTP/1.1 on an ephemeral port, a thread per
/// connection; `handler` gets each request's path and arrival time.
fn serve(handler: impl Fn(&str, Instant) -> Reply + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handler: Arc<Handler> = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = Arc::clone(&handler);
            std::thread::spawn(move || connection(stream, &*handler));
        }
    });
    addr
}

fn connection(mut stream: TcpStream, handler: &Handler) {
    let _ = nix::sys::prctl::set_timerslack(1_000);
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let arrived = Instant::now();
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end);
        let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
        match handler(&path, arrived) {
            Reply::Close => return,
            Reply::At(status, when) => {
                wait_until(when);
                let response =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\nX-Test: 1\r\n\r\nok");
                if stream.write_all(response.as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}

/// Sleeps until 100 µs before `when`, then spins: accurate to
/// microseconds (the thread's timer slack is 1 µs, see `connection`).
fn wait_until(when: Instant) {
    let spin = Duration::from_micros(100);
    if let Some(rest) = when.checked_duration_since(Instant::now() + spin) {
        std::thread::sleep(rest);
    }
    while Instant::now() < when {
        std::hint::spin_loop();
    }
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

fn open(rate: f64, seconds: u64, requests: Vec<RequestSpec>) -> Workload {
    let curve = RateCurve::constant(rate, Duration::from_secs(seconds)).unwrap();
    let arrivals = open_arrivals(&curve, Spacing::Even, requests.len());
    Workload { requests, arrivals }
}

fn options(seconds: u64, concurrency: usize) -> EngineOptions {
    EngineOptions {
        duration: Duration::from_secs(seconds),
        concurrency,
        ..EngineOptions::default()
    }
}

async fn load(addr: SocketAddr, workload: Workload, options: &EngineOptions) -> LoadReport {
    let target = Target::origin(&url(addr)).await.unwrap();
    engine::run(&target, workload, options, None, CancellationToken::new())
        .await
        .unwrap()
}

fn intended_is_accounted(report: &LoadReport) {
    assert_eq!(
        report.intended.unwrap(),
        report.requests + report.dropped + report.aborted,
        "every intended arrival is sent or dropped"
    );
}

/// (1) A server that answers exactly 10 ms after each request, loaded far
/// below its capacity: the median is 10 ms, corrected and uncorrected.
#[tokio::test]
async fn a_10ms_server_measures_10ms() {
    let _serial = serial().await;
    let addr = serve(|_, arrived| Reply::At(200, arrived + Duration::from_millis(10)));
    let report = load(
        addr,
        open(100.0, 3, vec![RequestSpec::get("/")]),
        &options(3, 16),
    )
    .await;
    let (c, u) = (&report.latency_ms.corrected, &report.latency_ms.uncorrected);
    println!(
        "10 ms server at 100 rps: p50 corrected {:.3} ms, uncorrected {:.3} ms; p99 {:.3} / {:.3} ms; late {}",
        c.p50, u.p50, c.p99, u.p99, report.late
    );
    assert_eq!(report.requests, 300);
    assert_eq!(report.errors.total(), 0);
    // Loose on purpose: the goal (2 %) is a release-build figure in the
    // README; a debug build on a busy 2-core machine adds ~0.2 ms.
    for p50 in [c.p50, u.p50] {
        assert!(
            (p50 - 10.0).abs() <= 0.5,
            "p50 {p50} ms is not within 5% of 10 ms"
        );
    }
    // Far below capacity nothing waits for a connection; a late send is
    // the machine's scheduler (a debug build on a busy 2-core machine: 19
    // of 300 once while a second test suite ran), and must stay rare;
    // starved connections would make most sends late.
    assert!(report.late <= 30, "late {} of 300", report.late);
    assert_eq!(report.per_second.len(), 3);
    intended_is_accounted(&report);
}

/// (2) The wrk2 demonstration. The server freezes for the first second of
/// every 10 s (a GC pause): requests arriving then are answered when the
/// second ends. At 200 rps over 12 s (2400 requests) about 400 arrivals
/// fall in the two stalls. Only the 8 requests already on the 8
/// connections wait on the server; the others wait in the engine's queue
/// for a free connection. Measured from the actual send (uncorrected),
/// just those 16 (0.7%) are slow, so p99 stays at the server's normal
/// sub-millisecond time: the stall is hidden, as in a closed-loop tool.
/// Measured from the intended send (corrected), all ~400 (17%) carry their
/// wait of up to 1 s, so p99 is most of a second.
#[tokio::test]
async fn a_stalling_server_shows_in_corrected_latency_only() {
    let _serial = serial().await;
    let epoch = Instant::now();
    let addr = serve(move |_, arrived| {
        let since = arrived.duration_since(epoch);
        let window = Duration::from_secs(since.as_secs() / 10 * 10);
        if since.as_secs() % 10 == 0 {
            Reply::At(200, epoch + window + Duration::from_secs(1))
        } else {
            Reply::At(200, arrived)
        }
    });
    let report = load(
        addr,
        open(200.0, 12, vec![RequestSpec::get("/")]),
        &options(12, 8),
    )
    .await;
    let (c, u) = (&report.latency_ms.corrected, &report.latency_ms.uncorrected);
    println!(
        "1 s stall every 10 s at 200 rps, 8 connections: p99 corrected {:.1} ms, uncorrected {:.2} ms \
         (p50 {:.2} / {:.2} ms, max {:.0} / {:.0} ms, late {})",
        c.p99, u.p99, c.p50, u.p50, c.max, u.max, report.late
    );
    assert!(c.p99 >= 500.0, "corrected p99 {} ms hides the stall", c.p99);
    assert!(u.p99 < 100.0, "uncorrected p99 {} ms", u.p99);
    assert!(report.late > 300, "late {}", report.late);
    assert_eq!(report.errors.total(), 0);
    intended_is_accounted(&report);
}

/// (3) One connection to a server that takes 20 ms (50 rps at most),
/// asked for 200 rps over 2 s: the shortfall is reported, not hidden.
#[tokio::test]
async fn a_target_that_cannot_keep_up_is_reported() {
    let _serial = serial().await;
    let addr = serve(|_, arrived| Reply::At(200, arrived + Duration::from_millis(20)));
    let report = load(
        addr,
        open(200.0, 2, vec![RequestSpec::get("/")]),
        &options(2, 1),
    )
    .await;
    println!(
        "20 ms server, 1 connection, 200 rps for 2 s: intended {:?}, sent {}, dropped {}, late {}, \
         achieved {:.1}/s of {:.1}/s, p50 corrected {:.0} ms vs uncorrected {:.1} ms",
        report.intended,
        report.requests,
        report.dropped,
        report.late,
        report.achieved_rps,
        report.target_rps.unwrap(),
        report.latency_ms.corrected.p50,
        report.latency_ms.uncorrected.p50
    );
    assert_eq!(report.intended, Some(400));
    assert!(report.achieved_rps < report.target_rps.unwrap());
    assert!(report.dropped > 0 || report.late > 0);
    assert!(report.dropped > 0, "the queue at the end is dropped");
    intended_is_accounted(&report);
    assert!(
        report.warnings.iter().any(|w| w.contains("not reached")),
        "{:?}",
        report.warnings
    );
    assert!(report.latency_ms.corrected.p50 > 10.0 * report.latency_ms.uncorrected.p50);
}

/// (4) An unreachable target fails fast, naming the address.
#[tokio::test]
async fn an_unreachable_target_fails_fast_with_its_address() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = Target::origin(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap();
    let workload = open(10.0, 5, vec![RequestSpec::get("/")]);
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        engine::run(
            &target,
            workload,
            &options(5, 4),
            None,
            CancellationToken::new(),
        ),
    )
    .await
    .expect("the run did not fail fast");
    let message = result.unwrap_err().to_string();
    assert_eq!(
        message,
        format!("cannot connect to 127.0.0.1:{port} (connection refused)")
    );
}

/// (5) Timeouts, 4xx, 5xx and resets are counted by kind; a timed-out or
/// reset connection is replaced.
#[tokio::test]
async fn errors_are_counted_by_kind() {
    let _serial = serial().await;
    let addr = serve(|path, arrived| match path {
        "/slow" => Reply::At(200, arrived + Duration::from_secs(2)),
        "/fail" => Reply::At(503, arrived),
        "/missing" => Reply::At(404, arrived),
        "/reset" => Reply::Close,
        _ => Reply::At(200, arrived),
    });
    let requests = ["/ok", "/slow", "/fail", "/missing", "/reset"]
        .map(RequestSpec::get)
        .to_vec();
    let mut options = options(1, 16);
    options.timeout = Duration::from_millis(300);
    options.per_endpoint = true;
    let report = load(addr, open(50.0, 1, requests), &options).await;
    let e = report.errors;
    println!(
        "errors: {e:?}, status {:?}, connects {}",
        report.status, report.connects
    );
    assert_eq!(report.requests, 50);
    assert_eq!(
        (e.timeout, e.server, e.client, e.io, e.connect),
        (10, 10, 10, 10, 0)
    );
    assert_eq!(report.status.get("200"), Some(&10));
    assert!(report.connects >= 20, "closed connections are replaced");
    let slow = report
        .per_endpoint
        .iter()
        .find(|e| e.endpoint == "GET /slow")
        .unwrap();
    assert_eq!(slow.errors.timeout, 10);
    assert_eq!(report.per_second[0].errors.client, 10);
}

/// Connect failures after the probe (the server went away) are counted.
#[tokio::test]
async fn connect_failures_are_counted() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        // Accept the probe, then stop listening.
        let _probe = listener.accept();
    });
    let workload = Workload {
        requests: vec![RequestSpec::get("/")],
        arrivals: Arrivals::Closed {
            users: 1,
            think: Duration::ZERO,
        },
    };
    let report = load(addr, workload, &options(1, 1)).await;
    println!(
        "connect errors in 1 s with one user: {}",
        report.errors.connect
    );
    assert!(report.errors.connect > 0);
    assert_eq!(report.errors.connect, report.requests);
}

/// (6) Closed model: 2 users thinking 100 ms after each instant answer
/// send about 20 requests each in 2 s; corrected equals uncorrected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_users_keep_their_pace() {
    let _serial = serial().await;
    let addr = serve(|_, arrived| Reply::At(200, arrived));
    let workload = Workload {
        requests: vec![RequestSpec::get("/")],
        arrivals: Arrivals::Closed {
            users: 2,
            think: Duration::from_millis(100),
        },
    };
    let report = load(addr, workload, &options(2, 1)).await;
    println!(
        "closed model, 2 users, think 100 ms, 2 s: {} requests, {:.1}/s",
        report.requests, report.achieved_rps
    );
    assert!((36..=42).contains(&report.requests), "{}", report.requests);
    assert_eq!(report.latency_ms.corrected, report.latency_ms.uncorrected);
    assert!(report.latency_ms.corrected_is_uncorrected);
    assert_eq!(report.connects, 2);
    assert!(report.intended.is_none());
}

/// Windows stream as each second ends and match the report; a cancel
/// stops the run at once and still accounts for every arrival.
#[tokio::test]
async fn windows_stream_and_cancel_stops_the_run() {
    let _serial = serial().await;
    let addr = serve(|_, arrived| Reply::At(200, arrived + Duration::from_millis(5)));
    let target = Target::origin(&url(addr)).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        stopper.cancel();
    });
    let started = Instant::now();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let report = engine::run(
        &target,
        open(100.0, 30, vec![RequestSpec::get("/")]),
        &options(30, 8),
        Some(tx),
        cancel,
    )
    .await
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(report.cancelled);
    assert!(
        (2.0..3.5).contains(&report.duration_s),
        "{}",
        report.duration_s
    );
    intended_is_accounted(&report);
    let mut streamed = Vec::new();
    while let Ok(w) = rx.try_recv() {
        streamed.push(w);
    }
    assert_eq!(streamed, report.per_second);
    assert!(streamed.len() >= 2);
    let first = &streamed[0];
    assert_eq!(first.t, 0);
    assert!((95.0..=105.0).contains(&first.rps), "{first:?}");
    assert_eq!(first.target_rps, Some(100.0));
    // Each second carries its wall-clock start: the run's, then 1 s apart.
    assert!(
        (wall..wall + 500).contains(&first.at_ms),
        "run began at {wall}, first second at {}",
        first.at_ms
    );
    for pair in streamed.windows(2) {
        assert_eq!(pair[1].at_ms - pair[0].at_ms, 1000, "{pair:?}");
    }
}

/// Two load threads share the arrivals and the pool; their seconds merge
/// into one set of windows.
#[tokio::test]
async fn two_threads_share_the_schedule() {
    let _serial = serial().await;
    let addr = serve(|_, arrived| Reply::At(200, arrived + Duration::from_millis(2)));
    let mut options = options(2, 8);
    options.threads = 2;
    let report = load(addr, open(200.0, 2, vec![RequestSpec::get("/")]), &options).await;
    assert_eq!(report.threads, 2);
    assert_eq!(report.intended, Some(400));
    assert_eq!(report.requests, 400);
    assert_eq!(report.dropped, 0);
    assert_eq!(report.per_second.len(), 2);
    let per_second: u64 = report.per_second.iter().map(|w| w.requests).sum();
    assert_eq!(per_second, 400);
    let p50 = report.latency_ms.corrected.p50;
    assert!((1.5..5.0).contains(&p50), "p50 {p50}");
}
