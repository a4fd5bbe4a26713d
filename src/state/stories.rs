//! Stories: the reports about one happening, from however many outlets.
//!
//! A report joins a story when it repeats a report of it (a near duplicate, a revision of
//! the same file), or when it reads like a recent report of it: published within
//! `stories.window_days` of it, naming the same rare entities (cosine similarity of the two
//! reports' entity sets, each entity weighted by how rare it is among all reports, at
//! least `stories.entity_similarity`) in the same words (content words' Jaccard similarity
//! at least `stories.content_similarity`). Entities alone join unrelated news about one
//! country; words alone join reports on one subject in different places; together they
//! join the follow-ups of one happening. The report it reads most like decides; when that
//! report is in no story yet, the two form one (`story.formed`), otherwise the report joins
//! (`story.updated`). Stories never merge, so a story id, once given, stays.
//!
//! A development belongs to the story of the first report in a story that made a claim
//! about it.
//!
//! Linking looks only at recent reports (the latest `stories.recent_reports`), and per
//! entity at the latest `stories.reports_per_entity` naming it, so its cost does not grow
//! with the history.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use foldhash::HashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::Situation;
use crate::config::StoriesConfig;
use crate::events::{types, ChangeEvent};
use crate::report::Report;
use crate::stages::dedup::Near;
use crate::stages::similarity::{content_similarity, Sketch, WordHasher, CONTENT_HASHES};

/// The hasher of the entity postings, keyed by [`entity_hash`]es.
type EntityHashing = std::hash::BuildHasherDefault<WordHasher>;

/// An entity id's hash: what linking compares and indexes entities by.
fn entity_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// What the situation needs besides the report and its extraction: what dedup found, the
/// report's sketch and how stories are linked.
#[derive(Debug, Clone, Copy)]
pub struct Applying<'a> {
    /// The report the same file held before (a revision): only new sentences count.
    pub revises: Option<&'a str>,
    /// The earlier report this one repeats (a near duplicate): its repeated sentences count
    /// for nothing.
    pub near: Option<&'a Near>,
    pub sketch: Option<&'a Sketch>,
    pub stories: &'a StoriesConfig,
}

impl<'a> Applying<'a> {
    /// A report with nothing known about it beyond its text.
    pub fn plain(stories: &'a StoriesConfig) -> Self {
        Self {
            revises: None,
            near: None,
            sketch: None,
            stories,
        }
    }
}

/// The entities of a new report, its rarest first, whose recent reports are compared with it.
const RAREST_ENTITIES: usize = 6;

/// A new report, as linking compares it with the recent ones.
struct Like<'a> {
    /// Its entities (sorted hashes) and their weights.
    named: &'a [u64],
    weights: &'a [f32],
    norm: f32,
    /// Unix seconds.
    published: i64,
    /// The developments its claims went to (sorted).
    developments: &'a [String],
}

/// Reports about one happening.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Story {
    /// `story-` and the id of the report that began it.
    pub id: String,
    /// The headline of the first report that had one.
    pub title: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_published: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_published: OffsetDateTime,
    /// In the order they joined.
    pub reports: Vec<String>,
    pub developments: BTreeSet<String>,
    pub sources: BTreeSet<String>,
    /// Entity id → how many of the story's reports name it.
    pub entities: BTreeMap<String, u32>,
}

/// A story in a list: its size and the entities most of its reports name.
#[derive(Debug, Serialize)]
pub struct StorySummary<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_published: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_published: OffsetDateTime,
    pub reports: usize,
    pub developments: &'a BTreeSet<String>,
    pub sources: &'a BTreeSet<String>,
    /// Up to eight, the most named first.
    pub entities: Vec<&'a str>,
}

impl Story {
    pub fn summary(&self) -> StorySummary<'_> {
        let mut named: Vec<(&String, &u32)> = self.entities.iter().collect();
        named.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        StorySummary {
            id: &self.id,
            title: self.title.as_deref(),
            first_published: self.first_published,
            last_published: self.last_published,
            reports: self.reports.len(),
            developments: &self.developments,
            sources: &self.sources,
            entities: named.into_iter().take(8).map(|(e, _)| e.as_str()).collect(),
        }
    }
}

/// A recent report, as linking compares it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Recent {
    report: String,
    /// Unix seconds.
    published: i64,
    /// Its entities' ids, one per line (read back only when it begins a story).
    names: String,
    /// The hashes of its entities' ids ([`entity_hash`]), sorted, no repeats (rebuilt on
    /// load).
    #[serde(skip)]
    entities: Vec<u64>,
    /// The length of its weighted entity vector when it arrived.
    norm: f32,
    /// Its content MinHash bytes, base64 in snapshots.
    #[serde(with = "content_image", default)]
    content: Option<Box<[u8; CONTENT_HASHES]>>,
    /// Developments its claims went to.
    developments: Vec<String>,
}

mod content_image {
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::CONTENT_HASHES;

    type Content = Option<Box<[u8; CONTENT_HASHES]>>;

    pub fn serialize<S: Serializer>(c: &Content, s: S) -> Result<S::Ok, S::Error> {
        match c {
            Some(c) => s.serialize_some(&BASE64.encode(c.as_slice())),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Content, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        Ok(text
            .and_then(|t| BASE64.decode(t).ok())
            .and_then(|b| <[u8; CONTENT_HASHES]>::try_from(b.as_slice()).ok())
            .map(Box::new))
    }
}

/// The stories, which report and development is in which, and the recent reports linking
/// compares a new one with.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Stories {
    stories: BTreeMap<String, Story>,
    of_report: HashMap<String, String>,
    of_development: HashMap<String, String>,
    /// The latest reports, oldest first.
    recent: VecDeque<Recent>,
    /// The serial number of `recent[0]`.
    #[serde(default)]
    first: u64,
    /// Entity → serials of the latest recent reports naming it, oldest first (rebuilt on
    /// load).
    #[serde(skip)]
    by_entity: std::collections::HashMap<u64, VecDeque<u64>, EntityHashing>,
    /// Report id → its serial, for the recent reports (rebuilt on load).
    #[serde(skip)]
    serial_of: HashMap<String, u64>,
    /// False until `by_entity` is built (after a snapshot is loaded).
    #[serde(skip)]
    indexed: bool,
}

impl Stories {
    pub fn get(&self, id: &str) -> Option<&Story> {
        self.stories.get(id)
    }

    /// Every story, by id.
    pub fn all(&self) -> impl Iterator<Item = &Story> {
        self.stories.values()
    }

    pub fn of_report(&self, report: &str) -> Option<&str> {
        self.of_report.get(report).map(String::as_str)
    }

    pub fn of_development(&self, development: &str) -> Option<&str> {
        self.of_development.get(development).map(String::as_str)
    }

    /// Rebuilds the entity postings after loading a snapshot, which leaves them out.
    fn reindex(&mut self, per_entity: usize) {
        self.indexed = true;
        self.by_entity.clear();
        self.serial_of.clear();
        for (k, r) in self.recent.iter_mut().enumerate() {
            let serial = self.first + k as u64;
            self.serial_of.insert(r.report.clone(), serial);
            r.entities = r.names.lines().map(entity_hash).collect();
            r.entities.sort_unstable();
            r.entities.dedup();
            for e in &r.entities {
                Self::post(&mut self.by_entity, *e, serial, per_entity);
            }
        }
    }

    fn post(
        index: &mut std::collections::HashMap<u64, VecDeque<u64>, EntityHashing>,
        entity: u64,
        serial: u64,
        cap: usize,
    ) {
        let list = index.entry(entity).or_default();
        list.push_back(serial);
        while list.len() > cap {
            list.pop_front();
        }
    }

    fn recent(&self, serial: u64) -> Option<&Recent> {
        self.recent
            .get(usize::try_from(serial.checked_sub(self.first)?).ok()?)
    }

    fn remember(&mut self, r: Recent, cfg: &StoriesConfig) {
        let serial = self.first + self.recent.len() as u64;
        for e in &r.entities {
            Self::post(
                &mut self.by_entity,
                *e,
                serial,
                cfg.reports_per_entity.max(1),
            );
        }
        self.serial_of.insert(r.report.clone(), serial);
        self.recent.push_back(r);
        while self.recent.len() > cfg.recent_reports.max(1) {
            if let Some(old) = self.recent.pop_front() {
                if self.serial_of.get(&old.report) == Some(&self.first) {
                    self.serial_of.remove(&old.report);
                }
                for e in &old.entities {
                    if let Some(list) = self.by_entity.get_mut(e) {
                        while list.front().is_some_and(|s| *s <= self.first) {
                            list.pop_front();
                        }
                        if list.is_empty() {
                            self.by_entity.remove(e);
                        }
                    }
                }
            }
            self.first += 1;
        }
    }
}

impl Stories {
    /// Takes a retracted report out of its story and out of linking: the story loses the
    /// report, its outlet, its span and the entities it named (`named`), and is removed
    /// when no report is left; the report is no longer a recent report anything can read
    /// like. `reports` are the reports still standing. Returns the story it was in.
    pub(super) fn forget_report(
        &mut self,
        report: &str,
        named: &[String],
        reports: &BTreeMap<String, super::ReportInfo>,
    ) -> Option<String> {
        if let Some(r) = self
            .serial_of
            .get(report)
            .and_then(|s| usize::try_from(s.checked_sub(self.first)?).ok())
            .and_then(|k| self.recent.get_mut(k))
        {
            // Its postings stay until they age out; with no content and no weight it
            // matches nothing through them.
            r.content = None;
            r.norm = 0.0;
            r.developments.clear();
        }
        let id = self.of_report.remove(report)?;
        let Some(story) = self.stories.get_mut(&id) else {
            return Some(id);
        };
        story.reports.retain(|r| r != report);
        for e in named {
            if let Some(n) = story.entities.get_mut(e) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    story.entities.remove(e);
                }
            }
        }
        let left: Vec<&super::ReportInfo> = story
            .reports
            .iter()
            .filter_map(|r| reports.get(r))
            .collect();
        if left.is_empty() {
            if let Some(gone) = self.stories.remove(&id) {
                for d in &gone.developments {
                    self.of_development.remove(d);
                }
            }
            return Some(id);
        }
        story.title = left.iter().find_map(|r| r.title.clone());
        story.sources = left.iter().filter_map(|r| r.source.clone()).collect();
        story.first_published = left.iter().map(|r| r.published_at).min()?;
        story.last_published = left.iter().map(|r| r.published_at).max()?;
        Some(id)
    }

    /// Forgets a development that no claim is left for.
    pub(super) fn forget_development(&mut self, development: &str) {
        if let Some(id) = self.of_development.remove(development) {
            if let Some(s) = self.stories.get_mut(&id) {
                s.developments.remove(development);
            }
        }
    }
}

impl Situation {
    /// How rare an entity is among the reports: `ln((N + 1) / df)`.
    fn rarity(&self, entity: &str) -> f32 {
        let n = self.reports.len() as f32 + 1.0;
        let df = self
            .entities
            .get(entity)
            .map_or(1, |e| e.reports.len().max(1)) as f32;
        (n / df).ln().max(0.0)
    }

    /// Puts an applied report in a story, if one fits, and emits what changed. `entities`
    /// are the ids its mentions resolved to, `developments` those its claims went to.
    pub(super) fn link_story(
        &mut self,
        report: &Report,
        entities: &[String],
        developments: &[String],
        how: &Applying<'_>,
        out: &mut Vec<ChangeEvent>,
    ) {
        let cfg = how.stories;
        if !self.stories.indexed {
            self.stories.reindex(cfg.reports_per_entity.max(1));
        }
        let mut named: Vec<(u64, &str)> = entities
            .iter()
            .filter(|e| !e.is_empty())
            .map(|e| (entity_hash(e), e.as_str()))
            .collect();
        named.sort_unstable();
        named.dedup_by_key(|n| n.0);
        let weights: Vec<f32> = named.iter().map(|(_, e)| self.rarity(e)).collect();
        let norm = weights.iter().map(|w| w * w).sum::<f32>().sqrt();
        let hashes: Vec<u64> = named.iter().map(|n| n.0).collect();
        let names: Vec<String> = named.iter().map(|n| n.1.to_string()).collect();
        let published = report.published_at.unix_timestamp();
        let content = how.sketch.and_then(|s| s.content.clone());
        let original = how
            .near
            .map(|n| n.of.as_str())
            .or(how.revises)
            .filter(|o| self.reports.contains_key(*o));
        let mut devs: Vec<String> = developments.to_vec();
        devs.sort();
        devs.dedup();
        let linked: Option<String> = match original {
            Some(o) => Some(o.to_string()),
            None => {
                // A development both reports' claims went to makes a follow-up months
                // later part of the story all the same.
                let like = Like {
                    named: &hashes,
                    weights: &weights,
                    norm,
                    published,
                    developments: &devs,
                };
                content
                    .as_deref()
                    .and_then(|c| self.most_like(&like, c, cfg))
            }
        };
        if let Some(other) = linked {
            match self.stories.of_report.get(&other).cloned() {
                Some(story) => self.join_story(&story, report, &names, &devs, out),
                None => self.form_story(&other, report, &names, &devs, out),
            }
        }
        self.stories.remember(
            Recent {
                report: report.id.clone(),
                published,
                names: names.join("\n"),
                entities: hashes,
                norm,
                content,
                developments: devs,
            },
            cfg,
        );
    }

    /// The recent report this one reads most like, if any reads enough like it.
    fn most_like(
        &self,
        like: &Like<'_>,
        content: &[u8; CONTENT_HASHES],
        cfg: &StoriesConfig,
    ) -> Option<String> {
        let Like {
            named,
            weights,
            norm,
            published,
            developments,
        } = *like;
        if norm <= 0.0 {
            return None;
        }
        let window = i64::from(cfg.window_days) * 86_400;
        // A report of the same happening shares its rarest names: the reports naming those
        // are the candidates, not every report naming the country it is about.
        // (Names no recent report has are no help.)
        let mut rarest: Vec<(f32, &VecDeque<u64>)> = named
            .iter()
            .zip(weights)
            .filter_map(|(e, w)| Some((*w, self.stories.by_entity.get(e)?)))
            .collect();
        rarest.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut candidates: Vec<u64> = rarest
            .iter()
            .take(RAREST_ENTITIES)
            .flat_map(|(_, reports)| reports.iter().copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<(f32, u64)> = None;
        for serial in candidates {
            let Some(r) = self.stories.recent(serial) else {
                continue;
            };
            if (r.published - published).abs() > window || r.norm <= 0.0 {
                continue;
            }
            // A development both reports' claims went to is evidence of its own.
            let shared = if r
                .developments
                .iter()
                .any(|d| developments.binary_search(d).is_ok())
            {
                cfg.shared_development
            } else {
                1.0
            };
            let Some(theirs) = r.content.as_deref() else {
                continue;
            };
            let words = content_similarity(content, theirs);
            if words < cfg.content_similarity * shared {
                continue;
            }
            // Both entity lists are sorted.
            let (mut i, mut j, mut dot) = (0, 0, 0.0f32);
            while i < named.len() && j < r.entities.len() {
                match named[i].cmp(&r.entities[j]) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        dot += weights[i] * weights[i];
                        i += 1;
                        j += 1;
                    }
                }
            }
            let cosine = dot / (norm * r.norm);
            if cosine < cfg.entity_similarity * shared {
                continue;
            }
            let score = cosine + words;
            // The newer of two as like: the story as it stands now.
            if best.is_none_or(|(s, _)| score >= s) {
                best = Some((score, serial));
            }
        }
        best.and_then(|(_, s)| self.stories.recent(s))
            .map(|r| r.report.clone())
    }

    /// Two reports that are in no story yet form one.
    fn form_story(
        &mut self,
        first: &str,
        report: &Report,
        named: &[String],
        devs: &[String],
        out: &mut Vec<ChangeEvent>,
    ) {
        let Some(info) = self.reports.get(first) else {
            return;
        };
        let id = format!("story-{first}");
        let (first_title, first_source, first_published) =
            (info.title.clone(), info.source.clone(), info.published_at);
        let earlier = self
            .stories
            .serial_of
            .get(first)
            .and_then(|s| self.stories.recent(*s))
            .map(|r| {
                let names: Vec<String> = r.names.lines().map(str::to_string).collect();
                (names, r.developments.clone())
            })
            .unwrap_or_default();
        let mut story = Story {
            id: id.clone(),
            title: first_title.or_else(|| report.meta.title.clone()),
            first_published,
            last_published: first_published,
            reports: vec![first.to_string()],
            developments: BTreeSet::new(),
            sources: first_source.into_iter().collect(),
            entities: BTreeMap::new(),
        };
        for e in &earlier.0 {
            *story.entities.entry(e.clone()).or_insert(0) += 1;
        }
        self.stories.of_report.insert(first.to_string(), id.clone());
        self.stories.stories.insert(id.clone(), story);
        self.claim_developments(&id, &earlier.1);
        self.add_to_story(&id, report, named, devs);
        let Some(s) = self.stories.stories.get(&id) else {
            return;
        };
        let data = json!({
            "title": s.title,
            "reports": s.reports,
            "developments": s.developments,
            "sources": s.sources,
            "first_published": rfc3339(s.first_published),
            "last_published": rfc3339(s.last_published),
        });
        self.event(types::STORY_FORMED, &id, data, out);
    }

    /// A report joins a story.
    fn join_story(
        &mut self,
        id: &str,
        report: &Report,
        named: &[String],
        devs: &[String],
        out: &mut Vec<ChangeEvent>,
    ) {
        let added = self.add_to_story(id, report, named, devs);
        let Some(s) = self.stories.stories.get(id) else {
            return;
        };
        let data = json!({
            "report": report.id,
            "reports": s.reports.len(),
            "developments_added": added,
            "last_published": rfc3339(s.last_published),
        });
        self.event(types::STORY_UPDATED, id, data, out);
    }

    /// Adds a report to a story; returns the developments it brought.
    fn add_to_story(
        &mut self,
        id: &str,
        report: &Report,
        named: &[String],
        devs: &[String],
    ) -> Vec<String> {
        let known = self
            .stories
            .of_report
            .insert(report.id.clone(), id.to_string())
            .is_some();
        if let Some(s) = self.stories.stories.get_mut(id) {
            if !known {
                s.reports.push(report.id.clone());
            }
            s.first_published = s.first_published.min(report.published_at);
            s.last_published = s.last_published.max(report.published_at);
            if s.title.is_none() {
                s.title.clone_from(&report.meta.title);
            }
            s.sources.extend(report.meta.source.clone());
            for e in named {
                match s.entities.get_mut(e) {
                    Some(n) => *n += 1,
                    None => {
                        s.entities.insert(e.clone(), 1);
                    }
                }
            }
        }
        self.claim_developments(id, devs)
    }

    /// Developments in no story yet become the story's; returns those.
    fn claim_developments(&mut self, id: &str, devs: &[String]) -> Vec<String> {
        let mut claimed = Vec::new();
        for d in devs {
            if self.stories.of_development.contains_key(d) || !self.developments.contains_key(d) {
                continue;
            }
            self.stories
                .of_development
                .insert(d.clone(), id.to_string());
            if let Some(s) = self.stories.stories.get_mut(id) {
                s.developments.insert(d.clone());
            }
            claimed.push(d.clone());
        }
        claimed
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The data of `report.near_duplicate`: that of `report.accepted`, with the report it
/// repeats and how much of it.
pub(super) fn near_duplicate_data(
    accepted: &super::AcceptedData<'_>,
    near: &Near,
) -> crate::events::EventData {
    let mut data = serde_json::to_value(accepted).unwrap_or_else(|_| json!({}));
    if let Some(map) = data.as_object_mut() {
        map.insert("duplicate_of".into(), json!(near.of));
        map.insert("original_file".into(), json!(near.of_file));
        map.insert("similarity".into(), json!(near.similarity));
    }
    data.into()
}
