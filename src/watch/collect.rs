//! The watch's inputs from the engine (I/O): which containers to follow,
//! their access logs as records (read by `entry_log`), their stats at 1 Hz.
//!
//! Production's entry is found as the services that publish ports; the
//! shadow's entry is the same services among the shadow's clones (its fault
//! proxies and ingress are helpers, not services, and are left out). Logs
//! are followed from now on (`since` = start), so a watch never re-reads
//! history. Every follower sends into one channel; a follower whose
//! container goes away reports it and ends: not fatal.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::SystemTime;

use futures::StreamExt;
use tokio::sync::mpsc::Sender;
use tokio_util::sync::CancellationToken;

use crate::domain::container::ContainerSummary;
use crate::domain::labels;
use crate::domain::selector::Selector;
use crate::domain::series::Environment;
use crate::domain::stats::ContainerStats;
use crate::domain::traffic::Record;
use crate::metrics::container_stats::StatsDeriver;
use crate::platform::{LogOptions, LogStream, Platform, find_group};
use crate::shadow::naming;
use crate::traffic::parse::LogTemplate;
use crate::watch::entry_log::{self, EntryLog};
use crate::watch::log_clock::LogClock;

/// One container followed by the watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    pub environment: Environment,
    pub service: String,
    /// Container name (the instance in series keys).
    pub instance: String,
    pub id: String,
    /// Whether its access log carries the environment's request metrics.
    pub entry: bool,
}

/// What the watch follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    pub group: String,
    pub shadow: Option<String>,
    pub entries: Vec<String>,
    pub services: Vec<String>,
    pub containers: Vec<Followed>,
}

/// What a follower reports.
#[derive(Debug)]
pub enum Feed {
    Record {
        environment: Environment,
        service: String,
        record: Record,
    },
    Stats {
        container: Followed,
        stats: ContainerStats,
    },
    /// Points already keyed (host, scrapes, the load engine), at `t_ms`.
    Points {
        t_ms: i64,
        points: Vec<super::points::Point>,
    },
    /// The scrape targets' health after a round.
    ScrapeHealth(Vec<crate::metrics::scrape::TargetStatus>),
    /// Something worth a line (a container gone, a log unreadable).
    Notice(String),
}

/// Why the watch cannot start.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Group(#[from] crate::platform::GroupError),
    #[error(transparent)]
    Platform(#[from] crate::platform::PlatformError),
    #[error(
        "group {group:?} has no shadow; create one with `understudy shadow up --group {group}`"
    )]
    NoShadow { group: String },
    #[error("group {group:?} has several shadows ({}); pick one with --shadow", .ids.join(", "))]
    SeveralShadows { group: String, ids: Vec<String> },
    #[error("no shadow {id:?} of group {group:?} is on the engine")]
    UnknownShadow { group: String, id: String },
    #[error(
        "group {group:?} publishes no port, so its entry is unknown; name it with --entry SERVICE"
    )]
    NoEntry { group: String },
}

/// Finds the containers to follow. `shadow`: `None` picks the group's only
/// shadow; `Some("none")` watches production alone.
pub async fn discover<P: Platform>(
    platform: &P,
    group: &str,
    shadow: Option<&str>,
    entry: &[String],
) -> Result<Targets, CollectError> {
    let prod = find_group(platform, group).await?;
    let services: Vec<String> = prod.services.iter().map(|s| s.name.clone()).collect();
    let entries: Vec<String> = if entry.is_empty() {
        prod.services
            .iter()
            .filter(|s| {
                s.instances
                    .iter()
                    .any(|i| i.container.ports.iter().any(|p| p.host_port != 0))
            })
            .map(|s| s.name.clone())
            .collect()
    } else {
        entry.to_vec()
    };
    if entries.is_empty() {
        return Err(CollectError::NoEntry {
            group: group.to_owned(),
        });
    }
    let mut containers = Vec::new();
    for s in &prod.services {
        for i in &s.instances {
            containers.push(Followed {
                environment: Environment::Prod,
                service: s.name.clone(),
                instance: i.container.name.clone(),
                id: i.container.id.clone(),
                entry: entries.contains(&s.name),
            });
        }
    }
    let shadow = match shadow {
        Some("none") => None,
        chosen => Some(pick_shadow(platform, group, chosen).await?),
    };
    if let Some(id) = &shadow {
        let selector = Selector::label(labels::SHADOW, id);
        let mut clones: Vec<ContainerSummary> = platform.list_containers(Some(&selector)).await?;
        clones.retain(|c| {
            c.label(labels::ROLE) == Some(naming::ROLE_SHADOW)
                && c.label(naming::COMPONENT).is_none()
        });
        clones.sort_by(|a, b| a.name.cmp(&b.name));
        for c in clones {
            let Some(service) = c.label(labels::SERVICE).map(str::to_owned) else {
                continue;
            };
            containers.push(Followed {
                environment: Environment::Shadow,
                entry: entries.contains(&service),
                service,
                instance: c.name.clone(),
                id: c.id.clone(),
            });
        }
    }
    Ok(Targets {
        group: group.to_owned(),
        shadow,
        entries,
        services,
        containers,
    })
}

async fn pick_shadow<P: Platform>(
    platform: &P,
    group: &str,
    chosen: Option<&str>,
) -> Result<String, CollectError> {
    let selector = Selector::label(labels::OF, group);
    let ids: BTreeSet<String> = platform
        .list_containers(Some(&selector))
        .await?
        .iter()
        .filter(|c| c.label(labels::ROLE) == Some(naming::ROLE_SHADOW))
        .filter_map(|c| c.label(labels::SHADOW).map(str::to_owned))
        .collect();
    match chosen {
        Some(id) if ids.contains(id) => Ok(id.to_owned()),
        Some(id) => Err(CollectError::UnknownShadow {
            group: group.to_owned(),
            id: id.to_owned(),
        }),
        None => match ids.len() {
            0 => Err(CollectError::NoShadow {
                group: group.to_owned(),
            }),
            1 => Ok(ids.into_iter().next().unwrap_or_default()),
            _ => Err(CollectError::SeveralShadows {
                group: group.to_owned(),
                ids: ids.into_iter().collect(),
            }),
        },
    }
}

/// Starts a log follower for every entry container and a stats follower for
/// every container; they end on `cancel` or when their stream does.
pub fn spawn<P: Platform>(
    platform: &P,
    targets: &Targets,
    log_format: Option<&Arc<LogTemplate>>,
    start: SystemTime,
    tx: &Sender<Feed>,
    cancel: &CancellationToken,
) -> tokio::task::JoinSet<()> {
    let mut set = tokio::task::JoinSet::new();
    for c in &targets.containers {
        if c.entry {
            set.spawn(follow_log(
                platform.clone(),
                c.clone(),
                log_format
                    .map(|f| EntryLog::in_format(f.clone()))
                    .unwrap_or_default(),
                start,
                tx.clone(),
                cancel.clone(),
            ));
        }
        set.spawn(follow_stats(
            platform.clone(),
            c.clone(),
            tx.clone(),
            cancel.clone(),
        ));
    }
    set
}

/// Follows an entry's log from `start`, the watch's start, which is when
/// the followers begin: the clock a request is read at is `start` plus the
/// time since (tokio's, so tests on paused time control it).
async fn follow_log<P: Platform>(
    platform: P,
    c: Followed,
    mut log: EntryLog,
    start: SystemTime,
    tx: Sender<Feed>,
    cancel: CancellationToken,
) {
    let options = LogOptions {
        follow: true,
        since: Some(start),
        tail: None,
    };
    let mut lines = platform.logs(&c.id, &options);
    let mut clock = LogClock::default();
    let began = tokio::time::Instant::now();
    let silent_at = began + entry_log::SILENT_AFTER;
    // Until its first stdout line, or the notice that none came.
    let mut waiting = true;
    loop {
        let next = tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep_until(silent_at), if waiting => {
                waiting = false;
                let notice = entry_log::silent_notice(&c.instance, c.environment, entry_log::SILENT_AFTER);
                if tx.send(Feed::Notice(notice)).await.is_err() {
                    return;
                }
                continue;
            }
            next = lines.next() => next,
        };
        match next {
            Some(Ok(line)) => {
                waiting = false;
                let text = line.text.trim_end();
                // A line that writes no time is placed at the engine's
                // stamp, else at the time it is read.
                let stamp = line
                    .time_ms
                    .unwrap_or_else(|| crate::watch::unix_ms(start + began.elapsed()));
                let record = match line.stream {
                    LogStream::Stdout => log.push(text, Some(stamp)),
                    LogStream::Stderr => log.push_stderr(text, Some(stamp)),
                };
                let feed = match record {
                    Some(record) => {
                        // Against the engine's stamp of the line where
                        // it gave one: exact, also for a backlog.
                        let (record, skew) = clock.place(record, stamp, &c.instance);
                        if let Some(notice) = skew
                            && tx.send(Feed::Notice(notice)).await.is_err()
                        {
                            return;
                        }
                        Feed::Record {
                            environment: c.environment,
                            service: c.service.clone(),
                            record,
                        }
                    }
                    None => match log.unread_notice(&c.instance) {
                        Some(notice) => Feed::Notice(notice),
                        None => continue,
                    },
                };
                if tx.send(feed).await.is_err() {
                    return;
                }
            }
            Some(Err(e)) => {
                let _ = tx
                    .send(Feed::Notice(entry_log::unreadable_notice(
                        &c.instance,
                        c.environment,
                        &e.to_string(),
                    )))
                    .await;
                return;
            }
            None => {
                let _ = tx
                    .send(Feed::Notice(format!(
                        "log of {} ended (container gone?)",
                        c.instance
                    )))
                    .await;
                return;
            }
        }
    }
}

async fn follow_stats<P: Platform>(
    platform: P,
    c: Followed,
    tx: Sender<Feed>,
    cancel: CancellationToken,
) {
    let mut frames = platform.stats(&c.id);
    let mut deriver = StatsDeriver::new();
    loop {
        let next = tokio::select! {
            () = cancel.cancelled() => return,
            next = frames.next() => next,
        };
        match next {
            Some(Ok(raw)) => {
                if let Some(stats) = deriver.push(raw) {
                    let feed = Feed::Stats {
                        container: c.clone(),
                        stats,
                    };
                    if tx.send(feed).await.is_err() {
                        return;
                    }
                }
            }
            Some(Err(e)) => {
                let _ = tx
                    .send(Feed::Notice(format!("stats of {} ended: {e}", c.instance)))
                    .await;
                return;
            }
            None => return,
        }
    }
}

#[cfg(test)]
mod tests;
