//! Streaming anomaly detectors (pure: no I/O beyond `std::io` traits, no
//! tokio, bollard, ratatui or rusqlite).
//!
//! Owns: per-series baselines, change detection, the combined [`Detector`]
//! (`push(t, value) -> Scored { score 0..1, explanation }`), and the
//! `timestamp,value` CSV format of `understudy detect`. Not owned: where the
//! samples come from (`metrics`), alerts and their persistence (`run`,
//! `store`), the prod/shadow judge (later, here).
//!
//! # Design
//!
//! Every point costs O(1) time (10 - 16 M points/s on one core, by the
//! machine's day, `cargo bench --bench detect`) and the detector holds
//! 1528 bytes, 1541 with a series' names (test
//! `state_fits_in_two_kilobytes`). No look-ahead: a point's score depends on
//! it and earlier points only (proptest `prefix_scores_equal_full_scores`).
//!
//! 1. **Baseline** (`baseline`): two forecasters learned per series — a
//!    robust EWMA level and spread (winsorized at 4 spreads, span 1000
//!    points, spread floored at the unclipped MAD), and a time-of-day
//!    profile of 96 slots (per-slot level and spread, addressed by
//!    timestamp so gaps and irregular sampling keep the phase). The profile
//!    is used once it has seen 1.5 periods and its mean absolute error is
//!    below 0.8x the level's: seasonality where present.
//! 2. **Statistics** on the standardized residual `z`: the point itself
//!    (spike), a fast EWMA chart (span 12: sustained shift), a slow one
//!    (span 64: drift), both on `z` clipped to ±8, and a flapping chart (span
//!    48) of the step between consecutive clipped residuals: an oscillation
//!    or a burst of noise around an unchanged level, which the signed charts
//!    average away, while a shift or a plateau moves it only on and off
//!    (`change`). Beside them, on the raw values, the **still run**: points
//!    in a row equal to the one before (counted once the series has changed
//!    at all), a series that stopped moving — a stuck sensor, a frozen
//!    exporter, a flatline at an ordinary value, which no residual shows.
//!    The live watch turns it off (`watch::core::live_detector`: at 1 s an
//!    idle container's CPU is 0.0 for minutes). And the **decorrelation
//!    chart**: the drop of the clipped residual's lag-1 autocorrelation over
//!    the last ~80 points (`EWMA(z z') / max(0.75, EWMA z^2)`) below its
//!    long-run value (span 2000): a series whose residuals wandered
//!    smoothly and turn into point-to-point noise or an oscillation around
//!    the same level, with no shift and no extreme point. It is not scored
//!    while the seasonal forecaster is in use (its residuals change their
//!    correlation as the profile learns), explains itself as flapping, and
//!    the live watch turns it off too (its long-run value takes half an
//!    hour at 1 s to learn).
//! 3. **Novelty** (`novelty`): each statistic is divided by its record, the
//!    largest value it reached on this series (floors 4 / 1.6 / 0.75 / 3.0
//!    / 20 points / 0.6 for a series with no history; the flapping chart is about
//!    1.4 on Gaussian noise; a still run must beat its record by 1.5). This is what makes one configuration fit a
//!    quiet CPU gauge and a bursty tweet count: a series learns its own
//!    extremes (an extreme-value take on Numenta's anomaly likelihood).
//!    Charts are compared with the record from before their excursion
//!    (records decay 0.02 % per point). The spike's record decays faster
//!    (0.3 % per point, a half-life of 230 points, so one giant outlier
//!    does not blind the detector and a like spike a few days later on an
//!    hourly series is flagged again) but never below 1.2x the typical
//!    block maximum of `|z|` (an EWMA of the largest `|z|` in each block of
//!    384 points, about a day at 5-minute samples), so a long bursty series
//!    does not alarm on its everyday extremes; a spike must then beat that
//!    by a margin of 1.2.
//! 4. **Combination**: the largest ratio `r` gives `out = r - 1`, divided
//!    by `1 + alarms`, an alarm budget: `alarms` counts the series' earlier
//!    scores above 0.03 (decaying 0.01 % per point), so a series that has
//!    alarmed often (a noisy one) must be ever more novel to alarm again,
//!    while a quiet series keeps its full sensitivity (`novelty`). A
//!    refractory hold passes `out` only if it is at least 3x the held peak
//!    (raised by every output, decaying 4 % per point), so a burst raises
//!    one alarm: its first. `score = out / (out + 1)`: 0.5 means twice the
//!    record. NAB's best thresholds land near 0.03.
//!
//! # NAB (`../shared/bench/nab`, 26 files, 36 windows)
//!
//! Tuning used the 11 artificial files plus the 8 real files at even
//! positions of the sorted list of real files (19 files, 24 windows); the
//! other 7 real files (12 windows) are held out. Scores: standard / low-FP
//! / low-FN, each with the threshold the scorer picks for that set.
//!
//! | step (tune set) | tune |
//! | --- | --- |
//! | level EWMA + z, peak-hold on a Gaussian-tail "likelihood" | 0.0 (no threshold beats none) |
//! | ratio to a decaying record (spike, fast chart, CUSUM) | 39.3 / 31.9 / 49.5 |
//! | + slow chart, volatility chart, unclipped-MAD spread floor | 51.4 / 42.3 / 56.8 |
//! | forecaster errors unclipped (winsorized errors collapsed) | 57.0 / 43.6 / 64.0 |
//! | seasonal slot spread unclipped (a daily square wave stops alarming) | 61.8 / 49.4 / 67.6 |
//! | refractory hold (decay 0.99, suppress below the held peak) | 66.0 / 57.7 / 71.9 |
//! | density-of-exceedances chart, log-scaled z (dropped: no gain) | 60 - 66.5 |
//! | episodic records for the charts + hold gain 2 | 69.7 / 62.0 / 75.6 |
//! | drop the volatility chart; spike margin 1/0.85; level span 1000 | 74.5 / 67.0 / 78.9 |
//! | CUSUM instead of the slow chart; hold raised by passed outputs only (dropped) | 64 - 73.4 |
//! | hold decay 0.98, gain 2.5 (0.99 sat next to a cliff: 0.995 gives 57) | 74.8 / 67.5 / 79.0 |
//! | *round 2 (in-process lab: detector + a Rust port of the scorer, 40 ms a run)* | |
//! | robustness check of the above: mean over a 3x3x3 neighbourhood of hold gain, hold decay, spike margin | mean 72.8, worst 63.9 |
//! | ensembles by max with: a CAD-like context novelty (quantised n-grams), a window-prototype (ART-like) novelty, Numenta-style likelihood of the mean `\|z\|` over 5-20 points, a peaks-over-threshold (exponential tail) surprise, a volatility chart; alone 15 - 57 (dropped: every one lowers the ensemble) | 59.9 - 74.8 |
//! | variance-stabilised counts (Anscombe for integer series); spike on raw residual instead of `z`; absolute refractory period (dropped) | 57 - 74.2 |
//! | spike record floored at 2.8x the typical block maximum, spike decay 0.999, then coordinate descent on the neighbourhood mean: spike margin 1.4, hold 3 / 0.96, drift floor 1.0, MAD floor 1.0 | 77.1 / 72.2 / 80.6 (neighbourhood mean 75.9, worst 74.0) |
//! | *round 3: new evidence, not constants. Each idea on top of the above; the two folds of the tune set (alternate files, A / B) start at 79.7 / 76.5, standard* | |
//! | volatility chart: EWMA of `\|z\|` clipped at 3 - 16, span 16 - 400, as a fourth record ratio (dropped: gains on fold B only, a peak in the clip, A flat or lower) | 75.6 - 79.9 |
//! | one-sided spreads (upside and downside deviations, for skewed counts), power 0.25 - 1.5 (dropped: both folds lower) | 62.1 - 74.8 |
//! | shift and drift records floored at 1 - 3x their typical block maximum, like the spike's (dropped: both folds lower) | 44.8 - 76.9 |
//! | jittered ensemble: three copies of the records and hold with constants ±10 - 50 %, combined by mean, max or median (dropped: both folds lower) | 62.8 - 75.6 |
//! | shift chart on the median of the last 5 - 15 residuals, alone or the smaller of it and the EWMA (dropped) | 56.6 - 69.6 |
//! | **flapping chart**: EWMA (span 48) of `\|z - z'\|`, `z` clipped at 8, record floor 3. It catches grok's oscillation onset (67 points into the window, score 0.14) and adds no false positive on any tune file; fold A unchanged (79.7), fold B 83.8. Over span 32 - 128 x floor 2.5 - 5 x clip 6 - 16 (100 settings) the mean is 79.6; around the chosen one (3x3x3) mean 80.9, worst 79.9; over the hold gain / hold decay / spike margin neighbourhood mean 79.9 (was 76.0), worst 78.0 (was 74.0), fold A identical at every point | 81.1 / 76.1 / 84.6 |
//! | distribution shift on top: share of the last 16 - 64 residuals beyond streaming 2 % / 5 % quantiles of `z`, as a record ratio (dropped: never gains) | 78.1 - 81.1 |
//! | raw extremes on top: the residual in the series' own units against a decaying record of raw residuals (up and down), margin 1.1 - 3, floor 2 - 20 spreads. It catches grok's second window (a new all-time high, at a score just above the threshold) but adds a false positive on IBM: fold B 78 - 91, fold A 67 - 79.8, below 79.7 nearly everywhere (dropped) | 70.6 - 84.7 |
//! | *round 4: each idea on top of round 3's defaults (folds A / B 79.7 / 83.8, standard)* | |
//! | re-baselining after a shift or drift alarm (score above 0.03): the level learns with span 20 - 200 instead of 1000 for the next 50 - 400 points, level and spread (mean 72.6) or the level only (mean 77.2); on top of the alarm budget mean 77.4 / 81.0 (dropped: both folds lower nearly everywhere; probably because the charts' episodic records already absorb a new regime, while the faster level also shrinks the residuals of the next true change) | 62.8 - 82.4 |
//! | alarm budget in the hold instead: hold gain x (1 + 0.01 - 0.3 x alarms) (dropped: both folds lower or equal) | 78.0 - 81.1 |
//! | **alarm budget**: outputs divided by `1 + alarms`, `alarms` the earlier scores above 0.03, decaying 0.01 % per point. False positives at the chosen threshold 23 -> 15 (IBM 10 -> 6, CVS 7 -> 5, exchange-2 3 -> 1); ambient temperature's first window is found later (19 -> 155 points in). Fold A 81.0 (+1.3), B 84.7 (+0.9). Over gain 0.5 - 3 x alarm level 0.02 - 0.05 (24 settings) mean 82.4 (A 80.9, B 84.2); count decay 0.9995 - 1 means 82.2 - 82.7; over the hold gain / hold decay / spike margin neighbourhood mean 80.9 (was 79.9), worst 78.4 (was 78.0), A +0.3 to +3.2 and B 0 to +1.2 at every one of the 27 points. **Held-out did not confirm it** (see below) | 82.6 / 79.5 / 85.6 |
//! | *round 5: each idea on top of round 4's defaults (folds A / B 81.0 / 84.7, standard); none kept, held-out not looked at* | |
//! | calibration of the output per series (the role of Numenta's anomaly-likelihood layer): a long EWMA mean and variance (span 250 - 8000) of the largest ratio `r` (capped at 2) against a short mean of it (1 or 5 points), `u = (short - mean) / (k sd)`, k 0.5 - 8. As `min(r, u)` (both must be unusual): a flat plateau at 82.9 / 79.5 / 85.8 (k 0.5 - 2, span 250 - 8000, short 1), but fold A 80.7 (-0.3), B 85.2 (+0.5); short 5 collapses (4 - 74). As `max(r, u)`: at best unchanged (24 settings, mean 75.9); geometric mean 34 - 72 (dropped: fold A lower everywhere) | 3.9 - 82.9 |
//! | the same as a divisor: `r / (1 + k mean)` or `r / (1 + k sd)` of the series' own ratios (k 0.1 - 3, span 500 - 8000), or `r / max(1, q / k)` with `q` a streaming 90 - 99.9 % quantile of `r` (k 0.5 - 16). The more it binds, the lower; unchanged only where it never binds (dropped: both folds lower). Probably because the records already are a per-series calibration, and a second one damps true anomalies on series whose ratios are often high | 3.9 - 82.6 |
//! | the four ratios combined by a sum of excesses instead of the max: `max r + w sum of the others' (r_i - t)+`, t 0.6 - 1 (below 1, two moderately unusual statistics add up), w 0.25 - 1; 15 settings, mean 80.2 (dropped: fold A 75.4 - 80.5, B 75.8 - 84.3, both lower everywhere) | 74.6 - 82.4 |
//! | coarse time scale: the mean of the clipped `z` over blocks of 4 - 16 points feeds a second shift chart (span 6 - 12 blocks) and flapping chart (span 12 - 24 blocks) with their own episodic records (floors 0.7 - 2.5 and 1.5 - 3, or either off); 180 settings, never above either fold (A 73.7 - 81.0, B 83.3 - 84.7; dropped). The two tune windows still missed carry no slow evidence either: fe7f93's third window looks like the data around it, grok's second continues the oscillation alarmed in its first | 78.9 - 82.6 |
//! | *round 6: the tune set is saturated (22 of 24 windows found, most at the labelled point; the two missed carry no evidence; what is left is 15 false positives), so a second yardstick was built: 96 variants of the 8 real tune files, each with one injected anomaly (spike, level shift, variance burst, flatline, ramp, drop; sized against the file's own percentiles) and a NAB-style window (never the held-out files). Defaults there: 57.7, many injected anomalies scoring 0 because the series' own past extremes are larger (by design: novelty)* | |
//! | a maturity weight on the output, `min(1, n / N)^p` (N 1000 - 4000, p 0.5 - 2), for young records (dropped: fold A 74.3 - 81.2, up by 0.2 at best, B 83.8 - 85.2, up only where A falls) | A 74.3 - 81.2, B 83.8 - 85.2 |
//! | signed records for the shift and drift charts (and the spike): a drop compared with earlier drops, not with upward bursts (dropped: both folds lower, A 80.5, B 82.0 - 82.4; the synthetic pool 57.5 - 57.9, unchanged) | 80.6 - 80.9 |
//! | one-sided spreads again (mix 0.5 - 1, with and without signed records): lower on both folds (A 71.2 - 77.2, B 72.0 - 79.7) and on the synthetic pool (51.1 - 56.5) (dropped) | 70.2 - 77.5 |
//! | *round 7: a lab like round 6's (the tune set and its folds A / B at 82.63 / 80.95 / 84.65 reproduced), and the synthetic pool rebuilt as `bench/nab/augment.py` (96 variants of the 8 real tune files; defaults 63.9; by kind spike 64.2, shift 67.6, burst 70.1, flatline 53.0, ramp 65.8, drop 68.1 — each kind's files keep their real windows too)* | |
//! | a jump statistic: `\|x - x'\|` over a winsorized EWMA of itself (span 1000), a record ratio like the spike's (floor 4 - 20, margin 1.4 - 3, typical-maximum floor 0 - 6x). For a smooth series a step inside its range; for noise the spike again. At best unchanged (tune 68.6 - 82.6; the pool 63.3 - 64.1) (dropped) | 68.6 - 82.6 |
//! | **still run**: points in a row equal to the previous one (once the series has changed), an episode record ratio (floor 5 - 50 points, margin 1 - 2, the charts' record decay). Over floor 7 - 50 x margin 1.25 - 2 the tune set stays at 82.63 - 82.86, fold A 80.66 - 81.16, B 84.65 - 84.72; the pool rises to 67.5 - 68.8 (flatline 53.0 -> 73.8, drop 68.1 -> 76.3). Chosen in the middle of that plateau, floor 20 and margin 1.5: tune, A and B exactly unchanged (it never fires on them above the thresholds), the pool 68.8. Floor 5 x margin 1 fires on ordinary count runs (tune 78.6). **Held-out (the seventh look, aggregate only): unchanged**, 68.0 / 60.2 / 73.1; all 26 unchanged | 82.6 / 79.5 / 85.6 |
//! | checked: round 7's still run at the tune set's threshold: the pool 56.97 with it, 56.90 without at 0.025 (at 0.01 63.6 vs 61.5): its pool gain (68.75 vs 63.86) comes from scores under NAB's thresholds on real files, since the hold stops a statistic that grows one point at a time. Then the still run as one event (a fixed ratio 1.1 - 3 when the run first beats its record by the margin; floor 20 - 100 x margin 1.5 - 3, 36 settings): the pool at 0.025 59 - 64 (up to +7), but at its own best threshold 65.4 - 68.6, never above 68.75, and the tune set 81.9 - 82.63 (it fires on ordinary runs of a count at floor 20 - 50 x margin 1.5 - 2) (dropped; the graded still run is kept: it changes no real score) | 81.9 - 82.63 |
//! | not tried: a seasonal-break signal (no real tune file uses the seasonal profile, so the tune set cannot show an effect; the artificial daily anomalies are already found at their window's centre); asymmetric treatment of counts at zero and the novelty of the time between threshold crossings (close to the one-sided spreads and the density-of-exceedances chart, both dropped) | |
//! | *round 8: ideas from ARTime's design made causal (lab: round 7's, constants from the environment; folds A / B = alternate lines of tune.txt, `bench/nab/fold-a.txt` / `fold-b.txt`, 80.95 / 84.65; the pool 68.75). None kept, held-out not scored* | |
//! | coarse extremes channel: blocks of 3 - 10 points, each the block's max or min (whichever is farther from an EWMA of block means: ARTime's downsampling, so spikes survive), a second level on them, its `z` through a spike record (and optionally a shift chart). With the shift chart every setting costs false positives (tune 74.9 - 82.1); spike only: tune 81.7 - 82.63, pool up to 69.8, a plateau at k 6 - 8 with pool 69.42 — but lowering the main spike's `spike_typical` 2.8 -> 2.2 alone gives 82.63 / 80.95 / 84.65 / 69.41, and the channel on top of that adds 0.01: a retune in disguise, not new evidence (dropped). `spike_typical` itself over 1.6 - 2.8: tune unchanged at 2.0 - 2.8 (82.19 below), the pool 69.10 / 69.41 / 69.12 at 2.4 / 2.2 / 2.0, a neighbourhood mean of +0.46, under the 0.5 bar and a retune on synthetic data only (not adopted) | 74.9 - 82.63 |
//! | dead zone relative to the running range (ARTime's snap to the median): residuals with `\|x - level\|` below 2 - 12 % of a decaying running max - min count as 0 for the charts (and the spike), or are shrunk by the zone; 30 + 4 settings, the pool lower everywhere (55.7 - 67.4), the tune set never at its baseline. Zeroing small residuals makes steps the flapping chart sees and removes what the shift and drift charts build on (dropped) | 67.0 - 82.36 |
//! | a calm chart (variance collapse: long over short mean step of the residuals, span 500 - 4000 / 8 - 48, floor 3 - 10): one isolated peak (82.80 / 81.04 / 84.65 / 69.45), its 27-point neighbourhood mean 80.8 on tune (dropped) | 77.8 - 82.80 |
//! | a one-sided run (points in a row beyond 0 - 2 spreads on one side, an episodic record, 135 settings): tune 82.63 on a plateau and the pool +0.5 - 1.7, but a run grows one point at a time, so its first ratio over the record is at most (floor + 1) / floor and its output below 0.014, under NAB's thresholds (about 0.025 on the tune set); its pool gain exists only because the pool's best threshold is 12x lower (0.002), where it adds 5 false positives (dropped). The pool's gains must be checked at the tune set's threshold too: round 7's still run may gain there only at tiny scores (not checked) | 76.7 - 82.63 |
//! | *round 9: the lab rebuilt (`src/detect` compiled alone, constants from the environment; 82.63 / 80.95 / 84.65 / 68.75 reproduced). At the tune set's threshold (0.025) 13 of its 15 false positives come from the shift chart, and 9 of its 22 windows are found at scores below 0.04: detection is close to "the first record broken in the window". At the threshold NAB picks for all 26 files (0.0072) the tune files give 22 of 24 windows and 32 false positives, so (from the aggregate 32 of 36 and 50) the held-out files give 10 of 12 windows and 18 false positives there: even with each of the 10 found at its window's start, and each false positive charged in full (one just after a window costs less), held-out would score about 74.5 there (10 x 0.987 - 2 - 18 x 0.11 = 5.89 of 12). The goal needs an eleventh held-out window found, not only fewer false positives or earlier detections. None kept, held-out not scored* | |
//! | an alarm budget per statistic (a series whose shift chart alarms often keeps its full sensitivity to spikes), gain 0.5 - 4: A 80.0 - 82.0, B 81.4 - 83.5, the pool 68.2 - 68.7 (dropped: B and the tune set lower everywhere) | 79.7 - 81.3 |
//! | a tail-aware record floor: the typical block maximum plus k spreads of the block maxima (a Gumbel-like return level, k 1 - 8), for the spike (unchanged at k 1 - 3, where the 2.8x floor binds; 74.6 - 78.7 above) and for the shift chart (63.2 - 75.4) (dropped) | 63.2 - 82.63 |
//! | the warm-up 100 / 400 / 700 points instead of 200 (NAB ignores the first 15 %, at most 750 points): 82.0 / 81.5 / 71.1 (kept at 200) | 71.1 - 82.0 |
//! | a sign chart: EWMA (span 24 - 96) of the sign of the value against a streaming median (steps 0.005 - 0.04 spreads), an episodic record ratio (floor 0.5 - 0.8). Found by the pool's misses: TravelTime_451 with its level tripled for a tenth of the file is never flagged (the mean level and the spread of a right-skewed series put the shifted points at z 1.4, under the record its bursts set), while the share of points above the median jumps. The pool at its own threshold rises to 69.2 - 72.7 with the tune set at 82.36 - 82.63, but at the tune set's threshold the pool falls (56.97 -> 56.3 - 56.45): a smoothed statistic crosses its record by a hair, and its later, larger ratios are held back by the hold, which every output raises (dropped) | 77.3 - 83.05 |
//! | the spike's typical-maximum floor 1.6 - 2.8 x margin 1.1 - 1.4 (an all-time high twice any value since the warm-up goes unflagged in TravelTime_451, at z 24 under a floor of 25 x 1.4): tune 80.6 - 82.63, the pool 68.5 - 69.6 (unchanged: kept) | 80.6 - 82.63 |
//! | sub-threshold outputs leave the hold alone: an output under 0.01 - 0.05 passes if it beats the held peak but does not raise it, so a gradually growing excursion can pass a larger ratio later. At 0.01 nothing changes; at 0.02 - 0.05 the tune set falls (79.9 - 65.5) as the hold stops absorbing the small outputs that precede false positives, and the pool at the tune threshold rises only at 0.02 - 0.03 (64.1 / 67.6) (dropped) | 65.5 - 82.63 |
//! | not tried: a second pipeline on the logarithm of positive series (multiplicative noise) would double the state past the 2 KB budget | |
//! | *round 10: the lab rebuilt again (a scratch crate compiling `src/detect` with constants from the environment; 82.63 / 80.95 / 84.65 / pool 68.75, at the tune threshold 56.97, reproduced). Nothing kept, held-out not scored* | |
//! | an innovation spike: the AR(1) innovation of `z` (`z - phi z'`, `phi` the EWMA lag-1 autocorrelation of the clipped `z`, clamped to 0 - 1), over an EWMA of its own size, as a point record ratio like the spike's (floor 4 - 24, margin 1 - 2, typical-maximum floor 2 - 4x, span 100 - 2000; 32 settings). A sudden step inside an autocorrelated series' range, which `\|z\|` (measured from the slow level) hides under its excursions' record; between round 7's jump statistic (`phi` = 1) and the spike (`phi` = 0). Gains at one span only (500, margin 1.4, any floor 8 - 16: tune 82.97, A 81.70, B 84.65, the pool 69.11, 57.34 at the tune threshold); at span 100 or 2000 or margin 2 exactly unchanged, margin 1 lower (82.02 - 82.25, the pool at 0.025 54.2 - 56.5): one window found earlier by a hair, not a plateau (dropped) | 82.02 - 82.97 |
//! | a persistence rule for the shift chart (13 of the tune set's 15 false positives): its ratio passes only once the excursion above its record has lasted 2 - 6 points, so a chart that pokes above its record for a point or two stays quiet. Every setting far lower (tune 59.9 - 74.5, A 64.3 - 72.9, B 59.1 - 77.0, the pool 57.2 - 63.6): the windows the chart finds are found by exactly such brief pokes, at the onset, and a later peak of the same excursion is held back by the hold (dropped) | 59.9 - 74.5 |
//! | anomalies do not teach normal: an excursion whose output scored above 0.01 - 0.4 joins its chart's record at 0 - 0.8 of its peak when it ends (and optionally a spike that scored so leaves the spike's record where it was before it), as the live watch already restores a series' detector after an alert; 30 settings. Lower at low alarm levels (0.01 - 0.05: tune 69.0 - 81.6, more false positives on the series' next bursts), a narrow ridge at weight 0.3 and alarm 0.1 - 0.2 (tune 82.71 / 82.94, A 81.20 / 81.70, B 84.65, the pool 69.04 / 68.99, at the tune threshold 59.04 / 57.36): the first idea to lift the pool at the tune set's threshold by 2, but its neighbours fall on B (weight 0.5: 84.23) or on the tune set (weight 0: 82.25 - 82.41); the neighbourhood mean is the baseline's; a finer grid around it (weight 0 - 0.3 x alarm 0.15 - 0.3, with and without the spike, 18 settings) stays within 0.4 of the baseline on every yardstick, the spike part lifting A and lowering B (not adopted) | 68.95 - 82.94 |
//! | *round 11: the lab rebuilt (82.63 / 80.95 / 84.65 / the pool 68.75 reproduced, 5 s a run). Nothing kept, held-out not scored* | |
//! | the seasonal forecaster chosen more readily (`season_gain` 0.9 - 2 instead of 0.8): lower everywhere (tune 66.8 / 76.1 / 78.7 at 2 / 1 / 0.9): on the real files bursts dominate both forecasters' errors, and the per-slot profile learns them as the day's shape | 66.8 - 78.7 |
//! | a faster level (span 50 - 400) for the shift chart, replacing the slow level's residual there, or as the smaller of the two charts (both must see the shift; 12 settings): lower everywhere (tune 70.1 - 80.5, A 61.3 - 80.9, B 78.0 - 83.5, the pool 60.7 - 68.1). The slow level's false positives are not a wandering series' excursions; a faster level absorbs the true shifts' onsets as well | 70.1 - 80.5 |
//! | an episodic record broken by `q` scored by the record's headroom over the chart's mean (`1 + (q - R) / max(R - mean, f R)`, mean span 100 / 1000, f 0.1 - 0.6) instead of `q / R`: it moves scores, not the points where records break, and the threshold absorbs that; at best unchanged (tune 81.5 - 82.2, the pool 68.3 - 68.8) | 81.5 - 82.17 |
//! | margins on the charts (a shift, drift or flapping ratio divided by 0.9 - 1.2 before the max): drift and flapping within 0.3 of the baseline; the shift chart is a knife edge, 0.95 / 1.05 / 1.1 give tune 77.0 / 78.3 / 70.8 (A 79.7 / 77.8 / 64.6). Detection is "the shift chart breaks its record", 9 of the 22 tune windows by under 4 %: the margin that would make it robust costs windows, which is why the tune set's gains since round 3 have not carried to held-out (not changed) | 68.0 - 82.63 |
//! | a record broken steeply scores higher: the chart's rise at the break over the record (`q - q'`) added to the ratio, or multiplying its excess, weight 0.1 - 3, for each chart (a true shift breaks through with a large residual, a decayed record is crept past); 20 settings, at best within 0.3 of the baseline on each fold (shift, excess x (1 + step): tune 82.88, A 80.66, B 85.18), added to the ratio lower (tune 78.3 - 79.5) (dropped) | 78.3 - 82.88 |
//! | *round 12: a second kind of detector beside ours, sequence novelty after Smirnov's Contextual Anomaly Detector (NAB's CAD OSE, 73.3 on the 26 files, 79.7 on the held-out ones). Scratch Python outside the repository, scored with `run_detector.sh` and offline combinations of its outputs with ours (`nab_score.py` on the combined files). Nothing kept, held-out not scored* | |
//! | CAD OSE itself: reproduced exactly on the 26 files (73.31 / 69.84 / 76.65) with NAB's look-ahead (the file's minimum and maximum set its 8 value levels, its length the rest period); tune 70.1. Made causal, it falls: levels from the running range 53.3, from the first 300 / 600 / 750 points 47.9 / - / 57.0, that range widened 1.5 / 2 / 3x around its centre 60.5 / 64.8 / 59.4 (rest period fixed at 120 points). With the oracle range widened 1.5x, 67.7: its edge on NAB is the file's range, which squeezes normal values into few levels because the anomalies set the extremes. (One slip: the causal 600-point, 2x variant was scored once on all 26 files, 66.9, a detector not ours and never used to choose.) | 47.9 - 70.3 |
//! | ours and the causal CAD together (the larger of ours and w x CAD's, or their sum, w 0.01 - 0.1): tune 86.2 / 86.3 at w 0.02 - 0.03 (A 80.5 - 81.2, B 90.7 - 91.4), lower past 0.035. The whole gain is one window: grok's second (0.63 to 2.50), the oscillation's record high found by the sequence of levels; every other file equal or one false positive worse. On the pool 72.9 / 74.6 at w 0.01 (from 68.75), but without its 12 grok variants 72.2 from 71.4, and lower at w 0.02 - 0.03. Not adoptable either way: CAD's context memory grows with the stream (552 contexts at the end of a 4000-point CPU file, 1590 on grok, 6613 on a 15 800-point tweet count; each holds its facts), against O(1) per point and 2 KB per series | 72.0 - 86.3 |
//! | bounded stand-ins for it on the same causal levels (8 levels over the first 600 points' range widened 2x): n-gram novelty (orders 2 - 6 new, 50.6 alone), a failed prediction (a level never seen after a context seen 3 - 10 times, orders 1 - 6, 56.4 - 57.7 alone), a new coarse record (29.7 alone). Beside ours none gains anything (tune 82.63 at w 0.02 - 0.025, lower above): none sees grok's second window, which CAD finds through its contexts' long memory, not a level or a short sequence. A rare level (16 levels, `1 - ln(count + 1) / ln(n + 2)`, 55.2 alone; 8 levels 49.8) does see it: tune 84.8 beside ours at w 0.025, but that window (+1.88) pays for one false positive on 7 other files (-0.10 each): a held-out set without such a window would only pay (dropped) | 77.9 - 84.81 |
//! | *round 13: a lab again (a scratch crate compiling `src/detect` with constants from the environment, 1.4 s a run; 82.63 / 80.95 / 84.65 / the pool 68.75 reproduced). At the tune set's threshold its 22 windows are found by the shift chart (13), the spike (8) and the flapping chart (1), and 13 of its 15 false positives are the shift chart's; 12 of the 22 are found at or after the labelled point, the window's middle (NAB credits 0.86 there, 0.99 at its start): found earlier, each would gain at most 0.13, while a window missed costs 1 and a false positive 0.11. Nothing kept, held-out not scored* | |
//! | the records learn during the warm-up (from point 2 - 150 of 200; the output stays 0): lower from every start before 150 (tune 70.5 - 81.5, the pool 56.6 - 68.5), equal at 150. The records' empty start is what gives the first scored points their large scores (inside NAB's probation), and those scores charge the alarm budget before the first real alarm (not changed) | 70.5 - 82.63 |
//! | the shift and drift charts on the residual over its local volatility (`z / max(m, sqrt(EWMA z^2))`, span 50 - 1000, m 0.5 - 1.5: a shift during a volatile stretch counts less, GARCH-style): lower everywhere (tune 63.1 - 69.6, A 69.3 - 73.3, B 58.6 - 69.8, the pool 55.7 - 57.7) (dropped) | 63.1 - 69.6 |
//! | a second pipeline on `sign(x) ln(1 + \|x\| / m)` (m the mean `\|x\|` of the first 50 or 200 points; multiplicative noise; without its own seasonal profile it would fit the 2 KB budget), beside ours by the larger score (weight 0.1 - 1) or alone: lower everywhere (beside: tune 80.1 - 82.4, the pool 65.7 - 68.3; alone: tune 55.8 - 61.3) (dropped) | 55.8 - 82.4 |
//! | the charts' records over a sliding window instead of a decaying maximum (the largest value of the last 4 - 32 blocks of 128 - 1024 points, no decay; for the shift chart alone or all three; 32 settings): a stationary bursty series breaks a true maximum of its recent past less often than a decayed one, but lower everywhere (tune 71.5 - 75.7, A 67.4 - 79.1, B 73.4 - 81.2, the pool 61.9 - 67.9): the decay's bias towards the latest large excursion is what finds the windows (dropped) | 71.5 - 75.7 |
//! | *round 14: a lab like round 13's (82.63 / 80.95 / 84.65 / the pool 68.75, at the tune threshold 56.97, reproduced); held-out scored once, for the kept chart* | |
//! | a Hampel spike (`\|x - median of the last 5 - 9 values\| / max(1.4826 MAD, f spread)`, a point record; 48 settings): lower (tune 72.4 - 80.7) or at best equal, never above on either fold; on bursty series it fires at the onsets the spike already sees (dropped) | 72.4 - 82.63 |
//! | a local-volatility spike (`\|z\| / max(m, sqrt(EWMA z^2))`, span 16 - 256, a point record, 62 settings): a noisy ridge to 83.02 whose gain is one window found a little earlier; around the best A +0.05, B -0.12 (dropped) | 79.2 - 83.02 |
//! | bounded Bayesian online changepoint detection (Normal-Gamma, 8 or 16 run-length hypotheses, hazard 1/100 - 1/1000; the mass on short runs as an episodic record; 29 settings): to a Gaussian likelihood a burst is a changepoint (1 % of a tweet file's points carry 0.87 of the mass on short runs); lower, or unchanged at margin 4 (dropped) | 65.7 - 82.63 |
//! | a "fresh" spike (`min(\|z\|, \|x - x'\| / spread)`) instead of or beside the spike; a crossing-rate chart (how often `x` crosses its fast EWMA, against its long-run rate; 16 settings): lower or unchanged (dropped) | 61.4 - 82.86 |
//! | **decorrelation chart**: the drop of the clipped residual's lag-1 autocorrelation (`EWMA(z z') / max(v, EWMA z^2)`, span 32 - 256) below its long-run value (span 500 - 8000, all equal), an episodic record (floor 0.5 - 0.8), not scored while the seasonal forecaster is used (ungated it adds 13 - 16 false positives on the `art_daily_*` files). Over span 64 - 96 x floor 0.5 - 0.7 x variance floor 0.5 - 2 (30 settings) tune 85.4 - 86.9, A 86.1 - 90.25, B 84.65 - 84.97 (never lower), the pool 69.6 - 72.4, at the tune threshold 60.2 - 62.3 (from 56.97); span 128 and up finds nothing, 32 - 48 is lower. It finds fe7f93's third window (which rounds 5 and 9 called a window without evidence) 21 points in, at 0.071 against a threshold of 0.025, and costs one false positive. Over the hold gain / hold decay / spike margin neighbourhood A +8.8 to +9.3 at all 27 points, B -1.52 to +0.42 (mean -0.17). Chosen: span 80, variance floor 0.75, floor 0.6. **Held-out (the eighth look, aggregate only): 74.6 / 65.4 / 80.3, from 68.0 / 60.2 / 73.1**, the second change whose gain carried; 0.4 short of the goal of 75 | 86.9 / 83.5 / 89.9 |
//! | *round 15: the same lab with the chart (86.89 / 90.25 / 84.65 / the pool 72.29, at the tune threshold 60.46, reproduced), ideas in the chart's vein; 142 settings, nothing kept, held-out not scored. The tune set is saturated: 23 of 24 windows found, the one missed (grok's second, the first window's oscillation continuing) scores 0 throughout* | |
//! | a rise of the lag-1 autocorrelation (`rho_fast - rho_long`, its own record; 24 settings): a neutral plateau (tune, A, B exactly unchanged) on which the pool rises to 73.15 (62.17 at the tune threshold), from four 24ae8d variants; below it false positives on art_noisy and IBM; never a fold raised (not kept: the pool's gain alone is not the bar). Two-sided in one record instead of the drop: a knife edge (the rise raises the record the drop must break; A 68.7 - 85.5) (dropped) | 76.1 - 86.89 |
//! | a lag-2 - 4 autocorrelation drop beside the lag-1 one (18 settings); the lag-1 autocorrelation of the raw first differences, beside or instead (17 settings; instead, fe7f93's window is lost: it shows in the residual only); of `z` clipped at 1.5 - 3, of `z` less its own EWMA, of the centred `\|z\|` (volatility clustering): neutral or lower on both folds; the de-meaned drop lifts the pool to 73.22 (dropped) | 71.8 - 86.89 |
//! | the chart's constants as a robustness check: at floor 0.6 over span 64 - 96 tune 86.26 - 86.89, A 88.14 - 90.25, B 84.65 - 84.97; the variance floor 0.5 - 1 and the long span 1000 - 4000 change nothing on tune, A or B; floor 0.7 is a cliff below variance floor 1; the defaults are fold A's peak and no region is better on both folds (kept) | 82.40 - 87.13 |
//! | *round 16: two labs side by side (scratch crates compiling `src/detect`, constants from the environment; 86.89 / 90.25 / 84.65 / the pool 72.29, at the tune threshold 60.46, reproduced byte for byte), one on the forecaster, one on new statistics; 411 settings, nothing kept, held-out not scored* | |
//! | forecasters: a damped-trend (Holt) forecaster as a third candidate, or for the shift / drift charts only (48 settings; at best exactly the baseline: the tune set's false positives sit on bursty series, not ramps); a Trigg-adaptive level (the span shortens while the tracking signal is large; 20); inverse-error blending of level and seasonal forecasts instead of the hard choice (12); seven weekday offsets on the level or the profile (14; a 168-slot weekly profile does not fit the 2 KB); a frugal streaming quantile of the residual as the spread (20). Lower, or the baseline at best (dropped) | 60.1 - 86.89 |
//! | new statistics, each an episodic record ratio beside the others: the Trigg tracking signal (bounded at 1, it breaks its record on noise; as `-ln(1 - \|TS\|)` a plateau at 87.12 / 90.45 / 84.65 that is an artefact: it scores only at points 200 - 216, inside NAB's probation, where its record is empty, and those outputs charge the alarm budget that then hides one false positive; learned through the warm-up it is exactly the baseline); a skew chart (`sign(z) \|z\|^p`, and the normalised skewness); the rank of each point against a 32-sample sketch (three variants); the quiet time since the last `\|z\| > 3`; a sustained excursion (the smallest same-signed `z` of the last 3 - 24 points: real new evidence on the pool, 7 more windows at the tune threshold, but on tune and fold B a knife edge over the hold neighbourhood, -2.9 to +1.1); a slope chart; a vanished tail; one refractory hold per statistic (189 settings, and 108 in neighbourhoods). Per window at the tune threshold, the late and weak windows are found by the shift chart crossing its record by 3 - 10 %: a smoothed statistic scores its overshoot at the first crossing and the hold absorbs the rest, so new evidence must cross its record with a jump (dropped) | 68.2 - 87.13 |
//! | *round 17: more labelled data. Ten more NAB files (the second held-out set, `bench/nab/second-held-out.txt`: the labelled files under 65,000 characters not on this machine) were copied verbatim from the stored numenta/NAB repository, fixed before any was read and scored once with round 14's detector: **49.0 / 44.2 / 52.1 on the ten, 57.4 / 51.0 / 61.4 on them with the first seven held-out files** (ARTime 75.1 / 76.7, CAD OSE 74.3 / 76.1, HTM 49.7 / 54.2 at their corpus thresholds). The 74.6 on seven files had flattered the detector: 16 rounds on 19 files had fitted them. The ten then joined the tune set as development data (29 files, 48 windows: 65.6; folds D1 / D2, fold A or B plus alternate second-set files, 61.3 / 70.0), and a third set (the ten other realAWSCloudwatch files) was fixed before it was read* | |
//! | the spike's path, which the new files showed silent on plain recurring spikes (exchange-4_cpm's 14x and 16x spikes, TravelTime_387's 20x one, occupancy_t4013's second: score 0). Three things hid them: the floor at 2.8x the typical block maximum (a block holding one spike sets it, on a series whose spikes are rare), the margin of 1.4 over a record that had learned the previous spike, and the record's slow decay (0.1 % per point: a half-life of 29 days at hourly samples). A grid (spike floor factor 1 - 1.5, margin 1.05 - 1.25, decay 0.9975 - 0.9985, budget gain, hold decay; 108 settings), two finer ones (54), 157 random settings of 10 - 12 constants and 27 one-at-a-time checks of 14 others: 46 - 76.4 on the 29 files. Robust centre: floor 1.2x, margin 1.2, decay 0.997, and the drift chart's floor 0.75 (0.6 - 0.85 a plateau): 76.2 / 69.7 / 80.6, folds 72.8 / 79.9; over the 27 neighbours (floor 1.1 - 1.3, margin 1.15 - 1.25, decay 0.9965 - 0.9975) mean 75.6, worst 74.45, folds never below 69.8 / 78.2. The tune set falls to 82.8 (fold A 87.1, B 81.7), the synthetic pool stays at 72.3. Also tried and dropped: a median of the last 9 block maxima as the typical one (69 - 74), a spike record decaying by time instead of points (half-life 8 - 222 h: 74.8 - 76.5, no better), Anscombe-transformed counts for integer series (74.8 on 39 files against 75.1) | 82.8 / 75.3 / 87.2 |
//! | **third held-out set, scored once** (pre-registered: the standard score over the 17 files never tuned on, the first seven and these ten, decides the goal): **73.8 / 67.1 / 78.9**, the ten alone 74.4 / 67.8 / 80.7 (round 14's detector: 72.4 on the ten). Published on the same 17 at their corpus thresholds: ARTime 76.8, CAD OSE 80.1, HTM 72.9; on the ten: 74.5 / 80.4 / 79.6. **The goal of 75 on data not tuned on is missed by 1.2.** The first seven alone now give 76.2 / 68.4 / 81.4 and all 26 80.6 / 73.0 / 85.2, but those seven are not the pre-registered test | |
//! | **fourth held-out set, scored once** (the nine remaining stored NAB files, seven of them tweet counts; fixed before it was read, the same configuration, the same rule with the first seven: 16 files, 42 windows): **64.6 / 54.7 / 73.3**, the nine alone 62.0 / 50.8 / 71.6. Published on the 16: ARTime 81.5, CAD OSE 74.3, HTM 67.7. 125 of the 165 false alarms at the chosen threshold (38 of 42 windows found) are on the eight tweet series, bursts of small counts. Every stored NAB file (55 of 58, tuned on 29): 70.7 / 61.5 / 77.0, against ARTime 77.0, CAD OSE 73.7, HTM 66.4 | |
//! | *round 18: the three labelled NAB files with no stored data file (nyc_taxi, rogue_agent_key_hold, rogue_agent_key_updown) rebuilt from NAB's published results files as a fifth held-out set, fixed with its protocol before they were read (`bench/nab/fifth-held-out.txt`); the other 55 files all development data (a lab like round 17's, 0.8 s a run on the 55, halves by alternate files 75.5 / 68.1)* | |
//! | the spike's decay 0.997 - 0.999 x typical floor 1.2 - 2.8 (9), the hold (9), the budget's gain and alarm level (8), a weight per statistic on the output (12: spike, shift, drift, flapping at 0.3 - 1.5), a spread learned slower than the level (span 1500 - 16000), spread learning frozen while a residual is beyond 2 - 6 spreads (a machine-temperature failure whose slow fall widened the spread from 7 to 18 and kept `z` between -2.2 and -4.2 as the value fell from 99 to 2; 61.8 - 63.5), 20 one-at-a-time changes (68 settings): 61.8 - 72.1. A plateau: the best changes with both halves up (the budget's alarm level 0.01 at gain 0.5, the flapping weight 0.3) gain 1.3 - 1.4, about one window, and only the three new files could check them; round 17's constants kept, so the protocol's deciding figure is round 17 on every file it was never tuned on | 70.7 (the 55) |
//! | **the 29 files round 17 was never tuned on** (the first seven, the third, fourth and fifth sets; 68 windows), scored once: **65.2 / 54.3 / 72.4**; the fifth set alone 53.1 / 49.4 / 57.6, with the first seven 66.3. Published on the 29: ARTime 75.6, CAD OSE 69.2, HTM 68.6; on the fifth 49.6 / 24.4 / 51.6. All 58 labelled NAB files: 69.2 / 60.6 / 75.4 (ARTime 74.9, HTM 70.1, CAD OSE 69.9, NAB's published scores) | |
//!
//! Round 3 ran in a scratch lab whose scorer agrees with `nab_score.py`
//! (81.05 vs 81.0545 on the tune set) and looked at the held-out files
//! once, aggregate scores only, for its defaults. Round 4 used the same lab
//! (82.63 vs `nab_score.py`'s 82.6289 on the tune set) and computed the
//! held-out aggregate once, for the defaults below, then once more with
//! `run_detector.sh` for the same defaults (identical). In all, the held-out
//! files have been scored for six configurations (round 1: two, round 2:
//! two, round 3: one, round 4: one), aggregate scores only, never per file,
//! never to choose. Round 5 (same lab, 82.6 / 79.5 / 85.6 reproduced)
//! kept nothing and did not score the held-out files. Round 6 (a new lab:
//! `run_detector.sh` with the detector's constants from the environment,
//! 82.63 reproduced) kept nothing either; held-out not scored. Round 7 (a
//! lab like round 6's) kept the still run, which changes no score on the
//! real files, and scored the held-out files once for it (the seventh
//! configuration). Round 8 (the same lab) kept nothing and did not score
//! the held-out files; nor did rounds 9, 10, 11, 12 and 13. Round 14 kept
//! the decorrelation chart and scored the held-out files once for it (the
//! eighth configuration); rounds 15 and 16 kept nothing and did not score
//! them. Round 17 scored them three times more, inside the second, third
//! and fourth sets' pre-registered tests (aggregates over 16 - 17 files),
//! and once alone for the record after the third set's test. Round 18
//! scored them once more, inside the fifth set's deciding figure (29
//! files), for round 17's unchanged detector.
//!
//! Held-out checkpoints (round 1, the previous defaults, hold 0.99 / 2):
//! all 26 66.8 / 58.8 / 71.4, held-out 54.7 / 54.7 / 58.5; the previous
//! defaults (hold 0.98 / 2.5): all 26 70.3 / 62.8 / 74.6, held-out
//! 64.4 / 60.7 / 67.9, tune 74.8 / 67.5 / 79.0. Round 2 looked at the
//! held-out files twice, aggregate scores only, never to choose: after the
//! coordinate descent (63.9 / 57.0 / 67.6) and for its defaults (below).
//!
//! **The defaults below** (round 17: the spike's floor, margin and decay and
//! the drift chart's floor chosen on 29 development files): all 26 80.6 /
//! 73.0 / 85.2, tune 82.8 / 75.3 / 87.2, held-out 76.2 / 68.4 / 81.4; the
//! pre-registered tests, the first held-out seven with the third set's ten
//! and with the fourth set's nine, 73.8 / 67.1 / 78.9 and 64.6 / 54.7 /
//! 73.3; every stored NAB file (55) 70.7 / 61.5 / 77.0. Kept by round 18
//! and scored on all 29 files never tuned on (the fifth set's protocol):
//! 65.2 / 54.3 / 72.4; all 58 labelled NAB files 69.2 / 60.6 / 75.4. The
//! goal of 75 on data not tuned on is not met; published detectors on the
//! 29: ARTime 75.6, CAD OSE 69.2, HTM 68.6. `spike_decay: 0.999, spike_typical: 2.8, spike_margin: 1.4,
//! drift_floor: 1.0` restores round 14's detector exactly.
//!
//! Round 14's defaults (with the decorrelation chart): all 26 80.6 / 72.7 /
//! 85.2, tune 86.9 / 83.5 / 89.9, held-out 74.6 / 65.4 / 80.3; on the
//! second held-out set 49.0, with the first seven 57.4. On all 26 files 80.6
//! is above every published detector (ARTime 75.3, CAD OSE 73.3), but all
//! 26 include the tune set; on the held-out files alone two published
//! detectors still lead (below). `decorrelation_span: 0.0` restores round
//! 4's detector (with round 7's still run) exactly.
//!
//! Round 4's defaults (the alarm budget and round 7's still run, which
//! changes none of these figures): all 26 75.5 / 68.3 / 80.0, tune 82.6 /
//! 79.5 / 85.6, held-out 68.0 / 60.2 / 73.1. The budget passed the two-fold check (both folds up, at every point of
//! the neighbourhood) but its gain did not carry: held-out -0.5 / -0.9 /
//! -0.3 (about one false positive's worth at 12 windows), all 26 -0.8 /
//! -1.6 / -0.5 (one threshold for all files). It was kept because the
//! protocol chooses on the tune set only; `budget_gain: 0.0` restores
//! round 3's detector exactly (with `still_floor: 0.0`, as every
//! restoration below also needs).
//!
//! Round 3's defaults (with the flapping chart): all 26 76.3 / 69.9 / 80.5,
//! tune 81.1 / 76.1 / 84.6, held-out 68.5 / 61.1 / 73.4. The flapping chart
//! is the first change whose gain carried to the held-out set (+5.0 / +5.0 /
//! +6.1 there, +4.4 / +4.3 / +4.8 on all 26), but held-out is still short of
//! the goal of 75 (all 26 passes ARTime's 75.3 only with the tune set's
//! help).
//!
//! Round 2's defaults (`budget_gain: 0.0, flap_span: 0.0`): all 26 71.9 / 65.6 / 75.7, tune
//! 77.1 / 72.2 / 80.6, held-out 63.5 / 56.1 / 67.3. Their gain on the tune set
//! did not carry to the held-out set: a two-fold split of the tune set
//! (alternate files) showed why: tuning on one half gained 4 points there
//! and lost 5 - 9 on the other half. At 12 (held-out) or 24 (tune) windows
//! one window caught or missed moves the score by 8 or 4 points, and most
//! constants sit next to such a flip (record decay 0.9998 vs 0.99985 is
//! 76 vs 71 on the tune set: one ambient-temperature window). The goal of
//! 75 on held-out data (ARTime's level) needs new evidence per window — a
//! signal that catches regime onsets such as grok's oscillation (round 3's
//! flapping chart) — not tuning. Published detectors on these 26 files:
//! ARTime 75.3, CAD OSE 73.3, HTM 69.8, RCF 47.5, z-score 31.5 (standard).
//! `budget_gain: 0.0, flap_span: 0.0` restores round 2's detector exactly;
//! adding `spike_typical: 0.0, spike_decay: 0.9998, spike_margin: 1/0.85,
//! hold_decay: 0.98, hold_gain: 2.5, drift_floor: 0.7, mad_floor: 0.5`
//! restores round 1's.
//!
//! **The published detectors on the same split** (`bench/nab/published.py`,
//! from the per-file scores NAB publishes, at each detector's corpus-wide
//! threshold): held-out ARTime 80.0, CAD OSE 79.7, HTM 63.3; tune 72.6 /
//! 67.5 / 71.6; all 26 75.1 / 71.6 / 68.8. The held-out files are not
//! unusually hard: two published detectors do 5 points better there than
//! ours (74.6; 12 before round 14), while ours leads on the files it was
//! tuned on. Those
//! detectors are handed the file's minimum, maximum and length before its
//! first row (NAB's `nab/detectors/base.py`: `inputMin`, `inputMax`, the
//! probationary period); ARTime normalises, discretises and snaps values
//! near the running median by that range and picks its downsampling step
//! (about 6 points) from the length. Our contract forbids that look-ahead.

mod baseline;
mod change;
pub mod csv;
mod detector;
mod explain;
pub mod judge;
mod novelty;
pub mod timestamp;

pub use detector::{Counts, Detector, Scored};
pub use explain::{Cause, Explanation};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// Reading the input or writing the output failed.
    #[error("I/O error at line {line}")]
    Io {
        line: u64,
        #[source]
        source: std::io::Error,
    },
}

/// The series a detector watches, for explanations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Series {
    /// e.g. `p99 latency`.
    pub name: String,
    /// e.g. `ms`; may be empty.
    pub unit: String,
}

impl Series {
    pub fn new(name: impl Into<String>, unit: impl Into<String>) -> Self {
        Series {
            name: name.into(),
            unit: unit.into(),
        }
    }
}

/// The detector's constants. There is one configuration for every series:
/// use `Config::default()`; the fields are public for experiments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Span in points of the level baseline.
    pub level_span: f64,
    /// Baseline updates are winsorized at this many spreads.
    pub clip: f64,
    /// The level's spread is at least this fraction of its unclipped MAD.
    pub mad_floor: f64,
    /// Seasonal period, seconds.
    pub period: f64,
    /// Per-visit learning weight of a seasonal slot.
    pub season_alpha: f64,
    /// The seasonal forecast is used when its error is below this fraction
    /// of the level forecast's.
    pub season_gain: f64,
    /// Span in points of the forecasters' error averages.
    pub error_span: f64,
    /// Residuals are clipped to this many spreads before the charts.
    pub z_clip: f64,
    /// Span in points of the shift chart.
    pub shift_span: f64,
    /// Span in points of the drift chart.
    pub drift_span: f64,
    /// Span in points of the flapping chart (mean step between consecutive
    /// residuals); 0 turns the chart off.
    pub flap_span: f64,
    /// Smallest record of each statistic (what a series without history
    /// must exceed).
    pub spike_floor: f64,
    pub shift_floor: f64,
    pub drift_floor: f64,
    pub flap_floor: f64,
    /// A spike must exceed its record by this factor.
    pub spike_margin: f64,
    /// Per-point decay of the spike's record.
    pub spike_decay: f64,
    /// The spike's record is at least this many times its typical block
    /// maximum.
    pub spike_typical: f64,
    /// Points per block of the typical maximum.
    pub typical_block: u32,
    /// Per-point decay of the charts' records.
    pub record_decay: f64,
    /// Points learned before scoring starts.
    pub warmup: u32,
    /// Per-point decay of the refractory hold.
    pub hold_decay: f64,
    /// An output passes the hold if at least this times the held peak.
    pub hold_gain: f64,
    /// A gap is an interval above this many typical intervals (counted only).
    pub gap_factor: f64,
    /// Alarm budget: outputs are divided by `1 + budget_gain * alarms`, where
    /// `alarms` counts the series' earlier alarms; 0 turns the budget off.
    pub budget_gain: f64,
    /// A score above this counts as an alarm for the budget.
    pub budget_alarm: f64,
    /// Per-point decay of the alarm count.
    pub budget_decay: f64,
    /// Smallest record of the still run (points in a row equal to the one
    /// before, once the series has changed at all); 0 turns the statistic
    /// off.
    pub still_floor: f64,
    /// A still run must exceed its record by this factor.
    pub still_margin: f64,
    /// Span in points of the decorrelation chart (the residuals' lag-1
    /// autocorrelation, against its long-run value); 0 turns it off.
    pub decorrelation_span: f64,
    /// Residual variances below this count as this in the autocorrelation.
    pub decorrelation_var_floor: f64,
    /// Smallest record of the decorrelation chart (a drop of the
    /// autocorrelation).
    pub decorrelation_floor: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            level_span: 1000.0,
            clip: 4.0,
            mad_floor: 1.0,
            period: 86_400.0,
            season_alpha: 0.05,
            season_gain: 0.8,
            error_span: 2000.0,
            z_clip: 8.0,
            shift_span: 12.0,
            drift_span: 64.0,
            flap_span: 48.0,
            spike_floor: 4.0,
            shift_floor: 1.6,
            drift_floor: 0.75,
            flap_floor: 3.0,
            spike_margin: 1.2,
            spike_decay: 0.997,
            spike_typical: 1.2,
            typical_block: 384,
            record_decay: 0.9998,
            warmup: 200,
            hold_decay: 0.96,
            hold_gain: 3.0,
            gap_factor: 3.0,
            budget_gain: 1.0,
            budget_alarm: 0.03,
            budget_decay: 0.9999,
            still_floor: 20.0,
            still_margin: 1.5,
            decorrelation_span: 80.0,
            decorrelation_var_floor: 0.75,
            decorrelation_floor: 0.6,
        }
    }
}

#[cfg(test)]
mod tests;
