use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::*;

const PAGE: &str = include_str!("../../../tests/fixtures/prometheus/demo_api.txt");

/// What the test server does for request number `n` (from 0).
#[derive(Clone, Copy)]
enum Behaviour {
    Page,
    Fail,
    Hang,
}

/// Serves on 127.0.0.1: `plan(n)` decides each answer. The task ends with
/// the test's runtime.
async fn server(plan: fn(u32) -> Behaviour) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicU32::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let count = count.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req| {
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let (status, body) = match plan(n) {
                            Behaviour::Page => (StatusCode::OK, PAGE),
                            Behaviour::Fail => (StatusCode::INTERNAL_SERVER_ERROR, "boom"),
                            Behaviour::Hang => {
                                tokio::time::sleep(Duration::from_secs(30)).await;
                                (StatusCode::OK, PAGE)
                            }
                        };
                        let mut response =
                            Response::new(Full::new(Bytes::from_static(body.as_bytes())));
                        *response.status_mut() = status;
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A loopback port with nothing listening.
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn scrapes_and_parses_a_page() {
    let addr = server(|_| Behaviour::Page).await;
    let page = scrape(&format!("http://{addr}/metrics"), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(page.samples.len(), 39);
    assert!(page.errors.is_empty());
}

#[tokio::test]
async fn failures_are_typed() {
    let addr = server(|_| Behaviour::Fail).await;
    let err = scrape(&format!("http://{addr}/metrics"), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ScrapeError::Status { status: 500, .. }),
        "{err}"
    );
    let closed = closed_port().await;
    let err = scrape(&format!("http://{closed}/metrics"), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ScrapeError::Get(crate::http_get::GetError::Connect { .. })
        ),
        "{err}"
    );
    let hang = server(|_| Behaviour::Hang).await;
    let err = scrape(
        &format!("http://{hang}/metrics"),
        Duration::from_millis(200),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ScrapeError::Timeout(_)), "{err}");
    for (url, needle) in [
        ("https://127.0.0.1/metrics", "https"),
        ("ftp://x/", "expected http"),
        ("::", "parse"),
    ] {
        let err = scrape(url, Duration::from_secs(1)).await.unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}

/// A target that fails twice in a row is stale (with the error), the other
/// targets keep scraping, and the next success clears it.
#[tokio::test]
async fn a_failing_target_goes_stale_and_recovers() {
    let flaky = server(|n| {
        if (1..=2).contains(&n) {
            Behaviour::Fail
        } else {
            Behaviour::Page
        }
    })
    .await;
    let steady = server(|_| Behaviour::Page).await;
    let closed = closed_port().await;
    let mut scraper = Scraper::new(ScrapeConfig {
        timeout: Duration::from_secs(5),
        stale_after: 2,
    });
    scraper.add_target("flaky", format!("http://{flaky}/metrics"));
    scraper.add_target("steady", format!("http://{steady}/metrics"));
    scraper.add_target("down", format!("http://{closed}/metrics"));

    let pages = scraper.scrape_all(1000).await;
    assert_eq!(
        pages.iter().map(|p| p.target.as_str()).collect::<Vec<_>>(),
        ["flaky", "steady"]
    );
    let down = &scraper.targets()[2];
    assert!(!down.stale && down.consecutive_failures == 1);

    let pages = scraper.scrape_all(2000).await;
    assert_eq!(pages.len(), 1);
    assert!(!scraper.targets()[0].stale);
    assert!(scraper.targets()[2].stale);
    assert!(
        scraper.targets()[2]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("connecting to")
    );

    scraper.scrape_all(3000).await;
    let flaky_status = &scraper.targets()[0];
    assert!(flaky_status.stale);
    assert!(
        flaky_status
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("HTTP 500")
    );
    assert_eq!(flaky_status.last_success_ms, Some(1000));

    scraper.scrape_all(4000).await;
    let flaky_status = &scraper.targets()[0];
    assert!(!flaky_status.stale && flaky_status.last_error.is_none());
    assert_eq!(
        (
            flaky_status.scrapes,
            flaky_status.failures,
            flaky_status.samples
        ),
        (4, 2, 39)
    );
    assert_eq!(scraper.targets()[1].failures, 0);
    assert_eq!(scraper.targets()[2].failures, 4);
    assert!(scraper.remove_target("down"));
    assert_eq!(scraper.targets().len(), 2);
}
