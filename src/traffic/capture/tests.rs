use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};

use futures::stream::BoxStream;

use super::*;
use crate::domain::stats::RawStats;
use crate::domain::{ContainerSpec, ContainerSummary, NetworkSpec, Selector, VolumeSpec};
use crate::platform::{
    ContainerDetails, EngineEvent, EngineInfo, ImageSummary, LogLine, NetworkSummary, VolumeSummary,
};

const LINE: &str = r#"172.18.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /api/products/42 HTTP/1.1" 200 153 "-" "curl/8.0" 0.004"#;
/// 2026-11-27T10:00:00Z in ms.
const T0: i64 = 1_795_773_600_000;

fn read(text: &str, format: Format) -> (Vec<Record>, Captured) {
    let mut records = Vec::new();
    let captured = read_stream(Cursor::new(text.as_bytes().to_vec()), "t", format, |r| {
        records.push(r);
    })
    .unwrap();
    (records, captured)
}

#[test]
fn streams_access_logs_with_crlf_and_blank_lines() {
    let text = format!("\r\n{LINE}\r\ngarbage\r\n{LINE}");
    let (records, c) = read(&text, Format::Auto);
    assert_eq!(c.format, Format::Combined);
    assert_eq!(
        records.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![2, 4]
    );
    assert_eq!(records[0].path, "/api/products/42");
    assert_eq!(c.completeness.first_rejected, vec![3]);
    assert_eq!((c.completeness.lines, c.completeness.parsed), (3, 2));
}

#[test]
fn detects_json_lines_and_har_in_streams() {
    let jsonl = "\n{\"time\":1795773600,\"method\":\"GET\",\"path\":\"/a\",\"status\":200}\n{\"time\":1795773601,\"method\":\"GET\",\"path\":\"/b\",\"status\":200}\n";
    let (records, c) = read(jsonl, Format::Auto);
    assert_eq!(c.format, Format::Jsonl);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].line, 3);

    let har = "{\n \"log\": {\"entries\": [\n  {\"startedDateTime\":\"2026-11-27T10:00:00Z\",\"time\":5,\"request\":{\"method\":\"GET\",\"url\":\"http://h/x\"},\"response\":{\"status\":200,\"bodySize\":3}}\n ]}\n}\n";
    let (records, c) = read(har, Format::Auto);
    assert_eq!(c.format, Format::Har);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].path, "/x");

    let (records, c) = read("", Format::Auto);
    assert!(records.is_empty());
    assert_eq!(c.completeness, Completeness::default());
}

#[test]
fn a_forced_format_is_used() {
    let (records, c) = read(LINE, Format::Jsonl);
    assert!(records.is_empty());
    assert_eq!(c.completeness.reasons["not JSON"], 1);
}

#[test]
fn missing_files_are_named() {
    let e = read_source("/nonexistent/access.log", Format::Auto).unwrap_err();
    assert_eq!(e.to_string(), "cannot open /nonexistent/access.log");
    let cause = std::error::Error::source(&e).unwrap().to_string();
    assert!(cause.starts_with("No such file"), "{cause}");
}

#[test]
fn reads_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    std::fs::write(&path, format!("{LINE}\n{LINE}\n")).unwrap();
    let (records, c) = read_source(path.to_str().unwrap(), Format::Auto).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(c.parsed, 2);
    let bad = dir.path().join("bad.har");
    std::fs::write(&bad, "{\n \"log\": [1,\n}").unwrap();
    let e = read_source(bad.to_str().unwrap(), Format::Har).unwrap_err();
    assert_eq!(
        chain(&e),
        format!(
            "{}: line 3, column 1: not a JSON document: expected value",
            bad.display()
        )
    );
}

#[test]
fn a_profile_loads_from_a_log_with_bytes_that_are_not_utf8_and_from_json() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let mut bytes = format!("{LINE}\n").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe not a request\n");
    bytes.extend_from_slice(format!("{LINE}\n").as_bytes());
    std::fs::write(&log, &bytes).unwrap();
    let profile = load_profile(&log, Format::Auto).unwrap();
    assert_eq!(profile.completeness.parsed, 2);
    assert_eq!(profile.completeness.lines, 3);
    // The profile written as JSON loads back as it was.
    let json = dir.path().join("profile.json");
    std::fs::write(&json, serde_json::to_vec(&profile).unwrap()).unwrap();
    assert_eq!(load_profile(&json, Format::Auto).unwrap(), profile);
    // A JSON document of another schema is named, not read as a log.
    let mut other = serde_json::to_value(&profile).unwrap();
    other["schema"] = "understudy.profile/v9".into();
    std::fs::write(&json, other.to_string()).unwrap();
    let e = load_profile(&json, Format::Auto).unwrap_err();
    assert!(matches!(e, CaptureError::Schema { .. }), "{e}");
}

/// The error and its causes, as `main` prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

/// The container and `since` a logs call was made with.
type Asked = (String, Option<SystemTime>);

/// A platform whose only working call is `logs`, answering fixed lines
/// and remembering the options it was asked with.
#[derive(Clone, Default)]
struct Logs {
    lines: Vec<LogLine>,
    fail: bool,
    asked: Arc<Mutex<Vec<Asked>>>,
}

fn no<T>() -> crate::platform::Result<T> {
    Err(PlatformError::Unsupported { operation: "fake" })
}

impl Platform for Logs {
    async fn engine(&self) -> crate::platform::Result<EngineInfo> {
        no()
    }
    async fn list_containers(
        &self,
        _: Option<&Selector>,
    ) -> crate::platform::Result<Vec<ContainerSummary>> {
        no()
    }
    async fn inspect_container(&self, _: &str) -> crate::platform::Result<ContainerDetails> {
        no()
    }
    async fn create_container(&self, _: &ContainerSpec) -> crate::platform::Result<String> {
        no()
    }
    async fn start_container(&self, _: &str) -> crate::platform::Result<()> {
        no()
    }
    async fn stop_container(&self, _: &str, _: Duration) -> crate::platform::Result<()> {
        no()
    }
    async fn remove_container(&self, _: &str, _: bool) -> crate::platform::Result<()> {
        no()
    }
    async fn create_network(&self, _: &NetworkSpec) -> crate::platform::Result<String> {
        no()
    }
    async fn list_networks(
        &self,
        _: Option<&Selector>,
    ) -> crate::platform::Result<Vec<NetworkSummary>> {
        no()
    }
    async fn remove_network(&self, _: &str) -> crate::platform::Result<()> {
        no()
    }
    async fn create_volume(&self, _: &VolumeSpec) -> crate::platform::Result<String> {
        no()
    }
    async fn list_volumes(
        &self,
        _: Option<&Selector>,
    ) -> crate::platform::Result<Vec<VolumeSummary>> {
        no()
    }
    async fn remove_volume(&self, _: &str) -> crate::platform::Result<()> {
        no()
    }
    async fn build_image(
        &self,
        _: Vec<u8>,
        _: &str,
        _: &BTreeMap<String, String>,
    ) -> crate::platform::Result<String> {
        no()
    }
    async fn inspect_image(&self, _: &str) -> crate::platform::Result<Option<ImageSummary>> {
        no()
    }
    async fn list_images(
        &self,
        _: Option<&Selector>,
    ) -> crate::platform::Result<Vec<ImageSummary>> {
        no()
    }
    async fn remove_image(&self, _: &str) -> crate::platform::Result<()> {
        no()
    }
    async fn remove_image_if_unused(&self, _: &str) -> crate::platform::Result<bool> {
        no()
    }
    fn stats(&self, _: &str) -> BoxStream<'static, crate::platform::Result<RawStats>> {
        futures::stream::empty().boxed()
    }
    fn events(
        &self,
        _: Option<&Selector>,
        _: &[&str],
    ) -> BoxStream<'static, crate::platform::Result<EngineEvent>> {
        futures::stream::empty().boxed()
    }
    fn logs(
        &self,
        id: &str,
        options: &LogOptions,
    ) -> BoxStream<'static, crate::platform::Result<LogLine>> {
        self.asked
            .lock()
            .unwrap()
            .push((id.to_owned(), options.since));
        let mut items: Vec<crate::platform::Result<LogLine>> =
            self.lines.iter().cloned().map(Ok).collect();
        if self.fail {
            items.push(Err(PlatformError::NotFound {
                kind: "container",
                name: id.to_owned(),
            }));
        }
        futures::stream::iter(items).boxed()
    }
}

fn out(text: &str) -> LogLine {
    LogLine {
        stream: LogStream::Stdout,
        text: text.to_owned(),
        time_ms: None,
    }
}

#[tokio::test]
async fn container_requests_are_read_on_both_streams_and_stderr_noise_is_not_counted() {
    let err = |text: &str| LogLine {
        stream: LogStream::Stderr,
        text: text.to_owned(),
        time_ms: None,
    };
    let platform = Logs {
        lines: vec![
            out(LINE),
            err("2026-11-27T10:00:00Z INFO gateway listening"),
            out("not an access log line"),
            err(
                r#"{"ts":1795773600.5,"request":{"method":"GET","uri":"/from-stderr"},"status":200,"duration":0.003}"#,
            ),
            out(LINE),
        ],
        ..Logs::default()
    };
    let before = SystemTime::now();
    let (records, c) = from_container(
        &platform,
        "shop-gateway-1",
        Some(Duration::from_secs(3600)),
        Format::Auto,
    )
    .await
    .unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[1].path, "/from-stderr", "in the log's order");
    assert_eq!((c.lines, c.parsed, c.rejected), (4, 3, 1));
    assert_eq!(c.first_rejected, vec![2], "stdout's line numbers");
    let asked = platform.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].0, "shop-gateway-1");
    let since = asked[0].1.unwrap();
    let ago = before.duration_since(since).unwrap();
    assert!(
        ago >= Duration::from_secs(3599) && ago <= Duration::from_secs(3601),
        "{ago:?}"
    );
}

/// uvicorn writes no time: its requests are placed at the engine's stamps.
#[tokio::test]
async fn lines_without_a_time_take_the_engines_stamp() {
    let stamped = |text: &str, time_ms| LogLine {
        time_ms: Some(time_ms),
        ..out(text)
    };
    let platform = Logs {
        lines: vec![
            stamped(
                r#"INFO:     172.18.0.1:54400 - "GET /a HTTP/1.1" 200 OK"#,
                T0,
            ),
            stamped(
                r#"INFO:     172.18.0.1:54406 - "POST /b HTTP/1.1" 500 Internal Server Error"#,
                T0 + 1500,
            ),
            out(r#"INFO:     172.18.0.1:54406 - "GET /c HTTP/1.1" 200 OK"#),
        ],
        ..Logs::default()
    };
    let (records, c) = from_container(&platform, "api-1", None, Format::Auto)
        .await
        .unwrap();
    let read: Vec<_> = records.iter().map(|r| (r.start_ms, r.status)).collect();
    assert_eq!(read, vec![(T0, 200), (T0 + 1500, 500)]);
    assert_eq!(
        (c.lines, c.parsed, c.rejected),
        (3, 2, 1),
        "no stamp, no time"
    );
}

#[tokio::test]
async fn container_errors_name_the_container() {
    let platform = Logs {
        fail: true,
        ..Logs::default()
    };
    let e = from_container(&platform, "gone", None, Format::Auto)
        .await
        .unwrap_err();
    assert_eq!(
        chain(&e),
        "reading the logs of container \"gone\": container \"gone\" not found"
    );
    assert!(platform.asked.lock().unwrap()[0].1.is_none());
    let e = from_container(&platform, "x", None, Format::Har)
        .await
        .unwrap_err();
    assert!(chain(&e).contains("cannot be read line by line"), "{e}");
}
