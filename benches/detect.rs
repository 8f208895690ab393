//! Cost of the combined streaming detector: points per second on one core
//! (target >= 5 M/s) over a realistic series (5-minute samples, a daily
//! cycle, noise, a few spikes and a level shift), and the CSV path of
//! `understudy detect` (parse + score + write). The state bound (<= 2 KB per
//! series) is asserted by the unit test `detect::tests::state_fits_in_two_kilobytes`;
//! the figure is printed here too.
//!
//! `cargo bench --bench detect`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use understudy::detect::{Config, Detector, Series, csv};

const POINTS: usize = 1_000_000;

/// A small deterministic generator (xorshift64*), uniform in [0, 1).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn series() -> Vec<(f64, f64)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..POINTS)
        .map(|i| {
            let t = 1_396_310_400.0 + 300.0 * i as f64;
            let day = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
            let mut v = 100.0 + 40.0 * day.sin() + 5.0 * (rng.uniform() - 0.5);
            if i % 5000 == 17 {
                v += 200.0;
            }
            if i > POINTS / 2 {
                v += 30.0;
            }
            (t, v)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let points = series();
    let fresh = || Detector::new(Series::new("p99 latency", "ms"), Config::default());
    println!("detector state: {} bytes", fresh().state_bytes());

    let mut group = c.benchmark_group("detect");
    group.throughput(Throughput::Elements(POINTS as u64));
    group.sample_size(20);
    group.bench_function("push", |b| {
        b.iter(|| {
            let mut d = fresh();
            let mut sum = 0.0;
            for &(t, v) in &points {
                sum += d.push(t, v).score;
            }
            black_box(sum)
        });
    });

    let mut text = String::from("timestamp,value\n");
    for &(t, v) in &points {
        let secs = t as i64 - 1_396_310_400;
        let (d, s) = (secs / 86_400, secs % 86_400);
        writeln!(
            text,
            "2014-04-{:02} {:02}:{:02}:{:02},{v:.3}",
            1 + d % 28,
            s / 3600,
            s / 60 % 60,
            s % 60
        )
        .unwrap();
    }
    group.bench_function("csv", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(text.len() * 3 / 2);
            let summary = csv::score(text.as_bytes(), &mut out, &mut fresh(), |_, _| {}).unwrap();
            black_box((summary.rows, out.len()))
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
