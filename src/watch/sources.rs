//! The watch's inputs beyond the engine (I/O): the host, Prometheus
//! targets, the load engine when the watch drives the shadow itself, and
//! the seconds of a load someone else drives (the console's Load tab).
//!
//! Each runs as a task (the host sampler on a thread: sysinfo blocks) and
//! sends [`Feed`]s into the watch's channel; none is fatal. A scrape target
//! that fails is marked stale after two failures in a row (a notice when it
//! goes stale and when it comes back) and scraped again next round.

use std::time::{Duration, SystemTime};

use tokio::sync::mpsc::{self, Sender, UnboundedReceiver};
use tokio_util::sync::CancellationToken;

use crate::metrics::host;
use crate::metrics::scrape::{ScrapeConfig, Scraper};
use crate::metrics::scrape_series::PageConverter;
use crate::traffic::engine::{self, EngineOptions, Target};
use crate::traffic::replay::ReplayPlan;
use crate::traffic::report::{LoadReport, Window};

use super::collect::Feed;
use super::points::{self, ScrapeTarget};
use super::{second_of, unix_ms};

/// Samples the host once a second until `cancel` or the channel closes.
pub fn spawn_host(tx: &Sender<Feed>, cancel: &CancellationToken) {
    let tx = tx.clone();
    let started = host::spawn_sampler(Duration::from_secs(1), cancel.clone(), move |s| {
        let t_ms = second_of(unix_ms(SystemTime::now()));
        let feed = Feed::Points {
            t_ms,
            points: points::host_points(&s),
        };
        tx.blocking_send(feed).is_ok()
    });
    if let Err(e) = started {
        tracing::warn!("no host metrics: {e}");
    }
}

/// One scrape target, its conversion state and what was last said of it.
struct Scraped {
    /// The scraper's name for it: the target as given.
    name: String,
    target: ScrapeTarget,
    converter: PageConverter,
    stale: bool,
}

/// Scrapes `targets` every `every` until `cancel` or the channel closes.
pub async fn scrape_loop(
    targets: Vec<ScrapeTarget>,
    every: Duration,
    tx: Sender<Feed>,
    cancel: CancellationToken,
) {
    let mut scraper = Scraper::new(ScrapeConfig {
        timeout: every
            .min(Duration::from_secs(2))
            .max(Duration::from_millis(200)),
        ..ScrapeConfig::default()
    });
    // The scraper names each target as it was given (`ENV:SERVICE=URL`):
    // the name the report's `scrape` list shows.
    let mut scraped: Vec<Scraped> = targets
        .into_iter()
        .map(|target| {
            let name = target.to_string();
            scraper.add_target(name.clone(), target.url.clone());
            Scraped {
                name,
                target,
                converter: PageConverter::default(),
                stale: false,
            }
        })
        .collect();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let t_ms = unix_ms(SystemTime::now());
        let pages = scraper.scrape_all(t_ms).await;
        let mut feeds = Vec::new();
        for page in pages {
            let Some(s) = scraped.iter_mut().find(|s| s.name == page.target) else {
                continue;
            };
            let converted = s.converter.convert(&page.exposition, t_ms);
            // Told the first time only: when this page's count is the total.
            let (not_finite, over_limit) =
                scraper.left_out(&s.name, converted.not_finite, converted.dropped);
            if converted.not_finite > 0 && not_finite == converted.not_finite as u64 {
                feeds.push(Feed::Notice(format!(
                    "scrape {}: {} sample(s) NaN or infinite, left out (counted in the report)",
                    s.target.url, converted.not_finite
                )));
            }
            if converted.dropped > 0 && over_limit == converted.dropped as u64 {
                feeds.push(Feed::Notice(format!(
                    "scrape {}: more than {} series, {} sample(s) left out",
                    s.target.url,
                    crate::metrics::scrape_series::MAX_SERIES,
                    converted.dropped
                )));
            }
            feeds.push(Feed::Points {
                t_ms: second_of(t_ms),
                points: points::scrape_points(&s.target, converted),
            });
        }
        for (s, status) in scraped.iter_mut().zip(scraper.targets()) {
            if status.stale != s.stale {
                s.stale = status.stale;
                let url = &s.target.url;
                feeds.push(Feed::Notice(if status.stale {
                    format!(
                        "scrape {url} is stale: {}",
                        status.last_error.as_deref().unwrap_or("no answer")
                    )
                } else {
                    format!("scrape {url} answers again")
                }));
            }
        }
        feeds.push(Feed::ScrapeHealth(scraper.targets().to_vec()));
        for feed in feeds {
            if tx.send(feed).await.is_err() {
                return;
            }
        }
    }
}

/// The load the watch sends to the shadow's entry (`--replay`).
#[derive(Debug, Clone)]
pub struct Replay {
    pub plan: ReplayPlan,
    pub concurrency: usize,
    pub timeout: Duration,
}

/// Replays `replay.plan` against `url` (the shadow's entry for service
/// `entry`); every finished second becomes `shadow/ENTRY/client_*` points;
/// the report comes back at the end (or `None` if the load could not run:
/// then a notice says why).
pub async fn drive_replay(
    replay: Replay,
    entry: String,
    url: String,
    tx: Sender<Feed>,
    cancel: CancellationToken,
) -> Option<LoadReport> {
    let target = match Target::resolve(&url).await {
        Ok(t) => t,
        Err(e) => {
            let _ = tx.send(Feed::Notice(format!("replay on {url}: {e}"))).await;
            return None;
        }
    };
    let (workload, period) = replay.plan.into_workload();
    let options = EngineOptions {
        duration: period,
        concurrency: replay.concurrency,
        timeout: replay.timeout,
        ..EngineOptions::default()
    };
    let (windows_tx, mut windows) = mpsc::unbounded_channel::<Window>();
    let forward = {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(w) = windows.recv().await {
                if tx.send(client_feed(&entry, &w)).await.is_err() {
                    return;
                }
            }
        })
    };
    let result = engine::run(&target, workload, &options, Some(windows_tx), cancel).await;
    let _ = forward.await;
    match result {
        Ok(report) => {
            let _ = tx
                .send(Feed::Notice(format!(
                    "replay on {url} ended: {} requests, {:.1}/s achieved, {} errors",
                    report.requests,
                    report.achieved_rps,
                    report.errors.total()
                )))
                .await;
            Some(report)
        }
        Err(e) => {
            let _ = tx.send(Feed::Notice(format!("replay on {url}: {e}"))).await;
            None
        }
    }
}

/// One second of a load the watch does not run itself (the console's Load
/// tab) on the shadow's entry service `entry`.
#[derive(Debug, Clone)]
pub struct ClientWindow {
    pub entry: String,
    pub window: Window,
}

/// Turns the seconds of an outside load into `shadow/ENTRY/client_*`
/// points (placed by [`points::client_second`]), until `cancel` or either channel
/// closes.
pub async fn client_loop(
    mut windows: UnboundedReceiver<ClientWindow>,
    tx: Sender<Feed>,
    cancel: CancellationToken,
) {
    while let Some(Some(ClientWindow { entry, window })) =
        cancel.run_until_cancelled(windows.recv()).await
    {
        if tx.send(client_feed(&entry, &window)).await.is_err() {
            return;
        }
    }
}

/// One second of load on `entry` as the watch's points, at its own second.
fn client_feed(entry: &str, window: &Window) -> Feed {
    Feed::Points {
        t_ms: points::client_second(window, unix_ms(SystemTime::now())),
        points: points::client_points(entry, window),
    }
}

#[cfg(test)]
mod tests;
