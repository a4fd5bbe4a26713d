//! The situation: entities, developments and reports, and the changes between them.
//!
//! One task owns writes ([`Situation::apply_report`] and friends, called by the pipeline's
//! situation stage); readers take a [`SituationHandle`] and read under a short `RwLock`
//! read lock. Every write returns the change events it caused, already numbered, so the
//! state and its event log cannot drift apart.

pub mod retract;
pub mod status;
pub mod stories;
mod supersede;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, RwLock};

// The indexes are looked up for every mention and claim with short string keys, where a
// fast seeded hash pays; their iteration order never shows.
use foldhash::HashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::events::{types, ChangeEvent, EventData};
use crate::extraction::{
    initials, ClaimDraft, EntityKind, Extraction, Gazetteer, Mention, Modality, Status, ROLE,
};
use crate::report::{file_label, Rejection, Report};
use crate::retraction::Retraction;
use crate::text::slug;
use status::{decide, RuleClaim};
pub use stories::{Applying, Stories, Story, StorySummary};

/// A person, place, organization or facility, with every spelling seen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entity {
    /// Slug of the first name seen; never changes once assigned.
    pub id: String,
    pub kind: EntityKind,
    /// The fullest name seen (a surname-only mention never replaces a full name).
    pub name: String,
    /// Every surface form, with how often it was seen.
    pub aliases: BTreeMap<String, u64>,
    pub mentions: u64,
    pub reports: BTreeSet<String>,
    #[serde(skip)]
    kind_votes: BTreeMap<EntityKind, u32>,
    #[serde(skip)]
    from_gazetteer: bool,
    /// The [`Situation::applying`] number of the last report that named the entity: a
    /// report names most of its entities several times, and the ones in many reports
    /// (a country, a capital) have `reports` sets of hundreds of ids to search.
    #[serde(skip)]
    noted_in: u64,
}

/// One report's claim about a development: the unit of evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claim {
    pub report: String,
    pub source: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    /// Sentence index in the report, and its byte range in the original text.
    pub sentence: usize,
    pub span: (usize, usize),
    /// The sentence as written.
    pub evidence: String,
    pub trigger: String,
    pub status: Option<Status>,
    pub cue: Option<String>,
    pub modality: Modality,
    pub resumption: bool,
    /// The roles this claim names (entity ids).
    pub roles: Roles,
    /// The report said nowhere when it was written: `published_at` is its file's time
    /// (which copying resets), too weak to say that one report contradicts another.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub file_dated: bool,
}

/// A status change, with the claim behind it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Transition {
    pub from: Option<Status>,
    pub to: Status,
    /// Index into the development's `claims`.
    pub claim: usize,
    pub report: String,
    pub source: Option<String>,
    pub cue: Option<String>,
}

/// A newer claim that contradicts the current status without being allowed to move it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Dispute {
    /// Index into `claims` of the contrary claim.
    pub claim: usize,
    pub claimed: Status,
    /// Index into `claims` of the claim that set the status it contradicts.
    pub against: usize,
    pub against_status: Status,
}

/// The roles of a development, as entity ids.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Roles {
    pub actor: Option<String>,
    pub location: Option<String>,
    pub target: Option<String>,
    pub participants: BTreeSet<String>,
}

impl Roles {
    /// Every entity the roles name.
    pub fn entities(&self) -> impl Iterator<Item = &String> {
        self.actor
            .iter()
            .chain(self.location.iter())
            .chain(self.target.iter())
            .chain(self.participants.iter())
    }

    /// True when the development has no value for `role` (a name from `identity`).
    fn is_empty_for(&self, role: &str) -> bool {
        match role {
            "actor" => self.actor.is_none(),
            "location" => self.location.is_none(),
            "target" => self.target.is_none(),
            "participants" => self.participants.is_empty(),
            _ => true,
        }
    }
}

/// A real-world happening tracked across reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Development {
    /// `kind/actor/anchor` of the first claim that created it.
    pub id: String,
    pub kind: String,
    pub frame: String,
    /// `None` while only status-less mentions are known (not shown in snapshots).
    pub status: Option<Status>,
    pub roles: Roles,
    pub history: Vec<Transition>,
    pub claims: Vec<Claim>,
    pub disputes: Vec<Dispute>,
    /// Sources whose claims support the current status.
    pub sources: BTreeSet<String>,
}

/// A report the situation has accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportInfo {
    pub id: String,
    pub source: Option<String>,
    pub title: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    pub date_origin: String,
    pub dateline: Option<String>,
    pub file: String,
    pub sentences: usize,
    /// The report this one revises (the same file, changed): only its new sentences count.
    /// Always written (`null` for none), as `report.accepted` writes it.
    #[serde(default)]
    pub revises: Option<String>,
    /// The earlier report this one repeats (a near duplicate): only sentences it lacks count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near_duplicate_of: Option<String>,
}

/// One sentence of a report as written, with its byte range in the decoded text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SentenceText {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// The whole picture. [`Situation::snapshot`] is the public view documented in
/// `docs/EVENTS.md`; the serde form is the persistence image the journal's snapshots hold
/// (every index included, so a restart needs no re-indexing).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Situation {
    seq: u64,
    #[serde(with = "entity_image")]
    entities: Entities,
    developments: BTreeMap<String, Development>,
    reports: BTreeMap<String, ReportInfo>,
    /// Name key → entity ids, in creation order.
    keys: HashMap<String, Vec<String>>,
    /// Last-word key of multi-word names → entity ids (surname resolution).
    last_words: HashMap<String, BTreeSet<String>>,
    /// Initials of multi-word names → entity ids (acronym resolution).
    initials: HashMap<String, BTreeSet<String>>,
    /// `kind|role|value` → development id.
    facets: HashMap<String, String>,
    /// Development id → the facets that point to it.
    facets_of: HashMap<String, Vec<String>>,
    /// Frame → claims that no development could take yet, oldest first.
    orphans: Orphans,
    /// Frame → entity → developments of that frame whose claims name the entity in a role.
    /// Stored as `frame|entity` keys.
    #[serde(with = "involved_image")]
    involved: HashMap<String, HashMap<String, BTreeSet<String>>>,
    /// Development → publication time of its earliest claim.
    earliest: HashMap<String, OffsetDateTime>,
    /// Frame → entities named by its claims since orphans were last looked at. Stored as
    /// `(frame, entity)` pairs.
    #[serde(with = "fresh_image")]
    fresh: BTreeMap<String, BTreeSet<String>>,
    /// Report → hashes of its folded sentences, so a revision's repeated sentences are
    /// recognised as old news.
    #[serde(default)]
    sentence_hashes: HashMap<String, Vec<u64>>,
    /// Report → its sentences as written, for `GET /reports/{id}`. The public snapshot
    /// leaves them out: they would make it as large as the reports.
    #[serde(default)]
    report_sentences: HashMap<String, Vec<SentenceText>>,
    /// Reports about one happening (see `stories`).
    #[serde(default)]
    stories: Stories,
    /// Report id → its retraction (see `retract`).
    #[serde(default)]
    retracted: BTreeMap<String, Retraction>,
    /// Gazetteer name → the id of its entity, which exists (entities are never removed).
    /// Most reports name the same few countries, and making an id costs more than
    /// looking one up.
    #[serde(skip)]
    gazetteer_ids: HashMap<String, String>,
    /// Counts the reports applied by this process, from 1 (0 marks an entity no report
    /// applied here has named; see [`Entity::noted_in`]).
    #[serde(skip)]
    applying: u64,
    /// Word (lower case, no dots) → the entities with an alias of three or more words that
    /// holds it: the people a qualified role may name ("US President Donald Trump" for
    /// "us president") without a pass over every alias. Built on the first role looked up
    /// after a start, from the aliases, and kept up as aliases come.
    #[serde(skip)]
    titled_words: Option<HashMap<String, BTreeSet<String>>>,
}

/// The persistence form of the entity table: the public fields plus the kind votes and the
/// gazetteer flag, which the public view leaves out but later reports' kind voting needs.
mod entity_image {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Entities, Entity, EntityKind};

    #[derive(Serialize)]
    struct ImageRef<'a> {
        entity: &'a Entity,
        kind_votes: Vec<(EntityKind, u32)>,
        from_gazetteer: bool,
    }

    #[derive(Deserialize)]
    struct Image {
        entity: Entity,
        kind_votes: Vec<(EntityKind, u32)>,
        from_gazetteer: bool,
    }

    pub fn serialize<S: Serializer>(map: &Entities, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.values().map(|e| ImageRef {
            entity: e,
            kind_votes: e.kind_votes.iter().map(|(k, v)| (*k, *v)).collect(),
            from_gazetteer: e.from_gazetteer,
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Entities, D::Error> {
        let images = Vec::<Image>::deserialize(d)?;
        let mut map = Entities::default();
        for i in images {
            let mut e = i.entity;
            e.kind_votes = i.kind_votes.into_iter().collect();
            e.from_gazetteer = i.from_gazetteer;
            map.insert(e.id.clone(), e);
        }
        Ok(map)
    }
}

/// The entity table: found by id for every mention, listed in id order only for snapshots,
/// so the lookups go through a hash map and the order is kept beside it.
#[derive(Debug, Default)]
struct Entities {
    by_id: HashMap<String, Entity>,
    ids: BTreeSet<String>,
}

impl Entities {
    fn get(&self, id: &str) -> Option<&Entity> {
        self.by_id.get(id)
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut Entity> {
        self.by_id.get_mut(id)
    }

    fn contains_key(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    fn insert(&mut self, id: String, entity: Entity) {
        // `ids` holds the keys of `by_id` (this is the only way in): a new key to one is
        // new to the other, and the ordered set is walked once, to add it.
        if self.by_id.insert(id.clone(), entity).is_none() {
            self.ids.insert(id);
        }
    }

    /// Every entity, in id order.
    fn values(&self) -> impl Iterator<Item = &Entity> {
        self.ids.iter().filter_map(|id| self.by_id.get(id))
    }
}

/// The persistence form of the involvement index: one `frame|entity` key per pair, so
/// snapshots keep the flat layout whatever the index looks like in memory.
mod involved_image {
    use std::collections::BTreeSet;

    use foldhash::HashMap;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    type Index = HashMap<String, HashMap<String, BTreeSet<String>>>;

    pub fn serialize<S: Serializer>(index: &Index, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(index.iter().flat_map(|(frame, entities)| {
            entities
                .iter()
                .map(move |(entity, devs)| (format!("{frame}|{entity}"), devs))
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Index, D::Error> {
        let flat = HashMap::<String, BTreeSet<String>>::deserialize(d)?;
        let mut index = Index::default();
        for (key, devs) in flat {
            // Entity ids are slugs and never hold the separator; a frame name might.
            let (frame, entity) = key
                .rsplit_once('|')
                .ok_or_else(|| D::Error::custom(format!("involvement key without '|': {key}")))?;
            index
                .entry(frame.to_string())
                .or_default()
                .insert(entity.to_string(), devs);
        }
        Ok(index)
    }
}

/// The persistence form of the entities named since orphans were last looked at: a sorted
/// list of `(frame, entity)` pairs.
mod fresh_image {
    use std::collections::{BTreeMap, BTreeSet};

    use serde::{Deserialize, Deserializer, Serializer};

    type Fresh = BTreeMap<String, BTreeSet<String>>;

    pub fn serialize<S: Serializer>(fresh: &Fresh, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            fresh
                .iter()
                .flat_map(|(frame, names)| names.iter().map(move |e| (frame, e))),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Fresh, D::Error> {
        let pairs = Vec::<(String, String)>::deserialize(d)?;
        let mut fresh = Fresh::new();
        for (frame, entity) in pairs {
            fresh.entry(frame).or_default().insert(entity);
        }
        Ok(fresh)
    }
}

/// How many claims without a development are kept per frame; the oldest go first.
const MAX_ORPHANS_PER_FRAME: usize = 256;

/// A claim waiting for its development, with the entities of the report it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Orphan {
    /// Sorted, without repeats.
    ids: Vec<String>,
    claim: Claim,
    /// Order of arrival among all orphans; assigned when kept or loaded.
    #[serde(skip)]
    serial: u64,
}

/// The claims no development could take yet, per frame, and which of them each entity's
/// reports left: a report then looks only at the orphans its entities can concern, however
/// many are kept. Persisted as the per-frame lists alone; the index is rebuilt on load.
#[derive(Debug, Default)]
struct Orphans {
    /// Frame → kept claims, oldest first (so in ascending serial order).
    lists: HashMap<String, Vec<Orphan>>,
    /// Frame → entity → serials of the frame's orphans whose report names the entity,
    /// ascending.
    by_entity: HashMap<String, HashMap<String, Vec<u64>>>,
    next_serial: u64,
}

impl Orphans {
    fn from_lists(lists: HashMap<String, Vec<Orphan>>) -> Self {
        let mut orphans = Orphans::default();
        for (frame, list) in lists {
            for mut o in list {
                o.serial = orphans.next_serial;
                orphans.next_serial += 1;
                orphans.push(&frame, o);
            }
        }
        orphans
    }

    /// Keeps a claim as the newest orphan of `frame`, dropping the oldest when the frame
    /// has its fill. `ids` are sorted, without repeats.
    fn keep(&mut self, frame: &str, ids: Vec<String>, claim: Claim) {
        if let Some(list) = self.lists.get_mut(frame) {
            if list.len() >= MAX_ORPHANS_PER_FRAME {
                let oldest = list.remove(0);
                unindex(&mut self.by_entity, frame, &oldest);
            }
        }
        let serial = self.next_serial;
        self.next_serial += 1;
        self.push(frame, Orphan { ids, claim, serial });
    }

    fn push(&mut self, frame: &str, o: Orphan) {
        let index = self.by_entity.entry(frame.to_string()).or_default();
        for e in &o.ids {
            match index.get_mut(e) {
                Some(serials) => serials.push(o.serial),
                None => {
                    index.insert(e.clone(), vec![o.serial]);
                }
            }
        }
        self.lists.entry(frame.to_string()).or_default().push(o);
    }

    /// Serials of the orphans of `frame` whose report names one of `names`, oldest first.
    fn naming(&self, frame: &str, names: &BTreeSet<String>) -> Vec<u64> {
        let Some(index) = self.by_entity.get(frame) else {
            return Vec::new();
        };
        let mut serials: Vec<u64> = names
            .iter()
            .filter_map(|e| index.get(e))
            .flatten()
            .copied()
            .collect();
        serials.sort_unstable();
        serials.dedup();
        serials
    }

    fn get(&self, frame: &str, serial: u64) -> Option<&Orphan> {
        let list = self.lists.get(frame)?;
        let at = list.binary_search_by_key(&serial, |o| o.serial).ok()?;
        list.get(at)
    }

    fn take(&mut self, frame: &str, serial: u64) -> Option<Orphan> {
        let list = self.lists.get_mut(frame)?;
        let at = list.binary_search_by_key(&serial, |o| o.serial).ok()?;
        let o = list.remove(at);
        if list.is_empty() {
            self.lists.remove(frame);
        }
        unindex(&mut self.by_entity, frame, &o);
        Some(o)
    }
}

/// Removes `o` from the entity index of `frame`, and entries left empty.
fn unindex(by_entity: &mut HashMap<String, HashMap<String, Vec<u64>>>, frame: &str, o: &Orphan) {
    let Some(index) = by_entity.get_mut(frame) else {
        return;
    };
    for e in &o.ids {
        if let Some(serials) = index.get_mut(e) {
            serials.retain(|s| *s != o.serial);
            if serials.is_empty() {
                index.remove(e);
            }
        }
    }
    if index.is_empty() {
        by_entity.remove(frame);
    }
}

impl Serialize for Orphans {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.lists.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Orphans {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        HashMap::deserialize(d).map(Orphans::from_lists)
    }
}

/// Snapshot view: what `--state` and the API return.
#[derive(Debug, Serialize)]
pub struct Snapshot<'a> {
    /// The last event the snapshot includes.
    pub seq: u64,
    pub entities: Vec<&'a Entity>,
    pub developments: Vec<InStory<'a, Development>>,
    pub reports: Vec<InStory<'a, ReportInfo>>,
    pub stories: Vec<StorySummary<'a>>,
    /// The reports retracted, by id.
    pub retracted: Vec<&'a Retraction>,
}

/// A report or development with the story it belongs to (`null` for none).
#[derive(Debug, Serialize)]
pub struct InStory<'a, T> {
    #[serde(flatten)]
    pub item: &'a T,
    pub story: Option<&'a str>,
}

/// Shared, read-mostly handle. Only the situation stage writes.
#[derive(Debug, Clone, Default)]
pub struct SituationHandle {
    inner: Arc<RwLock<Situation>>,
}

impl SituationHandle {
    pub fn new() -> Self {
        Self::default()
    }

    /// A handle on a picture loaded from a snapshot.
    pub fn from_situation(s: Situation) -> Self {
        Self {
            inner: Arc::new(RwLock::new(s)),
        }
    }

    /// Runs `f` under the write lock. Poisoning is recovered from: a panic elsewhere must
    /// not take the picture down with it, and every write leaves the state consistent.
    pub fn write<T>(&self, f: impl FnOnce(&mut Situation) -> T) -> T {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    pub fn read<T>(&self, f: impl FnOnce(&Situation) -> T) -> T {
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    /// The snapshot as JSON.
    pub fn snapshot_json(&self) -> serde_json::Value {
        self.read(|s| serde_json::to_value(s.snapshot()).unwrap_or_default())
    }
}

/// An alias as role words are compared with it: lower case, without dots ("U.S." → "us").
fn plain_words(alias: &str) -> String {
    alias.replace('.', "").to_lowercase()
}

/// Indexes entity `id` under each word of `alias` when it has three words or more (a
/// qualified title and a name).
fn index_titled(index: &mut HashMap<String, BTreeSet<String>>, id: &str, alias: &str) {
    if alias.split_whitespace().nth(2).is_none() {
        return;
    }
    for w in plain_words(alias).split_whitespace() {
        index
            .entry(w.to_string())
            .or_default()
            .insert(id.to_string());
    }
}

fn compatible(a: EntityKind, b: EntityKind) -> bool {
    a == b || a == EntityKind::Other || b == EntityKind::Other
}

impl Situation {
    pub fn seq(&self) -> u64 {
        self.seq
    }

    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            seq: self.seq,
            entities: self.entities.values().collect(),
            developments: self
                .developments
                .values()
                .filter(|d| d.status.is_some())
                .map(|d| self.development_in_story(d))
                .collect(),
            reports: self
                .reports
                .values()
                .map(|r| self.report_in_story(r))
                .collect(),
            stories: self.stories.all().map(Story::summary).collect(),
            retracted: self.retracted.values().collect(),
        }
    }

    pub fn report_in_story<'a>(&'a self, r: &'a ReportInfo) -> InStory<'a, ReportInfo> {
        InStory {
            item: r,
            story: self.stories.of_report(&r.id),
        }
    }

    pub fn development_in_story<'a>(&'a self, d: &'a Development) -> InStory<'a, Development> {
        InStory {
            item: d,
            story: self.stories.of_development(&d.id),
        }
    }

    pub fn stories(&self) -> &Stories {
        &self.stories
    }

    pub fn entity(&self, id: &str) -> Option<&Entity> {
        self.entities.get(id)
    }

    pub fn development(&self, id: &str) -> Option<&Development> {
        self.developments.get(id).filter(|d| d.status.is_some())
    }

    pub fn developments(&self) -> impl Iterator<Item = &Development> {
        self.developments.values().filter(|d| d.status.is_some())
    }

    pub fn entities(&self) -> impl Iterator<Item = &Entity> {
        self.entities.values()
    }

    pub fn report(&self, id: &str) -> Option<&ReportInfo> {
        self.reports.get(id)
    }

    pub fn reports(&self) -> impl Iterator<Item = &ReportInfo> {
        self.reports.values()
    }

    /// A report's sentences as written; `None` for an unknown report, or one restored from
    /// a snapshot that did not keep them.
    pub fn report_sentences(&self, id: &str) -> Option<&[SentenceText]> {
        self.report_sentences.get(id).map(Vec::as_slice)
    }

    fn event(
        &mut self,
        kind: &'static str,
        subject: &str,
        data: impl Into<EventData>,
        out: &mut Vec<ChangeEvent>,
    ) {
        self.seq += 1;
        out.push(ChangeEvent {
            seq: self.seq,
            kind,
            subject: subject.to_string(),
            time: OffsetDateTime::now_utc(),
            data: data.into(),
        });
    }

    /// A refused input.
    pub fn apply_rejected(&mut self, path: &Path, reason: &Rejection) -> Vec<ChangeEvent> {
        let mut out = Vec::new();
        let file = file_label(path);
        self.event(
            types::REPORT_REJECTED,
            &file,
            json!({"file": file, "path": path.to_string_lossy(), "reason": reason.to_string(), "reason_code": reason.code()}),
            &mut out,
        );
        out
    }

    /// An exact re-send of a report already accepted: an event, no state change.
    pub fn apply_duplicate(
        &mut self,
        report: &Report,
        of_id: &str,
        of_file: &str,
    ) -> Vec<ChangeEvent> {
        let mut out = Vec::new();
        self.event(
            types::REPORT_DUPLICATE,
            &report.id,
            json!({
                "file": report.file_name(),
                "path": report.path.to_string_lossy(),
                "duplicate_of": of_id,
                "original_file": of_file,
            }),
            &mut out,
        );
        out
    }

    /// Continues numbering after `seq`: after a restart, the journal's last event is the
    /// authority, whatever replaying the reports counted.
    pub fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// Applies an accepted report and its extraction; returns the events, in order.
    ///
    /// A revision (`how.revises`: the report the same file held before) adds only the
    /// claims of sentences the earlier version did not have: a corrected paragraph is news,
    /// the rest of the story is not said twice. A near duplicate (`how.near`) likewise adds
    /// only the claims of sentences that do not repeat the report it repeats, and is
    /// announced as `report.near_duplicate`.
    pub fn apply_report(
        &mut self,
        report: &Report,
        ex: &Extraction,
        rec: &dyn Gazetteer,
        how: &Applying<'_>,
    ) -> Vec<ChangeEvent> {
        let how = &self.unretracted(how);
        let revises = how.revises;
        self.applying += 1;
        let mut out = Vec::new();
        let hashes: Vec<u64> = report
            .sentences
            .iter()
            .map(|s| xxhash_rust::xxh3::xxh3_64(s.text.as_bytes()))
            .collect();
        let earlier = revises
            .filter(|old| self.grew_from(old, &hashes))
            .and_then(|old| self.withdraw_version(old));
        let revised;
        let (ex, repeated) = match (
            revises
                .filter(|_| earlier.is_none())
                .and_then(|id| self.sentence_hashes.get(id)),
            how.near,
        ) {
            _ if earlier.is_some() => (ex, earlier.as_ref().map_or(0, |e| e.sentences)),
            (Some(old), _) => {
                let old: HashSet<u64> = old.iter().copied().collect();
                let mut kept = ex.clone();
                kept.claims
                    .retain(|c| hashes.get(c.sentence).is_none_or(|h| !old.contains(h)));
                let repeated = hashes.iter().filter(|h| old.contains(h)).count();
                revised = kept;
                (&revised, repeated)
            }
            (None, Some(near)) => {
                let mut kept = ex.clone();
                kept.claims.retain(|c| !near.repeated.contains(&c.sentence));
                revised = kept;
                (&revised, near.repeated.len())
            }
            (None, None) => (ex, 0),
        };
        // A sentence held back as cut off is not known yet: the complete file, a revision
        // of this report, brings it whole.
        let mut known = hashes;
        if let Some(last) = report.unfinished {
            known.truncate(last);
        }
        self.sentence_hashes.insert(report.id.clone(), known);
        let written = report
            .sentences
            .iter()
            .enumerate()
            .map(|(i, s)| SentenceText {
                start: s.start,
                end: s.end,
                text: report.sentence_original(i).to_string(),
            })
            .collect();
        self.report_sentences.insert(report.id.clone(), written);
        let info = ReportInfo {
            id: report.id.clone(),
            source: report.meta.source.clone(),
            title: report.meta.title.clone(),
            published_at: report.published_at,
            date_origin: report.meta.date_origin.to_string(),
            dateline: report.meta.dateline.clone(),
            file: report.file_name(),
            sentences: report.sentences.len(),
            revises: revises.map(str::to_string),
            near_duplicate_of: how.near.map(|n| n.of.clone()),
        };
        let published_at = report
            .published_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let path = report.path.to_string_lossy();
        let accepted = AcceptedData {
            claims: ex.claims.len(),
            date_origin: &info.date_origin,
            dateline: info.dateline.as_deref(),
            encoding: report.meta.encoding,
            file: &info.file,
            mentions: ex.mentions.len(),
            path: &path,
            published_at: &published_at,
            repeated_sentences: repeated,
            revises: info.revises.as_deref(),
            sentences: info.sentences,
            source: info.source.as_deref(),
            title: info.title.as_deref(),
            unfinished_sentence: report.unfinished,
        };
        match how.near {
            Some(near) => {
                let data = stories::near_duplicate_data(&accepted, near);
                self.event(types::REPORT_NEAR_DUPLICATE, &report.id, data, &mut out);
            }
            None => {
                let data = EventData::render(&accepted);
                self.event(types::REPORT_ACCEPTED, &report.id, data, &mut out);
            }
        }
        self.reports.insert(report.id.clone(), info);

        let ids = self.resolve_mentions(report, &ex.mentions, rec, &mut out);
        let touched = self.apply_claims(report, ex, &ids, rec, earlier.as_ref(), &mut out);
        if let Some(earlier) = &earlier {
            self.settle_left(earlier, &touched, &report.id, &mut out);
        }
        self.link_story(report, &ids, &touched, how, &mut out);
        out
    }

    /// Resolves each mention to an entity id, creating entities and aliases as needed.
    fn resolve_mentions(
        &mut self,
        report: &Report,
        mentions: &[Mention],
        rec: &dyn Gazetteer,
        out: &mut Vec<ChangeEvent>,
    ) -> Vec<String> {
        let mut ids: Vec<Option<String>> = vec![None; mentions.len()];
        // Unlinked mentions first, so links can follow them.
        let order: Vec<usize> = (0..mentions.len())
            .filter(|&i| mentions[i].link.is_none())
            .chain((0..mentions.len()).filter(|&i| mentions[i].link.is_some()))
            .collect();
        for i in order {
            let m = &mentions[i];
            let linked = m.link.and_then(|l| ids.get(l).cloned().flatten());
            let id = match linked {
                Some(id) => id,
                None => self.resolve_one(m, rec),
            };
            self.note_mention(&id, m, report, out);
            ids[i] = Some(id);
        }
        ids.into_iter().map(Option::unwrap_or_default).collect()
    }

    fn resolve_one(&mut self, m: &Mention, rec: &dyn Gazetteer) -> String {
        if let Some(role) = m.key.strip_prefix(ROLE) {
            return self.role_holder(role).unwrap_or_default();
        }
        if let Some(g) = m.gazetteer {
            return self.gazetteer_entity(g, rec);
        }
        // Same key, compatible kind.
        if let Some(id) = self.lookup(&m.key, m.kind) {
            if m.enclosing {
                // The forces by another of their names ("Israel Defense Forces" after
                // "Israeli troops"): its acronym is theirs too.
                self.register_keys(&id, m);
            }
            return id;
        }
        let single = !m.key.contains(' ') && !m.key.contains(':');
        let letters: Vec<char> = m.surface.chars().filter(|c| c.is_alphabetic()).collect();
        let acronym = letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase());
        if acronym {
            if let Some(id) = self.unique(self.initials.get(&m.surface.replace('.', ""))) {
                return id;
            }
        } else if single && matches!(m.kind, EntityKind::Person | EntityKind::Other) {
            if let Some(id) = self.unique(self.last_words.get(&m.key)) {
                if self
                    .entities
                    .get(&id)
                    .is_some_and(|e| compatible(e.kind, m.kind))
                {
                    return id;
                }
            }
        }
        // A fuller name for an entity first seen by its surname or acronym.
        if !single && !m.key.contains(':') {
            let last = m.key.rsplit(' ').next().unwrap_or_default().to_string();
            let init = initials(&m.surface, &HashSet::default());
            let earlier = self
                .lookup(&last, m.kind)
                .filter(|id| {
                    self.entities
                        .get(id)
                        .is_some_and(|e| !e.name.contains(' ') && !e.from_gazetteer)
                })
                .filter(|_| matches!(m.kind, EntityKind::Person | EntityKind::Other))
                .or_else(|| {
                    (init.len() >= 2)
                        .then(|| {
                            self.keys
                                .get(&rec.keyer().key(&init))
                                .and_then(|v| v.first().cloned())
                        })
                        .flatten()
                        .filter(|id| self.entities.get(id).is_some_and(|e| e.name == init))
                });
            if let Some(id) = earlier {
                self.register_keys(&id, m);
                if let Some(e) = self.entities.get_mut(&id) {
                    e.name = m.surface.clone();
                }
                return id;
            }
        }
        let mut id = slug(&m.surface);
        let mut n = 2;
        while self.entities.contains_key(&id) {
            id = format!("{}-{n}", slug(&m.surface));
            n += 1;
        }
        self.create_entity(&id, &m.surface, m.kind, &m.key, false);
        self.register_keys(&id, m);
        id
    }

    /// The one person some report titled with `role` ("us president": "US President
    /// Donald Trump", "U.S. President Donald Trump"). Two holders (a successor) leave the
    /// role no one's: which one a report means is not in its words.
    fn role_holder(&mut self, role: &str) -> Option<String> {
        let index = match self.titled_words.take() {
            Some(index) => index,
            None => {
                let mut index = HashMap::default();
                for e in self.entities.values() {
                    for a in e.aliases.keys() {
                        index_titled(&mut index, &e.id, a);
                    }
                }
                index
            }
        };
        let (lead, inner) = (format!("{role} "), format!(" {role} "));
        // The entities with every word of the role; then those with the words in order.
        let sets: Option<Vec<&BTreeSet<String>>> = role.split(' ').map(|w| index.get(w)).collect();
        let mut sets = sets.unwrap_or_default();
        sets.sort_by_key(|set| set.len());
        let holders: Vec<&String> = sets
            .first()
            .into_iter()
            .copied()
            .flatten()
            .filter(|id| sets[1..].iter().all(|set| set.contains(*id)))
            .filter(|id| {
                self.entities.get(id.as_str()).is_some_and(|e| {
                    e.kind == EntityKind::Person
                        && e.aliases.keys().any(|a| {
                            let plain = plain_words(a);
                            plain.starts_with(&lead) || plain.contains(&inner)
                        })
                })
            })
            .collect();
        let holder = match holders[..] {
            [one] => Some(one.clone()),
            _ => None,
        };
        self.titled_words = Some(index);
        holder
    }

    fn unique(&self, set: Option<&BTreeSet<String>>) -> Option<String> {
        set.filter(|s| s.len() == 1)
            .and_then(|s| s.iter().next().cloned())
    }

    fn lookup(&self, key: &str, kind: EntityKind) -> Option<String> {
        self.keys
            .get(key)?
            .iter()
            .find(|id| {
                self.entities
                    .get(id)
                    .is_some_and(|e| compatible(e.kind, kind))
            })
            .cloned()
    }

    fn create_entity(
        &mut self,
        id: &str,
        name: &str,
        kind: EntityKind,
        key: &str,
        gazetteer: bool,
    ) {
        self.entities.insert(
            id.to_string(),
            Entity {
                id: id.to_string(),
                kind,
                name: name.to_string(),
                aliases: BTreeMap::new(),
                mentions: 0,
                reports: BTreeSet::new(),
                kind_votes: BTreeMap::new(),
                from_gazetteer: gazetteer,
                noted_in: 0,
            },
        );
        let v = self.keys.entry(key.to_string()).or_default();
        if !v.iter().any(|x| x == id) {
            v.push(id.to_string());
        }
    }

    fn register_keys(&mut self, id: &str, m: &Mention) {
        let v = self.keys.entry(m.key.clone()).or_default();
        if !v.iter().any(|x| x == id) {
            v.push(id.to_string());
        }
        // (A country's forces by name, "Israel Defense Forces", answer to their acronym too.)
        if m.enclosing || (m.key.contains(' ') && !m.key.contains(':')) {
            if matches!(m.kind, EntityKind::Person | EntityKind::Other) {
                if let Some(last) = m.key.rsplit(' ').next() {
                    self.last_words
                        .entry(last.to_string())
                        .or_default()
                        .insert(id.to_string());
                }
            }
            let init = initials(&m.surface, &HashSet::default());
            if init.len() >= 2 && !matches!(m.kind, EntityKind::Person) {
                self.initials
                    .entry(init)
                    .or_default()
                    .insert(id.to_string());
            }
        }
    }

    /// Counts the mention, records the alias and votes on the kind.
    fn note_mention(&mut self, id: &str, m: &Mention, report: &Report, out: &mut Vec<ChangeEvent>) {
        let Some(e) = self.entities.get_mut(id) else {
            return;
        };
        let first = e.mentions == 0;
        e.mentions += 1;
        if e.noted_in != self.applying {
            e.noted_in = self.applying;
            if !e.reports.contains(&report.id) {
                e.reports.insert(report.id.clone());
            }
        }
        if !e.from_gazetteer {
            *e.kind_votes.entry(m.kind).or_insert(0) += u32::from(m.weight.max(1));
            e.kind = e
                .kind_votes
                .iter()
                .filter(|(k, _)| **k != EntityKind::Other)
                .max_by_key(|(k, v)| (**v, std::cmp::Reverse(**k)))
                .map_or(EntityKind::Other, |(k, _)| *k);
        }
        let mut count = |alias: &String| match e.aliases.get_mut(alias) {
            Some(seen) => {
                *seen += 1;
                false
            }
            None => {
                e.aliases.insert(alias.clone(), 1);
                true
            }
        };
        let new_alias = count(&m.surface);
        // "US President Donald Trump", "TAMZAR CITY": the name as written, more aliases.
        let written: Vec<&String> = m
            .written
            .iter()
            .filter(|t| **t != m.surface)
            .filter(|t| count(t))
            .collect();
        if let Some(index) = &mut self.titled_words {
            for a in written
                .iter()
                .copied()
                .chain(new_alias.then_some(&m.surface))
            {
                index_titled(index, id, a);
            }
        }
        // (Most mentions bring no written form: the name is copied only for one that does.)
        let name = if written.is_empty() {
            String::new()
        } else {
            e.name.clone()
        };
        if first || new_alias {
            self.note_alias(id, first, m, report, out);
        }
        for t in written {
            let data = EventData::render(&MentionData {
                alias: t,
                kind: None,
                name: &name,
                report: &report.id,
                sentence: m.sentence,
            });
            self.event(types::ENTITY_ALIAS_ADDED, id, data, out);
        }
    }

    /// Announces a mention's entity when it is `first`, else its surface as a new alias.
    fn note_alias(
        &mut self,
        id: &str,
        first: bool,
        m: &Mention,
        report: &Report,
        out: &mut Vec<ChangeEvent>,
    ) {
        let Some(e) = self.entities.get(id) else {
            return;
        };
        let data = if first {
            EventData::render(&MentionData {
                alias: &m.surface,
                kind: Some(e.kind),
                name: &e.name,
                report: &report.id,
                sentence: m.sentence,
            })
        } else {
            EventData::render(&MentionData {
                alias: &m.surface,
                kind: None,
                name: &e.name,
                report: &report.id,
                sentence: m.sentence,
            })
        };
        let kind = if first {
            types::ENTITY_DISCOVERED
        } else {
            types::ENTITY_ALIAS_ADDED
        };
        self.event(kind, id, data, out);
    }

    fn gazetteer_entity(&mut self, g: usize, rec: &dyn Gazetteer) -> String {
        let name = rec.gazetteer_name(g);
        if let Some(id) = self.gazetteer_ids.get(name) {
            return id.clone();
        }
        let id = slug(name);
        if !self.entities.contains_key(&id) {
            let key = rec.keyer().key(name);
            self.create_entity(&id, name, rec.gazetteer_kind(g), &key, true);
        }
        self.gazetteer_ids.insert(name.to_string(), id.clone());
        id
    }

    /// Applies the claims; returns the developments they went to.
    fn apply_claims(
        &mut self,
        report: &Report,
        ex: &Extraction,
        ids: &[String],
        rec: &dyn Gazetteer,
        earlier: Option<&supersede::Earlier>,
        out: &mut Vec<ChangeEvent>,
    ) -> Vec<String> {
        let mut last_of_kind: HashMap<String, String> = HashMap::default();
        let mut touched = Touched::default();
        // Developments this report opened: no event has named them yet.
        let mut created_here: BTreeSet<String> = BTreeSet::new();
        let entity = |i: Option<usize>| {
            i.and_then(|i| ids.get(i))
                .filter(|s| !s.is_empty())
                .cloned()
        };
        // Claims that nothing identifies wait for a second pass, so that "the blockade came
        // into force" early in a report joins the blockade its headline or a later sentence
        // names.
        let mut queue: Vec<&ClaimDraft> = ex.claims.iter().collect();
        // The entities named in each sentence, the context of the claims made there: sorted
        // out once, not by a pass over all the report's mentions for every claim.
        let mut named_in: HashMap<usize, Vec<&String>> = HashMap::default();
        if !queue.is_empty() {
            for (m, id) in ex.mentions.iter().zip(ids) {
                if !id.is_empty() {
                    named_in.entry(m.sentence).or_default().push(id);
                }
            }
        }
        // The country the report is about, sorted out only for a claim that needs it.
        let home: std::cell::OnceCell<Option<String>> = std::cell::OnceCell::new();
        let mut second_pass = false;
        let mut deferred: Vec<&ClaimDraft> = Vec::new();
        loop {
            for c in queue.drain(..) {
                // A capital acting stands for its government ("Moscow withdrew" → Russia).
                // Only the frame's identity roles are kept: a meeting has no target.
                let has = |role: &str| c.identity.iter().any(|r| r == role);
                let actor = match c
                    .actor
                    .and_then(|i| ex.mentions.get(i))
                    .and_then(|m| m.gazetteer)
                    .and_then(|g| rec.capital_country(g))
                {
                    Some(country) => Some(self.gazetteer_entity(country, rec)),
                    None => entity(c.actor),
                };
                let location = entity(c.location).filter(|_| has("location"));
                let target = entity(c.target).filter(|_| has("target"));
                let mut participants: BTreeSet<String> = c
                    .participants
                    .iter()
                    .filter_map(|&i| entity(Some(i)))
                    .collect();
                if participants.len() < 2 || !has("participants") {
                    participants.clear();
                }
                let mut facets = Vec::new();
                // Strong roles identify a development on their own; a claim with only weak ones
                // (an actor, a place merely in the same clause) joins this report's development
                // of the same kind ("the withdrawal", "the talks") when there is one.
                let strong = (location.is_some() && c.location_strong)
                    || target.is_some()
                    || !participants.is_empty();
                // "Ongoing talks on the bases at X" in a report about a summit in Y: talks
                // about somewhere, not the summit placed elsewhere.
                let topic_place = entity(c.topic_place);
                let placed_elsewhere = |id: &String| {
                    self.developments.get(id).is_some_and(|d| {
                        roles_of(&d.claims)
                            .location
                            .or_else(|| d.roles.location.clone())
                            .is_some_and(|l| Some(&l) != topic_place.as_ref())
                    })
                };
                if !strong
                    && topic_place.is_some()
                    && last_of_kind.get(&c.frame).is_some_and(placed_elsewhere)
                {
                    continue;
                }
                let joins = !strong && last_of_kind.contains_key(&c.frame);
                // Weak roles only, and nothing of this kind yet in the report: wait, in case
                // a later sentence names the development ("Russian forces began withdrawing
                // ... The withdrawal from Qamishli airport ...").
                if !strong && !joins && !second_pass {
                    deferred.push(c);
                    continue;
                }
                for role in &c.identity {
                    let v = match role.as_str() {
                        _ if joins => None,
                        "location" => location.clone(),
                        "target" => target.clone(),
                        "actor" => actor.clone(),
                        "participants" if !participants.is_empty() => {
                            Some(participants.iter().cloned().collect::<Vec<_>>().join("+"))
                        }
                        _ => None,
                    };
                    if let Some(v) = v {
                        facets.push(format!("{}|{role}|{v}", c.frame));
                    }
                }
                let span = report
                    .sentences
                    .get(c.sentence)
                    .map_or((0, 0), |s| (s.start, s.end));
                // What a file said before it grew was published when it said it.
                let said_before = earlier.filter(|e| c.sentence < e.sentences);
                let claim = Claim {
                    report: report.id.clone(),
                    source: report.meta.source.clone(),
                    published_at: said_before.map_or(report.published_at, |e| e.published_at),
                    sentence: c.sentence,
                    span,
                    evidence: report.sentence_original(c.sentence).to_string(),
                    trigger: c.trigger.clone(),
                    status: c.status,
                    cue: c.cue.clone(),
                    modality: c.modality,
                    resumption: c.resumption,
                    roles: Roles {
                        actor: actor.clone(),
                        location: location.clone().filter(|_| c.location_strong),
                        target: target.clone(),
                        participants: participants.clone(),
                    },
                    file_dated: said_before.map_or(
                        matches!(report.meta.date_origin, "mtime" | "received"),
                        |e| e.file_dated,
                    ),
                };
                // The claim's most specific role identifies it: a withdrawal from another
                // base by the same army is another withdrawal. A less specific role (never
                // the actor) finds a development that has no value for the more specific
                // ones yet: "the leaders signed the river accord" is the river accord that
                // nobody had named the signatories of.
                let found = facets.iter().enumerate().find_map(|(k, f)| {
                    let role = f.split('|').nth(1)?;
                    if k > 0 && role == "actor" {
                        return None;
                    }
                    let id = self.facets.get(f)?;
                    let d = self.developments.get(id)?;
                    if role == "actor" && !placed_among(d, ids) {
                        return None;
                    }
                    facets[..k]
                        .iter()
                        .filter_map(|e| e.split('|').nth(1))
                        .all(|r| d.roles.is_empty_for(r))
                        .then(|| id.clone())
                });
                // The actor alone names a development placed elsewhere: the claim is as
                // unidentified as one with no roles ("Russia said it would pull out of
                // the grain deal" is not the withdrawal from an airport it made earlier).
                let actor_taken = found.is_none()
                    && facets.len() == 1
                    && facets[0].split('|').nth(1) == Some("actor")
                    && self.facets.contains_key(&facets[0]);
                if actor_taken {
                    facets.clear();
                }
                // A claim about another occasion ("during a previous visit", "in 2015") is
                // evidence for a development its roles name, never the report's own
                // development of that kind: it opens none and waits for none.
                let background = c.modality == Modality::Background;
                if background && found.is_none() {
                    continue;
                }
                // Weak roles the known developments lack ("the pullout demanded by Mali's
                // leaders" when the withdrawal is known by its place): the one development of
                // the kind this report's names take part in, before a new one by the actor.
                let found = found.or_else(|| {
                    (second_pass && !strong && !facets.is_empty())
                        .then(|| self.salient(&c.frame, ids, report.published_at, c.place_unknown))
                        .flatten()
                });
                let mut dev_id = match found {
                    Some(id) => id,
                    None if facets.is_empty() => match last_of_kind.get(&c.frame) {
                        Some(id) => id.clone(),
                        None if !second_pass => {
                            deferred.push(c);
                            continue;
                        }
                        // "The pause in shelling expired": the one development of that kind
                        // that this report's names are involved in, else no claim.
                        // A claim about a place nobody knows ("pull out of the grain deal")
                        // only joins a development its report places, and waits for none.
                        None => {
                            match self.salient(&c.frame, ids, report.published_at, c.place_unknown)
                            {
                                Some(id) => id,
                                None if c.place_unknown => continue,
                                None => {
                                    self.keep_orphan(&c.frame, ids, claim);
                                    continue;
                                }
                            }
                        }
                    },
                    None => {
                        // Named after the first identity role present, with the actor in front
                        // when the anchor is a place: `withdrawal/russia/qamishli-airport`.
                        let first = facets[0].split('|').nth(1).unwrap_or_default().to_string();
                        let anchor = facets[0]
                            .splitn(3, '|')
                            .nth(2)
                            .unwrap_or_default()
                            .to_string();
                        let mut parts = vec![c.frame.clone()];
                        if first == "location" {
                            parts.extend(actor.clone().filter(|a| *a != anchor));
                        }
                        parts.push(anchor);
                        let base = parts.join("/");
                        let mut id = base.clone();
                        let mut n = 2;
                        while self.developments.contains_key(&id) {
                            id = format!("{base}-{n}");
                            n += 1;
                        }
                        created_here.insert(id.clone());
                        self.developments.insert(
                            id.clone(),
                            Development {
                                id: id.clone(),
                                kind: c.kind.clone(),
                                frame: c.frame.clone(),
                                status: None,
                                roles: Roles::default(),
                                history: Vec::new(),
                                claims: Vec::new(),
                                disputes: Vec::new(),
                                sources: BTreeSet::new(),
                            },
                        );
                        id
                    }
                };
                // A development this report opened that another role of the claim shows to
                // be a known one ("the leaders signed" + "the river accord") becomes that
                // one, before any event has named it.
                // The actor alone never shows that: one army withdraws from many places.
                if created_here.contains(&dev_id) {
                    let known = facets
                        .iter()
                        .filter(|f| f.split('|').nth(1) != Some("actor"))
                        .filter_map(|f| self.facets.get(f))
                        .find(|q| **q != dev_id && !created_here.contains(*q))
                        .filter(|q| self.compatible(&dev_id, &claim.roles, q))
                        .cloned();
                    if let Some(known) = known {
                        self.merge_into(&dev_id, &known);
                        touched.remove(&dev_id);
                        for v in last_of_kind.values_mut().filter(|v| **v == dev_id) {
                            v.clone_from(&known);
                        }
                        created_here.remove(&dev_id);
                        dev_id = known;
                    }
                }
                for f in facets.into_iter().filter(|_| !background) {
                    if let std::collections::hash_map::Entry::Vacant(v) = self.facets.entry(f) {
                        self.facets_of
                            .entry(dev_id.clone())
                            .or_default()
                            .push(v.key().clone());
                        v.insert(dev_id.clone());
                    }
                }
                if !background {
                    last_of_kind.insert(c.frame.clone(), dev_id.clone());
                }
                let context = named_in.get(&c.sentence).map_or(&[][..], Vec::as_slice);
                let home = || {
                    home.get_or_init(|| self.home_country(ex, ids, rec))
                        .as_deref()
                };
                let part = self.part_of(&c.frame, &dev_id, &claim, rec, &home);
                if !self.attach(&dev_id, claim, context) {
                    continue;
                }
                touched.add(dev_id);
                if let Some((whole, claim)) = part {
                    if self.attach(&whole, claim, context) {
                        touched.add(whole);
                    }
                }
            }
            if second_pass || deferred.is_empty() {
                break;
            }
            queue = std::mem::take(&mut deferred);
            second_pass = true;
        }
        self.adopt_orphans(&mut touched);
        for id in &touched.order {
            // The claims a grown file had already made there come back: no corroboration.
            let again = earlier.is_some_and(|e| e.developments.contains(id));
            self.settle(id, &report.id, again, out);
        }
        touched.order
    }

    /// True when a development this report opened (`a`), with the claim about to join it
    /// (`adding`), and a known one (`b`) give no role two different values. `b`'s roles are
    /// those it settled on; `a` has not settled yet.
    fn compatible(&self, a: &str, adding: &Roles, b: &str) -> bool {
        let (Some(a), Some(b)) = (self.developments.get(a), self.developments.get(b)) else {
            return false;
        };
        let rb = &b.roles;
        let mut ra = roles_of(&a.claims);
        ra.actor = ra.actor.or_else(|| adding.actor.clone());
        ra.location = ra.location.or_else(|| adding.location.clone());
        ra.target = ra.target.or_else(|| adding.target.clone());
        if ra.participants.is_empty() {
            ra.participants.clone_from(&adding.participants);
        }
        let differ = |x: &Option<String>, y: &Option<String>| x.is_some() && y.is_some() && x != y;
        a.frame == b.frame
            && !differ(&ra.location, &rb.location)
            && !differ(&ra.target, &rb.target)
            && !differ(&ra.actor, &rb.actor)
            && (ra.participants.is_empty()
                || rb.participants.is_empty()
                || ra.participants == rb.participants)
    }

    /// Moves development `from` (not yet announced) into `to`: claims, facets, indexes.
    fn merge_into(&mut self, from: &str, to: &str) {
        let Some(dev) = self.developments.remove(from) else {
            return;
        };
        self.earliest.remove(from);
        if let Some(involved) = self.involved.get_mut(&dev.frame) {
            for e in dev.claims.iter().flat_map(|c| c.roles.entities()) {
                if let Some(devs) = involved.get_mut(e) {
                    devs.remove(from);
                }
            }
        }
        for f in self.facets_of.remove(from).unwrap_or_default() {
            self.facets.insert(f.clone(), to.to_string());
            self.facets_of.entry(to.to_string()).or_default().push(f);
        }
        for claim in dev.claims {
            self.attach(to, claim, &[]);
        }
    }

    /// Keeps a claim that no development could take yet ("the pause in shelling expired"
    /// arriving before any report of the pause), so that the same reports in another order
    /// end in the same picture.
    fn keep_orphan(&mut self, frame: &str, ids: &[String], claim: Claim) {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        self.orphans.keep(frame, ids, claim);
    }

    /// Gives kept claims to the developments `touched` now makes salient for them.
    fn adopt_orphans(&mut self, touched: &mut Touched) {
        // Only an orphan whose report names an entity that a claim just named can have
        // found its development now. Frames are taken in name order, each frame's orphans
        // oldest first: an adoption changes what the next orphan finds.
        let fresh = std::mem::take(&mut self.fresh);
        for (frame, names) in &fresh {
            for serial in self.orphans.naming(frame, names) {
                let found = self
                    .orphans
                    .get(frame, serial)
                    .and_then(|o| self.salient(frame, &o.ids, o.claim.published_at, false));
                let Some(id) = found else {
                    continue;
                };
                if let Some(o) = self.orphans.take(frame, serial) {
                    self.attach(&id, o.claim, &[]);
                    touched.add(id);
                }
            }
        }
        // What adopting named is not news for the orphans left.
        self.fresh.clear();
    }

    /// The one development of `frame` that the entities `ids` (one report's) take part in
    /// and that was reported by `published`'s day. `None` when there is none or more than
    /// one: a guess would merge two happenings. With `placed_here`, only a development with
    /// no place or a place among `ids` counts.
    fn salient(
        &self,
        frame: &str,
        ids: &[String],
        published: OffsetDateTime,
        placed_here: bool,
    ) -> Option<String> {
        let involved = self.involved.get(frame)?;
        // Only a development already reported by the claim's day can be what it speaks of.
        let day = published.date();
        let mut found: Option<&String> = None;
        for d in ids.iter().filter_map(|e| involved.get(e)).flatten() {
            if found == Some(d) || self.earliest.get(d).is_none_or(|e| e.date() > day) {
                continue;
            }
            if placed_here
                && !self
                    .developments
                    .get(d)
                    .is_some_and(|dev| placed_among(dev, ids))
            {
                continue;
            }
            if found.is_some() {
                return None;
            }
            found = Some(d);
        }
        found.cloned()
    }

    /// Adds a claim to a development and to the indexes `salient` reads; false when there
    /// is no such development.
    ///
    /// `context` holds the other entities of the claim's sentence: "a truce between the Varn
    /// Front and the army took effect in Kelvar" involves the Varn Front in the Kelvar truce
    /// even though only Kelvar identifies it.
    /// A part done is the whole under way: troops leaving a base in a country are the
    /// withdrawal from that country by the same actor under way ("left the Ouallam base"
    /// moves the withdrawal from Niger on). The whole is the one development of the frame
    /// placed at the country the claim's place lies in (the gazetteer of towns says which;
    /// a town it does not know lies in the country its report is about), not yet past under
    /// way, with no other actor (two bodies count as one side). Returns it and the claim it gets.
    fn part_of<'h>(
        &self,
        frame: &str,
        dev_id: &str,
        claim: &Claim,
        rec: &dyn Gazetteer,
        home: &dyn Fn() -> Option<&'h str>,
    ) -> Option<(String, Claim)> {
        if claim.modality != Modality::Asserted
            || !matches!(claim.status, Some(Status::Underway | Status::Completed))
        {
            return None;
        }
        let country = |id: &str| {
            let e = self.entities.get(id)?;
            let names: Vec<&str> = std::iter::once(e.name.as_str())
                .chain(e.aliases.keys().map(String::as_str))
                .collect();
            rec.country_of(e.kind, &names)
        };
        // Two bodies may be one side at different grain ("the UN Security Council" orders
        // what "MINUSMA" carries out); two countries never are.
        let same_side = |a: &str, b: &str| {
            let org = |id: &str| {
                self.entities
                    .get(id)
                    .is_some_and(|e| e.kind == EntityKind::Organization)
            };
            a == b || (org(a) && org(b))
        };
        let part = claim.roles.location.as_deref()?;
        // A town the gazetteer does not know lies in the country its report is about.
        let (code, false) = country(part).or_else(|| Some((home()?.to_string(), false)))? else {
            return None;
        };
        let actor = claim.roles.actor.as_deref();
        let mut wholes = self.developments.values().filter(|d| {
            d.frame == frame
                && d.id != dev_id
                && !matches!(d.status, Some(s) if s.stage() > Status::Underway.stage() || s.stage().is_none())
                && d.roles.actor.as_deref().zip(actor).is_none_or(|(a, b)| same_side(a, b))
                && self.placed_at(d).is_some_and(|w| {
                    w != part && country(w).is_some_and(|(c, whole)| whole && c == code)
                })
        });
        let whole = wholes.next()?;
        if wholes.next().is_some() {
            return None;
        }
        let mut derived = claim.clone();
        derived.status = Some(Status::Underway);
        derived.cue = Some(format!("part:{part}"));
        derived.roles.location = self.placed_at(whole).map(str::to_string);
        Some((whole.id.clone(), derived))
    }

    /// Where a development is: the place it settled on, else the place that named it when
    /// it opened ("Mali asks the UN to pull its peacekeepers out": Mali, though only as
    /// the sentence's subject).
    fn placed_at<'a>(&'a self, d: &'a Development) -> Option<&'a str> {
        d.roles.location.as_deref().or_else(|| {
            self.facets_of
                .get(&d.id)?
                .iter()
                .find_map(|f| f.strip_prefix(d.frame.as_str())?.strip_prefix("|location|"))
        })
    }

    /// The country a report is about: the one its mentions name most, at least twice and
    /// more often than any other; `None` when no country stands out.
    fn home_country(&self, ex: &Extraction, ids: &[String], rec: &dyn Gazetteer) -> Option<String> {
        let mut counts: HashMap<String, u32> = HashMap::default();
        for (m, id) in ex.mentions.iter().zip(ids) {
            let Some(e) = self.entities.get(id).filter(|_| !m.demonym) else {
                continue;
            };
            let names: Vec<&str> = std::iter::once(e.name.as_str())
                .chain(e.aliases.keys().map(String::as_str))
                .collect();
            if let Some((code, true)) = rec.country_of(e.kind, &names) {
                *counts.entry(code).or_default() += 1;
            }
        }
        let mut ranked: Vec<(u32, String)> = counts.into_iter().map(|(c, n)| (n, c)).collect();
        ranked.sort_unstable_by(|a, b| b.cmp(a));
        match ranked.as_slice() {
            [(n, c), rest @ ..] if *n >= 2 && rest.first().is_none_or(|(m, _)| m < n) => {
                Some(c.clone())
            }
            _ => None,
        }
    }

    fn attach(&mut self, dev_id: &str, claim: Claim, context: &[&String]) -> bool {
        let Some(dev) = self.developments.get_mut(dev_id) else {
            return false;
        };
        if claim
            .roles
            .entities()
            .chain(context.iter().copied())
            .next()
            .is_some()
        {
            let involved = self.involved.entry(dev.frame.clone()).or_default();
            let fresh = self.fresh.entry(dev.frame.clone()).or_default();
            for e in claim.roles.entities().chain(context.iter().copied()) {
                match involved.get_mut(e) {
                    Some(devs) if devs.contains(dev_id) => {}
                    Some(devs) => {
                        devs.insert(dev_id.to_string());
                    }
                    None => {
                        involved.insert(e.clone(), BTreeSet::from([dev_id.to_string()]));
                    }
                }
                if !fresh.contains(e) {
                    fresh.insert(e.clone());
                }
            }
        }
        let earliest = self
            .earliest
            .entry(dev_id.to_string())
            .or_insert(claim.published_at);
        *earliest = (*earliest).min(claim.published_at);
        dev.claims.push(claim);
        true
    }

    /// Re-decides a development's status from all its claims and emits what changed.
    /// `again`: the report's claims there were already made by the version of its file it
    /// replaces (see `supersede`), so they corroborate nothing.
    fn settle(&mut self, id: &str, report_id: &str, again: bool, out: &mut Vec<ChangeEvent>) {
        let Some(dev) = self.developments.get(id) else {
            return;
        };
        let eligible: Vec<usize> = dev
            .claims
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.status.is_some() && matches!(c.modality, Modality::Asserted | Modality::Negated)
            })
            .map(|(i, _)| i)
            .collect();
        let rule: Vec<RuleClaim<'_>> = eligible
            .iter()
            .map(|&i| {
                let c = &dev.claims[i];
                RuleClaim {
                    status: c.status.unwrap_or(Status::Planned),
                    resumption: c.resumption,
                    day: c.published_at.to_offset(time::UtcOffset::UTC).date(),
                    report: &c.report,
                    sentence: c.sentence,
                }
            })
            .collect();
        let outcome = decide(&rule);
        let before = dev.status;
        let old_disputes: BTreeSet<(usize, usize)> =
            dev.disputes.iter().map(|d| (d.claim, d.against)).collect();
        let claim = |k: usize| &dev.claims[eligible[k]];
        let history: Vec<Transition> = outcome
            .history
            .iter()
            .map(|s| Transition {
                from: s.from,
                to: s.to,
                claim: eligible[s.claim],
                report: claim(s.claim).report.clone(),
                source: claim(s.claim).source.clone(),
                cue: claim(s.claim).cue.clone(),
            })
            .collect();
        // Which of two reports is the later is only known when both say when they were
        // written: file times (reset by a copy) never make a dispute.
        let disputes: Vec<Dispute> = outcome
            .disputes
            .iter()
            .filter(|&&(c, a)| !claim(c).file_dated && !claim(a).file_dated)
            .map(|&(c, a)| Dispute {
                claim: eligible[c],
                claimed: claim(c).status.unwrap_or(Status::Planned),
                against: eligible[a],
                against_status: claim(a).status.unwrap_or(Status::Planned),
            })
            .collect();
        let mut sources: BTreeSet<String> = BTreeSet::new();
        if let Some(s) = outcome.setter {
            sources.extend(claim(s).source.clone());
        }
        for &k in &outcome.corroborating {
            if claim(k).status == outcome.status {
                sources.extend(claim(k).source.clone());
            }
        }
        let setter = outcome.setter.map(|s| eligible[s]);
        // A claim of this report that neither set the status nor disputes it corroborates
        // (the current status, or history when it is a lagging report).
        let disputing: BTreeSet<usize> = disputes.iter().map(|d| d.claim).collect();
        let corroborating: Option<(usize, bool)> = eligible
            .iter()
            .copied()
            .filter(|i| dev.claims[*i].report == report_id && !disputing.contains(i))
            .find(|_| setter.is_none_or(|s| dev.claims[s].report != report_id))
            .map(|i| (i, dev.claims[i].status != outcome.status));
        let evidence = |i: usize| {
            let c = &dev.claims[i];
            json!({
                "report": c.report, "source": c.source, "sentence": c.evidence,
                "sentence_index": c.sentence, "cue": c.cue, "trigger": c.trigger,
                "published_at": c.published_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            })
        };
        let roles = serde_json::to_value(roles_of(&dev.claims)).unwrap_or_default();
        let kind = dev.kind.clone();
        let mut pending: Vec<(&'static str, serde_json::Value)> = Vec::new();
        match (before, outcome.status, setter) {
            (None, Some(to), Some(s)) => pending.push((
                types::DEVELOPMENT_DETECTED,
                json!({"kind": kind, "status": to, "roles": roles, "evidence": evidence(s)}),
            )),
            (Some(from), Some(to), Some(s)) if from != to => pending.push((
                types::DEVELOPMENT_STATUS_CHANGED,
                json!({"kind": kind, "from": from, "to": to, "evidence": evidence(s)}),
            )),
            _ => {}
        }
        for d in &disputes {
            if !old_disputes.contains(&(d.claim, d.against)) {
                pending.push((
                    types::DEVELOPMENT_DISPUTED,
                    json!({"kind": kind, "status": outcome.status, "claimed": d.claimed,
                           "evidence": evidence(d.claim), "against": evidence(d.against)}),
                ));
            }
        }
        if let (Some((i, lagging)), true) = (corroborating, before.is_some() && !again) {
            pending.push((
                types::DEVELOPMENT_CORROBORATED,
                json!({"kind": kind, "status": outcome.status, "claimed": dev.claims[i].status,
                       "lagging": lagging, "evidence": evidence(i)}),
            ));
        }
        let roles = roles_of(&dev.claims);
        if let Some(dev) = self.developments.get_mut(id) {
            dev.roles = roles;
            dev.status = outcome.status;
            dev.history = history;
            dev.disputes = disputes;
            dev.sources = sources;
        }
        for (kind, data) in pending {
            self.event(kind, id, data, out);
        }
    }
}

use foldhash::HashSet;

/// The developments a report's claims went to, in the order they first did (the order
/// their events come in), with a set beside the list: a digest of many stories touches
/// thousands, and looking each one up in the list made such a report quadratic.
#[derive(Default)]
struct Touched {
    order: Vec<String>,
    seen: HashSet<String>,
}

impl Touched {
    fn add(&mut self, id: String) {
        if self.seen.insert(id.clone()) {
            self.order.push(id);
        }
    }

    fn remove(&mut self, id: &str) {
        if self.seen.remove(id) {
            self.order.retain(|t| t != id);
        }
    }
}

/// The data of `report.accepted`, its fields in the order a JSON object prints its keys.
#[derive(Serialize)]
pub(crate) struct AcceptedData<'a> {
    claims: usize,
    date_origin: &'a str,
    dateline: Option<&'a str>,
    encoding: &'a str,
    file: &'a str,
    mentions: usize,
    path: &'a str,
    published_at: &'a str,
    repeated_sentences: usize,
    revises: Option<&'a str>,
    sentences: usize,
    source: Option<&'a str>,
    title: Option<&'a str>,
    /// The last sentence, held back as cut off (see [`Report::unfinished`]).
    unfinished_sentence: Option<usize>,
}

/// The data of `entity.discovered` (with the kind) and `entity.alias_added` (without),
/// its fields in the order a JSON object prints its keys.
#[derive(Serialize)]
struct MentionData<'a> {
    alias: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<EntityKind>,
    name: &'a str,
    report: &'a str,
    sentence: usize,
}

/// True when `dev` has no place, or its place is among `ids` (one report's entities): a
/// claim that names no place of its own may only join a development its report places.
fn placed_among(dev: &Development, ids: &[String]) -> bool {
    dev.roles.location.as_ref().is_none_or(|l| ids.contains(l))
}

/// A development's roles from all its claims: the most-named actor, location and target
/// (ties broken by id), and every participant. A function of the claim set, so arrival
/// order does not change it.
fn roles_of(claims: &[Claim]) -> Roles {
    fn mode<'a>(values: impl Iterator<Item = &'a String>) -> Option<String> {
        let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
        for v in values {
            *counts.entry(v).or_insert(0) += 1;
        }
        counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
            .map(|(v, _)| v.clone())
    }
    Roles {
        actor: mode(claims.iter().filter_map(|c| c.roles.actor.as_ref())),
        location: mode(claims.iter().filter_map(|c| c.roles.location.as_ref())),
        target: mode(claims.iter().filter_map(|c| c.roles.target.as_ref())),
        participants: claims
            .iter()
            .flat_map(|c| c.roles.participants.iter().cloned())
            .collect(),
    }
}

/// Reports through the real stages into a situation, for the tests of the state.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::PathBuf;

    use time::OffsetDateTime;

    use super::SituationHandle;
    use crate::config::Config;
    use crate::events::ChangeEvent;
    use crate::pipeline::Stages;
    use crate::report::RawReport;
    use crate::source::Intake;

    /// The stages on the embedded settings.
    pub fn stages() -> Stages {
        Stages::new(&Config::embedded().expect("embedded settings"))
    }

    /// `text` as the content of the file `path`, through `stages` into `state`.
    pub fn apply(
        stages: &Stages,
        state: &SituationHandle,
        path: &str,
        text: &str,
    ) -> Vec<ChangeEvent> {
        let raw = RawReport {
            path: PathBuf::from(path),
            bytes: text.as_bytes().to_vec(),
            modified: None,
            received_at: OffsetDateTime::UNIX_EPOCH,
        };
        stages.process(Intake::Report(raw), state)
    }

    /// A report of one outlet dated `2031-06-<day>`, with a headline, through `apply`.
    pub fn dated(
        stages: &Stages,
        state: &SituationHandle,
        path: &str,
        day: u8,
        headline: &str,
        text: &str,
    ) -> Vec<ChangeEvent> {
        let text =
            format!("source: Harbor Ledger\ndate: 2031-06-{day:02}\n\n{headline}\n\n{text}\n");
        apply(stages, state, path, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(report: &str) -> Claim {
        Claim {
            report: report.into(),
            source: None,
            published_at: OffsetDateTime::UNIX_EPOCH,
            sentence: 0,
            span: (0, 0),
            evidence: String::new(),
            trigger: "pause".into(),
            status: Some(Status::Halted),
            cue: None,
            modality: Modality::Asserted,
            resumption: false,
            roles: Roles::default(),
            file_dated: false,
        }
    }

    #[test]
    fn a_qualified_role_is_the_one_person_other_reports_titled_so() {
        let stages = testing::stages();
        let state = SituationHandle::new();
        let report = |path: &str, day: u8, text: &str| {
            testing::dated(&stages, &state, path, day, "Velgrad", text);
        };
        let aliases = |name: &str| -> Vec<String> {
            let snap = state.snapshot_json();
            let entities = snap["entities"].as_array().cloned().unwrap_or_default();
            let e = entities.iter().find(|e| e["name"] == name).cloned();
            let aliases = e.map(|e| e["aliases"].clone()).unwrap_or_default();
            aliases
                .as_object()
                .map(|a| a.keys().cloned().collect())
                .unwrap_or_default()
        };
        report(
            "w/a.txt",
            2,
            "Kestrian President Ilsa Varnholt arrived in Velgrad on Monday.",
        );
        report(
            "w/b.txt",
            3,
            "The Kestrian president left Velgrad on Tuesday, officials said.",
        );
        assert!(aliases("Ilsa Varnholt").contains(&"The Kestrian president".to_string()));
        // A second holder of the title: which one is meant is not in the words.
        report(
            "w/c.txt",
            4,
            "Former Kestrian President Otto Brandt spoke in Velgrad.",
        );
        report(
            "w/d.txt",
            5,
            "Later the Kestrian president met farmers in Velgrad.",
        );
        for name in ["Ilsa Varnholt", "Otto Brandt"] {
            assert!(!aliases(name).contains(&"the Kestrian president".to_string()));
        }
    }

    #[test]
    fn a_claim_by_its_actor_alone_joins_the_development_its_report_names() {
        let stages = testing::stages();
        let state = SituationHandle::new();
        let report = |path: &str, day: u8, text: &str| {
            testing::dated(&stages, &state, path, day, "Meltz", text)
        };
        report(
            "w/a.txt",
            2,
            "Velmar troops will withdraw from Meltz airfield next month, the army said.",
        );
        let events = report(
            "w/b.txt",
            9,
            "The pullout demanded by Lisk's leaders began on Monday. Officials at Meltz \
             airfield confirmed it.",
        );
        let detected = events
            .iter()
            .filter(|e| e.kind == crate::events::types::DEVELOPMENT_DETECTED)
            .count();
        assert_eq!(detected, 0, "{events:?}");
        let snap = state.snapshot_json();
        let devs = snap["developments"].as_array().cloned().unwrap_or_default();
        assert_eq!(devs.len(), 1, "{devs:?}");
        assert_eq!(devs[0]["status"], "underway", "{devs:?}");
    }

    /// The status of the one development of the snapshot that `which` picks.
    fn status_where(
        state: &SituationHandle,
        which: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let snap = state.snapshot_json();
        let devs = snap["developments"].as_array().cloned().unwrap_or_default();
        devs.iter()
            .find(|d| which(d))
            .map(|d| d["status"].clone())
            .unwrap_or_else(|| panic!("no such development: {devs:?}"))
    }

    #[test]
    fn a_part_done_puts_the_whole_under_way() {
        let stages = testing::stages();
        let state = SituationHandle::new();
        let report = |path: &str, day: u8, text: &str| {
            testing::dated(&stages, &state, path, day, "Bases", text)
        };
        let status_at = |place: &str| status_where(&state, |d| d["roles"]["location"] == place);
        report(
            "w/a.txt",
            2,
            "French troops will withdraw from Mali by the end of the year, the army said.",
        );
        // A base in another country is no part of it.
        report(
            "w/b.txt",
            4,
            "French troops left the Agadez base on Tuesday.",
        );
        assert_eq!(status_at("mali"), "planned");
        report(
            "w/c.txt",
            5,
            "French troops left the Kidal base on Tuesday.",
        );
        assert_eq!(status_at("kidal-base"), "completed");
        assert_eq!(status_at("mali"), "underway");
    }

    #[test]
    fn a_town_unknown_to_the_gazetteer_is_part_of_its_report_s_country() {
        let stages = testing::stages();
        let state = SituationHandle::new();
        let report = |path: &str, day: u8, text: &str| {
            testing::dated(&stages, &state, path, day, "Mission", text)
        };
        let status_of = |suffix: &str| {
            status_where(&state, |d| {
                d["id"].as_str().is_some_and(|id| id.ends_with(suffix))
            })
        };
        // Mali only inside a name: the withdrawal is known by it all the same.
        report(
            "m/a.txt",
            2,
            "Officials in Bamako urged the UN Security Council to withdraw every blue \
             helmet of the Velmar Mission in Mali without delay.",
        );
        assert_eq!(status_of("/mali"), "planned");
        // Tarvel is in no gazetteer; the report is about Mali. The mission is another
        // body of the same side as the council.
        report(
            "m/b.txt",
            9,
            "The Velmar Stabilisation Mission has completed its pullout from Tarvel. The \
             mission still has eleven camps across Mali, and Mali's army will take them over.",
        );
        assert_eq!(status_of("/tarvel"), "completed");
        assert_eq!(status_of("/mali"), "underway");
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn touched_developments_keep_their_first_order_once_each() {
        let mut t = Touched::default();
        for id in ["b", "a", "b", "c", "a"] {
            t.add(id.to_string());
        }
        t.remove("a");
        t.remove("zz");
        t.add("a".to_string());
        assert_eq!(t.order, ["b", "c", "a"]);
    }

    #[test]
    fn orphans_are_found_by_the_entities_of_their_report() {
        let mut o = Orphans::default();
        o.keep("truce", ids(&["kelvar", "varn-front"]), claim("r1"));
        o.keep("truce", ids(&["lisk"]), claim("r2"));
        o.keep("truce", ids(&["kelvar"]), claim("r3"));
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let reports = |o: &Orphans, serials: Vec<u64>| -> Vec<String> {
            serials
                .into_iter()
                .filter_map(|s| o.get("truce", s))
                .map(|x| x.claim.report.clone())
                .collect()
        };
        assert_eq!(
            reports(&o, o.naming("truce", &names(&["kelvar", "varn-front"]))),
            ["r1", "r3"]
        );
        assert!(o.naming("blockade", &names(&["kelvar"])).is_empty());
        let first = o.naming("truce", &names(&["varn-front"]))[0];
        assert_eq!(
            o.take("truce", first).map(|x| x.claim.report),
            Some("r1".into())
        );
        assert_eq!(reports(&o, o.naming("truce", &names(&["kelvar"]))), ["r3"]);
        assert!(o.naming("truce", &names(&["varn-front"])).is_empty());
    }

    #[test]
    fn a_full_frame_drops_its_oldest_orphan_from_the_index_too() {
        let mut o = Orphans::default();
        o.keep("truce", ids(&["kelvar"]), claim("oldest"));
        for k in 1..MAX_ORPHANS_PER_FRAME {
            o.keep("truce", ids(&["lisk"]), claim(&format!("r{k}")));
        }
        o.keep("truce", ids(&["lisk"]), claim("newest"));
        assert_eq!(o.lists["truce"].len(), MAX_ORPHANS_PER_FRAME);
        let kelvar = BTreeSet::from(["kelvar".to_string()]);
        assert!(o.naming("truce", &kelvar).is_empty());
    }

    #[test]
    fn persistence_image_keeps_the_flat_index_layout_and_restores_the_indexes() {
        let mut s = Situation::default();
        s.involved.entry("truce".into()).or_default().insert(
            "kelvar".into(),
            BTreeSet::from(["truce/kelvar".to_string()]),
        );
        s.fresh
            .entry("truce".into())
            .or_default()
            .insert("kelvar".into());
        s.orphans.keep("truce", ids(&["kelvar"]), claim("r1"));
        for id in ["lisk", "kelvar"] {
            s.entities.insert(
                id.into(),
                Entity {
                    id: id.into(),
                    kind: EntityKind::Place,
                    name: id.into(),
                    aliases: BTreeMap::new(),
                    mentions: 1,
                    reports: BTreeSet::new(),
                    kind_votes: BTreeMap::from([(EntityKind::Place, 1)]),
                    from_gazetteer: false,
                    noted_in: 0,
                },
            );
        }
        let image = serde_json::to_value(&s).unwrap();
        assert_eq!(image["involved"], json!({"truce|kelvar": ["truce/kelvar"]}));
        assert_eq!(image["fresh"], json!([["truce", "kelvar"]]));
        assert_eq!(image["orphans"]["truce"][0]["ids"], json!(["kelvar"]));
        assert_eq!(image["entities"][0]["entity"]["id"], "kelvar");
        assert_eq!(image["entities"][1]["entity"]["id"], "lisk");

        let back: Situation = serde_json::from_value(image.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), image);
        let kelvar = BTreeSet::from(["kelvar".to_string()]);
        assert_eq!(back.orphans.naming("truce", &kelvar).len(), 1);
        assert!(back
            .entities
            .get("lisk")
            .is_some_and(|e| e.kind_votes.len() == 1));
        assert_eq!(
            back.salient(
                "truce",
                &ids(&["kelvar"]),
                OffsetDateTime::UNIX_EPOCH,
                false
            ),
            None,
            "no development was reported by then"
        );
    }
}
