//! Shared fixtures for integration tests: the binary under test, a Docker
//! availability gate (a failure under `CI=true`, a skip otherwise), unique
//! project names, a drop guard that removes everything a test created, and a
//! tiny loopback HTTP client.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The `understudy` binary cargo built for this test run.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_understudy"))
}

/// Runs the binary with arguments, with a state dir private to the test.
pub fn understudy(args: &[&str]) -> Output {
    understudy_in(&state_dir(), args)
}

/// Runs the binary with its own state directory (another operator).
pub fn understudy_in(state_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("UNDERSTUDY_STATE_DIR", state_dir)
        .output()
        .expect("run understudy")
}

pub fn state_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("understudy-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether Docker answers. Under `CI=true` a missing Docker fails the test.
pub fn docker_available() -> bool {
    let ok = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but the Docker daemon does not answer (`docker info` failed)"
        );
        eprintln!("skipping: the Docker daemon does not answer");
    }
    ok
}

/// A project name unique to this test process and call.
pub fn unique_project(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn docker(args: &[&str]) -> String {
    Command::new("docker")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Ids of containers / names of networks and volumes with a label.
pub fn labelled(kind: &str, label: &str) -> Vec<String> {
    let format = match kind {
        "container" => "{{.ID}}",
        _ => "{{.Name}}",
    };
    let list = match kind {
        "container" => docker(&["ps", "-aq", "--filter", &format!("label={label}")]),
        "image" => docker(&["images", "-q", "--filter", &format!("label={label}")]),
        _ => docker(&[
            kind,
            "ls",
            "--filter",
            &format!("label={label}"),
            "--format",
            format,
        ]),
    };
    list.lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Removes every container, network and volume of a compose project when
/// dropped, also when the test panics. Uses the docker CLI, independent of
/// the code under test.
pub struct ProjectGuard {
    pub project: String,
}

impl ProjectGuard {
    pub fn new(project: &str) -> Self {
        Self {
            project: project.to_owned(),
        }
    }

    pub fn label(&self) -> String {
        format!("com.docker.compose.project={}", self.project)
    }
}

impl Drop for ProjectGuard {
    fn drop(&mut self) {
        remove_labelled(&self.label());
    }
}

/// Removes what carries a label (`key=value`) when dropped, also when the
/// test panics.
pub struct Labelled(pub String);

impl Drop for Labelled {
    fn drop(&mut self) {
        remove_labelled(&self.0);
    }
}

/// Removes the containers, networks, volumes and images that carry `label`.
pub fn remove_labelled(label: &str) {
    let ids = labelled("container", label);
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        docker(&args);
    }
    // The engine may hold a removed container's endpoint for a moment.
    for n in labelled("network", label) {
        for attempt in 1..=10 {
            let out = Command::new("docker")
                .args(["network", "rm", &n])
                .output()
                .expect("run docker");
            let err = String::from_utf8_lossy(&out.stderr);
            if out.status.success() || !err.contains("active endpoints") {
                break;
            }
            if attempt == 5 {
                force_endpoints_off(&n);
            }
            std::thread::sleep(Duration::from_millis(100 * attempt));
        }
    }
    for v in labelled("volume", label) {
        docker(&["volume", "rm", "-f", &v]);
    }
    let images = labelled("image", label);
    if !images.is_empty() {
        let mut args = vec!["rmi", "-f"];
        args.extend(images.iter().map(String::as_str));
        docker(&args);
    }
}

/// Force-disconnects every endpoint a network still lists, by container
/// name (Docker 20.10 can keep a removed container's endpoint for good:
/// moby#17217).
fn force_endpoints_off(network: &str) {
    let listed = docker(&[
        "network",
        "inspect",
        network,
        "--format",
        "{{range $k, $v := .Containers}}{{$v.Name}} {{$k}}\n{{end}}",
    ]);
    for line in listed.lines() {
        for name in line.split_whitespace() {
            let out = Command::new("docker")
                .args(["network", "disconnect", "-f", network, name])
                .output()
                .expect("run docker");
            if out.status.success() {
                break;
            }
        }
    }
}

/// The networks a container is attached to, by name.
pub fn attached_networks(container: &str) -> Vec<String> {
    docker(&[
        "inspect",
        "--format",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        container,
    ])
    .split_whitespace()
    .map(str::to_owned)
    .collect()
}

/// Asserts a `gc` or `shadow gc` run failed on none of the `own` shadows
/// (ids) and returns its stdout. Both sweep the whole engine and exit 1
/// naming a shadow the engine refused to remove (`gc: shadow ID: ...`);
/// another test's or operator's shadow is not this test's business.
pub fn gc_ok_for(out: &Output, own: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| own.iter().any(|id| l.contains(&format!("shadow {id}"))))
        .collect();
    assert!(ours.is_empty(), "gc failed on this test's shadow: {stderr}");
    assert!(
        out.status.success() || stderr.lines().all(|l| l.starts_with("gc: shadow ")),
        "{stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts a command succeeded (showing its stderr) and returns its stdout.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The JSON object a command printed after its progress lines.
pub fn json_after_progress(stdout: &str) -> serde_json::Value {
    serde_json::from_str(&stdout[stdout.find('{').unwrap()..]).unwrap()
}

/// `demo -p PROJECT up --json`: production's status (`gateway` is its URL).
pub fn demo_up(project: &str) -> serde_json::Value {
    json_after_progress(&ok(&understudy(&["demo", "-p", project, "up", "--json"])))
}

/// `shadow up --group PROJECT --json`: the shadow's report (`id`, `entry`).
pub fn shadow_up(project: &str) -> serde_json::Value {
    let out = ok(&understudy(&["shadow", "up", "--group", project, "--json"]));
    serde_json::from_str(&out).unwrap()
}

/// Removes every shadow of a group (containers, networks, volumes by the
/// `io.understudy.of` label) when dropped, after `understudy gc` has
/// reverted any fault left on them; a second `gc` then removes the host
/// firewall rule shadows share once no shadow network is left.
pub struct ShadowGuard(pub String);

impl Drop for ShadowGuard {
    fn drop(&mut self) {
        let _ = understudy(&["gc"]);
        remove_labelled(&format!("io.understudy.of={}", self.0));
        let _ = understudy(&["gc"]);
    }
}

/// A minimal HTTP/1.1 response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request to a loopback URL (`http://127.0.0.1:PORT/path`).
pub fn http(method: &str, url: &str, body: Option<&str>) -> std::io::Result<Response> {
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .expect("tests only talk to 127.0.0.1");
    let (port, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(p, path)| (p, format!("/{path}")));
    let mut stream = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap()))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: understudy-test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// Polls `check` until it returns `Some` or the deadline passes.
pub fn eventually<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
