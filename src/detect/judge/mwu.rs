//! The Mann-Whitney U statistic of two growing samples, kept incrementally:
//! each side sorted, `2U` as an integer, and the tie term `sum(t^3 - t)` of
//! the pooled sample, so a push costs one binary search and one insertion
//! and a look costs O(1).

/// Two samples (shadow and reference) and their rank statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankStats {
    shadow: Vec<f64>,
    reference: Vec<f64>,
    /// Twice the shadow's U: pairs with shadow > reference count 2, ties 1.
    u2: u64,
    /// `sum(t^3 - t)` over groups of tied values in the pooled sample.
    ties: f64,
}

/// Where `x` sits in a sorted slice: values below it, values equal.
fn position(sorted: &[f64], x: f64) -> (usize, usize) {
    let below = sorted.partition_point(|v| *v < x);
    let equal = sorted[below..].partition_point(|v| *v <= x);
    (below, equal)
}

/// One look's numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n_shadow: usize,
    pub n_reference: usize,
    /// The shadow's U.
    pub u: f64,
    /// `U - n_s n_r / 2`: positive when the shadow tends higher.
    pub centred: f64,
    /// Tie-corrected standard deviation of U under the null (0 when every
    /// value is tied).
    pub sd: f64,
    /// Cliff's delta, `2U / (n_s n_r) - 1`.
    pub cliffs_delta: f64,
    pub median_shadow: f64,
    pub median_reference: f64,
}

impl Summary {
    /// The continuity-corrected z, two-sided (shrunk towards 0 by 1/2).
    pub fn z(&self) -> f64 {
        self.z_towards(self.centred.signum())
    }

    /// The continuity-corrected z for a one-sided alternative: `sign` +1
    /// (shadow higher) or -1 (shadow lower).
    pub fn z_towards(&self, sign: f64) -> f64 {
        if self.sd <= 0.0 {
            return 0.0;
        }
        let corrected = self.centred - 0.5 * sign;
        if corrected * sign <= 0.0 {
            0.0
        } else {
            corrected / self.sd
        }
    }

    /// Statistical information about `theta = P(S > R) - 1/2` (ties half):
    /// `(n_s n_r / sd)^2`, about `12 n_s n_r / (n + 1)` without ties.
    pub fn information(&self) -> f64 {
        if self.sd <= 0.0 {
            return 0.0;
        }
        let pairs = self.n_shadow as f64 * self.n_reference as f64;
        (pairs / self.sd).powi(2)
    }

    /// Shadow median over reference median (NaN when the latter is 0).
    pub fn median_ratio(&self) -> f64 {
        if self.median_reference == 0.0 {
            f64::NAN
        } else {
            self.median_shadow / self.median_reference
        }
    }
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]),
    }
}

impl RankStats {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds from two whole samples in O(n log n); non-finite values are
    /// skipped.
    pub fn from_samples(shadow: &[f64], reference: &[f64]) -> Self {
        let sorted = |xs: &[f64]| {
            let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let shadow = sorted(shadow);
        let reference = sorted(reference);
        let mut u2 = 0u64;
        let (mut below, mut upto) = (0usize, 0usize);
        for &s in &shadow {
            while below < reference.len() && reference[below] < s {
                below += 1;
            }
            upto = upto.max(below);
            while upto < reference.len() && reference[upto] <= s {
                upto += 1;
            }
            u2 += 2 * below as u64 + (upto - below) as u64;
        }
        let mut pooled: Vec<f64> = shadow.iter().chain(&reference).copied().collect();
        pooled.sort_by(f64::total_cmp);
        let ties = pooled
            .chunk_by(|a, b| a.total_cmp(b).is_eq())
            .map(|run| {
                let t = run.len() as f64;
                t * t * t - t
            })
            .sum();
        RankStats {
            shadow,
            reference,
            u2,
            ties,
        }
    }

    fn add_tie(&mut self, x: f64) {
        let (_, in_shadow) = position(&self.shadow, x);
        let (_, in_reference) = position(&self.reference, x);
        let c = (in_shadow + in_reference) as f64;
        // (c+1)^3 - (c+1) - (c^3 - c)
        self.ties += 3.0 * c * c + 3.0 * c;
    }

    /// Adds a shadow value; false (and nothing changes) when not finite.
    pub fn push_shadow(&mut self, x: f64) -> bool {
        if !x.is_finite() {
            return false;
        }
        self.add_tie(x);
        let (below, equal) = position(&self.reference, x);
        self.u2 += 2 * below as u64 + equal as u64;
        let at = self.shadow.partition_point(|v| *v <= x);
        self.shadow.insert(at, x);
        true
    }

    /// Adds a reference value; false (and nothing changes) when not finite.
    pub fn push_reference(&mut self, x: f64) -> bool {
        if !x.is_finite() {
            return false;
        }
        self.add_tie(x);
        let (below, equal) = position(&self.shadow, x);
        let above = self.shadow.len() - below - equal;
        self.u2 += 2 * above as u64 + equal as u64;
        let at = self.reference.partition_point(|v| *v <= x);
        self.reference.insert(at, x);
        true
    }

    pub fn summary(&self) -> Summary {
        let (ns, nr) = (self.shadow.len() as f64, self.reference.len() as f64);
        let n = ns + nr;
        let u = self.u2 as f64 / 2.0;
        let pairs = ns * nr;
        let variance = if n > 1.0 {
            pairs / 12.0 * ((n + 1.0) - self.ties / (n * (n - 1.0)))
        } else {
            0.0
        };
        Summary {
            n_shadow: self.shadow.len(),
            n_reference: self.reference.len(),
            u,
            centred: u - pairs / 2.0,
            sd: variance.max(0.0).sqrt(),
            cliffs_delta: if pairs > 0.0 {
                2.0 * u / pairs - 1.0
            } else {
                0.0
            },
            median_shadow: median(&self.shadow),
            median_reference: median(&self.reference),
        }
    }

    /// Heap bytes of the two samples.
    pub fn heap_bytes(&self) -> usize {
        (self.shadow.capacity() + self.reference.capacity()) * size_of::<f64>()
    }
}
