//! Dedup: exact re-sends, untouched files and revisions.
//!
//! A report's id is the fingerprint of its normalized body (see `normalize`), so a file
//! re-sent under another name, with other line endings, quotes or a BOM, has the same
//! fingerprint. Dedup also remembers what each path last held: a file touched without a
//! change in content is not news at all, and a file whose content changed is a revision
//! of the report it held before (only its new sentences count). In the daemon, a text
//! that stops mid-sentence has a fingerprint of its own (see
//! `Normalizer::holding_unfinished`), so that its completion is a revision: a copy of a
//! report taken before that lacks both the stop and the line break at its end is taken as
//! a report of its own, its last sentence held back. The indexes are
//! [`DashMap`]s so that readers can ask "have we seen this?" while the dedup stage inserts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use serde::{Deserialize, Serialize};

use crate::report::{file_label, Report};

/// What dedup decided about a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// First time this body is seen; `revises` names the report the same path held before.
    New { revises: Option<String> },
    /// The same path with the same body as when it was last read (a touch, a copy over
    /// itself): nothing to say.
    Unchanged,
    /// Same normalized body as an earlier report.
    Duplicate { of_id: String, of_file: String },
}

/// The first report seen with a fingerprint.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Path → (fingerprint, report id) of what the path held when last read.
    by_path: Arc<DashMap<PathBuf, (u128, String)>>,
}

/// The persistence form of [`Dedup`], for the journal's snapshots.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DedupImage {
    seen: Vec<(String, Original)>,
    by_path: Vec<(crate::journal::PathRepr, String, String)>,
}

impl Dedup {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the report if it is new; otherwise names the original.
    pub fn check(&self, report: &Report) -> Verdict {
        let before = self
            .by_path
            .insert(report.path.clone(), (report.fingerprint, report.id.clone()));
        match before {
            Some((fp, _)) if fp == report.fingerprint => return Verdict::Unchanged,
            _ => {}
        }
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
                Verdict::New {
                    revises: before.map(|(_, id)| id),
                }
            }
        }
    }

    /// Replays a journaled outcome: `path` held the body `fingerprint` (report `id`), and
    /// when `accepted`, that body is the original of its fingerprint.
    pub fn restore(&self, path: &Path, fingerprint: u128, id: &str, accepted: bool) {
        self.by_path
            .insert(path.to_path_buf(), (fingerprint, id.to_string()));
        if accepted {
            self.seen.entry(fingerprint).or_insert_with(|| Original {
                id: id.to_string(),
                file: file_label(path),
            });
        }
    }

    pub fn image(&self) -> DedupImage {
        let mut seen: Vec<_> = self
            .seen
            .iter()
            .map(|e| (format!("{:032x}", e.key()), e.value().clone()))
            .collect();
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        let mut by_path: Vec<_> = self
            .by_path
            .iter()
            .map(|e| {
                (
                    crate::journal::PathRepr::from(e.key().as_path()),
                    format!("{:032x}", e.value().0),
                    e.value().1.clone(),
                )
            })
            .collect();
        by_path.sort_by(|a, b| a.0.cmp(&b.0));
        DedupImage { seen, by_path }
    }

    pub fn from_image(image: DedupImage) -> Self {
        let d = Dedup::new();
        for (fp, o) in image.seen {
            if let Ok(fp) = u128::from_str_radix(&fp, 16) {
                d.seen.insert(fp, o);
            }
        }
        for (path, fp, id) in image.by_path {
            if let Ok(fp) = u128::from_str_radix(&fp, 16) {
                d.by_path.insert(path.into(), (fp, id));
            }
        }
        d
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
        assert_eq!(d.check(&a), Verdict::New { revises: None });
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
        assert_eq!(
            d.check(&report("a.txt", "Talks ended.")),
            Verdict::New { revises: None }
        );
        assert_eq!(
            d.check(&report("b.txt", "Talks began.")),
            Verdict::New { revises: None }
        );
    }

    #[test]
    fn dedup_same_path_same_body_is_unchanged_new_body_is_a_revision() {
        let d = Dedup::new();
        let a = report("a.txt", "Talks ended.");
        assert_eq!(d.check(&a), Verdict::New { revises: None });
        assert_eq!(
            d.check(&report("a.txt", "Talks ended.\n")),
            Verdict::Unchanged
        );
        assert_eq!(
            d.check(&report("a.txt", "Talks ended. Troops left.")),
            Verdict::New {
                revises: Some(a.id.clone())
            }
        );
    }

    #[test]
    fn dedup_image_round_trips() {
        let d = Dedup::new();
        let a = report("a.txt", "Talks ended.");
        d.check(&a);
        let json = serde_json::to_string(&d.image()).unwrap();
        let back = Dedup::from_image(serde_json::from_str(&json).unwrap());
        assert_eq!(
            back.check(&report("a.txt", "Talks ended.")),
            Verdict::Unchanged
        );
        assert!(matches!(
            back.check(&report("b.txt", "Talks ended.")),
            Verdict::Duplicate { .. }
        ));
    }
}
