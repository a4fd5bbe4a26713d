//! Tagging: features of every token, emission scores from the weight rows, and the best
//! well-formed BILOU sequence of each sentence by Viterbi.
//!
//! A document is tagged sentence by sentence in order, so a sentence can use what the
//! document said before (the label a word got earlier), exactly as in training.

use super::features::{
    boundary_keys, context_keys, doc_keys, gazetteer_matches, is_caps_sentence, token_info,
    word_keys, DocContext, DocFacts, DocLabel, IdMap, Scratch, TokCore, TokenFacts, F_ALPHA, F_CAP,
    F_DIGIT, F_LOWER, ROLES, ROLE_M1, ROLE_M2, ROLE_P1, ROLE_P2, ROLE_SELF,
};
use super::model::NerModel;
use super::{may_end, split_tag, tag, tags_to_spans, NerType, Part, Tag, NTAGS};

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

/// Tags after which a name is closed: `O`, and `L`, `U` of each type. Any of them may be
/// followed by an opening tag, and only they may end a sentence.
const CLOSED: [usize; 9] = [0, 3, 4, 7, 8, 11, 12, 15, 16];
/// Tags that may follow a closed one (or start a sentence): `O`, and `B`, `U` of each type.
const OPENING: [usize; 9] = [0, 1, 4, 5, 8, 9, 12, 13, 16];

/// Scratch space of [`viterbi`], kept between sentences so that decoding allocates
/// nothing once warm.
#[derive(Debug, Default)]
pub(crate) struct Lattice {
    /// Best predecessor of each inside tag at each step, one bit per type and tag: bit
    /// `2y` for `I`, `2y + 1` for `L` of type `y`; set when it is that type's `I`, clear
    /// when its `B`.
    back: Vec<u8>,
    /// Scores of the closed tags before each step: an opening tag's best predecessor is
    /// found again from them, and only along the best path.
    closed: Vec<[i64; 9]>,
    /// The tags of one run of [`decode`].
    run: Vec<Tag>,
}

/// A score no path can come back from (and that adding any transition cannot overflow).
const NEVER: i64 = i64::MIN / 4;

/// The best well-formed tag sequence for the emission scores.
///
/// BILOU makes the lattice sparse: an opening tag takes its best predecessor among the
/// nine closed tags, and `I`/`L` of a type among `B`/`I` of that type, so a step is about
/// a hundred additions instead of 17 × 17. Most of those hundred are the opening tags'
/// nine by nine, and most of them cannot matter: a closed tag that trails the best closed
/// tag by more than the transitions can make up (the largest difference between two
/// closed tags' transitions into one opening tag) never gives an opening tag its best
/// score, so it is skipped, exactly. In running text that leaves one closed tag in most
/// steps. The state is kept as the three groups the steps read (closed tags, and `B` and
/// `I` of each type), so a step gathers nothing. Path scores are `i64`: a step adds at
/// most a few million, so they cannot overflow in any sentence, and need no shifting or
/// clamping between steps. Ties go to the lowest tag, as in training.
pub(crate) fn viterbi(
    emit: &[[i32; NTAGS]],
    trans: &[[i32; NTAGS]; NTAGS + 1],
    lattice: &mut Lattice,
    out: &mut Vec<Tag>,
) {
    viterbi_between(emit, &Steps::new(trans), NTAGS, false, lattice, out);
}

/// What every step of [`viterbi`] reads from the transitions, worked out once per
/// document rather than once per run of tokens.
pub(crate) struct Steps<'t> {
    trans: &'t [[i32; NTAGS]; NTAGS + 1],
    /// Transitions from each closed tag into the opening ones, row by closed tag.
    from_closed: [[i64; 9]; 9],
    /// How far a closed tag may trail the best one and still give some opening tag its
    /// best score.
    reach: i64,
    /// Inside transitions of each type: B→I, I→I, B→L, I→L.
    inside: [[i64; 4]; 4],
}

impl<'t> Steps<'t> {
    pub(crate) fn new(trans: &'t [[i32; NTAGS]; NTAGS + 1]) -> Self {
        let mut from_closed = [[0i64; 9]; 9];
        for (j, &p) in CLOSED.iter().enumerate() {
            for (k, &t) in OPENING.iter().enumerate() {
                from_closed[j][k] = i64::from(trans[p][t]);
            }
        }
        let mut reach = 0;
        for k in 0..9 {
            let (mut lo, mut hi) = (i64::MAX, i64::MIN);
            for row in &from_closed {
                lo = lo.min(row[k]);
                hi = hi.max(row[k]);
            }
            reach = reach.max(hi - lo);
        }
        let inside = std::array::from_fn(|y| {
            let (b, i, l) = (1 + 4 * y, 2 + 4 * y, 3 + 4 * y);
            [trans[b][i], trans[i][i], trans[b][l], trans[i][l]].map(i64::from)
        });
        Self {
            trans,
            from_closed,
            reach,
            inside,
        }
    }
}

/// [`viterbi`] for a run of tokens that follows `before` (a tag, or `NTAGS` for the start
/// of the sentence) and, when `then_o`, is followed by an `O`.
fn viterbi_between(
    emit: &[[i32; NTAGS]],
    steps: &Steps,
    before: usize,
    then_o: bool,
    lattice: &mut Lattice,
    out: &mut Vec<Tag>,
) {
    debug_assert!(before == NTAGS || may_end(before as Tag));
    debug_assert!(CLOSED.iter().all(|&t| may_end(t as Tag)));
    out.clear();
    let n = emit.len();
    if n == 0 {
        return;
    }
    let Steps {
        trans,
        from_closed,
        reach,
        inside,
    } = steps;
    let (trans, reach) = (*trans, *reach);
    // Step 0 has no predecessors; its entries are never read.
    lattice.back.clear();
    lattice.back.push(0);
    lattice.closed.clear();
    lattice.closed.push([0; 9]);
    // Closed tags in `CLOSED` order: `O`, then `L` and `U` of each type. Tags that cannot
    // open a sentence start at `NEVER`.
    let start = |t: usize| i64::from(trans[before][t]) + i64::from(emit[0][t]);
    let mut closed = [NEVER; 9];
    closed[0] = start(0);
    let mut begin = [0i64; 4];
    for y in 0..4 {
        closed[2 + 2 * y] = start(4 + 4 * y);
        begin[y] = start(1 + 4 * y);
    }
    let mut within = [NEVER; 4];
    for e in &emit[1..] {
        lattice.closed.push(closed);
        let (mut top, mut arg) = (closed[0], 0);
        for (j, &s) in closed.iter().enumerate().skip(1) {
            if s > top {
                (top, arg) = (s, j);
            }
        }
        // Below the floor, `s + w` is smaller than the best closed tag's sum for every
        // opening tag: skipping it changes no maximum.
        let floor = top - reach;
        let mut best = from_closed[arg].map(|w| top + w);
        for (j, (row, &s)) in from_closed.iter().zip(&closed).enumerate() {
            if s >= floor && j != arg {
                for (b, &w) in best.iter_mut().zip(row) {
                    *b = (*b).max(s + w);
                }
            }
        }
        let mut bits = 0u8;
        let mut next = [0i64; 9];
        next[0] = best[0] + i64::from(e[0]);
        for y in 0..4 {
            let [bi, ii, bl, il] = inside[y];
            let (b, i) = (begin[y], within[y]);
            // A tie goes to `B`, the lower tag.
            let (to_i, from_i) = max_arg(b + bi, i + ii);
            let (to_l, from_l) = max_arg(b + bl, i + il);
            bits |= (u8::from(from_i) << (2 * y)) | (u8::from(from_l) << (2 * y + 1));
            within[y] = to_i + i64::from(e[2 + 4 * y]);
            next[1 + 2 * y] = to_l + i64::from(e[3 + 4 * y]);
            next[2 + 2 * y] = best[2 + 2 * y] + i64::from(e[4 + 4 * y]);
            begin[y] = best[1 + 2 * y] + i64::from(e[1 + 4 * y]);
        }
        lattice.back.push(bits);
        closed = next;
    }
    if then_o {
        for (s, &t) in closed.iter_mut().zip(&CLOSED) {
            *s += i64::from(trans[t][0]);
        }
    }
    let mut best = 0;
    for j in 1..9 {
        if closed[j] > closed[best] {
            best = j;
        }
    }
    out.resize(n, 0);
    out[n - 1] = CLOSED[best] as Tag;
    for i in (1..n).rev() {
        let t = usize::from(out[i]);
        let (y, part) = (t.wrapping_sub(1) / 4, t.wrapping_sub(1) % 4);
        out[i - 1] = if t != 0 && (part == 1 || part == 2) {
            // `I` or `L`: from the same type's `B` or `I`, as the step recorded.
            let from_i = (lattice.back[i] >> (2 * y + part - 1)) & 1 != 0;
            (1 + 4 * y + usize::from(from_i)) as Tag
        } else {
            // An opening tag: the first closed tag with the best score, as a strict
            // comparison in the forward pass would have kept.
            let k = if t == 0 { 0 } else { 1 + 2 * y + part / 3 };
            let closed = &lattice.closed[i];
            let (mut arg, mut top) = (0, closed[0] + from_closed[0][k]);
            for j in 1..9 {
                let s = closed[j] + from_closed[j][k];
                if s > top {
                    (arg, top) = (j, s);
                }
            }
            CLOSED[arg] as Tag
        };
    }
}

/// Marks the tokens that take no part in the search for names.
///
/// Names are written with capitals, and the words without one that they hold are of two
/// kinds: particles next to a capitalised word or to another particle (`van der Walt`,
/// `McDonald 's`, the `of` of `Bank of England`), which the model lists
/// ([`Lexicon::name_words`]), and any word or sign between two such anchors (the `the` of
/// `Lord of the Rings`, the `&` of `Procter & Gamble`). So a token is plain, `O` without
/// being scored, when it has no capital letter and no digit, is no particle joined to a
/// capitalised word, and does not stand between two tokens that are either; a sentence's
/// edges are neither.
///
/// In running text most tokens are plain, and most of the others are the words and signs
/// at the edges of names and numbers (`in`, `said`, commas). Deciding them without scoring
/// saves most of the tagger's work, at the price of a handful of tags: the full search
/// gives 7 of the 32,099 plain tokens of CoNLL-2003's validation split a name tag, and 31
/// of the 730,604 of the BBC corpus (four tokens in five).
///
/// [`Lexicon::name_words`]: super::features::Lexicon::name_words
fn plain_run<T: TokenFacts>(infos: &[T], name_words: &IdMap<()>, out: &mut Vec<bool>) {
    let bare = |t: &T| {
        let flags = t.flags();
        flags & (F_CAP | F_DIGIT) == 0 && (flags & F_LOWER != 0 || flags & F_ALPHA == 0)
    };
    let particle = |t: &T| name_words.contains_key(&t.lower());
    // First the anchors: the tokens with a capital or a digit, then the particles joined
    // to one, through other particles, in either direction.
    out.clear();
    out.extend(infos.iter().map(|t| !bare(t)));
    for i in 1..out.len() {
        if !out[i] && out[i - 1] && particle(&infos[i]) {
            out[i] = true;
        }
    }
    for i in (0..out.len().saturating_sub(1)).rev() {
        if !out[i] && out[i + 1] && particle(&infos[i]) {
            out[i] = true;
        }
    }
    // Then the plain tokens: neither an anchor nor between two.
    let mut before = false;
    for i in 0..out.len() {
        let anchor = out[i];
        let after = out.get(i + 1).copied().unwrap_or(false);
        out[i] = !(anchor || before && after);
        before = anchor;
    }
}

/// The best well-formed tags of a sentence whose `plain` tokens (see [`plain_run`]) are
/// `O`: [`viterbi`] over each run of the others. An `O` cuts a BILOU sequence into
/// independent parts, so this is the best sequence with those tokens fixed to `O`.
fn decode(
    emit: &[[i32; NTAGS]],
    plain: &[bool],
    steps: &Steps,
    lattice: &mut Lattice,
    out: &mut Vec<Tag>,
) {
    out.clear();
    out.resize(emit.len(), super::O);
    let mut run = std::mem::take(&mut lattice.run);
    let mut i = 0;
    while i < emit.len() {
        if plain[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < emit.len() && !plain[i] {
            i += 1;
        }
        let before = if start == 0 { NTAGS } else { 0 };
        viterbi_between(
            &emit[start..i],
            steps,
            before,
            i < emit.len(),
            lattice,
            &mut run,
        );
        out[start..i].copy_from_slice(&run);
    }
    lattice.run = run;
}

/// The larger of two path scores, and whether it is the second (ties go to the first).
#[inline]
fn max_arg(a: i64, b: i64) -> (i64, bool) {
    let second = b > a;
    (if second { b } else { a }, second)
}

/// The document label of a tag: 0 outside a name, else 1 + the type's index.
pub(crate) fn doc_label(t: Tag) -> DocLabel {
    split_tag(t).map_or(0, |(ty, _)| 1 + ty as u8)
}

/// Per-word sums of the features that depend on one word in one role (see
/// [`super::features::ROLES`]): for a word form, its weight vector as the token itself and
/// as each neighbour. News text repeats its words (the most frequent few thousand forms
/// make most of the tokens), so most tokens cost one lookup here instead of some thirty
/// weight rows. Bounded: when full, between documents, it keeps only the words met again
/// since it last filled, as the common words make most of the hits and an entry (some
/// thirty weight rows read at random) costs far more to work out again than to keep.
#[derive(Debug, Default)]
pub struct WordCache {
    /// The model the sums were computed with.
    model: Option<u64>,
    /// Word hash → entry, the same place in `words` and `sums`.
    index: IdMap<u32>,
    /// What every token of a word needs, apart from the sums that only the tokens of
    /// possible names and their neighbours read: kept beside the sums rather than with
    /// them, so that the other tokens (most of them) touch 40 bytes of the cache instead
    /// of some 450, in an array small enough to stay in a core's cache.
    words: Vec<CachedWord>,
    sums: Vec<[[i32; NTAGS]; ROLES]>,
    /// The sums of a missing neighbour, by role.
    boundary: [[i32; NTAGS]; ROLES],
    /// The number of the document being tagged, from 1 (marks of 0 mean none).
    doc: u32,
    /// Scratch: a new word's features and their row numbers.
    keys: Vec<u64>,
    rows: Vec<u32>,
}

#[derive(Debug, Clone)]
struct CachedWord {
    /// The word's hash, its key in `index`.
    hash: u64,
    /// Whether the word was met again since the cache last filled.
    again: bool,
    /// The last document (`WordCache::doc`) that wrote this word as a lower-case token,
    /// when its hash is also its lower-case hash (see [`DocFacts`]).
    lower_doc: u32,
    core: TokCore,
}

/// Most word forms a cache keeps (about 6 MB: 40 bytes of word and 340 of sums each).
const CACHE_WORDS: usize = 1 << 14;

impl WordCache {
    /// Readies the cache for a document of `tokens` tokens tagged with `model`.
    fn prepare(&mut self, model: &NerModel, tokens: usize) {
        self.prepare_within(model, tokens, CACHE_WORDS);
    }

    /// [`Self::prepare`] for a cache of at most `limit` words.
    fn prepare_within(&mut self, model: &NerModel, tokens: usize, limit: usize) {
        let same_model = self.model == Some(model.id());
        if same_model && self.words.len() + tokens <= limit {
            return;
        }
        if same_model {
            // The words met again move to the front, in their order.
            let mut kept = 0;
            for i in 0..self.words.len() {
                if self.words[i].again {
                    self.words.swap(kept, i);
                    self.sums.swap(kept, i);
                    kept += 1;
                }
            }
            // Room for the document, and for a quarter of the cache at least: a text whose
            // words nearly all come back would otherwise fill it again at once, and each
            // fill moves every kept entry.
            if kept + tokens.max(limit / 4) > limit {
                kept = 0;
            }
            self.words.truncate(kept);
            self.sums.truncate(kept);
        } else {
            let mut keys = Vec::new();
            for (role, b) in self.boundary.iter_mut().enumerate() {
                keys.clear();
                boundary_keys(role, &mut keys);
                *b = sum_rows(model, &keys);
            }
            self.model = Some(model.id());
            self.words.clear();
            self.sums.clear();
        }
        // Filled to the brim in any long run: grown once, not by doubling.
        let room = limit.saturating_sub(self.words.len());
        self.words.reserve(room);
        self.sums.reserve(room);
        self.index.clear();
        self.index.reserve(limit);
        for (i, e) in self.words.iter_mut().enumerate() {
            e.again = false;
            self.index.insert(e.hash, i as u32);
        }
    }

    /// Numbers the next document, for the marks of its lower-case words: call it before
    /// the document's first `entry` or `mark_lower`.
    fn next_document(&mut self) {
        self.doc = match self.doc.checked_add(1) {
            Some(d) => d,
            None => {
                // Once in four billion documents: old marks must not pass for new ones.
                self.words.iter_mut().for_each(|w| w.lower_doc = 0);
                1
            }
        };
    }

    /// Marks entry `e` as written in lower case by the current document; false when the
    /// mark cannot stand for it (its hash differs from its lower-case hash).
    fn mark_lower(&mut self, e: u32) -> bool {
        let w = &mut self.words[e as usize];
        if w.hash != w.core.lower {
            return false;
        }
        w.lower_doc = self.doc;
        true
    }

    /// The entry of a token, computed on first sight.
    fn entry(&mut self, model: &NerModel, tok: &str, scratch: &mut Scratch) -> u32 {
        let h = super::features::hash_str(tok);
        if let Some(&e) = self.index.get(&h) {
            self.words[e as usize].again = true;
            return e;
        }
        let info = token_info(tok, &model.lexicon, scratch);
        // Every role's features in one batch of row lookups.
        let (keys, rows) = (&mut self.keys, &mut self.rows);
        keys.clear();
        let mut ends = [0; ROLES];
        for (role, end) in ends.iter_mut().enumerate() {
            word_keys(&info, role, keys);
            *end = keys.len();
        }
        model.weights.row_numbers(keys, rows);
        let mut sums = [[0i32; NTAGS]; ROLES];
        let mut from = 0;
        for (s, &end) in sums.iter_mut().zip(&ends) {
            for &r in &rows[from..end] {
                add_row(s, model.weights.row_at(r));
            }
            from = end;
        }
        let e = self.words.len() as u32;
        self.words.push(CachedWord {
            hash: h,
            again: false,
            lower_doc: 0,
            core: TokCore::from(&info),
        });
        self.sums.push(sums);
        self.index.insert(h, e);
        e
    }
}

/// The document facts while tagging: capitalized words in a set, lower-case words as
/// marks on their cache entries, and in the set only those a mark cannot stand for.
struct TagDoc<'a> {
    sets: &'a DocContext,
    cache: &'a WordCache,
}

impl DocFacts for TagDoc<'_> {
    fn cap_mid(&self, lower: u64) -> bool {
        self.sets.cap_mid(lower)
    }

    fn lower_seen(&self, lower: u64) -> bool {
        self.sets.lower_seen(lower)
            || self
                .cache
                .index
                .get(&lower)
                .is_some_and(|&e| self.cache.words[e as usize].lower_doc == self.cache.doc)
    }
}

fn sum_rows(model: &NerModel, keys: &[u64]) -> [i32; NTAGS] {
    let mut e = [0i32; NTAGS];
    for &k in keys {
        add_row(&mut e, model.weights.row(k));
    }
    e
}

/// Tags documents with one model. Its buffers and [`WordCache`] live in a
/// [`TaggerBuffers`], so keep one tagger per thread, or hand the buffers from one tagger to
/// the next ([`Tagger::with_buffers`], [`Tagger::into_buffers`]): once warm, tagging
/// allocates nothing per token or per document.
#[derive(Debug)]
pub struct Tagger<'m> {
    model: &'m NerModel,
    b: TaggerBuffers,
}

/// What a [`Tagger`] keeps between documents: the word cache and its scratch space.
#[derive(Debug, Default)]
pub struct TaggerBuffers {
    cache: WordCache,
    scratch: Scratch,
    /// Cache entry of every token of the document.
    slots: Vec<u32>,
    infos: Vec<TokCore>,
    starts: Vec<usize>,
    gaz: Vec<(u32, u8, u8)>,
    /// Context features of the sentence's tokens: token `i`'s end at `key_ends[i]`.
    keys: Vec<u64>,
    key_ends: Vec<usize>,
    /// Their row numbers.
    rows: Vec<u32>,
    emit: Vec<[i32; NTAGS]>,
    /// Tokens of the sentence that are left out of the name search (see [`plain_run`]).
    plain: Vec<bool>,
    lattice: Lattice,
    doc: DocContext,
    prev: IdMap<DocLabel>,
    tags: Vec<Tag>,
}

impl<'m> Tagger<'m> {
    pub fn new(model: &'m NerModel) -> Self {
        Self::with_buffers(model, TaggerBuffers::default())
    }

    /// A tagger that goes on with buffers kept from an earlier tagger (of any model: the
    /// word cache of another model is emptied first).
    pub fn with_buffers(model: &'m NerModel, b: TaggerBuffers) -> Self {
        Self { model, b }
    }

    /// The buffers, to give to the next tagger.
    pub fn into_buffers(self) -> TaggerBuffers {
        self.b
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
        let model = self.model;
        let b = &mut self.b;
        let lex = &model.lexicon;
        let tokens = doc.iter().map(|s| s.as_ref().len()).sum();
        b.cache.prepare(model, tokens);
        b.cache.next_document();
        b.slots.clear();
        b.infos.clear();
        b.starts.clear();
        b.doc.clear();
        b.prev.clear();
        for s in doc {
            b.starts.push(b.infos.len());
            for tok in s.as_ref() {
                let e = b.cache.entry(model, tok.as_ref(), &mut b.scratch);
                b.slots.push(e);
                let core = b.cache.words[e as usize].core;
                if core.flags & F_LOWER != 0 && !b.cache.mark_lower(e) {
                    b.doc.lower_seen.insert(core.lower);
                }
                b.infos.push(core);
            }
        }
        b.starts.push(b.infos.len());
        for w in b.starts.windows(2) {
            b.doc.add_cap_mid(&b.infos[w[0]..w[1]]);
        }
        let facts = TagDoc {
            sets: &b.doc,
            cache: &b.cache,
        };
        let weights = &model.weights;
        let steps = Steps::new(&weights.trans);
        for si in 0..doc.len() {
            let (from, to) = (b.starts[si], b.starts[si + 1]);
            let infos = &b.infos[from..to];
            let slots = &b.slots[from..to];
            let n = infos.len();
            gazetteer_matches(infos, lex, &mut b.gaz);
            let caps = is_caps_sentence(infos);
            let mut g = 0;
            b.emit.clear();
            // The features of the whole sentence first, their rows in one batch (see
            // `Weights::row_numbers`), then the sums.
            b.keys.clear();
            b.key_ends.clear();
            plain_run(infos, &lex.name_words, &mut b.plain);
            for (i, t) in infos.iter().enumerate() {
                if b.plain[i] {
                    b.key_ends.push(b.keys.len());
                    continue;
                }
                context_keys(infos, i, caps, &b.gaz, &mut g, &facts, &mut b.keys);
                if t.flags & F_CAP != 0 {
                    if let Some(&label) = b.prev.get(&t.lower) {
                        doc_keys(t, i, caps, label, &mut b.keys);
                    }
                }
                b.key_ends.push(b.keys.len());
            }
            weights.row_numbers(&b.keys, &mut b.rows);
            let cached = &b.cache.sums;
            let sums = |j: usize, role: usize| &cached[slots[j] as usize][role];
            let mut k = 0;
            for (i, &end) in b.key_ends.iter().enumerate() {
                if b.plain[i] {
                    // Never read: the decoder gives the token `O` without looking.
                    b.emit.push([0; NTAGS]);
                    continue;
                }
                let mut e = *sums(i, ROLE_SELF);
                for (role, j) in [
                    (ROLE_M1, i.checked_sub(1)),
                    (ROLE_M2, i.checked_sub(2)),
                    (ROLE_P1, Some(i + 1).filter(|&j| j < n)),
                    (ROLE_P2, Some(i + 2).filter(|&j| j < n)),
                ] {
                    let v = match j {
                        Some(j) => sums(j, role),
                        None => &b.cache.boundary[role],
                    };
                    add_row32(&mut e, v);
                }
                for &r in &b.rows[k..end] {
                    add_row(&mut e, weights.row_at(r));
                }
                k = end;
                b.emit.push(e);
            }
            decode(&b.emit, &b.plain, &steps, &mut b.lattice, &mut b.tags);
            for (t, &tag) in infos.iter().zip(&b.tags) {
                if t.flags & F_CAP != 0 {
                    b.prev.insert(t.lower, doc_label(tag));
                }
            }
            each(&b.tags, &b.emit, &weights.trans, model.info.scale);
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

#[inline]
fn add_row32(e: &mut [i32; NTAGS], row: &[i32; NTAGS]) {
    for (a, &w) in e.iter_mut().zip(row) {
        *a += w;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ner::O;

    /// The shipped model, with an empty word cache and scratch space to fill from it.
    fn empty_cache() -> (std::sync::Arc<NerModel>, WordCache, Scratch) {
        let cfg = crate::config::Config::embedded().expect("embedded settings");
        (cfg.lexicons.ner, WordCache::default(), Scratch::default())
    }

    /// A full cache keeps the words met again since it last filled, under their new
    /// places, and forgets the others.
    #[test]
    fn a_full_cache_keeps_the_words_met_again() {
        let (shipped, mut cache, mut scratch) = empty_cache();
        let model = shipped.as_ref();
        cache.prepare_within(model, 3, 4);
        let room = (cache.words.capacity(), cache.sums.capacity());
        let once = cache.entry(model, "Ostravel", &mut scratch);
        let again = cache.entry(model, "said", &mut scratch);
        let fresh = cache.sums[again as usize];
        assert_eq!(cache.entry(model, "said", &mut scratch), again);
        cache.entry(model, "on", &mut scratch);
        assert_eq!((once, again), (0, 1));
        // Three entries and two more tokens do not fit in four.
        cache.prepare_within(model, 2, 4);
        assert_eq!(cache.words.len(), 1);
        assert_eq!(
            (cache.words.capacity(), cache.sums.capacity()),
            room,
            "kept within its bound"
        );
        let kept = cache.entry(model, "said", &mut scratch);
        assert_eq!(kept, 0);
        assert_eq!(cache.sums[0], fresh);
        assert_eq!(
            cache.entry(model, "Ostravel", &mut scratch),
            1,
            "computed anew"
        );
        // Only "said" was met again since the last fill.
        cache.prepare_within(model, 3, 4);
        assert_eq!(cache.words.len(), 1);
        assert_eq!(cache.entry(model, "said", &mut scratch), 0);
        cache.entry(model, "on", &mut scratch);
        cache.entry(model, "Ostravel", &mut scratch);
        cache.entry(model, "Ostravel", &mut scratch);
        cache.prepare_within(model, 2, 4);
        assert_eq!(cache.words.len(), 2, "said and Ostravel kept");
        // A word kept at one fill and not met again before the next is dropped then.
        assert_eq!(cache.entry(model, "Ostravel", &mut scratch), 1);
        cache.entry(model, "on", &mut scratch);
        cache.prepare_within(model, 2, 4);
        assert_eq!(cache.words.len(), 1);
        assert_eq!(cache.entry(model, "Ostravel", &mut scratch), 0);
        assert_eq!(cache.entry(model, "said", &mut scratch), 1, "computed anew");
        // A document that would not fit beside what is kept empties the cache.
        cache.prepare_within(model, 4, 4);
        assert!(cache.words.is_empty() && cache.sums.is_empty());
    }

    /// When the document number wraps, the marks of before are wiped, so that none can
    /// pass for the new document's; and marks move with their entries when a full cache
    /// keeps the words met again.
    #[test]
    fn lower_case_marks_survive_neither_a_wrap_nor_the_next_document() {
        let (shipped, mut cache, mut scratch) = empty_cache();
        let model = shipped.as_ref();
        let facts = |cache: &WordCache, word: &str| {
            let sets = DocContext::default();
            TagDoc { sets: &sets, cache }.lower_seen(crate::ner::features::hash_str(word))
        };
        cache.prepare_within(model, 2, 4);
        cache.doc = u32::MAX;
        let e = cache.entry(model, "fund", &mut scratch);
        assert!(cache.mark_lower(e));
        assert!(facts(&cache, "fund"));
        cache.next_document();
        assert_eq!(cache.doc, 1);
        assert_eq!(cache.words[e as usize].lower_doc, 0);
        assert!(!facts(&cache, "fund"));
        // Marked in document 1 and met again, so kept, and moved to the front, when the
        // cache fills; the words met once are dropped.
        cache.entry(model, "once", &mut scratch);
        let rose = cache.entry(model, "rose", &mut scratch);
        assert_eq!(cache.entry(model, "rose", &mut scratch), rose);
        assert!(rose > 0 && cache.mark_lower(rose));
        cache.prepare_within(model, 3, 4);
        assert_eq!(cache.words.len(), 1, "only the word met again is kept");
        assert!(facts(&cache, "rose"), "the mark moved with its entry");
        assert!(!facts(&cache, "fund"));
        cache.next_document();
        assert!(!facts(&cache, "rose"));
    }

    /// Tagging sums features through the word cache; training through the flat list of
    /// `sentence_keys`. Both must give the same emission scores, for every token.
    #[test]
    fn cached_sums_equal_the_flat_features() {
        let cfg = crate::config::Config::embedded().unwrap();
        let model = cfg.lexicons.ner.as_ref();
        let mut tagger = Tagger::new(model);
        let tags = tag_like_training(
            &mut tagger,
            &[
                "KESTOV 1996-08-30",
                "Ilsa Brandvik , an analyst at Kestrel Securities in Ostravel , said on Monday .",
                "Brandvik told Reuters that U.S. shares fell .",
            ],
        );
        assert!(tags.iter().flatten().any(|&t| t != O), "{tags:?}");
    }

    /// A capitalized word is known to be written in lower case elsewhere from its own
    /// document only: the marks an earlier document left on the word cache do not count.
    #[test]
    fn lower_case_words_count_in_their_own_document_only() {
        let cfg = crate::config::Config::embedded().unwrap();
        let model = cfg.lexicons.ner.as_ref();
        let mut tagger = Tagger::new(model);
        tag_like_training(&mut tagger, &["the shares of the fund fell on the news ."]);
        // "Shares" and "Fund" open sentences; their lower-case forms were in the last
        // document, not in this one.
        tag_like_training(&mut tagger, &["Shares fell .", "Fund managers sold ."]);
        // Here both forms are in one document.
        tag_like_training(
            &mut tagger,
            &["Shares fell .", "Analysts said the shares would recover ."],
        );
        // A title-case letter is no upper-case letter, so "ǅemal" counts as lower case,
        // but its lower-case form ("ǆemal", that of "Ǆemal") is another word: no mark on
        // its own entry can answer for it.
        tag_like_training(&mut tagger, &["Ǆemal fell .", "Then ǅemal rose ."]);
    }

    /// Tags `doc` (sentences of space-separated tokens) with `tagger` and checks every
    /// scored token's emission scores against the training features of the document alone,
    /// looked up one by one; returns the tags.
    fn tag_like_training(tagger: &mut Tagger<'_>, doc: &[&str]) -> Vec<Vec<Tag>> {
        use crate::ner::features::{sentence_keys, token_info, TokInfo};
        let model = tagger.model;
        let doc: Vec<Vec<&str>> = doc.iter().map(|s| s.split(' ').collect()).collect();
        let mut got: Vec<Vec<[i32; NTAGS]>> = Vec::new();
        let mut tags: Vec<Vec<Tag>> = Vec::new();
        tagger.tag_document_with(&doc, &mut |t, emit, _, _| {
            got.push(emit.to_vec());
            tags.push(t.to_vec());
        });
        let mut scratch = Scratch::default();
        let infos: Vec<Vec<TokInfo>> = doc
            .iter()
            .map(|s| {
                s.iter()
                    .map(|t| token_info(t, &model.lexicon, &mut scratch))
                    .collect()
            })
            .collect();
        let mut ctx = DocContext::default();
        infos.iter().for_each(|i| ctx.add_sentence(i));
        let mut prev: IdMap<DocLabel> = IdMap::default();
        let (mut keys, mut offs, mut gaz) = (Vec::new(), Vec::new(), Vec::new());
        let mut plain = Vec::new();
        for (si, inf) in infos.iter().enumerate() {
            gazetteer_matches(inf, &model.lexicon, &mut gaz);
            sentence_keys(inf, &gaz, &ctx, &mut keys, &mut offs);
            let caps = is_caps_sentence(inf);
            // Plain tokens are not scored at all.
            plain_run(inf, &model.lexicon.name_words, &mut plain);
            for (i, t) in inf.iter().enumerate().filter(|&(i, _)| !plain[i]) {
                let mut k = keys[offs[i] as usize..offs[i + 1] as usize].to_vec();
                if t.flags & F_CAP != 0 {
                    if let Some(&label) = prev.get(&t.lower) {
                        doc_keys(t, i, caps, label, &mut k);
                    }
                }
                assert_eq!(got[si][i], sum_rows(model, &k), "sentence {si} token {i}");
            }
            for (t, &tag) in inf.iter().zip(&tags[si]) {
                if t.flags & F_CAP != 0 {
                    prev.insert(t.lower, doc_label(tag));
                }
            }
        }
        tags
    }

    /// The best legal sequence by trying them all, for short sentences.
    fn brute_force(emit: &[[i32; NTAGS]], trans: &[[i32; NTAGS]; NTAGS + 1]) -> i64 {
        fn walk(
            i: usize,
            prev: usize,
            acc: i64,
            emit: &[[i32; NTAGS]],
            trans: &[[i32; NTAGS]; NTAGS + 1],
        ) -> i64 {
            if i == emit.len() {
                return if may_end(prev as Tag) { acc } else { i64::MIN };
            }
            let mut best = i64::MIN;
            for t in 0..NTAGS {
                let p = (prev < NTAGS).then_some(prev as Tag);
                if crate::ner::allowed(p, t as Tag) {
                    let s = acc + i64::from(trans[prev][t]) + i64::from(emit[i][t]);
                    best = best.max(walk(i + 1, t, s, emit, trans));
                }
            }
            best
        }
        walk(0, NTAGS, 0, emit, trans)
    }

    #[test]
    fn viterbi_finds_the_best_legal_sequence() {
        let mut rng = fastrand::Rng::with_seed(7);
        // Emissions on the scale of the transitions, where every closed tag competes, and
        // far larger, where most closed tags are skipped.
        for (n, spread) in (1..=4).flat_map(|n| [(n, 100), (n, 5_000)]) {
            for _ in 0..30 {
                let mut trans = [[0i32; NTAGS]; NTAGS + 1];
                for row in trans.iter_mut() {
                    for w in row.iter_mut() {
                        *w = rng.i32(-50..50);
                    }
                }
                let emit: Vec<[i32; NTAGS]> = (0..n)
                    .map(|_| std::array::from_fn(|_| rng.i32(-spread..spread)))
                    .collect();
                let mut out = Vec::new();
                viterbi(&emit, &trans, &mut Lattice::default(), &mut out);
                let mut prev = NTAGS;
                let mut score = 0i64;
                for (i, &t) in out.iter().enumerate() {
                    assert!(crate::ner::allowed(
                        (prev < NTAGS).then_some(prev as Tag),
                        t
                    ));
                    score += i64::from(trans[prev][t as usize]) + i64::from(emit[i][t as usize]);
                    prev = t as usize;
                }
                assert!(may_end(prev as Tag));
                assert_eq!(score, brute_force(&emit, &trans));
            }
        }
    }

    #[test]
    fn decoding_around_plain_tokens_is_viterbi_with_them_fixed_to_o() {
        let mut rng = fastrand::Rng::with_seed(11);
        let mut lattice = Lattice::default();
        let (mut cut, mut whole) = (Vec::new(), Vec::new());
        for n in 1..=9 {
            for _ in 0..40 {
                let trans: [[i32; NTAGS]; NTAGS + 1] =
                    std::array::from_fn(|_| std::array::from_fn(|_| rng.i32(-50..50)));
                let plain: Vec<bool> = (0..n).map(|_| rng.bool()).collect();
                // The same sentence for plain Viterbi, with the plain tokens' emissions
                // making anything but `O` hopeless there.
                let mut emit: Vec<[i32; NTAGS]> = (0..n)
                    .map(|_| std::array::from_fn(|_| rng.i32(-300..300)))
                    .collect();
                decode(&emit, &plain, &Steps::new(&trans), &mut lattice, &mut cut);
                for (e, _) in emit.iter_mut().zip(&plain).filter(|(_, &p)| p) {
                    *e = std::array::from_fn(|t| if t == 0 { 0 } else { -1_000_000 });
                }
                viterbi(&emit, &trans, &mut lattice, &mut whole);
                assert_eq!(cut, whole, "plain {plain:?}");
            }
        }
    }

    #[test]
    fn plain_tokens_are_neither_anchors_nor_between_two() {
        use crate::ner::features::{lower_hash, token_info, TokInfo};
        let cfg = crate::config::Config::embedded().unwrap();
        let model = cfg.lexicons.ner.as_ref();
        let mut scratch = Scratch::default();
        let mut buf = String::new();
        let mut plain_of = |text: &str, words: &[&str]| {
            let infos: Vec<TokInfo> = text
                .split(' ')
                .map(|w| token_info(w, &model.lexicon, &mut scratch))
                .collect();
            let words: IdMap<()> = words
                .iter()
                .map(|w| (lower_hash(w, &mut buf), ()))
                .collect();
            let mut plain = Vec::new();
            plain_run(&infos, &words, &mut plain);
            (0..plain.len())
                .filter(|&i| plain[i])
                .collect::<Vec<usize>>()
        };
        // Only the first `,` stands between two tokens with a capital or a digit.
        let text = "the talks in al-Bab , 12 miles from the city , ended late";
        assert_eq!(plain_of(text, &[]), [0, 1, 2, 6, 7, 8, 9, 10, 11, 12]);
        // Particles joined to a capitalised word, through each other and either way, are
        // anchors too, and what stands between two anchors is searched.
        let text = "Lord of the Rings and Bank of the West , van der Walt said";
        assert_eq!(plain_of(text, &[]), [1, 2, 6, 7, 9, 10, 11, 13]);
        assert_eq!(plain_of(text, &["of", "van", "der"]), [13]);
        let text = "Hotel de la ville";
        assert_eq!(plain_of(text, &["de", "la"]), [3]);
        // A particle with no capitalised word to join is plain.
        assert_eq!(plain_of("the van der", &["van", "der"]), [0, 1, 2]);
        // A sentence's edges are no anchors.
        assert_eq!(plain_of("van Gogh", &["van"]), Vec::<usize>::new());
        assert_eq!(plain_of("McDonald 's", &["'s"]), Vec::<usize>::new());
        assert_eq!(plain_of(", Obama", &[]), [0]);
        assert_eq!(plain_of("Obama ,", &[]), [1]);
        assert_eq!(plain_of("van", &["van"]), [0]);
        assert_eq!(plain_of("said", &[]), [0]);
    }

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
        viterbi(&[e0, e1], &trans, &mut Lattice::default(), &mut out);
        assert_eq!(out, vec![tag(NerType::Per, Part::Unit), O]);
        let mut e1b = [0; NTAGS];
        e1b[tag(NerType::Per, Part::Last) as usize] = 3;
        viterbi(&[e0, e1b], &trans, &mut Lattice::default(), &mut out);
        assert_eq!(
            out,
            vec![
                tag(NerType::Per, Part::Begin),
                tag(NerType::Per, Part::Last)
            ]
        );
    }
}
