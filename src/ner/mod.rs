//! A trained named-entity tagger: people, places, organizations and other names (the
//! CoNLL-2003 types PER, LOC, ORG and MISC) found by an averaged perceptron over hashed
//! features with Viterbi decoding.
//!
//! The rule recognizer of the extract stage finds capitalized spans well but cannot tell a
//! footballer from a company or a county without a title or a head word; a tagger trained on
//! labelled news copy can. The design is the classic one for newswire NER because it is both
//! accurate and fast: a first-order sequence model (BILOU tags, so a one-word name has its own
//! tag), features of the word, its shape, prefixes and suffixes, its neighbours, word clusters
//! learnt from unlabelled news text, membership in name lists, and what the same document said
//! about the word earlier. Features are hashed into a fixed table, so tagging allocates no
//! strings and the model has a fixed, compact size.
//!
//! * [`conll`]: reading CoNLL-2003 files and scoring chunks as `conlleval` does.
//! * [`tokenize`]: wire text to CoNLL-like tokens with byte offsets.
//! * [`features`]: the feature templates, shared by training and tagging.
//! * [`model`]: the weights, clusters and name lists, and their versioned, checksummed file.
//! * [`tagger`]: Viterbi decoding of a document.
//! * [`clusters`]: word clusters from unlabelled text.
//! * [`train`]: the averaged perceptron (`sitrep train-ner`).

pub mod clusters;
pub mod conll;
pub mod features;
pub mod model;
pub mod tagger;
pub mod tokenize;
pub mod train;

pub use model::{ModelError, NameWordDrift, NerModel};
pub use tagger::{EntitySpan, Tagger};

/// The entity types of CoNLL-2003.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NerType {
    Per,
    Loc,
    Org,
    Misc,
}

impl NerType {
    pub const ALL: [NerType; 4] = [NerType::Per, NerType::Loc, NerType::Org, NerType::Misc];

    pub fn as_str(self) -> &'static str {
        match self {
            NerType::Per => "PER",
            NerType::Loc => "LOC",
            NerType::Org => "ORG",
            NerType::Misc => "MISC",
        }
    }

    pub fn parse(s: &str) -> Option<NerType> {
        match s {
            "PER" => Some(NerType::Per),
            "LOC" => Some(NerType::Loc),
            "ORG" => Some(NerType::Org),
            "MISC" => Some(NerType::Misc),
            _ => None,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Number of tags: `O`, then `B`, `I`, `L`, `U` for each of the four types.
pub const NTAGS: usize = 17;

/// A tag: 0 is `O`; `1 + 4 * type + part` with part 0 = B, 1 = I, 2 = L, 3 = U.
pub type Tag = u8;

pub const O: Tag = 0;

/// The parts of a BILOU tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Begin,
    Inside,
    Last,
    Unit,
}

pub fn tag(ty: NerType, part: Part) -> Tag {
    1 + 4 * ty.index() as u8 + part as u8
}

/// Type and part of a tag (`None` for `O`).
pub fn split_tag(t: Tag) -> Option<(NerType, Part)> {
    if t == O || t as usize >= NTAGS {
        return None;
    }
    let k = t - 1;
    let ty = NerType::ALL[(k / 4) as usize];
    let part = match k % 4 {
        0 => Part::Begin,
        1 => Part::Inside,
        2 => Part::Last,
        _ => Part::Unit,
    };
    Some((ty, part))
}

/// Whether tag `b` may follow tag `a` in a well-formed BILOU sequence (`a = None`: start).
pub fn allowed(a: Option<Tag>, b: Tag) -> bool {
    let open = a
        .and_then(split_tag)
        .filter(|(_, p)| matches!(p, Part::Begin | Part::Inside));
    match (open, split_tag(b)) {
        (Some((ty, _)), Some((ty2, p))) => ty == ty2 && matches!(p, Part::Inside | Part::Last),
        (Some(_), None) => false,
        (None, Some((_, p))) => matches!(p, Part::Begin | Part::Unit),
        (None, None) => true,
    }
}

/// Whether a sequence may end on `t`.
pub fn may_end(t: Tag) -> bool {
    !matches!(split_tag(t), Some((_, Part::Begin | Part::Inside)))
}

/// The name of a tag as written in tag sequences (`O`, `B-PER`, `U-LOC`, ...).
pub fn tag_name(t: Tag) -> &'static str {
    const NAMES: [&str; NTAGS] = [
        "O", "B-PER", "I-PER", "L-PER", "U-PER", "B-LOC", "I-LOC", "L-LOC", "U-LOC", "B-ORG",
        "I-ORG", "L-ORG", "U-ORG", "B-MISC", "I-MISC", "L-MISC", "U-MISC",
    ];
    NAMES.get(t as usize).copied().unwrap_or("O")
}

/// BILOU tags of a sentence's spans `(type, start, end)`, end exclusive.
pub fn spans_to_tags(n: usize, spans: &[(NerType, usize, usize)]) -> Vec<Tag> {
    let mut tags = vec![O; n];
    for &(ty, s, e) in spans {
        if e <= s || e > n {
            continue;
        }
        if e - s == 1 {
            tags[s] = tag(ty, Part::Unit);
        } else {
            tags[s] = tag(ty, Part::Begin);
            for t in &mut tags[s + 1..e - 1] {
                *t = tag(ty, Part::Inside);
            }
            tags[e - 1] = tag(ty, Part::Last);
        }
    }
    tags
}

/// Spans `(type, start, end)` of a BILOU tag sequence. Decoding only produces well-formed
/// sequences; a stray `I`/`L` is read leniently as continuing or opening a span.
pub fn tags_to_spans(tags: &[Tag]) -> Vec<(NerType, usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(NerType, usize)> = None;
    for (i, &t) in tags.iter().enumerate() {
        match split_tag(t) {
            None => {
                if let Some((ty, s)) = open.take() {
                    out.push((ty, s, i));
                }
            }
            Some((ty, part)) => {
                if let Some((oty, s)) = open {
                    if oty != ty || matches!(part, Part::Begin | Part::Unit) {
                        out.push((oty, s, i));
                        open = None;
                    }
                }
                let start = open.map_or(i, |(_, s)| s);
                match part {
                    Part::Begin | Part::Inside => open = Some((ty, start)),
                    Part::Last | Part::Unit => {
                        out.push((ty, start, i + 1));
                        open = None;
                    }
                }
            }
        }
    }
    if let Some((ty, s)) = open {
        out.push((ty, s, tags.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilou_round_trips_spans() {
        let spans = vec![
            (NerType::Per, 0, 2),
            (NerType::Loc, 3, 4),
            (NerType::Org, 4, 7),
        ];
        let tags = spans_to_tags(8, &spans);
        assert_eq!(tags_to_spans(&tags), spans);
        for w in tags.windows(2) {
            assert!(allowed(Some(w[0]), w[1]), "{w:?}");
        }
        assert!(allowed(None, tags[0]));
        assert!(may_end(*tags.last().unwrap()));
    }

    #[test]
    fn transitions_follow_bilou() {
        let b = tag(NerType::Per, Part::Begin);
        let l = tag(NerType::Per, Part::Last);
        let lo = tag(NerType::Loc, Part::Last);
        assert!(allowed(Some(b), l));
        assert!(!allowed(Some(b), lo));
        assert!(!allowed(Some(b), O));
        assert!(!allowed(None, l));
        assert!(!may_end(b));
        for t in 0..NTAGS as u8 {
            assert!(t == O || split_tag(t).is_some());
        }
    }
}
