//! Tagging: features of every token, emission scores from the weight rows, and the best
//! well-formed BILOU sequence of each sentence by Viterbi.
//!
//! A document is tagged sentence by sentence in order, so a sentence can use what the
//! document said before (the label a word got earlier), exactly as in training.

use std::sync::OnceLock;

use super::features::{
    doc_keys, gazetteer_matches, is_caps_sentence, sentence_keys, token_info, DocContext, DocLabel,
    IdMap, Scratch, TokInfo, F_CAP,
};
use super::model::NerModel;
use super::{allowed, may_end, split_tag, tag, tags_to_spans, NerType, Part, Tag, NTAGS};

/// An entity found by the tagger: type and token range (end exclusive) in its sentence,
/// with how much better the model scored it than the alternatives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntitySpan {
    pub ty: NerType,
    pub start: usize,
    pub end: usize,
    /// Score of this type over the best other type for the same words (model units).
    pub type_margin: f32,
    /// Score of the name over no name at all for the same words (model units).
    pub name_margin: f32,
}

/// The allowed predecessors of every tag (index `NTAGS` is the sentence start).
struct Lattice {
    preds: [[u8; NTAGS + 1]; NTAGS],
    npreds: [usize; NTAGS],
    end_ok: [bool; NTAGS],
}

fn lattice() -> &'static Lattice {
    static L: OnceLock<Lattice> = OnceLock::new();
    L.get_or_init(|| {
        let mut l = Lattice {
            preds: [[0; NTAGS + 1]; NTAGS],
            npreds: [0; NTAGS],
            end_ok: [false; NTAGS],
        };
        for t in 0..NTAGS {
            for p in 0..=NTAGS {
                let prev = (p < NTAGS).then_some(p as Tag);
                if allowed(prev, t as Tag) {
                    l.preds[t][l.npreds[t]] = p as u8;
                    l.npreds[t] += 1;
                }
            }
            l.end_ok[t] = may_end(t as Tag);
        }
        l
    })
}

/// The best well-formed tag sequence for the emission scores.
pub(crate) fn viterbi(
    emit: &[[i32; NTAGS]],
    trans: &[[i32; NTAGS]; NTAGS + 1],
    back: &mut Vec<[u8; NTAGS]>,
    out: &mut Vec<Tag>,
) {
    out.clear();
    let n = emit.len();
    if n == 0 {
        return;
    }
    let l = lattice();
    const NEG: i64 = i64::MIN / 4;
    back.clear();
    back.resize(n, [0; NTAGS]);
    let mut score = [NEG; NTAGS];
    for t in 0..NTAGS {
        if l.preds[t][..l.npreds[t]].contains(&(NTAGS as u8)) {
            score[t] = i64::from(trans[NTAGS][t]) + i64::from(emit[0][t]);
        }
    }
    for i in 1..n {
        let mut next = [NEG; NTAGS];
        for t in 0..NTAGS {
            let mut best = NEG;
            let mut arg = 0u8;
            for &p in &l.preds[t][..l.npreds[t]] {
                if p as usize == NTAGS {
                    continue;
                }
                let s = score[p as usize] + i64::from(trans[p as usize][t]);
                if s > best {
                    best = s;
                    arg = p;
                }
            }
            next[t] = best + i64::from(emit[i][t]);
            back[i][t] = arg;
        }
        score = next;
    }
    let mut best = 0;
    let mut best_score = NEG;
    for (t, (&s, &ok)) in score.iter().zip(&l.end_ok).enumerate() {
        if ok && s > best_score {
            best_score = s;
            best = t;
        }
    }
    out.resize(n, 0);
    out[n - 1] = best as Tag;
    for i in (1..n).rev() {
        out[i - 1] = back[i][out[i] as usize];
    }
}

/// The document label of a tag: 0 outside a name, else 1 + the type's index.
pub(crate) fn doc_label(t: Tag) -> DocLabel {
    split_tag(t).map_or(0, |(ty, _)| 1 + ty as u8)
}

/// Tags documents with one model. Holds scratch buffers, so keep one per thread and reuse
/// it; it allocates nothing per token once warm.
#[derive(Debug)]
pub struct Tagger<'m> {
    model: &'m NerModel,
    scratch: Scratch,
    infos: Vec<TokInfo>,
    starts: Vec<usize>,
    gaz: Vec<(u32, u8, u8)>,
    keys: Vec<u64>,
    offsets: Vec<u32>,
    dyn_keys: Vec<u64>,
    emit: Vec<[i32; NTAGS]>,
    back: Vec<[u8; NTAGS]>,
    doc: DocContext,
    prev: IdMap<DocLabel>,
    tags: Vec<Tag>,
}

impl<'m> Tagger<'m> {
    pub fn new(model: &'m NerModel) -> Self {
        Self {
            model,
            scratch: Scratch::default(),
            infos: Vec::new(),
            starts: Vec::new(),
            gaz: Vec::new(),
            keys: Vec::new(),
            offsets: Vec::new(),
            dyn_keys: Vec::new(),
            emit: Vec::new(),
            back: Vec::new(),
            doc: DocContext::default(),
            prev: IdMap::default(),
            tags: Vec::new(),
        }
    }

    /// Tags one document (its sentences of tokens, in order): one tag per token.
    pub fn tag_document<S: AsRef<str>, T: AsRef<[S]>>(
        &mut self,
        doc: &[T],
        out: &mut Vec<Vec<Tag>>,
    ) {
        out.clear();
        self.tag_document_with(doc, &mut |tags, _, _, _| out.push(tags.to_vec()));
    }

    /// Tags one document, handing each sentence's tags, emission scores, transitions and
    /// weight scale to `each`.
    #[allow(clippy::type_complexity)]
    fn tag_document_with<S: AsRef<str>, T: AsRef<[S]>>(
        &mut self,
        doc: &[T],
        each: &mut dyn FnMut(&[Tag], &[[i32; NTAGS]], &[[i32; NTAGS]; NTAGS + 1], f32),
    ) {
        let lex = &self.model.lexicon;
        self.infos.clear();
        self.starts.clear();
        self.doc.clear();
        self.prev.clear();
        for s in doc {
            self.starts.push(self.infos.len());
            for tok in s.as_ref() {
                let info = token_info(tok.as_ref(), lex, &mut self.scratch);
                self.infos.push(info);
            }
        }
        self.starts.push(self.infos.len());
        for w in self.starts.windows(2) {
            self.doc.add_sentence(&self.infos[w[0]..w[1]]);
        }
        let weights = &self.model.weights;
        for si in 0..doc.len() {
            let infos = &self.infos[self.starts[si]..self.starts[si + 1]];
            gazetteer_matches(infos, lex, &mut self.gaz);
            sentence_keys(
                infos,
                &self.gaz,
                &self.doc,
                &mut self.keys,
                &mut self.offsets,
            );
            let caps = is_caps_sentence(infos);
            self.emit.clear();
            for (i, t) in infos.iter().enumerate() {
                let mut e = [0i32; NTAGS];
                let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
                for &k in &self.keys[a..b] {
                    add_row(&mut e, weights.row(k));
                }
                if t.flags & F_CAP != 0 {
                    if let Some(&label) = self.prev.get(&t.lower) {
                        self.dyn_keys.clear();
                        doc_keys(t, i, caps, label, &mut self.dyn_keys);
                        for &k in &self.dyn_keys {
                            add_row(&mut e, weights.row(k));
                        }
                    }
                }
                self.emit.push(e);
            }
            viterbi(&self.emit, &weights.trans, &mut self.back, &mut self.tags);
            for (t, &tag) in infos.iter().zip(&self.tags) {
                if t.flags & F_CAP != 0 {
                    self.prev.insert(t.lower, doc_label(tag));
                }
            }
            each(
                &self.tags,
                &self.emit,
                &weights.trans,
                self.model.info.scale,
            );
        }
    }

    /// Tags one document and returns the entities of each sentence, with their margins.
    pub fn entities<S: AsRef<str>, T: AsRef<[S]>>(&mut self, doc: &[T]) -> Vec<Vec<EntitySpan>> {
        let mut out = Vec::with_capacity(doc.len());
        self.tag_document_with(doc, &mut |tags, emit, trans, scale| {
            out.push(
                tags_to_spans(tags)
                    .into_iter()
                    .map(|(ty, start, end)| {
                        let (tm, nm) = margins(tags, emit, trans, ty, start, end);
                        EntitySpan {
                            ty,
                            start,
                            end,
                            type_margin: tm as f32 * scale,
                            name_margin: nm as f32 * scale,
                        }
                    })
                    .collect(),
            );
        });
        out
    }
}

/// The path score of `tags[start..end]` relabelled as `ty` (or as no name), with the
/// transitions into and out of the span.
fn span_score(
    tags: &[Tag],
    emit: &[[i32; NTAGS]],
    trans: &[[i32; NTAGS]; NTAGS + 1],
    ty: Option<NerType>,
    start: usize,
    end: usize,
) -> i64 {
    let label = |i: usize| -> Tag {
        match ty {
            None => super::O,
            Some(ty) => {
                let part = if end - start == 1 {
                    Part::Unit
                } else if i == start {
                    Part::Begin
                } else if i + 1 == end {
                    Part::Last
                } else {
                    Part::Inside
                };
                tag(ty, part)
            }
        }
    };
    let mut prev = if start == 0 {
        NTAGS
    } else {
        tags[start - 1] as usize
    };
    let mut score = 0i64;
    for (i, e) in emit.iter().enumerate().take(end).skip(start) {
        let t = label(i);
        score += i64::from(trans[prev][t as usize]) + i64::from(e[t as usize]);
        prev = t as usize;
    }
    if let Some(&next) = tags.get(end) {
        score += i64::from(trans[prev][next as usize]);
    }
    score
}

/// The type margin and the name margin of a decoded span (see [`EntitySpan`]).
fn margins(
    tags: &[Tag],
    emit: &[[i32; NTAGS]],
    trans: &[[i32; NTAGS]; NTAGS + 1],
    ty: NerType,
    start: usize,
    end: usize,
) -> (i64, i64) {
    let own = span_score(tags, emit, trans, Some(ty), start, end);
    let other = NerType::ALL
        .iter()
        .filter(|&&t| t != ty)
        .map(|&t| span_score(tags, emit, trans, Some(t), start, end))
        .max()
        .unwrap_or(i64::MIN);
    let none = span_score(tags, emit, trans, None, start, end);
    (own - other, own - none)
}

#[inline]
fn add_row(e: &mut [i32; NTAGS], row: &[i16; NTAGS]) {
    for (a, &w) in e.iter_mut().zip(row) {
        *a += i32::from(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ner::O;

    #[test]
    fn viterbi_respects_bilou() {
        let trans = [[0; NTAGS]; NTAGS + 1];
        // Emissions favour B-PER then O, which is not well formed: the decoder must pick a
        // legal sequence.
        let mut e0 = [0; NTAGS];
        e0[tag(NerType::Per, Part::Begin) as usize] = 10;
        e0[tag(NerType::Per, Part::Unit) as usize] = 6;
        let mut e1 = [0; NTAGS];
        e1[O as usize] = 10;
        let mut out = Vec::new();
        viterbi(&[e0, e1], &trans, &mut Vec::new(), &mut out);
        assert_eq!(out, vec![tag(NerType::Per, Part::Unit), O]);
        let mut e1b = [0; NTAGS];
        e1b[tag(NerType::Per, Part::Last) as usize] = 3;
        viterbi(&[e0, e1b], &trans, &mut Vec::new(), &mut out);
        assert_eq!(
            out,
            vec![
                tag(NerType::Per, Part::Begin),
                tag(NerType::Per, Part::Last)
            ]
        );
    }
}
