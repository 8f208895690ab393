//! Scraping `/metrics` endpoints over plain HTTP (hyper, no TLS).
//!
//! Owns: one GET of a page within a timeout ([`scrape`]), and the
//! [`Scraper`], which scrapes its targets concurrently and keeps per-target
//! health: a target that fails `stale_after` times in a row is marked
//! stale with its last error; it is never fatal and never panics, and the
//! next success clears it. Not owned: parsing (`prom_text`), the scrape
//! interval and clock (injected by the caller), turning samples into
//! series (`run`).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::prom_text::{self, Exposition};
use crate::domain::units::format_duration;
use crate::http_get::{self, Target};

/// The largest page read.
pub const MAX_PAGE_BYTES: usize = 16 << 20;

/// Why one scrape failed.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error("invalid scrape URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    /// Resolving, connecting or the HTTP exchange failed.
    #[error(transparent)]
    Get(#[from] http_get::GetError),
    #[error("no answer within {}", format_duration(*.0))]
    Timeout(Duration),
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
}

/// GETs `url` (`http://HOST:PORT/metrics`) and parses the page. Lines the
/// parser cannot read are in the result's `errors`, not failures.
pub async fn scrape(url: &str, timeout: Duration) -> Result<Exposition, ScrapeError> {
    let target =
        Target::parse(url, "http://HOST:PORT/metrics").map_err(|e| ScrapeError::BadUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
    let answer = tokio::time::timeout(
        timeout,
        http_get::get(&target, prom_text::ACCEPT, MAX_PAGE_BYTES),
    )
    .await
    .map_err(|_| ScrapeError::Timeout(timeout))??;
    if !(200..300).contains(&answer.status) {
        return Err(ScrapeError::Status {
            url: url.to_owned(),
            status: answer.status,
        });
    }
    Ok(prom_text::parse(&answer.body))
}

/// How a [`Scraper`] scrapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScrapeConfig {
    pub timeout: Duration,
    /// Consecutive failures after which a target is stale.
    pub stale_after: u32,
}

impl Default for ScrapeConfig {
    fn default() -> Self {
        ScrapeConfig {
            timeout: Duration::from_secs(2),
            stale_after: 2,
        }
    }
}

/// The health of one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetStatus {
    pub name: String,
    pub url: String,
    pub stale: bool,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    /// When the last successful scrape ended (the caller's clock).
    pub last_success_ms: Option<i64>,
    pub last_duration: Option<Duration>,
    pub scrapes: u64,
    pub failures: u64,
    /// Samples and unreadable lines of the last successful page.
    pub samples: usize,
    pub garbage_lines: usize,
    /// Left out over the whole run: samples whose value was NaN or
    /// infinite, and series points beyond the cardinality guard (a counter's
    /// rate, a histogram's quantiles and mean; counted by the caller's
    /// conversion).
    #[serde(default)]
    pub not_finite: u64,
    #[serde(default)]
    pub over_limit: u64,
}

/// One target's page from [`Scraper::scrape_all`].
#[derive(Debug, Clone)]
pub struct Page {
    pub target: String,
    pub exposition: Exposition,
}

/// Scrapes a set of targets and tracks their staleness.
#[derive(Debug, Clone, Default)]
pub struct Scraper {
    config: ScrapeConfig,
    targets: Vec<TargetStatus>,
}

impl Scraper {
    pub fn new(config: ScrapeConfig) -> Self {
        Scraper {
            config,
            targets: Vec::new(),
        }
    }

    /// Adds a target (or replaces the URL of one with the same name).
    pub fn add_target(&mut self, name: impl Into<String>, url: impl Into<String>) {
        let (name, url) = (name.into(), url.into());
        if let Some(t) = self.targets.iter_mut().find(|t| t.name == name) {
            t.url = url;
            return;
        }
        self.targets.push(TargetStatus {
            name,
            url,
            stale: false,
            consecutive_failures: 0,
            last_error: None,
            last_success_ms: None,
            last_duration: None,
            scrapes: 0,
            failures: 0,
            samples: 0,
            garbage_lines: 0,
            not_finite: 0,
            over_limit: 0,
        });
    }

    pub fn remove_target(&mut self, name: &str) -> bool {
        let before = self.targets.len();
        self.targets.retain(|t| t.name != name);
        self.targets.len() != before
    }

    pub fn targets(&self) -> &[TargetStatus] {
        &self.targets
    }

    /// Counts what the conversion of target `name`'s page left out; the
    /// target's totals after it (`(0, 0)` for an unknown target).
    pub fn left_out(&mut self, name: &str, not_finite: usize, over_limit: usize) -> (u64, u64) {
        let Some(t) = self.targets.iter_mut().find(|t| t.name == name) else {
            return (0, 0);
        };
        t.not_finite += not_finite as u64;
        t.over_limit += over_limit as u64;
        (t.not_finite, t.over_limit)
    }

    /// Applies one scrape's outcome to target `index` (pure).
    pub fn record(
        &mut self,
        index: usize,
        now_ms: i64,
        took: Duration,
        result: &Result<Exposition, ScrapeError>,
    ) {
        let stale_after = self.config.stale_after.max(1);
        let Some(t) = self.targets.get_mut(index) else {
            return;
        };
        t.scrapes += 1;
        t.last_duration = Some(took);
        match result {
            Ok(page) => {
                t.stale = false;
                t.consecutive_failures = 0;
                t.last_error = None;
                t.last_success_ms = Some(now_ms);
                t.samples = page.samples.len();
                t.garbage_lines = page.errors.len();
            }
            Err(e) => {
                t.failures += 1;
                t.consecutive_failures += 1;
                t.last_error = Some(error_chain(e));
                t.stale = t.consecutive_failures >= stale_after;
            }
        }
    }

    /// Scrapes every target concurrently; returns the pages that came back
    /// and records every outcome. `now_ms` stamps the successes.
    pub async fn scrape_all(&mut self, now_ms: i64) -> Vec<Page> {
        let timeout = self.config.timeout;
        let attempts = self.targets.iter().map(|t| {
            let url = t.url.clone();
            async move {
                let started = Instant::now();
                let result = scrape(&url, timeout).await;
                (started.elapsed(), result)
            }
        });
        let outcomes = futures::future::join_all(attempts).await;
        let mut pages = Vec::new();
        for (i, (took, result)) in outcomes.into_iter().enumerate() {
            self.record(i, now_ms, took, &result);
            if let (Ok(exposition), Some(t)) = (result, self.targets.get(i)) {
                pages.push(Page {
                    target: t.name.clone(),
                    exposition,
                });
            }
        }
        pages
    }
}

/// The error and its sources, `: `-separated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests;
