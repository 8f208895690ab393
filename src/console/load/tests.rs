//! The Load task against a real HTTP server on loopback: the console's
//! `--log-format` reads a replayed log and its `--body` gives the writes
//! their bodies.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{ReplaySetup, spawn};
use crate::console::model::load::ProfileSource;
use crate::console::msg::{LoadCmd, LoadEvent, LoadSpec, Msg};
use crate::traffic::parse::LogTemplate;

/// Serves `200` with no body to every request on loopback, sending each
/// request's `METHOD path body` to the returned receiver.
async fn recording_server() -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                loop {
                    let Some(head_end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
                        let mut chunk = [0u8; 4096];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    while buffer.len() < head_end + 4 + length {
                        let mut chunk = [0u8; 4096];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body =
                        String::from_utf8_lossy(&buffer[head_end + 4..head_end + 4 + length]);
                    let request_line = head.lines().next().unwrap_or("");
                    let mut words = request_line.split(' ');
                    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                    let _ = tx.send(format!("{method} {path} {body}"));
                    buffer.drain(..head_end + 4 + length);
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                    if socket.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn a_replayed_log_in_a_named_format_carries_the_bodies_given() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    // Apache, `%{end:msec}t %m %U%q %>s %B %D` (no guess reads it): two
    // writes and a read, 1 s apart.
    std::fs::write(
        &log,
        "1795773600000 POST /api/cart/7/items 201 12 2100\n\
         1795773601000 GET /api/products/3?full=1 200 90 800\n\
         1795773602000 POST /api/cart/8/items 201 12 1900\n",
    )
    .unwrap();
    let format = LogTemplate::compile("%{end:msec}t %m %U%q %>s %B %D").unwrap();
    let setup = ReplaySetup {
        bodies: crate::traffic::replay::parse_body_overrides(&[
            r#"POST /api/cart/{id}/items={"product":3,"qty":1}"#.to_owned(),
        ])
        .unwrap(),
        log_format: Some(std::sync::Arc::new(format)),
    };
    let (url, mut requests) = recording_server().await;
    let (tx, mut rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let (handle, task) = spawn(setup, tx, cancel.clone());
    handle
        .run(LoadCmd::Start(LoadSpec {
            run: 1,
            url,
            source: ProfileSource::File(log),
        }))
        .unwrap();
    let mut started = None;
    let finished = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Load(LoadEvent::Started { requests, .. }) => started = Some(requests),
                Msg::Load(LoadEvent::Finished { result, .. }) => return result,
                _ => {}
            }
        }
        Err("the task ended without a report".to_owned())
    })
    .await
    .unwrap();
    let summary = finished.unwrap();
    assert_eq!(started, Some(3), "all three lines read in the named format");
    let mut seen = Vec::new();
    while let Ok(r) = requests.try_recv() {
        seen.push(r);
    }
    let posts: Vec<&String> = seen.iter().filter(|r| r.starts_with("POST ")).collect();
    assert!(!posts.is_empty(), "{seen:?} ({summary:?})");
    assert!(
        posts
            .iter()
            .all(|r| r.ends_with(r#" {"product":3,"qty":1}"#)),
        "every write carries the body given: {seen:?}"
    );
    cancel.cancel();
    drop(handle);
    let _ = task.await;
}
