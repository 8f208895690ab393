//! The demo production against the real Docker Engine: `demo up` brings a
//! genuine compose project up healthy, the gateway answers on loopback and
//! logs the request, `docker-compose ps` lists the containers as its own, a
//! second `up` converges without recreating, and `demo down` leaves nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{
    ProjectGuard, docker_available, eventually, http, labelled, understudy, unique_project,
};
use futures::StreamExt;
use understudy::platform::{Docker, LogOptions, Platform};

fn compose_file() -> String {
    format!("{}/scenarios/shop/compose.yaml", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_up_serves_logs_is_a_compose_project_and_down_removes_it() {
    if !docker_available() {
        return;
    }
    let project = unique_project("utdemo");
    let guard = ProjectGuard::new(&project);

    let out = understudy(&["demo", "-p", &project, "up", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo up failed: {stderr}\n{stdout}");
    assert!(stdout.contains("gateway: http://127.0.0.1:"), "{stdout}");
    let json_start = stdout.find('{').expect("json status");
    let status: serde_json::Value = serde_json::from_str(&stdout[json_start..]).unwrap();
    assert_eq!(status["project"], project.as_str());
    let containers = status["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 4, "{status}");
    for c in containers {
        assert_eq!(c["state"], "running", "{c}");
        assert_eq!(c["health"], "healthy", "{c}");
    }
    let gateway = status["gateway"].as_str().unwrap().to_owned();

    // A request through the gateway returns 200 ...
    let response = http("GET", &format!("{gateway}/api/products/7"), None).unwrap();
    assert_eq!(response.status, 200, "{response:?}");
    assert!(response.header("x-upstream").is_some(), "{response:?}");

    // ... and an access-log line for it appears in the gateway's log stream.
    let docker = Docker::connect().await.unwrap();
    let gateway_name = format!("{project}_gateway_1");
    let mut found = None;
    for _ in 0..50 {
        let lines: Vec<_> = docker
            .logs(&gateway_name, &LogOptions::default())
            .collect()
            .await;
        found = lines
            .into_iter()
            .filter_map(Result::ok)
            .find(|l| l.text.contains("\"GET /api/products/7 HTTP/1.1\" 200 "));
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = found.expect("access log line for the request").text;
    assert!(line.contains(" - - ["), "combined format: {line}");
    assert!(
        line.contains("\"understudy-test\""),
        "user agent logged: {line}"
    );

    // docker-compose recognises the project's containers as its own.
    let ps = Command::new("docker-compose")
        .args(["-p", &project, "-f", &compose_file(), "ps"])
        .output()
        .expect("docker-compose");
    let listing = String::from_utf8_lossy(&ps.stdout);
    assert!(
        ps.status.success(),
        "{}",
        String::from_utf8_lossy(&ps.stderr)
    );
    let listed: Vec<_> = listing
        .lines()
        .filter(|l| l.starts_with(&format!("{project}_")))
        .collect();
    assert_eq!(listed.len(), 4, "{listing}");
    assert!(listed.iter().all(|l| l.contains("Up")), "{listing}");

    // A second `up` converges: nothing recreated.
    let again = understudy(&["demo", "-p", &project, "up"]);
    let again_err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{again_err}");
    assert!(again_err.contains("(0 created, 4 kept)"), "{again_err}");

    // `demo` alone, without a terminal, converges, prints the status and exits 0.
    let plain = understudy(&["demo", "-p", &project]);
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let plain_out = String::from_utf8_lossy(&plain.stdout);
    assert!(
        plain_out.contains(&format!("gateway: {gateway}")),
        "{plain_out}"
    );
    assert!(
        plain_out.contains(&format!("{project}_api_2")),
        "{plain_out}"
    );

    // `demo status --json` agrees.
    let st = understudy(&["demo", "-p", &project, "status", "--json"]);
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["gateway"], gateway.as_str());
    assert_eq!(st["containers"].as_array().unwrap().len(), 4);

    // `demo down` leaves no container, network or volume of the project.
    let down = understudy(&["demo", "-p", &project, "down"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    let label = guard.label();
    let leftovers = eventually(Duration::from_secs(5), || {
        let all: Vec<String> = ["container", "network", "volume"]
            .iter()
            .flat_map(|k| labelled(k, &label))
            .collect();
        all.is_empty().then_some(())
    });
    assert!(leftovers.is_some(), "resources left after demo down");
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_json_lists_the_demo_with_services() {
    if !docker_available() {
        return;
    }
    let project = unique_project("utgroups");
    let _guard = ProjectGuard::new(&project);
    let out = understudy(&["demo", "-p", &project, "up"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = understudy(&["groups", "--json"]);
    assert!(out.status.success());
    let groups: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let group = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == project.as_str())
        .expect("the project is listed");
    let services: Vec<(&str, usize)> = group["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["replicas"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(services, [("api", 2), ("gateway", 1), ("store", 1)]);
}

#[test]
fn unreachable_daemon_is_one_clear_sentence_and_exit_69() {
    let out = Command::new(common::bin())
        .args(["groups"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach the Docker daemon at unix:///nonexistent/docker.sock"),
        "{err}"
    );
    assert!(err.contains("systemctl start docker"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
