//! Latency summaries.

use std::time::Duration;

/// Sorted latencies and their percentiles.
pub struct Latencies(Vec<Duration>);

impl Latencies {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        Latencies(samples)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (self.0.len() - 1) as f64).round() as usize;
        self.0[rank.min(self.0.len() - 1)]
    }

    /// The `p`th percentile in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        ms(self.percentile(p))
    }

    pub fn row(&self, label: &str) -> String {
        format!(
            "| {label:<28} | {:>6} | {:>9.2} | {:>9.2} | {:>9.2} |",
            self.0.len(),
            ms(self.percentile(50.0)),
            ms(self.percentile(99.0)),
            ms(self.0.last().copied().unwrap_or_default()),
        )
    }

    pub fn header() -> &'static str {
        "| what                         |      n |   p50 ms |   p99 ms |   max ms |\n|---|---:|---:|---:|---:|"
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
