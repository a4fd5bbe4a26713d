//! `sitrep eval-feed`: the developments a general news feed gives, by section.
//!
//! A situation board fed a general wire sees sport, business, culture and technology copy
//! beside the conflict and diplomacy it is for. Every development it detects there is one
//! an editor has to strike. This runs the pipeline over a corpus (the BBC corpus has
//! sections; Reuters-21578 has none) and counts the developments each section's reports
//! opened, per report, and draws a seeded random sample of developments with the sentence
//! that opened each, for judging by `docs/LABELLING.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use crate::config::Config;
use crate::corpus::{documents, CorpusError};
use crate::events::types;
use crate::pipeline::Stages;
use crate::source::Intake;
use crate::state::SituationHandle;

/// Developments opened by one section's reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Section {
    pub reports: usize,
    pub developments: usize,
    pub per_report: f64,
}

/// One sampled development.
#[derive(Debug, Clone, Serialize)]
pub struct Sampled {
    pub development: String,
    pub kind: String,
    pub status: Option<String>,
    pub doc: String,
    pub section: Option<String>,
    pub trigger: String,
    pub evidence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeedResult {
    pub sections: BTreeMap<String, Section>,
    pub total: Section,
    pub sample: Vec<Sampled>,
}

/// Runs the feed in corpus order and counts, per section, the developments its reports
/// opened (`development.detected`); samples `sample` of all developments with `seed`.
///
/// # Errors
/// When the corpus cannot be read.
pub fn run(
    cfg: &Config,
    paths: &[PathBuf],
    sample: usize,
    seed: u64,
) -> Result<FeedResult, CorpusError> {
    let stages = Stages::new(cfg);
    let state = SituationHandle::new();
    let mut sections: BTreeMap<String, Section> = BTreeMap::new();
    // Development id → (doc, section) of the report that opened it.
    let mut opened: Vec<(String, String, Option<String>)> = Vec::new();
    for doc in documents(paths)? {
        let section = doc.category.clone().unwrap_or_else(|| "(none)".into());
        sections.entry(section.clone()).or_default().reports += 1;
        let events = stages.process(Intake::Report(doc.raw), &state);
        for e in events {
            if e.kind == types::DEVELOPMENT_DETECTED {
                sections.entry(section.clone()).or_default().developments += 1;
                opened.push((e.subject.clone(), doc.id.clone(), doc.category.clone()));
            }
        }
    }
    let mut total = Section::default();
    for s in sections.values_mut() {
        s.per_report = s.developments as f64 / s.reports.max(1) as f64;
        total.reports += s.reports;
        total.developments += s.developments;
    }
    total.per_report = total.developments as f64 / total.reports.max(1) as f64;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut picks: Vec<usize> = (0..opened.len()).collect();
    rng.shuffle(&mut picks);
    picks.truncate(sample);
    picks.sort_unstable();
    let sample = state.read(|s| {
        picks
            .iter()
            .filter_map(|&i| {
                let (id, doc, section) = &opened[i];
                let d = s.development(id)?;
                let c = d.claims.first()?;
                Some(Sampled {
                    development: id.clone(),
                    kind: d.kind.clone(),
                    status: d.status.map(|s| s.as_str().to_string()),
                    doc: doc.clone(),
                    section: section.clone(),
                    trigger: c.trigger.clone(),
                    evidence: c.evidence.clone(),
                })
            })
            .collect()
    });
    Ok(FeedResult {
        sections,
        total,
        sample,
    })
}

/// The table and the sample as text.
pub fn render(r: &FeedResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:>8} {:>13} {:>11}",
        "section", "reports", "developments", "per report"
    );
    for (name, s) in r.sections.iter().chain([(&"all".to_string(), &r.total)]) {
        let _ = writeln!(
            out,
            "{:<16} {:>8} {:>13} {:>11.3}",
            name, s.reports, s.developments, s.per_report
        );
    }
    for (i, s) in r.sample.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n[{}] {} ({}, {}) {} in {} ({})\n    {}",
            i + 1,
            s.development,
            s.kind,
            s.status.as_deref().unwrap_or("-"),
            s.trigger,
            s.doc,
            s.section.as_deref().unwrap_or("-"),
            s.evidence
        );
    }
    out
}
