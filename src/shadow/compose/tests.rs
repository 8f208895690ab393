//! End-to-end tests of reading compose files: the shop scenario, the valid
//! fixtures (every supported form, merge keys, unknown keys, env files) and
//! the invalid fixtures against their `.expected` error texts.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::domain::ServiceSpec;
use crate::domain::group_spec::DependencySource;
use crate::domain::spec::{Healthcheck, Mount, NetworkAttachment, Publish, RestartPolicy, Ulimit};

const FIXTURES: &str = "tests/fixtures/compose";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

fn no_env_files(path: &Path) -> io::Result<String> {
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("{} (no env files here)", path.display()),
    ))
}

fn images() -> BTreeMap<String, String> {
    [
        ("understudy:latest", "sha256:1111"),
        ("postgres:16", "sha256:2222"),
        ("busybox:1.36", "sha256:3333"),
    ]
    .iter()
    .map(|(r, id)| ((*r).to_owned(), (*id).to_owned()))
    .collect()
}

/// Reads the file at `rel` (relative to the crate) under that relative path.
fn spec_of(rel: &str) -> Result<ComposeSpec, ComposeError> {
    let text = read(rel);
    let input = ComposeInput {
        path: Path::new(rel),
        text: &text,
        project: None,
        read_env_file: &no_env_files,
    };
    to_spec(&input, &images())
}

fn service<'a>(spec: &'a ComposeSpec, name: &str) -> &'a ServiceSpec {
    spec.spec
        .service(name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_shop_scenario_becomes_its_spec() {
    let c = spec_of("scenarios/shop/compose.yaml").unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let s = &c.spec;
    assert_eq!(s.group, "shop");
    assert_eq!(s.schema, SPEC_SCHEMA);
    assert_eq!(
        s.source,
        SpecSource::ComposeFile {
            path: "scenarios/shop/compose.yaml".into()
        }
    );
    let names: Vec<&str> = s.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["store", "api", "gateway"]);
    assert_eq!(s.volumes, ["shop_store-data"]);
    assert_eq!(s.networks, ["shop_default"]);
    let probe = strings(&[
        "CMD",
        "/understudy",
        "probe",
        "http://127.0.0.1:8080/healthz",
    ]);
    for svc in &s.services {
        let c = &svc.container;
        assert_eq!(svc.image_id, "sha256:1111");
        assert!(svc.instances.is_empty());
        assert_eq!(c.image, "understudy:latest");
        assert_eq!(c.cmd, strings(&["shop", &svc.name]));
        assert_eq!(c.resources.memory, Some(268_435_456));
        assert_eq!(c.resources.pids_limit, Some(256));
        assert_eq!(c.restart, RestartPolicy::UnlessStopped);
        assert_eq!(c.stop_grace, Some(Duration::from_secs(5)));
        assert_eq!(c.exposed, ["8080/tcp"]);
        let hc = c.healthcheck.as_ref().unwrap();
        assert_eq!(hc.test, probe, "exec form");
        assert_eq!(
            (hc.interval, hc.timeout, hc.retries),
            (Duration::from_secs(2), Duration::from_secs(2), 3)
        );
        assert_eq!(
            c.networks,
            [NetworkAttachment {
                network: "shop_default".into(),
                aliases: vec![svc.name.clone()]
            }]
        );
    }
    let store = service(&c, "store");
    assert_eq!(store.replicas, 1);
    assert_eq!(
        store.container.mounts,
        [Mount {
            kind: MountKind::Volume,
            source: "shop_store-data".into(),
            target: "/data".into(),
            read_only: false
        }]
    );
    assert_eq!(store.container.env["STORE_DATA"], "/data");
    let api = service(&c, "api");
    assert_eq!(api.replicas, 2);
    assert_eq!(api.container.resources.nano_cpus, Some(500_000_000));
    assert_eq!(api.depends_on, ["store"]);
    assert_eq!(api.dependency_source, DependencySource::DependsOn);
    assert_eq!(api.container.env["API_WORKERS"], "4");
    let gateway = service(&c, "gateway");
    assert_eq!(gateway.depends_on, ["api"]);
    assert_eq!(
        gateway.container.publish,
        [Publish {
            container_port: 8080,
            protocol: "tcp".into(),
            host_ip: "127.0.0.1".into(),
            host_port: None
        }]
    );
    assert_eq!(s.published_services().len(), 1);
}

#[test]
fn image_refs_list_each_service_image_by_name() {
    let text = read("scenarios/shop/compose.yaml");
    let input = ComposeInput {
        path: Path::new("scenarios/shop/compose.yaml"),
        text: &text,
        project: Some("other"),
        read_env_file: &no_env_files,
    };
    let refs = image_refs(&input).unwrap();
    let want: Vec<(String, String)> = ["api", "gateway", "store"]
        .iter()
        .map(|s| ((*s).to_owned(), "understudy:latest".to_owned()))
        .collect();
    assert_eq!(refs, want);
    let c = to_spec(&input, &images()).unwrap();
    assert_eq!(c.spec.group, "other", "the caller's project wins");
    assert_eq!(c.spec.volumes, ["other_store-data"]);
}

#[test]
fn every_supported_form_of_the_full_fixture() {
    let c = spec_of(&format!("{FIXTURES}/valid/full.yaml")).unwrap();
    let s = &c.spec;
    assert_eq!(s.group, "full", "top-level name:");
    let names: Vec<&str> = s.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["db", "api", "sidecar"],
        "profiles are skipped, dependencies first"
    );
    assert_eq!(s.networks, ["full_back", "full_front"]);
    assert_eq!(s.volumes, ["central-logs", "full_db-data", "shared"]);
    assert_eq!(
        c.warnings,
        strings(&[
            "services.debug: behind profile \"debug\"; not started, as without --profile",
            "services.api.tmpfs: options \"size=64m\" of /tmp are not kept",
            "services.db.restart: on-failure:3: the retry limit is not kept, only on-failure",
            "services.db.volumes[3]: anonymous volume at \"/scratch\" skipped; the container's own layer holds that data",
        ])
    );
}

#[test]
fn full_fixture_db_service() {
    let c = spec_of(&format!("{FIXTURES}/valid/full.yaml")).unwrap();
    let db = service(&c, "db");
    let k = &db.container;
    assert_eq!(db.image_id, "sha256:2222");
    assert_eq!(k.entrypoint, Some(strings(&["docker-entrypoint.sh"])));
    assert_eq!(
        k.cmd,
        strings(&[
            "postgres",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "max_connections=50"
        ])
    );
    assert_eq!(
        k.env,
        BTreeMap::from([
            ("POSTGRES_DB".into(), "app".into()),
            ("POSTGRES_PASSWORD".into(), String::new())
        ])
    );
    assert_eq!(
        k.labels,
        BTreeMap::from([
            ("tier".into(), "data".into()),
            ("backup".into(), String::new())
        ])
    );
    let dir = format!("{FIXTURES}/valid");
    let m = |kind, source: &str, target: &str, read_only| Mount {
        kind,
        source: source.into(),
        target: target.into(),
        read_only,
    };
    assert_eq!(
        k.mounts,
        [
            m(
                MountKind::Volume,
                "full_db-data",
                "/var/lib/postgresql/data",
                false
            ),
            m(
                MountKind::Bind,
                &format!("{dir}/init"),
                "/docker-entrypoint-initdb.d",
                true
            ),
            m(MountKind::Bind, "/var/run/pg", "/run/pg", false),
            m(MountKind::Volume, "shared", "/shared", true),
            m(
                MountKind::Bind,
                "tests/fixtures/compose/certs",
                "/certs",
                false
            ),
            m(MountKind::Tmpfs, "", "/cache", false),
            m(MountKind::Tmpfs, "", "/run/lock", false),
        ]
    );
    assert_eq!(
        k.healthcheck,
        Some(Healthcheck {
            test: strings(&["CMD-SHELL", "pg_isready -U postgres"]),
            interval: Duration::from_secs(90),
            timeout: Duration::from_millis(500),
            retries: 5,
            start_period: Duration::from_secs(2),
        })
    );
}

#[test]
fn full_fixture_db_resources_and_runtime() {
    let c = spec_of(&format!("{FIXTURES}/valid/full.yaml")).unwrap();
    let k = &service(&c, "db").container;
    assert_eq!(k.restart, RestartPolicy::OnFailure);
    let r = &k.resources;
    assert_eq!(
        (r.memory, r.memory_reservation, r.memory_swap),
        (Some(1 << 30), Some(512 << 20), Some(-1))
    );
    assert_eq!(
        (r.cpu_shares, r.cpu_quota, r.cpu_period),
        (Some(512), Some(50_000), Some(100_000))
    );
    assert_eq!(
        (r.cpuset_cpus.as_deref(), r.pids_limit, r.nano_cpus),
        (Some("0-1"), Some(100), None)
    );
    assert_eq!(
        r.ulimits,
        [
            Ulimit {
                name: "nofile".into(),
                soft: 1024,
                hard: 4096
            },
            Ulimit {
                name: "nproc".into(),
                soft: 512,
                hard: 512
            }
        ]
    );
    assert_eq!(k.security.shm_size, Some(256 << 20));
    assert_eq!(k.security.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(
        k.networks,
        [NetworkAttachment {
            network: "full_back".into(),
            aliases: strings(&["db", "database", "pg"])
        }]
    );
    assert_eq!(k.exposed, ["5432/tcp"]);
    assert_eq!(
        (k.stop_signal.as_deref(), k.stop_grace),
        (Some("SIGINT"), Some(Duration::from_secs(60)))
    );
    assert_eq!(k.user.as_deref(), Some("999"));
}

#[test]
fn full_fixture_api_service() {
    let c = spec_of(&format!("{FIXTURES}/valid/full.yaml")).unwrap();
    let api = service(&c, "api");
    let k = &api.container;
    assert_eq!(api.replicas, 3);
    assert_eq!(
        (api.depends_on.clone(), api.dependency_source),
        (strings(&["db"]), DependencySource::DependsOn)
    );
    assert_eq!(k.env["API_WORKERS"], "4");
    assert_eq!(k.env["API_DEBUG"], "true");
    assert_eq!(k.env["EMPTY"], "");
    assert_eq!(k.resources.nano_cpus, Some(1_500_000_000));
    assert_eq!(
        (k.resources.memory, k.resources.pids_limit),
        (Some(512 << 20), Some(64))
    );
    assert_eq!(k.resources.memory_reservation, Some(128 << 20));
    assert_eq!(
        k.restart,
        RestartPolicy::Always,
        "deploy.restart_policy.condition any"
    );
    assert_eq!(
        k.healthcheck.as_ref().unwrap().interval,
        Duration::from_secs(30),
        "docker's default"
    );
    let attached: Vec<&str> = k.networks.iter().map(|n| n.network.as_str()).collect();
    assert_eq!(attached, ["full_front", "full_back"]);
    let p = |ip: &str, host, port, proto: &str| Publish {
        container_port: port,
        protocol: proto.into(),
        host_ip: ip.into(),
        host_port: host,
    };
    assert_eq!(
        k.publish,
        [
            p("", None, 8080, "tcp"),
            p("", Some(8443), 443, "tcp"),
            p("127.0.0.1", Some(9090), 90, "tcp"),
            p("127.0.0.1", None, 7070, "tcp"),
            p("", Some(5353), 53, "udp"),
            p("127.0.0.1", Some(16060), 6060, "tcp"),
        ]
    );
    assert_eq!(
        k.exposed,
        [
            "443/tcp", "53/udp", "6060/tcp", "7070/tcp", "8080/tcp", "90/tcp"
        ]
    );
    assert_eq!(k.labels["com.example.team"], "shop");
    assert_eq!(
        (k.working_dir.as_deref(), k.hostname.as_deref()),
        (Some("/app"), Some("api-host"))
    );
    let sec = &k.security;
    assert!(sec.readonly_rootfs);
    assert_eq!(sec.init, Some(true));
    assert_eq!(
        (sec.cap_add.clone(), sec.cap_drop.clone()),
        (strings(&["NET_ADMIN"]), strings(&["ALL"]))
    );
    assert_eq!(sec.security_opt, ["no-new-privileges:true"]);
    assert_eq!(k.extra_hosts, ["metadata:169.254.169.254", "v6host:::1"]);
    let tmpfs: Vec<&str> = k.mounts.iter().map(|m| m.target.as_str()).collect();
    assert_eq!(tmpfs, ["/tmp", "/run"]);
}

#[test]
fn full_fixture_sidecar_service() {
    let c = spec_of(&format!("{FIXTURES}/valid/full.yaml")).unwrap();
    let side = service(&c, "sidecar");
    let k = &side.container;
    assert_eq!(side.replicas, 2, "scale");
    assert_eq!(k.network_mode.as_deref(), Some("container:full-api-1"));
    assert!(k.networks.is_empty());
    assert_eq!(
        side.depends_on,
        ["api"],
        "network_mode service:api implies the dependency"
    );
    assert_eq!(k.restart, RestartPolicy::UnlessStopped);
    assert_eq!(k.healthcheck, None, "disable: true");
    let sec = &k.security;
    assert!(sec.privileged);
    assert_eq!(
        (sec.pid_mode.as_deref(), sec.ipc_mode.as_deref()),
        (Some("host"), Some("shareable"))
    );
    assert_eq!(
        sec.devices,
        ["/dev/fuse:/dev/fuse:rwm", "/dev/net/tun:/dev/net/tun:rwm"]
    );
    assert_eq!(sec.sysctls["net.ipv4.ip_forward"], "1");
    assert_eq!(k.extra_hosts, ["gateway:10.0.0.1"]);
}

#[test]
fn merge_keys_and_anchors() {
    let c = spec_of(&format!("{FIXTURES}/valid/merge.yaml")).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let one = &service(&c, "one").container;
    assert_eq!(
        one.restart,
        RestartPolicy::No,
        "the service's own key wins over the merge"
    );
    assert_eq!(one.stop_grace, Some(Duration::from_secs(3)));
    assert_eq!(
        one.labels["layer"], "base",
        "merges chain through x-role into x-base"
    );
    assert_eq!(one.env["LOG_LEVEL"], "info");
    assert_eq!(one.env["REGION"], "us");
    let two = &service(&c, "two").container;
    assert_eq!(two.resources.memory, Some(64 << 20), "a list of merges");
    assert_eq!(two.resources.pids_limit, Some(16));
    assert_eq!(two.restart, RestartPolicy::Always);
    let three = &service(&c, "three").container;
    assert_eq!(three.cmd, ["shop", "two"], "an alias of a list");
}

#[test]
fn unknown_keys_are_warnings_naming_each() {
    let c = spec_of(&format!("{FIXTURES}/valid/unknown.yaml")).unwrap();
    let mut got = c.warnings.clone();
    got.sort();
    assert_eq!(
        got,
        strings(&[
            "configs: not supported by understudy, ignored",
            "frobnicate: unknown field, ignored",
            "services.api.deploy.placement: unknown field, ignored",
            "services.api.deploy.resources.limits.gpus: unknown field, ignored",
            "services.api.foo: unknown field, ignored",
            "services.api.healthcheck.colour: unknown field, ignored",
            "services.api.logging: not supported by understudy, ignored",
            "services.api.networks.default.weight: unknown field, ignored",
            "services.api.ports[0].colour: unknown field, ignored",
        ])
    );
    let api = service(&c, "api");
    assert_eq!(
        api.container.resources.nano_cpus,
        Some(250_000_000),
        "known keys still apply"
    );
}

#[test]
fn env_files_are_read_in_order_and_environment_overrides() {
    let dir = format!("{FIXTURES}/valid");
    let files: BTreeMap<PathBuf, String> = ["common.env", "api.env"]
        .iter()
        .map(|f| {
            (
                PathBuf::from(format!("{dir}/{f}")),
                read(&format!("{dir}/{f}")),
            )
        })
        .collect();
    let asked = RefCell::new(Vec::new());
    let reader = |p: &Path| {
        asked.borrow_mut().push(p.display().to_string());
        files
            .get(p)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not found"))
    };
    let rel = format!("{dir}/env-files.yaml");
    let text = read(&rel);
    let input = ComposeInput {
        path: Path::new(&rel),
        text: &text,
        project: None,
        read_env_file: &reader,
    };
    let c = to_spec(&input, &images()).unwrap();
    assert_eq!(c.spec.group, "valid", "the directory's name");
    assert_eq!(
        *asked.borrow(),
        [
            format!("{dir}/common.env"),
            format!("{dir}/local.env"),
            format!("{dir}/api.env")
        ]
    );
    let env = &service(&c, "api").container.env;
    let want: BTreeMap<String, String> = [
        ("FROM_COMPOSE", "yes"),
        ("ONLY_API", "x"),
        ("ONLY_COMMON", "1"),
        ("QUOTED", "a b # c"),
        ("SHARED", "compose"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(*env, want);
}

#[test]
fn env_file_errors_name_the_entry_and_the_line() {
    let text = "services:\n  api:\n    image: understudy:latest\n    env_file: [a.env, b.env]\n";
    let reader = |p: &Path| match p.to_str() {
        Some("/srv/a.env") => Ok("OK=1\n\n=broken\n".to_owned()),
        _ => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "permission denied",
        )),
    };
    let input = ComposeInput {
        path: Path::new("/srv/compose.yaml"),
        text,
        project: None,
        read_env_file: &reader,
    };
    let e = to_spec(&input, &images()).unwrap_err().to_string();
    assert_eq!(e, "/srv/a.env:3:1: not a NAME=VALUE line \"=broken\"");
    let text = text.replace("a.env, ", "");
    let input = ComposeInput {
        text: &text,
        ..input
    };
    let e = to_spec(&input, &images()).unwrap_err().to_string();
    assert_eq!(
        e,
        "/srv/compose.yaml:4:16: services.api.env_file: cannot read \"b.env\": permission denied"
    );
}

#[test]
fn invalid_fixtures_give_their_expected_errors() {
    let dir = root().join(FIXTURES).join("invalid");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let rel = format!("{FIXTURES}/invalid/{name}");
        let expected = std::fs::read_to_string(root().join(rel.replace(".yaml", ".expected")))
            .unwrap_or_default();
        let got = match spec_of(&rel) {
            Ok(_) => "(no error)".to_owned(),
            Err(e) => e.to_string(),
        };
        if got != expected.trim_end() {
            failures.push(format!(
                "{name}:\n  expected: {}\n  got:      {got}",
                expected.trim_end()
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 15, "only {checked} invalid fixtures found");
}

#[test]
fn project_names() {
    assert_eq!(normalized_project("My App.v2"), "myappv2");
    assert_eq!(normalized_project("_x"), "x");
    assert_eq!(valid_project("shop-2_a").as_deref(), Some("shop-2_a"));
    assert_eq!(valid_project("Shop"), None);
    let text = "services:\n  a:\n    image: understudy:latest\n";
    let input = ComposeInput {
        path: Path::new("compose.yaml"),
        text,
        project: None,
        read_env_file: &no_env_files,
    };
    assert_eq!(
        to_spec(&input, &images()).unwrap().spec.group,
        "compose",
        "no directory: the stem"
    );
    let input = ComposeInput {
        project: Some("Bad Name"),
        ..input
    };
    assert!(
        to_spec(&input, &images())
            .unwrap_err()
            .to_string()
            .contains("\"Bad Name\"")
    );
    let text = "name: Nope!\nservices:\n  a:\n    image: understudy:latest\n";
    let input = ComposeInput {
        project: None,
        text,
        ..input
    };
    let e = to_spec(&input, &images()).unwrap_err().to_string();
    assert!(e.starts_with("compose.yaml:1:7: name: "), "{e}");
}

#[test]
fn build_with_an_image_uses_the_image() {
    let text = "services:\n  a:\n    image: understudy:latest\n    build: .\n";
    let input = ComposeInput {
        path: Path::new("/p/compose.yaml"),
        text,
        project: None,
        read_env_file: &no_env_files,
    };
    let c = to_spec(&input, &images()).unwrap();
    assert_eq!(c.spec.services[0].image_id, "sha256:1111");
    assert_eq!(
        c.warnings,
        [
            "services.a.build: ignored; understudy never builds, it runs \"understudy:latest\" from the engine"
        ]
    );
}

#[test]
fn odd_documents_give_located_errors() {
    let cases = [
        (
            "",
            "c.yaml:1:1: no `services:` mapping with at least one service",
        ),
        (
            "services: {}\n",
            "c.yaml:1:11: no `services:` mapping with at least one service",
        ),
        (
            "- a\n- b\n",
            "c.yaml:1:1: (top level): expected a compose file (a mapping with `services:`), found a list \"[a, b]\"",
        ),
        (
            "services:\n  - api\n",
            "c.yaml:1:1: services: expected a map, found a list \"[api]\"",
        ),
        (
            "services:\n  api:\n",
            "c.yaml:2:3: services.api: neither `image:` nor `build:` in \"api\"; understudy runs images already on the engine: name one with `image:`",
        ),
        (
            "services:\n  api:\n    image: understudy:latest\n    ulimits:\n      nofile: {soft: 1}\n",
            "c.yaml:5:15: services.api.ulimits.nofile: missing field `hard` in \"{soft: 1}\"",
        ),
    ];
    for (text, want) in cases {
        let input = ComposeInput {
            path: Path::new("c.yaml"),
            text,
            project: Some("p"),
            read_env_file: &no_env_files,
        };
        let got = to_spec(&input, &images())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert_eq!(got, want, "{text:?}");
    }
    let input = ComposeInput {
        path: Path::new("c.yaml"),
        text: "services:\n  a:\n    <<: 5\n",
        project: Some("p"),
        read_env_file: &no_env_files,
    };
    assert!(
        to_spec(&input, &images())
            .unwrap_err()
            .to_string()
            .starts_with("c.yaml:")
    );
}
