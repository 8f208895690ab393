//! `understudy traffic profile` through the real binary on the fixtures in
//! `tests/fixtures/traffic/`: JSON fields, the human summary, `-o`, stdin,
//! forced formats, errors, and `--prometheus` against a fake server on
//! 127.0.0.1. No Docker needed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const ACCESS: &str = "tests/fixtures/traffic/access.log";

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(common::bin())
        .arg("traffic")
        .arg("profile")
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(data) = stdin {
        input.write_all(data).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn json_of(args: &[&str], stdin: Option<&[u8]>) -> Value {
    let out = run(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim_end().to_owned()
}

fn mix_keys(p: &Value) -> Vec<(String, String, u64)> {
    p["mix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["method"].as_str().unwrap().to_owned(),
                m["path"].as_str().unwrap().to_owned(),
                m["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn an_access_log_becomes_a_profile() {
    let p = json_of(&[ACCESS, "--json"], None);
    assert_eq!(p["schema"], "understudy.profile/v1");
    assert_eq!(p["source"], ACCESS);
    // Log times are whole seconds: a request logged at 10:00:00 after 4 ms
    // started within 10:00:00 (the middle of the second minus 4 ms); the
    // 2.7 s export logged at 10:00:05 started in 10:00:02.
    assert_eq!(p["start"], "2026-11-27T10:00:00Z");
    assert_eq!(p["rate"], json!([2, 3, 3, 1, 0, 2, 3, 0, 0, 3]));
    assert_eq!(
        p["completeness"],
        json!({
            "lines": 20, "parsed": 17, "rejected": 3,
            "reasons": {"bad status": 1, "no request line": 1, "no time": 1},
            "first_rejected": [6, 10, 17]
        })
    );
    let keys = mix_keys(&p);
    assert_eq!(keys[0], ("GET".into(), "/api/products/{id}".into(), 7));
    assert_eq!(keys[1], ("POST".into(), "/api/orders".into(), 2));
    assert_eq!(keys.len(), 10);
    assert!(keys.contains(&("PUT".into(), "/api/cart/{id}".into(), 1)));
    assert!(keys.contains(&("GET".into(), "/api/orders/{id}".into(), 1)));
    assert!(keys.contains(&("GET".into(), "/files/my%20report.pdf".into(), 1)));
    let share_sum: f64 = p["mix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["share"].as_f64().unwrap())
        .sum();
    assert!((share_sum - 1.0).abs() < 1e-9);
    assert_eq!(
        p["mix"][0]["examples"],
        json!([
            "/api/products/42",
            "/api/products/7",
            "/api/products/42?ref=home",
            "/api/products/1001",
            "/api/products/5"
        ])
    );
    assert_eq!(
        p["status"],
        json!({"200": 12, "201": 1, "204": 1, "404": 1, "429": 1, "503": 1})
    );
    let edges: Vec<(String, String, u64)> = p["edge_cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["path"].as_str().unwrap().to_owned(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        edges[0],
        ("largest-body".into(), "/api/export/report.csv".into(), 13)
    );
    let slowest: Vec<_> = edges.iter().filter(|e| e.0 == "slowest").collect();
    assert_eq!(slowest[0].1, "/api/export/report.csv");
    let errors: Vec<_> = edges.iter().filter(|e| e.0 == "error").collect();
    assert_eq!(
        errors,
        vec![
            &("error".into(), "/api/checkout".into(), 9),
            &("error".into(), "/api/orders".into(), 19)
        ]
    );
}

#[test]
fn the_human_summary_names_source_mix_and_rejected_lines() {
    let out = run(&[ACCESS], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("source       {ACCESS}\n")), "{text}");
    assert!(
        text.contains("span         2026-11-27T10:00:00Z + 10s (10 s)"),
        "{text}"
    );
    assert!(
        text.contains("requests     17, mean 1.7 rps, peak 3 rps at +1s"),
        "{text}"
    );
    assert!(text.contains("mix          10 endpoints"), "{text}");
    assert!(
        text.contains(
            "   41.18%        7  GET /api/products/{id}          153 B          4.0 / 6.0 ms  200×7\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "largest body   GET /api/export/report.csv -> 200, 4.8 MB, 2700.0 ms (line 13)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "completeness 20 lines, 17 parsed, 3 rejected (bad status: 1, no request line: 1, no time: 1); first rejected lines: 6, 10, 17"
        ),
        "{text}"
    );
}

#[test]
fn output_files_match_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("profile.json");
    let out = run(&[ACCESS, "-o", file.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        said.starts_with(&format!(
            "wrote {}: 17 requests over 10 s, 10 endpoints",
            file.display()
        )),
        "{said}"
    );
    assert!(stderr(&out).contains("3 rejected"), "{}", stderr(&out));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written, json_of(&[ACCESS, "--json"], None));
}

#[test]
fn stdin_and_apache_common() {
    let log = std::fs::read("tests/fixtures/traffic/common.log").unwrap();
    let p = json_of(&["-", "--json"], Some(&log));
    assert_eq!(p["source"], "stdin");
    assert_eq!(p["start"], "2000-10-10T20:55:36Z");
    assert_eq!(p["rate"], json!([2, 0, 2]));
    assert_eq!(p["completeness"]["parsed"], 4);
    let keys = mix_keys(&p);
    assert!(keys.contains(&("GET".into(), "/users/{id}/profile".into(), 1)));
    assert!(keys.contains(&("POST".into(), "/login".into(), 1)));
}

#[test]
fn json_lines_with_field_variants() {
    let p = json_of(&["tests/fixtures/traffic/app.jsonl", "--json"], None);
    assert_eq!(
        p["completeness"],
        json!({
            "lines": 8, "parsed": 6, "rejected": 2,
            "reasons": {"no method": 1, "not JSON": 1},
            "first_rejected": [4, 6]
        })
    );
    let orders = p["mix"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == "/api/orders")
        .unwrap();
    assert_eq!(orders["method"], "POST");
    assert_eq!(orders["count"], 2);
    assert_eq!(
        orders["examples"],
        json!(["/api/orders?src=web", "/api/orders"])
    );
    assert_eq!(orders["bodies"].as_array().unwrap().len(), 2);
    assert_eq!(orders["status"], json!({"201": 1, "500": 1}));
    let keys = mix_keys(&p);
    assert!(keys.contains(&("DELETE".into(), "/api/cart/{id}".into(), 1)));
    assert!(keys.contains(&("GET".into(), "/api/search".into(), 1)));
    assert_eq!(p["start"], "2026-11-27T10:00:00Z");
}

#[test]
fn a_har_file() {
    let p = json_of(&["tests/fixtures/traffic/session.har", "--json"], None);
    assert_eq!(p["rate"], json!([2, 0, 1]));
    assert_eq!(
        p["completeness"],
        json!({
            "lines": 4, "parsed": 3, "rejected": 1,
            "reasons": {"no response": 1},
            "first_rejected": [4]
        })
    );
    let keys = mix_keys(&p);
    assert_eq!(
        keys,
        vec![
            ("GET".into(), "/".into(), 1),
            ("POST".into(), "/api/orders".into(), 1),
            ("GET".into(), "/api/products/{id}".into(), 1)
        ]
    );
    assert_eq!(p["mix"][1]["bodies"], json!([r#"{"sku":"A-1","qty":2}"#]));
    assert_eq!(
        p["mix"][2]["examples"],
        json!(["/api/products/42?fields=name,price"])
    );
    assert_eq!(p["mix"][0]["bytes"]["max"], 5333.0);
    assert_eq!(p["mix"][2]["bytes"]["max"], 153.0);
    // Forcing the format gives the same.
    assert_eq!(
        p,
        json_of(
            &[
                "tests/fixtures/traffic/session.har",
                "--json",
                "--format",
                "har"
            ],
            None
        )
    );
}

#[test]
fn nothing_parsed_is_an_error_with_the_reasons() {
    let out = run(&[ACCESS, "--format", "jsonl"], None);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = (1..=20).map(|n| n.to_string()).collect();
    assert_eq!(
        stderr(&out),
        format!(
            "understudy: no request could be read from {ACCESS}: 20 lines, 0 parsed, 20 rejected (not JSON: 20); first rejected lines: {}",
            lines.join(", ")
        )
    );
}

#[test]
fn bad_arguments_and_missing_files() {
    let out = run(&["tests/fixtures/traffic/nope.log"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("understudy: cannot open tests/fixtures/traffic/nope.log: "),
        "{}",
        stderr(&out)
    );
    let out = run(&[], None);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&[ACCESS, "--since", "1h"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "understudy: --since applies to --from-container NAME only"
    );
    let out = run(&[ACCESS, "--format", "xml"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown format \"xml\""),
        "{}",
        stderr(&out)
    );
    let out = run(&[ACCESS, "--from-container", "web"], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a file and a container conflict"
    );
}

/// Serves one HTTP answer with `body` on 127.0.0.1; returns the base URL.
fn fake_prometheus(body: String) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0);
            head.extend_from_slice(&buf[..n]);
        }
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        String::from_utf8(head).unwrap()
    });
    (base, handle)
}

fn matrix() -> String {
    json!({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"instance": "a"}, "values": [[1_795_773_600, "2"], [1_795_773_660, "5"]]},
        {"metric": {"instance": "b"}, "values": [[1_795_773_600, "1"], [1_795_773_660, "1"]]}
    ]}})
    .to_string()
}

#[test]
fn prometheus_gives_the_rate_curve() {
    let (base, server) = fake_prometheus(matrix());
    let url = format!(
        "{base}/api/v1/query_range?query=sum(rate(http_requests_total%5B1m%5D))&start=1795773600&end=1795773660&step=60"
    );
    let p = json_of(&["--prometheus", &url, "--json"], None);
    assert_eq!(p["source"], url);
    assert_eq!(p["start"], "2026-11-27T10:00:00Z");
    let rate: Vec<u64> = p["rate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(rate.len(), 120);
    assert!(rate[..60].iter().all(|&r| r == 3) && rate[60..].iter().all(|&r| r == 6));
    assert_eq!(p["mix"], json!([]));
    assert_eq!(p["completeness"]["lines"], 4);
    assert!(
        server
            .join()
            .unwrap()
            .starts_with("GET /api/v1/query_range?query=")
    );

    // With a log: the mix from the log, the curve from Prometheus.
    let (base, _server) = fake_prometheus(matrix());
    let url = format!("{base}/api/v1/query_range?query=x&step=60");
    let p = json_of(&[ACCESS, "--prometheus", &url, "--json"], None);
    assert_eq!(p["rate"].as_array().unwrap().len(), 120);
    assert_eq!(mix_keys(&p)[0].2, 7);
    assert_eq!(p["source"], format!("{ACCESS}; rate from {url}"));
}
