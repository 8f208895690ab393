//! Fixed-capacity rings of time buckets, addressed by bucket index
//! (`t_ms.div_euclid(width)`): slot `index mod capacity`. The ring covers
//! the `capacity` buckets ending at its head; moving the head forward
//! clears the buckets skipped over (at most `capacity` slots, so a push is
//! O(1) amortised over elapsed time). Only the head bucket still accepts
//! samples; the caller rejects older ones.

use crate::domain::series::Bucket;

/// Slots a head move must clear: from `old + 1` to `new`, at most all.
fn cleared(old: Option<i64>, new: i64, capacity: usize) -> std::ops::RangeInclusive<i64> {
    let from = match old {
        Some(old) => (old + 1).max(new - capacity as i64 + 1),
        None => new - capacity as i64 + 1,
    };
    from..=new
}

fn slot(index: i64, capacity: usize) -> usize {
    index.rem_euclid(capacity as i64) as usize
}

/// The oldest and newest bucket index held, clipped to `[from, to]`.
fn window(head: Option<i64>, capacity: usize, from: i64, to: i64) -> Option<(i64, i64)> {
    let head = head?;
    let lo = from.max(head - capacity as i64 + 1);
    let hi = to.min(head);
    (lo <= hi).then_some((lo, hi))
}

/// 1-second buckets holding the mean of their samples (NaN when empty).
#[derive(Debug, Clone)]
pub(super) struct RawRing {
    values: Box<[f64]>,
    head: Option<i64>,
    /// Count and sum of the head bucket, to merge late samples into it.
    head_count: u32,
    head_sum: f64,
}

impl RawRing {
    pub(super) fn new(capacity: usize) -> Self {
        RawRing {
            values: vec![f64::NAN; capacity].into_boxed_slice(),
            head: None,
            head_count: 0,
            head_sum: 0.0,
        }
    }

    pub(super) fn head(&self) -> Option<i64> {
        self.head
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.values.len() * size_of::<f64>()
    }

    /// Adds a sample to bucket `index`, which must be at or after the head.
    pub(super) fn push(&mut self, index: i64, value: f64) {
        let capacity = self.values.len();
        if self.head.is_none_or(|head| index > head) {
            for i in cleared(self.head, index, capacity) {
                self.values[slot(i, capacity)] = f64::NAN;
            }
            self.head = Some(index);
            self.head_count = 0;
            self.head_sum = 0.0;
        }
        self.head_count += 1;
        self.head_sum += value;
        self.values[slot(index, capacity)] = self.head_sum / f64::from(self.head_count);
    }

    /// `(index, mean)` of the non-empty buckets in `[from, to]`.
    pub(super) fn range(&self, from: i64, to: i64) -> Vec<(i64, f64)> {
        let capacity = self.values.len();
        let Some((lo, hi)) = window(self.head, capacity, from, to) else {
            return Vec::new();
        };
        (lo..=hi)
            .map(|i| (i, self.values[slot(i, capacity)]))
            .filter(|(_, v)| !v.is_nan())
            .collect()
    }
}

/// Rollup buckets (count, sum, min, max, last), stored column-wise.
#[derive(Debug, Clone)]
pub(super) struct RollupRing {
    width_ms: i64,
    count: Box<[u32]>,
    sum: Box<[f64]>,
    min: Box<[f64]>,
    max: Box<[f64]>,
    last: Box<[f64]>,
    head: Option<i64>,
    /// Buckets up to this index were handed out sealed by `take`.
    flushed: Option<i64>,
}

impl RollupRing {
    pub(super) fn new(width_ms: i64, capacity: usize) -> Self {
        let zeros = || vec![0.0; capacity].into_boxed_slice();
        RollupRing {
            width_ms,
            count: vec![0; capacity].into_boxed_slice(),
            sum: zeros(),
            min: zeros(),
            max: zeros(),
            last: zeros(),
            head: None,
            flushed: None,
        }
    }

    /// Bytes per bucket of the column layout.
    pub(super) const BUCKET_BYTES: usize = size_of::<u32>() + 4 * size_of::<f64>();

    pub(super) fn heap_bytes(&self) -> usize {
        self.count.len() * Self::BUCKET_BYTES
    }

    pub(super) fn index(&self, t_ms: i64) -> i64 {
        t_ms.div_euclid(self.width_ms)
    }

    /// Adds a sample at `t_ms` (at or after the head bucket); `latest`
    /// says whether it is the newest sample of the series so far.
    pub(super) fn push(&mut self, t_ms: i64, value: f64, latest: bool) {
        let index = self.index(t_ms);
        let capacity = self.count.len();
        if self.head.is_none_or(|head| index > head) {
            for i in cleared(self.head, index, capacity) {
                self.count[slot(i, capacity)] = 0;
            }
            self.head = Some(index);
        }
        let s = slot(index, capacity);
        if self.count[s] == 0 {
            self.sum[s] = 0.0;
            self.min[s] = value;
            self.max[s] = value;
            self.last[s] = value;
        }
        self.count[s] += 1;
        self.sum[s] += value;
        self.min[s] = self.min[s].min(value);
        self.max[s] = self.max[s].max(value);
        if latest {
            self.last[s] = value;
        }
    }

    fn bucket(&self, index: i64) -> Option<Bucket> {
        let s = slot(index, self.count.len());
        (self.count[s] > 0).then(|| Bucket {
            start_ms: index * self.width_ms,
            count: self.count[s],
            sum: self.sum[s],
            min: self.min[s],
            max: self.max[s],
            last: self.last[s],
        })
    }

    /// The non-empty buckets with index in `[from, to]`.
    pub(super) fn range(&self, from: i64, to: i64) -> Vec<Bucket> {
        let Some((lo, hi)) = window(self.head, self.count.len(), from, to) else {
            return Vec::new();
        };
        (lo..=hi).filter_map(|i| self.bucket(i)).collect()
    }

    /// The sealed buckets not handed out yet (and the open head bucket when
    /// `include_open`, which a later call hands out again once sealed).
    pub(super) fn take(&mut self, include_open: bool) -> Vec<Bucket> {
        let Some(head) = self.head else {
            return Vec::new();
        };
        let from = self.flushed.map_or(i64::MIN, |f| f + 1);
        let to = if include_open { head } else { head - 1 };
        let out = self.range(from, to);
        self.flushed = Some(head - 1);
        out
    }
}
