//! The CPU burner behind the `resource-hijack` drill: `understudy burn --id
//! ID --for DURATION`, run inside a shadow container (its image has this
//! binary). It keeps every CPU it may use busy until the duration ends or a
//! stop file `/.understudy-burn-stop-<ID>` appears (the injector uploads it
//! to revert: a scratch image has no `kill` to run).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The file whose appearance stops burner `id`.
pub fn stop_file(id: &str) -> String {
    format!(".understudy-burn-stop-{id}")
}

fn spin(stop: &AtomicBool) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        std::hint::black_box(x);
    }
}

/// Burns until `duration` passes or the stop file for `id` exists in `dir`.
pub fn run(id: &str, duration: Duration, dir: &std::path::Path) -> std::io::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("burn".into())
                .spawn(move || spin(&stop))
        })
        .collect::<Result<_, _>>()?;
    let deadline = Instant::now() + duration;
    let file = dir.join(stop_file(id));
    while Instant::now() < deadline && !file.exists() {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stop_file_ends_the_burn() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_owned();
        let started = Instant::now();
        let burner = std::thread::spawn(move || run("t1", Duration::from_secs(60), &d));
        std::thread::sleep(Duration::from_millis(200));
        std::fs::write(dir.path().join(stop_file("t1")), b"").unwrap();
        burner.join().unwrap().unwrap();
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn the_duration_ends_the_burn() {
        let dir = tempfile::tempdir().unwrap();
        run("t2", Duration::from_millis(150), dir.path()).unwrap();
    }
}
