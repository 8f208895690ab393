//! The Docker adapter's network removal against the real engine: a
//! network a live container still uses is not taken from it. The adapter
//! force-disconnects only endpoints whose container no longer exists (the
//! stale endpoints Docker 20.10 can keep after a removal, moby#17217);
//! those cannot be produced on demand, so this drill checks the other half:
//! a live container keeps its endpoint and the removal says why it failed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{docker_available, remove_labelled, understudy, unique_project};
use understudy::platform::{Docker, Platform};

struct Labelled(String);

impl Drop for Labelled {
    fn drop(&mut self) {
        remove_labelled(&self.0);
    }
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_network_a_live_container_uses_fails_and_leaves_it_attached() {
    if !docker_available() {
        return;
    }
    assert!(understudy(&["demo", "build"]).status.success());
    let name = unique_project("utnet");
    let label = format!("io.understudy.test={name}");
    let _guard = Labelled(label.clone());
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
