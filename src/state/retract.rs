//! Retracting a report: its claims leave the picture, and what they decided is decided
//! again from the claims left.
//!
//! Each development the report had claims in keeps the other reports' claims and goes
//! through the same status rule as when a report arrives ([`Situation::settle`]), so its
//! status, history, roles, disputes and sources are those the remaining claims give, and
//! the events are those of any change: `development.status_changed` with the new values,
//! `development.disputed` for a pair the rule finds only now. A development that keeps no
//! claim is removed, with the indexes that find it; one that keeps only claims without a
//! status leaves the picture as it was before its first status. Either way it is announced
//! as `development.retired`. The report's kept orphans go, its sentences no longer make a
//! revision old news, its story loses it, and an entity only it named, which no remaining
//! claim names, is removed (`entity.retired`).
//!
//! Which development another report's claims joined is not decided again: matching is a
//! decision made as reports arrive, and those claims stay where they are.

use std::collections::BTreeSet;

use serde_json::json;
use time::OffsetDateTime;

use super::{Applying, Development, Entities, Entity, Orphans, Situation};
use crate::events::{types, ChangeEvent};
use crate::retraction::{RetractError, Retraction};

impl Situation {
    /// The retraction of `report`, if it was retracted.
    pub fn retraction(&self, report: &str) -> Option<&Retraction> {
        self.retracted.get(report)
    }

    /// Every retraction, by report id.
    pub fn retractions(&self) -> impl Iterator<Item = &Retraction> {
        self.retracted.values()
    }

    /// `how` with a near duplicate of a retracted report taken as a report of its own: what
    /// repeats a retracted report is news, as it would have been had that never arrived.
    pub(super) fn unretracted<'a>(&self, how: &Applying<'a>) -> Applying<'a> {
        match how.near {
            Some(n) if self.retracted.contains_key(&n.of) => Applying { near: None, ..*how },
            _ => *how,
        }
    }

    /// Retracts an accepted report (see the module documentation); returns the record
    /// kept of it and the change events, `report.retracted` first.
    ///
    /// # Errors
    /// The report is unknown or already retracted; nothing changes then.
    pub fn retract_report(
        &mut self,
        report: &str,
        reason: Option<String>,
        by: Option<String>,
        at: OffsetDateTime,
    ) -> Result<(Retraction, Vec<ChangeEvent>), RetractError> {
        if let Some(r) = self.retracted.get(report) {
            return Err(RetractError::AlreadyRetracted(Box::new(r.clone())));
        }
        let Some(info) = self.reports.remove(report) else {
            return Err(RetractError::Unknown(report.to_string()));
        };
        self.report_sentences.remove(report);
        let retraction = Retraction {
            report: report.to_string(),
            file: info.file.clone(),
            reason,
            by,
            at,
        };
        let mut out = Vec::new();
        let mut affected: Vec<String> = Vec::new();
        let mut removed = 0usize;
        for (id, dev) in &mut self.developments {
            let n = remove_claims(dev, report);
            if n > 0 {
                removed += n;
                affected.push(id.clone());
            }
        }
        let orphans = self.orphans.drop_report(report);
        self.sentence_hashes.remove(report);
        let named: Vec<String> = self
            .entities
            .values()
            .filter(|e| e.reports.contains(report))
            .map(|e| e.id.clone())
            .collect();
        for id in &named {
            if let Some(e) = self.entities.get_mut(id) {
                e.reports.remove(report);
            }
        }
        let story = self.stories.forget_report(report, &named, &self.reports);
        self.event(
            types::REPORT_RETRACTED,
            report,
            json!({
                "file": retraction.file,
                "reason": retraction.reason,
                "by": retraction.by,
                "claims": removed + orphans,
                "developments": affected,
                "story": story,
            }),
            &mut out,
        );
        for id in &affected {
            self.resettle(id, report, &mut out);
        }
        self.retire_entities(&named, report, &mut out);
        self.retracted
            .insert(report.to_string(), retraction.clone());
        Ok((retraction, out))
    }

    /// Decides a development's status again from the claims it kept, and retires it when
    /// they give none.
    pub(super) fn resettle(&mut self, id: &str, report: &str, out: &mut Vec<ChangeEvent>) {
        let Some(before) = self.developments.get(id).map(|d| d.status) else {
            return;
        };
        // No claim of `report` is left, so nothing corroborates: only what changed is said.
        self.settle(id, report, false, out);
        let Some(dev) = self.developments.get(id) else {
            return;
        };
        let (kind, left, after) = (dev.kind.clone(), dev.claims.len(), dev.status);
        match dev.claims.iter().map(|c| c.published_at).min() {
            Some(t) => {
                self.earliest.insert(id.to_string(), t);
            }
            None => self.remove_development(id),
        }
        if let (Some(from), None) = (before, after) {
            self.event(
                types::DEVELOPMENT_RETIRED,
                id,
                json!({"kind": kind, "from": from, "claims": left, "report": report}),
                out,
            );
        }
    }

    /// Removes a development no claim is left for, with every index entry that finds it,
    /// so a later claim with its roles opens a development of its own.
    fn remove_development(&mut self, id: &str) {
        let Some(dev) = self.developments.remove(id) else {
            return;
        };
        self.earliest.remove(id);
        for f in self.facets_of.remove(id).unwrap_or_default() {
            if self.facets.get(&f).is_some_and(|d| d == id) {
                self.facets.remove(&f);
            }
        }
        if let Some(involved) = self.involved.get_mut(&dev.frame) {
            involved.retain(|_, devs| {
                devs.remove(id);
                !devs.is_empty()
            });
        }
        self.stories.forget_development(id);
    }

    /// Removes the entities of `named` that no report names any more and no claim left
    /// names in a role, with the keys that resolve names to them.
    fn retire_entities(&mut self, named: &[String], report: &str, out: &mut Vec<ChangeEvent>) {
        let orphaned: Vec<&String> = named
            .iter()
            .filter(|id| self.entities.get(id).is_some_and(|e| e.reports.is_empty()))
            .collect();
        if orphaned.is_empty() {
            return;
        }
        let mut in_roles: BTreeSet<&String> = BTreeSet::new();
        for c in self.developments.values().flat_map(|d| d.claims.iter()) {
            in_roles.extend(c.roles.entities());
        }
        for c in self.orphans.lists.values().flatten() {
            in_roles.extend(c.claim.roles.entities());
            in_roles.extend(c.ids.iter());
        }
        let gone: Vec<String> = orphaned
            .into_iter()
            .filter(|id| !in_roles.contains(id))
            .cloned()
            .collect();
        for id in gone {
            let Some(e) = self.entities.remove(&id) else {
                continue;
            };
            for ids in self.keys.values_mut() {
                ids.retain(|x| *x != id);
            }
            self.keys.retain(|_, ids| !ids.is_empty());
            for index in [&mut self.last_words, &mut self.initials] {
                for ids in index.values_mut() {
                    ids.remove(&id);
                }
                index.retain(|_, ids| !ids.is_empty());
            }
            self.gazetteer_ids.retain(|_, x| *x != id);
            self.event(
                types::ENTITY_RETIRED,
                &id,
                json!({"name": e.name, "kind": e.kind, "report": report}),
                out,
            );
        }
    }
}

/// Takes `report`'s claims out of a development, keeping the indices its disputes and
/// history hold pointing at the same claims (those about a removed claim go), so that
/// settling again announces only disputes that are new. Returns how many went.
pub(super) fn remove_claims(dev: &mut Development, report: &str) -> usize {
    if !dev.claims.iter().any(|c| c.report == report) {
        return 0;
    }
    let mut moved: Vec<Option<usize>> = Vec::with_capacity(dev.claims.len());
    let mut next = 0;
    for c in &dev.claims {
        if c.report == report {
            moved.push(None);
        } else {
            moved.push(Some(next));
            next += 1;
        }
    }
    let at = |i: usize| moved.get(i).copied().flatten();
    dev.disputes
        .retain_mut(|d| match (at(d.claim), at(d.against)) {
            (Some(c), Some(a)) => {
                d.claim = c;
                d.against = a;
                true
            }
            _ => false,
        });
    dev.history.retain_mut(|t| match at(t.claim) {
        Some(c) => {
            t.claim = c;
            true
        }
        None => false,
    });
    let before = dev.claims.len();
    dev.claims.retain(|c| c.report != report);
    before - dev.claims.len()
}

impl Orphans {
    /// Drops every kept claim of `report`; returns how many.
    pub(super) fn drop_report(&mut self, report: &str) -> usize {
        let found: Vec<(String, u64)> = self
            .lists
            .iter()
            .flat_map(|(frame, list)| {
                list.iter()
                    .filter(|o| o.claim.report == report)
                    .map(move |o| (frame.clone(), o.serial))
            })
            .collect();
        for (frame, serial) in &found {
            self.take(frame, *serial);
        }
        found.len()
    }
}

impl Entities {
    fn remove(&mut self, id: &str) -> Option<Entity> {
        self.ids.remove(id);
        self.by_id.remove(id)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::pipeline::Stages;
    use crate::state::testing::{apply, stages};
    use crate::state::SituationHandle;

    const PLANNED: &str =
        "source: Harbor Ledger\ndate: 2031-06-02\n\nCorvania to leave Meltz airfield\n\n\
        HALVIK (HL) - Corvania will withdraw its troops from Meltz airfield next month, the \
        defence ministry in Halvik said on Monday.\n";
    const UNDERWAY: &str =
        "source: Sable Courier\ndate: 2031-06-09\n\nCorvanian columns roll out of Meltz\n\n\
        Corvanian troops began withdrawing from Meltz airfield on Sunday, with a first column \
        of trucks leaving at dawn.\n";
    const COMPLETED: &str = "source: Fenwick Daily\ndate: 2031-06-20\n\nMeltz handed back\n\n\
        The withdrawal of Corvanian troops from Meltz airfield was completed on Friday, when \
        the last convoy crossed the Oskel bridge, officer Brannoch Teague said.\n";
    const STALE: &str =
        "source: Grey Post\ndate: 2031-06-23\n\nConvoys still on the move at Meltz\n\n\
        Corvanian troops are still withdrawing from Meltz airfield, local officials said on \
        Monday, as trucks queued at the main gate.\n";
    const DEV: &str = "withdrawal/corvania/meltz-airfield";
    /// The same withdrawal, opened by a report that names its actor by the demonym.
    const DEV_BY_DEMONYM: &str = "withdrawal/corvanian/meltz-airfield";

    /// The reports applied in order (stages of their own, so dedup knows only these), each
    /// with its id.
    fn situation(texts: &[&str]) -> (SituationHandle, Vec<String>) {
        situation_with(&stages(), texts)
    }

    fn situation_with(stages: &Stages, texts: &[&str]) -> (SituationHandle, Vec<String>) {
        let state = SituationHandle::new();
        let mut ids = Vec::new();
        for text in texts {
            // Named after the outlet, so a report has the same file in every picture.
            let outlet = text.lines().next().unwrap_or_default();
            let path = format!("w/{}.txt", outlet.trim_start_matches("source: "));
            let events = apply(stages, &state, &path, text);
            assert_eq!(events[0].kind, types::REPORT_ACCEPTED, "{text}");
            ids.push(events[0].subject.clone());
        }
        (state, ids)
    }

    fn retract(state: &SituationHandle, id: &str) -> Vec<ChangeEvent> {
        state
            .write(|s| s.retract_report(id, Some("wrong".into()), None, OffsetDateTime::UNIX_EPOCH))
            .expect("retracted")
            .1
    }

    /// The parts of the public picture a retraction must leave as if the report had never
    /// arrived: developments whole, reports, entity ids, stories.
    fn picture(state: &SituationHandle) -> Value {
        let snap = state.snapshot_json();
        let ids: Vec<&Value> = snap["entities"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| &e["id"])
            .collect();
        json!({
            "developments": snap["developments"],
            "reports": snap["reports"],
            "entities": ids,
        })
    }

    #[test]
    fn retracting_the_last_step_rolls_the_status_back_as_if_it_never_came() {
        let (state, ids) = situation(&[PLANNED, UNDERWAY, COMPLETED]);
        let events = retract(&state, &ids[2]);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                types::REPORT_RETRACTED,
                types::DEVELOPMENT_STATUS_CHANGED,
                types::ENTITY_RETIRED,
                types::ENTITY_RETIRED
            ]
        );
        let data = |k: usize| serde_json::to_value(&events[k].data).unwrap();
        assert_eq!(data(0)["developments"], json!([DEV]));
        assert_eq!(data(0)["reason"], "wrong");
        assert_eq!(events[1].subject, DEV);
        assert_eq!(data(1)["from"], "completed");
        assert_eq!(data(1)["to"], "underway");
        assert_eq!(data(1)["evidence"]["report"], ids[1].as_str());
        let retired: BTreeSet<&str> = events[2..].iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(retired, BTreeSet::from(["brannoch-teague", "oskel-bridge"]));

        let (fresh, _) = situation(&[PLANNED, UNDERWAY]);
        assert_eq!(picture(&state), picture(&fresh));
        let stories = |s: &SituationHandle| s.snapshot_json()["stories"].clone();
        assert_eq!(stories(&state)[0]["reports"], 2);
        assert_eq!(stories(&state)[0]["sources"], stories(&fresh)[0]["sources"]);
        state.read(|s| {
            assert!(s.report(&ids[2]).is_none());
            assert_eq!(
                s.retraction(&ids[2]).map(|r| r.file.as_str()),
                Some("Fenwick Daily.txt")
            );
        });
    }

    #[test]
    fn a_dispute_against_a_retracted_claim_goes_and_no_new_one_is_announced() {
        let (state, ids) = situation(&[UNDERWAY, COMPLETED, STALE]);
        let disputes = |s: &Situation| s.development(DEV_BY_DEMONYM).map(|d| d.disputes.len());
        assert_eq!(state.read(disputes), Some(1));
        let events = retract(&state, &ids[1]);
        assert!(
            events.iter().all(|e| e.kind != types::DEVELOPMENT_DISPUTED),
            "{events:?}"
        );
        let (fresh, _) = situation(&[UNDERWAY, STALE]);
        assert_eq!(picture(&state), picture(&fresh));
        state.read(|s| {
            let d = s.development(DEV_BY_DEMONYM).expect("development");
            assert!(d.disputes.is_empty());
            assert_eq!(d.status, Some(crate::extraction::Status::Underway));
        });
    }

    #[test]
    fn a_development_left_without_claims_is_retired_and_can_open_again() {
        let stages = stages();
        let (state, ids) = situation_with(&stages, &[PLANNED]);
        let events = retract(&state, &ids[0]);
        assert_eq!(events[1].kind, types::DEVELOPMENT_RETIRED);
        assert_eq!(events[1].subject, DEV);
        let data = serde_json::to_value(&events[1].data).unwrap();
        assert_eq!(data["from"], "planned");
        assert_eq!(data["claims"], 0);
        let snap = state.snapshot_json();
        assert_eq!(snap["developments"], json!([]));
        assert_eq!(snap["entities"], json!([]));
        assert_eq!(snap["reports"], json!([]));
        assert_eq!(snap["retracted"][0]["report"], ids[0].as_str());
        // Nothing is left that would take a new report's claim elsewhere.
        let events = apply(&stages, &state, "w/again.txt", UNDERWAY);
        assert!(events
            .iter()
            .any(|e| e.kind == types::DEVELOPMENT_DETECTED && e.subject == DEV_BY_DEMONYM));
    }

    #[test]
    fn unknown_and_twice_retracted_reports_are_refused_and_change_nothing() {
        let (state, ids) = situation(&[PLANNED, UNDERWAY]);
        let at = OffsetDateTime::UNIX_EPOCH;
        let seq = state.read(Situation::seq);
        let unknown = state.write(|s| s.retract_report("0000000000000000", None, None, at));
        assert_eq!(
            unknown.map(|_| ()),
            Err(RetractError::Unknown("0000000000000000".into()))
        );
        assert_eq!(state.read(Situation::seq), seq);
        retract(&state, &ids[0]);
        let before = state.snapshot_json();
        let again = state.write(|s| s.retract_report(&ids[0], None, None, at));
        assert!(
            matches!(again, Err(RetractError::AlreadyRetracted(ref r)) if r.report == ids[0]),
            "{again:?}"
        );
        assert_eq!(state.snapshot_json(), before);
    }

    #[test]
    fn a_retraction_survives_the_persistence_image() {
        let (state, ids) = situation(&[PLANNED, UNDERWAY, COMPLETED]);
        retract(&state, &ids[2]);
        let image = state.read(|s| serde_json::to_value(s).expect("image"));
        let back: Situation = serde_json::from_value(image).expect("loads");
        assert!(back.retraction(&ids[2]).is_some());
        let back = SituationHandle::from_situation(back);
        assert_eq!(picture(&back), picture(&state));
        let again =
            back.write(|s| s.retract_report(&ids[2], None, None, OffsetDateTime::UNIX_EPOCH));
        assert!(matches!(again, Err(RetractError::AlreadyRetracted(_))));
    }
}
