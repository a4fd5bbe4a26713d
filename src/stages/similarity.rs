//! Word sketches of a report: what near-duplicate detection and story linking compare.
//!
//! A report is sketched once, in the dedup stage, from its folded sentences:
//!
//! - **text bands**: a MinHash over the report's word 5-shingles (every word, in order),
//!   cut into bands for an LSH index. Two reports share a band only when they share most
//!   of their running text: a copy with a few words edited, a trimmed or extended
//!   republication. Unrelated reports practically never do, however many are indexed, so
//!   this index can keep a long history.
//! - **content signature and bands**: a MinHash over the set of content words (the words
//!   left once `function_words` of the similarity lexicon are out). A rewrite of a report
//!   by another outlet keeps the names, numbers, quotes and most content words but few
//!   5-word runs, so it is found through these bands; they also collide for unrelated
//!   reports on the same subject now and then, so this index only spans recent reports.
//!   The 128 values estimate the content words' Jaccard similarity (story linking uses
//!   it too).
//! - **sentence sketches**: per sentence, the hashes of its content words (the smallest
//!   [`SENTENCE_WORDS`] of them, enough to estimate the similarity of two sentences) and of
//!   its *decisive* words (the trigger and cue words extraction decides a status by).
//!   Two reports are near duplicates when their sentences match in order
//!   ([`Sketch::similarity`]), and a sentence of a near duplicate repeats the original when
//!   it matches one of its sentences and brings no decisive word that sentence lacks
//!   ([`Sketch::repeated`]): "began
//!   withdrawing" rewritten as "completed the withdrawal" is news, however similar the
//!   rest of the sentence.
//!
//! MinHash signatures are one-permutation hashes (each word or shingle hashed once, into
//! one of the bins) with optimal densification for empty bins (Shrivastava, ICML 2017):
//! linear in the text, where classic MinHash hashes every element once per value.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_64;

use crate::config::Lexicons;
use crate::report::Report;

/// Words per text shingle.
const SHINGLE: usize = 5;
/// Text bands and rows: a pair of reports whose 5-shingle Jaccard similarity is `j` shares
/// a band with probability `1 - (1 - j^4)^12`: 0.9999 at 0.86 (a copy with 1.5% of its words
/// edited), 0.12 at 0.3, 10⁻⁷ at 0.01.
pub const TEXT_BANDS: usize = 12;
const TEXT_ROWS: usize = 4;
const TEXT_HASHES: usize = TEXT_BANDS * TEXT_ROWS;
/// Content values kept for estimates.
pub const CONTENT_HASHES: usize = 128;
/// Content bands of two rows: a rewrite whose content words have a Jaccard similarity of
/// 0.37 shares a band with probability 0.99, unrelated reports (0.03) with 0.03.
pub const CONTENT_BANDS: usize = 32;
const CONTENT_ROWS: usize = 2;
/// Content words kept per sentence sketch (the smallest hashes: a bottom-k sketch, exact for
/// the shorter sentences of wire copy).
pub const SENTENCE_WORDS: usize = 12;
/// Decisive words kept per sentence.
const SENTENCE_CUES: usize = 6;
/// Particulars kept per sentence: names and numbers (see [`SentenceSketches`]).
const SENTENCE_NAMES: usize = 10;
/// Sentences sketched per report: wire copy says what is new first, and the bound keeps an
/// index entry small whatever the report's length.
pub const MAX_SENTENCES: usize = 48;
/// Sentences with fewer content words than this take no part in matching ("He declined
/// to comment."): they match too easily.
const MIN_SENTENCE_WORDS: usize = 3;

/// The word lists a sketch needs, hashed: built once from the lexicons.
#[derive(Debug, Clone)]
pub struct Sketcher {
    /// Word hash → [`FUNCTION`] and/or [`DECISIVE`].
    words: HashMap<u64, u8, BuildHasherDefault<WordHasher>>,
}

/// A function word: left out of the content.
const FUNCTION: u8 = 1;
/// A decisive word: one extraction decides a status by.
const DECISIVE: u8 = 2;

/// The hasher of a table keyed by word hashes, which are well mixed already: it takes the
/// key as it is.
#[derive(Debug, Default, Clone, Copy)]
pub struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A word's hash: the same for the same lower-case word in every report and every run.
fn word_hash(word: &[u8]) -> u64 {
    xxh3_64(word)
}

/// Calls `f` with each lower-case word (a run of letters and digits) of a folded sentence,
/// as bytes. Most words are ASCII and are lower-cased on the stack.
fn words(text: &str, buf: &mut String, mut f: impl FnMut(&[u8], bool)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Separators first: ASCII ones a byte at a time.
        let class = BYTE_CLASS[usize::from(bytes[i])];
        if class == SEPARATOR {
            i += 1;
            continue;
        }
        if class == NON_ASCII && !text[i..].chars().next().is_some_and(char::is_alphanumeric) {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let start = i;
        let mut seen = 0u8;
        while i < bytes.len() {
            let class = BYTE_CLASS[usize::from(bytes[i])];
            match class {
                LOWER | UPPER => i += 1,
                NON_ASCII => match text[i..].chars().next() {
                    Some(c) if c.is_alphanumeric() => i += c.len_utf8(),
                    _ => break,
                },
                _ => break,
            }
            seen |= class;
        }
        let word = &text[start..i];
        let capital = word.chars().next().is_some_and(char::is_uppercase);
        if seen & NON_ASCII != 0 {
            buf.clear();
            buf.extend(word.chars().flat_map(char::to_lowercase));
            f(buf.as_bytes(), capital);
        } else if seen & UPPER != 0 && word.len() <= 32 {
            let mut lower = [0u8; 32];
            let lower = &mut lower[..word.len()];
            lower.copy_from_slice(word.as_bytes());
            lower.make_ascii_lowercase();
            f(lower, capital);
        } else if seen & UPPER != 0 {
            f(word.to_ascii_lowercase().as_bytes(), capital);
        } else {
            f(word.as_bytes(), capital);
        }
    }
}

/// Byte classes for [`words`]: a bit each, so that a word's classes can be or-ed together.
const SEPARATOR: u8 = 0;
const LOWER: u8 = 1;
const UPPER: u8 = 2;
const NON_ASCII: u8 = 4;
static BYTE_CLASS: [u8; 256] = {
    let mut t = [SEPARATOR; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c >= 0x80 {
            NON_ASCII
        } else if c.is_ascii_uppercase() {
            UPPER
        } else if c.is_ascii_alphanumeric() {
            LOWER
        } else {
            SEPARATOR
        };
        b += 1;
    }
    t
};

/// A 64-bit finalizer (SplitMix64's): spreads the bits of a hash, so that bins and values
/// taken from different bits of it are independent.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One-permutation MinHash of a set of element hashes into `N` bins, empty bins filled by
/// optimal densification: bin `j` takes the value of the first non-empty bin its own
/// probe sequence meets, so two sets agree on it with the probability a MinHash would.
struct Bins<const N: usize> {
    bins: [u64; N],
    any: bool,
}

impl<const N: usize> Bins<N> {
    fn new() -> Self {
        Self {
            bins: [u64::MAX; N],
            any: false,
        }
    }

    fn add(&mut self, element: u64) {
        let h = mix(element);
        // The high half picks the bin (a multiply-shift range reduction), the low half is
        // the value.
        let bin = (((h >> 32) * N as u64) >> 32) as usize;
        let v = h & 0xffff_ffff;
        if v < self.bins[bin] {
            self.bins[bin] = v;
        }
        self.any = true;
    }

    /// The signature; `None` for an empty set.
    fn finish(self) -> Option<[u32; N]> {
        if !self.any {
            return None;
        }
        let bins = self.bins;
        let mut out = [0u32; N];
        for (j, slot) in out.iter_mut().enumerate() {
            let mut v = bins[j];
            let mut attempt = 0u64;
            while v == u64::MAX {
                attempt += 1;
                let probe = mix((j as u64) << 32 | attempt);
                v = bins[(((probe >> 32) * N as u64) >> 32) as usize];
            }
            // A value is below 2^32 once found.
            *slot = v as u32;
        }
        Some(out)
    }
}

#[cfg(test)]
fn one_permutation<const N: usize>(elements: impl Iterator<Item = u64>) -> Option<[u32; N]> {
    let mut bins = Bins::<N>::new();
    for e in elements {
        bins.add(e);
    }
    bins.finish()
}

/// The band keys of a signature: `rows` values at a time, hashed with the band's number
/// (so equal values in different bands do not meet).
fn band_keys<const B: usize>(sig: &[u32], rows: usize) -> [u32; B] {
    let mut keys = [0u32; B];
    for (b, key) in keys.iter_mut().enumerate() {
        let mut h = (b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for &v in &sig[b * rows..(b + 1) * rows] {
            h = mix(h ^ u64::from(v));
        }
        *key = (h >> 32) as u32;
    }
    keys
}

/// One report's sketch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sketch {
    /// LSH keys over word 5-shingles; `None` for a report without words.
    pub text_bands: Option<[u32; TEXT_BANDS]>,
    /// LSH keys over content words; `None` without content words.
    pub content_bands: Option<[u32; CONTENT_BANDS]>,
    /// The low byte of each content MinHash value (b-bit MinHash): enough to estimate the
    /// content words' Jaccard similarity, at an eighth of the size.
    pub content: Option<Box<[u8; CONTENT_HASHES]>>,
    pub sentences: SentenceSketches,
}

/// Per-sentence word hashes (16 bits each) of the sentences that take part in matching.
///
/// Besides its content and decisive words, a sentence keeps its *particulars*: the words
/// written with a capital letter after its first word, and the words holding a digit.
/// Templated copy ("Aid convoy 12 reached Velgrad", "A truce took effect in Kelvar")
/// shares nearly every content word with the next report of the series; what tells them
/// apart is the name and the number. Two sentences match only when the particulars of one
/// are all found in the other (a rewrite drops a first name or a title, but does not trade
/// one place for another), and a sentence repeats its original only when it brings no
/// particular the original lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentenceSketches {
    /// Per sentence: its content words' hashes, sorted, then its decisive words' hashes,
    /// sorted, then its particulars' hashes, sorted.
    ///
    /// Shared, not copied, by the indexes that keep the same report (the daemon's live and
    /// committed ones).
    data: Arc<[u16]>,
    meta: Arc<[SentenceMeta]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SentenceMeta {
    /// The sentence's index in its report.
    index: u16,
    words: u8,
    cues: u8,
    names: u8,
    /// The report's title: it may repeat a sentence, but takes no part in the report's
    /// similarity (headlines are short and formulaic, and a republication rewrites them).
    title: bool,
}

/// The bit of a persisted sentence's particulars count that marks the title.
const TITLE_BIT: u16 = 0x8000;

/// One sketched sentence, borrowed from [`SentenceSketches`].
#[derive(Debug, Clone, Copy)]
struct SentenceRef<'a> {
    index: usize,
    title: bool,
    words: &'a [u16],
    cues: &'a [u16],
    names: &'a [u16],
}

impl SentenceRef<'_> {
    /// Whether `hash` is one of this sentence's words, decisive words or particulars
    /// (the content words may have been cut to the smallest hashes: a word cut off counts
    /// as missing, which keeps a sentence as news rather than dropping it).
    fn has(&self, hash: u16) -> bool {
        self.words.binary_search(&hash).is_ok()
            || self.cues.binary_search(&hash).is_ok()
            || self.names.binary_search(&hash).is_ok()
    }

    /// Every particular of this sentence is found in `other`.
    fn names_within(&self, other: &SentenceRef<'_>) -> bool {
        self.names.iter().all(|n| other.has(*n))
    }

    /// The two sentences can tell one fact: the particulars of one are within the other.
    fn consistent(&self, other: &SentenceRef<'_>) -> bool {
        self.names_within(other) || other.names_within(self)
    }
}

impl SentenceSketches {
    /// Sentences sketched.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Each sketched sentence.
    fn each(&self) -> Vec<SentenceRef<'_>> {
        let mut at = 0;
        self.meta
            .iter()
            .map(|m| {
                let (w, c, n) = (
                    usize::from(m.words),
                    usize::from(m.cues),
                    usize::from(m.names),
                );
                let s = SentenceRef {
                    index: usize::from(m.index),
                    title: m.title,
                    words: &self.data[at..at + w],
                    cues: &self.data[at + w..at + w + c],
                    names: &self.data[at + w + c..at + w + c + n],
                };
                at += w + c + n;
                s
            })
            .collect()
    }

    /// Bytes held on the heap (the two reference counts of each allocation included).
    pub fn heap_bytes(&self) -> usize {
        2 * std::mem::size_of::<[usize; 2]>()
            + self.data.len() * 2
            + self.meta.len() * std::mem::size_of::<SentenceMeta>()
    }

    /// The persistence form: per sentence `[index, words, cues, names, hashes...]`.
    pub fn to_words(&self) -> Vec<u16> {
        let mut out = Vec::with_capacity(self.data.len() + 4 * self.meta.len());
        for s in self.each() {
            out.push(s.index as u16);
            out.push(s.words.len() as u16);
            out.push(s.cues.len() as u16);
            out.push(s.names.len() as u16 | if s.title { TITLE_BIT } else { 0 });
            out.extend_from_slice(s.words);
            out.extend_from_slice(s.cues);
            out.extend_from_slice(s.names);
        }
        out
    }

    /// Reads [`SentenceSketches::to_words`]; `None` when the numbers do not add up.
    pub fn from_words(w: &[u16]) -> Option<Self> {
        let mut data = Vec::new();
        let mut meta = Vec::new();
        let mut at = 0;
        while at < w.len() {
            let (index, words, cues, names) = (
                *w.get(at)?,
                *w.get(at + 1)?,
                *w.get(at + 2)?,
                *w.get(at + 3)?,
            );
            let title = names & TITLE_BIT != 0;
            let names = names & !TITLE_BIT;
            let (nw, nc, nn) = (usize::from(words), usize::from(cues), usize::from(names));
            if nw > SENTENCE_WORDS || nc > SENTENCE_CUES || nn > SENTENCE_NAMES {
                return None;
            }
            data.extend_from_slice(w.get(at + 4..at + 4 + nw + nc + nn)?);
            meta.push(SentenceMeta {
                index,
                words: words as u8,
                cues: cues as u8,
                names: names as u8,
                title,
            });
            at += 4 + nw + nc + nn;
        }
        Some(Self {
            data: data.into(),
            meta: meta.into(),
        })
    }
}

/// The similarity of two sentence sketches: the Jaccard similarity of their content words,
/// estimated from the smallest hashes of the two (exact when neither was cut).
fn sentence_similarity(a: &[u16], b: &[u16]) -> f32 {
    let (mut i, mut j, mut union, mut both) = (0, 0, 0, 0);
    while union < SENTENCE_WORDS && (i < a.len() || j < b.len()) {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                both += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), None) => i += 1,
            _ => j += 1,
        }
        union += 1;
    }
    if union == 0 {
        0.0
    } else {
        both as f32 / union as f32
    }
}

impl Sketch {
    /// The estimated Jaccard similarity of the two reports' content words (0 when either
    /// has none).
    pub fn content_similarity(&self, other: &Sketch) -> f32 {
        match (&self.content, &other.content) {
            (Some(a), Some(b)) => content_similarity(a, b),
            _ => 0.0,
        }
    }

    /// The share of sentences this report and `original` have in common, in order: the
    /// longest run of matching pairs (sentences sharing at least `sentence_threshold` of
    /// their content words, Jaccard, within `offset` of the same relative place in their
    /// reports), over the sketched sentences of the longer report. 0 when it cannot reach
    /// `at_least` (the count stops early).
    pub fn similarity(
        &self,
        original: &SentenceSketches,
        sentence_threshold: f32,
        offset: f32,
        at_least: f32,
    ) -> f32 {
        fn body(s: &SentenceSketches) -> Vec<SentenceRef<'_>> {
            let mut all = s.each();
            all.retain(|s| !s.title);
            all
        }
        let a = body(&self.sentences);
        let b = body(original);
        let (n, m) = (a.len(), b.len());
        let longer = n.max(m) as f32;
        if n == 0 || m == 0 || (n.min(m) as f32) < at_least * longer {
            return 0.0;
        }
        // Longest common subsequence of matching sentences, one row at a time, over the
        // cells within the offset band only.
        let mut prev = vec![0u16; m + 1];
        let mut row = vec![0u16; m + 1];
        for (i, sa) in a.iter().enumerate() {
            let place = (i as f32 + 0.5) / n as f32;
            row[0] = 0;
            for (j, sb) in b.iter().enumerate() {
                let near = (place - (j as f32 + 0.5) / m as f32).abs() <= offset;
                row[j + 1] = if near
                    && sentence_similarity(sa.words, sb.words) >= sentence_threshold
                    && sa.consistent(sb)
                {
                    prev[j] + 1
                } else {
                    prev[j + 1].max(row[j])
                };
            }
            std::mem::swap(&mut prev, &mut row);
            // Each sentence left can add one at most.
            let reachable = f32::from(prev[m]) + (n - i - 1) as f32;
            if reachable < at_least * longer {
                return 0.0;
            }
        }
        f32::from(prev[m]) / longer
    }

    /// This report's sentences (indexes in it) that repeat one of `original`'s: wherever it
    /// stands, a sentence of the original shares at least `sentence_threshold` of its
    /// content words and has every decisive word and particular it has.
    pub fn repeated(&self, original: &SentenceSketches, sentence_threshold: f32) -> Vec<usize> {
        let b = original.each();
        self.sentences
            .each()
            .into_iter()
            .filter(|s| {
                b.iter().any(|o| {
                    sentence_similarity(s.words, o.words) >= sentence_threshold
                        && s.cues.iter().all(|c| o.has(*c))
                        && s.names_within(o)
                })
            })
            .map(|s| s.index)
            .collect()
    }
}

/// [`Sketch::content_similarity`] on the stored bytes.
pub fn content_similarity(a: &[u8; CONTENT_HASHES], b: &[u8; CONTENT_HASHES]) -> f32 {
    // Eight bytes at a time: a byte of `x` is zero where the two agree; the high bit of
    // each byte of `t` is set where the byte of `x` is not zero.
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let equal: u32 = a
        .chunks_exact(8)
        .zip(b.chunks_exact(8))
        .map(|(x, y)| {
            let x = u64::from_le_bytes(x.try_into().unwrap_or([0; 8]))
                ^ u64::from_le_bytes(y.try_into().unwrap_or([0; 8]));
            let t = ((x & LOW7).wrapping_add(LOW7) | x) & !LOW7;
            8 - t.count_ones()
        })
        .sum();
    // Unrelated values agree on the low byte one time in 256: take that out.
    let p = equal as f32 / CONTENT_HASHES as f32;
    ((p - 1.0 / 256.0) / (1.0 - 1.0 / 256.0)).max(0.0)
}

impl Sketcher {
    /// Builds the word lists: `function_words` of the similarity lexicon, and as decisive
    /// words every word of the frames' triggers and lifecycles and of the status, resumption, negation,
    /// hedge and background cues that is not a function word, with the negation words
    /// themselves.
    pub fn new(lex: &Lexicons) -> Self {
        let mut table: HashMap<u64, u8, BuildHasherDefault<WordHasher>> = HashMap::default();
        let mut buf = String::new();
        for w in &lex.similarity.function_words {
            words(w, &mut buf, |w, _| {
                *table.entry(word_hash(w)).or_insert(0) |= FUNCTION
            });
        }
        let mut add = |phrase: &str, keep_function_words: bool| {
            words(phrase, &mut buf, |w, _| {
                let flags = table.entry(word_hash(w)).or_insert(0);
                if keep_function_words || *flags & FUNCTION == 0 {
                    *flags |= DECISIVE;
                }
            });
        };
        for f in &lex.frames {
            for p in f
                .noun
                .iter()
                .chain(&f.base)
                .chain(&f.past)
                .chain(&f.progressive)
                .chain(f.statuses.values().flatten())
            {
                add(p, false);
            }
        }
        let cues = &lex.cues;
        for p in cues
            .status
            .values()
            .flatten()
            .chain(&cues.resumption)
            .chain(&cues.hedges.words)
            .chain(&cues.background.words)
        {
            add(p, false);
        }
        for p in &cues.negation.words {
            add(p, true);
        }
        // "will" and "would" are function words, yet what a report will do and what it did
        // are different news: the planned cues' modal verbs are decisive too.
        for p in cues.status.get("planned").into_iter().flatten() {
            if !p.contains(' ') {
                add(p, true);
            }
        }
        table.retain(|_, flags| *flags != 0);
        Self { words: table }
    }

    /// Sketches a report from its folded sentences (a sentence held back as cut off
    /// included: the sketch is of the text as it stands).
    pub fn sketch(&self, report: &Report) -> Sketch {
        let mut buf = String::new();
        // The last SHINGLE words, as a ring, how many words there were in all, and the
        // hash of the shingle they make (see [`shingle`]), kept rolling.
        let mut ring = [0u64; SHINGLE];
        let mut seen = 0usize;
        let mut rolling = 0u64;
        let mut text = Bins::<TEXT_HASHES>::new();
        let mut content = Bins::<CONTENT_HASHES>::new();
        let mut data: Vec<u16> = Vec::with_capacity(report.sentences.len().min(MAX_SENTENCES) * 12);
        let mut meta: Vec<SentenceMeta> =
            Vec::with_capacity(report.sentences.len().min(MAX_SENTENCES));
        let mut sentence_words: Vec<u16> = Vec::with_capacity(64);
        let mut sentence_cues: Vec<u16> = Vec::with_capacity(16);
        let mut sentence_names: Vec<u16> = Vec::with_capacity(16);
        for (index, s) in report.sentences.iter().enumerate() {
            sentence_words.clear();
            sentence_cues.clear();
            sentence_names.clear();
            let mut first = true;
            words(&s.text, &mut buf, |w, capital| {
                let h = word_hash(w);
                let slot = &mut ring[seen % SHINGLE];
                // The oldest word leaves (its rotation was 0), the others move one place
                // down, the new word comes in last.
                rolling = (rolling ^ *slot).rotate_right(SHINGLE_ROTATION)
                    ^ h.rotate_left(SHINGLE_ROTATION * (SHINGLE as u32 - 1));
                *slot = h;
                seen += 1;
                if seen >= SHINGLE {
                    debug_assert_eq!(rolling, shingle(&ring, seen));
                    text.add(rolling);
                }
                // Single letters (the "s" of a possessive, initials) say nothing.
                if w.len() < 2 && !w[0].is_ascii_digit() {
                    return;
                }
                let flags = self.words.get(&h).copied().unwrap_or(0);
                if flags & DECISIVE != 0 {
                    sentence_cues.push(short(h));
                }
                // A sentence's first word is capitalized whatever it is.
                let particular = (capital && !first) || w.iter().any(u8::is_ascii_digit);
                first = false;
                if particular && flags & FUNCTION == 0 {
                    sentence_names.push(short(h));
                }
                if flags & FUNCTION == 0 {
                    // A minimum takes no notice of repeats: no need to deduplicate.
                    content.add(h);
                    sentence_words.push(short(h));
                }
            });
            sentence_words.sort_unstable();
            sentence_words.dedup();
            if sentence_words.len() < MIN_SENTENCE_WORDS
                || meta.len() >= MAX_SENTENCES
                || index > usize::from(u16::MAX)
            {
                continue;
            }
            sentence_words.truncate(SENTENCE_WORDS);
            sentence_cues.sort_unstable();
            sentence_cues.dedup();
            sentence_cues.truncate(SENTENCE_CUES);
            sentence_names.sort_unstable();
            sentence_names.dedup();
            sentence_names.truncate(SENTENCE_NAMES);
            data.extend_from_slice(&sentence_words);
            data.extend_from_slice(&sentence_cues);
            data.extend_from_slice(&sentence_names);
            meta.push(SentenceMeta {
                index: index as u16,
                words: sentence_words.len() as u8,
                cues: sentence_cues.len() as u8,
                names: sentence_names.len() as u8,
                title: index == 0 && report.has_title_sentence,
            });
        }
        if (1..SHINGLE).contains(&seen) {
            // A report shorter than a shingle is one shingle of all its words.
            let mut short_text = ring;
            short_text[seen..].fill(0);
            text.add(shingle(&short_text, SHINGLE));
        }
        let text = text.finish();
        let content_sig = content.finish();
        Sketch {
            text_bands: text.map(|t| band_keys::<TEXT_BANDS>(&t, TEXT_ROWS)),
            content_bands: content_sig
                .as_ref()
                .map(|c| band_keys::<CONTENT_BANDS>(c, CONTENT_ROWS)),
            content: content_sig.map(|c| Box::new(c.map(|v| v as u8))),
            sentences: SentenceSketches {
                data: data.into(),
                meta: meta.into(),
            },
        }
    }
}

/// The hash of the shingle that ends with the `seen`-th word: the last [`SHINGLE`] word
/// hashes of `ring` in order, each rotated by its place.
fn shingle(ring: &[u64; SHINGLE], seen: usize) -> u64 {
    let mut h = 0u64;
    for k in 0..SHINGLE {
        h ^= ring[(seen + k) % SHINGLE].rotate_left(SHINGLE_ROTATION * k as u32);
    }
    h
}

/// The rotation between the places of a shingle's words.
const SHINGLE_ROTATION: u32 = 13;

/// The 16 bits of a word hash a sentence sketch keeps.
fn short(h: u64) -> u16 {
    (h >> 48) as u16
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Config;
    use crate::report::RawReport;
    use crate::stages::normalize::Normalizer;
    use std::path::PathBuf;

    fn report(text: &str) -> Report {
        let cfg = Config::embedded().expect("embedded settings");
        Normalizer::new(&cfg.lexicons.names)
            .normalize(&RawReport {
                path: PathBuf::from("a.txt"),
                bytes: text.as_bytes().to_vec(),
                modified: None,
                received_at: time::OffsetDateTime::UNIX_EPOCH,
            })
            .expect("a report")
    }

    fn sketcher() -> Sketcher {
        Sketcher::new(&Config::embedded().expect("embedded settings").lexicons)
    }

    /// An invented wire report, for the near-duplicate tests here and in dedup.
    pub(crate) const STORY: &str =
        "Harbour talks resume in Orvale\n\nORVALE (Tallis Wire) - Negotiators \
        from Kestria and Varnholt met again in the port city of Orvale on Tuesday, a week \
        after the talks broke down over fishing rights. Envoy Mara Lindqvist said both \
        delegations had agreed to a fresh timetable. \"We are closer than we have been \
        since March,\" she told reporters outside the customs house. The next round is due \
        to open on Friday with a session on quotas for the northern banks. Fishermen in \
        Orvale have kept their boats in harbour for eleven days.\n";

    #[test]
    fn one_permutation_agrees_with_the_jaccard_similarity() {
        let a: Vec<u64> = (0..400).collect();
        let b: Vec<u64> = (100..500).collect(); // Jaccard 300 / 500 = 0.6
        let (sa, sb) = (
            one_permutation::<128>(a.into_iter()).unwrap(),
            one_permutation::<128>(b.into_iter()).unwrap(),
        );
        let agree = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f32 / 128.0;
        assert!((agree - 0.6).abs() < 0.15, "{agree}");
        // Small sets leave bins empty; densification fills them the same way for both.
        let c = one_permutation::<128>([1u64, 2, 3].into_iter()).unwrap();
        let d = one_permutation::<128>([1u64, 2, 3].into_iter()).unwrap();
        assert_eq!(c, d);
        assert!(one_permutation::<8>(std::iter::empty()).is_none());
    }

    #[test]
    fn a_copy_with_edits_shares_text_bands_and_repeats_its_sentences() {
        let s = sketcher();
        let a = s.sketch(&report(STORY));
        let edited = STORY
            .replace("a week after", "one week after")
            .replace("eleven days", "eleven whole days");
        let b = s.sketch(&report(&edited));
        let shared = a
            .text_bands
            .unwrap()
            .iter()
            .zip(b.text_bands.unwrap().iter())
            .filter(|(x, y)| x == y)
            .count();
        assert!(shared > 0, "no text band in common");
        assert_eq!(b.similarity(&a.sentences, 0.5, 0.25, 0.5), 1.0);
        assert_eq!(b.repeated(&a.sentences, 0.5).len(), b.sentences.len());
        assert!(b.content_similarity(&a) > 0.8);
    }

    #[test]
    fn a_new_status_word_is_news_in_a_repeated_sentence() {
        let s = sketcher();
        let a = s.sketch(&report(
            "Kestrian troops began withdrawing from Varnholt air base on Saturday, officials \
             in the capital said.\n",
        ));
        let b = s.sketch(&report(
            "Kestrian troops completed withdrawing from Varnholt air base on Saturday, \
             officials in the capital said.\n",
        ));
        assert_eq!(
            b.similarity(&a.sentences, 0.5, 0.25, 0.5),
            1.0,
            "the same sentence, one word apart"
        );
        assert!(
            b.repeated(&a.sentences, 0.5).is_empty(),
            "but 'completed' is news"
        );
    }

    #[test]
    fn another_place_or_number_is_another_report() {
        let s = sketcher();
        let a = s.sketch(&report(
            "Truce takes hold in Kelvar province\n\nA truce between the Varn Front and the \
             Ostrian army took effect in Kelvar province on Friday, the Varn Front said.\n",
        ));
        let b = s.sketch(&report(
            "Truce in Brask\n\nA truce between the Varn Front and the Ostrian army took \
             effect in Brask province on Sunday, the Varn Front said.\n",
        ));
        assert_eq!(
            b.similarity(&a.sentences, 0.4, 0.2, 0.0),
            0.0,
            "Brask is not Kelvar"
        );
        assert!(b.repeated(&a.sentences, 0.4).is_empty());
        let c = s.sketch(&report(
            "Convoy arrives\n\nAid convoy number 12 reached the northern district of Velgrad \
             on Monday with 40 trucks.\n",
        ));
        let d = s.sketch(&report(
            "Convoy arrives\n\nAid convoy number 13 reached the northern district of Velgrad \
             on Monday with 40 trucks.\n",
        ));
        assert_eq!(
            d.similarity(&c.sentences, 0.4, 0.2, 0.0),
            0.0,
            "13 is not 12"
        );
        // A particular left out is no new fact: the shorter sentence still matches.
        let e = s.sketch(&report(
            "Truce holds\n\nA truce between the Varn Front and the army took effect in Kelvar \
             province on Friday, the front said.\n",
        ));
        assert_eq!(e.similarity(&a.sentences, 0.4, 0.2, 0.0), 1.0);
        assert_eq!(e.repeated(&a.sentences, 0.4).len(), 1);
        // The headline alone makes no near duplicate, but is itself repeated.
        let f = s.sketch(&report(
            "Truce takes hold in Kelvar province\n\nFarmers around Lake Ost brought in the \
             barley harvest early this year as dry weather held.\n",
        ));
        assert_eq!(f.similarity(&a.sentences, 0.4, 0.2, 0.0), 0.0);
        assert_eq!(f.repeated(&a.sentences, 0.4), vec![0]);
    }

    #[test]
    fn unrelated_reports_share_nothing() {
        let s = sketcher();
        let a = s.sketch(&report(STORY));
        let b = s.sketch(&report(
            "Flood waters recede in Tamzar\n\nTAMZAR - Water levels on the Orvin river fell \
             overnight and the first families returned to the lower town, the mayor said. \
             Engineers will inspect the three bridges before they reopen to traffic. Relief \
             kitchens handed out four thousand meals on Wednesday.\n",
        ));
        assert!(a
            .text_bands
            .unwrap()
            .iter()
            .zip(b.text_bands.unwrap().iter())
            .all(|(x, y)| x != y));
        assert_eq!(b.similarity(&a.sentences, 0.5, 0.25, 0.0), 0.0);
        assert!(b.repeated(&a.sentences, 0.5).is_empty());
        assert!(b.content_similarity(&a) < 0.2);
    }

    #[test]
    fn shuffled_sentences_are_not_in_order() {
        let s = sketcher();
        let a = s.sketch(&report(STORY));
        let mut sentences: Vec<&str> = STORY.split(". ").collect();
        sentences.reverse();
        let b = s.sketch(&report(&sentences.join(". ")));
        let similarity = b.similarity(&a.sentences, 0.5, 0.25, 0.0);
        assert!(similarity < 0.5, "{similarity}");
        assert_eq!(
            b.similarity(&a.sentences, 0.5, 0.25, 0.5),
            0.0,
            "stops early"
        );
        // Each sentence is still known, wherever it stands.
        let repeated = b.repeated(&a.sentences, 0.5);
        assert!(repeated.len() >= 4, "{repeated:?}");
    }

    #[test]
    fn sentence_sketches_round_trip() {
        let s = sketcher();
        let a = s.sketch(&report(STORY));
        let back = SentenceSketches::from_words(&a.sentences.to_words()).unwrap();
        assert_eq!(back, a.sentences);
        assert!(SentenceSketches::from_words(&[0, 40, 0]).is_none());
    }

    #[test]
    fn sentence_similarity_is_exact_for_short_sentences() {
        assert_eq!(sentence_similarity(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(sentence_similarity(&[1, 2], &[1, 2]), 1.0);
        assert_eq!(sentence_similarity(&[], &[1]), 0.0);
    }
}
