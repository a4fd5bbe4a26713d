//! Extract: entity mentions and development claims of one report.
//!
//! Extraction looks at one report alone, so it can run off the situation writer's thread;
//! resolving mentions to entity ids and claims to developments needs the situation and
//! happens there (`state`).

pub mod entities;
pub mod frames;
pub mod sense;
pub mod words;

use crate::config::Lexicons;
use crate::report::Report;
use crate::text::SentenceTokens;

pub use crate::extraction::{ClaimDraft, EntityKind, Extraction, Mention, Modality, Status};
pub use entities::EntityRecognizer;
pub use frames::FrameMatcher;

/// The extract stage, built once from the lexicons.
#[derive(Debug)]
pub struct Extractor {
    pub entities: EntityRecognizer,
    pub frames: FrameMatcher,
}

impl Extractor {
    pub fn new(lex: &Lexicons) -> Self {
        Self {
            entities: EntityRecognizer::new(lex),
            frames: FrameMatcher::new(&lex.frames, &lex.cues)
                .with_word_classes(lex.word_classes.clone())
                .with_media(&lex.gazetteer)
                .with_sense(Some((lex.sense.clone(), sense::Knowledge::of(lex)))),
        }
    }

    /// The same extractor with the learned sense filter off: every trigger the lexicon
    /// finds becomes a claim (for listing and labelling candidates).
    pub fn without_sense(mut self) -> Self {
        self.frames = self.frames.with_sense(None);
        self
    }

    pub fn extract(&self, report: &Report) -> Extraction {
        if let Some(last) = report.unfinished {
            // Extraction over the sentences before it; their numbers stay the report's.
            let mut before = report.clone();
            before.sentences.truncate(last);
            before.headings.retain(|&h| h < last);
            return self.extract_all(&before);
        }
        self.extract_all(report)
    }

    fn extract_all(&self, report: &Report) -> Extraction {
        // Both read the same tokens: tokenize once.
        let toks = SentenceTokens::new(report.sentences.iter().map(|s| s.text.as_str()));
        let mentions = self.entities.recognize_tokens(report, &toks);
        let claims = self.frames.claims_tokens(report, &toks, &mentions);
        Extraction { mentions, claims }
    }
}
