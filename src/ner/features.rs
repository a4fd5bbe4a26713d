//! The feature templates, shared by training and tagging so that both see exactly the same
//! features.
//!
//! Every feature is a 64-bit key: a template id mixed with the hash of a value (a word, a
//! shape, a cluster, a pair of them). The model maps a key's top bits to a bucket of its
//! weight table, so no feature string is ever built: tagging a token costs a handful of
//! hashes of the token's bytes and one table lookup per feature. Keys must never change
//! for a given model; [`FEATURE_VERSION`] is stored in the model file and bumped whenever a
//! template changes, so an old model is refused instead of silently tagging badly.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use super::clusters::unpack;

/// Version of the feature templates below; stored in the model file.
pub const FEATURE_VERSION: u32 = 1;

/// A `Hasher` for keys that already are uniformly distributed hashes.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A map keyed by hashes.
pub type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;
/// A set of hashes.
pub type IdSet = HashSet<u64, BuildHasherDefault<IdHasher>>;

/// Mixes two 64-bit values into a well-spread key (the top bits choose the bucket).
#[inline]
pub fn mix(a: u64, b: u64) -> u64 {
    let x = (a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    x ^ (x >> 32)
}

/// Template ids. Never renumber without bumping [`FEATURE_VERSION`].
mod tpl {
    pub const BIAS: u64 = 1;
    pub const WORD: u64 = 2;
    pub const LOWER: u64 = 3;
    pub const SHAPE: u64 = 4;
    pub const LONG_SHAPE: u64 = 5;
    pub const PREFIX: u64 = 6; // 6..=9
    pub const SUFFIX: u64 = 10; // 10..=13
    pub const FLAGS: u64 = 14;
    pub const LOWER_M1: u64 = 15;
    pub const LOWER_P1: u64 = 16;
    pub const LOWER_M2: u64 = 17;
    pub const LOWER_P2: u64 = 18;
    pub const SHAPE_M1: u64 = 19;
    pub const SHAPE_P1: u64 = 20;
    pub const SHAPE_TRI: u64 = 21;
    pub const LOWER_BI_L: u64 = 22;
    pub const LOWER_BI_R: u64 = 23;
    pub const SHAPE_LOWER_M1: u64 = 24;
    pub const SHAPE_LOWER_P1: u64 = 25;
    pub const START_SHAPE: u64 = 26;
    pub const CLUSTER: u64 = 27; // 27: coarse, 28: fine, 29: fine and shape
    pub const CLUSTER_M1: u64 = 31;
    pub const CLUSTER_P1: u64 = 32;
    pub const GAZ: u64 = 33;
    pub const CAP_ELSEWHERE: u64 = 34;
    pub const LOWER_ELSEWHERE: u64 = 35;
    pub const DOC_PREV: u64 = 36;
    pub const DOC_PREV_POS: u64 = 37;
    pub const CAPS_SENTENCE: u64 = 38;
    pub const SUFFIX_M1: u64 = 39;
    pub const CLUSTER_M2: u64 = 40;
    pub const CLUSTER_P2: u64 = 41;
}

/// Value of a position outside the sentence.
const BOS: u64 = 0x6B0F_7E55_A11C_E5B0;
const EOS: u64 = 0x3E0D_5E17_7E6C_E0F1;

// Token flags.
pub const F_TITLE: u32 = 1;
pub const F_UPPER: u32 = 1 << 1;
pub const F_DIGIT: u32 = 1 << 2;
pub const F_HYPHEN: u32 = 1 << 3;
pub const F_DOT: u32 = 1 << 4;
pub const F_ALPHA: u32 = 1 << 5;
pub const F_CAP: u32 = 1 << 6;
pub const F_APOS: u32 = 1 << 7;
pub const F_INITIAL: u32 = 1 << 8;
pub const F_ALL_DIGITS: u32 = 1 << 9;
pub const F_LOWER: u32 = 1 << 10;

/// Gazetteer bits: the CoNLL types of names in the training data's entity lists, and the
/// kinds of sitrep's own gazetteer.
pub const GAZ_PER: u8 = 1;
pub const GAZ_LOC: u8 = 1 << 1;
pub const GAZ_ORG: u8 = 1 << 2;
pub const GAZ_MISC: u8 = 1 << 3;
pub const GAZ_PLACE: u8 = 1 << 4;
pub const GAZ_ORGANIZATION: u8 = 1 << 5;
pub const GAZ_PERSON: u8 = 1 << 6;
pub const GAZ_DEMONYM: u8 = 1 << 7;

/// Longest gazetteer name, in tokens.
pub const GAZ_MAX_LEN: usize = 6;

/// What the model knows about words beyond its weights: word clusters and name lists.
#[derive(Debug, Default, Clone)]
pub struct Lexicon {
    /// Hash of a lower-case word → cluster code (see [`super::clusters::pack`]).
    pub clusters: IdMap<u32>,
    /// Hash of a lower-case token sequence ([`span_key`]) → gazetteer bits.
    pub gazetteer: IdMap<u8>,
    /// The words without a capital that names hold beside a capitalised word (`van`,
    /// `de`, `of`, a possessive `'s`), by [`lower_hash`], the hash a token's
    /// [`TokenFacts::lower`] is: the tagger searches for names around them (see
    /// `tagger::plain_run`).
    pub name_words: IdMap<()>,
}

/// Seed of the gazetteer's token-sequence hash.
const GAZ_SEED: u64 = 0x5EED_6A2E_77EE_0001;

/// The gazetteer key of a token sequence, from the tokens' lower-case hashes.
pub fn span_key(lowers: impl IntoIterator<Item = u64>) -> u64 {
    lowers.into_iter().fold(GAZ_SEED, mix)
}

/// The hash of a string (tokens, lower-case forms).
#[inline]
pub fn hash_str(s: &str) -> u64 {
    xxh3_64(s.as_bytes())
}

/// Lower-cases `s` into `buf`.
pub fn lower_into(s: &str, buf: &mut String) {
    buf.clear();
    if s.is_ascii() {
        buf.extend(s.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        buf.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// Hash of the lower-case form of `s`.
pub fn lower_hash(s: &str, buf: &mut String) -> u64 {
    lower_into(s, buf);
    hash_str(buf)
}

/// Reusable buffers, so computing features allocates nothing once warm.
#[derive(Debug, Default)]
pub struct Scratch {
    a: String,
    b: String,
}

/// What the features need to know about one token, computed once per token.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokInfo {
    pub word: u64,
    pub lower: u64,
    pub shape: u64,
    pub long_shape: u64,
    /// Prefix keys (lengths 1 to 4), then suffix keys.
    pub affixes: [u64; 8],
    pub flags: u32,
    /// Cluster code, 0 when the word has none.
    pub cluster: u32,
}

impl TokInfo {
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }
}

/// What the features of a token's neighbourhood (its context, the gazetteer, the
/// document) read of each token: three of [`TokInfo`]'s fields. Training passes whole
/// `TokInfo`s; the tagger keeps a [`TokCore`] per token, a quarter of the size, as the
/// rest only matters once per word form, when its sums go into the word cache.
pub trait TokenFacts {
    fn lower(&self) -> u64;
    fn shape(&self) -> u64;
    fn flags(&self) -> u32;
    fn has(&self, f: u32) -> bool {
        self.flags() & f != 0
    }
}

/// The [`TokenFacts`] of a token and nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TokCore {
    pub lower: u64,
    pub shape: u64,
    pub flags: u32,
}

impl From<&TokInfo> for TokCore {
    fn from(t: &TokInfo) -> Self {
        Self {
            lower: t.lower,
            shape: t.shape,
            flags: t.flags,
        }
    }
}

/// Both records hold the facts as fields of the same names.
macro_rules! token_facts {
    ($($t:ty),*) => {$(
        impl TokenFacts for $t {
            fn lower(&self) -> u64 {
                self.lower
            }
            fn shape(&self) -> u64 {
                self.shape
            }
            fn flags(&self) -> u32 {
                self.flags
            }
        }
    )*};
}

token_facts!(TokInfo, TokCore);

fn shape_class(c: char) -> char {
    if c.is_uppercase() {
        'X'
    } else if c.is_alphabetic() {
        'x'
    } else if c.is_numeric() {
        'd'
    } else {
        c
    }
}

/// Computes a token's [`TokInfo`].
pub fn token_info(tok: &str, lex: &Lexicon, scratch: &mut Scratch) -> TokInfo {
    let (long, collapsed) = (&mut scratch.a, &mut scratch.b);
    long.clear();
    collapsed.clear();
    let mut flags = 0;
    let (mut n, mut upper, mut lower, mut digits) = (0usize, 0usize, 0usize, 0usize);
    let mut last = '\0';
    for c in tok.chars() {
        n += 1;
        if c.is_uppercase() {
            upper += 1;
        } else if c.is_alphabetic() {
            lower += 1;
        } else if c.is_numeric() {
            digits += 1;
        } else if c == '-' {
            flags |= F_HYPHEN;
        } else if c == '.' {
            flags |= F_DOT;
        } else if c == '\'' {
            flags |= F_APOS;
        }
        let s = shape_class(c);
        if n <= 16 {
            long.push(s);
        }
        if s != last {
            collapsed.push(s);
            last = s;
        }
    }
    let first_upper = tok.chars().next().is_some_and(char::is_uppercase);
    if first_upper {
        flags |= F_CAP;
        if lower > 0 && upper == 1 {
            flags |= F_TITLE;
        }
    }
    if upper + lower > 0 {
        flags |= F_ALPHA;
        if lower == 0 {
            flags |= F_UPPER;
        }
        if upper == 0 {
            flags |= F_LOWER;
        }
    }
    if digits > 0 {
        flags |= F_DIGIT;
        if digits == n {
            flags |= F_ALL_DIGITS;
        }
    }
    if n == 2 && first_upper && tok.ends_with('.') {
        flags |= F_INITIAL;
    }
    let shape = hash_str(collapsed);
    let long_shape = hash_str(long);
    // Prefixes and suffixes of 1 to 4 characters (the whole word when it is shorter).
    let bytes = tok.as_bytes();
    let mut affixes = [0u64; 8];
    let mut fwd = tok.char_indices().map(|(i, c)| i + c.len_utf8());
    let mut back = tok.char_indices().rev().map(|(i, _)| i);
    let (mut end, mut start) = (0, tok.len());
    for k in 0..4 {
        end = fwd.next().unwrap_or(end);
        start = back.next().unwrap_or(start);
        affixes[k] = xxh3_64_with_seed(&bytes[..end], tpl::PREFIX + k as u64);
        affixes[4 + k] = xxh3_64_with_seed(&bytes[start..], tpl::SUFFIX + k as u64);
    }
    let lower_h = lower_hash(tok, long);
    TokInfo {
        word: hash_str(tok),
        lower: lower_h,
        shape,
        long_shape,
        affixes,
        flags,
        cluster: lex.clusters.get(&lower_h).copied().unwrap_or(0),
    }
}

/// Where a capitalized token sits, for the document features: names look different at the
/// start of a sentence, in an all-capitals headline and in running text.
fn position_class(info: &impl TokenFacts, i: usize, caps_sentence: bool) -> u64 {
    if caps_sentence {
        2
    } else if i == 0 {
        1
    } else if info.has(F_UPPER) {
        3
    } else {
        0
    }
}

/// True for a sentence written in capitals (a CoNLL headline, a wire slug).
pub fn is_caps_sentence(infos: &[impl TokenFacts]) -> bool {
    let mut words = 0;
    for t in infos {
        if t.has(F_ALPHA) {
            if !t.has(F_UPPER) {
                return false;
            }
            words += 1;
        }
    }
    words >= 2
}

/// Facts about a whole document that help with each of its tokens: which words it also
/// writes capitalized in running text (so "SOMERSET" in a headline or "Somerset" opening a
/// sentence is a name) and which it also writes in lower case (so "Take" is not).
#[derive(Debug, Default)]
pub struct DocContext {
    pub cap_mid: IdSet,
    pub lower_seen: IdSet,
}

impl DocContext {
    pub fn clear(&mut self) {
        self.cap_mid.clear();
        self.lower_seen.clear();
    }

    /// Adds one sentence's tokens.
    pub fn add_sentence(&mut self, infos: &[impl TokenFacts]) {
        self.add_cap_mid(infos);
        for t in infos.iter().filter(|t| t.has(F_LOWER)) {
            self.lower_seen.insert(t.lower());
        }
    }

    /// Adds one sentence's capitalized words in running text, and only those.
    pub fn add_cap_mid(&mut self, infos: &[impl TokenFacts]) {
        let caps = is_caps_sentence(infos);
        for (i, t) in infos.iter().enumerate() {
            if !caps && i > 0 && !t.has(F_LOWER) && t.has(F_TITLE) {
                self.cap_mid.insert(t.lower());
            }
        }
    }
}

/// What the document features ask of a document, by a word's lower-case hash: whether
/// the document writes the word capitalized in running text, and whether it writes it in
/// lower case. Training keeps both as sets ([`DocContext`]); the tagger answers the second
/// from marks on its word cache (and a set for the few words whose hash is not their
/// lower-case hash), as nearly every token is a lower-case word and a set insertion for
/// each cost more than the rest of the document features.
pub trait DocFacts {
    fn cap_mid(&self, lower: u64) -> bool;
    fn lower_seen(&self, lower: u64) -> bool;
}

impl DocFacts for DocContext {
    fn cap_mid(&self, lower: u64) -> bool {
        self.cap_mid.contains(&lower)
    }

    fn lower_seen(&self, lower: u64) -> bool {
        self.lower_seen.contains(&lower)
    }
}

/// Gazetteer matches of a sentence: `(start, len, bits)`, every match of every length.
pub fn gazetteer_matches(infos: &[impl TokenFacts], lex: &Lexicon, out: &mut Vec<(u32, u8, u8)>) {
    out.clear();
    if lex.gazetteer.is_empty() {
        return;
    }
    for s in 0..infos.len() {
        let first = &infos[s];
        if !first.has(F_CAP) && !first.has(F_DIGIT) {
            continue;
        }
        let mut h = GAZ_SEED;
        for len in 1..=GAZ_MAX_LEN.min(infos.len() - s) {
            h = mix(h, infos[s + len - 1].lower());
            if let Some(&bits) = lex.gazetteer.get(&h) {
                out.push((s as u32, len as u8, bits));
            }
        }
    }
}

/// The roles a word's features play in a token's features: the token itself, or its
/// neighbour two or one before it, or one or two after it. Features that depend on one
/// word in one role only (most of them) can be summed once per word form and reused: that
/// is what makes tagging fast (see `tagger::WordCache`).
pub const ROLES: usize = 5;
pub const ROLE_SELF: usize = 0;
/// The word is the token before (`-1`), two before (`-2`), after (`+1`), two after (`+2`).
pub const ROLE_M1: usize = 1;
pub const ROLE_M2: usize = 2;
pub const ROLE_P1: usize = 3;
pub const ROLE_P2: usize = 4;

/// A word's fine or coarse class as a neighbour feature value (`u32::MAX`: no cluster).
fn neighbour_class(t: &TokInfo, fine: bool) -> u64 {
    let (c, f) = unpack(t.cluster);
    u64::from(if t.cluster == 0 {
        u32::MAX
    } else if fine {
        f
    } else {
        c
    })
}

/// The features word `t` gives a token in `role`.
pub fn word_keys(t: &TokInfo, role: usize, out: &mut Vec<u64>) {
    match role {
        ROLE_SELF => {
            out.push(mix(tpl::BIAS, 0));
            out.push(mix(tpl::WORD, t.word));
            out.push(mix(tpl::LOWER, t.lower));
            out.push(mix(tpl::SHAPE, t.shape));
            out.push(mix(tpl::LONG_SHAPE, t.long_shape));
            out.extend_from_slice(&t.affixes);
            out.push(mix(tpl::FLAGS, u64::from(t.flags)));
            if t.cluster != 0 {
                let (coarse, fine) = unpack(t.cluster);
                out.push(mix(tpl::CLUSTER, u64::from(coarse)));
                out.push(mix(tpl::CLUSTER + 1, u64::from(fine)));
                out.push(mix(mix(tpl::CLUSTER + 2, u64::from(fine)), t.shape));
            }
        }
        ROLE_M1 => {
            out.push(mix(tpl::LOWER_M1, t.lower));
            out.push(mix(tpl::SHAPE_M1, t.shape));
            out.push(mix(tpl::CLUSTER_M1, neighbour_class(t, true)));
            out.push(mix(tpl::SUFFIX_M1, t.affixes[6]));
        }
        ROLE_M2 => {
            out.push(mix(tpl::LOWER_M2, t.lower));
            out.push(mix(tpl::CLUSTER_M2, neighbour_class(t, false)));
        }
        ROLE_P1 => {
            out.push(mix(tpl::LOWER_P1, t.lower));
            out.push(mix(tpl::SHAPE_P1, t.shape));
            out.push(mix(tpl::CLUSTER_P1, neighbour_class(t, true)));
        }
        _ => {
            out.push(mix(tpl::LOWER_P2, t.lower));
            out.push(mix(tpl::CLUSTER_P2, neighbour_class(t, false)));
        }
    }
}

/// The features a missing neighbour (before the start or after the end of the sentence)
/// gives a token in `role` (`ROLE_SELF` gives none).
pub fn boundary_keys(role: usize, out: &mut Vec<u64>) {
    match role {
        ROLE_M1 => {
            out.push(mix(tpl::LOWER_M1, BOS));
            out.push(mix(tpl::SHAPE_M1, BOS));
            out.push(mix(tpl::CLUSTER_M1, BOS));
        }
        ROLE_M2 => {
            out.push(mix(tpl::LOWER_M2, BOS));
            out.push(mix(tpl::CLUSTER_M2, BOS));
        }
        ROLE_P1 => {
            out.push(mix(tpl::LOWER_P1, EOS));
            out.push(mix(tpl::SHAPE_P1, EOS));
            out.push(mix(tpl::CLUSTER_P1, EOS));
        }
        ROLE_P2 => {
            out.push(mix(tpl::LOWER_P2, EOS));
            out.push(mix(tpl::CLUSTER_P2, EOS));
        }
        _ => {}
    }
}

/// The token's other static features: those of two or more words at once (word pairs,
/// shape trigrams), of its place in the sentence, of gazetteer matches and of the
/// document. `gaz` comes from [`gazetteer_matches`]; `g` is the caller's cursor into it
/// (start at 0 for each sentence and pass tokens in order).
#[allow(clippy::too_many_arguments)]
pub fn context_keys(
    infos: &[impl TokenFacts],
    i: usize,
    caps: bool,
    gaz: &[(u32, u8, u8)],
    g: &mut usize,
    doc: &impl DocFacts,
    out: &mut Vec<u64>,
) {
    let t = &infos[i];
    let (lower, shape) = (t.lower(), t.shape());
    let (lm1, sm1) = match i.checked_sub(1).map(|j| &infos[j]) {
        Some(p) => (p.lower(), p.shape()),
        None => (BOS, BOS),
    };
    let (lp1, sp1) = match infos.get(i + 1) {
        Some(n) => (n.lower(), n.shape()),
        None => (EOS, EOS),
    };
    out.push(mix(mix(mix(tpl::SHAPE_TRI, sm1), shape), sp1));
    out.push(mix(mix(tpl::LOWER_BI_L, lm1), lower));
    out.push(mix(mix(tpl::LOWER_BI_R, lower), lp1));
    out.push(mix(mix(tpl::SHAPE_LOWER_M1, shape), lm1));
    out.push(mix(mix(tpl::SHAPE_LOWER_P1, shape), lp1));
    if i == 0 {
        out.push(mix(tpl::START_SHAPE, shape));
    }
    if caps {
        out.push(mix(tpl::CAPS_SENTENCE, lower));
    }
    // Gazetteer matches covering this token, with the token's place in the match.
    // Matches are sorted by start and at most GAZ_MAX_LEN long.
    while *g < gaz.len() && gaz[*g].0 as usize + GAZ_MAX_LEN <= i {
        *g += 1;
    }
    for &(s, len, bits) in &gaz[*g..] {
        let (s, len) = (s as usize, len as usize);
        if s > i {
            break;
        }
        if s + len <= i {
            continue;
        }
        let part: u64 = if len == 1 {
            3
        } else if i == s {
            0
        } else if i + 1 == s + len {
            2
        } else {
            1
        };
        let mut b = bits;
        while b != 0 {
            let bit = u64::from(b.trailing_zeros());
            b &= b - 1;
            out.push(mix(mix(tpl::GAZ, bit), part));
        }
    }
    if t.has(F_CAP) {
        let pos = position_class(t, i, caps);
        if doc.cap_mid(lower) {
            out.push(mix(tpl::CAP_ELSEWHERE, pos));
        }
        if doc.lower_seen(lower) {
            out.push(mix(tpl::LOWER_ELSEWHERE, pos));
        }
    }
}

/// The static features of every token of a sentence: `keys[offsets[i]..offsets[i + 1]]`
/// are token `i`'s. `gaz` comes from [`gazetteer_matches`]. Training uses this flat list;
/// tagging sums the same features through a per-word cache.
pub fn sentence_keys(
    infos: &[TokInfo],
    gaz: &[(u32, u8, u8)],
    doc: &DocContext,
    keys: &mut Vec<u64>,
    offsets: &mut Vec<u32>,
) {
    keys.clear();
    offsets.clear();
    let n = infos.len();
    let caps = is_caps_sentence(infos);
    let mut g = 0;
    for i in 0..n {
        offsets.push(keys.len() as u32);
        word_keys(&infos[i], ROLE_SELF, keys);
        for (role, j) in [
            (ROLE_M1, i.checked_sub(1)),
            (ROLE_M2, i.checked_sub(2)),
            (ROLE_P1, Some(i + 1).filter(|&j| j < n)),
            (ROLE_P2, Some(i + 2).filter(|&j| j < n)),
        ] {
            match j {
                Some(j) => word_keys(&infos[j], role, keys),
                None => boundary_keys(role, keys),
            }
        }
        context_keys(infos, i, caps, gaz, &mut g, doc, keys);
    }
    offsets.push(keys.len() as u32);
}

/// The label a document gave a word earlier (0 = outside a name, else 1 + type index).
pub type DocLabel = u8;

/// The features of what the document said about a token earlier: the label its previous
/// occurrence got ("Blackburn" after "Peter Blackburn" was tagged a person). Only for
/// capitalized tokens, whose previous label is informative.
pub fn doc_keys(
    info: &impl TokenFacts,
    i: usize,
    caps_sentence: bool,
    prev: DocLabel,
    out: &mut Vec<u64>,
) {
    let pos = position_class(info, i, caps_sentence);
    out.push(mix(tpl::DOC_PREV, u64::from(prev)));
    out.push(mix(mix(tpl::DOC_PREV_POS, u64::from(prev)), pos));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(t: &str) -> TokInfo {
        token_info(t, &Lexicon::default(), &mut Scratch::default())
    }

    #[test]
    fn flags_and_shapes() {
        let a = info("Leicestershire");
        assert!(a.has(F_TITLE) && a.has(F_CAP) && !a.has(F_UPPER));
        let b = info("U.S.");
        assert!(b.has(F_UPPER) && b.has(F_DOT));
        assert_eq!(info("Xyz").shape, info("Abcdef").shape);
        assert_ne!(info("Xyz").long_shape, info("Abcdef").long_shape);
        assert!(info("1996").has(F_ALL_DIGITS));
        assert!(info("al-Sharaa").has(F_HYPHEN) && !info("al-Sharaa").has(F_CAP));
        assert!(info("J.").has(F_INITIAL));
        // Affixes of short and non-ASCII words stay on character boundaries.
        let c = info("Ö");
        assert_eq!(c.affixes[0], c.affixes[0]);
        assert_eq!(info("ab").affixes[2], info("ab").affixes[2]);
    }

    #[test]
    fn same_text_same_keys() {
        let lex = Lexicon::default();
        let mut s = Scratch::default();
        let infos: Vec<_> = ["Peter", "Blackburn", "said", "."]
            .iter()
            .map(|t| token_info(t, &lex, &mut s))
            .collect();
        let doc = DocContext::default();
        let (mut k1, mut o1, mut k2, mut o2) = (vec![], vec![], vec![], vec![]);
        sentence_keys(&infos, &[], &doc, &mut k1, &mut o1);
        sentence_keys(&infos, &[], &doc, &mut k2, &mut o2);
        assert_eq!(k1, k2);
        assert_eq!(o1.len(), 5);
        assert_eq!(*o1.last().unwrap() as usize, k1.len());
    }

    #[test]
    fn gazetteer_marks_every_token_of_a_match() {
        let mut lex = Lexicon::default();
        let mut s = Scratch::default();
        let words = ["New", "York", "Times"];
        let infos: Vec<_> = words.iter().map(|t| token_info(t, &lex, &mut s)).collect();
        lex.gazetteer
            .insert(span_key(infos[..2].iter().map(|t| t.lower)), GAZ_LOC);
        let mut m = Vec::new();
        gazetteer_matches(&infos, &lex, &mut m);
        assert_eq!(m, vec![(0, 2, GAZ_LOC)]);
        let (mut keys, mut offs) = (vec![], vec![]);
        sentence_keys(&infos, &m, &DocContext::default(), &mut keys, &mut offs);
        let gaz_b = mix(mix(tpl::GAZ, 1), 0);
        let gaz_l = mix(mix(tpl::GAZ, 1), 2);
        assert!(keys[offs[0] as usize..offs[1] as usize].contains(&gaz_b));
        assert!(keys[offs[1] as usize..offs[2] as usize].contains(&gaz_l));
        assert!(!keys[offs[2] as usize..].contains(&gaz_l));
    }
}
