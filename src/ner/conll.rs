//! CoNLL-2003 files (token, POS, chunk, tag per line; blank lines between sentences;
//! `-DOCSTART-` between documents) and chunk scoring as the `conlleval` script counts it:
//! a predicted chunk is right only when its type and both its ends are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Errors reading a CoNLL file.
#[derive(Debug, thiserror::Error)]
pub enum ConllError {
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

/// One sentence: tokens and their gold tags (IOB1 or IOB2, as written).
#[derive(Debug, Default, Clone)]
pub struct Sentence {
    pub tokens: Vec<String>,
    pub tags: Vec<String>,
}

/// A document: its sentences.
pub type Document = Vec<Sentence>;

/// Reads a CoNLL file into documents (split at `-DOCSTART-`).
///
/// # Errors
/// An unreadable file, or a line with fewer than two columns.
pub fn read(path: &Path) -> Result<Vec<Document>, ConllError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConllError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text).map_err(|(line, text)| ConllError::Format {
        path: path.to_path_buf(),
        line,
        text,
    })
}

/// Parses CoNLL text; on a bad line, its number (from 1) and text.
pub fn parse(text: &str) -> Result<Vec<Document>, (usize, String)> {
    let mut docs: Vec<Document> = vec![Vec::new()];
    let mut cur = Sentence::default();
    let flush = |docs: &mut Vec<Document>, cur: &mut Sentence| {
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
        let mut cols = line.split_whitespace();
        let first = cols.next();
        let last = cols.next_back();
        match (first, last) {
            (Some(tok), Some(tag)) => {
                cur.tokens.push(tok.to_string());
                cur.tags.push(tag.to_string());
            }
            _ => return Err((n + 1, line.to_string())),
        }
    }
    flush(&mut docs, &mut cur);
    docs.retain(|d| !d.is_empty());
    Ok(docs)
}

/// A chunk: type and token range, as conlleval finds them in a tag sequence.
pub type Chunk = (String, usize, usize);

/// Chunks of an IOB1/IOB2/BILOU tag sequence, by conlleval's start/end rules.
pub fn chunks<S: AsRef<str>>(tags: &[S]) -> Vec<Chunk> {
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
        let (p, ty) = split(t.as_ref());
        let starts = match p {
            'B' | 'S' | 'U' => true,
            'I' | 'E' | 'L' => {
                prev.0 == 'O'
                    || prev.0 == 'E'
                    || prev.0 == 'S'
                    || prev.0 == 'L'
                    || prev.0 == 'U'
                    || prev.1 != ty
            }
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
    /// Fills precision, recall and F1 from the counts.
    pub fn finish(&mut self) {
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

/// Chunk counts over many sentences, overall and per type.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scores {
    pub overall: Score,
    pub by_type: BTreeMap<String, Score>,
}

impl Scores {
    /// Counts one sentence's gold and predicted chunks.
    pub fn add(&mut self, gold: &[Chunk], predicted: &[Chunk]) {
        for c in gold {
            self.overall.gold += 1;
            self.by_type.entry(c.0.clone()).or_default().gold += 1;
        }
        for c in predicted {
            self.overall.predicted += 1;
            let s = self.by_type.entry(c.0.clone()).or_default();
            s.predicted += 1;
            if gold.contains(c) {
                self.overall.correct += 1;
                s.correct += 1;
            }
        }
    }

    pub fn finish(&mut self) {
        self.overall.finish();
        self.by_type.values_mut().for_each(Score::finish);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn chunks_follow_conlleval_for_iob1_iob2_and_bilou() {
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
        assert_eq!(
            chunks(&tags("U-PER B-LOC L-LOC U-LOC")),
            vec![
                ("PER".into(), 0, 1),
                ("LOC".into(), 1, 3),
                ("LOC".into(), 3, 4)
            ]
        );
    }

    #[test]
    fn reads_documents_and_rejects_bad_lines() {
        let docs = parse(
            "-DOCSTART- -X- -X- O\n\nAna NNP B-NP I-PER\nleft VBD B-VP O\n\n-DOCSTART- -X- O O\n\nOslo NNP B-NP I-LOC\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0][0].tokens, ["Ana", "left"]);
        assert_eq!(parse("lonely\n").unwrap_err().0, 1);
    }

    #[test]
    fn scores_count_exact_chunks() {
        let mut s = Scores::default();
        s.add(
            &chunks(&tags("B-PER I-PER O B-LOC")),
            &chunks(&tags("B-PER I-PER O B-ORG")),
        );
        s.finish();
        assert_eq!(s.overall.correct, 1);
        assert!((s.overall.f1 - 0.5).abs() < 1e-9);
        assert_eq!(s.by_type["ORG"].predicted, 1);
    }
}
