use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use super::{Feed, Followed, follow_log};
use crate::domain::series::Environment;
use crate::domain::traffic::Record;
use crate::fixtures::fake::Fake;
use crate::platform::{LogLine, LogStream};
use crate::watch::entry_log::EntryLog;

/// Follows production's gateway on a fake engine whose log gives `lines`
/// (stdout) and then stays open and silent.
fn follow(lines: &[&str]) -> (mpsc::Receiver<Feed>, CancellationToken) {
    follow_streams(
        lines
            .iter()
            .map(|&text| (LogStream::Stdout, text))
            .collect(),
    )
}

/// [`follow`] with each line's stream.
fn follow_streams(lines: Vec<(LogStream, &str)>) -> (mpsc::Receiver<Feed>, CancellationToken) {
    follow_lines(
        lines
            .into_iter()
            .map(|(stream, text)| LogLine {
                stream,
                text: format!("{text}\n"),
                time_ms: None,
            })
            .collect(),
    )
}

/// [`follow`] with the lines as the engine gives them (its stamps too).
fn follow_lines(lines: Vec<LogLine>) -> (mpsc::Receiver<Feed>, CancellationToken) {
    let fake = Fake::new();
    fake.with(|s| s.logs = Some(lines));
    follow_on(fake)
}

/// A stdout line the engine stamped at `time_ms`.
fn stamped(text: &str, time_ms: i64) -> LogLine {
    LogLine {
        stream: LogStream::Stdout,
        text: text.to_owned(),
        time_ms: Some(time_ms),
    }
}

/// Follows production's gateway on `fake`.
fn follow_on(fake: Fake) -> (mpsc::Receiver<Feed>, CancellationToken) {
    follow_as(fake, EntryLog::default())
}

/// [`follow_on`] reading the log with `log`.
fn follow_as(fake: Fake, log: EntryLog) -> (mpsc::Receiver<Feed>, CancellationToken) {
    let gateway = Followed {
        environment: Environment::Prod,
        service: "gateway".into(),
        instance: "shop_gateway_1".into(),
        id: "g1".into(),
        entry: true,
    };
    let (tx, rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    tokio::spawn(follow_log(
        fake,
        gateway,
        log,
        // The watch began when the fake's lines were written (T0).
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_773_600),
        tx,
        cancel.clone(),
    ));
    (rx, cancel)
}

/// Whether nothing more comes in the next ten minutes (of paused time).
async fn quiet(rx: &mut mpsc::Receiver<Feed>) -> bool {
    timeout(Duration::from_secs(600), rx.recv()).await.is_err()
}

fn notice(feed: Option<Feed>) -> String {
    match feed {
        Some(Feed::Notice(text)) => text,
        other => panic!("expected a notice, got {other:?}"),
    }
}

/// The record fed, with its environment and service.
fn fed_record(feed: Option<Feed>) -> (Environment, String, Record) {
    match feed {
        Some(Feed::Record {
            environment,
            service,
            record,
        }) => (environment, service, record),
        other => panic!("expected a record, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn an_entry_silent_for_a_minute_is_named_once() {
    let (mut rx, cancel) = follow(&[]);
    assert!(
        timeout(Duration::from_secs(59), rx.recv()).await.is_err(),
        "nothing before a minute"
    );
    let text = notice(timeout(Duration::from_secs(2), rx.recv()).await.unwrap());
    assert!(
        text.starts_with("shop_gateway_1 (production's entry) logged nothing"),
        "{text}"
    );
    assert!(quiet(&mut rx).await, "named once");
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn json_requests_after_a_banner_are_records_and_need_no_notice() {
    let (mut rx, cancel) = follow(&[
        "listening on :8080",
        r#"{"ts":1795773600000,"method":"GET","path":"/api/cart","status":503,"latency_ms":12}"#,
    ]);
    let (environment, service, record) =
        fed_record(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert_eq!(
        (environment, service.as_str()),
        (Environment::Prod, "gateway")
    );
    assert_eq!((record.path.as_str(), record.status), ("/api/cart", 503));
    assert!(quiet(&mut rx).await, "it logged: no silence notice");
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn an_entry_logging_no_requests_is_named_with_its_first_line() {
    let lines: Vec<String> = (0..20).map(|n| format!("level=info msg=tick{n}")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (mut rx, cancel) = follow(&lines);
    let text = notice(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert!(
        text.starts_with(
            "the access log of shop_gateway_1 gave 20 lines and no request \
             (understudy reads nginx/Apache combined or common, Traefik, Envoy, \
             HAProxy, Python http.server and uvicorn lines, and JSON lines); \
             the first: \"level=info msg=tick0\" (no time)"
        ),
        "{text}"
    );
    assert!(quiet(&mut rx).await);
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_request_on_stderr_is_a_record_and_the_error_log_is_not_remarked() {
    let caddy = r#"{"level":"info","ts":1795773600.25,"logger":"http.log.access","request":{"method":"POST","uri":"/api/orders"},"duration":0.02,"size":2,"status":201}"#;
    let mut lines = vec![(LogStream::Stderr, "[notice] start worker processes"); 25];
    lines.push((LogStream::Stderr, caddy));
    let (mut rx, cancel) = follow_streams(lines);
    let (_, _, record) = fed_record(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert_eq!((record.path.as_str(), record.status), ("/api/orders", 201));
    assert!(quiet(&mut rx).await);
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_log_the_engine_will_not_give_is_named_with_what_it_costs() {
    let fake = Fake::new();
    fake.with(|s| {
        s.logs_refused = Some("configured logging driver does not support reading".into());
    });
    let (mut rx, cancel) = follow_on(fake);
    let text = notice(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert!(
        text.starts_with("the log of shop_gateway_1 (production's entry) cannot be read: "),
        "{text}"
    );
    assert!(
        text.contains("configured logging driver does not support reading"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "production's request metrics stay empty (a logging driver Docker cannot \
             read back, such as `none`, hides an entry's requests from the watch)"
        ),
        "{text}"
    );
    assert!(
        timeout(Duration::from_secs(600), rx.recv())
            .await
            .unwrap()
            .is_none(),
        "the follower ends: no silence notice after it"
    );
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_log_an_hour_ahead_is_moved_onto_the_clock_and_named() {
    // Python's http.server in a container with TZ=Europe/Paris (UTC+1).
    let (mut rx, cancel) = follow_streams(vec![(
        LogStream::Stderr,
        r#"172.18.0.1 - - [27/Nov/2026 11:00:00] "GET /api/cart HTTP/1.1" 200 -"#,
    )]);
    let text = notice(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert!(
        text.starts_with("the log times of shop_gateway_1 run 1 h ahead of the watch's clock"),
        "{text}"
    );
    let (_, _, record) = fed_record(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert_eq!(
        record.start_ms, 1_795_773_600_000,
        "10:00 UTC, the watch's time"
    );
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_uvicorn_request_is_placed_at_the_engines_stamp() {
    let (mut rx, cancel) = follow_lines(vec![stamped(
        r#"INFO:     172.18.0.1:54400 - "GET /api/cart HTTP/1.1" 200 OK"#,
        1_795_773_602_000,
    )]);
    let (_, _, record) = fed_record(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert_eq!(
        (record.path.as_str(), record.start_ms),
        ("/api/cart", 1_795_773_602_000)
    );
    assert!(quiet(&mut rx).await, "on the clock: no notice");
    cancel.cancel();
}

/// The offset is measured against the engine's stamp of the line, not the
/// time the watch reads it (a backlog read late is not off).
#[tokio::test(start_paused = true)]
async fn a_log_is_measured_against_the_engines_stamp() {
    let (mut rx, cancel) = follow_lines(vec![stamped(
        r#"172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 5"#,
        1_795_773_600_000 + 3_600_000,
    )]);
    let text = notice(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert!(text.contains("run 1 h behind the watch's clock"), "{text}");
    let (_, _, record) = fed_record(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert_eq!(record.start_ms, 1_795_773_600_000 + 3_600_000);
    cancel.cancel();
}

/// `--log-format`: Apache's `%D` (microseconds), which no guess reads, is
/// the request's latency; lines not in the format are named with it.
#[tokio::test(start_paused = true)]
async fn a_named_log_format_reads_what_a_guess_cannot() {
    let format = r#"%h %l %u %t "%r" %>s %b %D"#;
    let template =
        std::sync::Arc::new(crate::traffic::parse::LogTemplate::compile(format).unwrap());
    let line = |n: usize| {
        let text = format!(
            r#"172.18.0.1 - - [27/Nov/2026:10:00:0{n} +0000] "GET /api/p/{n} HTTP/1.1" 200 6 1406"#
        );
        stamped(&text, 1_795_773_600_000 + 1000 * n as i64)
    };
    let fake = Fake::new();
    fake.with(|s| s.logs = Some(vec![line(1)]));
    let (mut rx, cancel) = follow_as(fake, EntryLog::in_format(template.clone()));
    let (_, _, record) = fed_record(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert_eq!(
        (record.path.as_str(), record.duration_ms, record.start_ms),
        ("/api/p/1", Some(1.406), 1_795_773_601_000)
    );
    assert!(quiet(&mut rx).await);
    cancel.cancel();

    let combined: Vec<LogLine> = (0..20)
        .map(|n| {
            let text =
                r#"172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 6 "-" "curl""#;
            stamped(text, 1_795_773_600_000 + n)
        })
        .collect();
    let fake = Fake::new();
    fake.with(|s| s.logs = Some(combined));
    let (mut rx, cancel) = follow_as(fake, EntryLog::in_format(template));
    let text = notice(timeout(Duration::from_secs(1), rx.recv()).await.unwrap());
    assert!(
        text.starts_with(&format!(
            "the access log of shop_gateway_1 gave 20 lines and none in the log format given \
             (--log-format '{format}'); the first: "
        )),
        "{text}"
    );
    assert!(text.contains("(bad duration)"), "{text}");
    cancel.cancel();
}
