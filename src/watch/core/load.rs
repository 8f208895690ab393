//! Whether the shadow serves a load comparable with its reference's (pure):
//! production's, for the judge vs production, or its own before the
//! fault, for the judge vs baseline.
//!
//! Resource metrics scale with load: a shadow replaying production at 4x,
//! or one driven while production is idle, uses more CPU for that alone,
//! and the judge would call it a regression. Kayenta avoids this by
//! splitting one stream of traffic evenly; a replay cannot promise that.
//! So while the entries' request rates differ by the judge's ratio, the
//! load-scaled metrics are left out of the verdict, which says why (a
//! replayed day's peak after a fault differs from the minute before it
//! just the same). Latency and error rate stay judged: per request, they compare
//! across loads (and a load the shadow cannot carry is what they show).

/// One entry's request rate on both sides over the judge's window.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    pub entry: String,
    /// Requests per second: the reference (production, or the shadow
    /// before the fault) and the shadow.
    pub reference: f64,
    pub shadow: f64,
}

/// Rates under this (req/s) on both sides are too little to compare.
pub const IDLE_RPS: f64 = 0.5;

/// Seconds of window before loads are compared.
pub const MIN_WINDOW_S: f64 = 10.0;

/// Loads are the rates over the window's last this many seconds (the
/// load now, not the average of an hour-long window).
pub const RATE_WINDOW_S: f64 = 600.0;

/// Loads found different compare again only once every entry's ratio is
/// under this (hysteresis): a ratio hovering about the judge's 1.5 would
/// otherwise take CPU out of the verdict and put it back look after look,
/// each change reprinting the verdict.
pub const COMPARE_AGAIN_RATIO: f64 = 1.3;

/// The ratio at which loads differ: the judge's `min_ratio` while they
/// compared at the last look, [`COMPARE_AGAIN_RATIO`] while they differed.
pub fn differ_at(min_ratio: f64, differed: bool) -> f64 {
    if differed {
        COMPARE_AGAIN_RATIO.min(min_ratio)
    } else {
        min_ratio
    }
}

/// Why the load-scaled metrics are left out, if some entry's rates differ
/// by at least `min_ratio` either way (a side with no requests differs
/// from any other); `None` when every entry's loads are comparable.
/// `reference` names the reference side: `in production`, `before the
/// fault`.
pub fn mismatch(
    loads: &[Load],
    min_ratio: f64,
    reference: &str,
    left_out: &[String],
) -> Option<String> {
    let differs = |l: &&Load| {
        let (low, high) = if l.reference <= l.shadow {
            (l.reference, l.shadow)
        } else {
            (l.shadow, l.reference)
        };
        high >= IDLE_RPS && (low <= 0.0 || high / low >= min_ratio)
    };
    let l = loads.iter().find(differs)?;
    Some(format!(
        "load differs: {} serves {} req/s on the shadow, {} {reference}; {} not compared (it scales with load)",
        l.entry,
        rate(l.shadow),
        rate(l.reference),
        left_out.join(", "),
    ))
}

fn rate(rps: f64) -> String {
    if rps >= 100.0 {
        format!("{rps:.0}")
    } else {
        format!("{rps:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::{Load, mismatch};

    fn load(reference: f64, shadow: f64) -> Load {
        Load {
            entry: "gateway".into(),
            reference,
            shadow,
        }
    }

    #[test]
    fn loads_within_the_ratio_compare_and_others_do_not() {
        let cpu = vec![
            "api/cpu_percent".to_owned(),
            "gateway/cpu_percent".to_owned(),
        ];
        assert_eq!(
            mismatch(&[load(20.0, 25.0)], 1.5, "in production", &cpu),
            None
        );
        assert_eq!(
            mismatch(&[load(0.1, 0.3)], 1.5, "in production", &cpu),
            None,
            "both idle"
        );
        assert_eq!(
            mismatch(&[load(0.0, 22.6)], 1.5, "in production", &cpu).unwrap(),
            "load differs: gateway serves 22.6 req/s on the shadow, 0.0 in production; \
             api/cpu_percent, gateway/cpu_percent not compared (it scales with load)"
        );
        assert!(
            mismatch(&[load(20.0, 80.0)], 1.5, "in production", &cpu).is_some(),
            "a 4x replay"
        );
        assert!(
            mismatch(&[load(300.0, 20.0)], 1.5, "in production", &cpu)
                .unwrap()
                .contains("serves 20.0 req/s on the shadow, 300 in")
        );
        assert!(
            mismatch(
                &[load(20.0, 25.0), load(0.0, 5.0)],
                1.5,
                "in production",
                &cpu
            )
            .is_some(),
            "any entry"
        );
    }
}
