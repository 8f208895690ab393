//! End to end: the real binary in tmux (its own `-L` socket), driven with
//! `send-keys`, observed with `capture-pane` polled against a deadline.
//! `understudy demo -p P` brings the project up and opens the console on it;
//! the console shows the group and live stats; `q` (and Ctrl-C) quit and the
//! terminal is back in cooked mode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{ProjectGuard, docker_available, eventually, unique_project};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str) -> Self {
        let socket = format!("understudy-e2e-{}", unique_project("t"));
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-x",
                "150",
                "-y",
                "40",
                command,
            ])
            .status()
            .expect("tmux is installed");
        assert!(status.success());
        Self { socket }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["-L", &self.socket, "send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, timeout: Duration, what: impl Fn(&str) -> bool) -> String {
        eventually(timeout, || {
            let s = self.screen();
            what(&s).then_some(s)
        })
        .unwrap_or_else(|| panic!("timed out; screen:\n{}", self.screen()))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn console_command(project: &str) -> String {
    format!(
        "UNDERSTUDY_STATE_DIR={} {} demo -p {project}; echo EXITED:$?; stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; sleep 600",
        common::state_dir().display(),
        common::bin().display()
    )
}

#[test]
fn console_shows_the_group_live_and_quits_cleanly() {
    if !docker_available() {
        return;
    }
    let project = unique_project("ute2e");
    let _guard = ProjectGuard::new(&project);
    let tmux = Tmux::start(&console_command(&project));

    // The group, its services and live CPU figures appear.
    tmux.wait_for(Duration::from_secs(120), |s| {
        s.contains(&project) && s.contains("gateway") && s.contains("store") && s.contains('%')
    });
    tmux.wait_for(Duration::from_secs(20), |s| {
        s.contains(&format!("{project}_api_2")) && s.contains("healthy")
    });

    // `?` opens the help built from the key table; `?` closes it.
    tmux.keys(&["?"]);
    tmux.wait_for(Duration::from_secs(5), |s| {
        s.to_lowercase().contains("quit")
    });
    tmux.keys(&["?"]);

    // `q` quits; the shell sees exit 0 and a terminal in cooked mode.
    tmux.keys(&["q"]);
    let after = tmux.wait_for(Duration::from_secs(10), |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");
    let after = tmux.wait_for(Duration::from_secs(5), |s| s.contains("icanon"));
    assert!(
        after.lines().any(|l| l.trim() == "icanon"),
        "terminal left in raw mode:\n{after}"
    );
}

#[test]
fn ctrl_c_restores_the_terminal() {
    if !docker_available() {
        return;
    }
    let project = unique_project("utctrlc");
    let _guard = ProjectGuard::new(&project);
    let tmux = Tmux::start(&console_command(&project));
    tmux.wait_for(Duration::from_secs(120), |s| {
        s.contains(&project) && s.contains("api")
    });
    tmux.keys(&["C-c"]);
    let after = tmux.wait_for(Duration::from_secs(10), |s| s.contains("EXITED:"));
    assert!(
        after.contains("EXITED:0") || after.contains("EXITED:130"),
        "{after}"
    );
    let after = tmux.wait_for(Duration::from_secs(5), |s| s.contains("icanon"));
    assert!(after.lines().any(|l| l.trim() == "icanon"), "{after}");
}
