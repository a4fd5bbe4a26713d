//! A file that grew: the version read before was a write not yet finished.
//!
//! A revision normally adds only its new sentences' claims: the rest of the story is not
//! said twice. But when the earlier version's sentences are exactly the start of the new
//! one, the file was read while it was still being written, and its claims were matched
//! without the sentences that came after (a claim that names only a commander, before
//! the sentence naming the airfield). Such a claim would stay where that partial text put
//! it. So a version that only grew takes the earlier one's place: the earlier claims
//! leave their developments, every claim of the whole text is matched again with the
//! whole text as context, and the sentences the earlier version had keep the time it was
//! published. Events say only what differs from before: a development whose status comes
//! out the same says nothing, one the new matching leaves without claims is retired, and
//! the file's own claims coming back corroborate nothing.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::retract::remove_claims;
use super::Situation;
use crate::events::ChangeEvent;

/// What the version a grown file replaces leaves to its claims.
#[derive(Debug, Clone)]
pub(super) struct Earlier {
    /// Its sentences: the first this many of the new version.
    pub sentences: usize,
    pub published_at: OffsetDateTime,
    pub file_dated: bool,
    /// The developments its claims were in.
    pub developments: BTreeSet<String>,
}

impl Situation {
    /// True when `old`'s known sentences, held back ones left out, begin `hashes`.
    pub(super) fn grew_from(&self, old: &str, hashes: &[u64]) -> bool {
        self.sentence_hashes
            .get(old)
            .is_some_and(|known| !known.is_empty() && hashes.starts_with(known))
    }

    /// Takes `old`'s claims out of every development and its kept orphans away, without
    /// settling anything yet: the new version's claims settle what they join, and
    /// [`Situation::settle_left`] the rest.
    pub(super) fn withdraw_version(&mut self, old: &str) -> Option<Earlier> {
        let info = self.reports.get(old)?;
        let sentences = self.sentence_hashes.get(old).map_or(0, Vec::len);
        let published_at = info.published_at;
        let file_dated = matches!(info.date_origin.as_str(), "mtime" | "received");
        let mut developments = BTreeSet::new();
        for (id, dev) in &mut self.developments {
            if remove_claims(dev, old) > 0 {
                developments.insert(id.clone());
            }
        }
        self.orphans.drop_report(old);
        Some(Earlier {
            sentences,
            published_at,
            file_dated,
            developments,
        })
    }

    /// Settles the developments the earlier version was in that the new one's claims did
    /// not reach: they lost claims, and maybe their status or their last claim.
    pub(super) fn settle_left(
        &mut self,
        earlier: &Earlier,
        touched: &[String],
        report: &str,
        out: &mut Vec<ChangeEvent>,
    ) {
        for id in &earlier.developments {
            if !touched.contains(id) {
                self.resettle(id, report, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::events::{types, ChangeEvent};
    use crate::pipeline::Stages;
    use crate::state::testing::{apply, stages};
    use crate::state::SituationHandle;

    const HEAD: &str =
        "source: Harbor Ledger\ndate: 2031-06-02\n\nGarrison leaves Meltz airfield\n\n";
    const FIRST: &str =
        "Commander Anja Pellmark will withdraw her troops within a week, the ministry said.\n";
    const SECOND: &str =
        "Corvanian troops began withdrawing from Meltz airfield on Sunday, the ministry said.\n";

    /// Each text in turn as the content of one file.
    fn write(stages: &Stages, state: &SituationHandle, texts: &[&str]) -> Vec<ChangeEvent> {
        let mut all = Vec::new();
        for text in texts {
            all.extend(apply(stages, state, "w/ledger.txt", text));
        }
        all
    }

    fn developments(state: &SituationHandle) -> Value {
        let snap = state.snapshot_json();
        let devs: Vec<Value> = snap["developments"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| json!([d["id"], d["status"], d["roles"]]))
            .collect();
        json!(devs)
    }

    #[test]
    fn a_file_written_in_two_goes_gives_the_picture_of_the_whole_file() {
        let whole = format!("{HEAD}{FIRST}{SECOND}");
        let at_once = SituationHandle::new();
        write(&stages(), &at_once, &[&whole]);
        let slowly = SituationHandle::new();
        let events = write(&stages(), &slowly, &[&format!("{HEAD}{FIRST}"), &whole]);
        assert_eq!(developments(&slowly), developments(&at_once));
        // The partial text's guess was announced; the whole text retires it.
        let said = |kind: &str| -> Vec<&str> {
            events
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.subject.as_str())
                .collect()
        };
        assert_eq!(said(types::DEVELOPMENT_DETECTED).len(), 2);
        assert_eq!(
            said(types::DEVELOPMENT_RETIRED),
            ["withdrawal/anja-pellmark"]
        );
        assert!(said(types::DEVELOPMENT_CORROBORATED).is_empty());
    }

    #[test]
    fn a_grown_file_that_changes_nothing_says_nothing_again() {
        let whole = format!("{HEAD}{SECOND}{FIRST}");
        let (stages, state) = (stages(), SituationHandle::new());
        let first = write(&stages, &state, &[&format!("{HEAD}{SECOND}")]);
        assert!(first.iter().any(|e| e.kind == types::DEVELOPMENT_DETECTED));
        let before = developments(&state);
        let events = write(&stages, &state, &[&whole]);
        assert_eq!(events[0].kind, types::REPORT_ACCEPTED);
        assert!(
            !events.iter().any(|e| e.kind.starts_with("development.")),
            "{events:#?}"
        );
        let data = serde_json::to_value(&events[0].data).expect("json");
        assert_eq!(data["repeated_sentences"], 2);
        // The claim it added joined; the status stays underway.
        assert_eq!(developments(&state)[0][1], before[0][1]);
        let at_once = SituationHandle::new();
        write(&self::stages(), &at_once, &[&whole]);
        assert_eq!(developments(&state), developments(&at_once));
    }

    #[test]
    fn a_revision_that_changes_a_sentence_adds_only_what_is_new() {
        let (stages, state) = (stages(), SituationHandle::new());
        write(&stages, &state, &[&format!("{HEAD}{SECOND}")]);
        let changed = SECOND.replace("on Sunday", "early on Sunday");
        let events = write(&stages, &state, &[&format!("{HEAD}{changed}")]);
        let data = serde_json::to_value(&events[0].data).expect("json");
        assert_eq!(data["revises"].as_str().map(str::len), Some(16));
        // Its changed sentence is news: the development hears it again.
        assert!(events
            .iter()
            .any(|e| e.kind == types::DEVELOPMENT_CORROBORATED));
    }
}
