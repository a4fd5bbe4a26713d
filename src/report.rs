//! The forms a report takes on its way through the pipeline.
//!
//! Every stage speaks these types and none other, so stages never import one another:
//! the source produces [`RawReport`]s, normalize turns them into [`Report`]s, dedup and
//! extract annotate them, and the situation applies them.

use std::path::PathBuf;
use std::time::SystemTime;

use serde::Serialize;
use time::OffsetDateTime;

/// A file's bytes as read by the source, before any decoding.
#[derive(Debug, Clone)]
pub struct RawReport {
    /// Where the bytes came from (as given on the command line or seen in the watch folder).
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// The file's modification time: the publication time of last resort.
    pub modified: Option<SystemTime>,
    /// When the source read it.
    pub received_at: OffsetDateTime,
}

/// Why an input was refused. Each one becomes a `report.rejected` event and a warning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("file is empty")]
    Empty,
    #[error("file holds no text, only whitespace")]
    Blank,
    #[error("file looks binary ({0})")]
    Binary(String),
    #[error("file is not valid UTF-8 and does not read as Windows-1252 either (first bad byte at offset {0})")]
    InvalidUtf8(usize),
    #[error("file starts with a UTF-16 byte-order mark but is not valid UTF-16 (first bad byte at offset {0})")]
    InvalidUtf16(usize),
    #[error("report header is malformed: {0}")]
    MalformedHeader(String),
    #[error(
        "file is {0}, not plain text; only plain-text reports are read: save the report as text"
    )]
    NotPlainText(String),
    #[error("file is larger than the {limit}-byte cap ({size} bytes)")]
    TooLarge { size: u64, limit: u64 },
    #[error("path is a directory, not a report")]
    Directory,
    #[error("path is not a regular file ({0})")]
    NotRegular(String),
    #[error("file vanished before it could be read")]
    Vanished,
    #[error("file could not be read: {0}")]
    Unreadable(String),
}

impl Rejection {
    /// Every [`Rejection::code`], in declaration order, so that counters and documentation
    /// can list the reasons that have not happened yet.
    pub const CODES: [&'static str; 12] = [
        "empty",
        "blank",
        "binary",
        "invalid_utf8",
        "invalid_utf16",
        "malformed_header",
        "not_plain_text",
        "too_large",
        "directory",
        "not_regular",
        "vanished",
        "unreadable",
    ];

    /// A stable machine-readable code for the `reason_code` field of the event.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty",
            Rejection::Blank => "blank",
            Rejection::Binary(_) => "binary",
            Rejection::InvalidUtf8(_) => "invalid_utf8",
            Rejection::InvalidUtf16(_) => "invalid_utf16",
            Rejection::MalformedHeader(_) => "malformed_header",
            Rejection::NotPlainText(_) => "not_plain_text",
            Rejection::TooLarge { .. } => "too_large",
            Rejection::Directory => "directory",
            Rejection::NotRegular(_) => "not_regular",
            Rejection::Vanished => "vanished",
            Rejection::Unreadable(_) => "unreadable",
        }
    }
}

/// What a file looked like when it was judged: its size and modification time. A rejected
/// file is only set aside (see `source.rejected_dir`) while it still looks like this, so a
/// corrected version written under the same name in the meantime is never moved unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl FileStamp {
    /// The stamp of what `path` names now: the file a link points to, else the link itself.
    pub fn of(path: &std::path::Path) -> Option<FileStamp> {
        let m = std::fs::metadata(path)
            .or_else(|_| std::fs::symlink_metadata(path))
            .ok()?;
        Some(FileStamp {
            len: m.len(),
            modified: m.modified().ok(),
        })
    }
}

/// An input the pipeline refused, carried to the situation writer so that the rejection
/// gets its sequence number in arrival order like every other event.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub path: PathBuf,
    pub reason: Rejection,
    /// The file as it was judged, when it could be looked at (not for a vanished file).
    pub seen: Option<FileStamp>,
}

/// One sentence, located in the original text.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Sentence {
    /// Byte offset of the first byte in [`Report::original`].
    pub start: usize,
    /// Byte offset one past the last byte in [`Report::original`].
    pub end: usize,
    /// The sentence folded for matching (NFC, ASCII quotes and dashes, single spaces).
    pub text: String,
}

/// Report metadata found in the text or the file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Metadata {
    pub title: Option<String>,
    /// The outlet, from a `source:` header or the agency in a dateline (`ERBIL (Kurdistan24) -`).
    pub source: Option<String>,
    pub url: Option<String>,
    /// The dateline place (`MOSCOW -`, `Moscow:`), as written.
    pub dateline: Option<String>,
    /// Where `published_at` came from: `header`, `date_prefix`, `mtime` or `received`.
    pub date_origin: &'static str,
    /// How the bytes were decoded: `UTF-8`, `UTF-16LE`, `UTF-16BE`, `windows-1252`, or
    /// `UTF-8+windows-1252` for UTF-8 with stray Windows-1252 bytes (see `normalize::decode`).
    pub encoding: &'static str,
}

/// A decoded, normalized report, ready for dedup and extraction.
#[derive(Debug, Clone)]
pub struct Report {
    /// Stable id: the fingerprint of the normalized body, in hex.
    pub id: String,
    pub fingerprint: u128,
    pub path: PathBuf,
    /// The decoded text (BOM stripped), which sentence offsets index into.
    pub original: String,
    pub meta: Metadata,
    pub published_at: OffsetDateTime,
    pub received_at: OffsetDateTime,
    /// The file's modification time and size as read: with the path, the ledger's key for
    /// "this file was already taken".
    pub modified: Option<SystemTime>,
    pub raw_len: u64,
    /// Index 0 is the title when the report has one.
    pub sentences: Vec<Sentence>,
    /// True when sentence 0 is the title.
    pub has_title_sentence: bool,
    /// Sentences in headline casing (the title, section headings): names are only trusted
    /// there when the body confirms them.
    pub headings: Vec<usize>,
    /// The last sentence, when the text stops in it and the normalizer holds such
    /// sentences back (see [`unfinished_sentence`]): left out of extraction and of the
    /// sentences a revision counts as known.
    pub unfinished: Option<usize>,
}

impl Report {
    /// The original text of a sentence, for evidence.
    pub fn sentence_original(&self, idx: usize) -> &str {
        self.sentences
            .get(idx)
            .and_then(|s| self.original.get(s.start..s.end))
            .unwrap_or("")
    }

    /// The file name, for events and logs.
    pub fn file_name(&self) -> String {
        file_label(&self.path)
    }
}

/// The last sentence of a text, when the text stops in it: no line break after it and no
/// closing punctuation at its end, as a file read while its writer is still at work leaves
/// it ("… withdrew from Qamis"). `first_body` is the first sentence after the title; a
/// text whose only body sentence is the last is never unfinished, as a one-line flash may
/// be written without a stop.
///
/// Headline casing does not exempt the last sentence: a heading comes before text, and a
/// cut-off sentence of capitalised words ("The Moor Gazette Reported") looks like one.
pub fn unfinished_sentence(
    original: &str,
    sentences: &[Sentence],
    first_body: usize,
) -> Option<usize> {
    let last = sentences.len().checked_sub(1).filter(|&l| l > first_body)?;
    let s = &sentences[last];
    if original.get(s.end..).unwrap_or("").contains(['\n', '\r']) {
        return None;
    }
    let end = s.text.trim_end().chars().next_back()?;
    // The folded text has ASCII quotes only.
    let closed = matches!(
        end,
        '.' | '!' | '?' | '…' | ':' | ';' | ')' | ']' | '"' | '\''
    );
    (!closed).then_some(last)
}

/// The last component of a path, lossily decoded (names with odd bytes must still print).
pub fn file_label(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once() {
        let all = [
            Rejection::Empty,
            Rejection::Blank,
            Rejection::Binary(String::new()),
            Rejection::InvalidUtf8(0),
            Rejection::InvalidUtf16(0),
            Rejection::MalformedHeader(String::new()),
            Rejection::NotPlainText(String::new()),
            Rejection::TooLarge { size: 0, limit: 0 },
            Rejection::Directory,
            Rejection::NotRegular(String::new()),
            Rejection::Vanished,
            Rejection::Unreadable(String::new()),
        ];
        let codes: Vec<&str> = all.iter().map(Rejection::code).collect();
        assert_eq!(codes, Rejection::CODES);
    }
}
