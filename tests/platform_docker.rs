//! The Docker adapter's removals against the real engine.
//!
//! Networks: a network a live container still uses is not taken from it.
//! The adapter force-disconnects only endpoints whose container no longer
//! exists (the stale endpoints Docker 20.10 can keep after a removal,
//! moby#17217); those cannot be produced on demand, so this drill checks
//! the other half: a live container keeps its endpoint and the removal says
//! why it failed.
//!
//! Images: a superseded understudy image is removed only once no
//! container, running or stopped, uses it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{Labelled, docker_available, understudy, unique_project};
use understudy::platform::{Docker, Platform};

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The image built, a unique name, its test label, and the guard that
/// removes what carries the label.
fn prologue(prefix: &str) -> (String, String, Labelled) {
    assert!(understudy(&["demo", "build"]).status.success());
    let name = unique_project(prefix);
    let label = format!("io.understudy.test={name}");
    let guard = Labelled(label.clone());
    (name, label, guard)
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_network_a_live_container_uses_fails_and_leaves_it_attached() {
    if !docker_available() {
        return;
    }
    let (name, label, _guard) = prologue("utnet");
    docker(&["network", "create", "--label", &label, &name]);
    docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--label",
        &label,
        "--network",
        &name,
        "understudy:latest",
        "shop",
        "store",
    ]);

    let platform = Docker::connect().await.unwrap();
    let err = platform.remove_network(&name).await.unwrap_err();
    assert!(err.to_string().contains("active endpoints"), "{err}");
    assert!(err.to_string().contains(&name), "{err}");
    let attached = common::attached_networks(&name);
    assert!(attached.contains(&name), "{attached:?}");

    docker(&["rm", "-f", &name]);
    platform.remove_network(&name).await.unwrap();
    assert_eq!(
        docker(&["network", "ls", "-q", "--filter", &format!("name=^{name}$")]),
        ""
    );
}

/// An untagged understudy image (as a superseded build leaves one), made
/// by committing a container of `understudy:latest`; its id.
fn untagged_understudy_image(label: &str, name: &str) -> String {
    docker(&[
        "create",
        "--name",
        name,
        "--label",
        label,
        "understudy:latest",
        "shop",
        "store",
    ]);
    let label_change = format!("LABEL {label}");
    let id = docker(&["commit", "--change", &label_change, name]);
    docker(&["rm", "-f", name]);
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_a_stopped_container_uses_is_kept_and_removed_once_it_is_gone() {
    if !docker_available() {
        return;
    }
    let (name, label, _guard) = prologue("utimg");
    let image = untagged_understudy_image(&label, &name);
    let labels = docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Labels}}",
        &image,
    ]);
    assert!(
        labels.contains("\"io.understudy.image\":\"understudy\""),
        "{labels}"
    );
    // A stopped container uses it.
    docker(&[
        "create", "--name", &name, "--label", &label, &image, "shop", "store",
    ]);

    let platform = Docker::connect().await.unwrap();
    assert!(!platform.remove_image_if_unused(&image).await.unwrap());
    assert!(
        !docker(&["image", "inspect", "--format", "{{.Id}}", &image]).is_empty(),
        "kept while a container uses it"
    );

    docker(&["rm", "-f", &name]);
    assert!(platform.remove_image_if_unused(&image).await.unwrap());
    let gone = Command::new("docker")
        .args(["image", "inspect", &image])
        .output()
        .unwrap();
    assert!(!gone.status.success(), "removed once unused");
    assert!(
        platform.remove_image_if_unused(&image).await.unwrap(),
        "absent is fine"
    );
}
