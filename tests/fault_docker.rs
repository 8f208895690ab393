//! Faults against the real engine, the demo production and its shadow:
//! every catalog entry is refused on production (nothing changes there); an
//! edge latency of 200 ms raises the shadow's median by 200 ms and
//! production's not at all, and reverting restores it; a pause and a 30 %
//! packet drop show in errors and latency; faults left by a SIGKILLed
//! process are reverted by `gc`, while another operator's live fault (its
//! lease on the engine) survives that operator's neighbour's `gc`; the same
//! seed gives the same timeline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    ProjectGuard, ShadowGuard, docker_available, eventually, labelled, ok, understudy,
    unique_project,
};

fn docker_out(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Production's state that no fault may change.
fn fingerprint(project: &str) -> String {
    let ids = labelled(
        "container",
        &format!("com.docker.compose.project={project}"),
    );
    let mut lines: Vec<String> = ids
        .iter()
        .map(|id| {
            docker_out(&[
                "inspect",
                "--format",
                "{{.Name}} {{.State.Status}} {{.State.StartedAt}} {{.RestartCount}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}} {{.HostConfig.Memory}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}:{{join $v.Aliases \",\"}} {{end}}",
                id,
            ])
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

struct Setup {
    project: String,
    shadow: String,
    entry: String,
    prod_entry: String,
    _demo: ProjectGuard,
    _shadows: ShadowGuard,
}

fn setup(prefix: &str) -> Setup {
    let project = unique_project(prefix);
    let demo = ProjectGuard::new(&project);
    let shadows = ShadowGuard(project.clone());
    let status = common::demo_up(&project);
    let report = common::shadow_up(&project);
    Setup {
        shadow: report["id"].as_str().unwrap().to_owned(),
        entry: report["entry"]["gateway"].as_str().unwrap().to_owned(),
        prod_entry: status["gateway"].as_str().unwrap().to_owned(),
        project,
        _demo: demo,
        _shadows: shadows,
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn every_catalog_entry_is_refused_on_production() {
    if !docker_available() {
        return;
    }
    let project = unique_project("utfprod");
    let _demo = ProjectGuard::new(&project);
    let out = understudy(&["demo", "-p", &project, "up"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = fingerprint(&project);
    let list = understudy(&["fault", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let kinds: Vec<String> = list["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.len() >= 25, "{kinds:?}");
    for kind in &kinds {
        let mut args = vec!["fault", "apply", kind.as_str(), "--ttl", "3s"];
        let prod = format!("{project}_api_1");
        args.extend(["--container", &prod]);
        // Required parameters, so the refusal is about the target.
        match kind.as_str() {
            "credential-revocation" => args.extend(["--set", "var=API_STORE"]),
            "latency" => args.extend(["--set", "latency=100ms"]),
            "http-delay" | "slow-close" => args.extend(["--set", "delay=100ms"]),
            "bandwidth" => args.extend(["--set", "rate=1mb/s"]),
            "limit-data" => args.extend(["--set", "bytes=10"]),
            _ => {}
        }
        let out = understudy(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{kind} was applied to production: {err}"
        );
        assert!(
            err.contains("io.understudy.role=shadow"),
            "{kind} was not refused for its target: {err}"
        );
    }
    assert_eq!(fingerprint(&project), before, "production changed");
}

#[test]
fn the_same_seed_gives_the_same_timeline() {
    if !docker_available() {
        return;
    }
    let s = setup("utfseed");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("game.toml");
    std::fs::write(
        &file,
        format!(
            "seed = 11\nhorizon = \"10m\"\n[limits]\nmax_concurrent = 2\nmax_replica_share = \"50%\"\n\n[[fault]]\nkind = \"pause\"\ntarget = \"{0}/api\"\npoisson = \"3/min\"\nduration = \"20s\"\n\n[[fault]]\nkind = \"latency\"\ntarget = \"{0}/gateway->api\"\ntick = \"30s\"\nprobability = \"30%\"\nduration = \"15s\"\nset = {{ latency = \"150ms\" }}\n",
            s.shadow
        ),
    )
    .unwrap();
    let run = |seed: &str| {
        let out = understudy(&[
            "fault",
            "schedule",
            file.to_str().unwrap(),
            "--dry-run",
            "--json",
            "--seed",
            seed,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let a = run("11");
    assert_eq!(a, run("11"), "same seed, same timeline");
    assert_ne!(a, run("12"), "another seed, another timeline");
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert!(!v["events"].as_array().unwrap().is_empty());
    // The replica-share limit cut some pauses back and said why.
    let cut = v["cut"].as_array().unwrap();
    assert!(
        cut.iter()
            .all(|c| !c["reason"].as_str().unwrap().is_empty())
    );
}

/// Spawns `fault apply` in the foreground and waits until it holds.
fn hold(args: &[&str]) -> std::process::Child {
    hold_in(&common::state_dir(), args)
}

/// `hold` with its own state directory (another operator's journal).
fn hold_in(state_dir: &std::path::Path, args: &[&str]) -> std::process::Child {
    let mut child = Command::new(common::bin())
        .args(args)
        .env("UNDERSTUDY_STATE_DIR", state_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = std::io::BufReader::new(stdout);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
    assert!(line.starts_with("fault "), "{args:?}: {line}");
    child
}

fn nsenter_rules(container: &str) -> String {
    let pid = docker_out(&["inspect", "--format", "{{.State.Pid}}", container]);
    let out = Command::new("nsenter")
        .args(["-t", &pid, "-n", "iptables", "-w", "-S"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The four faults of the SIGKILL test are in place.
fn assert_faults_in_place(api1: &str, api2: &str, store: &str, proxy: &str, root: bool) {
    assert_eq!(status(api1), "paused");
    assert_eq!(
        docker_out(&["inspect", "--format", "{{.HostConfig.NanoCpus}}", api2]),
        "100000000"
    );
    let faults = docker_out(&["exec", proxy, "/understudy", "proxy", "ctl", "list"]);
    assert!(faults.contains("\"latency\""), "{faults}");
    if root {
        assert!(nsenter_rules(store).contains("understudy-fault-"));
    }
}

#[test]
fn gc_reverts_what_a_sigkilled_process_left() {
    if !docker_available() {
        return;
    }
    let s = setup("utfkill");
    let id = &s.shadow;
    let api1 = format!("{}-shadow-{id}-api-1", s.project);
    let api2 = format!("{}-shadow-{id}-api-2", s.project);
    let store = format!("{}-shadow-{id}-store-1", s.project);
    let proxy = format!("{}-shadow-{id}-proxy-api", s.project);
    let nano_before = docker_out(&["inspect", "--format", "{{.HostConfig.NanoCpus}}", &api2]);
    let mut children = vec![
        hold(&[
            "fault",
            "apply",
            "pause",
            "--target",
            &format!("{id}/api/1"),
            "--ttl",
            "5m",
        ]),
        hold(&[
            "fault",
            "apply",
            "cpu-throttle",
            "--target",
            &format!("{id}/api/2"),
            "--set",
            "cpus=0.1",
            "--ttl",
            "5m",
        ]),
        hold(&[
            "fault",
            "apply",
            "latency",
            "--target",
            &format!("{id}/gateway->api"),
            "--set",
            "latency=200ms",
            "--ttl",
            "5m",
        ]),
    ];
    let root = is_root();
    if root {
        children.push(hold(&[
            "fault",
            "apply",
            "packet-drop",
            "--target",
            &format!("{id}/store"),
            "--set",
            "percent=30%",
            "--ttl",
            "5m",
        ]));
    }
    assert_faults_in_place(&api1, &api2, &store, &proxy, root);
    // ... when their holders die without reverting.
    for c in &mut children {
        c.kill().unwrap();
        let _ = c.wait();
    }
    assert_eq!(status(&api1), "paused");

    let gc: serde_json::Value =
        serde_json::from_str(&common::gc_ok_for(&understudy(&["gc", "--json"]), &[id])).unwrap();
    // The journal reverted all four; the sweep after it found no proxy
    // of this shadow with a fault left, so it reports none cleared.
    assert_eq!(
        gc["faults_reverted"].as_array().unwrap().len(),
        children.len(),
        "{gc}"
    );
    let reset = gc["swept"]["proxies_reset"].to_string();
    for service in ["api", "gateway", "store"] {
        let name = format!("{}-shadow-{id}-proxy-{service}", s.project);
        assert!(!reset.contains(&name), "{name} had no fault left: {gc}");
    }
    assert_eq!(status(&api1), "running");
    assert_eq!(
        docker_out(&["inspect", "--format", "{{.HostConfig.NanoCpus}}", &api2]),
        nano_before
    );
    let faults = docker_out(&["exec", &proxy, "/understudy", "proxy", "ctl", "list"]);
    assert!(!faults.contains("\"latency\""), "{faults}");
    if root {
        assert!(
            !nsenter_rules(&store).contains("understudy-fault-"),
            "a packet rule survived gc"
        );
    }
    // The shadow itself is ready and stays.
    assert!(!labelled("container", &format!("io.understudy.shadow={id}")).is_empty());
}

/// `understudy gc --json` with its own state directory; the report. It
/// must not have failed on the shadow `own`.
fn gc_in(state_dir: &std::path::Path, own: &str) -> serde_json::Value {
    let out = common::understudy_in(state_dir, &["gc", "--json"]);
    serde_json::from_str(&common::gc_ok_for(&out, &[own])).unwrap()
}

fn status(container: &str) -> String {
    docker_out(&["inspect", "--format", "{{.State.Status}}", container])
}

/// Two operators share the engine, each with their own state directory
/// (journal). The second one's `gc` leaves the first one's live fault in
/// place, by its lease on the engine, and clears it (releasing the lease)
/// once its holder is gone.
#[test]
fn gc_from_another_state_dir_leaves_a_live_fault_and_clears_a_dead_one() {
    if !docker_available() {
        return;
    }
    let s = setup("utflease");
    let id = &s.shadow;
    let api1 = format!("{}-shadow-{id}-api-1", s.project);
    let leases = || {
        docker_out(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            "label=io.understudy.lease",
            "--filter",
            &format!("label=io.understudy.shadow={id}"),
        ])
    };
    let (alice, bob) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut holder = hold_in(
        alice.path(),
        &[
            "fault",
            "apply",
            "pause",
            "--target",
            &format!("{id}/api/1"),
            "--ttl",
            "5m",
        ],
    );
    assert_eq!(status(&api1), "paused");
    assert_eq!(leases().lines().count(), 1, "one lease: {}", leases());

    let report = gc_in(bob.path(), id);
    assert_eq!(
        status(&api1),
        "paused",
        "bob's gc cleared alice's live fault: {report}"
    );
    let held = report["swept"]["held_elsewhere"].to_string();
    assert!(held.contains(&api1), "{report}");
    let out = common::understudy_in(bob.path(), &["fault", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    // Bob's own pause of the same container is refused before anything
    // runs (it used to fail at the engine, and its revert unpaused alice's).
    let target = format!("{id}/api/1");
    let refused = common::understudy_in(
        bob.path(),
        &[
            "fault", "apply", "pause", "--target", &target, "--ttl", "1m",
        ],
    );
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("is held by fault"), "{why}");
    assert_eq!(status(&api1), "paused", "bob's refused pause undid alice's");
    let elsewhere = listed["elsewhere"].as_array().unwrap();
    assert!(
        elsewhere
            .iter()
            .any(|l| l["shadow"] == id.as_str() && l["containers"][0] == api1.as_str()),
        "bob's `fault list` shows alice's fault: {listed}"
    );

    holder.kill().unwrap();
    let _ = holder.wait();
    let report = gc_in(bob.path(), id);
    assert_eq!(status(&api1), "running", "{report}");
    assert_eq!(
        leases(),
        "",
        "the dead holder's lease is released: {report}"
    );
}

/// `understudy load` against a URL; the JSON report.
fn load(url: &str, rate: u32, seconds: u32) -> serde_json::Value {
    let out = understudy(&[
        "load",
        url,
        "--rate",
        &rate.to_string(),
        "--duration",
        &format!("{seconds}s"),
        "--json",
        "-",
    ]);
    common::json_after_progress(&ok(&out))
}

fn p50(report: &serde_json::Value) -> f64 {
    report["latency_ms"]["corrected"]["p50"].as_f64().unwrap()
}

/// Up to three 4 s medians of `url`, stopping at the first within 20 ms of
/// `expected`. Two shared cores running the other drills in parallel can
/// lift one 4 s median by 20 ms or more (seen in CI: 39.6 ms against a
/// 16.4 ms baseline right after a revert); a fault that is really there
/// (200 ms) lifts every one of them, so asking for one median within 20 ms
/// still fails when the fault leaked or outlived its revert.
fn p50_near(url: &str, expected: f64) -> Vec<f64> {
    let mut seen = Vec::new();
    for _ in 0..3 {
        let median = p50(&load(url, 20, 4));
        seen.push(median);
        if (median - expected).abs() < 20.0 {
            break;
        }
    }
    seen
}

/// The id `fault apply` printed (`fault 9b5b9079: latency ...`).
fn applied_id(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':')
        .to_owned()
}

/// Reverts one fault by id. Never `revert --all` here: the tests of this
/// file run in parallel and share one state dir (one journal).
fn revert(id: &str) {
    let out = understudy(&["fault", "revert", id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn errors(report: &serde_json::Value) -> u64 {
    let e = &report["errors"];
    ["connect", "timeout", "4xx", "5xx"]
        .iter()
        .map(|k| e[k].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn edge_latency_moves_the_shadow_median_by_200ms_and_production_not_at_all() {
    if !docker_available() {
        return;
    }
    let s = setup("utflat");
    let path = "/api/products/5";
    let shadow_url = format!("{}{path}", s.entry);
    let prod_url = format!("{}{path}", s.prod_entry);
    let base_shadow = p50(&load(&shadow_url, 20, 4));
    let base_prod = p50(&load(&prod_url, 20, 4));
    let out = understudy(&[
        "fault",
        "apply",
        "latency",
        "--target",
        &format!("{}/gateway->api", s.shadow),
        "--set",
        "latency=200ms",
        "--ttl",
        "2m",
        "--detach",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fault_id = applied_id(&out);
    let faulted_shadow = p50(&load(&shadow_url, 20, 4));
    let added = faulted_shadow - base_shadow;
    assert!(
        (180.0..=220.0).contains(&added),
        "shadow p50 {base_shadow:.1} -> {faulted_shadow:.1} ms (added {added:.1})"
    );
    let faulted_prod = p50_near(&prod_url, base_prod);
    assert!(
        faulted_prod.iter().any(|p| (p - base_prod).abs() < 20.0),
        "production p50 {base_prod:.1} -> {faulted_prod:.1?} ms"
    );
    let out = understudy(&["fault", "revert", &fault_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = p50_near(&shadow_url, base_shadow);
    assert!(
        after.iter().any(|p| (p - base_shadow).abs() < 20.0),
        "after revert {after:.1?} ms vs baseline {base_shadow:.1} ms"
    );
}

#[test]
fn a_pause_and_a_packet_drop_show_in_errors_and_latency() {
    if !docker_available() {
        return;
    }
    let s = setup("utfdrop");
    let url = format!("{}/api/products/9", s.entry);
    let base = load(&url, 20, 3);
    assert_eq!(errors(&base), 0, "{base}");
    let out = understudy(&[
        "fault",
        "apply",
        "pause",
        "--target",
        &format!("{}/api/1", s.shadow),
        "--ttl",
        "1m",
        "--detach",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let paused = load(&url, 20, 5);
    let p99 = |r: &serde_json::Value| r["latency_ms"]["corrected"]["p99"].as_f64().unwrap();
    assert!(
        errors(&paused) > 0 || p99(&paused) > p99(&base) + 500.0,
        "a paused replica shows: {paused}"
    );
    revert(&applied_id(&out));
    if is_root() {
        let out = understudy(&[
            "fault",
            "apply",
            "packet-drop",
            "--target",
            &format!("{}/api", s.shadow),
            "--set",
            "percent=30%",
            "--ttl",
            "1m",
            "--detach",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dropped = load(&url, 20, 5);
        assert!(
            errors(&dropped) > 0 || p99(&dropped) > p99(&base) + 200.0,
            "30% drop shows: {dropped}"
        );
        revert(&applied_id(&out));
    }
    let recovered = eventually(Duration::from_secs(20), || {
        let r = load(&url, 20, 2);
        (errors(&r) == 0).then_some(r)
    });
    assert!(recovered.is_some(), "the shadow recovers after the reverts");
}
