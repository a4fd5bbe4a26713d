//! `sitrep eval-ner`: entity recognition scored on CoNLL-2003-format data, counted as the
//! `conlleval` script counts (a chunk is right only when its type and both its ends are).
//!
//! Each CoNLL document becomes one report whose sentences are the tokens joined by single
//! spaces, so the recognizer sees a document as it sees a wire report (names confirmed by
//! later mentions, surnames after full names). Its mentions are mapped back onto the tokens
//! they cover: person → PER, place and facility → LOC, organization → ORG, anything else
//! (and nationalities such as "Russian") → MISC.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use time::OffsetDateTime;

use crate::report::{Metadata, Report, Sentence};
use crate::stages::extract::{EntityKind, EntityRecognizer};

#[derive(Debug, thiserror::Error)]
pub enum NerEvalError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected `token ... tag` columns, found {text:?}")]
    Format {
        path: PathBuf,
        line: usize,
        text: String,
    },
}

/// One CoNLL sentence: tokens and their gold tags.
#[derive(Debug, Default, Clone)]
struct GoldSentence {
    tokens: Vec<String>,
    tags: Vec<String>,
}

/// Documents (split at `-DOCSTART-`) of sentences.
fn read_conll(path: &Path) -> Result<Vec<Vec<GoldSentence>>, NerEvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| NerEvalError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut docs: Vec<Vec<GoldSentence>> = vec![Vec::new()];
    let mut cur = GoldSentence::default();
    let flush = |docs: &mut Vec<Vec<GoldSentence>>, cur: &mut GoldSentence| {
        if !cur.tokens.is_empty() {
            if let Some(d) = docs.last_mut() {
                d.push(std::mem::take(cur));
            }
        }
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() {
            flush(&mut docs, &mut cur);
            continue;
        }
        if line.starts_with("-DOCSTART-") {
            flush(&mut docs, &mut cur);
            if docs.last().is_some_and(|d| !d.is_empty()) {
                docs.push(Vec::new());
            }
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        match (cols.first(), cols.last()) {
            (Some(tok), Some(tag)) if cols.len() >= 2 => {
                cur.tokens.push((*tok).to_string());
                cur.tags.push((*tag).to_string());
            }
            _ => {
                return Err(NerEvalError::Format {
                    path: path.to_path_buf(),
                    line: n + 1,
                    text: line.to_string(),
                })
            }
        }
    }
    flush(&mut docs, &mut cur);
    docs.retain(|d| !d.is_empty());
    Ok(docs)
}

/// A chunk: type and token range, as conlleval finds them in a tag sequence.
type Chunk = (String, usize, usize);

/// Chunks of an IOB1/IOB2 tag sequence, by conlleval's start/end rules.
fn chunks(tags: &[String]) -> Vec<Chunk> {
    let split = |t: &str| -> (char, String) {
        match t.split_once('-') {
            Some((p, ty)) => (p.chars().next().unwrap_or('O'), ty.to_string()),
            None => ('O', String::new()),
        }
    };
    let mut out = Vec::new();
    let mut open: Option<(String, usize)> = None;
    let mut prev = ('O', String::new());
    for (i, t) in tags.iter().enumerate() {
        let (p, ty) = split(t);
        let starts = match p {
            'B' | 'S' => true,
            'I' | 'E' => prev.0 == 'O' || prev.0 == 'E' || prev.0 == 'S' || prev.1 != ty,
            _ => false,
        };
        let ends_prev = open.is_some() && (starts || p == 'O');
        if ends_prev {
            if let Some((oty, s)) = open.take() {
                out.push((oty, s, i));
            }
        }
        if starts {
            open = Some((ty.clone(), i));
        }
        prev = (p, ty);
    }
    if let Some((oty, s)) = open {
        out.push((oty, s, tags.len()));
    }
    out
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

/// Precision, recall and F1 of one type (or all).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Score {
    pub gold: usize,
    pub predicted: usize,
    pub correct: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Score {
    fn finish(&mut self) {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        self.precision = ratio(self.correct, self.predicted);
        self.recall = ratio(self.correct, self.gold);
        self.f1 = if self.precision + self.recall > 0.0 {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        } else {
            0.0
        };
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NerReport {
    pub file: String,
    pub documents: usize,
    pub sentences: usize,
    pub tokens: usize,
    /// Seconds spent recognizing (building the reports and mapping tags excluded).
    pub seconds: f64,
    pub tokens_per_second: f64,
    pub overall: Score,
    pub by_type: BTreeMap<String, Score>,
}

/// Scores the recognizer on a CoNLL file.
pub fn evaluate(rec: &EntityRecognizer, path: &Path) -> Result<NerReport, NerEvalError> {
    let docs = read_conll(path)?;
    let mut overall = Score::default();
    let mut by_type: BTreeMap<String, Score> = BTreeMap::new();
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
            let mut ms: Vec<_> = mentions.iter().filter(|m| m.sentence == si).collect();
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
            let gold = chunks(&sent.tags);
            let pred = chunks(&predicted);
            for c in &gold {
                overall.gold += 1;
                by_type.entry(c.0.clone()).or_default().gold += 1;
            }
            for c in &pred {
                overall.predicted += 1;
                let s = by_type.entry(c.0.clone()).or_default();
                s.predicted += 1;
                if gold.contains(c) {
                    overall.correct += 1;
                    s.correct += 1;
                }
            }
        }
    }
    overall.finish();
    by_type.values_mut().for_each(Score::finish);
    Ok(NerReport {
        file: path.display().to_string(),
        documents: docs.len(),
        sentences: n_sent,
        tokens: n_tok,
        seconds,
        tokens_per_second: if seconds > 0.0 {
            n_tok as f64 / seconds
        } else {
            0.0
        },
        overall,
        by_type,
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
fn document_report(doc: &[GoldSentence]) -> Report {
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
    }
}

/// The report as a table, for people.
pub fn render(r: &NerReport) -> String {
    let mut out = format!(
        "{}: {} documents, {} sentences, {} tokens, {:.0} tokens/s\n{:<8} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7}\n",
        r.file, r.documents, r.sentences, r.tokens, r.tokens_per_second,
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

    fn tags(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn chunks_follow_conlleval_for_iob1_and_iob2() {
        // IOB1: I- opens a chunk after O; B- splits two chunks of one type.
        assert_eq!(
            chunks(&tags("I-PER I-PER O I-LOC B-LOC I-ORG")),
            vec![
                ("PER".into(), 0, 2),
                ("LOC".into(), 3, 4),
                ("LOC".into(), 4, 5),
                ("ORG".into(), 5, 6)
            ]
        );
        assert_eq!(
            chunks(&tags("B-MISC I-MISC I-PER")),
            vec![("MISC".into(), 0, 2), ("PER".into(), 2, 3)]
        );
    }

    #[test]
    fn reads_documents_and_rejects_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.conll");
        std::fs::write(
            &p,
            "-DOCSTART- -X- -X- O\n\nAna NNP B-NP I-PER\nleft VBD B-VP O\n\n-DOCSTART- -X- O O\n\nOslo NNP B-NP I-LOC\n",
        )
        .unwrap();
        let docs = read_conll(&p).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0][0].tokens, ["Ana", "left"]);
        std::fs::write(&p, "lonely\n").unwrap();
        assert!(matches!(
            read_conll(&p),
            Err(NerEvalError::Format { line: 1, .. })
        ));
    }
}
