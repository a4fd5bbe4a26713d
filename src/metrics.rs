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

/// The process-wide counters in the Prometheus text exposition format.
pub fn render_prometheus() -> String {
    GLOBAL.render_prometheus()
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
