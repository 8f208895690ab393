//! `understudy watch` against the real engine: with `shop`, its shadow and
//! steady traffic on both (production by `load`, the shadow by the watch's
//! own `--replay` of a 20 req/s access log), a 200 ms edge latency fault on
//! the shadow raises an alert on the shadow's latency series within 10 s of
//! the fault and none on production's; the load engine's view of the
//! shadow (`client_*`) sees it too; the judge reports the divergence; the
//! host and the Prometheus targets are series, a dead target is stale and
//! not fatal; the run and its rollups are in the SQLite history.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{
    ProjectGuard, ShadowGuard, bin, demo_up, docker_available, ok, shadow_up, state_dir,
    unique_project,
};

/// A background `understudy` process, killed when dropped.
struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary at a lower CPU priority. On this test's 2 cores the demo's
/// production shares the CPU with our own debug-built processes (the
/// watch with its replay and scrapes, the load generator, `fault apply`
/// and its docker execs); understudy runs beside production, not on its
/// cores, so a burst of ours must not show as production latency.
fn niced() -> Command {
    let mut command = Command::new("nice");
    command.args(["-n", "10"]).arg(bin());
    command.env("UNDERSTUDY_STATE_DIR", state_dir());
    command
}

fn spawn(args: &[&str]) -> Background {
    Background(
        niced()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn edge_latency_on_the_shadow_alerts_on_the_shadow_only_and_the_judge_sees_it() {
    if !docker_available() {
        return;
    }
    let project = unique_project("utwatch");
    let _demo = ProjectGuard::new(&project);
    let _shadows = ShadowGuard(project.clone());
    let prod = demo_up(&project)["gateway"].as_str().unwrap().to_owned();
    let shadow = shadow_up(&project);
    let id = shadow["id"].as_str().unwrap().to_owned();
    let entry = shadow["entry"]["gateway"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("watch.json");
    let _prod_load = spawn(&[
        "load",
        &format!("{prod}/api/products/3"),
        "--rate",
        "20",
        "--duration",
        "120s",
    ]);
    let log_path = dir.path().join("access.log");
    write_access_log(&log_path);
    let prod_metrics = format!("prod:gateway={prod}/metrics");
    let shadow_metrics = format!("shadow:gateway={entry}/metrics");
    let watch = niced()
        .args(["watch", "--group", &project, "--duration", "90s", "--json"])
        .arg(&report_path)
        .arg("--replay")
        .arg(&log_path)
        .args(["--scrape", &prod_metrics, "--scrape", &shadow_metrics])
        // Nothing listens on the discard port: stale, not fatal.
        .args(["--scrape", "prod:dead=http://127.0.0.1:9/metrics"])
        // Every second: the scraped series have learned before the fault.
        .args(["--scrape-every", "1s"])
        // The shadow gateway's own latency histogram may page too.
        .args(["--page", PAGED])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Half a minute to learn, then the fault.
    std::thread::sleep(Duration::from_secs(50));
    let spawned_ms = now_ms();
    ok(&niced()
        .args([
            "fault",
            "apply",
            "latency",
            "--target",
            &format!("{id}/gateway->api"),
            "--set",
            "latency=200ms",
            "--ttl",
            "30s",
            "--detach",
        ])
        .output()
        .unwrap());
    let out = watch.wait_with_output().unwrap();
    let printed = ok(&out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["schema"], "understudy.watch/v1");
    assert_eq!(report["shadow"], id.as_str());

    let faults = report["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 1, "{printed}");
    let fault_ms = faults[0]["start_ms"].as_i64().unwrap();

    assert_latency_alerts(&report, &printed, fault_ms, spawned_ms);

    // The judge: the shadow's latency against its pre-fault minute failed.
    let baseline = &report["verdicts"]["vs_baseline"];
    let p50 = baseline["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "gateway/latency_p50_ms")
        .unwrap();
    assert_eq!(p50["outcome"], "fail", "{printed}");
    assert_eq!(p50["shift"], "higher");
    assert!(printed.contains("judge vs baseline: FAIL"), "{printed}");
    assert!(
        !printed.contains("still learned their baseline"),
        "the fault starts after the shadow's baselines: {printed}"
    );

    assert_the_client_saw_it(&report, &printed, fault_ms);
    assert_scrapes(&report, &printed, fault_ms);
    assert_history(&report, &prod, &entry);
}

/// A shadow latency alert starts within 10 s of the fault, and no
/// production latency alert starts once the fault may show.
fn assert_latency_alerts(
    report: &serde_json::Value,
    printed: &str,
    fault_ms: i64,
    spawned_ms: i64,
) {
    let alerts = report["alerts"].as_array().unwrap();
    let latency_alerts = |env: &str| -> Vec<&serde_json::Value> {
        alerts
            .iter()
            .filter(|a| {
                let s = &a["series"];
                s["environment"] == env && s["metric"].as_str().unwrap().starts_with("latency")
            })
            .collect()
    };
    // None on production's from the fault: no production latency alert
    // starts once the fault may show. Before it, production and shadow
    // share two cores, and a stall of the machine slows both in the same
    // second (seen in CI: production's p99 6x for a second, 6 s before
    // the fault, beside the shadow's); that is production's own latency,
    // not the fault's.
    let prod_after_fault: Vec<&serde_json::Value> = latency_alerts("prod")
        .into_iter()
        .filter(|a| a["start_ms"].as_i64().unwrap() >= fault_ms - EARLY_MS)
        .collect();
    assert!(
        prod_after_fault.is_empty(),
        "{prod_after_fault:?}\n{printed}"
    );
    // The fault raised one: a shadow latency alert starts within 10 s of
    // it. The shadow may also have had an alert of its own before (on two
    // shared cores a second's p50 can double); that is not this criterion.
    let starts: Vec<i64> = latency_alerts("shadow")
        .iter()
        .map(|a| a["start_ms"].as_i64().unwrap())
        .collect();
    assert!(
        starts.iter().any(|t| within_10s(fault_ms, *t)),
        "shadow latency alerts at {starts:?}; fault recorded at {fault_ms}, \
         `fault apply` started at {spawned_ms}:\n{printed}"
    );
}

/// How much earlier than the journal's record of the fault an alert may
/// start: series are per second and a second's point carries its start, and
/// the load engine files a request under the second it was meant to be
/// sent, so a request sent just before the fault and slowed by it alerts
/// in the second before the fault's.
const EARLY_MS: i64 = 2000;

/// Whether an alert starting at `start_ms` is the fault's: from `EARLY_MS`
/// before its record to 10 s after it.
fn within_10s(fault_ms: i64, start_ms: i64) -> bool {
    (fault_ms - EARLY_MS..=fault_ms + 10_000).contains(&start_ms)
}

/// Whether an alert covers the fault (30 s): it started in it, or it was
/// opened just before (a stall of the machine) and the fault kept it open
/// 15 s in (a quiet series closes an alert after 10 quiet seconds).
fn open_during_fault(fault_ms: i64, alert: &serde_json::Value) -> bool {
    let start = alert["start_ms"].as_i64().unwrap();
    let end = alert["end_ms"].as_i64().unwrap_or(i64::MAX);
    (fault_ms - EARLY_MS..=fault_ms + 30_000).contains(&start)
        || (start < fault_ms && end >= fault_ms + 15_000)
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// 20 req/s for two minutes, as production's access log would show it.
fn write_access_log(path: &std::path::Path) {
    use std::fmt::Write as _;
    let mut log = String::new();
    for second in 0..120 {
        for _ in 0..20 {
            writeln!(
                log,
                "127.0.0.1 - - [27/Nov/2026:10:{:02}:{:02} +0000] \"GET /api/products/3 HTTP/1.1\" 200 150 \"-\" \"test\" 0.004",
                second / 60,
                second % 60
            )
            .unwrap();
        }
    }
    std::fs::write(path, log).unwrap();
}

/// The load engine drove the shadow and saw the fault from the client, as
/// soon as the access log did.
fn assert_the_client_saw_it(report: &serde_json::Value, printed: &str, fault_ms: i64) {
    let alerts = report["alerts"].as_array().unwrap();
    let replay = &report["replay"];
    assert_eq!(replay["schema"], "understudy.load/v1");
    assert!(replay["requests"].as_u64().unwrap() > 1000, "{replay}");
    assert!(
        alerts.iter().any(|a| a["series"]["environment"] == "shadow"
            && a["series"]["metric"]
                .as_str()
                .unwrap()
                .starts_with("client_latency")
            && within_10s(fault_ms, a["start_ms"].as_i64().unwrap())),
        "no client latency alert within 10 s of the fault at {fault_ms}:\n{printed}"
    );
}

/// The `--page` pattern of the drill.
/// The histogram's mean: at 20 requests a second a scraped p99 is a bucket
/// bound that jumps between neighbours, the mean moves with every request.
/// Its API routes only: the `/metrics` route serves the scrapes themselves
/// in well under a millisecond, where one slow answer is a tenfold jump.
const PAGED: &str = "shadow/gateway/*/http_request_duration_seconds{route=\"%2Fapi*:mean";

/// The live targets answered every time, the dead one is stale; the
/// `--page` pattern made the shadow's scraped mean latency series
/// alerting, and one of them paged during the fault.
fn assert_scrapes(report: &serde_json::Value, printed: &str, fault_ms: i64) {
    let page = report["page"].as_array().unwrap();
    assert_eq!(page.len(), 1, "{printed}");
    assert_eq!(page[0]["pattern"], PAGED);
    assert!(page[0]["series"].as_u64().unwrap() >= 1, "{printed}");
    assert!(
        printed.contains(&format!("--page '{PAGED}': ")),
        "{printed}"
    );
    // It paged during the fault (30 s), and only on the shadow.
    let paged: Vec<&serde_json::Value> = report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["series"]["metric"]
                .as_str()
                .unwrap()
                .starts_with("http_request_duration_seconds")
        })
        .collect();
    assert!(
        paged.iter().all(|a| a["series"]["environment"] == "shadow"),
        "{paged:?}"
    );
    let paged = paged
        .iter()
        .find(|a| open_during_fault(fault_ms, a))
        .unwrap_or_else(|| {
            panic!("no alert on {PAGED} during the fault at {fault_ms}:\n{printed}")
        });
    assert!(
        paged["explanation"]
            .as_str()
            .unwrap()
            .starts_with("http_request_duration_seconds:mean "),
        "{paged}"
    );
    let scrape = report["scrape"].as_array().unwrap();
    assert_eq!(scrape.len(), 3);
    for t in &scrape[..2] {
        assert!(t["scrapes"].as_u64().unwrap() >= 30, "{t}");
        assert_eq!(t["failures"], 0, "{t}");
        assert_eq!(t["stale"], false, "{t}");
    }
    assert_eq!(scrape[2]["stale"], true, "{}", scrape[2]);
    // Each is named as it was given.
    assert_eq!(
        scrape[2]["name"], "prod:dead=http://127.0.0.1:9/metrics",
        "{}",
        scrape[2]
    );
    assert!(
        printed.contains("scrape http://127.0.0.1:9/metrics: "),
        "{printed}"
    );
}

/// The run is in the history, with rollups of the host and the scrapes.
fn assert_history(report: &serde_json::Value, prod: &str, entry: &str) {
    let db = state_dir().join("understudy.db");
    let run_id = report["run_id"].as_i64().unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut query = conn
        .prepare("SELECT DISTINCT series FROM rollups WHERE run_id = ?1")
        .unwrap();
    let series: Vec<String> = query
        .query_map([run_id], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let port = |url: &str| url.rsplit(':').next().unwrap().to_owned();
    let has = |prefix: &str, part: &str| {
        series
            .iter()
            .any(|s| s.starts_with(prefix) && s.contains(part))
    };
    assert!(has("host/machine/cpu_percent", ""), "{series:?}");
    assert!(has("host/machine/load1", ""), "{series:?}");
    let prod_instance = format!("prod/gateway/127.0.0.1:{}/", port(prod));
    let shadow_instance = format!("shadow/gateway/127.0.0.1:{}/", port(entry));
    assert!(has(&prod_instance, "http_requests_total"), "{series:?}");
    assert!(has(&shadow_instance, ":p99"), "{series:?}");
    assert!(
        has("shadow/gateway/client_latency_p99_ms", ""),
        "{series:?}"
    );
    assert_history_command(report);
}

/// `understudy history` lists the run and shows it in full: the shadow, the
/// failed baseline verdict, the fault and the shadow's latency alert.
fn assert_history_command(report: &serde_json::Value) {
    let run_id = report["run_id"].as_i64().unwrap().to_string();
    let listed = ok(&niced().args(["history", "--limit", "50"]).output().unwrap());
    let line = listed
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{run_id} ")))
        .unwrap_or_else(|| panic!("run {run_id} not listed:\n{listed}"));
    let alerts = report["alerts"].as_array().unwrap().len().to_string();
    assert!(line.contains(report["shadow"].as_str().unwrap()), "{line}");
    assert!(
        line.contains(&format!(" {alerts}  ")),
        "{alerts} alerts: {line}"
    );
    assert!(
        line.ends_with("FAIL 0"),
        "the baseline verdict last: {line}"
    );
    let shown = ok(&niced().args(["history", &run_id]).output().unwrap());
    let fault = report["faults"][0]["id"].as_str().unwrap();
    assert!(
        shown.contains(&format!("fault {fault} latency on ")),
        "{shown}"
    );
    assert!(shown.contains("; vs baseline: FAIL"), "{shown}");
    assert!(shown.contains("shadow/gateway/latency_p"), "{shown}");
    let missing = niced().args(["history", "999999"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no run 999999 in "),
        "{missing:?}"
    );
}
