//! Name folding: what makes two spellings of one name meet (`Qamishli`/`Qamishlo`,
//! `al-Sharaa`/`Al Shara`, `Jóhannsdóttir`/`Johannsdottir`).
//!
//! Self-contained (no other module of the crate) because the build script compiles it
//! too: the compiled-in gazetteer is indexed by these folds once, at build time, rather
//! than on every start.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lower-cases and strips diacritics (`Jóhannsdóttir` → `johannsdottir`).
pub fn plain_lower(s: &str) -> String {
    // ASCII has no compatibility decompositions and no combining marks.
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The comparison key of a name, from rules in `config/names.toml` (see
/// `text::NameKeyer`, which remembers the keys it built).
///
/// The key keeps what survives transliteration: the first letter of each word and its
/// consonant skeleton after letter-class rewrites (`q`→`k`, `ou`→`u`, doubled letters
/// collapsed). Articles (`al-`, `el-`, `Al `, `the`) and titles are dropped. Two names
/// with the same key and compatible kinds are one entity.
#[derive(Debug, Clone)]
pub struct NameFolder {
    pub(crate) articles: Vec<String>,
    pub(crate) rewrites: Vec<Rewrite>,
}

/// One letter rewrite of [`NameFolder`].
#[derive(Debug, Clone)]
pub(crate) struct Rewrite {
    pub(crate) from: String,
    pub(crate) to: String,
    /// The bytes of `from`: a word without all of them cannot contain it.
    needs: ByteSet,
}

impl NameFolder {
    pub fn new(articles: &[String], rewrites: &[(String, String)]) -> Self {
        Self {
            articles: articles.iter().map(|a| plain_lower(a)).collect(),
            rewrites: rewrites
                .iter()
                .map(|(a, b)| {
                    let from = plain_lower(a);
                    Rewrite {
                        needs: ByteSet::of(&from),
                        from,
                        to: plain_lower(b),
                    }
                })
                .collect(),
        }
    }

    /// The words of a name, lower-cased, without diacritics, articles or possessives,
    /// joined by single spaces: the form under which a gazetteer files a name.
    pub fn plain_words(&self, name: &str) -> String {
        let mut out = String::with_capacity(name.len());
        self.push_plain_words(name, &mut out);
        out
    }

    /// Appends [`Self::plain_words`] of `name` to `out` (cleared first), so that keying
    /// tens of thousands of names reuses one buffer.
    pub fn push_plain_words(&self, name: &str, out: &mut String) {
        out.clear();
        let lower = plain_lower(name);
        let mut count = 0usize;
        // Where the last word starts in `out` (its separator included).
        let mut last = 0;
        for raw in lower.split(is_name_separator) {
            let start = out.len();
            if start > 0 {
                out.push(' ');
            }
            out.extend(raw.chars().filter(|c| c.is_alphanumeric()));
            let word = &out[(start + usize::from(start > 0)).min(out.len())..];
            if word.is_empty() || self.articles.iter().any(|a| a == word) {
                out.truncate(start);
                continue;
            }
            count += 1;
            last = start;
        }
        // "'s" split by the separator above leaves a lone "s" behind.
        if count > 1 && out.ends_with(" s") && out.len() - last == 2 {
            out.truncate(last);
        }
    }

    /// The skeleton of one word (see the type docs).
    pub fn word_key(&self, word: &str) -> String {
        let mut out = String::with_capacity(word.len() + 1);
        self.push_word_key(word, &mut out, &mut String::new(), &mut String::new());
        out
    }

    /// Appends the skeleton of `word` to `out`; `a` and `b` are scratch buffers.
    fn push_word_key(&self, word: &str, out: &mut String, a: &mut String, b: &mut String) {
        a.clear();
        a.push_str(word);
        // Which bytes the word holds, so that a rewrite that cannot apply costs a few bit
        // tests instead of a substring search.
        let mut present = ByteSet::of(a);
        for Rewrite { from, to, needs } in &self.rewrites {
            let Some(&first) = from.as_bytes().first() else {
                // An empty pattern matches everywhere; `str::replace` knows what that means.
                *a = a.replace(from.as_str(), to);
                present = ByteSet::of(a);
                continue;
            };
            if !present.covers(needs) || !replace_into(a, from, to, first, b) {
                continue;
            }
            std::mem::swap(a, b);
            present = ByteSet::of(a);
        }
        let w = a.as_str();
        let mut prev = '\0';
        for (i, c) in w.chars().enumerate() {
            let vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
            // A doubled letter is a spelling variant; a repeated digit is another number
            // (Unit 11 is not Unit 1).
            if i > 0 && (vowel || c == prev && !c.is_numeric()) {
                prev = c;
                continue;
            }
            // The first letter is kept even when it is a vowel: "Amari" and "Omari" differ.
            out.push(c);
            prev = c;
        }
        // Whether the word ends in a vowel survives transliteration (Qamishli/Qamishlo,
        // Sharaa/Shara) and tells apart names that differ by a suffix (Kell/Kella).
        if w.len() > 1 && w.ends_with(['a', 'e', 'i', 'o', 'u', 'y']) {
            out.push('_');
        }
    }

    /// The key of a whole name: word skeletons joined by spaces.
    pub fn key(&self, name: &str) -> String {
        // The same words as `words`, keyed as they are found instead of collected.
        let lower = plain_lower(name);
        let mut key = String::with_capacity(lower.len() + 4);
        // A rewrite at most doubles a word ("x" to "ks" is the longest in use); room for
        // that spares regrowing the scratch buffers.
        let room = 2 * lower.len() + 8;
        let mut word = String::with_capacity(lower.len());
        let (mut a, mut b) = (String::with_capacity(room), String::with_capacity(room));
        let mut count = 0usize;
        // Where the last word's skeleton starts in `key` (its separator included), and
        // whether that word is a lone "s".
        let mut last = (0, false);
        for raw in lower.split(is_name_separator) {
            word.clear();
            word.extend(raw.chars().filter(|c| c.is_alphanumeric()));
            if word.is_empty() || self.articles.contains(&word) {
                continue;
            }
            count += 1;
            last = (key.len(), word == "s");
            if !key.is_empty() {
                key.push(' ');
            }
            self.push_word_key(&word, &mut key, &mut a, &mut b);
        }
        // "'s" split by the separators leaves a lone "s" behind.
        if count > 1 && last.1 {
            key.truncate(last.0);
        }
        key
    }
}

/// The characters that separate the words of a name.
pub(crate) fn is_name_separator(c: char) -> bool {
    c.is_whitespace() || c == '-' || c == '\'' || c == '.'
}

/// A set of byte values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByteSet(pub(crate) [u64; 4]);

impl ByteSet {
    pub(crate) fn of(s: &str) -> Self {
        let mut set = Self([0; 4]);
        for b in s.bytes() {
            set.insert(b);
        }
        set
    }

    pub(crate) fn has(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    pub(crate) fn insert(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    /// True when every byte of `other` is in the set.
    pub(crate) fn covers(&self, other: &ByteSet) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a & b == *b)
    }
}

/// Writes `src.replace(from, to)` into `dst` when `src` contains `from` (whose first byte
/// is `first`) and returns whether it did. Matches are taken left to right without
/// overlaps, as `str::replace` takes them; a match can only start on a character boundary
/// because `first` starts a character.
fn replace_into(src: &str, from: &str, to: &str, first: u8, dst: &mut String) -> bool {
    let (s, f) = (src.as_bytes(), from.as_bytes());
    let mut copied = 0;
    let mut i = 0;
    let mut found = false;
    while i + f.len() <= s.len() {
        if s[i] == first && s[i..].starts_with(f) {
            if !found {
                dst.clear();
                found = true;
            }
            dst.push_str(&src[copied..i]);
            dst.push_str(to);
            i += f.len();
            copied = i;
        } else {
            i += 1;
        }
    }
    if found {
        dst.push_str(&src[copied..]);
    }
    found
}
