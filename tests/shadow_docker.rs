//! Shadows against the real Docker Engine and the demo production: a shadow
//! serves requests on loopback from its own containers only, is isolated
//! from production and the host, changes nothing in production, converges
//! when applied again, and `down` / `gc` (also after SIGKILL halfway through
//! `shadow up`) leave zero labelled resources.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    ProjectGuard, docker_available, eventually, http, labelled, remove_labelled, understudy,
    unique_project,
};

/// `shadow gc` collects every unfinished shadow whose creator is gone,
/// including a `--keep-failed` one another test is looking at: tests that
/// run gc or keep failures take this lock.
static GC_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn gc_lock() -> std::sync::MutexGuard<'static, ()> {
    GC_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes every resource of the shadows of one group when dropped.
struct ShadowGuard {
    group: String,
}

/// Unlike `common::ShadowGuard`, no `understudy gc` first: these tests
/// test `gc` and `shadow down` themselves, and a sweep from one test's
/// guard must not race another test's shadow being built.
impl Drop for ShadowGuard {
    fn drop(&mut self) {
        remove_labelled(&format!("io.understudy.of={}", self.group));
    }
}

fn docker_out(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn shadow_resources(group: &str) -> Vec<String> {
    let label = format!("io.understudy.of={group}");
    ["container", "network", "volume"]
        .iter()
        .flat_map(|k| labelled(k, &label))
        .collect()
}

/// The ids of a group's shadows (their `io.understudy.shadow` label).
fn shadow_ids(group: &str) -> Vec<String> {
    let label = format!("io.understudy.of={group}");
    let mut ids: Vec<String> = docker_out(&[
        "ps",
        "-a",
        "--filter",
        &format!("label={label}"),
        "--format",
        "{{.Label \"io.understudy.shadow\"}}",
    ])
    .lines()
    .chain(
        docker_out(&[
            "network",
            "ls",
            "--filter",
            &format!("label={label}"),
            "--format",
            "{{.Label \"io.understudy.shadow\"}}",
        ])
        .lines(),
    )
    .filter(|l| !l.is_empty())
    .map(str::to_owned)
    .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// `shadow gc`, asserting it reported no error about `group`'s shadows.
fn shadow_gc_for(group: &str) -> String {
    let ids = shadow_ids(group);
    assert!(!ids.is_empty(), "no shadow of {group} to collect");
    let own: Vec<&str> = ids.iter().map(String::as_str).collect();
    common::gc_ok_for(&understudy(&["shadow", "gc"]), &own)
}

/// A fingerprint of production that must not change: id, state, start
/// time, restart count, networks, per container.
fn production_fingerprint(project: &str) -> String {
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
                "{{.Id}} {{.State.Status}} {{.State.StartedAt}} {{.RestartCount}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}{{.HostConfig.NanoCpus}}",
                id,
            ])
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

fn up_demo(prefix: &str) -> (String, ProjectGuard, ShadowGuard) {
    let project = unique_project(prefix);
    let guard = ProjectGuard::new(&project);
    let shadows = ShadowGuard {
        group: project.clone(),
    };
    let out = understudy(&["demo", "-p", &project, "up"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (project, guard, shadows)
}

fn shadow_up(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["shadow", "up", "--json"];
    all.extend_from_slice(args);
    let out = understudy(&all);
    assert!(
        out.status.success(),
        "shadow up failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `understudy probe` run inside a container: its exit code and what it
/// printed.
fn probe(container: &str, target: &str) -> (i32, String) {
    let out = Command::new("docker")
        .args(["exec", container, "/understudy", "probe", target])
        .args(["--timeout", "1s"])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), said)
}

fn probe_from(container: &str, target: &str) -> i32 {
    probe(container, target).0
}

/// What the probe printed, and the container's networks (for a failure
/// message).
fn probe_said(container: &str, target: &str) -> String {
    let networks = docker_out(&[
        "inspect",
        "--format",
        "{{json .NetworkSettings.Networks}}",
        container,
    ]);
    format!(
        "probe: {}; networks: {networks}",
        probe(container, target).1
    )
}

/// The address of production's gateway container on its network.
fn prod_gateway_ip(project: &str) -> String {
    let ip = docker_out(&[
        "inspect",
        "--format",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        &format!("{project}_gateway_1"),
    ]);
    assert!(!ip.is_empty(), "production's gateway has no address");
    ip
}

/// Isolation: the probe works inside the shadow (a peer answers), but
/// production's containers, the host's own addresses, and (from production)
/// the shadow are all unreachable.
fn assert_isolated(project: &str, id: &str) {
    let shadow_api = format!("{project}-shadow-{id}-api-1");
    assert_eq!(
        probe_from(&shadow_api, "tcp://store:8080"),
        0,
        "shadow peers reach each other"
    );
    // ... but production's containers cannot be reached from it ...
    let target = format!("tcp://{}:8080", prod_gateway_ip(project));
    assert_ne!(
        probe_from(&shadow_api, &target),
        0,
        "shadow reached production: {}",
        probe_said(&shadow_api, &target)
    );
    // ... nor a service listening on the host's own addresses ...
    let host_listener = TcpListener::bind("0.0.0.0:0").unwrap();
    let host_port = host_listener.local_addr().unwrap().port();
    let shadow_gw_ip = docker_out(&[
        "network",
        "inspect",
        "--format",
        "{{range .IPAM.Config}}{{.Gateway}}{{end}}",
        &format!("{project}-shadow-{id}"),
    ]);
    let bridge_ip = docker_out(&[
        "network",
        "inspect",
        "--format",
        "{{range .IPAM.Config}}{{.Gateway}}{{end}}",
        "bridge",
    ]);
    for host_ip in [shadow_gw_ip.as_str(), bridge_ip.as_str()]
        .into_iter()
        .filter(|ip| !ip.is_empty())
    {
        assert_ne!(
            probe_from(&shadow_api, &format!("tcp://{host_ip}:{host_port}")),
            0,
            "shadow reached the host at {host_ip}"
        );
    }
    // ... and production cannot reach the shadow.
    let shadow_api_ip = docker_out(&[
        "inspect",
        "--format",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        &shadow_api,
    ]);
    assert_ne!(
        probe_from(
            &format!("{project}_api_1"),
            &format!("tcp://{shadow_api_ip}:8080")
        ),
        0,
        "production reached the shadow"
    );
    drop(host_listener);
}

/// The shadow starts with production's data and writes only its own copy.
fn assert_data_is_a_snapshot(prod_entry: &str, shadow_entry: &str) {
    let cart = http("GET", &format!("{shadow_entry}/api/cart/alice"), None).unwrap();
    assert_eq!(cart.status, 200, "{cart:?}");
    assert!(
        cart.body.contains("\"product\":3"),
        "the shadow has production's cart: {}",
        cart.body
    );
    let write = http(
        "POST",
        &format!("{shadow_entry}/api/cart/bob/items"),
        Some(r#"{"product":5,"qty":1}"#),
    )
    .unwrap();
    assert_eq!(write.status, 200, "{write:?}");
    let prod_bob = http("GET", &format!("{prod_entry}/api/cart/bob"), None).unwrap();
    assert!(
        !prod_bob.body.contains("\"product\":5"),
        "a shadow write reached production: {}",
        prod_bob.body
    );
}

/// A request through the entry is logged by the shadow's gateway and not
/// by production's.
fn assert_served_by_the_shadow_only(project: &str, id: &str, entry: &str) {
    let marker = format!("/api/products/11?marker={id}");
    let response = http("GET", &format!("{entry}{marker}"), None).unwrap();
    assert_eq!(response.status, 200, "{response:?}");
    let shadow_gateway = format!("{project}-shadow-{id}-gateway-1");
    let logged = eventually(Duration::from_secs(5), || {
        let logs = Command::new("docker")
            .args(["logs", &shadow_gateway])
            .output()
            .unwrap();
        String::from_utf8_lossy(&logs.stdout)
            .contains(&marker)
            .then_some(())
    });
    assert!(logged.is_some(), "the shadow gateway logged the request");
    let prod_logs = Command::new("docker")
        .args(["logs", &format!("{project}_gateway_1")])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&prod_logs.stdout).contains(&marker),
        "production saw the shadow's request"
    );
}

/// Only the ingress publishes, and only on 127.0.0.1.
fn assert_only_the_ingress_publishes_on_loopback(id: &str) {
    let ports = docker_out(&[
        "ps",
        "--filter",
        &format!("label=io.understudy.shadow={id}"),
        "--format",
        "{{.Names}} {{.Ports}}",
    ]);
    for line in ports.lines() {
        if line.contains("-ingress") {
            assert!(line.contains("127.0.0.1:"), "{line}");
            assert!(
                !line.contains("0.0.0.0:") && !line.contains(":::"),
                "{line}"
            );
        } else {
            assert!(!line.contains("->"), "a clone publishes a port: {line}");
        }
    }
}

/// (fault proxies, clones) in a `shadow up --json` container list: one
/// proxy per service with ports, the clones of every replica.
fn clones_and_proxies(containers: &[serde_json::Value]) -> (usize, usize) {
    let proxies = containers
        .iter()
        .filter(|c| c["name"].as_str().unwrap().contains("-proxy-"))
        .count();
    (proxies, containers.len() - proxies)
}

/// dockerd deletes and re-inserts its FORWARD jumps (`DOCKER-USER`,
/// `DOCKER-ISOLATION-STAGE-1`) whenever a network is created, and in
/// between a container on an internal network reaches another network's
/// published container port. The shadow's own FORWARD rules (mangle table,
/// `host_guard`) hold through it: production's gateway stays unreachable
/// from a clone while another thread creates and removes networks.
#[test]
fn a_shadow_stays_cut_off_from_production_while_the_engine_creates_networks() {
    if !docker_available() {
        return;
    }
    let (project, _demo, _shadows) = up_demo("utchurn");
    let report = shadow_up(&["--group", &project, "--no-proxies"]);
    let id = report["id"].as_str().unwrap().to_owned();
    let shadow_api = format!("{project}-shadow-{id}-api-1");
    let target = format!("tcp://{}:8080", prod_gateway_ip(&project));
    let churn_label = format!("io.understudy.test={project}-churn");
    let _churned = common::Labelled(churn_label.clone());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let (stop, project) = (stop.clone(), project.clone());
        std::thread::spawn(move || {
            let mut created = 0_usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let name = format!("{project}-churn{created}");
                docker_out(&["network", "create", "--label", &churn_label, &name]);
                docker_out(&["network", "rm", &name]);
                created += 1;
            }
            created
        })
    };
    // Many tries, so a lapse of a few milliseconds is hit: the probe runs
    // in the clone's network namespace (as the clone would send it), from
    // the host's copy of the binary, which starts faster than an exec.
    let pid = docker_out(&["inspect", "--format", "{{.State.Pid}}", &shadow_api]);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let (mut tries, mut reached) = (0, Vec::new());
    while std::time::Instant::now() < deadline {
        tries += 1;
        let out = Command::new("nsenter")
            .args(["-t", &pid, "-n", env!("CARGO_BIN_EXE_understudy"), "probe"])
            .args([target.as_str(), "--timeout", "50ms"])
            .output()
            .expect("run nsenter");
        if out.status.success() {
            reached.push(String::from_utf8_lossy(&out.stdout).into_owned());
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let created = churn.join().unwrap();
    assert!(created >= 10, "only {created} networks created");
    assert!(tries >= 100, "only {tries} probes");
    assert!(
        reached.is_empty(),
        "a clone reached production {} of {tries} times while {created} networks were created: {:?}",
        reached.len(),
        reached.first()
    );
    let down = understudy(&["shadow", "down", &id]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
}

#[test]
fn a_shadow_serves_alone_is_isolated_changes_nothing_and_leaves_nothing() {
    if !docker_available() {
        return;
    }
    let (project, _demo, _shadows) = up_demo("utshadow");
    // Production data the snapshot must carry into the shadow.
    let prod_entry = understudy(&["demo", "-p", &project, "status", "--json"]);
    let prod_entry: serde_json::Value = serde_json::from_slice(&prod_entry.stdout).unwrap();
    let prod_entry = prod_entry["gateway"].as_str().unwrap().to_owned();
    let added = http(
        "POST",
        &format!("{prod_entry}/api/cart/alice/items"),
        Some(r#"{"product":3,"qty":2}"#),
    )
    .unwrap();
    assert_eq!(added.status, 200, "{added:?}");
    let before = production_fingerprint(&project);

    let report = shadow_up(&["--group", &project, "--consistent"]);
    let id = report["id"].as_str().unwrap().to_owned();
    assert_eq!(report["group"], project.as_str());
    let entry = report["entry"]["gateway"].as_str().unwrap().to_owned();
    assert!(entry.starts_with("http://127.0.0.1:"), "{entry}");
    let containers = report["containers"].as_array().unwrap();
    let (proxies, clones) = clones_and_proxies(containers);
    assert_eq!((clones, proxies), (4, 3), "{report}");
    assert!(report["ready_ms"].as_u64().unwrap() > 0);

    assert_served_by_the_shadow_only(&project, &id, &entry);
    assert_only_the_ingress_publishes_on_loopback(&id);
    assert_isolated(&project, &id);
    assert_data_is_a_snapshot(&prod_entry, &entry);

    // Applying again converges: nothing recreated, nothing duplicated.
    let again = shadow_up(&["--group", &project]);
    assert_eq!(again["id"], id.as_str());
    assert!(
        again["containers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["action"] == "kept"),
        "{again}"
    );
    // 4 clones, 3 fault proxies, the ingress.
    assert_eq!(
        labelled("container", &format!("io.understudy.shadow={id}")).len(),
        8
    );

    // `compose ps` still sees only production.
    let ps = Command::new("docker-compose")
        .args([
            "-p",
            &project,
            "-f",
            &format!("{}/scenarios/shop/compose.yaml", env!("CARGO_MANIFEST_DIR")),
            "ps",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ps.stdout).lines().count(), 4);

    let down = understudy(&["shadow", "down", &id]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert!(
        shadow_resources(&project).is_empty(),
        "{:?}",
        shadow_resources(&project)
    );
    assert_eq!(
        production_fingerprint(&project),
        before,
        "production changed"
    );
}

#[test]
fn gc_removes_a_shadow_whose_creator_was_killed_halfway() {
    if !docker_available() {
        return;
    }
    let (project, _demo, _shadows) = up_demo("utgc");
    let _gc = gc_lock();
    let mut child = Command::new(common::bin())
        .args(["shadow", "up", "--group", &project])
        .env("UNDERSTUDY_STATE_DIR", common::state_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let label = format!("io.understudy.of={project}");
    let started = eventually(Duration::from_secs(60), || {
        (!labelled("container", &label).is_empty()).then_some(())
    });
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    assert!(
        started.is_some(),
        "shadow up created nothing before the deadline"
    );
    assert!(!shadow_resources(&project).is_empty());

    let stdout = shadow_gc_for(&project);
    assert!(stdout.contains("removed"), "{stdout}");
    assert!(
        shadow_resources(&project).is_empty(),
        "{:?}",
        shadow_resources(&project)
    );
}

#[test]
fn a_clone_that_never_becomes_healthy_fails_with_its_health_log_and_leaves_nothing() {
    if !docker_available() {
        return;
    }
    // A one-container group whose healthcheck can never pass.
    let app = unique_project("utsick");
    let name = format!("{app}-web-1");
    let _shadows = ShadowGuard {
        group: format!("app={app}"),
    };
    // Make sure the image exists (demo build is idempotent).
    assert!(understudy(&["demo", "build"]).status.success());
    let created = Command::new("docker")
        .args([
            "run",
            "-d",
            "--name",
            &name,
            "--label",
            &format!("app={app}"),
            "--health-cmd",
            "/understudy probe http://127.0.0.1:1/never",
            "--health-interval",
            "1s",
            "understudy:latest",
            "shop",
            "store",
        ])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let _sick = scopeguard(&name);
    let _gc = gc_lock();

    let out = understudy(&[
        "shadow",
        "up",
        "--selector",
        &format!("app={app}"),
        "--timeout",
        "4s",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not become ready"), "{err}");
    assert!(err.contains("last check"), "{err}");
    assert!(err.contains("was removed"), "{err}");
    assert!(shadow_resources(&format!("app={app}")).is_empty());

    // With --keep-failed it stays for inspection, and gc removes it.
    let out = understudy(&[
        "shadow",
        "up",
        "--selector",
        &format!("app={app}"),
        "--timeout",
        "3s",
        "--keep-failed",
    ]);
    assert!(!out.status.success());
    assert!(!shadow_resources(&format!("app={app}")).is_empty());
    shadow_gc_for(&format!("app={app}"));
    assert!(shadow_resources(&format!("app={app}")).is_empty());
}

/// Removes a plain container when dropped.
struct Scoped(String);
impl Drop for Scoped {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}
/// The demo image on the engine (the build is idempotent), and a fresh
/// group name whose shadows go when the guard drops.
fn image_and_group(prefix: &str) -> (String, ShadowGuard) {
    assert!(understudy(&["demo", "build"]).status.success());
    let group = unique_project(prefix);
    let guard = ShadowGuard {
        group: group.clone(),
    };
    (group, guard)
}

fn scopeguard(name: &str) -> Scoped {
    Scoped(name.to_owned())
}

#[test]
fn a_compose_file_is_shadowed_from_images_on_the_engine() {
    if !docker_available() {
        return;
    }
    let (project, _shadows) = image_and_group("utcompose");
    let file = format!("{}/scenarios/shop/compose.yaml", env!("CARGO_MANIFEST_DIR"));
    let report = shadow_up(&["--compose", &file, "-p", &project]);
    let entry = report["entry"]["gateway"].as_str().unwrap();
    let response = http("GET", &format!("{entry}/api/products/2"), None).unwrap();
    assert_eq!(response.status, 200, "{response:?}");
    let (proxies, clones) = clones_and_proxies(report["containers"].as_array().unwrap());
    assert_eq!((clones, proxies), (4, 3), "{report}");
    let id = report["id"].as_str().unwrap();
    assert!(understudy(&["shadow", "down", id]).status.success());
    assert!(shadow_resources(&project).is_empty());
}

#[test]
fn an_unknown_group_lists_the_groups_that_exist() {
    if !docker_available() {
        return;
    }
    let (project, _demo, _shadows) = up_demo("utunknown");
    let out = understudy(&["shadow", "plan", "--group", "no-such-group"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no group named \"no-such-group\""), "{err}");
    assert!(err.contains(&project), "{err}");
}

/// `shadow gc` sweeps the whole engine: a shadow whose network the engine
/// will not remove (a live container from outside the shadow still uses
/// it) is named with the engine's reason, exit 1, the container keeps its
/// network, and the other abandoned shadow still goes.
#[test]
fn gc_names_a_shadow_it_cannot_remove_and_removes_the_others() {
    if !docker_available() {
        return;
    }
    let (group, _shadows) = image_and_group("utstuck");
    let pid = std::process::id() & 0xf_ffff;
    let (stuck, free) = (format!("e{pid:05x}"), format!("f{pid:05x}"));
    let network = |id: &str| {
        let name = format!("{group}-shadow-{id}");
        let out = Command::new("docker")
            .args(["network", "create", "--label"])
            .arg(format!("io.understudy.shadow={id}"))
            .arg("--label")
            .arg(format!("io.understudy.of={group}"))
            .arg(&name)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        name
    };
    let (stuck_net, free_net) = (network(&stuck), network(&free));
    let user = format!("{group}-user");
    let ran = Command::new("docker")
        .args(["run", "-d", "--name", &user, "--label"])
        .arg(format!("io.understudy.of={group}"))
        .args([
            "--network",
            &stuck_net,
            "understudy:latest",
            "shop",
            "store",
        ])
        .output()
        .unwrap();
    assert!(ran.status.success(), "{ran:?}");

    let _gc = gc_lock();
    let out = understudy(&["shadow", "gc"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("gc: shadow {stuck}: ")),
        "{stderr}"
    );
    assert!(stderr.contains("active endpoints"), "{stderr}");
    // The helper the other drills use tolerates it, for the other shadow.
    let stdout = common::gc_ok_for(&out, &[&free]);
    assert!(stdout.contains(&free), "{stdout}");
    let networks = |name: &str| {
        labelled("network", &format!("io.understudy.of={group}")).contains(&name.to_owned())
    };
    assert!(!networks(&free_net), "the free shadow was removed");
    assert!(networks(&stuck_net));
    let attached = common::attached_networks(&user);
    assert!(attached.contains(&stuck_net), "{attached:?}");
}
