//! `understudy load` through the real binary: usage and target errors exit
//! 1 with the offending value named; a run against a loopback server exits
//! 0 (HTTP errors are data) and writes the `understudy.load/v1` report.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output};

fn understudy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_understudy"))
        .arg("load")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A keep-alive server answering every request with `status`.
fn serve(status: u16) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
                        if stream.write_all(reply.as_bytes()).is_err() {
                            return;
                        }
                    }
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn an_invalid_stage_names_its_column() {
    let out = understudy(&["http://127.0.0.1:9/", "--stages", "1m:100,1m:5x0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("invalid stage \"1m:5x0\" at column 12: "),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_1() {
    for (args, expected) in [
        (&["http://127.0.0.1:9/"][..], "nothing says how fast"),
        (
            &["http://127.0.0.1:9/", "--rate", "fast"],
            "invalid rate \"fast\"",
        ),
        (
            &["https://127.0.0.1:9/", "--rate", "1"],
            "https is not supported",
        ),
        (
            &["http://127.0.0.1:9/", "--rate", "1", "-H", "NoColon"],
            "invalid header \"NoColon\"",
        ),
        (
            &["http://127.0.0.1:9/", "--rate", "max", "--poisson"],
            "--poisson applies to an arrival rate",
        ),
    ] {
        let out = understudy(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn an_unreachable_target_exits_1_naming_the_address() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = understudy(&[&format!("http://127.0.0.1:{port}/"), "--rate", "10"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "cannot connect to 127.0.0.1:{port} (connection refused)"
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_run_with_http_errors_exits_0_with_the_json_report() {
    let addr = serve(500);
    let out = understudy(&[
        &format!("http://{addr}/x?y=1"),
        "--rate",
        "50",
        "--duration",
        "1s",
        "--json",
        "-",
        "-X",
        "post",
        "-d",
        "hello",
        "-H",
        "Content-Type: text/plain",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], "understudy.load/v1");
    assert_eq!(json["model"], "open");
    assert_eq!(json["requests"], 50);
    assert_eq!(json["errors"]["5xx"], 50);
    assert_eq!(json["schedule"], "constant 50/s");
    // The summary goes to stderr when the JSON takes stdout.
    assert!(stderr(&out).contains("5xx 50"), "{}", stderr(&out));
}

#[test]
fn rate_max_writes_the_report_file() {
    let addr = serve(200);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    let out = understudy(&[
        &format!("http://{addr}/"),
        "--rate",
        "max",
        "-c",
        "4",
        "--duration",
        "1s",
        "--json",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("closed model, 4 connections"), "{summary}");
    assert!(summary.contains("corrected = uncorrected"), "{summary}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(json["model"], "closed");
    assert_eq!(json["connections"], 4);
    assert!(json["requests"].as_u64().unwrap() > 0);
    assert_eq!(json["errors"]["io"], 0);
}
