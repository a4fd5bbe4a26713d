//! Dedup: exact re-sends.
//!
//! A report's id is the fingerprint of its normalized body (see `normalize`), so a file
//! re-sent under another name, with other line endings, quotes or a BOM, has the same
//! fingerprint. The index is a [`DashMap`] so that readers (the situation, later the API)
//! can ask "have we seen this?" while the dedup stage inserts.

use std::sync::Arc;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use crate::report::Report;

/// What dedup decided about a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// First time this body is seen.
    New,
    /// Same normalized body as an earlier report.
    Duplicate { of_id: String, of_file: String },
}

/// The first report seen with a fingerprint.
#[derive(Debug, Clone)]
struct Original {
    id: String,
    file: String,
}

/// Exact-duplicate detector. Cheap to clone; clones share one index.
#[derive(Debug, Clone, Default)]
pub struct Dedup {
    /// Keyed by the 128-bit fingerprint: at a few million reports the chance of a false
    /// match is still negligible, and a key is 16 bytes.
    seen: Arc<DashMap<u128, Original>>,
}

impl Dedup {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the report if it is new; otherwise names the original.
    pub fn check(&self, report: &Report) -> Verdict {
        match self.seen.entry(report.fingerprint) {
            Entry::Occupied(o) => Verdict::Duplicate {
                of_id: o.get().id.clone(),
                of_file: o.get().file.clone(),
            },
            Entry::Vacant(v) => {
                v.insert(Original {
                    id: report.id.clone(),
                    file: report.file_name(),
                });
                Verdict::New
            }
        }
    }

    /// Number of distinct reports seen.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::report::RawReport;
    use crate::stages::normalize::Normalizer;
    use std::path::PathBuf;

    fn report(name: &str, text: &str) -> Report {
        let n = Normalizer::new(&Config::embedded().unwrap().lexicons.names);
        n.normalize(&RawReport {
            path: PathBuf::from(name),
            bytes: text.as_bytes().to_vec(),
            modified: None,
            received_at: time::OffsetDateTime::UNIX_EPOCH,
        })
        .unwrap()
    }

    #[test]
    fn dedup_same_body_renamed_file_is_duplicate() {
        let d = Dedup::new();
        let a = report("a.txt", "Talks ended.\nAll went home.");
        let b = report("b.txt", "Talks ended.\r\nAll  went home.\r\n");
        assert_eq!(d.check(&a), Verdict::New);
        assert_eq!(
            d.check(&b),
            Verdict::Duplicate {
                of_id: a.id.clone(),
                of_file: "a.txt".into()
            }
        );
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn dedup_different_body_is_new() {
        let d = Dedup::new();
        assert_eq!(d.check(&report("a.txt", "Talks ended.")), Verdict::New);
        assert_eq!(d.check(&report("b.txt", "Talks began.")), Verdict::New);
    }
}
