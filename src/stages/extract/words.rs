//! Finding listed names and words where they stand as words of their own.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, Match, MatchKind, StartKind};

/// Leftmost-longest search for a list of patterns, kept to whole words: a match starts
/// where a word starts and is not glued to a letter or digit after it.
///
/// A match can only start at a word start, so the automaton is anchored and tried there
/// alone, and only where the byte starts some pattern. That pays when few words can begin
/// a pattern (gazetteer names all start with a capital: a few attempts per sentence
/// instead of a walk over every byte). Lower-case word lists such as the frame triggers
/// start at most words, and one unanchored walk over the sentence costs less than an
/// attempt at each of them.
#[derive(Debug, Clone)]
pub struct WordMatcher {
    ac: AhoCorasick,
    /// Bytes that start a pattern.
    first: [bool; 256],
}

impl WordMatcher {
    /// # Panics
    /// Never for string patterns: the DFA's size limits are far above any lexicon's.
    pub fn new<I, P>(patterns: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let patterns: Vec<P> = patterns.into_iter().collect();
        let mut first = [false; 256];
        for p in &patterns {
            if let Some(&b) = p.as_ref().first() {
                first[usize::from(b)] = true;
            }
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .start_kind(StartKind::Anchored)
            .build(&patterns)
            .expect("patterns are plain strings");
        Self { ac, first }
    }

    /// The whole-word matches in `text`, left to right: at each word start the longest
    /// pattern there. A longest match glued to a letter after it ("Georgian" for
    /// "Georgia") is no match, and the search goes on after it.
    pub fn find_iter<'a>(&'a self, text: &'a str) -> impl Iterator<Item = Match> + 'a {
        let bytes = text.as_bytes();
        let mut at = 0;
        std::iter::from_fn(move || {
            while at < bytes.len() {
                let p = at;
                // A byte that starts a pattern is ASCII or a lead byte: a char boundary.
                if !self.first[usize::from(bytes[p])]
                    || text[..p]
                        .chars()
                        .next_back()
                        .is_some_and(char::is_alphanumeric)
                {
                    at += 1;
                    continue;
                }
                let input = Input::new(text).range(p..).anchored(Anchored::Yes);
                let Ok(Some(m)) = self.ac.try_find(input) else {
                    at += 1;
                    continue;
                };
                // An empty pattern matches nothing: the search moves on all the same.
                at = m.end().max(p + 1);
                if !m.is_empty() && word_bounded(text, m.start(), m.end()) {
                    return Some(m);
                }
            }
            None
        })
    }
}

/// True when `text[s..e]` is not glued to letters or digits on either side.
pub fn word_bounded(text: &str, s: usize, e: usize) -> bool {
    let before = text[..s].chars().next_back();
    let after = text[e..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

/// Where `needle` next occurs in `haystack` at or after byte `from` (a char boundary), as
/// `haystack[from..].find(needle)` would say, counted from the start of `haystack`.
///
/// For short haystacks such as headlines searched for many names: the standard search
/// prepares each needle before looking (a two-way searcher), which costs more than the
/// whole scan of a few dozen bytes. A match of a whole needle starts on a char boundary,
/// since no UTF-8 text starts with a continuation byte.
pub fn find_from(haystack: &str, needle: &str, from: usize) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return (from <= h.len()).then_some(from);
    };
    let last = h.len().checked_sub(n.len())?;
    (from..=last).find(|&i| h[i] == first && h[i + 1..].starts_with(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_from_agrees_with_str_find() {
        let hay = "talks in port velmar: velmar's port, ünder velmar";
        for needle in [
            "velmar",
            "port",
            "ünder",
            "r",
            "velmar's port",
            "x",
            "",
            hay,
        ] {
            for from in (0..=hay.len()).filter(|&i| hay.is_char_boundary(i)) {
                assert_eq!(
                    find_from(hay, needle, from),
                    hay[from..].find(needle).map(|p| p + from),
                    "{needle:?} from {from}"
                );
            }
        }
        assert_eq!(find_from("ab", "abc", 0), None);
    }

    fn found(m: &WordMatcher, text: &str) -> Vec<String> {
        m.find_iter(text)
            .map(|x| format!("{}@{}", &text[x.range()], x.pattern().as_usize()))
            .collect()
    }

    #[test]
    fn whole_words_longest_first() {
        let m = WordMatcher::new(["New York", "New York City", "York", "al-Bab", "Bab"]);
        assert_eq!(
            found(&m, "New York City and York, not Yorkshire; al-Bab, Bab."),
            ["New York City@1", "York@2", "al-Bab@3", "Bab@4"]
        );
        // Glued on the right: no match, and the search goes on after it.
        assert_eq!(found(&m, "New Yorkers in New York"), ["New York@0"]);
        // Glued on the left: never a word start.
        assert_eq!(found(&m, "DeYork Babs xBab"), Vec::<String>::new());
    }

    #[test]
    fn words_after_non_ascii_and_punctuation() {
        let m = WordMatcher::new(["Kelvar", "été"]);
        assert_eq!(found(&m, "«Kelvar» déKelvar été"), ["Kelvar@0", "été@1"]);
        assert_eq!(found(&m, "éKelvar"), Vec::<String>::new());
    }

    #[test]
    fn an_empty_pattern_finds_nothing_and_stops_nothing() {
        let m = WordMatcher::new(["", "Kelvar"]);
        assert_eq!(found(&m, "Kel Kelvar"), ["Kelvar@1"]);
    }
}
