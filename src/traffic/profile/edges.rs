//! Edge cases (pure): the concrete requests a rehearsal should not forget,
//! a bounded number of each kind, one per endpoint so one noisy endpoint
//! cannot fill a list:
//!
//! - `largest-body`: the [`MAX_LARGEST`] endpoints with the largest body
//!   (response, or request when larger), their largest request each;
//! - `slowest`: the [`MAX_SLOWEST`] endpoints with the slowest request;
//! - `rare-endpoint`: endpoints under 1 % of all requests, rarest first
//!   ([`MAX_RARE`]), their first request;
//! - `error`: per endpoint and status (5xx, or 4xx other than 404: a 404 is
//!   mostly scanners and stale links), the first request, most frequent
//!   first ([`MAX_ERRORS`]).

use super::{Acc, body_size, is_error};
use crate::domain::traffic::{EdgeCase, EdgeKind, Record};

pub const MAX_LARGEST: usize = 5;
pub const MAX_SLOWEST: usize = 5;
pub const MAX_RARE: usize = 10;
pub const MAX_ERRORS: usize = 10;
/// Share under which an endpoint is rare.
pub const RARE_SHARE: f64 = 0.01;

fn edge(kind: EdgeKind, r: &Record) -> EdgeCase {
    EdgeCase {
        kind,
        method: r.method.clone(),
        path: r.path.clone(),
        status: r.status,
        bytes: r.bytes,
        duration_ms: r.duration_ms,
        body: r.body.clone(),
        line: r.line,
    }
}

/// The edge cases of the accumulated mix (`entries` sorted by count, most
/// first), in kind order.
pub(super) fn collect(entries: &[Acc], total: u64) -> Vec<EdgeCase> {
    let mut out = Vec::new();

    let mut largest: Vec<&Record> = entries.iter().filter_map(|a| a.largest.as_ref()).collect();
    largest.sort_by(|a, b| body_size(b).cmp(&body_size(a)).then(a.line.cmp(&b.line)));
    out.extend(
        largest
            .into_iter()
            .take(MAX_LARGEST)
            .map(|r| edge(EdgeKind::LargestBody, r)),
    );

    let mut slowest: Vec<&Record> = entries.iter().filter_map(|a| a.slowest.as_ref()).collect();
    slowest.sort_by(|a, b| {
        let d = |r: &Record| r.duration_ms.unwrap_or(0.0);
        d(b).total_cmp(&d(a)).then(a.line.cmp(&b.line))
    });
    out.extend(
        slowest
            .into_iter()
            .take(MAX_SLOWEST)
            .map(|r| edge(EdgeKind::Slowest, r)),
    );

    if entries.len() > 1 {
        let mut rare: Vec<&Acc> = entries
            .iter()
            .filter(|a| (a.count as f64) < RARE_SHARE * total as f64)
            .collect();
        rare.sort_by(|a, b| {
            (a.count, &a.template, &a.method).cmp(&(b.count, &b.template, &b.method))
        });
        out.extend(
            rare.into_iter()
                .take(MAX_RARE)
                .map(|a| edge(EdgeKind::RareEndpoint, &a.first)),
        );
    }

    let mut errors: Vec<(u64, &Record)> = entries
        .iter()
        .flat_map(|a| a.errors.iter().map(move |r| (a.status_count(r.status), r)))
        .filter(|(_, r)| is_error(r.status))
        .collect();
    errors.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.line.cmp(&b.1.line)));
    out.extend(
        errors
            .into_iter()
            .take(MAX_ERRORS)
            .map(|(_, r)| edge(EdgeKind::Error, r)),
    );
    out
}
