//! The lines below were written by Debian's nginx 1.22.1 and Apache 2.4.71
//! on this machine (loopback, curl), with the formats given beside them;
//! where the real run gave `0.000`, some carry another duration (or zone)
//! so the readings can be told apart.

use super::*;

/// 2026-12-07T13:35:46Z in ms.
const T_NGINX: i64 = 1_796_650_546_000;
/// 2026-12-07T13:36:04Z in ms.
const T_APACHE: i64 = 1_796_650_564_000;

fn compile(format: &str) -> LogTemplate {
    LogTemplate::compile(format).unwrap()
}

fn read(format: &str, line: &str) -> Record {
    compile(format).parse(line.as_bytes(), 3, None).unwrap()
}

/// `METHOD path status bytes duration @start`, the start in ms after `t0`.
fn summary(r: &Record, t0: i64) -> String {
    let duration = r.duration_ms.map_or("-".to_owned(), |d| format!("{d}ms"));
    format!(
        "{} {} {} {}B {duration} @{}",
        r.method,
        r.path,
        r.status,
        r.bytes,
        r.start_ms - t0
    )
}

#[test]
fn an_nginx_format_with_its_request_time_as_a_key() {
    let format = r#"$remote_addr [$time_local] "$request" $status $body_bytes_sent rt=$request_time ua="$http_user_agent""#;
    let r = read(
        format,
        r#"127.0.0.1 [07/Dec/2026:13:35:46 +0000] "GET /index.html?x=1&y=2 HTTP/1.1" 200 6 rt=0.000 ua="curl/7.88.1""#,
    );
    assert_eq!(
        summary(&r, T_NGINX),
        "GET /index.html?x=1&y=2 200 6B 0ms @500"
    );
    assert_eq!(r.line, 3);
    let r = read(
        format,
        r#"127.0.0.1 [07/Dec/2026:13:35:46 +0000] "GET /a%20b HTTP/1.1" 404 153 rt=0.012 ua="Mozilla \x22quoted\x22 agent""#,
    );
    assert_eq!(summary(&r, T_NGINX), "GET /a%20b 404 153B 12ms @488");
}

#[test]
fn nginx_uri_is_args_args_is_one_target_and_its_dash_is_no_query() {
    let format =
        "$time_iso8601 $request_method $uri$is_args$args $status $bytes_sent $request_time";
    let template = compile(format);
    let lines = [
        "2026-12-07T13:35:46+00:00 GET /index.html?x=1&y=2 200 240 0.000",
        "2026-12-07T13:35:46+00:00 POST /missing- 404 308 0.000",
        "2026-12-07T13:35:46+00:00 GET /a b- 404 308 0.250",
    ];
    let read: Vec<_> = lines
        .iter()
        .map(|l| template.parse(l.as_bytes(), 1, None).unwrap())
        .collect();
    assert_eq!(
        summary(&read[0], T_NGINX),
        "GET /index.html?x=1&y=2 200 240B 0ms @500"
    );
    assert_eq!(
        summary(&read[1], T_NGINX),
        "POST /missing 404 308B 0ms @500"
    );
    assert_eq!(summary(&read[2], T_NGINX), "GET /a b 404 308B 250ms @250");
}

/// `$time_local` unbracketed holds a space before its zone, like the
/// literal after it; `$msec` is the end to the millisecond.
#[test]
fn nginx_times_unbracketed_and_in_milliseconds() {
    let cases = [
        (
            r#"$time_local $status "$request" $request_time"#,
            r#"07/Dec/2026:13:35:46 +0100 200 "GET /a HTTP/1.1" 0.004"#,
            "GET /a 200 0B 4ms @-3599504",
        ),
        (
            r#"$msec $status "$request" $request_time"#,
            r#"1796650546.208 404 "POST /missing HTTP/1.1" 0.008"#,
            "POST /missing 404 0B 8ms @200",
        ),
    ];
    for (format, line, expected) in cases {
        assert_eq!(summary(&read(format, line), T_NGINX), expected, "{format}");
    }
}

#[test]
fn nginx_upstream_times_add_up_when_there_is_no_request_time() {
    let format = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $upstream_response_time"#;
    let line = r#"127.0.0.1 - - [07/Dec/2026:13:35:46 +0000] "GET /up HTTP/1.1" 200 3 "-" "curl/7.88.1" 0.000"#;
    assert_eq!(read(format, line).duration_ms, Some(0.0));
    let tried = line.replace("0.000", "0.010, 0.004 : 0.002");
    assert_eq!(read(format, &tried).duration_ms, Some(16.0));
    let none = line.replace("0.000", "-");
    assert_eq!(
        read(format, &none).duration_ms,
        None,
        "the request is kept without a latency"
    );
}

#[test]
fn apache_percent_d_is_microseconds_and_t_stamps_the_start() {
    let format = r#"%h %l %u %t \"%r\" %>s %b %D"#;
    let template = compile(format);
    let line = r#"127.0.0.1 - - [07/Dec/2026:13:36:04 +0000] "GET /index.html?x=1&y=2 HTTP/1.1" 200 6 1406"#;
    let r = template.parse(line.as_bytes(), 1, None).unwrap();
    assert_eq!(
        summary(&r, T_APACHE),
        "GET /index.html?x=1&y=2 200 6B 1.406ms @0"
    );
    let escaped = r#"127.0.0.1 - - [07/Dec/2026:13:36:04 +0000] "GET /q\"x HTTP/1.1" 404 236 94"#;
    let r = template.parse(escaped.as_bytes(), 1, None).unwrap();
    assert_eq!(summary(&r, T_APACHE), r#"GET /q"x 404 236B 0.094ms @0"#);
    // The same line guessed at (no format named): a bare integer is no duration.
    let (guessed, _) =
        crate::traffic::parse::parse_text(line, crate::traffic::parse::Format::Combined).unwrap();
    assert_eq!(guessed[0].duration_ms, None);
}

#[test]
fn apache_ms_t_and_a_pasted_log_format_directive() {
    let pasted =
        r#"LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\" %{ms}T" withms"#;
    let r = read(
        pasted,
        r#"127.0.0.1 - - [07/Dec/2026:13:36:04 +0000] "POST /missing HTTP/1.1" 404 236 "-" "curl/7.88.1" 7"#,
    );
    assert_eq!(summary(&r, T_APACHE), "POST /missing 404 236B 7ms @0");
}

#[test]
fn apache_end_msec_and_path_with_query() {
    let template = compile("%{end:msec}t %m %U%q %>s %B %T");
    let r = template
        .parse(b"1796650564108 GET /index.html?x=1&y=2 200 6 0", 1, None)
        .unwrap();
    assert_eq!(
        summary(&r, T_APACHE),
        "GET /index.html?x=1&y=2 200 6B 0ms @108"
    );
    let r = template
        .parse(b"1796650564122 GET /a b 404 236 2", 1, None)
        .unwrap();
    assert_eq!(summary(&r, T_APACHE), "GET /a b 404 236B 2000ms @-1878");
}

/// 2026-12-08T00:05:40Z in ms: the strftime lines below.
const T_STRFTIME: i64 = 1_796_688_340_000;

/// Apache's own example of a strftime time: the date and time, the
/// milliseconds and the zone each in a field of their own. Written by
/// Apache 2.4.71 with `TZ=Europe/Berlin`.
#[test]
fn apache_strftime_parts_in_three_fields_add_up() {
    let template =
        compile(r#"LogFormat "%h [%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] \"%r\" %>s %b %D" docs"#);
    let lines = [
        r#"127.0.0.1 [08/Dec/2026 01:05:40.013 +0100] "GET /index.html?x=1&y=2 HTTP/1.1" 200 6 192"#,
        r#"127.0.0.1 [08/Dec/2026 01:05:40.021 +0100] "POST /missing HTTP/1.1" 404 236 174"#,
    ];
    let read: Vec<_> = lines
        .iter()
        .map(|l| summary(&template.parse(l.as_bytes(), 1, None).unwrap(), T_STRFTIME))
        .collect();
    assert_eq!(
        read,
        [
            "GET /index.html?x=1&y=2 200 6B 0.192ms @13",
            "POST /missing 404 236B 0.174ms @21"
        ]
    );
    let misspelt = lines[0].replace("Dec", "Dex");
    assert_eq!(
        template.parse(misspelt.as_bytes(), 1, None),
        Err(Reason::BadTime)
    );
}

/// `end:` stamps the end, to the second (so from its middle, less the
/// duration); `%c` holds spaces, and its fraction comes after the year as
/// the format puts it. The `%c` line was written with `TZ=UTC`: a strftime
/// time without `%z` is read as UTC.
#[test]
fn apache_strftime_at_the_end_and_in_the_c_locales_long_form() {
    let r = read(
        "%{end:%Y-%m-%dT%H:%M:%S%z}t %m %U%q %>s %B %{ms}T",
        "2026-12-08T01:05:40+0100 GET /index.html?x=1&y=2 200 6 0",
    );
    assert_eq!(
        summary(&r, T_STRFTIME),
        "GET /index.html?x=1&y=2 200 6B 0ms @500"
    );
    // A space inside the time is no end of it (its conversions say where
    // it ends); the line is the first one's, its time written `%F %T`.
    let r = read(
        "%{%F %T}t %{%z}t %m %U%q %>s %B",
        "2026-12-08 01:05:40 +0100 GET /index.html?x=1&y=2 200 6",
    );
    assert_eq!(
        summary(&r, T_STRFTIME),
        "GET /index.html?x=1&y=2 200 6B - @0"
    );
    let r = read(
        r#"%h %{%c}t.%{usec_frac}t "%r" %>s %b"#,
        r#"127.0.0.1 Tue Dec  8 00:05:34 2026.426316 "GET /index.html?x=1&y=2 HTTP/1.1" 200 6"#,
    );
    assert_eq!(
        summary(&r, T_STRFTIME),
        "GET /index.html?x=1&y=2 200 6B - @-5574"
    );
}

#[test]
fn a_pasted_nginx_log_format_joins_its_pieces() {
    let pasted = "log_format main escape=default '$remote_addr [$time_local] '\n    '\"$request\" $status $body_bytes_sent';";
    let r = read(
        pasted,
        r#"10.0.0.1 [07/Dec/2026:13:35:46 +0000] "GET / HTTP/1.1" 200 5"#,
    );
    assert_eq!(summary(&r, T_NGINX), "GET / 200 5B - @0");
}

#[test]
fn a_format_without_a_time_places_lines_at_the_engines_stamp() {
    let template = compile(r#""$request" $status $request_time"#);
    let line = br#""GET /a HTTP/1.1" 200 0.004"#;
    assert_eq!(template.parse(line, 1, None), Err(Reason::NoTime));
    let r = template.parse(line, 1, Some(T_NGINX + 10)).unwrap();
    assert_eq!(r.start_ms, T_NGINX + 6);
}

#[test]
fn lines_that_do_not_fit_say_why() {
    let template = compile(r#"$remote_addr [$time_local] "$request" $status $body_bytes_sent"#);
    let reason = |line: &str| template.parse(line.as_bytes(), 1, None).unwrap_err();
    assert_eq!(reason("a startup banner"), Reason::NotInFormat);
    assert_eq!(
        reason(r#"1.2.3.4 [yesterday] "GET / HTTP/1.1" 200 5"#),
        Reason::BadTime
    );
    assert_eq!(
        reason(r#"1.2.3.4 [07/Dec/2026:13:35:46 +0000] "-" 400 0"#),
        Reason::NoRequestLine
    );
    assert_eq!(
        reason(r#"1.2.3.4 [07/Dec/2026:13:35:46 +0000] "GET / HTTP/1.1" 2000 5"#),
        Reason::BadStatus
    );
    assert_eq!(
        reason(r#"1.2.3.4 [07/Dec/2026:13:35:46 +0000] "GET / HTTP/1.1" 200 many"#),
        Reason::BadBytes
    );
    assert_eq!(
        reason(r#"1.2.3.4 [07/Dec/2026:13:35:46 +0000] "GET / HTTP/1.1 200 5"#),
        Reason::NotInFormat
    );
    let timed = compile(r#"[$time_local] "$request" $status $request_time"#);
    let combined = br#"[07/Dec/2026:13:35:46 +0000] "GET / HTTP/1.1" 200 "-" "curl/7.88.1""#;
    assert_eq!(timed.parse(combined, 1, None), Err(Reason::BadDuration));
}

#[test]
fn formats_that_cannot_be_read_are_refused_with_the_place_and_the_text() {
    let error = |format: &str| LogTemplate::compile(format).unwrap_err();
    let e = error(r#"%h %t "%r" %>s %Z"#);
    assert_eq!((e.column, e.text.as_str()), (16, "%Z"));
    assert_eq!(
        e.to_string(),
        r#"log format, column 16: "%Z" is not an Apache log directive"#
    );
    let e = error(r#"%{%d/%b/%Y}t "%r" %>s"#);
    assert_eq!(e.column, 1);
    assert!(e.message.contains("time of day"), "{e}");
    let e = error(r#"%h %{%d week %U}t "%r" %>s"#);
    assert_eq!((e.column, e.text.as_str()), (4, "%{%d week %U}t"));
    assert!(e.message.contains(r#"holds "%U""#), "{e}");
    let e = error(r#"%h %{%b %Q}t "%r" %>s"#);
    assert!(e.message.contains(r#""%Q""#), "{e}");
    let e = error(r#"%h %{week}t "%r" %>s"#);
    assert!(e.message.contains("nor a strftime format"), "{e}");
    let e = error(r#"$remote_addr "$request" $status$body_bytes_sent"#);
    assert_eq!((e.column, e.text.as_str()), (25, "$status$body_bytes_sent"));
    assert!(e.message.contains("nothing between"), "{e}");
    let e = error(r"$remote_addr [$time_local] $status");
    assert!(e.message.contains("$request"), "{e}");
    let e = error(r#"%h %t "%r" %b"#);
    assert!(e.message.contains("%>s"), "{e}");
    assert!(error("plain words").message.contains("$variable"));
    assert!(error(r"%{Referer").message.contains("'}'"));
}

#[test]
fn a_format_is_a_format_argument() {
    use crate::traffic::parse::Format;
    let f: Format = r#"%h %t "%r" %>s %b %D"#.parse().unwrap();
    assert_eq!(f.name(), "Apache LogFormat");
    let f: Format = r#"$remote_addr "$request" $status"#.parse().unwrap();
    assert_eq!(f.name(), "nginx log_format");
    let e = r"$remote_addr $status".parse::<Format>().unwrap_err();
    assert!(e.to_string().contains("column 1"), "{e}");
    let e = "nginxx".parse::<Format>().unwrap_err();
    assert!(e.to_string().contains("or the log format itself"), "{e}");
}

proptest::proptest! {
    #[test]
    fn any_format_compiles_or_is_refused(format in "[%$a-z{}<>^ \"\\\\é]{0,24}") {
        let _ = LogTemplate::compile(&format);
    }

    #[test]
    fn any_line_is_read_or_rejected(line in proptest::collection::vec(proptest::num::u8::ANY, 0..120)) {
        for format in [r#"$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time"#,
                       "%{end:msec}t %m %U%q %>s %B %T",
                       r#"%h [%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] "%r" %>s %b %D"#] {
            let _ = compile(format).parse(&line, 1, Some(0));
        }
    }
}
