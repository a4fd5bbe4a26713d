//! Process-wide counters of what happened to the reports, in the Prometheus text format.
//!
//! A handful of atomic counters need no metrics library: the set of names and labels is
//! fixed (one counter per rejection reason code), so a static array and a hand-written
//! renderer are all of it, with nothing to install or configure and no dependency that
//! pulls in an HTTP stack. Whoever serves `/metrics` calls [`render_prometheus`].
//!
//! Counts start at zero when the process starts; Prometheus handles the reset of a counter.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::report::Rejection;

/// The counters. [`global`] is the one the daemon counts in; tests make their own.
#[derive(Debug)]
pub struct Metrics {
    accepted: AtomicU64,
    duplicate: AtomicU64,
    /// Indexed like [`Rejection::CODES`].
    rejected: [AtomicU64; Rejection::CODES.len()],
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

static GLOBAL: Metrics = Metrics::new();

/// The process-wide counters.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

/// The process-wide counters and stage metrics in the Prometheus text exposition format.
pub fn render_prometheus() -> String {
    let mut out = GLOBAL.render_prometheus();
    out.push_str(&STAGE_METRICS.render_prometheus());
    out
}

impl Metrics {
    pub const fn new() -> Self {
        Self {
            accepted: AtomicU64::new(0),
            duplicate: AtomicU64::new(0),
            rejected: [const { AtomicU64::new(0) }; Rejection::CODES.len()],
        }
    }

    /// A new report was accepted.
    pub fn report_accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// An exact re-send of an accepted report arrived.
    pub fn report_duplicate(&self) {
        self.duplicate.fetch_add(1, Ordering::Relaxed);
    }

    /// An input was rejected.
    pub fn report_rejected(&self, reason: &Rejection) {
        if let Some(i) = Rejection::CODES.iter().position(|c| *c == reason.code()) {
            self.rejected[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    pub fn duplicate(&self) -> u64 {
        self.duplicate.load(Ordering::Relaxed)
    }

    /// Rejections with reason `code` (0 for an unknown code).
    pub fn rejected(&self, code: &str) -> u64 {
        Rejection::CODES
            .iter()
            .position(|c| *c == code)
            .map_or(0, |i| self.rejected[i].load(Ordering::Relaxed))
    }

    /// The text exposition format (version 0.0.4): `# HELP` and `# TYPE` lines, then one
    /// sample per series. Every reason code has its series, zero included, so that a rate
    /// over a reason that has not happened yet is 0 rather than missing.
    pub fn render_prometheus(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, samples: &[(Option<&str>, u64)]| {
            // Writing to a String cannot fail.
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (reason, value) in samples {
                match reason {
                    Some(r) => {
                        let _ = writeln!(out, "{name}{{reason=\"{}\"}} {value}", escape(r));
                    }
                    None => {
                        let _ = writeln!(out, "{name} {value}");
                    }
                }
            }
        };
        counter(
            "sitrep_reports_accepted_total",
            "Reports read, decoded and found new.",
            &[(None, self.accepted())],
        );
        counter(
            "sitrep_reports_duplicate_total",
            "Reports whose normalized text was exactly that of an earlier report.",
            &[(None, self.duplicate())],
        );
        let rejected: Vec<(Option<&str>, u64)> = Rejection::CODES
            .iter()
            .map(|c| (Some(*c), self.rejected(c)))
            .collect();
        counter(
            "sitrep_reports_rejected_total",
            "Inputs rejected, by reason code (see docs/EVENTS.md).",
            &rejected,
        );
        out
    }
}

/// The pipeline's stages, as `stage` labels.
pub const STAGES: [&str; 4] = ["normalize", "extract", "apply", "journal_sync"];
/// The channels in front of the stages, as `queue` labels.
pub const QUEUES: [&str; 3] = ["normalize", "extract", "apply"];
/// Upper bounds (seconds) of the latency buckets: tens of microseconds for a short report
/// up to seconds for a stall.
const BUCKETS: [f64; 12] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5,
];

/// A latency histogram with fixed buckets, lock-free.
#[derive(Debug)]
pub struct Histogram {
    /// Per bucket (not cumulative); the last one is `+Inf`.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Self {
            counts: [const { AtomicU64::new(0) }; BUCKETS.len() + 1],
            sum_nanos: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: std::time::Duration) {
        let secs = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(BUCKETS.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn render(&self, out: &mut String, name: &str, label: &str) {
        let mut cumulative = 0;
        for (i, c) in self.counts.iter().enumerate() {
            cumulative += c.load(Ordering::Relaxed);
            let le = BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), f64::to_string);
            let _ = writeln!(out, "{name}_bucket{{{label},le=\"{le}\"}} {cumulative}");
        }
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{{{label}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{label}}} {cumulative}");
    }
}

/// Per-stage latency and queue depth: where a backlog builds up and why.
#[derive(Debug)]
pub struct StageMetrics {
    latency: [Histogram; STAGES.len()],
    depth: [AtomicU64; QUEUES.len()],
}

static STAGE_METRICS: StageMetrics = StageMetrics {
    latency: [const { Histogram::new() }; STAGES.len()],
    depth: [const { AtomicU64::new(0) }; QUEUES.len()],
};

/// The process-wide stage metrics.
pub fn stages() -> &'static StageMetrics {
    &STAGE_METRICS
}

impl StageMetrics {
    /// One item took `d` in `stage` (one of [`STAGES`]).
    pub fn observe(&self, stage: usize, d: std::time::Duration) {
        if let Some(h) = self.latency.get(stage) {
            h.observe(d);
        }
    }

    /// Items waiting in front of `queue` (one of [`QUEUES`]), as the one thread that
    /// takes from it sees them each time it takes one: the last take of a burst leaves 0.
    pub fn set_depth(&self, queue: usize, n: usize) {
        if let Some(g) = self.depth.get(queue) {
            g.store(n as u64, Ordering::Relaxed);
        }
    }

    /// One item put into `queue`: for a queue that several threads take from, whose
    /// readings of its length could land out of order and leave a stale depth behind.
    pub fn enqueued(&self, queue: usize) {
        if let Some(g) = self.depth.get(queue) {
            g.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One item taken from `queue` (after [`StageMetrics::enqueued`]).
    pub fn dequeued(&self, queue: usize) {
        if let Some(g) = self.depth.get(queue) {
            let _ = g.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                Some(d.saturating_sub(1))
            });
        }
    }

    pub fn render_prometheus(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP sitrep_stage_seconds Time one item spends in each pipeline stage.\n# TYPE sitrep_stage_seconds histogram"
        );
        for (i, stage) in STAGES.iter().enumerate() {
            self.latency[i].render(
                &mut out,
                "sitrep_stage_seconds",
                &format!("stage=\"{stage}\""),
            );
        }
        let _ = writeln!(
            out,
            "# HELP sitrep_queue_depth Items waiting in the channel in front of each stage.\n# TYPE sitrep_queue_depth gauge"
        );
        for (i, q) in QUEUES.iter().enumerate() {
            let _ = writeln!(
                out,
                "sitrep_queue_depth{{queue=\"{q}\"}} {}",
                self.depth[i].load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// A label value as the exposition format wants it: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series_with_help_and_type() {
        let m = Metrics::new();
        m.report_accepted();
        m.report_accepted();
        m.report_duplicate();
        m.report_rejected(&Rejection::Binary("NUL".into()));
        m.report_rejected(&Rejection::Binary("controls".into()));
        m.report_rejected(&Rejection::Vanished);
        let text = m.render_prometheus();
        let expected_head = "\
# HELP sitrep_reports_accepted_total Reports read, decoded and found new.
# TYPE sitrep_reports_accepted_total counter
sitrep_reports_accepted_total 2
# HELP sitrep_reports_duplicate_total Reports whose normalized text was exactly that of an earlier report.
# TYPE sitrep_reports_duplicate_total counter
sitrep_reports_duplicate_total 1
# HELP sitrep_reports_rejected_total Inputs rejected, by reason code (see docs/EVENTS.md).
# TYPE sitrep_reports_rejected_total counter
sitrep_reports_rejected_total{reason=\"empty\"} 0
sitrep_reports_rejected_total{reason=\"blank\"} 0
sitrep_reports_rejected_total{reason=\"binary\"} 2
";
        assert!(text.starts_with(expected_head), "{text}");
        assert!(text.contains("sitrep_reports_rejected_total{reason=\"vanished\"} 1\n"));
        // One sample line per reason code, each name's HELP/TYPE once.
        let samples = text
            .lines()
            .filter(|l| l.starts_with("sitrep_reports_rejected_total{"))
            .count();
        assert_eq!(samples, Rejection::CODES.len());
        assert_eq!(text.matches("# TYPE").count(), 3);
        assert!(text.ends_with('\n'));
        // Every sample line is `name{labels} value` or `name value` with an integer value.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<u64>().is_ok(), "{line}");
            assert!(series.starts_with("sitrep_reports_"), "{line}");
        }
        assert_eq!(m.rejected("binary"), 2);
        assert_eq!(m.rejected("no_such_code"), 0);
    }

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let m = StageMetrics {
            latency: [const { Histogram::new() }; STAGES.len()],
            depth: [const { AtomicU64::new(0) }; QUEUES.len()],
        };
        m.observe(0, std::time::Duration::from_micros(30));
        m.observe(0, std::time::Duration::from_millis(3));
        m.observe(0, std::time::Duration::from_secs(9));
        m.set_depth(2, 7);
        let text = m.render_prometheus();
        assert!(
            text.contains("sitrep_stage_seconds_bucket{stage=\"normalize\",le=\"0.00005\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("sitrep_stage_seconds_bucket{stage=\"normalize\",le=\"0.005\"} 2\n"));
        assert!(text.contains("sitrep_stage_seconds_bucket{stage=\"normalize\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("sitrep_stage_seconds_count{stage=\"normalize\"} 3\n"));
        assert!(text.contains("sitrep_stage_seconds_count{stage=\"extract\"} 0\n"));
        assert!(text.contains("sitrep_queue_depth{queue=\"apply\"} 7\n"));
        assert_eq!(text.matches("# TYPE").count(), 2);
    }

    #[test]
    fn a_queue_counted_in_and_out_is_empty_once_every_item_is_taken() {
        let m = StageMetrics {
            latency: [const { Histogram::new() }; STAGES.len()],
            depth: [const { AtomicU64::new(0) }; QUEUES.len()],
        };
        for _ in 0..5 {
            m.enqueued(1);
        }
        m.dequeued(1);
        assert!(m
            .render_prometheus()
            .contains("sitrep_queue_depth{queue=\"extract\"} 4\n"));
        for _ in 0..4 {
            m.dequeued(1);
        }
        m.dequeued(1);
        assert!(m
            .render_prometheus()
            .contains("sitrep_queue_depth{queue=\"extract\"} 0\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn the_global_counters_count() {
        // Other tests in this process count too: only the difference is checked.
        let before = global().rejected("too_large");
        global().report_rejected(&Rejection::TooLarge { size: 2, limit: 1 });
        assert!(global().rejected("too_large") > before);
        assert!(render_prometheus().contains("reason=\"too_large\""));
    }
}
