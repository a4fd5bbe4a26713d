//! Normalize: bytes → a [`Report`] with metadata and sentences located in the original text.
//!
//! Decoding refuses what is not text (empty, binary, invalid UTF-8) with a [`Rejection`]
//! rather than guessing, so nothing garbled reaches extraction. The original text is kept
//! byte for byte (minus a BOM) because evidence quotes it; matching works on a folded copy
//! of each sentence.

use std::collections::HashSet;

use regex::Regex;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use xxhash_rust::xxh3::xxh3_128;

use crate::config::NameRules;
use crate::report::{Metadata, RawReport, Rejection, Report, Sentence};
use crate::text::fold;

/// How many non-empty body lines may hold the dateline (bylines and credits come first).
const DATELINE_LINES: usize = 4;

/// The longest line that may come before a dateline (a byline or a credit).
const BYLINE_MAX: usize = 60;

/// Header keys recognised in a leading `key: value` block.
const HEADER_KEYS: [&str; 10] = [
    "source",
    "date",
    "title",
    "url",
    "author",
    "byline",
    "published",
    "outlet",
    "slug",
    "language",
];

/// The normalize stage: stateless, built once from the name rules.
#[derive(Debug)]
pub struct Normalizer {
    abbreviations: HashSet<String>,
    date_prefix: Regex,
    caps_dateline: Regex,
    colon_dateline: Regex,
}

impl Normalizer {
    pub fn new(names: &NameRules) -> Self {
        Self {
            abbreviations: names.sentences.abbreviations.iter().map(|a| a.to_lowercase()).collect(),
            date_prefix: Regex::new(r"^\s*(?i:date)\s*:?\s+(\d{4}-\d{2}-\d{2})\s+").expect("static regex"),
            // "ERBIL (Kurdistan24) - ", "DRAVENNA, Oct 2 (SWS) - ", "MOSCOW -- "
            caps_dateline: Regex::new(
                r"^([A-Z][A-Z'.]+(?:[ -][A-Z][A-Z'.]+){0,3})(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:,\s*\d{4})?)?\s*(?:\(([^)]{1,60})\))?\s*(?:-{1,2}|\u{2013}|\u{2014})\s+",
            )
            .expect("static regex"),
            // "Moscow: ", "New York: "
            colon_dateline: Regex::new(r"^([A-Z][a-z]+(?: [A-Z][a-z]+)?):\s+[A-Z]").expect("static regex"),
        }
    }

    /// Decodes and normalizes one file.
    ///
    /// # Errors
    /// A [`Rejection`] when the bytes are not a text report.
    pub fn normalize(&self, raw: &RawReport) -> Result<Report, Rejection> {
        let original = decode(&raw.bytes)?.to_string();
        let mut meta = Metadata::default();
        let mut published: Option<OffsetDateTime> = None;

        // 1. Header block: leading `key: value` lines up to a blank line.
        let mut body_start = 0;
        let mut header_title = None;
        {
            let mut pos = 0;
            let mut headers = Vec::new();
            for line in original.split_inclusive('\n') {
                let t = line.trim();
                if t.is_empty() {
                    if !headers.is_empty() {
                        pos += line.len();
                    }
                    break;
                }
                match t.split_once(':') {
                    Some((k, v))
                        if HEADER_KEYS.contains(&k.trim().to_ascii_lowercase().as_str()) =>
                    {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                        pos += line.len();
                    }
                    _ => break,
                }
            }
            if !headers.is_empty() {
                body_start = pos;
                for (k, v) in headers {
                    match k.as_str() {
                        "source" | "outlet" => meta.source = Some(v),
                        "title" => header_title = Some(v),
                        "url" => meta.url = Some(v),
                        "date" | "published" => {
                            published = parse_date(&v);
                            if published.is_some() {
                                meta.date_origin = "header";
                            }
                        }
                        _ => {}
                    }
                }
            }
        }

        // 2. Lines of the body, with their offsets; a `date YYYY-MM-DD` prefix is metadata.
        let mut lines: Vec<(usize, usize)> = Vec::new();
        let mut offset = body_start;
        for line in original[body_start..].split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            lines.push((offset, offset + content.len()));
            offset += line.len();
        }
        let first_nonempty = lines
            .iter()
            .position(|&(s, e)| !original[s..e].trim().is_empty());
        let Some(first) = first_nonempty else {
            return Err(Rejection::Blank);
        };
        if let Some(m) = self
            .date_prefix
            .captures(&original[lines[first].0..lines[first].1])
        {
            let whole = m.get(0).map_or(0, |g| g.end());
            if published.is_none() {
                if let Some(d) = m.get(1).and_then(|g| parse_date(g.as_str())) {
                    published = Some(d);
                    meta.date_origin = "date_prefix";
                }
            }
            lines[first].0 += whole;
        }

        // 3. Title: the first line when it reads as a headline and a blank line follows.
        let mut sentences = Vec::new();
        let mut has_title_sentence = false;
        let (ts, te) = lines[first];
        let first_text = original[ts..te].trim();
        let blank_after = lines
            .get(first + 1)
            .is_none_or(|&(s, e)| original[s..e].trim().is_empty());
        if looks_like_headline(first_text) && blank_after && lines.len() > first + 1 {
            let lead = original[ts..te].len() - original[ts..te].trim_start().len();
            let start = ts + lead;
            let end = start + first_text.len();
            sentences.push(Sentence {
                start,
                end,
                text: fold(first_text),
            });
            has_title_sentence = true;
            meta.title = Some(first_text.to_string());
        }
        if header_title.is_some() {
            meta.title = header_title;
        }

        // 4. Dateline, then sentences. Bylines and photo credits often come before the
        // dateline, so the first few body lines are tried, not just the first.
        let body_lines = if has_title_sentence { first + 1 } else { first };
        let mut dateline_tries = DATELINE_LINES;
        for &(ls, le) in &lines[body_lines..] {
            let line = &original[ls..le];
            if line.trim().is_empty() {
                continue;
            }
            let lead = line.len() - line.trim_start().len();
            let mut start = ls + lead;
            if dateline_tries > 0 {
                let first_try = dateline_tries == DATELINE_LINES;
                dateline_tries -= 1;
                let text = &original[start..le];
                if let Some(c) = self.caps_dateline.captures(text) {
                    dateline_tries = 0;
                    meta.dateline = c.get(1).map(|g| g.as_str().trim().to_string());
                    if meta.source.is_none() {
                        meta.source = c.get(2).map(|g| g.as_str().trim().to_string());
                    }
                    start += c.get(0).map_or(0, |g| g.end());
                } else if let Some(c) = self.colon_dateline.captures(text).filter(|_| first_try) {
                    // "Velgrad: ..." only opens the body; further down, "Photo: Wire"
                    // and the like are labels, not datelines.
                    dateline_tries = 0;
                    meta.dateline = c.get(1).map(|g| g.as_str().to_string());
                    // Keep the capital that the pattern peeked at.
                    start += c.get(0).map_or(0, |g| g.end()) - 1;
                } else if text.len() > BYLINE_MAX || text.trim_end().ends_with('.') {
                    // Only short lines (a byline, a credit) come before a dateline: after a
                    // sentence, "UN - ..." is text, not a dateline.
                    dateline_tries = 0;
                }
            }
            self.split_sentences(&original, start, le, &mut sentences);
        }
        if sentences.is_empty() {
            return Err(Rejection::Blank);
        }

        let mut headings: Vec<usize> = Vec::new();
        if has_title_sentence {
            headings.push(0);
        }
        for (i, s) in sentences
            .iter()
            .enumerate()
            .skip(usize::from(has_title_sentence))
        {
            if is_heading(&s.text) {
                headings.push(i);
            }
        }
        let mut body = String::with_capacity(original.len());
        for s in &sentences {
            body.push_str(&s.text);
            body.push('\n');
        }
        let fingerprint = xxh3_128(body.as_bytes());
        let published_at = match published {
            Some(p) => p,
            None => match raw.modified {
                Some(m) => {
                    meta.date_origin = "mtime";
                    OffsetDateTime::from(m)
                }
                None => {
                    meta.date_origin = "received";
                    raw.received_at
                }
            },
        };
        Ok(Report {
            id: format!("{:016x}", (fingerprint >> 64) as u64),
            fingerprint,
            path: raw.path.clone(),
            original,
            meta,
            published_at,
            received_at: raw.received_at,
            modified: raw.modified,
            raw_len: raw.bytes.len() as u64,
            sentences,
            has_title_sentence,
            headings,
        })
    }

    /// Splits `text[start..end]` (one line) into sentences. A period ends a sentence when
    /// whitespace and a capital, digit or quote follow, unless it closes an abbreviation
    /// (`Gen.`, `U.S.`) or a single-letter initial.
    fn split_sentences(&self, text: &str, start: usize, end: usize, out: &mut Vec<Sentence>) {
        let line = &text[start..end];
        let bytes = line.as_bytes();
        let mut sent_start = 0;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if matches!(b, b'.' | b'!' | b'?') {
                // Swallow closing quotes/brackets and repeated marks.
                let mut j = i + 1;
                while j < bytes.len()
                    && matches!(bytes[j], b'"' | b'\'' | b')' | b']' | b'.' | b'!' | b'?')
                {
                    j += 1;
                }
                // Curly closing quotes are multi-byte.
                while let Some(c) = line[j..].chars().next() {
                    if matches!(c, '\u{201D}' | '\u{2019}') {
                        j += c.len_utf8();
                    } else {
                        break;
                    }
                }
                let next_non_space = line[j..].char_indices().find(|(_, c)| !c.is_whitespace());
                let spaced = line[j..].starts_with(char::is_whitespace);
                let boundary = match next_non_space {
                    None => true,
                    Some((_, c)) => {
                        spaced
                            && (c.is_uppercase()
                                || c.is_ascii_digit()
                                || matches!(c, '"' | '\'' | '\u{201C}' | '\u{2018}' | '('))
                    }
                };
                if boundary && !(b == b'.' && self.is_abbreviation(&line[sent_start..i])) {
                    push_sentence(text, start + sent_start, start + j, out);
                    sent_start = j;
                }
                i = j;
                continue;
            }
            i += 1;
        }
        if sent_start < line.len() {
            push_sentence(text, start + sent_start, end, out);
        }
    }

    fn is_abbreviation(&self, before: &str) -> bool {
        let word = before
            .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"')
            .next()
            .unwrap_or("");
        let lower = word.to_lowercase();
        let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
        // A single capital letter is an initial ("John F. Kennedy").
        (letters.len() == 1 && word.chars().count() == 1 && word.chars().all(char::is_uppercase))
            || self.abbreviations.contains(&lower)
            // Dotted initialisms such as "U.S" in "U.S." (the last dot is the one we are at).
            || (word.contains('.') && word.split('.').all(|p| p.chars().count() == 1))
    }
}

fn push_sentence(text: &str, start: usize, end: usize, out: &mut Vec<Sentence>) {
    let raw = &text[start..end];
    let trimmed_start = start + (raw.len() - raw.trim_start().len());
    let trimmed_end = start + raw.trim_end().len();
    if trimmed_end <= trimmed_start {
        return;
    }
    let folded = fold(&text[trimmed_start..trimmed_end]);
    if folded.chars().any(char::is_alphanumeric) {
        out.push(Sentence {
            start: trimmed_start,
            end: trimmed_end,
            text: folded,
        });
    }
}

/// A section heading inside the body: a short line without final punctuation whose words
/// are mostly capitalized ("Military Realignment in the Northeast").
fn is_heading(s: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.len() > 12 || words.is_empty() || s.ends_with(['.', '!', '?', '"', ':']) {
        return false;
    }
    let caps = words
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    caps * 3 >= words.len() * 2
}

/// A headline: short, no sentence-final period, starts with a capital or digit.
fn looks_like_headline(line: &str) -> bool {
    let words = line.split_whitespace().count();
    (1..=24).contains(&words)
        && line.len() <= 200
        && !line.ends_with('.')
        && !line.ends_with(':')
        && line
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
}

/// UTF-8 only (a UTF-8 BOM is stripped). Binary content is recognised by NUL bytes or a
/// high share of control characters.
///
/// # Errors
/// `Empty`, `Binary` or `InvalidUtf8`.
pub fn decode(bytes: &[u8]) -> Result<&str, Rejection> {
    if bytes.is_empty() {
        return Err(Rejection::Empty);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Err(Rejection::Binary("contains NUL bytes".into()));
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C))
        .count();
    if controls * 20 > head.len() {
        return Err(Rejection::Binary(format!(
            "{controls} control bytes in the first {}",
            head.len()
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Rejection::InvalidUtf8(e.valid_up_to()))?;
    if text.trim().is_empty() {
        return Err(Rejection::Blank);
    }
    Ok(text)
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339.
fn parse_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(dt);
    }
    let day = s.get(..10)?;
    Date::parse(day, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|d| d.midnight().assume_utc())
}

/// A report normalized from `text` with the embedded configuration, for tests of the later
/// stages.
#[cfg(test)]
pub(crate) fn test_report(cfg: &crate::config::Config, text: &str) -> Report {
    Normalizer::new(&cfg.lexicons.names)
        .normalize(&RawReport {
            path: std::path::PathBuf::from("t.txt"),
            bytes: text.as_bytes().to_vec(),
            modified: None,
            received_at: OffsetDateTime::UNIX_EPOCH,
        })
        .expect("test report normalizes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::PathBuf;

    fn normalizer() -> Normalizer {
        Normalizer::new(&Config::embedded().unwrap().lexicons.names)
    }

    fn raw(text: &[u8]) -> RawReport {
        RawReport {
            path: PathBuf::from("x.txt"),
            bytes: text.to_vec(),
            modified: None,
            received_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn header_title_dateline_and_sentences() {
        let text = "source: Example Wire\ndate: 2030-03-04\n\nTroops leave the valley\n\nVELGRAD, Mar 4 (EW) - Gen. Ana Ruiz said the U.S. team left. Talks begin on Monday.\n";
        let r = normalizer().normalize(&raw(text.as_bytes())).unwrap();
        assert_eq!(r.meta.source.as_deref(), Some("Example Wire"));
        assert_eq!(r.meta.title.as_deref(), Some("Troops leave the valley"));
        assert_eq!(r.meta.dateline.as_deref(), Some("VELGRAD"));
        assert_eq!(r.published_at.date().to_string(), "2030-03-04");
        let texts: Vec<_> = r.sentences.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Troops leave the valley",
                "Gen. Ana Ruiz said the U.S. team left.",
                "Talks begin on Monday."
            ]
        );
        for s in &r.sentences {
            assert_eq!(fold(&r.original[s.start..s.end]), s.text);
        }
    }

    #[test]
    fn agency_in_dateline_is_the_source_when_no_header() {
        let text = "ERBIL (Northwire) - The convoy left. It was late.";
        let r = normalizer().normalize(&raw(text.as_bytes())).unwrap();
        assert_eq!(r.meta.source.as_deref(), Some("Northwire"));
        assert_eq!(r.meta.dateline.as_deref(), Some("ERBIL"));
        assert_eq!(r.sentences[0].text, "The convoy left.");
    }

    #[test]
    fn dateline_after_a_byline() {
        let text = "Troops leave the valley\n\nBy Ana Ruiz\n\nVELGRAD, Mar 4 - The convoy left.\nPhoto: Example Wire\n";
        let r = normalizer().normalize(&raw(text.as_bytes())).unwrap();
        assert_eq!(r.meta.dateline.as_deref(), Some("VELGRAD"));
        let texts: Vec<_> = r.sentences.iter().map(|s| s.text.as_str()).collect();
        assert!(texts.contains(&"The convoy left."), "{texts:?}");
        let r = normalizer()
            .normalize(&raw(b"By Ana Ruiz\nPhoto: Example Wire\nThe convoy left."))
            .unwrap();
        assert_eq!(r.meta.dateline, None);
        let r = normalizer()
            .normalize(&raw(b"The agency said on Monday that aid had reached the valley after a week of talks.\nUN - The convoy left."))
            .unwrap();
        assert_eq!(r.meta.dateline, None);
    }

    #[test]
    fn date_prefix_and_colon_dateline() {
        let r = normalizer()
            .normalize(&raw(b" date 2029-01-02 Rain fell. More came."))
            .unwrap();
        assert_eq!(r.meta.date_origin, "date_prefix");
        assert_eq!(r.sentences[0].text, "Rain fell.");
        let r = normalizer()
            .normalize(&raw("Velgrad: The talks ended.".as_bytes()))
            .unwrap();
        assert_eq!(r.meta.dateline.as_deref(), Some("Velgrad"));
        assert_eq!(r.sentences[0].text, "The talks ended.");
    }

    #[test]
    fn fingerprint_ignores_cosmetic_differences() {
        let a = normalizer()
            .normalize(&raw(
                "Title here\n\nThe “talks” ended.\nThey left.".as_bytes()
            ))
            .unwrap();
        let b = normalizer()
            .normalize(&raw(
                "\u{FEFF}Title here\r\n\r\nThe \"talks\"  ended.\r\nThey left.\r\n".as_bytes(),
            ))
            .unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.id, b.id);
    }

    #[test]
    fn bad_inputs_are_rejected_with_reasons() {
        let n = normalizer();
        assert_eq!(n.normalize(&raw(b"")).unwrap_err(), Rejection::Empty);
        assert_eq!(n.normalize(&raw(b" \n\t\n")).unwrap_err(), Rejection::Blank);
        assert!(matches!(
            n.normalize(&raw(b"PK\x03\x04\x00\x00")).unwrap_err(),
            Rejection::Binary(_)
        ));
        assert_eq!(
            n.normalize(&raw(b"caf\xe9 ok")).unwrap_err(),
            Rejection::InvalidUtf8(3)
        );
    }

    #[test]
    fn mtime_is_the_fallback_date() {
        let mut r = raw(b"Just a line.");
        r.modified = Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(86_400 * 365));
        let rep = normalizer().normalize(&r).unwrap();
        assert_eq!(rep.meta.date_origin, "mtime");
        assert_eq!(rep.published_at.year(), 1971);
    }
}
