//! Text primitives shared by every stage: folding for matching, tokens, name keys.
//!
//! Matching never works on the original bytes of a report: typographic quotes, dashes,
//! odd spaces and composed/decomposed accents would make the same word look different.
//! Everything that compares text goes through [`fold`], and everything that compares
//! *names* goes through [`NameKeyer::key`], so that spelling variants of one name
//! (Qamishli/Qamishlo, al-Sharaa/Al Shara, Jóhannsdóttir/Johannsdottir) meet on one key.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Folds one character for matching: typographic quotes to ASCII quotes, dashes to `-`,
/// every kind of space to a plain space. Returns the character unchanged otherwise.
pub fn fold_char(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2039}'
        | '\u{203A}' | '`' | '\u{00B4}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => '"',
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' => '-',
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\t' => ' ',
        _ => c,
    }
}

/// NFC-normalizes `s`, folds quotes/dashes/spaces and collapses whitespace runs
/// (newlines included) to one space. Zero-width characters are dropped.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfc() {
        // A long dash separates words even without spaces ("al-Sharaa—both").
        if matches!(c, '\u{2013}' | '\u{2014}' | '\u{2015}') {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push('-');
            pending_space = true;
            continue;
        }
        let c = fold_char(c);
        if matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' | '\u{00AD}'
        ) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Lower-cases and strips diacritics (`Jóhannsdóttir` → `johannsdottir`).
pub fn plain_lower(s: &str) -> String {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a token is, as far as the name and cue matchers care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Letters (possibly with inner hyphens, apostrophes or dots: `al-Sharaa`, `U.S`).
    Word,
    /// Digits, possibly with inner `.`/`,`/`:` (`2.5`, `62,000`, `06:00`).
    Number,
    /// Any single other character.
    Punct,
}

/// `text.to_lowercase() == lower` without allocating: the hot comparisons of the
/// recognizers run once per token and lexicon entry.
pub fn eq_lower(text: &str, lower: &str) -> bool {
    text.chars().flat_map(char::to_lowercase).eq(lower.chars())
}

/// A token of a folded sentence, with byte offsets into that sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
    pub kind: TokenKind,
}

impl Token<'_> {
    /// True when the token starts with an upper-case letter (`Qamishli`, `SDF`, `al-Sharaa`
    /// is not, `Al-Sharaa` is).
    pub fn is_capitalized(&self) -> bool {
        self.kind == TokenKind::Word && self.text.chars().next().is_some_and(char::is_uppercase)
    }

    /// True for an all-capitals word of two or more letters (`SDF`, `UNHCR`, `U.S`).
    pub fn is_acronym(&self) -> bool {
        let letters = self.text.chars().filter(|c| c.is_alphabetic()).count();
        self.kind == TokenKind::Word
            && letters >= 2
            && self
                .text
                .chars()
                .all(|c| !c.is_alphabetic() || c.is_uppercase())
    }
}

/// Splits folded text into tokens. Hyphens, apostrophes and dots stay inside a word when
/// a letter follows them (`al-Sharaa`, `O'Neil`, `U.S`); a possessive `'s` is split off so
/// that `Assad's` yields the name `Assad`.
pub fn tokenize(s: &str) -> Vec<Token<'_>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(s.len() / 5);
    let mut chars = s.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if c.is_alphanumeric() {
            let numeric = c.is_ascii_digit();
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                if d.is_alphanumeric() {
                    end = i + d.len_utf8();
                    chars.next();
                    continue;
                }
                let joiner = if numeric {
                    matches!(d, '.' | ',' | ':')
                } else {
                    matches!(d, '-' | '\'' | '.')
                };
                if joiner {
                    let next = s[i + d.len_utf8()..].chars().next();
                    let joins = match next {
                        Some(n) if numeric => n.is_ascii_digit(),
                        // A dot joins only letter-dot-letter runs (U.S, e.g): "end.Next" is rare,
                        // and a sentence splitter has already cut at real sentence ends.
                        Some(n) if d == '.' => n.is_alphabetic() && is_initialism(&s[start..i]),
                        Some(n) => n.is_alphabetic(),
                        None => false,
                    };
                    if joins {
                        chars.next();
                        continue;
                    }
                }
                break;
            }
            let text = &s[start..end];
            // Split a trailing possessive: "Assad's" -> "Assad" + "'s".
            if !numeric {
                if let Some(stem) = text.strip_suffix("'s").filter(|t| !t.is_empty()) {
                    out.push(Token {
                        text: stem,
                        start,
                        end: start + stem.len(),
                        kind: TokenKind::Word,
                    });
                    out.push(Token {
                        text: "'s",
                        start: start + stem.len(),
                        end,
                        kind: TokenKind::Punct,
                    });
                    continue;
                }
            }
            let kind = if numeric {
                TokenKind::Number
            } else {
                TokenKind::Word
            };
            out.push(Token {
                text,
                start,
                end,
                kind,
            });
        } else {
            let end = start + c.len_utf8();
            debug_assert!(end <= bytes.len());
            out.push(Token {
                text: &s[start..end],
                start,
                end,
                kind: TokenKind::Punct,
            });
        }
    }
    out
}

/// `U`, `U.S`, `e.g`: single letters separated by dots.
fn is_initialism(s: &str) -> bool {
    s.split('.').all(|part| part.chars().count() == 1)
}

/// Builds the comparison key of a name, from rules in `config/names.toml`.
///
/// The key keeps what survives transliteration: the first letter of each word and its
/// consonant skeleton after letter-class rewrites (`q`→`k`, `ou`→`u`, doubled letters
/// collapsed). Articles (`al-`, `el-`, `Al `, `the`) and titles are dropped. Two names
/// with the same key and compatible kinds are one entity.
#[derive(Debug, Clone)]
pub struct NameKeyer {
    articles: Vec<String>,
    rewrites: Vec<(String, String)>,
}

impl NameKeyer {
    pub fn new(articles: &[String], rewrites: &[(String, String)]) -> Self {
        Self {
            articles: articles.iter().map(|a| plain_lower(a)).collect(),
            rewrites: rewrites
                .iter()
                .map(|(a, b)| (plain_lower(a), plain_lower(b)))
                .collect(),
        }
    }

    /// The words of a name, lower-cased, without diacritics, articles or possessives.
    pub fn words(&self, name: &str) -> Vec<String> {
        let lower = plain_lower(name);
        let mut words = Vec::new();
        for raw in lower.split(|c: char| c.is_whitespace() || c == '-' || c == '\'' || c == '.') {
            let w: String = raw.chars().filter(|c| c.is_alphanumeric()).collect();
            if w.is_empty() || self.articles.contains(&w) {
                continue;
            }
            words.push(w);
        }
        // "'s" split by the separator above leaves a lone "s" behind.
        if words.len() > 1 && words.last().is_some_and(|w| w == "s") {
            words.pop();
        }
        words
    }

    /// The skeleton of one word (see the type docs).
    pub fn word_key(&self, word: &str) -> String {
        let mut w = word.to_string();
        for (from, to) in &self.rewrites {
            if w.contains(from.as_str()) {
                w = w.replace(from.as_str(), to);
            }
        }
        let mut out = String::with_capacity(w.len());
        let mut prev = '\0';
        for (i, c) in w.chars().enumerate() {
            let vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
            if i > 0 && (vowel || c == prev) {
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
        out
    }

    /// The key of a whole name: word skeletons joined by spaces.
    pub fn key(&self, name: &str) -> String {
        let words = self.words(name);
        let mut key = String::new();
        for w in &words {
            if !key.is_empty() {
                key.push(' ');
            }
            key.push_str(&self.word_key(w));
        }
        key
    }
}

/// A URL- and id-safe slug: lower-case ASCII letters and digits separated by `-`.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in plain_lower(s).chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    if out.is_empty() {
        out.push('x');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyer() -> NameKeyer {
        let articles = ["al", "el", "the"].map(String::from);
        let rewrites = [("ou", "u"), ("q", "k"), ("ph", "f"), ("ck", "k")]
            .map(|(a, b)| (a.to_string(), b.to_string()));
        NameKeyer::new(&articles, &rewrites)
    }

    #[test]
    fn eq_lower_matches_to_lowercase() {
        for (a, b) in [
            ("Gen", "gen"),
            ("GEN", "gen"),
            ("Gen", "ge"),
            ("ÉLYSÉE", "élysée"),
            ("x", "y"),
        ] {
            assert_eq!(eq_lower(a, b), a.to_lowercase() == b, "{a} {b}");
        }
    }

    #[test]
    fn fold_quotes_dashes_and_spaces() {
        assert_eq!(fold("  “Hi”\u{00A0}– it’s\n\nfine "), "\"Hi\" - it's fine");
        assert_eq!(fold("Jóhannsdo\u{0301}ttir"), "Jóhannsdóttir");
        assert_eq!(fold("al-Sharaa\u{2014}both"), "al-Sharaa - both");
    }

    #[test]
    fn tokenize_keeps_hyphenated_names_and_splits_possessives() {
        let toks: Vec<_> = tokenize("al-Sharaa met Assad's U.S. envoy, 62,000 left.")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(
            toks,
            [
                "al-Sharaa",
                "met",
                "Assad",
                "'s",
                "U.S",
                ".",
                "envoy",
                ",",
                "62,000",
                "left",
                "."
            ]
        );
    }

    #[test]
    fn name_key_merges_transliteration_variants() {
        let k = keyer();
        assert_eq!(k.key("Qamishli"), k.key("Qamishlo"));
        assert_eq!(k.key("Tartus"), k.key("Tartous"));
        assert_eq!(k.key("Ahmed al-Sharaa"), k.key("Ahmad Al Shara"));
        assert_eq!(k.key("Jóhannsdóttir"), k.key("Johannsdottir"));
        assert_eq!(k.key("Youssef"), k.key("Yusuf"));
        assert_ne!(k.key("Putin"), k.key("Peskov"));
        assert_ne!(k.key("Silver Meridian"), k.key("Silver Coast"));
        assert_ne!(k.key("Kellan"), k.key("Kellana"));
    }

    #[test]
    fn slug_is_ascii() {
        assert_eq!(slug("Qamishli airport"), "qamishli-airport");
        assert_eq!(slug("Jóhannsdóttir"), "johannsdottir");
        assert_eq!(slug("¿?"), "x");
    }
}
