//! Bad input files through the real binary: every invalid compose fixture
//! gives its expected error (file:line:column and the offending value in
//! quotes) before any engine is contacted; bad Spec files and selectors are
//! reported the same way; the valid fixtures pass the offline check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary from the crate root against a Docker that does not
/// exist, so any error printed comes from the file check alone.
fn understudy_offline(args: &[&str]) -> std::process::Output {
    Command::new(common::bin())
        .args(args)
        .current_dir(root())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap()
}

/// Fixtures whose error needs the engine (an image lookup).
const NEEDS_ENGINE: [&str; 1] = ["image-not-on-engine"];

#[test]
fn invalid_compose_files_give_their_expected_errors() {
    let dir = root().join("tests/fixtures/compose/invalid");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if NEEDS_ENGINE.contains(&stem.as_str()) {
            continue;
        }
        let rel = format!("tests/fixtures/compose/invalid/{stem}.yaml");
        let expected = std::fs::read_to_string(dir.join(format!("{stem}.expected"))).unwrap();
        for command in [
            &["snapshot", "--compose", &rel][..],
            &["shadow", "plan", "--compose", &rel][..],
        ] {
            let out = understudy_offline(command);
            assert_eq!(out.status.code(), Some(1), "{stem}: {command:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                err.trim_end(),
                format!("understudy: {}", expected.trim_end()),
                "{stem}: {command:?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} fixtures checked");
}

#[test]
fn valid_compose_files_pass_the_offline_check_and_then_need_the_engine() {
    for name in ["full", "merge", "unknown", "env-files"] {
        let rel = format!("tests/fixtures/compose/valid/{name}.yaml");
        let out = understudy_offline(&["snapshot", "--compose", &rel]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(69), "{name}: {err}");
        assert!(
            err.contains("cannot reach the Docker daemon"),
            "{name}: {err}"
        );
    }
    let out = understudy_offline(&["shadow", "plan", "--compose", "scenarios/shop/compose.yaml"]);
    assert_eq!(out.status.code(), Some(69));
}

#[test]
fn a_bad_spec_file_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.spec.toml");
    std::fs::write(
        &path,
        "schema = \"understudy.spec/v1\"\ngroup = \"shop\"\nservices = 7\n",
    )
    .unwrap();
    let out = understudy_offline(&["shadow", "plan", "--spec", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:12:", path.display())), "{err}");
}

#[test]
fn a_bad_selector_points_at_the_column() {
    let out = understudy_offline(&["shadow", "plan", "--selector", "app=shop,,tier=web"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"app=shop,,tier=web\" at column 10"), "{err}");
}

#[test]
fn a_missing_compose_file_is_named() {
    let out = understudy_offline(&["snapshot", "--compose", "no/such/compose.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no/such/compose.yaml"), "{err}");
}

#[test]
fn a_watch_page_pattern_of_wildcards_alone_is_refused_before_the_engine() {
    let out = understudy_offline(&[
        "watch",
        "--group",
        "shop",
        "--page",
        "*/cpu_percent",
        "--page",
        "**",
    ]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("series pattern \"**\""), "{err}");
    assert!(
        !err.contains("docker.sock"),
        "refused before the engine: {err}"
    );
}
