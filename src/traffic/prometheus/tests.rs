use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// 2026-11-27T10:00:00Z.
const T0: i64 = 1_795_773_600;

fn matrix(series: &[&[(i64, &str)]]) -> String {
    let result: Vec<serde_json::Value> = series
        .iter()
        .enumerate()
        .map(|(i, values)| {
            let values: Vec<serde_json::Value> = values
                .iter()
                .map(|(t, v)| serde_json::json!([t, v]))
                .collect();
            serde_json::json!({"metric": {"instance": format!("api-{i}")}, "values": values})
        })
        .collect();
    serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": result}})
        .to_string()
}

#[test]
fn series_are_summed_and_steps_expanded() {
    let json = matrix(&[
        &[(T0, "2"), (T0 + 15, "4"), (T0 + 30, "1")],
        &[(T0, "1"), (T0 + 15, "1"), (T0 + 30, "1")],
    ]);
    let (start, rate) = rate_curve(&json).unwrap();
    assert_eq!(start, T0);
    assert_eq!(rate.len(), 45);
    assert!(rate[..15].iter().all(|&r| r == 3), "{rate:?}");
    assert!(rate[15..30].iter().all(|&r| r == 5), "{rate:?}");
    assert!(rate[30..].iter().all(|&r| r == 2), "{rate:?}");
}

#[test]
fn fractional_rates_keep_their_total() {
    let json = matrix(&[&[(T0, "0.25"), (T0 + 60, "12.7")]]);
    let c = parse_curve(&json, Some(60)).unwrap();
    assert_eq!(c.rate.len(), 120);
    let first: u32 = c.rate[..60].iter().sum();
    let second: u32 = c.rate[60..].iter().sum();
    assert_eq!((first, second), (15, 762));
    assert!(c.rate[60..].iter().all(|&r| r == 12 || r == 13));
    assert_eq!((c.series, c.samples, c.skipped), (1, 2, 0));
}

#[test]
fn gaps_hold_and_bad_values_are_skipped() {
    let json = matrix(&[&[(T0, "1"), (T0 + 10, "NaN"), (T0 + 20, "3"), (T0 + 25, "2")]]);
    let c = parse_curve(&json, None).unwrap();
    // Spacing 5 s (20 -> 25); the NaN at +10 is skipped, so 1 holds to +20.
    assert_eq!(c.rate.len(), 30);
    assert!(c.rate[..20].iter().all(|&r| r == 1));
    assert!(c.rate[20..25].iter().all(|&r| r == 3));
    assert!(c.rate[25..].iter().all(|&r| r == 2));
    assert_eq!(c.skipped, 1);
}

#[test]
fn errors_are_clear() {
    let e = rate_curve(
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": parse error"}"#,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Prometheus answered an error (bad_data): invalid parameter \"query\": parse error"
    );
    let e = rate_curve(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
        .unwrap_err();
    assert!(e.to_string().contains("got resultType \"vector\""), "{e}");
    let e = rate_curve(r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#)
        .unwrap_err();
    assert!(matches!(e, PromError::Empty));
    let e = rate_curve("<html>").unwrap_err();
    assert!(matches!(e, PromError::Json { line: 1, .. }), "{e}");
}

#[test]
fn the_step_comes_from_the_url() {
    let step = |url: &str| step_of(&Target::parse(url, "").unwrap().path);
    assert_eq!(
        step("http://p:9090/api/v1/query_range?query=x&start=1&end=2&step=15s"),
        Some(15)
    );
    assert_eq!(step("http://p/api/v1/query_range?step=30"), Some(30));
    assert_eq!(step("http://p/api/v1/query_range?query=x"), None);
}

/// Answers one request with `status` and `body`; returns the base URL and
/// a handle yielding the request head.
async fn fake_prometheus(
    status: &'static str,
    body: String,
) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0);
            head.extend_from_slice(&buf[..n]);
        }
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(reply.as_bytes()).await.unwrap();
        String::from_utf8(head).unwrap()
    });
    (format!("http://{addr}"), handle)
}

#[tokio::test]
async fn fetch_reads_a_range_query() {
    let json = matrix(&[&[(T0, "10"), (T0 + 60, "20")]]);
    let (base, server) = fake_prometheus("200 OK", json).await;
    let url = format!(
        "{base}/api/v1/query_range?query=sum(rate(http_requests_total%5B1m%5D))&start={T0}&end={}&step=60s",
        T0 + 60
    );
    let c = fetch(&url, Duration::from_secs(5)).await.unwrap();
    assert_eq!(c.start_s, T0);
    assert_eq!(c.rate.len(), 120);
    assert_eq!(c.rate.iter().sum::<u32>(), 600 + 1200);
    let head = server.await.unwrap();
    assert!(
        head.starts_with(
            "GET /api/v1/query_range?query=sum(rate(http_requests_total%5B1m%5D))&start="
        ),
        "{head}"
    );
}

#[tokio::test]
async fn fetch_reports_prometheus_errors() {
    let body = r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error"}"#.to_owned();
    let (base, _server) = fake_prometheus("400 Bad Request", body).await;
    let e = fetch(
        &format!("{base}/api/v1/query_range?query=("),
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Prometheus answered an error (bad_data): 1:5: parse error"
    );

    let (base, _server) = fake_prometheus("502 Bad Gateway", "upstream down".to_owned()).await;
    let e = fetch(
        &format!("{base}/api/v1/query_range"),
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Prometheus answered HTTP 502: \"upstream down\""
    );
}

#[tokio::test]
async fn fetch_refuses_https_and_reports_refusals() {
    let e = fetch(
        "https://prom.example/api/v1/query_range",
        Duration::from_secs(1),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("https is not supported"), "{e}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1/query_range", closed.local_addr().unwrap());
    drop(closed);
    let e = fetch(&url, Duration::from_secs(5)).await.unwrap_err();
    assert!(
        matches!(e, PromError::Get(http_get::GetError::Connect { .. })),
        "{e}"
    );
}
