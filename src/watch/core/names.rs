//! What explanations call a series (pure): the human name and unit of the
//! built-in metrics ("p99 latency", ms), and for any other (a scraped one)
//! its own name without labels, in the unit its Prometheus suffix names.

use crate::detect::Series;
use crate::domain::series::metric;
use crate::watch::points::client;

/// The name and unit explanations use for `metric_name`.
pub fn series_of(metric_name: &str) -> Series {
    match built_in(metric_name) {
        Some((name, unit)) => Series::new(name, unit),
        None => scraped(metric_name),
    }
}

fn built_in(metric_name: &str) -> Option<(&'static str, &'static str)> {
    Some(match metric_name {
        metric::CPU_PERCENT => ("CPU", "%"),
        metric::MEMORY_BYTES => ("memory", "B"),
        metric::NET_RX_BPS => ("net rx", "B/s"),
        metric::NET_TX_BPS => ("net tx", "B/s"),
        metric::BLK_READ_BPS => ("block read", "B/s"),
        metric::BLK_WRITE_BPS => ("block write", "B/s"),
        metric::RPS => ("throughput", "req/s"),
        metric::LATENCY_P50_MS => ("p50 latency", "ms"),
        metric::LATENCY_P99_MS => ("p99 latency", "ms"),
        metric::ERROR_RATE => ("error rate", ""),
        metric::LOAD1 => ("load average", ""),
        client::RPS => ("client throughput", "req/s"),
        client::LATENCY_P50_MS => ("client p50 latency", "ms"),
        client::LATENCY_P99_MS => ("client p99 latency", "ms"),
        client::ERROR_RATE => ("client error rate", ""),
        client::DROPPED => ("dropped arrivals", "/s"),
        m if m.starts_with(client::ERRORS_PREFIX) => ("client errors", "/s"),
        _ => return None,
    })
}

/// `http_request_duration_seconds{route="/a"}:p99` is
/// `http_request_duration_seconds:p99` in seconds; `_bytes` is B, a
/// `:rate` per second.
fn scraped(metric_name: &str) -> Series {
    let bare = match (metric_name.find('{'), metric_name.rfind('}')) {
        (Some(open), Some(close)) if open < close => {
            format!("{}{}", &metric_name[..open], &metric_name[close + 1..])
        }
        _ => metric_name.to_owned(),
    };
    // The converter appends its suffix last; a recording rule's name may
    // hold colons of its own (`job:request_duration_seconds:mean5m:p99`),
    // its unit in the part that names the metric.
    let (family, suffix) = bare.rsplit_once(':').unwrap_or((bare.as_str(), ""));
    let family = family
        .rsplit(':')
        .map(|part| part.trim_end_matches("_total"))
        .find(|part| part.ends_with("_seconds") || part.ends_with("_bytes"))
        .unwrap_or("");
    let unit = match (family, suffix) {
        (f, "rate") if f.ends_with("_bytes") => "B/s",
        (f, "rate") if f.ends_with("_seconds") => "s/s",
        (_, "rate") => "/s",
        (f, _) if f.ends_with("_seconds") => "s",
        (f, _) if f.ends_with("_bytes") => "B",
        _ => "",
    };
    Series::new(bare, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scraped_metric_is_explained_by_its_name_without_labels_in_its_suffixs_unit() {
        let cases = [
            (
                "http_request_duration_seconds{route=\"%2Fapi\"}:p99",
                "http_request_duration_seconds:p99",
                "s",
            ),
            (
                "http_requests_total{code=\"500\"}:rate",
                "http_requests_total:rate",
                "/s",
            ),
            (
                "net_sent_bytes_total:rate",
                "net_sent_bytes_total:rate",
                "B/s",
            ),
            (
                "process_resident_memory_bytes",
                "process_resident_memory_bytes",
                "B",
            ),
            ("queue_depth{q=\"a\"}", "queue_depth", ""),
            (
                "job:request_duration_seconds:mean5m{route=\"%2Fa:b}\"}:p99",
                "job:request_duration_seconds:mean5m:p99",
                "s",
            ),
            (
                "process_cpu_seconds_total:rate",
                "process_cpu_seconds_total:rate",
                "s/s",
            ),
            (metric::LATENCY_P99_MS, "p99 latency", "ms"),
        ];
        for (metric_name, name, unit) in cases {
            assert_eq!(
                series_of(metric_name),
                Series::new(name, unit),
                "{metric_name}"
            );
        }
    }
}
