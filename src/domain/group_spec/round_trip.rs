//! Property: a Spec written as TOML (what `understudy snapshot` writes) and
//! loaded again is equal to the original, for arbitrary Specs.

use std::time::Duration;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

use super::*;
use crate::domain::spec::{
    Healthcheck, Mount, MountKind, NetworkAttachment, Publish, Resources, RestartPolicy, Security,
    Ulimit,
};

fn text() -> impl Strategy<Value = String> {
    // Printable text including quotes, backslashes, '=', unicode and spaces.
    "[ -~éü\u{4e2d}\"\\\\=]{0,12}"
}

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.-]{0,10}"
}

fn duration() -> impl Strategy<Value = Duration> {
    (0u64..100_000_000_000).prop_map(Duration::from_nanos)
}

fn healthcheck() -> impl Strategy<Value = Healthcheck> {
    (
        vec(text(), 1..4),
        duration(),
        duration(),
        0u32..10,
        duration(),
    )
        .prop_map(
            |(test, interval, timeout, retries, start_period)| Healthcheck {
                test,
                interval,
                timeout,
                retries,
                start_period,
            },
        )
}

fn resources() -> impl Strategy<Value = Resources> {
    (
        option::of(1i64..8_000_000_000),
        option::of(1i64..1 << 40),
        option::of(-1i64..1 << 40),
        option::of(1i64..100_000),
        vec((word(), -1i64..65536, -1i64..65536), 0..3),
    )
        .prop_map(
            |(nano_cpus, memory, memory_swap, pids_limit, ulimits)| Resources {
                nano_cpus,
                memory,
                memory_swap,
                pids_limit,
                ulimits: ulimits
                    .into_iter()
                    .map(|(name, soft, hard)| Ulimit { name, soft, hard })
                    .collect(),
                ..Resources::default()
            },
        )
}

fn security() -> impl Strategy<Value = Security> {
    (
        any::<bool>(),
        option::of(word()),
        vec(word(), 0..3),
        any::<bool>(),
        btree_map(word(), text(), 0..3),
    )
        .prop_map(
            |(privileged, pid_mode, cap_add, readonly_rootfs, sysctls)| Security {
                privileged,
                pid_mode,
                cap_add,
                readonly_rootfs,
                sysctls,
                ..Security::default()
            },
        )
}

fn mount() -> impl Strategy<Value = Mount> {
    (
        prop_oneof![
            Just(MountKind::Volume),
            Just(MountKind::Bind),
            Just(MountKind::Tmpfs)
        ],
        text(),
        text(),
        any::<bool>(),
    )
        .prop_map(|(kind, source, target, read_only)| Mount {
            kind,
            source,
            target,
            read_only,
        })
}

fn publish() -> impl Strategy<Value = Publish> {
    (
        any::<u16>(),
        prop_oneof![Just("tcp".to_owned()), Just("udp".to_owned())],
        text(),
        option::of(any::<u16>()),
    )
        .prop_map(|(container_port, protocol, host_ip, host_port)| Publish {
            container_port,
            protocol,
            host_ip,
            host_port,
        })
}

fn container() -> impl Strategy<Value = ContainerSpec> {
    (
        (
            text(),
            text(),
            option::of(vec(text(), 0..3)),
            vec(text(), 0..4),
            btree_map(text(), text(), 0..4),
        ),
        (
            option::of(text()),
            option::of(text()),
            btree_map(text(), text(), 0..4),
            option::of(healthcheck()),
        ),
        (
            prop_oneof![
                Just(RestartPolicy::No),
                Just(RestartPolicy::Always),
                Just(RestartPolicy::UnlessStopped),
                Just(RestartPolicy::OnFailure)
            ],
            resources(),
            vec(text(), 0..3),
            vec(publish(), 0..3),
        ),
        (
            vec((word(), vec(word(), 0..3)), 0..3),
            vec(mount(), 0..3),
            option::of(word()),
            option::of(duration()),
            option::of(word()),
            vec(text(), 0..2),
            security(),
        ),
    )
        .prop_map(
            |(
                (name, image, entrypoint, cmd, env),
                (working_dir, user, labels, healthcheck),
                (restart, resources, exposed, publish),
                (networks, mounts, stop_signal, stop_grace, network_mode, extra_hosts, security),
            )| ContainerSpec {
                name,
                image,
                entrypoint,
                cmd,
                env,
                working_dir,
                user,
                hostname: None,
                labels,
                healthcheck,
                restart,
                resources,
                exposed,
                publish,
                networks: networks
                    .into_iter()
                    .map(|(network, aliases)| NetworkAttachment { network, aliases })
                    .collect(),
                mounts,
                stop_signal,
                stop_grace,
                network_mode,
                extra_hosts,
                security,
            },
        )
}

fn service() -> impl Strategy<Value = ServiceSpec> {
    (
        word(),
        0u32..10,
        text(),
        vec(word(), 0..3),
        vec((1u32..5, word()), 0..3),
        container(),
    )
        .prop_map(
            |(name, replicas, image_id, depends_on, instances, container)| ServiceSpec {
                name,
                replicas,
                image_id,
                dependency_source: if depends_on.is_empty() {
                    DependencySource::None
                } else {
                    DependencySource::Environment
                },
                depends_on,
                instances: instances
                    .into_iter()
                    .map(|(number, name)| InstanceRef { number, name })
                    .collect(),
                container,
            },
        )
}

fn source() -> impl Strategy<Value = SpecSource> {
    prop_oneof![
        word().prop_map(|project| SpecSource::Compose { project }),
        text().prop_map(|selector| SpecSource::Selector { selector }),
        text().prop_map(|path| SpecSource::ComposeFile { path }),
    ]
}

fn group_spec() -> impl Strategy<Value = GroupSpec> {
    (
        text(),
        source(),
        vec(service(), 0..4),
        vec(text(), 0..3),
        vec(text(), 0..3),
    )
        .prop_map(|(group, source, services, volumes, networks)| GroupSpec {
            schema: SPEC_SCHEMA.to_owned(),
            group,
            source,
            services,
            volumes,
            networks,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn a_spec_written_as_toml_loads_back_equal(spec in group_spec()) {
        let text = toml::to_string_pretty(&spec).expect("serializes");
        let back: GroupSpec = toml::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, spec);
    }
}

#[test]
fn an_empty_map_and_absent_fields_load_as_defaults() {
    let text = "schema = \"understudy.spec/v1\"\ngroup = \"g\"\nservices = []\n[source]\nkind = \"compose\"\nproject = \"g\"\n";
    let spec: GroupSpec = toml::from_str(text).unwrap();
    assert_eq!(spec.group, "g");
    assert!(spec.services.is_empty() && spec.volumes.is_empty());
}
