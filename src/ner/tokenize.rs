//! Wire text to tokens the way CoNLL-2003 tokenized its Reuters copy, so the tagger sees
//! at ingestion what it saw in training: punctuation and quotes split off, a possessive `'s`
//! split from its name (`Assad 's`), `n't` split from its verb, hyphenated words kept whole
//! (`al-Sharaa`, `Russian-made`), numbers kept whole (`62,000`, `2.5`, `1996-08-30`), and a
//! final period kept on abbreviations and initials (`U.S.`, `Mr.`, `J.`) but split from
//! anything else.

use crate::text::LowerMap;

/// The possessive ending split off a word as a token of its own (`Assad 's`).
pub const POSSESSIVE: &str = "'s";

/// Punctuation split off the front of a word.
const OPENERS: &[char] = &['"', '\'', '(', '[', '{', '<'];
/// Punctuation split off the end of a word (a period is decided separately).
const CLOSERS: &[char] = &['"', '\'', ')', ']', '}', '>', ',', ';', ':', '?', '!'];

/// A tokenizer with its list of abbreviations (from `names.toml`, `[sentences]`).
#[derive(Debug, Clone, Default)]
pub struct Tokenizer {
    /// Looked up in any case without lower-casing the word first.
    abbreviations: LowerMap<()>,
}

impl Tokenizer {
    /// `abbreviations`: words (without their period, any case) that keep a final period.
    pub fn new(abbreviations: &[String]) -> Self {
        let mut map = LowerMap::default();
        for a in abbreviations {
            map.insert(a.trim_end_matches('.').to_lowercase(), ());
        }
        Self { abbreviations: map }
    }

    /// Token byte ranges of `text`, in order.
    pub fn tokenize(&self, text: &str, out: &mut Vec<(usize, usize)>) {
        out.clear();
        let b = text.as_bytes();
        let n = b.len();
        let mut i = 0;
        // Byte by byte, decoding a character only outside ASCII: most wire text is ASCII,
        // and a visible ASCII character (`!` to `~`) is never a space, so a chunk's run of
        // them is crossed with one comparison per byte.
        while i < n {
            if let Some(len) = space_at(text, i) {
                i += len;
                continue;
            }
            let s = i;
            loop {
                while i < n && (b'!'..=b'~').contains(&b[i]) {
                    i += 1;
                }
                if i >= n || space_at(text, i).is_some() {
                    break;
                }
                i += char_len(text, i);
            }
            self.chunk(text, s, i, out);
        }
    }

    /// The token strings of `text` (for tests and for tokenizing lexicon names).
    pub fn words<'t>(&self, text: &'t str) -> Vec<&'t str> {
        let mut spans = Vec::new();
        self.tokenize(text, &mut spans);
        spans.into_iter().map(|(s, e)| &text[s..e]).collect()
    }

    fn keeps_period(&self, word: &str) -> bool {
        // `word` ends with the period.
        let stem = &word[..word.len() - 1];
        if stem.is_empty() || !stem.chars().any(char::is_alphabetic) {
            return false;
        }
        // Initials and initialisms: J. / U.S. / U.N.
        if stem
            .split('.')
            .all(|p| p.chars().count() == 1 && p.chars().all(char::is_alphabetic))
        {
            return true;
        }
        self.abbreviations.contains_lower(stem)
    }

    /// Splits one whitespace-free chunk `text[s..e]`.
    fn chunk(&self, text: &str, mut s: usize, mut e: usize, out: &mut Vec<(usize, usize)>) {
        // Most chunks are plain words: a letter or digit at both ends leaves no opener,
        // closer or period to split off, and without an apostrophe before the last letter
        // no "'s" or "n't" either.
        let b = text.as_bytes();
        if b[s].is_ascii_alphanumeric()
            && b[e - 1].is_ascii_alphanumeric()
            && (e - s < 2 || b[e - 2] != b'\'')
        {
            out.push((s, e));
            return;
        }
        // The next most common: a plain word with a period, at the end of a sentence.
        if e - s >= 2 && b[e - 1] == b'.' && b[s..e - 1].iter().all(u8::is_ascii_alphanumeric) {
            if self.keeps_period(&text[s..e]) {
                out.push((s, e));
            } else {
                out.push((s, e - 1));
                out.push((e - 1, e));
            }
            return;
        }
        // Leading punctuation, one token each (a leading apostrophe of '90s stays).
        while s < e {
            let c = text[s..e].chars().next().unwrap_or(' ');
            let rest = &text[s + c.len_utf8()..e];
            let keep = c == '\'' && rest.chars().next().is_some_and(|n| n.is_ascii_digit());
            if OPENERS.contains(&c) && !keep && !rest.is_empty() {
                out.push((s, s + c.len_utf8()));
                s += c.len_utf8();
            } else {
                break;
            }
        }
        // Trailing punctuation, collected back to front: it goes to `out` as it is found
        // (last first), the word after it, and both are put in text order at the end, so a
        // chunk allocates nothing.
        let mark = out.len();
        while s < e {
            let word = &text[s..e];
            let Some(c) = word.chars().next_back() else {
                break;
            };
            let cs = e - c.len_utf8();
            if word.len() == c.len_utf8() {
                break;
            }
            if c == '.' {
                if word.bytes().all(|b| b == b'.') {
                    break;
                }
                if word.ends_with("...") {
                    out.push((e - 3, e));
                    e -= 3;
                    continue;
                }
                if self.keeps_period(word) {
                    break;
                }
                out.push((cs, e));
                e = cs;
                continue;
            }
            if CLOSERS.contains(&c) {
                // A plural possessive: "ministers'".
                if c == '\'' && word.len() > 2 && word[..cs - s].ends_with(['s', 'S']) {
                    out.push((cs, e));
                    e = cs;
                    break;
                }
                out.push((cs, e));
                e = cs;
                continue;
            }
            break;
        }
        let tail = out.len() - mark;
        if s < e {
            let word = &text[s..e];
            let lower_end = |suffix: &str| {
                word.len() > suffix.len()
                    && word
                        .get(word.len() - suffix.len()..)
                        .is_some_and(|t| t.eq_ignore_ascii_case(suffix))
            };
            if lower_end(POSSESSIVE) {
                out.push((s, e - 2));
                out.push((e - 2, e));
            } else if lower_end("n't") {
                out.push((s, e - 3));
                out.push((e - 3, e));
            } else {
                out.push((s, e));
            }
        }
        out[mark..].rotate_left(tail);
        let n = out.len();
        out[n - tail..].reverse();
    }
}

/// The length of the whitespace character at byte `i` of `text` (a char boundary), if it
/// is one.
#[inline]
fn space_at(text: &str, i: usize) -> Option<usize> {
    let c = text.as_bytes()[i];
    if c.is_ascii() {
        return matches!(c, b' ' | b'\t'..=b'\r').then_some(1);
    }
    let ch = text[i..].chars().next()?;
    ch.is_whitespace().then(|| ch.len_utf8())
}

/// The length of the character at byte `i` of `text` (a char boundary).
#[inline]
fn char_len(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(1, char::len_utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> Tokenizer {
        Tokenizer::new(&["mr".into(), "corp".into(), "u.s".into()])
    }

    #[test]
    fn splits_like_conll() {
        let t = tok();
        assert_eq!(
            t.words("\"We left,\" said Mr. al-Sharaa's aide (U.S.) in Qamishli."),
            [
                "\"",
                "We",
                "left",
                ",",
                "\"",
                "said",
                "Mr.",
                "al-Sharaa",
                "'s",
                "aide",
                "(",
                "U.S.",
                ")",
                "in",
                "Qamishli",
                "."
            ]
        );
        assert_eq!(
            t.words("Talks don't end; 62,000 left on 1996-08-30 ... J. Smith's ministers' car."),
            [
                "Talks",
                "do",
                "n't",
                "end",
                ";",
                "62,000",
                "left",
                "on",
                "1996-08-30",
                "...",
                "J.",
                "Smith",
                "'s",
                "ministers",
                "'",
                "car",
                "."
            ]
        );
    }

    #[test]
    fn offsets_point_into_the_text() {
        let t = tok();
        let text = "Acme Corp. shares rose 2.5 percent.";
        let mut spans = Vec::new();
        t.tokenize(text, &mut spans);
        let words: Vec<&str> = spans.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(
            words,
            ["Acme", "Corp.", "shares", "rose", "2.5", "percent", "."]
        );
        assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0));
    }

    #[test]
    fn odd_input_does_not_panic() {
        let t = tok();
        for s in [
            "", " ", "'", "\"\"", "...", "'90s", "é.", "—", "a.b.c.", "('", "x'",
        ] {
            let mut spans = Vec::new();
            t.tokenize(s, &mut spans);
            for (a, b) in spans {
                assert!(
                    a < b && s.is_char_boundary(a) && s.is_char_boundary(b),
                    "{s:?}"
                );
            }
        }
    }

    proptest::proptest! {
        /// The tokens of a text are its runs of non-whitespace (as `char::is_whitespace`
        /// says, ASCII or not), each split by `chunk`: what the byte loop must find, with
        /// Unicode spaces, characters that look like spaces but are not (U+200B, U+FEFF),
        /// control characters and characters of two to four bytes.
        #[test]
        fn tokens_are_the_whitespace_free_runs_chunked(
            text in "[a-zA-Z0-9.,'\"()\\- \t\n\r\x0b\x0c\x1c\x7f\u{a0}\u{85}\u{1680}\u{2003}\u{2028}\u{3000}\u{200b}\u{feff}éÜ—’\u{1d49c}]{0,40}"
        ) {
            let t = tok();
            let mut spans = Vec::new();
            t.tokenize(&text, &mut spans);
            let mut expected = Vec::new();
            let mut start = None;
            for (i, c) in text.char_indices() {
                match (c.is_whitespace(), start) {
                    (true, Some(s)) => {
                        t.chunk(&text, s, i, &mut expected);
                        start = None;
                    }
                    (false, None) => start = Some(i),
                    _ => {}
                }
            }
            if let Some(s) = start {
                t.chunk(&text, s, text.len(), &mut expected);
            }
            proptest::prop_assert_eq!(spans, expected, "{:?}", text);
        }
    }

    #[test]
    fn any_whitespace_separates_and_abbreviations_match_in_any_case() {
        let t = tok();
        // A no-break space, an em space and a tab; an abbreviation in capitals.
        assert_eq!(
            t.words("MR. Dravik\u{a0}left\u{2003}Halbrook\tCORP. (U.S.),"),
            ["MR.", "Dravik", "left", "Halbrook", "CORP.", "(", "U.S.", ")", ","]
        );
        // Not an abbreviation: the period is split off, in any case.
        assert_eq!(t.words("ENDED. Über."), ["ENDED", ".", "Über", "."]);
    }
}
