//! Profile extraction throughput on combined-format access logs: ~200k
//! realistic lines generated in memory (the demo gateway's format, a shop's
//! endpoint mix with real-looking ids, IPv4 and IPv6 peers, browser user
//! agents with escaped quotes, ~100 requests per second), parsed alone and
//! parsed + extracted. Criterion reports the throughput in lines
//! (elements) per second; the target is at least 1 M lines/s on one core.
//!
//! `cargo bench --bench profile`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use understudy::traffic::parse::{Format, parse_bytes_with};
use understudy::traffic::profile::Extractor;

const LINES: usize = 200_000;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "shop-app/2.1 (\\x22android\\x22; build 4411)",
    "curl/8.0",
];

const MONTH_DAY: &str = "27/Nov/2026";

fn generate() -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(LINES * 190);
    for i in 0..LINES {
        let second = i / 100;
        let (h, m, s) = (10 + second / 3600, second / 60 % 60, second % 60);
        let peer = if rng.below(10) == 0 {
            format!("2001:db8::{:x}", rng.below(4096))
        } else {
            format!("172.18.{}.{}", rng.below(4), rng.below(250) + 2)
        };
        let (method, path, status, bytes) = match rng.below(100) {
            0..=44 => (
                "GET",
                format!("/api/products/{}", rng.below(5000)),
                200,
                140 + rng.below(40),
            ),
            45..=59 => (
                "GET",
                format!("/api/search?q=item{}&page={}", rng.below(900), rng.below(5)),
                200,
                1500 + rng.below(3000),
            ),
            60..=69 => ("POST", "/api/orders".to_owned(), 201, 88),
            70..=77 => ("PUT", format!("/api/cart/{:016x}", rng.next()), 204, 0),
            78..=85 => (
                "GET",
                format!("/static/app.{:08x}.js", rng.below(4) + 0x1000_0000),
                200,
                48_211,
            ),
            86..=93 => ("GET", "/healthz".to_owned(), 200, 3),
            94..=96 => (
                "GET",
                format!("/api/products/{}", rng.below(99_999)),
                404,
                153,
            ),
            _ => ("GET", "/api/checkout".to_owned(), 503, 0),
        };
        let agent = AGENTS[rng.below(AGENTS.len() as u64) as usize];
        let millis = rng.below(250) + if rng.below(500) == 0 { 2000 } else { 1 };
        let _ = writeln!(
            out,
            "{peer} - - [{MONTH_DAY}:{h:02}:{m:02}:{s:02} +0000] \"{method} {path} HTTP/1.1\" {status} {bytes} \"-\" \"{agent}\" {}.{:03}",
            millis / 1000,
            millis % 1000
        );
    }
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let data = generate();
    // Sanity: every line parses, and the mix is what was generated.
    let mut x = Extractor::new();
    let completeness = parse_bytes_with(&data, Format::Combined, |r| x.push(&r)).unwrap();
    assert_eq!(completeness.parsed, LINES as u64);
    let profile = x.finish(completeness, "bench");
    assert!(profile.mix.len() < 20, "{}", profile.mix.len());

    let mut group = c.benchmark_group("combined");
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(20);
    group.bench_function("parse", |b| {
        b.iter(|| {
            let mut n = 0u64;
            parse_bytes_with(black_box(&data), Format::Combined, |r| {
                n += black_box(&r).bytes;
            })
            .unwrap();
            n
        });
    });
    group.bench_function("parse+extract", |b| {
        b.iter(|| {
            let mut x = Extractor::new();
            let c = parse_bytes_with(black_box(&data), Format::Combined, |r| x.push(&r)).unwrap();
            x.finish(c, "bench")
        });
    });
    // The same lines read in their named nginx format (`--format`).
    let named: Format = NGINX_FORMAT.parse().unwrap();
    let completeness = parse_bytes_with(&data, named.clone(), |_| {}).unwrap();
    assert_eq!(completeness.parsed, LINES as u64);
    group.bench_function("parse, named format", |b| {
        b.iter(|| {
            let mut n = 0u64;
            parse_bytes_with(black_box(&data), named.clone(), |r| {
                n += black_box(&r).bytes;
            })
            .unwrap();
            n
        });
    });
    group.finish();
}

/// The nginx `log_format` the generated lines are in.
const NGINX_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#;

criterion_group!(benches, bench);
criterion_main!(benches);
