//! Candidate triggers and the labels written for them.
//!
//! `sitrep candidates` lists every trigger the lexicon finds in a corpus, before the sense
//! filter, with where it is (document id, sentence, byte span); `--text` adds the sentence
//! and its neighbours for the person labelling it (that output stays outside the
//! repository: it is corpus text). The labels (`labels/triggers.jsonl`, written by the
//! guideline in `docs/LABELLING.md`) hold only ids, offsets, the trigger word and the
//! judgement, so they can be committed; training finds the candidate again by its place.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::corpus::{documents, Document};
use crate::extraction::{ClaimDraft, Extraction, Status};
use crate::report::Report;
use crate::stages::extract::Extractor;
use crate::stages::normalize::Normalizer;

/// Where a candidate is: enough to find it again in the same corpus.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Place {
    pub doc: String,
    pub sentence: usize,
    pub start: usize,
    pub end: usize,
}

/// One labelled candidate (a line of `labels/triggers.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    #[serde(flatten)]
    pub place: Place,
    /// The trigger as found, to check that the label still points at it.
    pub trigger: String,
    pub frame: String,
    /// True when the trigger names a happening of the frame's kind in the situation sense
    /// (a military withdrawal, a diplomatic meeting), false for other senses.
    pub sense: bool,
    /// For a situation-sense trigger, the status the sentence gives the happening as of
    /// the report; `None` when it gives none (a bare mention, a hedge, an earlier occasion).
    #[serde(default)]
    pub status: Option<Status>,
}

/// A candidate found in a document, with the document's report and extraction, for the
/// learners' features.
#[derive(Debug)]
pub struct Candidate<'a> {
    pub place: Place,
    pub claim: &'a ClaimDraft,
}

/// Problems with the labels file or the corpus.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error(transparent)]
    Corpus(#[from] crate::corpus::CorpusError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Reads a labels file.
///
/// # Errors
/// When it cannot be read or a line is not a label.
pub fn read_labels(path: &Path) -> Result<Vec<Label>, LabelError> {
    let text = std::fs::read_to_string(path).map_err(|source| LabelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| LabelError::Line {
                path: path.to_path_buf(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// A corpus document run through normalize and extract, all candidates kept.
#[derive(Debug)]
pub struct Processed {
    pub doc: Document,
    pub report: Report,
    pub extraction: Extraction,
}

impl Processed {
    pub fn candidates(&self) -> impl Iterator<Item = Candidate<'_>> {
        self.extraction.claims.iter().map(|c| Candidate {
            place: Place {
                doc: self.doc.id.clone(),
                sentence: c.sentence,
                start: c.span.0,
                end: c.span.1,
            },
            claim: c,
        })
    }
}

/// Normalizes and extracts every document of `paths` with the sense filter off (every
/// candidate the lexicon finds), skipping documents normalize refuses.
///
/// # Errors
/// When the corpus cannot be read.
pub fn process(cfg: &Config, paths: &[PathBuf]) -> Result<Vec<Processed>, LabelError> {
    let normalizer = Normalizer::new(&cfg.lexicons.names);
    let extractor = Extractor::new(&cfg.lexicons).without_sense();
    Ok(documents(paths)?
        .into_iter()
        .filter_map(|doc| {
            let report = normalizer.normalize(&doc.raw).ok()?;
            let extraction = extractor.extract(&report);
            Some(Processed {
                doc,
                report,
                extraction,
            })
        })
        .collect())
}

/// `sitrep candidates`: one JSON line per candidate trigger.
///
/// # Errors
/// When the corpus cannot be read or the output written.
pub fn candidates_command(
    cfg: &Config,
    paths: &[PathBuf],
    with_text: bool,
    out: &mut dyn Write,
) -> Result<usize, LabelError> {
    let io = |source| LabelError::Io {
        path: PathBuf::from("<output>"),
        source,
    };
    let mut n = 0;
    let model = (!cfg.lexicons.sense.is_empty()).then_some(&cfg.lexicons.sense);
    let know = crate::stages::extract::sense::Knowledge::of(&cfg.lexicons);
    let mut keys = Vec::new();
    for p in process(cfg, paths)? {
        let sentences = &p.report.sentences;
        let toks = crate::text::SentenceTokens::new(sentences.iter().map(|s| s.text.as_str()));
        let doc = crate::stages::extract::sense::DocContext::new(&p.report, &toks);
        for c in p.candidates() {
            let claim = c.claim;
            let margin = model.map(|m| {
                crate::stages::extract::sense::claim_keys(
                    &p.report,
                    &toks,
                    &p.extraction.mentions,
                    claim,
                    &doc,
                    &know,
                    &mut keys,
                );
                m.margin(&keys) - m.threshold
            });
            let mut v = serde_json::json!({
                "doc": c.place.doc, "sentence": c.place.sentence,
                "start": c.place.start, "end": c.place.end,
                "trigger": claim.trigger, "frame": claim.frame, "kind": claim.kind,
                "form": claim.form, "status": claim.status, "cue": claim.cue,
                "modality": claim.modality,
                "category": p.doc.category,
                "sense": margin,
            });
            if with_text {
                let s = |i: Option<usize>| {
                    i.and_then(|i| sentences.get(i))
                        .map(|s| s.text.clone())
                        .unwrap_or_default()
                };
                v["text"] = s(Some(claim.sentence)).into();
                v["before"] = s(claim.sentence.checked_sub(1)).into();
                v["after"] = s(Some(claim.sentence + 1)).into();
                v["title"] = p.report.meta.title.clone().unwrap_or_default().into();
                v["published"] = p.report.published_at.date().to_string().into();
            }
            writeln!(out, "{v}").map_err(io)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Joins labels to the candidates found now: label index → (processed document, claim
/// index). Labels whose trigger is no longer found there (the lexicon or the corpus
/// changed) are returned apart, so training can say how many it could not use.
pub fn join<'a>(
    labels: &'a [Label],
    processed: &'a [Processed],
) -> (Vec<(&'a Label, &'a Processed, usize)>, Vec<&'a Label>) {
    let mut at: HashMap<Place, (usize, usize)> = HashMap::new();
    for (pi, p) in processed.iter().enumerate() {
        for (ci, c) in p.candidates().enumerate() {
            at.insert(c.place, (pi, ci));
        }
    }
    let mut found = Vec::new();
    let mut lost = Vec::new();
    for l in labels {
        match at.get(&l.place) {
            Some(&(pi, ci)) if processed[pi].extraction.claims[ci].trigger == l.trigger => {
                found.push((l, &processed[pi], ci));
            }
            _ => lost.push(l),
        }
    }
    (found, lost)
}

/// What `sitrep train-sense` measured and wrote.
#[derive(Debug)]
pub struct SenseTraining {
    pub model: crate::learn::LinearModel,
    pub used: usize,
    pub lost: usize,
    pub epochs: usize,
    /// Held-out precision, recall and F1 of the situation sense at the chosen threshold.
    pub scores: (f64, f64, f64),
}

/// Trains the sense filter on `labels` over the corpora of `paths`: cross-validation by
/// document chooses the number of epochs and the margin threshold (best held-out F1), then
/// the model is trained on every label.
///
/// # Errors
/// When the labels or the corpora cannot be read.
pub fn train_sense(
    cfg: &Config,
    labels_path: &Path,
    paths: &[PathBuf],
    seed: u64,
) -> Result<SenseTraining, LabelError> {
    use crate::learn::{cross_validate_fit, fit, Example, Fit};
    use crate::stages::extract::sense;
    use crate::text::SentenceTokens;

    let labels = read_labels(labels_path)?;
    let processed = process(cfg, paths)?;
    let (found, lost) = join(&labels, &processed);
    let know = sense::Knowledge::of(&cfg.lexicons);
    let mut examples = Vec::with_capacity(found.len());
    // Features per document: tokens and the topic words once.
    let mut by_doc: HashMap<*const Processed, Vec<(&Label, usize)>> = HashMap::new();
    let mut order: Vec<*const Processed> = Vec::new();
    for (l, p, ci) in &found {
        let k = *p as *const Processed;
        if !by_doc.contains_key(&k) {
            order.push(k);
        }
        by_doc.entry(k).or_default().push((l, *ci));
    }
    for k in order {
        let Some(p) = processed.iter().find(|p| std::ptr::eq(*p, k)) else {
            continue;
        };
        let toks = SentenceTokens::new(p.report.sentences.iter().map(|s| s.text.as_str()));
        let doc = sense::DocContext::new(&p.report, &toks);
        let group = xxhash_rust::xxh3::xxh3_64(p.doc.id.as_bytes());
        for (l, ci) in &by_doc[&k] {
            let claim = &p.extraction.claims[*ci];
            if claim.frame != l.frame {
                continue;
            }
            let mut keys = Vec::new();
            sense::claim_keys(
                &p.report,
                &toks,
                &p.extraction.mentions,
                claim,
                &doc,
                &know,
                &mut keys,
            );
            examples.push(Example {
                keys,
                label: usize::from(l.sense),
                group,
            });
        }
    }
    let names: Vec<String> = sense::LABELS.iter().map(|s| s.to_string()).collect();
    const FOLDS: usize = 5;
    // Logistic regression, its penalty and passes chosen by held-out F1 at the best
    // threshold for each.
    struct Choice {
        l2: f64,
        epochs: usize,
        threshold: f32,
        /// Held-out precision, recall, F1.
        scores: (f64, f64, f64),
    }
    let mut best: Option<Choice> = None;
    for l2 in [1e-3, 3e-3, 1e-2, 3e-2] {
        for epochs in [5, 10] {
            let held = cross_validate_fit(&examples, 2, FOLDS, epochs, seed, Fit::Logistic { l2 });
            let (threshold, scores) = best_threshold(&examples, &held);
            if best.as_ref().is_none_or(|b| scores.2 > b.scores.2 + 1e-9) {
                best = Some(Choice {
                    l2,
                    epochs,
                    threshold,
                    scores,
                });
            }
        }
    }
    let Some(Choice {
        l2,
        epochs,
        threshold,
        scores: best,
    }) = best
    else {
        return Err(LabelError::Line {
            path: labels_path.to_path_buf(),
            line: 0,
            message: "no labelled candidate was found in the corpora".into(),
        });
    };
    let mut model = fit(
        &examples,
        &names,
        sense::TASK,
        sense::FEATURE_VERSION,
        epochs,
        seed,
        Fit::Logistic { l2 },
    );
    model.threshold = threshold;
    let positives = examples.iter().filter(|e| e.label == 1).count();
    model.info = format!(
        "{} labelled candidates ({positives} situation sense), {FOLDS}-fold cross-validation by document: logistic regression, L2 {l2}, {epochs} epochs, threshold {threshold:.2}, held-out precision {:.3} recall {:.3} F1 {:.3}",
        examples.len(),
        best.0,
        best.1,
        best.2
    );
    Ok(SenseTraining {
        model,
        used: examples.len(),
        lost: lost.len(),
        epochs,
        scores: best,
    })
}

/// The margin threshold with the best F1 on held-out scores, and its precision, recall
/// and F1.
fn best_threshold(examples: &[crate::learn::Example], held: &[Vec<f32>]) -> (f32, (f64, f64, f64)) {
    use crate::learn::binary_scores;
    let mut margins: Vec<f32> = held.iter().map(|s| s[1] - s[0]).collect();
    margins.sort_by(f32::total_cmp);
    margins.dedup();
    let mut threshold = 0.0f32;
    let mut best = binary_scores(examples, held, 0.0);
    for w in margins.windows(2) {
        let t = (w[0] + w[1]) / 2.0;
        let s = binary_scores(examples, held, t);
        if s.2 > best.2 + 1e-9 {
            best = s;
            threshold = t;
        }
    }
    (threshold, best)
}
