//! `sitrep eval-ner`: entity recognition scored on CoNLL-2003-format data, counted as the
//! `conlleval` script counts (a chunk is right only when its type and both its ends are).
//!
//! Two recognizers can be scored. The trained tagger (`--recognizer model`, the default)
//! tags each document's own tokens, so the score is the tagger's alone. The rule recognizer
//! of the extract stage (`--recognizer rules`) sees each CoNLL document as one report whose sentences are the tokens joined by single
//! spaces, so the recognizer sees a document as it sees a wire report (names confirmed by
//! later mentions, surnames after full names). Its mentions are mapped back onto the tokens
//! they cover: person → PER, place and facility → LOC, organization → ORG, anything else
//! (and nationalities such as "Russian") → MISC.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use time::OffsetDateTime;

use crate::config::Config;
use crate::extraction::ROLE;
use crate::ner::conll::{self, chunks, ConllError, Score, Scores};
use crate::ner::{ModelError, NerModel};
use crate::report::{Metadata, Report, Sentence};
use crate::stages::extract::{EntityKind, EntityRecognizer, Mention};

/// Errors of `sitrep eval-ner`.
#[derive(Debug, thiserror::Error)]
pub enum NerEvalError {
    #[error(transparent)]
    Data(#[from] ConllError),
    #[error("{path}: {source}")]
    Model { path: PathBuf, source: ModelError },
    #[error("writing the report: {0}")]
    Output(#[from] std::io::Error),
    #[error("writing the report: {0}")]
    Json(#[from] serde_json::Error),
}

fn ner_type(kind: EntityKind, demonym: bool) -> &'static str {
    if demonym {
        return "MISC";
    }
    match kind {
        EntityKind::Person => "PER",
        EntityKind::Place | EntityKind::Facility => "LOC",
        EntityKind::Organization => "ORG",
        _ => "MISC",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NerReport {
    pub file: String,
    /// `model` or `rules`.
    pub recognizer: String,
    pub documents: usize,
    pub sentences: usize,
    pub tokens: usize,
    /// Seconds spent recognizing (building the reports and mapping tags excluded).
    pub seconds: f64,
    pub tokens_per_second: f64,
    pub overall: Score,
    pub by_type: BTreeMap<String, Score>,
}

/// Scores the trained tagger on a CoNLL file.
///
/// # Errors
/// An unreadable or malformed file.
pub fn evaluate_model(model: &NerModel, path: &Path) -> Result<NerReport, NerEvalError> {
    evaluate_model_with(model, path, |_, _| {})
}

/// [`evaluate_model`], handing every sentence and its predicted tags to `each`.
///
/// # Errors
/// An unreadable or malformed file.
pub fn evaluate_model_with(
    model: &NerModel,
    path: &Path,
    each: impl FnMut(&conll::Sentence, &[crate::ner::Tag]),
) -> Result<NerReport, NerEvalError> {
    let docs = conll::read(path)?;
    let (mut scores, tokens, seconds) = crate::ner::train::evaluate_with(model, &docs, each);
    scores.finish();
    Ok(NerReport {
        file: path.display().to_string(),
        recognizer: "model".into(),
        documents: docs.len(),
        sentences: docs.iter().map(Vec::len).sum(),
        tokens,
        seconds,
        tokens_per_second: if seconds > 0.0 {
            tokens as f64 / seconds
        } else {
            0.0
        },
        overall: scores.overall,
        by_type: scores.by_type,
    })
}

/// Scores the rule recognizer on a CoNLL file.
///
/// # Errors
/// An unreadable or malformed file.
pub fn evaluate(rec: &EntityRecognizer, path: &Path) -> Result<NerReport, NerEvalError> {
    let docs = conll::read(path)?;
    let mut scores = Scores::default();
    let (mut n_sent, mut n_tok) = (0, 0);
    let mut seconds = 0.0;
    for doc in &docs {
        let report = document_report(doc);
        let started = Instant::now();
        let mut mentions = rec.recognize(&report);
        document_kinds(&mut mentions);
        seconds += started.elapsed().as_secs_f64();
        for (si, sent) in doc.iter().enumerate() {
            n_sent += 1;
            n_tok += sent.tokens.len();
            // Token byte spans in the sentence text.
            let mut spans = Vec::with_capacity(sent.tokens.len());
            let mut at = 0;
            for t in &sent.tokens {
                spans.push((at, at + t.len()));
                at += t.len() + 1;
            }
            let mut predicted = vec!["O".to_string(); sent.tokens.len()];
            // A country's forces are a name only when written as one ("Pakistan Army"); in
            // "Israeli troops" the name is the demonym. A description standing for a name
            // ("the council", "the president") is none.
            let name = |m: &&Mention| {
                let capitalised = m
                    .surface
                    .split_whitespace()
                    .all(|w| w.starts_with(char::is_uppercase));
                let described = (m.link.is_some() || m.key.starts_with(ROLE))
                    && m.surface
                        .get(..4)
                        .is_some_and(|w| w.eq_ignore_ascii_case("the "));
                (!m.enclosing || capitalised) && !described
            };
            let mut ms: Vec<_> = mentions
                .iter()
                .filter(|m| m.sentence == si)
                .filter(name)
                .collect();
            ms.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
            let mut free_from = 0;
            for m in ms {
                let covered: Vec<usize> = (0..spans.len())
                    .filter(|&i| spans[i].0 >= m.start && spans[i].1 <= m.end)
                    .collect();
                let (Some(&first), Some(&last)) = (covered.first(), covered.last()) else {
                    continue;
                };
                if first < free_from {
                    continue;
                }
                let ty = ner_type(m.kind, m.demonym);
                for (k, i) in (first..=last).enumerate() {
                    predicted[i] = format!("{}-{ty}", if k == 0 { "B" } else { "I" });
                }
                free_from = last + 1;
            }
            scores.add(&chunks(&sent.tags), &chunks(&predicted));
        }
    }
    scores.finish();
    Ok(NerReport {
        file: path.display().to_string(),
        recognizer: "rules".into(),
        documents: docs.len(),
        sentences: n_sent,
        tokens: n_tok,
        seconds,
        tokens_per_second: if seconds > 0.0 {
            n_tok as f64 / seconds
        } else {
            0.0
        },
        overall: scores.overall,
        by_type: scores.by_type,
    })
}

/// `sitrep eval-ner`: scores the chosen recognizer and prints the report.
///
/// # Errors
/// Unreadable data or model, or standard output closed with an error.
pub fn command(cfg: &Config, args: &crate::cli::EvalNerArgs) -> Result<(), NerEvalError> {
    let report = if args.recognizer == "rules" {
        evaluate(&EntityRecognizer::rules_only(&cfg.lexicons), &args.file)?
    } else if args.recognizer == "extract" {
        let mut r = evaluate(&EntityRecognizer::new(&cfg.lexicons), &args.file)?;
        r.recognizer = "extract".into();
        r
    } else {
        let loaded;
        let model = match &args.model {
            Some(path) => {
                loaded = NerModel::load(path).map_err(|source| NerEvalError::Model {
                    path: path.clone(),
                    source,
                })?;
                &loaded
            }
            None => cfg.lexicons.ner.as_ref(),
        };
        let mut lines = String::new();
        let report = evaluate_model_with(model, &args.file, |s, tags| {
            if args.predictions.is_some() {
                for ((tok, gold), pred) in s.tokens.iter().zip(&s.tags).zip(iob2(tags)) {
                    lines.push_str(&format!("{tok} {gold} {pred}\n"));
                }
                lines.push('\n');
            }
        })?;
        if let Some(path) = &args.predictions {
            std::fs::write(path, lines)?;
        }
        report
    };
    let text = if args.json {
        serde_json::to_string_pretty(&report)?
    } else {
        render(&report)
    };
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// BILOU tags written as IOB2 (`U-` → `B-`, `L-` → `I-`), as conlleval and the data use.
fn iob2(tags: &[crate::ner::Tag]) -> impl Iterator<Item = String> + '_ {
    tags.iter().map(|&t| {
        let name = crate::ner::tag_name(t);
        match name.split_once('-') {
            Some(("U", ty)) => format!("B-{ty}"),
            Some(("L", ty)) => format!("I-{ty}"),
            _ => name.to_string(),
        }
    })
}

/// Gives every mention the kind its document supports best, as the situation does for an
/// entity: a surname takes its full name's kind through its link, and a name typed once
/// ("Gen. Ana Ruiz") types its other mentions ("Ana Ruiz said").
fn document_kinds(mentions: &mut [crate::stages::extract::Mention]) {
    let mut best: std::collections::HashMap<String, (u8, EntityKind)> =
        std::collections::HashMap::new();
    for m in mentions.iter() {
        if m.demonym {
            continue;
        }
        let e = best.entry(m.key.clone()).or_insert((m.weight, m.kind));
        if m.weight > e.0 {
            *e = (m.weight, m.kind);
        }
    }
    let linked: Vec<Option<EntityKind>> = mentions
        .iter()
        .map(|m| m.link.and_then(|j| mentions.get(j)).map(|t| t.kind))
        .collect();
    for (m, link) in mentions.iter_mut().zip(linked) {
        if m.demonym {
            continue;
        }
        if let Some(k) = link {
            m.kind = k;
        } else if let Some(&(_, k)) = best.get(&m.key) {
            m.kind = k;
        }
    }
}

/// A report made of a document's sentences, tokens joined by single spaces.
fn document_report(doc: &[conll::Sentence]) -> Report {
    let mut original = String::new();
    let mut sentences = Vec::with_capacity(doc.len());
    for s in doc {
        let text = s.tokens.join(" ");
        let start = original.len();
        original.push_str(&text);
        sentences.push(Sentence {
            start,
            end: original.len(),
            text,
        });
        original.push('\n');
    }
    Report {
        id: String::new(),
        fingerprint: 0,
        path: PathBuf::from("conll"),
        original,
        meta: Metadata::default(),
        published_at: OffsetDateTime::UNIX_EPOCH,
        received_at: OffsetDateTime::UNIX_EPOCH,
        modified: None,
        raw_len: 0,
        sentences,
        has_title_sentence: false,
        headings: Vec::new(),
        unfinished: None,
    }
}

/// The report as a table, for people.
pub fn render(r: &NerReport) -> String {
    let mut out = format!(
        "{} ({}): {} documents, {} sentences, {} tokens, {:.0} tokens/s\n{:<8} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7}\n",
        r.file, r.recognizer, r.documents, r.sentences, r.tokens, r.tokens_per_second,
        "type", "gold", "found", "correct", "precision", "recall", "F1"
    );
    let row = |name: &str, s: &Score| {
        format!(
            "{:<8} {:>7} {:>7} {:>7} {:>9.2} {:>7.2} {:>7.2}\n",
            name,
            s.gold,
            s.predicted,
            s.correct,
            100.0 * s.precision,
            100.0 * s.recall,
            100.0 * s.f1
        )
    };
    for (ty, s) in &r.by_type {
        out.push_str(&row(ty, s));
    }
    out.push_str(&row("overall", &r.overall));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_mentions_map_onto_conll_types() {
        assert_eq!(ner_type(EntityKind::Facility, false), "LOC");
        assert_eq!(ner_type(EntityKind::Place, true), "MISC");
        assert_eq!(ner_type(EntityKind::Other, false), "MISC");
    }
}
