//! Retracting a report: the request as it travels down the pipeline to the situation
//! writer, the record the journal and the situation keep of it, and the answer.
//!
//! A retraction goes the way a report file goes (intake, then the one writer that applies,
//! journals and publishes) rather than writing the picture from the API: the writer alone
//! owns the journal, so a retraction is ordered with the reports around it, made durable
//! before its events are published, and replayed in its place after a restart.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use tokio::sync::oneshot;

/// The longest `reason` or `by` kept, in bytes: a note, not a document.
pub const MAX_NOTE_BYTES: usize = 2000;

/// A retraction as the situation keeps it and the journal records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retraction {
    /// The report retracted.
    pub report: String,
    /// Its file name, as `report.accepted` gave it.
    pub file: String,
    pub reason: Option<String>,
    /// Who asked, as they gave their name.
    pub by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Why a retraction was refused. Nothing changed, and nothing was journaled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RetractError {
    #[error("no report with id `{0}`")]
    Unknown(String),
    #[error("report `{}` was already retracted", .0.report)]
    AlreadyRetracted(Box<Retraction>),
    /// The daemon is stopping, or its journal failed: the request was not carried out.
    #[error("the situation writer is not taking retractions ({0})")]
    Unavailable(String),
}

/// What a retraction changed: the record and the change events, as published.
#[derive(Debug)]
pub struct Retracted {
    pub retraction: Retraction,
    pub events: Vec<Box<RawValue>>,
}

/// The answer to a request, sent once its events are durable and published.
pub type Reply = oneshot::Sender<Result<Retracted, RetractError>>;

/// A request to retract a report, on its way to the situation writer.
#[derive(Debug)]
pub struct RetractRequest {
    pub report: String,
    pub reason: Option<String>,
    pub by: Option<String>,
    /// Where the answer goes; `None` when nobody waits for it.
    pub reply: Option<Reply>,
}

impl RetractRequest {
    /// A request and the receiver of its answer.
    pub fn new(
        report: String,
        reason: Option<String>,
        by: Option<String>,
    ) -> (Self, oneshot::Receiver<Result<Retracted, RetractError>>) {
        let (tx, rx) = oneshot::channel();
        (
            Self {
                report,
                reason: clean(reason),
                by: clean(by),
                reply: Some(tx),
            },
            rx,
        )
    }

    /// Sends the answer, if anyone still waits for it.
    pub fn answer(&mut self, result: Result<Retracted, RetractError>) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(result);
        }
    }
}

/// A note trimmed, empty as none, and cut to [`MAX_NOTE_BYTES`] at a character boundary.
pub fn clean(note: Option<String>) -> Option<String> {
    let note = note?;
    let mut s = note.trim();
    if s.len() > MAX_NOTE_BYTES {
        let mut end = MAX_NOTE_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s = &s[..end];
    }
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_trimmed_and_capped_on_a_character_boundary() {
        assert_eq!(clean(None), None);
        assert_eq!(clean(Some("  \n".into())), None);
        assert_eq!(
            clean(Some(" wrong town ".into())),
            Some("wrong town".into())
        );
        let long = "é".repeat(MAX_NOTE_BYTES);
        let cut = clean(Some(long)).unwrap();
        assert!(cut.len() <= MAX_NOTE_BYTES && cut.len() >= MAX_NOTE_BYTES - 1);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
