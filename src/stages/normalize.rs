//! Normalize: bytes → a [`Report`] with metadata and sentences located in the original text.
//!
//! Decoding reads UTF-8, UTF-16 with a byte-order mark, and Windows-1252 where the bytes are
//! not UTF-8 and plausibly are that (see [`decode`]); it refuses what is not text (empty,
//! binary, other encodings) with a [`Rejection`] rather than guessing further, so nothing
//! garbled reaches extraction. The decoded text is kept as it is (minus a BOM) because
//! evidence quotes it and sentence offsets index into it; matching works on a folded copy
//! of each sentence. A header that states a date that cannot be read is refused too (see
//! `header_date`), and so is a body in a markup or structured format (HTML, XML, JSON; see
//! [`not_plain_text`]): read as prose, its tags and keys would become names and its fields
//! would be ignored.

use foldhash::HashSet;
use std::borrow::Cow;
use std::path::Path;

use regex::Regex;
use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime};
use xxhash_rust::xxh3::xxh3_128;

use crate::config::NameRules;
use crate::report::{unfinished_sentence, Metadata, RawReport, Rejection, Report, Sentence};
use crate::text::fold_checked;

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
    /// The byte length of the longest entry of `abbreviations`.
    longest_abbreviation: usize,
    date_prefix: Regex,
    caps_dateline: Regex,
    titled_dateline: Regex,
    colon_dateline: Regex,
    /// Whether a text that stops mid-sentence has that sentence held back (see
    /// [`Normalizer::holding_unfinished`]).
    hold_unfinished: bool,
}

impl Normalizer {
    pub fn new(names: &NameRules) -> Self {
        let abbreviations: HashSet<String> = names
            .sentences
            .abbreviations
            .iter()
            .map(|a| a.to_lowercase())
            .collect();
        let longest_abbreviation = abbreviations.iter().map(String::len).max().unwrap_or(0);
        Self {
            abbreviations,
            longest_abbreviation,
            date_prefix: Regex::new(r"^\s*(?i:date)\s*:?\s+(\d{4}-\d{2}-\d{2})\s+").expect("static regex"),
            // "ERBIL (Kurdistan24) - ", "DRAVENNA, Oct 2 (SWS) - ", "PARIS, 2 October 2031 - ",
            // "MOSCOW -- "
            caps_dateline: Regex::new(
                r"^([A-Z][A-Z'.]+(?:[ -][A-Z][A-Z'.]+){0,3})(?:,\s*([A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:,\s*\d{4})?|\d{1,2}\s+[A-Z][a-z]{2,8}\.?(?:\s+\d{4})?))?\s*(?:\(([^)]{1,60})\))?\s*(?:-{1,2}|\u{2013}|\u{2014})\s+",
            )
            .expect("static regex"),
            // "Port-au-Prince, June 25, 2024 [Haiti Wire] - ": a place written in title case
            // is a dateline only with both a date and a source, the groups as above.
            titled_dateline: Regex::new(
                r"^([A-Z][A-Za-z'.]*(?:[ -](?:[a-z]{1,3}[ -])?[A-Z][A-Za-z'.]*){0,3}),\s*([A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:,\s*\d{4})?|\d{1,2}\s+[A-Z][a-z]{2,8}\.?(?:\s+\d{4})?)\s*[(\[]([^)\]]{1,60})[)\]]\s*(?:-{1,2}|\u{2013}|\u{2014})\s+",
            )
            .expect("static regex"),
            // "Moscow: ", "New York: "
            colon_dateline: Regex::new(r"^([A-Z][a-z]+(?: [A-Z][a-z]+)?):\s+[A-Z]").expect("static regex"),
            hold_unfinished: false,
        }
    }

    /// Holds back the last sentence of a text that stops in it ([`Report::unfinished`]):
    /// for a watched folder, where a file read before its writer was done is read again
    /// once complete. Such a report also gets another fingerprint than its complete
    /// version, even when completing it only adds a line break, so that the complete file
    /// is a revision and not taken for the same text unchanged. Files given once (`ingest`,
    /// `eval`) are taken as they are.
    pub fn holding_unfinished(self) -> Self {
        Self {
            hold_unfinished: true,
            ..self
        }
    }

    /// Decodes and normalizes one file.
    ///
    /// # Errors
    /// A [`Rejection`] when the bytes are not a text report.
    pub fn normalize(&self, raw: &RawReport) -> Result<Report, Rejection> {
        self.normalize_holding(raw, self.hold_unfinished)
    }

    /// [`Self::normalize`], holding back a cut-off last sentence or not whatever the
    /// settings: a journal entry written when that sentence was taken whole replays as it
    /// was taken.
    pub fn normalize_holding(&self, raw: &RawReport, hold: bool) -> Result<Report, Rejection> {
        let decoded = decode(&raw.bytes)?;
        let original = decoded.text.into_owned();
        let mut meta = Metadata {
            encoding: decoded.encoding,
            ..Metadata::default()
        };
        let mut published: Option<OffsetDateTime> = None;

        // 1. Header block: leading `key: value` lines up to a blank line. A header that
        // states a date that cannot be read, or a header with no report after it, is
        // rejected (see `header_date`).
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
                    let value = (!v.is_empty()).then_some(v);
                    match k.as_str() {
                        "source" | "outlet" => meta.source = value,
                        "title" => header_title = value,
                        "url" => meta.url = value,
                        "date" | "published" => {
                            published = Some(header_date(&k, value.as_deref())?);
                            meta.date_origin = "header";
                        }
                        _ => {}
                    }
                }
            }
        }

        not_plain_text(&original[body_start..], &raw.path)?;

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
            return Err(if body_start > 0 {
                Rejection::MalformedHeader("a header block with no report text after it".into())
            } else {
                Rejection::Blank
            });
        };
        if let Some(m) = self
            .date_prefix
            .captures(&original[lines[first].0..lines[first].1])
        {
            let whole = m.get(0).map_or(0, |g| g.end());
            if published.is_none() {
                let day = m.get(1).map_or("", |g| g.as_str());
                let Some(d) = parse_date(day) else {
                    return Err(Rejection::MalformedHeader(format!(
                        "the date prefix `{day}` is not a calendar date"
                    )));
                };
                published = Some(d);
                meta.date_origin = "date_prefix";
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
        if looks_like_headline(first_text)
            && blank_after
            && lines.len() > first + 1
            && byline_date(first_text, file_day(raw)).is_none()
        {
            let lead = original[ts..te].len() - original[ts..te].trim_start().len();
            let start = ts + lead;
            let end = start + first_text.len();
            sentences.push(Sentence {
                start,
                end,
                text: fold_checked(first_text).0,
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
        let (mut dated_lines, mut dateline_day): (Option<Date>, Option<Date>) = (None, None);
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
                if let Some(day) = byline_date(text, file_day(raw)) {
                    // "Published 2 October 2031", "Updated: Oct 3, 2031 09:15 GMT": the
                    // date is metadata, and of several, the first publication is the oldest.
                    dated_lines = Some(dated_lines.map_or(day, |d: Date| d.min(day)));
                    // Not a line of the byline's count: "Moscow: ..." may still open the body.
                    dateline_tries += 1;
                    continue;
                }
                let dateline = self
                    .caps_dateline
                    .captures(text)
                    .or_else(|| self.titled_dateline.captures(text));
                if let Some(c) = dateline {
                    dateline_tries = 0;
                    meta.dateline = c.get(1).map(|g| g.as_str().trim().to_string());
                    if meta.source.is_none() {
                        meta.source = c.get(3).map(|g| g.as_str().trim().to_string());
                    }
                    dateline_day = c.get(2).and_then(|g| day_near(g.as_str(), file_day(raw)));
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
        let unfinished = if hold {
            unfinished_sentence(&original, &sentences, usize::from(has_title_sentence))
        } else {
            None
        };
        let mut body = String::with_capacity(original.len());
        for s in &sentences {
            body.push_str(&s.text);
            body.push('\n');
        }
        if unfinished.is_some() {
            // No sentence holds a NUL: a file with one is rejected as binary.
            body.push_str("\0unfinished");
        }
        let fingerprint = xxh3_128(body.as_bytes());
        // The report's own words before its file's time: a date line of the byline, else
        // the dateline's day.
        if published.is_none() {
            if let Some((day, origin)) = dated_lines
                .map(|d| (d, "date_line"))
                .or(dateline_day.map(|d| (d, "dateline")))
            {
                published = Some(day.midnight().assume_utc());
                meta.date_origin = origin;
            }
        }
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
            unfinished,
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
        while let Some(found) = bytes[i..]
            .iter()
            .position(|b| matches!(b, b'.' | b'!' | b'?'))
        {
            i += found;
            let b = bytes[i];
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
        let mut chars = word.chars();
        // A single capital letter is an initial ("John F. Kennedy").
        let initial = matches!(
            (chars.next(), chars.next()),
            (Some(c), None) if c.is_alphabetic() && c.is_uppercase()
        );
        initial
            || self.is_listed_abbreviation(word)
            // Dotted initialisms such as "U.S" in "U.S." (the last dot is the one we are at).
            || (word.contains('.') && word.split('.').all(|p| p.chars().count() == 1))
    }

    /// Whether `word`, lower-cased, is in the abbreviation list. Runs at every period, so
    /// an ASCII word (nearly all) is lower-cased on the stack, and one longer than every
    /// listed abbreviation is not looked up at all.
    fn is_listed_abbreviation(&self, word: &str) -> bool {
        if !word.is_ascii() {
            return self.abbreviations.contains(&word.to_lowercase());
        }
        if word.len() > self.longest_abbreviation {
            return false;
        }
        let mut buf = [0u8; 32];
        match buf.get_mut(..word.len()) {
            Some(lower) => {
                lower.copy_from_slice(word.as_bytes());
                lower.make_ascii_lowercase();
                std::str::from_utf8(lower).is_ok_and(|w| self.abbreviations.contains(w))
            }
            None => self.abbreviations.contains(&word.to_ascii_lowercase()),
        }
    }
}

fn push_sentence(text: &str, start: usize, end: usize, out: &mut Vec<Sentence>) {
    let raw = &text[start..end];
    let trimmed_start = start + (raw.len() - raw.trim_start().len());
    let trimmed_end = start + raw.trim_end().len();
    if trimmed_end <= trimmed_start {
        return;
    }
    let (folded, has_alphanumeric) = fold_checked(&text[trimmed_start..trimmed_end]);
    if has_alphanumeric {
        out.push(Sentence {
            start: trimmed_start,
            end: trimmed_end,
            text: folded,
        });
    }
}

/// A section heading inside the body: a short line without final punctuation whose words
/// are mostly capitalized ("Military Realignment in the Northeast"). Title case leaves
/// short articles, prepositions and conjunctions ("in", "the", "and") in lower case, so
/// lower-case words of up to three letters do not count.
fn is_heading(s: &str) -> bool {
    if s.ends_with(['.', '!', '?', '"', ':']) {
        return false;
    }
    let (mut words, mut caps, mut minor) = (0usize, 0usize, 0usize);
    for word in s.split_whitespace() {
        words += 1;
        if words > 12 {
            return false;
        }
        if word.chars().next().is_some_and(char::is_uppercase) {
            caps += 1;
        } else if word.chars().count() <= 3 && word.chars().all(char::is_lowercase) {
            minor += 1;
        }
    }
    caps > 0 && caps * 3 >= (words - minor) * 2
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

/// File name extensions of markup formats: a hint that lets a body that opens with a tag
/// count as markup even without a closing tag.
const MARKUP_EXTENSIONS: [&str; 8] = ["html", "htm", "xhtml", "shtml", "xml", "rss", "atom", "svg"];

/// File name extensions of JSON formats: a hint that lets a body that opens like JSON
/// count as JSON even when it does not parse (cut off, or with a stray comma).
const JSON_EXTENSIONS: [&str; 4] = ["json", "jsonl", "ndjson", "geojson"];

/// HTML elements: an opening tag of one of these makes a fragment HTML rather than XML in
/// the rejection's wording.
const HTML_ELEMENTS: [&str; 22] = [
    "html", "head", "body", "meta", "title", "link", "script", "style", "div", "span", "p", "a",
    "b", "i", "article", "section", "header", "nav", "table", "ul", "h1", "h2",
];

/// Refuses a body (the text after any header block) in a markup or structured format, until
/// such formats are read for what they are: an HTML page read as prose gives entities such
/// as "Cookie Policy" or a font name, and a JSON report's `date` would be ignored.
///
/// Decided by content: a body that opens with `<!DOCTYPE`, `<?xml`, `<html` or a comment,
/// or with an element that is closed further on (`<div ...> ... </div>`), is markup; a body
/// that opens with `{` or `[` and parses as JSON (one value, or JSON Lines) is JSON. The
/// file name's extension is only a hint: with `.html`, `.xml` and the like an opening tag
/// suffices, with `.json` and the like an opening brace. Prose that merely holds a `<`, or
/// opens with `[Update]`, is plain text.
///
/// # Errors
/// `NotPlainText`, naming the format.
pub fn not_plain_text(body: &str, path: &Path) -> Result<(), Rejection> {
    let head = body.trim_start();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let named = |list: &[&str]| ext.as_deref().is_some_and(|e| list.contains(&e));
    let found = markup(head, named(&MARKUP_EXTENSIONS))
        .or_else(|| json(head, named(&JSON_EXTENSIONS), ext.as_deref()));
    match found {
        Some(what) => Err(Rejection::NotPlainText(what)),
        None => Ok(()),
    }
}

/// What markup `head` (a body without leading whitespace) is, if it opens as markup.
fn markup(head: &str, hinted: bool) -> Option<String> {
    let rest = head.strip_prefix('<')?;
    let starts = |prefix: &str| {
        rest.get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    let html_tag =
        starts("html") && !rest[4..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-');
    if starts("!doctype html") || html_tag {
        return Some("an HTML page".into());
    }
    if starts("?xml") {
        return Some("an XML document".into());
    }
    if starts("!doctype") {
        return Some("a marked-up document (it opens with `<!DOCTYPE`)".into());
    }
    if starts("!--") {
        return (hinted || rest.contains("-->"))
            .then(|| "markup (HTML or XML: it opens with a comment)".into());
    }
    let name_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.')))
        .unwrap_or(rest.len());
    let name = &rest[..name_len];
    let tag_like = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && rest[name_len..].starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace());
    if !tag_like {
        return None;
    }
    let closed = || {
        let close = format!("</{}", name.to_ascii_lowercase());
        head.to_ascii_lowercase().contains(&close)
    };
    if !(hinted || closed()) {
        return None;
    }
    let html = HTML_ELEMENTS.iter().any(|e| e.eq_ignore_ascii_case(name));
    Some(format!(
        "{} (it opens with a `<{name}>` element)",
        if html { "HTML" } else { "markup (XML or HTML)" }
    ))
}

/// What JSON `head` (a body without leading whitespace) is, if it is JSON.
fn json(head: &str, hinted: bool, ext: Option<&str>) -> Option<String> {
    let what = match head.as_bytes().first()? {
        b'{' => "a JSON object",
        b'[' => "a JSON array",
        _ => return None,
    };
    let mut values = 0usize;
    let mut parsed = true;
    for v in serde_json::Deserializer::from_str(head).into_iter::<serde::de::IgnoredAny>() {
        if v.is_err() {
            parsed = false;
            break;
        }
        values += 1;
    }
    match (parsed, values) {
        (true, 1) => Some(what.into()),
        (true, n) => Some(format!("JSON Lines ({n} JSON values)")),
        (false, _) if hinted => Some(format!(
            "JSON by its `.{}` name, and not even valid JSON",
            ext.unwrap_or("json")
        )),
        (false, _) => None,
    }
}

/// Text decoded from a file's bytes, and the encoding it was read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The text, without a byte-order mark.
    pub text: Cow<'a, str>,
    /// `UTF-8`, `UTF-16LE`, `UTF-16BE`, `windows-1252` or `UTF-8+windows-1252`.
    pub encoding: &'static str,
}

/// The label of a file that is UTF-8 except for some bytes read as Windows-1252.
pub const MIXED_UTF8_WINDOWS_1252: &str = "UTF-8+windows-1252";

/// How many bytes (or characters) at the start are checked for binary content.
const BINARY_PROBE: usize = 8192;

/// The bytes Windows-1252 leaves undefined: a file holding one is not Windows-1252 text.
const CP1252_UNDEFINED: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// Decodes a report file's bytes to text.
///
/// * A byte-order mark decides: UTF-8, UTF-16LE or UTF-16BE (the mark is dropped). UTF-16
///   that does not decode cleanly is rejected rather than patched with replacement
///   characters, because a broken UTF-16 file is usually not text at all.
/// * Without one, valid UTF-8 is UTF-8.
/// * Bytes that are not valid UTF-8 are read as Windows-1252, the encoding of most
///   Western-European text that is not UTF-8 (an `0x92` apostrophe, an `0xE9` é). The file
///   is decoded run by run: stretches that are valid UTF-8 stay UTF-8 and each byte outside
///   them is read as Windows-1252. For a file written wholly in Windows-1252 this is the
///   same as decoding all of it as Windows-1252, since its accented letters and quotes
///   essentially never line up into valid UTF-8 sequences; for a UTF-8 file with a few
///   stray bytes (a quote pasted from another editor) it keeps every UTF-8 character
///   intact, where decoding the whole file as Windows-1252 would garble each one of them
///   (`’` into `â€™`). Such a file is labelled `UTF-8+windows-1252`.
/// * Windows-1252 is only assumed when it is plausible: none of the five bytes it leaves
///   undefined, and at least two ASCII letters for every byte read as Windows-1252. Text in
///   other legacy encodings (Cyrillic, Greek, CJK) and random bytes fail that, and are
///   rejected as `invalid_utf8` instead of passing on garbled.
/// * Binary content (NUL, or more than one control character in twenty in the first 8 KiB)
///   is rejected whatever the encoding; so is a file of only whitespace.
///
/// # Errors
/// `Empty`, `Blank`, `Binary`, `InvalidUtf8` or `InvalidUtf16`.
pub fn decode(bytes: &[u8]) -> Result<Decoded<'_>, Rejection> {
    if bytes.is_empty() {
        return Err(Rejection::Empty);
    }
    let decoded = match encoding_rs::Encoding::for_bom(bytes) {
        Some((enc, bom)) if enc != encoding_rs::UTF_8 => {
            let body = &bytes[bom..];
            let text = enc
                .decode_without_bom_handling_and_without_replacement(body)
                .ok_or_else(|| {
                    Rejection::InvalidUtf16(
                        bom + first_bad_utf16(body, enc == encoding_rs::UTF_16BE),
                    )
                })?;
            binary_check(text.chars().take(BINARY_PROBE).map(u32::from))?;
            Decoded {
                text,
                encoding: enc.name(),
            }
        }
        Some((_, bom)) => decode_8bit(&bytes[bom..], bom)?,
        None => decode_8bit(bytes, 0)?,
    };
    if decoded.text.trim().is_empty() {
        return Err(Rejection::Blank);
    }
    Ok(decoded)
}

/// UTF-8, else UTF-8 runs with Windows-1252 between them (see [`decode`]). `base` is the
/// offset of `bytes` in the file, for the reason's byte offset.
fn decode_8bit(bytes: &[u8], base: usize) -> Result<Decoded<'_>, Rejection> {
    binary_check_bytes(bytes)?;
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded {
            text: Cow::Borrowed(text),
            encoding: encoding_rs::UTF_8.name(),
        });
    }
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    let (mut offset, mut first_bad, mut stray, mut letters) = (0, None, 0usize, 0usize);
    let mut utf8_beyond_ascii = false;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        letters += valid.bytes().filter(u8::is_ascii_alphabetic).count();
        utf8_beyond_ascii |= !valid.is_ascii();
        text.push_str(valid);
        offset += valid.len();
        let invalid = chunk.invalid();
        if invalid.is_empty() {
            continue;
        }
        first_bad.get_or_insert(offset);
        if let Some(i) = invalid.iter().position(|b| CP1252_UNDEFINED.contains(b)) {
            return Err(Rejection::InvalidUtf8(base + offset + i));
        }
        stray += invalid.len();
        text.push_str(
            &encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(invalid)
                .0,
        );
        offset += invalid.len();
    }
    if letters < stray * 2 {
        return Err(Rejection::InvalidUtf8(base + first_bad.unwrap_or(0)));
    }
    Ok(Decoded {
        text: Cow::Owned(text),
        encoding: if utf8_beyond_ascii {
            MIXED_UTF8_WINDOWS_1252
        } else {
            encoding_rs::WINDOWS_1252.name()
        },
    })
}

/// NUL anywhere in the probe, or more than one control character in twenty (other than
/// line breaks, tabs and form feeds), means binary.
fn binary_check(probe: impl Iterator<Item = u32>) -> Result<(), Rejection> {
    let (mut total, mut controls) = (0usize, 0usize);
    for c in probe {
        if c == 0 {
            return Err(nul_rejection());
        }
        total += 1;
        if is_stray_control(c) {
            controls += 1;
        }
    }
    control_verdict(controls, total)
}

/// [`binary_check`] of the first bytes of 8-bit text, in passes the compiler vectorizes
/// (every file without a byte-order mark goes through it).
fn binary_check_bytes(bytes: &[u8]) -> Result<(), Rejection> {
    let probe = &bytes[..bytes.len().min(BINARY_PROBE)];
    if probe.contains(&0) {
        return Err(match utf16_without_bom(probe) {
            Some(order) => Rejection::Binary(format!(
                "contains NUL bytes; every other byte is NUL, as in UTF-16 ({order}) without \
                 a byte-order mark: save it as UTF-8, or as UTF-16 with a byte-order mark"
            )),
            None => nul_rejection(),
        });
    }
    // Counted in blocks that a `u8` holds, so that the loop works on many bytes at once.
    let controls: usize = probe
        .chunks(u8::MAX.into())
        .map(|block| {
            block
                .iter()
                .fold(0u8, |n, &b| n + u8::from(is_stray_control(u32::from(b))))
        })
        .map(usize::from)
        .sum();
    control_verdict(controls, probe.len())
}

/// `Some("little-endian")` or `Some("big-endian")` when the probe looks like mostly-ASCII
/// UTF-16 text: NUL in nearly all of one byte position of each pair and in few of the
/// other. Only to word the rejection: text without a byte-order mark is not guessed at.
fn utf16_without_bom(probe: &[u8]) -> Option<&'static str> {
    let pairs = probe.len() / 2;
    if pairs < 8 {
        return None;
    }
    let (mut even, mut odd) = (0, 0);
    for pair in probe.chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    let mostly = |n: usize| n * 10 >= pairs * 9;
    let few = |n: usize| n * 10 <= pairs;
    if mostly(odd) && few(even) {
        Some("little-endian")
    } else if mostly(even) && few(odd) {
        Some("big-endian")
    } else {
        None
    }
}

fn nul_rejection() -> Rejection {
    Rejection::Binary("contains NUL bytes".into())
}

/// A control character other than line breaks, tabs and form feeds.
fn is_stray_control(c: u32) -> bool {
    // `&`, not `&&`: no branch, so that the byte loop vectorizes.
    (c < 0x20) & (c != 0x0A) & (c != 0x0D) & (c != 0x09) & (c != 0x0C)
}

/// Binary when more than one character in twenty of the probe is a stray control.
fn control_verdict(controls: usize, total: usize) -> Result<(), Rejection> {
    if controls * 20 > total {
        return Err(Rejection::Binary(format!(
            "{controls} control bytes in the first {total}"
        )));
    }
    Ok(())
}

/// The byte offset (in `body`) of the first code unit that makes UTF-16 invalid: an
/// unpaired surrogate, or a lone last byte.
fn first_bad_utf16(body: &[u8], big_endian: bool) -> usize {
    let units = body.chunks_exact(2).map(|p| {
        if big_endian {
            u16::from_be_bytes([p[0], p[1]])
        } else {
            u16::from_le_bytes([p[0], p[1]])
        }
    });
    let mut at = 0;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => at += c.len_utf16() * 2,
            Err(_) => return at,
        }
    }
    at
}

/// The publication time a `date:` (or `published:`) header states.
///
/// A date the header states but that cannot be read rejects the report
/// (`malformed_header`) instead of falling back to the file's modification time. The
/// publication time orders a report's claims against every other report's: a report from
/// last week that took the time it was dropped into the folder would count as the newest
/// word on its developments, and could move or dispute their status. An editor who wrote a
/// date wants that date or to be told; the rejection names the header and the formats that
/// are understood, the file stays where it is, and the corrected file is read when saved.
///
/// # Errors
/// `MalformedHeader` for an empty or unreadable date.
fn header_date(key: &str, value: Option<&str>) -> Result<OffsetDateTime, Rejection> {
    let Some(value) = value else {
        return Err(Rejection::MalformedHeader(format!(
            "the `{key}:` header is empty"
        )));
    };
    parse_date(value).ok_or_else(|| {
        let shown: String = value.chars().take(40).collect();
        Rejection::MalformedHeader(format!(
            "the `{key}:` header `{shown}` is not a date (write 2031-04-05, RFC 3339 \
             such as 2031-04-05T14:30:00Z, RFC 2822, or 5 April 2031)"
        ))
    })
}

/// `YYYY-MM-DD` (midnight UTC, anything after the day ignored), RFC 3339, RFC 2822
/// (`Sat, 05 Apr 2031 14:30:00 +0000`), or a day written out: `5 April 2031`,
/// `April 5, 2031`, `5 Apr 2031` (midnight UTC). Numeric forms such as `05/04/2031` are
/// not guessed at: whether the day or the month comes first differs between newsrooms.
fn parse_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(dt);
    }
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc2822) {
        return Some(dt);
    }
    if let Some(day) = s.get(..10) {
        if let Ok(d) = Date::parse(day, format_description!("[year]-[month]-[day]")) {
            return Some(d.midnight().assume_utc());
        }
    }
    written_out_date(s).map(|d| d.midnight().assume_utc())
}

/// `5 April 2031`, `April 5, 2031`, `Saturday 5 April 2031` (English month names, full
/// or abbreviated to three letters).
fn written_out_date(s: &str) -> Option<Date> {
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() > 4 {
        return None;
    }
    let (mut day, mut month, mut year) = (None, None, None);
    for w in words {
        let w = w.trim_end_matches('.');
        if let Ok(n) = w.parse::<u16>() {
            if w.len() == 4 && year.is_none() {
                year = Some(i32::from(n));
            } else if w.len() <= 2 && day.is_none() {
                day = u8::try_from(n).ok();
            } else {
                return None;
            }
        } else if let Some(m) = month_named(w) {
            if month.replace(m).is_some() {
                return None;
            }
        } else if !is_weekday(w) {
            return None;
        }
    }
    Date::from_calendar_date(year?, month?, day?).ok()
}

/// A line of the byline that only dates the report: a date written out or in ISO form,
/// maybe after a label ("Published", "Updated:", "Posted on") and a weekday, maybe with a
/// time of day and its zone after it. A date without its year, or a weekday alone, is read
/// near `around`, the file's day (see [`day_near`]).
fn byline_date(line: &str, around: Date) -> Option<Date> {
    const LABELS: [&str; 6] = [
        "published",
        "updated",
        "posted",
        "last updated",
        "first published",
        "dated",
    ];
    let mut rest = line.trim();
    let lower = rest.to_ascii_lowercase();
    if let Some(label) = LABELS
        .iter()
        .filter(|l| lower.starts_with(*l))
        .max_by_key(|l| l.len())
    {
        rest = rest[label.len()..].trim_start_matches([':', ' ', '\t']);
        if rest.to_ascii_lowercase().starts_with("on ") {
            rest = &rest[3..];
        }
    }
    if rest.len() > BYLINE_MAX || rest.is_empty() {
        return None;
    }
    if let Some(day) = rest.get(..10) {
        if rest.len() == 10 || !rest.as_bytes()[10].is_ascii_digit() {
            if let Ok(d) = Date::parse(day, format_description!("[year]-[month]-[day]")) {
                let tail = rest[10..].trim_start_matches(['T', ' ']);
                if tail.is_empty() || is_time_of_day(tail) {
                    return Some(d);
                }
            }
        }
    }
    // The date, then a time of day ("09:15 GMT", "9.15am ET") that says nothing more.
    let words: Vec<&str> = rest.split_whitespace().collect();
    (1..=words.len()).rev().find_map(|n| {
        let tail = words[n..].join(" ");
        (tail.is_empty() || is_time_of_day(&tail))
            .then(|| day_near(&words[..n].join(" "), around))
            .flatten()
    })
}

/// The day the report's file was written, else received: what a date without its year
/// is read near.
fn file_day(raw: &RawReport) -> Date {
    raw.modified
        .map_or(raw.received_at, OffsetDateTime::from)
        .date()
}

/// "09:15", "9.15am", "14:30 GMT", "10:02 a.m. EDT", "(UTC)".
fn is_time_of_day(s: &str) -> bool {
    let mut words = s.split_whitespace();
    let Some(clock) = words.next() else {
        return false;
    };
    let digits = clock.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '.');
    let clock_ok = digits.split_once([':', '.']).is_some_and(|(h, m)| {
        (1..=2).contains(&h.len())
            && m.len() == 2
            && h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
    });
    clock_ok
        && words.all(|w| {
            let w = w.trim_matches(['(', ')', ',']);
            matches!(
                w.to_ascii_lowercase().as_str(),
                "a.m." | "p.m." | "am" | "pm"
            ) || (w.len() <= 5
                && !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'+' || b.is_ascii_digit()))
        })
}

/// A day as a dateline or byline writes it ("2 October 2031", "Oct. 2, 2031", "Oct 2",
/// "Tuesday"), read near `around`, the file's day. Without a year, the year that puts the
/// day nearest it: a wire dateline leaves the year out, and a file is dropped days after
/// it is written, not months. A weekday alone is the last such day up to `around`.
fn day_near(s: &str, around: Date) -> Option<Date> {
    if let Some(d) = written_out_date(s) {
        return Some(d);
    }
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !is_weekday(w) || s.split_whitespace().count() == 1)
        .collect();
    if let [w] = words[..] {
        if !is_weekday(w) {
            return None;
        }
        let w = w.to_ascii_lowercase();
        return (0..7)
            .filter_map(|k| around.checked_sub(time::Duration::days(k)))
            .find(|d| {
                d.weekday()
                    .to_string()
                    .to_ascii_lowercase()
                    .starts_with(&w[..3])
            });
    }
    let [a, b] = words[..] else {
        return None;
    };
    let (month, day) = match (
        month_named(a.trim_end_matches('.')),
        month_named(b.trim_end_matches('.')),
    ) {
        (Some(m), None) => (m, b.parse::<u8>().ok()?),
        (None, Some(m)) => (m, a.parse::<u8>().ok()?),
        _ => return None,
    };
    (around.year() - 1..=around.year() + 1)
        .filter_map(|y| Date::from_calendar_date(y, month, day).ok())
        .min_by_key(|d| (*d - around).whole_days().abs())
}

pub(crate) fn month_named(word: &str) -> Option<Month> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = word.to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    let i = MONTHS.iter().position(|m| {
        *m == w || (w.len() == 3 && m.starts_with(w.as_str())) || (w == "sept" && *m == "september")
    })?;
    Month::try_from(u8::try_from(i + 1).ok()?).ok()
}

pub(crate) fn is_weekday(word: &str) -> bool {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let w = word.to_ascii_lowercase();
    w.len() >= 3
        && DAYS
            .iter()
            .any(|d| *d == w || (w.len() == 3 && d.starts_with(w.as_str())))
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
    use crate::text::fold;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;
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
    fn a_text_that_stops_mid_sentence_is_unfinished() {
        let holding = normalizer().holding_unfinished();
        let unfinished = |text: &str| holding.normalize(&raw(text.as_bytes())).unwrap().unfinished;
        let body = "Troops left the valley. The convoy reached Velgrad";
        assert_eq!(unfinished(body), Some(1));
        assert_eq!(unfinished(&format!("{body}   ")), Some(1));
        assert_eq!(unfinished(&format!("Troops leave\n\n{body}")), Some(2));
        // Capitalised words at the end are no heading.
        assert_eq!(
            unfinished("Troops left the valley. The Moor Gazette Reported"),
            Some(1)
        );
        // A line break after it, closing punctuation, or no body sentence before it.
        assert_eq!(unfinished(&format!("{body}\n")), None);
        assert_eq!(unfinished(&format!("{body}\r\n")), None);
        assert_eq!(unfinished(&format!("{body}.")), None);
        assert_eq!(unfinished(&format!("{body}?")), None);
        assert_eq!(unfinished("It left. He said: \"We are done.\""), None);
        assert_eq!(unfinished("It left (late)"), None);
        assert_eq!(unfinished("Convoy reaches Velgrad"), None);
        assert_eq!(
            unfinished("URGENT\n\nTroops withdraw from Velgrad airport"),
            None
        );
        // Files given once are taken as they are.
        let once = normalizer().normalize(&raw(body.as_bytes())).unwrap();
        assert_eq!(once.unfinished, None);
    }

    #[test]
    fn a_held_back_text_and_its_completion_have_different_fingerprints() {
        let cut = "Troops left the valley. The convoy reached Velgrad";
        let done = format!("{cut}\n");
        let fp = |n: &Normalizer, t: &str| n.normalize(&raw(t.as_bytes())).unwrap().fingerprint;
        let holding = normalizer().holding_unfinished();
        assert_ne!(fp(&holding, cut), fp(&holding, &done));
        // Otherwise a line break at the end changes nothing.
        let once = normalizer();
        assert_eq!(fp(&once, cut), fp(&once, &done));
        assert_eq!(fp(&holding, &done), fp(&once, &done));
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
    fn a_title_case_dateline_needs_a_date_and_a_source() {
        let text = "P-au-P, June 25, 2031 [Kessa Wire] - The convoy left. It was late.";
        let r = normalizer().normalize(&raw(text.as_bytes())).unwrap();
        assert_eq!(r.meta.dateline.as_deref(), Some("P-au-P"));
        assert_eq!(r.meta.source.as_deref(), Some("Kessa Wire"));
        assert_eq!(r.sentences[0].text, "The convoy left.");
        let text = "Port-au-Kessa, 3 March (Kessa Wire) - The convoy left.";
        let r = normalizer().normalize(&raw(text.as_bytes())).unwrap();
        assert_eq!(r.meta.dateline.as_deref(), Some("Port-au-Kessa"));
        // Without a source it is a sentence's opening words.
        let text = "Velgrad, March 3 - the day the convoy left - was cold.";
        let r = normalizer().normalize(&raw(text.as_bytes())).unwrap();
        assert_eq!(r.meta.dateline, None);
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
    fn utf16_without_a_byte_order_mark_is_named_in_the_rejection() {
        let n = normalizer();
        let text = "Talks in Velgrad resumed on Monday.\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (bytes, order) in [(le, "little-endian"), (be, "big-endian")] {
            match n.normalize(&raw(&bytes)).unwrap_err() {
                Rejection::Binary(why) => assert!(why.contains(order), "{why}"),
                other => panic!("{other:?}"),
            }
        }
        // Other NUL-bearing bytes keep the plain reason.
        assert_eq!(
            n.normalize(&raw(
                b"PK\x03\x04\x00\x00\x14\x00\x08\x00\x08\x00\x9a\x4f\x67\x56\x00\x00"
            ))
            .unwrap_err(),
            Rejection::Binary("contains NUL bytes".into())
        );
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
        // Not Windows-1252 either: a byte it leaves undefined, or mostly non-ASCII bytes
        // (Cyrillic in Windows-1251 here).
        assert_eq!(
            n.normalize(&raw(b"caf\x81 ok")).unwrap_err(),
            Rejection::InvalidUtf8(3)
        );
        assert_eq!(
            n.normalize(&raw(b"\xcf\xf0\xe8\xe2\xe5\xf2 \xec\xe8\xf0."))
                .unwrap_err(),
            Rejection::InvalidUtf8(0)
        );
        assert_eq!(
            n.normalize(&raw(b"\xef\xbb\xbfok \x90")).unwrap_err(),
            Rejection::InvalidUtf8(6)
        );
    }

    fn named(name: &str, text: &str) -> RawReport {
        RawReport {
            path: PathBuf::from(name),
            ..raw(text.as_bytes())
        }
    }

    #[test]
    fn markup_and_structured_files_are_not_read_as_prose() {
        let n = normalizer();
        let refused = |name: &str, text: &str| match n.normalize(&named(name, text)) {
            Err(Rejection::NotPlainText(what)) => what,
            other => panic!("{name}: {other:?}"),
        };
        let page = "<!DOCTYPE html>\n<html><head><title>Troops leave</title></head>\n<body><p>Kestrian troops left Varnholt.</p><footer>Cookie Policy</footer></body></html>\n";
        assert_eq!(refused("page.txt", page), "an HTML page");
        assert_eq!(
            refused(
                "page.txt",
                "\u{FEFF}  <html lang=\"en\"><body>Text.</body></html>"
            ),
            "an HTML page"
        );
        let feed = "<?xml version=\"1.0\"?>\n<rss><channel><title>Wire</title></channel></rss>\n";
        assert_eq!(refused("feed.txt", feed), "an XML document");
        let fragment = "<div class=\"story\">\n  Troops left Varnholt on Monday.\n</div>\n";
        assert!(refused("x.txt", fragment).contains("`<div>`"));
        let xml = "<report>\n<title>Troops leave</title>\n</report>";
        assert!(refused("x.txt", xml).starts_with("markup"));
        let record =
            r#"{"title": "Troops leave", "date": "2031-04-05", "body": "Kestrian troops left."}"#;
        assert_eq!(refused("x.txt", record), "a JSON object");
        assert_eq!(refused("x.txt", &format!("[{record}]")), "a JSON array");
        assert_eq!(
            refused("x.txt", &format!("{record}\n{record}\n")),
            "JSON Lines (2 JSON values)"
        );
        // After a header block too.
        assert_eq!(
            refused("x.txt", &format!("source: Tallis Wire\n\n{page}")),
            "an HTML page"
        );
        // The name is a hint: an opening tag or brace suffices with it.
        assert!(refused("x.html", "<p>Troops left Varnholt on Monday.").contains("HTML"));
        assert!(refused("x.json", "{\"title\": \"Troops leave\",").contains("`.json`"));
    }

    #[test]
    fn prose_with_angle_brackets_or_braces_is_plain_text() {
        let n = normalizer();
        for (name, text) in [
            (
                "a.txt",
                "Casualties were < 10 and > 2, officials said. The convoy left.",
            ),
            ("a.txt", "<URGENT> Kestrian troops left Varnholt on Monday."),
            ("a.txt", "[Update] Kestrian troops left Varnholt on Monday."),
            ("a.txt", "[1] Kestrian troops left Varnholt on Monday."),
            (
                "a.txt",
                "{Corrected} Kestrian troops left Varnholt on Monday.",
            ),
            ("a.txt", "<3 from Velgrad: the convoy left."),
            ("a.txt", "<p>Kestrian troops left Varnholt on Monday."),
            ("a.json", "Kestrian troops left Varnholt on Monday."),
            ("a.html", "Kestrian troops left <Varnholt> on Monday."),
        ] {
            assert!(n.normalize(&named(name, text)).is_ok(), "{name}: {text}");
        }
    }

    #[test]
    fn control_bytes_are_counted_in_the_first_8_kib() {
        let n = normalizer();
        // Dense controls (whole blocks of them), then text, then controls past the probe.
        let mut bytes = vec![0x01; 500];
        bytes.extend(b"text\n".repeat(2000));
        bytes.extend([0x02; 100]);
        assert_eq!(
            n.normalize(&raw(&bytes)).unwrap_err(),
            Rejection::Binary("500 control bytes in the first 8192".into())
        );
        // Line breaks, tabs and form feeds are not controls; up to one in twenty is text.
        let mut bytes = b"Rain fell.\r\n\t\x0C".repeat(40);
        bytes.extend([0x1B; 29]);
        assert!(n.normalize(&raw(&bytes)).is_ok());
        bytes.push(0x1B);
        assert!(matches!(
            n.normalize(&raw(&bytes)).unwrap_err(),
            Rejection::Binary(_)
        ));
    }

    /// `text` in UTF-16 with its byte-order mark.
    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let code = |u: u16| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        };
        std::iter::once(0xFEFF)
            .chain(text.encode_utf16())
            .flat_map(code)
            .collect()
    }

    /// Every sentence's offsets are char boundaries of `original` and fold to its text.
    fn assert_offsets(r: &Report) {
        for s in &r.sentences {
            assert!(s.start < s.end && s.end <= r.original.len(), "{s:?}");
            assert_eq!(fold(&r.original[s.start..s.end]), s.text);
        }
    }

    #[test]
    fn byte_order_marks_decide_the_encoding() {
        let text = "Troops leave the valley\r\n\r\nVELGRAD - The “convoy” left on Monday. Talks begin.\r\n";
        let plain = normalizer().normalize(&raw(text.as_bytes())).unwrap();
        assert_eq!(plain.meta.encoding, "UTF-8");
        for (bytes, label) in [
            (utf16(text, false), "UTF-16LE"),
            (utf16(text, true), "UTF-16BE"),
            (
                [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                "UTF-8",
            ),
        ] {
            let r = normalizer().normalize(&raw(&bytes)).unwrap();
            assert_eq!(r.meta.encoding, label);
            assert_eq!(r.original, text, "{label}: the mark is dropped");
            assert_eq!(r.id, plain.id, "{label}: same text, same id");
            assert_eq!(r.sentences, plain.sentences);
            assert_offsets(&r);
        }
    }

    #[test]
    fn broken_or_binary_utf16_is_rejected() {
        let n = normalizer();
        // An unpaired surrogate after "A".
        let bad = b"\xFF\xFEA\x00\x00\xD8B\x00";
        assert_eq!(
            n.normalize(&raw(bad)).unwrap_err(),
            Rejection::InvalidUtf16(4)
        );
        // A lone last byte.
        let odd = b"\xFE\xFF\x00A\x00";
        assert_eq!(
            n.normalize(&raw(odd)).unwrap_err(),
            Rejection::InvalidUtf16(4)
        );
        let nul = utf16("Text\u{0}with a NUL.", false);
        assert!(matches!(
            n.normalize(&raw(&nul)).unwrap_err(),
            Rejection::Binary(_)
        ));
        let controls = utf16("\u{1}\u{2}\u{3}\u{4}abc", true);
        assert!(matches!(
            n.normalize(&raw(&controls)).unwrap_err(),
            Rejection::Binary(_)
        ));
        assert_eq!(
            n.normalize(&raw(b"\xFF\xFE")).unwrap_err(),
            Rejection::Blank
        );
    }

    #[test]
    fn windows_1252_is_read_when_the_bytes_are_not_utf8() {
        let bytes = b"The minister\x92s car left Caf\xe9 Rouge. \x93Fine,\x94 he said \x96 twice.";
        let r = normalizer().normalize(&raw(bytes)).unwrap();
        assert_eq!(r.meta.encoding, "windows-1252");
        assert_eq!(
            r.original,
            "The minister’s car left Café Rouge. “Fine,” he said – twice."
        );
        assert_eq!(r.sentences.len(), 2);
        assert_offsets(&r);
    }

    #[test]
    fn stray_windows_1252_bytes_in_utf8_keep_the_utf8() {
        // "Café" in UTF-8, then a Windows-1252 apostrophe.
        let bytes = b"Caf\xc3\xa9 owners said it\x92s over. They left.";
        let r = normalizer().normalize(&raw(bytes)).unwrap();
        assert_eq!(r.meta.encoding, MIXED_UTF8_WINDOWS_1252);
        assert_eq!(r.original, "Café owners said it’s over. They left.");
        assert_offsets(&r);
    }

    fn raw_at(text: &str, modified: &str) -> RawReport {
        let day = Date::parse(modified, format_description!("[year]-[month]-[day]")).unwrap();
        RawReport {
            modified: Some(day.midnight().assume_utc().into()),
            ..raw(text.as_bytes())
        }
    }

    fn day_of(r: &Report) -> String {
        r.published_at.date().to_string()
    }

    /// The day a text read from a file of day `modified` is dated, and where that came from.
    fn dated(n: &Normalizer, text: &str, modified: &str) -> (String, &'static str) {
        let r = n.normalize(&raw_at(text, modified)).unwrap();
        (day_of(&r), r.meta.date_origin)
    }

    #[test]
    fn a_dateline_dates_the_report_in_the_year_nearest_its_file() {
        let n = normalizer();
        let text = "Convoy leaves Velgrad\n\nVELGRAD, Mar 4 (EW) - The convoy left on Monday.\n";
        let r = n.normalize(&raw_at(text, "2031-03-06")).unwrap();
        assert_eq!(
            (day_of(&r).as_str(), r.meta.date_origin),
            ("2031-03-04", "dateline")
        );
        assert_eq!(r.meta.source.as_deref(), Some("EW"));
        assert_eq!(r.meta.dateline.as_deref(), Some("VELGRAD"));
        let text = "VELGRAD, Dec. 30 - The convoy left on Monday.\n";
        let r = n.normalize(&raw_at(text, "2032-01-02")).unwrap();
        assert_eq!(day_of(&r), "2031-12-30");
        let text = "PARIS, 2 October 2031 (EW) - The talks ended.\n";
        let r = n.normalize(&raw_at(text, "2034-05-05")).unwrap();
        assert_eq!(day_of(&r), "2031-10-02");
        assert_eq!(r.sentences[0].text, "The talks ended.");
        // No day in the dateline, or one no calendar has: the file's time.
        for text in [
            "VELGRAD (EW) - The convoy left.\n",
            "VELGRAD, Feb 30 - The convoy left.\n",
        ] {
            assert_eq!(
                dated(&n, text, "2031-03-06"),
                ("2031-03-06".into(), "mtime")
            );
        }
        // A header says it first.
        let text = "date: 2031-03-05\n\nVELGRAD, Mar 4 - The convoy left.\n";
        assert_eq!(
            dated(&n, text, "2031-03-09"),
            ("2031-03-05".into(), "header")
        );
    }

    #[test]
    fn a_byline_date_line_dates_the_report_and_is_no_sentence() {
        let n = normalizer();
        let text = "Convoy leaves Velgrad\n\nBy Ana Ruiz\nUpdated: Oct 4, 2031 09:15 GMT\n\
            Published on Friday 3 October 2031\nVELGRAD (EW) - The convoy left on Monday.\n";
        let r = n.normalize(&raw_at(text, "2031-12-01")).unwrap();
        // The oldest of the dates the file carries: its first publication.
        assert_eq!(
            (day_of(&r).as_str(), r.meta.date_origin),
            ("2031-10-03", "date_line")
        );
        let texts: Vec<&str> = r.sentences.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Convoy leaves Velgrad",
                "By Ana Ruiz",
                "The convoy left on Monday."
            ]
        );
        assert_eq!(r.meta.dateline.as_deref(), Some("VELGRAD"));
        // A date line before it leaves "Velgrad: " the line that opens the body.
        let r = n
            .normalize(&raw_at(
                "Published 3 Oct 2031\nVelgrad: The convoy left.\n",
                "2031-12-01",
            ))
            .unwrap();
        assert_eq!(r.meta.dateline.as_deref(), Some("Velgrad"));
        assert_eq!(day_of(&r), "2031-10-03");
        for (line, day) in [
            ("2031-10-05", "2031-10-05"),
            ("2031-10-05 14:30 UTC", "2031-10-05"),
            ("October 5, 2031", "2031-10-05"),
            ("Posted 5 Oct 2031, 9.15am ET", "2031-10-05"),
            // Without a year, or a weekday alone: near the file's day (a Monday).
            ("Friday 28 November", "2031-11-28"),
            ("Published Thursday", "2031-11-27"),
            ("Monday 09:15 GMT", "2031-12-01"),
        ] {
            let r = n
                .normalize(&raw_at(
                    &format!("{line}\n\nThe convoy left on Monday.\n"),
                    "2031-12-01",
                ))
                .unwrap();
            assert_eq!(day_of(&r), day, "{line}");
            assert_eq!(r.meta.title, None, "{line}");
            assert_eq!(r.sentences.len(), 1, "{line}");
        }
        // A sentence that mentions a day is text: it dates what it tells, not the report.
        let text = "The talks ended on 3 October 2031.\nThe convoy left.\n";
        assert_eq!(
            dated(&n, text, "2031-12-01"),
            ("2031-12-01".into(), "mtime")
        );
    }

    #[test]
    fn header_dates_in_several_forms() {
        let n = normalizer();
        for (header, day) in [
            ("date: 2031-04-05", "2031-04-05"),
            ("date: 2031-04-05T23:30:00-02:00", "2031-04-05"),
            ("published: Sat, 05 Apr 2031 14:30:00 +0000", "2031-04-05"),
            ("Date: 5 April 2031", "2031-04-05"),
            ("date: April 5, 2031", "2031-04-05"),
            ("date: Saturday, 5 Apr. 2031", "2031-04-05"),
            ("date: 30 Sept 2031", "2031-09-30"),
        ] {
            let text = format!("{header}\n\nThe convoy left.\n");
            let r = n.normalize(&raw(text.as_bytes())).unwrap();
            assert_eq!(r.published_at.date().to_string(), day, "{header}");
            assert_eq!(r.meta.date_origin, "header");
        }
    }

    #[test]
    fn malformed_headers_are_rejected_with_the_header_named() {
        let n = normalizer();
        let reason = |text: &str| match n.normalize(&raw(text.as_bytes())) {
            Err(Rejection::MalformedHeader(m)) => m,
            other => panic!("{text:?}: {other:?}"),
        };
        let m = reason("source: Example Wire\ndate: next Tuesday\n\nThe convoy left.\n");
        assert!(m.contains("`date:`") && m.contains("next Tuesday"), "{m}");
        let m = reason("published: 05/04/2031\n\nThe convoy left.\n");
        assert!(m.contains("`published:`"), "{m}");
        assert!(reason("date: 2031-02-30\n\nThe convoy left.").contains("2031-02-30"));
        assert!(reason("date:\n\nThe convoy left.").contains("empty"));
        assert!(reason("source: Example Wire\ndate: 2031-04-05\n\n  \n").contains("no report text"));
        assert!(reason("date 2031-13-01 The convoy left.").contains("2031-13-01"));
        // An empty source header is no source, not an error.
        let r = n.normalize(&raw(b"source:\n\nThe convoy left.")).unwrap();
        assert_eq!(r.meta.source, None);
    }

    /// Text-like input: words, punctuation, line breaks, header-like lines, and bytes
    /// outside ASCII, so that generated input often gets past decoding.
    fn texty() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            "[A-Za-z]{1,9}".prop_map(String::into_bytes),
            Just(b" ".to_vec()),
            Just(b". ".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\n\n".to_vec()),
            Just(b"source: ".to_vec()),
            Just(b"date: 2031-04-05\n".to_vec()),
            Just(b"date ".to_vec()),
            Just(b"VELGRAD (EW) - ".to_vec()),
            Just("“”’ é Ω 東".as_bytes().to_vec()),
            "[0-9-]{1,10}".prop_map(String::into_bytes),
            any::<u8>().prop_map(|b| vec![b]),
            proptest::collection::vec(any::<u8>(), 1..4),
        ];
        (
            proptest::collection::vec(piece, 0..80),
            prop_oneof![Just(None), Just(Some(false)), Just(Some(true))],
        )
            .prop_map(|(pieces, utf16_order)| {
                let bytes = pieces.concat();
                match utf16_order {
                    None => bytes,
                    Some(big) => utf16(&String::from_utf8_lossy(&bytes), big),
                }
            })
    }

    fn check_any(bytes: &[u8]) -> Result<(), TestCaseError> {
        static NORMALIZER: std::sync::OnceLock<Normalizer> = std::sync::OnceLock::new();
        match NORMALIZER.get_or_init(normalizer).normalize(&raw(bytes)) {
            Ok(r) => {
                prop_assert!(!r.sentences.is_empty());
                for s in &r.sentences {
                    prop_assert!(s.start < s.end && s.end <= r.original.len(), "{s:?}");
                    prop_assert!(r.original.is_char_boundary(s.start));
                    prop_assert!(r.original.is_char_boundary(s.end));
                    prop_assert!(!r.original[s.start..s.end].is_empty());
                }
                prop_assert!(!r.meta.encoding.is_empty());
            }
            Err(reason) => {
                prop_assert!(!reason.to_string().is_empty());
                prop_assert!(Rejection::CODES.contains(&reason.code()));
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn any_bytes_give_a_report_or_a_reason(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            check_any(&bytes)?;
        }

        #[test]
        fn text_like_bytes_give_a_report_or_a_reason(bytes in texty()) {
            check_any(&bytes)?;
        }

        #[test]
        fn any_unicode_gives_a_report_or_a_reason(text in any::<String>()) {
            check_any(text.as_bytes())?;
        }

        #[test]
        fn valid_utf8_text_decodes_to_itself(text in "[ -~\n\u{a0}-\u{2fff}]{1,200}") {
            if let Ok(d) = decode(text.as_bytes()) {
                prop_assert_eq!(d.text.as_ref(), text.as_str());
                prop_assert_eq!(d.encoding, "UTF-8");
            }
        }
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
