//! Counters and latency histograms of the resolver, one set per worker
//! thread, shown as one JSON line.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Bucket upper bounds of the latency histograms, in microseconds.
const BOUNDS_US: [u64; 16] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000,
];
const BUCKETS: usize = BOUNDS_US.len() + 1;

/// A latency histogram with fixed buckets (the last one unbounded).
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS],
    count: AtomicU64,
    sum_us: AtomicU64,
}

/// The values of one or more histograms added up.
#[derive(Default, Clone, Copy)]
pub(crate) struct HistogramSum {
    buckets: [u64; BUCKETS],
    count: u64,
    sum_us: u64,
}

impl Histogram {
    /// Adds one observation.
    pub fn record(&self, d: Duration) {
        let us = d.as_micros().min(u128::from(u64::MAX)) as u64;
        let i = BOUNDS_US.iter().position(|&b| us <= b).unwrap_or(BOUNDS_US.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
    }
}

impl HistogramSum {
    fn add(&mut self, h: &Histogram) {
        for (s, b) in self.buckets.iter_mut().zip(&h.buckets) {
            *s += b.load(Relaxed);
        }
        self.count += h.count.load(Relaxed);
        self.sum_us += h.sum_us.load(Relaxed);
    }
    /// The upper bound (ms) of the bucket holding quantile `q`.
    fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let want = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &b) in self.buckets.iter().enumerate() {
            seen += b;
            if seen >= want {
                return Some(BOUNDS_US.get(i).map_or(f64::INFINITY, |&u| u as f64 / 1000.0));
            }
        }
        None
    }
    fn json(&self) -> serde_json::Value {
        let n = self.count;
        let mut buckets = serde_json::Map::new();
        for (i, &b) in self.buckets.iter().enumerate() {
            let key = BOUNDS_US
                .get(i)
                .map_or("+Inf".to_string(), |&u| format!("{}", u as f64 / 1000.0));
            buckets.insert(key, b.into());
        }
        serde_json::json!({
            "count": n,
            "mean_ms": if n == 0 { 0.0 } else { self.sum_us as f64 / n as f64 / 1000.0 },
            "p50_ms": self.quantile_ms(0.5),
            "p99_ms": self.quantile_ms(0.99),
            "le_ms": buckets,
        })
    }
}

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        /// Counters of the resolver.
        #[derive(Default)]
        pub struct Counters { $(
            #[doc = stringify!($name)]
            pub $name: AtomicU64,
        )* }
        impl Counters {
            /// Adds these counters to `m` (name -> total).
            fn add_to(&self, m: &mut serde_json::Map<String, serde_json::Value>) {
                $(
                    let v = m.get(stringify!($name)).and_then(|v| v.as_u64()).unwrap_or(0);
                    m.insert(stringify!($name).to_string(), (v + self.$name.load(Relaxed)).into());
                )*
            }
        }
    };
}

counters!(
    queries_udp,
    queries_tcp,
    dropped,
    formerr,
    notimp,
    badvers,
    servfail,
    responses,
    truncated,
    synthesized,
    synthesized_records,
    filtered,
    relayed,
    empty,
    ptr_cname,
    local,
    cache_hits,
    cache_misses,
    upstream_queries,
    upstream_timeouts,
    upstream_errors,
    upstream_failovers,
    upstream_tcp_retries,
    upstream_bad_responses,
    slow_abandoned,
    tcp_evicted,
    tcp_refused,
);

/// The counters and histograms of one worker thread (on their own cache
/// lines, so that workers do not slow each other down).
#[derive(Default)]
#[repr(align(128))]
pub struct WorkerMetrics {
    /// Counters.
    pub c: Counters,
    /// Time for one upstream exchange (the successful attempt).
    pub upstream_latency: Histogram,
    /// Time from a query's arrival to its answer.
    pub dns64_latency: Histogram,
}

thread_local! {
    /// The index of the worker running on this thread (0 outside workers).
    pub(crate) static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counters and histograms, one set per worker thread, added up when shown.
pub struct Metrics {
    workers: Box<[WorkerMetrics]>,
}

impl Metrics {
    /// One set for each of `workers` worker threads.
    pub fn new(workers: usize) -> Self {
        Metrics {
            workers: (0..workers.max(1)).map(|_| WorkerMetrics::default()).collect(),
        }
    }
    /// The metrics of the calling worker.
    #[inline]
    pub fn mine(&self) -> &WorkerMetrics {
        &self.workers[WORKER.with(|w| w.get()) % self.workers.len()]
    }
    /// One JSON object: every worker added up.
    pub fn json(&self) -> serde_json::Value {
        let mut c = serde_json::Map::new();
        let (mut up, mut dns) = (HistogramSum::default(), HistogramSum::default());
        for w in self.workers.iter() {
            w.c.add_to(&mut c);
            up.add(&w.upstream_latency);
            dns.add(&w.dns64_latency);
        }
        serde_json::json!({
            "dns64_metrics": c,
            "upstream_latency": up.json(),
            "dns64_latency": dns.json(),
        })
    }
}

#[inline]
pub(crate) fn inc(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles() {
        let h = Histogram::default();
        for _ in 0..98 {
            h.record(Duration::from_micros(80));
        }
        h.record(Duration::from_millis(30));
        h.record(Duration::from_secs(9));
        let mut s = HistogramSum::default();
        s.add(&h);
        assert_eq!(s.quantile_ms(0.5), Some(0.1));
        assert_eq!(s.quantile_ms(0.99), Some(50.0));
        assert_eq!(s.quantile_ms(1.0), Some(f64::INFINITY));
        s.add(&h); // a second worker's histogram
        assert_eq!(s.count, 200);
        assert_eq!(s.quantile_ms(0.99), Some(50.0));
    }
}
